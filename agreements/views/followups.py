"""Follow-ups (record on an agreement or a region, list a region's, download an attachment) and the
user's profile (language and reminder e-mails).

Thin views: the access checks in ``agreements.access`` (404 outside the user's scope, 403 for a
role that may not record), then a form, then the ``followup_record`` service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, forms, idempotency, services, stalls, uploads
from ..i18n import set_language_cookie
from ..models import FollowUp, Region
from .common import FORM_MARGIN, attachment_response, body_limit, create_once

REGION_FOLLOWUPS_SHOWN = 50


def _record(request, *, agreement=None, region=None, back: str):
    if request.method == "POST":
        form = forms.FollowUpForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: services.followup_record(
                    user=request.user, agreement=agreement, region=region, kind=data["kind"],
                    date=data["date"], note=data["note"], attachment=data["attachment"] or None,
                ),
                success=_("The follow-up was recorded."), done=back,
            )
            if response:
                return response
    else:
        form = forms.FollowUpForm(initial={"date": stalls.today()})
    return render(request, "agreements/followup_form.html", {
        "form": form, "agreement": agreement, "region": region, "back": back,
        "form_token": idempotency.issue_form_token(request),
    })


@body_limit(uploads.EVIDENCE_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def followup_create_for_agreement(request, pk):
    agreement = access.check_can_record_followup_on_agreement(request.user, pk)
    return _record(request, agreement=agreement, back=agreement.get_absolute_url())


@body_limit(uploads.EVIDENCE_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def followup_create_for_region(request, code):
    region = get_object_or_404(Region, code=code)
    access.check_can_record_followup_on_region(request.user, region)
    return _record(request, region=region, back=reverse("region-detail", args=[region.code]))


@login_required
def region_followups(request, code):
    """The follow-ups on a region (loaded into the region page by htmx; a page of its own without JS)."""
    region = get_object_or_404(Region, code=code)
    visible = access.can_see_region_followups(request.user, region)
    items = []
    if visible:
        items = list(
            FollowUp.objects.filter(region=region).select_related("recorded_by").order_by("-date", "-pk")
            [:REGION_FOLLOWUPS_SHOWN]
        )
    return render(request, "agreements/followup_region.html", {
        "region": region,
        "visible": visible,
        "followups": items,
        "can_record": visible and access.can_record_followups(request.user),
    })


@login_required
def followup_attachment(request, pk):
    """Only for users who may see the follow-up's agreement or region; always as an attachment."""
    followup = get_object_or_404(access.followups_visible_to(request.user).exclude(attachment=""), pk=pk)
    return attachment_response(
        followup.attachment, filename=followup.original_name or f"follow-up-{followup.pk}",
        content_type=followup.content_type,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """Language and reminder e-mails of the signed-in user."""
    if request.method == "POST":
        form = forms.ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            user = form.save(commit=False)
            user.save(update_fields=["language", "reminders_enabled"])
            translation.activate(user.language)
            messages.success(request, _("Your profile was saved."))
            response = redirect("profile")
            set_language_cookie(response, user.language)
            return response
    else:
        form = forms.ProfileForm(instance=request.user)
    return render(request, "agreements/followup_profile.html", {"form": form})
