"""Reads: querysets and reports built on the models, the stall rules and the access helpers.

Selectors never write. Each one states its query count, which does not grow with the data.
"""

import datetime
from collections.abc import Iterable
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Collate
from django.urls import reverse

from . import access, stalls
from .models import Agreement, AgreementParty, Obstacle, Region, Stage, StallReason
from .regions import in_province_q, regions_in_province_q

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
    "stuck_at",
    "obstacles",
)


class CodepointOrder(Collate):
    """A text column in plain code-point order on every database (PostgreSQL's collation is not): the "C" collation
    on PostgreSQL (migration 0021 indexes the agreement number so), SQLite's default (BINARY) elsewhere. Decided when
    the query is compiled, so it can be built at import time (``filters.SORTS``)."""

    def __init__(self, field: str):
        super().__init__(F(field), "C")

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.get_source_expressions()[0])


def codepoint_order(field: str) -> CodepointOrder:
    """Order by ``field`` in plain code-point order on every database (``CodepointOrder``)."""
    return CodepointOrder(field)


# Rows read from the database at a time by ``iter_stalled_report`` (its prefetches run once per chunk).
STALLED_CHUNK_SIZE = 1000


def iter_stalled_report(
    *,
    as_of: datetime.date,
    queryset: QuerySet | None = None,
    thresholds: stalls.Thresholds | None = None,
):
    """The agreements stalled as of ``as_of``, one dict per agreement, in report order, a chunk at a time (memory
    that does not grow with the register: ``manage.py stalled`` streams them).

    Each row has exactly the keys of ``STALLED_REPORT_FIELDS``: ``reasons``, ``region_codes`` and
    ``affair_codes`` are sorted lists of codes, ``days_stalled`` an int and ``signed_on`` a
    ``datetime.date``; ``stuck_at`` is the code of the first step not done as of ``as_of``
    (``stalls.with_stuck_at``; None without steps) and ``obstacles`` the sorted categories of the
    obstacles open as of ``as_of``. Rows are sorted by ``days_stalled`` descending (``stalled_since`` ascending:
    every stalled agreement has one), then ``number`` in plain code-point order (``codepoint_order``), in SQL, so
    that PostgreSQL (whose collation may ignore case) and SQLite give the same order.

    ``queryset`` restricts the agreements (for example ``access.agreements_visible_to(user)``);
    ``thresholds`` defaults to the ones in force (one more query to read them).

    Queries: 4 per ``STALLED_CHUNK_SIZE`` rows (the annotated agreements, their regions, their affairs, their open
    obstacles), plus 1 when ``thresholds`` is not given.
    """
    thresholds = thresholds or stalls.Thresholds.current()
    qs = (
        stalls.with_stuck_at(
            stalls.with_status(queryset, as_of=as_of, thresholds=thresholds).filter(is_stalled=True), as_of
        )
        .only("pk", "number", "document_type", "title", "signed_on")
        .order_by(F("stalled_since").asc(), codepoint_order("number"))
    )
    chunk = []
    for agreement in qs.iterator(chunk_size=STALLED_CHUNK_SIZE):
        chunk.append(agreement)
        if len(chunk) == STALLED_CHUNK_SIZE:
            yield from _stalled_rows(chunk, as_of)
            chunk = []
    yield from _stalled_rows(chunk, as_of)


def _codes_by_agreement(queryset: QuerySet, ids: list[int], code: str) -> dict[int, list[str]]:
    """``{agreement id: sorted codes}`` read as plain values (model instances cost ten times more per row)."""
    codes: dict[int, list[str]] = {}
    for agreement_id, value in queryset.filter(agreement_id__in=ids).values_list("agreement_id", code):
        codes.setdefault(agreement_id, []).append(value)
    return {agreement_id: sorted(values) for agreement_id, values in codes.items()}


def _stalled_rows(chunk: list[Agreement], as_of: datetime.date):
    """The report rows of a chunk of annotated agreements: their regions, affairs and open obstacles' categories in
    three queries (none for an empty chunk)."""
    if not chunk:
        return
    ids = [agreement.pk for agreement in chunk]
    regions = _codes_by_agreement(AgreementParty.objects, ids, "region__code")
    affairs = _codes_by_agreement(Agreement.affairs.through.objects, ids, "governmentaffair__code")
    obstacles = _codes_by_agreement(Obstacle.objects.filter(stalls.obstacle_open_q(as_of)), ids, "category")
    for agreement in chunk:
        yield {
            "number": agreement.number,
            "document_type": agreement.document_type,
            "title": agreement.title,
            "reasons": stalls.reasons_of(agreement),
            "days_stalled": stalls.days_stalled(agreement, as_of),
            "signed_on": agreement.signed_on,
            "region_codes": regions.get(agreement.pk, []),
            "affair_codes": affairs.get(agreement.pk, []),
            "stuck_at": agreement.stuck_at,
            "obstacles": sorted(set(obstacles.get(agreement.pk, []))),
        }


def stalled_report(
    *,
    as_of: datetime.date,
    queryset: QuerySet | None = None,
    thresholds: stalls.Thresholds | None = None,
) -> list[dict]:
    """``iter_stalled_report`` as a list."""
    return list(iter_stalled_report(as_of=as_of, queryset=queryset, thresholds=thresholds))


def stalled_report_json(rows: list[dict]) -> list[dict]:
    """``stalled_report`` rows as JSON values (the date in ISO form): ``manage.py stalled --format json`` prints
    them, the API's stalled list returns them."""
    return [{**row, "signed_on": row["signed_on"].isoformat()} for row in rows]


# --- A region's page ------------------------------------------------------------------------------

REGION_PAGE_AGREEMENTS = 25


def region_summary(
    user,
    region: Region,
    *,
    as_of: datetime.date | None = None,
    thresholds: stalls.Thresholds | None = None,
) -> dict:
    """The figures of a region's page (``/regions/<code>/``), as its template's context.

    Over the agreements ``user`` may see with the region as a party (a province: the province or one of its
    kabupaten/kota), the set the list shows for ``?province=PP`` or ``?region=PP.KK``: totals and stalls by
    reason, agreements by stage, the latest ``REGION_PAGE_AGREEMENTS`` agreements, partner regions, affairs
    and, for a province, its kabupaten/kota; each figure with the list query that shows what it counts
    (``list_url`` + the row's ``query``).

    Queries: at most 6 (totals, stages, agreements and their parties, partners, affairs), 2 more for a
    province (its kabupaten/kota and their counts), 1 more when ``thresholds`` is not given.
    """
    is_province = region.level == Region.Level.PROVINCE
    today = as_of or stalls.today()
    thresholds = thresholds or stalls.Thresholds.current()

    own = in_province_q(region) if is_province else Q(region=region)
    base = Agreement.objects.filter(Exists(AgreementParty.objects.filter(own, agreement=OuterRef("pk"))))
    visible = access.agreements_visible_to(user, base)
    annotated = stalls.with_status(visible, as_of=today, thresholds=thresholds)
    scope = {"province": region.code} if is_province else {"region": region.code}

    totals = annotated.aggregate(
        total=Count("pk"),
        stalled=Count("pk", filter=Q(is_stalled=True)),
        **{f"reason_{r.value}": Count("pk", filter=stalls.reason_q(r.value)) for r in StallReason},
    )
    stall_rows = [
        {"label": r.label, "count": totals[f"reason_{r.value}"],
         "query": query_string(**scope, stalled="yes", reason=r.value)}
        for r in StallReason
    ]
    stage_counts = {
        row["stage"]: row["n"] for row in annotated.order_by().values("stage").annotate(n=Count("pk"))
    }
    stage_rows = [
        {"label": s.label, "count": stage_counts.get(s.value, 0), "query": query_string(**scope, stage=s.value)}
        for s in Stage
    ]

    agreements = list(
        annotated.order_by("-signed_on", "number").prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("region"))
        )[:REGION_PAGE_AGREEMENTS]
    )
    for a in agreements:
        a.stage_label = Stage(a.stage).label
        a.reasons = stalls.reason_details(a, today, thresholds)

    visible_ids = visible.values("pk")
    # Partners: the other regions in those agreements (for a province, the regions outside it).
    partners = list(
        Region.objects.filter(parties__agreement__in=visible_ids)
        .exclude(regions_in_province_q(region) if is_province else Q(pk=region.pk))
        .annotate(shared=Count("parties__agreement", distinct=True))
        .order_by("-shared", "code")
    )
    for p in partners:
        # The list can express "with this partner" exactly on a province page (province + region);
        # for a kabupaten/kota both would be ``region``, which the list filter does not combine.
        p.query = query_string(province=region.code, region=p.code) if is_province else None

    affairs = list(
        Agreement.affairs.through.objects.filter(agreement_id__in=visible_ids)
        .values("governmentaffair__code", "governmentaffair__name")
        .annotate(n=Count("agreement_id", distinct=True))
        .order_by("-n", "governmentaffair__code")
    )
    affair_rows = [
        {"code": a["governmentaffair__code"], "name": a["governmentaffair__name"], "count": a["n"],
         "query": query_string(**scope, affair=a["governmentaffair__code"])}
        for a in affairs
    ]

    children = []
    if is_province:
        child_counts = dict(
            AgreementParty.objects.filter(agreement_id__in=visible_ids, region__province=region)
            .values("region_id").annotate(n=Count("agreement_id", distinct=True)).values_list("region_id", "n")
        )
        children = list(Region.objects.filter(province=region).order_by("code"))
        for child in children:
            child.agreement_count = child_counts.get(child.pk, 0)
            child.query = query_string(region=child.code)

    context = {
        "region": region,
        "is_province": is_province,
        "list_url": register_url(),
        "as_of": today,
        "thresholds": thresholds,
        "totals": totals,
        "all_query": query_string(**scope),
        "stalled_query": query_string(**scope, stalled="yes"),
        "stall_rows": stall_rows,
        "stage_rows": stage_rows,
        "agreements": agreements,
        "shown": len(agreements),
        "partners": partners,
        "affair_rows": affair_rows,
        "children": children,
    }
    return context
