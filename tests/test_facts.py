"""The stored stall facts (``stalls.refresh_facts``) stay equal to what the milestones and PKSs say."""

import datetime
import io

import pytest

from agreements import stalls
from agreements.models import Agreement, Milestone
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

D = datetime.date


def facts(agreement) -> dict:
    agreement.refresh_from_db()
    return {name: getattr(agreement, name) for name in stalls.FACT_FIELDS}


@pytest.mark.django_db
def test_facts_follow_every_milestone_and_pks_change():
    kb = AgreementFactory(signed_on=D(2024, 1, 10))
    other_kb = AgreementFactory(signed_on=D(2024, 1, 5))
    pks = PksFactory(parent=kb, signed_on=D(2024, 3, 1))
    assert facts(kb)["first_pks_signed_on"] == D(2024, 3, 1)

    m1 = MilestoneFactory(agreement=pks, title="Survei", due_on=D(2024, 5, 1))
    m2 = MilestoneFactory(agreement=pks, title="Bangun", due_on=D(2024, 4, 1), started_on=D(2024, 3, 20),
                          status=Milestone.Status.IN_PROGRESS)
    assert facts(pks) == {
        "first_pks_signed_on": None, "first_started_on": D(2024, 3, 20), "live_milestones": 2,
        "open_milestones": 2, "last_met_on": None, "first_open_due_on": D(2024, 4, 1),
    }
    m2.status, m2.completed_on = Milestone.Status.MET, D(2024, 4, 10)
    m2.save()
    m1.status = Milestone.Status.CANCELLED
    m1.save()
    assert facts(pks) == {
        "first_pks_signed_on": None, "first_started_on": D(2024, 3, 20), "live_milestones": 1,
        "open_milestones": 0, "last_met_on": D(2024, 4, 10), "first_open_due_on": None,
    }
    m2.delete()
    assert facts(pks)["live_milestones"] == 0 and facts(pks)["first_started_on"] is None

    # A PKS moved to another KB moves its signing date with it; deleting it clears it.
    pks.parent = other_kb
    pks.save()
    assert facts(kb)["first_pks_signed_on"] is None
    assert facts(other_kb)["first_pks_signed_on"] == D(2024, 3, 1)
    pks.delete()
    assert facts(other_kb)["first_pks_signed_on"] is None
    assert stalls.stale_facts() == []


@pytest.mark.django_db
def test_a_milestone_met_after_a_past_as_of_date_was_overdue_then():
    pks = PksFactory(signed_on=D(2024, 1, 1))
    MilestoneFactory(agreement=pks, title="Tahap 1", due_on=D(2024, 2, 1), started_on=D(2024, 1, 15),
                     completed_on=D(2024, 9, 1), status=Milestone.Status.MET)
    then = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=D(2024, 6, 1)).get()
    assert then.stall_milestone_overdue and then.overdue_since == D(2024, 2, 1)
    now = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=D(2024, 10, 1)).get()
    assert not now.stall_milestone_overdue and now.stage == "completed"


@pytest.mark.django_db
def test_stale_facts_are_found_and_refreshed():
    pks = PksFactory(signed_on=D(2024, 1, 1))
    MilestoneFactory(agreement=pks, title="Tahap 1", due_on=D(2024, 2, 1))
    Agreement.objects.filter(pk=pks.pk).update(live_milestones=0, first_open_due_on=None)  # as a raw write would
    assert stalls.stale_facts() == [pks.pk]
    stalls.refresh_facts()
    assert stalls.stale_facts() == []


@pytest.mark.django_db
def test_demo_data_facts_are_fresh(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", agreements=60, seed=3, as_of="2026-06-30", stdout=io.StringIO())
    assert stalls.stale_facts() == []
    assert stalls.stale_status() == [] and stalls.Thresholds.current().status_date == stalls.today()


@pytest.mark.django_db
def test_refresh_stall_facts_command():
    from django.core.management import CommandError, call_command

    pks = PksFactory(signed_on=D(2024, 1, 1))
    MilestoneFactory(agreement=pks, title="Tahap 1", due_on=D(2024, 2, 1))
    Agreement.objects.filter(pk=pks.pk).update(open_milestones=0)
    with pytest.raises(CommandError):
        call_command("refresh_stall_facts", check=True, stdout=io.StringIO())
    call_command("refresh_stall_facts", stdout=io.StringIO())
    call_command("refresh_stall_facts", check=True, stdout=io.StringIO())


@pytest.mark.django_db
def test_saving_an_agreement_loaded_before_its_milestones_changed_keeps_the_facts():
    pks = PksFactory(signed_on=D(2024, 1, 1))
    stale_copy = Agreement.objects.get(pk=pks.pk)  # loaded with no milestone
    MilestoneFactory(agreement=pks, title="Tahap 1", due_on=D(2024, 2, 1), started_on=D(2024, 1, 20),
                     status=Milestone.Status.IN_PROGRESS)
    stale_copy.title = "Judul baru"
    stale_copy.save()
    assert stalls.stale_facts() == []
    assert stale_copy.live_milestones == 1
