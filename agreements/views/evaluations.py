"""The semester evaluation (monev) of a PKS: a party's questionnaire and the ministry's conclusion.

Thin views: the agreement through ``access`` (404 outside the user's scope), the semester from ``?year=&semester=``
(404 when malformed or not one this PKS can be evaluated for), 403 for a user who may not answer (conclude), then the
form and the service in ``agreements.evaluations``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, evaluations, idempotency, stalls, uploads
from .. import forms as app_forms
from ..evaluation_forms import ConclusionForm, EvaluationForm, SemesterParamsForm
from ..models import AgreementParty, Evaluation, EvaluationConclusion
from .common import FORM_MARGIN, body_limit, create_once


def _back(agreement) -> str:
    return f"{agreement.get_absolute_url()}#evaluations-h"


def _semester(request, agreement) -> evaluations.Semester:
    """The semester of the URL (default: the last completed one); 404 when malformed or not allowed."""
    today = stalls.today()
    if "year" not in request.GET and "semester" not in request.GET:
        semester = evaluations.last_completed_semester(today)
    else:
        params = SemesterParamsForm(request.GET)
        if not params.is_valid():
            raise Http404
        semester = params.semester_value()
    if not evaluations.allowed_semester(agreement, semester, today):
        raise Http404
    return semester


@body_limit(uploads.EVIDENCE_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def evaluation_create(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk)
    if not evaluations.may_evaluate(request.user, agreement, request.user.region_id):
        raise PermissionDenied
    semester = _semester(request, agreement)
    region = AgreementParty.objects.select_related("region").get(
        agreement=agreement, region_id=request.user.region_id).region
    if Evaluation.objects.filter(agreement=agreement, region=region, year=semester.year,
                                 semester=semester.half).exists() and request.method == "GET":
        messages.info(request, _("Your region has already evaluated this agreement for this semester."))
        return redirect(_back(agreement))
    questions = evaluations.active_questions()
    if request.method == "POST":
        form = EvaluationForm(request.POST, request.FILES, questions=questions)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: evaluations.evaluation_submit(
                    user=request.user, agreement=agreement, region=region, semester=semester,
                    recommendation=data["recommendation"], note=data["note"], answers=form.answers(),
                    evidence=data.get("evidence"),
                ),
                success=_("The evaluation was recorded."), done=_back(agreement),
            )
            if response:
                return response
    else:
        form = EvaluationForm(questions=questions)
    return render(request, "agreements/evaluation_form.html", {
        "form": form, "agreement": agreement, "region": region, "semester": semester, "back": _back(agreement),
        "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_http_methods(["GET", "POST"])
def conclusion_edit(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk)
    if not evaluations.may_conclude(request.user):
        raise PermissionDenied
    semester = _semester(request, agreement)
    current = EvaluationConclusion.objects.filter(agreement=agreement, year=semester.year,
                                                  semester=semester.half).first()
    if request.method == "POST":
        form = ConclusionForm(request.POST)
        if form.is_valid():
            try:
                evaluations.conclusion_save(user=request.user, agreement=agreement, semester=semester,
                                            text=form.cleaned_data["text"])
            except ValidationError as exc:
                app_forms.add_service_errors(form, exc)
            else:
                messages.success(request, _("The conclusion was saved."))
                return redirect(_back(agreement))
    else:
        form = ConclusionForm(initial={"text": current.text if current else ""})
    return render(request, "agreements/conclusion_form.html", {
        "form": form, "agreement": agreement, "semester": semester, "back": _back(agreement), "current": current,
        "answers": [e for e in Evaluation.objects.filter(agreement=agreement, year=semester.year,
                                                          semester=semester.half)
                    .select_related("region").prefetch_related("answers")],
    })
