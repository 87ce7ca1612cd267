"""Results of a cooperation: a PKS's outcome indicators with their actual values per period, and each agreement's
financing lines (per fiscal year, party and source). The rules and writes (``indicator_save``, ``actual_record``,
``financing_save``, ``financing_delete``) and the reads the pages, the register and the workbook share (totals,
progress to target).

Who may write is decided in ``agreements.access`` (``may_write_results``, ``may_write_financing_line``).

The totals: every total of financing is the sum over a list the register shows. For an agreement, its lines. For a
region, a province or an affair, the lines of every agreement of that scope the user may see (all parties' lines,
not only the region's own): the same agreements as the register's ``?region=`` / ``?province=`` / ``?affair=``
with ``financed=yes``, so that the total equals the sum of the agreements' planned and realised amounts in that
list (and in its readable workbook).
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _

from . import access, charts, services, stalls
from .models import (
    Agreement,
    AgreementParty,
    Document,
    Financing,
    FundingSource,
    Indicator,
    IndicatorActual,
    NeedOffer,
    Region,
    User,
)

INDICATOR_FIELDS = ("name", "unit", "baseline_value", "baseline_on", "target_value", "target_on", "need", "order")
# The earliest date an indicator or an actual value may name (as the obstacles and the as-of date).
EARLIEST = stalls.AS_OF_MIN
NOTE_MAX = 4000
# Indicators listed on a region's or an affair's page (the latest first); the register holds the rest.
PAGE_INDICATORS = 50


# --- numbers as people read them -------------------------------------------------------------------------------


def plain(value: Decimal | None) -> Decimal | None:
    """A stored value (four decimal places) without its trailing zeros: 12.5000 → 12.5, 100.0000 → 100."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return Decimal(text)


def number_text(value: Decimal | None) -> str:
    """A value in the reader's language, grouped, with the decimals it has: "1.250,5" in Indonesian."""
    if value is None:
        return "—"
    return formats.number_format(plain(value), use_l10n=True, force_grouping=True)


def progress_share(baseline: Decimal, target: Decimal, value: Decimal | None) -> float | None:
    """How far ``value`` has come from the baseline towards the target: 0 at the baseline, 1 at the target (a target
    below its baseline counts the decrease). None without a value, or when target and baseline are equal."""
    if value is None or target == baseline:
        return None
    return float((value - baseline) / (target - baseline))


# --- writes: indicators ----------------------------------------------------------------------------------------


def _indicator_errors(agreement: Agreement, fields: dict) -> dict:
    errors = {}
    if agreement.document_type != Agreement.DocumentType.PKS:
        errors["__all__"] = _("Only a PKS has outcome indicators: a KB states intentions, its PKSs the results.")
    for name in ("name", "unit"):
        if not (fields.get(name) or "").strip():
            errors[name] = _("This field is required.")
    for name in ("baseline_on", "target_on"):
        day = fields.get(name)
        if day is not None and day < EARLIEST:
            errors[name] = _("Enter a date from 1 January 1900.")
    need = fields.get("need")
    if need is not None:
        parties = set(agreement.parties.values_list("region_id", flat=True))
        if need.kind != NeedOffer.Kind.NEED or need.region_id not in parties:
            errors["need"] = _("Choose a need declared by one of the agreement's regional parties.")
    return errors


def indicator_save(*, user: User, agreement: Agreement, indicator: Indicator | None = None,
                   expected_version: int | None = None, **fields) -> Indicator:
    """Add an outcome indicator to a PKS, or change one (``indicator``): a name, a unit, the baseline and the target
    (each a value and a date, the target not before the baseline), optionally the need it answers (a need declared by
    one of the parties). Whoever may write the agreement (``access.may_write_results``). A change names the version
    it started from (``expected_version``): a save made meanwhile refuses it (``services.StaleVersionError``)."""
    access.check_can_write_results(user, agreement)
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"unknown indicator fields: {sorted(unknown)}")
    errors = _indicator_errors(agreement, fields)
    if errors:
        raise ValidationError(errors)
    if indicator is None:
        indicator = Indicator(agreement=agreement, created_by=user)
    elif indicator.agreement_id != agreement.pk:
        raise ValidationError(_("This indicator belongs to another agreement."))
    for name, value in fields.items():
        setattr(indicator, name, value.strip() if isinstance(value, str) else value)
    if indicator.order is None:
        indicator.order = 0
    indicator.full_clean(exclude=["version"])
    with transaction.atomic():
        if indicator.pk is not None:
            services._claim_version(Indicator, indicator.pk, expected_version if expected_version is not None else -1)
            indicator.version = expected_version + 1
        services._save(indicator, user)
    return indicator


# --- writes: actual values -------------------------------------------------------------------------------------


def _actual_errors(indicator: Indicator, period_start, period_end, note: str) -> dict:
    errors = {}
    today = stalls.today()
    if period_start is None:
        errors["period_start"] = _("Enter the date.")
    elif period_start < EARLIEST:
        errors["period_start"] = _("Enter a date from 1 January 1900.")
    elif period_start > today:
        errors["period_start"] = _("A period that has not begun has no actual value yet.")
    if period_end is None:
        errors["period_end"] = _("Enter the date.")
    elif period_start is not None and period_end < period_start:
        errors["period_end"] = _("The period cannot end before it starts.")
    elif period_end < indicator.baseline_on:
        errors["period_end"] = _("The period ends before the indicator's baseline date (%(date)s).") % {
            "date": formats.date_format(indicator.baseline_on)}
    if len(note) > NOTE_MAX:
        errors["note"] = _("Ensure this value has at most %(limit)s characters.") % {"limit": NOTE_MAX}
    return errors


def actual_record(
    *,
    user: User,
    indicator: Indicator,
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    value: Decimal,
    note: str = "",
    evidence=None,
) -> IndicatorActual:
    """Record the value an indicator reached in a period (once per period), with a note and, optionally, an evidence
    file: checked like every upload (``services.document_upload``: PDF, JPEG or PNG by content, up to 10 MB) and
    stored as the agreement's evidence document, served by the access-checked document download. Whoever may write
    the agreement; a provincial officer whose province is not a party reads only. Nothing is stored on a refusal."""
    agreement = indicator.agreement
    access.check_can_write_results(user, agreement)
    note = (note or "").strip()
    errors = _actual_errors(indicator, period_start, period_end, note)
    if errors:
        raise ValidationError(errors)
    actual = IndicatorActual(indicator=indicator, period_start=period_start, period_end=period_end, value=value,
                             note=note, recorded_by=user)
    actual.full_clean()  # the value's digits, and one value per period
    document = None
    try:
        with transaction.atomic():
            if evidence is not None:
                try:
                    document = services.document_upload(
                        agreement=agreement, user=user, uploaded=evidence, doc_type=Document.Type.EVIDENCE,
                        dated_on=period_end,
                    )
                except ValidationError as exc:
                    raise ValidationError({"evidence": exc.messages}) from exc
                actual.evidence = document
            actual._history_user = user
            services._save_unique(actual, ("indicator", "period_start", "period_end"),
                                  _("This indicator already has a value for this period."))
    except BaseException:
        if document is not None and document.file.name:
            document.file.storage.delete(document.file.name)
        raise
    return actual


# --- writes: financing ---------------------------------------------------------------------------------------


def _financing_errors(agreement: Agreement, *, region: Region | None, source: str, planned_idr, realised_idr) -> dict:
    errors = {}
    if region is not None:
        if not agreement.parties.filter(region=region).exists():
            errors["region"] = _("The paying region must be one of the agreement's parties.")
    else:
        if not agreement.third_parties.exists():
            errors["region"] = _("This agreement has no third party: choose the regional party that pays.")
        elif source not in (FundingSource.THIRD_PARTY, FundingSource.OTHER):
            errors["source"] = _("A third parties' line is funded by the third party or by another source.")
    if planned_idr is None and realised_idr is None:
        errors["planned_idr"] = _("Enter the planned amount, the realised amount, or both.")
    return errors


def financing_save(
    *,
    user: User,
    agreement: Agreement,
    line: Financing | None = None,
    region: Region | None,
    fiscal_year: int,
    source: str,
    planned_idr: int | None,
    realised_idr: int | None,
    note: str = "",
    expected_version: int | None = None,
) -> Financing:
    """Add a financing line to an agreement, or change one (``line``): one per fiscal year, party and source, the
    planned and the realised amounts (either may be unknown, not both). ``region`` None is the third parties' line.
    Ministry staff any line; an officer of a party its own region's lines and the third parties'
    (``access.may_write_financing_line``), on the line as it is and as it will be. A change names the version it
    started from (``expected_version``): a save made meanwhile refuses it (``services.StaleVersionError``)."""
    writes = access.can_write_agreement(user, agreement)
    if not writes or (line is not None and not access.may_write_financing_line(user, line.region_id,
                                                                                 writes_agreement=writes)):
        raise PermissionDenied
    if not access.may_write_financing_line(user, region.pk if region is not None else None, writes_agreement=writes):
        raise ValidationError({"region": _("You may record only your own region's lines and the third parties'.")})
    if line is not None and line.agreement_id != agreement.pk:
        raise ValidationError(_("This line belongs to another agreement."))
    errors = _financing_errors(agreement, region=region, source=source, planned_idr=planned_idr,
                               realised_idr=realised_idr)
    if errors:
        raise ValidationError(errors)
    line = line or Financing(agreement=agreement)
    line.region, line.fiscal_year, line.source = region, fiscal_year, source
    line.planned_idr, line.realised_idr, line.note = planned_idr, realised_idr, (note or "").strip()
    line.updated_by = user
    line.full_clean(exclude=["version"])  # the year's range, the note's length, one line per year, party and source
    line._history_user = user
    message = (_("This party already has a line for this year and source.") if region is not None
               else _("The third parties already have a line for this year and source."))
    with transaction.atomic():
        if line.pk is not None:
            services._claim_version(Financing, line.pk, expected_version if expected_version is not None else -1)
            line.version = expected_version + 1
        # ``region`` None filters on IS NULL: a concurrent save of the same line is an error on the source, not a 500.
        services._save_unique(line, ("agreement", "fiscal_year", "region", "source"), message)
    return line


def financing_delete(*, user: User, line: Financing) -> None:
    """Delete a financing line entered by mistake (the history keeps it), by whoever may change it."""
    writes = access.can_write_agreement(user, line.agreement)
    if not access.may_write_financing_line(user, line.region_id, writes_agreement=writes):
        raise PermissionDenied
    line._history_user = user
    line.delete()


# --- reads: an agreement's page ------------------------------------------------------------------------------------


def indicators_of(agreement: Agreement) -> list[Indicator]:
    """The agreement's indicators, each with its actual values (oldest first), the latest, the progress to target,
    the numbers as words and the chart. Two queries (indicators with their need, actuals with their evidence)."""
    indicators = list(
        agreement.indicators.select_related("need__affair", "need__region").prefetch_related(
            Prefetch("actuals", queryset=IndicatorActual.objects.select_related("evidence", "recorded_by")
                     .order_by("period_end", "period_start", "pk"))
        )
    )
    for indicator in indicators:
        _describe(indicator, list(indicator.actuals.all()))
    return indicators


def _describe(indicator: Indicator, actuals: list[IndicatorActual]) -> None:
    indicator.actual_list = actuals
    for actual in actuals:
        actual.value_text = number_text(actual.value)
    indicator.latest = actuals[-1] if actuals else None
    indicator.baseline_text = number_text(indicator.baseline_value)
    indicator.target_text = number_text(indicator.target_value)
    indicator.share = progress_share(indicator.baseline_value, indicator.target_value,
                                     indicator.latest.value if indicator.latest else None)
    indicator.percent = charts.percent(indicator.share)
    indicator.chart = progress_chart(indicator, actuals)


def chart_summary(indicator: Indicator, actuals: list[IndicatorActual]) -> str:
    """The chart's text alternative: baseline, target and every actual value, with their dates and the unit."""
    unit = indicator.unit
    parts = [
        _("Baseline %(value)s %(unit)s on %(date)s") % {
            "value": number_text(indicator.baseline_value), "unit": unit,
            "date": formats.date_format(indicator.baseline_on)},
        _("target %(value)s %(unit)s by %(date)s") % {
            "value": number_text(indicator.target_value), "unit": unit,
            "date": formats.date_format(indicator.target_on)},
    ]
    for actual in actuals:
        parts.append(_("actual %(value)s %(unit)s for the period ending %(date)s") % {
            "value": number_text(actual.value), "unit": unit, "date": formats.date_format(actual.period_end)})
    if not actuals:
        parts.append(_("no actual value recorded yet"))
    return "; ".join(parts) + "."


def progress_chart(indicator: Indicator, actuals: list[IndicatorActual]):
    return charts.progress_chart(
        baseline=(indicator.baseline_on, float(indicator.baseline_value)),
        target=(indicator.target_on, float(indicator.target_value)),
        actuals=[(a.period_end, float(a.value)) for a in actuals],
        title=_("Progress of %(name)s to its target") % {"name": indicator.name},
        description=chart_summary(indicator, actuals),
        labels={
            "baseline": number_text(indicator.baseline_value), "target": number_text(indicator.target_value),
            "latest": number_text(actuals[-1].value) if actuals else "",
        },
    )


def financing_of(agreement: Agreement, user, *, writes: bool | None = None) -> dict:
    """The agreement's financing: its lines by fiscal year (each with whether ``user`` may change it), the totals per
    year and for the whole agreement, beside its stated value. One query for the lines, and one for the access check
    unless ``writes`` (``access.can_write_agreement``) is given."""
    if writes is None:
        writes = access.can_write_agreement(user, agreement)
    lines = list(agreement.financing.select_related("region").order_by("fiscal_year", "region__code", "source"))
    years: dict[int, dict] = {}
    for line in lines:
        line.can_edit = access.may_write_financing_line(user, line.region_id, writes_agreement=writes)
        year = years.setdefault(line.fiscal_year, {"year": line.fiscal_year, "lines": [], "planned": 0,
                                                     "realised": 0})
        year["lines"].append(line)
        year["planned"] += line.planned_idr or 0
        year["realised"] += line.realised_idr or 0
    return {
        "financing_years": list(years.values()),
        "financing_total": {"planned": sum(line.planned_idr or 0 for line in lines),
                            "realised": sum(line.realised_idr or 0 for line in lines), "lines": len(lines)},
        "can_add_financing": writes,
    }


# --- reads: the register, the workbook, the region and affair pages ---------------------------------------------


def _line_sum(field: str):
    return Subquery(
        Financing.objects.filter(agreement=OuterRef("pk")).order_by().values("agreement")
        .annotate(total=Sum(field)).values("total")[:1],
        output_field=IntegerField(),
    )


def realised_sum():
    """The agreement's realised amount, summed over its lines (NULL without a line): for sorting the register."""
    return _line_sum("realised_idr")


def planned_sum():
    return _line_sum("planned_idr")


def financed_q() -> Exists:
    """The agreement has at least one financing line (the register's ``financed=yes``)."""
    return Exists(Financing.objects.filter(agreement=OuterRef("pk")))


def has_indicators_q() -> Exists:
    """The agreement has at least one outcome indicator (the register's ``has_indicators=yes``)."""
    return Exists(Indicator.objects.filter(agreement=OuterRef("pk")))


def sums_by_agreement(ids) -> dict[int, tuple[int, int]]:
    """{agreement id: (planned, realised)} summed over the lines of these agreements (one query); an agreement without
    a line is left out."""
    return {
        row["agreement_id"]: (row["planned"] or 0, row["realised"] or 0)
        for row in Financing.objects.filter(agreement_id__in=ids).order_by().values("agreement_id")
        .annotate(planned=Sum("planned_idr"), realised=Sum("realised_idr"))
    }


def financing_totals(agreements: QuerySet) -> dict:
    """Planned and realised, summed over every line of ``agreements`` (a queryset the user may see), and the number
    of agreements with a line: one query."""
    totals = Financing.objects.filter(agreement__in=agreements.values("pk")).aggregate(
        planned=Coalesce(Sum("planned_idr"), 0), realised=Coalesce(Sum("realised_idr"), 0),
        agreements=Count("agreement", distinct=True),
    )
    return totals


def indicators_for(agreements: QuerySet, limit: int = PAGE_INDICATORS) -> dict:
    """The indicators of ``agreements`` (the latest created first, up to ``limit``), each with its latest actual value
    against its target, and how many there are (counted over the rows before the limit: a window). One query
    whatever the number."""
    latest = IndicatorActual.objects.filter(indicator=OuterRef("pk")).order_by("-period_end", "-pk")
    rows = list(
        Indicator.objects.filter(agreement__in=agreements.values("pk")).select_related("agreement").annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_end=Subquery(latest.values("period_end")[:1]),
            total=Window(Count("pk")),
        ).order_by("-created_at", "-pk")[:limit]
    )
    count = rows[0].total if rows else 0
    for indicator in rows:
        indicator.baseline_text = number_text(indicator.baseline_value)
        indicator.target_text = number_text(indicator.target_value)
        indicator.latest_text = number_text(indicator.latest_value) if indicator.latest_value is not None else "—"
        indicator.share = progress_share(indicator.baseline_value, indicator.target_value, indicator.latest_value)
        indicator.percent = charts.percent(indicator.share)
    return {"indicators": rows, "indicator_count": count}


def scope_results(user, agreements: QuerySet, scope: dict) -> dict:
    """A region's, a province's or an affair's page: the indicators of its agreements and its financing totals, with
    the register links that list exactly what each counts (``scope``: the register's parameters for the page)."""
    from .selectors import register_url

    visible = access.agreements_visible_to(user, agreements)
    return {
        **indicators_for(visible),
        "financing": financing_totals(visible),
        "financing_url": register_url(**scope, financed="yes", sort="-realised"),
        "indicators_url": register_url(**scope, has_indicators="yes"),
    }


def region_agreements(region: Region) -> QuerySet:
    """The agreements a region is party to; for a province, those of the province or of one of its kabupaten/kota
    (the register's ``?province=``)."""
    from .regions import in_province_q

    own = in_province_q(region) if region.level == Region.Level.PROVINCE else Q(region=region)
    return Agreement.objects.filter(Exists(AgreementParty.objects.filter(own, agreement=OuterRef("pk"))))


def region_results(user, region: Region) -> dict:
    scope = {"province": region.code} if region.level == Region.Level.PROVINCE else {"region": region.code}
    return scope_results(user, region_agreements(region), scope)


def affair_results(user, affair) -> dict:
    return scope_results(user, Agreement.objects.filter(affairs=affair), {"affair": affair.code})
