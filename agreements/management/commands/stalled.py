"""``python manage.py stalled [--as-of YYYY-MM-DD] [--format table|csv|json]``.

Prints the agreements stalled as of a date, from the same rules as the dashboard and the lists
(``agreements.stalls`` through ``agreements.selectors.stalled_report``). CSV cells are guarded against
spreadsheet formulas as the export's are (``exports.csv_cells``).

JSON and CSV are streamed, in memory that does not grow with the register (200,000 agreements): the rows come in
report order from SQL (``selectors.iter_stalled_report``), a chunk at a time from the open cursor (a server-side cursor on
PostgreSQL) with their regions, affairs and open obstacles prefetched per chunk, and each row is written as it
comes; the output is byte for byte what ``json.dumps`` of the whole list (``indent=2``) and one ``csv.writer``
gave. The table needs every row for its column widths and its count, so it still reads the whole report.
"""

import csv
import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from agreements import exports, selectors, stalls
from agreements.management import add_as_of_argument, parse_as_of

FORMATS = ("table", "csv", "json")


def _flat(row: dict) -> list[str]:
    """A report row as text cells: lists joined with ';', the date in ISO form."""
    cells = []
    for field in selectors.STALLED_REPORT_FIELDS:
        value = row[field]
        if value is None:  # no step to name (``stuck_at``)
            value = ""
        elif isinstance(value, list):
            value = ";".join(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        cells.append(str(value))
    return cells


class Command(BaseCommand):
    # A read-only report run by operators and cron: the system checks (which import every URL module, a second of
    # start-up) are for ``check``, ``migrate`` and the servers, not for each report.
    requires_system_checks = []

    @property
    def help(self):  # translated when asked, not at import
        return _("Print the agreements stalled as of a date (default today), as a table, CSV or JSON.")

    def add_arguments(self, parser):
        add_as_of_argument(parser, help=_("Evaluate the stall rules as of this date (default: today)."))
        parser.add_argument(
            "--format", dest="format", default="table", choices=FORMATS,
            help=_("Output format: table (default), csv or json."),
        )

    def handle(self, *args, **options):
        as_of = parse_as_of(options["as_of"])
        fmt = options["format"]
        if fmt not in FORMATS:  # call_command() does not go through argparse's choices
            raise CommandError(_("--format must be one of: %(formats)s.") % {"formats": ", ".join(FORMATS)})
        thresholds = stalls.Thresholds.current()
        if fmt == "json":
            self._write_json(selectors.iter_stalled_report(as_of=as_of, thresholds=thresholds))
        elif fmt == "csv":
            writer = csv.writer(exports._Echo(), lineterminator="\n")  # each line returned, written as it comes
            self.stdout.write(writer.writerow(selectors.STALLED_REPORT_FIELDS), ending="")
            for row in selectors.iter_stalled_report(as_of=as_of, thresholds=thresholds):
                self.stdout.write(writer.writerow(exports.csv_cells(_flat(row))), ending="")
        else:
            self._write_table(selectors.stalled_report(as_of=as_of, thresholds=thresholds), as_of, thresholds)

    def _write_json(self, rows) -> None:
        """``json.dumps(rows, ensure_ascii=False, indent=2)`` and a newline, one row at a time: ``[``, each object
        indented one level and separated by ``,``, then ``]`` (``[]`` for none)."""
        opening = "[\n"
        for row in rows:
            text = json.dumps(selectors.stalled_report_json([row])[0], ensure_ascii=False, indent=2)
            # No JSON string holds a raw newline, so every line break here is the layout's.
            self.stdout.write(opening + "  " + text.replace("\n", "\n  "), ending="")
            opening = ",\n"
        self.stdout.write("[]" if opening == "[\n" else "\n]")

    def _write_table(self, rows: list[dict], as_of: datetime.date, thresholds: stalls.Thresholds) -> None:
        header = [
            _("Number"), _("Type"), _("Title"), _("Reasons"), _("Days stalled"),
            _("Signed on"), _("Regions"), _("Affairs"), _("Stopped at"), _("Open obstacles"),
        ]
        body = [_flat(row) for row in rows]
        widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
        numeric = {selectors.STALLED_REPORT_FIELDS.index("days_stalled")}

        def line(cells):
            return "  ".join(
                cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)
            ).rstrip()

        self.stdout.write(line(header))
        self.stdout.write(line(["-" * w for w in widths]))
        for cells in body:
            self.stdout.write(line(cells))
        self.stdout.write(
            _(
                "%(count)d stalled as of %(as_of)s (thresholds: KB to PKS %(kb)d days, PKS to implementation "
                "%(pks)d days, overdue milestone grace %(grace)d days)."
            )
            % {
                "count": len(rows),
                "as_of": as_of.isoformat(),
                "kb": thresholds.kb_follow_up_days,
                "pks": thresholds.implementation_start_days,
                "grace": thresholds.overdue_grace_days,
            }
        )
