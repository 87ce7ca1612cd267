"""The public pages at /public/ (no login): the published agreements with search and filters, the province map,
figures by stage and affair, each agreement's page with its public fields only, its public documents, and the
published data as CSV and JSON with its licence.

Everything starts from ``access.agreements_published()``; the filters are the register's ``AgreementFilter``
restricted to ``PUBLIC_FILTERS`` (the ones that read no internal note); the fields shown are named in
``PUBLIC_FIELDS`` and the templates, never internal notes, follow-ups, obstacles, users, e-mails or contact persons.
"""

import csv
import io
import json
from pathlib import PurePath

from django.db.models import Prefetch
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .. import access, amendments, charts, dashboard, datacache, exports, publication, selectors, stalls
from ..filters import AgreementFilter
from ..models import Agreement, AgreementParty, Document, Milestone, Stage
from .common import attachment_response
from .register import page_links

PAGE_SIZE = 25
# The register's parameters offered on the public page: none of them reads an internal note or a user.
PUBLIC_FILTERS = ("q", "kind", "document_type", "stage", "stalled", "province", "region", "affair", "year_from",
                  "year_to", "signed_from", "signed_to", "as_of", "sort")
LICENCE_LINK = f'<{publication.DATA_LICENCE["url"]}>; rel="license"'


def _public_data(request) -> QueryDict:
    data = QueryDict(mutable=True)
    for key in PUBLIC_FILTERS:
        values = request.GET.getlist(key)
        if values:
            data.setlist(key, values)
    return data


def _filterset(request, data=None) -> AgreementFilter:
    return AgreementFilter(_public_data(request) if data is None else data, queryset=access.agreements_published(),
                           request=request)


def _prefetched(queryset):
    return queryset.prefetch_related(
        Prefetch("parties", queryset=AgreementParty.objects.select_related("region").order_by("region__code")),
        "third_parties", "affairs",
    )


def _public_url(**params) -> str:
    return reverse("public-home") + selectors.query_string(**params)


def public_home(request):
    # The page reads its filters and its page number, nothing else of the query string (its links neither): the same
    # for every visitor asking the same, rendered once per data version (``datacache``); other parameters make no
    # new entry.
    query = _public_data(request)
    if "page" in request.GET:
        query["page"] = request.GET["page"]
    request.GET = query
    html, built = datacache.rendered("public-page", (sorted(query.lists()), get_language(), stalls.today()),
                                     "agreements/public/home_content.html", lambda: _public_context(request))
    return render(request, "agreements/public/home.html", {**built, "page_html": html})


def _public_context(request) -> dict:
    """What the public page shows for the request's filters."""
    filterset = _filterset(request)
    page = datacache.CountCachedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(_prefetched(page.object_list))
    for agreement in page.object_list:
        agreement.stage_label = Stage(agreement.stage).label
    as_of, thresholds = filterset.as_of, filterset.thresholds

    def figures():
        # The figures count every published agreement as of the page's date, whatever the filters.
        everything = stalls.with_status(access.agreements_published(), as_of=as_of, thresholds=thresholds)
        stages = dashboard.pipeline(everything)
        provinces = dashboard.by_province(everything)
        return {
            "stages": stages,
            "affairs": [row for row in dashboard.by_affair(everything) if row["total"].value],
            "tile_map": charts.tile_map(
                [charts.Tile(code=row["province"].code, label=row["province"].name, col=row["tile"][0],
                             row=row["tile"][1], value=row["total"].value, share=row["share"],
                             href=_public_url(province=row["province"].code))
                 for row in provinces if row["tile"]],
                title=str(_("Published agreements by province (colour: share stalled)")),
                legend=charts.share_legend(),
            ),
            "stage_chart": charts.bar_chart(
                [charts.Bar(label=str(row["label"]), value=row["total"].value, stalled=row["stalled"].value,
                            href=_public_url(**dict(row["total"].params))) for row in stages],
                title=str(_("Published agreements by stage (stalled in brackets)")),
            ),
        }

    query = _public_data(request)
    context = {
        "filter": filterset,
        "form": filterset.form,
        "public_fields": [filterset.form[name] for name in PUBLIC_FILTERS if name in filterset.form.fields],
        "page": page,
        "page_links": page_links(request, page),
        "as_of": as_of,
        # The same for every visitor: computed once per data version (``datacache``).
        **datacache.cached("public", (as_of, thresholds.key(), get_language(), stalls.today()), figures),
        "download_query": query.urlencode(),
        "data_licence": publication.DATA_LICENCE,
        "regions_licence": publication.REGIONS_LICENCE,
    }
    return context


def _published_agreement(pk) -> Agreement:
    today = stalls.today()
    queryset = stalls.with_status(access.agreements_published(Agreement.objects.select_related("parent", "renews")),
                                  as_of=today)
    try:
        return queryset.get(pk=pk)
    except (Agreement.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def public_agreement(request, pk):
    agreement = _published_agreement(pk)
    today = stalls.today()
    published = access.agreements_published()
    context = {
        "agreement": agreement,
        "stage_label": Stage(agreement.stage).label,
        "reasons": stalls.reason_details(agreement, today),
        "as_of": today,
        "parties": list(agreement.parties.select_related("region").order_by("region__code")),
        "third_parties": list(agreement.third_parties.all()),
        "affairs": list(agreement.affairs.all()),
        "milestones": list(agreement.milestones.select_related("responsible_region")
                           .exclude(status=Milestone.Status.CANCELLED).order_by("due_on", "title")),
        "amendments": (amendment_rows := list(agreement.amendments.order_by("signed_on", "pk"))),
        # The end date, scope and value in force today, as amended (the register's page shows the same).
        "in_force": amendments.in_force(agreement, amendment_rows, today),
        "documents": list(publication.public_documents(agreement).order_by("dated_on", "pk")),
        # Related agreements are linked only when published themselves.
        "parent": published.filter(pk=agreement.parent_id).first() if agreement.parent_id else None,
        "children": list(published.filter(parent=agreement).order_by("signed_on", "number")),
        "renews": published.filter(pk=agreement.renews_id).first() if agreement.renews_id else None,
        "data_licence": publication.DATA_LICENCE,
        "regions_licence": publication.REGIONS_LICENCE,
    }
    return render(request, "agreements/public/agreement.html", context)


def public_document(request, pk):
    """A public document of a published agreement; anything else is 404."""
    document = get_object_or_404(Document, pk=pk, is_public=True, agreement__published_at__isnull=False)
    # A generated name: the uploaded file's own name may name a person.
    suffix = PurePath(document.file.name).suffix.lower()[:6]
    return attachment_response(document.file, filename=f"kerjasama-document-{document.pk}{suffix}",
                               content_type=document.content_type)


# --- downloads ---------------------------------------------------------------------------------------------------

PUBLIC_COLUMNS = ("number", "document_type", "cooperation_kind", "title", "scope", "stage", "is_stalled",
                  "signed_on", "starts_on", "ends_on", "terminated_on", "parent_number", "region_codes",
                  "region_names", "third_parties", "affair_codes", "url")


def _rows(request, filterset):
    for agreement in _prefetched(filterset.qs.select_related("parent")).iterator(chunk_size=500):
        parties = list(agreement.parties.all())
        yield {
            "number": agreement.number,
            "document_type": agreement.document_type,
            "cooperation_kind": agreement.cooperation_kind,
            "title": agreement.title,
            "scope": agreement.scope,
            "stage": agreement.stage,
            "is_stalled": agreement.is_stalled,
            "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else None,
            "starts_on": agreement.starts_on.isoformat() if agreement.starts_on else None,
            "ends_on": agreement.ends_on.isoformat() if agreement.ends_on else None,
            "terminated_on": agreement.terminated_on.isoformat() if agreement.terminated_on else None,
            "parent_number": agreement.parent.number if agreement.parent_id else None,
            "region_codes": [p.region.code for p in parties],
            "region_names": [p.region.name for p in parties],
            "third_parties": [t.name for t in agreement.third_parties.all()],
            "affair_codes": sorted(a.code for a in agreement.affairs.all()),
            "url": request.build_absolute_uri(reverse("public-agreement", args=[agreement.pk])),
        }


def public_csv(request):
    filterset = _filterset(request)

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(PUBLIC_COLUMNS)
        for row in _rows(request, filterset):
            cells = ["" if row[c] is None else ";".join(row[c]) if isinstance(row[c], list)
                     else "yes" if row[c] is True else "no" if row[c] is False else str(row[c])
                     for c in PUBLIC_COLUMNS]
            writer.writerow(exports.csv_cells(cells))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kerjasama-public-{filterset.as_of.isoformat()}.csv"'
    response["Link"] = LICENCE_LINK
    return response


def public_json(request):
    filterset = _filterset(request)
    body = {
        "licence": publication.DATA_LICENCE,
        "regions_licence": publication.REGIONS_LICENCE,
        "as_of": filterset.as_of.isoformat(),
        "agreements": list(_rows(request, filterset)),
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False, indent=1),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kerjasama-public-{filterset.as_of.isoformat()}.json"'
    response["Link"] = LICENCE_LINK
    return response
