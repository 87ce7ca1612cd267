"""Checks on uploaded files: the type by content, the size, and a safe name.

The browser's content type and the file name are never trusted. A PDF must start with the ``%PDF-``
signature, hold no HTML marker, parse with pypdf and carry no active content anywhere in the file (see
``_pdf_problem``); a JPEG or PNG must be at most ``settings.UPLOAD_MAX_IMAGE_PIXELS`` pixels (read from
the header, before any decoding) and decode with Pillow. Accepted files are stored under generated names
(see ``models.document_upload_to``) in MEDIA_ROOT, outside ``static/``, and served only through the
access-checked download view.
"""

import dataclasses
import io
import logging
import re
import time
import unicodedata
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

MB = 1024 * 1024
EVIDENCE_MAX_BYTES = 10 * MB
SCAN_MAX_BYTES = 20 * MB

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}

DEFAULT_MAX_IMAGE_PIXELS = 40_000_000  # ~40 MP: a phone photo, an A4 page scanned at 600 dpi

# Markers of HTML or script: a "PDF" holding them is refused (a browser or a viewer could run them).
_HTML_MARKERS = (b"<html", b"<script", b"<!doctype", b"<body", b"<iframe", b"<svg", b"javascript:")

# The PDF check walks every object of the file; a file with more objects, or that takes longer, is refused.
PDF_MAX_OBJECTS = 100_000
PDF_MAX_SECONDS = 20.0
# Active content, by the names the parser gives (``/J#61vaScript`` is read as ``/JavaScript``):
_PDF_ACTIVE_KEYS = frozenset({
    "/JS", "/JavaScript",  # a script, or the document's /Names /JavaScript tree
    "/AA",  # additional actions: run on opening a page, focusing a field, ...
    "/EmbeddedFiles", "/EF",  # the embedded files name tree, a file specification carrying a file
    "/XFA",  # XML forms, which carry their own scripts
})
_PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/GoToE", "/ImportData", "/RichMediaExecute"})
_PDF_ACTIVE_TYPES = {"/Type": frozenset({"/EmbeddedFile"}), "/Subtype": frozenset({"/FileAttachment", "/RichMedia"})}
_SCRIPT_URI = re.compile(r"^\W*(javascript|vbscript|data):", re.IGNORECASE)

# pypdf reports what it repairs through logging, and a hostile file can fill the log with warnings: file
# contents are never logged (docs/deploy.md), and a refused file is reported to the user, so pypdf stays silent.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


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


def _looks_like_html(data: bytes) -> bool:
    lowered = data.lower()
    return any(marker in lowered for marker in _HTML_MARKERS)


class _PdfTooComplex(Exception):
    """More objects, or more time, than a PDF check may take."""


def _open_pdf(data: bytes) -> PdfReader:
    """The parsed PDF: its cross-reference data read leniently, its objects strictly.

    A file whose cross-reference table is missing or broken is read the way viewers repair it (every
    ``N G obj`` of the file, object streams included), so that what a viewer would show is what gets checked.
    Objects are then parsed strictly: where a lenient parser would drop the rest of a malformed dictionary or
    keep one of two values of a key, a viewer may read it otherwise, so such a file is refused as unreadable.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except MemoryError:
        raise
    except Exception:
        # A start pointer to offset 0 makes pypdf rebuild the table by scanning the file.
        reader = PdfReader(io.BytesIO(data + b"\nstartxref\n0\n%%EOF\n"), strict=False)
    reader.strict = True
    return reader


class _Objects:
    """The file's indirect objects, read only when the cross-reference data lists them: resolving any other
    reference makes pypdf search the whole file, which a hostile file could ask for a million times."""

    def __init__(self, reader: PdfReader):
        self.reader = reader
        self.refs = {(generation, number) for generation, numbers in reader.xref.items() for number in numbers}
        self.refs |= {(0, number) for number in reader.xref_objStm}
        encrypt = dict.get(reader.trailer, "/Encrypt")
        if isinstance(encrypt, IndirectObject):  # the encryption parameters, read by pypdf itself
            self.refs.discard((encrypt.generation, encrypt.idnum))

    def get(self, value):
        if not isinstance(value, IndirectObject):
            return value
        if (value.generation, value.idnum) not in self.refs:
            return None
        return self.reader.get_object(value)

    def name(self, obj: DictionaryObject, key: str) -> str | None:
        value = self.get(dict.get(obj, key))
        return str(value) if isinstance(value, NameObject) else None


def _is_active(obj: DictionaryObject, objects: _Objects) -> bool:
    """Whether this dictionary (or stream dictionary) is, or carries, active content."""
    keys = obj.keys()
    if not _PDF_ACTIVE_KEYS.isdisjoint(keys):
        return True
    action = objects.name(obj, "/S")
    if action in _PDF_ACTIVE_ACTIONS:
        return True
    if action == "/URI":
        uri = objects.get(dict.get(obj, "/URI"))
        if isinstance(uri, bytes):
            uri = uri.decode("latin-1")
        if isinstance(uri, str) and _SCRIPT_URI.match(uri):
            return True
    if any(objects.name(obj, key) in values for key, values in _PDF_ACTIVE_TYPES.items()):
        return True
    if "/OpenAction" in keys:
        # A destination (an array or a name) only opens the document at a page; any action other than
        # "go to" would run by itself when the file is opened.
        opening = objects.get(dict.get(obj, "/OpenAction"))
        if isinstance(opening, DictionaryObject) and objects.name(opening, "/S") != "/GoTo":
            return True
    return False


def _pdf_has_active_content(reader: PdfReader) -> bool:
    """Every object of the file, those in compressed object streams included, checked for active content.

    Each indirect object the cross-reference data lists is read once and its direct content walked; the
    references inside are not followed (the objects they point to are in the list, or nowhere a viewer looks).
    ``_PdfTooComplex`` beyond ``PDF_MAX_OBJECTS`` objects or ``PDF_MAX_SECONDS``.
    """
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("encrypted")  # a password is needed to read its objects: they cannot be checked
    objects = _Objects(reader)
    if len(objects.refs) > PDF_MAX_OBJECTS:
        raise _PdfTooComplex
    deadline = time.monotonic() + PDF_MAX_SECONDS
    stack: list = [DictionaryObject({k: v for k, v in dict.items(reader.trailer) if k != "/Encrypt"})]
    stack += [IndirectObject(number, generation, reader) for generation, number in objects.refs]
    while stack:
        if time.monotonic() > deadline:
            raise _PdfTooComplex
        node = objects.get(stack.pop())
        if isinstance(node, DictionaryObject):  # stream objects too: their dictionary, not their data
            if _is_active(node, objects):
                return True
            stack.extend(v for v in dict.values(node) if isinstance(v, DictionaryObject | ArrayObject))
        elif isinstance(node, ArrayObject):
            stack.extend(v for v in node if isinstance(v, DictionaryObject | ArrayObject))
    return False


def _pdf_problem(data: bytes) -> str | None:
    """Why this PDF is refused, or None when it parses and holds no active content."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            active = _pdf_has_active_content(_open_pdf(data))
    except _PdfTooComplex:
        return _("This PDF is too complex to be checked and is refused.")
    except MemoryError:
        raise
    except Exception:  # pypdf.errors.PdfReadError and whatever else a malformed file makes the parser raise
        return _("This PDF cannot be read (it is damaged, encrypted or not a real PDF) and is refused.")
    if active:
        return _("This PDF contains active content (JavaScript, launch actions, embedded files or automatic "
                 "actions) and is refused.")
    return None


def _max_image_pixels() -> int:
    return getattr(settings, "UPLOAD_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def _too_large_image(width: int, height: int, limit: int) -> ValidationError | None:
    if width * height <= limit:
        return None
    return ValidationError(
        _("The image is too large: %(width)s × %(height)s pixels, the limit is %(limit)s megapixels.")
        % {"width": width, "height": height, "limit": _megapixels(limit)}
    )


def _image_type(uploaded) -> str | None:
    """JPEG or PNG when the file fully decodes as one; None otherwise.

    ``ValidationError`` (no field) when the header announces more pixels than ``UPLOAD_MAX_IMAGE_PIXELS``:
    that is checked before anything is decoded.
    """
    limit = _max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            uploaded.seek(0)
            with Image.open(uploaded) as image:  # reads the header only
                too_large = _too_large_image(*image.size, limit)
                if too_large is not None:
                    raise too_large
                image_format = image.format
                image.verify()
            uploaded.seek(0)
            with Image.open(uploaded) as image:
                image.load()  # verify() does not decode the pixels of a JPEG; load() does
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit, far above ours: it refuses before the header's size is even returned.
        raise ValidationError(
            _("The image is too large: the limit is %(limit)s megapixels.") % {"limit": _megapixels(limit)}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
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
        if _looks_like_html(data):
            raise ValidationError({field: _("This PDF holds HTML or script and is refused.")})
        problem = _pdf_problem(data)
        if problem is not None:
            raise ValidationError({field: problem})
        content_type = PDF
    else:
        try:
            content_type = _image_type(uploaded)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
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
