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
import zlib
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

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
    """The file is not something we read at all (empty, too large, not a spreadsheet, damaged).

    The message is for the user (it may quote the file); ``reason`` is a fixed code, what the log says.
    """

    def __init__(self, message, reason: str = "unreadable"):
        super().__init__(message)
        self.reason = reason


class BadCell:
    """A cell whose stored value contradicts its own type (a damaged file): reported on its row and column.

    Every cell reader goes through ``text``, which raises ``ValueError`` with the message, so validation
    reports it like any cell that does not parse.
    """

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __repr__(self):
        return "BadCell()"


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
        raise FileRefused(_("The file is empty."), "empty")
    if len(data) > MAX_FILE_SIZE:
        raise FileRefused(_("The file is larger than 20 MB. Split it into smaller files."), "too_large")
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused(_("Old Excel files (.xls) are not read: save the file as .xlsx or as CSV UTF-8."), "xls")
    if filetype.guess(data[:8192]) is not None or b"\x00" in data[:8192]:
        raise FileRefused(_("This file is not a spreadsheet: upload an .xlsx workbook or a CSV file."), "not_spreadsheet")
    nul = data.find(b"\x00")
    if nul >= 0:  # no text cell holds one (and PostgreSQL refuses to store it)
        raise FileRefused(
            _("The CSV file contains a NUL character on line %(line)s: save it as “CSV UTF-8” and try again.")
            % {"line": data.count(b"\n", 0, nul) + 1}, "nul")
    return "csv"


def read_spreadsheet(data: bytes, filename: str = "", *, default_sheet: str = AGREEMENTS_SHEET) -> dict[str, Table]:
    """The tables of an XLSX workbook (``agreements``, ``milestones``) or of one CSV file (``default_sheet``)."""
    kind = _refuse_if_not_spreadsheet(data)
    if kind == "xlsx":
        return _read_xlsx(data, filename, default_sheet=default_sheet)
    return {default_sheet: _read_csv(data, filename or default_sheet)}


# Errors a damaged archive or XML part makes the readers raise (``NotImplementedError``: an unknown compression
# method, ``RuntimeError``: an encrypted member, ``EOFError``: truncated data).
DAMAGED_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ParseError, expat.ExpatError, OSError, KeyError,
                          ValueError, IndexError, RuntimeError, NotImplementedError, OverflowError)
_PROLOG_LIMIT = 1024 * 1024  # an XML part whose first element starts later than this is not a workbook's


class _PrologRead(Exception):
    """The first element started: the document type declaration, if any, is behind us."""


class _DocumentType(Exception):
    """A DOCTYPE or an entity declaration."""


def _declares_a_document_type(member) -> bool:
    """Whether an XML part declares a document type (the only place entities can be declared).

    Expat reads the part, whatever its encoding, up to its first element: a DOCTYPE can only come before it.
    A part that is not XML at all (an image) is no concern here: parsing it as XML fails later if anything does.
    """
    parser = expat.ParserCreate()

    def refuse(*_args):
        raise _DocumentType

    def stop(*_args):
        raise _PrologRead

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = stop
    read = 0
    try:
        while True:
            chunk = member.read(64 * 1024)
            read += len(chunk)
            parser.Parse(chunk, not chunk)
            if not chunk:
                return False
            if read > _PROLOG_LIMIT:  # whatever hides behind a megabyte of comments is not checked: refused
                raise ValueError("XML prolog too long")
    except _DocumentType:
        return True
    except (_PrologRead, expat.ExpatError):
        return False


def _check_archive(data: bytes) -> None:
    """FileRefused unless the zip archive opens and no part of it declares a DOCTYPE or entities (XXE, "billion
    laughs"). Every member is looked at: a workbook's parts may have any name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except DAMAGED_ARCHIVE_ERRORS as exc:
        raise FileRefused(_("This file is not a readable .xlsx workbook."), "xlsx_unreadable") from exc
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    declared = _declares_a_document_type(member)
            except DAMAGED_ARCHIVE_ERRORS as exc:
                raise FileRefused(
                    _("The workbook is damaged: its part “%(part)s” cannot be read.") % {"part": info.filename[:100]},
                    "xlsx_part_damaged") from exc
            if declared:
                raise FileRefused(
                    _("The workbook's part “%(part)s” declares a document type or entities, which a workbook never "
                      "does: the file is refused.") % {"part": info.filename[:100]}, "xml_doctype")


def _damaged_part(data: bytes) -> str | None:
    """The first part of the archive that does not decompress or, when it looks like XML, does not parse.

    Only run once openpyxl has failed, to tell the user which part: it reads every part again.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    first = member.read(64 * 1024)
                    if not first.lstrip().startswith((b"<", b"\xef\xbb\xbf<", b"\xff\xfe", b"\xfe\xff")):
                        while member.read(1024 * 1024):  # not XML: decompressing it checks its CRC
                            pass
                        continue
                    parser = expat.ParserCreate()
                    chunk = first
                    while chunk:
                        parser.Parse(chunk, False)
                        chunk = member.read(1024 * 1024)
                    parser.Parse(b"", True)
            except DAMAGED_ARCHIVE_ERRORS:
                return info.filename
    return None


def _read_xlsx(data: bytes, filename: str, *, default_sheet: str) -> dict[str, Table]:
    import openpyxl  # imported here: the CSV path and the module import stay light

    _check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # whatever a damaged part makes openpyxl raise
        part = _damaged_part(data)
        if part is not None:
            raise FileRefused(_("The workbook is damaged: its part “%(part)s” cannot be read.") % {"part": part[:100]},
                              "xlsx_part_damaged") from exc
        raise FileRefused(_("This file is not a readable .xlsx workbook."), "xlsx_unreadable") from exc
    try:
        sheets = {name.strip().lower(): workbook[name] for name in workbook.sheetnames}
        tables = {}
        for wanted in (AGREEMENTS_SHEET, MILESTONES_SHEET):
            if wanted in sheets:
                tables[wanted] = _read_sheet(wanted, sheets[wanted])
        if default_sheet not in tables and len(sheets) == 1 and not tables:
            only = next(iter(sheets.values()))
            tables[default_sheet] = _read_sheet(default_sheet, only)
        if default_sheet not in tables:
            raise FileRefused(_("The workbook has no sheet named “%(sheet)s”.") % {"sheet": default_sheet},
                              "sheet_missing")
        return tables
    finally:
        workbook.close()


def _read_sheet(name: str, sheet) -> Table:
    """The sheet's table; FileRefused naming the sheet when its part is damaged or not well-formed."""
    try:
        return _table_from_rows(name, _xlsx_rows(sheet))
    except FileRefused:
        raise
    except DAMAGED_ARCHIVE_ERRORS as exc:
        raise FileRefused(
            _("The sheet “%(sheet)s” cannot be read: the workbook is damaged or its XML is not well-formed.")
            % {"sheet": name}, "sheet_damaged") from exc


def _xlsx_rows(sheet):
    """(row number, values) for each row, numbered as Excel shows them, so blank rows count."""
    fast = _fast_xlsx_rows(sheet)
    if fast is not None:
        yield from fast
        return
    sheet.reset_dimensions()  # some writers store a wrong dimension; read every row there is
    # openpyxl's read-only reader yields an empty row for each row missing from the file.
    yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)


_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_DIGITS = re.compile(r"[0-9]{1,10}")
MAX_COLUMN = 16_384  # XFD, Excel's last column
MAX_ROW = 1_048_576  # Excel's last row


def _damaged_row(sheet: str, after: int, value: str) -> FileRefused:
    return FileRefused(
        _("Sheet “%(sheet)s”: the row after row %(row)s is numbered “%(value)s”, which is not a row number; "
          "the workbook is damaged.") % {"sheet": sheet, "row": after, "value": value[:20]}, "row_number")


def _damaged_reference(sheet: str, row: int, ref: str) -> FileRefused:
    return FileRefused(
        _("Sheet “%(sheet)s”, row %(row)s: “%(ref)s” is not a valid cell reference here; the workbook is damaged.")
        % {"sheet": sheet, "row": row, "ref": ref[:20]}, "cell_reference")


def _fast_xlsx_rows(sheet):
    """The sheet's XML read directly: openpyxl's per-cell objects cost ~20 s on 40,000 rows.

    openpyxl still opens the workbook and supplies the shared strings, the epoch and which cell
    styles are dates; when its internals are not there (another version) we fall back to it.
    A row number or a cell reference that is not one refuses the file (``FileRefused``); a cell whose value
    contradicts its type is a ``BadCell``, reported on its row and column.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel

    workbook, name = sheet.parent, sheet.title
    try:
        path = sheet._worksheet_path
        date_styles, strings, epoch = set(workbook._date_formats), workbook.shared_strings, workbook.epoch
        archive = workbook._archive
    except AttributeError:
        return None
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    row_tag, cell_tag, value_tag, inline_tag, text_tag = (f"{ns}row", f"{ns}c", f"{ns}v", f"{ns}is", f"{ns}t")
    columns = {}

    def style(cell) -> int:
        raw = cell.get("s", "0")
        return int(raw) if _DIGITS.fullmatch(raw) else 0

    def cell_value(cell):
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(inline_tag)
            return "".join(t.text or "" for t in inline.iter(text_tag)) if inline is not None else None
        raw = cell.findtext(value_tag)
        if not raw:  # no value, or a formula without a cached result
            return None
        if kind == "s":
            index = int(raw) if _DIGITS.fullmatch(raw.strip()) else -1
            if not 0 <= index < len(strings):
                return BadCell(_("The cell refers to shared text “%(index)s”, which the workbook does not have; "
                                 "the workbook is damaged.") % {"index": raw[:20]})
            return strings[index]
        if kind == "b":
            return raw == "1"
        if kind in ("str", "e"):
            return raw
        try:
            if kind == "d":
                return datetime.datetime.fromisoformat(raw)
            number = float(raw) if any(c in raw for c in ".eE") else int(raw)
            if style(cell) in date_styles:
                return from_excel(number, epoch)
            return number
        except (ValueError, OverflowError, TypeError):
            return BadCell(_("The cell holds “%(value)s” where the workbook says a number or a date is stored; "
                             "the workbook is damaged.") % {"value": raw[:50]})

    def rows():
        previous = 0
        with archive.open(path) as source:
            for _event, element in iterparse(source):
                if element.tag != row_tag:
                    continue
                raw_number = element.get("r")
                if raw_number is None:
                    number = previous + 1
                elif _DIGITS.fullmatch(raw_number) and 1 <= int(raw_number) <= MAX_ROW:
                    number = int(raw_number)
                else:
                    raise _damaged_row(name, previous, raw_number)
                previous = number
                values = []
                for position, cell in enumerate(element.iter(cell_tag)):
                    ref = cell.get("r")
                    if ref:
                        match = _CELL_REF.fullmatch(ref)
                        if match is None:
                            raise _damaged_reference(name, number, ref)
                        letters = match.group(1).upper()
                        if letters not in columns:
                            columns[letters] = column_index_from_string(letters) - 1
                        position = columns[letters]
                        if position >= MAX_COLUMN or position < len(values):  # past XFD, or out of order
                            raise _damaged_reference(name, number, ref)
                    values.extend([None] * (position - len(values)))
                    values.append(cell_value(cell))
                element.clear()
                yield number, values

    return rows()


def _read_csv(data: bytes, name: str) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8” and try again."), "not_utf8") from exc
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Each record is one spreadsheet row (a quoted cell may span lines); blank lines are blank rows.
    return _table_from_rows(name, _csv_records(reader))


def _csv_records(reader):
    """(row number, values) for each record; FileRefused naming the line where the csv module gives up."""
    records = enumerate(reader, start=1)
    while True:
        try:
            yield next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise FileRefused(
                    _("The CSV file has a cell longer than %(limit)s characters on line %(line)s.")
                    % {"limit": csv.field_size_limit(), "line": reader.line_num}, "csv_field_too_long") from exc
            raise FileRefused(_("The CSV file cannot be read on line %(line)s.") % {"line": reader.line_num},
                              "csv_malformed") from exc


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_from_rows(name: str, rows) -> Table:
    header_row, headers, body = 0, [], []
    for number, values in rows:
        if all(_is_blank(v) for v in values):
            continue
        if not headers:
            for value in values:
                if isinstance(value, BadCell):
                    raise FileRefused(_("Sheet “%(sheet)s”, row %(row)s (the header): %(problem)s")
                                      % {"sheet": name, "row": number, "problem": value.message}, "bad_header")
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
    if isinstance(value, BadCell):
        raise ValueError(value.message)
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
