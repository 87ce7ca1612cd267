"""The end of an agreement's term, as of a date (agreements.stalls.with_status), table-driven like the stall rules.

An agreement whose term ended (its end date in force before D) is no longer stalled: it is expired, and *lapsed*
when it ended without its follow-up (a KB with no PKS signed by its end date, a PKS with no milestone met by its
end date) and no renewal was signed by then. The end date in force as of D is the new end date of the latest
amendment signed on or before D, else the agreement's own.
"""

import dataclasses
import datetime
from collections.abc import Callable

import pytest

from agreements import stalls
from agreements.models import Agreement, Amendment, Milestone, Stage
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

pytestmark = pytest.mark.django_db

S = datetime.date(2024, 1, 15)  # signing date
E = datetime.date(2025, 1, 20)  # end date used throughout: 371 days after S, past the KB threshold
DAY = datetime.timedelta(days=1)
MET = Milestone.Status.MET
DEFAULTS = stalls.Thresholds()


def annotated(agreement, as_of):
    return stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of, thresholds=DEFAULTS).get()


def kb(**fields):
    return AgreementFactory(signed_on=fields.pop("signed_on", S), ends_on=fields.pop("ends_on", E), **fields)


def kb_followed_on(pks_signed_on, **fields):
    parent = kb(**fields)
    PksFactory(parent=parent, signed_on=pks_signed_on, ends_on=None)
    return parent


def pks_with(*milestones, **fields):
    pks = PksFactory(signed_on=fields.pop("signed_on", S), ends_on=fields.pop("ends_on", E), **fields)
    for i, m in enumerate(milestones):
        MilestoneFactory(agreement=pks, title=f"Tahap {i}", **m)
    return pks


def renewed_on(successor_signed_on, build=kb):
    def make():
        earlier = build()
        AgreementFactory(renews=earlier, signed_on=successor_signed_on, ends_on=E + 1000 * DAY)
        return earlier
    return make


def amended(new_end, amendment_signed_on, build=kb):
    def make():
        agreement = build()
        Amendment.objects.create(agreement=agreement, signed_on=amendment_signed_on, ends_on=new_end,
                                 summary="Jangka waktu diperpanjang")
        return agreement
    return make


@dataclasses.dataclass
class Case:
    build: Callable
    as_of: datetime.date
    stage: str
    lapsed: bool
    stalled: bool = False


CASES = [
    # a KB without a PKS: stalled while in force, lapsed once its term ended
    pytest.param(Case(kb, E, Stage.SIGNED, False, True), id="kb-on-its-end-date-in-force-stalled"),
    pytest.param(Case(kb, E + DAY, Stage.EXPIRED, True), id="kb-day-after-end-lapsed-not-stalled"),
    pytest.param(Case(kb, E + 3000 * DAY, Stage.EXPIRED, True), id="kb-long-after-end-lapsed"),
    pytest.param(Case(lambda: kb(ends_on=S + 100 * DAY), S + 101 * DAY, Stage.EXPIRED, True),
                 id="kb-ended-before-its-threshold-lapsed"),
    pytest.param(Case(lambda: kb_followed_on(E), E + DAY, Stage.EXPIRED, False), id="kb-pks-signed-on-end-date"),
    pytest.param(Case(lambda: kb_followed_on(E + DAY), E + DAY, Stage.EXPIRED, True),
                 id="kb-pks-signed-after-end-still-lapsed"),
    pytest.param(Case(lambda: kb_followed_on(None), E + DAY, Stage.EXPIRED, True), id="kb-pks-unsigned-lapsed"),
    # a PKS: lapsed when no milestone was met by its end date
    pytest.param(Case(pks_with, E, Stage.SIGNED, False, True), id="pks-on-end-date-in-force-stalled"),
    pytest.param(Case(pks_with, E + DAY, Stage.EXPIRED, True), id="pks-no-milestone-lapsed"),
    pytest.param(Case(lambda: pks_with({"status": MET, "due_on": S + DAY, "completed_on": E},
                                       {"due_on": E}), E + DAY, Stage.EXPIRED, False),
                 id="pks-milestone-met-on-end-date-not-lapsed"),
    pytest.param(Case(lambda: pks_with({"status": MET, "due_on": S + DAY, "completed_on": E + DAY},
                                       {"due_on": E}), E + 10 * DAY, Stage.EXPIRED, True),
                 id="pks-milestone-met-after-end-lapsed"),
    pytest.param(Case(lambda: pks_with({"started_on": S, "due_on": E}), E + DAY, Stage.EXPIRED, True),
                 id="pks-started-never-met-lapsed"),
    pytest.param(Case(lambda: pks_with({"started_on": S, "due_on": S}), E + DAY, Stage.EXPIRED, True),
                 id="pks-overdue-milestone-at-end-lapsed-not-stalled"),
    # never lapsed: terminated, draft, completed, no end date
    pytest.param(Case(lambda: kb(terminated_on=E - DAY), E + DAY, Stage.TERMINATED, False),
                 id="terminated-before-end-not-lapsed"),
    pytest.param(Case(lambda: kb(signed_on=None), E + DAY, Stage.DRAFT, False), id="draft-not-lapsed"),
    pytest.param(Case(lambda: pks_with({"status": MET, "due_on": S + DAY, "completed_on": S + DAY}),
                      E + DAY, Stage.COMPLETED, False), id="completed-not-lapsed"),
    pytest.param(Case(lambda: kb(ends_on=None), E + 3000 * DAY, Stage.SIGNED, False, True),
                 id="no-end-date-never-lapsed"),
    # renewal: a successor signed on or before the end date clears lapsed
    pytest.param(Case(renewed_on(E), E + DAY, Stage.EXPIRED, False), id="renewed-on-end-date-not-lapsed"),
    pytest.param(Case(renewed_on(S + 10 * DAY), E + DAY, Stage.EXPIRED, False), id="renewed-early-not-lapsed"),
    pytest.param(Case(renewed_on(E + DAY), E + 2 * DAY, Stage.EXPIRED, True), id="renewed-after-end-lapsed"),
    pytest.param(Case(renewed_on(None), E + DAY, Stage.EXPIRED, True), id="renewal-unsigned-lapsed"),
    pytest.param(Case(renewed_on(E, build=pks_with), E + DAY, Stage.EXPIRED, False), id="pks-renewed-not-lapsed"),
    # an amendment moving the end date: from its signing on only
    pytest.param(Case(amended(E + 365 * DAY, E - 10 * DAY), E + DAY, Stage.SIGNED, False, True),
                 id="extended-before-end-in-force-after-old-end"),
    pytest.param(Case(amended(E + 365 * DAY, E - 10 * DAY), E + 366 * DAY, Stage.EXPIRED, True),
                 id="extended-lapsed-after-new-end"),
    pytest.param(Case(amended(E + 365 * DAY, E + 10 * DAY), E + 5 * DAY, Stage.EXPIRED, True),
                 id="extended-after-end-not-yet-signed-lapsed"),
    pytest.param(Case(amended(E + 365 * DAY, E + 10 * DAY), E + 10 * DAY, Stage.SIGNED, False, True),
                 id="extended-after-end-in-force-again-from-its-signing"),
    pytest.param(Case(amended(S + 200 * DAY, S + 100 * DAY), S + 201 * DAY, Stage.EXPIRED, True),
                 id="shortened-ends-earlier"),
    pytest.param(Case(amended(None, S + 100 * DAY), E + DAY, Stage.EXPIRED, True),
                 id="amendment-without-end-date-keeps-the-end"),
]


@pytest.mark.parametrize("case", CASES)
def test_lapsed_and_stalled_around_the_end(case):
    agreement = case.build()
    row = annotated(agreement, case.as_of)
    assert row.stage == case.stage
    assert row.is_lapsed is case.lapsed
    assert row.is_stalled is case.stalled
    # The filters agree with the annotations, in SQL.
    qs = stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=case.as_of, thresholds=DEFAULTS)
    assert qs.filter(stalls.lapsed_q()).exists() is case.lapsed
    assert qs.filter(is_stalled=True).exists() is case.stalled


def test_the_latest_amendment_signed_by_D_gives_the_end_date_in_force():
    agreement = kb()
    Amendment.objects.create(agreement=agreement, signed_on=S + 100 * DAY, ends_on=E + 100 * DAY, summary="Satu")
    Amendment.objects.create(agreement=agreement, signed_on=S + 200 * DAY, ends_on=E + 50 * DAY, summary="Dua")
    Amendment.objects.create(agreement=agreement, signed_on=S + 300 * DAY, ends_on=None, summary="Nilai saja")
    expected = {
        S: E,
        S + 99 * DAY: E,
        S + 100 * DAY: E + 100 * DAY,
        S + 199 * DAY: E + 100 * DAY,
        S + 200 * DAY: E + 50 * DAY,  # the later amendment shortens it again
        S + 400 * DAY: E + 50 * DAY,  # one without an end date changes nothing
    }
    for as_of, end in expected.items():
        assert annotated(agreement, as_of).ends_on_in_force == end, as_of


@pytest.mark.parametrize("days, as_of, expected", [
    (90, E - 90 * DAY, True),
    (90, E - 91 * DAY, False),
    (90, E, True),  # its last day
    (90, E + DAY, False),  # ended
    (7, E - 7 * DAY, True),
    (7, E - 8 * DAY, False),
])
def test_expiring_within(days, as_of, expected):
    agreement = kb()
    qs = stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of, thresholds=DEFAULTS)
    assert qs.filter(stalls.expiring_within_q(days, as_of)).exists() is expected


def test_expiring_within_reads_the_end_date_in_force_and_skips_ended_terms():
    extended = kb()
    Amendment.objects.create(agreement=extended, signed_on=E - 60 * DAY, ends_on=E + 365 * DAY, summary="Diperpanjang")
    terminated = kb(terminated_on=E - 30 * DAY)
    draft = kb(signed_on=None)
    plain = kb()
    as_of = E - 20 * DAY
    qs = stalls.with_status(Agreement.objects.all(), as_of=as_of, thresholds=DEFAULTS)
    assert set(qs.filter(stalls.expiring_within_q(90, as_of)).values_list("pk", flat=True)) == {plain.pk}
    # Before the amendment was signed it was expiring too.
    before = E - 70 * DAY
    qs = stalls.with_status(Agreement.objects.all(), as_of=before, thresholds=DEFAULTS)
    assert set(qs.filter(stalls.expiring_within_q(90, before)).values_list("pk", flat=True)) == {
        plain.pk, extended.pk, terminated.pk}
    assert draft.pk


def test_no_end_date():
    missing = kb(ends_on=None)
    amended_in = kb(ends_on=None)
    Amendment.objects.create(agreement=amended_in, signed_on=S + DAY, ends_on=E, summary="Jangka waktu")
    kb(ends_on=None, signed_on=None)  # a draft: nothing to complete yet
    kb(ends_on=None, terminated_on=S + 10 * DAY)  # ended: nothing to complete
    kb()  # has one
    as_of = S + 30 * DAY
    qs = stalls.with_status(Agreement.objects.all(), as_of=as_of, thresholds=DEFAULTS)
    assert list(qs.filter(stalls.no_end_date_q()).values_list("pk", flat=True)) == [missing.pk]


def test_with_status_query_count_does_not_grow(django_assert_max_num_queries):
    for i in range(3):
        agreement = kb()
        Amendment.objects.create(agreement=agreement, signed_on=S + DAY, ends_on=E + i * DAY, summary="x")
        AgreementFactory(renews=agreement, signed_on=E)
    with django_assert_max_num_queries(1):
        rows = list(stalls.with_status(Agreement.objects.all(), as_of=E + 10 * DAY, thresholds=DEFAULTS))
    assert len(rows) == 6
