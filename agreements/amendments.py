"""Amendments (adendum) and renewals (perpanjangan): the values in force, the rules every door applies, and the
agreement page's tree of the chain KB → PKS → amendments and renewals.

Reads only; the writes are ``services.amendment_create`` and ``services.agreement_create(renews=...)``, the import
(``importers``) and Django admin, which all check ``amendment_errors``.

The values in force as of a date D: for each of the end date, the scope and the value, the new value of the latest
amendment signed on or before D that sets it (latest by signing date, then by the order it was recorded), else the
agreement's own. The agreement keeps its original values; the amendments say what changed and when. The stall rules
compute the end date in force in SQL by the same rule (``stalls``).
"""

import dataclasses
import datetime

from django.utils.translation import gettext as _

from .models import Agreement, Amendment

# What an amendment's text fields may hold (the pages' forms and the import check them).
SUMMARY_MAX = 4000
SCOPE_MAX = 10000
# "Perpanjang" is offered on a signed agreement whose end date in force is at most this many days away (or past).
RENEW_WINDOW_DAYS = 90
# The earliest date an amendment may carry (as the as-of dates of the register).
DATE_MIN = datetime.date(1900, 1, 1)


@dataclasses.dataclass
class InForce:
    """An agreement's end date, scope and value in force as of a date, and the amendment that set each (None: the
    agreement's own value)."""

    ends_on: datetime.date | None
    scope: str
    value_idr: int | None
    ends_on_by: Amendment | None = None
    scope_by: Amendment | None = None
    value_by: Amendment | None = None

    @property
    def amended(self) -> bool:
        return any((self.ends_on_by, self.scope_by, self.value_by))


def ordered(amendments) -> list[Amendment]:
    """Oldest first: by signing date, then by the order they were recorded."""
    return sorted(amendments, key=lambda a: (a.signed_on, a.pk or 0))


def in_force(agreement: Agreement, amendments, as_of: datetime.date) -> InForce:
    """The values in force as of ``as_of``, from ``amendments`` (the agreement's, already loaded: no query)."""
    result = InForce(ends_on=agreement.ends_on, scope=agreement.scope, value_idr=agreement.value_idr)
    for amendment in ordered(amendments):
        if amendment.signed_on > as_of:
            break
        if amendment.ends_on is not None:
            result.ends_on, result.ends_on_by = amendment.ends_on, amendment
        if amendment.scope:
            result.scope, result.scope_by = amendment.scope, amendment
        if amendment.value_idr is not None:
            result.value_idr, result.value_by = amendment.value_idr, amendment
    return result


def changes(amendment: Amendment) -> list[str]:
    """What an amendment changes, in words, for the page: the new end date, the new scope, the new value."""
    from django.utils import formats

    from .templatetags.kerjasama import rupiah

    said = []
    if amendment.ends_on is not None:
        said.append(_("end date to %(date)s") % {"date": formats.date_format(amendment.ends_on, "DATE_FORMAT")})
    if amendment.scope:
        said.append(_("the scope"))
    if amendment.value_idr is not None:
        said.append(_("value to %(value)s") % {"value": rupiah(amendment.value_idr)})
    return said


def amendment_errors(*, signed_on, ends_on, agreement_signed_on, today: datetime.date) -> dict[str, str]:
    """The rules on an amendment's dates, by field: the pages, the import and Django admin apply these.

    An amendment is signed (its date required, not in the future, not before 1900), amends a signed agreement, on
    or after the agreement's signing, and a new end date is not before the amendment's own signing.
    """
    errors = {}
    if signed_on is None:
        errors["signed_on"] = _("Enter the date the amendment was signed.")
    elif signed_on > today:
        errors["signed_on"] = _("This date is in the future.")
    elif signed_on < DATE_MIN:
        errors["signed_on"] = _("Enter a date from 1 January 1900.")
    elif agreement_signed_on is None:
        errors["signed_on"] = _("The agreement is not signed: only a signed agreement can be amended.")
    elif signed_on < agreement_signed_on:
        errors["signed_on"] = _("An amendment cannot be signed before the agreement it amends.")
    if ends_on is not None and signed_on is not None and ends_on < signed_on:
        errors["ends_on"] = _("The new end date cannot be before the amendment's signing date.")
    elif ends_on is not None and ends_on < DATE_MIN:
        errors["ends_on"] = _("Enter a date from 1 January 1900.")
    return errors


def text_errors(**values) -> dict[str, str]:
    """Text that cannot be stored: a NUL character (PostgreSQL refuses it) or more than the field may hold."""
    limits = {"number": Amendment._meta.get_field("number").max_length, "summary": SUMMARY_MAX, "scope": SCOPE_MAX}
    errors = {}
    for field, value in values.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            errors[field] = _("Remove the NUL character from this text.")
        elif field in limits and len(value) > limits[field]:
            errors[field] = _("Keep this text under %(max)s characters.") % {"max": limits[field]}
    return errors


# --- renewals -----------------------------------------------------------------------------------------------------


def may_offer_renewal(agreement: Agreement, ends_on_in_force: datetime.date | None, today: datetime.date,
                      has_successor: bool) -> bool:
    """Whether the page offers "Perpanjang": a signed agreement, not terminated and not renewed yet, whose end date in
    force is within ``RENEW_WINDOW_DAYS`` days or past. The service accepts a renewal of any signed agreement not
    renewed yet (an officer may prepare it earlier by the URL); the page offers it when it is due."""
    if agreement.signed_on is None or agreement.terminated_on is not None or has_successor:
        return False
    return ends_on_in_force is not None and ends_on_in_force <= today + datetime.timedelta(days=RENEW_WINDOW_DAYS)


def renewal_errors(renewed: Agreement, *, document_type: str) -> dict[str, str]:
    """The rules on a successor: it renews a signed agreement not renewed yet, and is of the same document type."""
    if renewed.signed_on is None:
        return {"renews": _("Only a signed agreement can be renewed.")}
    successor = renewed.renewals.only("number").first()
    if successor is not None:
        return {"renews": _("This agreement is already renewed by %(number)s.") % {"number": successor.number}}
    if document_type != renewed.document_type:
        return {"document_type": _("A renewal is of the same document type as the agreement it renews (%(type)s).")
                % {"type": renewed.document_type}}
    return {}


def successor_of(kb: Agreement) -> Agreement | None:
    """The newest renewal of ``kb`` (following the chain: a successor renewed in turn gives its own successor), where
    new PKSs go; None when it was not renewed. One query per renewal in the chain (chains are short)."""
    current, seen = kb, {kb.pk}
    while True:
        successor = Agreement.objects.filter(renews=current).order_by("pk").first()
        if successor is None or successor.pk in seen:
            return None if current is kb else current
        seen.add(successor.pk)
        current = successor


# --- the tree of the chain, for the agreement page ----------------------------------------------------------------


@dataclasses.dataclass
class Node:
    """One agreement of the tree: itself, its amendments, the agreement it renews and those renewing it (visible to
    the user), and, for a KB, its PKSs as nodes."""

    agreement: Agreement
    amendments: list = dataclasses.field(default_factory=list)
    renews: Agreement | None = None
    renewed_by: list = dataclasses.field(default_factory=list)
    children: list = dataclasses.field(default_factory=list)
    current: bool = False


def chain_tree(agreement: Agreement, *, kb: Agreement | None, children: list, visible) -> Node:
    """The tree shown on the agreement page: the KB (the agreement itself, or the PKS's KB when ``kb`` is given and
    visible), its PKSs (``children``, visible ones, already loaded), each one's amendments and renewals. ``visible``:
    a function giving the queryset of agreements the user may read. A fixed number of queries, whatever the number of
    PKSs, amendments or renewals."""
    root_agreement = kb if kb is not None else agreement
    pks_list = children if kb is None else list(visible(Agreement.objects.filter(parent=kb)).order_by(
        "signed_on", "number"))
    nodes = [Node(root_agreement, current=root_agreement.pk == agreement.pk)]
    nodes += [Node(child, current=child.pk == agreement.pk) for child in pks_list]
    by_id = {node.agreement.pk: node for node in nodes}
    for amendment in Amendment.objects.filter(agreement_id__in=by_id).select_related("document").order_by(
            "signed_on", "pk"):
        by_id[amendment.agreement_id].amendments.append(amendment)
    renews_ids = {node.agreement.renews_id for node in nodes if node.agreement.renews_id}
    linked = Agreement.objects.filter(pk__in=renews_ids) | Agreement.objects.filter(renews_id__in=by_id)
    fields = ("pk", "number", "title", "signed_on", "created_at", "renews_id", "document_type")
    for other in visible(linked.only(*fields)).order_by("pk"):
        if other.pk in renews_ids:
            for node in nodes:
                if node.agreement.renews_id == other.pk:
                    node.renews = other
        if other.renews_id in by_id:
            by_id[other.renews_id].renewed_by.append(other)
    root = nodes[0]
    root.children = nodes[1:] if root_agreement.document_type == Agreement.DocumentType.KB else []
    return root


def current_node(root: Node) -> Node:
    """The node of the page's own agreement (always in the tree: the root, or one of the KB's PKSs)."""
    return next((node for node in (root, *root.children) if node.current), root)
