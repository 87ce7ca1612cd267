"""Periodic reports along the reporting line: a kabupaten/kota reports to its governor, a province (with its
kabupaten/kota) to the Minister.

Every autonomous region owes one report per period: each semester (``2026-S1``: January–June, ``2026-S2``:
July–December) and each year (``2026``). A report is due ``ReportSettings.due_days`` days after its period ends.

- ``generate(region, period)`` computes the report's figures from the register as of the period's end (or today,
  while the period runs), with the rules the pages use: the agreements where the region is a party (the list's
  ``?region=`` filter) annotated by ``stalls.with_status`` and ``stalls.with_stuck_at``. The result is plain JSON
  (codes, numbers, ISO dates): labels are translated where it is shown, so a snapshot reads in either language.
- ``consolidate(province, period)``: the submitted reports of a province's kabupaten/kota (their figures summed,
  their narratives attached) and those that have not submitted.
- ``region_states(period, regions)``: on time, late, returned, missing or not yet due, per region.
- The state changes: ``save_narrative``, ``submit``, ``return_report``; each refuses a stale save (the report's
  ``version``), and a submission freezes the figures in ``snapshot`` and keeps a ``ReportVersion``.
"""

import dataclasses
import datetime
import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import access, stalls
from .models import (
    Agreement,
    AgreementParty,
    Evaluation,
    Financing,
    FollowUp,
    GuidanceEvent,
    Indicator,
    IndicatorActual,
    Milestone,
    NeedOffer,
    Obstacle,
    Region,
    Report,
    ReportSettings,
    ReportVersion,
    Stage,
)

# --- periods ----------------------------------------------------------------------------------------------------------

PERIOD_RE = re.compile(r"\A(\d{4})(?:-S([12]))?\Z")
YEAR_MIN, YEAR_MAX = 2000, 2100
REMINDER_DAYS = 14
NARRATIVE_MAX_CHARS = 10_000
COMMENT_MAX_CHARS = 5_000
NARRATIVE_MAX_AGREEMENTS = 1_000

# The sections of a report, in order; each has a narrative ("what the region adds").
SECTIONS = [
    ("summary", _("Summary")),
    ("stages", _("Agreements by stage")),
    ("changes", _("New and ended in the period")),
    ("stalled", _("Stalled agreements")),
    ("milestones", _("Milestones met and missed")),
    ("results", _("Indicators and financing")),
    ("evaluations", _("Evaluations")),
    ("support", _("Follow-ups and guidance received")),
    ("needs", _("Needs and offers declared")),
    ("regions", _("Reports of the kabupaten/kota")),  # a province's report only
]
SECTION_KEYS = [key for key, _label in SECTIONS]
SECTION_LABELS = dict(SECTIONS)
# The figures a consolidation sums (the ``totals`` of a report).
TOTAL_KEYS = [
    "agreements", "kb", "pks", "in_force", "stalled", "new", "ended", "milestones_met", "milestones_missed",
    "indicators", "planned_idr", "realised_idr", "evaluations", "followups", "guidance_events", "needs", "offers",
]
TOTAL_LABELS = {
    "agreements": _("Agreements"),
    "kb": _("KB"),
    "pks": _("PKS"),
    "in_force": _("In force"),
    "stalled": _("Stalled"),
    "new": _("Signed in the period"),
    "ended": _("Ended in the period"),
    "milestones_met": _("Milestones met"),
    "milestones_missed": _("Milestones missed"),
    "indicators": _("Outcome indicators"),
    "planned_idr": _("Financing planned (Rp)"),
    "realised_idr": _("Financing realised (Rp)"),
    "evaluations": _("Evaluations"),
    "followups": _("Follow-ups received"),
    "guidance_events": _("Guidance events attended"),
    "needs": _("Needs declared"),
    "offers": _("Offers declared"),
}


@dataclasses.dataclass(frozen=True)
class Period:
    year: int
    semester: int | None  # None: the whole year

    @property
    def code(self) -> str:
        return f"{self.year}-S{self.semester}" if self.semester else str(self.year)

    @property
    def is_annual(self) -> bool:
        return self.semester is None

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.year, 7 if self.semester == 2 else 1, 1)

    @property
    def end(self) -> datetime.date:
        return datetime.date(self.year, 6, 30) if self.semester == 1 else datetime.date(self.year, 12, 31)

    @property
    def label(self) -> str:
        if self.semester:
            return str(_("Semester %(number)s %(year)s") % {"number": "I" if self.semester == 1 else "II",
                                                             "year": self.year})
        return str(_("Year %(year)s") % {"year": self.year})

    def __str__(self) -> str:
        return self.code

    def due_on(self, due_days: int | None = None) -> datetime.date:
        days = ReportSettings.current().due_days if due_days is None else due_days
        return self.end + datetime.timedelta(days=days)

    def has_ended(self, today: datetime.date | None = None) -> bool:
        return (today or stalls.today()) > self.end

    def as_of(self, today: datetime.date | None = None) -> datetime.date:
        """The date a draft is computed at: the period's end, or today while the period runs."""
        return min(self.end, today or stalls.today())

    def evaluation_semesters(self) -> list[int]:
        return [1, 2] if self.is_annual else [self.semester]


def parse_period(value) -> Period:
    """``2026-S1``, ``2026-S2`` or ``2026`` (years 2000–2100); anything else raises ValueError."""
    match = PERIOD_RE.match(value) if isinstance(value, str) and value.isascii() else None
    if not match or not YEAR_MIN <= int(match.group(1)) <= YEAR_MAX:
        raise ValueError(f"not a report period: {value!r}")
    return Period(int(match.group(1)), int(match.group(2)) if match.group(2) else None)


def period_or_404(value) -> Period:
    try:
        return parse_period(value)
    except ValueError as exc:
        raise Http404 from exc


def reporting_period(today: datetime.date | None = None) -> Period:
    """The semester being reported now: the latest semester that has ended (its reports fall due next)."""
    today = today or stalls.today()
    if today.month >= 7:
        return Period(today.year, 1)
    return Period(today.year - 1, 2)


def recent_periods(today: datetime.date | None = None, years: int = 3) -> list[Period]:
    """The periods a page offers, newest first: this year's and the ``years - 1`` before, each with its two
    semesters and the year, those that have started."""
    today = today or stalls.today()
    periods = []
    for year in range(today.year, today.year - years, -1):
        for period in (Period(year, None), Period(year, 2), Period(year, 1)):
            if period.start <= today:
                periods.append(period)
    return periods


# --- the figures --------------------------------------------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _number(value) -> str | None:
    """A decimal as text in the snapshot (exact), ``None`` kept."""
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def region_agreements(region: Region) -> QuerySet:
    """The agreements where ``region`` is a party: the list's ``?region=<code>``."""
    return Agreement.objects.filter(Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region=region)))


def generate(region: Region, period: Period, *, as_of: datetime.date | None = None,
             thresholds: stalls.Thresholds | None = None) -> dict:
    """The report of ``region`` for ``period`` computed from the register as of ``as_of`` (default: the period's
    end, or today while it runs), as JSON-serialisable data.

    Queries: 13 (the stage counts, the stalled agreements and their obstacles, new and ended agreements, milestones,
    indicators and their actual values, financing, evaluations, follow-ups, guidance events, needs and offers), one
    more when ``thresholds`` is not given.
    """
    as_of = as_of or period.as_of()
    start, end = period.start, as_of
    thresholds = thresholds or stalls.Thresholds.current()
    mine = region_agreements(region)
    annotated = stalls.with_status(mine, as_of=as_of, thresholds=thresholds)

    counts = {
        (row["stage"], row["document_type"]): row["n"]
        for row in annotated.order_by().values("stage", "document_type").annotate(n=Count("pk"))
    }
    stages = [{"stage": s.value, "count": sum(n for (stage, _t), n in counts.items() if stage == s.value)}
              for s in Stage]
    by_type = {t: sum(n for (_s, dt), n in counts.items() if dt == t) for t in Agreement.DocumentType.values}

    stalled_qs = (
        stalls.with_stuck_at(annotated.filter(is_stalled=True), as_of, title=True)
        .only("pk", "number", "title", "document_type", "signed_on")
        .prefetch_related(Prefetch(
            "obstacles", to_attr="open_obstacles",
            queryset=Obstacle.objects.filter(stalls.obstacle_open_q(as_of)).order_by("raised_on", "pk")
            .only("pk", "agreement_id", "category", "description", "raised_on"),
        ))
    )
    stalled = [
        {
            "id": a.pk, "number": a.number, "title": a.title, "document_type": a.document_type,
            "reasons": stalls.reasons_of(a), "days_stalled": stalls.days_stalled(a, as_of),
            "signed_on": _iso(a.signed_on), "stuck_at": a.stuck_at, "stuck_at_title": a.stuck_at_title,
            "obstacles": [{"category": o.category, "description": o.description, "raised_on": _iso(o.raised_on)}
                          for o in a.open_obstacles],
        }
        for a in stalled_qs
    ]
    stalled.sort(key=lambda row: (-(row["days_stalled"] or 0), row["number"]))

    period_q = Q(signed_on__gte=start, signed_on__lte=end)
    ended_q = (Q(terminated_on__gte=start, terminated_on__lte=end)
               | Q(stage=Stage.EXPIRED, ends_on_in_force__gte=start, ends_on_in_force__lt=end))
    changes = list(
        annotated.filter(period_q | ended_q)
        .annotate(is_new=Q(period_q), has_ended=Q(ended_q))
        .only("pk", "number", "title", "document_type", "signed_on", "terminated_on")
        .order_by("number")
    )
    new = [{"id": a.pk, "number": a.number, "title": a.title, "document_type": a.document_type,
            "signed_on": _iso(a.signed_on)} for a in changes if a.is_new]
    ended = [{"id": a.pk, "number": a.number, "title": a.title, "document_type": a.document_type,
              "stage": a.stage, "ended_on": _iso(a.terminated_on if a.stage == Stage.TERMINATED
                                                 else a.ends_on_in_force)}
             for a in changes if a.has_ended]

    met_q = Q(status=Milestone.Status.MET, completed_on__gte=start, completed_on__lte=end)
    missed_q = (Q(due_on__gte=start, due_on__lte=end) & ~Q(status=Milestone.Status.CANCELLED)
                & ~Q(status=Milestone.Status.MET, completed_on__lte=end))
    milestones = list(
        Milestone.objects.filter(agreement__in=mine.values("pk")).filter(met_q | missed_q)
        .annotate(is_met=Q(met_q)).select_related("agreement").only(
            "pk", "title", "due_on", "completed_on", "status", "agreement__number", "agreement__title")
        .order_by("due_on", "agreement__number", "pk")
    )
    milestones_met = [{"agreement": m.agreement.number, "title": m.title, "due_on": _iso(m.due_on),
                       "completed_on": _iso(m.completed_on)} for m in milestones if m.is_met]
    milestones_missed = [{"agreement": m.agreement.number, "title": m.title, "due_on": _iso(m.due_on),
                          "status": m.status} for m in milestones if not m.is_met]

    indicators = []
    for ind in (Indicator.objects.filter(agreement__in=mine.values("pk")).select_related("agreement")
                .prefetch_related(Prefetch("actuals", to_attr="actuals_by_end",
                                           queryset=IndicatorActual.objects.filter(period_end__lte=end)
                                           .order_by("period_end", "pk")))
                .order_by("agreement__number", "order", "pk")):
        latest = ind.actuals_by_end[-1] if ind.actuals_by_end else None
        indicators.append({
            "agreement": ind.agreement.number, "name": ind.name, "unit": ind.unit,
            "baseline": _number(ind.baseline_value), "target": _number(ind.target_value),
            "target_on": _iso(ind.target_on), "actual": _number(latest.value) if latest else None,
            "actual_on": _iso(latest.period_end) if latest else None,
        })
    financing = [
        {"agreement": f.agreement.number, "fiscal_year": f.fiscal_year, "source": f.source,
         "planned_idr": f.planned_idr, "realised_idr": f.realised_idr}
        for f in Financing.objects.filter(region=region, fiscal_year=period.year).select_related("agreement")
        .order_by("agreement__number", "source")
    ]

    evaluations = [
        {"agreement": e.agreement.number, "year": e.year, "semester": e.semester,
         "recommendation": e.recommendation,
         "score": round(float(e.score), 2) if e.score is not None else None}
        for e in Evaluation.objects.filter(region=region, year=period.year,
                                           semester__in=period.evaluation_semesters())
        .select_related("agreement").annotate(score=Avg("answers__score"))
        .order_by("semester", "agreement__number")
    ]

    followups = [
        {"date": _iso(f.date), "kind": f.kind, "agreement": f.agreement.number if f.agreement_id else None,
         "note": f.note}
        for f in FollowUp.objects.filter(Q(agreement__in=mine.values("pk")) | Q(region=region),
                                         date__gte=start, date__lte=end)
        .select_related("agreement").order_by("date", "pk")
    ]
    guidance = [
        {"held_on": _iso(g.held_on), "kind": g.kind, "title": g.title}
        for g in GuidanceEvent.objects.filter(regions=region, held_on__gte=start, held_on__lte=end)
        .order_by("held_on", "pk")
    ]
    recorded_by = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    needs = [
        {"kind": n.kind, "affair": n.affair.code, "affair_name": n.affair.name, "description": n.description,
         "priority": n.priority}
        for n in NeedOffer.objects.filter(region=region, created_at__lt=recorded_by).select_related("affair")
        .order_by("kind", "affair__code", "pk")
    ]

    stage_count = {row["stage"]: row["count"] for row in stages}
    totals = {
        "agreements": sum(stage_count.values()),
        "kb": by_type.get(Agreement.DocumentType.KB, 0),
        "pks": by_type.get(Agreement.DocumentType.PKS, 0),
        "in_force": sum(stage_count[s] for s in stalls.IN_FORCE_STAGES),
        "stalled": len(stalled),
        "new": len(new),
        "ended": len(ended),
        "milestones_met": len(milestones_met),
        "milestones_missed": len(milestones_missed),
        "indicators": len(indicators),
        "planned_idr": sum(f["planned_idr"] or 0 for f in financing),
        "realised_idr": sum(f["realised_idr"] or 0 for f in financing),
        "evaluations": len(evaluations),
        "followups": len(followups),
        "guidance_events": len(guidance),
        "needs": sum(1 for n in needs if n["kind"] == NeedOffer.Kind.NEED),
        "offers": sum(1 for n in needs if n["kind"] == NeedOffer.Kind.OFFER),
    }
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "period": period.code,
        "start": _iso(period.start),
        "end": _iso(period.end),
        "as_of": _iso(as_of),
        "nil": totals["agreements"] == 0,
        "totals": totals,
        "stages": stages,
        "new": new,
        "ended": ended,
        "stalled": stalled,
        "milestones_met": milestones_met,
        "milestones_missed": milestones_missed,
        "indicators": indicators,
        "financing": financing,
        "evaluations": evaluations,
        "followups": followups,
        "guidance": guidance,
        "needs": needs,
    }


def sum_totals(parts: list[dict]) -> dict:
    """The sum of the ``totals`` of ``parts`` (an agreement two of them share counts in each)."""
    return {key: sum(part.get(key, 0) or 0 for part in parts) for key in TOTAL_KEYS}


# --- the reporting line: who owes a report, who has submitted ---------------------------------------------------------


class State:
    ON_TIME = "on_time"
    LATE = "late"
    RETURNED = "returned"
    MISSING = "missing"
    OPEN = "open"  # not submitted, not yet due


STATE_LABELS = {
    State.ON_TIME: _("Submitted on time"),
    State.LATE: _("Submitted late"),
    State.RETURNED: _("Returned for correction"),
    State.MISSING: _("Not submitted"),
    State.OPEN: _("Not yet due"),
}
STATE_ORDER = [State.ON_TIME, State.LATE, State.RETURNED, State.MISSING, State.OPEN]


def reporting_regions() -> QuerySet:
    """The regions that owe reports: every autonomous province, kabupaten and kota."""
    return Region.objects.filter(is_autonomous=True)


def state_of(report: Report | None, due_on: datetime.date, today: datetime.date, first_submitted=None) -> str:
    """On time when first submitted by the due date (a report returned and resubmitted keeps its first
    date), late when after it; returned while it waits for the correction; missing once due, else not yet due."""
    if report is not None and report.status == Report.Status.SUBMITTED:
        first = first_submitted or report.submitted_at
        return State.ON_TIME if timezone.localdate(first) <= due_on else State.LATE
    if report is not None and report.status == Report.Status.RETURNED:
        return State.RETURNED
    return State.MISSING if today > due_on else State.OPEN


def reports_for(period: Period, regions: QuerySet) -> dict[int, Report]:
    """The reports of ``regions`` for ``period`` by region id, each with ``first_submitted_at``. One query."""
    return {
        r.region_id: r
        for r in Report.objects.filter(period=period.code, region__in=regions.values("pk"))
        .annotate(first_submitted_at=Min("versions__submitted_at"))
        .select_related("submitted_by", "returned_by")
    }


def region_states(period: Period, regions: QuerySet, *, today: datetime.date | None = None,
                  due_on: datetime.date | None = None) -> list[dict]:
    """One row per region of ``regions`` (ordered by code): the region, its report (or None), its state. Two
    queries (one more for the due date when not given)."""
    today = today or stalls.today()
    due_on = due_on or period.due_on()
    reports = reports_for(period, regions)
    rows = []
    for region in regions.select_related("province").order_by("code"):
        report = reports.get(region.pk)
        state = state_of(report, due_on, today, getattr(report, "first_submitted_at", None))
        rows.append({"region": region, "report": report, "state": state, "state_label": STATE_LABELS[state]})
    return rows


def count_states(rows: list[dict]) -> dict:
    counts = {state: 0 for state in STATE_ORDER}
    for row in rows:
        counts[row["state"]] += 1
    total = len(rows)
    submitted = counts[State.ON_TIME] + counts[State.LATE]
    counts.update(total=total, submitted=submitted, share=round(100 * submitted / total) if total else 0)
    return counts


def consolidate(province: Region, period: Period, *, today: datetime.date | None = None) -> dict:
    """The kabupaten/kota of ``province`` for ``period``: each with its state, and the submitted ones with their
    figures and narratives as submitted; ``missing`` those without a submitted report; ``totals`` the sum of the
    submitted reports' totals. Two queries, one more for the due date."""
    rows = region_states(period, reporting_regions().filter(province=province), today=today)
    children, missing, parts = [], [], []
    for row in rows:
        region, report = row["region"], row["report"]
        entry = {"code": region.code, "name": region.name, "state": row["state"]}
        if row["state"] in (State.ON_TIME, State.LATE) and report.snapshot:
            entry.update(submitted_at=report.submitted_at.isoformat(), totals=report.snapshot["totals"],
                         narrative=report.narrative)
            parts.append(report.snapshot["totals"])
        else:
            missing.append({"code": region.code, "name": region.name, "state": row["state"]})
        children.append(entry)
    return {"children": children, "missing": missing, "totals": sum_totals(parts),
            "submitted": len(parts), "expected": len(rows)}


def figures(region: Region, period: Period, *, as_of: datetime.date | None = None) -> dict:
    """What a report shows: ``generate`` and, for a province, ``consolidate`` and the consolidated totals (the
    province's own plus its submitted kabupaten/kota's)."""
    data = generate(region, period, as_of=as_of)
    if region.level == Region.Level.PROVINCE:
        data["consolidation"] = consolidate(region, period)
        data["consolidated_totals"] = sum_totals([data["totals"], data["consolidation"]["totals"]])
    return data


# --- access ---------------------------------------------------------------------------------------------------------


def get_report_region(user, code: str) -> tuple[Region, str]:
    """The region of ``code`` and the user's access to its reports (``access.report_access``); 404 when the
    region owes no report or the user may not read its reports."""
    region = Region.objects.filter(code=str(code)[:8], is_autonomous=True).select_related("province").first()
    if region is None:
        raise Http404
    level = access.report_access(user, region)
    if level is None:
        raise Http404
    return region, level


# --- state changes ------------------------------------------------------------------------------------------------------


class StaleReportError(Exception):
    """Someone saved the report since the page was opened. ``current`` is the report as it is now."""

    def __init__(self, current):
        self.current = current
        super().__init__(_("This report was changed by someone else while you were editing it. Nothing was saved; "
                           "the page now shows the newer version."))


def _check_text(value, max_chars: int, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError({field: _("Enter text.")})
    value = value.replace("\r\n", "\n").strip()
    if "\x00" in value:
        raise ValidationError({field: _("The text contains a character that is not allowed.")})
    if len(value) > max_chars:
        raise ValidationError({field: _("Keep the text to %(max)s characters at most (it has %(count)s).")
                               % {"max": max_chars, "count": len(value)}})
    return value


def clean_narrative(narrative: dict) -> dict:
    """``{"sections": {key: text}, "stalled": {agreement id: text}}`` with known keys only, empty texts dropped."""
    sections = {}
    for key, text in (narrative.get("sections") or {}).items():
        if key not in SECTION_KEYS:
            raise ValidationError(_("Unknown section."))
        text = _check_text(text, NARRATIVE_MAX_CHARS, f"section-{key}")
        if text:
            sections[key] = text
    stalled = {}
    items = list((narrative.get("stalled") or {}).items())
    if len(items) > NARRATIVE_MAX_AGREEMENTS:
        raise ValidationError(_("Too many agreements."))
    for key, text in items:
        if not str(key).isdigit() or len(str(key)) > 12:
            raise ValidationError(_("Unknown agreement."))
        text = _check_text(text, NARRATIVE_MAX_CHARS, f"stalled-{key}")
        if text:
            stalled[str(key)] = text
    return {"sections": sections, "stalled": stalled}


def _claim(region: Region, period: Period, expected_version: int) -> Report:
    """The report row, created at version 1 when missing, its version claimed (bumped) if still
    ``expected_version``; else StaleReportError. Locked for the rest of the transaction."""
    report, _created = Report.objects.get_or_create(region=region, period=period.code)
    claimed = Report.objects.filter(pk=report.pk, version=expected_version).update(version=F("version") + 1)
    if claimed != 1:
        raise StaleReportError(Report.objects.get(pk=report.pk))
    return Report.objects.select_for_update().get(pk=report.pk)


def _check_writer(user, region: Region) -> None:
    if access.report_access(user, region) != access.REPORT_WRITE:
        raise PermissionDenied


def save_narrative(*, user, region: Region, period: Period, narrative: dict, expected_version: int) -> Report:
    """Save the region's narratives on its draft (or returned) report."""
    _check_writer(user, region)
    cleaned = clean_narrative(narrative)
    with transaction.atomic():
        report = _claim(region, period, expected_version)
        if report.status == Report.Status.SUBMITTED:
            raise ValidationError(_("This report has been submitted: it can no longer be changed."))
        report.narrative = cleaned
        report.save(update_fields=["narrative", "updated_at"])
    return report


def submit(*, user, region: Region, period: Period, expected_version: int, narrative: dict | None = None,
           now: datetime.datetime | None = None) -> Report:
    """Submit the report: its figures as of the period's end frozen in ``snapshot`` with the narratives, who and
    when, kept as a new ``ReportVersion``. Only once the period has ended; a submitted report stays as it is until
    it is returned."""
    _check_writer(user, region)
    now = now or timezone.now()
    if not period.has_ended(timezone.localdate(now)):
        raise ValidationError(_("A report can be submitted once its period has ended (after %(date)s).")
                              % {"date": period.end.strftime("%d/%m/%Y")})
    cleaned = clean_narrative(narrative) if narrative is not None else None
    with transaction.atomic():
        report = _claim(region, period, expected_version)
        if report.status == Report.Status.SUBMITTED:
            raise ValidationError(_("This report has already been submitted."))
        if cleaned is not None:
            report.narrative = cleaned
        snapshot = figures(region, period, as_of=period.end)
        number = report.versions.count() + 1
        report.snapshot = snapshot
        report.status = Report.Status.SUBMITTED
        report.submitted_by, report.submitted_at = user, now
        report.save(update_fields=["narrative", "snapshot", "status", "submitted_by", "submitted_at", "updated_at"])
        ReportVersion.objects.create(report=report, number=number, snapshot=snapshot, narrative=report.narrative,
                                     submitted_by=user, submitted_at=now)
    return report


def return_report(*, user, region: Region, period: Period, comment: str, expected_version: int,
                  now: datetime.datetime | None = None) -> Report:
    """Return a submitted report for correction with a comment: a province its kabupaten/kota's, the ministry any.
    The submission stays in its ``ReportVersion`` with the comment; the region corrects and submits again."""
    if not access.may_return_report(user, region):
        raise PermissionDenied
    comment = _check_text(comment, COMMENT_MAX_CHARS, "comment")
    if not comment:
        raise ValidationError({"comment": _("Say what needs correcting.")})
    now = now or timezone.now()
    with transaction.atomic():
        report = _claim(region, period, expected_version)
        if report.status != Report.Status.SUBMITTED:
            raise ValidationError(_("Only a submitted report can be returned."))
        report.status = Report.Status.RETURNED
        report.snapshot = None
        report.returned_by, report.returned_at, report.return_comment = user, now, comment
        report.save(update_fields=["status", "snapshot", "returned_by", "returned_at", "return_comment",
                                   "updated_at"])
        latest = report.versions.order_by("-number").first()
        if latest is not None:
            latest.returned_by, latest.returned_at, latest.return_comment = user, now, comment
            latest.save(update_fields=["returned_by", "returned_at", "return_comment"])
    return report


# --- reminders ------------------------------------------------------------------------------------------------------


def reminders_for(region: Region, today: datetime.date) -> list[dict]:
    """The region's reports due within ``REMINDER_DAYS`` days or late, as of ``today``: the semesters and years
    ended in the last 365 days whose report is not submitted (a returned one included). One query for the reports,
    one for the due days."""
    due_days = ReportSettings.current().due_days
    periods = [p for p in recent_periods(today, years=3) if p.has_ended(today)
               and p.due_on(due_days) - datetime.timedelta(days=REMINDER_DAYS) <= today
               and p.end >= today - datetime.timedelta(days=365)]
    if not periods:
        return []
    done = set(Report.objects.filter(region=region, period__in=[p.code for p in periods],
                                     status=Report.Status.SUBMITTED).values_list("period", flat=True))
    rows = []
    for p in periods:
        if p.code in done:
            continue
        due = p.due_on(due_days)
        rows.append({"period": p, "label": p.label, "due_on": due, "late": today > due,
                     "days": (due - today).days})
    return rows


def children_states(province: Region, period: Period, today: datetime.date) -> dict:
    """For a province's reminder: how many of its kabupaten/kota have submitted ``period``'s report."""
    return count_states(region_states(period, reporting_regions().filter(province=province), today=today))


# --- the dashboard ----------------------------------------------------------------------------------------------------


def dashboard_figure(user, *, province: Region | None = None, today: datetime.date | None = None) -> dict | None:
    """The completeness of the semester being reported now, over the regions whose reports ``user`` reads: ministry
    staff every region (or the dashboard's province and its kabupaten/kota), a province officer the province and its
    kabupaten/kota, a kabupaten/kota officer its own region. None for a user without reports. Three queries."""
    from .regions import regions_in_province_q

    today = today or stalls.today()
    period = reporting_period(today)
    regions = reporting_regions()
    if access.is_national(user):
        if province is not None:
            regions = regions.filter(regions_in_province_q(province))
            scope = province.name
        else:
            scope = None
    elif access.is_officer(user):
        if user.role == user.Role.PROVINCE:
            regions = regions.filter(regions_in_province_q(user.region_id))
        else:
            regions = regions.filter(pk=user.region_id)
        scope = access.scope_name(user)
    else:
        return None
    due_on = period.due_on()
    counts = count_states(region_states(period, regions, today=today, due_on=due_on))
    if not counts["total"]:
        return None
    query = f"?period={period.code}" + (f"&province={province.code}" if province is not None else "")
    return {"period": period, "due_on": due_on, "counts": counts, "scope": scope, "query": query}


def officer_reminders(user, as_of: datetime.date) -> tuple[list[dict], dict | None]:
    """What the weekly e-mail says of reports: the officer's region's reports due within ``REMINDER_DAYS`` days or
    late (``reminders_for``) and, for a province officer once the semester's report is due within that many days,
    how many of its kabupaten/kota have submitted it (None when all have). Each with its page's ``path``."""
    from django.urls import reverse

    region = user.region if user.region_id else None
    if region is None or not region.is_autonomous:
        return [], None
    due = reminders_for(region, as_of)
    for row in due:
        row["path"] = reverse("report-detail", args=[region.code, row["period"].code])
    children = None
    if user.role == user.Role.PROVINCE:
        period = reporting_period(as_of)
        due_on = period.due_on()
        if due_on - datetime.timedelta(days=REMINDER_DAYS) <= as_of:
            counts = children_states(region, period, as_of)
            if counts["total"] and counts["submitted"] < counts["total"]:
                children = {"period": period, "label": period.label, "due_on": due_on, "counts": counts,
                            "path": reverse("report-index") + f"?period={period.code}"}
    return due, children
