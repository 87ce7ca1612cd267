"""Demo data for amendments (adendum) and renewals, called by ``demo.seed``.

Among Kota Bandung's (32.73) signed agreements with an end date more than 90 days away (those ``demo_terms`` makes
end sooner, and the lapsed ones, stay as they are), in number order: one amended to end two years later, one whose
value an amendment raises, one whose scope an amendment widens; and the first KB (by end date) that a later KB
between the same regions can renew: that one becomes its successor, signed before its end (one of the seeded
agreements: a run keeps its number of agreements). Deterministic for a given anchor date; a few dozen rows.
"""

import datetime

from simple_history.utils import bulk_create_with_history

from .models import Agreement, Amendment

KOTA_BANDUNG = "32.73"


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    from .demo import _at as demo_at

    return demo_at(day, hour)


def _amend_on(agreement: Agreement, as_of: datetime.date, days_ago: int) -> datetime.date:
    """A signing date for an amendment: ``days_ago`` before the anchor, never before the agreement's signing."""
    return max(agreement.signed_on, as_of - datetime.timedelta(days=days_ago))


def _successor_for(renewed: Agreement, as_of: datetime.date) -> Agreement | None:
    """The seeded KB that becomes ``renewed``'s successor (a run keeps its number of agreements): a later KB between the
    same regions, signed by the anchor and ending after it, not terminated, not renewing or renewed yet."""
    regions = set(renewed.parties.values_list("region_id", flat=True))
    candidates = (Agreement.objects.filter(
        document_type=Agreement.DocumentType.KB, parties__region_id__in=regions, signed_on__gte=renewed.signed_on,
        signed_on__lte=as_of, terminated_on__isnull=True, ends_on__gt=renewed.ends_on, renewals__isnull=True,
        renews__isnull=True).exclude(pk=renewed.pk).distinct().order_by("number"))
    return next((c for c in candidates if set(c.parties.values_list("region_id", flat=True)) == regions), None)


def seed_amendments(*, as_of: datetime.date, users: list) -> dict:
    """Create the amendments and the renewal; returns their counts."""
    officer = next((u for u in users if u.region_id and u.region.code == KOTA_BANDUNG), None)
    mine = (Agreement.objects.filter(parties__region__code=KOTA_BANDUNG, signed_on__lte=as_of,
                                     terminated_on__isnull=True, ends_on__isnull=False)
            .order_by("number").distinct())
    # Outside the windows ``demo_terms`` fills (ending within 7, 30 and 90 days) and the lapsed ones, which stay as
    # they are: the KB renewed ahead of its end, the amendment moving an end date that is more than a year away.
    later = mine.filter(ends_on__gt=as_of + datetime.timedelta(days=90))
    renewed = successor = None
    for candidate in later.filter(document_type=Agreement.DocumentType.KB).order_by("ends_on", "number")[:20]:
        successor = _successor_for(candidate, as_of)
        if successor is not None:
            renewed = candidate
            break
    taken = [a.pk for a in (renewed, successor) if a is not None]
    rest = later.exclude(pk__in=taken)
    extended = rest.filter(ends_on__gt=as_of + datetime.timedelta(days=365)).first() or rest.first()
    taken += [extended.pk] if extended is not None else []
    # A new value or scope leaves the end date alone: any of the officer's agreements.
    others = [a for a in [extended, *mine.exclude(pk__in=taken)[:2]] if a is not None]
    texts = [
        ("Jangka waktu kerja sama diperpanjang dua tahun untuk menyelesaikan kegiatan yang tertunda.",
         {"ends_on": "+2y"}),
        ("Nilai kerja sama ditambah untuk perluasan kegiatan pada tahun anggaran berikutnya.", {"value_idr": "+50%"}),
        ("Ruang lingkup diperluas dengan pertukaran data dan pelatihan bersama aparatur.", {"scope": True}),
    ]
    made = []
    for index, (agreement, (summary, change)) in enumerate(zip(others, texts, strict=False)):
        amendment = Amendment(agreement=agreement, number=f"{index + 1}/ADD/{agreement.number[:60]}",
                              signed_on=_amend_on(agreement, as_of, 120 - 30 * index), summary=summary,
                              created_by=officer)
        if "ends_on" in change:
            amendment.ends_on = max(agreement.ends_on, amendment.signed_on).replace(
                year=max(agreement.ends_on, amendment.signed_on).year + 2, day=1)
        if "value_idr" in change:
            amendment.value_idr = (agreement.value_idr or 1_000_000_000) * 3 // 2
        if "scope" in change:
            amendment.scope = f"{agreement.scope}\n{summary}".strip()
        made.append(amendment)
    bulk_create_with_history(made, Amendment, default_user=officer, default_date=_at(as_of, 8))
    for amendment in made:
        amendment.created_at = _at(amendment.signed_on, 11)
    Amendment.objects.bulk_update(made, ["created_at"])

    successors = 0
    if successor is not None:
        successor.renews, successor.updated_by = renewed, officer
        successor._history_user = officer
        successor.save(update_fields=["renews", "updated_by"])
        successors = 1
    return {"amendments": len(made), "renewals": successors}
