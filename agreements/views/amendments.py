"""Amendments (adendum) and renewals ("Perpanjang") of an agreement, from its page.

Thin views: the access helper first (404 outside the user's scope, 403 when the user may not write the agreement),
then a form, then a service (``services.amendment_create``; a renewal is the new agreement form, prefilled, saved by
``services.agreement_create(renews=...)``).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, idempotency, services, uploads
from ..forms import AmendmentForm
from .common import FORM_MARGIN, body_limit, create_once
from .officer import create_agreement_form


@body_limit(uploads.SCAN_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def amendment_create(request, pk):
    """Record an amendment: whoever may write the agreement (``access.can_write_agreement``)."""
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    if request.method == "POST":
        form = AmendmentForm(request.POST, request.FILES)
        if form.is_valid():
            response = create_once(
                request, form,
                lambda: services.amendment_create(agreement=agreement, user=request.user, **form.service_kwargs()),
                success=_("The amendment was recorded."), done=agreement.get_absolute_url(),
            )
            if response:
                return response
    else:
        form = AmendmentForm()
    return render(request, "agreements/officer/amendment_form.html", {
        "form": form, "agreement": agreement, "form_token": idempotency.issue_form_token(request),
        "document_dropped": request.FILES.get("document"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def agreement_renew(request, pk):
    """"Perpanjang": the new agreement form, prefilled from this one, whose save records it as the successor."""
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    if not access.can_renew(request.user, agreement):
        raise PermissionDenied
    return create_agreement_form(request, renews=agreement)
