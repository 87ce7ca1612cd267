"""Benchmark of the spreadsheet import: 10,000 agreements and 30,000 milestones.

Not a test: it writes to the configured database. Run it against a scratch database, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kerjasama_import_bench DEBUG=1 \
        .venv/bin/python scripts/bench_import.py [--format xlsx|csv] [--agreements 10000] [--keep FILE]

It migrates the database, generates the file (half KB, half PKS each following a KB of the file;
three milestones per agreement), then times reading, validation and writing separately. Every run
uses fresh agreement numbers, so runs can be repeated on the same database; ``--again`` imports the
same file a second time to time the "nothing changed" path. The target is under 60 s in total.

``--via-worker`` takes the path of an upload on /import/ instead: the file is stored on an import job, a
``manage.py worker --batch`` process checks it (the preview of a large file), a second one runs the confirmed
import; each worker's time and peak memory are reported (``wait4``).

``--largest`` is the largest file the limits accept: 50,000 agreements and 150,000 milestones
(IMPORT_MAX_AGREEMENT_ROWS; the milestones are within IMPORT_MAX_OTHER_ROWS). Memory is measured too: the
import runs in a child process (the generated workbook, held by openpyxl in this one, would hide it), which
prints its peak resident memory (``ru_maxrss``) after Django's start, after reading, after validation (reading
and validation are what the upload's preview does) and after writing. The budget is 400 MB for the preview.
"""

import argparse
import csv
import datetime
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kerjasama.settings")
os.environ.setdefault("DEBUG", "1")
if "--via-worker" in sys.argv:
    os.environ["TASK_BACKEND"] = "database"  # tasks queued for the worker processes this script starts

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from agreements import importers  # noqa: E402
from agreements.models import GovernmentAffair, Region  # noqa: E402
from agreements.spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS  # noqa: E402


def generate(count: int, prefix: str):
    by_province = {}
    for region in Region.objects.filter(is_autonomous=True).exclude(level="province").order_by("code"):
        by_province.setdefault(region.province_id, []).append(region.code)
    pairs = [(codes[i], codes[i + 1]) for codes in by_province.values() for i in range(len(codes) - 1)]
    affairs = list(GovernmentAffair.objects.order_by("code").values_list("code", flat=True))
    agreements, milestones = [AGREEMENT_COLUMNS], [MILESTONE_COLUMNS]
    kbs = count // 2
    for i in range(count):
        is_kb = i < kbs
        a, b = pairs[i % len(pairs)] if is_kb else pairs[(i - kbs) % len(pairs)]
        number = f"{prefix}/{'KB' if is_kb else 'PKS'}/{i:05d}"
        signed = datetime.date(2019, 1, 1) + datetime.timedelta(days=(i if is_kb else i - kbs) % 1500)
        if not is_kb:
            signed += datetime.timedelta(days=30)
        agreements.append([
            number, "KB" if is_kb else "PKS", "" if is_kb else f"{prefix}/KB/{i - kbs:05d}",
            f"Kerja sama pembangunan daerah nomor {i}", "KSDD-SUKARELA" if i % 3 else "KSDD-WAJIB", f"{a};{b}", "",
            f"{affairs[i % len(affairs)]};{affairs[(i + 7) % len(affairs)]}", signed.isoformat(), "",
            signed.isoformat(), (signed + datetime.timedelta(days=1825)).isoformat(), "",
            f"{(i % 97 + 1) * 1_000_000:,}".replace(",", "."), "Ruang lingkup kerja sama antardaerah.",
        ])
        for j, status in enumerate(("met", "in_progress", "scheduled")):
            start = signed + datetime.timedelta(days=30 * (j + 1))
            milestones.append([
                number, f"Tahap {j + 1}", a, (start + datetime.timedelta(days=90)).isoformat(),
                start.isoformat() if status != "scheduled" else "",
                (start + datetime.timedelta(days=60)).isoformat() if status == "met" else "", status,
                {"met": 100, "in_progress": 50, "scheduled": 0}[status],
            ])
    return agreements, milestones


def to_xlsx(agreements, milestones) -> bytes:
    import openpyxl

    # Not write_only: that mode leaves out the <dimension> element Excel always writes, and without
    # it openpyxl scans each sheet once more just to open the workbook (a cost real files do not have).
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in (("agreements", agreements), ("milestones", milestones)):
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


PREVIEW_BUDGET_MB = 400


def peak_mb() -> float:
    """This process's peak resident memory so far (``ru_maxrss`` is in kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--largest", action="store_true",
                        help="50,000 agreements and 150,000 milestones, the largest file the limits accept")
    parser.add_argument("--again", action="store_true", help="import the same file a second time")
    parser.add_argument("--keep", help="also save the generated file(s) under this path prefix")
    parser.add_argument("--via-worker", action="store_true",
                        help="import as /import/ does: an import job checked and run by worker processes")
    parser.add_argument("--generate", metavar="DIRECTORY", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.largest:
        args.agreements = 50_000
    if args.generate:
        write_files(args, Path(args.generate))
        return

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    with tempfile.TemporaryDirectory(prefix="import-bench-") as directory:
        # Generated by a child process: the workbook openpyxl holds while writing it would hide the import's own
        # peak memory, which is this process's.
        command = [sys.executable, __file__, "--generate", directory, "--agreements", str(args.agreements),
                   "--format", args.format] + (["--keep", args.keep] if args.keep else [])
        subprocess.run(command, check=True)  # noqa: S603 -- this script, its own arguments
        paths = sorted(Path(directory).iterdir())
        if args.via_worker:
            measure_via_worker(paths)
        else:
            measure(paths, again=args.again)


def _worker() -> tuple[float, float]:
    """Run one ``manage.py worker --batch`` process; its time and its own peak resident memory in MB (``wait4``
    reports that child's usage alone, not the generator's)."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 -- this project's manage.py
        [sys.executable, str(ROOT / "manage.py"), "worker", "--batch", "--no-periodic", "-v", "0"], cwd=ROOT)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"the worker exited with {process.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def measure_via_worker(paths: list[Path]) -> None:
    """The /import/ path: a job with the files, a worker checks it, the import is confirmed, a worker runs it."""
    from agreements import jobs
    from agreements.models import ImportJob, User

    user, _created = User.objects.get_or_create(username="import_bench", defaults={"role": User.Role.MINISTRY})
    files = [(path.read_bytes(), path.name) for path in paths]
    job = jobs.create(user=user, agreements=files[0], milestones=files[1] if len(files) > 1 else None)
    assert jobs.start_check(job), "a file this large is checked by a background task"
    check_s, check_mb = _worker()
    job.refresh_from_db()
    if job.state != ImportJob.State.PREVIEW:
        print(f"the check ended {job.state}: {job.problems[:5]} {job.error}")
        sys.exit(1)
    jobs.confirm(job)
    run_s, run_mb = _worker()
    job.refresh_from_db()
    print(f"through the worker: {job.rows_total:,} rows; check (preview) {check_s:.1f} s, peak {check_mb:.0f} MB; "
          f"import {run_s:.1f} s, peak {run_mb:.0f} MB (the import checks again, then writes); state {job.state}")
    if job.state != ImportJob.State.DONE:
        sys.exit(1)


def write_files(args, directory: Path) -> None:
    prefix = f"BENCH{int(time.time())}"
    started = time.perf_counter()
    agreements, milestones = generate(args.agreements, prefix)
    if args.format == "xlsx":
        files = [(to_xlsx(agreements, milestones), "1-bench.xlsx")]
    else:
        files = [(to_csv(agreements), "1-agreements.csv"), (to_csv(milestones), "2-milestones.csv")]
    for data, name in files:
        (directory / name).write_bytes(data)
        if args.keep:
            Path(f"{args.keep}-{name}").write_bytes(data)
    print(f"generated {len(agreements) - 1} agreements, {len(milestones) - 1} milestones "
          f"({sum(len(d) for d, _n in files) / 1e6:.1f} MB {args.format}) in {time.perf_counter() - started:.1f} s")


def measure(paths: list[Path], *, again: bool) -> None:
    """Read, validate and write the files in this process, timing each step and reporting the peak memory."""
    print(f"  memory: {peak_mb():.0f} MB after Django's start")
    for attempt in range(2 if again else 1):
        files = [(path.read_bytes(), path.name) for path in paths]
        t0 = time.perf_counter()
        tables = importers.read_spreadsheet(*files[0])
        if len(files) > 1:
            tables.update(importers.read_spreadsheet(*files[1], default_sheet=importers.MILESTONES_SHEET))
        t1 = time.perf_counter()
        read_mb = peak_mb()
        plan = importers.plan_import(tables)
        t2 = time.perf_counter()
        preview_mb = peak_mb()
        if not plan.ok:
            for problem in plan.problems[:20]:
                print(problem)
            sys.exit(1)
        importers.apply_plan(plan)
        t3 = time.perf_counter()
        a, m = plan.agreement_counts, plan.milestone_counts
        print(f"run {attempt + 1}: agreements {a.created} created / {a.updated} updated / {a.unchanged} unchanged; "
              f"milestones {m.created} created / {m.updated} updated / {m.unchanged} unchanged")
        print(f"  read {t1 - t0:.1f} s, validate {t2 - t1:.1f} s, write {t3 - t2:.1f} s, total {t3 - t0:.1f} s")
        verdict = "within" if preview_mb < PREVIEW_BUDGET_MB else "OVER"
        print(f"  peak memory: {read_mb:.0f} MB after reading, {preview_mb:.0f} MB after validation (the preview, "
              f"{verdict} the {PREVIEW_BUDGET_MB} MB budget), {peak_mb():.0f} MB after writing")
        del files, tables, plan


if __name__ == "__main__":
    main()
