"""Import limits: rows, cell length, a part's uncompressed size and compression ratio, sheets and
columns. Each is checked while the file is read, so a file past one is refused (``FileRefused``, with a message
naming the limit) before it is read any further; the upload page and the command report it, nothing is written.

The limits are settings (``IMPORT_MAX_*``), lowered here with the ``settings`` fixture so the files stay small.
"""

import io
import itertools
import struct
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl.utils import get_column_letter

from agreements import importers
from agreements.importers import reading
from agreements.models import Agreement
from agreements.spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS
from tests.factories import UserFactory
from tests.test_hostile_imports import HEADER, SHEET, inline_row, page_text, replace_parts, sheet_xml
from tests.test_import import agreement_row, csv_bytes, milestone_row, workbook, xlsx
from tests.test_import_command import command

# The letters a spreadsheet shows for the scope column and for the column after the agreement's and nine empty ones.
SCOPE = get_column_letter(AGREEMENT_COLUMNS.index("scope") + 1)
PAST = get_column_letter(len(AGREEMENT_COLUMNS) + 10)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# ---------------------------------------------------------------------------------------------------------------
# Building the files


def agreements(count: int) -> list[list]:
    return [agreement_row(number=f"KB/{i:03d}/2024") for i in range(count)]


def milestones(count: int) -> list[list]:
    return [milestone_row(title=f"Tahap {i}") for i in range(count)]


def inline_sheet(*rows: list) -> bytes:
    """A workbook whose agreements sheet is written with inline strings (no shared strings), header first."""
    body = [inline_row(number, values) for number, values in enumerate(rows, start=2)]
    return replace_parts(workbook([]), {SHEET: sheet_xml(HEADER, *body)})


def bomb_member(size: int, unit: bytes) -> bytes:
    """A workbook whose sheet is ``size`` bytes of ``unit`` (after the header), deflated as it is written."""
    source = zipfile.ZipFile(io.BytesIO(workbook([])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, source.read(info))
        head, tail = sheet_xml(HEADER).split(b"</sheetData>")
        with target.open(SHEET, "w", force_zip64=False) as member:
            member.write(head)
            block = unit * (1024 * 1024 // len(unit))
            for _ in range(size // len(block)):
                member.write(block)
            member.write(b"</sheetData>" + tail)
    return buffer.getvalue()


def lie_about_size(data: bytes, part: str, size: int) -> bytes:
    """The archive with ``part``'s uncompressed size declared as ``size`` (central directory and local header)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(part)
    patched = bytearray(data)
    struct.pack_into("<I", patched, info.header_offset + 22, size)  # local header
    central = archive.start_dir  # the first entry of the central directory
    while True:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == part.encode():
            struct.pack_into("<I", patched, central + 24, size)
            return bytes(patched)
        extra, comment = struct.unpack_from("<HH", data, central + 30)
        central += 46 + name_length + extra + comment


# ---------------------------------------------------------------------------------------------------------------
# Both ways in


def read(data: bytes, name: str = "data.xlsx", **kwargs) -> str:
    """The refusal's message from ``read_spreadsheet``."""
    with pytest.raises(importers.FileRefused) as refused:
        importers.read_spreadsheet(data, name, **kwargs)
    return str(refused.value)


def through_the_page(client, data: bytes, name: str, milestones_file: bytes | None = None) -> str:
    """Upload as ministry staff: 200 with the refusal, no preview, nothing written."""
    client.force_login(UserFactory(username="staf-impor", role="ministry"))
    files = {"agreements_file": SimpleUploadedFile(name, data)}
    if milestones_file is not None:
        files["milestones_file"] = SimpleUploadedFile("milestones.csv", milestones_file)
    response = client.post("/import/", files)
    assert response.status_code == 200
    assert not response.context.get("token")
    assert Agreement.objects.count() == 0
    return page_text(response.content.decode())


def through_the_command(tmp_path, data: bytes, name: str, *args) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    status, _out, err = command(str(path), *args)
    assert status == 1
    assert "Traceback" not in err
    assert Agreement.objects.count() == 0
    return err


# Each case: (settings, a function building the file and its name, what the message says).
CASES = {
    "agreement-rows": ({"IMPORT_MAX_AGREEMENT_ROWS": 10}, lambda: (workbook(agreements(11)), "data.xlsx"),
                       "Sheet “agreements” has more than 10 rows, the most one import reads (row 12 is past the "
                       "limit): split it into smaller files."),
    "agreement-rows-csv": ({"IMPORT_MAX_AGREEMENT_ROWS": 10},
                           lambda: (csv_bytes([AGREEMENT_COLUMNS, *agreements(11)]), "data.csv"),
                           "File “data.csv” has more than 10 rows, the most one import reads (row 12 is past"),
    "milestone-rows": ({"IMPORT_MAX_OTHER_ROWS": 5}, lambda: (workbook(agreements(1), milestones(6)), "data.xlsx"),
                       "Sheet “milestones” has more than 5 rows, the most one import reads (row 7 is past the limit)"),
    "cell-chars-shared-string": ({"IMPORT_MAX_CELL_CHARS": 50},
                                 lambda: (workbook([agreement_row(title="x" * 51)]), "data.xlsx"),
                                 "Sheet “agreements”, row 2, column D: the cell is longer than 50 characters, the "
                                 "most a cell may hold; the file is refused."),
    "cell-chars-inline": ({"IMPORT_MAX_CELL_CHARS": 50}, lambda: (inline_sheet(agreement_row(scope="y" * 60)),
                                                                  "data.xlsx"),
                          f"Sheet “agreements”, row 2, column {SCOPE}: the cell is longer than 50 characters"),
    "cell-chars-csv": ({"IMPORT_MAX_CELL_CHARS": 50},
                       lambda: (csv_bytes([AGREEMENT_COLUMNS, agreement_row(title="x" * 51)]), "data.csv"),
                       "File “data.csv”, row 2, column D: the cell is longer than 50 characters"),
    # Far longer than the limit: refused by the archive check, before an XML parser holds the text whole.
    "cell-chars-far-over": ({"IMPORT_MAX_CELL_CHARS": 50}, lambda: (inline_sheet(agreement_row(scope="y" * 5000)),
                                                                    "data.xlsx"),
                            "Sheet “agreements” holds a cell or a tag longer than 50 characters, the most a cell "
                            "may hold: the file is refused."),
    "sheet-xml-bytes": ({"IMPORT_MAX_SHEET_XML_BYTES": 128 * 1024}, lambda: (inline_sheet(*agreements(300)),
                                                                             "data.xlsx"),
                        "The workbook is refused: the sheet “agreements” is larger than 0.125 MB once uncompressed, "
                        "the most one import reads."),
    "zip-bomb": ({}, lambda: (bomb_member(8 * 1024 * 1024, b" "), "data.xlsx"),
                 "The workbook is refused: the sheet “agreements” expands more than 100 times when uncompressed, "
                 "the most one import accepts (a “zip bomb”)."),
    "sheets": ({"IMPORT_MAX_EXTRA_SHEETS": 0},
               lambda: (xlsx([AGREEMENT_COLUMNS], [MILESTONE_COLUMNS],
                             extra_sheets={"codes": [], "instructions": [], "parties": [], "amendments": [],
                                           "catatan": []}),
                        "data.xlsx"),
               "The workbook has more than 6 sheets, the most one import reads (the template's 6 and 0 more): "
               "remove the sheets that are not imported."),
    "columns": ({"IMPORT_MAX_COLUMNS": 20}, lambda: (workbook([agreement_row() + [""] * 9 + ["catatan"]]),
                                                     "data.xlsx"),
                f"Sheet “agreements”, row 2: column {PAST} holds a value, but no more than 20 columns are read; the file "
                "is refused."),
    "columns-csv": ({"IMPORT_MAX_COLUMNS": 20},
                    lambda: (csv_bytes([AGREEMENT_COLUMNS, agreement_row() + [""] * 9 + ["catatan"]]), "data.csv"),
                    f"File “data.csv”, row 2: column {PAST} holds a value, but no more than 20 columns are read"),
}


@pytest.mark.parametrize("case", CASES)
def test_limit_refused_by_read_spreadsheet(settings, case):
    overrides, build, message = CASES[case]
    for name, value in overrides.items():
        setattr(settings, name, value)
    data, name = build()
    assert message in read(data, name)


@pytest.mark.parametrize("case", CASES)
def test_limit_refused_on_the_page(client, settings, case):
    overrides, build, message = CASES[case]
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert message in through_the_page(client, *build())


@pytest.mark.parametrize("case", CASES)
def test_limit_refused_by_the_command(tmp_path, settings, case):
    overrides, build, message = CASES[case]
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert message in through_the_command(tmp_path, *build())


def test_milestones_csv_over_its_limit_is_refused_on_the_page_and_by_the_command(client, tmp_path, settings):
    settings.IMPORT_MAX_AGREEMENT_ROWS = 2  # not the milestones' limit
    settings.IMPORT_MAX_OTHER_ROWS = 5
    agreements_file = csv_bytes([AGREEMENT_COLUMNS, *agreements(1)])
    milestones_file = csv_bytes([MILESTONE_COLUMNS, *milestones(6)])
    message = "File “milestones.csv” has more than 5 rows, the most one import reads (row 7 is past the limit)"
    assert message in through_the_page(client, agreements_file, "data.csv", milestones_file)
    (tmp_path / "milestones.csv").write_bytes(milestones_file)
    assert message in through_the_command(tmp_path, agreements_file, "data.csv", "--milestones",
                                          str(tmp_path / "milestones.csv"))


def test_refusals_are_logged_by_their_reason(tmp_path, settings, caplog):
    settings.IMPORT_MAX_AGREEMENT_ROWS = 1
    through_the_command(tmp_path, workbook(agreements(2)), "data.xlsx")
    assert "import refused: reason=too_many_rows" in caplog.text


# ---------------------------------------------------------------------------------------------------------------
# At the limit, files import; past it, the reading stops there


def test_files_at_the_limits_import(settings):
    settings.IMPORT_MAX_AGREEMENT_ROWS = 10
    settings.IMPORT_MAX_OTHER_ROWS = 10
    settings.IMPORT_MAX_CELL_CHARS = 60
    rows = agreements(9) + [agreement_row(number="KB/LONG", title="x" * 60)]
    plan = importers.import_files((workbook(rows, milestones(10)), "data.xlsx"))
    assert plan.ok, plan.problems
    assert Agreement.objects.count() == 10


def test_the_default_limits(settings):
    for name in ("IMPORT_MAX_AGREEMENT_ROWS", "IMPORT_MAX_OTHER_ROWS", "IMPORT_MAX_CELL_CHARS",
                 "IMPORT_MAX_SHEET_XML_BYTES", "IMPORT_MAX_COMPRESSION_RATIO", "IMPORT_MAX_EXTRA_SHEETS",
                 "IMPORT_MAX_COLUMNS"):
        delattr(settings, name)  # what reading falls back to without the settings
    defaults = reading.Limits.current()
    assert defaults == reading.Limits(agreement_rows=50_000, other_rows=200_000, cell_chars=10_000,
                                      sheet_xml_bytes=100 * 1024 * 1024, compression_ratio=100, extra_sheets=5,
                                      columns=200)


def test_settings_hold_the_documented_defaults():
    from django.conf import settings

    assert reading.Limits.current() == reading.Limits()
    assert settings.IMPORT_MAX_AGREEMENT_ROWS == 50_000 and settings.IMPORT_MAX_OTHER_ROWS == 200_000


def test_template_sheets_and_five_more_are_read_six_more_are_not():
    assert reading.TEMPLATE_SHEETS == (importers.AGREEMENTS_SHEET, importers.MILESTONES_SHEET, importers.CODES_SHEET,
                                       "instructions", importers.PARTIES_SHEET, importers.AMENDMENTS_SHEET)
    eleven = xlsx([AGREEMENT_COLUMNS, agreement_row()], extra_sheets={f"lain{i}": [["x"]] for i in range(10)})
    assert importers.import_files((eleven, "data.xlsx")).ok
    twelve = xlsx([AGREEMENT_COLUMNS, agreement_row()], extra_sheets={f"lain{i}": [["x"]] for i in range(11)})
    assert "more than 11 sheets" in read(twelve)


def test_empty_cells_past_the_columns_read_are_ignored(settings):
    settings.IMPORT_MAX_COLUMNS = 20
    data = replace_parts(workbook([]), {SHEET: sheet_xml(HEADER, inline_row(2, agreement_row()).replace(
        "</row>", '<c r="Z2" s="0"/><c r="XFD2" t="inlineStr"><is><t> </t></is></c></row>'))})
    plan = importers.import_files((data, "data.xlsx"))
    assert plan.ok, plan.problems
    assert Agreement.objects.count() == 1


def test_a_value_in_the_last_excel_column_is_refused_with_the_default_limit():
    data = replace_parts(workbook([]), {SHEET: sheet_xml(HEADER, inline_row(2, agreement_row()).replace(
        "</row>", '<c r="XFD2"><v>1</v></c></row>'))})
    assert "column XFD holds a value, but no more than 200 columns are read" in read(data)


def test_openpyxl_fallback_enforces_the_cell_and_column_limits(settings, monkeypatch):
    monkeypatch.setattr(reading, "_fast_xlsx_rows", lambda sheet: None)
    settings.IMPORT_MAX_CELL_CHARS = 50
    assert "row 2, column D: the cell is longer than 50 characters" in read(workbook([agreement_row(title="x" * 51)]))
    settings.IMPORT_MAX_COLUMNS = 20
    assert f"row 2: column {PAST} holds a value" in read(workbook([agreement_row() + [""] * 9 + ["catatan"]]))
    settings.IMPORT_MAX_AGREEMENT_ROWS = 3
    assert "has more than 3 rows" in read(workbook(agreements(4)))


def test_rows_are_read_only_up_to_the_limit():
    """The table stops at the first row past the limit: an endless sheet is refused, not read to its end."""
    endless = ((n, [f"KB/{n}"]) for n in itertools.count(2))
    header = iter([(1, ["number"])])
    with pytest.raises(importers.FileRefused, match="more than 1.000 rows|more than 1,000 rows"):
        reading._table_from_rows("agreements", itertools.chain(header, endless), limit=1000, where="Sheet")


def test_a_csv_line_longer_than_the_columns_of_the_longest_cells_is_refused(settings):
    settings.IMPORT_MAX_COLUMNS = 2
    settings.IMPORT_MAX_CELL_CHARS = 15
    data = b"number,title\r\nKB/1,Judul\r\n" + b"x," * 40 + b"\r\n"  # 80 characters: past 2 columns of 15
    assert "File “data.csv”, row 3: column C holds a value, but no more than 2 columns are read" in read(
        data, "data.csv")


def test_a_csv_that_is_not_utf8_far_in_is_still_refused():
    data = csv_bytes([AGREEMENT_COLUMNS] + agreements(50)) + "Café".encode("latin-1") + b"\r\n"
    assert "not UTF-8" in read(data, "data.csv")


# ---------------------------------------------------------------------------------------------------------------
# Zip bombs: the declared sizes, and the bytes as they decompress


def test_zip_bomb_is_refused_before_it_is_decompressed():
    data = bomb_member(150 * 1024 * 1024, b" ")
    assert len(data) < 1024 * 1024
    tracemalloc.start()
    try:
        message = read(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "is larger than 100 MB once uncompressed" in message
    assert peak < 20 * 1024 * 1024


def test_a_part_that_declares_a_small_size_is_refused_as_it_decompresses():
    """Declared sizes can lie: the sheet says it is as large as its compressed bytes (1:1) and holds 120 MB.
    The scan counts what it decompresses and stops past the ratio, at about a megabyte."""
    data = lie_about_size(bomb_member(120 * 1024 * 1024, b"<row/>"), SHEET, 100_000)
    declared = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET)
    assert declared.file_size == 100_000 and declared.file_size < 100 * declared.compress_size
    tracemalloc.start()
    try:
        message = read(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "the sheet “agreements” expands more than 100 times when uncompressed" in message
    assert peak < 20 * 1024 * 1024


def test_a_part_larger_than_it_declares_is_refused_past_the_size_limit(settings):
    settings.IMPORT_MAX_SHEET_XML_BYTES = 128 * 1024
    data = lie_about_size(inline_sheet(*agreements(300)), SHEET, 1000)
    assert "the sheet “agreements” is larger than 0.125 MB once uncompressed" in read(data)


def test_a_part_larger_than_it_declares_within_the_limits_is_damaged():
    data = lie_about_size(inline_sheet(*agreements(3)), SHEET, 100)
    assert "The workbook is damaged: its part “xl/worksheets/sheet1.xml” cannot be read." in read(data)


def test_an_archive_declaring_too_many_parts_is_refused_before_its_directory_is_read():
    data = bytearray(workbook([agreement_row()]))
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 5000, 5000)
    assert "more than 1000 parts" in read(bytes(data))


def test_many_parts_each_under_a_megabyte_are_held_to_the_ratio_together():
    """Parts under a megabyte are not held to the ratio one by one, but the whole workbook is."""
    padding = {f"xl/media/pad{i}.bin": b" " * (900 * 1024) for i in range(30)}
    data = replace_parts(workbook([agreement_row()]), padding)
    assert "The workbook is refused: it expands more than 100 times when uncompressed" in read(data)
