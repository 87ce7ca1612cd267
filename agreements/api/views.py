"""The read-only API's views. Thin: the scope comes from ``access.agreements_open_to`` (what the caller sees on the
pages, plus the published agreements), the agreements' filters and order from the register's ``AgreementFilter``
(through django-filter's DRF backend), the stalled list from ``selectors.stalled_report`` (the rows of ``manage.py
stalled --format json``). Every list is paginated by page number, in a stable order."""

import json

from django.db.models import Count, Prefetch, Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .. import access, datacache, selectors, stalls
from ..filters import AgreementFilter
from ..models import Agreement, AgreementParty, GovernmentAffair, Milestone, NeedOffer, Region
from . import serializers

# Filters that read internal notes (open obstacles, follow-ups) or the caller's own imports: only for signed-in
# callers; an anonymous caller's value is ignored.
SIGNED_IN_FILTERS = ("obstacle", "followed_up_90", "imported")


class RegisterFilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping the filterset on the view (its ``as_of`` is the stall facts' date)."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        if not request.user.is_authenticated:
            data = request.query_params.copy()
            for name in SIGNED_IN_FILTERS:
                data.pop(name, None)
            kwargs["data"] = data
        return kwargs

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        view.filterset = filterset
        return filterset.qs


class AsOfSerializer(drf_serializers.Serializer):
    as_of = drf_serializers.DateField(required=False, validators=[stalls.validate_as_of],
                                      help_text="Stage and stalls are computed at this date (default today).")


def as_of_param(request):
    """The ``as_of`` query parameter (default today); a bad date is a 400, never a 500."""
    data = AsOfSerializer(data={k: v for k, v in request.query_params.items() if k == "as_of"})
    if not data.is_valid():
        raise ValidationError(data.errors)
    return data.validated_data.get("as_of") or stalls.today()


AS_OF_PARAMETER = OpenApiParameter("as_of", str, description="A date, YYYY-MM-DD (default today).",
                                   required=False)


@extend_schema_view(
    list=extend_schema(summary="Agreements", description=(
        "The agreements the caller sees (anonymous: the published ones), filtered and sorted with the register's "
        "parameters. The stage and stall facts are computed as of `as_of` (default today). The `obstacle`, "
        "`followed_up_90` and `imported` filters apply to signed-in callers only.")),
    retrieve=extend_schema(summary="One agreement"),
)
class AgreementViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.AgreementSerializer
    filterset_class = AgreementFilter
    filter_backends = [RegisterFilterBackend]
    filterset = None

    def get_queryset(self):
        base = Agreement.objects.select_related("parent", "renews").prefetch_related(
            Prefetch("parties", queryset=AgreementParty.objects.select_related("region").order_by("region__code")),
            "third_parties",
            "affairs",
            Prefetch("milestones", queryset=Milestone.objects.select_related("responsible_region")
                     .order_by("due_on", "title", "pk")),
            "steps",
            "amendments",
        )
        return access.agreements_open_to(self.request.user, base)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["as_of"] = self.filterset.as_of if self.filterset is not None else stalls.today()
        return context

    def list(self, request, *args, **kwargs):
        """A page of agreements, serialized once per data version for every caller who sees the same agreements and
        asks the same address (``datacache``; the throttles have already counted the call)."""
        def page():
            return json.loads(JSONRenderer().render(super(AgreementViewSet, self).list(request, *args, **kwargs).data))

        return Response(datacache.cached(
            "api-agreements", (access.visibility_key(request.user), request.build_absolute_uri(), stalls.today()), page))


def _counts(regions_field: str, user, as_of):
    """Agreements the user sees with a party in each region (or on each affair), and how many are stalled."""
    scope = stalls.with_status(access.agreements_open_to(user), as_of=as_of)
    return {
        "agreement_count": Count(regions_field, filter=Q(**{f"{regions_field}__in": scope.values("pk")}),
                                 distinct=True),
        "stalled_count": Count(regions_field, filter=Q(**{f"{regions_field}__in": scope.filter(is_stalled=True)
                                                          .values("pk")}), distinct=True),
    }


@extend_schema_view(
    list=extend_schema(summary="Regions", parameters=[AS_OF_PARAMETER], description=(
        "The 38 provinces and 514 kabupaten/kota (Kemendagri codes; idn-area-data, ODbL 1.0), each with its "
        "TKKSD and the number of agreements the caller sees with the region as a party, and of those stalled as "
        "of `as_of`.")),
    retrieve=extend_schema(summary="One region", parameters=[AS_OF_PARAMETER]),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.RegionSerializer
    filter_backends = []
    lookup_field = "code"
    lookup_value_regex = r"[0-9]{2}(?:\.[0-9]{2})?"

    def get_queryset(self):
        as_of = as_of_param(self.request)
        return (Region.objects.select_related("province", "tkksd")
                .annotate(**_counts("parties__agreement", self.request.user, as_of)).order_by("code"))


@extend_schema_view(
    list=extend_schema(summary="Government affairs", parameters=[AS_OF_PARAMETER], description=(
        "The 32 government affairs (Permendagri 90/2019), each with the number of agreements the caller sees on "
        "it, and of those stalled as of `as_of`.")),
    retrieve=extend_schema(summary="One government affair", parameters=[AS_OF_PARAMETER]),
)
class AffairViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.AffairCountSerializer
    filter_backends = []
    lookup_field = "code"
    lookup_value_regex = r"[0-9]\.[0-9]{2}"

    def get_queryset(self):
        as_of = as_of_param(self.request)
        return GovernmentAffair.objects.annotate(**_counts("agreements", self.request.user, as_of)).order_by("code")


@extend_schema_view(
    list=extend_schema(summary="Needs and offers", description=(
        "Each region's needs and offers by affair (identification and mapping): for signed-in callers; "
        "anonymous callers get an empty list.")),
    retrieve=extend_schema(summary="One need or offer"),
)
class NeedOfferViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.NeedOfferSerializer
    filter_backends = []

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or not user.is_active:
            return NeedOffer.objects.none()
        return NeedOffer.objects.select_related("region", "affair").order_by("region__code", "affair__code", "kind",
                                                                              "pk")


@extend_schema_view(get=extend_schema(summary="Stalled agreements", parameters=[AS_OF_PARAMETER], description=(
    "The agreements the caller sees that are stalled as of `as_of`, with the keys and order of `manage.py "
    "stalled --format json` (longest stalled first). `obstacles` (the categories of the obstacles open as of "
    "`as_of`) is empty for anonymous callers.")))
class StalledView(ListAPIView):
    serializer_class = serializers.StalledRowSerializer
    filter_backends = []

    def list(self, request, *args, **kwargs):
        as_of = as_of_param(request)
        rows = selectors.stalled_report_json(
            selectors.stalled_report(as_of=as_of, queryset=access.agreements_open_to(request.user)))
        if not request.user.is_authenticated:
            rows = [{**row, "obstacles": []} for row in rows]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(page)

