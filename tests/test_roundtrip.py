"""The register round-trips: export, import into an empty database, export again: identical.

The register's export carries the agreement columns of the import template and then
the read-only ones (stage, stall reasons, days stalled); it has no milestones. Milestones go back in
through the import template's milestones columns (``spreadsheet.MILESTONE_COLUMNS``): a milestones
CSV written here from the stored milestones. The read-only columns must come out identical too,
since the stage and the stall rules are derived from the imported facts (milestones included).
"""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import call_command

from agreements import importers
from agreements.models import Agreement, AgreementParty, Milestone, ThirdParty
from agreements.spreadsheet import AGREEMENT_COLUMNS, EXPORT_EXTRA_COLUMNS, MILESTONE_COLUMNS
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory
from tests.factories import region as get_region

D = datetime.date


def build_register():
    """Agreements that exercise every column: lists, dates, amounts, parents, guarded text, stalls."""
    kb = AgreementFactory(
        number="119/01/KB/2023", title="=Pengelolaan Sampah Regional", cooperation_kind=Agreement.Kind.KSDD_WAJIB,
        regions=["32.73", "32.04", "32.10"], affairs=["2.11", "2.10", "1.03"], signed_on=D(2023, 2, 1),
        dprd_approved_on=D(2023, 3, 15), starts_on=D(2023, 4, 1), ends_on=D(2028, 3, 31), value_idr=1_500_000_000,
        scope='+Pengangkutan, pemilahan; dan "TPA bersama"\nBaris kedua dari ruang lingkup.',
    )
    pks = PksFactory(
        number="119/02/PKS/2023", parent=kb, title="-Operasional TPA Sarimukti", regions=["32.73", "32.04"],
        affairs=["2.11"], signed_on=D(2023, 6, 1), starts_on=D(2023, 7, 1), value_idr=250_000_000,
    )
    AgreementFactory(  # a third party whose name has a comma and a leading @
        number="500/03/KSDPK/2024", cooperation_kind=Agreement.Kind.KSDPK, title="Digitalisasi Layanan Perizinan",
        regions=["33.74"], affairs=["2.18"], third_parties=["@Universitas Diponegoro", "PT Telkom Indonesia, Tbk"],
        signed_on=D(2024, 5, 20),
    )
    AgreementFactory(number="KB/DRAFT/2025", title="Rancangan kerja sama pariwisata", signed_on=None,
                     regions=["32.10", "33.74"])
    AgreementFactory(  # signed long ago, no PKS: stalled
        number="KB/LAMA/2020", title="Kerja sama lama tanpa PKS", signed_on=D(2020, 1, 10), regions=["32.73", "33.74"],
    )
    AgreementFactory(
        number="KB/HENTI/2021", title="Kerja sama yang dihentikan", signed_on=D(2021, 3, 1),
        starts_on=D(2021, 4, 1), ends_on=D(2026, 3, 31), terminated_on=D(2022, 8, 17),
    )
    bandung = get_region("32.73")
    MilestoneFactory(agreement=pks, title="Serah terima lahan", responsible_region=bandung, due_on=D(2023, 9, 30),
                     started_on=D(2023, 7, 1), completed_on=D(2023, 9, 1), status=Milestone.Status.MET, progress=100)
    MilestoneFactory(agreement=pks, title="Pembangunan sel TPA", responsible_region=get_region("32.04"),
                     due_on=D(2024, 3, 31), started_on=D(2023, 10, 1), status=Milestone.Status.IN_PROGRESS,
                     progress=35)
    MilestoneFactory(agreement=pks, title="Evaluasi tahunan", due_on=None)
    MilestoneFactory(agreement=kb, title="Tahap tanpa kemajuan", due_on=D(2023, 12, 31),
                     status=Milestone.Status.NOT_MET)


def milestone_facts() -> list[tuple]:
    return sorted(Milestone.objects.values_list(
        "agreement__number", "title", "responsible_region__code", "due_on", "started_on", "completed_on", "status",
        "progress",
    ))


def milestones_csv() -> bytes:
    """The stored milestones as the import template's milestones sheet, as a CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MILESTONE_COLUMNS)
    for facts in milestone_facts():
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, D) else v for v in facts])
    return buffer.getvalue().encode()


def relation_facts() -> list[tuple]:
    """Parents, parties, third parties and affairs, by number (what the export's lists encode)."""
    return sorted(
        (a.number, a.parent.number if a.parent else "",
         tuple(sorted(AgreementParty.objects.filter(agreement=a).values_list("region__code", flat=True))),
         tuple(sorted(ThirdParty.objects.filter(agreement=a).values_list("name", flat=True))),
         tuple(sorted(a.affairs.values_list("code", flat=True))))
        for a in Agreement.objects.select_related("parent")
    )


def export(client, fmt: str) -> bytes:
    response = client.get(f"/agreements/export.{fmt}", {"sort": "number"})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def empty_register():
    """Delete every agreement (milestones first, then the PKS, whose parent KB is protected)."""
    Milestone.objects.all().delete()
    Agreement.objects.filter(document_type=Agreement.DocumentType.PKS).delete()
    Agreement.objects.all().delete()
    assert not Agreement.objects.exists()


def xlsx_rows(data: bytes) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [tuple(row) for row in workbook["agreements"].iter_rows(values_only=True)]
    finally:
        workbook.close()


@pytest.fixture
def staff_client(client, db):
    user = UserFactory(username="staf-ekspor", role="ministry")
    client.force_login(user)
    client.user = user
    return client


def test_csv_export_imports_into_an_empty_database_and_exports_again_identically(staff_client):
    build_register()
    first = export(staff_client, "csv")
    milestones, facts, relations = milestones_csv(), milestone_facts(), relation_facts()
    lines = first.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == AGREEMENT_COLUMNS + EXPORT_EXTRA_COLUMNS
    assert len(lines) > 7  # the scope spans two lines, so there are more lines than rows
    # The guarded cells are in the file as the import will see them.
    assert "'=Pengelolaan Sampah Regional" in first.decode()
    assert "'@Universitas Diponegoro;PT Telkom Indonesia, Tbk" in first.decode()

    empty_register()
    plan = importers.import_files((first, "agreements.csv"), (milestones, "milestones.csv"), user=staff_client.user)

    assert plan.ok, [str(p) for p in plan.problems]
    assert (plan.agreement_counts.created, plan.milestone_counts.created) == (6, 4)
    assert milestone_facts() == facts
    assert relation_facts() == relations
    assert Agreement.objects.get(number="119/01/KB/2023").title == "=Pengelolaan Sampah Regional"
    second = export(staff_client, "csv")
    assert second == first

    # And importing the export again changes nothing.
    again = importers.import_files((second, "agreements.csv"), (milestones, "milestones.csv"), user=staff_client.user)
    assert (again.agreement_counts.unchanged, again.milestone_counts.unchanged) == (6, 4)


def test_xlsx_export_imports_with_the_command_and_exports_again_identically(staff_client, tmp_path):
    build_register()
    first = export(staff_client, "xlsx")
    first_rows = xlsx_rows(first)
    assert list(first_rows[0]) == AGREEMENT_COLUMNS + EXPORT_EXTRA_COLUMNS
    assert len(first_rows) == 7
    stalled = [row for row in first_rows[1:] if row[0] == "KB/LAMA/2020"][0]
    assert stalled[-2] and stalled[-1] > 0  # the read-only columns carry a stall, and must come back too
    milestones, facts, relations = milestones_csv(), milestone_facts(), relation_facts()
    (tmp_path / "register.xlsx").write_bytes(first)
    (tmp_path / "milestones.csv").write_bytes(milestones)

    empty_register()
    out = io.StringIO()
    call_command("import_agreements", str(tmp_path / "register.xlsx"), "--milestones",
                 str(tmp_path / "milestones.csv"), stdout=out)

    assert Agreement.objects.count() == 6
    assert milestone_facts() == facts
    assert relation_facts() == relations
    assert xlsx_rows(export(staff_client, "xlsx")) == first_rows
