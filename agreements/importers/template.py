"""The downloadable import template: instructions, the two sheets with their headers and an example row, and
the codes.

The headers are the spreadsheet contract's (``spreadsheet.AGREEMENT_COLUMNS`` and ``MILESTONE_COLUMNS``), or
for a user reading Indonesian their Indonesian spelling (the first alias in ``reading``, which the import reads
too); the example rows and the cell formats are given by column name, so the template follows the contract when
a column is added or moved. The example rows start with ``#`` (``reading.COMMENT_MARK``): importing the
template unchanged imports nothing. Document type, cooperation kind and status have drop-down lists.
"""

import datetime
import io

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ..models import Agreement, GovernmentAffair, Milestone, Region, TerminationReason
from ..spreadsheet import AGREEMENT_COLUMNS, AMENDMENT_COLUMNS, MILESTONE_COLUMNS, NO, PARTY_COLUMNS, YES
from .reading import (
    AGREEMENT_ALIASES,
    AGREEMENTS_SHEET,
    AMENDMENT_ALIASES,
    AMENDMENTS_SHEET,
    COMMENT_MARK,
    DATE_COLUMNS,
    MILESTONE_ALIASES,
    MILESTONES_SHEET,
    PARTIES_SHEET,
    PARTY_ALIASES,
)

CODES_SHEET = "codes"
INSTRUCTIONS_SHEET = "instructions"
ROWS_WITH_LISTS = 5000  # rows of each sheet that get the drop-down lists
CODES_COLUMNS = ["region_code", "region_name", "level", "can_sign", "", "affair_code", "affair_name"]
# Columns holding codes, written as text cells: keeps Excel from turning 32.10 into 32.1.
CODE_COLUMNS = {"region_codes", "affair_codes", "responsible_region_code", "region_code", "affair_code"}
AGREEMENT_EXAMPLE = {
    "number": f"{COMMENT_MARK} 180/001/KB/2024", "document_type": "KB", "parent_number": "",
    "title": "Pengembangan Kawasan Wisata Terpadu", "cooperation_kind": "KSDD-SUKARELA",
    "region_codes": "32.73;32.04", "third_parties": "", "affair_codes": "3.26;2.15",
    "signed_on": datetime.date(2024, 1, 15), "dprd_approved_on": None, "starts_on": datetime.date(2024, 2, 1),
    "ends_on": datetime.date(2029, 1, 31), "terminated_on": None, "termination_reason": "", "value_idr": "1.500.000.000",
    "scope": "Promosi bersama dan pengelolaan kawasan wisata perbatasan.",
}
MILESTONE_EXAMPLE = {
    "agreement_number": f"{COMMENT_MARK} 180/001/KB/2024", "title": "Penyusunan rencana induk",
    "responsible_region_code": "32.73",
    "due_on": datetime.date(2024, 6, 30), "started_on": datetime.date(2024, 2, 1), "completed_on": None,
    "status": "in_progress", "progress": 40,
}
PARTY_EXAMPLE = {
    "agreement_number": f"{COMMENT_MARK} 180/001/KB/2024", "region_code": "32.73",
    "signatory_name": "Muhammad Farhan", "signatory_position": "Wali Kota Bandung",
    "document_number": "415.4/12-Bag.Kerja Sama", "signed_on": datetime.date(2024, 1, 15), "dprd_required": YES,
    "dprd_approved_on": datetime.date(2023, 12, 20), "dprd_decision_number": "12/KEP/DPRD/2023",
}

AMENDMENT_EXAMPLE = {
    "agreement_number": f"{COMMENT_MARK} 180/001/KB/2024", "number": "1/ADD/2026",
    "signed_on": datetime.date(2026, 11, 20), "ends_on": datetime.date(2031, 1, 31),
    "summary": "Jangka waktu diperpanjang dua tahun.",
}


def _codes_rows() -> list[list]:
    """Regions (code, name, level, whether it can sign) side by side with the affairs (code, name)."""
    region_rows = list(Region.objects.order_by("code").values_list("code", "name", "level", "is_autonomous"))
    affair_rows = list(GovernmentAffair.objects.order_by("code").values_list("code", "name"))
    rows = []
    for index in range(max(len(region_rows), len(affair_rows))):
        line = list(region_rows[index][:3]) + [_("yes") if region_rows[index][3] else _("no")] \
            if index < len(region_rows) else ["", "", "", ""]
        line.append("")
        line += list(affair_rows[index]) if index < len(affair_rows) else ["", ""]
        rows.append(line)
    return rows


def _format_columns(ws, columns: list[str]) -> None:
    """Bold headers, readable widths, code columns as text, date columns as dates."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for cell in ws[1]:
        cell.font = Font(bold=True)
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        ws.column_dimensions[letter].width = 18
        if column in CODE_COLUMNS:
            for cell in ws[letter]:
                cell.number_format = "@"
        elif column in DATE_COLUMNS:
            for cell in ws[letter][1:]:
                cell.number_format = "yyyy-mm-dd"


def headers(columns: list[str], aliases: dict[str, list[str]]) -> list[str]:
    """The header row in the interface language: the contract's names, or their Indonesian spelling."""
    if (get_language() or "").startswith("id"):
        return [aliases.get(column, [column])[0] for column in columns]
    return list(columns)


# Columns with a drop-down list of their values.
LISTS = {
    "document_type": Agreement.DocumentType.values,
    "cooperation_kind": Agreement.Kind.values,
    "termination_reason": TerminationReason.values,
    "status": Milestone.Status.values,
    "dprd_required": [YES, NO],
}


def _add_lists(ws, columns: list[str]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for position, column in enumerate(columns, start=1):
        if column in LISTS:
            letter = get_column_letter(position)
            validation = DataValidation(type="list", formula1=f'"{",".join(LISTS[column])}"', allow_blank=True,
                                        showErrorMessage=True, error=_("Choose a value from the list."))
            validation.add(f"{letter}2:{letter}{ROWS_WITH_LISTS}")
            ws.add_data_validation(validation)


def _instructions() -> list[list[str]]:
    return [
        [_("How to fill in this workbook")],
        [_("1. One row per agreement on the sheet “%(sheet)s”, one row per milestone on “%(milestones)s”.")
         % {"sheet": AGREEMENTS_SHEET, "milestones": MILESTONES_SHEET}],
        [_("2. The row starting with # is an example: it is not imported. Write your own rows below it, or "
           "overwrite it and remove the #.")],
        [_("3. Region and affair codes are on the sheet “%(sheet)s”; separate several codes with ;.")
         % {"sheet": CODES_SHEET}],
        [_("4. Document type, cooperation kind and status: choose from the list in the cell.")],
        [_("5. Dates as dates, or written 2024-01-31 or 31/01/2024; amounts in rupiah, such as 1.500.000.000.")],
        [_("6. Upload the workbook on the Import page: nothing is written until you have seen the preview and "
           "confirmed it.")],
        [_("7. Optional, one row per regional party on the sheet “%(sheet)s”: the agreement's number and the "
           "party's region code, its signatory, its own document number, the date it signed, whether DPRD approval "
           "is required (yes or no: when the cooperation burdens the public and the region, or is not budgeted in "
           "the current APBD) and, if so, the approval's date and decision number. The region must be one of the "
           "agreement's region codes. The agreement's signing date becomes the last party's once every party's is "
           "given, and its DPRD approval date the last approval required.") % {"sheet": PARTIES_SHEET}],
        [_("8. Optional, one row per amendment (addendum) on the sheet “%(sheet)s”: the agreement's number, the "
           "amendment's own number, the date it was signed (not before the agreement's signing), the new end date if "
           "it changes it, and what changed. The agreement keeps its original values; the end date in force is the "
           "latest amendment's.") % {"sheet": AMENDMENTS_SHEET}],
    ]


def build_template() -> bytes:
    """An XLSX with instructions, the two sheets (headers and an example row each) and a sheet of valid codes."""
    import openpyxl  # imported here: the module import stays light
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    instructions = workbook.active
    instructions.title = INSTRUCTIONS_SHEET
    for line in _instructions():
        instructions.append(line)
    instructions["A1"].font = Font(bold=True)
    instructions.column_dimensions["A"].width = 110
    sheet = workbook.create_sheet(AGREEMENTS_SHEET)
    milestones = workbook.create_sheet(MILESTONES_SHEET)
    parties = workbook.create_sheet(PARTIES_SHEET)
    amendments = workbook.create_sheet(AMENDMENTS_SHEET)
    codes = workbook.create_sheet(CODES_SHEET)
    for ws, columns, header, rows in (
        (sheet, AGREEMENT_COLUMNS, headers(AGREEMENT_COLUMNS, AGREEMENT_ALIASES),
         [[AGREEMENT_EXAMPLE[c] for c in AGREEMENT_COLUMNS]]),
        (milestones, MILESTONE_COLUMNS, headers(MILESTONE_COLUMNS, MILESTONE_ALIASES),
         [[MILESTONE_EXAMPLE[c] for c in MILESTONE_COLUMNS]]),
        (parties, PARTY_COLUMNS, headers(PARTY_COLUMNS, PARTY_ALIASES), [[PARTY_EXAMPLE[c] for c in PARTY_COLUMNS]]),
        (amendments, AMENDMENT_COLUMNS, headers(AMENDMENT_COLUMNS, AMENDMENT_ALIASES),
         [[AMENDMENT_EXAMPLE[c] for c in AMENDMENT_COLUMNS]]),
        (codes, CODES_COLUMNS, CODES_COLUMNS, _codes_rows()),
    ):
        ws.append(header)
        for row in rows:
            ws.append(row)
        _format_columns(ws, columns)
        _add_lists(ws, columns)
    workbook.active = workbook.index(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
