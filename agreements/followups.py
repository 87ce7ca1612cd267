"""Follow-ups and reminders: the rules and reads for the follow-up log and the reminder digests.

- ``services.followup_record`` records a follow-up (ministry staff and provincial officers).
- ``followed_up_within``: "had a follow-up in the last 90 days, on the agreement or on one of its
  regions", as an SQL ``Exists`` for a ``stalls.with_status`` queryset, so the dashboard figure and
  the list's ``followed_up_90`` filter count the same agreements.
- ``officer_digest`` / ``ministry_digest``: what each reminder e-mail contains as of a date. The
  officer's "My agreements" page lists the same milestones (``attention_milestones``). The officer's digest
  also lists the agreements ending within 90, 30 and 7 days, each threshold sent once (``expiring_to_send``,
  ``ExpiryReminder``).

Imports only point down: models, stalls, access, uploads.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import access, evaluations, reports, stalls, uploads
from .models import (
    Agreement,
    AgreementParty,
    ExpiryReminder,
    FollowUp,
    Milestone,
    SentDigest,
    ThirdParty,
    User,
)

FOLLOW_UP_WINDOW_DAYS = 90
DUE_SOON_DAYS = 30
DIGEST_PERIOD_DAYS = 7
ATTACHMENT_MAX_BYTES = uploads.EVIDENCE_MAX_BYTES
OPEN_STATUSES = [s for s in Milestone.Status.values if s not in (Milestone.Status.MET, Milestone.Status.CANCELLED)]


# --- "followed up in the last 90 days" ----------------------------------------------------------------


def followed_up_within(as_of: datetime.date, days: int = FOLLOW_UP_WINDOW_DAYS) -> Exists:
    """An agreement had a follow-up dated in [as_of − days, as_of], on itself or on one of its party regions."""
    window = Q(date__gte=as_of - datetime.timedelta(days=days), date__lte=as_of)
    party_regions = AgreementParty.objects.filter(agreement=OuterRef(OuterRef("pk"))).values("region_id")
    return Exists(FollowUp.objects.filter(window & (Q(agreement=OuterRef("pk")) | Q(region__in=party_regions))))


def followed_up_q(value: bool, as_of: datetime.date) -> Q:
    """Filter on ``followed_up_within``: yes (True) or no (False)."""
    return Q(followed_up_within(as_of)) if value else ~Q(followed_up_within(as_of))


# --- digests ------------------------------------------------------------------------------------------


def attention_milestones(agreements: QuerySet, as_of: datetime.date, days: int = DUE_SOON_DAYS) -> QuerySet:
    """Open milestones (not met, not cancelled) of ``agreements`` overdue (due before ``as_of``) or due
    within ``days``; overdue first. The officer's digest and "My agreements" page list these."""
    return (
        Milestone.objects.filter(
            agreement__in=agreements.values("pk"), status__in=OPEN_STATUSES,
            due_on__lte=as_of + datetime.timedelta(days=days),
        )
        .select_related("agreement", "responsible_region")
        .order_by("due_on", "agreement__number", "title")
    )


@dataclasses.dataclass
class PartnerChange:
    when: datetime.datetime
    agreement: Agreement
    what: str
    user: User


@dataclasses.dataclass
class OfficerDigest:
    user: User
    as_of: datetime.date
    overdue: list = dataclasses.field(default_factory=list)
    due_soon: list = dataclasses.field(default_factory=list)
    stalled: list = dataclasses.field(default_factory=list)
    partner_changes: list = dataclasses.field(default_factory=list)
    # Agreements ending within 90, 30 or 7 days, each with the threshold it is sent at (``expiring_to_send``).
    expiring: list = dataclasses.field(default_factory=list)
    # PKSs evaluation due whose missing evaluation is the officer's region's (``evaluations.due_for_officer``).
    evaluation_due: list = dataclasses.field(default_factory=list)
    # The region's reports due within 14 days or late; for a province officer, its kabupaten/kota's (``reports``).
    reports_due: list = dataclasses.field(default_factory=list)
    province_reports: dict | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.stalled or self.partner_changes or self.expiring
                    or self.evaluation_due or self.reports_due or self.province_reports)


@dataclasses.dataclass
class MinistryDigest:
    user: User
    as_of: datetime.date
    new_stalls: list = dataclasses.field(default_factory=list)  # [(province, [agreements])]
    followups: list = dataclasses.field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.new_stalls or self.followups)


def _last_sent(user, kind: str, as_of: datetime.date) -> datetime.datetime:
    last = SentDigest.objects.filter(user=user, kind=kind).order_by("-sent_at").values_list("sent_at", flat=True)
    if last:
        return last[0]
    start = as_of - datetime.timedelta(days=DIGEST_PERIOD_DAYS)
    return timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))


def partner_changes(user, agreements: QuerySet, since: datetime.datetime) -> list[PartnerChange]:
    """Changes since ``since`` that users of other regions recorded (django-simple-history) on ``agreements``."""
    ids = agreements.values("pk")
    others = Q(history_user__region__isnull=False) & ~Q(history_user__region_id=user.region_id)
    sources = [
        (Agreement.history.filter(id__in=ids), _("agreement details")),
        (AgreementParty.history.filter(agreement_id__in=ids), _("parties")),
        (ThirdParty.history.filter(agreement_id__in=ids), _("third parties")),
        (Milestone.history.filter(agreement_id__in=ids), _("milestone")),
    ]
    changes = []
    for qs, label in sources:
        for record in qs.filter(others, history_date__gt=since).select_related("history_user__region"):
            changes.append((record, label))
    if not changes:
        return []
    agreement_ids = {getattr(r, "agreement_id", None) or r.id for r, _label in changes}
    by_id = Agreement.objects.in_bulk(agreement_ids)
    verbs = {"+": _("added"), "~": _("changed"), "-": _("removed")}
    result = []
    for record, label in changes:
        agreement = by_id.get(getattr(record, "agreement_id", None) or record.id)
        if agreement is None:
            continue
        what = f"{label} {verbs[record.history_type]}"
        if isinstance(record, Milestone.history.model):
            what = f"{what}: {record.title}"
        result.append(PartnerChange(record.history_date, agreement, what, record.history_user))
    result.sort(key=lambda c: (c.when, c.agreement.number))
    return result


def expiry_threshold(days_left: int) -> int | None:
    """The smallest of ``stalls.EXPIRY_WARNING_DAYS`` (90, 30, 7) at or above ``days_left``; None beyond them all."""
    crossed = [t for t in stalls.EXPIRY_WARNING_DAYS if days_left <= t]
    return min(crossed) if crossed else None


def expiring_to_send(user, agreements: QuerySet, as_of: datetime.date,
                     thresholds: stalls.Thresholds | None = None) -> list:
    """The agreements of ``agreements`` in force on ``as_of`` and ending within the largest warning threshold, whose
    current threshold (the smallest one crossed: 90, 30 or 7 days before the end in force) was not sent to ``user``
    yet (``ExpiryReminder``); each gets ``days_left`` and ``threshold``. Two queries. An agreement first seen 20
    days before its end is sent at 30 days, then again at 7; the 90 days' warning it never had is not sent late."""
    widest = max(stalls.EXPIRY_WARNING_DAYS)
    rows = list(
        stalls.with_status(agreements, as_of=as_of, thresholds=thresholds)
        .filter(stalls.expiring_within_q(widest, as_of))
        .order_by("ends_on_in_force", "number")
    )
    if not rows:
        return []
    sent = set(
        ExpiryReminder.objects.filter(user=user, agreement__in=[a.pk for a in rows])
        .values_list("agreement_id", "threshold_days")
    )
    result = []
    for agreement in rows:
        agreement.days_left = (agreement.ends_on_in_force - as_of).days
        agreement.threshold = expiry_threshold(agreement.days_left)
        if (agreement.pk, agreement.threshold) not in sent:
            result.append(agreement)
    return result


def record_expiry_reminders(user, agreements: list) -> None:
    """Record that each agreement's threshold was sent to ``user`` (in the transaction that sends the e-mail: a
    second run meets the unique constraint and sends nothing)."""
    ExpiryReminder.objects.bulk_create(
        [ExpiryReminder(user=user, agreement=a, threshold_days=a.threshold) for a in agreements]
    )


def officer_digest(user, as_of: datetime.date, thresholds: stalls.Thresholds | None = None,
                   since: datetime.datetime | None = None) -> OfficerDigest:
    """What the officer's reminder contains as of ``as_of``: the agreements where the officer's region is
    a party (as on "My agreements"): overdue and due-soon milestones, stalled agreements, and what
    partner regions changed since the last digest."""
    mine = access.agreements_writable_by(user)
    digest = OfficerDigest(user=user, as_of=as_of)
    for milestone in attention_milestones(mine, as_of):
        (digest.overdue if milestone.due_on < as_of else digest.due_soon).append(milestone)
    stalled = stalls.with_status(mine, as_of=as_of, thresholds=thresholds).filter(is_stalled=True)
    digest.stalled = list(stalled.order_by("stalled_since", "number"))
    for agreement in digest.stalled:
        agreement.days_stalled_now = stalls.days_stalled(agreement, as_of)
        agreement.reason_codes = stalls.reasons_of(agreement)
    since = since or _last_sent(user, SentDigest.Kind.OFFICER, as_of)
    digest.partner_changes = partner_changes(user, mine, since)
    digest.expiring = expiring_to_send(user, mine, as_of, thresholds)
    digest.evaluation_due = evaluations.due_for_officer(user, mine, as_of, thresholds)
    digest.reports_due, digest.province_reports = reports.officer_reminders(user, as_of)
    return digest


def new_stalls(as_of: datetime.date, thresholds: stalls.Thresholds | None = None) -> QuerySet:
    """Agreements stalled as of ``as_of`` but not as of a week earlier."""
    thresholds = thresholds or stalls.Thresholds.current()
    week_before = as_of - datetime.timedelta(days=DIGEST_PERIOD_DAYS)
    before = stalls.with_status(Agreement.objects.all(), as_of=week_before, thresholds=thresholds).filter(
        is_stalled=True
    )
    return (
        stalls.with_status(Agreement.objects.all(), as_of=as_of, thresholds=thresholds)
        .filter(is_stalled=True)
        .exclude(pk__in=before.values("pk"))
    )


def recent_followups(as_of: datetime.date, days: int = DIGEST_PERIOD_DAYS) -> QuerySet:
    """Follow-ups recorded in the ``days`` days up to ``as_of`` (by the date they were recorded)."""
    start = timezone.make_aware(datetime.datetime.combine(as_of - datetime.timedelta(days=days - 1), datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time.min))
    return (
        FollowUp.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("agreement", "region", "recorded_by")
        .order_by("date", "pk")
    )


def ministry_digest(user, as_of: datetime.date, thresholds: stalls.Thresholds | None = None,
                    stalled_now: list | None = None, followups: list | None = None) -> MinistryDigest:
    """The ministry's weekly digest: new stalls grouped by province, and the follow-ups recorded."""
    if stalled_now is None:
        stalled_now = list(new_stalls(as_of, thresholds).prefetch_related("parties__region__province"))
    if followups is None:
        followups = list(recent_followups(as_of))
    by_province = defaultdict(list)
    provinces = {}
    for agreement in sorted(stalled_now, key=lambda a: a.number):
        agreement.days_stalled_now = stalls.days_stalled(agreement, as_of)
        agreement.reason_codes = stalls.reasons_of(agreement)
        seen = set()
        for party in agreement.parties.all():
            province = party.region.province or party.region
            if province.pk not in seen:
                seen.add(province.pk)
                provinces[province.pk] = province
                by_province[province.pk].append(agreement)
    ordered = sorted(provinces.values(), key=lambda p: p.code)
    return MinistryDigest(
        user=user, as_of=as_of, new_stalls=[(p, by_province[p.pk]) for p in ordered], followups=list(followups)
    )


def iso_week(as_of: datetime.date) -> tuple[int, int]:
    year, week, _weekday = as_of.isocalendar()
    return year, week


def already_sent(user, kind: str, as_of: datetime.date) -> bool:
    year, week = iso_week(as_of)
    return SentDigest.objects.filter(user=user, kind=kind, iso_year=year, iso_week=week).exists()


def officer_recipients() -> QuerySet:
    return User.objects.filter(
        is_active=True, reminders_enabled=True, role__in=[User.Role.PROVINCE, User.Role.LOCAL],
        region__isnull=False,
    ).exclude(email="").select_related("region").order_by("username")


def ministry_recipients() -> QuerySet:
    return User.objects.filter(
        is_active=True, reminders_enabled=True, role=User.Role.MINISTRY
    ).exclude(email="").order_by("username")
