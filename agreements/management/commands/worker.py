"""``manage.py worker``: runs the background tasks and schedules the periodic jobs.

Start one or more beside gunicorn, on one machine or several (``make worker``; the systemd unit is in
docs/deploy.md). Each task runs once: a worker claims it with ``SELECT … FOR UPDATE SKIP LOCKED``. Each
periodic job fires once per slot (``agreements.periodic``). Options are those of django-tasks-db's
``db_worker`` (``--batch`` runs what is queued and exits).
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from agreements import periodic


class Command(BaseCommand):
    help = "Run the background tasks (imports, reminders, clean-up) and schedule the periodic jobs."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Run the queued tasks, then exit.")
        parser.add_argument("--no-periodic", action="store_true", help="Do not schedule the periodic jobs.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many tasks.")

    def handle(self, *args, batch, no_periodic, interval, max_tasks, **options):
        if not periodic.uses_worker():
            raise CommandError("TASK_BACKEND is 'immediate': tasks run at once, there is nothing for a worker to do. "
                               "Set TASK_BACKEND=database to queue them.")
        if not no_periodic and periodic.start():
            self.stdout.write("Periodic jobs scheduled.")
        worker_options = {"interval": interval, "batch": batch, "reload": False, "startup_delay": not batch}
        if max_tasks is not None:
            worker_options["max_tasks"] = max_tasks
        call_command("db_worker", **worker_options)
