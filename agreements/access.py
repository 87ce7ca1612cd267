"""Who may see and change what: the one place that decides it.

Every view, export, document download and form choice goes through these helpers.
- Administrator and ministry staff: every agreement, read and write.
- Provincial officer: reads every agreement with the province or any of its kabupaten/kota as a
  party; writes those where the province itself is a party.
- Kabupaten/kota officer: reads and writes the agreements where the region is a party.
Objects outside a user's scope answer 404 (nothing leaks); in-scope objects the role may only read
answer 403 on write.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from . import regions
from .models import Agreement, AgreementParty, FollowUp, ImportJob, Milestone, Obstacle, Proposal, Region, User


def is_national(user) -> bool:
    """Ministry staff and administrators see the national picture."""
    return user.is_authenticated and (user.is_superuser or user.role in (User.Role.ADMIN, User.Role.MINISTRY))


def is_officer(user) -> bool:
    return user.is_authenticated and not is_national(user) and user.region_id is not None


def _party_in(region_q: Q) -> Exists:
    return Exists(AgreementParty.objects.filter(Q(agreement=OuterRef("pk")) & region_q))


def readable_regions_q(user, field: str = "pk") -> Q:
    """The regions whose agreements an officer may read, as a Q on ``field`` (``"pk"`` on ``Region``, or a
    foreign key to ``Region`` such as a party's ``"region"``)."""
    if user.role == User.Role.PROVINCE:
        return regions.in_province_q(user.region_id, field)
    return Q(**{field: user.region_id})


def _agreements_for(user, queryset: QuerySet | None, officer_parties: Callable[[], Q]) -> QuerySet:
    """Nothing for an anonymous or inactive user or an officer without a region, everything for national
    users; for an officer, the agreements with a party matching ``officer_parties()``."""
    qs = Agreement.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_national(user):
        return qs
    if user.region_id is None:
        return qs.none()
    return qs.filter(_party_in(officer_parties()))


def scope_name(user) -> str | None:
    """What a figure computed on ``agreements_visible_to(user)`` covers, for its label: None when national."""
    if is_national(user) or not user.is_authenticated or user.region_id is None:
        return None
    if user.role == User.Role.PROVINCE:
        return _("%(province)s and its kabupaten/kota") % {"province": user.region.name}
    return user.region.name


def readable_region_ids(user) -> set[int] | None:
    """The regions whose agreements ``user`` reads, as ids (for checks in memory, like the importer's); None when
    the user reads every agreement. An agreement is readable when one of its parties is among them."""
    if is_national(user):
        return None
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return set()
    return set(Region.objects.filter(readable_regions_q(user)).values_list("pk", flat=True))


def agreements_visible_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """The agreements ``user`` may read."""
    return _agreements_for(user, queryset, lambda: readable_regions_q(user, "region"))


def visibility_key(user) -> str:
    """Who ``user`` is for the figures computed on what they may read (``agreements_visible_to``, the proposals,
    evaluations and reports they see): users with one key see the same figures (the figures cache keys on it)."""
    if not user.is_authenticated or not user.is_active:
        return "anonymous"
    return f"{user.role}:{user.region_id}:{int(is_national(user))}:{int(user.is_superuser)}"


def agreements_writable_by(user, queryset: QuerySet | None = None) -> QuerySet:
    """The agreements ``user`` may change (officers: where their own region is a party)."""
    return _agreements_for(user, queryset, lambda: Q(region_id=user.region_id))


def can_write_agreement(user, agreement: Agreement) -> bool:
    return agreements_writable_by(user, Agreement.objects.filter(pk=agreement.pk)).exists()


def can_renew(user, agreement: Agreement) -> bool:
    """Who may renew an agreement ("Perpanjang": create its successor) or record its amendments: whoever may write
    it (``can_write_agreement``)."""
    return can_write_agreement(user, agreement)


def may_write_parties(user, party_region_ids) -> bool:
    """``agreements_writable_by`` for an agreement whose regional parties are ``party_region_ids`` (in memory,
    for the importer, which checks thousands of rows against parties it loaded in bulk)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return True
    return user.region_id is not None and user.region_id in set(party_region_ids)


def may_remove_parties(user, *, signed: bool) -> bool:
    """Once an agreement is signed, only ministry staff or an administrator remove a party from it: the
    region removed would lose its access to an agreement it signed."""
    return not signed or is_national(user)


def may_write_party(user, party) -> bool:
    """Whether ``user`` may record this regional party's signatory, signing date and DPRD approval: an officer only
    their own region's row (each region signs, and has its DPRD approve, for itself); ministry staff and
    administrators any party's. No query: for each row of the agreement page's grid, and for the import's rows."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return True
    return user.region_id is not None and user.region_id == party.region_id


def get_agreement_for_user(user, pk, write: bool = False, queryset: QuerySet | None = None) -> Agreement:
    """The agreement, or 404 when outside the user's scope, or 403 when ``write`` and read-only."""
    qs = agreements_visible_to(user, queryset)
    try:
        agreement = qs.get(pk=pk)
    except (Agreement.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if write and not can_write_agreement(user, agreement):
        raise PermissionDenied
    return agreement


def get_milestone_for_user(user, pk, write: bool = False) -> Milestone:
    try:
        milestone = Milestone.objects.select_related("agreement").get(pk=pk)
    except (Milestone.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    get_agreement_for_user(user, milestone.agreement_id, write=write)
    return milestone


def regions_visible_to(user) -> QuerySet:
    """Regions whose pages show this user's data (all regions exist publicly; aggregates are scoped)."""
    return Region.objects.all()


def party_choices_for(user) -> QuerySet:
    """Regions a user may put on an agreement as parties: any autonomous region."""
    return Region.objects.filter(is_autonomous=True)


def is_administrator(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_administrator


def can_manage_users(user) -> bool:
    return user.is_authenticated and user.is_active and (
        is_national(user) or (user.role == User.Role.PROVINCE and user.region_id is not None)
    )


def _privileged(role: str, is_staff: bool, is_superuser: bool) -> bool:
    """Administrator accounts, and any account that can open Django admin or holds every permission."""
    return role == User.Role.ADMIN or is_staff or is_superuser


def may_manage_account(actor, *, role: str, region: Region | None, is_staff: bool, is_superuser: bool) -> bool:
    """Whether ``actor`` may manage an account with these values: checked on the account as it is and as it
    will be, so nobody edits an account into or out of their reach.

    Administrators manage every account. Ministry staff manage ministry staff and officers, never an
    administrator nor an ``is_staff``/``is_superuser`` account. Provincial officers manage the kabupaten/kota
    officers of their own province. ``users_manageable_by`` is the same rule as a queryset.
    """
    if not can_manage_users(actor):
        return False
    if is_administrator(actor):
        return True
    if _privileged(role, is_staff, is_superuser):
        return False
    if is_national(actor):
        return True
    return role == User.Role.LOCAL and region is not None and region.province_id == actor.region_id


def can_manage_account(actor, account: User) -> bool:
    return may_manage_account(actor, role=account.role, region=account.region, is_staff=account.is_staff,
                              is_superuser=account.is_superuser)


def users_manageable_by(user) -> QuerySet:
    """The accounts ``user`` may see on /users/ and change: ``may_manage_account`` as a queryset."""
    if not can_manage_users(user):
        return User.objects.none()
    if is_administrator(user):
        return User.objects.all()
    ordinary = User.objects.exclude(role=User.Role.ADMIN).filter(is_staff=False, is_superuser=False)
    if is_national(user):
        return ordinary
    return ordinary.filter(role=User.Role.LOCAL, region__province_id=user.region_id)


def needoffer_regions_for(user) -> QuerySet:
    """Regions whose needs and offers ``user`` may record or change (the register itself is national).

    Ministry staff and administrators: any autonomous region. An officer: only their own region. A
    provincial officer records the province's own needs and offers, not those of its kabupaten/kota:
    each region declares from its own plans (RPJMD/RKPD), as with agreements, which a provincial
    officer writes only where the province itself is a party.
    """
    if not user.is_authenticated or not user.is_active:
        return Region.objects.none()
    if is_national(user):
        return Region.objects.filter(is_autonomous=True)
    if user.region_id is None:
        return Region.objects.none()
    return Region.objects.filter(pk=user.region_id, is_autonomous=True)


def can_edit_needoffers_of(user, region: Region) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return region.is_autonomous
    return user.region_id is not None and user.region_id == region.pk and region.is_autonomous


# --- follow-ups: who may record and see them ---------------------------------------------------------


def can_record_followups(user) -> bool:
    """Ministry staff (and administrators) and provincial officers record follow-ups."""
    return is_national(user) or (
        user.is_authenticated and user.is_active and user.role == User.Role.PROVINCE and user.region_id is not None
    )


def regions_followed_by(user) -> QuerySet:
    """Regions whose follow-ups ``user`` may read: national users all; officers those they read agreements of."""
    if is_national(user):
        return Region.objects.all()
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return Region.objects.none()
    return Region.objects.filter(readable_regions_q(user))


def can_see_region_followups(user, region: Region) -> bool:
    return regions_followed_by(user).filter(pk=region.pk).exists()


def followups_visible_to(user) -> QuerySet:
    """Follow-ups on agreements the user may see and on regions whose follow-ups the user may read."""
    return FollowUp.objects.filter(
        Q(agreement__in=agreements_visible_to(user).values("pk"))
        | Q(region__in=regions_followed_by(user).values("pk"))
    )


def check_can_record_followup_on_agreement(user, agreement_pk) -> Agreement:
    """The agreement (404 outside the user's scope), or 403 when the role may not record follow-ups."""
    agreement = get_agreement_for_user(user, agreement_pk)
    if not can_record_followups(user):
        raise PermissionDenied
    return agreement


def check_can_record_followup_on_region(user, region: Region) -> None:
    """403 unless ministry staff, or the provincial officer of this province or of its kabupaten/kota."""
    if not can_record_followups(user) or not can_see_region_followups(user, region):
        raise PermissionDenied


# --- bulk import: who may import, and which rows ------------------------------------------------------


def can_import(user) -> bool:
    """Ministry staff, administrators and provincial officers import; kabupaten/kota officers do not."""
    return is_national(user) or (user.is_authenticated and user.role == User.Role.PROVINCE and bool(user.region_id))


def import_jobs_visible_to(user) -> QuerySet:
    """A user's own imports: the files they uploaded and what became of them (nobody else sees them)."""
    if not can_import(user) or not user.is_active:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(user=user)


# --- cooperation proposals: who may propose, answer and see them --------------------------------------


def proposal_region_for(user) -> Region | None:
    """The region on whose behalf ``user`` proposes cooperation and answers proposals: an officer's own
    autonomous region. Ministry staff and administrators see every proposal but neither propose nor answer: a
    region decides for itself whom it cooperates with."""
    if not is_officer(user) or not user.is_active:
        return None
    region = user.region
    return region if region.is_autonomous else None


def may_propose_for(user, region: Region) -> bool:
    """Whether ``user`` may propose cooperation on behalf of ``region`` (no query: for each row of a table)."""
    return (is_officer(user) and user.is_active and region is not None and region.is_autonomous
            and user.region_id == region.pk)


def may_answer_proposal(user, proposal) -> bool:
    """Only the partner region's officers accept or decline a proposal made to it."""
    return is_officer(user) and user.is_active and user.region_id == proposal.partner_region_id


def proposals_visible_to(user) -> QuerySet:
    """Proposals ``user`` may read: national users all of them; an officer those sent or received by the regions
    whose agreements it reads (a provincial officer: the province and its kabupaten/kota)."""
    if not user.is_authenticated or not user.is_active:
        return Proposal.objects.none()
    if is_national(user):
        return Proposal.objects.all()
    if user.region_id is None:
        return Proposal.objects.none()
    return Proposal.objects.filter(
        readable_regions_q(user, "proposing_region") | readable_regions_q(user, "partner_region")
    )


def get_proposal_for_user(user, pk, answer: bool = False):
    """The proposal, or 404 when the user may not see it, or 403 when ``answer`` and the user may not answer."""
    try:
        proposal = proposals_visible_to(user).select_related(
            "proposing_region", "partner_region", "affair", "need_offer", "agreement", "created_by", "answered_by",
        ).get(pk=pk)
    except (Proposal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if answer and not may_answer_proposal(user, proposal):
        raise PermissionDenied
    return proposal


# --- obstacles (kendala): who may record and resolve them ---------------------------------------------


def can_record_obstacle(user, agreement: Agreement) -> bool:
    """The officers of the parties, the provincial officers of a party's province (who otherwise only read a
    kabupaten/kota's agreements: they often know why it stopped), ministry staff and administrators."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return True
    if user.region_id is None:
        return False
    return AgreementParty.objects.filter(readable_regions_q(user, "region"), agreement=agreement).exists()


def check_can_record_obstacle(user, agreement: Agreement) -> None:
    """403 unless ``user`` may record (and resolve) obstacles on ``agreement``."""
    if not can_record_obstacle(user, agreement):
        raise PermissionDenied


def get_obstacle_for_user(user, pk, write: bool = False) -> Obstacle:
    """The obstacle, or 404 when its agreement is outside the user's scope, or 403 when ``write`` and the user may
    not record obstacles on it."""
    try:
        obstacle = Obstacle.objects.select_related("agreement", "recorded_by").get(pk=pk)
    except (Obstacle.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    get_agreement_for_user(user, obstacle.agreement_id)
    if write:
        check_can_record_obstacle(user, obstacle.agreement)
    return obstacle


# --- guidance: events and a region's TKKSD -------------------------------------------------------------


def can_record_guidance_events(user) -> bool:
    """The ministry holds socialisations, bimtek, coordination meetings and trainings: ministry staff and
    administrators record them. Every signed-in user reads them."""
    return is_national(user) and user.is_active


def check_can_record_guidance_events(user) -> None:
    if not can_record_guidance_events(user):
        raise PermissionDenied


def may_edit_tkksd(user, region: Region) -> bool:
    """A region's TKKSD is kept by its own officers (a provincial officer: the province's, not its kabupaten/kota's)
    and by ministry staff and administrators; only an autonomous region has one."""
    if not user.is_authenticated or not user.is_active or not region.is_autonomous:
        return False
    return is_national(user) or (user.region_id is not None and user.region_id == region.pk)


def check_can_edit_tkksd(user, region: Region) -> None:
    if not may_edit_tkksd(user, region):
        raise PermissionDenied


# --- results: outcome indicators, their actual values, financing lines -------------------------------------------


def may_write_results(user, agreement: Agreement) -> bool:
    """Who adds and edits an agreement's outcome indicators and records their actual values: whoever may write the
    agreement (ministry staff, administrators, the officers of its regional parties). A provincial officer whose
    province is not itself a party reads them only."""
    return can_write_agreement(user, agreement)


def check_can_write_results(user, agreement: Agreement) -> None:
    if not may_write_results(user, agreement):
        raise PermissionDenied


def may_write_financing_line(user, region_id: int | None, *, writes_agreement: bool) -> bool:
    """Whether ``user`` may add, change or delete a financing line of an agreement it may write
    (``writes_agreement``, from ``can_write_agreement``): ministry staff and administrators any line; an officer
    its own region's lines (each region answers for its own budget) and the third parties' lines (``region_id``
    None: third parties have no account, the regional parties record what they bring). No query."""
    if not writes_agreement or not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return True
    return region_id is None or (user.region_id is not None and user.region_id == region_id)


# --- open data: published agreements, the API's scope, who publishes -------------------------------------------


def agreements_published(queryset: QuerySet | None = None) -> QuerySet:
    """The agreements ministry staff published (the public page, the open data, anonymous API callers)."""
    qs = Agreement.objects.all() if queryset is None else queryset
    return qs.filter(published_at__isnull=False)


def agreements_open_to(user, queryset: QuerySet | None = None) -> QuerySet:
    """What the API shows ``user``: the agreements it sees on the pages (``agreements_visible_to``) plus the published
    ones; anonymous callers, the published ones only."""
    qs = Agreement.objects.all() if queryset is None else queryset
    if is_national(user) and user.is_active:
        return qs
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return agreements_published(qs)
    return qs.filter(Q(published_at__isnull=False) | _party_in(readable_regions_q(user, "region")))


def can_publish(user) -> bool:
    """Ministry staff and administrators publish agreements and choose which documents are public."""
    return is_national(user) and user.is_active


def check_can_publish(user) -> None:
    if not can_publish(user):
        raise PermissionDenied


# --- periodic reports: who writes, reads and returns a region's report ---------------------------------------------

REPORT_WRITE = "write"
REPORT_READ = "read"


def report_access(user, region: Region) -> str | None:
    """A region's reports: its own officers write them (``REPORT_WRITE``); the officers of its province read them
    (and return them for correction), ministry staff and administrators read every region's (``REPORT_READ``);
    anyone else None (404). No query."""
    if not user.is_authenticated or not user.is_active:
        return None
    if is_national(user):
        return REPORT_READ
    if user.region_id is None:
        return None
    if user.region_id == region.pk:
        return REPORT_WRITE
    if user.role == User.Role.PROVINCE and region.province_id == user.region_id:
        return REPORT_READ
    return None


def may_return_report(user, region: Region) -> bool:
    """Who returns a submitted report for correction: the province's officers their kabupaten/kota's, ministry staff
    and administrators any region's (a province's above all). No query."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_national(user):
        return True
    return user.role == User.Role.PROVINCE and user.region_id is not None and region.province_id == user.region_id
