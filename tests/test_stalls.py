"""The stall rules, as of a date, table-driven (agreements.stalls.with_status).

Defaults: KB_FOLLOW_UP_DAYS 365, IMPLEMENTATION_START_DAYS 180, OVERDUE_GRACE_DAYS 30. A rule fires when
D − S (or D − due date) is strictly more than its threshold: exactly the threshold is not stalled, one
day more is.
"""

import dataclasses
import datetime
from collections.abc import Callable

import pytest

from agreements import stalls
from agreements.models import Agreement, Milestone, Stage, StallReason, StallSettings
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

pytestmark = pytest.mark.django_db

S = datetime.date(2024, 1, 15)  # the signing date used throughout
DAY = datetime.timedelta(days=1)
KB = StallReason.KB_WITHOUT_PKS
PKS = StallReason.PKS_NOT_STARTED
OVERDUE = StallReason.MILESTONE_OVERDUE
MET = Milestone.Status.MET
CANCELLED = Milestone.Status.CANCELLED
DEFAULTS = stalls.Thresholds()


def day(n: int) -> datetime.date:
    """S + n days."""
    return S + n * DAY


def annotated(agreement, as_of, thresholds=DEFAULTS):
    return stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of, thresholds=thresholds).get()


def pks_with(*milestones, **fields):
    """A PKS signed on S (unless told) with the given milestones (dicts of Milestone fields)."""
    pks = PksFactory(signed_on=fields.pop("signed_on", S), **fields)
    for i, m in enumerate(milestones):
        MilestoneFactory(agreement=pks, title=f"Tahap {i}", **m)
    return pks


def kb(**fields):
    return AgreementFactory(signed_on=fields.pop("signed_on", S), **fields)


def kb_followed_on(pks_signed_on, **fields):
    parent = kb(**fields)
    PksFactory(parent=parent, signed_on=pks_signed_on)
    return parent


def kb_with(*milestones, **fields):
    agreement = kb(**fields)
    for i, m in enumerate(milestones):
        MilestoneFactory(agreement=agreement, title=f"Tahap {i}", **m)
    return agreement


STARTED = {"started_on": S, "due_on": day(5000)}  # started at signing, due far away: never overdue


@dataclasses.dataclass
class Case:
    build: Callable
    as_of: datetime.date
    reasons: list
    days: int | None = None
    stage: str | None = None


CASES = [
    # KB_WITHOUT_PKS at its boundary
    pytest.param(Case(kb, day(365), []), id="kb-exactly-365-not-stalled"),
    pytest.param(Case(kb, day(366), [KB], 366, Stage.SIGNED), id="kb-366-stalled"),
    pytest.param(Case(lambda: kb_followed_on(day(366)), day(366), [], stage=Stage.FOLLOWED_UP),
                 id="kb-pks-signed-on-D"),
    pytest.param(Case(lambda: kb_followed_on(day(367)), day(366), [KB], 366, Stage.SIGNED),
                 id="kb-pks-signed-after-D-still-stalled"),
    pytest.param(Case(lambda: kb_followed_on(None), day(366), [KB], 366), id="kb-pks-unsigned-still-stalled"),
    pytest.param(Case(lambda: kb(ends_on=day(100)), day(366), [], stage=Stage.EXPIRED),
                 id="expired-kb-without-pks-is-expired-not-stalled"),
    pytest.param(Case(lambda: kb(ends_on=day(400)), day(400), [KB], 400, Stage.SIGNED),
                 id="kb-ending-on-D-still-in-force-and-stalled"),
    pytest.param(Case(lambda: kb(ends_on=day(399)), day(400), [], stage=Stage.EXPIRED),
                 id="kb-ended-the-day-before-D-not-stalled"),
    pytest.param(Case(lambda: pks_with({"due_on": day(10)}, ends_on=day(300)), day(400), [], stage=Stage.EXPIRED),
                 id="expired-pks-overdue-not-stalled"),
    pytest.param(Case(lambda: kb(ends_on=day(100)), day(365), [], stage=Stage.EXPIRED), id="expired-kb-not-yet-due"),
    # PKS_NOT_STARTED at its boundary
    pytest.param(Case(pks_with, day(180), []), id="pks-no-milestones-exactly-180"),
    pytest.param(Case(pks_with, day(181), [PKS], 181, Stage.SIGNED), id="pks-no-milestones-181-stalled"),
    pytest.param(Case(lambda: pks_with({"due_on": day(5000)}), day(181), [PKS], 181), id="pks-scheduled-not-started"),
    pytest.param(Case(lambda: pks_with({"due_on": day(5000), "started_on": day(181)}), day(181), [],
                      stage=Stage.IMPLEMENTING), id="pks-started-on-D"),
    pytest.param(Case(lambda: pks_with({"due_on": day(5000), "started_on": day(182)}), day(181), [PKS], 181),
                 id="pks-started-after-D-still-stalled"),
    pytest.param(Case(lambda: pks_with({"status": CANCELLED, "due_on": day(5000)}), day(181), [PKS], 181),
                 id="pks-only-cancelled-milestone-not-started"),
    # MILESTONE_OVERDUE at its boundary (due S+10, grace 30)
    pytest.param(Case(lambda: pks_with({**STARTED, "due_on": day(10)}), day(40), [], stage=Stage.IMPLEMENTING),
                 id="overdue-exactly-grace-not-stalled"),
    pytest.param(Case(lambda: pks_with({**STARTED, "due_on": day(10)}), day(41), [OVERDUE], 31,
                      Stage.IMPLEMENTING), id="overdue-one-day-past-grace"),
    pytest.param(Case(lambda: pks_with({**STARTED, "due_on": day(10)}, {"due_on": day(100)}), day(41), [OVERDUE], 31),
                 id="overdue-one-of-two"),
    pytest.param(Case(lambda: pks_with(STARTED, {"status": CANCELLED, "due_on": day(10)}), day(41), []),
                 id="cancelled-milestone-never-overdue"),
    pytest.param(Case(lambda: pks_with(STARTED, {"status": MET, "due_on": day(10), "completed_on": day(41)}),
                      day(41), []), id="met-on-D-not-overdue"),
    pytest.param(Case(lambda: pks_with(STARTED, {"status": MET, "due_on": day(10), "completed_on": day(42)}),
                      day(41), [OVERDUE], 31), id="met-after-D-still-overdue"),
    pytest.param(Case(lambda: pks_with(STARTED, {"status": "partially_met", "due_on": day(10), "completed_on": day(20)}),
                      day(41), [OVERDUE], 31), id="partially-met-is-overdue"),
    pytest.param(Case(lambda: kb_with({"due_on": day(10)}), day(41), [OVERDUE], 31), id="kb-milestone-overdue"),
    # never stalled: terminated, not signed, completed
    pytest.param(Case(lambda: kb(terminated_on=day(400)), day(400), [], stage=Stage.TERMINATED),
                 id="terminated-on-D-never-stalled"),
    pytest.param(Case(lambda: kb(terminated_on=day(401)), day(400), [KB], 400), id="terminated-after-D-stalled"),
    pytest.param(Case(lambda: pks_with({"due_on": day(10)}, terminated_on=day(300)), day(400), [],
                      stage=Stage.TERMINATED), id="terminated-pks-overdue-never-stalled"),
    pytest.param(Case(lambda: kb(signed_on=None), day(400), [], stage=Stage.DRAFT), id="unsigned-never-stalled"),
    pytest.param(Case(lambda: kb(signed_on=day(401)), day(400), [], stage=Stage.DRAFT),
                 id="signed-after-D-never-stalled"),
    pytest.param(Case(lambda: pks_with({"status": MET, "due_on": day(10), "completed_on": day(60)}), day(1000), [],
                      stage=Stage.COMPLETED), id="completed-never-stalled"),
    pytest.param(Case(lambda: pks_with({"status": MET, "due_on": day(10), "completed_on": day(60)},
                                       {"status": CANCELLED, "due_on": day(20)}, ends_on=day(100)), day(1000), [],
                      stage=Stage.COMPLETED), id="completed-cancelled-and-expired-never-stalled"),
    # several reasons at once; days_stalled is the largest
    pytest.param(Case(lambda: pks_with({"due_on": day(5)}), day(200), [OVERDUE, PKS], 200, Stage.SIGNED),
                 id="pks-not-started-and-overdue-signing-larger"),
    pytest.param(Case(lambda: pks_with({"due_on": day(-30)}), day(200), [OVERDUE, PKS], 230),
                 id="pks-not-started-and-overdue-overdue-larger"),
    pytest.param(Case(lambda: kb_with({"due_on": day(10)}), day(366), [KB, OVERDUE], 366),
                 id="kb-without-pks-and-overdue"),
    pytest.param(Case(lambda: kb_with({"due_on": day(10)}), day(365), [OVERDUE], 355), id="kb-overdue-only"),
]


@pytest.mark.parametrize("case", CASES)
def test_stall_rules(case):
    agreement = case.build()
    row = annotated(agreement, case.as_of)
    assert stalls.reasons_of(row) == sorted(str(r) for r in case.reasons)
    assert row.is_stalled is bool(case.reasons)
    assert stalls.days_stalled(row, case.as_of) == case.days
    if case.stage is not None:
        assert row.stage == case.stage
    # The per-reason filters and is_stalled agree with the annotations, in SQL.
    qs = stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=case.as_of, thresholds=DEFAULTS)
    for reason in StallReason.values:
        assert qs.filter(stalls.reason_q(reason)).exists() is (reason in case.reasons)
    assert qs.filter(is_stalled=True).exists() is bool(case.reasons)


def test_days_stalled_per_reason_and_max():
    """Per reason: D − S for the signing rules, D − the earliest overdue due date; the value is the max."""
    pks = pks_with(
        {"due_on": day(20)},
        {"due_on": day(50)},
        {"due_on": day(300)},  # not overdue as of S+200
        {"status": CANCELLED, "due_on": day(1)},  # ignored
        {"status": MET, "due_on": day(2), "completed_on": day(250)},  # met only after D: overdue as of D
    )
    as_of = day(200)
    row = annotated(pks, as_of)
    assert stalls.reasons_of(row) == [OVERDUE, PKS]
    assert row.overdue_since == day(2)
    per_reason = {PKS: (as_of - row.signed_on).days, OVERDUE: (as_of - row.overdue_since).days}
    assert per_reason == {PKS: 200, OVERDUE: 198}
    assert stalls.days_stalled(row, as_of) == max(per_reason.values()) == 200
    assert row.stalled_since == S


def test_past_as_of_date_gives_the_past_state():
    """The same facts, evaluated at past dates: a KB followed late, a PKS started late."""
    parent = kb()
    late_pks = PksFactory(parent=parent, signed_on=day(400))
    MilestoneFactory(agreement=late_pks, started_on=day(600), due_on=day(900))
    expected = {
        day(365): (set(), set()),
        day(366): ({KB}, set()),
        day(399): ({KB}, set()),
        day(400): (set(), set()),
        day(580): (set(), set()),  # the PKS is 180 days old
        day(581): (set(), {PKS}),
        day(599): (set(), {PKS}),
        day(600): (set(), set()),
    }
    for as_of, (kb_reasons, pks_reasons) in expected.items():
        assert set(stalls.reasons_of(annotated(parent, as_of))) == kb_reasons, as_of
        assert set(stalls.reasons_of(annotated(late_pks, as_of))) == pks_reasons, as_of


# --- Age past the threshold, in buckets ------------------------------------------------------------

BUCKETS = [label for label, _low, _high in stalls.AGE_BUCKETS]


@pytest.mark.parametrize(
    "build, as_of, bucket",
    [
        # KB: age = D − S − 365
        pytest.param(kb, day(365), None, id="kb-age-0-not-stalled"),
        pytest.param(kb, day(366), "0-182", id="kb-age-1"),
        pytest.param(kb, day(365 + 182), "0-182", id="kb-age-182"),
        pytest.param(kb, day(365 + 183), "183-365", id="kb-age-183"),
        pytest.param(kb, day(365 + 365), "183-365", id="kb-age-365"),
        pytest.param(kb, day(365 + 366), "366-730", id="kb-age-366"),
        pytest.param(kb, day(365 + 730), "366-730", id="kb-age-730"),
        pytest.param(kb, day(365 + 731), "731+", id="kb-age-731"),
        pytest.param(kb, day(365 + 5000), "731+", id="kb-age-5000"),
        # PKS not started: age = D − S − 180
        pytest.param(pks_with, day(180 + 182), "0-182", id="pks-age-182"),
        pytest.param(pks_with, day(180 + 183), "183-365", id="pks-age-183"),
        # overdue milestone due S+10 on a started PKS: age = D − (S+10) − 30
        pytest.param(lambda: pks_with({**STARTED, "due_on": day(10)}), day(40 + 365), "183-365", id="overdue-age-365"),
        pytest.param(lambda: pks_with({**STARTED, "due_on": day(10)}), day(40 + 366), "366-730", id="overdue-age-366"),
        # The largest age over reasons, not the age of the reason with the most days:
        # KB 600 days (age 235), overdue 400 days (age 370) → 366-730.
        pytest.param(lambda: kb_with({"due_on": day(200)}), day(600), "366-730", id="max-age-over-reasons"),
    ],
)
def test_age_buckets_at_their_edges(build, as_of, bucket):
    agreement = build()
    qs = stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of, thresholds=DEFAULTS)
    matching = [label for label in BUCKETS if qs.filter(stalls.age_bucket_q(label, as_of, DEFAULTS)).exists()]
    assert matching == ([] if bucket is None else [bucket])


def test_unknown_age_bucket_is_refused():
    with pytest.raises(ValueError):
        stalls.age_bucket_q("1000-2000", S, DEFAULTS)


# --- Thresholds from StallSettings ----------------------------------------------------------------


@pytest.mark.parametrize(
    "build, field, as_of, reason",
    [
        pytest.param(kb, "kb_follow_up_days", day(150), KB, id="kb_follow_up_days"),
        pytest.param(pks_with, "implementation_start_days", day(150), PKS, id="implementation_start_days"),
        pytest.param(lambda: pks_with({**STARTED, "due_on": day(10)}), "overdue_grace_days", day(25), OVERDUE,
                     id="overdue_grace_days"),
    ],
)
def test_thresholds_changed_through_settings_take_effect(build, field, as_of, reason):
    agreement = build()
    qs = Agreement.objects.filter(pk=agreement.pk)
    assert not stalls.with_status(qs, as_of=as_of).get().is_stalled  # the defaults are in force
    days = (as_of - (S if reason != OVERDUE else day(10))).days
    settings = StallSettings.current()
    setattr(settings, field, days)  # exactly the threshold: not stalled
    settings.save()
    assert not stalls.with_status(qs, as_of=as_of).get().is_stalled
    setattr(settings, field, days - 1)  # one day less: stalled
    settings.save()
    assert getattr(stalls.Thresholds.current(), field) == days - 1
    row = stalls.with_status(qs, as_of=as_of).get()
    assert stalls.reasons_of(row) == [reason]
    assert qs.filter(pk__in=stalls.with_status(as_of=as_of).filter(stalls.reason_q(reason)).values("pk")).exists()


def test_default_thresholds():
    assert stalls.Thresholds.current() == stalls.Thresholds(365, 180, 30)
    assert {r: DEFAULTS.for_reason(r) for r in StallReason.values} == {KB: 365, PKS: 180, OVERDUE: 30}


def test_stalled_list_in_one_query(django_assert_max_num_queries):
    """The rules are SQL: filtering and reading the stall facts is one query whatever the size."""
    for _ in range(5):
        kb()
        pks_with({"due_on": day(5)})
    with django_assert_max_num_queries(1):
        rows = list(stalls.with_status(as_of=day(400), thresholds=DEFAULTS).filter(is_stalled=True))
    assert len(rows) == 10
