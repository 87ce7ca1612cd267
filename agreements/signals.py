"""Keep the stored stall facts (``stalls.refresh_facts``) true after every save or delete.

A milestone's facts belong to its agreement; a PKS's signing date belongs to its parent KB. The ids
an instance was loaded with are remembered, so moving a milestone or a PKS refreshes both sides.
Bulk writes that bypass signals (``bulk_create``, ``update()``, COPY) call ``refresh_facts`` themselves.
"""

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from .models import Agreement, Milestone
from .stalls import FACT_FIELDS, refresh_facts


# ``__dict__`` and not the attribute: reading a deferred field (``.only()``) would cost a query per row.
@receiver(post_init, sender=Milestone)
def _remember_milestone_agreement(sender, instance, **kwargs):
    instance._loaded_agreement_id = instance.__dict__.get("agreement_id")


@receiver(post_init, sender=Agreement)
def _remember_parent(sender, instance, **kwargs):
    instance._loaded_parent_id = instance.__dict__.get("parent_id")


@receiver([post_save, post_delete], sender=Milestone)
def _milestone_changed(sender, instance, **kwargs):
    refresh_facts({instance.agreement_id, getattr(instance, "_loaded_agreement_id", None)})
    instance._loaded_agreement_id = instance.agreement_id


@receiver(post_save, sender=Agreement)
def _agreement_saved(sender, instance, **kwargs):
    # A PKS's signing date and parent feed its KB's first_pks_signed_on. The agreement itself too: save()
    # writes every column, so an instance loaded before its milestones changed wrote stale facts back.
    refresh_facts({instance.pk, instance.parent_id, getattr(instance, "_loaded_parent_id", None)})
    instance._loaded_parent_id = instance.parent_id
    instance.refresh_from_db(fields=list(FACT_FIELDS))


@receiver(post_delete, sender=Agreement)
def _agreement_deleted(sender, instance, **kwargs):
    refresh_facts({instance.parent_id, getattr(instance, "_loaded_parent_id", None)})
