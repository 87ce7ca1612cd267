"""``python manage.py import_agreements FILE [--milestones FILE] [--parties FILE] [--amendments FILE] [--dry-run]
[--user USERNAME]``.

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
        parser.add_argument("--parties", help="parties CSV or XLSX: each party's signing and DPRD approval (when not "
                                              "a sheet of FILE)")
        parser.add_argument("--amendments", help="amendments CSV or XLSX: each amendment (adendum) of an agreement "
                                                 "(when not a sheet of FILE)")
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
        parties = self._read(options["parties"]) if options["parties"] else None
        amendments = self._read(options["amendments"]) if options["amendments"] else None
        progress = _TerminalProgress(self.stdout) if self.stdout.isatty() else None
        try:
            plan = importers.import_files(agreements, milestones, user=user, dry_run=options["dry_run"],
                                          progress=progress, parties=parties, amendments=amendments)
        except (importers.FileRefused, importers.RegisterChanged) as exc:
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
        for what, counts in ((_("agreements"), plan.agreement_counts), (_("milestones"), plan.milestone_counts),
                             (_("parties"), plan.party_counts), (_("amendments"), plan.amendment_counts)):
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


class _TerminalProgress:
    """Rows checked, then rows written, rewritten in place on a terminal (never on a pipe or in a log)."""

    EVERY = 500

    def __init__(self, out):
        self.out, self.phase, self.last = out, 0, -self.EVERY

    def __call__(self, rows: int, final: bool = False) -> None:
        if not final and rows - self.last < self.EVERY:
            return
        self.last = rows
        label = _("rows checked") if self.phase == 0 else _("rows written")
        self.out.write(f"\r{rows:,} {label}", ending="\n" if final else "")
        self.out.flush()
        if final:
            self.phase, self.last = self.phase + 1, -self.EVERY
