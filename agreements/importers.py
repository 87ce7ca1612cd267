"""Bulk import of agreements and milestones from XLSX or CSV: all or nothing, every problem in one pass.

The same code serves the ``import_agreements`` command and the upload page (``views/imports.py``):

    tables = read_spreadsheet(data, filename)               # or read_spreadsheet(..., default_sheet=...)
    plan = plan_import(tables, user=user)                   # bulk validation, nothing written
    if plan.ok:
        apply_plan(plan, user=user)                         # one transaction, audit history

Formats
-------
- XLSX: a sheet ``agreements`` and an optional sheet ``milestones`` (sheet names case-insensitive).
  A separate milestones workbook may use a ``milestones`` sheet or be a single-sheet workbook.
- CSV: UTF-8 with or without a byte-order mark; ``;`` or ``,`` as separator, detected on the header
  line (Excel set to Indonesian writes ``;``). Milestones come in a second CSV file.
- Refused outright (``FileRefused``): empty files, files over 20 MB, legacy ``.xls``, and anything
  that is not an XLSX workbook or UTF-8 text (PDF, images, ...).

Headers are matched case-insensitively; spaces, ``_``, ``-`` and ``.`` are ignored
(``Document Type`` = ``document_type``). The columns are those of ``spreadsheet.AGREEMENT_COLUMNS``
and ``spreadsheet.MILESTONE_COLUMNS``; the export's read-only columns (``stage``, ``stall_reasons``,
``days_stalled``) are ignored; any other header is reported as an unknown column. Indonesian aliases:

agreements
    number: ``nomor``, ``nomor_dokumen``, ``nomor_kesepakatan``;
    document_type: ``jenis_dokumen``, ``tipe_dokumen``;
    parent_number: ``nomor_induk``, ``nomor_kb``, ``induk``;
    title: ``judul``, ``perihal``, ``tentang``;
    cooperation_kind: ``jenis_kerja_sama``, ``jenis_kerjasama``, ``bentuk_kerja_sama``;
    region_codes: ``kode_daerah``, ``kode_wilayah``, ``daerah``;
    third_parties: ``pihak_ketiga``;
    affair_codes: ``kode_urusan``, ``urusan``;
    signed_on: ``tanggal_tanda_tangan``, ``tanggal_penandatanganan``, ``tanggal_ttd``;
    dprd_approved_on: ``tanggal_persetujuan_dprd``, ``persetujuan_dprd``;
    starts_on: ``tanggal_mulai``; ends_on: ``tanggal_berakhir``;
    terminated_on: ``tanggal_pengakhiran``, ``tanggal_dihentikan``;
    value_idr: ``nilai``, ``nilai_rp``, ``nilai_idr``; scope: ``ruang_lingkup``, ``lingkup``.
milestones
    agreement_number: ``nomor``, ``nomor_dokumen``, ``nomor_kesepakatan``, ``nomor_perjanjian``;
    title: ``judul``, ``tahapan``, ``nama_tahapan``;
    responsible_region_code: ``kode_daerah_penanggung_jawab``, ``penanggung_jawab``, ``kode_daerah``;
    due_on: ``tenggat``, ``jatuh_tempo``, ``batas_waktu``, ``tanggal_target``;
    started_on: ``tanggal_mulai``; completed_on: ``tanggal_selesai``;
    status: ``status``; progress: ``progres``, ``kemajuan``, ``persentase``.

Values
------
- An empty cell is "no value": on an update it clears the field (progress becomes 0, status
  ``scheduled``). A column that is absent from the file leaves that field as it is on updates.
- A leading ``'`` before ``=``, ``+``, ``-``, ``@`` (the export's formula guard) is stripped.
- Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY`` or a real Excel date cell.
- Amounts: digits, optionally with ``.`` as thousands separator (``1.234.567``), or a number cell.
- Lists (``region_codes``, ``affair_codes``) are separated by ``;`` (``,`` is accepted too);
  ``third_parties`` only by ``;`` because names may contain commas.
- Codes that Excel turned into numbers: a code with one decimal digit gets a trailing zero back
  (``32.1`` → ``32.10``, ``2.1`` → ``2.10``) and a whole number loses its decimals (``32.0`` or ``32``
  → ``32``, a province). No Kemendagri or Permendagri 90/2019 code has a single decimal digit or
  a ``.00`` part, so this reading is never ambiguous. Agreement numbers that became numbers are
  read as whole numbers (``123.0`` → ``123``).
- Row numbers are those a spreadsheet shows: the header is row 1, blank rows count (and are skipped).

Rules
-----
``number`` is the key of an agreement; ``agreement_number`` + ``title`` the key of a milestone. A
known key updates the record, an unknown one creates it; nothing is ever deleted. Parties, third
parties and affairs are replaced by the row's (a kept party keeps its signatory details). A row
equal to the database writes nothing, so importing a file twice changes nothing the second time.
Writes record audit history with the importing user (change reason ``import``) and a milestone
whose status changes (or is created with a status other than ``scheduled``) gets a
``MilestoneUpdate``. Provincial officers may only import rows with at least one party in their
province or its kabupaten/kota, and only update agreements that already concern it.

Speed: validation runs a fixed number of queries per file (regions, affairs, then the stored
agreements, parties, third parties, affairs and milestones by chunks of numbers); rows are written
with bulk inserts, and their simple_history rows (and the MilestoneUpdate of created milestones)
are copied in SQL with ``INSERT … SELECT`` -- so simple_history's ``pre/post_create_historical_record``
signals are not sent for imported rows. ``scripts/bench_import.py`` measures 10,000 + 30,000 rows.
"""

import csv
import dataclasses
import datetime
import io
import re
import zipfile
from collections import defaultdict
from typing import Any

import filetype
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .access import is_national
from .models import Agreement, AgreementParty, GovernmentAffair, Milestone, MilestoneUpdate, Region, ThirdParty, User
from .spreadsheet import AGREEMENT_COLUMNS, EXPORT_EXTRA_COLUMNS, LIST_SEPARATOR, MILESTONE_COLUMNS, unguard_formula

MAX_FILE_SIZE = 20 * 1024 * 1024
AGREEMENTS_SHEET = "agreements"
MILESTONES_SHEET = "milestones"
CODES_SHEET = "codes"
CHANGE_REASON = "import"
BATCH = 2000
LOOKUP_CHUNK = 900  # below SQLite's historical 999 parameters per query

AGREEMENT_ALIASES = {
    "number": ["nomor", "nomor_dokumen", "nomor_kesepakatan"],
    "document_type": ["jenis_dokumen", "tipe_dokumen"],
    "parent_number": ["nomor_induk", "nomor_kb", "induk"],
    "title": ["judul", "perihal", "tentang"],
    "cooperation_kind": ["jenis_kerja_sama", "jenis_kerjasama", "bentuk_kerja_sama"],
    "region_codes": ["kode_daerah", "kode_wilayah", "daerah"],
    "third_parties": ["pihak_ketiga"],
    "affair_codes": ["kode_urusan", "urusan"],
    "signed_on": ["tanggal_tanda_tangan", "tanggal_penandatanganan", "tanggal_ttd"],
    "dprd_approved_on": ["tanggal_persetujuan_dprd", "persetujuan_dprd"],
    "starts_on": ["tanggal_mulai"],
    "ends_on": ["tanggal_berakhir"],
    "terminated_on": ["tanggal_pengakhiran", "tanggal_dihentikan"],
    "value_idr": ["nilai", "nilai_rp", "nilai_idr"],
    "scope": ["ruang_lingkup", "lingkup"],
}
MILESTONE_ALIASES = {
    "agreement_number": ["nomor", "nomor_dokumen", "nomor_kesepakatan", "nomor_perjanjian"],
    "title": ["judul", "tahapan", "nama_tahapan"],
    "responsible_region_code": ["kode_daerah_penanggung_jawab", "penanggung_jawab", "kode_daerah"],
    "due_on": ["tenggat", "jatuh_tempo", "batas_waktu", "tanggal_target"],
    "started_on": ["tanggal_mulai"],
    "completed_on": ["tanggal_selesai"],
    "status": [],
    "progress": ["progres", "kemajuan", "persentase"],
}
AGREEMENT_REQUIRED = ["number", "document_type", "title", "cooperation_kind", "affair_codes"]
MILESTONE_REQUIRED = ["agreement_number", "title"]
AGREEMENT_SCALARS = [
    "document_type", "title", "cooperation_kind", "signed_on", "dprd_approved_on", "starts_on", "ends_on",
    "terminated_on", "value_idr", "scope",
]
MILESTONE_SCALARS = ["due_on", "started_on", "completed_on", "status", "progress"]
DATE_COLUMNS = {"signed_on", "dprd_approved_on", "starts_on", "ends_on", "terminated_on", "due_on", "started_on",
                "completed_on"}
# Model field → column, for the messages of the model's own clean().
FIELD_COLUMN = {"parent": "parent_number", "regions": "region_codes", "affairs": "affair_codes",
                "responsible_region": "responsible_region_code", "__all__": ""}


class FileRefused(Exception):
    """The file is not something we read at all (empty, too large, not a spreadsheet)."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem, located the way a spreadsheet user finds it."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self):
        where = self.sheet if self.row is None else _("%(sheet)s, row %(row)s") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            where = f"{where}, {self.column}"
        return f"{where}: {self.message}"


@dataclasses.dataclass
class Table:
    """The rows of one sheet or CSV file: ``rows`` are (spreadsheet row number, {header: raw value})."""

    name: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[Any]]]


@dataclasses.dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclasses.dataclass
class AgreementRow:
    row: int
    number: str
    values: dict[str, Any]
    parent_number: str | None = None  # None: column absent
    region_codes: list[str] | None = None
    third_parties: list[str] | None = None
    affair_codes: list[str] = dataclasses.field(default_factory=list)
    existing: Agreement | None = None
    action: str = ""  # created | updated | unchanged
    changed: list[str] = dataclasses.field(default_factory=list)
    final: dict[str, Any] = dataclasses.field(default_factory=dict)
    parent_ref: Any = None  # an Agreement (database) or an AgreementRow (this file), or None
    region_ids: set[int] = dataclasses.field(default_factory=set)
    third_party_names: set[str] = dataclasses.field(default_factory=set)
    affair_ids: set[int] = dataclasses.field(default_factory=set)
    old_region_ids: set[int] = dataclasses.field(default_factory=set)
    old_third_party_names: set[str] = dataclasses.field(default_factory=set)
    old_affair_ids: set[int] = dataclasses.field(default_factory=set)
    obj: Agreement | None = None


@dataclasses.dataclass
class MilestoneRow:
    row: int
    agreement_number: str
    title: str
    values: dict[str, Any]
    responsible_code: str | None = None  # None: column absent
    existing: Milestone | None = None
    action: str = ""
    changed: list[str] = dataclasses.field(default_factory=list)
    final: dict[str, Any] = dataclasses.field(default_factory=dict)
    agreement_ref: Any = None  # Agreement or AgreementRow
    obj: Milestone | None = None


@dataclasses.dataclass
class ImportPlan:
    """What an import would do: problems, or the rows to create, update and leave unchanged."""

    problems: list[Problem] = dataclasses.field(default_factory=list)
    agreements: list[AgreementRow] = dataclasses.field(default_factory=list)
    milestones: list[MilestoneRow] = dataclasses.field(default_factory=list)
    party_changes: dict[int, tuple[set[int], set[int]]] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self, rows) -> Counts:
        counts = Counts()
        for row in rows:
            setattr(counts, row.action, getattr(counts, row.action) + 1)
        return counts

    @property
    def agreement_counts(self) -> Counts:
        return self.counts(self.agreements)

    @property
    def milestone_counts(self) -> Counts:
        return self.counts(self.milestones)


# ---------------------------------------------------------------------------------------------------------------
# Reading files


def _refuse_if_not_spreadsheet(data: bytes) -> str:
    """``xlsx`` or ``csv``, or FileRefused with a clear message."""
    if not data or not data.strip():
        raise FileRefused(_("The file is empty."))
    if len(data) > MAX_FILE_SIZE:
        raise FileRefused(_("The file is larger than 20 MB. Split it into smaller files."))
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused(_("Old Excel files (.xls) are not read: save the file as .xlsx or as CSV UTF-8."))
    if filetype.guess(data[:8192]) is not None or b"\x00" in data[:8192]:
        raise FileRefused(_("This file is not a spreadsheet: upload an .xlsx workbook or a CSV file."))
    return "csv"


def read_spreadsheet(data: bytes, filename: str = "", *, default_sheet: str = AGREEMENTS_SHEET) -> dict[str, Table]:
    """The tables of an XLSX workbook (``agreements``, ``milestones``) or of one CSV file (``default_sheet``)."""
    kind = _refuse_if_not_spreadsheet(data)
    if kind == "xlsx":
        return _read_xlsx(data, filename, default_sheet=default_sheet)
    return {default_sheet: _read_csv(data, filename or default_sheet)}


def _read_xlsx(data: bytes, filename: str, *, default_sheet: str) -> dict[str, Table]:
    import openpyxl  # imported here: the CSV path and the module import stay light

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileRefused(_("This file is not a readable .xlsx workbook.")) from exc
    try:
        sheets = {name.strip().lower(): workbook[name] for name in workbook.sheetnames}
        tables = {}
        for wanted in (AGREEMENTS_SHEET, MILESTONES_SHEET):
            if wanted in sheets:
                tables[wanted] = _table_from_rows(wanted, _xlsx_rows(sheets[wanted]))
        if default_sheet not in tables and len(sheets) == 1 and not tables:
            only = next(iter(sheets.values()))
            tables[default_sheet] = _table_from_rows(default_sheet, _xlsx_rows(only))
        if default_sheet not in tables:
            raise FileRefused(_("The workbook has no sheet named “%(sheet)s”.") % {"sheet": default_sheet})
        return tables
    finally:
        workbook.close()


def _xlsx_rows(sheet):
    """(row number, values) for each row, numbered as Excel shows them, so blank rows count."""
    fast = _fast_xlsx_rows(sheet)
    if fast is not None:
        yield from fast
        return
    sheet.reset_dimensions()  # some writers store a wrong dimension; read every row there is
    # openpyxl's read-only reader yields an empty row for each row missing from the file.
    yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _fast_xlsx_rows(sheet):
    """The sheet's XML read directly: openpyxl's per-cell objects cost ~20 s on 40,000 rows.

    openpyxl still opens the workbook and supplies the shared strings, the epoch and which cell
    styles are dates; when its internals are not there (another version) we fall back to it.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel

    workbook = sheet.parent
    try:
        source = workbook._archive.open(sheet._worksheet_path)
        date_styles, strings, epoch = set(workbook._date_formats), workbook.shared_strings, workbook.epoch
    except AttributeError:
        return None
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    row_tag, cell_tag, value_tag, inline_tag, text_tag = (f"{ns}row", f"{ns}c", f"{ns}v", f"{ns}is", f"{ns}t")
    columns = {}

    def cell_value(cell):
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(inline_tag)
            return "".join(t.text or "" for t in inline.iter(text_tag)) if inline is not None else None
        raw = cell.findtext(value_tag)
        if not raw:  # no value, or a formula without a cached result
            return None
        if kind == "s":
            return strings[int(raw)]
        if kind == "b":
            return raw == "1"
        if kind in ("str", "e"):
            return raw
        if kind == "d":
            return datetime.datetime.fromisoformat(raw)
        number = float(raw) if any(c in raw for c in ".eE") else int(raw)
        if int(cell.get("s", 0)) in date_styles:
            return from_excel(number, epoch)
        return number

    def rows():
        previous = 0
        with source:
            for _event, element in iterparse(source):
                if element.tag != row_tag:
                    continue
                number = int(element.get("r") or previous + 1)
                previous = number
                values = []
                for position, cell in enumerate(element.iter(cell_tag)):
                    ref = cell.get("r")
                    if ref:
                        letters = _CELL_REF.match(ref).group(1)
                        if letters not in columns:
                            columns[letters] = column_index_from_string(letters) - 1
                        position = columns[letters]
                    values.extend([None] * (position - len(values)))
                    values.append(cell_value(cell))
                element.clear()
                yield number, values

    return rows()


def _read_csv(data: bytes, name: str) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8” and try again.")) from exc
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Each record is one spreadsheet row (a quoted cell may span lines); blank lines are blank rows.
    return _table_from_rows(name, ((index, record) for index, record in enumerate(reader, start=1)))


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_from_rows(name: str, rows) -> Table:
    header_row, headers, body = 0, [], []
    for number, values in rows:
        if all(_is_blank(v) for v in values):
            continue
        if not headers:
            header_row, headers = number, ["" if v is None else str(v) for v in values]
            continue
        body.append((number, list(values)))
    return Table(name=name, header_row=header_row, headers=headers, rows=body)


# ---------------------------------------------------------------------------------------------------------------
# Cell values


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.]+", "", str(header).strip().lower())


def _header_map(aliases: dict[str, list[str]]) -> dict[str, str]:
    mapping = {}
    for column, names in aliases.items():
        for name in [column, *names]:
            mapping[_key(name)] = column
    return mapping


AGREEMENT_HEADERS = _header_map(AGREEMENT_ALIASES)
MILESTONE_HEADERS = _header_map(MILESTONE_ALIASES)
IGNORED_HEADERS = {_key(c) for c in EXPORT_EXTRA_COLUMNS}


def text(value) -> str:
    """A cell as text: empty for no value; whole numbers without ``.0``; the formula guard stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    return unguard_formula(str(value).strip()).strip()


def code(value) -> str:
    """A region or affair code, undoing what Excel does to codes it takes for numbers (see the docstring)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    result = text(value)
    if re.fullmatch(r"\d+\.\d", result):
        return result + "0"
    if re.fullmatch(r"\d+\.0+", result):
        return result.split(".")[0]
    return result


def code_list(value) -> list[str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [code(value)]
    return [code(part) for part in re.split(r"[;,]", text(value)) if part.strip()]


def name_list(value) -> list[str]:
    return [part.strip() for part in text(value).split(LIST_SEPARATOR) if part.strip()]


def parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = text(value)
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date: write YYYY-MM-DD or DD/MM/YYYY.") % {"value": raw})


def parse_amount(value) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or not float(value).is_integer():
            raise ValueError(_("“%(value)s” is not an amount in whole rupiah.") % {"value": value})
        return int(value)
    raw = text(value).replace(" ", "")
    if not raw:
        return None
    if re.fullmatch(r"\d+|\d{1,3}(\.\d{3})+", raw):
        return int(raw.replace(".", ""))
    raise ValueError(
        _("“%(value)s” is not an amount: write digits, optionally with “.” between thousands (1.234.567).")
        % {"value": raw}
    )


def parse_progress(value) -> int:
    raw = text(value).rstrip("%").strip()
    if not raw:
        return 0
    try:
        number = float(raw)
    except ValueError:
        number = None
    if number is None or not number.is_integer() or not 0 <= number <= 100:
        raise ValueError(_("“%(value)s” is not a progress: write a whole number from 0 to 100.") % {"value": raw})
    return int(number)


# ---------------------------------------------------------------------------------------------------------------
# Planning: parse, look up in bulk, validate, classify


class _Collector:
    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, sheet, row, column, message):
        self.problems.append(Problem(sheet, row, column, str(message)))

    def add_validation(self, sheet, row, error: ValidationError, default_column=""):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for message in errors:
                    for text_ in message.messages:
                        self.add(sheet, row, FIELD_COLUMN.get(field, field), text_)
        else:
            for text_ in error.messages:
                self.add(sheet, row, default_column, text_)


def _columns(table: Table, headers: dict[str, str], required: list[str], out: _Collector) -> dict[int, str] | None:
    """Index → column for the table's header, or None when a required column is missing."""
    index, seen = {}, {}
    for position, header in enumerate(table.headers):
        if _is_blank(header):
            continue
        key = _key(header)
        if key in IGNORED_HEADERS:
            continue
        column = headers.get(key)
        if column is None:
            out.add(table.name, table.header_row, header, _("Unknown column."))
        elif column in seen:
            out.add(table.name, table.header_row, header, _("This column appears twice."))
        else:
            seen[column] = position
            index[position] = column
    missing = [c for c in required if c not in seen]
    for column in missing:
        out.add(table.name, table.header_row or 1, column, _("Required column missing."))
    return None if missing else index


def _cells(values: list, index: dict[int, str]) -> dict[str, Any]:
    return {column: (values[position] if position < len(values) else None) for position, column in index.items()}


def _chunks(items, size=LOOKUP_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _scope_region_ids(user) -> set[int] | None:
    """Region ids whose rows a provincial officer may import; None for national users (no limit)."""
    if user is None or is_national(user):
        return None
    if user.role == User.Role.PROVINCE and user.region_id:
        return {user.region_id, *Region.objects.filter(province_id=user.region_id).values_list("id", flat=True)}
    return set()


def plan_import(tables: dict[str, Table], *, user=None) -> ImportPlan:
    """Validate everything in one pass with a few queries per file, and classify each row.

    ``user`` None is the command line (no scope limit); otherwise ministry staff and administrators
    import anything, provincial officers rows concerning their province.
    """
    out = _Collector()
    plan = ImportPlan()
    agreements_table = tables.get(AGREEMENTS_SHEET)
    milestones_table = tables.get(MILESTONES_SHEET)

    a_index = _columns(agreements_table, AGREEMENT_HEADERS, AGREEMENT_REQUIRED, out) if agreements_table else None
    m_index = _columns(milestones_table, MILESTONE_HEADERS, MILESTONE_REQUIRED, out) if milestones_table else None
    a_sheet = agreements_table.name if agreements_table else AGREEMENTS_SHEET
    m_sheet = milestones_table.name if milestones_table else MILESTONES_SHEET

    # 1. Parse the cells.
    if a_index is not None:
        plan.agreements = _parse_agreement_rows(agreements_table, a_index, out)
    if m_index is not None:
        plan.milestones = _parse_milestone_rows(milestones_table, m_index, out)

    # 2. Look everything up in bulk.
    regions = {r.code: r for r in Region.objects.all()}
    regions_by_id = {r.pk: r for r in regions.values()}
    affairs = {a.code: a for a in GovernmentAffair.objects.all()}
    numbers = {r.number for r in plan.agreements} | {r.parent_number for r in plan.agreements if r.parent_number}
    numbers |= {r.agreement_number for r in plan.milestones}
    existing = {}
    for chunk in _chunks(numbers):
        existing.update({a.number: a for a in Agreement.objects.filter(number__in=chunk)})
    ids = [a.pk for a in existing.values()]
    parties, third_parties, affair_links, children = defaultdict(set), defaultdict(set), defaultdict(set), set()
    milestones_by_agreement = defaultdict(dict)
    through = Agreement.affairs.through
    for chunk in _chunks(ids):
        for agreement_id, region_id in AgreementParty.objects.filter(agreement_id__in=chunk).values_list(
            "agreement_id", "region_id"
        ):
            parties[agreement_id].add(region_id)
        for agreement_id, name in ThirdParty.objects.filter(agreement_id__in=chunk).values_list("agreement_id", "name"):
            third_parties[agreement_id].add(name)
        for agreement_id, affair_id in through.objects.filter(agreement_id__in=chunk).values_list(
            "agreement_id", "governmentaffair_id"
        ):
            affair_links[agreement_id].add(affair_id)
        children.update(Agreement.objects.filter(parent_id__in=chunk).values_list("parent_id", flat=True))
        for milestone in Milestone.objects.filter(agreement_id__in=chunk):
            milestones_by_agreement[milestone.agreement_id][milestone.title] = milestone
    # Parents of stored PKS the file does not name again: their signing date still bounds the PKS's.
    loaded = {a.pk: a for a in existing.values()}
    parent_ids = {a.parent_id for a in existing.values() if a.parent_id and a.parent_id not in loaded}
    for chunk in _chunks(parent_ids):
        loaded.update({a.pk: a for a in Agreement.objects.filter(pk__in=chunk).only("number", "document_type", "signed_on")})
    scope = _scope_region_ids(user)

    # 3. Agreements: validate against the database and the rest of the file.
    by_number = {}
    for row in plan.agreements:
        if row.number in by_number:
            out.add(a_sheet, row.row, "number", _("The number %(number)s is already on row %(row)s.")
                    % {"number": row.number, "row": by_number[row.number].row})
        else:
            by_number[row.number] = row
    for row in plan.agreements:
        row.existing = existing.get(row.number)
        _resolve_agreement(row, a_sheet, out, regions=regions, affairs=affairs, existing=existing,
                           by_number=by_number, parties=parties, third_parties=third_parties,
                           affair_links=affair_links, children=children, scope=scope)
    for row in plan.agreements:  # parent rules need every row resolved first
        _check_parent(row, a_sheet, out, existing=existing, by_number=by_number, by_pk=loaded)
        if row.existing is not None:
            row.action = "updated" if row.changed else "unchanged"

    # 4. Milestones.
    seen_keys = {}
    for row in plan.milestones:
        key = (row.agreement_number, row.title)
        if key in seen_keys:
            out.add(m_sheet, row.row, "title", _("This milestone is already on row %(row)s.") % {"row": seen_keys[key]})
            continue
        seen_keys[key] = row.row
        file_agreement = by_number.get(row.agreement_number)
        db_agreement = existing.get(row.agreement_number)
        if file_agreement is not None:
            row.agreement_ref = file_agreement
            party_ids = file_agreement.region_ids
        elif db_agreement is not None:
            row.agreement_ref = db_agreement
            party_ids = parties[db_agreement.pk]
            if scope is not None and not (party_ids & scope):
                out.add(m_sheet, row.row, "agreement_number",
                        _("This agreement does not concern your province or its kabupaten/kota."))
                continue
        else:
            out.add(m_sheet, row.row, "agreement_number",
                    _("Unknown agreement %(number)s: it is neither in the file nor in the register.")
                    % {"number": row.agreement_number})
            continue
        if db_agreement is not None:
            row.existing = milestones_by_agreement[db_agreement.pk].get(row.title)
        _resolve_milestone(row, m_sheet, out, regions=regions, party_ids=party_ids)

    # 5. Removing a party must not orphan an existing milestone the file leaves as it is.
    overridden = {(r.agreement_number, r.title) for r in plan.milestones if r.responsible_code is not None}
    for row in plan.agreements:
        if row.existing is None or row.region_codes is None:
            continue
        for title, milestone in milestones_by_agreement[row.existing.pk].items():
            if (
                milestone.responsible_region_id
                and milestone.responsible_region_id not in row.region_ids
                and (row.number, title) not in overridden
            ):
                out.add(a_sheet, row.row, "region_codes",
                        _("%(region)s is responsible for the milestone “%(title)s” and must stay a party.")
                        % {"region": regions_by_id[milestone.responsible_region_id].name, "title": title})

    plan.problems = sorted(out.problems, key=lambda p: (p.sheet != a_sheet, p.sheet, p.row or 0))
    return plan


def _parse_agreement_rows(table: Table, index: dict[int, str], out: _Collector) -> list[AgreementRow]:
    rows = []
    for number, values in table.rows:
        cells = _cells(values, index)
        parsed = {}
        for column, raw in cells.items():
            try:
                if column in DATE_COLUMNS:
                    parsed[column] = parse_date(raw)
                elif column == "value_idr":
                    parsed[column] = parse_amount(raw)
                elif column in ("region_codes", "affair_codes"):
                    parsed[column] = code_list(raw)
                elif column == "third_parties":
                    parsed[column] = name_list(raw)
                elif column in ("document_type", "cooperation_kind"):
                    parsed[column] = text(raw).upper()
                elif column == "number":
                    parsed[column] = text(raw)
                else:
                    parsed[column] = text(raw)
            except ValueError as exc:
                out.add(table.name, number, column, exc.args[0])
        row = AgreementRow(row=number, number=parsed.pop("number", "") or "", values={})  # blank: clean_fields
        row.parent_number = parsed.pop("parent_number", None) if "parent_number" in index.values() else None
        row.region_codes = parsed.pop("region_codes", []) if "region_codes" in index.values() else None
        row.third_parties = parsed.pop("third_parties", []) if "third_parties" in index.values() else None
        row.affair_codes = parsed.pop("affair_codes", [])
        row.values = {k: v for k, v in parsed.items() if k in AGREEMENT_SCALARS}
        # A column whose cell did not parse is left out; the problem is already reported.
        rows.append(row)
    return rows


def _parse_milestone_rows(table: Table, index: dict[int, str], out: _Collector) -> list[MilestoneRow]:
    rows = []
    for number, values in table.rows:
        cells = _cells(values, index)
        parsed = {}
        for column, raw in cells.items():
            try:
                if column in DATE_COLUMNS:
                    parsed[column] = parse_date(raw)
                elif column == "progress":
                    parsed[column] = parse_progress(raw)
                elif column == "responsible_region_code":
                    parsed[column] = code(raw)
                elif column == "status":
                    parsed[column] = text(raw).lower() or Milestone.Status.SCHEDULED
                else:
                    parsed[column] = text(raw)
            except ValueError as exc:
                out.add(table.name, number, column, exc.args[0])
        row = MilestoneRow(row=number, agreement_number=parsed.pop("agreement_number", ""),
                           title=parsed.get("title", ""), values={})
        if not row.agreement_number:
            out.add(table.name, number, "agreement_number", _("The agreement number is required."))
        row.responsible_code = parsed.pop("responsible_region_code", None)
        row.values = {k: v for k, v in parsed.items() if k in MILESTONE_SCALARS}
        rows.append(row)
    return rows


def _resolve_agreement(row: AgreementRow, sheet, out, *, regions, affairs, existing, by_number, parties,
                       third_parties, affair_links, children, scope):
    """Final values, model validation (``clean_fields``, ``clean``, ``clean_relations``) and the change set."""
    current = row.existing
    final = {}
    for field in AGREEMENT_SCALARS:
        if field in row.values:
            final[field] = row.values[field]
        elif current is not None:
            final[field] = getattr(current, field)
        else:
            final[field] = "" if field in ("title", "scope", "document_type", "cooperation_kind") else None
    row.final = final

    # Relations: codes → ids; unknown codes reported with the column.
    region_objs = []
    if row.region_codes is not None:
        for region_code in row.region_codes:
            region = regions.get(region_code)
            if region is None:
                out.add(sheet, row.row, "region_codes", _("Unknown region code %(code)s.") % {"code": region_code})
            else:
                region_objs.append(region)
    elif current is not None:
        region_objs = [r for r in regions.values() if r.pk in parties[current.pk]]
    affair_objs = []
    for affair_code in row.affair_codes:
        affair = affairs.get(affair_code)
        if affair is None:
            out.add(sheet, row.row, "affair_codes", _("Unknown affair code %(code)s.") % {"code": affair_code})
        else:
            affair_objs.append(affair)
    if row.third_parties is not None:
        names = row.third_parties
        if len(set(names)) != len(names):
            out.add(sheet, row.row, "third_parties", _("A third party is listed twice."))
    else:
        names = sorted(third_parties[current.pk]) if current is not None else []
    row.region_ids = {r.pk for r in region_objs}
    row.affair_ids = {a.pk for a in affair_objs}
    row.third_party_names = set(names)

    probe = Agreement(number=row.number, **final)
    try:
        probe.clean_fields(exclude=["parent", "created_by", "updated_by"])
    except ValidationError as exc:
        out.add_validation(sheet, row.row, exc)
    try:
        probe.clean()
    except ValidationError as exc:
        out.add_validation(sheet, row.row, exc)
    for name in names:
        if len(name) > ThirdParty._meta.get_field("name").max_length:
            out.add(sheet, row.row, "third_parties", _("The third party name “%(name)s…” is too long.")
                    % {"name": name[:40]})
    try:
        probe.clean_relations(region_objs, names, affair_objs if row.affair_codes else [])
    except ValidationError as exc:
        # An unknown code is already reported; "too few regions" after dropping it would only repeat it.
        reported = {"regions": len(region_objs) != len(row.region_codes or []),
                    "affairs": len(affair_objs) != len(row.affair_codes)}
        out.add_validation(sheet, row.row, ValidationError(
            {field: errors for field, errors in exc.error_dict.items() if not reported.get(field)}
        ) if any(reported.values()) else exc)

    if scope is not None:
        if not (row.region_ids & scope):
            out.add(sheet, row.row, "region_codes",
                    _("Each row must have a party in your province or one of its kabupaten/kota."))
        if current is not None and not (parties[current.pk] & scope):
            out.add(sheet, row.row, "number",
                    _("The agreement with this number does not concern your province; you cannot change it."))
    if current is not None and current.document_type == Agreement.DocumentType.KB and current.pk in children \
            and final["document_type"] != Agreement.DocumentType.KB:
        out.add(sheet, row.row, "document_type", _("This KB already has PKS documents: it must stay a KB."))

    if current is None:
        row.action = "created"
        return
    row.old_region_ids = set(parties[current.pk])
    row.old_third_party_names = set(third_parties[current.pk])
    row.old_affair_ids = set(affair_links[current.pk])
    row.changed = [f for f in AGREEMENT_SCALARS if getattr(current, f) != final[f]]
    if row.region_codes is not None and row.region_ids != parties[current.pk]:
        row.changed.append("region_codes")
    if row.third_parties is not None and row.third_party_names != third_parties[current.pk]:
        row.changed.append("third_parties")
    if row.affair_ids != affair_links[current.pk]:
        row.changed.append("affair_codes")


def _check_parent(row: AgreementRow, sheet, out, *, existing, by_number, by_pk):
    """The parent of a PKS must be a KB, in the file or in the register, signed no later than the PKS."""
    if row.parent_number is None:  # column absent: keep the current parent
        if row.existing is not None and row.existing.parent_id:
            row.parent_ref = row.existing.parent_id
            if row.final["document_type"] != Agreement.DocumentType.PKS:
                out.add(sheet, row.row, "document_type", _("Only a PKS can have a parent KB."))
            parent = by_pk.get(row.existing.parent_id)
            parent_row = by_number.get(parent.number) if parent is not None else None
            parent_signed = parent_row.final["signed_on"] if parent_row is not None else getattr(parent, "signed_on", None)
            if row.final["signed_on"] and parent is not None and (
                parent_signed is None or row.final["signed_on"] < parent_signed
            ):
                out.add(sheet, row.row, "signed_on", _("A PKS cannot be signed before its parent KB."))
    elif row.parent_number:
        if row.final["document_type"] != Agreement.DocumentType.PKS:
            out.add(sheet, row.row, "parent_number", _("Only a PKS can have a parent KB."))
            return
        parent = by_number.get(row.parent_number) or existing.get(row.parent_number)
        if parent is None:
            out.add(sheet, row.row, "parent_number", _("Unknown parent %(number)s: it is neither in the file nor in "
                                                       "the register.") % {"number": row.parent_number})
            return
        if parent is row or parent is row.existing:
            out.add(sheet, row.row, "parent_number", _("An agreement cannot be its own parent."))
            return
        parent_values = parent.final if isinstance(parent, AgreementRow) else {
            "document_type": parent.document_type, "signed_on": parent.signed_on}
        if parent_values["document_type"] != Agreement.DocumentType.KB:
            out.add(sheet, row.row, "parent_number", _("The parent of a PKS must be a KB."))
            return
        signed, parent_signed = row.final["signed_on"], parent_values["signed_on"]
        if signed and (parent_signed is None or signed < parent_signed):
            out.add(sheet, row.row, "signed_on", _("A PKS cannot be signed before its parent KB."))
        row.parent_ref = parent
    if row.existing is not None:
        old = row.existing.parent_id
        new = row.parent_ref
        new_id = new if isinstance(new, int) else (new.pk if isinstance(new, Agreement) else None)
        if isinstance(new, AgreementRow):
            new_id = new.existing.pk if new.existing is not None else -1
        if old != new_id:
            row.changed.append("parent_number")


def _resolve_milestone(row: MilestoneRow, sheet, out, *, regions, party_ids):
    current = row.existing
    final = {}
    defaults = {"status": Milestone.Status.SCHEDULED, "progress": 0}
    for field in MILESTONE_SCALARS:
        if field in row.values:
            final[field] = row.values[field]
        elif current is not None:
            final[field] = getattr(current, field)
        else:
            final[field] = defaults.get(field)
    row.final = final
    probe = Milestone(title=row.title, **final)
    try:
        probe.clean_fields(exclude=["agreement", "responsible_region"])
    except ValidationError as exc:
        out.add_validation(sheet, row.row, exc)
    try:
        probe.clean()  # no responsible region on the probe: that rule is checked below, in memory
    except ValidationError as exc:
        out.add_validation(sheet, row.row, exc)
    region_id = current.responsible_region_id if current is not None else None
    if row.responsible_code is not None:
        region_id = None
        if row.responsible_code:
            region = regions.get(row.responsible_code)
            if region is None:
                out.add(sheet, row.row, "responsible_region_code",
                        _("Unknown region code %(code)s.") % {"code": row.responsible_code})
            else:
                region_id = region.pk
                if region_id not in party_ids:
                    out.add(sheet, row.row, "responsible_region_code",
                            _("The responsible region must be one of the agreement's parties."))
    final["responsible_region_id"] = region_id
    if current is None:
        row.action = "created"
        return
    row.changed = [f for f in [*MILESTONE_SCALARS, "responsible_region_id"] if getattr(current, f) != final[f]]
    row.action = "updated" if row.changed else "unchanged"


# ---------------------------------------------------------------------------------------------------------------
# Applying


def apply_plan(plan: ImportPlan, *, user=None, reason: str = CHANGE_REASON) -> ImportPlan:
    """Write the plan in one transaction, with audit history. Refuses a plan that has problems."""
    if not plan.ok:
        raise ValueError("An import plan with problems cannot be applied.")
    now = timezone.now()
    history = {"user": user, "reason": reason, "when": now}
    user_id = user.pk if user is not None else None
    through = Agreement.affairs.through
    with transaction.atomic():
        # KBs first, so that a PKS can point at a KB created by the same file.
        for document_type in (Agreement.DocumentType.KB, Agreement.DocumentType.PKS):
            rows = [r for r in plan.agreements if r.final["document_type"] == document_type]
            creates, updates = [], []
            for row in rows:
                if row.action == "unchanged":
                    continue
                parent_id = _parent_id(row)
                if row.action == "created":
                    row.obj = Agreement(number=row.number, parent_id=parent_id, created_by_id=user_id,
                                        updated_by_id=user_id, **row.final)
                    creates.append(row.obj)
                else:
                    obj = row.existing
                    for field, value in row.final.items():
                        setattr(obj, field, value)
                    obj.parent_id = parent_id
                    obj.updated_by_id = user_id
                    obj.updated_at = now
                    obj.version += 1
                    row.obj = obj
                    updates.append(obj)
            if creates:
                Agreement.objects.bulk_create(creates, batch_size=BATCH)
                _ensure_pks(creates)
                _write_history(Agreement, [o.pk for o in creates], history_type="+", **history)
            if updates:
                fields = [*AGREEMENT_SCALARS, "parent", "updated_by", "updated_at", "version"]
                Agreement.objects.bulk_update(updates, fields, batch_size=BATCH)
                _write_history(Agreement, [o.pk for o in updates], history_type="~", **history)

        # Parties, third parties, affairs: the row's set replaces the stored one.
        new_parties, new_third, new_links = [], [], []
        removed_party_q, removed_third, removed_links = [], [], []
        for row in plan.agreements:
            if row.action == "unchanged":
                continue
            agreement_id = row.obj.pk
            old_regions, old_names, old_affairs = row.old_region_ids, row.old_third_party_names, row.old_affair_ids
            if row.action == "created" or "region_codes" in row.changed:
                new_parties += [AgreementParty(agreement_id=agreement_id, region_id=r)
                                for r in sorted(row.region_ids - old_regions)]
                removed_party_q += [(agreement_id, r) for r in old_regions - row.region_ids]
            if row.action == "created" or "third_parties" in row.changed:
                new_third += [ThirdParty(agreement_id=agreement_id, name=n)
                              for n in sorted(row.third_party_names - old_names)]
                removed_third += [(agreement_id, n) for n in old_names - row.third_party_names]
            if row.action == "created" or "affair_codes" in row.changed:
                new_links += [through(agreement_id=agreement_id, governmentaffair_id=a)
                              for a in sorted(row.affair_ids - old_affairs)]
                removed_links += [(agreement_id, a) for a in old_affairs - row.affair_ids]
        for agreement_id, region_id in removed_party_q:
            for party in AgreementParty.objects.filter(agreement_id=agreement_id, region_id=region_id):
                party._history_user, party._change_reason = user, reason
                party.delete()
        for agreement_id, name in removed_third:
            for third in ThirdParty.objects.filter(agreement_id=agreement_id, name=name):
                third._history_user, third._change_reason = user, reason
                third.delete()
        for agreement_id, affair_id in removed_links:
            through.objects.filter(agreement_id=agreement_id, governmentaffair_id=affair_id).delete()
        if new_parties:
            _create_with_history(new_parties, AgreementParty, **history)
        if new_third:
            _create_with_history(new_third, ThirdParty, **history)
        if new_links:
            through.objects.bulk_create(new_links, batch_size=BATCH)

        # Milestones, and a MilestoneUpdate for each status change.
        creates, updates, logs = [], [], []
        for row in plan.milestones:
            if row.action == "unchanged":
                continue
            ref = row.agreement_ref
            agreement_id = ref.obj.pk if isinstance(ref, AgreementRow) and ref.obj is not None else (
                ref.existing.pk if isinstance(ref, AgreementRow) else ref.pk)
            if row.action == "created":
                row.obj = Milestone(agreement_id=agreement_id, title=row.title, **row.final)
                creates.append(row.obj)
                before = ""
            else:
                obj = row.existing
                before = obj.status
                for field, value in row.final.items():
                    setattr(obj, field, value)
                obj.updated_at = now
                obj.version += 1
                row.obj = obj
                updates.append(obj)
            if row.final["status"] != (before or Milestone.Status.SCHEDULED):
                logs.append((row, before))
        if creates:
            Milestone.objects.bulk_create(creates, batch_size=BATCH)
            _ensure_milestone_pks(creates)
            _write_history(Milestone, [o.pk for o in creates], history_type="+", **history)
        if updates:
            fields = [*MILESTONE_SCALARS, "responsible_region", "updated_at", "version"]
            Milestone.objects.bulk_update(updates, fields, batch_size=BATCH)
            _write_history(Milestone, [o.pk for o in updates], history_type="~", **history)
        note = _("Imported from a spreadsheet.")
        _log_created_milestones([row.obj.pk for row, before in logs if not before], user=user, when=now, note=note)
        changed = [(row, before) for row, before in logs if before]
        if changed:
            MilestoneUpdate.objects.bulk_create(
                [MilestoneUpdate(milestone_id=row.obj.pk, user=user, status_before=before,
                                 status_after=row.final["status"], progress=row.final["progress"], note=note)
                 for row, before in changed],
                batch_size=BATCH,
            )
    return plan


def _log_created_milestones(ids: list[int], *, user, when, note: str) -> None:
    """A MilestoneUpdate ("" → status) for each milestone just created, copied in SQL like the history."""
    quote = connection.ops.quote_name
    log = MilestoneUpdate._meta
    columns = ", ".join(quote(log.get_field(name).column) for name in (
        "milestone", "user", "created_at", "status_before", "status_after", "progress", "note"))
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            cursor.execute(
                f"INSERT INTO {quote(log.db_table)} ({columns}) "  # noqa: S608 - names from _meta
                f"SELECT {quote(Milestone._meta.pk.column)}, %s, %s, '', {quote('status')}, {quote('progress')}, %s "
                f"FROM {quote(Milestone._meta.db_table)} WHERE {quote(Milestone._meta.pk.column)} "
                f"IN ({', '.join(['%s'] * len(chunk))})",
                [user.pk if user is not None else None, connection.ops.adapt_datetimefield_value(when), note, *chunk],
            )


def _write_history(model, ids: list[int], *, history_type: str, user, reason: str, when) -> None:
    """simple_history rows for rows just written, copied in SQL (``INSERT … SELECT``), a few queries per table.

    The same rows ``bulk_create_with_history`` would write, without building one Python object per
    row: with 10,000 agreements and 30,000 milestones that is most of the import's time.
    """
    history = model.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    extra = ", ".join(quote(history._meta.get_field(name).column) for name in (
        "history_date", "history_user", "history_change_reason", "history_type"))
    pk_column = quote(model._meta.pk.column)
    date_value = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({columns}, {extra}) "  # noqa: S608 - names from _meta
                f"SELECT {columns}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} WHERE {pk_column} IN ({placeholders})",
                [date_value, user.pk if user is not None else None, reason, history_type, *chunk],
            )


def _create_with_history(objs: list, model, *, user, reason: str, when) -> None:
    model.objects.bulk_create(objs, batch_size=BATCH)
    missing = [o for o in objs if o.pk is None]
    if missing:  # backends without RETURNING: the parties and third parties are unique per agreement
        key = "region_id" if model is AgreementParty else "name"
        for obj in missing:
            obj.pk = model.objects.get(agreement_id=obj.agreement_id, **{key: getattr(obj, key)}).pk
    _write_history(model, [o.pk for o in objs], history_type="+", user=user, reason=reason, when=when)


def _parent_id(row: AgreementRow):
    ref = row.parent_ref
    if ref is None:
        return None
    if isinstance(ref, int):
        return ref
    if isinstance(ref, Agreement):
        return ref.pk
    return ref.obj.pk if ref.obj is not None else ref.existing.pk


def _ensure_pks(objs: list[Agreement]) -> None:
    """Backends that do not return ids from a bulk insert: fetch them by number."""
    missing = [o for o in objs if o.pk is None]
    for chunk in _chunks(missing):
        ids = dict(Agreement.objects.filter(number__in=[o.number for o in chunk]).values_list("number", "id"))
        for obj in chunk:
            obj.pk = ids[obj.number]


def _ensure_milestone_pks(objs: list[Milestone]) -> None:
    missing = [o for o in objs if o.pk is None]
    for obj in missing:
        obj.pk = Milestone.objects.get(agreement_id=obj.agreement_id, title=obj.title).pk


# ---------------------------------------------------------------------------------------------------------------
# One call for the command and the view


def import_files(agreements: tuple[bytes, str] | None, milestones: tuple[bytes, str] | None = None, *, user=None,
                 dry_run: bool = False) -> ImportPlan:
    """Read, plan and (unless ``dry_run`` or there are problems) apply. ``FileRefused`` for unreadable files."""
    tables = {}
    if agreements is not None:
        tables.update(read_spreadsheet(*agreements, default_sheet=AGREEMENTS_SHEET))
    if milestones is not None:
        tables[MILESTONES_SHEET] = read_spreadsheet(*milestones, default_sheet=MILESTONES_SHEET)[MILESTONES_SHEET]
    if not tables:
        raise FileRefused(_("No file to import."))
    plan = plan_import(tables, user=user)
    if plan.ok and not dry_run:
        apply_plan(plan, user=user)
    return plan


# ---------------------------------------------------------------------------------------------------------------
# The template workbook


def build_template() -> bytes:
    """An XLSX with the two sheets (headers and one example row each) and a sheet of valid codes."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = AGREEMENTS_SHEET
    sheet.append(AGREEMENT_COLUMNS)
    sheet.append([
        "180/001/KB/2024", "KB", "", "Pengembangan Kawasan Wisata Terpadu", "KSDD-SUKARELA", "32.73;32.04", "",
        "3.26;2.15", datetime.date(2024, 1, 15), None, datetime.date(2024, 2, 1), datetime.date(2029, 1, 31), None,
        "1.500.000.000", "Promosi bersama dan pengelolaan kawasan wisata perbatasan.",
    ])
    milestones = workbook.create_sheet(MILESTONES_SHEET)
    milestones.append(MILESTONE_COLUMNS)
    milestones.append(["180/001/KB/2024", "Penyusunan rencana induk", "32.73", datetime.date(2024, 6, 30),
                       datetime.date(2024, 2, 1), None, "in_progress", 40])
    codes = workbook.create_sheet(CODES_SHEET)
    codes.append(["region_code", "region_name", "level", "can_sign", "", "affair_code", "affair_name"])
    region_rows = list(Region.objects.order_by("code").values_list("code", "name", "level", "is_autonomous"))
    affair_rows = list(GovernmentAffair.objects.order_by("code").values_list("code", "name"))
    for index in range(max(len(region_rows), len(affair_rows))):
        line = list(region_rows[index][:3]) + [_("yes") if region_rows[index][3] else _("no")] \
            if index < len(region_rows) else ["", "", "", ""]
        line.append("")
        line += list(affair_rows[index]) if index < len(affair_rows) else ["", ""]
        codes.append(line)
    for ws in (sheet, milestones, codes):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column_cells in ws.columns:
            ws.column_dimensions[column_cells[0].column_letter].width = 18
    # Codes are text: keep Excel from turning 32.10 into 32.1.
    for ws, columns in ((sheet, ("F", "H")), (milestones, ("C",)), (codes, ("A", "F"))):
        for letter in columns:
            for cell in ws[letter]:
                cell.number_format = "@"
    for ws, columns in ((sheet, ("I", "J", "K", "L", "M")), (milestones, ("D", "E", "F"))):
        for letter in columns:
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def can_import(user) -> bool:
    """Ministry staff, administrators and provincial officers import; kabupaten/kota officers do not."""
    return is_national(user) or (user.is_authenticated and user.role == User.Role.PROVINCE and bool(user.region_id))
