"""The downloadable import template: the two sheets with their headers and an example row, and the codes.

The headers are the spreadsheet contract's (``spreadsheet.AGREEMENT_COLUMNS`` and
``MILESTONE_COLUMNS``); the example rows and the cell formats are given by column name, so the
template follows the contract when a column is added or moved.
"""

import datetime
import io

from django.utils.translation import gettext as _

from ..models import GovernmentAffair, Region
from ..spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS
from .reading import AGREEMENTS_SHEET, DATE_COLUMNS, MILESTONES_SHEET

CODES_SHEET = "codes"
CODES_COLUMNS = ["region_code", "region_name", "level", "can_sign", "", "affair_code", "affair_name"]
# Columns holding codes, written as text cells: keeps Excel from turning 32.10 into 32.1.
CODE_COLUMNS = {"region_codes", "affair_codes", "responsible_region_code", "region_code", "affair_code"}
AGREEMENT_EXAMPLE = {
    "number": "180/001/KB/2024", "document_type": "KB", "parent_number": "",
    "title": "Pengembangan Kawasan Wisata Terpadu", "cooperation_kind": "KSDD-SUKARELA",
    "region_codes": "32.73;32.04", "third_parties": "", "affair_codes": "3.26;2.15",
    "signed_on": datetime.date(2024, 1, 15), "dprd_approved_on": None, "starts_on": datetime.date(2024, 2, 1),
    "ends_on": datetime.date(2029, 1, 31), "terminated_on": None, "value_idr": "1.500.000.000",
    "scope": "Promosi bersama dan pengelolaan kawasan wisata perbatasan.",
}
MILESTONE_EXAMPLE = {
    "agreement_number": "180/001/KB/2024", "title": "Penyusunan rencana induk", "responsible_region_code": "32.73",
    "due_on": datetime.date(2024, 6, 30), "started_on": datetime.date(2024, 2, 1), "completed_on": None,
    "status": "in_progress", "progress": 40,
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


def build_template() -> bytes:
    """An XLSX with the two sheets (headers and one example row each) and a sheet of valid codes."""
    import openpyxl  # imported here: the module import stays light

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = AGREEMENTS_SHEET
    milestones = workbook.create_sheet(MILESTONES_SHEET)
    codes = workbook.create_sheet(CODES_SHEET)
    for ws, columns, rows in (
        (sheet, AGREEMENT_COLUMNS, [[AGREEMENT_EXAMPLE[c] for c in AGREEMENT_COLUMNS]]),
        (milestones, MILESTONE_COLUMNS, [[MILESTONE_EXAMPLE[c] for c in MILESTONE_COLUMNS]]),
        (codes, CODES_COLUMNS, _codes_rows()),
    ):
        ws.append(columns)
        for row in rows:
            ws.append(row)
        _format_columns(ws, columns)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
