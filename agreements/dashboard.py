"""Selectors for the national dashboard: every figure is one aggregate over the same queryset.

The view hands in the agreements the user may see, already filtered by the dashboard's filters and
annotated by ``stalls.with_status``. Each figure here comes with the list parameters that reproduce
it on ``/agreements/``, so every number can link to exactly the agreements it counts. ``figures`` puts the
page together: every figure and its two charts. The number of queries is fixed: it does not grow with the data.
"""

import csv
import datetime
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import charts, stalls
from .models import (
    PROPOSAL_WAITING_DAYS,
    Agreement,
    AgreementParty,
    AgreementStep,
    GovernmentAffair,
    Obstacle,
    Proposal,
    Region,
    Stage,
    StallReason,
)
from .reference import DATA_DIR
from .regions import in_province_q, province_of
from .selectors import codepoint_order, query_string, register_url
from .stalls import AGE_BUCKETS, Thresholds, age_bucket_q, reason_q

# The pipeline as the ministry reads it: the "signed" stage split into KB signed and PKS signed.
PIPELINE = [
    ("draft", _("Draft"), Stage.DRAFT, None),
    ("kb_signed", _("KB signed"), Stage.SIGNED, Agreement.DocumentType.KB),
    ("followed_up", _("KB followed up by a PKS"), Stage.FOLLOWED_UP, None),
    ("pks_signed", _("PKS signed"), Stage.SIGNED, Agreement.DocumentType.PKS),
    ("implementing", _("Implementing"), Stage.IMPLEMENTING, None),
    ("completed", _("Completed"), Stage.COMPLETED, None),
    ("expired", _("Expired"), Stage.EXPIRED, None),
    ("terminated", _("Terminated"), Stage.TERMINATED, None),
]
# "Signed, not terminated": the denominator of a stall share.
LIVE_STAGES = [Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING, Stage.COMPLETED, Stage.EXPIRED]


@dataclass
class Figure:
    """A number on the dashboard and the list parameters that show exactly those agreements."""

    value: int
    params: list[tuple[str, str]] = field(default_factory=list)


def list_href(base_params: list[tuple[str, str]], figure: Figure) -> str:
    """The agreement list filtered to exactly the agreements ``figure`` counts.

    The figure's own parameters replace the page's filters of the same name (a province's row on a
    dashboard filtered by another province links to that province).
    """
    own = {key for key, _value in figure.params}
    return register_url([(k, v) for k, v in base_params if k not in own] + figure.params)


@lru_cache(maxsize=1)
def province_tiles() -> dict[str, tuple[int, int]]:
    with open(DATA_DIR / "province_tiles.csv", encoding="utf-8", newline="") as fh:
        return {row["code"]: (int(row["col"]), int(row["row"])) for row in csv.DictReader(fh)}


def pipeline(qs: QuerySet) -> list[dict]:
    """Agreements at each stage, and how many of each are stalled (one query)."""
    counts = {
        (row["stage"], row["document_type"]): row
        for row in qs.order_by().values("stage", "document_type").annotate(
            total=Count("pk"), stalled=Count("pk", filter=Q(is_stalled=True))
        )
    }
    rows = []
    for key, label, stage, doc_type in PIPELINE:
        matching = [v for (s, d), v in counts.items() if s == stage and (doc_type is None or d == doc_type)]
        params = [("stage", str(stage))] + ([("document_type", str(doc_type))] if doc_type else [])
        rows.append(
            {
                "key": key,
                "label": label,
                "stage": stage,
                "document_type": doc_type,
                "total": Figure(sum(r["total"] for r in matching), params),
                "stalled": Figure(sum(r["stalled"] for r in matching), params + [("stalled", "yes")]),
            }
        )
    return rows


def stall_summary(qs: QuerySet, as_of: datetime.date, thresholds: Thresholds) -> dict:
    """Stalled in all, by reason, and by age past the threshold (one query)."""
    aggregates = {"stalled": Count("pk", filter=Q(is_stalled=True))}
    for reason in StallReason.values:
        aggregates[f"reason_{reason}"] = Count("pk", filter=reason_q(reason))
    for label, _low, _high in AGE_BUCKETS:
        aggregates[f"age_{label}"] = Count("pk", filter=age_bucket_q(label, as_of, thresholds))
    # The end of the term, in the same query: lapsed, expiring soon, in force with no end date.
    days = stalls.EXPIRY_WARNING_DAYS[0]
    aggregates["lapsed"] = Count("pk", filter=stalls.lapsed_q())
    aggregates["expiring"] = Count("pk", filter=stalls.expiring_within_q(days, as_of))
    aggregates["no_end_date"] = Count("pk", filter=stalls.no_end_date_q())
    row = qs.order_by().aggregate(**aggregates)
    return {
        "lapsed": Figure(row["lapsed"], [("lapsed", "yes")]),
        "expiring": Figure(row["expiring"], [("expiring_within", str(days))]),
        "expiring_days": days,
        "no_end_date": Figure(row["no_end_date"], [("no_end_date", "yes")]),
        "stalled": Figure(row["stalled"], [("stalled", "yes")]),
        "by_reason": [
            {"reason": StallReason(reason), "figure": Figure(row[f"reason_{reason}"], [("reason", reason)])}
            for reason in StallReason.values
        ],
        "by_age": [
            {"label": label, "low": low, "high": high, "figure": Figure(row[f"age_{label}"], [("age", label)])}
            for label, low, high in AGE_BUCKETS
        ],
    }


def by_province(qs: QuerySet) -> list[dict]:
    """Per province (a party is the province or one of its kabupaten/kota): live and stalled counts.

    An agreement between regions of two provinces counts in both. One query for the counts, one for
    the province names.
    """
    counts = {
        row["province_code"]: row
        for row in qs.order_by()
        .annotate(province_code=province_of("parties__region", "code"))
        .filter(province_code__isnull=False)
        .values("province_code")
        .annotate(
            total=Count("pk", distinct=True),
            live=Count("pk", distinct=True, filter=Q(stage__in=LIVE_STAGES)),
            stalled=Count("pk", distinct=True, filter=Q(is_stalled=True)),
            lapsed=Count("pk", distinct=True, filter=stalls.lapsed_q()),
        )
    }
    tiles = province_tiles()
    rows = []
    for province in Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"):
        row = counts.get(province.code, {"total": 0, "live": 0, "stalled": 0, "lapsed": 0})
        p = [("province", province.code)]
        share = row["stalled"] / row["live"] if row["live"] else None
        rows.append(
            {
                "province": province,
                "total": Figure(row["total"], p),
                "live": Figure(row["live"], p + [("stage", str(s)) for s in LIVE_STAGES]),
                "stalled": Figure(row["stalled"], p + [("stalled", "yes")]),
                "lapsed": Figure(row["lapsed"], p + [("lapsed", "yes")]),
                "share": share,
                "tile": tiles.get(province.code),
            }
        )
    return rows


def by_affair(qs: QuerySet) -> list[dict]:
    """Per government affair: all and stalled agreements (one query for counts, one for names)."""
    counts = {
        row["affairs__code"]: row
        for row in qs.order_by()
        .filter(affairs__isnull=False)
        .values("affairs__code")
        .annotate(total=Count("pk", distinct=True), stalled=Count("pk", distinct=True, filter=Q(is_stalled=True)))
    }
    rows = []
    for affair in GovernmentAffair.objects.order_by("code"):
        row = counts.get(affair.code, {"total": 0, "stalled": 0})
        p = [("affair", affair.code)]
        rows.append(
            {
                "affair": affair,
                "total": Figure(row["total"], p),
                "stalled": Figure(row["stalled"], p + [("stalled", "yes")]),
            }
        )
    return rows


def by_signing_year(qs: QuerySet) -> list[dict]:
    """KBs signed each year against those followed by a PKS signed on or before the as-of date."""
    rows = (
        qs.order_by()
        .filter(document_type=Agreement.DocumentType.KB, signed_on__isnull=False, stage__in=LIVE_STAGES + [Stage.TERMINATED])
        .annotate(year=ExtractYear("signed_on"))
        .values("year")
        .annotate(total=Count("pk"), followed=Count("pk", filter=Q(has_signed_pks=True)))
        .order_by("year")
    )
    result = []
    for row in rows:
        year = str(row["year"])
        p = [("document_type", "KB"), ("year_from", year), ("year_to", year)]
        p_signed = p + [("stage", str(s)) for s in LIVE_STAGES + [Stage.TERMINATED]]
        result.append(
            {
                "year": row["year"],
                "total": Figure(row["total"], p_signed),
                "followed": Figure(row["followed"], p_signed + [("has_pks", "yes")]),
                "share": row["followed"] / row["total"] if row["total"] else None,
            }
        )
    return result


def lapsed_by_year(qs: QuerySet) -> list[dict]:
    """Agreements lapsed as of the date (their term ended without their follow-up), by the year their end date in
    force falls in, latest first (one query)."""
    rows = (
        qs.order_by()
        .filter(stalls.lapsed_q())
        .annotate(year=ExtractYear("ends_on_in_force"))
        .values("year")
        .annotate(total=Count("pk"))
        .order_by("-year")
    )
    return [
        {"year": row["year"],
         "figure": Figure(row["total"], [("lapsed", "yes"), ("expiry_year", str(row["year"]))])}
        for row in rows
    ]


def longest_stalled(qs: QuerySet, as_of: datetime.date, limit: int = 10) -> list:
    """The agreements stalled longest, with their parties (two queries)."""
    rows = list(
        qs.filter(is_stalled=True)
        # Ties by number in plain code-point order, as the ``stalled`` command sorts them.
        .order_by(F("stalled_since").asc(), codepoint_order("number"))
        # Parties with their regions in one query (select_related), not two: keeps the dashboard's count.
        .prefetch_related(Prefetch("parties", queryset=AgreementParty.objects.select_related("region")))[:limit]
    )
    for a in rows:
        a.days_stalled = (as_of - a.stalled_since).days
    return rows


def followup_summary(qs: QuerySet, as_of: datetime.date, limit: int = 5) -> dict:
    """Of the stalled agreements, how many had a follow-up in the last 90 days (on the agreement or on
    one of its regions), and the ones stalled longest with none.

    One query: the counts are window aggregates over all stalled agreements, carried on the first
    rows, which are those with no follow-up, longest stalled first.
    """
    from django.db.models import Case, IntegerField, Sum, Value, When, Window

    from .followups import followed_up_within

    followed_case = Case(When(followed_up_90=True, then=Value(1)), default=Value(0), output_field=IntegerField())
    rows = list(
        qs.filter(is_stalled=True)
        .annotate(followed_up_90=followed_up_within(as_of))
        .annotate(
            _total=Window(expression=Count("pk")),
            _followed=Window(expression=Sum(followed_case)),
        )
        .order_by("followed_up_90", F("stalled_since").asc(), "number")[:limit]
    )
    total = rows[0]._total if rows else 0
    followed = (rows[0]._followed or 0) if rows else 0
    longest = [a for a in rows if not a.followed_up_90]
    for a in longest:
        a.days_stalled = (as_of - a.stalled_since).days
    return {
        "stalled": Figure(total, [("stalled", "yes")]),
        "followed": Figure(followed, [("stalled", "yes"), ("followed_up_90", "yes")]),
        "not_followed": Figure(total - followed, [("stalled", "yes"), ("followed_up_90", "no")]),
        "longest_without": longest,
    }


def stalled_by_step(qs: QuerySet, as_of: datetime.date) -> list[dict]:
    """Stalled agreements by the step where they stopped (``stalls.with_stuck_at``), most first; agreements with
    no step not done (or no steps at all) are left out. Two queries: the counts, then (when there are any) the
    steps' names. A step no template has any more keeps its title but no link (the list's filter offers the
    templates' steps)."""
    counts = list(
        stalls.with_stuck_at(qs.filter(is_stalled=True), as_of)
        .filter(stuck_at__isnull=False)
        .order_by()
        .values("stuck_at")
        .annotate(n=Count("pk"))
    )
    steps = {code: (title, name) for code, title, name in stalls.template_steps()} if counts else {}
    missing = {row["stuck_at"] for row in counts} - set(steps)
    if missing:
        steps.update((code, (title, "")) for code, title in
                     AgreementStep.objects.filter(code__in=missing).order_by().values_list("code", "title"))
    rows = [
        {
            "code": row["stuck_at"],
            "title": steps[row["stuck_at"]][0],
            "template": steps[row["stuck_at"]][1],
            "linked": row["stuck_at"] not in missing,
            "figure": Figure(row["n"], [("stalled", "yes"), ("stuck_at", row["stuck_at"])]),
        }
        for row in counts
    ]
    rows.sort(key=lambda row: (-row["figure"].value, row["title"], row["template"]))
    return rows


def stalled_by_obstacle(qs: QuerySet, as_of: datetime.date) -> list[dict]:
    """Stalled agreements with an obstacle of each category open as of ``as_of`` (one query); an agreement with
    obstacles of two categories counts in both."""
    counts = dict(
        Obstacle.objects.filter(stalls.obstacle_open_q(as_of), agreement__in=qs.filter(is_stalled=True).values("pk"))
        .order_by()
        .values("category")
        .annotate(n=Count("agreement", distinct=True))
        .values_list("category", "n")
    )
    return [
        {"category": category, "label": label,
         "figure": Figure(counts.get(category, 0), [("stalled", "yes"), ("obstacle", category)])}
        for category, label in Obstacle.Category.choices
    ]


# --- The whole page -----------------------------------------------------------------------------------


def figures(
    qs: QuerySet,
    *,
    as_of: datetime.date,
    thresholds: Thresholds,
    base_params: list[tuple[str, str]],
    province_qs: QuerySet,
    affair_qs: QuerySet,
) -> dict:
    """Every figure of the dashboard and its two charts, as the template's context.

    ``qs`` is the filtered agreements; ``province_qs`` and ``affair_qs`` the same without the province (affair)
    filter, so that the breakdown by province (affair) shows every province (affair), each linking to the list
    with its own value in place of the filter's. ``base_params`` are the page's applied filters, which the
    charts' links carry as the tables' do (``list_href``).
    """
    provinces = by_province(province_qs)
    stages = pipeline(qs)
    return {
        "pipeline": stages,
        "summary": stall_summary(qs, as_of, thresholds),
        "provinces": provinces,
        "affairs": by_affair(affair_qs),
        "years": by_signing_year(qs),
        "lapsed_years": lapsed_by_year(qs),
        "longest": longest_stalled(qs, as_of),
        "followups": followup_summary(qs, as_of),
        "by_step": stalled_by_step(qs, as_of),
        "by_obstacle": stalled_by_obstacle(qs, as_of),
        "tile_map": charts.tile_map(
            [
                charts.Tile(
                    code=row["province"].code,
                    label=row["province"].name,
                    col=row["tile"][0],
                    row=row["tile"][1],
                    value=row["stalled"].value,
                    share=row["share"],
                    href=list_href(base_params, row["stalled"]),
                )
                for row in provinces
                if row["tile"]
            ],
            title=str(_("Stalled agreements by province")),
            legend=charts.share_legend(),
        ),
        "pipeline_chart": charts.bar_chart(
            [
                charts.Bar(
                    label=str(row["label"]),
                    value=row["total"].value,
                    href=list_href(base_params, row["total"]),
                    stalled=row["stalled"].value,
                )
                for row in stages
            ],
            title=str(_("Agreements by stage (stalled in brackets)")),
        ),
    }


def proposals_waiting(qs: QuerySet, as_of: datetime.date, *, province: Region | None = None,
                      affair: GovernmentAffair | None = None) -> dict:
    """Cooperation proposals waiting more than ``PROPOSAL_WAITING_DAYS`` days for an answer as of ``as_of``, among
    ``qs`` (the proposals the user may see) and the dashboard's province and affair filters, with the link to the
    list of exactly those proposals (one query)."""
    params = [("waiting", "yes"), ("as_of", as_of.isoformat())]
    if province is not None:
        qs = qs.filter(in_province_q(province, "proposing_region") | in_province_q(province, "partner_region"))
        params.append(("province", province.code))
    if affair is not None:
        qs = qs.filter(affair=affair)
        params.append(("affair", affair.code))
    return {
        "value": qs.filter(Proposal.waiting_q(as_of)).count(),
        "url": reverse("proposal-list") + query_string(params),
        "days": PROPOSAL_WAITING_DAYS,
    }
