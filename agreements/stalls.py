"""The derived lifecycle stage and the stall rules, as of a date D, computed in SQL.

This is the only implementation of these rules. ``with_status`` annotates an agreement queryset,
so that the list, the dashboard, the admin and the command line filter, sort and count on the same
expressions, and "as of" a past date comes for free.

Annotations added (all computed as of D):
- ``stage``: one of ``Stage`` by the precedence terminated > draft > completed > expired >
  implementing / followed_up > signed; ``stage_order`` its position in the lifecycle;
- ``stall_kb_without_pks``, ``stall_pks_not_started``, ``stall_milestone_overdue``: booleans;
- ``is_stalled``: any of them;
- ``has_signed_pks`` (a PKS whose parent is this agreement was signed on or before D) and
  ``has_started_milestone`` (a milestone started or met on or before D);
- ``overdue_since``: the earliest ``due_on`` among the overdue milestones;
- ``stalled_since``: the date the largest ``days_stalled`` counts from (signing date for the KB/PKS
  reasons, ``overdue_since`` for overdue milestones); ``days_stalled`` is D − ``stalled_since``;
- ``ends_on_in_force``: the end date in force as of D, the new end date of the latest amendment signed on
  or before D that sets one, else the agreement's own ``ends_on``;
- ``is_lapsed``: the term ended as of D without its follow-up (see ``lapsed`` below).

Definitions:
- the term has *ended as of D* when ``ends_on_in_force`` < D (the end date is the last day in force);
  an agreement whose term ended is never stalled: it is expired, and lapsed when it ended without
  its follow-up;
- *lapsed* (berakhir tanpa tindak lanjut): expired as of D (signed, not terminated, not completed, its
  term ended) and, by its end date in force, a KB had no PKS under it signed, a PKS had no milestone
  met, and no agreement renewing it (``renews``) was signed;

- a milestone is *met as of D* when its status is ``met`` and ``completed_on`` ≤ D;
- it is *started as of D* when ``started_on`` ≤ D or it is met as of D;
- cancellation carries no date: a cancelled milestone is cancelled at every D.
"""

import collections
import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from . import datacache
from .models import (
    STAGE_ORDER,
    Agreement,
    AgreementStep,
    Amendment,
    Milestone,
    Obstacle,
    Stage,
    StallReason,
    StallSettings,
    TemplateStep,
)

# The stages of an agreement in force: signed, not terminated, not completed, its term not ended.
IN_FORCE_STAGES = [Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING]
# The days before the end the reminders and the dashboard warn at; ``expiring_within`` accepts 1..MAX.
EXPIRY_WARNING_DAYS = (90, 30, 7)
EXPIRING_WITHIN_MAX_DAYS = 3660

# Age past the threshold, in days: (label, lowest, highest); highest None is open-ended.
AGE_BUCKETS = [
    ("0-182", 1, 182),
    ("183-365", 183, 365),
    ("366-730", 366, 730),
    ("731+", 731, None),
]


@dataclasses.dataclass(frozen=True)
class Thresholds:
    kb_follow_up_days: int = 365
    implementation_start_days: int = 180
    overdue_grace_days: int = 30
    # The day the agreements' stored status holds for with these thresholds (``refresh_status``); None when it
    # holds for none (never refreshed, or refreshed with other thresholds). Not part of the thresholds' value.
    status_date: datetime.date | None = dataclasses.field(default=None, compare=False)
    # Read from the thresholds row, whose stored status is not today's (never stamped, stamped before today or with
    # other thresholds): ``with_status`` has it refreshed (``refresh_status_soon``).
    status_outdated: bool = dataclasses.field(default=False, compare=False)

    @classmethod
    def current(cls) -> "Thresholds":
        s = StallSettings.current()
        t = cls(s.kb_follow_up_days, s.implementation_start_days, s.overdue_grace_days)
        holds = s.status_date is not None and s.status_thresholds == t.key()
        return dataclasses.replace(t, status_date=s.status_date if holds else None,
                                   status_outdated=not holds or s.status_date < today())

    def key(self) -> str:
        """The thresholds as the stored status records them ("365/180/30")."""
        return f"{self.kb_follow_up_days}/{self.implementation_start_days}/{self.overdue_grace_days}"

    def for_reason(self, reason: str) -> int:
        return {
            StallReason.KB_WITHOUT_PKS: self.kb_follow_up_days,
            StallReason.PKS_NOT_STARTED: self.implementation_start_days,
            StallReason.MILESTONE_OVERDUE: self.overdue_grace_days,
        }[reason]


def today() -> datetime.date:
    return timezone.localdate()


# The dates the rules may be computed at. They subtract thresholds (and add days) to the as-of date, so a
# year-1 date underflows Python's dates (OverflowError) and 9999-12-31 overflows them. No agreement predates
# 1900 or is planned past 2200, so every door that takes an as-of date from outside (the ``as_of`` URL
# parameter, ``--as-of`` of the commands) accepts only this range: a date outside it is refused, never a crash.
AS_OF_MIN = datetime.date(1900, 1, 1)
AS_OF_MAX = datetime.date(2200, 12, 31)
AS_OF_RANGE_MESSAGE = _("Enter a date between %(min)s and %(max)s.")


def as_of_in_range(value: datetime.date) -> bool:
    return AS_OF_MIN <= value <= AS_OF_MAX


def validate_as_of(value: datetime.date | None) -> None:
    """Form validator of an as-of date: refuses a date outside ``AS_OF_MIN``..``AS_OF_MAX``."""
    if value is not None and not as_of_in_range(value):
        raise ValidationError(
            AS_OF_RANGE_MESSAGE, code="as_of_range",
            params={"min": formats.date_format(AS_OF_MIN, "DATE_FORMAT"),
                    "max": formats.date_format(AS_OF_MAX, "DATE_FORMAT")},
        )


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# The annotations ``with_status`` adds, each stored for today in the ``status_<name>`` column of ``Agreement``.
STATUS_FIELDS = (
    "stage", "stage_order", "has_signed_pks", "has_started_milestone", "overdue_since", "ends_on_in_force",
    "stall_kb_without_pks", "stall_pks_not_started", "stall_milestone_overdue", "is_stalled", "stalled_since",
    "is_lapsed",
)


def with_status(
    queryset: QuerySet | None = None,
    as_of: datetime.date | None = None,
    thresholds: Thresholds | None = None,
) -> QuerySet:
    """Annotate agreements with their stage and stall facts as of ``as_of`` (default today).

    Today, with the thresholds in force, the annotations read the stored ``status_*`` columns (kept true by
    ``refresh_facts`` and ``refresh_status``) when the thresholds row says they hold for today; any other date or
    thresholds, or a stored status not refreshed yet today, computes the same rules in SQL (``computed_status``)."""
    as_of = as_of or today()
    t = thresholds or Thresholds.current()
    qs = Agreement.objects.all() if queryset is None else queryset
    if t.status_date is not None and t.status_date == as_of == today():
        return qs.annotate(**{name: F(f"status_{name}") for name in STATUS_FIELDS})
    if t.status_outdated:
        refresh_status_soon()
    return computed_status(qs, as_of, t)


def computed_status(qs: QuerySet, as_of: datetime.date, t: Thresholds) -> QuerySet:
    """``with_status`` computed in SQL from the stored facts, the amendments and the renewals, for any date."""
    cutoff = as_of - _days(t.overdue_grace_days)
    # Overdue: not cancelled, not met as of D, due before D − grace. The stored facts give the earliest
    # due date among milestones not met at all; a milestone met *after* D was still open at D, which
    # only matters when D is before the agreement's last completion (a past as-of date): only then is
    # the milestone table read, for that agreement.
    open_overdue = Case(When(first_open_due_on__lt=cutoff, then=F("first_open_due_on")), output_field=DateField())
    met_after = Subquery(
        Milestone.objects.filter(
            agreement=OuterRef("pk"), status=Milestone.Status.MET, completed_on__gt=as_of, due_on__lt=cutoff
        )
        .order_by()
        .values("agreement")
        .annotate(first=Min("due_on"))
        .values("first")[:1],
        output_field=DateField(),
    )
    qs = qs.annotate(
        has_signed_pks=Case(When(first_pks_signed_on__lte=as_of, then=Value(True)), default=Value(False)),
        has_started_milestone=Case(When(first_started_on__lte=as_of, then=Value(True)), default=Value(False)),
        overdue_since=Case(
            When(
                last_met_on__gt=as_of,
                then=Least(Coalesce(open_overdue, met_after), Coalesce(met_after, open_overdue)),
            ),
            default=open_overdue,
            output_field=DateField(),
        ),
    )
    # The end date in force as of D: an amendment signed on or before D that sets a new end date (the latest)
    # replaces the agreement's own. Drafts skip the subquery (an amendment follows a signed agreement).
    amended_end = Subquery(
        Amendment.objects.filter(agreement=OuterRef("pk"), signed_on__lte=as_of, ends_on__isnull=False)
        .order_by("-signed_on", "-pk")
        .values("ends_on")[:1],
        output_field=DateField(),
    )
    qs = qs.annotate(
        ends_on_in_force=Case(
            When(signed_on__isnull=True, then=F("ends_on")),
            default=Coalesce(amended_end, F("ends_on")),
            output_field=DateField(),
        ),
    )
    ended = Q(ends_on_in_force__lt=as_of)
    signed = Q(signed_on__lte=as_of)
    terminated = Q(terminated_on__lte=as_of)
    is_pks = Q(document_type=Agreement.DocumentType.PKS)
    is_kb = Q(document_type=Agreement.DocumentType.KB)
    # Completed: a PKS with milestones not cancelled, every one of them met on or before D.
    completed = is_pks & Q(live_milestones__gt=0, open_milestones=0, last_met_on__lte=as_of)
    # In order of precedence: the first condition that holds gives the stage.
    precedence = [
        (terminated, Stage.TERMINATED),
        (~signed | Q(signed_on__isnull=True), Stage.DRAFT),
        (completed, Stage.COMPLETED),
        (ended, Stage.EXPIRED),
        (is_pks & Q(has_started_milestone=True), Stage.IMPLEMENTING),
        (is_kb & Q(has_signed_pks=True), Stage.FOLLOWED_UP),
    ]
    qs = qs.annotate(
        stage=Case(
            *[When(cond, then=Value(str(stage))) for cond, stage in precedence],
            default=Value(str(Stage.SIGNED)),
        ),
        stage_order=Case(
            *[When(cond, then=Value(STAGE_ORDER[stage])) for cond, stage in precedence],
            default=Value(STAGE_ORDER[Stage.SIGNED]),
            output_field=IntegerField(),
        ),
    )
    # Never stalled: terminated, not yet signed, completed, or its term ended as of D (expired is an outcome).
    not_ended = Q(ends_on_in_force__isnull=True) | Q(ends_on_in_force__gte=as_of)
    eligible = signed & Q(signed_on__isnull=False) & ~terminated & ~completed & not_ended
    kb_stall = eligible & is_kb & Q(has_signed_pks=False) & Q(signed_on__lt=as_of - _days(t.kb_follow_up_days))
    pks_stall = (
        eligible & is_pks & Q(has_started_milestone=False) & Q(signed_on__lt=as_of - _days(t.implementation_start_days))
    )
    overdue_stall = eligible & Q(overdue_since__isnull=False)
    qs = qs.annotate(
        stall_kb_without_pks=Case(When(kb_stall, then=Value(True)), default=Value(False), output_field=BooleanField()),
        stall_pks_not_started=Case(
            When(pks_stall, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
        stall_milestone_overdue=Case(
            When(overdue_stall, then=Value(True)), default=Value(False), output_field=BooleanField()
        ),
    )
    signing_stall = Q(stall_kb_without_pks=True) | Q(stall_pks_not_started=True)
    qs = qs.annotate(
        is_stalled=Case(
            When(signing_stall | Q(stall_milestone_overdue=True), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        stalled_since=Case(
            When(signing_stall & Q(stall_milestone_overdue=True) & Q(overdue_since__lt=F("signed_on")),
                 then=F("overdue_since")),
            When(signing_stall, then=F("signed_on")),
            When(stall_milestone_overdue=True, then=F("overdue_since")),
            default=Value(None, output_field=DateField()),
            output_field=DateField(),
        ),
    )
    # Lapsed: expired as of D (the same conditions as the stage) without its follow-up by the end date in force.
    expired = signed & Q(signed_on__isnull=False) & ~terminated & ~completed & ended
    met_by_end = Exists(
        Milestone.objects.filter(
            agreement=OuterRef("pk"), status=Milestone.Status.MET, completed_on__lte=OuterRef("ends_on_in_force")
        )
    )
    renewed_by_end = Exists(
        Agreement.objects.filter(renews=OuterRef("pk"), signed_on__lte=OuterRef("ends_on_in_force"))
    )
    followed_by_end = (is_kb & Q(first_pks_signed_on__lte=F("ends_on_in_force"))) | (
        # No met milestone at all (``last_met_on`` empty): no need to look at the milestones.
        is_pks & Q(last_met_on__isnull=False) & Q(met_by_end)
    )
    qs = qs.annotate(
        is_lapsed=Case(
            When(
                expired,
                then=Case(
                    When(followed_by_end, then=Value(False)),
                    When(renewed_by_end, then=Value(False)),
                    default=Value(True),
                    output_field=BooleanField(),
                ),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    return qs


def lapsed_q() -> Q:
    """Filter on a ``with_status`` queryset: the term ended as of D without its follow-up (``is_lapsed``)."""
    return Q(is_lapsed=True)


def expiring_within_q(days: int, as_of: datetime.date) -> Q:
    """Filter on a ``with_status`` queryset (same ``as_of``): in force as of D and its end date in force within
    ``days`` days, D included (an agreement ending on D is still in force that day)."""
    return Q(stage__in=IN_FORCE_STAGES, ends_on_in_force__gte=as_of, ends_on_in_force__lte=as_of + _days(days))


def no_end_date_q() -> Q:
    """Filter on a ``with_status`` queryset: in force as of D with no end date in force (none recorded, none set
    by an amendment), to be completed."""
    return Q(stage__in=IN_FORCE_STAGES, ends_on_in_force__isnull=True)


def reason_q(reason: str) -> Q:
    """Filter for one stall reason on a ``with_status`` queryset."""
    return {
        StallReason.KB_WITHOUT_PKS: Q(stall_kb_without_pks=True),
        StallReason.PKS_NOT_STARTED: Q(stall_pks_not_started=True),
        StallReason.MILESTONE_OVERDUE: Q(stall_milestone_overdue=True),
    }[reason]


def _age_at_least(as_of: datetime.date, t: Thresholds, days: int) -> Q:
    """The largest age past threshold is ≥ ``days``: true when any reason's age is."""
    return (
        (Q(stall_kb_without_pks=True) & Q(signed_on__lte=as_of - _days(t.kb_follow_up_days + days)))
        | (Q(stall_pks_not_started=True) & Q(signed_on__lte=as_of - _days(t.implementation_start_days + days)))
        | (Q(stall_milestone_overdue=True) & Q(overdue_since__lte=as_of - _days(t.overdue_grace_days + days)))
    )


def age_bucket_q(bucket: str, as_of: datetime.date, t: Thresholds) -> Q:
    """Filter stalled agreements whose age past the threshold (the largest over reasons) is in ``bucket``."""
    for label, low, high in AGE_BUCKETS:
        if label == bucket:
            q = Q(is_stalled=True) & _age_at_least(as_of, t, low)
            if high is not None:
                q &= ~_age_at_least(as_of, t, high + 1)
            return q
    raise ValueError(f"unknown age bucket {bucket!r}")


def reasons_of(agreement) -> list[str]:
    """The reason codes of an annotated agreement, sorted."""
    flags = {
        StallReason.KB_WITHOUT_PKS: agreement.stall_kb_without_pks,
        StallReason.PKS_NOT_STARTED: agreement.stall_pks_not_started,
        StallReason.MILESTONE_OVERDUE: agreement.stall_milestone_overdue,
    }
    return sorted(str(code) for code, flag in flags.items() if flag)


def reason_details(agreement, as_of: datetime.date, thresholds: Thresholds | None = None) -> list[dict]:
    """Each stall reason of an annotated agreement: code, label, the date it counts from (``since``: the
    signing date, or the earliest due date of the overdue milestones, ``since_kind`` "signed" or "due"),
    ``days`` since then, the ``threshold`` in force and ``past``, the days beyond it (what the dashboard's
    age buckets count). Two numbers, two meanings: pages show both, each with its own words."""
    thresholds = thresholds or Thresholds.current()
    rows = []
    for code in reasons_of(agreement):
        overdue = code == StallReason.MILESTONE_OVERDUE
        since = agreement.overdue_since if overdue else agreement.signed_on
        days = (as_of - since).days if since else None
        threshold = thresholds.for_reason(code)
        rows.append({
            "code": code,
            "label": StallReason(code).label,
            "since": since,
            "since_kind": "due" if overdue else "signed",
            "days": days,
            "threshold": threshold,
            "past": days - threshold if days is not None else None,
        })
    return rows


def days_stalled(agreement, as_of: datetime.date) -> int | None:
    """D − ``stalled_since`` for an annotated agreement; None when it is not stalled."""
    if agreement.stalled_since is None:
        return None
    return (as_of - agreement.stalled_since).days


# --- where and why a stalled agreement stopped ----------------------------------------------------------
#
# Where: the first of its steps (``AgreementStep``, in their order) not done as of D. A step counts as done as of D
# when its status is done and ``done_on`` <= D; a step that does not apply (no date, like a cancelled milestone)
# is passed over at every D. Why: the obstacles (``Obstacle``) open as of D, raised on or before D and not resolved
# by D. Both are read only where they are shown or filtered on (the dashboard, the list's filters, the agreement
# page, ``manage.py stalled``): ``with_status`` does not compute them.


def _first_step_not_done(as_of: datetime.date, field: str) -> Subquery:
    steps = (
        AgreementStep.objects.filter(agreement=OuterRef("pk"))
        .exclude(status=AgreementStep.Status.NOT_APPLICABLE)
        .exclude(status=AgreementStep.Status.DONE, done_on__lte=as_of)
        .order_by("order", "pk")
        .values(field)[:1]
    )
    return Subquery(steps, output_field=CharField())


def with_stuck_at(queryset: QuerySet, as_of: datetime.date, *, title: bool = False) -> QuerySet:
    """Annotate a ``with_status`` queryset (same ``as_of``) with ``stuck_at``: for an agreement stalled as of D,
    the code of its first step not done as of D; None when it is not stalled, has no steps, or every step is done
    or does not apply. ``title=True`` adds ``stuck_at_title``, that step's title (for a page; one more subquery)."""
    def stalled_only(expression):
        return Case(When(is_stalled=True, then=expression), default=Value(None), output_field=CharField())

    queryset = queryset.annotate(stuck_at=stalled_only(_first_step_not_done(as_of, "code")))
    if title:
        queryset = queryset.annotate(stuck_at_title=stalled_only(_first_step_not_done(as_of, "title")))
    return queryset


def template_steps() -> list[tuple[str, str, str]]:
    """Every template's steps as (code, title, template name), in template and step order (one query): the steps
    ``stuck_at`` can name (codes are unique across templates)."""
    steps = (
        TemplateStep.objects.select_related("template")
        .order_by("template__document_type", "template__cooperation_kind", "order")
        .only("code", "title", "template__name")
    )
    return [(s.code, s.title, s.template.name) for s in steps]


def step_choices() -> list[tuple[str, str]]:
    """``template_steps`` as (code, title) choices. A title two templates share is followed by its template's name
    ("Susun PKS · Tahapan KB …")."""
    steps = template_steps()
    counts = collections.Counter(title for _code, title, _name in steps)
    return [(code, f"{title} · {name}" if counts[title] > 1 else title) for code, title, name in steps]


def obstacle_open_q(as_of: datetime.date, prefix: str = "") -> Q:
    """Obstacles open as of D: raised on or before D and not resolved by D (``prefix``: the path from the queried
    model to the obstacle, as ``"obstacles__"``)."""
    return Q(**{f"{prefix}raised_on__lte": as_of}) & (
        Q(**{f"{prefix}resolved_on__isnull": True}) | Q(**{f"{prefix}resolved_on__gt": as_of})
    )


def obstacle_is_open(obstacle, as_of: datetime.date) -> bool:
    """``obstacle_open_q`` for one obstacle in memory."""
    return obstacle.raised_on <= as_of and (obstacle.resolved_on is None or obstacle.resolved_on > as_of)


def has_open_obstacle(as_of: datetime.date, category: str | None = None) -> Exists:
    """For an agreement queryset: it has an obstacle open as of D (of ``category`` when given)."""
    obstacles = Obstacle.objects.filter(obstacle_open_q(as_of), agreement=OuterRef("pk"))
    if category is not None:
        obstacles = obstacles.filter(category=category)
    return Exists(obstacles)


# --- the stored facts the rules read --------------------------------------------------------------


def fact_expressions(agreement_model=Agreement, milestone_model=Milestone) -> dict:
    """One correlated subquery per fact column of ``Agreement`` (models passed in for the migration).

    The facts hold for every as-of date: "started on or before D" is "the earliest start ≤ D", and so on.
    """
    milestones = milestone_model.objects.filter(agreement=OuterRef("pk")).order_by().values("agreement")
    live = milestones.exclude(status="cancelled")
    not_met = live.exclude(status="met")

    def one(qs, aggregate):
        return Subquery(qs.annotate(value=aggregate).values("value")[:1])

    # Started: its start date, or (met without one) its completion date; completed_on ≥ started_on.
    started = Coalesce(F("started_on"), Case(When(status="met", then=F("completed_on"))))
    return {
        "first_pks_signed_on": one(
            agreement_model.objects.filter(parent=OuterRef("pk"), signed_on__isnull=False).order_by().values("parent"),
            Min("signed_on"),
        ),
        "first_started_on": one(milestones, Min(started)),
        "live_milestones": Coalesce(one(live, Count("pk")), 0),
        "open_milestones": Coalesce(one(not_met, Count("pk")), 0),
        "last_met_on": one(live.filter(status="met"), Max("completed_on")),
        "first_open_due_on": one(not_met, Min("due_on")),
    }


FACT_FIELDS = (
    "first_pks_signed_on", "first_started_on", "live_milestones", "open_milestones", "last_met_on",
    "first_open_due_on",
)


def refresh_facts(agreement_ids=None) -> None:
    """Recompute the stored facts of these agreements (all when None), in one UPDATE, then their stored status
    for today (``write_status``; all of them and the thresholds row's stamp when None: ``refresh_status``).

    Called by the signals in ``agreements.signals`` after every save or delete of a milestone, an amendment or an
    agreement, and by the bulk paths (import, demo data, benchmark seeding).
    """
    qs = Agreement.objects.all()
    if agreement_ids is not None:
        ids = {pk for pk in agreement_ids if pk is not None}
        if not ids:
            return
        qs = qs.filter(pk__in=ids)
    with transaction.atomic():
        # Lock the rows first (in a stable order), so that the UPDATE is a new statement with a fresh
        # snapshot: on PostgreSQL two transactions changing two milestones of one agreement would
        # otherwise each compute the facts without the other's change, and the last one would win.
        list(qs.select_for_update().order_by("pk").values_list("pk", flat=True))
        qs.update(**fact_expressions())
        datacache.bump_on_commit()  # the bulk paths send no signal: the cached figures follow here
        if agreement_ids is None:
            refresh_status()
        else:
            write_status_of(ids, today(), Thresholds.current())


# --- today's status, stored -------------------------------------------------------------------------------
#
# ``with_status`` as of today is what nearly every page asks; computed, it evaluates the rules over every row of every
# aggregate. So it is stored beside the facts (``Agreement.status_*``) and read as plain columns when the thresholds
# row's stamp (``StallSettings.status_date`` and ``status_thresholds``) says it holds for today with the thresholds in
# force. Every write that feeds it refreshes the agreements it touches (``refresh_facts``, from the signals and the
# bulk paths); the whole register is refreshed, and stamped, when the date changes in Jakarta (the daily job, or the
# first page that finds yesterday's stamp) and when the thresholds change. Until then pages compute: never wrong.


# Compiling ``computed_status`` to SQL costs tens of milliseconds (its expressions nest); a save refreshes one to three
# agreements, so the UPDATE for one agreement is compiled once per (database, day, thresholds) and reused with that
# agreement's id in place of a sentinel parameter.
_SENTINEL_PK = -9_876_543_210
_one_row_sql: dict[tuple, tuple[str, list, int]] = {}


def _status_update_sql(qs: QuerySet, as_of: datetime.date, t: Thresholds) -> tuple[str, list]:
    computed = computed_status(qs.order_by(), as_of, t).annotate(status_of=F("pk")).values("status_of", *STATUS_FIELDS)
    sql, params = computed.query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(Agreement._meta.db_table)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    sets = ", ".join(f"{qn('status_' + name)} = s.{qn(name)}" for name in STATUS_FIELDS)
    changed = " OR ".join(f"{table}.{qn('status_' + name)} {distinct} s.{qn(name)}" for name in STATUS_FIELDS)
    return (f"UPDATE {table} SET {sets} FROM ({sql}) AS s WHERE {table}.{qn('id')} = s.{qn('status_of')} "
            f"AND ({changed})", list(params))


def write_status_of(ids, as_of: datetime.date, t: Thresholds) -> int:
    """``write_status`` for the agreements with these ids, one compiled UPDATE reused per id (few ids: a save)."""
    ids = sorted({pk for pk in ids if pk is not None})
    if len(ids) > 20:
        return write_status(Agreement.objects.filter(pk__in=ids), as_of, t)
    key = (connection.alias, connection.vendor, as_of, t.key())
    if key not in _one_row_sql:
        if len(_one_row_sql) > 16:
            _one_row_sql.clear()
        sql, params = _status_update_sql(Agreement.objects.filter(pk=_SENTINEL_PK), as_of, t)
        _one_row_sql[key] = (sql, params, params.index(_SENTINEL_PK))
    sql, params, at = _one_row_sql[key]
    written = 0
    with connection.cursor() as cursor:
        for pk in ids:
            cursor.execute(sql, [*params[:at], pk, *params[at + 1:]])
            written += cursor.rowcount
    return written


def write_status(qs: QuerySet, as_of: datetime.date, t: Thresholds) -> int:
    """Store ``computed_status`` as of ``as_of`` in the ``status_*`` columns of the agreements of ``qs``, in one
    UPDATE that writes only the rows whose status changed; the number of rows written."""
    sql, params = _status_update_sql(qs, as_of, t)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def refresh_status(as_of: datetime.date | None = None) -> int:
    """Store every agreement's status for today with the thresholds in force, and stamp the thresholds row with
    that day and those thresholds (in one transaction, the thresholds row locked); the rows that changed."""
    as_of = as_of or today()
    with transaction.atomic():
        StallSettings.current()
        settings = StallSettings.objects.select_for_update().get(pk=1)
        t = Thresholds(settings.kb_follow_up_days, settings.implementation_start_days, settings.overdue_grace_days)
        written = write_status(Agreement.objects.all(), as_of, t)
        StallSettings.objects.filter(pk=1).update(status_date=as_of, status_thresholds=t.key())
    return written


def refresh_status_soon() -> None:
    """Yesterday's stamp seen by a page: enqueue ``tasks.refresh_status`` once for today (the periodic job's slot,
    so the daily job and the pages never refresh twice); the worker runs it, or this request where tasks run at
    once (the embedded default)."""
    from . import periodic

    periodic.claim_once("refresh_status", today().isoformat())


def stale_status(as_of: datetime.date | None = None) -> list[int]:
    """Agreements whose stored status differs from the computed one as of today with the thresholds in force
    (should be none; for the tests and ``refresh_stall_facts --check``). None while the stamp says the stored status
    does not hold for today: the pages then compute it and do not read it."""
    as_of = as_of or today()
    t = Thresholds.current()
    if t.status_date != as_of:
        return []
    computed = computed_status(Agreement.objects.all(), as_of, t)
    rows = computed.values_list("pk", *STATUS_FIELDS, *(f"status_{name}" for name in STATUS_FIELDS)).order_by("pk")
    n = len(STATUS_FIELDS)
    return [row[0] for row in rows if row[1 : 1 + n] != row[1 + n :]]


def stale_facts() -> list[int]:
    """Agreements whose stored facts differ from their milestones and PKSs (should be none; for tests
    and the ``refresh_stall_facts --check`` command)."""
    fresh = Agreement.objects.annotate(**{f"fresh_{name}": expr for name, expr in fact_expressions().items()})
    columns = [*FACT_FIELDS, *(f"fresh_{name}" for name in FACT_FIELDS)]
    n = len(FACT_FIELDS)
    return sorted(
        row[0] for row in fresh.values_list("pk", *columns).order_by("pk") if row[1 : 1 + n] != row[1 + n :]
    )
