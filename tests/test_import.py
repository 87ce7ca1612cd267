"""The spreadsheet import: parsing, bulk validation, the plan, the all-or-nothing apply step."""


import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import importers
from agreements.models import Agreement, AgreementParty, Milestone, MilestoneUpdate, ThirdParty
from agreements.spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS, guard_formula
from tests.factories import AgreementFactory, MilestoneFactory, UserFactory, region


def xlsx(agreements: list[list], milestones: list[list] | None = None, *, extra_sheets=None) -> bytes:
    """A workbook; the first list of each sheet is its header."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "agreements"
    for row in agreements:
        sheet.append(row)
    if milestones is not None:
        ms = workbook.create_sheet("milestones")
        for row in milestones:
            ms.append(row)
    for name, rows in (extra_sheets or {}).items():
        ws = workbook.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def agreement_row(**values) -> list:
    """A full template row: a KSDD KB between Kota and Kabupaten Bandung on Pariwisata by default."""
    base = {
        "number": "KB/001/2024", "document_type": "KB", "parent_number": "", "title": "Kawasan Wisata Terpadu",
        "cooperation_kind": "KSDD-SUKARELA", "region_codes": "32.73;32.04", "third_parties": "",
        "affair_codes": "3.26", "signed_on": "2024-01-15", "dprd_approved_on": "", "starts_on": "2024-02-01",
        "ends_on": "2029-01-31", "terminated_on": "", "termination_reason": "", "value_idr": "1.500.000",
        "scope": "Promosi bersama",
    }
    base.update(values)
    return [base[c] for c in AGREEMENT_COLUMNS]


def milestone_row(**values) -> list:
    base = {
        "agreement_number": "KB/001/2024", "title": "Rencana induk", "responsible_region_code": "32.73",
        "due_on": "2024-06-30", "started_on": "2024-02-01", "completed_on": "", "status": "in_progress",
        "progress": "40",
    }
    base.update(values)
    return [base[c] for c in MILESTONE_COLUMNS]


def workbook(agreements: list[list], milestones: list[list] | None = None) -> bytes:
    return xlsx([AGREEMENT_COLUMNS, *agreements],
                [MILESTONE_COLUMNS, *milestones] if milestones is not None else None)


def csv_bytes(rows: list[list], *, delimiter=",", bom=False) -> bytes:
    lines = [delimiter.join('"' + str(v).replace('"', '""') + '"' if delimiter in str(v) or '"' in str(v) else str(v)
                           for v in row) for row in rows]
    data = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" + data if bom else data).encode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Tests


pytestmark = pytest.mark.django_db


def run(agreements, milestones=None, *, user=None, dry_run=False, name="test.xlsx"):
    data = agreements if isinstance(agreements, bytes) else workbook(agreements, milestones)
    return importers.import_files((data, name), user=user, dry_run=dry_run)


def problems_of(plan):
    return {(p.sheet, p.row, p.column) for p in plan.problems}


def history_count():
    return (Agreement.history.count() + Milestone.history.count() + AgreementParty.history.count()
            + ThirdParty.history.count())


def test_creates_agreements_parties_affairs_and_milestones():
    user = UserFactory(username="importer")
    plan = run(
        [agreement_row(),
         agreement_row(number="PKS/001/2024", document_type="PKS", parent_number="KB/001/2024",
                       signed_on="2024-03-01", affair_codes="3.26;2.15", value_idr="2.000.000.000")],
        [milestone_row(agreement_number="PKS/001/2024")],
        user=user,
    )
    assert plan.ok, plan.problems
    assert (plan.agreement_counts.created, plan.milestone_counts.created) == (2, 1)
    pks = Agreement.objects.get(number="PKS/001/2024")
    assert pks.parent.number == "KB/001/2024"
    assert pks.value_idr == 2_000_000_000
    assert sorted(pks.regions.values_list("code", flat=True)) == ["32.04", "32.73"]
    assert sorted(pks.affairs.values_list("code", flat=True)) == ["2.15", "3.26"]
    assert pks.created_by == user
    record = pks.history.get()
    assert (record.history_user, record.history_change_reason, record.history_type) == (user, "import", "+")
    milestone = pks.milestones.get()
    assert (milestone.status, milestone.progress, milestone.responsible_region.code) == ("in_progress", 40, "32.73")
    update = MilestoneUpdate.objects.get()
    assert (update.status_before, update.status_after, update.user) == ("", "in_progress", user)
    # The import writes in bulk: today's stored stage and flags are refreshed with the facts.
    from agreements import stalls

    assert stalls.stale_status() == [] and stalls.with_status(Agreement.objects.filter(pk=pks.pk)).get().stage == (
        "implementing")


def test_reimporting_the_same_file_changes_nothing():
    rows = [agreement_row(third_parties=""),
            agreement_row(number="KSDPK/1", cooperation_kind="KSDPK", region_codes="32.73",
                          third_parties="PT Wisata Nusantara; Universitas Padjadjaran")]
    milestones = [milestone_row(), milestone_row(title="Evaluasi", status="met", completed_on="2024-05-01")]
    assert run(rows, milestones).ok
    before = (history_count(), MilestoneUpdate.objects.count(),
              list(Agreement.objects.values_list("updated_at", "version")),
              list(Milestone.objects.values_list("updated_at", "version")))
    plan = run(rows, milestones)
    assert plan.ok
    assert (plan.agreement_counts.unchanged, plan.agreement_counts.updated, plan.agreement_counts.created) == (2, 0, 0)
    assert (plan.milestone_counts.unchanged, plan.milestone_counts.updated) == (2, 0)
    after = (history_count(), MilestoneUpdate.objects.count(),
             list(Agreement.objects.values_list("updated_at", "version")),
             list(Milestone.objects.values_list("updated_at", "version")))
    assert after == before


def test_changed_row_updates_empty_cell_clears_and_relations_are_replaced():
    existing = AgreementFactory(number="KB/001/2024", value_idr=5, scope="lama", regions=["32.73", "32.04"],
                                affairs=["3.26"])
    party = existing.parties.get(region__code="32.73")
    party.signatory_name = "Wali Kota"
    party.save()
    user = UserFactory(username="editor")
    plan = run([agreement_row(value_idr="", scope="", region_codes="32.73;32.77", affair_codes="1.01;2.15")],
               user=user)
    assert plan.ok, plan.problems
    assert plan.agreement_counts.updated == 1
    existing.refresh_from_db()
    assert existing.value_idr is None and existing.scope == ""
    assert existing.version == 2 and existing.updated_by == user
    assert sorted(existing.regions.values_list("code", flat=True)) == ["32.73", "32.77"]
    assert sorted(existing.affairs.values_list("code", flat=True)) == ["1.01", "2.15"]
    assert existing.parties.get(region__code="32.73").signatory_name == "Wali Kota"  # a kept party keeps its details
    latest = existing.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", user, "import")
    removed = AgreementParty.history.filter(history_type="-").get()
    assert removed.region.code == "32.04" and removed.history_user == user
    assert Agreement.objects.count() == 1  # nothing else created, nothing deleted


def test_absent_optional_column_keeps_the_stored_value():
    AgreementFactory(number="KB/9", value_idr=77, scope="tetap")
    header = ["number", "document_type", "title", "cooperation_kind", "affair_codes", "region_codes"]
    plan = run(xlsx([header, ["KB/9", "KB", "Judul baru", "KSDD-SUKARELA", "3.26", "32.73;32.04"]]))
    assert plan.ok, plan.problems
    agreement = Agreement.objects.get(number="KB/9")
    assert (agreement.title, agreement.value_idr, agreement.scope) == ("Judul baru", 77, "tetap")


def test_rows_not_in_the_file_are_not_deleted():
    AgreementFactory(number="KB/OTHER")
    assert run([agreement_row()]).ok
    assert set(Agreement.objects.values_list("number", flat=True)) == {"KB/OTHER", "KB/001/2024"}


def test_milestone_status_change_writes_a_milestone_update_with_the_user():
    agreement = AgreementFactory(number="KB/001/2024")
    milestone = MilestoneFactory(agreement=agreement, title="Rencana induk", status="scheduled",
                                 responsible_region=None, due_on=datetime.date(2024, 6, 30))
    user = UserFactory(username="prov")
    plan = run([agreement_row()], [milestone_row(status="met", completed_on="2024-06-01", progress="100")], user=user)
    assert plan.ok, plan.problems
    milestone.refresh_from_db()
    assert (milestone.status, milestone.progress) == ("met", 100)
    update = milestone.updates.get()
    assert (update.status_before, update.status_after, update.progress, update.user) == ("scheduled", "met", 100, user)
    assert milestone.history.first().history_user == user


def test_progress_only_change_updates_without_a_milestone_update():
    agreement = AgreementFactory(number="KB/001/2024")
    MilestoneFactory(agreement=agreement, title="Rencana induk", status="in_progress",
                     started_on=datetime.date(2024, 2, 1), progress=10)
    plan = run([agreement_row()], [milestone_row(progress="50", responsible_region_code="")])
    assert plan.ok, plan.problems
    assert plan.milestone_counts.updated == 1
    assert Milestone.objects.get().progress == 50
    assert MilestoneUpdate.objects.count() == 0


# -- validation: each rule reports sheet, row, column -----------------------------------------------------------

@pytest.mark.parametrize(
    "values, column",
    [
        ({"region_codes": "32.73;99.99"}, "region_codes"),
        ({"affair_codes": "3.26;9.99"}, "affair_codes"),
        ({"region_codes": "32.73;31.71"}, "region_codes"),  # Jakarta Pusat is not autonomous
        ({"region_codes": "32.73"}, "region_codes"),  # KSDD needs two regions
        ({"affair_codes": ""}, "affair_codes"),
        ({"document_type": "MOU"}, "document_type"),
        ({"cooperation_kind": "KSDX"}, "cooperation_kind"),
        ({"title": ""}, "title"),
        ({"number": ""}, "number"),
        ({"starts_on": "2025-01-01", "ends_on": "2024-01-01"}, "ends_on"),
        ({"terminated_on": "2023-01-01"}, "terminated_on"),
        ({"signed_on": "2024-02-30"}, "signed_on"),
        ({"signed_on": "15-01-2024"}, "signed_on"),
        ({"value_idr": "1,5 juta"}, "value_idr"),
        ({"value_idr": "-5"}, "value_idr"),
        ({"value_idr": "1.23.456"}, "value_idr"),
        ({"cooperation_kind": "KSDPK", "region_codes": "32.73", "third_parties": ""}, "third_parties"),
        ({"cooperation_kind": "KSDPK", "region_codes": "32.73", "third_parties": "PT A;PT A"}, "third_parties"),
        ({"parent_number": "KB/000"}, "parent_number"),  # a KB cannot have a parent
    ],
)
def test_agreement_row_errors(values, column):
    plan = run([agreement_row(), agreement_row(**{"number": "KB/002/2024", **values})])
    assert ("agreements", 3, column) in problems_of(plan), plan.problems
    assert not plan.ok
    assert Agreement.objects.count() == 0


def test_pks_parent_must_be_a_kb_and_exist():
    AgreementFactory(number="PKS-IN-DB", document_type="PKS")
    plan = run([
        agreement_row(number="PKS/1", document_type="PKS"),
        agreement_row(number="PKS/2", document_type="PKS", parent_number="PKS/1"),
        agreement_row(number="PKS/3", document_type="PKS", parent_number="PKS-IN-DB"),
        agreement_row(number="PKS/4", document_type="PKS", parent_number="KB/NOWHERE"),
    ])
    assert {("agreements", 3, "parent_number"), ("agreements", 4, "parent_number"),
            ("agreements", 5, "parent_number")} <= problems_of(plan)
    assert ("agreements", 2, "parent_number") not in problems_of(plan)


def test_pks_parent_may_be_a_kb_in_the_register_and_not_signed_before_it():
    AgreementFactory(number="KB/DB", signed_on=datetime.date(2024, 1, 15))
    plan = run([agreement_row(number="PKS/1", document_type="PKS", parent_number="KB/DB", signed_on="2024-01-01")])
    assert problems_of(plan) == {("agreements", 2, "signed_on")}
    plan = run([agreement_row(number="PKS/1", document_type="PKS", parent_number="KB/DB", signed_on="2024-02-01")])
    assert plan.ok
    assert Agreement.objects.get(number="PKS/1").parent.number == "KB/DB"


def test_pks_kept_parent_still_bounds_its_signing_date():
    kb = AgreementFactory(number="KB/DB", signed_on=datetime.date(2024, 1, 15))
    AgreementFactory(number="PKS/DB", document_type="PKS", parent=kb, signed_on=datetime.date(2024, 3, 1))
    header = ["number", "document_type", "title", "cooperation_kind", "affair_codes", "signed_on"]
    plan = run(xlsx([header, ["PKS/DB", "PKS", "Judul", "KSDD-SUKARELA", "3.26", "2024-01-01"]]))
    assert problems_of(plan) == {("agreements", 2, "signed_on")}
    plan = run(xlsx([header, ["PKS/DB", "PKS", "Judul", "KSDD-SUKARELA", "3.26", "2024-02-01"]]))
    assert plan.ok and Agreement.objects.get(number="PKS/DB").parent == kb


def test_number_twice_in_the_file():
    plan = run([agreement_row(), agreement_row(title="Lain")])
    assert problems_of(plan) == {("agreements", 3, "number")}
    assert "row 2" in plan.problems[0].message


def test_milestone_errors():
    plan = run([agreement_row()], [
        milestone_row(responsible_region_code="32.77"),  # not a party
        milestone_row(agreement_number="KB/UNKNOWN", title="X"),
        milestone_row(title="Due", due_on="31/02/2024"),
        milestone_row(title="Progress", progress="150"),
        milestone_row(title="Status", status="done"),
        milestone_row(title="Met", status="met", completed_on=""),
        milestone_row(title="Order", started_on="2024-05-01", completed_on="2024-04-01", status="partially_met"),
        milestone_row(title="Region", responsible_region_code="77.77"),
        milestone_row(title=""),
        milestone_row(),  # the same key as row 2
    ])
    assert problems_of(plan) == {
        ("milestones", 2, "responsible_region_code"), ("milestones", 3, "agreement_number"),
        ("milestones", 4, "due_on"), ("milestones", 5, "progress"), ("milestones", 6, "status"),
        ("milestones", 7, "completed_on"), ("milestones", 8, "completed_on"),
        ("milestones", 9, "responsible_region_code"), ("milestones", 10, "title"), ("milestones", 11, "title"),
    }
    assert Agreement.objects.count() == 0 and Milestone.objects.count() == 0


def test_removing_a_party_responsible_for_a_stored_milestone_is_refused():
    agreement = AgreementFactory(number="KB/001/2024", regions=["32.73", "32.04"])
    MilestoneFactory(agreement=agreement, title="Tahap", responsible_region=agreement.regions.get(code="32.04"))
    plan = run([agreement_row(region_codes="32.73;32.77")])
    assert problems_of(plan) == {("agreements", 2, "region_codes")}


def test_header_problems_unknown_duplicate_and_missing_columns():
    plan = run(xlsx([["number", "Number", "title", "warna", "stage"], ["KB/1", "KB/1", "Judul", "merah", "x"]]))
    columns = {(p.row, p.column) for p in plan.problems}
    assert (1, "Number") in columns and (1, "warna") in columns
    assert {(1, "document_type"), (1, "cooperation_kind"), (1, "affair_codes")} <= columns
    assert (1, "stage") not in columns  # the export's read-only columns are ignored


def test_every_problem_in_one_pass_and_blank_rows_count():
    data = xlsx([
        AGREEMENT_COLUMNS,
        agreement_row(region_codes="99"),
        [],
        [],
        agreement_row(number="KB/2", affair_codes="0.00", signed_on="kemarin"),
    ])
    plan = run(data)
    assert {("agreements", 2, "region_codes"), ("agreements", 5, "affair_codes"),
            ("agreements", 5, "signed_on")} <= problems_of(plan)


def test_all_or_nothing_on_an_error_in_the_last_row():
    existing = AgreementFactory(number="KB/001/2024", title="Lama")
    history_before = history_count()
    plan = run([agreement_row(title="Baru"), agreement_row(number="KB/NEW"),
                agreement_row(number="KB/BAD", region_codes="32.73;00.00")],
               [milestone_row()])
    assert not plan.ok
    existing.refresh_from_db()
    assert existing.title == "Lama"
    assert Agreement.objects.count() == 1 and Milestone.objects.count() == 0
    assert history_count() == history_before


def test_apply_refuses_a_plan_with_problems():
    plan = importers.plan_import(importers.read_spreadsheet(workbook([agreement_row(region_codes="1")])))
    with pytest.raises(ValueError):
        importers.apply_plan(plan)


def test_dry_run_counts_without_writing():
    AgreementFactory(number="KB/001/2024", title="Lama")
    plan = run([agreement_row(), agreement_row(number="KB/2")], [milestone_row()], dry_run=True)
    assert plan.ok
    assert (plan.agreement_counts.created, plan.agreement_counts.updated) == (1, 1)
    assert plan.milestone_counts.created == 1
    assert Agreement.objects.get().title == "Lama" and Milestone.objects.count() == 0


# -- formats ------------------------------------------------------------------------------------------------------

def test_semicolon_csv_with_bom_dmy_dates_thousands_and_formula_guard():
    data = csv_bytes([
        AGREEMENT_COLUMNS,
        agreement_row(title="'=Kerja sama; tahap 1", signed_on="15/01/2024", starts_on="01/02/2024",
                      value_idr="1.234.567", scope="'-awal"),
    ], delimiter=";", bom=True)
    plan = run(data, name="data.csv")
    assert plan.ok, plan.problems
    agreement = Agreement.objects.get()
    assert agreement.title == "=Kerja sama; tahap 1"
    assert agreement.scope == "-awal"
    assert agreement.signed_on == datetime.date(2024, 1, 15)
    assert agreement.starts_on == datetime.date(2024, 2, 1)
    assert agreement.value_idr == 1_234_567


def test_comma_csv_without_bom_and_milestones_csv():
    agreements = csv_bytes([AGREEMENT_COLUMNS, agreement_row(region_codes="32.73;32.04")])
    milestones = csv_bytes([MILESTONE_COLUMNS, milestone_row()], delimiter=";")
    plan = importers.import_files((agreements, "a.csv"), (milestones, "m.csv"))
    assert plan.ok, plan.problems
    assert Milestone.objects.get().agreement.number == "KB/001/2024"


def test_csv_row_numbers_count_blank_lines():
    data = csv_bytes([AGREEMENT_COLUMNS, agreement_row(), [""], agreement_row(number="KB/2", region_codes="x")])
    plan = run(data, name="a.csv")
    assert problems_of(plan) == {("a.csv", 4, "region_codes")}


def test_excel_date_cells_and_codes_turned_into_numbers():
    plan = run([agreement_row(signed_on=datetime.datetime(2024, 1, 15), starts_on=datetime.date(2024, 2, 1),
                              ends_on="2029-01-31", region_codes=32.1, affair_codes=2.1, value_idr=1500000)
                ], [milestone_row(responsible_region_code=32.1, due_on=datetime.datetime(2024, 6, 30),
                                  started_on=datetime.datetime(2024, 2, 1))])
    assert plan.problems == [p for p in plan.problems if p.column == "region_codes"]  # only the KSDD-two rule
    header_fix = run([agreement_row(signed_on=datetime.datetime(2024, 1, 15), starts_on=datetime.date(2024, 2, 1),
                                    region_codes="32.1;32", affair_codes=2.1, value_idr=1500000.0)],
                     [milestone_row(responsible_region_code=32.0, due_on=datetime.datetime(2024, 6, 30),
                                    started_on=datetime.datetime(2024, 2, 1))])
    assert header_fix.ok, header_fix.problems
    agreement = Agreement.objects.get()
    assert agreement.signed_on == datetime.date(2024, 1, 15)
    assert sorted(agreement.regions.values_list("code", flat=True)) == ["32", "32.10"]
    assert list(agreement.affairs.values_list("code", flat=True)) == ["2.10"]
    assert agreement.value_idr == 1_500_000
    milestone = Milestone.objects.get()
    assert milestone.due_on == datetime.date(2024, 6, 30) and milestone.responsible_region.code == "32"


def test_headers_case_spaces_and_indonesian_aliases():
    header = [" Nomor ", "JENIS DOKUMEN", "Judul", "Jenis Kerja Sama", "kode_daerah", "Kode Urusan",
              "Tanggal Tanda Tangan", "nilai_rp"]
    plan = run(xlsx([header, ["KB/ID", "kb", "Judul", "ksdd-wajib", "32.73;32.04", "1.03", "15/01/2024",
                              "2.500"]],
                    [["Nomor Kesepakatan", "Tahapan", "Penanggung Jawab", "Tenggat", "Status", "Progres"],
                     ["KB/ID", "Survei", "32.04", "2024-03-01", "scheduled", "0"]]))
    assert plan.ok, plan.problems
    agreement = Agreement.objects.get()
    assert (agreement.document_type, agreement.cooperation_kind, agreement.value_idr) == ("KB", "KSDD-WAJIB", 2500)
    assert agreement.milestones.get().responsible_region.code == "32.04"


@pytest.mark.parametrize(
    "data, name",
    [
        (b"", "empty.csv"),
        (b"   \r\n", "blank.csv"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "scan.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image.png"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx"),
        ("nomor;judul\nKB/1;Caf\xe9".encode("latin-1"), "latin1.csv"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused(data, name):
    with pytest.raises(importers.FileRefused):
        importers.read_spreadsheet(data, name)


def test_files_over_20_mb_are_refused():
    with pytest.raises(importers.FileRefused, match="20 MB"):
        importers.read_spreadsheet(b"a" * (importers.MAX_FILE_SIZE + 1), "big.csv")


def test_workbook_without_an_agreements_sheet_is_refused():
    data = xlsx([["x"]], extra_sheets={"lain": [["y"]]})
    book = openpyxl.load_workbook(io.BytesIO(data))
    book["agreements"].title = "data"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(importers.FileRefused, match="agreements"):
        importers.read_spreadsheet(buffer.getvalue(), "x.xlsx")


# -- scope of provincial officers ------------------------------------------------------------------------------

def test_provincial_officer_imports_only_rows_the_pages_let_it_write():
    """The province reads its kabupaten/kota's agreements and does not write them: the import uses the pages'
    rule (``access.may_write_parties``), row by row."""
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    AgreementFactory(number="KB/JATENG", regions=["33.74", "33.01"])
    AgreementFactory(number="KB/KAB", regions=["32.73", "32.04"])  # its kabupaten/kota: read, not written
    plan = run([
        agreement_row(region_codes="32;32.73"),  # the province itself is a party
        agreement_row(number="KB/LAIN", region_codes="32.73;32.04"),  # its kabupaten/kota only
        agreement_row(number="KB/JATENG", region_codes="33.74;33.01;32"),  # exists outside the province
        agreement_row(number="KB/KAB", region_codes="32.73;32.04;32", title="Ditulis ulang"),  # re-partied
    ], user=officer)
    assert problems_of(plan) == {("agreements", 3, "region_codes"), ("agreements", 4, "number"),
                                 ("agreements", 5, "number")}
    assert Agreement.objects.get(number="KB/KAB").title != "Ditulis ulang"
    plan = run([agreement_row(region_codes="32;32.73")], user=officer)
    assert plan.ok and Agreement.objects.filter(number="KB/001/2024").exists()


def test_provincial_officer_cannot_terminate_or_change_milestones_of_its_kabupaten_kota_agreements():
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    kab = AgreementFactory(number="KB/KAB", regions=["32.73", "32.04"])
    MilestoneFactory(agreement=kab, title="Tahap", responsible_region=None)
    plan = run([agreement_row(number="KB/KAB", terminated_on="2024-06-01")],
               [milestone_row(agreement_number="KB/KAB", title="Tahap", responsible_region_code="",
                              status="met", completed_on="2024-05-01")], user=officer)
    assert problems_of(plan) == {("agreements", 2, "number")}  # the milestone row follows its agreement's row
    milestones_only = importers.plan_import(
        {"milestones": importers.read_spreadsheet(
            csv_bytes([["agreement_number", "title", "status", "completed_on"], ["KB/KAB", "Tahap", "met", "2024-05-01"]]),
            "m.csv", default_sheet="milestones",
        )["milestones"]},
        user=officer,
    )
    assert problems_of(milestones_only) == {("m.csv", 2, "agreement_number")}
    kab.refresh_from_db()
    assert kab.terminated_on is None and kab.milestones.get().status == "scheduled"
    # Ministry staff may (the same rows, the national role).
    assert run([agreement_row(number="KB/KAB", terminated_on="2024-06-01")], user=UserFactory(role="ministry")).ok


def test_provincial_officer_cannot_add_milestones_to_an_agreement_outside_the_province():
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    AgreementFactory(number="KB/JATENG", regions=["33.74", "33.01"])
    plan = run(xlsx([["agreement_number", "title"], ["KB/JATENG", "T"]]), user=officer)
    assert ("agreements", 1, "number") in problems_of(plan)  # no agreements sheet columns
    milestones_only = importers.plan_import(
        {"milestones": importers.read_spreadsheet(
            csv_bytes([["agreement_number", "title"], ["KB/JATENG", "T"]]), "m.csv", default_sheet="milestones"
        )["milestones"]},
        user=officer,
    )
    assert problems_of(milestones_only) == {("m.csv", 2, "agreement_number")}


# -- bulk validation and round trip ------------------------------------------------------------------------------

def _queries_for(count):
    rows = [agreement_row(number=f"KB/{i}") for i in range(count)]
    rows += [agreement_row(number=f"PKS/{i}", document_type="PKS", parent_number=f"KB/{i}", signed_on="2024-02-01")
             for i in range(count)]
    milestones = [milestone_row(agreement_number=f"PKS/{i}", title=f"T{j}") for i in range(count) for j in range(3)]
    for i in range(count):
        AgreementFactory(number=f"KB/{i}")
    tables = importers.read_spreadsheet(workbook(rows, milestones))
    with CaptureQueriesContext(connection) as ctx:
        plan = importers.plan_import(tables)
    assert plan.ok, plan.problems[:3]
    Agreement.objects.all().delete()
    return len(ctx.captured_queries)


def test_validation_runs_a_constant_number_of_queries():
    assert _queries_for(3) == _queries_for(40)
    assert _queries_for(3) <= 12


def _serialize():
    """The register as template rows, written here (not by the export module) for the round trip."""
    def fmt(value):
        return "" if value is None else (value.isoformat() if isinstance(value, datetime.date) else str(value))

    agreements = []
    for a in Agreement.objects.order_by("number").prefetch_related("regions", "affairs", "third_parties"):
        agreements.append([
            a.number, a.document_type, a.parent.number if a.parent_id else "", a.title, a.cooperation_kind,
            ";".join(sorted(r.code for r in a.regions.all())), ";".join(sorted(t.name for t in a.third_parties.all())),
            ";".join(sorted(x.code for x in a.affairs.all())), fmt(a.signed_on), fmt(a.dprd_approved_on),
            fmt(a.starts_on), fmt(a.ends_on), fmt(a.terminated_on), a.termination_reason, fmt(a.value_idr),
            guard_formula(a.scope),
        ])
    milestones = [[m.agreement.number, m.title, m.responsible_region.code if m.responsible_region_id else "",
                   fmt(m.due_on), fmt(m.started_on), fmt(m.completed_on), m.status, str(m.progress)]
                  for m in Milestone.objects.select_related("agreement", "responsible_region")
                  .order_by("agreement__number", "title")]
    return [AGREEMENT_COLUMNS, *agreements], [MILESTONE_COLUMNS, *milestones]


def test_round_trip_file_to_database_to_the_same_rows():
    agreements = [
        agreement_row(number="KB/A", value_idr="1500000", region_codes="32.04;32.73", affair_codes="2.15;3.26"),
        agreement_row(number="KSDPK/B", cooperation_kind="KSDPK", region_codes="32.73", affair_codes="1.01",
                      third_parties="PT Satu;Universitas Dua", signed_on="", starts_on="", ends_on="", value_idr="",
                      scope="'=tanpa tanggal"),  # the formula guard, as the export writes it
        agreement_row(number="PKS/C", document_type="PKS", parent_number="KB/A", signed_on="2024-03-01",
                      region_codes="32.04;32.73",
                      terminated_on="2025-01-01", termination_reason="force_majeure", dprd_approved_on="2024-02-15",
                      value_idr="0"),
    ]
    milestones = [milestone_row(agreement_number="PKS/C", title="Satu"),
                  milestone_row(agreement_number="PKS/C", title="Dua", status="met", completed_on="2024-05-01",
                                progress="100", responsible_region_code="32.04")]
    file_agreements = [AGREEMENT_COLUMNS, *agreements]
    file_milestones = [MILESTONE_COLUMNS, *milestones]
    assert run(xlsx(file_agreements, file_milestones)).ok
    exported_agreements, exported_milestones = _serialize()
    assert exported_agreements == [AGREEMENT_COLUMNS] + sorted(file_agreements[1:], key=lambda r: r[0])
    assert exported_milestones == [MILESTONE_COLUMNS] + sorted(file_milestones[1:], key=lambda r: (r[0], r[1]))
    # and the serialized rows import back without any change
    plan = run(xlsx(exported_agreements, exported_milestones))
    assert plan.ok and plan.agreement_counts.unchanged == 3 and plan.milestone_counts.unchanged == 2


def test_template_workbook_has_the_sheets_headers_example_rows_and_codes():
    book = openpyxl.load_workbook(io.BytesIO(importers.build_template()))
    assert book.sheetnames == ["instructions", "agreements", "milestones", "parties", "amendments", "codes"]
    assert book.active.title == "agreements"
    assert [c.value for c in book["agreements"][1]] == AGREEMENT_COLUMNS
    assert [c.value for c in book["milestones"][1]] == MILESTONE_COLUMNS
    assert book["agreements"].max_row == 2 and book["milestones"].max_row == 2
    codes = {row[0] for row in book["codes"].iter_rows(min_row=2, values_only=True)}
    assert {"32", "32.73", "31.71"} <= codes
    affairs = {row[5] for row in book["codes"].iter_rows(min_row=2, values_only=True) if row[5]}
    assert len(affairs) == 32
    lists = {v.formula1 for v in book["agreements"].data_validations.dataValidation}
    assert '"KB,PKS"' in lists and any("KSDD-WAJIB" in f for f in lists)
    assert any("in_progress" in v.formula1 for v in book["milestones"].data_validations.dataValidation)
    assert "#" in book["instructions"]["A3"].value


def test_the_template_unchanged_imports_nothing_and_its_examples_are_valid_rows():
    template = importers.build_template()
    plan = importers.import_files((template, "template.xlsx"))
    assert plan.ok and plan.agreement_counts.created == 0 and plan.milestone_counts.created == 0
    book = openpyxl.load_workbook(io.BytesIO(template))
    for sheet in ("agreements", "milestones"):
        book[sheet]["A2"] = book[sheet]["A2"].value.lstrip("# ")
    buffer = io.BytesIO()
    book.save(buffer)
    plan = importers.import_files((buffer.getvalue(), "template.xlsx"), dry_run=True)
    assert plan.ok, plan.problems
    assert (plan.agreement_counts.created, plan.milestone_counts.created) == (1, 1)


def test_the_template_speaks_the_users_language_and_both_spellings_import():
    from django.utils import translation

    with translation.override("id"):
        book = openpyxl.load_workbook(io.BytesIO(importers.build_template()))
    header = [c.value for c in book["agreements"][1]]
    assert header[:3] == ["nomor", "jenis_dokumen", "nomor_induk"]
    book["agreements"]["A2"] = "180/001/KB/2024"
    book["milestones"]["A2"] = "180/001/KB/2024"
    buffer = io.BytesIO()
    book.save(buffer)
    plan = importers.import_files((buffer.getvalue(), "templat.xlsx"), dry_run=True)
    assert plan.ok, plan.problems


@pytest.mark.parametrize("value", ["Rp 2.000.000.000", "Rp2.000.000.000", "rp. 2.000.000.000", "2.000.000.000"])
def test_an_amount_with_rupiah_is_read(value):
    from agreements.importers.reading import parse_amount

    assert parse_amount(value) == 2_000_000_000


def test_fast_xlsx_reader_reads_what_openpyxl_reads():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "agreements"
    sheet.append(["a", "b", "c", "d"])
    sheet.append([])
    sheet.append(["x", 32.1, datetime.datetime(2024, 1, 2), True])
    sheet["F5"] = "late"
    sheet["B6"] = 12345678901
    sheet["C7"] = datetime.date(2024, 3, 4)
    sheet["A8"] = "=1+1"  # a formula without a cached value reads as empty
    sheet["A10"] = "Ünïcode; x"
    buffer = io.BytesIO()
    book.save(buffer)
    readonly = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()), read_only=True, data_only=True)
    fast = list(importers.reading._fast_xlsx_rows(readonly["agreements"]))
    slow_sheet = readonly["agreements"]
    slow_sheet.reset_dimensions()
    slow = list(enumerate(slow_sheet.iter_rows(values_only=True), start=1))

    def filled(rows):
        return [(n, list(v) + [None] * (6 - len(v))) for n, v in rows if any(x is not None for x in v)]

    assert filled(fast) == filled(slow)
    assert [n for n, _v in filled(fast)] == [1, 3, 5, 6, 7, 10]


def test_openpyxl_fallback_gives_the_same_rows(monkeypatch):
    monkeypatch.setattr(importers.reading, "_fast_xlsx_rows", lambda sheet: None)
    data = xlsx([AGREEMENT_COLUMNS, agreement_row(region_codes="99"), [], agreement_row(
        number="KB/2", signed_on=datetime.datetime(2024, 1, 15), region_codes=32.1)])
    plan = run(data)
    assert {("agreements", 2, "region_codes"), ("agreements", 4, "region_codes")} == problems_of(plan)
    assert "32.10" not in str(plan.problems)  # 32.1 was read back as the known code 32.10


@pytest.mark.parametrize("header", ["termination_reason", "alasan_pengakhiran", "Alasan Pengakhiran"])
def test_termination_reason_column_is_optional_and_read_by_its_aliases(header):
    from agreements.models import TerminationReason

    columns = [header if c == "termination_reason" else c for c in AGREEMENT_COLUMNS]
    assert run(xlsx([columns, agreement_row(number="KB/T/1", terminated_on="2025-01-01",
                                            termination_reason="BREACH")])).ok
    assert Agreement.objects.get(number="KB/T/1").termination_reason == TerminationReason.BREACH
    # An old file without the column: accepted, the reason stays as it is.
    old = [c for c in AGREEMENT_COLUMNS if c != "termination_reason"]
    row = agreement_row(number="KB/T/1", terminated_on="2025-01-01", title="Judul baru")
    del row[AGREEMENT_COLUMNS.index("termination_reason")]
    assert run(xlsx([old, row])).ok
    agreement = Agreement.objects.get(number="KB/T/1")
    assert (agreement.title, agreement.termination_reason) == ("Judul baru", TerminationReason.BREACH)


@pytest.mark.parametrize("values, message", [
    ({"terminated_on": "2025-01-01", "termination_reason": "bosan"}, "not a valid choice"),
    ({"terminated_on": "", "termination_reason": "agreed"}, "Give the termination date with its reason."),
])
def test_termination_reason_problems_name_row_and_column(values, message):
    from django.utils import translation

    with translation.override("en"):
        plan = run(xlsx([AGREEMENT_COLUMNS, agreement_row(number="KB/OK"), agreement_row(number="KB/T/2", **values)]))
    assert not plan.ok and not Agreement.objects.exists()
    [problem] = [p for p in plan.problems if p.column == "termination_reason"]
    assert problem.row == 3 and message in problem.message
