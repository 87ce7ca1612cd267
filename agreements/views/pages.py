"""The agreement page (``/agreements/<id>/``) and the region pages (``/regions/<code>/``).

Thin views: the access helper decides what the user may see, ``stalls.with_status`` gives stage and
stalls as of today, the timeline selector gives the history. Every query here is a fixed number
whatever the number of parties, milestones, updates or agreements.
"""


from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, render

from .. import access, regions, stalls
from ..models import Agreement, AgreementParty, Document, Region, Stage, StallReason
from ..selectors import query_string, register_url
from ..timeline import agreement_timeline

REGION_PAGE_AGREEMENTS = 25


@login_required
def agreement_detail(request, pk):
    today = stalls.today()
    thresholds = stalls.Thresholds.current()
    queryset = stalls.with_status(Agreement.objects.select_related("parent"), as_of=today, thresholds=thresholds)
    agreement = access.get_agreement_for_user(request.user, pk, queryset=queryset)

    parties = list(agreement.parties.select_related("region__province"))
    documents = list(agreement.documents.select_related("milestone", "uploaded_by"))
    milestones = list(
        agreement.milestones.select_related("responsible_region").annotate(evidence_count=Count("evidence"))
    )
    children = []
    if agreement.document_type == Agreement.DocumentType.KB:
        children = list(
            access.agreements_visible_to(request.user, stalls.with_status(
                Agreement.objects.filter(parent=agreement), as_of=today, thresholds=thresholds
            )).order_by("signed_on", "number")
        )
        for child in children:
            child.stage_label = Stage(child.stage).label
    parent = None
    if agreement.parent_id:
        # The parent KB is shown with its stage, and linked only when the user may open it.
        parent = access.agreements_visible_to(
            request.user, stalls.with_status(Agreement.objects.filter(pk=agreement.parent_id), as_of=today,
                                             thresholds=thresholds)
        ).first()
        if parent is not None:
            parent.stage_label = Stage(parent.stage).label

    list_url = register_url()
    affairs = list(agreement.affairs.all())
    for affair in affairs:
        affair.list_url = list_url + query_string(affair=affair.code)
    context = {
        "agreement": agreement,
        "stage_label": Stage(agreement.stage).label,
        "as_of": today,
        "thresholds": thresholds,
        "reasons": stalls.reason_details(agreement, today, thresholds),
        "days_stalled": stalls.days_stalled(agreement, today),
        "parties": parties,
        "third_parties": list(agreement.third_parties.all()),
        "affairs": affairs,
        "documents": documents,
        "addenda": [d for d in documents if d.doc_type == Document.Type.ADDENDUM],
        "children": children,
        "parent_visible": parent,
        "milestones": milestones,
        "can_write": access.can_write_agreement(request.user, agreement),
        "timeline": agreement_timeline(agreement, today=today),
    }
    return render(request, "agreements/agreement_detail.html", context)


@login_required
def region_detail(request, code):
    region = get_object_or_404(Region.objects.select_related("province"), code=code)
    is_province = region.level == Region.Level.PROVINCE
    today = stalls.today()
    thresholds = stalls.Thresholds.current()

    # The agreements of the region (a province: with its kabupaten/kota) that the user may see.
    # The same set the list shows for ``?province=PP`` or ``?region=PP.KK``.
    own = regions.in_province_q(region) if is_province else Q(region=region)
    base = Agreement.objects.filter(Exists(AgreementParty.objects.filter(own, agreement=OuterRef("pk"))))
    visible = access.agreements_visible_to(request.user, base)
    annotated = stalls.with_status(visible, as_of=today, thresholds=thresholds)
    scope = {"province": region.code} if is_province else {"region": region.code}

    totals = annotated.aggregate(
        total=Count("pk"),
        stalled=Count("pk", filter=Q(is_stalled=True)),
        **{f"reason_{r.value}": Count("pk", filter=stalls.reason_q(r.value)) for r in StallReason},
    )
    stall_rows = [
        {"label": r.label, "count": totals[f"reason_{r.value}"],
         "query": query_string(**scope, stalled="yes", reason=r.value)}
        for r in StallReason
    ]
    stage_counts = {
        row["stage"]: row["n"] for row in annotated.order_by().values("stage").annotate(n=Count("pk"))
    }
    stage_rows = [
        {"label": s.label, "count": stage_counts.get(s.value, 0), "query": query_string(**scope, stage=s.value)}
        for s in Stage
    ]

    agreements = list(
        annotated.order_by("-signed_on", "number").prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("region"))
        )[:REGION_PAGE_AGREEMENTS]
    )
    for a in agreements:
        a.stage_label = Stage(a.stage).label
        a.reason_labels = [StallReason(code).label for code in stalls.reasons_of(a)]
        a.days_stalled_now = stalls.days_stalled(a, today)

    visible_ids = visible.values("pk")
    # Partners: the other regions in those agreements (for a province, the regions outside it).
    partners = list(
        Region.objects.filter(parties__agreement__in=visible_ids)
        .exclude(regions.regions_in_province_q(region) if is_province else Q(pk=region.pk))
        .annotate(shared=Count("parties__agreement", distinct=True))
        .order_by("-shared", "code")
    )
    for p in partners:
        # The list can express "with this partner" exactly on a province page (province + region);
        # for a kabupaten/kota both would be ``region``, which the list filter does not combine.
        p.query = query_string(province=region.code, region=p.code) if is_province else None

    affairs = list(
        Agreement.affairs.through.objects.filter(agreement_id__in=visible_ids)
        .values("governmentaffair__code", "governmentaffair__name")
        .annotate(n=Count("agreement_id", distinct=True))
        .order_by("-n", "governmentaffair__code")
    )
    affair_rows = [
        {"code": a["governmentaffair__code"], "name": a["governmentaffair__name"], "count": a["n"],
         "query": query_string(**scope, affair=a["governmentaffair__code"])}
        for a in affairs
    ]

    children = []
    if is_province:
        child_counts = dict(
            AgreementParty.objects.filter(agreement_id__in=visible_ids, region__province=region)
            .values("region_id").annotate(n=Count("agreement_id", distinct=True)).values_list("region_id", "n")
        )
        children = list(Region.objects.filter(province=region).order_by("code"))
        for child in children:
            child.agreement_count = child_counts.get(child.pk, 0)
            child.query = query_string(region=child.code)

    context = {
        "region": region,
        "is_province": is_province,
        "list_url": register_url(),
        "as_of": today,
        "thresholds": thresholds,
        "totals": totals,
        "all_query": query_string(**scope),
        "stalled_query": query_string(**scope, stalled="yes"),
        "stall_rows": stall_rows,
        "stage_rows": stage_rows,
        "agreements": agreements,
        "shown": len(agreements),
        "partners": partners,
        "affair_rows": affair_rows,
        "children": children,
    }
    return render(request, "agreements/region_detail.html", context)
