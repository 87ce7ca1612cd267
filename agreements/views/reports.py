"""Periodic reports: the index by period (``/reports/``) and a region's report for a period
(``/reports/<code>/<period>/``, ``?format=xlsx|pdf``) with its narratives, submission and return.

Thin views: ``access.report_access`` decides (404 outside the user's reach, 403 for a reader who writes), the
figures come from ``reports``, the changes go through ``reports.save_narrative``, ``submit`` and ``return_report``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, datacache, report_formats, reports
from ..models import Region, Report
from ..regions import regions_in_province_q

MAX_POST_KEYS = 1200


def _period_choices(selected):
    periods = reports.recent_periods()
    if selected not in periods:
        periods.insert(0, selected)
    return [{"code": p.code, "label": p.label, "selected": p == selected} for p in periods]


@login_required
@require_http_methods(["GET"])
def report_index(request):
    """The reports a user may see for one period (default: the semester being reported now): their own region's
    for every recent period; a province officer's kabupaten/kota; ministry staff every region, filtered by
    province and state."""
    user = request.user
    try:
        period = reports.parse_period(request.GET.get("period") or reports.reporting_period().code)
    except ValueError:
        period = reports.reporting_period()
    due_days = reports.ReportSettings.current().due_days
    due_on = period.due_on(due_days)
    today = reports.stalls.today()
    context = {"period": period, "periods": _period_choices(period), "due_on": due_on,
               "state_labels": [(s, reports.STATE_LABELS[s]) for s in reports.STATE_ORDER]}

    own = None
    if access.is_officer(user) and user.region.is_autonomous:
        own_periods = reports.recent_periods()
        existing = {r.period: r for r in Report.objects.filter(region=user.region,
                                                               period__in=[p.code for p in own_periods])}
        own = []
        for p in own_periods:
            report = existing.get(p.code)
            state = reports.state_of(report, p.due_on(due_days), today)
            own.append({"period": p, "report": report, "state": state, "state_label": reports.STATE_LABELS[state],
                        "due_on": p.due_on(due_days),
                        "status_label": report.get_status_display() if report else _("Not started")})
    context["own"] = own

    regions = None
    province = state = None
    if access.is_national(user):
        regions = reports.reporting_regions()
        code = request.GET.get("province", "")[:8]
        province = Region.objects.filter(code=code, level=Region.Level.PROVINCE).first() if code else None
        if province is not None:
            regions = regions.filter(regions_in_province_q(province))
        context["provinces"] = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    elif access.is_officer(user) and user.role == user.Role.PROVINCE:
        regions = reports.reporting_regions().filter(province=user.region)
        province = user.region
    national = access.is_national(user)
    if regions is not None:
        state = request.GET.get("state", "")
        state = state if state in reports.STATE_LABELS else ""

        def states():
            rows = reports.region_states(period, regions, today=today, due_on=due_on)
            shown = [row for row in rows if row["state"] == state] if state else rows
            html = render_to_string("agreements/reports/states_table.html",
                                    {"rows": shown, "period": period, "national": national})
            return {"counts": reports.count_states(rows), "rows": shown, "states_table": html}

        # Every region's state and their table, once per data version for everyone who sees the same regions
        # (``datacache``): the national list has 552 rows.
        context.update(datacache.cached(
            "report-states",
            (access.visibility_key(user), period.code, province.pk if province else None, state, today,
             get_language()),
            states,
        ))
    context.update(province=province, state=state, national=national)
    return render(request, "agreements/reports/index.html", context)


def _narrative_from_post(post) -> dict:
    if len(post) > MAX_POST_KEYS:
        raise ValidationError(_("Too many fields."))
    sections = {key: post.get(f"section-{key}", "") for key in reports.SECTION_KEYS if f"section-{key}" in post}
    stalled = {name[len("stalled-"):]: value for name, value in post.items() if name.startswith("stalled-")}
    return {"sections": sections, "stalled": stalled}


def _version(post) -> int:
    value = post.get("version", "")
    if not value.isdigit() or len(value) > 9:
        raise ValidationError(_("The form is out of date: reload the page."))
    return int(value)


def _meta(region, period, report, data, due_on) -> list[tuple[str, object]]:
    meta = [
        (_("Region"), f"{region.code} {region.name}"),
        (_("Period"), period.label),
        (_("Figures as of"), report_formats._date(data["as_of"])),
        (_("Due date"), due_on),
        (_("Status"), report.get_status_display() if report else str(Report.Status.DRAFT.label)),
    ]
    if report and report.submitted_at and report.status == Report.Status.SUBMITTED:
        who = report.submitted_by.get_full_name() or report.submitted_by.get_username() if report.submitted_by else ""
        meta.append((_("Submitted"), f"{formats.date_format(report.submitted_at, 'SHORT_DATETIME_FORMAT')} {who}"))
    if data.get("nil"):
        meta.append((_("Nil report"), _("The region had no agreement as of the period's end.")))
    return meta


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request, code, period):
    user = request.user
    period = reports.period_or_404(period)
    region, level = reports.get_report_region(user, code)
    report = Report.objects.filter(region=region, period=period.code).select_related(
        "submitted_by", "returned_by").first()
    may_return = access.may_return_report(user, region)
    due_on = period.due_on()

    error, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "return":
            if not may_return:
                raise PermissionDenied
        elif level != access.REPORT_WRITE:
            raise PermissionDenied
        try:
            version = _version(request.POST)
            if action == "save":
                reports.save_narrative(user=user, region=region, period=period,
                                       narrative=_narrative_from_post(request.POST), expected_version=version)
                messages.success(request, _("The narratives were saved."))
            elif action == "submit":
                reports.submit(user=user, region=region, period=period, expected_version=version,
                               narrative=_narrative_from_post(request.POST))
                messages.success(request, _("The report was submitted."))
            elif action == "return":
                reports.return_report(user=user, region=region, period=period,
                                      comment=request.POST.get("comment", ""), expected_version=version)
                messages.success(request, _("The report was returned for correction."))
            else:
                raise ValidationError(_("Unknown action."))
            return redirect(reverse("report-detail", args=[region.code, period.code]))
        except reports.StaleReportError as exc:
            error, status = str(exc), 409
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 400
        report = Report.objects.filter(region=region, period=period.code).select_related(
            "submitted_by", "returned_by").first()

    frozen = report is not None and report.status == Report.Status.SUBMITTED and report.snapshot
    narrative = (report.narrative if report else {}) or {}
    title = _("Cooperation report of %(region)s, %(period)s") % {"region": region.name, "period": period.label}

    def figures() -> dict:
        # A draft's figures are computed from the register as of the period's end: once per data version.
        return report.snapshot if frozen else datacache.cached(
            "report-figures", (region.pk, period.code, get_language(), reports.stalls.today()),
            lambda: reports.figures(region, period))

    fmt = request.GET.get("format", "")
    if request.method == "GET" and fmt in ("xlsx", "pdf"):
        data = figures()
        sections, meta = report_formats.layout(data, narrative), _meta(region, period, report, data, due_on)
        filename = f"laporan-{region.code}-{period.code}.{fmt}"
        if fmt == "xlsx":
            body = report_formats.write_xlsx(meta, sections)
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body = report_formats.write_pdf(title, meta, sections)
            content_type = "application/pdf"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    state = reports.state_of(report, due_on, reports.stalls.today())
    versions = list(report.versions.select_related("submitted_by", "returned_by").order_by("-number")) if report else []
    editable = level == access.REPORT_WRITE and not frozen
    context = {
        "region": region, "period": period, "report": report,
        "title": title, "editable": editable, "can_submit": editable and period.has_ended(),
        "can_return": may_return and bool(frozen), "versions": versions, "state": state,
        "state_label": reports.STATE_LABELS[state], "due_on": due_on, "error": error, "frozen": frozen,
        "version": report.version if report else 1, "level": level,
        "narrative_max": reports.NARRATIVE_MAX_CHARS, "comment_max": reports.COMMENT_MAX_CHARS,
    }

    def page() -> dict:
        data = figures()
        sections = report_formats.layout(data, narrative)
        return {"meta": _meta(region, period, report, data, due_on),
                "sections_html": render_to_string("agreements/reports/sections.html", {**context, "sections": sections})}

    # The sections (a region's every agreement at national scale) and the facts above them, rendered once per data
    # version for the same report, language and editability (``datacache``): a cached page reads neither the figures
    # nor their layout, so it costs the same whatever the region's size. A refused POST shows what was stored.
    context.update(datacache.cached(
        "report-page",
        (region.pk, period.code, bool(frozen), editable, report.version if report else 0, get_language(),
         reports.stalls.today()), page))
    return render(request, "agreements/reports/detail.html", context, status=status)
