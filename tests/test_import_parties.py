"""The import's parties sheet (XLSX) or file (CSV, ``--parties``): each party's signatory, own document number,
signing date and DPRD approval, all or nothing, with the agreement's dates following (``agreements.signing``)."""

import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agreements import importers
from agreements.models import Agreement, AgreementParty
from agreements.spreadsheet import AGREEMENT_COLUMNS, PARTY_COLUMNS
from tests.factories import AgreementFactory, PksFactory, UserFactory, region
from tests.test_import import agreement_row, csv_bytes, xlsx

pytestmark = pytest.mark.django_db
D = datetime.date


def party_row(**values) -> list:
    base = {
        "agreement_number": "KB/001/2024", "region_code": "32.73", "signatory_name": "Muhammad Farhan",
        "signatory_position": "Wali Kota Bandung", "document_number": "PEM.04/12", "signed_on": "2024-01-10",
        "dprd_required": "yes", "dprd_approved_on": "2023-12-20", "dprd_decision_number": "12/DPRD/2023",
    }
    base.update(values)
    return [base[c] for c in PARTY_COLUMNS]


def workbook(agreements: list[list], parties: list[list], header=PARTY_COLUMNS) -> bytes:
    return xlsx([AGREEMENT_COLUMNS, *agreements], extra_sheets={"parties": [header, *parties]})


def party(number, code) -> AgreementParty:
    return AgreementParty.objects.get(agreement__number=number, region__code=code)


def test_parties_sheet_creates_agreement_with_each_partys_signing_and_dprd_approval():
    plan = importers.import_files((workbook([agreement_row(signed_on="", dprd_approved_on="")], [
        party_row(),
        party_row(region_code="32.04", signatory_name="Dadang Supriatna", signatory_position="Bupati Bandung",
                  signed_on="15/01/2024", dprd_required="tidak", dprd_approved_on="", dprd_decision_number=""),
    ]), "data.xlsx"))
    assert plan.ok, plan.problems
    assert plan.party_counts.created == 2
    kota, kab = party("KB/001/2024", "32.73"), party("KB/001/2024", "32.04")
    assert (kota.signatory_name, kota.signed_on, kota.dprd_required, kota.dprd_approved_on,
            kota.dprd_decision_number) == ("Muhammad Farhan", D(2024, 1, 10), True, D(2023, 12, 20), "12/DPRD/2023")
    assert (kab.signed_on, kab.dprd_required) == (D(2024, 1, 15), False)
    agreement = Agreement.objects.get(number="KB/001/2024")
    # The last party signed on 15 January; the only approval required is Kota Bandung's.
    assert (agreement.signed_on, agreement.dprd_approved_on) == (D(2024, 1, 15), D(2023, 12, 20))
    assert kota.history.first().history_change_reason == "import"


def test_agreement_dprd_date_given_alone_applies_to_every_party_that_requires_approval():
    agreement = AgreementFactory(number="KB/001/2024", dprd_approved_on=None)
    AgreementParty.objects.filter(agreement=agreement).update(dprd_required=True)
    plan = importers.import_files((xlsx([AGREEMENT_COLUMNS, agreement_row(dprd_approved_on="2024-02-01")]),
                                   "data.xlsx"))
    assert plan.ok, plan.problems
    assert {p.dprd_approved_on for p in AgreementParty.objects.filter(agreement=agreement)} == {D(2024, 2, 1)}


def test_a_date_the_parties_contradict_is_a_problem_on_the_agreements_row():
    plan = importers.import_files((workbook([agreement_row(signed_on="2024-01-05")], [
        party_row(signed_on="2024-01-10"), party_row(region_code="32.04", signed_on="2024-01-12",
                                                     dprd_required="no", dprd_approved_on="", dprd_decision_number=""),
    ]), "data.xlsx"))
    assert not plan.ok
    assert [(p.sheet, p.row, p.column) for p in plan.problems] == [("agreements", 2, "signed_on")]
    assert "12 January 2024" in plan.problems[0].message
    assert not Agreement.objects.exists()


def test_parties_sheet_problems_name_sheet_row_and_column_and_nothing_is_saved():
    AgreementFactory(number="KB/002/2024")
    rows = [
        party_row(dprd_required="perhaps"),                                            # row 2
        party_row(region_code="32.01"),                                                # row 3: not a party
        party_row(agreement_number="KB/404/2024"),                                     # row 4: unknown agreement
        party_row(region_code="99.99"),                                                # row 5: unknown region
        party_row(region_code="32.04", dprd_required="no"),                            # row 6: approval not required
        party_row(agreement_number="KB/002/2024", signed_on="31/02/2024"),             # row 7: not a date
        party_row(agreement_number="KB/002/2024", region_code="32.04",                 # row 8: too long, and a
                  signatory_name="x" * 151, dprd_approved_on=""),                      # number without its date
        party_row(agreement_number="KB/002/2024"),                                     # row 9: twice
    ]
    plan = importers.import_files((workbook([agreement_row()], rows), "data.xlsx"))
    where = {(p.sheet, p.row, p.column) for p in plan.problems}
    assert {("parties", 2, "dprd_required"), ("parties", 3, "region_code"), ("parties", 4, "agreement_number"),
            ("parties", 5, "region_code"), ("parties", 6, "dprd_approved_on"),
            ("parties", 6, "dprd_decision_number"), ("parties", 7, "signed_on"), ("parties", 8, "signatory_name"),
            ("parties", 8, "dprd_approved_on"), ("parties", 9, "region_code")} <= where
    messages = {(p.row, p.column): p.message for p in plan.problems if p.sheet == "parties"}
    assert "neither yes nor no" in messages[(2, "dprd_required")]
    assert "Kabupaten Bogor is not a party" in messages[(3, "region_code")]
    assert "already on row 7" in messages[(9, "region_code")]
    assert "parties, row 3, region_code" in str(next(p for p in plan.problems if p.row == 3))
    assert not Agreement.objects.filter(number="KB/001/2024").exists()
    assert party("KB/002/2024", "32.73").signatory_name == ""


def test_missing_key_column_and_unknown_column_are_reported():
    plan = importers.import_files((workbook([agreement_row()], [["x", "y"]], header=["agreement_number", "warna"]),
                                   "data.xlsx"))
    where = {(p.sheet, p.row, p.column) for p in plan.problems}
    assert ("parties", 1, "region_code") in where and ("parties", 1, "warna") in where


def test_a_party_row_changes_the_dates_of_an_agreement_the_agreements_sheet_does_not_name():
    agreement = AgreementFactory(number="KB/003/2024", signed_on=None)
    AgreementParty.objects.filter(agreement=agreement, region__code="32.04").update(signed_on=D(2024, 3, 1))
    data = xlsx([AGREEMENT_COLUMNS], extra_sheets={"parties": [PARTY_COLUMNS, party_row(
        agreement_number="KB/003/2024", signed_on="2024-03-05", dprd_required="no", dprd_approved_on="",
        dprd_decision_number="")]})
    plan = importers.import_files((data, "data.xlsx"))
    assert plan.ok, plan.problems
    agreement.refresh_from_db()
    assert (agreement.signed_on, agreement.version) == (D(2024, 3, 5), 2)


def test_such_a_change_obeys_the_kb_pks_rules_on_the_parties_row():
    kb = AgreementFactory(number="KB/004/2024", signed_on=D(2024, 3, 10))
    pks = PksFactory(number="PKS/004/2024", parent=kb, signed_on=None)
    AgreementParty.objects.filter(agreement=pks, region__code="32.04").update(signed_on=D(2024, 3, 1))
    data = xlsx([AGREEMENT_COLUMNS], extra_sheets={"parties": [PARTY_COLUMNS, party_row(
        agreement_number="PKS/004/2024", signed_on="2024-03-05", dprd_required="no", dprd_approved_on="",
        dprd_decision_number="")]})
    plan = importers.import_files((data, "data.xlsx"))
    assert [(p.sheet, p.row, p.column) for p in plan.problems] == [("parties", 2, "signed_on")]
    assert party("PKS/004/2024", "32.73").signed_on is None


def test_an_officer_imports_only_their_own_regions_party_rows():
    jabar = UserFactory(username="jabar-imp", role="province", region=region("32"))
    AgreementFactory(number="KB/005/2024", regions=["32", "32.04"])
    rows = [party_row(agreement_number="KB/005/2024", region_code="32", dprd_required="no", dprd_approved_on="",
                      dprd_decision_number=""),
            party_row(agreement_number="KB/005/2024", region_code="32.04", dprd_required="no", dprd_approved_on="",
                      dprd_decision_number="")]
    plan = importers.import_files((xlsx([AGREEMENT_COLUMNS], extra_sheets={"parties": [PARTY_COLUMNS, *rows]}),
                                   "data.xlsx"), user=jabar)
    assert [(p.sheet, p.row, p.column) for p in plan.problems] == [("parties", 3, "region_code")]


def test_parties_csv_file_through_the_command(tmp_path, capsys):
    AgreementFactory(number="KB/001/2024", signed_on=None)
    agreements = tmp_path / "agreements.csv"
    agreements.write_bytes(csv_bytes([AGREEMENT_COLUMNS, agreement_row(signed_on="", dprd_approved_on="")]))
    parties = tmp_path / "parties.csv"
    parties.write_bytes(csv_bytes([PARTY_COLUMNS, party_row(),
                                   party_row(region_code="32.04", dprd_required="", dprd_approved_on="",
                                             dprd_decision_number="", signed_on="2024-01-11")], delimiter=";"))
    call_command("import_agreements", str(agreements), "--parties", str(parties))
    assert "parties: 0 created, 2 updated, 0 unchanged" in capsys.readouterr().out
    assert Agreement.objects.get(number="KB/001/2024").signed_on == D(2024, 1, 11)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([PARTY_COLUMNS, party_row(dprd_required="mungkin")]))
    with pytest.raises(CommandError):
        call_command("import_agreements", str(agreements), "--parties", str(bad))
    assert "bad.csv, row 2, dprd_required" in capsys.readouterr().err


def test_malformed_parties_file_is_refused_not_a_500():
    with pytest.raises(importers.FileRefused):
        importers.import_files((xlsx([AGREEMENT_COLUMNS, agreement_row()]), "a.xlsx"),
                               parties=(b"%PDF-1.4\n%%EOF\n", "parties.csv"))
    with pytest.raises(importers.FileRefused):
        importers.import_files((xlsx([AGREEMENT_COLUMNS, agreement_row()]), "a.xlsx"),
                               parties=(b"agreement_number,region_code\nKB\x00,32.73\n", "parties.csv"))
    huge = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.title = "parties"
    wb.active.append(PARTY_COLUMNS)
    wb.active.append(party_row(signed_on="9999-12-31", dprd_decision_number="9" * 500))
    wb.save(huge)
    plan = importers.import_files((xlsx([AGREEMENT_COLUMNS, agreement_row()]), "a.xlsx"),
                                  parties=(huge.getvalue(), "parties.xlsx"))
    assert ("parties", 2, "dprd_decision_number") in {(p.sheet, p.row, p.column) for p in plan.problems}
    assert not Agreement.objects.exists()


def test_upload_page_previews_and_imports_the_parties_sheet(client):
    from tests.test_import_views import UPLOAD, login, upload

    user = login(client, "ministry")
    response = upload(client, workbook([agreement_row(signed_on="", dprd_approved_on="")], [
        party_row(), party_row(region_code="32.04", signed_on="2024-01-12", dprd_required="no", dprd_approved_on="",
                               dprd_decision_number="")]))
    assert response.status_code == 200
    assert response.context["party_counts"].created == 2
    assert "Regional parties" in response.content.decode()
    assert not Agreement.objects.exists()  # the preview writes nothing
    response = client.post(UPLOAD, {"action": "confirm", "token": response.context["token"]})
    assert response.status_code == 302
    assert party("KB/001/2024", "32.73").history.first().history_user == user
    assert Agreement.objects.get(number="KB/001/2024").signed_on == D(2024, 1, 12)
