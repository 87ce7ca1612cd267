"""Imports through /import/ as jobs: kept in the database, checked and run by background tasks, with progress.

upload → ``create`` (files stored on the job) → ``check`` (at once for a small file, as the ``check_import``
task for one over ``IMPORT_BACKGROUND_VALIDATION_ROWS`` rows) → preview or problems → ``confirm`` (queues
``run_import``) or ``cancel`` → ``run``: checks the file again against the register as it is then and writes
it in one transaction, or fails writing nothing and says why. Who may see and act on a job: ``access``.
"""

import io
import logging
import re
import zipfile
import zlib
from pathlib import Path

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import importers
from .models import ImportJob

logger = logging.getLogger("kerjasama.import")
PREVIEW_ROWS = 200
PROGRESS_EVERY = 1000
KEEP_FILES = timezone.timedelta(days=1)
STALE_RUNNING = timezone.timedelta(hours=6)  # far longer than the largest import takes


# The files an import may carry, by name: ``<name>_data`` and ``<name>_name`` on the job.
FILES = ("agreements", "milestones", "parties", "amendments")
BLOBS = tuple(f"{name}_data" for name in FILES)
NO_FILES = dict.fromkeys(BLOBS)  # what a finished, cancelled or cleaned-up job keeps: nothing


def create(*, user, agreements: tuple[bytes, str] | None, milestones: tuple[bytes, str] | None = None,
           parties: tuple[bytes, str] | None = None, amendments: tuple[bytes, str] | None = None) -> ImportJob:
    job = ImportJob(user=user)
    for name, upload in zip(FILES, (agreements, milestones, parties, amendments), strict=True):
        if upload is not None:
            setattr(job, f"{name}_data", upload[0])
            setattr(job, f"{name}_name", upload[1][:200])
    job.save()
    return job


DAMAGED = -1
ROW_ELEMENT = re.compile(rb"<(?:\w+:)?row[\s>/]")


def estimate_rows(data: bytes, limit: int) -> int:
    """Rows of a CSV (its line ends, CR, LF or CRLF) or of a workbook (the ``row`` elements of any XML part, where
    ever its sheets are stored), counted until ``limit`` is passed."""
    if data[:4] != b"PK\x03\x04":
        return max(data.count(b"\n"), data.count(b"\r"))
    count = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".xml") or info.filename.endswith("sharedStrings.xml"):
                    continue
                with archive.open(info) as member:
                    tail = b""
                    while count <= limit and (chunk := member.read(1 << 16)):
                        count += len(ROW_ELEMENT.findall(tail + chunk))
                        tail = chunk[-8:]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        return DAMAGED  # the check refuses a damaged archive at once, with its reason
    return count


def _files(job: ImportJob) -> dict:
    """The job's files as ``importers.read_files`` takes them: name → (content, file name), or None."""
    return {name: (bytes(getattr(job, f"{name}_data")), getattr(job, f"{name}_name"))
            if getattr(job, f"{name}_data") is not None else None for name in FILES}


def needs_background(job: ImportJob) -> bool:
    """Over the threshold, or a readable file whose rows could not be counted (checked off the request then too);
    a damaged archive is refused at once by the reader, in the request."""
    limit = settings.IMPORT_BACKGROUND_VALIDATION_ROWS
    files = [bytes(data) for data in (getattr(job, blob) for blob in BLOBS) if data]
    counts = [estimate_rows(data, limit) for data in files]
    return sum(c for c in counts if c > 0) > limit or any(count == 0 for count in counts)


def start_check(job: ImportJob) -> bool:
    """Check the job's files: at once, or as a background task for a large file. True when queued."""
    if needs_background(job):
        from .tasks import check_import

        check_import.enqueue(job.pk)
        return True
    check(job.pk)
    return False


def _problem_dicts(problems) -> list[dict]:
    return [{"sheet": p.sheet, "row": p.row, "column": p.column, "message": p.message} for p in problems]


def _summary(plan) -> dict:
    changed = [r for r in plan.agreements if r.action != "unchanged"]
    changed_milestones = [r for r in plan.milestones if r.action != "unchanged"]
    a, m, p, c = plan.agreement_counts, plan.milestone_counts, plan.party_counts, plan.amendment_counts
    return {
        "agreements": {"created": a.created, "updated": a.updated, "unchanged": a.unchanged},
        "milestones": {"created": m.created, "updated": m.updated, "unchanged": m.unchanged},
        "parties": {"created": p.created, "updated": p.updated, "unchanged": p.unchanged},
        "amendments": {"created": c.created, "updated": c.updated, "unchanged": c.unchanged},
        "agreement_rows": [{"row": r.row, "number": r.number, "title": r.final.get("title", ""), "action": r.action,
                            "changed": list(r.changed)} for r in changed[:PREVIEW_ROWS]],
        "milestone_rows": [{"row": r.row, "agreement_number": r.agreement_number, "title": r.title,
                            "action": r.action, "changed": list(r.changed)} for r in changed_milestones[:PREVIEW_ROWS]],
        "more_agreements": max(0, len(changed) - PREVIEW_ROWS),
        "more_milestones": max(0, len(changed_milestones) - PREVIEW_ROWS),
    }


def _update(job_id: int, **fields) -> None:
    ImportJob.objects.filter(pk=job_id).update(**fields)


def _progress(job_id: int, field: str, *, side: bool):
    """A callback storing progress on the job every ``PROGRESS_EVERY`` rows.

    While the rows are being written, the import holds one transaction open: the progress is written through a
    second connection that commits at once (PostgreSQL), so another request sees it. On SQLite, which has one
    writer at a time, the written count appears with the result."""
    state = {"last": -PROGRESS_EVERY}
    writer = connections.create_connection("default") if side and connection.vendor == "postgresql" else None
    table = ImportJob._meta.db_table

    def report(count: int, *, final: bool = False) -> None:
        if not final and count - state["last"] < PROGRESS_EVERY:
            return
        state["last"] = count
        if writer is None:
            _update(job_id, **{field: count})
        else:
            with writer.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {field} = %s WHERE id = %s", [count, job_id])  # noqa: S608

    report.close = (lambda: writer.close()) if writer is not None else (lambda: None)
    return report


def _read(job: ImportJob):
    files = _files(job)
    return importers.read_files(files.pop("agreements"), files.pop("milestones"), user=job.user, **files)


def check(job_id: int) -> str:
    """The preview: every problem, or what the import would do. Nothing is written to the register."""
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.state != ImportJob.State.VALIDATING:
        return job.state
    try:
        return _check(job)
    except Exception:
        logger.exception("import job %s: the check failed", job.pk)
        _finish(job, ImportJob.State.FAILED, error=_("An unexpected error stopped the check. Nothing was written."))
        return job.state


def _check(job: ImportJob) -> str:
    try:
        tables = _read(job)
    except importers.FileRefused as exc:
        _finish(job, ImportJob.State.INVALID, problems=[{"sheet": "", "row": None, "column": "", "message": str(exc)}])
        return job.state
    _update(job.pk, rows_total=sum(len(t.rows) for t in tables.values()))
    progress = _progress(job.pk, "rows_validated", side=False)
    plan = importers.plan_import(tables, user=job.user, progress=progress)
    rows = len(plan.agreements) + len(plan.milestones)
    importers.log_outcome(plan, job.user_id or "-", dry_run=True)
    if not plan.ok:
        _finish(job, ImportJob.State.INVALID, problems=_problem_dicts(plan.problems), rows_validated=rows)
    else:
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.PREVIEW, summary=_summary(plan),
                                                   rows_validated=rows)
        job.state = ImportJob.State.PREVIEW
    return job.state


def confirm(job: ImportJob) -> bool:
    """Queue a previewed import; False when it is no longer waiting for confirmation."""
    claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.PREVIEW).update(
        state=ImportJob.State.QUEUED, confirmed_at=timezone.now(), rows_validated=0, rows_written=0)
    if not claimed:
        return False
    from .tasks import run_import

    run_import.enqueue(job.pk)
    return True


def cancel(job: ImportJob) -> bool:
    claimed = ImportJob.objects.filter(pk=job.pk, state__in=[ImportJob.State.PREVIEW, ImportJob.State.INVALID]).update(
        state=ImportJob.State.CANCELLED, finished_at=timezone.now(), **NO_FILES)
    return bool(claimed)


def _finish(job: ImportJob, state: str, **fields) -> None:
    ImportJob.objects.filter(pk=job.pk).update(state=state, finished_at=timezone.now(), **NO_FILES, **fields)
    job.state = state


def run(job_id: int) -> str:
    """Run a confirmed import. Claimed with a conditional UPDATE, so a job never runs twice."""
    if not ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
            state=ImportJob.State.RUNNING, started_at=timezone.now()):
        return "not queued"
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    written = None
    try:
        tables = _read(job)
        _update(job.pk, rows_total=sum(len(t.rows) for t in tables.values()))
        plan = importers.plan_import(tables, user=job.user, progress=_progress(job.pk, "rows_validated", side=False))
        if not plan.ok:
            _finish(job, ImportJob.State.FAILED, problems=_problem_dicts(plan.problems), error=_(
                "The register changed since the preview: the rows below are no longer valid. Nothing was written."))
            return job.state
        written = _progress(job.pk, "rows_written", side=True)
        with transaction.atomic():
            importers.apply_plan(plan, user=job.user, progress=written)
            through = ImportJob.agreements.through
            through.objects.bulk_create(
                [through(importjob_id=job.pk, agreement_id=row.obj.pk) for row in plan.agreements if row.obj],
                batch_size=2000)
            rows = len(plan.agreements) + len(plan.milestones)
            _finish(job, ImportJob.State.DONE, summary=_summary(plan), rows_validated=rows, rows_written=rows)
        importers.log_outcome(plan, job.user_id or "-", dry_run=False)
    except (importers.FileRefused, importers.RegisterChanged) as exc:
        _finish(job, ImportJob.State.FAILED, error=str(exc))
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _finish(job, ImportJob.State.FAILED, error=_("An unexpected error stopped the import. Nothing was written."))
    finally:
        if written is not None:
            written.close()
    return job.state


def clean_up(now=None) -> int:
    """Clear the stored files of jobs older than a day that are not queued or running; how many were cleared.

    Also removes what the upload page kept on disk before imports became jobs (``MEDIA_ROOT/imports``)."""
    now = now or timezone.now()
    legacy = Path(settings.MEDIA_ROOT) / "imports"
    if legacy.is_dir():
        for path in legacy.glob("*.upload"):
            if path.stat().st_mtime < (now - KEEP_FILES).timestamp():
                path.unlink(missing_ok=True)
    # A worker killed in the middle of an import (out of memory, a forced stop) leaves it running: its
    # transaction was rolled back, so it wrote nothing.
    ImportJob.objects.filter(state=ImportJob.State.RUNNING, started_at__lt=now - STALE_RUNNING).update(
        state=ImportJob.State.FAILED, finished_at=now, **NO_FILES,
        error=_("The worker stopped during the import. Nothing was written; import the file again."))
    return ImportJob.objects.filter(created_at__lt=now - KEEP_FILES).exclude(
        state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING]
    ).exclude(**NO_FILES).update(
        **NO_FILES,
        state=_cancel_waiting_state(),
    )


def _cancel_waiting_state():
    """A preview nobody confirmed within a day becomes cancelled; other states stay as they are."""
    from django.db.models import Case, Value, When

    return Case(When(state__in=[ImportJob.State.PREVIEW, ImportJob.State.VALIDATING],
                     then=Value(ImportJob.State.CANCELLED)), default="state")
