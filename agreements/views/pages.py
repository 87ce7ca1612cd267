"""The agreement page (``/agreements/<id>/``) and the region pages (``/regions/<code>/``).

Thin views: the access helper decides what the user may see, ``stalls.with_status`` gives stage and
stalls as of today, the timeline selector gives the history, ``selectors.region_summary`` a region's figures.
Every query here is a fixed number whatever the number of parties, milestones, updates or agreements.
"""


from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import get_language

from .. import access, amendments, datacache, evaluations, obstacles, results, selectors, stalls
from ..models import Agreement, Document, Region, Stage
from ..timeline import agreement_timeline
from .parties import party_grid
from .steps import step_panel


def _timeline(agreement, today, agreement_amendments, renewals) -> dict:
    events = agreement_timeline(agreement, today=today, amendments=agreement_amendments, renewals=renewals)
    return {"timeline": events,
            "timeline_html": render_to_string("agreements/includes/timeline_items.html", {"timeline": events})}


@login_required
def agreement_detail(request, pk):
    """The agreement page. Its content is the same for everyone with the same rights (``access.visibility_key``: the
    rights on an agreement follow from the role and the region), so it is rendered once per data version, language
    and day for each (``datacache``) with a placeholder for the CSRF token of its forms, which is each reader's own."""
    agreement = access.get_agreement_for_user(request.user, pk, queryset=Agreement.objects.only("pk", "number"))
    today = stalls.today()
    html, built = datacache.rendered(
        "agreement-page", (agreement.pk, access.visibility_key(request.user), today, get_language()),
        "agreements/includes/agreement_page.html",
        lambda: {**_agreement_context(request.user, agreement.pk, today), "user": request.user}, request=request)
    return render(request, "agreements/agreement_detail.html", {"agreement": agreement, **built, "page_html": html})


def _agreement_context(user, pk: int, today) -> dict:
    """What the agreement page's content shows to ``user`` (who may read agreement ``pk``), as of ``today``."""
    thresholds = stalls.Thresholds.current()
    queryset = stalls.with_stuck_at(
        stalls.with_status(Agreement.objects.select_related("parent"), as_of=today, thresholds=thresholds), today,
        title=True,
    )
    agreement = get_object_or_404(queryset, pk=pk)

    parties = list(agreement.parties.select_related("region__province"))
    documents = list(agreement.documents.select_related("milestone", "uploaded_by"))
    milestones = list(
        agreement.milestones.select_related("responsible_region").annotate(evidence_count=Count("evidence"))
    )
    children = []
    if agreement.document_type == Agreement.DocumentType.KB:
        children = list(
            access.agreements_visible_to(user, stalls.with_status(
                Agreement.objects.filter(parent=agreement), as_of=today, thresholds=thresholds
            )).order_by("signed_on", "number")
        )
        for child in children:
            child.stage_label = Stage(child.stage).label
    parent = None
    if agreement.parent_id:
        # The parent KB is shown with its stage, and linked only when the user may open it.
        parent = access.agreements_visible_to(
            user, stalls.with_status(Agreement.objects.filter(pk=agreement.parent_id), as_of=today,
                                             thresholds=thresholds)
        ).first()
        if parent is not None:
            parent.stage_label = Stage(parent.stage).label

    third_parties = list(agreement.third_parties.all())
    can_write = access.can_write_agreement(user, agreement)
    # Amendments, the values in force today, and the tree of the chain KB → PKS → amendments and renewals.
    tree = amendments.chain_tree(
        agreement, kb=parent, children=children,
        visible=lambda qs: access.agreements_visible_to(user, qs),
    )
    node = amendments.current_node(tree)
    agreement_amendments = node.amendments
    for amendment in agreement_amendments:
        amendment.changes = amendments.changes(amendment)
    in_force = amendments.in_force(agreement, agreement_amendments, today)
    # The newest renewal, where a renewed KB's new PKSs go (a renewal renewed in turn: its own successor).
    successor = amendments.successor_of(agreement) if node.renewed_by else None
    list_url = selectors.register_url()
    affairs = list(agreement.affairs.all())
    for affair in affairs:
        affair.list_url = list_url + selectors.query_string(affair=affair.code)
    context = {
        "agreement": agreement,
        "stage_label": Stage(agreement.stage).label,
        "as_of": today,
        "thresholds": thresholds,
        "reasons": stalls.reason_details(agreement, today, thresholds),
        "days_stalled": stalls.days_stalled(agreement, today),
        "parties": parties,
        "third_parties": third_parties,
        "affairs": affairs,
        "documents": documents,
        # Addendum documents not attached to an amendment (uploaded before amendments were recorded as such).
        "addenda": [d for d in documents if d.doc_type == Document.Type.ADDENDUM
                    and d.pk not in {a.document_id for a in agreement_amendments}],
        "amendments": agreement_amendments,
        "in_force": in_force,
        "tree": tree,
        "successor": successor,
        "can_renew": can_write and amendments.may_offer_renewal(
            agreement, in_force.ends_on, today, has_successor=successor is not None),
        "children": children,
        "parent_visible": parent,
        "milestones": milestones,
        "can_write": can_write,
        "can_follow_up": access.can_record_followups(user),
        # The history read from every table, and its HTML.
        **_timeline(agreement, today, agreement_amendments, (node.renews, node.renewed_by)),
        **party_grid(agreement, parties, user),  # each party's signing and DPRD approval
        # The regulated steps and the next one.
        **step_panel(agreement, parties, documents, can_write=can_write, third_parties=third_parties),
        "obstacles": obstacles.of_agreement(agreement, today),
        "can_record_obstacle": access.can_record_obstacle(user, agreement),
        # Results: the PKS's outcome indicators and the agreement's financing lines (``agreements.results``).
        "indicators": results.indicators_of(agreement),
        "can_write_results": can_write and agreement.document_type == Agreement.DocumentType.PKS,
        **results.financing_of(agreement, user, writes=can_write),
        **evaluations.panel(agreement, parties, user, today),  # the semester evaluations (monev)
    }
    return context


@login_required
def region_detail(request, code):
    region = get_object_or_404(Region.objects.select_related("province"), code=code)

    def figures() -> dict:
        return {**selectors.region_summary(request.user, region),
                **results.region_results(request.user, region)}  # its agreements' indicators and financing

    # The same for everyone who sees the same agreements: computed and rendered once per data version (``datacache``).
    html, built = datacache.rendered(
        "region-page", (access.visibility_key(request.user), region.pk, get_language(), stalls.today()),
        "agreements/includes/region_page.html", figures)
    return render(request, "agreements/region_detail.html", {"region": region, **built, "page_html": html})
