"""The agreement list's filters: the query-string contract every figure's link uses.

``AgreementFilter`` takes a queryset the user may see (``access.agreements_visible_to``), annotates
it with the stage and stall facts as of the ``as_of`` parameter (``stalls.with_status``, the one
implementation of those rules) and applies the other parameters. The list page and the exports use
the same class, so an export is exactly the filtered list.

Parameters (GET, repeatable where noted): ``q``; ``kind`` (repeatable); ``document_type``;
``stage`` (repeatable); ``stalled`` (yes|no); ``reason``; ``age`` (see ``stalls.AGE_BUCKETS``);
``province`` (the province or one of its kabupaten/kota is a party); ``region`` (that region is a
party); ``affair``; ``signed_from``/``signed_to``; ``year_from``/``year_to`` (signing year);
``stuck_at`` (a step code: stalled agreements whose first step not done by ``as_of`` is that one, see
``stalls.with_stuck_at``); ``obstacle`` (a category of ``Obstacle``: an obstacle of it open as of ``as_of``);
``has_pks`` (yes|no: a PKS under this KB was signed by ``as_of``; the dashboard's "followed up"
figures); ``followed_up_90`` (yes|no: a follow-up on the agreement or one of its regions in the 90
days up to ``as_of``; see ``followups.followed_up_within``); ``tkksd`` (yes|no: no, a regional party has no
formed TKKSD recorded; yes, every regional party has one); ``lapsed`` (yes|no: the term ended by ``as_of``
without its follow-up, ``stalls.lapsed_q``); ``expiry_year`` (the year its end date in force falls in);
``expiring_within`` (days, 1 to ``stalls.EXPIRING_WITHIN_MAX_DAYS``: in force on ``as_of`` and ending within
that many days, ``stalls.expiring_within_q``); ``no_end_date`` (yes: in force with no end date recorded,
``stalls.no_end_date_q``); ``evaluation_due`` (yes: a PKS implementing for six months missing a party's evaluation of
the last completed semester, ``evaluations.evaluation_due_q``); ``evaluated`` (yes|no: implementing with an evaluation
recorded this semester, ``evaluations.evaluated_this_semester_q``); ``recommendation`` (a party's evaluation of the last
completed semester recommends it, ``evaluations.recommended_q``); ``as_of`` (default today); ``sort``.
"""

import datetime
import numbers

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from . import evaluations, followups, guidance, regions, results, selectors, stalls
from .models import (
    Agreement,
    AgreementParty,
    GovernmentAffair,
    ImportJob,
    Obstacle,
    Recommendation,
    Region,
    Stage,
    StallReason,
    ThirdParty,
)
from .widgets import use_picker

SEARCH_CONFIG = "indonesian"

# The subset of parameters the dashboard offers; its figures link to the list with these plus their own.
DASHBOARD_FILTERS = ["province", "affair", "kind", "year_from", "year_to", "as_of"]

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
AGE_LABELS = {
    "0-182": _("Up to 182 days past the threshold"),
    "183-365": _("183–365 days past the threshold"),
    "366-730": _("366–730 days past the threshold"),
    "731+": _("More than 730 days past the threshold"),
}
AGE_CHOICES = [(label, AGE_LABELS[label]) for label, _low, _high in stalls.AGE_BUCKETS]

# The agreement number in plain code-point order (the "C" collation on PostgreSQL): the order contract of the list, the
# exports and ``manage.py stalled``, the same on every database.
NUMBER = selectors.codepoint_order("number")
# sort value -> order_by() terms; ``number`` (unique) last, so that pagination is stable.
SORTS = {
    "number": [NUMBER.asc()],
    "-number": [NUMBER.desc()],
    "title": [F("title").asc(), NUMBER.asc()],
    "stage": [F("stage_order").asc(), NUMBER.asc()],
    "-stage": [F("stage_order").desc(), NUMBER.asc()],
    "signed_on": [F("signed_on").asc(nulls_last=True), NUMBER.asc()],
    "-signed_on": [F("signed_on").desc(nulls_last=True), NUMBER.asc()],
    # Longest stalled = earliest ``stalled_since``; agreements not stalled come last either way.
    "days_stalled": [F("stalled_since").desc(nulls_last=True), NUMBER.asc()],
    "-days_stalled": [F("stalled_since").asc(nulls_last=True), NUMBER.asc()],
    # The realised amount summed over the agreement's financing lines (``results.realised_sum``; ``filter_queryset``
    # orders the filtered list by its annotation); agreements without a financing line come last either way.
    "realised": [results.realised_sum().asc(nulls_last=True), NUMBER.asc()],
    "-realised": [results.realised_sum().desc(nulls_last=True), NUMBER.asc()],
}
# The default first, so that the form shows the order the list is in.
SORT_CHOICES = [
    ("-signed_on", _("Signing date (newest first)")),
    ("number", _("Number (A–Z)")),
    ("-number", _("Number (Z–A)")),
    ("title", _("Title")),
    ("stage", _("Stage (lifecycle order)")),
    ("-stage", _("Stage (reverse lifecycle order)")),
    ("signed_on", _("Signing date (oldest first)")),
    ("days_stalled", _("Days since signing or due date (fewest first)")),
    ("-days_stalled", _("Days since signing or due date (most first)")),
    ("-realised", _("Realised financing (largest first)")),
    ("realised", _("Realised financing (smallest first)")),
]
DEFAULT_SORT = "-signed_on"


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (``NumberFilter`` takes decimals): anything else is an error on the form."""

    field_class = forms.IntegerField


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class RegionFilter(django_filters.ModelChoiceFilter):
    field_class = RegionChoiceField


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def text_search_q(value: str) -> Q:
    """Number, title, scope and party names (regions and third parties).

    PostgreSQL: full-text search with the ``indonesian`` configuration (stemmed, web-search syntax),
    plus ``icontains`` on the number so that a number, with its slashes, is always found (through the trigram
    index of migration 0021 when the ``pg_trgm`` extension could be installed). SQLite (no
    full-text search): every word must appear somewhere (``icontains``).
    """
    value = value.strip()
    parties = AgreementParty.objects.filter(agreement=OuterRef("pk"))
    third = ThirdParty.objects.filter(agreement=OuterRef("pk"))
    if _is_postgres():
        # One set of ids, each part answered on its own terms: the agreement's own text through its GIN index
        # (migration 0007), the regions' names over the 552 regions then the parties' region index, the third
        # parties' names, the number's substring. An OR of correlated EXISTS would test every agreement instead.
        query = SearchQuery(value, config=SEARCH_CONFIG, search_type="websearch")
        own = (Agreement.objects.annotate(_v=SearchVector("number", "title", "scope", config=SEARCH_CONFIG))
               .filter(_v=query).values("pk"))
        regions_named = Region.objects.annotate(_v=SearchVector("name", config=SEARCH_CONFIG)).filter(_v=query)
        party = AgreementParty.objects.filter(region__in=regions_named.values("pk")).values("agreement_id")
        other = (ThirdParty.objects.annotate(_v=SearchVector("name", config=SEARCH_CONFIG)).filter(_v=query)
                 .values("agreement_id"))
        numbered = Agreement.objects.filter(number__icontains=value).values("pk")  # a trigram index where it can
        return Q(pk__in=own) | Q(pk__in=party) | Q(pk__in=other) | Q(pk__in=numbered)
    q = Q()
    for word in value.split():
        q &= (
            Q(number__icontains=word)
            | Q(title__icontains=word)
            | Q(scope__icontains=word)
            | Exists(parties.filter(region__name__icontains=word))
            | Exists(third.filter(name__icontains=word))
        )
    return q


class AgreementFilter(django_filters.FilterSet):
    """Filters on an agreement queryset; ``qs`` is annotated by ``stalls.with_status`` as of ``as_of``."""

    q = django_filters.CharFilter(
        label=_("Search"), method="filter_q", help_text=_("Number, title, scope or party name."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = django_filters.MultipleChoiceFilter(
        label=_("Cooperation kind"), field_name="cooperation_kind", choices=Agreement.Kind.choices,
        widget=forms.CheckboxSelectMultiple, distinct=False,
    )
    document_type = django_filters.ChoiceFilter(
        label=_("Document type"), field_name="document_type", choices=Agreement.DocumentType.choices,
        empty_label=_("KB and PKS"),
    )
    stage = django_filters.MultipleChoiceFilter(
        label=_("Stage"), method="filter_stage", choices=Stage.choices, widget=forms.CheckboxSelectMultiple,
    )
    stalled = django_filters.ChoiceFilter(
        label=_("Stalled"), method="filter_stalled", choices=YES_NO, empty_label=_("All")
    )
    reason = django_filters.ChoiceFilter(
        label=_("Stall reason"), method="filter_reason", choices=StallReason.choices, empty_label=_("Any")
    )
    age = django_filters.ChoiceFilter(
        label=_("Days past the threshold"), method="filter_age", choices=AGE_CHOICES, empty_label=_("Any")
    )
    stuck_at = django_filters.ChoiceFilter(
        label=_("Stopped at the step"), method="filter_stuck_at", choices=stalls.step_choices, empty_label=_("Any"),
        help_text=_("Stalled agreements whose first step not done by the as-of date is this one."),
    )
    obstacle = django_filters.ChoiceFilter(
        label=_("Open obstacle"), method="filter_obstacle", choices=Obstacle.Category.choices, empty_label=_("Any"),
        help_text=_("An obstacle of this kind raised by the as-of date and not resolved by then."),
    )
    province = RegionFilter(
        label=_("Province"), method="filter_province", to_field_name="code",
        queryset=Region.objects.filter(level=Region.Level.PROVINCE), empty_label=_("All provinces"),
        help_text=_("Includes its kabupaten/kota."),
    )
    region = RegionFilter(
        label=_("Region (party)"), method="filter_region", to_field_name="code",
        queryset=Region.objects.all(), empty_label=_("All regions"),
    )
    affair = django_filters.ModelChoiceFilter(
        label=_("Government affair (urusan)"), method="filter_affair", to_field_name="code",
        queryset=GovernmentAffair.objects.all(), empty_label=_("All affairs"),
    )
    signed_from = django_filters.DateFilter(
        label=_("Signed from"), field_name="signed_on", lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    signed_to = django_filters.DateFilter(
        label=_("Signed until"), field_name="signed_on", lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    year_from = django_filters.NumberFilter(
        label=_("Signed from year"), field_name="signed_on", lookup_expr="year__gte", min_value=1945, max_value=2200,
    )
    year_to = django_filters.NumberFilter(
        label=_("Signed until year"), field_name="signed_on", lookup_expr="year__lte", min_value=1945, max_value=2200,
    )
    has_pks = django_filters.ChoiceFilter(
        label=_("Followed by a signed PKS"), method="filter_has_pks", choices=YES_NO, empty_label=_("All"),
        help_text=_("For KBs: a PKS implementing it was signed on or before the as-of date."),
    )
    followed_up_90 = django_filters.ChoiceFilter(
        label=_("Followed up in the last 90 days"), method="filter_followed_up_90", choices=YES_NO,
        empty_label=_("All"),
        help_text=_("A follow-up on the agreement or on one of its regions in the 90 days up to the as-of date."),
    )
    tkksd = django_filters.ChoiceFilter(
        label=_("Parties' TKKSD formed"), method="filter_tkksd", choices=YES_NO, empty_label=_("All"),
        help_text=_("No: at least one regional party has not formed its regional cooperation coordination team "
                    "(TKKSD), or has not recorded it."),
    )
    lapsed = django_filters.ChoiceFilter(
        label=_("Ended without follow-up"), method="filter_lapsed", choices=YES_NO, empty_label=_("All"),
        help_text=_("The term ended by the as-of date without its follow-up: a KB with no PKS signed by its end "
                    "date, a PKS with no milestone met by its end date, and no renewal signed by then."),
    )
    expiry_year = IntegerFilter(
        label=_("Term ends in year"), field_name="ends_on_in_force", lookup_expr="year", min_value=1900,
        max_value=2200, help_text=_("The year of the end date in force on the as-of date."),
    )
    expiring_within = IntegerFilter(
        label=_("Ends within (days)"), method="filter_expiring_within", min_value=1,
        max_value=stalls.EXPIRING_WITHIN_MAX_DAYS,
        help_text=_("In force on the as-of date and ending within this many days of it."),
    )
    no_end_date = django_filters.ChoiceFilter(
        label=_("No end date"), method="filter_no_end_date", choices=[("yes", _("Yes"))], empty_label=_("All"),
        help_text=_("Signed and in force on the as-of date, with no end date recorded: to be completed."),
    )
    evaluation_due = django_filters.ChoiceFilter(
        label=_("Evaluation due"), method="filter_evaluation_due", choices=[("yes", _("Yes"))], empty_label=_("All"),
        help_text=_("A PKS implementing for more than six months on the as-of date without the evaluation of the "
                    "last completed semester from every regional party."),
    )
    evaluated = django_filters.ChoiceFilter(
        label=_("Evaluated this semester"), method="filter_evaluated", choices=YES_NO, empty_label=_("All"),
        help_text=_("Implementing, with an evaluation recorded by a party since the start of the as-of date's "
                    "semester."),
    )
    recommendation = django_filters.ChoiceFilter(
        label=_("Parties' recommendation"), method="filter_recommendation", choices=Recommendation.choices,
        empty_label=_("Any"),
        help_text=_("A regional party recommended this in its evaluation of the last completed semester."),
    )
    # Results (``agreements.results``): a financing line recorded (any fiscal year), an outcome indicator recorded.
    financed = django_filters.ChoiceFilter(
        label=_("Financing recorded"), method="filter_financed", choices=YES_NO, empty_label=_("All"),
        help_text=_("Yes: at least one financing line (planned or realised, any fiscal year) is recorded."),
    )
    has_indicators = django_filters.ChoiceFilter(
        label=_("Outcome indicators recorded"), method="filter_has_indicators", choices=YES_NO, empty_label=_("All"),
    )
    # A date outside stalls.AS_OF_MIN..AS_OF_MAX is an error on the form, and the page falls back to today.
    as_of = django_filters.DateFilter(
        label=_("As of"), method="filter_noop", help_text=_("Stage and stalls are computed at this date."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), validators=[stalls.validate_as_of],
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), method="filter_noop", choices=SORT_CHOICES, empty_label=None,
    )
    # The agreements an import created or updated (the link on the import's page); the list stays scoped.
    imported = django_filters.NumberFilter(
        label=_("Import"), method="filter_imported", min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput,
    )

    class Meta:
        model = Agreement
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, thresholds: stalls.Thresholds | None = None, **kwargs):
        # Always bound: an empty query string still means "annotate and sort as of today".
        super().__init__(data if data is not None else QueryDict(), queryset, **kwargs)
        self.thresholds = thresholds or stalls.Thresholds.current()
        use_picker(self.form.fields["province"], Region.objects.filter(level=Region.Level.PROVINCE),
                   value_field="code", empty_label=_("All provinces"))
        use_picker(self.form.fields["region"], Region.objects.all(), value_field="code", empty_label=_("All regions"))
        self.as_of = stalls.today()

    # -- the whole queryset ------------------------------------------------------------------

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        data = self.form.cleaned_data
        self.as_of = data.get("as_of") or stalls.today()
        queryset = stalls.with_status(queryset, as_of=self.as_of, thresholds=self.thresholds)
        queryset = super().filter_queryset(queryset)
        if self.sort_key in ("realised", "-realised"):
            # Annotated here: the paginated list selects this query's ids in a subquery, where a correlated subquery
            # in ORDER BY loses its outer reference; an annotation keeps it.
            queryset = queryset.annotate(realised_total=results.realised_sum())
            realised = F("realised_total")
            return queryset.order_by(realised.desc(nulls_last=True) if self.sort_key == "-realised"
                                     else realised.asc(nulls_last=True), NUMBER.asc())
        return queryset.order_by(*SORTS[self.sort_key])

    @property
    def sort_key(self) -> str:
        value = getattr(self.form, "cleaned_data", {}).get("sort")
        return value if value in SORTS else DEFAULT_SORT

    # -- one method per parameter --------------------------------------------------------------

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_q(self, queryset, name, value):
        return queryset.filter(text_search_q(value)) if value.strip() else queryset

    def filter_stage(self, queryset, name, value):
        return queryset.filter(stage__in=value)

    def filter_has_pks(self, queryset, name, value):
        return queryset.filter(has_signed_pks=(value == "yes"))

    def filter_followed_up_90(self, queryset, name, value):
        return queryset.filter(followups.followed_up_q(value == "yes", self.as_of))

    def filter_tkksd(self, queryset, name, value):
        return queryset.filter(guidance.tkksd_q(value))

    def filter_lapsed(self, queryset, name, value):
        return queryset.filter(is_lapsed=(value == "yes"))

    def filter_expiring_within(self, queryset, name, value):
        return queryset.filter(stalls.expiring_within_q(int(value), self.as_of))

    def filter_no_end_date(self, queryset, name, value):
        return queryset.filter(stalls.no_end_date_q()) if value == "yes" else queryset

    def filter_evaluation_due(self, queryset, name, value):
        return queryset.filter(evaluations.evaluation_due_q(self.as_of)) if value == "yes" else queryset

    def filter_evaluated(self, queryset, name, value):
        q = evaluations.evaluated_this_semester_q(self.as_of)
        return queryset.filter(q if value == "yes" else ~q)

    def filter_recommendation(self, queryset, name, value):
        return queryset.filter(evaluations.recommended_q(value, self.as_of))

    def filter_financed(self, queryset, name, value):
        return queryset.filter(results.financed_q() if value == "yes" else ~results.financed_q())

    def filter_has_indicators(self, queryset, name, value):
        return queryset.filter(results.has_indicators_q() if value == "yes" else ~results.has_indicators_q())

    def filter_stalled(self, queryset, name, value):
        return queryset.filter(is_stalled=(value == "yes"))

    def filter_reason(self, queryset, name, value):
        return queryset.filter(stalls.reason_q(value))

    def filter_age(self, queryset, name, value):
        return queryset.filter(stalls.age_bucket_q(value, self.as_of, self.thresholds))

    def filter_stuck_at(self, queryset, name, value: str):
        return stalls.with_stuck_at(queryset, self.as_of).filter(stuck_at=value)

    def filter_obstacle(self, queryset, name, value):
        return queryset.filter(stalls.has_open_obstacle(self.as_of, value))

    def filter_province(self, queryset, name, value: Region):
        parties = AgreementParty.objects.filter(regions.in_province_q(value), agreement=OuterRef("pk"))
        return queryset.filter(Exists(parties))

    def filter_region(self, queryset, name, value: Region):
        return queryset.filter(Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region=value)))

    def filter_imported(self, queryset, name, value):
        """The agreements one of the user's own imports created or updated (another user's import: none)."""
        user = getattr(self.request, "user", None)
        links = ImportJob.agreements.through.objects.filter(
            agreement=OuterRef("pk"), importjob_id=int(value), importjob__user_id=getattr(user, "pk", None))
        return queryset.filter(Exists(links))

    def filter_affair(self, queryset, name, value: GovernmentAffair):
        links = Agreement.affairs.through.objects.filter(agreement=OuterRef("pk"), governmentaffair=value)
        return queryset.filter(Exists(links))

    # -- for the page ------------------------------------------------------------------------

    def as_of_date(self) -> datetime.date:
        """The date the stage and stalls were computed at (after ``qs`` was evaluated)."""
        return self.as_of

    def applied(self) -> list[str]:
        """The filters in force as words, for the folded form's summary ("Jawa Barat · stalled · Affair 2.11 …"):
        names and labels, never codes. The sort order and the import link (it has its own notice) are not listed."""
        data = getattr(self.form, "cleaned_data", {})
        words = []
        first = ["province", "region", "stalled", "affair"]  # where and what first, as a person says it
        for name in sorted(self.form.fields, key=lambda n: first.index(n) if n in first else len(first)):
            field, value = self.form.fields[name], data.get(name)
            if name in ("sort", "imported") or value in (None, "", []):
                continue
            if name == "province":
                words.append(value.name)
            elif name == "stalled":
                words.append(str(_("stalled") if value == "yes" else _("not stalled")))
            elif name == "affair":
                words.append(_("Affair %(affair)s") % {"affair": value})
            else:
                words.append(f"{field.label}: {_value_words(field, value)}")
        return words


def _value_words(field, value) -> str:
    """A filter's value as a person reads it: choice labels, a region's name, a written-out date."""
    if isinstance(value, Region):
        return value.name
    if isinstance(value, datetime.date):
        return date_format(value)
    if isinstance(value, (list, tuple)):
        labels = dict(field.choices)
        return ", ".join(str(labels.get(v, v)) for v in value)
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(value, numbers.Number):  # a year (a Decimal from the number field)
        return str(int(value))
    return str(value)
