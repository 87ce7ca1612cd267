from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = _("Regional cooperation")

    def ready(self):
        from . import (
            checks,  # noqa: F401 - registers the deployment checks (SITE_URL)
            signals,  # noqa: F401 - connects the receivers that keep the stall facts true
        )
