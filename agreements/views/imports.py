"""The import pages: upload → validation report or preview → confirm; and the template workbook.

Between preview and confirm the uploaded files are kept server-side in ``MEDIA_ROOT/imports`` under a
generated name, and the session remembers which token belongs to this user: the user does not
upload twice, and nobody else can confirm. Confirming reads and validates the stored files again
(the register may have changed in between) and imports them in one transaction; the files are
removed after a confirmation or a cancellation, and stored files older than a day are removed at the
next upload.
"""

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agreements import access, importers

SESSION_KEY = "import_pending"
PREVIEW_ROWS = 200
STALE_SECONDS = 24 * 60 * 60


class ImportUploadForm(forms.Form):
    agreements_file = forms.FileField(
        label=gettext_lazy("Agreements file"),
        help_text=gettext_lazy("An .xlsx workbook (sheets “agreements” and optionally “milestones”) or a CSV file."),
    )
    milestones_file = forms.FileField(
        label=gettext_lazy("Milestones file (CSV, optional)"), required=False,
        help_text=gettext_lazy("Only needed with CSV: the workbook carries its milestones sheet."),
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("agreements_file", "milestones_file"):
            upload = cleaned.get(name)
            if upload is not None and upload.size > importers.MAX_FILE_SIZE:
                self.add_error(name, _("The file is larger than 20 MB. Split it into smaller files."))
        return cleaned


def _require_importer(user):
    if not access.can_import(user):
        raise PermissionDenied


def _store_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_stale(directory: Path) -> None:
    limit = time.time() - STALE_SECONDS
    for file in directory.glob("*.upload"):
        if file.stat().st_mtime < limit:
            file.unlink(missing_ok=True)


def _discard(pending: dict | None) -> None:
    if not pending:
        return
    directory = _store_dir()
    for key in ("agreements", "milestones"):
        if pending.get(key):
            (directory / pending[key]).unlink(missing_ok=True)


def _load(pending: dict, key: str):
    name = pending.get(key)
    if not name:
        return None
    path = _store_dir() / name
    return path.read_bytes(), pending[f"{key}_name"]


def _preview_context(plan) -> dict:
    changed = [r for r in plan.agreements if r.action != "unchanged"]
    changed_milestones = [r for r in plan.milestones if r.action != "unchanged"]
    return {
        "plan": plan,
        "agreement_counts": plan.agreement_counts,
        "milestone_counts": plan.milestone_counts,
        "agreement_rows": changed[:PREVIEW_ROWS],
        "milestone_rows": changed_milestones[:PREVIEW_ROWS],
        "more_agreements": max(0, len(changed) - PREVIEW_ROWS),
        "more_milestones": max(0, len(changed_milestones) - PREVIEW_ROWS),
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload, then the validation report or the preview with a confirm button."""
    _require_importer(request.user)
    if request.method == "POST" and request.POST.get("action") in ("confirm", "cancel"):
        return _confirm(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        agreements_upload = form.cleaned_data["agreements_file"]
        milestones_upload = form.cleaned_data["milestones_file"]
        files = {"agreements": (agreements_upload.read(), agreements_upload.name)}
        if milestones_upload:
            files["milestones"] = (milestones_upload.read(), milestones_upload.name)
        try:
            plan = importers.import_files(files["agreements"], files.get("milestones"), user=request.user,
                                          dry_run=True)
        except importers.FileRefused as exc:
            form.add_error(None, str(exc))
        else:
            if not plan.ok:
                return render(request, "agreements/import_upload.html", {"form": form, "problems": plan.problems})
            directory = _store_dir()
            _remove_stale(directory)
            _discard(request.session.get(SESSION_KEY))
            token = uuid.uuid4().hex
            pending = {"token": token}
            for key, (data, name) in files.items():
                stored = f"{token}-{key}.upload"
                (directory / stored).write_bytes(data)
                pending[key] = stored
                pending[f"{key}_name"] = name[:200]
            request.session[SESSION_KEY] = pending
            context = _preview_context(plan)
            context.update({"token": token, "file_names": [n for _d, n in files.values()]})
            return render(request, "agreements/import_preview.html", context)
    return render(request, "agreements/import_upload.html", {"form": form})


def _confirm(request):
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("This import is no longer waiting for confirmation. Upload the file again."))
        return redirect("import-upload")
    if request.POST.get("action") == "cancel":
        _discard(pending)
        del request.session[SESSION_KEY]
        messages.info(request, _("Import cancelled: nothing was written."))
        return redirect("import-upload")
    refusal = None
    try:
        plan = importers.import_files(_load(pending, "agreements"), _load(pending, "milestones"), user=request.user)
    except FileNotFoundError:
        plan, refusal = None, _("The uploaded file is no longer available. Upload it again.")
    except importers.FileRefused as exc:
        plan, refusal = None, str(exc)
    _discard(pending)
    del request.session[SESSION_KEY]
    if plan is None:
        messages.error(request, refusal)
        return redirect("import-upload")
    if not plan.ok:
        form = ImportUploadForm()
        return render(request, "agreements/import_upload.html", {"form": form, "problems": plan.problems})
    a, m = plan.agreement_counts, plan.milestone_counts
    messages.success(request, _(
        "Imported: %(a_created)s agreements created, %(a_updated)s updated, %(a_unchanged)s unchanged; "
        "%(m_created)s milestones created, %(m_updated)s updated, %(m_unchanged)s unchanged."
    ) % {"a_created": a.created, "a_updated": a.updated, "a_unchanged": a.unchanged,
         "m_created": m.created, "m_updated": m.updated, "m_unchanged": m.unchanged})
    return redirect("import-upload")


@login_required
def import_template(request):
    """The template workbook: both sheets with headers and an example row, and the valid codes."""
    _require_importer(request.user)
    response = HttpResponse(
        importers.build_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="kerjasama-import-template.xlsx"'
    return response
