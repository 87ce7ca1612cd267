"""CSV and XLSX exports of the agreement list, streamed.

Columns: the import template's (``spreadsheet.AGREEMENT_COLUMNS``), so that an export can be edited
and imported back, then the read-only ``spreadsheet.EXPORT_EXTRA_COLUMNS`` the import ignores.
Lists are joined with ``;``, dates are ISO (``YYYY-MM-DD``).

Formula injection: in CSV every text cell goes through ``spreadsheet.guard_formula`` (a leading
``'``, which the import strips again); in XLSX every text value is a string cell, never a formula.

Memory stays flat: rows come from ``queryset.iterator(chunk_size=...)`` and the related codes and
names are fetched once per chunk; the XLSX is written by openpyxl in write-only mode to a temporary file on disk.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.db.models import F, QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from . import stalls
from .models import Agreement, AgreementParty, ThirdParty
from .spreadsheet import AGREEMENT_COLUMNS, EXPORT_EXTRA_COLUMNS, LIST_SEPARATOR, guard_formula

COLUMNS = AGREEMENT_COLUMNS + EXPORT_EXTRA_COLUMNS
CHUNK_SIZE = 1000
SHEET_NAME = "agreements"


def _grouped(pairs) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for agreement_id, value in pairs:
        result.setdefault(agreement_id, []).append(value)
    return result


def _batched(iterable, size: int):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def agreement_row(agreement, as_of: datetime.date, region_codes=(), third_parties=(), affair_codes=()) -> list:
    """One export row, in ``COLUMNS`` order: strings, or ints for amounts and days (None when empty)."""
    return [
        agreement.number,
        agreement.document_type,
        agreement.parent_number or "",
        agreement.title,
        agreement.cooperation_kind,
        LIST_SEPARATOR.join(region_codes),
        LIST_SEPARATOR.join(third_parties),
        LIST_SEPARATOR.join(affair_codes),
        _iso(agreement.signed_on),
        _iso(agreement.dprd_approved_on),
        _iso(agreement.starts_on),
        _iso(agreement.ends_on),
        _iso(agreement.terminated_on),
        agreement.value_idr,
        agreement.scope,
        agreement.stage,
        LIST_SEPARATOR.join(stalls.reasons_of(agreement)),
        stalls.days_stalled(agreement, as_of),
    ]


def iter_rows(queryset: QuerySet, as_of: datetime.date) -> Iterator[list]:
    """The rows of the (filtered, annotated, ordered) queryset, a chunk at a time.

    Per chunk: the agreements from the open cursor, then one query each for the party region
    codes, the affair codes and the third-party names of that chunk (plain values, no model
    instances: this is the hot loop of a 20,000-row export).
    """
    agreements = queryset.annotate(parent_number=F("parent__number")).iterator(chunk_size=CHUNK_SIZE)
    for chunk in _batched(agreements, CHUNK_SIZE):
        ids = [a.pk for a in chunk]
        regions = _grouped(
            AgreementParty.objects.filter(agreement_id__in=ids).order_by("region__code")
            .values_list("agreement_id", "region__code")
        )
        affairs = _grouped(
            Agreement.affairs.through.objects.filter(agreement_id__in=ids).order_by("governmentaffair__code")
            .values_list("agreement_id", "governmentaffair__code")
        )
        third = _grouped(
            ThirdParty.objects.filter(agreement_id__in=ids).order_by("name").values_list("agreement_id", "name")
        )
        for a in chunk:
            yield agreement_row(a, as_of, regions.get(a.pk, ()), third.get(a.pk, ()), affairs.get(a.pk, ()))


class _Echo:
    """A write-only file whose ``write`` returns the line, for ``csv.writer`` in a generator."""

    def write(self, value):
        return value


def csv_cells(row: Iterable) -> list:
    """A row as CSV cells: ``None`` empty, every text cell through ``guard_formula`` (every CSV this project
    writes, the export and ``manage.py stalled --format csv``, goes through here)."""
    return ["" if v is None else guard_formula(v) if isinstance(v, str) else v for v in row]


def csv_chunks(rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads it as UTF-8), comma-separated, guarded cells."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff".encode()
    yield writer.writerow(COLUMNS).encode()
    for row in rows:
        yield writer.writerow(csv_cells(row)).encode()


def _xlsx_cell(sheet, value):
    cell = WriteOnlyCell(sheet, value=None)
    if value is None or value == "":
        return cell
    if isinstance(value, str):
        # Assign the value then force the type: openpyxl would read a leading "=" as a formula.
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
        return cell
    cell.value = value
    return cell


def write_xlsx(rows: Iterable[list], fileobj) -> None:
    """Write the rows to ``fileobj`` as an XLSX workbook with one sheet ``agreements``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.append([_xlsx_cell(sheet, name) for name in COLUMNS])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(fileobj)


def xlsx_tempfile(rows: Iterable[list]):
    """The workbook in a temporary file on disk, rewound, for ``FileResponse`` (deleted on close)."""
    tmp = tempfile.TemporaryFile(suffix=".xlsx")
    write_xlsx(rows, tmp)
    tmp.seek(0)
    return tmp
