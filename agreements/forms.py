"""Forms of the officer's workflow and of user management. They only parse input and limit choices
through ``agreements.access``; the rules are enforced by the services (``agreements.services``)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import access, stalls
from .models import (
    PROPOSAL_TEXT_MAX,
    Agreement,
    Document,
    FollowUp,
    GovernmentAffair,
    GuidanceEvent,
    Milestone,
    NeedOffer,
    Obstacle,
    Region,
    TemplateStep,
    TerminationReason,
    User,
)
from .services import NEEDOFFER_FIELDS
from .widgets import use_picker


def add_service_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: to the named field when the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class VersionedForm(forms.Form):
    """Carries the version the user started from (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class AgreementForm(VersionedForm):
    number = forms.CharField(label=_("Number"), max_length=120)
    document_type = forms.ChoiceField(label=_("Document type"), choices=Agreement.DocumentType.choices)
    parent = forms.ModelChoiceField(
        label=_("Parent KB"), queryset=Agreement.objects.none(), required=False,
        help_text=_("For a PKS: the KB it follows up."),
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    cooperation_kind = forms.ChoiceField(label=_("Cooperation kind"), choices=Agreement.Kind.choices)
    regions = forms.ModelMultipleChoiceField(
        label=_("Party regions"), queryset=Region.objects.none(),
        help_text=_("Type part of a region's name to add it; your own region must be one of them."),
    )
    third_parties = forms.CharField(
        label=_("Third parties"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One name per line (business, university, NGO, foreign government or institution)."),
    )
    affairs = forms.ModelMultipleChoiceField(
        label=_("Government affairs (urusan)"), queryset=GovernmentAffair.objects.all(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    scope = forms.CharField(label=_("Scope"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    dprd_approved_on = forms.DateField(label=_("DPRD approval date"), required=False, widget=DateInput())
    starts_on = forms.DateField(label=_("Start date"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("End date"), required=False, widget=DateInput())
    value_idr = forms.IntegerField(label=_("Value (Rp)"), required=False, min_value=0)

    def __init__(self, *args, user, editing: bool = False, agreement: Agreement | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].queryset = access.party_choices_for(user)
        use_picker(self.fields["regions"], access.party_choices_for(user), multiple=True)
        # A PKS goes under a KB the user may write (services._check_parent); an existing PKS keeps its KB.
        kbs = access.agreements_writable_by(user, Agreement.objects.filter(document_type=Agreement.DocumentType.KB))
        kbs = kbs.filter(renewals__isnull=True)  # a renewed KB's new PKSs go under its successor
        if agreement is not None and agreement.parent_id:
            kbs = kbs | Agreement.objects.filter(pk=agreement.parent_id)
        self.fields["parent"].queryset = kbs.order_by("number")
        if editing:
            self.fields["terminated_on"] = forms.DateField(label=_("Termination date"), required=False,
                                                           widget=DateInput())
            self.fields["termination_reason"] = forms.ChoiceField(
                label=_("Termination reason"), required=False,
                choices=[("", "—"), *TerminationReason.choices],
                help_text=_("Required with a new termination date: why it ended before its end date "
                            "(the grounds of PP 28/2018)."),
            )
            self._terminated_before = agreement.terminated_on if agreement is not None else None
        else:
            self.fields["version"].required = False

    @classmethod
    def initial_for(cls, agreement: Agreement) -> dict:
        initial = {name: getattr(agreement, name) for name in (
            "number", "document_type", "parent", "title", "cooperation_kind", "scope", "dprd_approved_on",
            "starts_on", "ends_on", "terminated_on", "termination_reason", "value_idr", "version")}
        initial["regions"] = list(agreement.regions.all())
        initial["affairs"] = list(agreement.affairs.all())
        initial["third_parties"] = "\n".join(agreement.third_parties.values_list("name", flat=True))
        return initial

    @classmethod
    def initial_for_renewal(cls, agreement: Agreement) -> dict:
        """The successor of ``agreement`` ("Perpanjang"): the same document type, kind, parent KB (a KB renewed since:
        its successor), parties, third parties, affairs, title and scope; the number is the officer's to give."""
        from .amendments import successor_of

        parent = agreement.parent
        if parent is not None:
            parent = successor_of(parent) or parent
        return {
            "document_type": agreement.document_type, "parent": parent, "cooperation_kind": agreement.cooperation_kind,
            "title": agreement.title, "scope": agreement.scope,
            "regions": list(agreement.regions.all()), "affairs": list(agreement.affairs.all()),
            "third_parties": "\n".join(agreement.third_parties.values_list("name", flat=True)),
        }

    @classmethod
    def initial_for_pks_under(cls, kb: Agreement) -> dict:
        """A new PKS following up ``kb``: its parent, parties, third parties, affairs and kind already filled in."""
        return {
            "document_type": Agreement.DocumentType.PKS, "parent": kb, "cooperation_kind": kb.cooperation_kind,
            "regions": list(kb.regions.all()), "affairs": list(kb.affairs.all()),
            "third_parties": "\n".join(kb.third_parties.values_list("name", flat=True)),
        }

    def clean(self):
        data = super().clean()
        if "termination_reason" in self.fields:
            terminated_on, reason = data.get("terminated_on"), data.get("termination_reason")
            if reason and not terminated_on and "terminated_on" not in self.errors:
                self.add_error("termination_reason", _("Give the termination date with its reason."))
            # A termination date given or changed now needs its reason; one recorded before reasons existed may stay
            # without (nothing to guess it from).
            elif terminated_on and not reason and terminated_on != self._terminated_before:
                self.add_error("termination_reason", _("Choose why the agreement was terminated."))
        return data

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["regions"] = list(data["regions"])
        data["affairs"] = list(data["affairs"])
        data["third_party_names"] = _lines(data.pop("third_parties"))
        return data


class SignForm(VersionedForm):
    signed_on = forms.DateField(label=_("Signing date"), widget=DateInput())
    # Required from now on: a signed agreement in force has an end date (older ones without one are listed).
    ends_on = forms.DateField(label=_("End date"), widget=DateInput(),
                              help_text=_("The last day of the agreement's term, as the signed text states it."))
    document = forms.FileField(
        label=_("Signed document"), help_text=_("PDF, JPEG or PNG, up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("signed_on") and data.get("ends_on") and data["ends_on"] < data["signed_on"]:
            self.add_error("ends_on", _("The end date cannot be before the signing date."))
        return data


class PartyForm(VersionedForm):
    """One regional party's signatory, document number, signing date and DPRD approval (``services.party_record``).
    ``version`` is the agreement's."""

    signatory_name = forms.CharField(label=_("Signatory's name"), max_length=150, required=False)
    signatory_position = forms.CharField(label=_("Signatory's position"), max_length=150, required=False,
                                         help_text=_("For example: Wali Kota Bandung."))
    document_number = forms.CharField(label=_("Party's document number"), max_length=120, required=False,
                                      help_text=_("The number this region gave the agreement."))
    signed_on = forms.DateField(label=_("Date this party signed"), required=False, widget=DateInput())
    dprd_required = forms.BooleanField(
        label=_("DPRD approval required"), required=False,
        help_text=_("Required when the cooperation burdens the public and the region, or is not budgeted in the "
                    "current APBD (UU 23/2014 pasal 363(3))."),
    )
    dprd_approved_on = forms.DateField(label=_("DPRD approval date"), required=False, widget=DateInput())
    dprd_decision_number = forms.CharField(label=_("DPRD decision number"), max_length=120, required=False)

    FIELDS = ("signatory_name", "signatory_position", "document_number", "signed_on", "dprd_required",
              "dprd_approved_on", "dprd_decision_number")

    @classmethod
    def initial_for(cls, party, agreement) -> dict:
        return {**{name: getattr(party, name) for name in cls.FIELDS}, "version": agreement.version}

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class MilestoneRowForm(forms.Form):
    """One row of the milestone table (on a new PKS and on "add milestones"): a row left blank is skipped."""

    title = forms.CharField(label=_("Milestone"), max_length=250)
    responsible_region = forms.ModelChoiceField(label=_("Responsible party"), queryset=Region.objects.none(),
                                                required=False)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_permitted = True  # every row, also one the form showed filled and the user cleared
        self.fields["responsible_region"].queryset = regions if regions is not None else Region.objects.none()

    def has_changed(self) -> bool:
        """Blank (nothing typed or chosen) is skipped, whatever the row showed before."""
        return any((self.data.get(self.add_prefix(name)) or "").strip() for name in self.fields) if self.is_bound \
            else super().has_changed()


class BaseMilestoneRows(forms.BaseFormSet):
    def rows(self) -> tuple[list[forms.Form], list[dict]]:
        """The filled rows' forms and values, in order (call after ``is_valid``)."""
        forms_ = [form for form in self.forms if form.has_changed()]
        return forms_, [form.cleaned_data for form in forms_]

    def add_row_errors(self, forms_: list[forms.Form], errors: dict) -> None:
        for index, exc in errors.items():
            add_service_errors(forms_[index], exc)


MilestoneRowFormSet = forms.formset_factory(MilestoneRowForm, formset=BaseMilestoneRows, extra=0)
MILESTONE_ROWS_PREFIX = "milestones"
MILESTONE_ROWS_SHOWN = 3


def milestone_rows(data=None, *, regions, add_row: bool = False):
    """The milestone table: bound to ``data`` when posted; ``add_row`` shows the posted rows plus one empty row
    (the "Add row" button, which works without JavaScript)."""
    kwargs = {"prefix": MILESTONE_ROWS_PREFIX, "form_kwargs": {"regions": regions}}
    if data is not None and add_row:
        try:
            total = min(int(data.get(f"{MILESTONE_ROWS_PREFIX}-TOTAL_FORMS", 0)), 50)
        except ValueError:
            total = 0
        names = ("title", "responsible_region", "due_on")
        initial = [{name: data.get(f"{MILESTONE_ROWS_PREFIX}-{i}-{name}", "") for name in names} for i in range(total)]
        return forms.formset_factory(MilestoneRowForm, formset=BaseMilestoneRows, extra=1)(initial=initial, **kwargs)
    if data is not None:
        if f"{MILESTONE_ROWS_PREFIX}-TOTAL_FORMS" not in data:  # a form posted without the table: no rows
            data = {f"{MILESTONE_ROWS_PREFIX}-TOTAL_FORMS": "0", f"{MILESTONE_ROWS_PREFIX}-INITIAL_FORMS": "0"}
        return MilestoneRowFormSet(data, **kwargs)
    return forms.formset_factory(MilestoneRowForm, formset=BaseMilestoneRows, extra=MILESTONE_ROWS_SHOWN)(**kwargs)


class MilestoneUpdateForm(VersionedForm):
    status = forms.ChoiceField(label=_("Status"), choices=Milestone.Status.choices)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    started_on = forms.DateField(label=_("Start date"), required=False, widget=DateInput())
    completed_on = forms.DateField(label=_("Completion date"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the milestone is not met or partially met."),
    )
    evidence = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("Optional: PDF, JPEG or PNG, up to 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    @classmethod
    def initial_for(cls, milestone: Milestone) -> dict:
        return {name: getattr(milestone, name) for name in ("status", "progress", "started_on", "completed_on",
                                                            "version")}


class DocumentForm(forms.Form):
    # An addendum is recorded as an amendment, with its signed document (``AmendmentForm``).
    doc_type = forms.ChoiceField(label=_("Type"), choices=[
        choice for choice in Document.Type.choices if choice[0] != Document.Type.ADDENDUM])
    milestone = forms.ModelChoiceField(
        label=_("Milestone"), queryset=Milestone.objects.none(), required=False,
        help_text=_("For evidence: the milestone it shows."),
    )
    dated_on = forms.DateField(label=_("Document date"), required=False, widget=DateInput())
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, JPEG or PNG; evidence up to 10 MB, agreement scans up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, agreement: Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this agreement's milestones: another agreement's milestone id is not a valid choice.
        self.fields["milestone"].queryset = agreement.milestones.all()


class AmendmentForm(forms.Form):
    """An amendment (adendum) of an agreement; the rules are in ``services.amendment_create``."""

    number = forms.CharField(label=_("Amendment number"), max_length=120, required=False)
    signed_on = forms.DateField(label=_("Signing date"), widget=DateInput())
    summary = forms.CharField(label=_("What changed"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("In a few sentences: what the amendment changes, and why."))
    ends_on = forms.DateField(label=_("New end date"), required=False, widget=DateInput(),
                              help_text=_("Only when the amendment changes the end date."))
    scope = forms.CharField(label=_("New scope"), required=False, max_length=10000,
                            widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("Only when the amendment changes the scope: the whole scope as amended."))
    value_idr = forms.IntegerField(label=_("New value (Rp)"), required=False, min_value=0,
                                   max_value=9_223_372_036_854_775_807,
                                   help_text=_("Only when the amendment changes the value."))
    document = forms.FileField(
        label=_("Signed document"), required=False, help_text=_("The signed amendment: PDF, JPEG or PNG, up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class UserForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none(), required=False,
                                    help_text=_("Required for provincial and kabupaten/kota officers."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("Deactivate accounts of staff who moved (mutasi); they are never deleted."))

    def __init__(self, *args, actor: User, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if access.is_national(actor):
            roles = User.Role.choices
            if not (actor.is_superuser or actor.role == User.Role.ADMIN):
                roles = [c for c in roles if c[0] != User.Role.ADMIN]
            self.fields["region"].queryset = Region.objects.all()
            use_picker(self.fields["region"], Region.objects.all())
        else:
            roles = [c for c in User.Role.choices if c[0] == User.Role.LOCAL]
            self.fields["region"].queryset = Region.objects.filter(province_id=actor.region_id)
            use_picker(self.fields["region"], Region.objects.filter(province_id=actor.region_id))
        self.fields["role"].choices = roles
        if editing:
            self.fields["username"].disabled = True
        else:
            del self.fields["is_active"]

    @classmethod
    def initial_for(cls, account: User) -> dict:
        return {name: getattr(account, name) for name in (
            "username", "first_name", "last_name", "email", "role", "region", "is_active")}

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("username", None)
        return data


class NeedOfferForm(forms.ModelForm):
    """Regions offered are those the user may write for (``access.needoffer_regions_for``)."""

    # Declared here to pass ``assume_scheme`` (Django 6 changes the default to https).
    planning_url = forms.URLField(
        label=NeedOffer._meta.get_field("planning_url").verbose_name, required=False, max_length=200,
        assume_scheme="https", help_text=_("A link to the RPJMD or RKPD document, if published."),
    )

    class Meta:
        model = NeedOffer
        fields = NEEDOFFER_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = access.needoffer_regions_for(user).order_by("code")
        use_picker(self.fields["region"], access.needoffer_regions_for(user))
        self.fields["affair"].queryset = GovernmentAffair.objects.order_by("code")
        self.fields["kind"].widget = forms.RadioSelect(choices=NeedOffer.Kind.choices)


class StepForm(forms.Form):
    """One regulated step marked by an officer on the agreement page: done (the date, one of the agreement's documents
    if any), not applicable (the reason), or undone. ``token`` is the step's state when the form was shown."""

    DONE, NOT_APPLICABLE, RESET = "done", "not_applicable", "reset"
    action = forms.ChoiceField(choices=[(DONE, _("Mark done")), (NOT_APPLICABLE, _("Not applicable")),
                                        (RESET, _("Undo"))], widget=forms.HiddenInput)
    token = forms.CharField(required=False, widget=forms.HiddenInput)
    done_on = forms.DateField(label=_("Date done"), required=False, widget=DateInput())
    document = forms.ModelChoiceField(label=_("Document (optional)"), queryset=Document.objects.none(),
                                      required=False, empty_label=_("No document"))
    reason = forms.CharField(label=_("Why it does not apply"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = Document.objects.filter(agreement=agreement)


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUp.Kind.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(
        label=_("Attachment"), required=False,
        help_text=_("Optional: PDF, JPEG or PNG, up to 10 MB."),
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["language", "reminders_enabled"]


class MapFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        label=_("Cooperation kind"), choices=Agreement.Kind.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        validators=[stalls.validate_as_of],
    )
    tkksd = forms.ChoiceField(
        label=_("TKKSD formed"), required=False,
        choices=[("", _("All regions")), ("no", _("No: regions without a formed TKKSD")),
                 ("yes", _("Yes: regions with a formed TKKSD"))],
    )


class RegisterFilterForm(forms.Form):
    region = forms.CharField(label=_("Region"), required=False, max_length=8)
    province = forms.CharField(label=_("Province"), required=False, max_length=8)
    affair = forms.ModelChoiceField(
        label=_("Affair"), queryset=GovernmentAffair.objects.order_by("code"), to_field_name="code",
        required=False, empty_label=_("All affairs"),
    )
    kind = forms.ChoiceField(
        label=_("Need or offer"), required=False,
        choices=[("", _("Needs and offers")), *NeedOffer.Kind.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The filters submit codes (region=32.73, province=32): every existing link keeps working.
        use_picker(self.fields["region"], Region.objects.all(), value_field="code", empty_label=_("All regions"))
        use_picker(self.fields["province"], Region.objects.filter(level=Region.Level.PROVINCE), value_field="code",
                   empty_label=_("All provinces"))


class ProposalForm(forms.Form):
    """"Propose cooperation": the partner region, the affair, the need or offer answered (from the suggestion's
    link), and a message. The proposing region is the officer's own (``access.proposal_region_for``)."""

    partner_region = forms.ModelChoiceField(
        label=_("Partner region"), queryset=Region.objects.filter(is_autonomous=True),
    )
    affair = forms.ModelChoiceField(label=_("Government affair"), queryset=GovernmentAffair.objects.order_by("code"))
    need_offer = forms.ModelChoiceField(
        queryset=NeedOffer.objects.all(), required=False, widget=forms.HiddenInput,
    )
    message = forms.CharField(
        label=_("Message to the partner"), max_length=PROPOSAL_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What your region proposes, and whom the partner's officers can contact."),
    )

    def __init__(self, *args, proposing_region: Region | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        partners = Region.objects.filter(is_autonomous=True)
        if proposing_region is not None:
            partners = partners.exclude(pk=proposing_region.pk)
        self.fields["partner_region"].queryset = partners
        use_picker(self.fields["partner_region"], partners)


class ProposalAnswerForm(forms.Form):
    """Accept (an optional note) or decline (a reason, required: checked by ``services.proposal_decline``)."""

    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=PROPOSAL_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}),
    )


OBSTACLE_TEXT_MAX = 4000


class ObstacleForm(forms.Form):
    """Record an obstacle (kendala) on an agreement; the rules are in ``services.obstacle_record``."""

    category = forms.ChoiceField(label=_("Kind of obstacle"), choices=Obstacle.Category.choices,
                                 widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("What is the obstacle?"), max_length=OBSTACLE_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What stops the cooperation, and who could remove it."),
    )
    raised_on = forms.DateField(label=_("Raised on"), widget=DateInput(),
                                help_text=_("The day the obstacle was first noted. Not in the future."))


class ObstacleResolveForm(forms.Form):
    """Mark an obstacle resolved; the rules are in ``services.obstacle_resolve``."""

    resolved_on = forms.DateField(label=_("Resolved on"), widget=DateInput())
    resolution = forms.CharField(
        label=_("What resolved it?"), max_length=OBSTACLE_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}),
    )


# --- guidance: search, events, TKKSD, drafts ----------------------------------------------------------


class GuidanceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search the guidance"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search"}))


class GuidanceEventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=250)
    kind = forms.ChoiceField(label=_("Kind"), choices=GuidanceEvent.Kind.choices)
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    regions = forms.ModelMultipleChoiceField(
        label=_("Regions that took part"), queryset=Region.objects.all(),
        help_text=_("Type part of a region's name to add it; add every region that took part."),
    )
    steps = forms.ModelMultipleChoiceField(
        label=_("Steps covered"), queryset=TemplateStep.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    affairs = forms.ModelMultipleChoiceField(
        label=_("Affairs covered"), queryset=GovernmentAffair.objects.all(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    materials = forms.FileField(label=_("Materials"), required=False,
                                help_text=_("Optional: PDF, JPEG or PNG, up to 20 MB."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_picker(self.fields["regions"], Region.objects.all(), multiple=True)
        steps = TemplateStep.objects.select_related("template").order_by("template__document_type", "order")
        self.fields["steps"].queryset = steps
        self.fields["steps"].label_from_instance = lambda step: f"{step.title} ({step.template.name})"


class TkksdForm(forms.Form):
    formed = forms.BooleanField(label=_("The TKKSD has been formed"), required=False)
    decree_number = forms.CharField(label=_("Decree number"), max_length=120, required=False,
                                    help_text=_("The regional head's decree that formed the team."))
    decree_date = forms.DateField(label=_("Decree date"), required=False, widget=DateInput())
    chair = forms.CharField(label=_("Chair"), max_length=200, required=False)
    member_count = forms.IntegerField(label=_("Members"), required=False, min_value=1, max_value=500)
    contact = forms.CharField(label=_("Contact"), max_length=200, required=False,
                              help_text=_("A person, an office, a telephone number or an e-mail address."))


class DraftForm(forms.Form):
    DOCUMENTS = [("offer", _("Offer letter")), ("kb", _("Joint agreement (KB)")),
                 ("pks", _("Cooperation agreement (PKS)"))]
    document = forms.ChoiceField(label=_("Draft"), choices=DOCUMENTS)
