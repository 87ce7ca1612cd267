"""The agreement register: the filtered, sortable list at /agreements/ and its CSV/XLSX export.

Both start from what the user may see (``access.agreements_visible_to``) and apply the same
``AgreementFilter``, so an export is exactly the list on screen (all pages of it).
"""


from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .. import access, datacache, exports, stalls
from ..filters import SORTS, AgreementFilter
from ..models import Agreement, AgreementParty, Stage

PAGE_SIZE = 50
STAGE_LABELS = dict(Stage.choices)

# Sortable columns: (sort key, header). The other columns are not sortable.
SORTABLE = {
    "number": _("Number"),
    "title": _("Title"),
    "stage": _("Stage"),
    "days_stalled": _("Stalled"),
    "signed_on": _("Signed"),
}
EXPORT_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _filterset(request) -> AgreementFilter:
    return AgreementFilter(request.GET, queryset=access.agreements_visible_to(request.user), request=request)


def _query(request, **changes) -> str:
    """The current query string with ``changes`` applied (None removes a key); repeated keys kept."""
    params = request.GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value is not None:
            params[key] = value
    return params.urlencode()


def _sort_headers(request, current: str) -> dict:
    headers = {}
    for key, label in SORTABLE.items():
        if current == key:
            direction, next_sort = "ascending", f"-{key}"
        elif current == f"-{key}":
            direction, next_sort = "descending", key
        else:
            # Dates and days read best newest / longest first on the first click.
            direction, next_sort = None, f"-{key}" if key in ("signed_on", "days_stalled") else key
        headers[key] = {"label": label, "aria_sort": direction, "query": _query(request, sort=next_sort, page=None)}
    return headers


def page_links(request, page) -> dict:
    """Query strings for first/previous/next/last, each keeping every filter and the sort."""
    links = {}
    if page.has_previous():
        links["first"] = _query(request, page="1")
        links["previous"] = _query(request, page=str(page.previous_page_number()))
    if page.has_next():
        links["next"] = _query(request, page=str(page.next_page_number()))
        links["last"] = _query(request, page=str(page.paginator.num_pages))
    return links


def _annotated_page(filterset: AgreementFilter, page) -> list:
    """The page's agreements with their stage and stall annotations, in page order (one query).

    On purpose (speed at national scale): the filtered, sorted and sliced query only selects the page's ids, in a
    subquery, and ``stalls.with_status`` annotates the outer query of those few rows. Asking
    PostgreSQL for the annotations of the sliced query itself makes it plan each stall subquery as a
    hashed subplan over the whole milestone table (about 40 of them), seconds at 20,000 agreements
    whatever the page size; on the page's ids it probes the indexes instead (milliseconds). The ids themselves are
    cached per data version and query (``datacache.ids``): a search reads thousands of rows to find them.
    """
    return list(
        stalls.with_status(
            Agreement.objects.filter(pk__in=datacache.ids(page.object_list)),
            as_of=filterset.as_of, thresholds=filterset.thresholds,
        )
        .order_by(*SORTS[filterset.sort_key])
        .prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("region").order_by("region__code")),
            "third_parties",
        )
    )


@login_required
def agreement_list(request):
    filterset = _filterset(request)
    page = datacache.CountCachedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    as_of = filterset.as_of
    query = sorted((k, v) for k, v in request.GET.lists())
    sort_headers, links = _sort_headers(request, filterset.sort_key), page_links(request, page)

    def results() -> dict:
        page.object_list = _annotated_page(filterset, page)
        rows = [
            {
                "agreement": a,
                "stage_label": STAGE_LABELS.get(a.stage, a.stage),
                "reasons": stalls.reason_details(a, as_of, filterset.thresholds),
                "days_stalled": stalls.days_stalled(a, as_of),
            }
            for a in page.object_list
        ]
        return {"rows": rows, "page": page, "sort_headers": sort_headers, "page_links": links}

    # ``imported`` shows one of the reader's own imports (another's: nothing): then the reader is part of the key.
    reader = request.user.pk if "imported" in request.GET else None
    key = (access.visibility_key(request.user), query, get_language(), stalls.today(), reader)
    # The page's rows and its page links: the same for everyone with the same rights and query.
    results_html, built = datacache.rendered("list-results", key, "agreements/includes/list_results.html", results)
    context = {
        "filter": filterset,
        "form": filterset.form,
        # The filter fields (a dozen selects, one of 552 regions) rendered once per data version, query and reader.
        "form_fields": datacache.cached(
            "list-form", (key[0], [(k, v) for k, v in query if k != "page"], *key[2:4]),
            lambda: render_to_string("agreements/includes/list_form_fields.html", {"form": filterset.form}),
        ),
        "applied_filters": filterset.applied(),
        "page": page,
        "as_of": as_of,
        "is_today": as_of == stalls.today(),
        "thresholds": filterset.thresholds,
        "sort": filterset.sort_key,
        "sort_headers": sort_headers,
        "page_links": links,
        "export_query": _query(request, page=None),
        "results": results_html,
        **built,  # the rows, when this request rendered them (tests read them)
    }
    return render(request, "agreements/agreement_list.html", context)


@login_required
def agreement_export(request, fmt: str):
    if fmt not in EXPORT_CONTENT_TYPES:
        raise Http404
    filterset = _filterset(request)
    queryset = filterset.qs
    rows = exports.iter_rows(queryset, filterset.as_of)
    filename = f"kerjasama-agreements-{filterset.as_of.isoformat()}.{fmt}"
    if fmt == "csv":
        delimiter = ";" if request.GET.get("sep") == "semicolon" else ","  # Excel set to Indonesian reads ";"
        response = StreamingHttpResponse(exports.csv_chunks(rows, delimiter), content_type=EXPORT_CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    party_rows = exports.iter_party_rows(queryset)  # the sheet "parties": each party's signing and DPRD approval
    amendment_rows = exports.iter_amendment_rows(queryset)  # the sheet "amendments"
    return FileResponse(
        exports.xlsx_tempfile(rows, lambda rows_, fileobj: exports.write_xlsx(rows_, fileobj, party_rows, amendment_rows)),
        as_attachment=True, filename=filename, content_type=EXPORT_CONTENT_TYPES["xlsx"],
    )


@login_required
def agreement_party_export(request):
    """The parties of the filtered list as a CSV file of their own (the CSV export stays one file of agreements):
    ``import_agreements --parties`` or the import's parties sheet reads it back."""
    filterset = _filterset(request)
    delimiter = ";" if request.GET.get("sep") == "semicolon" else ","
    response = StreamingHttpResponse(
        exports.csv_chunks(exports.iter_party_rows(filterset.qs), delimiter, columns=exports.PARTY_COLUMNS),
        content_type=EXPORT_CONTENT_TYPES["csv"],
    )
    response["Content-Disposition"] = (
        f'attachment; filename="kerjasama-parties-{filterset.as_of.isoformat()}.csv"')
    return response



@login_required
def agreement_workbook(request):
    """The same filtered list as a workbook for people: headers in the interface language, names beside codes,
    stages and stall reasons as words, real dates, a frozen header with filters (``exports.write_readable_xlsx``).
    The export (``agreement_export``) stays the import's format."""
    filterset = _filterset(request)
    rows = exports.iter_readable_rows(filterset.qs, filterset.as_of)
    party_rows = exports.iter_readable_party_rows(filterset.qs)  # a second sheet: each party's signing and DPRD
    return FileResponse(
        exports.xlsx_tempfile(rows, lambda rows_, fileobj: exports.write_readable_xlsx(rows_, fileobj, party_rows)),
        as_attachment=True,
        content_type=EXPORT_CONTENT_TYPES["xlsx"], filename=f"kerjasama-{filterset.as_of.isoformat()}.xlsx",
    )
