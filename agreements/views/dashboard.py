"""The national dashboard at ``/``: which agreements stalled at signing, where, and for how long."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import access, charts, dashboard
from ..filters import DASHBOARD_FILTERS, AgreementFilter


@login_required
def home(request):
    # The dashboard's filters are a subset of the list's, applied by the same FilterSet to the same
    # visible agreements, so each figure's link (these filters plus the figure's own parameters)
    # shows exactly the agreements it counts.
    data = request.GET.copy()
    for key in list(data.keys()):
        if key not in DASHBOARD_FILTERS:
            del data[key]
    visible = access.agreements_visible_to(request.user)
    filterset = AgreementFilter(data=data, queryset=visible, request=request)
    qs = filterset.qs
    as_of, thresholds = filterset.as_of, filterset.thresholds
    # Only the parameters that were applied (a malformed one is reported on the form, not applied).
    applied = {k for k, v in filterset.form.cleaned_data.items() if v not in (None, "", [])}
    base_params = [(k, v) for k in DASHBOARD_FILTERS if k in applied for v in data.getlist(k) if v]

    def without(key):
        """The same filters but ``key``: a breakdown by province (or affair) shows every province
        (affair), each linking to the list with its own value in place of the filter's."""
        rest = data.copy()
        rest.pop(key, None)
        return AgreementFilter(data=rest, queryset=visible, request=request, thresholds=thresholds).qs

    provinces = dashboard.by_province(without("province"))
    pipeline = dashboard.pipeline(qs)
    summary = dashboard.stall_summary(qs, as_of, thresholds)
    affairs = dashboard.by_affair(without("affair"))
    years = dashboard.by_signing_year(qs)
    context = {
        "filterset": filterset,
        "as_of": as_of,
        "thresholds": thresholds,
        "base_params": base_params,
        "pipeline": pipeline,
        "summary": summary,
        "provinces": provinces,
        "affairs": affairs,
        "years": years,
        "longest": dashboard.longest_stalled(qs, as_of),
        "followups": dashboard.followup_summary(qs, as_of),
        "tile_map": charts.tile_map(
            [
                charts.Tile(
                    code=row["province"].code,
                    label=row["province"].name,
                    col=row["tile"][0],
                    row=row["tile"][1],
                    value=row["stalled"].value,
                    share=row["share"],
                    href=dashboard.list_href(base_params, row["stalled"]),
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
                    href=dashboard.list_href(base_params, row["total"]),
                    stalled=row["stalled"].value,
                )
                for row in pipeline
            ],
            title=str(_("Agreements by stage (stalled in brackets)")),
        ),
    }
    return render(request, "agreements/dashboard.html", context)
