"""The region picker renders its select in Python (``widgets._Picker.render``): the same HTML, byte for byte, as
Django's widget templates give for the same widget, value and attributes, so that static/js/app.js and the pages
see no difference."""

import pytest
from django import forms
from django.utils.safestring import SafeString, mark_safe

from agreements.filters import AgreementFilter
from agreements.forms import AgreementForm, RegisterFilterForm
from agreements.models import Agreement
from agreements.widgets import RegionPicker, RegionsPicker, _Picker

pytestmark = pytest.mark.django_db


def _templates(widget, name, value, attrs=None):
    """What Django's templates render for the widget (``Widget.render``, not the picker's override)."""
    return forms.Widget.render(widget, name, value, attrs)


@pytest.mark.parametrize("value", [None, "", "32.73", ["32.73"], "32", "no-such-code"])
def test_the_register_filters_region_select_is_the_templates_html(value):
    widget = RegisterFilterForm().fields["region"].widget
    html = widget.render("region", value, {"id": "id_region"})
    assert isinstance(html, SafeString)
    assert html == _templates(widget, "region", value, {"id": "id_region"})


@pytest.mark.parametrize("query", ["", "region=32.73&province=32", "province=35", "region=32.73&region=32.04"])
def test_the_list_filters_bound_fields_are_the_templates_html(query, monkeypatch):
    from django.http import QueryDict

    form = AgreementFilter(QueryDict(query), queryset=Agreement.objects.all()).form
    fast = {name: str(form[name]) for name in ("region", "province")}
    monkeypatch.setattr(_Picker, "render", forms.Widget.render)  # Django's templates, as before the picker's own
    for name, html in fast.items():
        assert html == str(form[name])
        assert 'data-region-picker="1"' in html and f'id="id_{name}"' in html and f'name="{name}"' in html


def test_a_selected_filter_value_is_marked_once(client, personas):
    widget = RegisterFilterForm().fields["region"].widget
    html = widget.render("region", "32.73", {"id": "id_region"})
    assert html.count(" selected>") == 1
    assert '<option value="32.73" selected>Kota Bandung (Kota)</option>' in html
    assert '<optgroup label="Jawa Barat">' in html


@pytest.mark.parametrize("value", [None, [], ["1"], ["1", "2", "3"]])
def test_the_party_picker_select_multiple_is_the_templates_html(personas, value):
    widget = AgreementForm(user=personas["ministry"]).fields["regions"].widget
    assert isinstance(widget, RegionsPicker)
    attrs = {"id": "id_regions", "required": True, "aria-describedby": "id_regions_helptext"}
    html = widget.render("regions", value, attrs)
    assert html == _templates(widget, "regions", value, attrs)
    assert " multiple" in html


def test_odd_choices_and_attributes_render_as_the_templates_do():
    """Values and labels that need escaping, safe strings, lazy labels, numbers, a value of None, a group without a
    name, duplicate values (a single select marks only the first) and attributes that are False, True or numbers."""
    from django.utils.translation import gettext_lazy

    choices = [
        (None, gettext_lazy("All regions")),
        ("a&b", 'Tom & "Jerry" <x>'),
        (3, 1234567),
        ("safe", mark_safe("<b>bold</b>")),
        (mark_safe("<safe value>"), "A safe value"),
        ("Grp <1>", [("x'y", "X'Y"), ("dup", "first"), ("dup", "second")]),
        ("", [("in-unnamed", "In an unnamed group")]),
        ("last", "Last"),
    ]
    attrs = {"id": "id_x", "disabled": True, "hidden": False, "data-n": 5, "title": 'a "quoted" <title>',
             "data-safe": mark_safe("<i>")}
    for widget_class in (RegionPicker, RegionsPicker):
        widget = widget_class(choices=choices)
        for value in (None, "dup", ["dup", "3", "a&b", "x'y"], 3, "safe", "<safe value>"):
            assert widget.render("x", value, attrs) == _templates(widget, "x", value, attrs), (widget_class, value)
