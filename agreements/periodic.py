"""Periodic jobs, scheduled by the workers themselves (no cron needed; cron still works, see docs/deploy.md).

A ``tick`` task runs about once a minute on one worker. Each time, every job in ``JOBS`` whose slot has come
(this ISO week for the reminders, today for the clean-up) is enqueued, and the next tick is enqueued to run a
minute later. A row ``PeriodicRun(job, slot)`` is inserted first and is unique: whichever worker inserts it
enqueues, the others get an IntegrityError and do nothing, so a job fires once per slot however many workers
run, and a second chain of ticks (two workers starting at once) dies at its first duplicate slot.
"""

import dataclasses
import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import PeriodicRun

TICK = datetime.timedelta(minutes=1)
JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    slot: Callable[[datetime.datetime], str | None]  # the slot a moment belongs to, None: not yet due
    task_path: str  # "agreements.tasks.<name>"


def weekly_on_monday_morning(now: datetime.datetime) -> str | None:
    """This ISO week, from Monday 07:00 in Jakarta on (a worker that was down on Monday sends when it is back)."""
    local = now.astimezone(JAKARTA)
    year, week, weekday = local.isocalendar()
    if weekday == 1 and local.hour < 7:
        return None
    return f"{year}-W{week:02d}"


def daily(now: datetime.datetime) -> str | None:
    return now.astimezone(JAKARTA).date().isoformat()


def minute(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M")


JOBS = [
    # Today's stored stage and stall flags (``stalls.refresh_status``): the pages compute them until it has run.
    Job("refresh_status", daily, "refresh_status"),
    Job("send_reminders", weekly_on_monday_morning, "send_reminders"),
    Job("clean_up_imports", daily, "clean_up_imports"),
]


def claim(job: str, slot: str, enqueue) -> bool:
    """Insert the (job, slot) row and enqueue, in one transaction (both in the database): True for the one caller
    that inserted it. A failed enqueue takes the claim back, so the slot is not lost."""
    try:
        with transaction.atomic():
            PeriodicRun.objects.create(job=job, slot=slot)
            enqueue()
    except IntegrityError:
        return False
    return True


_claimed_here: set[tuple[str, str]] = set()


def claim_once(job_name: str, slot: str) -> bool:
    """``claim`` a job of ``JOBS`` for ``slot`` outside the tick (a page that finds its work not done yet): at most
    one attempt per process and slot, so a page does not insert again while a worker is on it."""
    if (job_name, slot) in _claimed_here:
        return False
    _claimed_here.add((job_name, slot))
    job = next(j for j in JOBS if j.name == job_name)
    return claim(job.name, slot, _task(job.task_path).enqueue)


def _task(name: str):
    from . import tasks

    return getattr(tasks, name)


def run_due_jobs(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every job whose slot has come and was not claimed yet; the names enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in JOBS:
        slot = job.slot(now)
        if slot is not None and claim(job.name, slot, _task(job.task_path).enqueue):
            enqueued.append(job.name)
    return enqueued


def schedule_tick(at: datetime.datetime) -> bool:
    """Enqueue the tick of ``at``'s minute, once (only with a backend that runs tasks later)."""
    return claim("tick", minute(at), _task("tick").using(run_after=at).enqueue)


def start(now: datetime.datetime | None = None) -> bool:
    """Called by each worker as it starts: resume the chain of ticks unless one is already scheduled.

    The chain's next tick holds the slot of the next minute; when no worker ran for a while, neither this
    minute's nor the next minute's slot is taken and this worker starts a new chain."""
    now = now or timezone.now()
    if PeriodicRun.objects.filter(job="tick", slot__in=[minute(now), minute(now + TICK)]).exists():
        return False
    return schedule_tick(now)


def tick(now: datetime.datetime | None = None) -> list[str]:
    """One tick: enqueue the due jobs, schedule the next tick, forget the tick slots older than a day (the jobs'
    slots, one a week or a day, are kept as the record of what was scheduled)."""
    now = now or timezone.now()
    schedule_tick(now + TICK)  # first: a failure below must not end the chain
    PeriodicRun.objects.filter(job="tick", created_at__lt=now - datetime.timedelta(days=1)).delete()
    return run_due_jobs(now)


def uses_worker() -> bool:
    return settings.TASK_BACKEND == "database"
