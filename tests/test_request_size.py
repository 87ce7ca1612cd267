"""Request bodies are refused by their declared size before they are read: 413 with the app's page, the view
never runs, and each upload page accepts what its largest file needs."""

import pytest
from django.urls import reverse

from agreements import importers, uploads
from agreements.middleware import MB, request_limit
from agreements.models import Agreement, ImportJob
from agreements.views.imports import ImportUploadForm
from tests.factories import AgreementFactory, MilestoneFactory

pytestmark = pytest.mark.django_db


def _post(client, url, size):
    return client.post(url, {"x": "1"}, CONTENT_LENGTH=str(size))


@pytest.mark.parametrize("url", ["/import/", "/accounts/login/", "/agreements/new/", "/admin/agreements/document/add/"])
def test_a_body_over_the_routes_limit_is_refused_before_it_is_read(client, personas, url):
    client.force_login(personas["admin"])
    response = _post(client, url, 300 * MB)
    assert response.status_code == 413
    assert "larger than this page accepts" in response.content.decode()
    assert not ImportJob.objects.exists() and not Agreement.objects.exists()


def test_each_upload_page_accepts_what_its_files_need(client, rf, personas, settings):
    client.force_login(personas["ministry"])
    agreement = AgreementFactory()
    milestone = MilestoneFactory()
    limits = {
        reverse("import-upload"): len(ImportUploadForm.FILE_FIELDS) * importers.MAX_FILE_SIZE,
        reverse("agreement-sign", args=[agreement.pk]): uploads.SCAN_MAX_BYTES,
        reverse("document-upload", args=[agreement.pk]): uploads.SCAN_MAX_BYTES,
        reverse("milestone-update", args=[milestone.pk]): uploads.EVIDENCE_MAX_BYTES,
        reverse("followup-create-agreement", args=[agreement.pk]): uploads.EVIDENCE_MAX_BYTES,
        reverse("followup-create-region", args=["32.73"]): uploads.EVIDENCE_MAX_BYTES,
        reverse("amendment-create", args=[agreement.pk]): uploads.SCAN_MAX_BYTES,
        reverse("evaluation-create", args=[milestone.agreement_id]): uploads.EVIDENCE_MAX_BYTES,
        reverse("actual-create", args=[1]): uploads.EVIDENCE_MAX_BYTES,
        reverse("guidance-event-create"): uploads.SCAN_MAX_BYTES,
    }
    for url, files in limits.items():
        assert _post(client, url, files + 2 * MB).status_code == 413, url
        # The file at its largest, with its form, is within the route's limit.
        assert files < request_limit(rf.post(url)) <= files + MB, url
    assert _post(client, reverse("profile"), settings.REQUEST_MAX_BYTES + 1).status_code == 413
    assert request_limit(rf.post(reverse("profile"))) == settings.REQUEST_MAX_BYTES


def test_a_content_length_that_is_not_a_number_is_a_bad_request(client):
    assert client.post("/accounts/login/", {"x": "1"}, CONTENT_LENGTH="many").status_code == 400
