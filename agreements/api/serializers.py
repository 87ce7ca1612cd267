"""What the API shows of each object: every field is named here, so nothing is published by accident. Never users,
e-mail addresses, contact persons, follow-ups, obstacle notes or internal notes; signatories' names and positions
appear as they are on the signed documents."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import stalls
from ..models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    Amendment,
    GovernmentAffair,
    Milestone,
    NeedOffer,
    Region,
    Stage,
    StallReason,
)

# Milestone statuses as OCDS milestone status codes (https://standard.open-contracting.org/latest/en/schema/codelists/
# #milestone-status). A cancelled milestone has no OCDS code: ``ocds_status`` is null and ``cancelled`` true.
OCDS_MILESTONE_STATUS = {
    Milestone.Status.SCHEDULED: "scheduled",
    Milestone.Status.IN_PROGRESS: "scheduled",
    Milestone.Status.MET: "met",
    Milestone.Status.PARTIALLY_MET: "partiallyMet",
    Milestone.Status.NOT_MET: "notMet",
    Milestone.Status.CANCELLED: None,
}


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level"]


class AffairSerializer(serializers.ModelSerializer):
    class Meta:
        model = GovernmentAffair
        fields = ["code", "name", "group"]


class AffairCountSerializer(serializers.ModelSerializer):
    agreements = serializers.IntegerField(source="agreement_count", read_only=True,
                                          help_text="Agreements the caller sees on this affair.")
    stalled = serializers.IntegerField(source="stalled_count", read_only=True,
                                       help_text="Of those, stalled as of as_of.")

    class Meta:
        model = GovernmentAffair
        fields = ["code", "name", "group", "agreements", "stalled"]


class PartySerializer(serializers.ModelSerializer):
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = AgreementParty
        fields = ["region", "document_number", "signatory_name", "signatory_position", "signed_on", "dprd_required",
                  "dprd_approved_on", "dprd_decision_number"]


class MilestoneSerializer(serializers.ModelSerializer):
    responsible_region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    ocds_status = serializers.SerializerMethodField(
        help_text="The status as an OCDS milestone status code: scheduled (also in progress), met, partiallyMet, "
                  "notMet; null for a cancelled milestone.")
    cancelled = serializers.SerializerMethodField(help_text="True when the milestone was cancelled (no OCDS code).")

    class Meta:
        model = Milestone
        fields = ["id", "title", "description", "responsible_region", "due_on", "started_on", "completed_on", "status",
                  "progress", "ocds_status", "cancelled"]

    @extend_schema_field({"type": "string", "enum": ["scheduled", "met", "partiallyMet", "notMet"], "nullable": True})
    def get_ocds_status(self, obj) -> str | None:
        return OCDS_MILESTONE_STATUS[obj.status]

    def get_cancelled(self, obj) -> bool:
        return obj.status == Milestone.Status.CANCELLED


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementStep
        fields = ["code", "order", "phase", "title", "legal_basis", "status", "done_on"]


class AmendmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Amendment
        fields = ["number", "signed_on", "ends_on", "scope", "value_idr", "summary"]


class StallSerializer(serializers.Serializer):
    """The stage and stall facts of an agreement as of the request's ``as_of`` (``stalls.with_status``)."""

    as_of = serializers.SerializerMethodField()
    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)
    is_stalled = serializers.BooleanField(read_only=True)
    reasons = serializers.SerializerMethodField()
    stalled_since = serializers.DateField(read_only=True, allow_null=True)
    days_stalled = serializers.SerializerMethodField()
    ends_on_in_force = serializers.DateField(read_only=True, allow_null=True)
    lapsed = serializers.BooleanField(source="is_lapsed", read_only=True)

    @extend_schema_field(OpenApiTypes.DATE)
    def get_as_of(self, obj):
        return self.context["as_of"].isoformat()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=StallReason.choices)))
    def get_reasons(self, obj) -> list[str]:
        return stalls.reasons_of(obj)

    def get_days_stalled(self, obj) -> int | None:
        return stalls.days_stalled(obj, self.context["as_of"])


class AgreementSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:agreement-detail")
    kind = serializers.CharField(source="cooperation_kind", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    renews = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    parties = PartySerializer(many=True, read_only=True)
    third_parties = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    affairs = AffairSerializer(many=True, read_only=True)
    status = StallSerializer(source="*", read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)
    steps = StepSerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)
    published = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["id", "url", "number", "document_type", "kind", "title", "scope", "parent", "renews", "signed_on",
                  "dprd_approved_on", "starts_on", "ends_on", "terminated_on", "termination_reason", "value_idr",
                  "published", "parties", "third_parties", "affairs", "status", "milestones", "steps", "amendments"]

    def get_published(self, obj) -> bool:
        return obj.published_at is not None


class TkksdSerializer(serializers.Serializer):
    formed = serializers.BooleanField()
    decree_number = serializers.CharField()
    decree_date = serializers.DateField(allow_null=True)
    member_count = serializers.IntegerField(allow_null=True)


class RegionSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    tkksd = serializers.SerializerMethodField()
    agreements = serializers.IntegerField(source="agreement_count", read_only=True,
                                          help_text="Agreements the caller sees with this region as a party.")
    stalled = serializers.IntegerField(source="stalled_count", read_only=True,
                                       help_text="Of those, stalled as of as_of.")

    class Meta:
        model = Region
        fields = ["code", "name", "level", "province", "is_autonomous", "tkksd", "agreements", "stalled"]

    @extend_schema_field(TkksdSerializer(allow_null=True))
    def get_tkksd(self, obj):
        tkksd = getattr(obj, "tkksd_row", None)
        if tkksd is None:
            return None
        return TkksdSerializer({"formed": tkksd.formed, "decree_number": tkksd.decree_number,
                                "decree_date": tkksd.decree_date, "member_count": tkksd.member_count}).data


class NeedOfferSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    affair = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = NeedOffer
        fields = ["id", "region", "affair", "kind", "description", "priority", "planning_reference", "planning_url"]


class StalledRowSerializer(serializers.Serializer):
    """One row of ``manage.py stalled --format json``: the same keys, the same values."""

    number = serializers.CharField()
    document_type = serializers.ChoiceField(choices=Agreement.DocumentType.choices)
    title = serializers.CharField()
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=StallReason.choices))
    days_stalled = serializers.IntegerField()
    signed_on = serializers.DateField()
    region_codes = serializers.ListField(child=serializers.CharField())
    affair_codes = serializers.ListField(child=serializers.CharField())
    stuck_at = serializers.CharField(allow_null=True)
    obstacles = serializers.ListField(child=serializers.CharField())
