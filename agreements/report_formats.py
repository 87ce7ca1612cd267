"""A report laid out once (``layout``: sections of tables with real dates and numbers, and the narratives) and
written three ways: the page (``templates/agreements/reports/``), an XLSX workbook (one sheet per section) and a
PDF for the office's files (ReportLab with the Bitstream Vera font it ships, embedded: no system library).

The data is a report's snapshot or its live figures (``reports.figures``): codes, numbers and ISO dates. Labels
are translated here, in the active language.
"""

import datetime
import io
import os
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from .models import (
    Agreement,
    FollowUp,
    FundingSource,
    GuidanceEvent,
    Milestone,
    NeedOffer,
    Obstacle,
    Recommendation,
    Stage,
    StallReason,
)
from .reports import SECTIONS, STATE_LABELS, TOTAL_KEYS, TOTAL_LABELS


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _dec(value):
    return float(Decimal(value)) if value not in (None, "") else None


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _table(caption, columns, rows) -> dict:
    return {"caption": caption, "columns": [str(c) for c in columns], "rows": rows}


def layout(data: dict, narrative: dict | None = None) -> list[dict]:
    """The sections of a report, in order: ``key``, ``title``, ``narrative`` (the region's text), ``tables``
    (``caption``, ``columns``, ``rows`` of str, int, float, date or None) and, for the stalled section, ``items``
    (each stalled agreement with its own narrative)."""
    narrative = narrative or {}
    texts = narrative.get("sections", {})
    stalled_texts = narrative.get("stalled", {})
    totals = data["totals"]
    consolidation = data.get("consolidation")
    sections = []

    def add(key, tables, **extra):
        sections.append({"key": key, "title": str(dict(SECTIONS)[key]), "narrative": texts.get(key, ""),
                         "tables": tables, **extra})

    if consolidation:
        summary_rows = [[str(TOTAL_LABELS[k]), totals[k], consolidation["totals"][k], data["consolidated_totals"][k]]
                        for k in TOTAL_KEYS]
        summary_columns = [_("Figure"), _("The province"), _("Kabupaten/kota (submitted)"), _("Total")]
    else:
        summary_rows = [[str(TOTAL_LABELS[k]), totals[k]] for k in TOTAL_KEYS]
        summary_columns = [_("Figure"), _("Value")]
    add("summary", [_table(_("Totals"), summary_columns, summary_rows)])

    add("stages", [_table(_("Agreements by stage"), [_("Stage"), _("Agreements")],
                          [[_label(Stage, row["stage"]), row["count"]] for row in data["stages"]])])

    add("changes", [
        _table(_("Signed in the period"), [_("Number"), _("Type"), _("Title"), _("Signing date")],
               [[a["number"], _label(Agreement.DocumentType, a["document_type"]), a["title"], _date(a["signed_on"])]
                for a in data["new"]]),
        _table(_("Ended in the period"), [_("Number"), _("Type"), _("Title"), _("Stage"), _("Ended on")],
               [[a["number"], _label(Agreement.DocumentType, a["document_type"]), a["title"],
                 _label(Stage, a["stage"]), _date(a["ended_on"])] for a in data["ended"]]),
    ])

    items = []
    rows = []
    for a in data["stalled"]:
        reasons = ", ".join(_label(StallReason, r) for r in a["reasons"])
        obstacles = "; ".join(f"{_label(Obstacle.Category, o['category'])}: {o['description']}" for o in a["obstacles"])
        stuck = a.get("stuck_at_title") or a.get("stuck_at") or ""
        text = stalled_texts.get(str(a["id"]), "")
        rows.append([a["number"], a["title"], reasons, a["days_stalled"], stuck, obstacles, text])
        items.append({**a, "reasons_text": reasons, "obstacles_text": obstacles, "stuck_text": stuck,
                      "narrative": text, "obstacle_rows": [
                          {"category": _label(Obstacle.Category, o["category"]), "description": o["description"],
                           "raised_on": _date(o["raised_on"])} for o in a["obstacles"]]})
    add("stalled", [_table(_("Stalled agreements"),
                           [_("Number"), _("Title"), _("Reasons"), _("Days stalled"), _("Stopped at"),
                            _("Open obstacles"), _("What is being done")], rows)], items=items)

    add("milestones", [
        _table(_("Milestones met"), [_("Agreement"), _("Milestone"), _("Due date"), _("Completion date")],
               [[m["agreement"], m["title"], _date(m["due_on"]), _date(m["completed_on"])]
                for m in data["milestones_met"]]),
        _table(_("Milestones missed"), [_("Agreement"), _("Milestone"), _("Due date"), _("Status")],
               [[m["agreement"], m["title"], _date(m["due_on"]), _label(Milestone.Status, m["status"])]
                for m in data["milestones_missed"]]),
    ])

    add("results", [
        _table(_("Outcome indicators"),
               [_("Agreement"), _("Indicator"), _("Unit"), _("Baseline"), _("Target"), _("Target date"),
                _("Latest value"), _("Value at")],
               [[i["agreement"], i["name"], i["unit"], _dec(i["baseline"]), _dec(i["target"]), _date(i["target_on"]),
                 _dec(i["actual"]), _date(i["actual_on"])] for i in data["indicators"]]),
        _table(_("Financing"), [_("Agreement"), _("Fiscal year"), _("Source"), _("Planned (Rp)"), _("Realised (Rp)")],
               [[f["agreement"], f["fiscal_year"], _label(FundingSource, f["source"]), f["planned_idr"],
                 f["realised_idr"]] for f in data["financing"]]),
    ])

    add("evaluations", [_table(
        _("Evaluations"), [_("Agreement"), _("Year"), _("Semester"), _("Recommendation"), _("Average score")],
        [[e["agreement"], e["year"], e["semester"], _label(Recommendation, e["recommendation"]), e["score"]]
         for e in data["evaluations"]])])

    add("support", [
        _table(_("Follow-ups received"), [_("Date"), _("Kind"), _("Agreement"), _("Note")],
               [[_date(f["date"]), _label(FollowUp.Kind, f["kind"]), f["agreement"] or "", f["note"]]
                for f in data["followups"]]),
        _table(_("Guidance events attended"), [_("Date"), _("Kind"), _("Title")],
               [[_date(g["held_on"]), _label(GuidanceEvent.Kind, g["kind"]), g["title"]] for g in data["guidance"]]),
    ])

    add("needs", [_table(_("Needs and offers declared"),
                         [_("Need or offer"), _("Affair"), _("Description"), _("Priority")],
                         [[_label(NeedOffer.Kind, n["kind"]), f"{n['affair']} {n['affair_name']}", n["description"],
                           _label(NeedOffer.Priority, n["priority"])] for n in data["needs"]])])

    if consolidation:
        child_rows = []
        attached = []
        for child in consolidation["children"]:
            t = child.get("totals") or {}
            child_rows.append([child["code"], child["name"], str(STATE_LABELS[child["state"]]),
                               t.get("agreements"), t.get("stalled"),
                               _date(child["submitted_at"][:10]) if child.get("submitted_at") else None])
            for key, text in (child.get("narrative") or {}).get("sections", {}).items():
                attached.append([child["name"], str(dict(SECTIONS).get(key, key)), text])
        add("regions", [
            _table(_("Reports of the kabupaten/kota"),
                   [_("Code"), _("Region"), _("State"), _("Agreements"), _("Stalled"), _("Submitted")], child_rows),
            _table(_("Their narratives"), [_("Region"), _("Section"), _("Narrative")], attached),
        ], missing=consolidation["missing"])
    return sections


# --- XLSX -------------------------------------------------------------------------------------------------------------

DATE_FORMAT = "DD/MM/YYYY"
MONEY_FORMAT = "#,##0"


def _sheet_title(title: str, used: set) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    title = title[:31].strip() or "Sheet"
    base, n = title, 2
    while title in used:
        suffix = f" {n}"
        title = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


def write_xlsx(meta: list[tuple[str, object]], sections: list[dict]) -> bytes:
    """One sheet for the report's facts, then one per section: its tables (headers in bold, real dates and
    numbers) and its narrative."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set = set()

    def cell(sheet, value, bold=False):
        c = WriteOnlyCell(sheet, value=None)
        if isinstance(value, str):
            c.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            c.data_type = "s"  # never a formula
        elif value is not None:
            c.value = value
            if isinstance(value, datetime.date):
                c.number_format = DATE_FORMAT
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
                c.number_format = MONEY_FORMAT
        if bold:
            c.font = Font(bold=True)
        return c

    sheet = workbook.create_sheet(_sheet_title(_("Report"), used))
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 50
    for label, value in meta:
        sheet.append([cell(sheet, str(label), bold=True), cell(sheet, value)])
    for section in sections:
        sheet = workbook.create_sheet(_sheet_title(section["title"], used))
        for index in range(1, 9):
            sheet.column_dimensions[chr(64 + index)].width = 22
        sheet.append([cell(sheet, section["title"], bold=True)])
        for table in section["tables"]:
            sheet.append([])
            sheet.append([cell(sheet, table["caption"], bold=True)])
            sheet.append([cell(sheet, c, bold=True) for c in table["columns"]])
            for row in table["rows"]:
                sheet.append([cell(sheet, v) for v in row])
        if section["narrative"]:
            sheet.append([])
            sheet.append([cell(sheet, _("Narrative"), bold=True)])
            sheet.append([cell(sheet, section["narrative"])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- PDF --------------------------------------------------------------------------------------------------------------

FONT, FONT_BOLD = "KerjasamaVera", "KerjasamaVeraBold"
_font_chars: set[int] = set()


def _register_fonts() -> set[int]:
    """Bitstream Vera (shipped with ReportLab) embedded: Latin-1 plus dashes, curly quotes, the ellipsis and the
    euro; returns the characters it covers."""
    if _font_chars:
        return _font_chars
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    regular = TTFont(FONT, os.path.join(folder, "Vera.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(FONT_BOLD, os.path.join(folder, "VeraBd.ttf")))
    _font_chars.update(regular.face.charToGlyph.keys())
    return _font_chars


def cell_text(value, date_format: str = "SHORT_DATE_FORMAT") -> str:
    """A table cell as a person reads it, on the page and in the PDF: dates as people write them, numbers with the
    active language's separators; None is empty."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return formats.date_format(value, date_format)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return formats.number_format(value, decimal_pos=None, use_l10n=True, force_grouping=True)
    return str(value)


def _pdf_text(value) -> str:
    """A value as PDF paragraph text (``cell_text``), XML escaped, characters the font lacks replaced by "?" (never
    an empty box), line breaks kept."""
    from xml.sax.saxutils import escape

    text = cell_text(value)
    chars = _register_fonts()
    text = "".join(ch if ord(ch) in chars or ch == "\n" else "?" for ch in text)
    return escape(text).replace("\n", "<br/>")


def write_pdf(title: str, meta: list[tuple[str, object]], sections: list[dict]) -> bytes:
    """The report as an A4 PDF: a title, the facts, then each section's narrative and tables (headers repeated
    on every page), page numbers in the footer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    _register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=11.5)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5)
    small_bold = ParagraphStyle("small_bold", parent=small, fontName=FONT_BOLD)
    h1 = ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)
    h3 = ParagraphStyle("h3", parent=base, fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, author="Kerjasama")
    width = doc.width
    story = [Paragraph(_pdf_text(title), h1)]
    facts = LongTable([[Paragraph(_pdf_text(label), small_bold), Paragraph(_pdf_text(value), small)]
                       for label, value in meta], colWidths=[width * 0.3, width * 0.7])
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(facts)
    for section in sections:
        story.append(Paragraph(_pdf_text(section["title"]), h2))
        if section["narrative"]:
            story.append(Paragraph(_pdf_text(section["narrative"]), base))
            story.append(Spacer(1, 4))
        for table in section["tables"]:
            story.append(Paragraph(_pdf_text(table["caption"]), h3))
            if not table["rows"]:
                story.append(Paragraph(_pdf_text(_("None.")), small))
                continue
            data = [[Paragraph(_pdf_text(c), small_bold) for c in table["columns"]]]
            data += [[Paragraph(_pdf_text(v), small) for v in row] for row in table["rows"]]
            t = LongTable(data, colWidths=[width / len(table["columns"])] * len(table["columns"]), repeatRows=1)
            t.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]))
            story.append(t)

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawString(15 * mm, 8 * mm, _pdf_text(title).replace("<br/>", " ")[:120])
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, str(document.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
