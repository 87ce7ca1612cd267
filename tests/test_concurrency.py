"""No lost updates: a save names the version it was edited from; a later save from an
older version is refused and nothing is overwritten.

On every database: the sequential stale-version case. On PostgreSQL also two truly concurrent
saves in threads with their own connections (SQLite serialises whole-database writes, so there the
sequential case is the one that says something).
"""

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from agreements import services
from agreements.models import Agreement, Milestone, MilestoneUpdate
from tests.factories import AgreementFactory, MilestoneFactory, affair, region

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
POSTGRESQL_ONLY = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs PostgreSQL: SQLite serialises whole-database writes, so two saves cannot truly run at once there",
)


def update_kwargs(milestone, user, progress, note="", version=1):
    return {
        "milestone": milestone, "user": user, "status": "in_progress", "progress": progress,
        "started_on": datetime.date(2024, 5, 1), "completed_on": None, "note": note, "expected_version": version,
    }


@pytest.mark.django_db
def test_stale_milestone_save_is_refused_with_the_newer_row(personas):
    milestone = MilestoneFactory()
    mine = Milestone.objects.get(pk=milestone.pk)  # the officer opened the form at version 1
    theirs = Milestone.objects.get(pk=milestone.pk)  # so did the ministry
    services.milestone_update_status(**update_kwargs(theirs, personas["ministry"], 80, "Kementerian"))
    with pytest.raises(services.StaleVersionError) as exc:
        services.milestone_update_status(**update_kwargs(mine, personas["local_in"], 10, "Petugas"))
    assert (exc.value.current.progress, exc.value.current.version) == (80, 2)
    milestone.refresh_from_db()
    assert (milestone.progress, milestone.version) == (80, 2)
    assert list(MilestoneUpdate.objects.values_list("note", flat=True)) == ["Kementerian"]


@pytest.mark.django_db
def test_stale_agreement_save_is_refused_with_the_newer_row(personas):
    agreement = AgreementFactory(title="Asli", signed_on=None)  # a draft: its officer may change the parties
    relations = {"regions": [region("32.73"), region("32.04")], "affairs": [affair("3.26")]}
    services.agreement_update(agreement=Agreement.objects.get(pk=agreement.pk), user=personas["ministry"],
                              expected_version=1, title="Versi kementerian", **relations)
    with pytest.raises(services.StaleVersionError) as exc:
        services.agreement_update(agreement=Agreement.objects.get(pk=agreement.pk), user=personas["local_in"],
                                  expected_version=1, title="Versi petugas",
                                  **{**relations, "regions": [region("32.73"), region("32.77")]})
    assert exc.value.current.title == "Versi kementerian"
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version) == ("Versi kementerian", 2)
    assert set(agreement.regions.values_list("code", flat=True)) == {"32.73", "32.04"}


def _in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_milestone_saves_one_wins_one_is_refused(personas):
    """Thread A claims the row and holds its transaction open; thread B's save, from the same version,
    blocks on the row lock and, once A commits, finds the version moved on and is refused."""
    milestone = MilestoneFactory()
    a_saved, a_may_commit = threading.Event(), threading.Event()
    results = {}

    def save_a():
        with transaction.atomic():
            update = services.milestone_update_status(
                **update_kwargs(Milestone.objects.get(pk=milestone.pk), personas["ministry"], 80, "A"))
            a_saved.set()
            assert a_may_commit.wait(10)
        return update

    def save_b():
        return services.milestone_update_status(
            **update_kwargs(Milestone.objects.get(pk=milestone.pk), personas["local_in"], 10, "B"))

    thread_a = _in_thread(save_a, results, "a")
    assert a_saved.wait(10)
    thread_b = _in_thread(save_b, results, "b")
    thread_b.join(1.0)
    assert thread_b.is_alive(), "B must wait for A's row lock, not overwrite"
    a_may_commit.set()
    thread_a.join(10)
    thread_b.join(10)
    assert isinstance(results["a"], MilestoneUpdate)
    assert isinstance(results["b"], services.StaleVersionError)
    assert results["b"].current.progress == 80
    milestone.refresh_from_db()
    assert (milestone.progress, milestone.version) == (80, 2)
    assert list(MilestoneUpdate.objects.values_list("note", flat=True)) == ["A"]


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_requests_to_the_update_form(personas):
    """Two browsers post the same form version at the same moment: one 302, one refusal page."""
    milestone = MilestoneFactory()
    url = reverse("milestone-update", args=[milestone.pk])
    start = threading.Barrier(2, timeout=10)
    results = {}

    def post(user, progress):
        def run():
            client = Client()
            client.force_login(user)
            start.wait()
            return client.post(url, {"status": "in_progress", "progress": progress, "started_on": "2024-05-01",
                                     "version": 1, "note": f"oleh {user.username}"})
        return run

    threads = [_in_thread(post(personas["ministry"], 80), results, "ministry"),
               _in_thread(post(personas["local_in"], 10), results, "officer")]
    for thread in threads:
        thread.join(20)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 302]
    refused = next(r for r in results.values() if r.status_code == 200)
    assert "Someone else saved this record" in refused.content.decode()
    milestone.refresh_from_db()
    assert milestone.version == 2
    assert MilestoneUpdate.objects.count() == 1
    assert milestone.progress == MilestoneUpdate.objects.get().progress


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_milestones_of_one_agreement_met_at_once_keep_the_stall_facts_true():
    """Each save refreshes the agreement's stored facts; the second refresh must see the first's
    milestone (it waits for the agreement row's lock and then reads afresh)."""
    from agreements import stalls
    from tests.factories import PksFactory

    pks = PksFactory(signed_on=datetime.date(2024, 1, 1))
    first = MilestoneFactory(agreement=pks, title="Tahap 1", due_on=datetime.date(2024, 3, 1))
    second = MilestoneFactory(agreement=pks, title="Tahap 2", due_on=datetime.date(2024, 3, 1))
    a_saved, a_may_commit = threading.Event(), threading.Event()
    results = {}

    def meet(milestone_pk):
        milestone = Milestone.objects.get(pk=milestone_pk)
        milestone.status, milestone.completed_on = Milestone.Status.MET, datetime.date(2024, 2, 1)
        milestone.save()

    def save_a():
        with transaction.atomic():
            meet(first.pk)
            a_saved.set()
            assert a_may_commit.wait(10)

    thread_a = _in_thread(save_a, results, "a")
    assert a_saved.wait(10)
    thread_b = _in_thread(lambda: meet(second.pk), results, "b")
    thread_b.join(1.0)
    a_may_commit.set()
    thread_a.join(10)
    thread_b.join(10)
    assert stalls.stale_facts() == [] and stalls.stale_status() == []
    row = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=datetime.date(2024, 6, 1)).get()
    assert row.stage == "completed"
