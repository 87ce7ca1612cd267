"""The import pages: upload → check → preview or problems → confirm → the import runs as a background task.

Every upload becomes an ``ImportJob`` (``agreements.jobs``): its files are kept on the job, in the database,
until it is done or cancelled. A small file is checked at once and its preview is the answer to the upload; a
large one (over ``IMPORT_BACKGROUND_VALIDATION_ROWS`` rows) is checked by a task while the job page shows the
progress. Confirming queues the import; the job page shows the rows checked and written, then the result and
a link to the imported agreements. "My imports" lists the user's jobs. Only the user who uploaded a file sees
and acts on its job (``access.import_jobs_visible_to``).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agreements import access, importers, jobs
from agreements.models import ImportJob
from agreements.selectors import register_url
from agreements.views.common import FORM_MARGIN, body_limit
from agreements.views.register import page_links

JOBS_PAGE_SIZE = 25


class ImportUploadForm(forms.Form):
    agreements_file = forms.FileField(
        label=gettext_lazy("Agreements file"), required=False,
        help_text=gettext_lazy("An .xlsx workbook (sheets “agreements” and optionally “milestones”, “parties” and "
                               "“amendments”) or a CSV file."),
    )
    milestones_file = forms.FileField(
        label=gettext_lazy("Milestones file (CSV, optional)"), required=False,
        help_text=gettext_lazy("Only needed with CSV: the workbook carries its milestones sheet."),
    )
    parties_file = forms.FileField(
        label=gettext_lazy("Parties file (CSV, optional)"), required=False,
        help_text=gettext_lazy("Each party's signatory, signing date and DPRD approval, one row per agreement and "
                               "region. Only needed with CSV: the workbook carries its parties sheet."),
    )
    amendments_file = forms.FileField(
        label=gettext_lazy("Amendments file (CSV, optional)"), required=False,
        help_text=gettext_lazy("The amendments (adendum) of the agreements. Only needed with CSV: the workbook "
                               "carries its amendments sheet."),
    )
    FILE_FIELDS = ("agreements_file", "milestones_file", "parties_file", "amendments_file")

    def clean(self):
        cleaned = super().clean()
        for name in self.FILE_FIELDS:
            upload = cleaned.get(name)
            if upload is not None and upload.size > importers.MAX_FILE_SIZE:
                self.add_error(name, _("The file is larger than 20 MB. Split it into smaller files."))
        if not self.errors and not any(cleaned.get(name) for name in self.FILE_FIELDS):
            self.add_error("agreements_file", _("Choose a file to import."))
        return cleaned

    def uploads(self) -> dict:
        """The chosen files as ``jobs.create`` takes them: name → (content, file name), or None."""
        return {name.removesuffix("_file"): (upload.read(), upload.name) if (upload := self.cleaned_data[name])
                else None for name in self.FILE_FIELDS}


def _require_importer(user):
    if not access.can_import(user):
        raise PermissionDenied


BLOBS = jobs.BLOBS  # up to 80 MB: never loaded to show or act on a job


def _job_for(user, pk) -> ImportJob:
    try:
        return access.import_jobs_visible_to(user).select_related("user").defer(*BLOBS).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _problems(job: ImportJob) -> list:
    return [importers.Problem(**problem) for problem in job.problems]


def _job_context(job: ImportJob) -> dict:
    summary = job.summary or {}
    return {
        "job": job,
        "token": job.pk,
        "problems": _problems(job),
        "agreement_counts": importers.Counts(**summary.get("agreements", {})),
        "milestone_counts": importers.Counts(**summary.get("milestones", {})),
        "party_counts": importers.Counts(**summary.get("parties", {})) if "parties" in summary else None,
        "amendment_counts": importers.Counts(**summary["amendments"]) if "amendments" in summary else None,
        "agreement_rows": summary.get("agreement_rows", []),
        "milestone_rows": summary.get("milestone_rows", []),
        "more_agreements": summary.get("more_agreements", 0),
        "more_milestones": summary.get("more_milestones", 0),
        "file_names": [n for n in (getattr(job, f"{name}_name") for name in jobs.FILES) if n],
        "imported_url": register_url(imported=job.pk),
    }


def _render_job(request, job: ImportJob, status: int = 200):
    return render(request, "agreements/import_job.html", _job_context(job), status=status)


@body_limit(len(ImportUploadForm.FILE_FIELDS) * importers.MAX_FILE_SIZE + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    """Upload; a small file's preview or problems come back at once, a large one's job page shows the check."""
    _require_importer(request.user)
    if request.method == "POST" and request.POST.get("action") in ("confirm", "cancel"):
        return _act(request, request.POST.get("token"))
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if request.method == "POST" and form.is_valid():
        job = jobs.create(user=request.user, **form.uploads())
        if jobs.start_check(job):
            return redirect("import-job", pk=job.pk)
        job.refresh_from_db()
        if job.state == ImportJob.State.INVALID and job.problems and job.problems[0]["row"] is None \
                and not job.problems[0]["sheet"]:
            form.add_error(None, job.problems[0]["message"])  # the file itself was refused
        elif job.state == ImportJob.State.INVALID:
            return render(request, "agreements/import_upload.html", {"form": form, "problems": _problems(job)})
        else:
            return _render_job(request, job)
    return render(request, "agreements/import_upload.html", {"form": form})


def _act(request, pk):
    """Confirm or cancel the job ``pk`` (only its own user's)."""
    try:
        job = access.import_jobs_visible_to(request.user).defer(*BLOBS).get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        job = None
    if job is None or job.state != ImportJob.State.PREVIEW and request.POST.get("action") == "confirm":
        messages.error(request, _("This import is no longer waiting for confirmation. Upload the file again."))
        return redirect("import-upload")
    if request.POST.get("action") == "cancel":
        if jobs.cancel(job):
            messages.info(request, _("Import cancelled: nothing was written."))
        else:
            messages.error(request, _("This import can no longer be cancelled."))
        return redirect("import-upload")
    jobs.confirm(job)
    return redirect("import-job", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def import_job(request, pk):
    """One import: its progress while checked or running, its preview, problems or result."""
    _require_importer(request.user)
    job = _job_for(request.user, pk)
    if request.method == "POST":
        return _act(request, job.pk)
    return _render_job(request, job)


@login_required
def import_job_progress(request, pk):
    """The progress fragment the job page refreshes (htmx); once the job has moved on, the whole page reloads."""
    _require_importer(request.user)
    job = _job_for(request.user, pk)
    if not job.is_active:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "agreements/includes/import_progress.html", {"job": job})


@login_required
def import_jobs(request):
    """My imports: the user's imports, newest first, with their state."""
    _require_importer(request.user)
    page = Paginator(access.import_jobs_visible_to(request.user).select_related("user").defer(
        *BLOBS, "summary", "problems"), JOBS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "agreements/import_jobs.html", {"page": page, "page_links": page_links(request, page)})


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
