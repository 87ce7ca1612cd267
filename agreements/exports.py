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
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from . import stalls
from .models import Agreement, AgreementParty, Amendment, ThirdParty
from .spreadsheet import (
    AGREEMENT_COLUMNS,
    AMENDMENT_COLUMNS,
    EXPORT_EXTRA_COLUMNS,
    LIST_SEPARATOR,
    NO,
    PARTY_COLUMNS,
    YES,
    guard_formula,
)

COLUMNS = AGREEMENT_COLUMNS + EXPORT_EXTRA_COLUMNS
CHUNK_SIZE = 1000
SHEET_NAME = "agreements"
PARTIES_SHEET_NAME = "parties"
AMENDMENTS_SHEET_NAME = "amendments"


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
        agreement.termination_reason,
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


def iter_party_rows(queryset: QuerySet) -> Iterator[list]:
    """The parties sheet (``spreadsheet.PARTY_COLUMNS``) of the same agreements: one row per regional party, a chunk
    of agreements at a time (their numbers from the open cursor, then one query for their parties)."""
    numbers = queryset.order_by().values_list("pk", "number").iterator(chunk_size=CHUNK_SIZE)
    for chunk in _batched(numbers, CHUNK_SIZE):
        by_id = dict(chunk)
        for values in (
            AgreementParty.objects.filter(agreement_id__in=by_id).order_by("agreement_id", "region__code")
            .values_list("agreement_id", "region__code", "signatory_name", "signatory_position", "document_number",
                         "signed_on", "dprd_required", "dprd_approved_on", "dprd_decision_number")
        ):
            agreement_id, code, name, position, number, signed, required, approved, decision = values
            yield [by_id[agreement_id], code, name, position, number, _iso(signed), YES if required else NO,
                   _iso(approved), decision]


def iter_amendment_rows(queryset: QuerySet) -> Iterator[list]:
    """The amendments sheet (``spreadsheet.AMENDMENT_COLUMNS``) of the same agreements: one row per amendment, a chunk
    of agreements at a time (their numbers from the open cursor, then one query for their amendments)."""
    numbers = queryset.order_by().values_list("pk", "number").iterator(chunk_size=CHUNK_SIZE)
    for chunk in _batched(numbers, CHUNK_SIZE):
        by_id = dict(chunk)
        for agreement_id, number, signed_on, ends_on, summary in (
            Amendment.objects.filter(agreement_id__in=by_id).order_by("agreement_id", "signed_on", "pk")
            .values_list("agreement_id", "number", "signed_on", "ends_on", "summary")
        ):
            yield [by_id[agreement_id], number, _iso(signed_on), _iso(ends_on), summary]


class _Echo:
    """A write-only file whose ``write`` returns the line, for ``csv.writer`` in a generator."""

    def write(self, value):
        return value


def csv_cells(row: Iterable) -> list:
    """A row as CSV cells: ``None`` empty, every text cell through ``guard_formula`` (every CSV this project
    writes, the export and ``manage.py stalled --format csv``, goes through here)."""
    return ["" if v is None else guard_formula(v) if isinstance(v, str) else v for v in row]


def csv_chunks(rows: Iterable[list], delimiter: str = ",", columns: list[str] = COLUMNS) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads it as UTF-8), comma-separated (or ``;`` for Excel set to
    Indonesian, which reads ``,`` as the decimal comma), guarded cells. ``columns``: the header (the parties file's
    is ``PARTY_COLUMNS``)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n", delimiter=delimiter)
    yield "\ufeff".encode()
    yield writer.writerow(columns).encode()
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


def write_xlsx(rows: Iterable[list], fileobj, party_rows: Iterable[list] | None = None,
               amendment_rows: Iterable[list] | None = None) -> None:
    """Write the rows to ``fileobj`` as an XLSX workbook with a sheet ``agreements`` and, given ``party_rows``
    (``iter_party_rows``) and ``amendment_rows`` (``iter_amendment_rows``), the sheets ``parties`` and
    ``amendments``: the import's format, so the export imports back."""
    workbook = Workbook(write_only=True)
    for name, columns, sheet_rows in ((SHEET_NAME, COLUMNS, rows), (PARTIES_SHEET_NAME, PARTY_COLUMNS, party_rows),
                                      (AMENDMENTS_SHEET_NAME, AMENDMENT_COLUMNS, amendment_rows)):
        if sheet_rows is None:
            continue
        sheet = workbook.create_sheet(name)
        sheet.append([_xlsx_cell(sheet, column) for column in columns])
        for row in sheet_rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(fileobj)


def xlsx_tempfile(rows: Iterable[list], write=None):
    """The workbook (``write_xlsx``, or ``write`` given) in a temporary file on disk, rewound, for ``FileResponse``
    (deleted on close)."""
    tmp = tempfile.TemporaryFile(suffix=".xlsx")
    (write or write_xlsx)(rows, tmp)
    tmp.seek(0)
    return tmp


# --- The readable workbook ----------------------------------------------------------------------------------------
# The same filtered list for people rather than for the import: headers in the interface language, names beside
# codes, stages and stall reasons as words, real dates and amounts, a frozen header with filters.

def readable_columns() -> list[tuple[str, int]]:
    """(header, width) of the readable workbook, in the active language."""
    return [
        (_("Number"), 28), (_("Document type"), 10), (_("Parent KB"), 24), (_("Title"), 48),
        (_("Cooperation kind"), 26), (_("Party regions"), 40), (_("Region codes"), 16), (_("Third parties"), 30),
        (_("Government affairs (urusan)"), 40), (_("Affair codes"), 14), (_("Signing date"), 14),
        (_("DPRD approval date"), 14), (_("Start date"), 14), (_("End date"), 14), (_("Termination date"), 14),
        (_("Termination reason"), 26),
        (_("Value (Rp)"), 18), (_("Scope"), 40), (_("Stage"), 22), (_("Stall reasons"), 34),
        (_("Days since signing or due date"), 14), (_("Last follow-up"), 14), (_("Follow-ups"), 11),
        (_("Planned financing (Rp)"), 18), (_("Realised financing (Rp)"), 18),
    ]


DATE_FORMAT = "DD/MM/YYYY"
MONEY_FORMAT = "#,##0"


def iter_readable_rows(queryset: QuerySet, as_of: datetime.date) -> Iterator[list]:
    """The rows of the readable workbook: a chunk of agreements at a time, its relations in a few queries."""
    from django.db.models import Count, Max

    from . import results
    from .models import FollowUp, Stage, StallReason, TerminationReason

    agreements = queryset.annotate(parent_number=F("parent__number")).iterator(chunk_size=CHUNK_SIZE)
    for chunk in _batched(agreements, CHUNK_SIZE):
        ids = [a.pk for a in chunk]
        regions = _grouped(
            (agreement_id, (code, name)) for agreement_id, code, name in
            AgreementParty.objects.filter(agreement_id__in=ids).order_by("region__code")
            .values_list("agreement_id", "region__code", "region__name")
        )
        affairs = _grouped(
            (agreement_id, (code, name)) for agreement_id, code, name in
            Agreement.affairs.through.objects.filter(agreement_id__in=ids).order_by("governmentaffair__code")
            .values_list("agreement_id", "governmentaffair__code", "governmentaffair__name")
        )
        third = _grouped(
            ThirdParty.objects.filter(agreement_id__in=ids).order_by("name").values_list("agreement_id", "name")
        )
        followups = {
            row["agreement_id"]: row for row in FollowUp.objects.filter(agreement_id__in=ids)
            .values("agreement_id").annotate(last=Max("date"), n=Count("pk")).order_by()
        }
        financing = results.sums_by_agreement(ids)  # planned and realised over the financing lines; none: empty
        for a in chunk:
            party, affair, done = regions.get(a.pk, ()), affairs.get(a.pk, ()), followups.get(a.pk, {})
            yield [
                a.number, a.document_type, a.parent_number or "", a.title,
                str(Agreement.Kind(a.cooperation_kind).label), ", ".join(name for _c, name in party),
                LIST_SEPARATOR.join(code for code, _n in party), LIST_SEPARATOR.join(third.get(a.pk, ())),
                ", ".join(f"{code} {name}" for code, name in affair), LIST_SEPARATOR.join(code for code, _n in affair),
                a.signed_on, a.dprd_approved_on, a.starts_on, a.ends_on, a.terminated_on,
                str(TerminationReason(a.termination_reason).label) if a.termination_reason else "", a.value_idr, a.scope,
                str(Stage(a.stage).label), ", ".join(str(StallReason(code).label) for code in stalls.reasons_of(a)),
                stalls.days_stalled(a, as_of), done.get("last"), done.get("n", 0),
                *financing.get(a.pk, (None, None)),
            ]


def readable_party_columns() -> list[tuple[str, int]]:
    """(header, width) of the readable workbook's sheet of parties, in the active language."""
    return [
        (_("Number"), 28), (_("Region"), 30), (_("Region codes"), 12), (_("Signatory"), 28), (_("Position"), 30),
        (_("Party's document number"), 28), (_("Date this party signed"), 14), (_("DPRD approval required"), 12),
        (_("DPRD approval date"), 14), (_("DPRD decision number"), 24), (_("Others are waiting"), 12),
    ]


def iter_readable_party_rows(queryset: QuerySet) -> Iterator[list]:
    """Each party of the listed agreements, as people read it: names, real dates, yes and no in words, and whether
    the other parties wait for it (``signing.is_lagging``). A chunk of agreements at a time, one query each."""
    from . import signing

    yes, no = str(_("Yes")), str(_("No"))
    numbers = queryset.order_by().values_list("pk", "number").iterator(chunk_size=CHUNK_SIZE)
    for chunk in _batched(numbers, CHUNK_SIZE):
        by_id = dict(chunk)
        parties = _grouped(
            (p.agreement_id, p) for p in AgreementParty.objects.filter(agreement_id__in=by_id)
            .select_related("region").order_by("agreement_id", "region__code")
        )
        for agreement_id, group in parties.items():
            for p in group:
                lagging = signing.is_lagging(p, "signed_on", group) or signing.is_lagging(p, "dprd_approved_on", group)
                yield [by_id[agreement_id], p.region.name, p.region.code, p.signatory_name, p.signatory_position,
                       p.document_number, p.signed_on, yes if p.dprd_required else no, p.dprd_approved_on,
                       p.dprd_decision_number, yes if lagging else no]


def write_readable_xlsx(rows: Iterable[list], fileobj, party_rows: Iterable[list] | None = None) -> None:
    """The readable workbook: the agreements and, given ``party_rows`` (``iter_readable_party_rows``), their parties."""
    workbook = Workbook(write_only=True)
    _readable_sheet(workbook, str(_("Agreements")), readable_columns(), rows)
    if party_rows is not None:
        _readable_sheet(workbook, str(_("Parties")), readable_party_columns(), party_rows)
    workbook.save(fileobj)


def _readable_sheet(workbook, title: str, columns: list[tuple[str, int]], rows: Iterable[list]) -> None:
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for name, _width in columns:
        cell = _xlsx_cell(sheet, str(name))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            cell = _xlsx_cell(sheet, value)
            if isinstance(value, datetime.date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, int) and value >= 1000:
                cell.number_format = MONEY_FORMAT
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"

