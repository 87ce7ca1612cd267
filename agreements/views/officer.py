"""The regional officer's workflow: "My agreements", create and edit agreements, record the signing,
add milestones, update their status, upload and download documents.

Thin views: the access helper first (404 outside the user's scope, 403 when read-only), then a form,
then a service. A stale version (someone saved meanwhile) re-renders the form with what the user
typed and the newer values, and nothing is overwritten.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from .. import access, amendments, followups, forms, idempotency, obstacles, services, stalls, uploads
from ..forms import AgreementForm, DocumentForm, MilestoneUpdateForm, SignForm
from ..models import Document, Milestone, MilestoneUpdate, Region
from ..selectors import register_url
from .common import FORM_MARGIN, attachment_response, body_limit, create_once
from .proposals import my_proposals

MY_PAGE_SIZE = 25
ATTENTION_LIMIT = 50


def _save_versioned(request, form, save, *, success: str, done: str):
    """Run ``save()``, a service call with ``expected_version``. Returns ``(response, current)``: after a success
    the message and the redirect to ``done``; when someone saved meanwhile, no response and the newer record,
    the form keeping what the user typed but carrying the newer version, so that a deliberate resubmit can
    save; when the service refused, no response, with its errors on the form."""
    try:
        save()
    except services.StaleVersionError as exc:
        form.data = form.data.copy()
        form.data["version"] = exc.current.version
        form.add_error(None, _("Someone else saved this record while you were editing it. Nothing was saved. "
                               "Compare with the newer values below, then save again if yours should replace them."))
        return None, exc.current
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return None, None
    messages.success(request, success)
    return redirect(done), None


@login_required
def after_login(request):
    """Where LOGIN_REDIRECT_URL points: officers to their agreements, everyone else to the dashboard."""
    return redirect("my-agreements" if access.is_officer(request.user) else "home")


def _my_agreements(user):
    """The agreements the user acts on (officers: where their region is a party)."""
    return access.agreements_writable_by(user)


@login_required
def my_agreements(request):
    """The region's agreements, what needs attention first: overdue milestones, stalls, due in 30 days."""
    today = stalls.today()
    thresholds = stalls.Thresholds.current()
    soon = today + datetime.timedelta(days=followups.DUE_SOON_DAYS)
    mine = _my_agreements(request.user)
    open_milestones = Milestone.objects.filter(agreement=OuterRef("pk"), status__in=followups.OPEN_STATUSES)
    agreements = (
        stalls.with_status(mine, as_of=today, thresholds=thresholds)
        .annotate(
            has_overdue=Exists(open_milestones.filter(due_on__lt=today)),
            has_due_soon=Exists(open_milestones.filter(due_on__gte=today, due_on__lte=soon)),
            next_due=Subquery(open_milestones.filter(due_on__gte=today).order_by("due_on").values("due_on")[:1]),
        )
        .order_by("-has_overdue", "-is_stalled", "-has_due_soon", "next_due", "number")
    )
    page = Paginator(agreements, MY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Ending within 90 days of the end date in force (the rule of the dashboard's figure and the reminders).
    expiring_days = max(stalls.EXPIRY_WARNING_DAYS)
    expiring = list(
        stalls.with_status(mine, as_of=today, thresholds=thresholds)
        .filter(stalls.expiring_within_q(expiring_days, today))
        .order_by("ends_on_in_force", "number")[:ATTENTION_LIMIT]
    )
    for agreement in expiring:
        agreement.days_left = (agreement.ends_on_in_force - today).days
    # The same milestones the officer's reminder e-mail lists (agreements.followups, one rule).
    attention = list(followups.attention_milestones(mine, today)[:ATTENTION_LIMIT])
    for milestone in attention:
        milestone.is_overdue = milestone.due_on < today
    return render(request, "agreements/officer/my_agreements.html", {
        "page": page,
        "attention": attention,
        "today": today,
        "due_soon_days": followups.DUE_SOON_DAYS,
        "expiring": expiring,
        "expiring_days": expiring_days,
        # The same agreements in the register: an officer's own region as a party (what ``mine`` holds).
        "expiring_url": register_url(
            ([("region", request.user.region.code)] if access.is_officer(request.user) else [])
            + [("expiring_within", str(expiring_days))]
        ),
        "thresholds": thresholds,
        "can_create": access.is_national(request.user) or access.is_officer(request.user),
        **my_proposals(request.user),  # "Cooperation proposals": to answer, and those the region sent
        "open_obstacles": obstacles.open_for(request.user, mine, today),
    })


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    if not (access.is_national(request.user) or access.is_officer(request.user)):
        raise PermissionDenied
    return create_agreement_form(request)


def create_agreement_form(request, renews=None):
    """The new agreement form: blank, a PKS under its KB (``?parent=``), or the successor of ``renews``
    ("Perpanjang", ``views.amendments.agreement_renew``, which checked the user may renew it)."""
    if request.method == "POST":
        form = AgreementForm(request.POST, user=request.user)
        chosen = Region.objects.filter(pk__in=[v for v in request.POST.getlist("regions") if v.isdigit()])
        rows = forms.milestone_rows(request.POST, regions=chosen, add_row="add_row" in request.POST)
        # Both validated (``&``, not ``and``): every error of the form and of the rows shows at once.
        if "add_row" not in request.POST and form.is_valid() & rows.is_valid():
            row_forms, values = rows.rows()

            def write():
                try:
                    return services.agreement_create(user=request.user, milestones=values, renews=renews,
                                                     **form.service_kwargs())
                except services.MilestoneRowErrors as exc:
                    rows.add_row_errors(row_forms, exc.rows)
                    raise ValidationError(str(exc)) from exc

            response = create_once(
                request, form, write, success=_("The draft agreement was saved."),
                done=lambda a: a.get_absolute_url(), repeated="my-agreements",
            )
            if response:
                return response
        elif "add_row" in request.POST:
            form.errors.clear()  # "Add row" is not a save: the form comes back as typed, without errors
    else:
        initial = {"regions": [request.user.region]} if access.is_officer(request.user) else {}
        parent = _kb_to_follow_up(request)
        if renews is not None:
            initial = AgreementForm.initial_for_renewal(renews)
        elif parent is not None:
            initial = AgreementForm.initial_for_pks_under(parent)
        form = AgreementForm(initial=initial, user=request.user)
        rows = forms.milestone_rows(regions=Region.objects.filter(pk__in=[r.pk for r in initial.get("regions", [])]))
    return render(request, "agreements/officer/agreement_form.html", {
        "form": form, "agreement": None, "rows": rows, "form_token": idempotency.issue_form_token(request),
        "renews": renews,
    })


def _kb_to_follow_up(request):
    """``?parent=<pk>``: the signed KB a new PKS follows up, when the user may write it (else no pre-filling). A KB
    renewed since: its successor, where new PKSs go (when the user may write it)."""
    try:
        kb = access.get_agreement_for_user(request.user, request.GET.get("parent") or "", write=True)
    except (Http404, PermissionDenied):
        return None
    if kb.document_type != kb.DocumentType.KB or not kb.signed_on:
        return None
    successor = amendments.successor_of(kb)
    if successor is not None:
        return successor if access.can_write_agreement(request.user, successor) else None
    return kb


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    current = None
    if request.method == "POST":
        form = AgreementForm(request.POST, user=request.user, editing=True, agreement=agreement)
        if form.is_valid():
            response, current = _save_versioned(
                request, form,
                lambda: services.agreement_update(
                    agreement=agreement, user=request.user, expected_version=form.cleaned_data["version"],
                    **form.service_kwargs(),
                ),
                success=_("The agreement was saved."), done=agreement.get_absolute_url(),
            )
            if response:
                return response
    else:
        form = AgreementForm(initial=AgreementForm.initial_for(agreement), user=request.user, editing=True,
                             agreement=agreement)
    return render(request, "agreements/officer/agreement_form.html", {
        "form": form, "agreement": agreement, "current": current,
        "current_initial": AgreementForm.initial_for(current) if current else None,
    })


@body_limit(uploads.SCAN_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def agreement_sign(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    current = None
    if request.method == "POST":
        form = SignForm(request.POST, request.FILES)
        if form.is_valid():
            response, current = _save_versioned(
                request, form,
                lambda: services.agreement_sign(
                    agreement=agreement, user=request.user, signed_on=form.cleaned_data["signed_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    document=form.cleaned_data["document"], expected_version=form.cleaned_data["version"],
                ),
                success=_("The signing was recorded."), done=agreement.get_absolute_url(),
            )
            if response:
                return response
    else:
        form = SignForm(initial={"signed_on": agreement.signed_on, "ends_on": agreement.ends_on,
                                 "version": agreement.version})
    return render(request, "agreements/officer/sign_form.html", {"form": form, "agreement": agreement,
                                                                  "current": current})


@login_required
@require_http_methods(["GET", "POST"])
def milestone_create(request, pk):
    """Add milestones: a table of rows (title, responsible party, due date), saved together or not at all."""
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    parties = Region.objects.filter(parties__agreement=agreement).order_by("code")
    summary = forms.forms.Form(data={})  # where a refusal of the whole table is said, above the rows
    summary.is_valid()
    if request.method == "POST":
        add_row = "add_row" in request.POST
        rows = forms.milestone_rows(request.POST, regions=parties, add_row=add_row)
        if not add_row and rows.is_valid():
            row_forms, values = rows.rows()
            if not values:
                summary.add_error(None, _("Fill in at least one milestone."))
            else:
                def write():
                    try:
                        return services.milestones_create(agreement=agreement, user=request.user, rows=values)
                    except services.MilestoneRowErrors as exc:
                        rows.add_row_errors(row_forms, exc.rows)
                        raise ValidationError(str(exc)) from exc

                response = create_once(
                    request, summary, write, done=agreement.get_absolute_url(),
                    success=lambda created: ngettext("%(count)s milestone was added.", "%(count)s milestones were added.",
                                                     len(created)) % {"count": len(created)},
                )
                if response:
                    return response
    else:
        rows = forms.milestone_rows(regions=parties)
    return render(request, "agreements/officer/milestone_form.html", {
        "rows": rows, "summary": summary, "agreement": agreement, "form_token": idempotency.issue_form_token(request),
    })


@body_limit(uploads.EVIDENCE_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def milestone_update(request, pk):
    milestone = access.get_milestone_for_user(request.user, pk, write=True)
    agreement = milestone.agreement
    current = None
    if request.method == "POST":
        form = MilestoneUpdateForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            response, current = _save_versioned(
                request, form,
                lambda: services.milestone_update_status(
                    milestone=milestone, user=request.user, status=data["status"], progress=data["progress"],
                    started_on=data["started_on"], completed_on=data["completed_on"], note=data["note"],
                    evidence=data["evidence"] or None, expected_version=data["version"],
                ),
                success=_("The milestone was updated."), done=agreement.get_absolute_url(),
            )
            if response:
                return response
    else:
        form = MilestoneUpdateForm(initial=MilestoneUpdateForm.initial_for(milestone))
    last_update = None
    if current is not None:
        last_update = MilestoneUpdate.objects.filter(milestone=current).select_related("user").first()
    updates = list(milestone.updates.select_related("user")[:10])
    return render(request, "agreements/officer/milestone_update.html", {
        "form": form, "milestone": milestone, "agreement": agreement, "current": current,
        "last_update": last_update, "updates": updates,
        # A browser never sends a file again: after an error, say plainly that it must be chosen again.
        "evidence_dropped": request.FILES.get("evidence"),
    })


@body_limit(uploads.SCAN_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request, pk):
    agreement = access.get_agreement_for_user(request.user, pk, write=True)
    if request.method == "POST":
        form = DocumentForm(request.POST, request.FILES, agreement=agreement)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: services.document_upload(
                    agreement=agreement, user=request.user, uploaded=data["file"], doc_type=data["doc_type"],
                    milestone=data["milestone"], dated_on=data["dated_on"],
                ),
                success=_("The document was uploaded."), done=agreement.get_absolute_url(),
            )
            if response:
                return response
    else:
        form = DocumentForm(agreement=agreement)
    return render(request, "agreements/officer/document_form.html", {
        "form": form, "agreement": agreement, "form_token": idempotency.issue_form_token(request),
    })


@login_required
def document_download(request, pk):
    """Only for users who may see the agreement; always as an attachment, with the checked content type."""
    document = get_object_or_404(Document, pk=pk)
    access.get_agreement_for_user(request.user, document.agreement_id)
    return attachment_response(
        document.file, filename=document.original_name or f"document-{document.pk}",
        content_type=document.content_type,
    )

