"""Obstacles (kendala) on an agreement: record one, mark one resolved.

Thin views: the access checks in ``agreements.access`` (404 outside the user's scope, 403 for a user who may not
record obstacles on the agreement), then a form, then the ``obstacle_record`` / ``obstacle_resolve`` service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, forms, idempotency, services, stalls
from .common import create_once


def _back(agreement) -> str:
    return f"{agreement.get_absolute_url()}#obstacles-h"


@login_required
@require_http_methods(["GET", "POST"])
def obstacle_create(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk)
    access.check_can_record_obstacle(request.user, agreement)
    if request.method == "POST":
        form = forms.ObstacleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: services.obstacle_record(
                    user=request.user, agreement=agreement, category=data["category"],
                    description=data["description"], raised_on=data["raised_on"],
                ),
                success=_("The obstacle was recorded."), done=_back(agreement),
            )
            if response:
                return response
    else:
        form = forms.ObstacleForm(initial={"raised_on": stalls.today()})
    return render(request, "agreements/obstacle_form.html", {
        "form": form, "agreement": agreement, "back": _back(agreement), "resolving": None,
        "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_http_methods(["GET", "POST"])
def obstacle_resolve(request, pk):
    obstacle = access.get_obstacle_for_user(request.user, pk, write=True)
    agreement = obstacle.agreement
    if obstacle.resolved_on is not None and request.method == "GET":
        messages.info(request, _("This obstacle was already marked resolved."))
        return redirect(_back(agreement))
    if request.method == "POST":
        form = forms.ObstacleResolveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.obstacle_resolve(user=request.user, obstacle=obstacle, resolved_on=data["resolved_on"],
                                          resolution=data["resolution"])
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, _("The obstacle was marked resolved."))
                return redirect(_back(agreement))
    else:
        form = forms.ObstacleResolveForm(initial={"resolved_on": stalls.today()})
    return render(request, "agreements/obstacle_form.html", {
        "form": form, "agreement": agreement, "back": _back(agreement), "resolving": obstacle,
    })
