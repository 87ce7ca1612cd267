"""The affairs map, affair pages and the needs-and-offers register. Thin: rules live in
``agreements.affairs``, permissions in ``agreements.access``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import access, affairs, datacache, forms, idempotency, regions, results, services, stalls
from ..models import GovernmentAffair, NeedOffer, Region
from .common import create_once


def _filters(form_class, request):
    form = form_class(request.GET or None)
    as_of = form.fields.get("as_of")
    if as_of is not None and stalls.validate_as_of not in as_of.validators:
        # Out of range is an error on the form (the page falls back to today), never an OverflowError.
        as_of.validators.append(stalls.validate_as_of)
    data = form.cleaned_data if form.is_valid() else {}
    return form, data


@login_required
def affair_map(request):
    form, data = _filters(forms.MapFilterForm, request)
    expand = [code for code in request.GET.getlist("expand") if code.isdigit()]
    thresholds = stalls.Thresholds.current()
    as_of, kinds, tkksd = data.get("as_of") or stalls.today(), data.get("kind") or [], data.get("tkksd") or ""
    # The matrix and its table are the same for everyone who sees the same agreements: computed and rendered once per
    # data version and filters (``datacache``; the table's links keep the query string, so it is part of the key).
    parts = (access.visibility_key(request.user), as_of, sorted(kinds), sorted(set(expand)), thresholds.key(), tkksd,
             get_language(), stalls.today())
    base = request.GET.copy()
    base.pop("expand", None)

    def table() -> dict:
        matrix = datacache.cached(
            "affair-map", parts,
            lambda: affairs.affair_matrix(request.user, as_of=as_of, kinds=kinds, expand=expand,
                                          thresholds=thresholds, tkksd=tkksd),
        )
        # The toggle links keep the filters and flip one province in or out of ``expand``.
        for row in matrix.rows:
            query = base.copy()
            codes = [c for c in expand if c != row.region.code] if row.expanded else [*expand, row.region.code]
            query.setlist("expand", codes)
            row.toggle_url = f"?{query.urlencode()}#prov-{row.region.code}"
        return {"matrix": matrix}

    html, _built = datacache.rendered("affair-map-table", (*parts, base.urlencode()),
                                      "agreements/includes/affair_map_table.html", table)
    return render(
        request,
        "agreements/affair_map.html",
        {"form": form, "as_of": as_of, "table": html, "thresholds": thresholds},
    )


@login_required
def affair_detail(request, code):
    affair = get_object_or_404(GovernmentAffair, code=code)
    form, data = _filters(forms.MapFilterForm, request)
    thresholds = stalls.Thresholds.current()
    summary = affairs.affair_summary(request.user, affair, as_of=data.get("as_of"), thresholds=thresholds)
    editable = set(access.needoffer_regions_for(request.user).values_list("pk", flat=True))
    suggestions = affairs.suggest_partners_for(
        [(e.region, affair) for e in summary.needs], limit=5, as_of=summary.as_of, thresholds=thresholds
    )
    for e in summary.needs:
        e.suggestions = suggestions[(e.region_id, affair.pk)]
    matches = affairs.matching_needs_for([(e.region, affair) for e in summary.offers], limit=5)
    for e in summary.offers:
        e.suggestions = matches[(e.region_id, affair.pk)]
    return render(
        request,
        "agreements/affair_detail.html",
        {
            "affair": affair,
            "summary": summary,
            "form": form,
            "editable_region_ids": editable,
            "thresholds": thresholds,
            **results.affair_results(request.user, affair),  # its agreements' indicators and financing
        },
    )


@login_required
def needoffer_list(request):
    form, data = _filters(forms.RegisterFilterForm, request)
    qs = NeedOffer.objects.select_related("region", "affair").order_by(
        "region__code", "kind", affairs.PRIORITY_ORDER, "affair__code", "pk"
    )
    region = province = None
    if data.get("region"):
        region = Region.objects.filter(code=data["region"]).first()
        qs = qs.filter(region__code=data["region"])
    if data.get("province"):
        province = Region.objects.filter(code=data["province"], level=Region.Level.PROVINCE).first()
        qs = qs.filter(regions.in_province_q(data["province"]))
    if data.get("affair"):
        qs = qs.filter(affair=data["affair"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    # Under a need: candidate partners; under an offer: the regions that need it.
    suggestions = affairs.suggest_partners_for(
        [(e.region, e.affair) for e in entries if e.kind == NeedOffer.Kind.NEED], limit=5
    )
    matches = affairs.matching_needs_for([(e.region, e.affair) for e in entries if e.kind == NeedOffer.Kind.OFFER],
                                         limit=5)
    editable = set(access.needoffer_regions_for(request.user).values_list("pk", flat=True))
    for e in entries:
        found = suggestions if e.kind == NeedOffer.Kind.NEED else matches
        e.suggestions = found.get((e.region_id, e.affair_id), [])
        e.editable = e.region_id in editable
    query = request.GET.copy()
    query.pop("page", None)
    # "Declare a need or an offer" at the top, for the region filtered by when the user may declare for
    # it, else their own region; carrying the affair and kind filtered by.
    declare_region = next(
        (r for r in (region, province) if r is not None and r.pk in editable), None
    ) or (request.user.region if request.user.region_id in editable else None)
    declare_query = [("region", declare_region.code)] if declare_region else []
    if data.get("affair"):
        declare_query.append(("affair", data["affair"].code))
    if data.get("kind"):
        declare_query.append(("kind", data["kind"]))
    return render(
        request,
        "agreements/needoffer_list.html",
        {
            "form": form,
            "page": page,
            "entries": entries,
            "region": region,
            "province": province,
            "can_create": bool(editable),
            "declare_url": reverse("needoffer-create") + (f"?{urlencode(declare_query)}" if declare_query else ""),
            # The region page loads the results alone (htmx): there the action sits under them, for that region.
            "declare_in_results": bool(request.headers.get("HX-Request")) and declare_region is not None
            and declare_region in (region, province),
            "query": query.urlencode(),
        },
    )


def _form_page(request, form, entry=None):
    token = idempotency.issue_form_token(request) if entry is None else ""
    return render(request, "agreements/needoffer_form.html", {"form": form, "entry": entry, "form_token": token})


@login_required
def needoffer_create(request):
    own_regions = access.needoffer_regions_for(request.user)
    if not own_regions.exists():
        raise PermissionDenied
    if request.method == "POST":
        form = forms.NeedOfferForm(request.POST, user=request.user)
        if form.is_valid():
            response = create_once(
                request, form, lambda: services.needoffer_create(user=request.user, **form.cleaned_data),
                success=lambda entry: _("Saved: %(entry)s.") % {"entry": entry},
                done=lambda entry: f"{reverse('needoffer-list')}?region={entry.region.code}",
                repeated="needoffer-list",
            )
            if response:
                return response
    else:
        initial = {}
        # The region asked for (the register's filter) when the user may declare for it, else their only one.
        asked = own_regions.filter(code=request.GET["region"]).first() if request.GET.get("region") else None
        own = asked or (own_regions.first() if own_regions.count() == 1 else None)
        if own:
            initial["region"] = own
        if request.GET.get("affair"):
            initial["affair"] = GovernmentAffair.objects.filter(code=request.GET["affair"]).first()
        if request.GET.get("kind") in NeedOffer.Kind.values:
            initial["kind"] = request.GET["kind"]
        form = forms.NeedOfferForm(user=request.user, initial=initial)
    return _form_page(request, form)


@login_required
def needoffer_edit(request, pk):
    entry = get_object_or_404(NeedOffer.objects.select_related("region", "affair"), pk=pk)
    # Visible to every signed-in user, so another region's entry answers 403, not 404.
    if not access.can_edit_needoffers_of(request.user, entry.region):
        raise PermissionDenied
    if request.method == "POST":
        form = forms.NeedOfferForm(request.POST, instance=NeedOffer.objects.get(pk=pk), user=request.user)
        if form.is_valid():
            entry = services.needoffer_update(needoffer=entry, user=request.user, **form.cleaned_data)
            messages.success(request, _("Saved: %(entry)s.") % {"entry": entry})
            return redirect(f"{reverse('needoffer-list')}?region={entry.region.code}")
    else:
        form = forms.NeedOfferForm(instance=entry, user=request.user)
    return _form_page(request, form, entry)
