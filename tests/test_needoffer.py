"""The needs-and-offers register: who sees it, who may write it, what is stored.

Decision (documented in ``access.needoffer_regions_for``): an officer edits only their own region's
entries; a provincial officer the province's own, not those of its kabupaten/kota; ministry staff
and administrators any autonomous region's. Everyone signed in sees the whole register.
"""

import re

import pytest
from django.core.exceptions import ValidationError

from agreements import access, services
from agreements.models import NeedOffer
from tests.factories import NeedOfferFactory, UserFactory, affair, region


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The factories hash a password per user; the default hasher makes these tests slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db):
    return {
        "ministry": UserFactory(role="ministry"),
        "admin": UserFactory(role="admin", is_staff=True, is_superuser=True),
        "bandung": UserFactory(role="local", region=region("32.73")),
        "bogor": UserFactory(role="local", region=region("32.01")),
        "jabar": UserFactory(role="province", region=region("32")),
        "jateng": UserFactory(role="province", region=region("33")),
    }


@pytest.fixture
def need(db):
    return NeedOfferFactory(region="32.73", affair="3.26", description="Butuh pelatihan pemandu wisata")


@pytest.fixture
def province_offer(db):
    return NeedOfferFactory(region="32", affair="1.02", kind=NeedOffer.Kind.OFFER, description="Rumah sakit rujukan")


def form_data(**overrides):
    data = {
        "region": region("32.73").pk,
        "affair": affair("3.26").pk,
        "kind": "need",
        "description": "Pengelolaan sampah kawasan wisata",
        "priority": "high",
        "planning_reference": "RPJMD 2025-2029 Bab IV",
        "planning_url": "https://bandung.go.id/rpjmd.pdf",
    }
    data.update(overrides)
    return data


# Who may edit which entry: (user, entry fixture) -> status on GET and POST of the edit page.
EDIT_MATRIX = [
    ("ministry", "need", 200),
    ("admin", "need", 200),
    ("bandung", "need", 200),  # its own region
    ("bogor", "need", 403),  # another kabupaten/kota of the same province
    ("jabar", "need", 403),  # the province does not write its kota's entries
    ("jateng", "need", 403),
    ("jabar", "province_offer", 200),  # the province's own entry
    ("bandung", "province_offer", 403),
    ("jateng", "province_offer", 403),
]


@pytest.mark.parametrize(("who", "entry_name", "status"), EDIT_MATRIX)
def test_edit_permission_matrix(users, need, province_offer, client, who, entry_name, status):
    entry = {"need": need, "province_offer": province_offer}[entry_name]
    before = entry.description
    client.force_login(users[who])
    assert client.get(f"/needs/{entry.pk}/edit/").status_code == status
    data = form_data(region=entry.region_id, affair=entry.affair_id, kind=entry.kind, description="Diubah")
    response = client.post(f"/needs/{entry.pk}/edit/", data)
    entry.refresh_from_db()
    if status == 200:
        assert response.status_code == 302
        assert entry.description == "Diubah" and entry.updated_by == users[who]
    else:
        assert response.status_code == 403
        assert entry.description == before


@pytest.mark.parametrize("who", ["ministry", "bandung", "bogor", "jabar", "jateng"])
def test_everyone_signed_in_sees_the_register(users, need, province_offer, client, who):
    client.force_login(users[who])
    body = client.get("/needs/").content.decode()
    assert "Butuh pelatihan pemandu wisata" in body and "Rumah sakit rujukan" in body
    # The edit link shows only where the user may edit.
    assert (f'href="/needs/{need.pk}/edit/"' in body) == (who in ("ministry", "bandung"))
    body = client.get("/affairs/3.26/").content.decode()
    assert "Butuh pelatihan pemandu wisata" in body


def test_anonymous_is_sent_to_login(need, client):
    for url in ("/needs/", "/needs/new/", f"/needs/{need.pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_entry_is_404(users, client):
    client.force_login(users["ministry"])
    assert client.get("/needs/999999/edit/").status_code == 404


def test_officer_creates_for_own_region_only(users, client):
    client.force_login(users["bandung"])
    page = client.get("/needs/new/?affair=3.26&kind=offer")
    assert page.status_code == 200
    assert list(page.context["form"].fields["region"].queryset) == [region("32.73")]
    response = client.post("/needs/new/", form_data())
    assert response.status_code == 302 and response["Location"] == "/needs/?region=32.73"
    entry = NeedOffer.objects.get()
    assert (entry.region.code, entry.affair.code, entry.kind, entry.priority) == ("32.73", "3.26", "need", "high")
    assert entry.created_by == users["bandung"] and entry.history.count() == 1
    # Tampering: posting another region's id is refused by the form, nothing stored.
    response = client.post("/needs/new/", form_data(region=region("32.01").pk))
    assert response.status_code == 200 and "region" in response.context["form"].errors
    assert NeedOffer.objects.count() == 1


def _declare_links(body):
    """The hrefs of the "Declare a need or an offer" actions, in page order."""
    return re.findall(r'<a class="button" href="([^"]*)">Declare a need or an offer</a>', body)


def test_declare_is_at_the_top_with_the_officers_region_chosen(users, need, client):
    client.force_login(users["bandung"])
    body = client.get("/needs/").content.decode()
    assert _declare_links(body) == ["/needs/new/?region=32.73"]
    assert body.index("Declare a need or an offer</a>") < body.index('<form method="get" class="filters')
    # The affair and kind filtered by come along; another region filtered by is not the officer's to declare for.
    body = client.get("/needs/", {"region": "32.01", "affair": "3.26", "kind": "offer"}).content.decode()
    assert _declare_links(body) == ["/needs/new/?region=32.73&amp;affair=3.26&amp;kind=offer"]
    form = client.get("/needs/new/", {"region": "32.73", "affair": "3.26", "kind": "offer"}).context["form"]
    assert form.initial["region"] == region("32.73") and form.initial["affair"].code == "3.26"
    assert form.initial["kind"] == "offer"
    # Asking for another region's form still gives the officer's own.
    assert client.get("/needs/new/", {"region": "32.01"}).context["form"].initial["region"] == region("32.73")


def test_declare_for_the_region_filtered_by_when_one_may_declare_for_several(users, need, client):
    client.force_login(users["ministry"])
    assert _declare_links(client.get("/needs/").content.decode()) == ["/needs/new/"]
    assert _declare_links(client.get("/needs/", {"region": "32.77"}).content.decode()) == [
        "/needs/new/?region=32.77"]
    assert _declare_links(client.get("/needs/", {"province": "32"}).content.decode()) == ["/needs/new/?region=32"]
    assert _declare_links(client.get("/needs/", {"region": "31.71"}).content.decode()) == ["/needs/new/"]
    assert client.get("/needs/new/", {"region": "32.77"}).context["form"].initial["region"] == region("32.77")
    assert "region" not in client.get("/needs/new/", {"region": "31.71"}).context["form"].initial  # not autonomous
    assert "region" not in client.get("/needs/new/").context["form"].initial


def test_no_declare_action_for_those_who_may_not(users, need, client):
    client.force_login(UserFactory(role="local", region=region("31.71")))  # not autonomous
    body = client.get("/needs/").content.decode()
    assert "Butuh pelatihan pemandu wisata" in body and _declare_links(body) == []


def test_region_page_panel_offers_declaring_for_that_region_only(users, need, client):
    client.force_login(users["bandung"])
    panel = client.get("/needs/?region=32.73", headers={"HX-Request": "true"}).content.decode()
    results = panel[panel.index('id="needoffer-results"'):]
    assert _declare_links(results) == ["/needs/new/?region=32.73"]
    panel = client.get("/needs/?region=32.01", headers={"HX-Request": "true"}).content.decode()
    assert _declare_links(panel[panel.index('id="needoffer-results"'):]) == []


def test_the_filters_search_regions_by_name_and_submit_codes(users, need, client):
    client.force_login(users["bandung"])
    response = client.get("/needs/", {"region": "32.73", "province": "32"})
    body = response.content.decode()
    for name in ("region", "province"):
        select = re.search(rf'<select name="{name}"[^>]*>', body).group(0)
        assert 'data-region-picker="1"' in select and 'data-search-label="Search regions"' in select
    assert '<option value="32.73" selected>Kota Bandung (Kota)</option>' in body
    assert '<option value="32" selected>Jawa Barat (Province)</option>' in body
    assert [e.description for e in response.context["entries"]] == ["Butuh pelatihan pemandu wisata"]


def test_officer_cannot_move_own_entry_to_another_region(users, need, client):
    client.force_login(users["bandung"])
    response = client.post(f"/needs/{need.pk}/edit/", form_data(region=region("32.01").pk))
    assert response.status_code == 200 and "region" in response.context["form"].errors
    need.refresh_from_db()
    assert need.region.code == "32.73"


def test_ministry_creates_for_any_autonomous_region(users, client):
    client.force_login(users["ministry"])
    assert client.post("/needs/new/", form_data(region=region("91.03").pk)).status_code == 302
    response = client.post("/needs/new/", form_data(region=region("31.71").pk))  # not autonomous
    assert response.status_code == 200 and "region" in response.context["form"].errors
    assert list(NeedOffer.objects.values_list("region__code", flat=True)) == ["91.03"]


def test_form_errors_name_the_field(users, client):
    client.force_login(users["bandung"])
    response = client.post("/needs/new/", form_data(description="", planning_url="not a url", kind="maybe"))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"description", "planning_url", "kind"}
    assert NeedOffer.objects.count() == 0


def test_services_validate(users):
    with pytest.raises(ValidationError) as exc:
        services.needoffer_create(
            user=users["ministry"], region=region("31.71"), affair=affair("1.01"), kind="need", description="x"
        )
    assert "region" in exc.value.message_dict
    entry = services.needoffer_create(
        user=users["ministry"], region=region("32.73"), affair=affair("1.01"), kind="offer", description="Guru"
    )
    with pytest.raises(ValidationError) as exc:
        services.needoffer_update(needoffer=entry, user=users["ministry"], priority="urgent")
    assert "priority" in exc.value.message_dict
    entry.refresh_from_db()
    assert entry.priority == "medium"  # nothing saved
    with pytest.raises(TypeError):
        services.needoffer_update(needoffer=entry, user=users["ministry"], created_by=users["bandung"])
    services.needoffer_update(needoffer=entry, user=users["bandung"], description="Guru matematika")
    entry.refresh_from_db()
    assert entry.description == "Guru matematika" and entry.history.count() == 2


def test_access_helpers(users):
    assert access.can_edit_needoffers_of(users["jabar"], region("32"))
    assert not access.can_edit_needoffers_of(users["jabar"], region("32.73"))
    assert access.can_edit_needoffers_of(users["ministry"], region("32.73"))
    assert not access.can_edit_needoffers_of(users["ministry"], region("31.71"))
    users["bandung"].is_active = False
    assert not access.can_edit_needoffers_of(users["bandung"], region("32.73"))
    assert list(access.needoffer_regions_for(users["jabar"])) == [region("32")]


def test_filters(users, need, province_offer, client):
    NeedOfferFactory(region="33.74", affair="3.26", kind=NeedOffer.Kind.OFFER, description="Paket wisata kota lama")
    client.force_login(users["bogor"])

    def shown(**params):
        return [e.description for e in client.get("/needs/", params).context["entries"]]

    assert shown(province="32") == ["Rumah sakit rujukan", "Butuh pelatihan pemandu wisata"]
    assert shown(affair="3.26", kind="offer") == ["Paket wisata kota lama"]
    assert shown(region="32.73") == ["Butuh pelatihan pemandu wisata"]


def test_list_query_count_does_not_grow(users, client, django_assert_max_num_queries):
    client.force_login(users["bogor"])
    NeedOfferFactory(region="32.73", affair="3.26")
    NeedOfferFactory(region="33.74", affair="3.26", kind=NeedOffer.Kind.OFFER)
    client.get("/needs/")
    with django_assert_max_num_queries(16) as small:
        client.get("/needs/")
    for code in ("32.01", "33.74", "51.71", "12.71", "35.78", "32.04"):
        NeedOfferFactory(region=code, affair="3.26", kind=NeedOffer.Kind.OFFER)
        NeedOfferFactory(region=code, affair="1.02", kind=NeedOffer.Kind.NEED)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/needs/")
    assert len(response.context["entries"]) == 14
    # Needs list their partners, offers their matching needs (32.73's on 3.26), in the same queries.
    offers = [e for e in response.context["entries"] if e.kind == NeedOffer.Kind.OFFER]
    assert len(offers) == 7 and all([m.region.code for m in e.suggestions] == ["32.73"] for e in offers)
    need = next(e for e in response.context["entries"] if e.kind == NeedOffer.Kind.NEED and e.affair.code == "3.26")
    assert len(need.suggestions) == 5 and all(s.entry.kind == NeedOffer.Kind.OFFER for s in need.suggestions)


def test_region_page_loads_the_register_panel(users, need, client):
    client.force_login(users["bogor"])
    response = client.get("/regions/32.73/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-get="/needs/?region=32.73"' in body and 'hx-select="#needoffer-results"' in body
    panel = client.get("/needs/?region=32.73", headers={"HX-Request": "true"}).content.decode()
    assert 'id="needoffer-results"' in panel and "Butuh pelatihan pemandu wisata" in panel


def test_admin_lists_and_edits_needs_offers(users, need, client):
    client.force_login(users["admin"])
    assert client.get("/admin/agreements/needoffer/").status_code == 200
    assert client.get(f"/admin/agreements/needoffer/{need.pk}/change/").status_code == 200
    assert client.get(f"/admin/agreements/needoffer/{need.pk}/history/").status_code == 200


def test_province_page_panel_covers_its_kabupaten_kota(users, need, province_offer, client):
    client.force_login(users["bogor"])
    body = client.get("/regions/32/").content.decode()
    assert 'hx-get="/needs/?province=32"' in body
    panel = client.get("/needs/?province=32", headers={"HX-Request": "true"}).content.decode()
    assert "Butuh pelatihan pemandu wisata" in panel and "Rumah sakit rujukan" in panel
