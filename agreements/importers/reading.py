"""Reading an import file: file type checks, XLSX and CSV parsing, header aliases and cell values.

Nothing here touches the database; ``validation`` turns the tables read here into a plan. The
column names are ``spreadsheet.AGREEMENT_COLUMNS`` and ``spreadsheet.MILESTONE_COLUMNS`` (shared
with the export); this module only adds the Indonesian header aliases and the cell readers.
"""

import csv
import dataclasses
import datetime
import io
import re
import zipfile
from typing import Any

import filetype
from django.utils.translation import gettext as _

from ..spreadsheet import AGREEMENT_COLUMNS, EXPORT_EXTRA_COLUMNS, LIST_SEPARATOR, MILESTONE_COLUMNS, unguard_formula

MAX_FILE_SIZE = 20 * 1024 * 1024
AGREEMENTS_SHEET = "agreements"
MILESTONES_SHEET = "milestones"

# Indonesian header aliases by column; the columns themselves come from ``spreadsheet``.
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
    "progress": ["progres", "kemajuan", "persentase"],
}
# Every date column is named ``..._on`` in the spreadsheet contract.
DATE_COLUMNS = {c for c in AGREEMENT_COLUMNS + MILESTONE_COLUMNS if c.endswith("_on")}


class FileRefused(Exception):
    """The file is not something we read at all (empty, too large, not a spreadsheet)."""


@dataclasses.dataclass
class Table:
    """The rows of one sheet or CSV file: ``rows`` are (spreadsheet row number, {header: raw value})."""

    name: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[Any]]]


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


def _header_map(columns: list[str], aliases: dict[str, list[str]]) -> dict[str, str]:
    """Normalised header → column, for each column of the contract and its aliases."""
    mapping = {}
    for column in columns:
        for name in [column, *aliases.get(column, [])]:
            mapping[_key(name)] = column
    return mapping


AGREEMENT_HEADERS = _header_map(AGREEMENT_COLUMNS, AGREEMENT_ALIASES)
MILESTONE_HEADERS = _header_map(MILESTONE_COLUMNS, MILESTONE_ALIASES)
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


def upper_text(value) -> str:
    """A choice written in capitals in the file (``KB``, ``KSDD-WAJIB``), whatever the case it was typed in."""
    return text(value).upper()
