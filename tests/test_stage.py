"""The lifecycle stage, derived in SQL from the stored facts as of a date (agreements.stalls.with_status).

Precedence: terminated > draft > completed > expired > implementing / followed_up > signed.
"""

import datetime

import pytest

from agreements import stalls
from agreements.models import STAGE_ORDER, Agreement, Milestone, Stage
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

pytestmark = pytest.mark.django_db

S = datetime.date(2024, 1, 15)  # the signing date used throughout
D = datetime.date(2024, 7, 1)  # the default as-of date
DAY = datetime.timedelta(days=1)
MET = Milestone.Status.MET
CANCELLED = Milestone.Status.CANCELLED


def stage_of(agreement, as_of=D):
    row = stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of, thresholds=stalls.Thresholds()).get()
    assert row.stage_order == STAGE_ORDER[row.stage]
    return row.stage


def pks_with(*milestones, **fields):
    """A PKS signed on S with the given milestones (dicts of Milestone fields)."""
    pks = PksFactory(signed_on=fields.pop("signed_on", S), **fields)
    for i, m in enumerate(milestones):
        MilestoneFactory(agreement=pks, title=f"Tahap {i}", **m)
    return pks


def kb_followed_by_pks_on(pks_signed_on, **fields):
    kb = AgreementFactory(signed_on=S, **fields)
    PksFactory(parent=kb, signed_on=pks_signed_on)
    return kb


def met_on(day, started=None):
    return {"status": MET, "started_on": started, "completed_on": day}


CASES = [
    # terminated
    pytest.param(lambda: AgreementFactory(terminated_on=D), D, Stage.TERMINATED, id="terminated-on-D"),
    pytest.param(lambda: AgreementFactory(terminated_on=D + DAY), D, Stage.SIGNED, id="terminated-after-D"),
    # draft
    pytest.param(lambda: AgreementFactory(signed_on=None), D, Stage.DRAFT, id="draft-never-signed"),
    pytest.param(lambda: AgreementFactory(signed_on=D + DAY), D, Stage.DRAFT, id="draft-signed-after-D"),
    pytest.param(lambda: AgreementFactory(signed_on=D), D, Stage.SIGNED, id="signed-on-D"),
    # completed
    pytest.param(lambda: pks_with(met_on(D)), D, Stage.COMPLETED, id="completed-met-on-D"),
    pytest.param(
        lambda: pks_with(met_on(S), {"status": CANCELLED}), D, Stage.COMPLETED, id="completed-cancelled-ignored"
    ),
    pytest.param(
        lambda: pks_with(met_on(S), {"status": "scheduled"}), D, Stage.IMPLEMENTING, id="one-of-two-met-implementing"
    ),
    pytest.param(lambda: pks_with(met_on(D + DAY)), D, Stage.SIGNED, id="met-after-D-not-started"),
    pytest.param(
        lambda: pks_with(met_on(D + DAY, started=S)), D, Stage.IMPLEMENTING, id="met-after-D-started-before"
    ),
    pytest.param(lambda: pks_with({"status": CANCELLED}), D, Stage.SIGNED, id="only-cancelled-not-completed"),
    pytest.param(lambda: pks_with(), D, Stage.SIGNED, id="pks-without-milestones-signed"),
    pytest.param(
        lambda: pks_with({"status": "partially_met", "completed_on": S}), D, Stage.SIGNED, id="partially-met-not-met"
    ),
    # expired
    pytest.param(lambda: AgreementFactory(ends_on=D - DAY), D, Stage.EXPIRED, id="expired-ended-before-D"),
    pytest.param(lambda: AgreementFactory(ends_on=D), D, Stage.SIGNED, id="ends-on-D-not-expired"),
    # implementing
    pytest.param(lambda: pks_with({"started_on": D}), D, Stage.IMPLEMENTING, id="implementing-started-on-D"),
    pytest.param(lambda: pks_with({"started_on": D + DAY}), D, Stage.SIGNED, id="started-after-D"),
    pytest.param(
        lambda: pks_with({"status": CANCELLED, "started_on": S}), D, Stage.IMPLEMENTING,
        id="cancelled-after-start-still-implementing",
    ),
    pytest.param(
        lambda: _kb_with_started_milestone(), D, Stage.SIGNED,
        id="kb-started-milestone-is-not-implementing",
    ),
    # followed up
    pytest.param(lambda: kb_followed_by_pks_on(D), D, Stage.FOLLOWED_UP, id="followed-up-pks-signed-on-D"),
    pytest.param(lambda: kb_followed_by_pks_on(D + DAY), D, Stage.SIGNED, id="pks-signed-after-D"),
    pytest.param(lambda: kb_followed_by_pks_on(None), D, Stage.SIGNED, id="pks-draft-only"),
    # signed
    pytest.param(lambda: AgreementFactory(), D, Stage.SIGNED, id="signed-kb"),
    pytest.param(lambda: PksFactory(), D, Stage.SIGNED, id="signed-pks"),
    # precedence conflicts
    pytest.param(
        lambda: pks_with(met_on(S), terminated_on=D), D, Stage.TERMINATED, id="terminated-beats-completed"
    ),
    pytest.param(
        lambda: AgreementFactory(ends_on=S, terminated_on=D), D, Stage.TERMINATED, id="terminated-beats-expired"
    ),
    pytest.param(lambda: pks_with(met_on(S), ends_on=S), D, Stage.COMPLETED, id="completed-beats-expired"),
    pytest.param(
        lambda: pks_with({"started_on": S}, ends_on=D - DAY), D, Stage.EXPIRED, id="expired-beats-implementing"
    ),
    pytest.param(
        lambda: kb_followed_by_pks_on(S, ends_on=D - DAY), D, Stage.EXPIRED, id="expired-beats-followed-up"
    ),
    pytest.param(
        lambda: AgreementFactory(signed_on=None, ends_on=S), D, Stage.DRAFT, id="draft-beats-expired"
    ),
    pytest.param(
        lambda: AgreementFactory(signed_on=D + DAY, ends_on=D + 2 * DAY), D, Stage.DRAFT,
        id="draft-as-of-D-before-signing",
    ),
]


def _kb_with_started_milestone():
    kb = AgreementFactory(signed_on=S)
    MilestoneFactory(agreement=kb, started_on=S)
    return kb


@pytest.mark.parametrize("build, as_of, expected", CASES)
def test_stage(build, as_of, expected):
    assert stage_of(build(), as_of) == expected


# One PKS over time: the stage as of past dates comes from the same facts.
HISTORY = [
    (datetime.date(2024, 1, 14), Stage.DRAFT),
    (S, Stage.SIGNED),
    (datetime.date(2024, 2, 29), Stage.SIGNED),
    (datetime.date(2024, 3, 1), Stage.IMPLEMENTING),
    (datetime.date(2024, 4, 30), Stage.IMPLEMENTING),
    (datetime.date(2024, 5, 1), Stage.COMPLETED),
    (datetime.date(2025, 1, 1), Stage.COMPLETED),  # ended 2024-12-31: completed beats expired
    (datetime.date(2025, 2, 28), Stage.COMPLETED),
    (datetime.date(2025, 3, 1), Stage.TERMINATED),
]


@pytest.mark.parametrize("as_of, expected", HISTORY, ids=[str(d) for d, _ in HISTORY])
def test_stage_as_of_a_past_date(as_of, expected):
    pks = pks_with(
        met_on(datetime.date(2024, 5, 1), started=datetime.date(2024, 3, 1)),
        ends_on=datetime.date(2024, 12, 31),
        terminated_on=datetime.date(2025, 3, 1),
    )
    assert stage_of(pks, as_of) == expected


KB_HISTORY = [
    (datetime.date(2024, 6, 30), Stage.SIGNED),
    (datetime.date(2024, 7, 1), Stage.FOLLOWED_UP),  # its PKS signed that day
    (datetime.date(2025, 1, 15), Stage.FOLLOWED_UP),  # ends that day
    (datetime.date(2025, 1, 16), Stage.EXPIRED),
]


@pytest.mark.parametrize("as_of, expected", KB_HISTORY, ids=[str(d) for d, _ in KB_HISTORY])
def test_kb_stage_as_of_a_past_date(as_of, expected):
    kb = kb_followed_by_pks_on(datetime.date(2024, 7, 1), ends_on=datetime.date(2025, 1, 15))
    assert stage_of(kb, as_of) == expected


def test_default_as_of_is_today():
    kb = AgreementFactory(signed_on=stalls.today())
    later = AgreementFactory(signed_on=stalls.today() + DAY)
    rows = dict(stalls.with_status(thresholds=stalls.Thresholds()).values_list("pk", "stage"))
    assert rows == {kb.pk: Stage.SIGNED, later.pk: Stage.DRAFT}


def test_lists_sort_by_lifecycle_order():
    expected = {
        Stage.DRAFT: AgreementFactory(signed_on=None),
        Stage.SIGNED: AgreementFactory(),
        Stage.FOLLOWED_UP: kb_followed_by_pks_on(S),  # its PKS is signed on S, not started: signed
        Stage.IMPLEMENTING: pks_with({"started_on": S}),
        Stage.COMPLETED: pks_with(met_on(S)),
        Stage.EXPIRED: AgreementFactory(ends_on=S),
        Stage.TERMINATED: AgreementFactory(terminated_on=S),
    }
    qs = stalls.with_status(as_of=D, thresholds=stalls.Thresholds()).order_by("stage_order", "pk")
    stages = [row.stage for row in qs]
    # The KB's PKS is also listed, at "signed".
    assert stages == [Stage.DRAFT, Stage.SIGNED, Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING,
                      Stage.COMPLETED, Stage.EXPIRED, Stage.TERMINATED]
    assert stages != sorted(stages)  # not alphabetical
    by_pk = {row.pk: row.stage for row in qs}
    assert all(by_pk[a.pk] == stage for stage, a in expected.items())
    assert list(Stage.values) == ["draft", "signed", "followed_up", "implementing", "completed", "expired",
                                  "terminated"]


def test_stage_is_filterable_in_sql():
    pks_with(met_on(S))
    AgreementFactory()
    qs = stalls.with_status(as_of=D, thresholds=stalls.Thresholds())
    assert qs.filter(stage=Stage.COMPLETED).count() == 1
    assert qs.filter(stage=Stage.SIGNED).count() == 1
