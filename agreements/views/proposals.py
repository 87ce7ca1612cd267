"""Cooperation proposals ("Ajukan kerja sama" / "Ajakan kerja sama"): propose from a partner suggestion, answer on
"My agreements" or the proposal's page, and the list the region pages and the dashboard link to.

Thin views: ``access`` decides who may see (404 otherwise), propose and answer (403 otherwise); the rules and the
state changes are in ``services.proposal_create``, ``proposal_accept`` and ``proposal_decline``.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Q, Value, When
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import access, forms, idempotency, regions, services, stalls
from ..models import PROPOSAL_WAITING_DAYS, GovernmentAffair, NeedOffer, Proposal, Region
from .common import create_once

PAGE_SIZE = 25
MY_LIMIT = 60
RELATED = ("proposing_region", "partner_region", "affair", "need_offer", "agreement", "created_by", "answered_by")


def my_proposals(user) -> dict:
    """The "Cooperation proposals" section of /my/: proposals to the officer's region waiting for an answer, then
    the latest it sent; one query (none for users who neither propose nor answer), at most ``MY_LIMIT`` rows."""
    region = access.proposal_region_for(user)
    if region is None:
        return {"proposal_region": None, "proposals_received": [], "proposals_sent": []}
    to_answer = Q(partner_region=region, status=Proposal.Status.PENDING)
    rows = list(
        access.proposals_visible_to(user).select_related(*RELATED)
        .filter(to_answer | Q(proposing_region=region))
        .annotate(to_answer=Case(When(to_answer, then=Value(0)), default=Value(1)))
        .order_by("to_answer", "-created_at", "-pk")[:MY_LIMIT]
    )
    return {
        "proposal_region": region,
        "proposals_received": [p for p in rows if p.to_answer == 0][::-1],  # the oldest first
        "proposals_sent": [p for p in rows if p.to_answer == 1],
        "answer_form": forms.ProposalAnswerForm(),
    }


def _initial(request) -> dict:
    """Pre-filled from the suggestion's link: ``?partner=<region code>&affair=<affair code>&need_offer=<id>``;
    unknown values are left out, never an error."""
    initial = {}
    partner = Region.objects.filter(code=request.GET.get("partner", "")[:8], is_autonomous=True).first()
    if partner is not None:
        initial["partner_region"] = partner
    affair = GovernmentAffair.objects.filter(code=request.GET.get("affair", "")[:5]).first()
    if affair is not None:
        initial["affair"] = affair
    need_offer = request.GET.get("need_offer", "")
    if need_offer.isdigit() and len(need_offer) < 12:
        entry = NeedOffer.objects.filter(pk=int(need_offer)).first()
        if entry is not None:
            initial["need_offer"] = entry
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def proposal_create(request):
    proposing = access.proposal_region_for(request.user)
    if proposing is None:
        raise PermissionDenied
    if request.method == "POST":
        form = forms.ProposalForm(request.POST, proposing_region=proposing)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: services.proposal_create(
                    user=request.user, partner_region=data["partner_region"], affair=data["affair"],
                    message=data["message"], need_offer=data["need_offer"],
                ),
                success=lambda p: _("Your proposal was sent to %(partner)s.") % {"partner": p.partner_region},
                done=lambda p: p.get_absolute_url(), repeated="my-agreements",
            )
            if response:
                return response
        need_offer = form.cleaned_data.get("need_offer")
    else:
        initial = _initial(request)
        form = forms.ProposalForm(initial=initial, proposing_region=proposing)
        need_offer = initial.get("need_offer")
    return render(request, "agreements/proposals/proposal_form.html", {
        "form": form, "proposing_region": proposing, "need_offer": need_offer,
        "form_token": idempotency.issue_form_token(request),
    })


def _detail(request, proposal, form=None, status=200):
    answerable = proposal.is_pending and access.may_answer_proposal(request.user, proposal)
    return render(request, "agreements/proposals/proposal_detail.html", {
        "proposal": proposal,
        "answerable": answerable,
        "answer_form": form or forms.ProposalAnswerForm(),
        "can_open_agreement": proposal.agreement_id is not None and access.agreements_visible_to(
            request.user).filter(pk=proposal.agreement_id).exists(),
    }, status=status)


@login_required
def proposal_detail(request, pk):
    return _detail(request, access.get_proposal_for_user(request.user, pk))


def _answer(request, pk, answer):
    proposal = access.get_proposal_for_user(request.user, pk, answer=True)
    form = forms.ProposalAnswerForm(request.POST)
    if form.is_valid():
        try:
            return answer(proposal, form.cleaned_data["reason"])
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
            proposal = access.get_proposal_for_user(request.user, pk)  # as it is now (another answer may have won)
    return _detail(request, proposal, form)


@login_required
@require_POST
def proposal_accept(request, pk):
    def accept(proposal, reason):
        agreement = services.proposal_accept(proposal=proposal, user=request.user, reason=reason)
        messages.success(request, _("Proposal accepted: the draft KB %(number)s was created with both regions as "
                                    "parties. Both regions can now edit it; give it its number when you have one.")
                         % {"number": agreement.number})
        return redirect(agreement.get_absolute_url())

    return _answer(request, pk, accept)


@login_required
@require_POST
def proposal_decline(request, pk):
    def decline(proposal, reason):
        services.proposal_decline(proposal=proposal, user=request.user, reason=reason)
        messages.success(request, _("Proposal declined. %(region)s can read your reason.")
                         % {"region": proposal.proposing_region})
        return redirect(proposal.get_absolute_url())

    return _answer(request, pk, decline)


def _as_of(value: str) -> datetime.date:
    try:
        as_of = datetime.date.fromisoformat(value)
        stalls.validate_as_of(as_of)
    except (ValueError, TypeError, ValidationError):
        return stalls.today()
    return as_of


@login_required
def proposal_list(request):
    """Proposals the user may see; ``?region=<code>`` (sent or received by it), ``?province=<code>`` (by it or one
    of its kabupaten/kota), ``?affair=<code>``, ``?status=``, ``?waiting=yes`` (more than 30 days without an
    answer as of ``?as_of=``, the dashboard's figure). A fixed number of queries, whatever the number of rows."""
    qs = access.proposals_visible_to(request.user).select_related(*RELATED)
    region = province = None
    code = request.GET.get("region", "")[:8]
    if code:
        region = Region.objects.filter(code=code).first()
        qs = qs.filter(Q(proposing_region=region) | Q(partner_region=region)) if region else qs.none()
    code = request.GET.get("province", "")[:8]
    if code:
        province = Region.objects.filter(code=code, level=Region.Level.PROVINCE).first()
        qs = (qs.filter(regions.in_province_q(province, "proposing_region")
                        | regions.in_province_q(province, "partner_region")) if province else qs.none())
    affair_code = request.GET.get("affair", "")[:5]
    if affair_code:
        qs = qs.filter(affair__code=affair_code)
    status = request.GET.get("status", "")
    if status in Proposal.Status.values:
        qs = qs.filter(status=status)
    as_of = None
    if request.GET.get("waiting") == "yes":
        as_of = _as_of(request.GET.get("as_of", ""))
        qs = qs.filter(Proposal.waiting_q(as_of))
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "agreements/proposals/proposal_list.html", {
        "page": page, "region": region, "province": province, "waiting_as_of": as_of,
        "waiting_days": PROPOSAL_WAITING_DAYS, "query": query.urlencode(),
    })
