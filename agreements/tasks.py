"""Background tasks (django-tasks). With ``TASK_BACKEND=database`` they are queued in the database and run by
``manage.py worker`` (``make worker``); with ``immediate`` (the default when DEBUG is on) they run at once.
Each task takes ids, never objects, and reads what it needs again."""

from django.core.management import call_command
from django_tasks import task


@task()
def check_import(job_id: int) -> str:
    """Check an uploaded import (the preview of a large file): problems, or what it would do."""
    from . import jobs

    return jobs.check(job_id)


@task()
def run_import(job_id: int) -> str:
    """Run a confirmed import: check it again against the register as it is now, then write it."""
    from . import jobs

    return jobs.run(job_id)


@task()
def send_email(*, subject: str, body: str, from_email: str, to: list[str], html: str = "") -> int:
    """One e-mail, rendered by the caller (a password-reset link): sent here, off the request."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, body, from_email or settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()


@task()
def send_reminders() -> str:
    """The weekly reminder e-mails (``manage.py send_reminders``, idempotent per ISO week)."""
    call_command("send_reminders")
    return "sent"


@task()
def clean_up_imports() -> int:
    """Clear the files of imports older than a day that are not waiting or running."""
    from . import jobs

    return jobs.clean_up()


@task()
def refresh_status() -> int:
    """Store every agreement's stage and stall flags for today (``stalls.refresh_status``): daily, at the first tick
    after midnight in Jakarta, after a change of the thresholds, or when a page finds yesterday's."""
    from . import stalls

    return stalls.refresh_status()


@task()
def tick() -> list[str]:
    """The periodic scheduler's beat (``agreements.periodic``)."""
    from . import periodic

    return periodic.tick()
