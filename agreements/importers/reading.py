"""Reading an import file: file type checks, XLSX and CSV parsing, header aliases and cell values.

Nothing here touches the database; ``validation`` turns the tables read here into a plan. The
column names are ``spreadsheet.AGREEMENT_COLUMNS`` and ``spreadsheet.MILESTONE_COLUMNS`` (shared
with the export); this module only adds the Indonesian header aliases and the cell readers.
"""

import codecs
import copy
import csv
import dataclasses
import datetime
import functools
import io
import re
import zipfile
import zlib
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import filetype
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..spreadsheet import (
    AGREEMENT_COLUMNS,
    AMENDMENT_COLUMNS,
    EXPORT_EXTRA_COLUMNS,
    LIST_SEPARATOR,
    MILESTONE_COLUMNS,
    PARTY_COLUMNS,
    unguard_formula,
)

MAX_FILE_SIZE = 20 * 1024 * 1024
AGREEMENTS_SHEET = "agreements"
MILESTONES_SHEET = "milestones"
PARTIES_SHEET = "parties"
AMENDMENTS_SHEET = "amendments"
# The template's sheets (``template.CODES_SHEET`` is "codes"): a workbook may have IMPORT_MAX_EXTRA_SHEETS more.
TEMPLATE_SHEETS = (AGREEMENTS_SHEET, MILESTONES_SHEET, "codes", "instructions", PARTIES_SHEET, AMENDMENTS_SHEET)
# A row whose first cell starts with this is a note or the template's example: read as a blank row.
COMMENT_MARK = "#"
MAX_PARTS = 1000  # a workbook has a few dozen parts; the zip's directory is refused past this, before it is read
RATIO_FLOOR = 1024 * 1024  # parts smaller than this uncompressed are not held to the compression ratio


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a file may hold, from the settings at the time of reading (tests lower them with ``settings``).

    Each is checked while reading, as the rows, cells and bytes come: a file over one is refused before it is
    read any further, so memory never grows with it.
    """

    agreement_rows: int = 50_000  # IMPORT_MAX_AGREEMENT_ROWS: rows of data of the agreements sheet or file
    other_rows: int = 200_000  # IMPORT_MAX_OTHER_ROWS: of any other sheet or file (milestones, ...)
    cell_chars: int = 10_000  # IMPORT_MAX_CELL_CHARS
    sheet_xml_bytes: int = 100 * 1024 * 1024  # IMPORT_MAX_SHEET_XML_BYTES: any part of a workbook, uncompressed
    compression_ratio: int = 100  # IMPORT_MAX_COMPRESSION_RATIO: uncompressed / compressed size of a part
    extra_sheets: int = 5  # IMPORT_MAX_EXTRA_SHEETS: sheets beyond the template's
    columns: int = 200  # IMPORT_MAX_COLUMNS: a value beyond this column refuses the file; empty cells are ignored

    @classmethod
    def current(cls) -> "Limits":
        return cls(**{field.name: getattr(settings, f"IMPORT_MAX_{field.name.upper()}", field.default)
                      for field in dataclasses.fields(cls)})

    def rows_for(self, sheet: str) -> int:
        return self.agreement_rows if sheet == AGREEMENTS_SHEET else self.other_rows

    @property
    def sheets(self) -> int:
        return len(TEMPLATE_SHEETS) + self.extra_sheets

    @property
    def run_bytes(self) -> int:
        """The longest run of XML between two ``<`` a sheet may hold: a cell of ``cell_chars`` characters, each
        up to 10 bytes written as a character reference, and some room for a tag's attributes."""
        return self.cell_chars * 10 + 1024

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
    "termination_reason": ["alasan_pengakhiran", "alasan_dihentikan"],
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
PARTY_ALIASES = {
    "agreement_number": ["nomor", "nomor_kesepakatan", "nomor_kerja_sama", "nomor_perjanjian"],
    "region_code": ["kode_daerah", "kode_wilayah", "daerah"],
    "signatory_name": ["nama_penanda_tangan", "penanda_tangan"],
    "signatory_position": ["jabatan_penanda_tangan", "jabatan"],
    "document_number": ["nomor_naskah_daerah", "nomor_dokumen_daerah", "nomor_pihak"],
    "signed_on": ["tanggal_tanda_tangan", "tanggal_penandatanganan", "tanggal_ttd"],
    "dprd_required": ["perlu_persetujuan_dprd", "wajib_persetujuan_dprd"],
    "dprd_approved_on": ["tanggal_persetujuan_dprd", "persetujuan_dprd"],
    "dprd_decision_number": ["nomor_keputusan_dprd", "nomor_persetujuan_dprd"],
}
AMENDMENT_ALIASES = {
    "agreement_number": ["nomor_kerja_sama", "nomor_kesepakatan", "nomor_perjanjian", "nomor_dokumen"],
    "number": ["nomor_adendum"],
    "signed_on": ["tanggal_tanda_tangan", "tanggal_penandatanganan", "tanggal_ttd"],
    "ends_on": ["tanggal_berakhir_baru", "tanggal_berakhir"],
    "summary": ["ringkasan_perubahan", "ringkasan", "perubahan"],
}
# Every date column is named ``..._on`` in the spreadsheet contract.
DATE_COLUMNS = {c for c in AGREEMENT_COLUMNS + MILESTONE_COLUMNS + PARTY_COLUMNS + AMENDMENT_COLUMNS
                if c.endswith("_on")}


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
    if not data or data.isspace():
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
    """The tables of an XLSX workbook (``agreements``, ``milestones``) or of one CSV file (``default_sheet``).

    Both are read as streams, row by row, within ``Limits.current()``: FileRefused as soon as one is passed."""
    kind = _refuse_if_not_spreadsheet(data)
    limits = Limits.current()
    if kind == "xlsx":
        return _read_xlsx(data, filename, default_sheet=default_sheet, limits=limits)
    name = filename or default_sheet
    return {default_sheet: _read_csv(data, name, role=default_sheet, limits=limits)}


# ---------------------------------------------------------------------------------------------------------------
# Limits: each refusal names the limit, and the sheet or file and the row where there is one


def _where(sheet: str, *, csv_file: bool = False) -> str:
    """The start of a message: the sheet of a workbook, or the CSV file."""
    if csv_file:
        return _("File “%(file)s”") % {"file": sheet[:100]}
    return _("Sheet “%(sheet)s”") % {"sheet": sheet[:100]}


def _number(value: int) -> str:
    """A limit as the user's language writes it (50,000 or 50.000)."""
    return number_format(value, force_grouping=True)


def _too_many_rows(where: str, row: int, limit: int) -> FileRefused:
    return FileRefused(
        _("%(where)s has more than %(limit)s rows, the most one import reads (row %(row)s is past the limit): "
          "split it into smaller files.") % {"where": where, "limit": _number(limit), "row": row},
        "too_many_rows")


def _cell_too_long(where: str, row: int, column: str, limit: int) -> FileRefused:
    return FileRefused(
        _("%(where)s, row %(row)s, column %(column)s: the cell is longer than %(limit)s characters, the most a cell "
          "may hold; the file is refused.") % {"where": where, "row": row, "column": column,
                                               "limit": _number(limit)}, "cell_too_long")


def _too_many_columns(where: str, row: int, column: str, limit: int) -> FileRefused:
    return FileRefused(
        _("%(where)s, row %(row)s: column %(column)s holds a value, but no more than %(limit)s columns are read; "
          "the file is refused.") % {"where": where, "row": row, "column": column, "limit": limit},
        "too_many_columns")


def _column_letter(index: int) -> str:
    """``A`` for 0."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _bounded_row(where: str, number: int, values, limits: Limits):
    """The row's values within the column limit (empty cells past it are dropped), every text cell checked."""
    if len(values) > limits.columns:
        for index in range(limits.columns, len(values)):
            if not _is_blank(values[index]):
                raise _too_many_columns(where, number, _column_letter(index), limits.columns)
        values = values[:limits.columns]
    for index, value in enumerate(values):
        if isinstance(value, str) and len(value) > limits.cell_chars:
            raise _cell_too_long(where, number, _column_letter(index), limits.cell_chars)
    return values


# Errors a damaged archive or XML part makes the readers raise (``NotImplementedError``: an unknown compression
# method, ``RuntimeError``: an encrypted member, ``EOFError``: truncated data).
DAMAGED_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ParseError, expat.ExpatError, OSError, KeyError,
                          ValueError, IndexError, RuntimeError, NotImplementedError, OverflowError)
_CHUNK = 64 * 1024
_PROLOG_LIMIT = 1024 * 1024  # an XML part whose first element starts later than this is not a workbook's


class _PrologRead(Exception):
    """The first element started: the document type declaration, if any, is behind us."""


def _local(name: str) -> str:
    """An element's or attribute's name without its prefix (expat is not namespace-aware here)."""
    return name.rpartition(":")[2]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


@functools.lru_cache(maxsize=8)
def _long_run(length: int) -> re.Pattern:
    return re.compile(rb"[^<]{%d}" % length)


class _PartScan:
    """One part of the archive, checked as it decompresses, chunk by chunk: its size and compression ratio (not
    the sizes the archive declares: they can lie), a DOCTYPE or entity declaration before its first element (XXE,
    "billion laughs"), the number of sheets of the workbook part, and, in sheets and the shared strings, a run
    of text or a tag too long to be a cell within the limit (the XML parsers hold a text whole before the readers
    see it). Raises FileRefused, or one of ``DAMAGED_ARCHIVE_ERRORS`` for a part that does not read."""

    SCANNED_ROOTS = frozenset({"worksheet", "sst"})

    def __init__(self, info: zipfile.ZipInfo, limits: Limits, label, archive_size: int):
        self.info, self.limits, self.label = info, limits, label
        self.compressed = min(info.compress_size, archive_size)  # the declared size may lie too
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self.parser.EntityDeclHandler = self._doctype
        self.parser.StartElementHandler = self._first_element
        self.parsing = True
        self.root = None
        self.sheets = 0
        self.size = 0
        self.run = 0  # bytes since the last "<"

    def _doctype(self, *_args):
        raise FileRefused(
            _("The workbook's part “%(part)s” declares a document type or entities, which a workbook never "
              "does: the file is refused.") % {"part": self.info.filename[:100]}, "xml_doctype")

    def _first_element(self, name, _attrs):
        self.root = _local(name)
        if self.root != "workbook":
            raise _PrologRead
        self.parser.StartElementHandler = self._workbook_element

    def _workbook_element(self, name, _attrs):
        if _local(name) == "sheet":
            self.sheets += 1
            if self.sheets > self.limits.sheets:
                raise FileRefused(
                    _("The workbook has more than %(limit)s sheets, the most one import reads (the template's "
                      "%(template)s and %(extra)s more): remove the sheets that are not imported.")
                    % {"limit": self.limits.sheets, "template": len(TEMPLATE_SHEETS),
                       "extra": self.limits.extra_sheets}, "too_many_sheets")

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        limits = self.limits
        if self.size > limits.sheet_xml_bytes:
            raise FileRefused(
                _("The workbook is refused: %(part)s is larger than %(limit)s MB once uncompressed, the most one "
                  "import reads.") % {"part": self.label(), "limit": _megabytes(limits.sheet_xml_bytes)},
                "part_too_large")
        if self.size > RATIO_FLOOR and self.size > limits.compression_ratio * max(self.compressed, 1):
            raise FileRefused(_compression_message(self.label(), limits), "compression_ratio")
        if self.parsing:
            try:
                self.parser.Parse(chunk, not chunk)
            except _PrologRead:
                self.parsing = False
            except expat.ExpatError:
                if self.root == "workbook":
                    raise
                self.parsing = False  # not XML (an image): no concern here, its reader fails if anything does
            if self.parsing and self.root is None and self.size > _PROLOG_LIMIT:
                # whatever hides behind a megabyte of comments is not checked: refused
                raise ValueError("XML prolog too long")
        if self.root in self.SCANNED_ROOTS and chunk:
            first = chunk.find(b"<")
            longest = self.run + (len(chunk) if first < 0 else first)
            if first >= 0:
                self.run = len(chunk) - chunk.rfind(b"<") - 1
                if _long_run(limits.run_bytes).search(chunk, first):
                    longest = limits.run_bytes + 1
            else:
                self.run = longest
            if longest > limits.run_bytes:
                raise FileRefused(
                    _("%(part)s holds a cell or a tag longer than %(limit)s characters, the most a cell may hold: "
                      "the file is refused.") % {"part": self.label(capital=True), "limit": _number(limits.cell_chars)},
                    "cell_too_long")


def _whole_compression_message(limits: Limits) -> str:
    return (_("The workbook is refused: it expands more than %(ratio)s times when uncompressed, the most one import "
              "accepts (a “zip bomb”).") % {"ratio": limits.compression_ratio})


def _compression_message(label: str, limits: Limits) -> str:
    return (_("The workbook is refused: %(part)s expands more than %(ratio)s times when uncompressed, the most "
              "one import accepts (a “zip bomb”).") % {"part": label, "ratio": limits.compression_ratio})


def _entry_count(data: bytes) -> int | None:
    """The number of entries the zip's end record declares, before ``zipfile`` reads its whole directory."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 12 > len(data):
        return None
    return int.from_bytes(data[end + 10:end + 12], "little")


def _sheet_labels(archive: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Part name → sheet name, read from the first megabyte of the workbook part and of its relationships; for
    messages only, so anything unreadable gives no names."""
    def elements(part: str, wanted: str) -> list[dict]:
        found = []

        def start(name, attrs):
            if _local(name) == wanted and len(found) <= limits.sheets:
                found.append({_local(k): v for k, v in attrs.items()})

        parser = expat.ParserCreate()
        parser.StartElementHandler = start
        with archive.open(part) as member:
            try:
                parser.Parse(member.read(_PROLOG_LIMIT), False)
            except expat.ExpatError:
                pass
        return found

    try:
        office = [r["Target"] for r in elements("_rels/.rels", "Relationship")
                  if r.get("Type", "").endswith("/officeDocument")]
        workbook = (office[0] if office else "xl/workbook.xml").lstrip("/")
        folder, _slash, base = workbook.rpartition("/")
        targets = {r.get("Id"): r.get("Target", "") for r in elements(f"{folder}/_rels/{base}.rels", "Relationship")}
        labels = {}
        for sheet in elements(workbook, "sheet"):
            target = targets.get(sheet.get("id"), "")
            part = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
            labels[part] = sheet.get("name", "")
        return labels
    except (*DAMAGED_ARCHIVE_ERRORS, FileRefused):
        return {}


def _check_archive(data: bytes, limits: Limits) -> None:
    """FileRefused unless the zip archive opens, its parts are within the limits and none of them declares a
    DOCTYPE or entities. Every member is looked at (a workbook's parts may have any name): first the sizes the
    archive declares, then each part as it decompresses (``_PartScan``), which stops at the first limit passed."""
    entries = _entry_count(data)
    if entries is not None and entries > MAX_PARTS:
        raise FileRefused(_("This file is not a readable .xlsx workbook: it has more than %(limit)s parts.")
                          % {"limit": MAX_PARTS}, "too_many_parts")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except DAMAGED_ARCHIVE_ERRORS as exc:
        raise FileRefused(_("This file is not a readable .xlsx workbook."), "xlsx_unreadable") from exc
    with archive:
        labels = None

        def label(info: zipfile.ZipInfo, capital: bool = False) -> str:
            nonlocal labels
            if labels is None:
                labels = _sheet_labels(archive, limits)
            sheet = labels.get(info.filename)
            if sheet is not None:
                return (_("Sheet “%(sheet)s”") if capital else _("the sheet “%(sheet)s”")) % {"sheet": sheet[:100]}
            return (_("Part “%(part)s”") if capital else _("the part “%(part)s”")) % {"part": info.filename[:100]}

        members = [info for info in archive.infolist() if not info.is_dir()]
        for info in members:  # what the archive declares: refused before anything is decompressed
            if info.file_size > limits.sheet_xml_bytes:
                raise FileRefused(
                    _("The workbook is refused: %(part)s is larger than %(limit)s MB once uncompressed, the most "
                      "one import reads.") % {"part": label(info), "limit": _megabytes(limits.sheet_xml_bytes)},
                    "part_too_large")
            compressed = max(min(info.compress_size, len(data)), 1)
            if info.file_size > RATIO_FLOOR and info.file_size > limits.compression_ratio * compressed:
                raise FileRefused(_compression_message(label(info), limits), "compression_ratio")
        # All the parts together are held to the ratio too (against the file's size): many parts, each within
        # the limits, would otherwise take as long to decompress as one huge one.
        budget = max(limits.compression_ratio * len(data), RATIO_FLOOR)
        if sum(info.file_size for info in members) > budget:
            raise FileRefused(_whole_compression_message(limits), "compression_ratio")
        for info in members:
            scan = _PartScan(info, limits, lambda capital=False, info=info: label(info, capital), len(data))
            # Read past the declared size (zipfile would stop there, and past the limit, so that the chunk which
            # crosses it is read whole): the scan's own count is what is held to the limits, and a part larger
            # than it says is damaged.
            unbounded = copy.copy(info)
            unbounded.file_size = limits.sheet_xml_bytes + 2 * _CHUNK
            try:
                with archive.open(unbounded) as member:
                    while chunk := member.read(_CHUNK):
                        scan.feed(chunk)
                        budget -= len(chunk)
                        if budget < 0:
                            raise FileRefused(_whole_compression_message(limits), "compression_ratio")
                    scan.feed(b"")
                if scan.size > info.file_size:
                    raise ValueError("the part is larger than its declared size")
            except DAMAGED_ARCHIVE_ERRORS as exc:
                raise FileRefused(
                    _("The workbook is damaged: its part “%(part)s” cannot be read.") % {"part": info.filename[:100]},
                    "xlsx_part_damaged") from exc


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


def _read_xlsx(data: bytes, filename: str, *, default_sheet: str, limits: Limits) -> dict[str, Table]:
    import openpyxl  # imported here: the CSV path and the module import stay light

    _check_archive(data, limits)
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
        if len(workbook.sheetnames) > limits.sheets:  # the archive check counted them already; another writer's way
            raise FileRefused(
                _("The workbook has more than %(limit)s sheets, the most one import reads (the template's "
                  "%(template)s and %(extra)s more): remove the sheets that are not imported.")
                % {"limit": limits.sheets, "template": len(TEMPLATE_SHEETS), "extra": limits.extra_sheets},
                "too_many_sheets")
        sheets = {name.strip().lower(): workbook[name] for name in workbook.sheetnames}
        tables = {}
        for wanted in (AGREEMENTS_SHEET, MILESTONES_SHEET, PARTIES_SHEET, AMENDMENTS_SHEET):
            if wanted in sheets:
                tables[wanted] = _read_sheet(wanted, sheets[wanted], limits)
        if default_sheet not in tables and len(sheets) == 1 and not tables:
            only = next(iter(sheets.values()))
            tables[default_sheet] = _read_sheet(default_sheet, only, limits)
        if default_sheet not in tables:
            raise FileRefused(_("The workbook has no sheet named “%(sheet)s”.") % {"sheet": default_sheet},
                              "sheet_missing")
        return tables
    finally:
        workbook.close()


def _read_sheet(name: str, sheet, limits: Limits) -> Table:
    """The sheet's table; FileRefused naming the sheet when its part is damaged or not well-formed."""
    try:
        return _table_from_rows(name, _xlsx_rows(sheet, limits), limit=limits.rows_for(name),
                                where=_where(sheet.title))
    except FileRefused:
        raise
    except DAMAGED_ARCHIVE_ERRORS as exc:
        raise FileRefused(
            _("The sheet “%(sheet)s” cannot be read: the workbook is damaged or its XML is not well-formed.")
            % {"sheet": name}, "sheet_damaged") from exc


def _xlsx_rows(sheet, limits: Limits):
    """(row number, values) for each row, numbered as Excel shows them, so blank rows count; each row within the
    column and cell limits (FileRefused at the first row past one)."""
    fast = _fast_xlsx_rows(sheet)
    if fast is not None:
        yield from fast
        return
    sheet.reset_dimensions()  # some writers store a wrong dimension; read every row there is
    # openpyxl's read-only reader streams the rows (one at a time), with an empty row for each row missing
    # from the file; the reading stops at the first row past a limit.
    where = _where(sheet.title)
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        yield number, _bounded_row(where, number, values, limits)


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
    limits, where = Limits.current(), _where(sheet.title)
    max_columns, max_chars = limits.columns, limits.cell_chars
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
                    if number > MAX_ROW:
                        raise _damaged_row(name, previous, "")
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
                    value = cell_value(cell)
                    if position >= max_columns:  # past the columns read: an empty cell is left out, a value refused
                        if not _is_blank(value):
                            raise _too_many_columns(where, number, _column_letter(position), max_columns)
                        continue
                    if isinstance(value, str) and len(value) > max_chars:
                        raise _cell_too_long(where, number, _column_letter(position), max_chars)
                    values.extend([None] * (position - len(values)))
                    values.append(value)
                element.clear()
                yield number, values

    return rows()


def _read_csv(data: bytes, name: str, *, role: str, limits: Limits) -> Table:
    """The file decoded and parsed as it is read, line by line (never a decoded copy of the whole file)."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    while start < len(data) and data[start] in b"\r\n":
        start += 1
    end = data.find(b"\n", start)
    first_line = data[start:end if end >= 0 else len(data)]
    delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    where = _where(name, csv_file=True)
    # A record is a list of every field on the line: a line may be no longer than the most columns of the
    # longest cells (the csv module refuses a longer field itself).
    longest_line = limits.columns * (limits.cell_chars + 3) + 2

    def lines():
        for number, line in enumerate(stream, start=1):
            if len(line) > longest_line:
                raise _too_many_columns(where, number, _column_letter(limits.columns), limits.columns)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    # Each record is one spreadsheet row (a quoted cell may span lines); blank lines are blank rows.
    records = ((number, _bounded_row(where, number, values, limits)) for number, values in _csv_records(reader))
    return _table_from_rows(name, records, limit=limits.rows_for(role), where=where)


def _csv_records(reader):
    """(row number, values) for each record; FileRefused naming the line where the csv module gives up."""
    records = enumerate(reader, start=1)
    while True:
        try:
            yield next(records)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise FileRefused(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8” and try again."),
                              "not_utf8") from exc
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise FileRefused(
                    _("The CSV file has a cell longer than %(limit)s characters on line %(line)s.")
                    % {"limit": csv.field_size_limit(), "line": reader.line_num}, "csv_field_too_long") from exc
            raise FileRefused(_("The CSV file cannot be read on line %(line)s.") % {"line": reader.line_num},
                              "csv_malformed") from exc


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_from_rows(name: str, rows, *, limit: int, where: str) -> Table:
    """The header and the rows of data (blank rows left out): FileRefused at the first row past ``limit``.

    Equal texts are kept once (the same codes, kinds, dates and numbers recur on every row): the parsers make a
    new string for each cell of a CSV or of a sheet written without shared strings, a third of the table's size.
    """
    header_row, headers, body, texts = 0, [], [], {}
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
        if values and isinstance(values[0], str) and values[0].lstrip().startswith(COMMENT_MARK):
            continue  # the template's example row, or a note
        if len(body) >= limit:
            raise _too_many_rows(where, number, limit)
        body.append((number, [texts.setdefault(v, v) if v.__class__ is str else v for v in values]))
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
PARTY_HEADERS = _header_map(PARTY_COLUMNS, PARTY_ALIASES)
AMENDMENT_HEADERS = _header_map(AMENDMENT_COLUMNS, AMENDMENT_ALIASES)
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
    raw = re.sub(r"^rp\.?", "", text(value).replace(" ", "").replace("\u00a0", ""), flags=re.IGNORECASE)
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


YES_WORDS = {"yes", "ya", "y", "true", "benar", "1", "x"}
NO_WORDS = {"", "no", "tidak", "t", "n", "false", "salah", "0"}


def parse_yes_no(value) -> bool:
    """``yes``/``no`` (also ``ya``/``tidak``, ``true``/``false``, ``1``/``0``, a checkbox's TRUE/FALSE); empty is no."""
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in YES_WORDS:
        return True
    if raw in NO_WORDS:
        return False
    raise ValueError(_("“%(value)s” is neither yes nor no: write yes or no (ya or tidak).") % {"value": raw})


def upper_text(value) -> str:
    """A choice written in capitals in the file (``KB``, ``KSDD-WAJIB``), whatever the case it was typed in."""
    return text(value).upper()
