"""The spreadsheet contract shared by the import and the export: column names and the formula guard."""

# Import template columns, in order. The export writes these first, then the read-only ones.
AGREEMENT_COLUMNS = [
    "number", "document_type", "parent_number", "title", "cooperation_kind", "region_codes", "third_parties",
    "affair_codes", "signed_on", "dprd_approved_on", "starts_on", "ends_on", "terminated_on", "termination_reason",
    "value_idr", "scope",
]
MILESTONE_COLUMNS = [
    "agreement_number", "title", "responsible_region_code", "due_on", "started_on", "completed_on", "status",
    "progress",
]
# One row per regional party (the sheet ``parties``, or a CSV file of its own): its signatory, its own document
# number, the date it signed and its DPRD approval, keyed by the agreement's number and the party's region code.
PARTY_COLUMNS = [
    "agreement_number", "region_code", "signatory_name", "signatory_position", "document_number", "signed_on",
    "dprd_required", "dprd_approved_on", "dprd_decision_number",
]
# One row per amendment (adendum; the sheet ``amendments``, or a CSV file of its own), keyed by the agreement's number
# and the amendment's own number (an amendment without a number: by its signing date).
AMENDMENT_COLUMNS = ["agreement_number", "number", "signed_on", "ends_on", "summary"]
YES, NO = "yes", "no"
# Read-only columns the export adds after the template's; the import ignores them.
EXPORT_EXTRA_COLUMNS = ["stage", "stall_reasons", "days_stalled"]

LIST_SEPARATOR = ";"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(value: str) -> str:
    """CSV: a cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unguard_formula(value: str) -> str:
    """Import: strip the export's apostrophe before ``=``, ``+``, ``-``, ``@``, tab or carriage return."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
