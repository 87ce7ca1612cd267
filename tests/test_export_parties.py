"""The parties in the exports: the sheet ``parties`` of ``export.xlsx`` (so an export imports back, parties
included), the CSV of parties beside the CSV export, and the import template's parties sheet."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from agreements import importers
from agreements.models import Agreement, AgreementParty
from agreements.spreadsheet import PARTY_COLUMNS
from tests.factories import AgreementFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def signed(db):
    agreement = AgreementFactory(number="KB/010/2024", signed_on=D(2024, 3, 9), dprd_approved_on=D(2024, 2, 1))
    AgreementParty.objects.filter(agreement=agreement, region__code="32.73").update(
        signatory_name="Muhammad Farhan", signatory_position="Wali Kota Bandung", signed_on=D(2024, 3, 1),
        dprd_required=True, dprd_approved_on=D(2024, 2, 1), dprd_decision_number="=12/DPRD/2024")
    AgreementParty.objects.filter(agreement=agreement, region__code="32.04").update(signed_on=D(2024, 3, 9))
    return agreement


def test_xlsx_export_has_the_parties_sheet_and_imports_back_unchanged(client, staff, signed):
    client.force_login(staff)
    response = client.get(reverse("agreement-export", args=["xlsx"]))
    data = b"".join(response.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames == ["agreements", "parties", "amendments"]
    rows = [list(r) for r in workbook["parties"].iter_rows(values_only=True)]
    assert rows[0] == PARTY_COLUMNS
    assert rows[1][:7] == ["KB/010/2024", "32.04", None, None, "KB/010/2024/32.04", "2024-03-09", "no"]
    assert rows[2][:9] == ["KB/010/2024", "32.73", "Muhammad Farhan", "Wali Kota Bandung", "KB/010/2024/32.73",
                           "2024-03-01", "yes", "2024-02-01", "=12/DPRD/2024"]
    plan = importers.import_files((data, "export.xlsx"), dry_run=True)
    assert plan.ok, plan.problems
    assert (plan.agreement_counts.unchanged, plan.party_counts.unchanged, plan.party_counts.updated) == (1, 2, 0)
    # Edited and imported back: the later signing of Kabupaten Bandung moves the agreement's date.
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["parties"]["F2"] = "2024-03-20"
    edited = io.BytesIO()
    book.save(edited)
    plan = importers.import_files((edited.getvalue(), "export.xlsx"))
    assert plan.ok, plan.problems
    assert Agreement.objects.get(pk=signed.pk).signed_on == D(2024, 3, 20)


def test_parties_csv_beside_the_csv_export_is_guarded_and_imports_back(client, staff, signed):
    client.force_login(staff)
    response = client.get(reverse("agreement-party-export") + "?sep=semicolon")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == PARTY_COLUMNS and len(rows) == 3
    assert rows[2][8] == "'=12/DPRD/2024"  # formula guard
    agreements = b"".join(client.get(reverse("agreement-export", args=["csv"])).streaming_content)
    plan = importers.import_files((agreements, "a.csv"), parties=(text.encode(), "p.csv"), dry_run=True)
    assert plan.ok, plan.problems
    assert plan.party_counts.unchanged == 2


def test_parties_csv_follows_the_list_filter_and_scope(client, personas, signed):
    AgreementFactory(number="KB/011/2024", regions=["35.78", "35.15"])
    client.force_login(personas["local_in"])
    text = b"".join(client.get(reverse("agreement-party-export")).streaming_content).decode("utf-8-sig")
    assert "KB/010/2024" in text and "KB/011/2024" not in text
    text = b"".join(client.get(reverse("agreement-party-export") + "?q=tidak-ada-yang-cocok")
                    .streaming_content).decode("utf-8-sig")
    assert text.strip().splitlines() == [",".join(PARTY_COLUMNS)]


@pytest.mark.parametrize("query", ["?as_of=9999-99-99", "?region=%00", "?page=-1&sort=%ff", "?q=" + "x" * 5000])
def test_parties_csv_hostile_parameters_are_never_a_500(client, staff, signed, query):
    client.force_login(staff)
    assert client.get(reverse("agreement-party-export") + query).status_code in (200, 400)


def test_import_template_has_the_parties_sheet_with_example_and_list(client, staff):
    client.force_login(staff)
    data = client.get(reverse("import-template")).content
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert "parties" in workbook.sheetnames
    sheet = workbook["parties"]
    assert [c.value for c in sheet[1]] == PARTY_COLUMNS
    assert sheet["A2"].value.startswith("#")
    assert any("yes,no" in (v.formula1 or "") for v in sheet.data_validations.dataValidation)
    assert "parties" in " ".join(str(c.value) for c in workbook["instructions"]["A"])
    assert importers.import_files((data, "template.xlsx"), dry_run=True).ok  # the example row is a note


def test_readable_workbook_has_a_sheet_of_parties_in_words_and_dates(client, staff, signed):
    lagging = AgreementFactory(number="KB/012/2024", signed_on=None)
    AgreementParty.objects.filter(agreement=lagging, region__code="32.73").update(signed_on=D(2024, 5, 1))
    client.force_login(staff)
    response = client.get(reverse("agreement-workbook"))
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Agreements", "Parties"]
    sheet = workbook["Parties"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)]
    kota = next(r for r in rows if r["Number"] == "KB/010/2024" and r["Region"] == "Kota Bandung")
    assert kota["Date this party signed"] == datetime.datetime(2024, 3, 1)
    assert (kota["DPRD approval required"], kota["DPRD decision number"]) == ("Yes", "=12/DPRD/2024")
    assert sheet.cell(2, header.index("Date this party signed") + 1).number_format == "DD/MM/YYYY"
    waiting = {(r["Number"], r["Region"]): r["Others are waiting"] for r in rows}
    assert waiting[("KB/012/2024", "Kabupaten Bandung")] == "Yes"
    assert waiting[("KB/012/2024", "Kota Bandung")] == "No"
