"""The region picker's markup without JavaScript: a select grouped by province, the values each form submits."""

import pytest
from django.urls import reverse

from agreements.forms import AgreementForm, RegisterFilterForm
from agreements.widgets import RegionsPicker

pytestmark = pytest.mark.django_db


def test_the_party_field_is_a_select_grouped_by_province_with_the_search_labels(personas):
    field = AgreementForm(user=personas["local_in"]).fields["regions"]
    assert isinstance(field.widget, RegionsPicker)
    html = field.widget.render("regions", [], attrs={"id": "id_regions"})
    assert '<optgroup label="Jawa Barat">' in html and 'data-search-label="Search regions"' in html
    jabar = dict(field.widget.choices)["Jawa Barat"]
    assert jabar[0][1] == "Jawa Barat (Province)" and any(label == "Kota Bandung (Kota)" for _v, label in jabar)
    assert "Kota Administrasi Jakarta Pusat" not in html, "regions that cannot sign are not offered"


def test_filters_still_submit_codes(client, personas):
    form = RegisterFilterForm()
    assert ("32.73", "Kota Bandung (Kota)") in dict(form.fields["region"].widget.choices[1:])["Jawa Barat"]
    client.force_login(personas["ministry"])
    page = client.get(reverse("agreement-list"), {"region": "32.73", "province": "32"})
    html = page.content.decode()
    assert '<option value="32.73" selected>Kota Bandung (Kota)</option>' in html
    assert '<option value="32" selected>Jawa Barat (Province)</option>' in html
