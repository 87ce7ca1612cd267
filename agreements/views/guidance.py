"""Guidance and capacity: the guidance pages (``/guidance/``), guidance events, a region's TKKSD and guidance,
the regions with stalled agreements and no recent guidance, and the document drafts of an agreement.

Thin views: the access helper first (``agreements.access``), then a form, then a service or a read of
``agreements.guidance``; drafts are built by ``agreements.drafts``. Every signed-in user reads the guidance pages
and events; ministry staff record events; a region's officers and ministry staff keep its TKKSD.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import access, drafts, forms, guidance, idempotency, services, stalls, uploads
from ..filters import DASHBOARD_FILTERS, AgreementFilter
from ..models import Agreement, GuidanceEvent, GuidancePage, Region, Tkksd
from ..selectors import query_string, register_url
from .common import FORM_MARGIN, attachment_response, body_limit, create_once

EVENTS_PAGE_SIZE = 50


@login_required
@require_GET
def guidance_list(request):
    form = forms.GuidanceSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    pages = list(guidance.search_pages(query).only("slug", "title_id", "title_en", "step_code", "cooperation_kind"))
    return render(request, "agreements/guidance/page_list.html", {
        "form": form, "query": query, "groups": guidance.grouped(pages), "count": len(pages),
        "can_record_events": access.can_record_guidance_events(request.user),
    })


@login_required
@require_GET
def guidance_detail(request, slug):
    page = get_object_or_404(GuidancePage, slug=slug)
    return render(request, "agreements/guidance/page_detail.html", {
        "page": page, "title": guidance.page_title(page),
        "body": mark_safe(guidance.render_markdown(guidance.page_body(page))),  # sanitised by nh3
    })


def _events():
    return (GuidanceEvent.objects.annotate(region_count=Count("regions", distinct=True))
            .prefetch_related("steps", "affairs").select_related("recorded_by").order_by("-held_on", "-pk"))


@login_required
@require_GET
def guidance_event_list(request):
    page = Paginator(_events(), EVENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "agreements/guidance/event_list.html", {
        "page": page, "events": page.object_list,
        "can_record": access.can_record_guidance_events(request.user),
    })


@login_required
@require_GET
def guidance_event_detail(request, pk):
    event = get_object_or_404(_events(), pk=pk)
    return render(request, "agreements/guidance/event_detail.html", {
        "event": event, "regions": list(event.regions.select_related("province").order_by("code")),
    })


@body_limit(uploads.SCAN_MAX_BYTES + FORM_MARGIN)
@login_required
@require_http_methods(["GET", "POST"])
def guidance_event_create(request):
    access.check_can_record_guidance_events(request.user)
    if request.method == "POST":
        form = forms.GuidanceEventForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            response = create_once(
                request, form,
                lambda: services.guidance_event_record(
                    user=request.user, kind=data["kind"], title=data["title"], held_on=data["held_on"],
                    place=data["place"], regions=data["regions"], steps=data["steps"], affairs=data["affairs"],
                    note=data["note"], materials=data["materials"] or None,
                ),
                success=_("The guidance event was recorded."), done=reverse("guidance-event-list"),
            )
            if response:
                return response
    else:
        form = forms.GuidanceEventForm(initial={"held_on": stalls.today()})
    return render(request, "agreements/guidance/event_form.html", {
        "form": form, "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_GET
def guidance_event_materials(request, pk):
    event = get_object_or_404(GuidanceEvent.objects.exclude(materials=""), pk=pk)
    # Stored under a generated name whose suffix is the type the upload checks found (PDF, JPEG or PNG).
    suffix = event.materials.name.rsplit(".", 1)[-1].lower()
    content_type = {ext.lstrip("."): kind for kind, ext in uploads.EXTENSIONS.items()}.get(suffix, "")
    return attachment_response(event.materials, filename=event.materials_name or f"materials-{event.pk}",
                               content_type=content_type)


@login_required
@require_GET
def region_guidance(request, code):
    """A region's TKKSD and the guidance it had (loaded into the region page by htmx; a page of its own without
    JavaScript). The ministry's guidance follow-ups on the region count as events with one region, for those who
    may read the region's follow-ups."""
    region = get_object_or_404(Region.objects.select_related("province"), code=code)
    tkksd = Tkksd.objects.filter(region=region).first()
    return render(request, "agreements/guidance/region_guidance.html", {
        "region": region, "tkksd": tkksd,
        "can_edit_tkksd": access.may_edit_tkksd(request.user, region),
        "events": guidance.region_events(
            region, include_followups=access.can_see_region_followups(request.user, region)),
    })


@login_required
@require_http_methods(["GET", "POST"])
def tkksd_edit(request, code):
    region = get_object_or_404(Region, code=code)
    access.check_can_edit_tkksd(request.user, region)
    tkksd = Tkksd.objects.filter(region=region).first()
    back = reverse("region-detail", args=[region.code])
    if request.method == "POST":
        form = forms.TkksdForm(request.POST)
        if form.is_valid():
            try:
                services.tkksd_save(user=request.user, region=region, **form.cleaned_data)
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, _("The TKKSD was saved."))
                return redirect(back)
    else:
        initial = {}
        if tkksd is not None:
            initial = {name: getattr(tkksd, name) for name in (
                "formed", "decree_number", "decree_date", "chair", "member_count", "contact")}
        form = forms.TkksdForm(initial=initial)
    return render(request, "agreements/guidance/tkksd_form.html", {"form": form, "region": region, "back": back})


@login_required
@require_GET
def unguided_regions(request):
    """The regions the dashboard counts as "with stalled agreements and no guidance in the last 12 months", under
    the same filters (the dashboard's parameters), each linked to its stalled agreements in the register."""
    data = request.GET.copy()
    for key in list(data.keys()):
        if key not in DASHBOARD_FILTERS:
            del data[key]
    filterset = AgreementFilter(data=data, queryset=access.agreements_visible_to(request.user), request=request)
    qs = filterset.qs
    as_of = filterset.as_of
    applied = {k for k, v in filterset.form.cleaned_data.items() if v not in (None, "", [])}
    base_params = [(k, v) for k in DASHBOARD_FILTERS if k in applied for v in data.getlist(k) if v]
    regions = list(guidance.unguided_regions(qs, as_of).select_related("province"))
    list_url = register_url()
    for region in regions:
        params = [(k, v) for k, v in base_params if k != "as_of"]
        region.list_url = list_url + query_string(params + [("region", region.code), ("stalled", "yes"),
                                                            ("as_of", as_of.isoformat())])
    return render(request, "agreements/guidance/unguided_regions.html", {
        "regions": regions, "as_of": as_of, "since": guidance.window_start(as_of), "filterset": filterset,
        "scope_name": access.scope_name(request.user),
    })


@login_required
@require_GET
def agreement_draft(request, pk):
    """The DOCX draft chosen (``?document=offer|kb|pks``) of an agreement the user may read; without a valid choice,
    the page to choose one."""
    agreement = access.get_agreement_for_user(
        request.user, pk, queryset=Agreement.objects.select_related("parent"))
    form = forms.DraftForm(request.GET if "document" in request.GET else None)
    if form.is_bound and form.is_valid():
        kind = form.cleaned_data["document"]
        response = HttpResponse(drafts.build_draft(agreement, kind), content_type=drafts.DOCX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{drafts.filename(agreement, kind)}"'
        return response
    status = 400 if form.is_bound else 200
    return render(request, "agreements/guidance/draft_choose.html", {"form": form, "agreement": agreement},
                  status=status)
