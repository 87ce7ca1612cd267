"""Keep the stored stall facts and today's stored status (``stalls.refresh_facts``) true after every save or delete.

A milestone's facts belong to its agreement; a PKS's signing date belongs to its parent KB; an amendment's end date
to its agreement; a renewal's signing to the agreement it renews (lapsed or not). The ids an instance was loaded with
are remembered, so moving a milestone or a PKS refreshes both sides. Bulk writes that bypass signals
(``bulk_create``, ``update()``, COPY) call ``refresh_facts`` themselves. A change of the thresholds refreshes every
agreement's stored status (``tasks.refresh_status``).
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.dispatch import receiver

from . import datacache
from .models import Agreement, Amendment, Milestone, StallSettings
from .stalls import FACT_FIELDS, STATUS_FIELDS, Thresholds, refresh_facts

# ``__dict__`` and not the attribute: reading a deferred field (``.only()``) would cost a query per row.
STORED_STATUS = [f"status_{name}" for name in STATUS_FIELDS]


@receiver(post_init, sender=Milestone)
def _remember_milestone_agreement(sender, instance, **kwargs):
    instance._loaded_agreement_id = instance.__dict__.get("agreement_id")


@receiver(post_init, sender=Agreement)
def _remember_parent(sender, instance, **kwargs):
    instance._loaded_parent_id = instance.__dict__.get("parent_id")
    instance._loaded_renews_id = instance.__dict__.get("renews_id")


@receiver([post_save, post_delete], sender=Milestone)
def _milestone_changed(sender, instance, **kwargs):
    refresh_facts({instance.agreement_id, getattr(instance, "_loaded_agreement_id", None)})
    instance._loaded_agreement_id = instance.agreement_id


@receiver(post_save, sender=Agreement)
def _agreement_saved(sender, instance, **kwargs):
    # A PKS's signing date and parent feed its KB's first_pks_signed_on. The agreement itself too: save()
    # writes every column, so an instance loaded before its milestones changed wrote stale facts back.
    refresh_facts({instance.pk, instance.parent_id, getattr(instance, "_loaded_parent_id", None),
                   instance.renews_id, getattr(instance, "_loaded_renews_id", None)})
    instance._loaded_parent_id = instance.parent_id
    instance._loaded_renews_id = instance.renews_id
    instance.refresh_from_db(fields=[*FACT_FIELDS, *STORED_STATUS])


@receiver(post_delete, sender=Agreement)
def _agreement_deleted(sender, instance, **kwargs):
    refresh_facts({instance.parent_id, getattr(instance, "_loaded_parent_id", None),
                   instance.renews_id, getattr(instance, "_loaded_renews_id", None)})


@receiver([post_save, post_delete], sender=Amendment)
def _amendment_changed(sender, instance, **kwargs):
    refresh_facts({instance.agreement_id})


@receiver(post_save, sender=StallSettings)
def _thresholds_saved(sender, instance, **kwargs):
    t = Thresholds(instance.kb_follow_up_days, instance.implementation_start_days, instance.overdue_grace_days)
    if t.key() != instance.status_thresholds:
        from . import tasks

        transaction.on_commit(tasks.refresh_status.enqueue)


# Writes the cached figures depend on: any model of this app but bookkeeping (the scheduler, import jobs, throttle
# counters, digests and reminders sent, API tokens), and a user's log-in time and language (each log-in saves the
# first, a switch of language the second, and no cached page shows either: they must not make every cached figure
# and page be computed again).
NOT_DATA = {"periodicrun", "importjob", "throttlehit", "sentdigest", "expiryreminder", "apitoken"}
NOT_DATA_FIELDS = {"last_login", "language"}


@receiver([post_save, post_delete, m2m_changed])
def _data_changed(sender, **kwargs):
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label != "agreements" or meta.model_name in NOT_DATA:
        return
    if kwargs.get("update_fields") and set(kwargs["update_fields"]) <= NOT_DATA_FIELDS:
        return
    datacache.bump_on_commit()
