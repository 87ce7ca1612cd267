"""Demo data for each party's signing and DPRD approval, called by ``demo.seed``.

Every party of a signed agreement gets the agreement's signing date as its own (they signed together). Then, in a
few agreements of Kota Bandung (32.73): signed KBs whose parties signed on different days, the last on the
agreement's date, each party's DPRD approving first (decision numbers recorded); and draft KBs where Kota Bandung
has signed (and its DPRD approved) while its partner has not, and a signed KB whose partner's DPRD approval is still
missing: the lagging party the agreement page shows.

Deterministic for a given anchor date: agreements are read in number order. The agreements' own dates stay what
``agreements.signing`` derives from the parties (the latest signing; the latest approval required).
"""

import datetime

from django.db.models import Count

from .models import Agreement, AgreementParty

KOTA_BANDUNG = "32.73"
STAGGERED = 2  # signed KBs whose parties signed on different days
LAGGING = 2  # draft KBs where Kota Bandung signed and its partner has not


def _decision(party: AgreementParty, year: int) -> str:
    return f"{party.pk % 90 + 10}/KEP/DPRD-{party.region.code}/{year}"


def seed_parties(*, as_of: datetime.date) -> int:
    """Fill the parties' own signing dates and DPRD approvals; returns the number of parties changed."""
    parties = list(AgreementParty.objects.select_related("agreement", "region").filter(
        agreement__signed_on__isnull=False).order_by("agreement__number", "region__code"))
    for party in parties:
        party.signed_on = party.agreement.signed_on
    changed = {p.pk: p for p in parties}
    agreements = []

    with_bandung = AgreementParty.objects.filter(region__code=KOTA_BANDUNG).values("agreement_id")
    mine = (Agreement.objects.filter(pk__in=with_bandung, terminated_on__isnull=True)
            .annotate(n=Count("parties")).filter(n__gte=2).order_by("number"))
    signed_kbs = list(mine.filter(signed_on__isnull=False, document_type=Agreement.DocumentType.KB)[:STAGGERED + 1])
    for agreement in signed_kbs[:STAGGERED]:
        rows = sorted((changed[p.pk] for p in agreement.parties.all()), key=lambda p: p.region.code != KOTA_BANDUNG)
        for index, party in enumerate(rows):
            # Kota Bandung first, each partner some days later, the last on the agreement's date.
            party.signed_on = agreement.signed_on - datetime.timedelta(days=9 * (len(rows) - 1 - index))
            party.dprd_required = True
            party.dprd_approved_on = party.signed_on - datetime.timedelta(days=30 + 7 * index)
            party.dprd_decision_number = _decision(party, party.dprd_approved_on.year)
        agreement.dprd_approved_on = max(p.dprd_approved_on for p in rows)
        agreements.append(agreement)

    for index, agreement in enumerate(mine.filter(signed_on__isnull=True)[:LAGGING]):
        for party in agreement.parties.select_related("region"):
            changed[party.pk] = party
            party.dprd_required = index == 0  # the first: both DPRDs must approve, only Kota Bandung's has
            if party.region.code == KOTA_BANDUNG:
                party.signed_on = as_of - datetime.timedelta(days=20)
                if party.dprd_required:
                    party.dprd_approved_on = as_of - datetime.timedelta(days=45)
                    party.dprd_decision_number = _decision(party, party.dprd_approved_on.year)
    # A signed KB whose DPRD approvals are both required and only Kota Bandung's is recorded: the partner lags on
    # its DPRD, and the agreement's approval date stays empty until it is recorded.
    for agreement in signed_kbs[STAGGERED:]:
        for party in (changed[p.pk] for p in agreement.parties.all()):
            party.dprd_required = True
            if party.region.code == KOTA_BANDUNG:
                party.dprd_approved_on = agreement.signed_on - datetime.timedelta(days=14)
                party.dprd_decision_number = _decision(party, party.dprd_approved_on.year)
        agreement.dprd_approved_on = None
        agreements.append(agreement)

    AgreementParty.objects.bulk_update(
        list(changed.values()), ["signed_on", "dprd_required", "dprd_approved_on", "dprd_decision_number"],
        batch_size=1000)
    Agreement.objects.bulk_update(agreements, ["dprd_approved_on"])
    return len(changed)
