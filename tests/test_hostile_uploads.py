"""Hostile uploads: PDFs are parsed with pypdf and refused when they carry active content wherever
it hides (name escapes, compressed object streams, embedded files, automatic actions) or cannot be read; images
are refused above ``UPLOAD_MAX_IMAGE_PIXELS`` before any pixel is decoded.

Every hostile file is built here, by hand or with pypdf's writer: no binary fixture."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, PngImagePlugin
from pypdf import PdfWriter

from agreements import uploads
from agreements.models import Document
from tests.factories import AgreementFactory

ACTIVE = "This PDF contains active content"
UNREADABLE = "This PDF cannot be read"

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def build_pdf(objects: dict[int, bytes]) -> bytes:
    """A PDF with a classic cross-reference table, object 1 its catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, start)
    return bytes(out)


def document(catalog: bytes = CATALOG, page: bytes = PAGE, **extra: bytes) -> bytes:
    """The one-page document, with its catalog or page replaced and objects 4, 5, ... added."""
    objects = {1: catalog, 2: PAGES, 3: page}
    objects.update({int(key[1:]): body for key, body in extra.items()})
    return build_pdf(objects)


def build_pdf_with_object_stream(regular: dict[int, bytes], compressed: dict[int, bytes]) -> bytes:
    """A PDF 1.5 whose ``compressed`` objects sit in a FlateDecode /ObjStm, with a cross-reference stream."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(regular.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    numbers = sorted(compressed)
    bodies, header, position = b"", b"", 0
    for number in numbers:
        header += b"%d %d " % (number, position)
        bodies += compressed[number] + b"\n"
        position = len(bodies)
    data = zlib.compress(header + b"\n" + bodies)
    stream_number = max(regular | compressed) + 1
    offsets[stream_number] = len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
            % (stream_number, len(numbers), len(header) + 1, len(data))) + data + b"\nendstream\nendobj\n"
    xref_number = stream_number + 1
    offsets[xref_number] = len(out)
    size = xref_number + 1
    rows = b""
    for number in range(size):
        if number in offsets:
            rows += struct.pack(">BIH", 1, offsets[number], 0)
        elif number in compressed:
            rows += struct.pack(">BIH", 2, stream_number, numbers.index(number))
        else:
            rows += struct.pack(">BIH", 0, 0, 65535)
    rows = zlib.compress(rows)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
            % (xref_number, size, len(rows))) + rows + b"\nendstream\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def written_pdf(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def scan_pdf() -> bytes:
    """A page "scanned" to PDF, as Pillow (and many scanner apps) write it."""
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF", resolution=72)
    return buffer.getvalue()


def check(content: bytes, field: str = "file"):
    upload = SimpleUploadedFile("dokumen.pdf", content, content_type="application/pdf")
    return uploads.check_upload(upload, max_bytes=uploads.SCAN_MAX_BYTES, field=field)


def refusal(content: bytes, field: str = "file") -> str:
    with pytest.raises(ValidationError) as exc:
        check(content, field)
    (message,) = exc.value.message_dict[field]
    return message


# ---------------------------------------------------------------------------------------------------------------
# PDFs


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(document(), id="plain"),
        # What LaTeX's hyperref writes: open at page 1, fit in the window. A destination, not an action.
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>"), id="open-at-page"),
        pytest.param(document(page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
                              o4=b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] "
                                 b"/A << /S /URI /URI (https://www.kemendagri.go.id/) >> >>"), id="web-link"),
        pytest.param(build_pdf_with_object_stream({1: CATALOG}, {2: PAGES, 3: PAGE}), id="object-stream"),
        pytest.param(written_pdf(lambda writer: None), id="pypdf-writer"),
        pytest.param(scan_pdf(), id="image-saved-as-pdf"),
    ],
)
def test_plain_pdfs_are_accepted(content):
    assert check(content).content_type == "application/pdf"


@pytest.mark.parametrize(
    "content",
    [
        # The byte pattern of the old check did not see these: the parser decodes #xx in names.
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript "
                                      b"/J#53 (app.alert(1)) >> >>"), id="hex-escaped-javascript"),
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
                              o4=b"<< /S /L#61unch /F (cmd.exe) >>"), id="hex-escaped-launch"),
        # A JavaScript action in a link annotation, deflated inside an object stream.
        pytest.param(build_pdf_with_object_stream(
            {1: CATALOG, 2: PAGES},
            {3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
             4: b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 5 0 R >>",
             5: b"<< /S /JavaScript /JS (app.launchURL('https://evil.example')) >>"}), id="javascript-in-object-stream"),
        # The document-level JavaScript name tree; an embedded file as pypdf's writer attaches it.
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
                              o4=b"<< /Names [(init) 5 0 R] >>", o5=b"<< /Type /Action /S /JavaScript /JS 6 0 R >>",
                              o6=b"<< /Length 13 >>\nstream\napp.alert(1);\nendstream"), id="names-javascript"),
        pytest.param(written_pdf(lambda writer: writer.add_attachment("data.exe", b"MZ")), id="embedded-file"),
        pytest.param(document(page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
                              o4=b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 5 0 R >>",
                              o5=b"<< /Type /Filespec /F (a.txt) >>"), id="file-attachment-annotation"),
        pytest.param(document(o4=b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"), id="embedded-file-stream"),
        # Automatic actions: on opening the document, a page, a form field.
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /URI "
                                      b"/URI (https://evil.example/track) >> >>"), id="open-action-uri"),
        pytest.param(document(page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                                   b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >> >>"), id="page-additional-actions"),
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
                              o4=b"<< /FT /Tx /T (nama) /AA 5 0 R >>", o5=b"<< /K << /S /GoTo /D [3 0 R /Fit] >> >>"),
                     id="form-field-additional-actions"),
        # A javascript: link written with an octal escape, which the HTML marker does not see either.
        pytest.param(document(page=b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
                              o4=b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] "
                                 b"/A << /S /URI /URI (j\\141vascript:alert\\(1\\)) >> >>"), id="javascript-uri"),
        # No cross-reference table at all: read the way a viewer repairs it, and checked all the same.
        pytest.param(b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj",
                     id="no-xref"),
    ],
)
def test_active_content_is_refused_wherever_it_sits(content):
    assert refusal(content, field="evidence") == (
        "This PDF contains active content (JavaScript, launch actions, embedded files or automatic actions) "
        "and is refused."
    )


def test_old_byte_pattern_missed_these_files():
    """The hostile files above are not caught by a search for the raw names: the parser is what finds them."""
    escaped = document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /J#53 (x) >> >>")
    compressed = build_pdf_with_object_stream({1: CATALOG, 2: PAGES}, {3: PAGE, 4: b"<< /S /JavaScript /JS (x) >>"})
    for content in (escaped, compressed):
        assert b"/JavaScript" not in content and b"/JS " not in content
        assert ACTIVE in refusal(content)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages [", id="truncated-object"),
        # A lenient parser drops the rest of a dictionary after a stray token, or keeps one of two values of a
        # key; a viewer may read them otherwise and run the action: such objects make the file unreadable.
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /Foo ) /OpenAction << /S /JavaScript "
                                      b"/JS (x) >> >>"), id="stray-token-hides-the-rest"),
        pytest.param(document(catalog=b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /S /JavaScript "
                                      b"/JS (x) >> >>".replace(b"/JS (x) ", b"")), id="key-defined-twice"),
        pytest.param(build_pdf_with_object_stream({1: CATALOG}, {2: PAGES, 3: PAGE}).replace(b"/ObjStm /N 2",
                                                                                             b"/ObjStm /N 9"),
                     id="bad-object-stream"),
    ],
)
def test_unreadable_pdf_is_refused_with_a_clear_message(content):
    assert refusal(content) == "This PDF cannot be read (it is damaged, encrypted or not a real PDF) and is refused."


def test_pdf_with_too_many_objects_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "PDF_MAX_OBJECTS", 3)
    assert check(document()).content_type == "application/pdf"  # 3 objects
    assert refusal(document(o4=b"null")) == "This PDF is too complex to be checked and is refused."


def test_html_in_a_pdf_is_still_refused():
    assert refusal(document(o4=b"<< /Length 30 >>\nstream\n<script>alert(1)</script>\nendstream")) == (
        "This PDF holds HTML or script and is refused.")


def test_pypdf_does_not_log_file_contents(caplog):
    """A damaged file makes pypdf warn (about what it repairs); none of it reaches the application's logs."""
    with caplog.at_level("DEBUG"):
        refusal(b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (secret-payload-7731) >> >> endobj")
    assert caplog.records == []


@pytest.mark.django_db
def test_upload_page_refuses_a_pdf_with_compressed_javascript(client, media_root, personas):
    agreement = AgreementFactory()
    content = build_pdf_with_object_stream({1: CATALOG, 2: PAGES}, {3: PAGE, 4: b"<< /S /JavaScript /JS (x) >>"})
    client.force_login(personas["local_in"])
    response = client.post(reverse("document-upload", args=[agreement.pk]), {
        "doc_type": "kb", "file": SimpleUploadedFile("kb.pdf", content, content_type="application/pdf"),
    })
    assert response.status_code == 200
    assert ACTIVE in response.content.decode()
    assert Document.objects.count() == 0
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


# ---------------------------------------------------------------------------------------------------------------
# Images


def png_header(width: int, height: int) -> bytes:
    """A PNG that announces ``width`` × ``height`` pixels: the signature and the IHDR chunk are all Pillow reads
    before it is asked to decode (a 343 KB PNG of 9400 × 9400 took a worker to 405 MB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\x00" * 1024)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def image_upload(content: bytes, name: str = "foto.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def test_image_above_the_pixel_limit_is_refused_before_decoding(monkeypatch, settings):
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append("load"))
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "verify", lambda self: decoded.append("verify"))
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(image_upload(png_header(9400, 9400)), max_bytes=uploads.EVIDENCE_MAX_BYTES,
                             field="evidence")
    assert exc.value.message_dict["evidence"] == [
        "The image is too large: 9400 × 9400 pixels, the limit is 40 megapixels."]
    assert decoded == []
    settings.UPLOAD_MAX_IMAGE_PIXELS = 100_000_000  # under the limit, the same file would be decoded
    uploads.check_upload(image_upload(png_header(9400, 9400)), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    assert decoded == ["verify", "load"]


def test_default_pixel_limit_is_40_megapixels(settings):
    assert settings.UPLOAD_MAX_IMAGE_PIXELS == 40_000_000
    del settings.UPLOAD_MAX_IMAGE_PIXELS
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(image_upload(png_header(8000, 5001)), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    assert "8000 × 5001 pixels, the limit is 40 megapixels" in exc.value.message_dict["file"][0]


def test_pixel_limit_is_a_setting(settings):
    buffer = io.BytesIO()
    Image.new("RGB", (100, 60), "red").save(buffer, format="JPEG")
    settings.UPLOAD_MAX_IMAGE_PIXELS = 6000
    assert uploads.check_upload(image_upload(buffer.getvalue(), "foto.jpg"), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    settings.UPLOAD_MAX_IMAGE_PIXELS = 5999
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(image_upload(buffer.getvalue(), "foto.jpg"), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    assert exc.value.message_dict["file"] == ["The image is too large: 100 × 60 pixels, the limit is 0.005999 megapixels."]


def test_image_beyond_pillows_own_limit_is_refused_as_too_large():
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(image_upload(png_header(20000, 20000)), max_bytes=uploads.EVIDENCE_MAX_BYTES)
    assert exc.value.message_dict["file"][0].startswith("The image is too large")
