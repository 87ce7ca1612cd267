"""Each regional party's signing and DPRD approval: the agreement page's grid (one row per party, one column per
step each party does on its own, so the lagging party shows) and the form where an officer records their own
region's signatory, signing date and DPRD approval (``/agreements/<id>/parties/<region code>/``).

Thin: ``access`` decides (404 outside the user's scope, 403 for another region's row), ``services.party_record``
writes, ``agreements.signing`` holds the rules.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, services, signing
from ..forms import PartyForm
from ..models import Agreement, AgreementParty, AgreementStep, StepPhase
from .officer import _save_versioned

SIGN, DPRD, PKS = "sign", "dprd", "pks"


def _columns(agreement: Agreement) -> list[dict]:
    """The steps each party does on its own: the agreement's per-party steps of the regulated checklist when it has
    them (their titles), else signing the KB or PKS and DPRD approval."""
    columns = []
    for step in AgreementStep.objects.filter(agreement=agreement, per_party=True).order_by("order"):
        if step.phase == StepPhase.DPRD:
            key = DPRD
        elif step.phase == StepPhase.PKS and agreement.document_type == Agreement.DocumentType.KB:
            key = PKS  # a KB's parties sign their PKSs under it
        elif step.phase in (StepPhase.KB, StepPhase.PKS):
            key = SIGN
        else:
            continue  # a per-party step this grid has no date for
        if key not in {c["key"] for c in columns}:
            columns.append({"key": key, "label": step.title})
    if not columns:
        columns = [
            {"key": SIGN, "label": _("Signing of the KB") if agreement.document_type == Agreement.DocumentType.KB
             else _("Signing of the PKS")},
            {"key": DPRD, "label": _("DPRD approval")},
        ]
    return columns


def _pks_signed(agreement: Agreement) -> dict[int, object]:
    """For a KB: region → the first date it signed a PKS under this KB (its own date, else the PKS's)."""
    return dict(
        AgreementParty.objects.filter(agreement__parent=agreement)
        .values("region_id").annotate(first=Min(Coalesce("signed_on", "agreement__signed_on"))).order_by()
        .values_list("region_id", "first")
    )


def party_grid(agreement: Agreement, parties: list[AgreementParty], user) -> dict:
    """The grid's columns and rows. A cell: ``state`` done / pending / lagging (another party has done it) /
    not_required (DPRD) / with_agreement (no date of the party's own, the agreement was signed as a whole), and its
    date. Two or three queries whatever the number of parties."""
    columns = _columns(agreement)
    pks_dates = _pks_signed(agreement) if any(c["key"] == PKS for c in columns) else {}
    for party in parties:
        party.pks_signed_on = pks_dates.get(party.region_id)
    rows, waiting = [], []
    for party in parties:
        cells = []
        for column in columns:
            key = column["key"]
            field = {SIGN: "signed_on", DPRD: "dprd_approved_on", PKS: "pks_signed_on"}[key]
            value = getattr(party, field)
            cell = {"key": key, "label": column["label"], "date": value, "state": "done" if value else "pending"}
            if key == DPRD:
                cell["number"] = party.dprd_decision_number
                if not party.dprd_required:
                    cell["state"] = "not_required"
            if cell["state"] == "pending":
                if key == SIGN and agreement.signed_on and not any(p.signed_on for p in parties):
                    cell["state"], cell["date"] = "with_agreement", agreement.signed_on
                elif signing.is_lagging(party, field, parties):
                    cell["state"] = "lagging"
                    waiting.append({"region": party.region, "step": column["label"]})
            cells.append(cell)
        rows.append({
            "party": party, "cells": cells, "lagging": any(c["state"] == "lagging" for c in cells),
            "can_record": access.may_write_party(user, party),
        })
    return {"party_columns": columns, "party_rows": rows, "party_waiting": waiting,
            "can_record_any": any(row["can_record"] for row in rows)}


@login_required
@require_http_methods(["GET", "POST"])
def party_record(request, pk, code):
    """Record a party's signatory, signing date and DPRD approval ("Catat tanda tangan dan persetujuan DPRD")."""
    agreement = access.get_agreement_for_user(request.user, pk)
    try:
        party = agreement.parties.select_related("region").get(region__code=code)
    except AgreementParty.DoesNotExist as exc:
        raise Http404 from exc
    if not access.may_write_party(request.user, party):
        raise PermissionDenied
    party.agreement = agreement
    current = None
    if request.method == "POST":
        form = PartyForm(request.POST)
        if form.is_valid():
            response, current = _save_versioned(
                request, form,
                lambda: services.party_record(party=party, user=request.user,
                                              expected_version=form.cleaned_data["version"], **form.service_kwargs()),
                success=_("The signing and DPRD approval of %(region)s were recorded.") % {"region": party.region},
                done=agreement.get_absolute_url(),
            )
            if response:
                return response
            if current is not None:
                current = {"agreement": current, "party": AgreementParty.objects.get(pk=party.pk)}
    else:
        form = PartyForm(initial=PartyForm.initial_for(party, agreement))
    return render(request, "agreements/officer/party_form.html", {
        "form": form, "agreement": agreement, "party": party, "current": current,
    })
