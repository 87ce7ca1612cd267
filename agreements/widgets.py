"""The region picker: one widget wherever a region is chosen (parties, filters, accounts, needs and offers).

Without JavaScript it is a plain select whose options are grouped by province (a province first, then its
kabupaten/kota), so every form still works. ``static/js/app.js`` turns it into a search box (accessible name
"Search regions"): typing part of a name lists the matching regions with their kind and province, by keyboard
or touch; a chosen region becomes a chip with a "Remove <name>" button. The submitted values do not change
(ids in forms, codes in filters: ``region=32.73``, ``province=32``), so every existing URL keeps working.
The grouped choices are built once per queryset and language and kept in the cache.

The picker renders its select in Python (``_Picker.render``) rather than through Django's widget templates: the
same markup as ``select.html``/``select_option.html``/``attrs.html``, byte for byte (``tests/test_widgets_render.py``
compares the two), but some 550 options cost well under a millisecond instead of ~20 ms of template includes on
every list page.
"""

import hashlib
import html

from django import forms
from django.core.cache import cache
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Region

CACHE_SECONDS = 3600


def _kind(region: Region) -> str:
    return str(Region.Level(region.level).label)


def region_choice_groups(queryset, value_field: str = "pk") -> list:
    """[(province name, [(value, label), ...]), ...]: each province, then its kabupaten/kota, in code order."""
    key = "region-groups:" + hashlib.sha256(
        f"{queryset.query}|{value_field}|{get_language()}".encode()).hexdigest()

    def build():
        regions = list(queryset.select_related("province").order_by("code"))
        groups: dict[str, list] = {}
        for region in regions:
            province = region.province or region
            label = f"{region.name} ({_kind(region)})"
            groups.setdefault(province.name, []).append((str(getattr(region, value_field)), label))
        return list(groups.items())

    return cache.get_or_set(key, build, CACHE_SECONDS)


def _escape(value) -> str:
    """``conditional_escape`` of a text, without its lazy-string wrapper (this runs for every option)."""
    if type(value) is str:
        return html.escape(value)  # what ``django.utils.html.escape`` does to a str
    return conditional_escape(value)


def _text(value) -> str:
    """A value as ``{{ value }}`` prints it in a template (localised, escaped unless already safe)."""
    if not isinstance(value, (str, Promise, SafeData)):
        value = localize(value)
    return _escape(value)


def _attrs_html(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html``: `` name="value"`` each, a bare name for True, nothing for False."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_escape(str(value))}"'
        for name, value in attrs.items() if value is not False
    )


class _Picker:
    """A ``Select``/``SelectMultiple`` whose ``render`` writes the same HTML as Django's templates, without them."""

    _TEMPLATES = ("django/forms/widgets/select.html", "django/forms/widgets/select_option.html")

    def __init__(self, attrs=None, choices=()):
        attrs = {**(attrs or {}), "data-region-picker": "1", "data-search-label": _("Search regions"),
                 "data-remove-label": _("Remove %(name)s"), "data-empty-label": _("No region matches.")}
        super().__init__(attrs=attrs, choices=choices)

    def render(self, name, value, attrs=None, renderer=None):
        if (self.template_name, self.option_template_name) != self._TEMPLATES:  # a subclass with its own templates
            return super().render(name, value, attrs, renderer)
        select_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:  # as ``Select.get_context`` adds it
            select_attrs["multiple"] = True
        chosen = set(self.format_value(value))
        multiple = self.allow_multiple_selected
        has_selected = False
        parts = [f'<select name="{_text(name)}"{_attrs_html(select_attrs)}>']
        # ``ChoiceWidget.optgroups``: a choice whose label is a list or tuple is a group; a single select marks only
        # the first option whose value was chosen.
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            if isinstance(option_label, (list, tuple)):
                group_name, options = option_value, option_label
            else:
                group_name, options = None, ((option_value, option_label),)
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for subvalue, sublabel in options:
                text = str(subvalue)
                selected = (not has_selected or multiple) and text in chosen
                has_selected |= selected
                # ``|stringformat:'s'`` is ``str()`` (a safe string stays safe); the option template ends in a newline.
                parts.append(f'\n  <option value="{_escape(text)}"'
                             f'{" selected" if selected else ""}>{_text(sublabel)}</option>\n')
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class RegionPicker(_Picker, forms.Select):
    """One region (filters, accounts, needs and offers)."""


class RegionsPicker(_Picker, forms.SelectMultiple):
    """Several regions (the parties of an agreement)."""


def use_picker(field, queryset, *, multiple: bool = False, value_field: str = "pk", empty_label=None) -> None:
    """Give ``field`` the picker with the regions of ``queryset`` grouped by province."""
    field.widget = (RegionsPicker if multiple else RegionPicker)()
    field.widget.is_required = field.required
    groups = region_choice_groups(queryset, value_field)
    field.widget.choices = groups if multiple else [("", empty_label or "---------"), *groups]
