"""Checks on uploaded files: the type by content, the size, and a safe name.

The browser's content type and the file name are never trusted. A PDF must start with the ``%PDF-``
signature and hold no HTML or script; a JPEG or PNG must decode with Pillow. Accepted files are
stored under generated names (see ``models.document_upload_to``) in MEDIA_ROOT, outside ``static/``,
and served only through the access-checked download view.
"""

import dataclasses
import re
import unicodedata
import warnings

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MB = 1024 * 1024
EVIDENCE_MAX_BYTES = 10 * MB
SCAN_MAX_BYTES = 20 * MB

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}

# Markers of HTML or script: a "PDF" holding them is refused (a browser or a viewer could run them).
_HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg", b"javascript:")
# PDF actions that run code or other programs.
_PDF_ACTION = re.compile(rb"/(JavaScript|JS|Launch)[\s/(<\[]")


@dataclasses.dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    extension: str
    original_name: str
    size: int


def sanitize_filename(name: str, extension: str = "", max_length: int = 200) -> str:
    """A display name without path, control characters or shell/HTML specials; ``extension`` replaces the suffix."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[^\w .()\-]", "_", name)
    name = re.sub(r"\s+", " ", name).strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.strip(" .") or "document"
    suffix = extension or (f".{ext.lower()[:5]}" if ext else "")
    return stem[: max_length - len(suffix)] + suffix


def _read_all(uploaded, limit: int) -> bytes:
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    uploaded.seek(0)
    return data


def _looks_like_html_or_script(data: bytes) -> bool:
    lowered = data.lower()
    return any(marker in lowered for marker in _HTML_MARKERS) or _PDF_ACTION.search(data) is not None


def _image_type(uploaded) -> str | None:
    """JPEG or PNG when the file fully decodes as one; None otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            uploaded.seek(0)
            with Image.open(uploaded) as image:
                image_format = image.format
                image.verify()
            uploaded.seek(0)
            with Image.open(uploaded) as image:
                image.load()  # verify() does not decode the pixels of a JPEG; load() does
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None
    finally:
        uploaded.seek(0)
    return {"JPEG": JPEG, "PNG": PNG}.get(image_format)


def check_upload(uploaded, *, max_bytes: int, field: str = "file") -> CheckedUpload:
    """Validate an uploaded file; raise ``ValidationError`` naming ``field`` with a clear message."""
    if uploaded is None:
        raise ValidationError({field: _("Choose a file to upload.")})
    size = uploaded.size or 0
    if size == 0:
        raise ValidationError({field: _("The file is empty.")})
    if size > max_bytes:
        raise ValidationError(
            {field: _("The file is too large: %(size).1f MB, the limit is %(limit)d MB.")
             % {"size": size / MB, "limit": max_bytes // MB}}
        )
    data = _read_all(uploaded, max_bytes)
    if len(data) > max_bytes:
        raise ValidationError({field: _("The file is too large: the limit is %(limit)d MB.") % {"limit": max_bytes // MB}})
    if not data:
        raise ValidationError({field: _("The file is empty.")})
    if data.startswith(b"%PDF-"):
        if _looks_like_html_or_script(data):
            raise ValidationError({field: _("This PDF holds HTML or script and is refused.")})
        content_type = PDF
    else:
        content_type = _image_type(uploaded)
        if content_type is None:
            raise ValidationError(
                {field: _("Only PDF, JPEG or PNG files are accepted; the content of this file is none of them.")}
            )
    extension = EXTENSIONS[content_type]
    return CheckedUpload(
        content_type=content_type,
        extension=extension,
        original_name=sanitize_filename(getattr(uploaded, "name", ""), extension),
        size=len(data),
    )
