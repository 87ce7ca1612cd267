"""The national dashboard at ``/``: which agreements stalled at signing, where, and for how long."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from .. import access, dashboard, datacache, evaluations, guidance, reports, stalls
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

    applied_values = filterset.form.cleaned_data

    def figures():
        return {
            "proposals_waiting": dashboard.proposals_waiting(
                access.proposals_visible_to(request.user), as_of,
                province=applied_values.get("province"), affair=applied_values.get("affair"),
            ),
            "unguided": guidance.unguided_figure(qs, as_of, base_params),
            "evaluation": evaluations.dashboard_figures(qs, request.user, as_of, base_params),  # monev
            # Periodic reports: the completeness of the semester being reported now, scoped to the user.
            "reporting": reports.dashboard_figure(request.user, province=applied_values.get("province")),
            **dashboard.figures(
                qs, as_of=as_of, thresholds=thresholds, base_params=base_params,
                province_qs=without("province"), affair_qs=without("affair"),
            ),
        }

    context = {
        # Agreements in force with no end date: for ministry staff to have completed.
        "show_no_end_date": access.is_national(request.user),
        "scope_name": access.scope_name(request.user),  # the title says what the figures cover
        "as_of": as_of,
        "thresholds": thresholds,
        "base_params": base_params,
    }

    def figures_and_html():
        values = figures()
        html = render_to_string("agreements/includes/dashboard_figures.html", {**context, **values})
        return {**values, "figures_html": html}

    # Every figure, and their HTML, computed once per data version for everyone who sees the same agreements with the
    # same filters, as-of date, thresholds and language (``datacache``).
    context.update(datacache.cached(
        "dashboard",
        (access.visibility_key(request.user), base_params, as_of, thresholds.key(), get_language(), stalls.today()),
        figures_and_html,
    ))
    return render(request, "agreements/dashboard.html", {**context, "filterset": filterset})
