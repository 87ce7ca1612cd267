"""Open data from the signed-in side: publishing agreements (one, or the register's filtered list), choosing which
documents are public, and each user's personal API tokens on the profile page. Every change goes through
``publication`` or ``api.tokens``; who may publish is ``access.can_publish``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from .. import access, publication
from ..api import tokens
from ..models import Document
from .register import _filterset, _query


@login_required
@require_POST
def agreement_publish(request, pk):
    """Publish or withdraw one agreement (``action`` = ``publish`` or ``unpublish``)."""
    agreement = access.get_agreement_for_user(request.user, pk)
    access.check_can_publish(request.user)
    try:
        if request.POST.get("action") == "unpublish":
            publication.unpublish([agreement], user=request.user)
            messages.success(request, _("The agreement was withdrawn from the public page."))
        else:
            publication.publish([agreement], user=request.user)
            messages.success(request, _("The agreement is published on the public page."))
    except ValidationError as error:
        messages.error(request, publication.refusal_message(error))
    return redirect("agreement-detail", pk=agreement.pk)


@login_required
def agreement_publish_list(request):
    """The register's filtered list (its query string): a confirmation with the counts, then publish or withdraw."""
    access.check_can_publish(request.user)
    filterset = _filterset(request)
    queryset = filterset.qs
    back = reverse("agreement-list") + (f"?{_query(request, page=None)}" if request.GET else "")
    if request.method == "POST":
        try:
            if request.POST.get("action") == "unpublish":
                count = publication.unpublish(queryset, user=request.user)
                messages.success(request, ngettext("%(count)d agreement was withdrawn from the public page.",
                                                   "%(count)d agreements were withdrawn from the public page.",
                                                   count) % {"count": count})
            else:
                count = publication.publish(queryset, user=request.user)
                messages.success(request, ngettext("%(count)d agreement was published.",
                                                   "%(count)d agreements were published.", count) % {"count": count})
            return redirect(back)
        except ValidationError as error:
            messages.error(request, publication.refusal_message(error))
    counts = {
        "total": queryset.count(),
        "unsigned": queryset.filter(signed_on__isnull=True).count(),
        "published": queryset.filter(published_at__isnull=False).count(),
    }
    return render(request, "agreements/publish_list.html", {
        "counts": counts, "applied_filters": filterset.applied(), "query": _query(request, page=None), "back": back,
    })


@login_required
@require_POST
def document_public(request, pk):
    """Make one document public or not (``public`` = ``1`` or ``0``)."""
    document = get_object_or_404(Document, pk=pk)
    access.get_agreement_for_user(request.user, document.agreement_id)
    access.check_can_publish(request.user)
    public = request.POST.get("public") == "1"
    publication.set_document_public(document, public=public, user=request.user)
    messages.success(request, _("The document is public.") if public else _("The document is no longer public."))
    return redirect(reverse("agreement-detail", args=[document.agreement_id]) + "#publication-h")


@login_required
@require_POST
def api_token_create(request):
    """A new personal token: its key is shown on this page once, and never again."""
    try:
        token, key = tokens.create(user=request.user, name=request.POST.get("name", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("profile") + "#api-tokens-h")
    response = render(request, "agreements/api_token_created.html", {"token": token, "key": key})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = tokens.revoke(user=request.user, pk=pk)
    if token is None:
        messages.error(request, _("No such token."))
    else:
        messages.success(request, _("The token %(name)s was revoked.") % {"name": token.name})
    return redirect(reverse("profile") + "#api-tokens-h")
