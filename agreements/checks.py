"""Deployment checks of our own settings, run by ``manage.py check --deploy`` (and so by ``make serve``).

Registered from ``AgreementsConfig.ready``. Only with ``--deploy``: scripts and commands that run without these
settings (migrate, seed_demo, the tests) keep working; ``make serve`` refuses to start until they are right.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs):
    """With DEBUG off, SITE_URL must be set: the reminder e-mails' links are built from it."""
    if settings.DEBUG:
        return []
    if not getattr(settings, "SITE_URL_FROM_ENV", True):
        return [
            Error(
                "SITE_URL is not set: the links in the reminder e-mails would point at http://127.0.0.1:8000.",
                hint="Set SITE_URL to the address users open, e.g. SITE_URL=https://kerjasama.kemendagri.go.id "
                "(docs/deploy.md).",
                id="kerjasama.E001",
            )
        ]
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [
            Error(
                f"SITE_URL must be an absolute http(s) address, not {settings.SITE_URL!r}.",
                hint="For example SITE_URL=https://kerjasama.kemendagri.go.id (docs/deploy.md).",
                id="kerjasama.E002",
            )
        ]
    return []
