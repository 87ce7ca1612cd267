"""Each regional party signs, and where required has its DPRD approve, on its own date.

UU 23/2014 pasal 363(3): a cooperation that burdens the public and the region, and/or is not budgeted in the current
APBD, needs the approval of the DPRD, and each region's DPRD approves for its own region. So each
``AgreementParty`` carries its own signing date and, when ``dprd_required``, its approval's date and decision number.

The agreement keeps the two dates the stall rules and the lists read (``Agreement.signed_on``,
``Agreement.dprd_approved_on``), derived from the parties:

- once every regional party's signing date is recorded, the agreement's ``signed_on`` is the latest of them; while
  some are missing it is left as it is (an agreement signed as a whole, or not yet signed);
- once every party that requires DPRD approval has its approval's date, the agreement's ``dprd_approved_on`` is the
  latest of them; while some are missing, or when no party requires approval, it is left as it is.

A date given for the whole agreement (the sign form, the agreement form, the import's ``agreements`` sheet, admin)
goes to every party that has no date of its own yet and to every party that had the agreement's previous date (they
signed together, and move together); for DPRD approval, to the parties that require it. A party whose own date
differs keeps it; if the parties' dates then say something else than the date given, the date given is refused.

Pure functions on objects with the party's attributes (``AgreementParty`` instances, saved or not): the services,
the importer and admin call them, so every door applies the same rule.
"""

import datetime

from django.utils import formats
from django.utils.translation import gettext as _

# "No date can be derived from the parties: leave the agreement's as it is."
KEEP = object()


def party_errors(party) -> dict:
    """The rules on one party's DPRD fields: an approval only where one is required; a decision number only with
    its approval's date."""
    errors = {}
    if not party.dprd_required:
        if party.dprd_approved_on:
            errors["dprd_approved_on"] = _("An approval date is recorded only when DPRD approval is required.")
        if (party.dprd_decision_number or "").strip():
            errors["dprd_decision_number"] = _(
                "A decision number is recorded only when DPRD approval is required.")
    elif (party.dprd_decision_number or "").strip() and not party.dprd_approved_on:
        errors["dprd_approved_on"] = _("Give the date of the DPRD approval with its decision number.")
    return errors


def latest_signed_on(parties):
    """The latest party's signing date once every party's is recorded, else ``KEEP``."""
    parties = list(parties)
    if parties and all(p.signed_on for p in parties):
        return max(p.signed_on for p in parties)
    return KEEP


def latest_dprd_approved_on(parties):
    """The latest approval once every party that requires DPRD approval has one, else ``KEEP``."""
    required = [p for p in parties if p.dprd_required]
    if required and all(p.dprd_approved_on for p in required):
        return max(p.dprd_approved_on for p in required)
    return KEEP


def spread(parties, field: str, new, previous, *, only=None) -> list:
    """Give a date set for the whole agreement (``new``, was ``previous``) to the parties without a date of their
    own and to those that had ``previous``; nothing when it did not change. Returns the parties changed."""
    if new == previous:
        return []
    changed = []
    for party in parties:
        if only is not None and not only(party):
            continue
        if getattr(party, field) is None or getattr(party, field) == previous:
            if getattr(party, field) != new:
                setattr(party, field, new)
                changed.append(party)
    return changed


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def apply_to_agreement(agreement, parties, *, previous_signed_on, previous_dprd_approved_on) -> tuple[list, dict]:
    """The agreement's dates and the parties' made to agree, in memory.

    ``agreement.signed_on`` / ``dprd_approved_on`` hold the values given for the whole agreement (``previous_*``
    what they were before; equal when nothing was given): they are spread to the parties (``spread``), then the dates
    derived from the parties replace them. Returns the parties changed and the errors (field → message) where a
    date given contradicts the parties' own dates.
    """
    parties = list(parties)
    changed = spread(parties, "signed_on", agreement.signed_on, previous_signed_on)
    for party in spread(parties, "dprd_approved_on", agreement.dprd_approved_on, previous_dprd_approved_on,
                        only=lambda p: p.dprd_required):
        if party not in changed:
            changed.append(party)
    errors = {}
    derived = latest_signed_on(parties)
    if derived is not KEEP and derived != agreement.signed_on:
        if agreement.signed_on != previous_signed_on:
            errors["signed_on"] = _(
                "Every party's own signing date is recorded and the last party signed on %(date)s: the agreement "
                "is signed when its last party signs. Correct the parties' dates instead."
            ) % {"date": _date(derived)}
        else:
            agreement.signed_on = derived
    derived = latest_dprd_approved_on(parties)
    if derived is not KEEP and derived != agreement.dprd_approved_on:
        if agreement.dprd_approved_on != previous_dprd_approved_on:
            errors["dprd_approved_on"] = _(
                "Every party that requires DPRD approval has its own approval date and the last is %(date)s: the "
                "agreement's DPRD approval is the last of them. Correct the parties' dates instead."
            ) % {"date": _date(derived)}
        else:
            agreement.dprd_approved_on = derived
    return changed, errors


def is_lagging(party, field: str, parties) -> bool:
    """A party is lagging on a step when another party has done it and this one has not (for DPRD approval, among
    the parties that require it)."""
    if field == "dprd_approved_on":
        if not party.dprd_required:
            return False
        parties = [p for p in parties if p.dprd_required]
    return getattr(party, field) is None and any(getattr(p, field) is not None for p in parties)
