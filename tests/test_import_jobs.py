"""Imports as background tasks (django-tasks with its database backend): a large file is checked by a task, a
confirmed import runs as a task with its progress shown, "My imports" lists them, workers never run a task
twice, and the periodic jobs fire once per slot however many workers run."""

import datetime
import io
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreements import jobs, periodic
from agreements.models import Agreement, ImportJob, Milestone, PeriodicRun
from tests.factories import AgreementFactory, UserFactory
from tests.test_import import agreement_row, milestone_row, workbook

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
POSTGRESQL_ONLY = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs PostgreSQL: concurrent workers claim tasks and slots with row locks (FOR UPDATE SKIP LOCKED)",
)
UPLOAD = "/import/"
# The worker, like a request, closes a connection that is not in autocommit mode: the tests that run it in this
# process commit for real (and the reference data is restored after each).
WORKER_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def queued(settings):
    """Tasks go to the database queue, as in production; a file over three rows is checked in the background."""
    settings.TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.IMPORT_BACKGROUND_VALIDATION_ROWS = 3


def work():
    """One worker runs what is queued, then stops."""
    call_command("worker", batch=True, no_periodic=True, verbosity=0)


def big_file(n=5):
    return workbook([agreement_row(number=f"KB/{i}") for i in range(n)],
                    [milestone_row(agreement_number=f"KB/{i}") for i in range(n)])


def upload(client, data):
    return client.post(UPLOAD, {"agreements_file": SimpleUploadedFile("besar.xlsx", data)})


@WORKER_DB
def test_a_large_import_is_checked_then_run_by_the_worker_with_its_progress(client, queued):
    user = UserFactory(username="kemendagri", role="ministry")
    client.force_login(user)
    response = upload(client, big_file())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import-job", args=[job.pk])
    assert job.state == "validating"
    page = client.get(response["Location"])
    assert "Checking the file" in page.content.decode() and page.context["job"].is_active
    assert '<meta http-equiv="refresh"' in page.content.decode()  # reloads without JavaScript
    fragment = client.get(reverse("import-job-progress", args=[job.pk]))
    assert fragment.status_code == 200 and b"<progress" in fragment.content

    work()  # the check
    job.refresh_from_db()
    assert (job.state, job.rows_total, job.rows_validated) == ("preview", 10, 10)
    assert Agreement.objects.count() == 0
    assert client.get(reverse("import-job-progress", args=[job.pk]))["HX-Refresh"] == "true"

    response = client.post(reverse("import-job", args=[job.pk]), {"action": "confirm"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == "queued" and job.confirmed_at is not None
    assert "Queued" in client.get(reverse("import-job", args=[job.pk])).content.decode()

    work()  # the import
    job.refresh_from_db()
    assert (job.state, job.rows_written, job.agreements_data) == ("done", 10, None)
    assert Agreement.objects.count() == 5 and Milestone.objects.count() == 5
    assert job.agreements.count() == 5
    assert all(r.status == "SUCCESSFUL" for r in DBTaskResult.objects.all())
    jobs_page = client.get(reverse("import-jobs"))
    assert [j.pk for j in jobs_page.context["page"].object_list] == [job.pk]
    assert "Done" in jobs_page.content.decode()


@WORKER_DB
def test_an_import_whose_rows_became_invalid_fails_writing_nothing_and_names_the_rows(client, queued):
    client.force_login(UserFactory(role="ministry"))
    rows = [agreement_row(number=f"PKS/{i}", document_type="PKS", parent_number="KB/INDUK", signed_on="2024-03-01")
            for i in range(4)]
    kb = AgreementFactory(number="KB/INDUK")
    upload(client, workbook(rows))
    work()
    job = ImportJob.objects.get()
    assert job.state == "preview"
    jobs.confirm(job)
    kb.signed_on = datetime.date(2024, 6, 1)  # the register changed: the PKSs would now precede their KB
    kb.save()
    work()
    job.refresh_from_db()
    assert job.state == "failed" and "register changed" in job.error
    assert sorted(p["row"] for p in job.problems) == [2, 3, 4, 5]
    assert not Agreement.objects.filter(number__startswith="PKS/").exists()
    page = client.get(reverse("import-job", args=[job.pk]))
    assert "nothing was written" in page.content.decode()


@pytest.mark.django_db
def test_a_small_file_is_checked_at_once(client, queued):
    client.force_login(UserFactory(role="ministry"))
    response = upload(client, workbook([agreement_row()]))
    assert response.status_code == 200 and response.context["job"].state == "preview"
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_my_imports_shows_only_my_own(client, queued):
    mine, theirs = UserFactory(role="ministry"), UserFactory(role="ministry")
    ImportJob.objects.create(user=theirs, agreements_name="milik-lain.xlsx", state="done")
    client.force_login(mine)
    upload(client, workbook([agreement_row()]))
    names = [j.agreements_name for j in client.get(reverse("import-jobs")).context["page"].object_list]
    assert names == ["besar.xlsx"]
    other = ImportJob.objects.get(user=theirs)
    assert client.get(reverse("import-job", args=[other.pk])).status_code == 404
    assert client.get(reverse("import-job-progress", args=[other.pk])).status_code == 404


@pytest.mark.django_db
def test_files_left_waiting_are_cleared_after_a_day(queued, media_root):
    legacy = media_root / "imports"
    legacy.mkdir()
    (legacy / "lama.upload").write_bytes(b"x")
    os.utime(legacy / "lama.upload", (0, 0))
    (legacy / "baru.upload").write_bytes(b"x")
    user = UserFactory(role="ministry")
    old = jobs.create(user=user, agreements=(b"a,b\n", "lama.csv"))
    fresh = jobs.create(user=user, agreements=(b"a,b\n", "baru.csv"))
    running = jobs.create(user=user, agreements=(b"a,b\n", "jalan.csv"))
    ImportJob.objects.filter(pk__in=[old.pk, running.pk]).update(created_at=timezone.now() - datetime.timedelta(days=2))
    ImportJob.objects.filter(pk=old.pk).update(state="preview")
    ImportJob.objects.filter(pk=running.pk).update(state="running")
    assert jobs.clean_up() == 1
    old.refresh_from_db()
    assert (old.state, old.agreements_data) == ("cancelled", None)
    assert ImportJob.objects.get(pk=fresh.pk).agreements_data is not None
    assert ImportJob.objects.get(pk=running.pk).agreements_data is not None
    assert sorted(p.name for p in legacy.iterdir()) == ["baru.upload"]  # what the old upload page left on disk


@pytest.mark.django_db
def test_the_worker_refuses_to_start_when_tasks_run_immediately(settings):
    settings.TASK_BACKEND = "immediate"
    with pytest.raises(CommandError, match="immediate"):
        call_command("worker", batch=True)


# --- periodic jobs -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_periodic_job_fires_once_per_slot(queued):
    monday_9 = datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC)  # 09:00 in Jakarta
    assert periodic.run_due_jobs(monday_9) == ["refresh_status", "send_reminders", "clean_up_imports"]
    assert periodic.run_due_jobs(monday_9 + datetime.timedelta(hours=3)) == []  # the same week, the same day
    daily = ["refresh_status", "clean_up_imports"]
    assert periodic.run_due_jobs(monday_9 + datetime.timedelta(days=1)) == daily
    monday_6 = datetime.datetime(2026, 12, 6, 23, 0, tzinfo=datetime.UTC)  # Monday 06:00 in Jakarta: not yet
    assert periodic.run_due_jobs(monday_6) == daily
    assert DBTaskResult.objects.count() == 7


@WORKER_DB
def test_workers_starting_together_start_one_chain_of_ticks_and_the_worker_runs_it(queued):
    assert periodic.start() is True
    assert periodic.start() is False  # a second worker: the chain is already there
    call_command("worker", batch=True, verbosity=0)  # runs the tick, which enqueues and runs the due jobs
    ran = set(DBTaskResult.objects.filter(status="SUCCESSFUL").values_list("task_path", flat=True))
    assert "agreements.tasks.tick" in ran and "agreements.tasks.clean_up_imports" in ran
    waiting = DBTaskResult.objects.filter(status="READY")
    assert [r.task_path for r in waiting] == ["agreements.tasks.tick"]  # the next tick, a minute later
    assert waiting.get().run_after > timezone.now()


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_never_run_one_task_twice(queued):
    """Two worker processes on the same queue: every import runs once (SELECT … FOR UPDATE SKIP LOCKED)."""
    user = UserFactory(role="ministry")
    confirmed = []
    for i in range(6):
        job = jobs.create(user=user, agreements=(workbook([agreement_row(number=f"KB/W{i}")]), f"w{i}.xlsx"))
        jobs.check(job.pk)
        job.refresh_from_db()
        assert jobs.confirm(job)
        confirmed.append(job.pk)
    env = {**os.environ, "DEBUG": "1", "TASK_BACKEND": "database",
           "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"}
    command = [sys.executable, "manage.py", "worker", "--batch", "--no-periodic", "-v", "0"]
    workers = [subprocess.Popen(command, env=env, cwd=settings.BASE_DIR) for _ in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    results = DBTaskResult.objects.filter(task_path="agreements.tasks.run_import")
    assert results.count() == 6
    assert all(r.status == "SUCCESSFUL" and len(r.worker_ids) == 1 and r.return_value == "done" for r in results)
    assert set(ImportJob.objects.filter(pk__in=confirmed).values_list("state", flat=True)) == {"done"}
    assert Agreement.objects.filter(number__startswith="KB/W").count() == 6
    assert Agreement.history.filter(number__startswith="KB/W").count() == 6  # each written once


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_periodic_slot_is_claimed_once_by_concurrent_workers(queued):
    now = datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC)
    barrier = threading.Barrier(4, timeout=20)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(periodic.run_due_jobs(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    fired = sorted(name for names in results for name in names)
    assert fired == ["clean_up_imports", "refresh_status", "send_reminders"]
    assert PeriodicRun.objects.filter(slot__in=["2026-W49", "2026-11-30"]).count() == 3


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
def test_the_command_line_import_shows_its_progress_on_a_terminal_only(tmp_path):
    path = tmp_path / "kerja-sama.xlsx"
    path.write_bytes(workbook([agreement_row(number=f"KB/C{i}") for i in range(3)]))
    terminal, pipe = _Terminal(), io.StringIO()
    call_command("import_agreements", str(path), "--dry-run", stdout=terminal)
    assert "3 rows checked" in terminal.getvalue()
    call_command("import_agreements", str(path), stdout=pipe)
    assert "rows checked" not in pipe.getvalue() and "rows written" not in pipe.getvalue()
    assert Agreement.objects.filter(number__startswith="KB/C").count() == 3


@pytest.mark.django_db
def test_a_save_made_while_an_import_was_checked_is_never_overwritten(personas):
    """The reported race: the plan read version 1, an officer saved version 2, the import wrote its old copy back."""
    from agreements import importers, services
    from tests.factories import affair, region

    AgreementFactory(number="KB/001/2024", regions=["32.73", "32.04"], scope="Lama")
    tables = importers.read_files((workbook([agreement_row(title="Judul dari berkas")]), "data.xlsx"))
    plan = importers.plan_import(tables)
    assert plan.ok and plan.agreements[0].action == "updated"
    stored = Agreement.objects.get(number="KB/001/2024")
    services.agreement_update(agreement=stored, user=personas["ministry"], expected_version=1, scope="Dari halaman",
                              regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")])
    with pytest.raises(importers.RegisterChanged, match="KB/001/2024"):
        importers.apply_plan(plan)
    stored.refresh_from_db()
    assert (stored.scope, stored.version) == ("Dari halaman", 2)
    assert stored.title != "Judul dari berkas"


# --- what review found: counting rows, a crashing check, a killed worker, a failed tick, the blobs -----------


def test_rows_are_counted_whatever_the_line_ends_or_where_the_sheets_are():
    import zipfile

    assert jobs.estimate_rows(b"a,b\r1,2\r3,4\r", 100) == 3
    data = big_file(4)
    moved = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(moved, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename.replace("xl/worksheets/", "xl/ws/"), source.read(info))
    assert jobs.estimate_rows(moved.getvalue(), 100) == jobs.estimate_rows(data, 100) == 10
    assert jobs.estimate_rows(b"PK\x03\x04 broken", 100) == jobs.DAMAGED


@pytest.mark.django_db
def test_a_check_that_crashes_fails_the_job_instead_of_checking_forever(queued, monkeypatch):
    from agreements import importers

    job = jobs.create(user=UserFactory(role="ministry"), agreements=(workbook([agreement_row()]), "data.xlsx"))
    monkeypatch.setattr(importers, "plan_import", lambda *a, **k: 1 / 0)
    assert jobs.check(job.pk) == "failed"
    job.refresh_from_db()
    assert not job.is_active and "unexpected error" in job.error


@pytest.mark.django_db
def test_an_import_whose_worker_was_killed_is_failed_by_the_clean_up(queued):
    job = jobs.create(user=UserFactory(role="ministry"), agreements=(b"a,b\n", "data.csv"))
    ImportJob.objects.filter(pk=job.pk).update(state="running", started_at=timezone.now() - datetime.timedelta(hours=7))
    jobs.clean_up()
    job.refresh_from_db()
    assert (job.state, job.agreements_data) == ("failed", None) and "worker stopped" in job.error


@pytest.mark.django_db
def test_a_failing_tick_still_schedules_the_next_one(queued, monkeypatch):
    def broken(now=None):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(periodic, "run_due_jobs", broken)
    with pytest.raises(RuntimeError):
        periodic.tick()
    assert DBTaskResult.objects.filter(task_path="agreements.tasks.tick", status="READY").count() == 1


@pytest.mark.django_db
def test_the_progress_poll_never_loads_the_files(client, queued):
    from django.test.utils import CaptureQueriesContext

    user = UserFactory(role="ministry")
    job = jobs.create(user=user, agreements=(big_file(), "besar.xlsx"))
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("import-job-progress", args=[job.pk])).status_code == 200
    assert not [q for q in ctx.captured_queries if "agreements_data" in q["sql"]]


@pytest.mark.django_db
def test_the_imported_filter_shows_only_the_users_own_imports(client):
    mine, theirs = UserFactory(role="ministry"), UserFactory(role="ministry")
    agreement = AgreementFactory()
    job = ImportJob.objects.create(user=theirs, agreements_name="milik-lain.xlsx", state="done")
    job.agreements.add(agreement)
    client.force_login(theirs)
    assert [a.pk for a in client.get(reverse("agreement-list"), {"imported": job.pk}).context["page"].object_list] \
        == [agreement.pk]
    client.force_login(mine)
    assert list(client.get(reverse("agreement-list"), {"imported": job.pk}).context["page"].object_list) == []


@pytest.mark.django_db
def test_my_imports_pages_with_the_registers_page_links(client):
    user = UserFactory(role="ministry")
    ImportJob.objects.bulk_create([ImportJob(user=user, agreements_name=f"f{i}.xlsx", state="done") for i in range(30)])
    client.force_login(user)
    first = client.get(reverse("import-jobs"))
    assert len(first.context["page"].object_list) == 25 and first.context["page_links"]["next"] == "page=2"
    assert 'href="?page=2"' in first.content.decode()
    assert len(client.get(reverse("import-jobs"), {"page": "2"}).context["page"].object_list) == 5


@pytest.mark.django_db
def test_my_imports_and_a_job_page_cost_the_same_queries_for_more_jobs(client):
    from django.test.utils import CaptureQueriesContext

    user = UserFactory(role="ministry")
    client.force_login(user)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    job = ImportJob.objects.create(user=user, agreements_name="a.xlsx", state="done")
    job.agreements.add(AgreementFactory())
    few = queries(reverse("import-jobs")), queries(reverse("import-job", args=[job.pk]))
    ImportJob.objects.bulk_create([ImportJob(user=user, agreements_name=f"f{i}.xlsx", state="done") for i in range(20)])
    job.agreements.add(*[AgreementFactory() for _ in range(5)])
    assert (queries(reverse("import-jobs")), queries(reverse("import-job", args=[job.pk]))) == few
