"""What the views share: run a create service once per form, then say so and move on; hand out a stored upload."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect

from .. import forms, idempotency
from ..middleware import MB, body_limit

__all__ = ["FORM_MARGIN", "attachment_response", "body_limit", "create_once"]

# What a form adds to its files in a multipart body (fields, boundaries, headers): generous, never the file's size.
FORM_MARGIN = 1 * MB


def create_once(request, form, write, *, success, done, repeated=None):
    """Run ``write()`` (a service call) once per form token.

    ``success`` is the message, or a function of what ``write`` returned. Returns: after a success,
    the redirect to ``done`` (a URL, a URL name, or a function of what ``write`` returned); when the
    form had already been submitted, a notice and the redirect to ``repeated`` (default: ``done``);
    when the service refused, None, with its errors on the form's fields.
    """
    if repeated is None and callable(done):
        raise TypeError("create_once needs `repeated` when `done` depends on the created object")
    try:
        with idempotency.single_submission(request):
            result = write()
    except idempotency.AlreadySubmitted:
        messages.info(request, idempotency.ALREADY_SUBMITTED)
        return redirect(repeated if repeated is not None else done)
    except ValidationError as exc:
        forms.add_service_errors(form, exc)
        return None
    messages.success(request, success(result) if callable(success) else success)
    return redirect(done(result) if callable(done) else done)


def attachment_response(stored, *, filename: str, content_type: str) -> FileResponse:
    """A stored upload (a ``FieldFile``), always as an attachment, never shown inline, with the content type
    checked at upload; 404 when the file is gone. The caller has checked that the user may see it."""
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type or "application/octet-stream"
    )
