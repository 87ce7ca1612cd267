"""Django admin: every model, usable by an administrator who knows no code.

The agreement changelist shows the derived stage and the stall facts from ``stalls.with_status``
(as of today, with the thresholds in force), so the admin agrees with the list, the dashboard and the
command line. It must stay responsive with 50,000 agreements; see ``EstimatedCountPaginator``.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count, Exists, F, Max, Min, OuterRef
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import guidance, publication, regions, services, signing, stalls
from .models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    Amendment,
    Document,
    Evaluation,
    EvaluationAnswer,
    EvaluationConclusion,
    EvaluationQuestion,
    Financing,
    FollowUp,
    GovernmentAffair,
    GuidanceEvent,
    GuidancePage,
    Indicator,
    IndicatorActual,
    Milestone,
    MilestoneUpdate,
    NeedOffer,
    Proposal,
    Region,
    Report,
    ReportSettings,
    ReportVersion,
    SentDigest,
    Stage,
    StallReason,
    StallSettings,
    StepTemplate,
    TemplateStep,
    ThirdParty,
    Tkksd,
    User,
)


class EstimatedCountPaginator(Paginator):
    """A paginator that does not run a full ``COUNT(*)`` over a large unfiltered table.

    Why: with 50,000 agreements a ``COUNT(*)`` on every changelist click is the slowest query of the
    page. The admin already skips its second, unfiltered count (``show_full_result_count = False``).
    For the remaining count we use, on PostgreSQL and only when the list is *unfiltered* (no WHERE
    clause: no search, no filter), the planner's row estimate (``pg_class.reltuples``, kept current by
    autovacuum/ANALYZE), when it is above ``ESTIMATE_ABOVE`` rows. Small tables, filtered lists (which
    use indexes and are usually much smaller) and SQLite get the exact count. An estimate can be off
    by a little: the last page may then be short or a few rows beyond the last page unreachable
    until the next ANALYZE, an acceptable trade for an administrator's browsing list. We chose this
    over capping the count because a capped count shows a wrong total on every filtered list.
    """

    ESTIMATE_ABOVE = 10_000

    @cached_property
    def count(self):
        estimate = self._planner_estimate()
        if estimate is not None:
            return estimate
        return super().count

    def _planner_estimate(self):
        qs = self.object_list
        if not hasattr(qs, "query") or qs.query.where or qs.query.combinator:
            return None
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [qs.model._meta.db_table])
            row = cursor.fetchone()
        if not row or row[0] is None or row[0] < self.ESTIMATE_ABOVE:
            return None  # never analysed (-1) or small: count exactly
        return int(row[0])


# ---------------------------------------------------------------------------------------------
# Reference data and users


class SafeKeysMixin:
    """Keys that are not keys answer 404 or are ignored, never a 500: the autocomplete widget's ``?region=abc``
    initial value on an add page, and django-simple-history's ``…/abc/history/`` views, which look the object up
    without validating its key."""

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.is_relation:
                continue
            try:
                for item in value if isinstance(value, list) else [value]:
                    field.target_field.to_python(item)
            except ValidationError:
                del initial[name]
        return initial

    @staticmethod
    def _key_or_404(field, value) -> None:
        try:
            field.to_python(value)
        except ValidationError:
            raise Http404 from None

    def history_view(self, request, object_id, extra_context=None):
        self._key_or_404(self.model._meta.pk, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._key_or_404(self.model._meta.pk, unquote(object_id))
        self._key_or_404(self.model.history.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)



@admin.register(Region)
class RegionAdmin(SafeKeysMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "province", "is_autonomous"]
    list_filter = ["level", "is_autonomous"]
    search_fields = ["code", "name"]
    list_select_related = ["province"]
    autocomplete_fields = ["province"]


class GuardedDeleteMixin:
    """Deleted one at a time and only when ``obj.can_be_deleted()``: no bulk delete action, which would bypass
    the per-object check."""

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.can_be_deleted())

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class NoDeleteMixin(GuardedDeleteMixin):
    """Records that are ended, never deleted: no delete button, no bulk delete action."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GovernmentAffair)
class GovernmentAffairAdmin(SafeKeysMixin, GuardedDeleteMixin, admin.ModelAdmin):
    """An affair some agreement is about is not deleted: the many-to-many link would silently drop it from them."""

    list_display = ["code", "name", "group"]
    list_filter = ["group"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(SafeKeysMixin, NoDeleteMixin, SimpleHistoryAdmin, BaseUserAdmin):
    """Accounts are deactivated, never deleted (deleting would erase authorship from the audit trail). Every
    change is in the account's history (without the password hash or last_login)."""

    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Role and region"), {"fields": ("role", "region", "language", "reminders_enabled")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("Role and region"), {"fields": ("email", "role", "region")}),
    )
    list_display = ["username", "email", "first_name", "last_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]
    history_list_display = ["email", "role", "region", "is_active", "is_staff", "is_superuser"]


@admin.register(StallSettings)
class SingleRowAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """A single editable row (``models.SingleRow``): the list view goes straight to it; it can be neither added nor
    deleted."""

    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = self.model.current()
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))


class StallSettingsAdmin(SingleRowAdmin):
    fields = ["kb_follow_up_days", "implementation_start_days", "overdue_grace_days", "updated_at"]


# ---------------------------------------------------------------------------------------------
# Agreement changelist filters (each on the ``with_status`` annotations or with Exists, no joins)


class StageFilter(admin.SimpleListFilter):
    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return Stage.choices

    def queryset(self, request, queryset):
        if self.value() in Stage.values:
            return queryset.filter(stage=self.value())
        return queryset


class StalledFilter(admin.SimpleListFilter):
    """Stalled by reason; the title states the thresholds in force (every page showing stalls must)."""

    parameter_name = "stalled"
    ANY = "any"
    NO = "no"

    def __init__(self, request, params, model, model_admin):
        t = model_admin.thresholds(request)
        self.title = _(
            "stalled (KB to PKS %(kb)s days, PKS to start %(pks)s days, overdue grace %(grace)s days)"
        ) % {"kb": t.kb_follow_up_days, "pks": t.implementation_start_days, "grace": t.overdue_grace_days}
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(self.ANY, _("Stalled, any reason")), *StallReason.choices, (self.NO, _("Not stalled"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ANY:
            return queryset.filter(is_stalled=True)
        if value == self.NO:
            return queryset.filter(is_stalled=False)
        if value in StallReason.values:
            return queryset.filter(stalls.reason_q(value))
        return queryset


class ProvinceFilter(admin.SimpleListFilter):
    """A party is the province itself or one of its kabupaten/kota."""

    title = _("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        provinces = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").values_list("code", "name")
        return list(provinces)

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        parties = AgreementParty.objects.filter(regions.in_province_q(code), agreement=OuterRef("pk"))
        return queryset.filter(Exists(parties))


class AffairFilter(admin.SimpleListFilter):
    title = _("government affair (urusan)")
    parameter_name = "affair"

    def lookups(self, request, model_admin):
        return [(code, f"{code} {name}") for code, name in GovernmentAffair.objects.values_list("code", "name")]

    def queryset(self, request, queryset):
        code = self.value()
        if not code:
            return queryset
        through = Agreement.affairs.through
        return queryset.filter(
            Exists(through.objects.filter(agreement_id=OuterRef("pk"), governmentaffair__code=code))
        )


class SigningYearFilter(admin.SimpleListFilter):
    """Years from the first to the last signing (two index lookups, not a scan for distinct years)."""

    title = _("signing year")
    parameter_name = "signed_year"

    def lookups(self, request, model_admin):
        bounds = Agreement.objects.aggregate(first=Min("signed_on"), last=Max("signed_on"))
        if bounds["first"] is None:
            return []
        return [(str(y), str(y)) for y in range(bounds["last"].year, bounds["first"].year - 1, -1)]

    def queryset(self, request, queryset):
        try:
            year = int(self.value() or "")
        except ValueError:
            return queryset
        # A date range, not __year, so the signed_on index is used.
        return queryset.filter(signed_on__gte=datetime.date(year, 1, 1), signed_on__lt=datetime.date(year + 1, 1, 1))


# ---------------------------------------------------------------------------------------------
# Agreement and its inlines


class AgreementChangeList(ChangeList):
    """Two steps: the page's primary keys, then ``with_status`` on those rows only.

    Why: ``with_status`` repeats its EXISTS subqueries in several CASE expressions; over a large
    table PostgreSQL's planner turns each into a hashed subplan that scans the whole milestone table
    even when only 50 rows are shown (0.4–3.5 s at 50,000 agreements). Selecting only the primary
    keys computes the annotations just where a filter or the ordering needs them; re-annotating the
    50 rows then uses the indexes. One more query, constant in the page size.
    """

    def get_results(self, request):
        super().get_results(request)
        pks = list(self.result_list.values_list("pk", flat=True))
        rows = self.model_admin.get_queryset(request).filter(pk__in=pks).order_by()
        by_pk = {row.pk: row for row in rows}
        self.result_list = [by_pk[pk] for pk in pks if pk in by_pk]


class VersionedAdminForm(forms.ModelForm):
    """The version the change form was opened at travels with it: a save over a newer version (an officer's
    save meanwhile) is refused, as on the pages (``services._claim_version``)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            current = type(self.instance).objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
            if cleaned.get("expected_version") != current:
                raise ValidationError(
                    _("This record was changed by someone else while you were editing it. Nothing was saved: "
                      "open it again to see the changes.")
                )
        return cleaned


class VersionedAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """Admin saves go through the services' checked save: lock, rules, version claim and history as the pages.
    A save that loses a race after the form was validated is refused with a message, never a 500."""

    form = VersionedAdminForm

    def save_checked(self, obj, user, expected_version):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        self.save_checked(obj, request.user, form.cleaned_data.get("expected_version"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (services.StaleVersionError, ValidationError) as exc:
            message = exc if isinstance(exc, services.StaleVersionError) else "; ".join(exc.messages)
            self.message_user(request, str(message), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class RelationRulesFormSet(BaseInlineFormSet):
    """Runs the agreement's cross-row rule on the rows an inline is about to save, so the admin
    refuses what the services refuse (``Agreement.party_errors`` / ``third_party_errors``)."""

    rule = ""  # the name of the Agreement method
    value = staticmethod(lambda form: None)

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [
            self.value(form) for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and self.value(form) is not None
        ]
        for message in getattr(self.instance, self.rule)(rows).values():
            raise ValidationError(message)


class PartyFormSet(RelationRulesFormSet):
    rule = "party_errors"
    value = staticmethod(lambda form: form.cleaned_data.get("region"))

    def clean(self):
        """Each party's DPRD fields obey ``signing.party_errors``, as on the party form and in the import."""
        super().clean()
        for form in self.forms:
            if form.cleaned_data and not form.cleaned_data.get("DELETE"):
                probe = AgreementParty(**{name: form.cleaned_data.get(name) for name in (
                    "dprd_required", "dprd_approved_on", "dprd_decision_number")})
                for field, message in signing.party_errors(probe).items():
                    form.add_error(field, message)


class ThirdPartyFormSet(RelationRulesFormSet):
    rule = "third_party_errors"
    value = staticmethod(lambda form: form.cleaned_data.get("name"))


class AgreementPartyInline(admin.TabularInline):
    model = AgreementParty
    formset = PartyFormSet
    extra = 0
    autocomplete_fields = ["region"]
    fields = ["region", "document_number", "signatory_name", "signatory_position", "agency", "contact_person",
              "signed_on", "dprd_required", "dprd_approved_on", "dprd_decision_number"]


class ThirdPartyInline(admin.TabularInline):
    model = ThirdParty
    formset = ThirdPartyFormSet
    extra = 0


class ReadOnlyAdminMixin:
    """An admin page that only reads: the rows are written by the application's services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, never added, changed or deleted there: every field is read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class MilestoneInline(ReadOnlyInline):
    """Read-only here: a milestone is changed on its own page, which takes part in optimistic locking."""

    model = Milestone
    fields = ["title", "responsible_region", "due_on", "started_on", "completed_on", "status", "progress"]
    show_change_link = True


class DocumentInline(ReadOnlyInline):
    """Read-only here: uploads go through the document admin (or the application's upload form)."""

    model = Document
    fields = ["doc_type", "dated_on", "original_name", "milestone", "size", "uploaded_by", "uploaded_at"]
    show_change_link = True


class AmendmentInline(ReadOnlyInline):
    """Read-only here: an amendment is recorded on the agreement page, in the import, or on its own admin page, each
    with the rules of its dates (``amendments.amendment_errors``)."""

    model = Amendment
    fields = ["number", "signed_on", "ends_on", "value_idr", "summary", "document"]
    show_change_link = True


@admin.register(Agreement)
class AgreementAdmin(GuardedDeleteMixin, VersionedAdmin):
    """Agreements with milestones or documents are terminated, never deleted (``GuardedDeleteMixin``)."""

    list_display = [
        "number", "title", "document_type", "cooperation_kind", "stage_label", "stall_reasons", "days_stalled",
        "signed_on",
    ]
    list_display_links = ["number", "title"]
    search_fields = ["number", "title", "parties__region__name"]
    list_filter = [
        "cooperation_kind", "document_type", StageFilter, ProvinceFilter, AffairFilter, SigningYearFilter,
        StalledFilter,
    ]
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [AgreementPartyInline, ThirdPartyInline, MilestoneInline, DocumentInline, AmendmentInline]
    autocomplete_fields = ["parent", "affairs"]
    readonly_fields = ["created_at", "updated_at", "created_by", "updated_by", "version"]
    fieldsets = [
        (None, {"fields": ["number", "document_type", "parent", "title", "scope", "cooperation_kind", "affairs",
                           "expected_version"]}),
        (_("Dates"), {"fields": ["signed_on", "dprd_approved_on", "starts_on", "ends_on", "terminated_on"]}),
        (_("Value"), {"fields": ["value_idr"]}),
        (_("Record"), {"fields": readonly_fields}),
    ]

    def get_changelist(self, request, **kwargs):
        return AgreementChangeList

    # Publication through the same service as the agreement page and the register (signed agreements only, all or
    # nothing); the ``published_at`` field itself is not on the form.
    actions = ["publish_agreements", "unpublish_agreements"]

    @admin.action(description=_("Publish the selected agreements (signed only)"))
    def publish_agreements(self, request, queryset):
        try:
            count = publication.publish(queryset, user=request.user)
        except ValidationError as error:
            self.message_user(request, publication.refusal_message(error), messages.ERROR)
            return
        self.message_user(request, _("Agreements published: %(count)d.") % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Withdraw the selected agreements from publication"))
    def unpublish_agreements(self, request, queryset):
        count = publication.unpublish(queryset, user=request.user)
        self.message_user(request, _("Agreements withdrawn: %(count)d.") % {"count": count}, messages.SUCCESS)

    # The regulated steps, read-only (not a formset: nothing is edited here): officers mark them on the agreement
    # page (``services.step_*``, with the access and concurrency rules), the register's dates complete the rest
    # (``steps.derive_steps``), and a new agreement gets them when it is saved (``services.agreement_save_edited``).
    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [*fieldsets, (_("Steps"), {"fields": ["step_list"]})] if obj is not None else fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "step_list"]

    @admin.display(description=_("steps"))
    def step_list(self, obj):
        rows = obj.steps.select_related("done_by").order_by("order", "pk")
        return format_html("<ol>{}</ol>", format_html_join("", '<li><a href="{}">{}</a> — {}{}{}</li>', (
            (reverse("admin:agreements_agreementstep_change", args=[step.pk]), step.title,
             step.get_status_display(), f", {formats.date_format(step.done_on, 'DATE_FORMAT')}" if step.done_on else "",
             f" ({step.done_by})" if step.done_by else "")
            for step in rows))) if obj.pk else "—"

    @staticmethod
    def thresholds(request) -> stalls.Thresholds:
        """The thresholds in force, read once per request."""
        if not hasattr(request, "_stall_thresholds"):
            request._stall_thresholds = stalls.Thresholds.current()
        return request._stall_thresholds

    @staticmethod
    def as_of(request) -> datetime.date:
        if not hasattr(request, "_stall_as_of"):
            request._stall_as_of = stalls.today()
        return request._stall_as_of

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return stalls.with_status(qs, as_of=self.as_of(request), thresholds=self.thresholds(request))

    @admin.display(description=_("stage"), ordering="stage_order")
    def stage_label(self, obj):
        return Stage(obj.stage).label

    @admin.display(description=_("stall reasons"))
    def stall_reasons(self, obj):
        return ", ".join(str(StallReason(code).label) for code in stalls.reasons_of(obj)) or "—"

    # Days stalled = today − stalled_since: more days is an *earlier* date, so ascending days is
    # stalled_since descending. Not stalled (NULL) counts as 0 days: first ascending, last descending
    # (the admin reverses both the direction and the NULL placement on the second click).
    @admin.display(description=_("days since signing or due date"), ordering=F("stalled_since").desc(nulls_first=True))
    def days_stalled(self, obj):
        return stalls.days_stalled(obj, stalls.today())

    def save_checked(self, obj, user, expected_version):
        services.agreement_save_edited(agreement=obj, user=user, expected_version=expected_version)

    def save_related(self, request, form, formsets, change):
        """After the parties are saved: the agreement's dates and the parties' made to agree (``services.sync_signing``,
        a date changed on the agreement going to the parties without one). A contradiction refuses the whole save
        (``changeform_view`` turns the error into a message; the transaction is rolled back)."""
        super().save_related(request, form, formsets, change)
        services.sync_signing(
            form.instance, user=request.user,
            previous_signed_on=form.initial.get("signed_on") if change else None,
            previous_dprd_approved_on=form.initial.get("dprd_approved_on") if change else None,
        )


# ---------------------------------------------------------------------------------------------
# The regulated steps: templates and each agreement's checklist


class TemplateStepForm(forms.ModelForm):
    """A KB step completed by its PKS names a step of a PKS template (``pks_step_code``)."""

    class Meta:
        model = TemplateStep
        fields = ["order", "code", "phase", "title", "instructions", "expected_document", "actor", "per_party",
                  "legal_basis", "pks_step_code"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 3, "cols": 40})}

    def clean_pks_step_code(self):
        code = self.cleaned_data.get("pks_step_code", "").strip()
        if code and not TemplateStep.objects.filter(code=code, template__document_type="PKS").exists():
            raise ValidationError(_("No step of a PKS template has this code."))
        return code


class TemplateStepInline(admin.TabularInline):
    model = TemplateStep
    form = TemplateStepForm
    extra = 0
    ordering = ["order"]


@admin.register(StepTemplate)
class StepTemplateAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """The checklist a new agreement of this document type and kind gets. Changing it changes the agreements created
    afterwards, never the existing ones (their steps are copies). Codes are unique across templates; the part after
    the dot says what a step is, and the register completes SIGN, DPRD, START and a KB's closing steps by it."""

    list_display = ["name", "document_type", "cooperation_kind", "step_count"]
    list_filter = ["document_type", "cooperation_kind"]
    search_fields = ["name", "steps__code", "steps__title"]
    inlines = [TemplateStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_steps=Count("steps"))

    @admin.display(description=_("steps"), ordering="n_steps")
    def step_count(self, obj):
        return obj.n_steps


@admin.register(AgreementStep)
class AgreementStepAdmin(ReadOnlyAdminMixin, SafeKeysMixin, SimpleHistoryAdmin):
    """Read-only, with its history: a step is marked done or not applicable on the agreement page (who may write the
    agreement, ``services.step_mark_done``), or completed from the register's dates."""

    list_display = ["agreement", "order", "title", "status", "done_on", "done_by"]
    list_filter = ["status", "phase"]
    search_fields = ["code", "title", "agreement__number"]
    list_select_related = ["agreement", "done_by"]
    show_full_result_count = False


# ---------------------------------------------------------------------------------------------
# Milestones, their updates and documents


class MilestoneUpdateInline(ReadOnlyInline):
    model = MilestoneUpdate
    fields = ["created_at", "user", "status_before", "status_after", "progress", "note"]


@admin.register(Milestone)
class MilestoneAdmin(VersionedAdmin):
    list_display = ["title", "agreement", "responsible_region", "due_on", "status", "progress"]
    list_filter = ["status"]
    search_fields = ["title", "agreement__number", "agreement__title"]
    list_select_related = ["agreement", "responsible_region"]
    autocomplete_fields = ["agreement", "responsible_region"]
    readonly_fields = ["created_at", "updated_at", "version"]
    inlines = [MilestoneUpdateInline]
    show_full_result_count = False

    def save_checked(self, obj, user, expected_version):
        services.milestone_save_edited(milestone=obj, user=user, expected_version=expected_version)


@admin.register(MilestoneUpdate)
class MilestoneUpdateAdmin(SafeKeysMixin, admin.ModelAdmin):
    list_display = ["milestone", "user", "created_at", "status_before", "status_after", "progress"]
    list_filter = ["status_after"]
    search_fields = ["milestone__title", "milestone__agreement__number", "note"]
    list_select_related = ["milestone", "user"]
    autocomplete_fields = ["milestone", "user"]
    readonly_fields = ["created_at"]
    show_full_result_count = False


class DocumentAdminForm(forms.ModelForm):
    """An upload here passes the pages' checks (``services.document_check``: content, active content, size)."""

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and "file" in self.changed_data and cleaned.get("doc_type"):
            try:
                self.checked_upload = services.document_check(upload, doc_type=cleaned["doc_type"])
            except ValidationError as exc:
                self.add_error(None, exc)  # the error names the field ("file")
        return cleaned


@admin.register(Document)
class DocumentAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    form = DocumentAdminForm
    list_display = ["__str__", "agreement", "doc_type", "dated_on", "size", "uploaded_at"]
    list_filter = ["doc_type"]
    search_fields = ["original_name", "agreement__number"]
    list_select_related = ["agreement"]
    autocomplete_fields = ["agreement", "milestone"]
    readonly_fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    show_full_result_count = False
    FIELDS = ["agreement", "milestone", "doc_type", "dated_on", "file", *readonly_fields]

    def get_fields(self, request, obj=None):
        # Stored files have no public URL (MEDIA_URL is left unset and nothing serves MEDIA_ROOT: files go out
        # only through access-checked views), so a saved file is shown by name, read-only, not as the widget's link.
        if obj is None:
            return self.FIELDS
        return [f if f != "file" else "stored_file" for f in self.FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, *(["stored_file"] if obj else [])]

    @admin.display(description=_("file"))
    def stored_file(self, obj):
        return obj.file.name

    def save_model(self, request, obj, form, change):
        checked = getattr(form, "checked_upload", None)
        if checked is not None:
            upload = form.cleaned_data["file"]
            obj.original_name = checked.original_name
            obj.content_type = checked.content_type
            obj.size = checked.size
            upload.name = f"upload{checked.extension}"  # stored under a generated name with the checked extension
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)


class AmendmentAdminForm(forms.ModelForm):
    """The rules of the pages and the import: the dates (``amendments.amendment_errors``, against the agreement's
    signing), the text (``amendments.text_errors``), and a document of the same agreement."""

    class Meta:
        model = Amendment
        fields = ["agreement", "number", "signed_on", "ends_on", "scope", "value_idr", "summary", "document"]

    def clean(self):
        from . import amendments

        cleaned = super().clean()
        agreement = cleaned.get("agreement")
        if agreement is not None and "signed_on" in cleaned:
            errors = amendments.amendment_errors(signed_on=cleaned.get("signed_on"), ends_on=cleaned.get("ends_on"),
                                                 agreement_signed_on=agreement.signed_on, today=stalls.today())
            errors.update(amendments.text_errors(**{f: cleaned.get(f) for f in ("number", "summary", "scope")}))
            document = cleaned.get("document")
            if document is not None and document.agreement_id != agreement.pk:
                errors["document"] = _("Choose a document of this agreement.")
            for field, message in errors.items():
                self.add_error(field, message)
        return cleaned


@admin.register(Amendment)
class AmendmentAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    form = AmendmentAdminForm
    list_display = ["__str__", "agreement", "signed_on", "ends_on", "value_idr"]
    search_fields = ["number", "agreement__number", "summary"]
    list_select_related = ["agreement"]
    autocomplete_fields = ["agreement", "document"]
    readonly_fields = ["created_at", "created_by"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


# --- Needs and offers register ---


@admin.register(NeedOffer)
class NeedOfferAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    list_display = ["region", "affair", "kind", "priority", "updated_at"]
    list_filter = ["kind", "priority", "affair__group"]
    search_fields = ["region__code", "region__name", "affair__code", "affair__name", "description"]
    list_select_related = ["region", "affair"]
    autocomplete_fields = ["region", "affair"]
    readonly_fields = ["created_at", "updated_at", "created_by", "updated_by"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "planning_url":
            kwargs["assume_scheme"] = "https"  # Django 6's default, without the deprecation warning
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdminMixin, SafeKeysMixin, SimpleHistoryAdmin):
    """Read-only: a proposal is made, accepted and declined by the regions' officers in the application
    (``services.proposal_*``: the answer's lock, the draft KB through ``agreement_create``)."""

    list_display = ["__str__", "status", "created_at", "answered_at", "agreement"]
    list_filter = ["status", "affair__group"]
    search_fields = ["proposing_region__name", "partner_region__name", "affair__name", "message"]
    list_select_related = ["proposing_region", "partner_region", "affair", "agreement"]
    show_full_result_count = False


# ---------------------------------------------------------------------------------------------
# Follow-ups and the reminder log


@admin.register(FollowUp)
class FollowUpAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """Attachments are uploaded through the application (content-checked) and have no public URL."""

    list_display = ["__str__", "kind", "date", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["note", "agreement__number", "region__name"]
    list_select_related = ["agreement", "region", "recorded_by"]
    autocomplete_fields = ["agreement", "region", "recorded_by"]
    exclude = ["attachment"]
    readonly_fields = ["original_name", "content_type", "created_at"]
    show_full_result_count = False


@admin.register(SentDigest)
class SentDigestAdmin(SafeKeysMixin, admin.ModelAdmin):
    """A read-only log of the reminder e-mails sent."""

    list_display = ["user", "kind", "iso_year", "iso_week", "sent_at"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ---------------------------------------------------------------------------------------------
# Guidance pages, guidance events, TKKSD


class GuidancePageForm(forms.ModelForm):
    # Addresses the guidance URLs already use for their own pages.
    RESERVED_SLUGS = {"events", "unguided-regions"}

    class Meta:
        model = GuidancePage
        fields = ["slug", "step_code", "cooperation_kind", "title_id", "body_id", "title_en", "body_en"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in self.RESERVED_SLUGS:
            raise ValidationError(_("This address is used by another guidance page of the application."))
        return slug


@admin.register(GuidancePage)
class GuidancePageAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """Written in Markdown (or HTML); the preview shows the text as readers will see it, after the sanitiser."""

    form = GuidancePageForm
    list_display = ["slug", "title_id", "title_en", "step_code", "cooperation_kind", "updated_at"]
    list_filter = ["cooperation_kind"]
    search_fields = ["slug", "title_id", "title_en", "step_code", "body_id", "body_en"]
    readonly_fields = ["preview_id", "preview_en", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", "step_code", "cooperation_kind"]}),
        (_("Indonesian"), {"fields": ["title_id", "body_id", "preview_id"]}),
        (_("English"), {"fields": ["title_en", "body_en", "preview_en"]}),
        (None, {"fields": ["updated_at"]}),
    ]

    @admin.display(description=_("Preview (Indonesian), as saved"))
    def preview_id(self, obj):
        return self._preview(obj.body_id if obj else "")

    @admin.display(description=_("Preview (English), as saved"))
    def preview_en(self, obj):
        return self._preview(obj.body_en if obj else "")

    @staticmethod
    def _preview(text):
        return mark_safe(f'<div class="guidance-body">{guidance.render_markdown(text)}</div>')  # sanitised by nh3

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        guidance.forget_step_urls()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        guidance.forget_step_urls()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        guidance.forget_step_urls()


@admin.register(GuidanceEvent)
class GuidanceEventAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    """Materials are uploaded through the application (content-checked) and have no public URL."""

    list_display = ["title", "kind", "held_on", "place", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["title", "place", "note", "regions__name"]
    list_select_related = ["recorded_by"]
    autocomplete_fields = ["regions", "affairs", "recorded_by"]
    filter_horizontal = ["steps"]
    exclude = ["materials"]
    readonly_fields = ["materials_name", "created_at"]
    show_full_result_count = False


@admin.register(Tkksd)
class TkksdAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    list_display = ["region", "formed", "decree_number", "decree_date", "chair", "member_count"]
    list_filter = ["formed"]
    search_fields = ["region__code", "region__name", "decree_number", "chair"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]
    readonly_fields = ["updated_at"]


# --- monitoring and evaluation (monev) ----------------------------------------------------------------------------


@admin.register(EvaluationQuestion)
class EvaluationQuestionAdmin(SafeKeysMixin, admin.ModelAdmin):
    """The questionnaire: editing a question changes what is asked from now on; past answers keep the text they
    answered (``EvaluationAnswer.question_text``). A question once answered keeps its code and is switched off
    ("asked") rather than deleted."""

    list_display = ["code", "text", "text_en", "order", "active"]
    list_editable = ["order", "active"]
    search_fields = ["code", "text", "text_en"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.answers.exists():
            return ["code"]
        return []

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.answers.exists())


class EvaluationAnswerInline(ReadOnlyInline):
    model = EvaluationAnswer
    fields = ["question_code", "question_text", "score", "note"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdminMixin, SafeKeysMixin, SimpleHistoryAdmin):
    """A party's semester evaluation, as its officer submitted it on the agreement's page."""

    list_display = ["agreement", "region", "year", "semester", "recommendation", "submitted_by", "submitted_at"]
    list_filter = ["year", "semester", "recommendation"]
    search_fields = ["agreement__number", "agreement__title", "region__name", "region__code"]
    list_select_related = ["agreement", "region", "submitted_by"]
    inlines = [EvaluationAnswerInline]
    show_full_result_count = False


@admin.register(EvaluationConclusion)
class EvaluationConclusionAdmin(ReadOnlyAdminMixin, SafeKeysMixin, SimpleHistoryAdmin):
    """The ministry's conclusion, written on the agreement's page."""

    list_display = ["agreement", "year", "semester", "written_by", "written_at"]
    list_filter = ["year", "semester"]
    search_fields = ["agreement__number", "agreement__title"]
    list_select_related = ["agreement", "written_by"]
    show_full_result_count = False


# ---------------------------------------------------------------------------------------------
# Results: outcome indicators with their actual values, financing lines. The pages write them through
# ``agreements.results`` (who may, the checks on the evidence file); here an administrator corrects a mistake.


class IndicatorActualInline(admin.TabularInline):
    """The values recorded, under their indicator: corrected here, never added (the evidence goes through the upload
    checks of the "Catat capaian" page)."""

    model = IndicatorActual
    fields = ["period_start", "period_end", "value", "note", "evidence", "recorded_by", "recorded_at"]
    readonly_fields = ["evidence", "recorded_by", "recorded_at"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Indicator)
class IndicatorAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    list_display = ["name", "unit", "agreement", "baseline_value", "target_value", "target_on"]
    search_fields = ["name", "agreement__number", "agreement__title"]
    list_select_related = ["agreement"]
    autocomplete_fields = ["agreement", "need"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [IndicatorActualInline]
    show_full_result_count = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agreement":  # only a PKS has outcome indicators
            kwargs["queryset"] = Agreement.objects.filter(document_type=Agreement.DocumentType.PKS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Financing)
class FinancingAdmin(SafeKeysMixin, SimpleHistoryAdmin):
    list_display = ["agreement", "fiscal_year", "region", "source", "planned_idr", "realised_idr"]
    list_filter = ["source", "fiscal_year"]
    search_fields = ["agreement__number", "agreement__title", "region__name", "note"]
    list_select_related = ["agreement", "region"]
    autocomplete_fields = ["agreement", "region"]
    readonly_fields = ["updated_by", "updated_at"]
    show_full_result_count = False


# ---------------------------------------------------------------------------------------------
# Periodic reports: the due date is the administrators' to set; the reports are written, submitted and returned on
# their pages (``agreements.reports``), read here.


@admin.register(ReportSettings)
class ReportSettingsAdmin(SingleRowAdmin):
    fields = ["due_days", "updated_at"]


class ReportVersionInline(ReadOnlyInline):
    model = ReportVersion
    fields = ["number", "submitted_by", "submitted_at", "returned_by", "returned_at", "return_comment"]


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, SafeKeysMixin, admin.ModelAdmin):
    list_display = ["region", "period", "status", "submitted_by", "submitted_at", "returned_at"]
    list_filter = ["status", "period"]
    search_fields = ["region__name", "region__code", "period"]
    list_select_related = ["region", "submitted_by"]
    fields = ["region", "period", "status", "submitted_by", "submitted_at", "returned_by", "returned_at",
              "return_comment", "narrative"]
    inlines = [ReportVersionInline]
    show_full_result_count = False


admin.site.site_header = _("Kerjasama administration")
admin.site.site_title = _("Kerjasama administration")
admin.site.index_title = _("Regional cooperation agreements")
