"""The import's amendments sheet (XLSX) or file (CSV, ``--amendments``): each amendment (adendum) of an agreement, keyed
by the agreement's number and its own number, its dates checked as on the pages, all or nothing; the export writes the
sheet so that it imports back unchanged."""

import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from agreements import importers, stalls
from agreements.models import Agreement, Amendment
from agreements.spreadsheet import AGREEMENT_COLUMNS, AMENDMENT_COLUMNS
from tests.factories import AgreementFactory, UserFactory, region
from tests.test_import import agreement_row, csv_bytes, xlsx

pytestmark = pytest.mark.django_db
D = datetime.date


def amendment_row(**values) -> list:
    base = {"agreement_number": "KB/001/2024", "number": "1/ADD/2025", "signed_on": "2025-03-01",
            "ends_on": "2031-01-31", "summary": "Jangka waktu diperpanjang dua tahun."}
    base.update(values)
    return [base[c] for c in AMENDMENT_COLUMNS]


def workbook(amendments: list[list], agreements: list[list] = (), header=AMENDMENT_COLUMNS) -> bytes:
    return xlsx([AGREEMENT_COLUMNS, *agreements], extra_sheets={"amendments": [header, *amendments]})


def run(data, *, user=None, dry_run=False):
    return importers.import_files((data, "data.xlsx"), user=user, dry_run=dry_run)


def where(plan):
    return [(p.sheet, p.row, p.column) for p in plan.problems]


def test_amendments_sheet_creates_amendments_of_agreements_in_the_file_and_the_register():
    AgreementFactory(number="KB/002/2024", signed_on=D(2024, 1, 15), ends_on=D(2026, 1, 31))
    plan = run(workbook([amendment_row(), amendment_row(agreement_number="KB/002/2024", number="", ends_on="",
                                                        summary="Nilai kerja sama ditambah.")],
                        [agreement_row()]))
    assert plan.ok, plan.problems
    assert (plan.amendment_counts.created, plan.amendment_counts.updated) == (2, 0)
    first = Amendment.objects.get(agreement__number="KB/001/2024")
    assert (first.number, first.signed_on, first.ends_on) == ("1/ADD/2025", D(2025, 3, 1), D(2031, 1, 31))
    assert first.summary == "Jangka waktu diperpanjang dua tahun."
    assert first.history.get().history_change_reason == "import"
    second = Amendment.objects.get(agreement__number="KB/002/2024")
    assert (second.number, second.ends_on) == ("", None)
    # The end date in force follows the amendment; the agreement keeps its own.
    agreement = stalls.with_status(Agreement.objects.filter(number="KB/001/2024"), as_of=D(2026, 6, 1)).get()
    assert (agreement.ends_on, agreement.ends_on_in_force) == (D(2029, 1, 31), D(2031, 1, 31))
    today = stalls.with_status(Agreement.objects.filter(number="KB/001/2024")).get()  # the stored status, refreshed
    assert today.ends_on_in_force == D(2031, 1, 31) and stalls.stale_status() == []


def test_the_same_file_twice_changes_nothing_and_a_changed_row_updates_by_its_key():
    data = workbook([amendment_row(), amendment_row(number="", signed_on="2025-05-01", ends_on="")], [agreement_row()])
    assert run(data).ok
    again = run(data)
    assert again.ok and again.amendment_counts.unchanged == 2 and again.amendment_counts.created == 0
    assert Amendment.history.count() == 2
    changed = run(workbook([amendment_row(summary="Diubah."), amendment_row(number="", signed_on="2025-05-01",
                                                                            ends_on="2032-01-31")]))
    assert changed.ok and changed.amendment_counts.updated == 2
    assert set(Amendment.objects.values_list("summary", "ends_on")) == {
        ("Diubah.", D(2031, 1, 31)), ("Jangka waktu diperpanjang dua tahun.", D(2032, 1, 31))}


@pytest.mark.parametrize(("values", "column", "message"), [
    ({"agreement_number": "KB/404/2024"}, "agreement_number", "Unknown agreement KB/404/2024"),
    ({"agreement_number": ""}, "agreement_number", "The agreement number is required."),
    ({"signed_on": ""}, "signed_on", "Enter the date the amendment was signed."),
    ({"signed_on": "2024-01-10"}, "signed_on", "An amendment cannot be signed before the agreement it amends."),
    ({"signed_on": "31/02/2025"}, "signed_on", "is not a date"),
    ({"signed_on": "9999-12-31", "ends_on": ""}, "signed_on", "This date is in the future."),
    ({"ends_on": "2025-02-01"}, "ends_on", "The new end date cannot be before the amendment's signing date."),
    ({"ends_on": "tomorrow"}, "ends_on", "is not a date"),
    ({"summary": ""}, "summary", "Say what the amendment changes."),
    ({"summary": "x" * 5000}, "summary", "Keep this text under 4000 characters."),
    ({"number": "N" * 200}, "number", "Keep this text under 120 characters."),
])
def test_each_problem_names_the_sheet_row_and_column_and_nothing_is_written(values, column, message):
    plan = run(workbook([amendment_row(**values)], [agreement_row()]), dry_run=False)
    assert not plan.ok
    assert where(plan) == [("amendments", 2, column)], plan.problems
    assert message in plan.problems[0].message
    assert not Agreement.objects.exists() and not Amendment.objects.exists()


def test_hostile_values_never_reach_the_database():
    """A NUL byte in a table read another way (not possible in XLSX or CSV, which refuse the file) is still a problem,
    never a write PostgreSQL refuses."""
    tables = importers.read_files((workbook([amendment_row()], [agreement_row()]), "data.xlsx"))
    tables["amendments"].rows[0] = (2, ["KB/001/2024", "1\x00", "2025-03-01", "", "ok"])
    plan = importers.plan_import(tables)
    assert where(plan) == [("amendments", 2, "number")]


def test_an_unsigned_agreement_cannot_be_amended_and_signing_it_in_the_same_file_is_read():
    plan = run(workbook([amendment_row()], [agreement_row(signed_on="")]))
    assert where(plan) == [("amendments", 2, "signed_on")]
    assert "not signed" in plan.problems[0].message
    assert run(workbook([amendment_row()], [agreement_row(signed_on="2025-02-01")])).ok


def test_the_key_twice_in_the_file_and_headers_are_checked():
    plan = run(workbook([amendment_row(), amendment_row(summary="Lagi.")], [agreement_row()]))
    assert where(plan) == [("amendments", 3, "number")]
    plan = run(workbook([amendment_row()], [agreement_row()], header=["agreement_number", "nomor_adendum", "summary",
                                                                       "ends_on", "surprise"]))
    assert ("amendments", 1, "surprise") in where(plan) and ("amendments", 1, "signed_on") in where(plan)


def test_indonesian_headers_are_read():
    header = ["nomor_kerja_sama", "nomor_adendum", "tanggal_tanda_tangan", "tanggal_berakhir_baru",
              "ringkasan_perubahan"]
    plan = run(workbook([amendment_row()], [agreement_row()], header=header))
    assert plan.ok, plan.problems
    assert Amendment.objects.get().number == "1/ADD/2025"


def test_all_or_nothing_a_bad_amendment_refuses_the_agreements_too():
    plan = run(workbook([amendment_row(), amendment_row(number="2/ADD/2025", signed_on="2023-01-01")],
                        [agreement_row()]))
    assert where(plan) == [("amendments", 3, "signed_on")]
    assert not Agreement.objects.exists() and not Amendment.objects.exists()


def test_officers_only_amend_agreements_of_their_own_region_and_others_are_unknown():
    AgreementFactory(number="KB/001/2024", regions=["32.73", "32.04"])
    AgreementFactory(number="KB/009/2024", regions=["35.07", "35.73"])
    jabar = UserFactory(role="province", region=region("32"))  # reads Kota Bandung's KB, may not write it
    plan = run(workbook([amendment_row(), amendment_row(agreement_number="KB/009/2024")]), user=jabar)
    assert where(plan) == [("amendments", 2, "agreement_number"), ("amendments", 3, "agreement_number")]
    assert "Unknown agreement" in plan.problems[1].message  # out of scope: as if it did not exist
    kota = UserFactory(role="local", region=region("32.73"))
    assert run(workbook([amendment_row()]), user=kota).ok


def test_csv_through_the_command_with_amendments(tmp_path, capsys):
    AgreementFactory(number="KB/001/2024")
    agreements = tmp_path / "agreements.csv"
    agreements.write_bytes(csv_bytes([AGREEMENT_COLUMNS, agreement_row()]))
    amendments = tmp_path / "amendments.csv"
    amendments.write_bytes(csv_bytes([AMENDMENT_COLUMNS, amendment_row()], delimiter=";", bom=True))
    call_command("import_agreements", str(agreements), amendments=str(amendments), dry_run=True)
    assert "amendments: 1 to create" in capsys.readouterr().out and not Amendment.objects.exists()
    call_command("import_agreements", str(agreements), amendments=str(amendments))
    assert Amendment.objects.get().number == "1/ADD/2025"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([AMENDMENT_COLUMNS, amendment_row(signed_on="2020-01-01")]))
    with pytest.raises(CommandError):
        call_command("import_agreements", str(agreements), amendments=str(bad))
    assert "bad.csv, row 2, signed_on" in capsys.readouterr().err
    nul = tmp_path / "nul.csv"
    nul.write_bytes(csv_bytes([AMENDMENT_COLUMNS, amendment_row(summary="a\x00b")]))
    with pytest.raises(CommandError, match="not a spreadsheet"):  # refused as a file, never a database error
        call_command("import_agreements", str(agreements), amendments=str(nul))
    assert Amendment.objects.count() == 1


def test_export_xlsx_writes_the_amendments_sheet_and_it_imports_back_unchanged(client):
    agreement = AgreementFactory(number="KB/001/2024", ends_on=D(2027, 1, 31))
    Amendment.objects.create(agreement=agreement, number="=1/ADD", signed_on=D(2025, 3, 1), ends_on=D(2029, 1, 31),
                             summary="Perpanjangan\ndua tahun")
    Amendment.objects.create(agreement=agreement, number="", signed_on=D(2025, 6, 1), summary="Tanpa nomor")
    client.force_login(UserFactory(role="ministry"))
    response = client.get(reverse("agreement-export", args=["xlsx"]))
    data = b"".join(response.streaming_content)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["agreements", "parties", "amendments"]
    rows = [list(r) for r in book["amendments"].iter_rows(values_only=True)]
    assert rows[0] == AMENDMENT_COLUMNS
    assert rows[1] == ["KB/001/2024", "=1/ADD", "2025-03-01", "2029-01-31", "Perpanjangan\ndua tahun"]
    plan = run(data)
    assert plan.ok, plan.problems
    assert plan.amendment_counts.unchanged == 2 and plan.agreement_counts.unchanged == 1
    assert Amendment.objects.count() == 2


def test_template_has_the_amendments_sheet_with_an_example_that_is_not_imported():
    book = openpyxl.load_workbook(io.BytesIO(importers.build_template()))
    assert [c.value for c in book["amendments"][1]] == AMENDMENT_COLUMNS
    assert str(book["amendments"]["A2"].value).startswith("#")
    assert run(importers.build_template()).ok and not Amendment.objects.exists()
