"""Today's stage and stall flags stored beside the facts (``Agreement.status_*``): read by ``with_status`` when the
thresholds row's stamp says they hold for today, kept true by every write that feeds them, refreshed for the whole
register when the date or the thresholds change, and computed in SQL otherwise."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from agreements import periodic, stalls
from agreements.models import Agreement, Amendment, Milestone, PeriodicRun, StallSettings
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

D = datetime.date


def today():
    return stalls.today()


def days_ago(n: int) -> datetime.date:
    return today() - datetime.timedelta(days=n)


def status(agreement, *, computed: bool = False) -> dict:
    qs = Agreement.objects.filter(pk=agreement.pk)
    if computed:
        row = stalls.computed_status(qs, today(), stalls.Thresholds.current()).get()
    else:
        row = stalls.with_status(qs).get()
    return {name: getattr(row, name) for name in stalls.STATUS_FIELDS}


def stamp(on: datetime.date | None, key: str | None = None) -> None:
    StallSettings.objects.filter(pk=StallSettings.current().pk).update(
        status_date=on, status_thresholds=key if key is not None else stalls.Thresholds.current().key())


@pytest.mark.django_db
def test_today_reads_the_stored_columns_and_they_equal_the_rules():
    kb = AgreementFactory(signed_on=days_ago(400))  # KB without PKS past 365 days
    pks = PksFactory(signed_on=days_ago(200))  # PKS not started past 180 days
    late = PksFactory(signed_on=days_ago(100))
    MilestoneFactory(agreement=late, title="Survei", due_on=days_ago(60), started_on=days_ago(90),
                     status=Milestone.Status.IN_PROGRESS)
    qs = stalls.with_status(Agreement.objects.all())
    sql = str(qs.query)
    assert '"status_is_stalled"' in sql and "CASE" not in sql  # plain columns, no rule evaluated
    for agreement in (kb, pks, late):
        assert status(agreement) == status(agreement, computed=True)
    assert [a.pk for a in qs.filter(is_stalled=True).order_by("pk")] == [kb.pk, pks.pk, late.pk]
    assert status(late)["stall_milestone_overdue"] and status(late)["overdue_since"] == days_ago(60)
    assert stalls.stale_status() == []


@pytest.mark.django_db
def test_another_date_or_other_thresholds_are_computed():
    kb = AgreementFactory(signed_on=days_ago(400))
    past = stalls.with_status(Agreement.objects.filter(pk=kb.pk), as_of=days_ago(100))
    assert "CASE" in str(past.query) and not past.get().is_stalled
    lenient = stalls.Thresholds(kb_follow_up_days=500)
    assert not stalls.with_status(Agreement.objects.filter(pk=kb.pk), thresholds=lenient).get().is_stalled
    assert stalls.with_status(Agreement.objects.filter(pk=kb.pk)).get().is_stalled


@pytest.mark.django_db
def test_every_write_that_feeds_the_status_refreshes_it():
    kb = AgreementFactory(signed_on=days_ago(400))
    assert status(kb)["stall_kb_without_pks"]
    # A PKS signed under the KB: the KB is followed up.
    pks = PksFactory(parent=kb, signed_on=days_ago(10))
    assert status(kb)["stage"] == "followed_up" and not status(kb)["is_stalled"]
    # A milestone started: implementing; met, every one: completed.
    m = MilestoneFactory(agreement=pks, title="Survei", due_on=days_ago(-30), started_on=days_ago(5),
                         status=Milestone.Status.IN_PROGRESS)
    assert status(pks)["stage"] == "implementing"
    m.status, m.completed_on = Milestone.Status.MET, days_ago(1)
    m.save()
    assert status(pks)["stage"] == "completed"
    # An amendment that ends the term before today: expired; deleting it brings the term back.
    open_kb = AgreementFactory(signed_on=days_ago(100), ends_on=days_ago(-300))
    amendment = Amendment.objects.create(agreement=open_kb, signed_on=days_ago(50), ends_on=days_ago(3),
                                         summary="Dipersingkat")
    assert status(open_kb)["stage"] == "expired" and status(open_kb)["ends_on_in_force"] == days_ago(3)
    assert status(open_kb)["is_lapsed"]
    amendment.delete()
    assert status(open_kb)["stage"] == "signed" and status(open_kb)["ends_on_in_force"] == days_ago(-300)
    # A renewal signed before the end: the ended KB is expired but not lapsed.
    ended = AgreementFactory(signed_on=days_ago(800), ends_on=days_ago(20))
    assert status(ended)["is_lapsed"]
    renewal = AgreementFactory(renews=ended, signed_on=None)
    assert status(ended)["is_lapsed"]
    renewal.signed_on = days_ago(30)
    renewal.save()
    assert not status(ended)["is_lapsed"]
    # Terminated.
    kb.terminated_on = days_ago(1)
    kb.save()
    assert status(kb)["stage"] == "terminated"
    assert stalls.stale_status() == []


@pytest.mark.django_db
def test_yesterdays_stamp_is_computed_and_refreshed_once(monkeypatch):
    kb = AgreementFactory(signed_on=days_ago(366))
    # Yesterday, the KB was exactly at its threshold: not stalled. Stored so, and stamped yesterday.
    Agreement.objects.filter(pk=kb.pk).update(status_is_stalled=False, status_stall_kb_without_pks=False)
    stamp(days_ago(1))
    monkeypatch.setattr(periodic, "_claimed_here", set())
    t = stalls.Thresholds.current()
    assert t.status_date == days_ago(1) and t.status_outdated
    qs = stalls.with_status(Agreement.objects.filter(pk=kb.pk), thresholds=t)
    assert "CASE" in str(qs.query) and qs.get().is_stalled  # computed: right, whatever is stored
    # The page asked for the refresh (tasks run at once here): stored, and stamped today, once.
    assert StallSettings.current().status_date == today()
    assert PeriodicRun.objects.filter(job="refresh_status", slot=today().isoformat()).count() == 1
    assert status(kb)["is_stalled"] and stalls.stale_status() == []


@pytest.mark.django_db
def test_a_never_stamped_register_is_computed_then_refreshed(monkeypatch):
    kb = AgreementFactory(signed_on=days_ago(500))
    stamp(None, "")
    monkeypatch.setattr(periodic, "_claimed_here", set())
    assert stalls.with_status(Agreement.objects.filter(pk=kb.pk)).get().is_stalled
    assert StallSettings.current().status_date == today()


@pytest.mark.django_db
def test_changed_thresholds_refresh_every_agreement(django_capture_on_commit_callbacks):
    kb = AgreementFactory(signed_on=days_ago(400))
    assert status(kb)["is_stalled"]
    settings_row = StallSettings.current()
    settings_row.kb_follow_up_days = 500
    with django_capture_on_commit_callbacks(execute=True):
        settings_row.save()
    t = stalls.Thresholds.current()
    assert t.status_date == today() and StallSettings.current().status_thresholds == "500/180/30"
    assert not status(kb)["is_stalled"] and stalls.stale_status() == []


@pytest.mark.django_db
def test_thresholds_changed_behind_the_models_back_are_computed():
    kb = AgreementFactory(signed_on=days_ago(400))
    StallSettings.objects.update(kb_follow_up_days=500)  # a raw write: the stamp names other thresholds
    t = stalls.Thresholds.current()
    assert t.status_date is None and t.status_outdated
    qs = stalls.with_status(Agreement.objects.filter(pk=kb.pk), thresholds=t)
    assert "CASE" in str(qs.query) and not qs.get().is_stalled  # the stored flag (stalled at 365 days) is not read


@pytest.mark.django_db
def test_the_daily_job_refreshes_the_status():
    assert periodic.JOBS[0].name == "refresh_status" and periodic.JOBS[0].slot is periodic.daily
    kb = AgreementFactory(signed_on=days_ago(400))
    Agreement.objects.filter(pk=kb.pk).update(status_is_stalled=False)
    stamp(days_ago(1))
    assert "refresh_status" in periodic.run_due_jobs()
    assert StallSettings.current().status_date == today() and status(kb)["is_stalled"]


@pytest.mark.django_db
def test_check_command_reports_a_stale_stored_status():
    kb = AgreementFactory(signed_on=days_ago(400))
    Agreement.objects.filter(pk=kb.pk).update(status_is_stalled=False)  # as a raw write would
    assert stalls.stale_status() == [kb.pk]
    with pytest.raises(CommandError, match="stale stored status"):
        call_command("refresh_stall_facts", check=True, stdout=io.StringIO())
    call_command("refresh_stall_facts", stdout=io.StringIO())
    call_command("refresh_stall_facts", check=True, stdout=io.StringIO())
    assert status(kb)["is_stalled"]


@pytest.mark.django_db
def test_the_refresh_writes_only_the_rows_that_changed():
    AgreementFactory(signed_on=days_ago(400))
    changed = AgreementFactory(signed_on=days_ago(400))
    assert stalls.refresh_status() == 0
    Agreement.objects.filter(pk=changed.pk).update(status_stage="draft")
    assert stalls.refresh_status() == 1
    assert stalls.stale_status() == []
