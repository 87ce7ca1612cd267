"""The regulated steps (tahapan) on the agreement page: the checklist, the next step in plain words, and the small
forms with which an officer who may write the agreement marks a step done, not applicable, or undoes it.

Thin: ``access`` first (404 outside the user's scope, 403 for a user who may only read), then ``StepForm``, then the
services (``services.step_mark_done``, ``step_mark_not_applicable``, ``step_reset``). A form shown before someone
else changed the step is refused (its ``token``), and the step page says what the step is now.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, forms, guidance, services, stalls, steps
from ..forms import StepForm
from ..models import AgreementStep


def step_panel(agreement, parties, documents, *, can_write: bool, third_parties) -> dict:
    """What the agreement page shows of the steps: the checklist (each step with its state, who and when, its
    document, and the token its forms send back) and the next step. ``parties`` (with their regions), ``documents``
    and ``third_parties`` are the page's, already loaded; ``can_write``: whether the user may write the agreement.
    A fixed number of queries whatever the number of steps: the steps, and at most two for the next step (the
    accepted proposal, the guidance pages, which are cached)."""
    rows = list(agreement.steps.select_related("done_by", "document").order_by("order", "pk"))
    next_step = steps.next_step(agreement, steps=rows, parties=parties, third_parties=third_parties,
                                can_write=can_write)
    for row in rows:
        row.token = services.step_token(row)
        row.by_hand = steps.is_by_hand(row)
        row.is_next = next_step is not None and row.pk == next_step.step.pk
        row.guidance_url = guidance.guidance_url_for_step(row.code, row.phase)
    return {
        "steps": rows,
        "next_step": next_step,
        "step_documents": documents,
        "can_mark_steps": can_write,
        "today": stalls.today(),
    }


def _step_for_writer(user, pk) -> AgreementStep:
    try:
        step = AgreementStep.objects.select_related("agreement", "done_by", "document").get(pk=pk)
    except (AgreementStep.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    access.get_agreement_for_user(user, step.agreement_id, write=True)
    return step


@login_required
@require_http_methods(["GET", "POST"])
def step_update(request, pk):
    """``/steps/<id>/``: the step with its forms (the agreement page posts here); after a save, back to the
    agreement's checklist with a message."""
    step = _step_for_writer(request.user, pk)
    agreement = step.agreement
    if request.method == "POST":
        form = StepForm(request.POST, agreement=agreement)
        if form.is_valid():
            data = form.cleaned_data
            expected = data["token"] or None
            try:
                if data["action"] == StepForm.DONE:
                    services.step_mark_done(step=step, user=request.user, done_on=data["done_on"],
                                            document=data["document"], expected=expected)
                    message = _("The step “%(title)s” was marked done.")
                elif data["action"] == StepForm.NOT_APPLICABLE:
                    services.step_mark_not_applicable(step=step, user=request.user, reason=data["reason"],
                                                      expected=expected)
                    message = _("The step “%(title)s” was marked not applicable.")
                else:
                    services.step_reset(step=step, user=request.user, expected=expected)
                    message = _("What was recorded on the step “%(title)s” was undone.")
            except services.StaleVersionError as exc:
                step = AgreementStep.objects.select_related("agreement", "done_by", "document").get(pk=exc.current.pk)
                form.add_error(None, _("Someone else changed this step while you were looking at it. Nothing was "
                                       "saved. It is shown below as it is now; record it again if needed."))
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, message % {"title": step.title})
                return redirect(f"{agreement.get_absolute_url()}#step-{step.pk}")
    else:
        form = StepForm(agreement=agreement, initial={"done_on": step.done_on or stalls.today()})
    step.token, step.by_hand = services.step_token(step), steps.is_by_hand(step)
    typed = form.data if form.is_bound else {}
    return render(request, "agreements/step_form.html", {
        "step": step, "agreement": agreement, "form": form,
        "guidance_url": guidance.guidance_url_for_step(step.code, step.phase),
        "step_documents": list(agreement.documents.all()), "today": stalls.today(),
        # What the user typed comes back after an error (the include fills the fields from these).
        "done_on_value": form.cleaned_data.get("done_on") if form.is_bound and hasattr(form, "cleaned_data") else None,
        "reason_value": typed.get("reason", ""),
    })
