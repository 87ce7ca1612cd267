"""Forms of the results: an outcome indicator, an actual value ("Catat capaian"), a financing line. They parse input
and limit choices; the rules are in ``agreements.results``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import access
from .forms import DateInput
from .models import INDICATOR_VALUE, Agreement, FundingSource, Indicator, NeedOffer, Region

MONEY_MAX = 9_223_372_036_854_775_807  # the largest amount the database stores
# The largest value an indicator stores: 14 digits before the decimal point, 4 after.
VALUE_MAX = 10 ** (INDICATOR_VALUE["max_digits"] - INDICATOR_VALUE["decimal_places"])
EVIDENCE_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
THIRD_PARTIES = "third"


def _value_field(label, **kwargs) -> forms.DecimalField:
    """A number as people type it in their language (``12,5`` in Indonesian), four decimals at most."""
    return forms.DecimalField(
        label=label, max_digits=INDICATOR_VALUE["max_digits"], decimal_places=INDICATOR_VALUE["decimal_places"],
        max_value=VALUE_MAX - 1, min_value=-(VALUE_MAX - 1), localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}), **kwargs,
    )


class IndicatorForm(forms.Form):
    # The version the user started from, when editing (optimistic locking: a save made meanwhile is not overwritten).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    name = forms.CharField(label=_("Indicator"), max_length=250,
                           help_text=_("What the cooperation should change, for example: households served by "
                                       "piped water."))
    unit = forms.CharField(label=_("Unit"), max_length=60, help_text=_("For example: households, tonnes per day, %."))
    baseline_value = _value_field(_("Baseline value"))
    baseline_on = forms.DateField(label=_("Baseline date"), widget=DateInput())
    target_value = _value_field(_("Target value"))
    target_on = forms.DateField(label=_("Target date"), widget=DateInput())
    need = forms.ModelChoiceField(label=_("Need it answers"), queryset=NeedOffer.objects.none(), required=False,
                                  empty_label=_("None"),
                                  help_text=_("A need declared by one of the parties, if the indicator answers one."))
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, required=False,
                               help_text=_("Indicators are listed in this order."))

    def __init__(self, *args, agreement: Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].queryset = NeedOffer.objects.filter(
            kind=NeedOffer.Kind.NEED, region__parties__agreement=agreement,
        ).select_related("region", "affair").order_by("region__code", "affair__code", "pk")

    def clean(self):
        data = super().clean()
        if data.get("baseline_on") and data.get("target_on") and data["target_on"] < data["baseline_on"]:
            self.add_error("target_on", _("The target date cannot be before the baseline date."))
        return data

    @staticmethod
    def initial_for(indicator: Indicator) -> dict:
        return {**{name: getattr(indicator, name) for name in (
            "name", "unit", "baseline_value", "baseline_on", "target_value", "target_on", "need", "order")},
            "version": indicator.version}

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)  # the service takes it as ``expected_version``
        data["order"] = data.get("order") or 0
        return data


class ActualForm(forms.Form):
    """"Catat capaian": the value an indicator reached in a period, a note and an optional evidence file."""

    period_start = forms.DateField(label=_("Period start"), widget=DateInput())
    period_end = forms.DateField(label=_("Period end"), widget=DateInput(),
                                 help_text=_("The last day of the period the value is for (a year, a semester, a "
                                             "quarter)."))
    value = _value_field(_("Actual value"))
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Optional: where the value comes from, what changed."))
    evidence = forms.FileField(
        label=_("Evidence"), required=False, help_text=_("Optional: PDF, JPEG or PNG, up to 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
    )

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", _("The period cannot end before it starts."))
        return data


class FinancingForm(forms.Form):
    """A financing line. The payer choices are the parties whose lines the user may record, and "Third parties"
    when the agreement has some."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)  # as on IndicatorForm
    payer = forms.ChoiceField(label=_("Paid by"))
    fiscal_year = forms.IntegerField(label=_("Fiscal year"), min_value=1990, max_value=2100,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    source = forms.ChoiceField(label=_("Source"), choices=FundingSource.choices)
    planned_idr = forms.IntegerField(label=_("Planned (Rp)"), required=False, min_value=0, max_value=MONEY_MAX,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    realised_idr = forms.IntegerField(label=_("Realised (Rp)"), required=False, min_value=0, max_value=MONEY_MAX,
                                      widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=250)

    def __init__(self, *args, agreement: Agreement, user, **kwargs):
        super().__init__(*args, **kwargs)
        writes = access.can_write_agreement(user, agreement)
        regions = Region.objects.filter(parties__agreement=agreement).order_by("code")
        choices = [(str(r.pk), r.name) for r in regions
                   if access.may_write_financing_line(user, r.pk, writes_agreement=writes)]
        if agreement.third_parties.exists():
            choices.append((THIRD_PARTIES, str(_("Third parties"))))
        self.fields["payer"].choices = choices
        self.regions = {str(r.pk): r for r in regions}

    @staticmethod
    def initial_for(line) -> dict:
        return {"payer": str(line.region_id) if line.region_id else THIRD_PARTIES, "fiscal_year": line.fiscal_year,
                "source": line.source, "planned_idr": line.planned_idr, "realised_idr": line.realised_idr,
                "note": line.note, "version": line.version}

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)  # the service takes it as ``expected_version``
        payer = data.pop("payer")
        data["region"] = None if payer == THIRD_PARTIES else self.regions[payer]
        return data
