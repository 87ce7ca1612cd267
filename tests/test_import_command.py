"""``manage.py import_agreements``: exit status, dry run, CSV milestones, audit attribution."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agreements.models import Agreement, Milestone, MilestoneUpdate
from agreements.spreadsheet import AGREEMENT_COLUMNS, MILESTONE_COLUMNS
from tests.factories import AgreementFactory, UserFactory
from tests.test_import import agreement_row, csv_bytes, milestone_row, workbook

pytestmark = pytest.mark.django_db


def command(*args):
    """Run the command the way a shell does; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_agreements", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_imports_a_workbook_with_both_sheets(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(workbook([agreement_row()], [milestone_row()]))
    status, out, _err = command(str(path))
    assert status == 0
    assert "agreements: 1 created, 0 updated, 0 unchanged" in out
    assert "milestones: 1 created, 0 updated, 0 unchanged" in out
    agreement = Agreement.objects.get()
    record = agreement.history.get()
    assert record.history_user is None and record.history_change_reason == "import"
    assert Milestone.objects.get().history.get().history_change_reason == "import"
    assert MilestoneUpdate.objects.get().user is None


def test_user_option_attributes_the_history(tmp_path):
    user = UserFactory(username="admin-data")
    path = tmp_path / "data.xlsx"
    path.write_bytes(workbook([agreement_row()]))
    assert command(str(path), "--user", "admin-data")[0] == 0
    assert Agreement.objects.get().history.get().history_user == user
    assert command(str(path), "--user", "nobody")[0] == 1


def test_errors_exit_1_and_write_nothing(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_bytes(workbook([agreement_row(), agreement_row(number="KB/2", region_codes="32.73;99.99")]))
    status, _out, err = command(str(path))
    assert status == 1
    assert "agreements, row 3, region_codes" in err
    assert "99.99" in err
    assert Agreement.objects.count() == 0


def test_dry_run_reports_counts_and_writes_nothing(tmp_path):
    AgreementFactory(number="KB/001/2024", title="Lama")
    AgreementFactory(number="KB/SAME", title="Kawasan Wisata Terpadu", regions=["32.73", "32.04"], affairs=["3.26"])
    path = tmp_path / "data.xlsx"
    path.write_bytes(workbook([agreement_row(), agreement_row(number="KB/NEW")], [milestone_row()]))
    status, out, _err = command(str(path), "--dry-run")
    assert status == 0
    assert "agreements: 1 to create, 1 to update, 0 unchanged" in out
    assert "milestones: 1 to create, 0 to update, 0 unchanged" in out
    assert "nothing was written" in out
    assert Agreement.objects.get(number="KB/001/2024").title == "Lama"
    assert Agreement.objects.count() == 2 and Milestone.objects.count() == 0


def test_csv_files_with_milestones_option_and_second_run_unchanged(tmp_path):
    agreements = tmp_path / "agreements.csv"
    agreements.write_bytes(csv_bytes([AGREEMENT_COLUMNS, agreement_row()], delimiter=";", bom=True))
    milestones = tmp_path / "milestones.csv"
    milestones.write_bytes(csv_bytes([MILESTONE_COLUMNS, milestone_row()]))
    assert command(str(agreements), "--milestones", str(milestones))[0] == 0
    assert Milestone.objects.get().agreement.number == "KB/001/2024"
    history = Agreement.history.count() + Milestone.history.count()
    status, out, _err = command(str(agreements), "--milestones", str(milestones))
    assert status == 0 and "milestones: 0 created, 0 updated, 1 unchanged" in out
    assert Agreement.history.count() + Milestone.history.count() == history


def test_milestone_errors_name_the_milestones_file(tmp_path):
    agreements = tmp_path / "agreements.csv"
    agreements.write_bytes(csv_bytes([AGREEMENT_COLUMNS, agreement_row()]))
    milestones = tmp_path / "tahapan.csv"
    milestones.write_bytes(csv_bytes([MILESTONE_COLUMNS, milestone_row(agreement_number="KB/NONE")]))
    status, _out, err = command(str(agreements), "--milestones", str(milestones))
    assert status == 1
    assert "tahapan.csv, row 2, agreement_number" in err


@pytest.mark.parametrize("content", [b"", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"])
def test_refused_files_exit_1(tmp_path, content):
    path = tmp_path / "file.xlsx"
    path.write_bytes(content)
    status, _out, err = command(str(path))
    assert status == 1 and err.strip()


def test_missing_file_exits_1(tmp_path):
    assert command(str(tmp_path / "none.xlsx"))[0] == 1
