"""Upload checks: type by content, size caps, empty files, safe names, nothing
stored on refusal, download only through the access-checked view."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from agreements import services, uploads
from agreements.models import Document
from tests.factories import AgreementFactory, MilestoneFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "expected_type", "expected_name"),
    [
        ("Scan KB.pdf", PDF_BYTES, "application/pdf", "Scan KB.pdf"),
        ("foto.JPG", image_bytes("JPEG"), "image/jpeg", "foto.jpg"),
        ("peta.png", image_bytes("PNG"), "image/png", "peta.png"),
        # The name's extension is not trusted: a PNG called .pdf is stored and named as a PNG.
        ("bukti.pdf", image_bytes("PNG"), "image/png", "bukti.png"),
    ],
)
def test_accepted_types_are_detected_by_content(name, content, expected_type, expected_name):
    checked = uploads.check_upload(upload(name, content, "application/octet-stream"), max_bytes=uploads.SCAN_MAX_BYTES)
    assert checked.content_type == expected_type
    assert checked.original_name == expected_name
    assert checked.size == len(content)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HTML_BYTES, "none of them"),  # an HTML page renamed .pdf
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "HTML or script"),  # a polyglot
        (b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj", "active content"),
        (b"MZ\x90\x00 an executable", "none of them"),
        (image_bytes("PNG")[:40], "none of them"),  # a truncated PNG does not decode
        (image_bytes("GIF"), "none of them"),  # a real image, but not an accepted type
    ],
)
def test_wrong_content_is_refused(content, message):
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(upload("laporan.pdf", content), max_bytes=uploads.SCAN_MAX_BYTES)
    assert message in exc.value.message_dict["file"][0]


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(upload("kosong.pdf", b""), max_bytes=uploads.SCAN_MAX_BYTES)
    assert exc.value.message_dict["file"] == ["The file is empty."]


def test_size_caps_are_10_mb_for_evidence_and_20_mb_for_scans():
    assert uploads.EVIDENCE_MAX_BYTES == 10 * 1024 * 1024
    assert uploads.SCAN_MAX_BYTES == 20 * 1024 * 1024
    big = PDF_BYTES + b"0" * (uploads.EVIDENCE_MAX_BYTES + 1 - len(PDF_BYTES))
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(upload("besar.pdf", big), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    assert "too large" in exc.value.message_dict["file"][0]
    assert uploads.check_upload(upload("besar.pdf", big), max_bytes=uploads.SCAN_MAX_BYTES).size == len(big)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\x\\Laporan Akhir.pdf", "Laporan Akhir.pdf"),
        ('<img src=x onerror="a">.pdf', "_img src_x onerror__a__.pdf"),
        ("nama\x00\x1f.pdf", "nama.pdf"),
        (".pdf", "document.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(raw, expected):
    assert uploads.sanitize_filename(raw, ".pdf") == expected


@pytest.mark.django_db
def test_accepted_document_is_stored_under_a_generated_name_outside_static(media_root, ministry_user):
    agreement = AgreementFactory()
    document = services.document_upload(
        agreement=agreement, user=ministry_user, uploaded=upload("KB Bandung.pdf", PDF_BYTES),
        doc_type=Document.Type.KB_SCAN,
    )
    assert document.original_name == "KB Bandung.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF_BYTES)
    assert document.file.name.startswith("documents/") and document.file.name.endswith(".pdf")
    assert "Bandung" not in document.file.name
    (path,) = stored_files(media_root)
    assert path.read_bytes() == PDF_BYTES
    assert "static" not in path.parts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("doc_type", "content", "message"),
    [
        (Document.Type.KB_SCAN, HTML_BYTES, "none of them"),
        (Document.Type.EVIDENCE, b"", "empty"),
        (Document.Type.EVIDENCE, PDF_BYTES + b"0" * uploads.EVIDENCE_MAX_BYTES, "too large"),
        (Document.Type.KB_SCAN, PDF_BYTES + b"0" * uploads.SCAN_MAX_BYTES, "too large"),
    ],
)
def test_refused_upload_stores_nothing(media_root, ministry_user, doc_type, content, message):
    agreement = AgreementFactory()
    with pytest.raises(ValidationError) as exc:
        services.document_upload(agreement=agreement, user=ministry_user, uploaded=upload("x.pdf", content),
                                 doc_type=doc_type)
    assert message in exc.value.message_dict["file"][0]
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_refused_evidence_on_milestone_update_stores_nothing(media_root, ministry_user):
    milestone = MilestoneFactory()
    with pytest.raises(ValidationError) as exc:
        services.milestone_update_status(
            milestone=milestone, user=ministry_user, status="in_progress", progress=20,
            started_on=milestone.due_on, completed_on=None, note="", evidence=upload("bukti.pdf", HTML_BYTES),
            expected_version=1,
        )
    assert "evidence" in exc.value.message_dict
    milestone.refresh_from_db()
    assert (milestone.status, milestone.version, milestone.updates.count()) == ("scheduled", 1, 0)
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_upload_view_refuses_html_renamed_pdf_with_a_clear_message(client, media_root, personas):
    agreement = AgreementFactory()
    client.force_login(personas["local_in"])
    response = client.post(reverse("document-upload", args=[agreement.pk]), {
        "doc_type": "kb", "file": upload("kb.pdf", HTML_BYTES),
    })
    assert response.status_code == 200
    assert "Only PDF, JPEG or PNG files are accepted" in response.content.decode()
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_upload_view_stores_evidence_and_download_is_an_attachment(client, media_root, personas):
    milestone = MilestoneFactory()
    client.force_login(personas["local_in"])
    response = client.post(reverse("document-upload", args=[milestone.agreement_id]), {
        "doc_type": "evidence", "milestone": milestone.pk, "file": upload("foto kegiatan.jpeg", image_bytes("JPEG")),
    })
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.milestone, document.content_type, document.original_name) == (
        milestone, "image/jpeg", "foto kegiatan.jpg")
    response = client.get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "foto kegiatan.jpg" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == image_bytes("JPEG")
