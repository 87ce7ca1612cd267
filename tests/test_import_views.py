"""The import pages: who may use them, report, preview, confirm, cancel, the template download."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import importers
from agreements.models import Agreement, AgreementParty, ImportJob, Milestone
from agreements.spreadsheet import AGREEMENT_COLUMNS, PARTY_COLUMNS
from tests.factories import PASSWORD, AgreementFactory, UserFactory, region
from tests.test_import import agreement_row, csv_bytes, milestone_row, workbook
from tests.test_import_parties import party_row

pytestmark = pytest.mark.django_db

UPLOAD = "/import/"
TEMPLATE = "/import/template.xlsx"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_user(role):
    regions = {"province": region("32"), "local": region("32.73")}
    return UserFactory(username=f"u-{role}", role=role, region=regions.get(role))


def login(client, role):
    user = make_user(role)
    client.force_login(user)
    return user


def upload(client, data, name="data.xlsx", milestones=None):
    files = {"agreements_file": SimpleUploadedFile(name, data)}
    if milestones is not None:
        files["milestones_file"] = SimpleUploadedFile("milestones.csv", milestones)
    return client.post(UPLOAD, files)


def test_urls_have_the_fixed_names():
    assert reverse("import-upload") == UPLOAD
    assert reverse("import-template") == TEMPLATE


@pytest.mark.parametrize("url", [UPLOAD, TEMPLATE])
@pytest.mark.parametrize(
    "role, status", [(None, 302), ("local", 403), ("province", 200), ("ministry", 200), ("admin", 200)]
)
def test_permission_matrix(client, url, role, status):
    if role:
        login(client, role)
    response = client.get(url)
    assert response.status_code == status
    if role is None:
        assert response["Location"].startswith(reverse("login"))


def test_kabupaten_kota_officer_cannot_post_an_import(client):
    login(client, "local")
    assert upload(client, workbook([agreement_row()])).status_code == 403
    assert Agreement.objects.count() == 0


def test_upload_page_queries_are_bounded(client, django_assert_max_num_queries):
    login(client, "ministry")
    with django_assert_max_num_queries(6):
        response = client.get(UPLOAD)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'enctype="multipart/form-data"' in content and 'for="id_agreements_file"' in content


def test_problems_are_listed_and_nothing_is_written(client):
    login(client, "ministry")
    response = upload(client, workbook([agreement_row(region_codes="32.73;99.99"), agreement_row(number="")]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "99.99" in content and '<th scope="col">' in content
    assert len(response.context["problems"]) == 2
    assert Agreement.objects.count() == 0


def test_refused_file_is_reported_on_the_form(client):
    login(client, "ministry")
    response = upload(client, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", name="scan.pdf")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Agreement.objects.count() == 0


def test_file_over_20_mb_is_refused_by_the_form(client, monkeypatch):
    monkeypatch.setattr(importers, "MAX_FILE_SIZE", 10)
    login(client, "ministry")
    response = upload(client, workbook([agreement_row()]))
    assert response.context["form"].errors["agreements_file"]
    assert Agreement.objects.count() == 0


def _preview_queries(client, django_assert_max_num_queries, count):
    rows = [agreement_row(number=f"KB/{i}") for i in range(count)]
    milestones = [milestone_row(agreement_number=f"KB/{i}", title=f"T{j}") for i in range(count) for j in range(2)]
    data = workbook(rows, milestones)
    with CaptureQueriesContext(connection) as ctx:
        response = upload(client, data)
    assert response.status_code == 200 and "token" in response.context
    return len(ctx.captured_queries)


def test_preview_then_confirm_imports_with_the_user_in_the_history(client, django_assert_max_num_queries):
    user = login(client, "ministry")
    response = upload(client, workbook([agreement_row()], [milestone_row()]))
    assert response.status_code == 200
    assert response.context["agreement_counts"].created == 1
    assert response.context["milestone_counts"].created == 1
    assert "KB/001/2024" in response.content.decode()
    assert Agreement.objects.count() == 0  # the preview writes nothing
    job = ImportJob.objects.get()
    assert (job.state, job.user, job.agreements_name) == ("preview", user, "data.xlsx")
    assert job.agreements_data  # kept on the job, in the database, until it is done
    token = response.context["token"]
    response = client.post(UPLOAD, {"action": "confirm", "token": token})
    assert response.status_code == 302 and response["Location"] == reverse("import-job", args=[job.pk])
    agreement = Agreement.objects.get()
    assert agreement.history.get().history_user == user
    assert Milestone.objects.get().history.get().history_user == user
    job.refresh_from_db()
    assert (job.state, job.agreements_data, job.rows_written) == ("done", None, 2)  # the file is cleared
    page = client.get(response["Location"])
    assert "The import is done" in page.content.decode()
    imported = client.get(page.context["imported_url"])
    assert [a.number for a in imported.context["page"].object_list] == ["KB/001/2024"]


def test_preview_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    login(client, "ministry")
    few = _preview_queries(client, django_assert_max_num_queries, 2)
    many = _preview_queries(client, django_assert_max_num_queries, 30)
    assert few == many


def test_cancel_discards_the_stored_file(client):
    login(client, "ministry")
    response = upload(client, workbook([agreement_row()]))
    token = response.context["token"]
    response = client.post(UPLOAD, {"action": "cancel", "token": token})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.state, job.agreements_data) == ("cancelled", None)
    assert Agreement.objects.count() == 0


def test_confirm_needs_the_uploaders_own_job(client):
    login(client, "ministry")
    upload(client, workbook([agreement_row()]))
    job = ImportJob.objects.get()
    response = client.post(UPLOAD, {"action": "confirm", "token": "0" * 32})
    assert response.status_code == 302
    assert Agreement.objects.count() == 0
    other = UserFactory(username="other", role="ministry")
    client.force_login(other)
    response = client.post(UPLOAD, {"action": "confirm", "token": job.pk})
    assert response.status_code == 302 and Agreement.objects.count() == 0
    assert client.get(reverse("import-job", args=[job.pk])).status_code == 404
    assert client.post(reverse("import-job", args=[job.pk]), {"action": "confirm"}).status_code == 404
    assert ImportJob.objects.get().state == "preview"


def test_confirm_validates_again_against_the_current_register(client):
    login(client, "ministry")
    response = upload(client, workbook([agreement_row(number="PKS/1", document_type="PKS",
                                                      parent_number="KB/DB", signed_on="2024-03-01")]))
    assert [p.column for p in response.context["problems"]] == ["parent_number"]  # parent unknown yet
    kb = AgreementFactory(number="KB/DB")
    response = upload(client, workbook([agreement_row(number="PKS/1", document_type="PKS",
                                                      parent_number="KB/DB", signed_on="2024-03-01")]))
    token = response.context["token"]
    kb.document_type = "PKS"  # the register changed between preview and confirm
    kb.save()
    response = client.post(UPLOAD, {"action": "confirm", "token": token}, follow=True)
    assert response.status_code == 200 and response.context["job"].state == "failed"
    assert [p.column for p in response.context["problems"]] == ["parent_number"]  # the report names the row
    assert "register changed since the preview" in response.content.decode()
    assert not Agreement.objects.filter(number="PKS/1").exists()


def test_provincial_officer_rows_outside_the_province_are_reported(client):
    login(client, "province")
    response = upload(client, workbook([agreement_row(region_codes="33.74;33.01")]))
    assert [p.column for p in response.context["problems"]] == ["region_codes"]
    response = upload(client, workbook([agreement_row()]))  # its kabupaten/kota only: read, not written
    assert [p.column for p in response.context["problems"]] == ["region_codes"]
    response = upload(client, workbook([agreement_row(region_codes="32;32.73")]))
    assert "token" in response.context


def test_semicolon_csv_upload_with_a_milestones_csv(client):
    login(client, "admin")
    response = upload(client, csv_bytes([AGREEMENT_COLUMNS, agreement_row()], delimiter=";", bom=True),
                      name="kerja-sama.csv",
                      milestones=csv_bytes([["agreement_number", "title", "status"], ["KB/001/2024", "Survei", ""]]))
    assert response.context["milestone_counts"].created == 1
    client.post(UPLOAD, {"action": "confirm", "token": response.context["token"]})
    assert Milestone.objects.get().status == "scheduled"


def test_a_parties_csv_on_the_upload_page_records_each_partys_signing_and_dprd_approval(client):
    login(client, "admin")
    agreements = csv_bytes([AGREEMENT_COLUMNS, agreement_row(signed_on="", dprd_approved_on="")])
    parties = csv_bytes([PARTY_COLUMNS, party_row(), party_row(
        region_code="32.04", signatory_name="Dadang Supriatna", signed_on="2024-01-15", dprd_required="no",
        dprd_approved_on="", dprd_decision_number="")], delimiter=";")
    response = client.post(UPLOAD, {"agreements_file": SimpleUploadedFile("kerja-sama.csv", agreements),
                                    "parties_file": SimpleUploadedFile("pihak.csv", parties)})
    assert response.context["party_counts"].created == 2
    assert "pihak.csv" in response.content.decode()
    client.post(UPLOAD, {"action": "confirm", "token": response.context["token"]})
    kota = AgreementParty.objects.get(region__code="32.73")
    assert (kota.signatory_name, kota.dprd_decision_number) == ("Muhammad Farhan", "12/DPRD/2023")
    assert Agreement.objects.get().signed_on.isoformat() == "2024-01-15"
    assert ImportJob.objects.get().parties_data is None  # the file is not kept once the import is done


def test_a_parties_csv_alone_updates_stored_parties_and_its_problems_name_the_parties_file(client):
    login(client, "admin")
    agreement = AgreementFactory(number="KB/001/2024", regions=[region("32.73"), region("32.04")])
    bad = csv_bytes([PARTY_COLUMNS, party_row(signed_on="31/02/2024")])
    response = client.post(UPLOAD, {"parties_file": SimpleUploadedFile("pihak.csv", bad)})
    problems = response.context["problems"]
    assert [(p.sheet, p.row, p.column) for p in problems] == [("pihak.csv", 2, "signed_on")]  # a CSV is named
    assert not AgreementParty.objects.filter(agreement=agreement, signatory_name="Muhammad Farhan").exists()
    good = csv_bytes([PARTY_COLUMNS, party_row(signed_on=agreement.signed_on.isoformat(), dprd_required="no",
                                               dprd_approved_on="", dprd_decision_number="")])
    response = client.post(UPLOAD, {"parties_file": SimpleUploadedFile("pihak.csv", good)})
    assert not response.context.get("problems"), response.context.get("problems")
    client.post(UPLOAD, {"action": "confirm", "token": response.context["token"]})
    assert AgreementParty.objects.get(agreement=agreement, region__code="32.73").signatory_name == "Muhammad Farhan"


def test_an_amendments_csv_alone_records_the_amendments_of_stored_agreements(client):
    from agreements.models import Amendment
    from agreements.spreadsheet import AMENDMENT_COLUMNS
    from tests.test_import_amendments import amendment_row

    login(client, "admin")
    agreement = AgreementFactory(number="KB/001/2024")
    data = csv_bytes([AMENDMENT_COLUMNS, amendment_row()], delimiter=";")
    response = client.post(UPLOAD, {"amendments_file": SimpleUploadedFile("adendum.csv", data)})
    assert response.context["amendment_counts"].created == 1
    assert "adendum.csv" in response.content.decode()
    client.post(UPLOAD, {"action": "confirm", "token": response.context["token"]})
    amendment = Amendment.objects.get(agreement=agreement)
    assert (amendment.number, amendment.ends_on.isoformat()) == ("1/ADD/2025", "2031-01-31")
    job = ImportJob.objects.get()
    assert job.summary["amendments"]["created"] == 1 and job.amendments_data is None


def test_an_upload_without_any_file_is_refused_on_the_form(client):
    login(client, "admin")
    response = client.post(UPLOAD, {})
    assert response.status_code == 200
    assert response.context["form"].errors["agreements_file"] == ["Choose a file to import."]
    assert not ImportJob.objects.exists()


def test_template_download(client, django_assert_max_num_queries):
    login(client, "province")
    with django_assert_max_num_queries(6):
        response = client.get(TEMPLATE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["instructions", "agreements", "milestones", "parties", "amendments", "codes"]
    assert [c.value for c in book["agreements"][1]] == AGREEMENT_COLUMNS


def test_nav_shows_the_import_link_to_importers_only(client):
    login(client, "ministry")
    assert 'href="/import/"' in client.get(UPLOAD).content.decode()
    client.force_login(make_user("local"))
    page = client.get(reverse("my-agreements"))
    assert 'href="/import/"' not in page.content.decode()


def test_password_login_reaches_the_page(client):
    make_user("admin")
    assert client.login(username="u-admin", password=PASSWORD)
    assert client.get(UPLOAD).status_code == 200
