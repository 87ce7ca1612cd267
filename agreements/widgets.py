"""The region picker: one widget wherever a region is chosen (parties, filters, accounts, needs and offers).

Without JavaScript it is a plain select whose options are grouped by province (a province first, then its
kabupaten/kota), so every form still works. ``static/js/app.js`` turns it into a search box (accessible name
"Search regions"): typing part of a name lists the matching regions with their kind and province, by keyboard
or touch; a chosen region becomes a chip with a "Remove <name>" button. The submitted values do not change
(ids in forms, codes in filters: ``region=32.73``, ``province=32``), so every existing URL keeps working.
The grouped choices are built once per queryset and language and kept in the cache.
"""

import hashlib

from django import forms
from django.core.cache import cache
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


class _Picker:
    def __init__(self, attrs=None, choices=()):
        attrs = {**(attrs or {}), "data-region-picker": "1", "data-search-label": _("Search regions"),
                 "data-remove-label": _("Remove %(name)s"), "data-empty-label": _("No region matches.")}
        super().__init__(attrs=attrs, choices=choices)


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
