"""Results of an agreement: its outcome indicators ("Indikator"), their actual values ("Catat capaian") and its
financing lines ("Pembiayaan").

Thin views: the access checks first (404 outside the user's scope, 403 for a user who may only read), then a form,
then a service of ``agreements.results``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, idempotency, results, stalls, uploads
from ..models import Agreement, Financing, Indicator
from ..results_forms import ActualForm, FinancingForm, IndicatorForm
from .common import FORM_MARGIN, body_limit, create_once
from .officer import _save_versioned


def _indicators_anchor(agreement) -> str:
    return f"{agreement.get_absolute_url()}#indicators-h"


def _financing_anchor(agreement) -> str:
    return f"{agreement.get_absolute_url()}#financing-h"


def _writable_agreement(user, pk) -> Agreement:
    agreement = access.get_agreement_for_user(user, pk)
    access.check_can_write_results(user, agreement)
    return agreement


def _indicator_for(user, pk, *, write: bool) -> Indicator:
    try:
        indicator = Indicator.objects.select_related("agreement").get(pk=pk)
    except (Indicator.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    access.get_agreement_for_user(user, indicator.agreement_id)
    if write:
        access.check_can_write_results(user, indicator.agreement)
    return indicator


def _line_for(user, pk) -> Financing:
    """The financing line: 404 outside the user's scope, 403 when the user may not change it."""
    try:
        line = Financing.objects.select_related("agreement", "region").get(pk=pk)
    except (Financing.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    access.get_agreement_for_user(user, line.agreement_id)
    writes = access.can_write_agreement(user, line.agreement)
    if not access.may_write_financing_line(user, line.region_id, writes_agreement=writes):
        raise PermissionDenied
    return line


# --- indicators -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def indicator_create(request, pk):
    agreement = _writable_agreement(request.user, pk)
    if agreement.document_type != Agreement.DocumentType.PKS:
        messages.error(request, _("Only a PKS has outcome indicators: a KB states intentions, its PKSs the results."))
        return redirect(agreement.get_absolute_url())
    if request.method == "POST":
        form = IndicatorForm(request.POST, agreement=agreement)
        if form.is_valid():
            response = create_once(
                request, form,
                lambda: results.indicator_save(user=request.user, agreement=agreement, **form.service_kwargs()),
                success=_("The indicator was added."), done=_indicators_anchor(agreement),
            )
            if response:
                return response
    else:
        form = IndicatorForm(agreement=agreement, initial={"baseline_on": stalls.today()})
    return render(request, "agreements/results/indicator_form.html", {
        "form": form, "agreement": agreement, "indicator": None, "back": _indicators_anchor(agreement),
        "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request, pk):
    indicator = _indicator_for(request.user, pk, write=True)
    agreement = indicator.agreement
    if request.method == "POST":
        form = IndicatorForm(request.POST, agreement=agreement)
        if form.is_valid():
            response, _current = _save_versioned(
                request, form,
                lambda: results.indicator_save(user=request.user, agreement=agreement, indicator=indicator,
                                               expected_version=form.cleaned_data["version"], **form.service_kwargs()),
                success=_("The indicator was saved."), done=_indicators_anchor(agreement),
            )
            if response:
                return response
    else:
        form = IndicatorForm(agreement=agreement, initial=IndicatorForm.initial_for(indicator))
    return render(request, "agreements/results/indicator_form.html", {
        "form": form, "agreement": agreement, "indicator": indicator, "back": _indicators_anchor(agreement),
    })


@body_limit(uploads.EVIDENCE_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def actual_create(request, pk):
    """"Catat capaian": an officer of a party (or ministry staff) records the value an indicator reached."""
    indicator = _indicator_for(request.user, pk, write=True)
    agreement = indicator.agreement
    if request.method == "POST":
        form = ActualForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: results.actual_record(
                    user=request.user, indicator=indicator, period_start=data["period_start"],
                    period_end=data["period_end"], value=data["value"], note=data["note"],
                    evidence=data["evidence"] or None,
                ),
                success=_("The actual value was recorded."), done=_indicators_anchor(agreement),
            )
            if response:
                return response
    else:
        form = ActualForm()
    actuals = list(indicator.actuals.order_by("-period_end", "-pk")[:5])
    for actual in actuals:
        actual.value_text = results.number_text(actual.value)
    return render(request, "agreements/results/actual_form.html", {
        "form": form, "indicator": indicator, "agreement": agreement, "back": _indicators_anchor(agreement),
        "baseline_text": results.number_text(indicator.baseline_value),
        "target_text": results.number_text(indicator.target_value), "actuals": actuals,
        "form_token": idempotency.issue_form_token(request),
        # A browser never sends a file again: after an error, say plainly that it must be chosen again.
        "evidence_dropped": request.FILES.get("evidence"),
    })


# --- financing ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def financing_create(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    if request.method == "POST":
        form = FinancingForm(request.POST, agreement=agreement, user=request.user)
        if form.is_valid():
            response = create_once(
                request, form,
                lambda: results.financing_save(user=request.user, agreement=agreement, **form.service_kwargs()),
                success=_("The financing line was added."), done=_financing_anchor(agreement),
            )
            if response:
                return response
    else:
        form = FinancingForm(agreement=agreement, user=request.user, initial={"fiscal_year": stalls.today().year})
    return render(request, "agreements/results/financing_form.html", {
        "form": form, "agreement": agreement, "line": None, "back": _financing_anchor(agreement),
        "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_http_methods(["GET", "POST"])
def financing_edit(request, pk):
    line = _line_for(request.user, pk)
    agreement = line.agreement
    if request.method == "POST":
        form = FinancingForm(request.POST, agreement=agreement, user=request.user)
        if form.is_valid():
            response, _current = _save_versioned(
                request, form,
                lambda: results.financing_save(user=request.user, agreement=agreement, line=line,
                                               expected_version=form.cleaned_data["version"], **form.service_kwargs()),
                success=_("The financing line was saved."), done=_financing_anchor(agreement),
            )
            if response:
                return response
    else:
        form = FinancingForm(agreement=agreement, user=request.user, initial=FinancingForm.initial_for(line))
    return render(request, "agreements/results/financing_form.html", {
        "form": form, "agreement": agreement, "line": line, "back": _financing_anchor(agreement),
    })


@login_required
@require_POST
def financing_delete(request, pk):
    line = _line_for(request.user, pk)
    agreement = line.agreement
    results.financing_delete(user=request.user, line=line)
    messages.success(request, _("The financing line was deleted."))
    return redirect(_financing_anchor(agreement))
