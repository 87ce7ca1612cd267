"""Reads: querysets and reports built on the models, the stall rules and the access helpers.

Selectors never write. Each one states its query count, which does not grow with the data.
"""

import datetime
from collections.abc import Iterable
from urllib.parse import urlencode

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from . import stalls
from .models import GovernmentAffair, Region

# --- Links from a figure to the agreements it counts ------------------------------------------------


def query_string(params: Iterable[tuple[str, object]] = (), /, **named) -> str:
    """``?name=value&…`` for ``params`` (pairs; a name may repeat, as ``stage`` does) then ``named``, in the
    order given, leaving out ``None`` values; ``""`` when nothing is left."""
    pairs = [(name, value) for name, value in (*params, *named.items()) if value is not None]
    return f"?{urlencode(pairs)}" if pairs else ""


def register_url(params: Iterable[tuple[str, object]] = (), /, **named) -> str:
    """The agreement list filtered by ``params`` then ``named`` (see ``query_string``): every figure links to
    the agreements it counts this way, the list's query parameters being the contract.

    A page that links many figures may reverse the list once, ``register_url()``, and append
    ``query_string(…)`` for each.
    """
    return reverse("agreement-list") + query_string(params, **named)

# --- The stalled report (the ``stalled`` command and anything that lists stalled agreements) -------

STALLED_REPORT_FIELDS = (
    "number",
    "document_type",
    "title",
    "reasons",
    "days_stalled",
    "signed_on",
    "region_codes",
    "affair_codes",
)


def stalled_report(
    *,
    as_of: datetime.date,
    queryset: QuerySet | None = None,
    thresholds: stalls.Thresholds | None = None,
) -> list[dict]:
    """The agreements stalled as of ``as_of``, one dict per agreement, in report order.

    Each row has exactly the keys of ``STALLED_REPORT_FIELDS``: ``reasons``, ``region_codes`` and
    ``affair_codes`` are sorted lists of codes, ``days_stalled`` an int and ``signed_on`` a
    ``datetime.date``. Rows are sorted by ``days_stalled`` descending, then ``number`` in plain
    code-point order; the sort is done here in Python so that PostgreSQL (whose collation may
    ignore case) and SQLite give the same order.

    ``queryset`` restricts the agreements (for example ``access.agreements_visible_to(user)``);
    ``thresholds`` defaults to the ones in force (one more query to read them).

    Queries: 3 (the annotated agreements, their regions, their affairs), plus 1 when
    ``thresholds`` is not given.
    """
    thresholds = thresholds or stalls.Thresholds.current()
    qs = (
        stalls.with_status(queryset, as_of=as_of, thresholds=thresholds)
        .filter(is_stalled=True)
        .only("pk", "number", "document_type", "title", "signed_on")
        .order_by()
        .prefetch_related(
            Prefetch("regions", queryset=Region.objects.only("pk", "code")),
            Prefetch("affairs", queryset=GovernmentAffair.objects.only("pk", "code")),
        )
    )
    rows = [
        {
            "number": agreement.number,
            "document_type": agreement.document_type,
            "title": agreement.title,
            "reasons": stalls.reasons_of(agreement),
            "days_stalled": stalls.days_stalled(agreement, as_of),
            "signed_on": agreement.signed_on,
            "region_codes": sorted(region.code for region in agreement.regions.all()),
            "affair_codes": sorted(affair.code for affair in agreement.affairs.all()),
        }
        for agreement in qs
    ]
    rows.sort(key=lambda row: (-row["days_stalled"], row["number"]))
    return rows
