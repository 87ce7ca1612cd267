"""``python manage.py import_agreements FILE [--milestones FILE] [--dry-run] [--user USERNAME]``.

All or nothing: any problem is printed (sheet or file, row, column, message), nothing is written
and the command exits with status 1. ``--dry-run`` validates and reports how many agreements and
milestones would be created, updated and left unchanged. History rows carry the change reason
``import`` and, with ``--user``, that user. See ``agreements/importers/`` and ``docs/import.md``.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from agreements import importers
from agreements.models import User


class Command(BaseCommand):
    help = "Import agreements (and milestones) from an XLSX workbook or CSV files, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="XLSX workbook (sheets agreements, milestones) or agreements CSV")
        parser.add_argument("--milestones", help="milestones CSV or XLSX (when not a sheet of FILE)")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--user", help="username recorded in the audit history (default: none, reason 'import')")

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            try:
                user = User.objects.get(username=options["user"])
            except User.DoesNotExist as exc:
                raise CommandError(_("Unknown user %(name)s.") % {"name": options["user"]}) from exc
        agreements = self._read(options["file"])
        milestones = self._read(options["milestones"]) if options["milestones"] else None
        try:
            plan = importers.import_files(agreements, milestones, user=user, dry_run=options["dry_run"])
        except importers.FileRefused as exc:
            raise CommandError(str(exc)) from exc
        for problem in plan.problems:
            self.stderr.write(str(problem))
        if not plan.ok:
            raise CommandError(
                _("%(count)s problem(s) found: nothing was imported.") % {"count": len(plan.problems)}
            )
        if options["dry_run"]:
            line = _("%(what)s: %(created)s to create, %(updated)s to update, %(unchanged)s unchanged")
        else:
            line = _("%(what)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged")
        for what, counts in ((_("agreements"), plan.agreement_counts), (_("milestones"), plan.milestone_counts)):
            self.stdout.write(line % {"what": what, **vars(counts)})
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))

    def _read(self, path: str) -> tuple[bytes, str]:
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        if file.stat().st_size > importers.MAX_FILE_SIZE:
            raise CommandError(_("The file is larger than 20 MB. Split it into smaller files."))
        return file.read_bytes(), file.name
