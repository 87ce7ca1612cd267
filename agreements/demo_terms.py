"""Demo data for the end of the term, called by ``demo.seed``: agreements of the demo officers' regions ending within
7, 30 and 90 days, a few agreements in force with no end date recorded (for the ministry to complete), and a reason
for every terminated agreement (PP 28/2018's grounds). The lapsed agreements (ended without their follow-up) come
from the plan's expired scenarios, over several years and provinces.

Deterministic for a given anchor date: agreements are read in number order, no random draw. Changes a handful of
rows in place (the seeding's own data, before anyone edited it).
"""

import datetime

from django.db.models import Exists, OuterRef

from . import stalls
from .models import Agreement, AgreementParty, TerminationReason

# The demo officers' own regions (demo.DEMO_USERS): Jawa Barat, Kota Bandung, Kabupaten Bogor.
OFFICER_REGIONS = ["32", "32.73", "32.01"]
# Days to the end, one agreement each: the reminders' three thresholds.
ENDING_IN = [5, 25, 80]
NO_END_DATE = 4


def seed_terms(*, as_of: datetime.date) -> dict:
    """Returns the numbers of agreements changed: ``expiring``, ``no_end_date``, ``termination_reasons``."""
    in_force = stalls.with_status(Agreement.objects.all(), as_of=as_of, thresholds=stalls.Thresholds()).filter(
        stage__in=stalls.IN_FORCE_STAGES, starts_on__lte=as_of
    )
    chosen: set[int] = set()
    for code in OFFICER_REGIONS:
        own = in_force.filter(
            Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region__code=code))
        ).exclude(pk__in=chosen)
        # PKSs first: their end matters to the officers' daily work; then by number.
        candidates = list(own.order_by("-document_type", "number").values_list("pk", flat=True)[: len(ENDING_IN)])
        for pk, days in zip(candidates, ENDING_IN, strict=False):
            Agreement.objects.filter(pk=pk).update(ends_on=as_of + datetime.timedelta(days=days))
            chosen.add(pk)
    expiring = len(chosen)

    # In force with no end date: older records typed without one, outside the officers' regions.
    officers = AgreementParty.objects.filter(agreement=OuterRef("pk"), region__code__in=OFFICER_REGIONS)
    missing = list(
        in_force.exclude(pk__in=chosen).exclude(Exists(officers))
        .order_by("number").values_list("pk", flat=True)[:NO_END_DATE]
    )
    Agreement.objects.filter(pk__in=missing).update(ends_on=None)

    # A reason for each terminated agreement, going through the grounds in order.
    reasons = [r for r in TerminationReason.values if r != TerminationReason.OTHER] + [TerminationReason.OTHER]
    terminated = list(
        Agreement.objects.filter(terminated_on__isnull=False).order_by("number").values_list("pk", flat=True)
    )
    for i, pk in enumerate(terminated):
        Agreement.objects.filter(pk=pk).update(termination_reason=reasons[i % len(reasons)])
    return {"expiring": expiring, "no_end_date": len(missing), "termination_reasons": len(terminated)}
