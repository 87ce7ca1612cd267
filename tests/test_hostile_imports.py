"""Hostile import files: damaged archives, XML that is not well-formed or declares a DOCTYPE,
cells and rows whose numbers or references are not ones, CSVs with a NUL or an over-long field. Each is reported
(a refused file, or a problem on its row and column) through the upload page and the command alike: HTTP 200 or
exit status 1, never a 500 or a traceback, nothing written. The log lines of an import carry no cell contents.

Every file is built here: a workbook written by openpyxl, then its parts replaced with hand-written XML.
"""

import io
import logging
import zipfile
from xml.sax.saxutils import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl.utils import get_column_letter

from agreements import importers
from agreements.models import Agreement
from agreements.spreadsheet import AGREEMENT_COLUMNS
from tests.factories import UserFactory
from tests.test_import import agreement_row, csv_bytes, workbook
from tests.test_import_command import command

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SECRET = "RAHASIA-7f3a9c"  # a distinctive value that must never reach a log record


# ---------------------------------------------------------------------------------------------------------------
# Building the files


def replace_parts(data: bytes, parts: dict[str, bytes], *, stored: bool = False) -> bytes:
    """The workbook ``data`` with ``parts`` replaced (or added), every other part kept as it is."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info))
        for name, content in parts.items():
            target.writestr(name, content)
    return buffer.getvalue()


def column(name: str) -> str:
    return get_column_letter(AGREEMENT_COLUMNS.index(name) + 1)


def inline_cell(ref: str, value) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def inline_row(number: int, values: list, *, raw: dict[str, str] | None = None) -> str:
    """A row of inline strings (empty cells left out); ``raw`` gives the XML of some cells by column letter."""
    raw = raw or {}
    cells = []
    for index, value in enumerate(values, start=1):
        letter = get_column_letter(index)
        if letter in raw:
            cells.append(raw[letter].format(ref=f"{letter}{number}"))
        elif value != "":
            cells.append(inline_cell(f"{letter}{number}", value))
    return f'<row r="{number}">{"".join(cells)}</row>'


def sheet_xml(*rows: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>', dimension: str = "") -> bytes:
    dimension = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{prolog}<worksheet xmlns="{MAIN}">{dimension}<sheetData>{"".join(rows)}</sheetData></worksheet>'.encode()


def with_sheet(*rows: str, **kwargs) -> bytes:
    return replace_parts(workbook([]), {SHEET: sheet_xml(*rows, **kwargs)})


HEADER = inline_row(1, AGREEMENT_COLUMNS)


def data_row(bad_column: str, bad_cell: str, number: int = 2) -> str:
    """A valid agreement row but for ``bad_column``, whose cell is the raw XML ``bad_cell``."""
    return inline_row(number, agreement_row(), raw={column(bad_column): bad_cell})


def corrupted_member(*, truncate: bool) -> bytes:
    """The workbook with the sheet's bytes damaged inside the archive: a flipped byte in a stored member (its
    CRC no longer matches) or a deflated member whose second half is zeroed (the deflate stream is broken)."""
    data = workbook([agreement_row()])
    if not truncate:
        data = replace_parts(data, {}, stored=True)
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    if truncate:
        middle = start + info.compress_size // 2
        damaged[middle:start + info.compress_size] = b"\x00" * (start + info.compress_size - middle)
    else:
        position = data.index(b"Kawasan Wisata", start)
        damaged[position] = ord("k")
    return bytes(damaged)


DOCTYPE = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
XXE = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def utf16_doctype_part() -> bytes:
    """A DOCTYPE in UTF-16: no byte search for "<!DOCTYPE" finds it, the XML parser does."""
    return ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst [<!ENTITY a "a">]>'
            f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"></sst>').encode("utf-16")


# (file bytes, what the report says), each read as an uploaded workbook and by the command.
REFUSED_WORKBOOKS = {
    "bad-crc": (corrupted_member(truncate=False), "The workbook is damaged: its part “xl/worksheets/sheet1.xml” "
                                                  "cannot be read."),
    "truncated-deflate": (corrupted_member(truncate=True), "The workbook is damaged: its part "
                                                           "“xl/worksheets/sheet1.xml” cannot be read."),
    # openpyxl reads a sheet up to its dimension when it opens the workbook: past it, the sheet's own reader fails.
    "sheet-not-well-formed": (with_sheet(HEADER, "<row r='2'><c r='A2'><v>1</v></row>", dimension="A1:O2"),
                              "The sheet “agreements” cannot be read: the workbook is damaged or its XML is not "
                              "well-formed."),
    "sheet-not-well-formed-before-its-dimension": (with_sheet(HEADER, "<row r='2'><c r='A2'><v>1</v></row>"),
                                                   "The workbook is damaged: its part “xl/worksheets/sheet1.xml” "
                                                   "cannot be read."),
    "workbook-part-not-well-formed": (replace_parts(workbook([agreement_row()]), {"xl/workbook.xml": b"<workbook"}),
                                      "The workbook is damaged: its part “xl/workbook.xml” cannot be read."),
    "entity-expansion": (with_sheet(HEADER, prolog=DOCTYPE), "The workbook's part “xl/worksheets/sheet1.xml” "
                                                            "declares a document type or entities"),
    # A DOCTYPE may follow comments: a part whose first element is over a megabyte in is refused unread. (Stored,
    # not deflated: deflated, the padding is a zip bomb, refused by the compression ratio before.)
    "doctype-behind-a-megabyte-of-comments": (replace_parts(workbook([]), {SHEET: sheet_xml(
        HEADER, prolog='<?xml version="1.0"?>' + "<!-- padding -->" * 70_000 + DOCTYPE[21:])}, stored=True),
                                              "The workbook is damaged: its part “xl/worksheets/sheet1.xml” cannot "
                                              "be read."),
    "external-entity": (with_sheet(HEADER, prolog=XXE), "The workbook's part “xl/worksheets/sheet1.xml” declares a "
                                                        "document type or entities"),
    "doctype-in-another-part": (replace_parts(workbook([agreement_row()]), {"xl/sharedStrings.xml": utf16_doctype_part()}),
                                "The workbook's part “xl/sharedStrings.xml” declares a document type or entities"),
    "doctype-in-content-types": (replace_parts(workbook([agreement_row()]), {
        "[Content_Types].xml": zipfile.ZipFile(io.BytesIO(workbook([]))).read("[Content_Types].xml").replace(
            b"<Types", b'<!DOCTYPE Types [<!ENTITY a "a">]><Types', 1)}),
        "The workbook's part “[Content_Types].xml” declares a document type or entities"),
    "cell-reference-digit-first": (with_sheet(HEADER, data_row("title", '<c r="1A" t="inlineStr"><is><t>x</t></is></c>')),
                                   "Sheet “agreements”, row 2: “1A” is not a valid cell reference here; the "
                                   "workbook is damaged."),
    "cell-reference-past-the-last-column": (with_sheet(HEADER, data_row("title", '<c r="ZZZZZZZ2"><v>1</v></c>')),
                                            "Sheet “agreements”, row 2: “ZZZZZZZ2” is not a valid cell reference here"),
    "cell-reference-without-row": (with_sheet(HEADER, data_row("title", '<c r="ZZZZZZZ"><v>1</v></c>')),
                                   "Sheet “agreements”, row 2: “ZZZZZZZ” is not a valid cell reference here"),
    "row-number-not-a-number": (with_sheet(HEADER, inline_row(2, agreement_row()).replace('<row r="2">', '<row r="x">')),
                                "Sheet “agreements”: the row after row 1 is numbered “x”, which is not a row number; "
                                "the workbook is damaged."),
    "not-a-zip": (b"PK\x03\x04" + b"\x00" * 200, "This file is not a readable .xlsx workbook."),
}

# A cell whose value contradicts its type: a problem on its row and column, the rest of the file still read.
BAD_CELLS = {
    "shared-string-out-of-range": ("title", '<c r="{ref}" t="s"><v>9999</v></c>',
                                   "agreements, row 2, title: The cell refers to shared text “9999”, which the "
                                   "workbook does not have; the workbook is damaged."),
    "number-cell-not-a-number": ("value_idr", '<c r="{ref}"><v>12x</v></c>',
                                 "agreements, row 2, value_idr: The cell holds “12x” where the workbook says a "
                                 "number or a date is stored; the workbook is damaged."),
    "date-cell-not-a-date": ("signed_on", '<c r="{ref}" t="d"><v>kemarin</v></c>',
                             "agreements, row 2, signed_on: The cell holds “kemarin” where the workbook says a "
                             "number or a date is stored; the workbook is damaged."),
}

LONG_FIELD = "x" * 140_000
REFUSED_CSVS = {
    # In the first 8 KB, a NUL says the file is binary (or UTF-16): not a spreadsheet.
    "nul-byte": (csv_bytes([AGREEMENT_COLUMNS, agreement_row(title="Kawasan\x00Wisata")]),
                 "This file is not a spreadsheet: upload an .xlsx workbook or a CSV file."),
    "nul-byte-far-in": (csv_bytes([AGREEMENT_COLUMNS] + [agreement_row(number=f"KB/{i}") for i in range(100)]
                                  + [agreement_row(title="a\x00b")]),
                        "The CSV file contains a NUL character on line 102"),
    "field-over-the-csv-limit": (csv_bytes([AGREEMENT_COLUMNS, agreement_row(scope=LONG_FIELD)]),
                                 "The CSV file has a cell longer than 131072 characters on line 2."),
}


# ---------------------------------------------------------------------------------------------------------------
# Both ways in


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def through_the_page(client, data: bytes, name: str) -> str:
    """Upload as ministry staff; the page answers 200 with the report, and nothing is written."""
    client.force_login(UserFactory(username="staf-impor", role="ministry"))
    response = client.post("/import/", {"agreements_file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    assert Agreement.objects.count() == 0
    assert not response.context.get("token")  # no preview offered
    return response.content.decode()


def through_the_command(tmp_path, data: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    status, _out, err = command(str(path))
    assert status == 1
    assert Agreement.objects.count() == 0
    assert "Traceback" not in err
    return err


def page_text(html: str) -> str:
    """The page's text as the user reads it (quotes and ampersands unescaped)."""
    return html.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&").replace("&lt;", "<")


@pytest.mark.parametrize("case", REFUSED_WORKBOOKS)
def test_damaged_workbook_is_refused_on_the_page(client, case):
    data, message = REFUSED_WORKBOOKS[case]
    assert message in page_text(through_the_page(client, data, "data.xlsx"))


@pytest.mark.parametrize("case", REFUSED_WORKBOOKS)
def test_damaged_workbook_is_refused_by_the_command(tmp_path, case):
    data, message = REFUSED_WORKBOOKS[case]
    assert message in through_the_command(tmp_path, data, "data.xlsx")


@pytest.mark.parametrize("case", BAD_CELLS)
def test_cell_contradicting_its_type_is_a_row_problem_on_the_page(client, case):
    column_name, cell, message = BAD_CELLS[case]
    html = through_the_page(client, with_sheet(HEADER, data_row(column_name, cell)), "data.xlsx")
    assert message.split(": ", 1)[1] in page_text(html)
    assert f"<td>{column_name}</td>" in html or column_name in html


@pytest.mark.parametrize("case", BAD_CELLS)
def test_cell_contradicting_its_type_is_a_row_problem_for_the_command(tmp_path, case):
    column_name, cell, message = BAD_CELLS[case]
    err = through_the_command(tmp_path, with_sheet(HEADER, data_row(column_name, cell)), "data.xlsx")
    assert message in err


def test_bad_cells_are_each_reported_with_every_other_problem():
    data = with_sheet(HEADER, data_row("title", BAD_CELLS["shared-string-out-of-range"][1]),
                      data_row("value_idr", BAD_CELLS["number-cell-not-a-number"][1], number=3).replace(
                          "KB/001/2024", "KB/002/2024"))
    plan = importers.import_files((data, "data.xlsx"))
    assert {(p.sheet, p.row, p.column) for p in plan.problems} == {("agreements", 2, "title"),
                                                                   ("agreements", 3, "value_idr")}
    assert Agreement.objects.count() == 0


@pytest.mark.parametrize("case", REFUSED_CSVS)
def test_hostile_csv_is_refused_on_the_page(client, case):
    data, message = REFUSED_CSVS[case]
    assert message in page_text(through_the_page(client, data, "data.csv"))


@pytest.mark.parametrize("case", REFUSED_CSVS)
def test_hostile_csv_is_refused_by_the_command(tmp_path, case):
    data, message = REFUSED_CSVS[case]
    assert message in through_the_command(tmp_path, data, "data.csv")


def test_hostile_milestones_csv_is_refused_too(tmp_path):
    agreements = tmp_path / "data.csv"
    agreements.write_bytes(csv_bytes([AGREEMENT_COLUMNS, agreement_row()]))
    milestones = tmp_path / "tahapan.csv"
    milestones.write_bytes(b"agreement_number,title\r\nKB/001/2024,\"" + b"y" * 140_000 + b"\"\r\n")
    status, _out, err = command(str(agreements), "--milestones", str(milestones))
    assert status == 1 and "longer than 131072 characters on line 2" in err
    assert Agreement.objects.count() == 0


def test_well_formed_workbook_with_cell_references_in_lower_case_still_imports():
    data = with_sheet(HEADER, inline_row(2, agreement_row()).replace('r="A2"', 'r="a2"'))
    plan = importers.import_files((data, "data.xlsx"))
    assert plan.ok, plan.problems
    assert Agreement.objects.get().number == "KB/001/2024"


# ---------------------------------------------------------------------------------------------------------------
# Logs


def secret_file() -> bytes:
    """A workbook whose problems all quote ``SECRET``: an unknown header, a date and a damaged number cell."""
    header = inline_row(1, [*AGREEMENT_COLUMNS, SECRET])
    row = data_row("value_idr", f'<c r="{{ref}}"><v>{SECRET}</v></c>')
    row = row.replace(">2024-01-15<", f">{SECRET}<")  # signed_on
    return with_sheet(header, row)


def assert_not_logged(records, secret: str):
    assert records, "the import logs its outcome"
    for record in records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert secret not in text, record.name


def test_import_logs_rows_and_columns_never_cell_contents(client, tmp_path, caplog):
    with caplog.at_level(logging.DEBUG):
        html = through_the_page(client, secret_file(), f"{SECRET}.xlsx")
        err = through_the_command(tmp_path, secret_file(), f"{SECRET}.xlsx")
    assert SECRET in html and SECRET in err  # the user is told which value is wrong ...
    assert_not_logged(caplog.records, SECRET)  # ... the log is not
    outcome = [r.getMessage().split(" user=")[0] for r in caplog.records if r.name == "kerjasama.import"]
    assert outcome == ["import rejected: problems=3 rows=1,2 columns=other,signed_on,value_idr"] * 2


def test_refused_file_is_logged_by_its_reason_only(client, tmp_path, caplog):
    data = with_sheet(HEADER, data_row("title", f'<c r="{SECRET}"><v>1</v></c>'))
    with caplog.at_level(logging.DEBUG):
        assert SECRET[:20] in page_text(through_the_page(client, data, "data.xlsx"))
        through_the_command(tmp_path, data, "data.xlsx")
        csv_data = csv_bytes([AGREEMENT_COLUMNS] + [agreement_row(number=f"KB/{i}") for i in range(100)]
                             + [agreement_row(title=SECRET + "\x00")])
        through_the_command(tmp_path, csv_data, "data.csv")
    assert_not_logged(caplog.records, SECRET)
    reasons = [r.getMessage().split(" user=")[0] for r in caplog.records if r.name == "kerjasama.import"]
    assert reasons == ["import refused: reason=cell_reference"] * 2 + ["import refused: reason=nul"]
