"""What an import would do: the problems found, and each row with its action (created, updated, unchanged).

``validation.plan_import`` builds an ``ImportPlan``; ``apply.apply_plan`` writes it; the command and
the upload page show its problems and counts.
"""

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import Agreement, Milestone

# Model field → column, for the messages of the model's own clean().
FIELD_COLUMN = {"parent": "parent_number", "regions": "region_codes", "affairs": "affair_codes",
                "responsible_region": "responsible_region_code", "__all__": ""}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem, located the way a spreadsheet user finds it."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self):
        where = self.sheet if self.row is None else _("%(sheet)s, row %(row)s") % {"sheet": self.sheet, "row": self.row}
        if self.column:
            where = f"{where}, {self.column}"
        return f"{where}: {self.message}"



@dataclasses.dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# One shared empty set: a file of 50,000 rows would otherwise hold six empty sets per row (about 60 MB).
NO_IDS: frozenset = frozenset()


@dataclasses.dataclass(slots=True)
class AgreementRow:
    row: int
    number: str
    values: dict[str, Any]
    parent_number: str | None = None  # None: column absent
    region_codes: list[str] | None = None
    third_parties: list[str] | None = None
    affair_codes: list[str] = dataclasses.field(default_factory=list)
    existing: Agreement | None = None
    action: str = ""  # created | updated | unchanged
    changed: list[str] = dataclasses.field(default_factory=list)
    final: dict[str, Any] = dataclasses.field(default_factory=dict)
    parent_ref: Any = None  # an Agreement (database) or an AgreementRow (this file), or None
    region_ids: frozenset | set = NO_IDS
    third_party_names: frozenset | set = NO_IDS
    affair_ids: frozenset | set = NO_IDS
    old_region_ids: frozenset | set = NO_IDS
    old_third_party_names: frozenset | set = NO_IDS
    old_affair_ids: frozenset | set = NO_IDS
    obj: Agreement | None = None
    blocked: bool = False  # a stored agreement the user may not read: refused, nothing else checked
    # Set for an agreement the agreements sheet does not name whose dates the parties sheet changes: the sheet its
    # problems are reported on (``parties``, on the row of its first party).
    sheet: str = ""


@dataclasses.dataclass(slots=True)
class MilestoneRow:
    row: int
    agreement_number: str
    title: str
    values: dict[str, Any]
    responsible_code: str | None = None  # None: column absent
    existing: Milestone | None = None
    action: str = ""
    changed: list[str] = dataclasses.field(default_factory=list)
    final: dict[str, Any] = dataclasses.field(default_factory=dict)
    agreement_ref: Any = None  # Agreement or AgreementRow
    obj: Milestone | None = None


@dataclasses.dataclass(slots=True)
class PartyRow:
    """A row of the parties sheet: one regional party of an agreement, keyed by the agreement's number and the
    region's code."""

    row: int
    agreement_number: str
    region_code: str
    values: dict[str, Any]
    region_id: int | None = None
    action: str = ""  # created (a party the agreements sheet adds) | updated | unchanged
    changed: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class AmendmentRow:
    """A row of the amendments sheet: one amendment (adendum) of an agreement, keyed by the agreement's number and the
    amendment's own number (without a number: by its signing date)."""

    row: int
    agreement_number: str
    number: str
    values: dict[str, Any]
    existing: Any = None  # the stored Amendment
    action: str = ""  # created | updated | unchanged
    changed: list[str] = dataclasses.field(default_factory=list)
    final: dict[str, Any] = dataclasses.field(default_factory=dict)
    agreement_ref: Any = None  # Agreement or AgreementRow
    obj: Any = None


@dataclasses.dataclass
class ImportPlan:
    """What an import would do: problems, or the rows to create, update and leave unchanged."""

    problems: list[Problem] = dataclasses.field(default_factory=list)
    agreements: list[AgreementRow] = dataclasses.field(default_factory=list)
    milestones: list[MilestoneRow] = dataclasses.field(default_factory=list)
    parties: list[PartyRow] = dataclasses.field(default_factory=list)
    amendments: list[AmendmentRow] = dataclasses.field(default_factory=list)
    # (agreement number, region id) → the party's values to write (the parties sheet's, and the dates a date given
    # for the whole agreement spreads): for a party created with its agreement or added to it, and a stored one
    # whose values change (``pk`` given).
    party_writes: dict = dataclasses.field(default_factory=dict)
    # Stored agreements whose stored parties change: id → (version read, number), claimed like updated rows.
    party_agreements: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self, rows) -> Counts:
        counts = Counts()
        for row in rows:
            setattr(counts, row.action, getattr(counts, row.action) + 1)
        return counts

    @property
    def agreement_counts(self) -> Counts:
        return self.counts(self.agreements)

    @property
    def milestone_counts(self) -> Counts:
        return self.counts(self.milestones)

    @property
    def party_counts(self) -> Counts:
        return self.counts(self.parties)

    @property
    def amendment_counts(self) -> Counts:
        return self.counts(self.amendments)


class _Collector:
    """Gathers every problem of a file, so that one pass reports them all."""

    def __init__(self):
        self.problems: list[Problem] = []

    def add(self, sheet, row, column, message):
        self.problems.append(Problem(sheet, row, column, str(message)))

    def add_validation(self, sheet, row, error: ValidationError, default_column=""):
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for message in errors:
                    for text_ in message.messages:
                        self.add(sheet, row, FIELD_COLUMN.get(field, field), text_)
        else:
            for text_ in error.messages:
                self.add(sheet, row, default_column, text_)
