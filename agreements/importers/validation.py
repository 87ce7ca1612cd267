"""Planning an import: every row parsed, looked up in bulk, validated and classified, nothing written.

``plan_import(tables, user=...)`` returns an ``ImportPlan``: the problems (all of them, in one pass,
each with its sheet, spreadsheet row and column) or the rows to create, update and leave unchanged.
It runs a fixed number of queries per file: regions, affairs, then the stored agreements, their
parties, third parties, affairs and milestones by chunks of numbers. ``apply.apply_plan`` writes it.
"""

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import amendments as amendment_rules
from .. import signing, stalls
from ..access import may_remove_parties, may_write_parties, may_write_party, readable_region_ids
from ..models import Agreement, AgreementParty, Amendment, GovernmentAffair, Milestone, Region, ThirdParty
from ..spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS
from .plan import AgreementRow, AmendmentRow, ImportPlan, MilestoneRow, PartyRow, _Collector
from .reading import (
    AGREEMENT_HEADERS,
    AGREEMENTS_SHEET,
    AMENDMENT_HEADERS,
    AMENDMENTS_SHEET,
    DATE_COLUMNS,
    IGNORED_HEADERS,
    MILESTONE_HEADERS,
    MILESTONES_SHEET,
    PARTIES_SHEET,
    PARTY_HEADERS,
    Table,
    _is_blank,
    _key,
    code,
    code_list,
    name_list,
    parse_amount,
    parse_date,
    parse_progress,
    parse_yes_no,
    text,
    upper_text,
)

LOOKUP_CHUNK = 900  # below SQLite's historical 999 parameters per query
AGREEMENT_REQUIRED = ["number", "document_type", "title", "cooperation_kind", "affair_codes"]
MILESTONE_REQUIRED = ["agreement_number", "title"]
PARTY_REQUIRED = ["agreement_number", "region_code"]
AMENDMENT_REQUIRED = ["agreement_number", "number", "signed_on"]
# An amendment's values the amendments sheet sets (besides its agreement), and their values when the column is absent.
AMENDMENT_VALUES = ("number", "signed_on", "ends_on", "summary")
AMENDMENT_DEFAULTS = {"ends_on": None, "summary": ""}
# A party's values the parties sheet sets (the keys aside), and how its cells are read.
PARTY_VALUES = ("signatory_name", "signatory_position", "document_number", "signed_on", "dprd_required",
                "dprd_approved_on", "dprd_decision_number")
PARTY_PARSERS = {"region_code": code, "dprd_required": parse_yes_no}
# Columns that are not plain fields of the record: the keys and the relations.
AGREEMENT_RELATIONS = ("number", "parent_number", "region_codes", "third_parties", "affair_codes")
MILESTONE_RELATIONS = ("agreement_number", "title", "responsible_region_code")
AGREEMENT_SCALARS = [c for c in AGREEMENT_COLUMNS if c not in AGREEMENT_RELATIONS]
MILESTONE_SCALARS = [c for c in MILESTONE_COLUMNS if c not in MILESTONE_RELATIONS]
# How each cell is read (``text`` when not listed; every ``..._on`` column is a date).
AGREEMENT_PARSERS = {
    "value_idr": parse_amount, "region_codes": code_list, "affair_codes": code_list, "third_parties": name_list,
    "document_type": upper_text, "cooperation_kind": upper_text,
    "termination_reason": lambda value: text(value).lower(),
}
# Values of a new record whose column is absent from the file.
AGREEMENT_DEFAULTS = {"title": "", "scope": "", "document_type": "", "cooperation_kind": "", "termination_reason": ""}
MILESTONE_DEFAULTS = {"status": Milestone.Status.SCHEDULED, "progress": 0}
MILESTONE_PARSERS = {
    "progress": parse_progress, "responsible_region_code": code,
    "status": lambda value: text(value).lower() or Milestone.Status.SCHEDULED,
}


# ---------------------------------------------------------------------------------------------------------------
# Planning: parse, look up in bulk, validate, classify


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


def plan_import(tables: dict[str, Table], *, user=None, progress=None) -> ImportPlan:
    """Validate everything in one pass with a few queries per file, and classify each row.

    ``user`` None is the command line (no scope limit); otherwise each row obeys the user's write rules, as on
    the pages. ``progress(rows)``, when given, is called with the number of rows checked so far. The tables'
    ``rows`` are consumed (emptied once parsed).
    """
    report = progress or (lambda count: None)
    out = _Collector()
    plan = ImportPlan()
    agreements_table = tables.get(AGREEMENTS_SHEET)
    milestones_table = tables.get(MILESTONES_SHEET)

    a_index = _columns(agreements_table, AGREEMENT_HEADERS, AGREEMENT_REQUIRED, out) if agreements_table else None
    m_index = _columns(milestones_table, MILESTONE_HEADERS, MILESTONE_REQUIRED, out) if milestones_table else None
    a_sheet = agreements_table.name if agreements_table else AGREEMENTS_SHEET
    m_sheet = milestones_table.name if milestones_table else MILESTONES_SHEET
    parties_table = tables.get(PARTIES_SHEET)
    p_index = _columns(parties_table, PARTY_HEADERS, PARTY_REQUIRED, out) if parties_table else None
    p_sheet = parties_table.name if parties_table else PARTIES_SHEET
    amendments_table = tables.get(AMENDMENTS_SHEET)
    am_index = (_columns(amendments_table, AMENDMENT_HEADERS, AMENDMENT_REQUIRED, out)
                if amendments_table else None)
    am_sheet = amendments_table.name if amendments_table else AMENDMENTS_SHEET

    # 1. Parse the cells; the tables' raw rows are released once parsed (a large file's cells would otherwise be
    # held twice while it is checked).
    if a_index is not None:
        plan.agreements = _parse_agreement_rows(agreements_table, a_index, out)
        agreements_table.rows = []
    if m_index is not None:
        plan.milestones = _parse_milestone_rows(milestones_table, m_index, out)
        milestones_table.rows = []
    if p_index is not None:
        plan.parties = _parse_party_rows(parties_table, p_index, out)
        parties_table.rows = []
    if am_index is not None:
        plan.amendments = _parse_amendment_rows(amendments_table, am_index, out)
        amendments_table.rows = []

    # 2. Look everything up in bulk.
    regions = {r.code: r for r in Region.objects.all()}
    regions_by_id = {r.pk: r for r in regions.values()}
    affairs = {a.code: a for a in GovernmentAffair.objects.all()}
    numbers = {r.number for r in plan.agreements} | {r.parent_number for r in plan.agreements if r.parent_number}
    numbers |= {r.agreement_number for r in plan.milestones}
    numbers |= {r.agreement_number for r in plan.parties if r.agreement_number}
    numbers |= {r.agreement_number for r in plan.amendments if r.agreement_number}
    existing = {}
    for chunk in _chunks(numbers):
        existing.update({a.number: a for a in Agreement.objects.filter(number__in=chunk)})
    ids = [a.pk for a in existing.values()]
    parties, third_parties, affair_links, children = defaultdict(set), defaultdict(set), defaultdict(set), set()
    milestones_by_agreement = defaultdict(dict)
    stored_parties = defaultdict(dict)  # agreement id → region id → (pk, *PARTY_VALUES): for the signing rules
    through = Agreement.affairs.through
    for chunk in _chunks(ids):
        for agreement_id, region_id, *values in AgreementParty.objects.filter(agreement_id__in=chunk).values_list(
            "agreement_id", "region_id", "pk", *PARTY_VALUES
        ):
            parties[agreement_id].add(region_id)
            stored_parties[agreement_id][region_id] = tuple(values)
        for agreement_id, name in ThirdParty.objects.filter(agreement_id__in=chunk).values_list("agreement_id", "name"):
            third_parties[agreement_id].add(name)
        for agreement_id, affair_id in through.objects.filter(agreement_id__in=chunk).values_list(
            "agreement_id", "governmentaffair_id"
        ):
            affair_links[agreement_id].add(affair_id)
        children.update(Agreement.objects.filter(parent_id__in=chunk).values_list("parent_id", flat=True))
        for milestone in Milestone.objects.filter(agreement_id__in=chunk):
            milestones_by_agreement[milestone.agreement_id][milestone.title] = milestone
    # Parents of stored PKS the file does not name again: their signing date and parties still bound the PKS's.
    loaded = {a.pk: a for a in existing.values()}
    parent_ids = {a.parent_id for a in existing.values() if a.parent_id and a.parent_id not in loaded}
    for chunk in _chunks(parent_ids):
        loaded.update({a.pk: a for a in Agreement.objects.filter(pk__in=chunk).only("number", "document_type", "signed_on")})
        for agreement_id, region_id in AgreementParty.objects.filter(agreement_id__in=chunk).values_list(
            "agreement_id", "region_id"
        ):
            parties[agreement_id].add(region_id)
    # Stored PKSs under the file's KBs: the KB's rules on them (``Agreement.children_errors``).
    stored_children = defaultdict(dict)  # KB id → {PKS number: (signing date, party region ids)}
    kb_ids = [a.pk for a in existing.values() if a.pk in children]
    for chunk in _chunks(kb_ids):
        for parent_id, number, signed_on in Agreement.objects.filter(parent_id__in=chunk).values_list(
            "parent_id", "number", "signed_on"
        ):
            stored_children[parent_id][number] = (signed_on, set())
        for parent_id, number, region_id in AgreementParty.objects.filter(agreement__parent_id__in=chunk).values_list(
            "agreement__parent_id", "agreement__number", "region_id"
        ):
            stored_children[parent_id][number][1].add(region_id)
    # Each row obeys the write rules of ``user`` (``access``, as on the pages); None is the command line without
    # ``--user``, an administrator's tool without scope.
    writer = user
    # A stored record outside what the user may read is treated as unknown: its values must not leak through the
    # problems the rules would report about it (the pages answer 404 for it).
    readable = readable_region_ids(writer) if writer is not None else None
    hidden = {a.pk for a in loaded.values() if readable is not None and not (parties[a.pk] & readable)}

    # 3. Agreements: validate against the database and the rest of the file.
    checked = 0
    by_number = {}
    for row in plan.agreements:
        if row.number in by_number:
            out.add(a_sheet, row.row, "number", _("The number %(number)s is already on row %(row)s.")
                    % {"number": row.number, "row": by_number[row.number].row})
        else:
            by_number[row.number] = row
    for row in plan.agreements:
        row.existing = existing.get(row.number)
        if row.existing is not None and row.existing.pk in hidden:
            out.add(a_sheet, row.row, "number", WRITE_REFUSED)
            row.blocked = True
            continue
        _resolve_agreement(row, a_sheet, out, regions=regions, affairs=affairs, parties=parties,
                           third_parties=third_parties, affair_links=affair_links)
        checked += 1
        report(checked)
    # 3b. Each party's signing and DPRD approval, and the agreements' dates that follow from them (``signing``): before
    # the parent rules, which read the signing dates after the file.
    _plan_parties(
        plan, out, a_sheet=a_sheet, p_sheet=p_sheet, by_number=by_number, existing=existing, hidden=hidden,
        regions=regions, parties=parties, stored_parties=stored_parties, affair_links=affair_links, writer=writer,
        resolve=lambda row, sheet: _resolve_agreement(
            row, sheet, out, regions=regions, affairs=affairs, parties=parties, third_parties=third_parties,
            affair_links=affair_links),
    )
    for row in plan.agreements:  # parent rules need every row resolved first
        if row.blocked:
            continue
        sheet = row.sheet or a_sheet
        _check_parent(row, sheet, out, existing=existing, by_number=by_number, by_pk=loaded, parties=parties,
                      regions_by_id=regions_by_id, writer=writer, hidden=hidden)
        _check_children(row, sheet, out, stored_children=stored_children, by_number=by_number,
                        regions_by_id=regions_by_id)
        if row.existing is not None:
            row.action = "updated" if row.changed else "unchanged"
        if writer is not None:
            _check_write_rules(row, sheet, out, writer=writer, parties=parties, regions_by_id=regions_by_id)

    # 4. Milestones.
    seen_keys = {}
    for row in plan.milestones:
        checked += 1
        report(checked)
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
        elif db_agreement is not None and db_agreement.pk not in hidden:
            row.agreement_ref = db_agreement
            party_ids = parties[db_agreement.pk]
        else:
            out.add(m_sheet, row.row, "agreement_number",
                    _("Unknown agreement %(number)s: it is neither in the file nor in the register.")
                    % {"number": row.agreement_number})
            continue
        if db_agreement is not None:
            row.existing = milestones_by_agreement[db_agreement.pk].get(row.title)
        _resolve_milestone(row, m_sheet, out, regions=regions, party_ids=party_ids)
        if (writer is not None and file_agreement is None and row.action != "unchanged"
                and not may_write_parties(writer, party_ids)):
            out.add(m_sheet, row.row, "agreement_number",
                    _("You may not change the milestones of this agreement: your region is not one of its parties."))

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

    # 6. Amendments, against the agreements after the file.
    if plan.amendments:
        _plan_amendments(plan, out, am_sheet, by_number=by_number, existing=existing, hidden=hidden, parties=parties,
                         writer=writer)
        checked += len(plan.amendments)
        report(checked)

    plan.problems = sorted(out.problems, key=lambda p: (p.sheet != a_sheet, p.sheet, p.row or 0))
    if progress is not None:
        progress(checked, final=True)
    return plan


def _parse_cells(table: Table, number: int, values: list, index: dict[int, str], parsers, out: _Collector) -> dict:
    """The row's cells read by column; a cell that does not parse is left out and reported."""
    parsed = {}
    for column, raw in _cells(values, index).items():
        parser = parse_date if column in DATE_COLUMNS else parsers.get(column, text)
        try:
            parsed[column] = parser(raw)
        except ValueError as exc:
            out.add(table.name, number, column, exc.args[0])
    return parsed


def _parse_agreement_rows(table: Table, index: dict[int, str], out: _Collector) -> list[AgreementRow]:
    rows = []
    for number, values in table.rows:
        parsed = _parse_cells(table, number, values, index, AGREEMENT_PARSERS, out)
        row = AgreementRow(row=number, number=parsed.pop("number", "") or "", values={})  # blank: clean_fields
        row.parent_number = parsed.pop("parent_number", None) if "parent_number" in index.values() else None
        row.region_codes = parsed.pop("region_codes", []) if "region_codes" in index.values() else None
        row.third_parties = parsed.pop("third_parties", []) if "third_parties" in index.values() else None
        row.affair_codes = parsed.pop("affair_codes", [])
        row.values = {k: v for k, v in parsed.items() if k in AGREEMENT_SCALARS}
        rows.append(row)
    return rows


def _parse_milestone_rows(table: Table, index: dict[int, str], out: _Collector) -> list[MilestoneRow]:
    rows = []
    for number, values in table.rows:
        parsed = _parse_cells(table, number, values, index, MILESTONE_PARSERS, out)
        row = MilestoneRow(row=number, agreement_number=parsed.pop("agreement_number", ""),
                           title=parsed.get("title", ""), values={})
        if not row.agreement_number:
            out.add(table.name, number, "agreement_number", _("The agreement number is required."))
        row.responsible_code = parsed.pop("responsible_region_code", None)
        row.values = {k: v for k, v in parsed.items() if k in MILESTONE_SCALARS}
        rows.append(row)
    return rows

def _parse_party_rows(table: Table, index: dict[int, str], out: _Collector) -> list[PartyRow]:
    rows = []
    for number, values in table.rows:
        parsed = _parse_cells(table, number, values, index, PARTY_PARSERS, out)
        row = PartyRow(row=number, agreement_number=parsed.pop("agreement_number", "") or "",
                       region_code=parsed.pop("region_code", "") or "", values=parsed)
        if not row.agreement_number:
            out.add(table.name, number, "agreement_number", _("The agreement number is required."))
        if not row.region_code:
            out.add(table.name, number, "region_code", _("The region code is required."))
        rows.append(row)
    return rows


def _parse_amendment_rows(table: Table, index: dict[int, str], out: _Collector) -> list[AmendmentRow]:
    rows = []
    for number, values in table.rows:
        parsed = _parse_cells(table, number, values, index, {}, out)
        row = AmendmentRow(row=number, agreement_number=parsed.pop("agreement_number", "") or "",
                           number=parsed.get("number", "") or "", values=parsed)
        if not row.agreement_number:
            out.add(table.name, number, "agreement_number", _("The agreement number is required."))
        rows.append(row)
    return rows


def _amendment_key(number: str, signed_on) -> tuple:
    """An amendment is found by its number; one without a number by its signing date."""
    return ("number", number) if number else ("signed_on", signed_on)


def _plan_amendments(plan, out, sheet, *, by_number, existing, hidden, parties, writer) -> None:
    """Each amendment row against its agreement after the file (in the file or in the register): the key once, the
    dates (``amendments.amendment_errors``: signed, on or after the agreement's signing, not in the future, a new end
    date not before it), the text (``amendments.text_errors``), a summary for a new one, and the write rules."""
    stored = {}
    agreement_ids = [a.pk for a in existing.values() if a.pk not in hidden]
    for chunk in _chunks(agreement_ids):
        for amendment in Amendment.objects.filter(agreement_id__in=chunk):
            stored[(amendment.agreement_id, _amendment_key(amendment.number, amendment.signed_on))] = amendment
    today = stalls.today()
    seen = {}
    for row in plan.amendments:
        if not row.agreement_number:
            continue  # reported when parsed
        file_row, db_row = by_number.get(row.agreement_number), existing.get(row.agreement_number)
        if file_row is not None and file_row.blocked:
            continue  # reported on its agreements row
        if file_row is not None:
            row.agreement_ref = file_row
            agreement_signed_on, party_ids = file_row.final.get("signed_on"), file_row.region_ids
            agreement_id = file_row.existing.pk if file_row.existing is not None else None
        elif db_row is not None and db_row.pk not in hidden:
            row.agreement_ref = db_row
            agreement_signed_on, party_ids, agreement_id = db_row.signed_on, parties[db_row.pk], db_row.pk
        else:
            out.add(sheet, row.row, "agreement_number",
                    _("Unknown agreement %(number)s: it is neither in the file nor in the register.")
                    % {"number": row.agreement_number})
            continue
        if "signed_on" not in row.values:
            continue  # a date that does not parse: already reported on its column
        key = (row.agreement_number, _amendment_key(row.number, row.values["signed_on"]))
        if key in seen:
            out.add(sheet, row.row, "number" if row.number else "signed_on",
                    _("This amendment is already on row %(row)s.") % {"row": seen[key]})
            continue
        seen[key] = row.row
        if agreement_id is not None:
            row.existing = stored.get((agreement_id, _amendment_key(row.number, row.values["signed_on"])))
        current = row.existing
        final = row.final = {
            field: row.values[field] if field in row.values else (
                getattr(current, field) if current is not None else AMENDMENT_DEFAULTS.get(field))
            for field in AMENDMENT_VALUES
        }
        problems = len(out.problems)
        for field, message in amendment_rules.text_errors(number=final["number"], summary=final["summary"]).items():
            out.add(sheet, row.row, field, message)
        if not final["summary"]:
            out.add(sheet, row.row, "summary", _("Say what the amendment changes."))
        for field, message in amendment_rules.amendment_errors(
            signed_on=final["signed_on"], ends_on=final["ends_on"], agreement_signed_on=agreement_signed_on,
            today=today,
        ).items():
            out.add(sheet, row.row, field, message)
        if len(out.problems) > problems:
            continue
        if current is None:
            row.action = "created"
        else:
            row.changed = [f for f in AMENDMENT_VALUES if getattr(current, f) != final[f]]
            row.action = "updated" if row.changed else "unchanged"
        if writer is not None and row.action != "unchanged" and not may_write_parties(writer, party_ids):
            out.add(sheet, row.row, "agreement_number",
                    _("You may not change the amendments of this agreement: your region is not one of its parties."))


def _party_rows_by_agreement(plan, out, p_sheet, *, by_number, existing, hidden, regions) -> dict:
    """The parties sheet's rows, checked against the agreements after the file: number → region id → row."""
    found, seen = defaultdict(dict), {}
    for row in plan.parties:
        if not row.agreement_number or not row.region_code:
            continue
        key = (row.agreement_number, row.region_code)
        if key in seen:
            out.add(p_sheet, row.row, "region_code", _("This party is already on row %(row)s.") % {"row": seen[key]})
            continue
        seen[key] = row.row
        file_row, stored = by_number.get(row.agreement_number), existing.get(row.agreement_number)
        if file_row is not None:
            if file_row.blocked:
                continue  # reported on its agreements row
            region_ids = file_row.region_ids
        elif stored is not None and stored.pk not in hidden:
            region_ids = None
        else:
            out.add(p_sheet, row.row, "agreement_number",
                    _("Unknown agreement %(number)s: it is neither in the file nor in the register.")
                    % {"number": row.agreement_number})
            continue
        region = regions.get(row.region_code)
        if region is None:
            out.add(p_sheet, row.row, "region_code", _("Unknown region code %(code)s.") % {"code": row.region_code})
            continue
        row.region_id = region.pk
        found[row.agreement_number][region.pk] = (row, region_ids)
    return found


def _plan_parties(plan, out, *, a_sheet, p_sheet, by_number, existing, hidden, regions, parties, stored_parties,
                  affair_links, writer, resolve) -> None:
    """The parties sheet's values on the parties after the file, a date given for the whole agreement spread to its
    parties, and the agreement's ``signed_on`` and ``dprd_approved_on`` derived from them: ``signing``'s rules, as
    the pages apply them (``services.sync_signing``). An agreement the agreements sheet does not name but whose
    dates change gets a row of its own (``AgreementRow.sheet``), so the KB/PKS rules and the write rules check it."""
    sheet_rows = _party_rows_by_agreement(plan, out, p_sheet, by_number=by_number, existing=existing, hidden=hidden,
                                          regions=regions)
    affair_codes = {a.pk: a.code for a in GovernmentAffair.objects.all()} if any(
        n not in by_number for n in sheet_rows) else {}
    numbers = [r.number for r in plan.agreements if r.number and not r.blocked and r is by_number.get(r.number)]
    numbers += [n for n in sheet_rows if n not in by_number]
    for number in numbers:
        file_row, stored = by_number.get(number), existing.get(number)
        given = sheet_rows.get(number, {})
        previous = (stored.signed_on, stored.dprd_approved_on) if stored is not None else (None, None)
        region_ids = file_row.region_ids if file_row is not None else parties[stored.pk]
        if file_row is not None and not given and (
            (file_row.final.get("signed_on"), file_row.final.get("dprd_approved_on")) == previous
            and (stored is None or region_ids == parties[stored.pk])
        ):
            continue  # nothing about the parties' dates changes (most rows: no party object built)
        stored_here = stored_parties.get(stored.pk, {}) if stored is not None else {}
        party_objs = {}
        for region_id in region_ids:
            values = stored_here.get(region_id)
            party = AgreementParty(region_id=region_id, **(dict(zip(PARTY_VALUES, values[1:], strict=True))
                                                           if values else {}))
            party.pk = values[0] if values else None
            party_objs[region_id] = party
        before = {rid: [getattr(p, f) for f in PARTY_VALUES] for rid, p in party_objs.items()}
        for region_id, (prow, _ids) in given.items():
            party = party_objs.get(region_id)
            if party is None:
                out.add(p_sheet, prow.row, "region_code",
                        _("%(region)s is not a party of this agreement: list it in region_codes on the agreements "
                          "sheet.") % {"region": regions_by_code_name(regions, prow.region_code)})
                continue
            for field, value in prow.values.items():
                if field in PARTY_VALUES:
                    setattr(party, field, value)
            for field, message in signing.party_errors(party).items():
                out.add(p_sheet, prow.row, field, message)
            try:
                party.clean_fields(exclude=["agreement", "region"])
            except ValidationError as exc:
                out.add_validation(p_sheet, prow.row, exc)
        probe = Agreement(
            signed_on=file_row.final.get("signed_on") if file_row is not None else previous[0],
            dprd_approved_on=file_row.final.get("dprd_approved_on") if file_row is not None else previous[1],
        )
        _changed, errors = signing.apply_to_agreement(
            probe, list(party_objs.values()), previous_signed_on=previous[0], previous_dprd_approved_on=previous[1])
        first_row = min((prow.row for prow, _ids in given.values()), default=None)
        for field, message in errors.items():
            if file_row is not None:
                out.add(a_sheet, file_row.row, field, message)
            else:
                out.add(p_sheet, first_row, field, message)
        for region_id, party in party_objs.items():
            after = [getattr(party, f) for f in PARTY_VALUES]
            prow = given.get(region_id, (None, None))[0]
            changed = [f for f, old, new in zip(PARTY_VALUES, before[region_id], after, strict=True) if old != new]
            if prow is not None:
                prow.changed = changed
                prow.action = "created" if party.pk is None else ("updated" if changed else "unchanged")
                if writer is not None and prow.action != "unchanged" and not may_write_party(writer, party):
                    out.add(p_sheet, prow.row, "region_code",
                            _("You may only record the signing and DPRD approval of your own region."))
            if changed:
                plan.party_writes[(number, region_id)] = {"pk": party.pk, **dict(zip(PARTY_VALUES, after, strict=True))}
                if party.pk is not None:
                    plan.party_agreements[stored.pk] = (stored.version, number)
        if errors:
            continue
        derived = {"signed_on": probe.signed_on, "dprd_approved_on": probe.dprd_approved_on}
        if file_row is not None:
            for field, value in derived.items():
                file_row.final[field] = value
                if file_row.existing is not None:
                    differs = getattr(file_row.existing, field) != value
                    if differs and field not in file_row.changed:
                        file_row.changed.append(field)
                    elif not differs and field in file_row.changed:
                        file_row.changed.remove(field)
        elif (probe.signed_on, probe.dprd_approved_on) != previous:
            implicit = AgreementRow(row=first_row, number=number, values=derived, sheet=p_sheet,
                                    affair_codes=[affair_codes[a] for a in sorted(affair_links[stored.pk])])
            implicit.existing = stored
            resolve(implicit, p_sheet)
            plan.agreements.append(implicit)
            by_number[number] = implicit


def regions_by_code_name(regions: dict, code_: str) -> str:
    region = regions.get(code_)
    return region.name if region is not None else code_


def _final_values(row, fields: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """The record's values after the import: the row's cell, else (column absent) the stored value or the default."""
    current = row.existing
    return {
        field: row.values[field] if field in row.values else (
            getattr(current, field) if current is not None else defaults.get(field))
        for field in fields
    }


def _check_model(probe, exclude: list[str], sheet, row: int, out: _Collector) -> None:
    """The model's own field and record rules (``clean_fields``, ``clean``), reported on the row."""
    try:
        probe.clean_fields(exclude=exclude)
    except ValidationError as exc:
        out.add_validation(sheet, row, exc)
    try:
        probe.clean()
    except ValidationError as exc:
        out.add_validation(sheet, row, exc)


def _known(codes: list[str], known: dict, message: str, *, where: tuple, out: _Collector) -> list:
    """The objects of the known codes, in order; each unknown code is reported at ``where`` (sheet, row, column)."""
    found = []
    for value in codes:
        if value in known:
            found.append(known[value])
        else:
            out.add(*where, message % {"code": value})
    return found


def _resolve_agreement(row: AgreementRow, sheet, out, *, regions, affairs, parties, third_parties, affair_links):
    """Final values, model validation (``clean_fields``, ``clean``, ``clean_relations``) and the change set."""
    current = row.existing
    final = row.final = _final_values(row, AGREEMENT_SCALARS, AGREEMENT_DEFAULTS)

    # Relations: codes → ids; unknown codes reported with the column.
    region_objs = []
    if row.region_codes is not None:
        region_objs = _known(row.region_codes, regions, _("Unknown region code %(code)s."),
                             where=(sheet, row.row, "region_codes"), out=out)
    elif current is not None:
        region_objs = [r for r in regions.values() if r.pk in parties[current.pk]]
    affair_objs = _known(row.affair_codes, affairs, _("Unknown affair code %(code)s."),
                         where=(sheet, row.row, "affair_codes"), out=out)
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
    _check_model(probe, ["parent", "created_by", "updated_by"], sheet, row.row, out)
    if final.get("termination_reason") and not final.get("terminated_on"):
        out.add(sheet, row.row, "termination_reason", _("Give the termination date with its reason."))
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


WRITE_REFUSED = gettext_lazy("You may not change the agreement with this number: your region is not one of its parties.")


def _check_write_rules(row: AgreementRow, sheet, out, *, writer, parties, regions_by_id) -> None:
    """The pages' write rules (``access``) on a row that creates or changes an agreement; a row equal to what is
    stored writes nothing and needs no write right (an officer's own export imports back)."""
    if row.action == "unchanged":
        return
    current = row.existing
    if current is not None and not may_write_parties(writer, parties[current.pk]):
        out.add(sheet, row.row, "number", WRITE_REFUSED)
        return
    if not may_write_parties(writer, row.region_ids):
        out.add(sheet, row.row, "region_codes", _("Your own region (%(region)s) must be one of the parties.")
                % {"region": writer.region})
    if current is not None and row.region_codes is not None:
        removed = parties[current.pk] - row.region_ids
        if removed and not may_remove_parties(writer, signed=current.signed_on is not None):
            out.add(sheet, row.row, "region_codes", _(
                "The agreement is signed: only ministry staff can remove a party (%(names)s)."
            ) % {"names": ", ".join(sorted(regions_by_id[r].name for r in removed))})


def _add_errors(out, sheet, row: int, errors: dict, columns: dict) -> None:
    for field, message in errors.items():
        out.add(sheet, row, columns.get(field, field), message)


def _check_parent(row: AgreementRow, sheet, out, *, existing, by_number, by_pk, parties, regions_by_id, writer,
                  hidden=frozenset()):
    """The PKS's rules on its parent KB, in the file or in the register, with the values after the file:
    ``Agreement.parent_errors`` and ``Agreement.parent_party_errors``, the model's own rules."""
    parent = None  # the parent's row in this file, or the stored Agreement
    columns = {"parent": "parent_number", "regions": "region_codes"}
    if row.parent_number is None:  # column absent: keep the current parent
        if row.existing is not None and row.existing.parent_id:
            row.parent_ref = row.existing.parent_id
            stored = by_pk.get(row.existing.parent_id)
            parent = by_number.get(stored.number, stored) if stored is not None else None
            columns["parent"] = "document_type"
    elif row.parent_number:
        parent = by_number.get(row.parent_number) or existing.get(row.parent_number)
        if isinstance(parent, Agreement) and parent.pk in hidden:
            parent = None  # outside what the user may read: as if it did not exist
        if parent is None:
            out.add(sheet, row.row, "parent_number", _("Unknown parent %(number)s: it is neither in the file nor in "
                                                       "the register.") % {"number": row.parent_number})
            return
        if parent is row or parent is row.existing:
            out.add(sheet, row.row, "parent_number", _("An agreement cannot be its own parent."))
            return
    if parent is not None:
        if isinstance(parent, AgreementRow):
            parent_type, parent_signed, parent_regions = (
                parent.final["document_type"], parent.final["signed_on"], parent.region_ids)
            parent_id = parent.existing.pk if parent.existing is not None else None
        else:
            parent_type, parent_signed, parent_regions = parent.document_type, parent.signed_on, parties[parent.pk]
            parent_id = parent.pk
        probe = Agreement(document_type=row.final["document_type"], signed_on=row.final["signed_on"])
        errors = probe.parent_errors(parent_type, parent_signed)
        if "parent" in errors:
            _add_errors(out, sheet, row.row, errors, columns)
            return
        errors.update(Agreement.parent_party_errors(
            [regions_by_id[r] for r in row.region_ids], [regions_by_id[r] for r in parent_regions]))
        _add_errors(out, sheet, row.row, errors, columns)
        moved = row.existing is None or parent_id is None or parent_id != row.existing.parent_id
        if writer is not None and moved and not may_write_parties(writer, parent_regions):
            out.add(sheet, row.row, "parent_number",
                    _("You may only add a PKS under a KB your region is a party to."))
        if row.parent_number:
            row.parent_ref = parent
    if row.existing is not None:
        old = row.existing.parent_id
        new = row.parent_ref
        new_id = new if isinstance(new, int) else (new.pk if isinstance(new, Agreement) else None)
        if isinstance(new, AgreementRow):
            new_id = new.existing.pk if new.existing is not None else -1
        if old != new_id:
            row.changed.append("parent_number")


def _check_children(row: AgreementRow, sheet, out, *, stored_children, by_number, regions_by_id):
    """The KB's rules on the stored PKSs under it that the file does not name (those it names are checked from
    their own side by ``_check_parent``): ``Agreement.children_errors`` and ``children_party_errors``."""
    if row.existing is None:
        return
    kept = {number: facts for number, facts in stored_children.get(row.existing.pk, {}).items()
            if number not in by_number}
    if not kept:
        return
    probe = Agreement(document_type=row.final["document_type"], signed_on=row.final["signed_on"])
    errors = probe.children_errors(signed_on for signed_on, _regions in kept.values())
    child_regions = [regions_by_id[r] for _signed, region_ids in kept.values() for r in region_ids]
    errors.update(Agreement.children_party_errors([regions_by_id[r] for r in row.region_ids], child_regions))
    _add_errors(out, sheet, row.row, errors, {"regions": "region_codes"})


def _resolve_milestone(row: MilestoneRow, sheet, out, *, regions, party_ids):
    current = row.existing
    final = row.final = _final_values(row, MILESTONE_SCALARS, MILESTONE_DEFAULTS)
    probe = Milestone(title=row.title, **final)
    # No responsible region on the probe: that rule is checked below, in memory.
    _check_model(probe, ["agreement", "responsible_region"], sheet, row.row, out)
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
