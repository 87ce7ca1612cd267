"""The read-only API (/api/v1/): each caller's scope on every endpoint, the register's filters and order, stable
pagination, OCDS milestone codes, personal tokens (hashed, revoked at once), rate limits, bad dates."""

import datetime
import hashlib
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import access
from agreements.api import tokens
from agreements.api.serializers import OCDS_MILESTONE_STATUS
from agreements.filters import AgreementFilter
from agreements.models import ApiToken, Milestone, NeedOffer
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, affair, region

pytestmark = pytest.mark.django_db

AS_OF = "2026-06-30"
ROLES = ["anonymous", "ministry", "admin", "province_in", "province_out", "local_in", "local_out"]


@pytest.fixture
def world(personas):
    """``inside``: Kota and Kabupaten Bandung (Jawa Barat), not published; ``published``: two Jawa Timur regions,
    published; ``hidden``: two Bali regions, not published. All stalled as of AS_OF."""
    inside = PksFactory(number="PKS/IN/1", title="Judul Dalam Jabar", regions=["32.73", "32.04"])
    published = AgreementFactory(number="KB/PUB/1", title="Judul Terbit", regions=["35.07", "35.73"],
                                 published_at=timezone.now())
    hidden = AgreementFactory(number="KB/HID/1", title="Judul Tersembunyi", regions=["51.71", "51.03"],
                              affairs=["1.01"])
    MilestoneFactory(agreement=inside, title="Rapat koordinasi")
    NeedOffer.objects.create(region=region("32.73"), affair=affair("3.26"), kind="need", description="Pelatihan")
    return {"inside": inside, "published": published, "hidden": hidden}


EXPECTED = {
    "anonymous": {"KB/PUB/1"},
    "ministry": {"PKS/IN/1", "KB/PUB/1", "KB/HID/1"},
    "admin": {"PKS/IN/1", "KB/PUB/1", "KB/HID/1"},
    "province_in": {"PKS/IN/1", "KB/PUB/1"},
    "province_out": {"KB/PUB/1"},
    "local_in": {"PKS/IN/1", "KB/PUB/1"},
    "local_out": {"KB/PUB/1"},
}


def _as(client, personas, role):
    if role != "anonymous":
        client.force_login(personas[role])
    return client


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def _all_pages(client, url, **params):
    results, page = [], 1
    while True:
        body = _get(client, url, page=page, **params)
        results += body["results"]
        if not body["next"]:
            return results
        page += 1


# --- scope: every endpoint, every role ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_scope_on_every_endpoint(client, personas, world, role):
    client = _as(client, personas, role)
    expected = EXPECTED[role]
    listed = {row["number"] for row in _all_pages(client, "/api/v1/agreements/", as_of=AS_OF)}
    assert listed == expected
    for name, agreement in world.items():
        response = client.get(f"/api/v1/agreements/{agreement.pk}/")
        assert response.status_code == (200 if agreement.number in expected else 404), (role, name)
    stalled = {row["number"] for row in _all_pages(client, "/api/v1/stalled/", as_of=AS_OF)}
    assert stalled == expected
    # Regions and affairs count only what the caller sees.
    bali = _get(client, "/api/v1/regions/51.71/", as_of=AS_OF)
    assert bali["agreements"] == (1 if "KB/HID/1" in expected else 0)
    assert bali["stalled"] == bali["agreements"]
    tourism = _get(client, "/api/v1/affairs/3.26/", as_of=AS_OF)
    assert tourism["agreements"] == len(expected - {"KB/HID/1"})
    needs = _all_pages(client, "/api/v1/needs-offers/")
    assert len(needs) == (0 if role == "anonymous" else 1)


def test_the_scope_is_the_pages_scope_plus_the_published(personas, world):
    for role in ROLES[1:]:
        user = personas[role]
        pages = set(access.agreements_visible_to(user).values_list("number", flat=True))
        published = set(access.agreements_published().values_list("number", flat=True))
        assert set(access.agreements_open_to(user).values_list("number", flat=True)) == pages | published


def test_an_unknown_region_or_affair_is_404(client, world):
    root = client.get("/api/v1/").json()
    assert {"agreements", "regions", "affairs", "needs-offers"} <= set(root)
    assert client.get("/api/v1/regions/99.99/").status_code == 404
    assert client.get("/api/v1/affairs/9.99/").status_code == 404
    assert client.get("/api/v1/agreements/999999/").status_code == 404


def test_no_personal_data_in_the_api(client, personas, world):
    party = world["published"].parties.first()
    party.contact_person = "Budi Kontak Pribadi"
    party.signatory_name = "Dr. Penandatangan Resmi"
    party.save()
    client.force_login(personas["ministry"])
    text = client.get(f"/api/v1/agreements/{world['published'].pk}/").content.decode()
    assert "Budi Kontak Pribadi" not in text
    assert "Dr. Penandatangan Resmi" in text  # as on the signed document
    assert personas["ministry"].email not in text


# --- the register's filters and order --------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    {}, {"document_type": "KB"}, {"stalled": "yes"}, {"province": "32"}, {"affair": "1.01"}, {"sort": "number"},
    {"sort": "-number"}, {"q": "Terbit"}, {"kind": "KSDD-SUKARELA", "sort": "title"}, {"stage": "signed"},
])
def test_filters_and_order_are_the_registers(client, personas, world, query):
    ministry = personas["ministry"]
    client.force_login(ministry)
    api = [row["number"] for row in _all_pages(client, "/api/v1/agreements/", as_of=AS_OF, **query)]
    register = AgreementFilter({**query, "as_of": AS_OF}, queryset=access.agreements_visible_to(ministry))
    assert api == [a.number for a in register.qs]


def test_a_bad_filter_or_date_is_400_not_500(client, world):
    for url in ("/api/v1/agreements/", "/api/v1/stalled/", "/api/v1/regions/", "/api/v1/affairs/",
                "/api/v1/regions/32/"):
        for bad in ("not-a-date", "3000-01-01", "2024-02-30"):
            response = client.get(url, {"as_of": bad})
            assert response.status_code == 400, (url, bad)
            assert "as_of" in response.json()
    assert client.get("/api/v1/agreements/", {"province": "99"}).status_code == 400
    assert client.get("/api/v1/agreements/", {"sort": "password"}).status_code == 400


def test_the_stall_facts_follow_as_of(client, personas, world):
    client.force_login(personas["ministry"])
    url = f"/api/v1/agreements/{world['published'].pk}/"
    early = _get(client, url, as_of="2024-02-01")["status"]
    late = _get(client, url, as_of=AS_OF)["status"]
    assert early["as_of"] == "2024-02-01" and early["is_stalled"] is False and early["stage"] == "signed"
    assert late["is_stalled"] is True and late["reasons"] == ["KB_WITHOUT_PKS"]
    assert late["days_stalled"] == (datetime.date(2026, 6, 30) - datetime.date.fromisoformat(
        late["stalled_since"])).days


def test_anonymous_callers_cannot_filter_on_internal_notes(client, personas, world):
    from agreements import services

    services.obstacle_record(user=personas["ministry"], agreement=world["published"], category="budget",
                             description="Catatan internal kendala", raised_on=datetime.date(2024, 2, 1))
    anonymous = {r["number"] for r in _all_pages(client, "/api/v1/agreements/", obstacle="other")}
    assert anonymous == {"KB/PUB/1"}  # ignored for them
    rows = _all_pages(client, "/api/v1/stalled/", as_of=AS_OF)
    assert rows[0]["obstacles"] == []
    client.force_login(personas["ministry"])
    assert _all_pages(client, "/api/v1/agreements/", obstacle="other") == []
    rows = {r["number"]: r for r in _all_pages(client, "/api/v1/stalled/", as_of=AS_OF)}
    assert rows["KB/PUB/1"]["obstacles"] == ["budget"]


# --- pagination, stalled keys, OCDS -------------------------------------------------------------------------------


def test_pagination_is_stable_and_complete(client, personas):
    for n in range(7):
        AgreementFactory(number=f"KB/P/{n}", signed_on=datetime.date(2024, 1, 15))  # the same date: a tie
    client.force_login(personas["ministry"])
    full = [r["number"] for r in _get(client, "/api/v1/agreements/", page_size=100)["results"]]
    paged = [r["number"] for r in _all_pages(client, "/api/v1/agreements/", page_size=2)]
    assert paged == full and len(set(paged)) == 7
    assert client.get("/api/v1/agreements/", {"page": 99}).status_code == 404


def test_stalled_rows_are_the_commands_json(client, personas, world):
    out = io.StringIO()
    call_command("stalled", as_of=AS_OF, format="json", stdout=out)
    client.force_login(personas["ministry"])
    assert _all_pages(client, "/api/v1/stalled/", as_of=AS_OF) == json.loads(out.getvalue())


def test_milestones_carry_ocds_codes(client, personas, world):
    assert OCDS_MILESTONE_STATUS == {
        "scheduled": "scheduled", "in_progress": "scheduled", "met": "met", "partially_met": "partiallyMet",
        "not_met": "notMet", "cancelled": None,
    }
    agreement = world["inside"]
    day = datetime.date(2024, 3, 1)
    for status in ("in_progress", "met", "partially_met", "not_met", "cancelled"):
        MilestoneFactory(agreement=agreement, title=f"M {status}", status=status, started_on=day, completed_on=day)
    client.force_login(personas["ministry"])
    rows = {m["status"]: m for m in _get(client, f"/api/v1/agreements/{agreement.pk}/")["milestones"]}
    assert {s: (m["ocds_status"], m["cancelled"]) for s, m in rows.items()} == {
        "scheduled": ("scheduled", False), "in_progress": ("scheduled", False), "met": ("met", False),
        "partially_met": ("partiallyMet", False), "not_met": ("notMet", False), "cancelled": (None, True),
    }
    assert set(Milestone.Status.values) == set(OCDS_MILESTONE_STATUS)


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_the_data(client, personas, django_assert_max_num_queries):
    client.force_login(personas["ministry"])
    urls = ["/api/v1/agreements/", "/api/v1/regions/", "/api/v1/affairs/", "/api/v1/needs-offers/",
            "/api/v1/stalled/"]
    PksFactory(regions=["32.73", "32.04"])
    NeedOffer.objects.create(region=region("32.73"), affair=affair("3.26"), kind="offer", description="x")
    small = {url: _count_queries(client, url) for url in urls}
    for n in range(6):
        pks = PksFactory(regions=["32.73", "32.04", "32"], affairs=["3.26", "1.01"], third_parties=[f"PT {n}"])
        MilestoneFactory(agreement=pks)
        NeedOffer.objects.create(region=region("32.73"), affair=affair(f"1.0{n + 1}"), kind="need", description="x")
    for url in urls:
        with django_assert_max_num_queries(small[url]):
            client.get(url)


# --- personal tokens ---------------------------------------------------------------------------------------------


def test_a_token_sees_exactly_its_users_scope(client, personas, world):
    for role in ROLES[1:]:
        _token, key = tokens.create(user=personas[role], name="program")
        rows = []
        page = 1
        while True:
            body = client.get("/api/v1/agreements/", {"page": page}, HTTP_AUTHORIZATION=f"Token {key}").json()
            rows += body["results"]
            if not body["next"]:
                break
            page += 1
        listed = {r["number"] for r in rows}
        assert listed == EXPECTED[role], role
        bearer = client.get("/api/v1/stalled/", {"as_of": AS_OF}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
        assert {r["number"] for r in bearer["results"]} == EXPECTED[role]


def test_tokens_are_hashed_at_rest_and_shown_once(personas):
    token, key = tokens.create(user=personas["local_in"], name="SIPD")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {stored.key_hash, stored.prefix, stored.name} and key.startswith(stored.prefix)
    assert len(key) > 40


def test_a_revoked_token_stops_at_once(client, personas, world):
    token, key = tokens.create(user=personas["ministry"], name="x")
    header = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/v1/agreements/", **header).status_code == 200
    assert tokens.revoke(user=personas["local_in"], pk=token.pk) is None  # not theirs: nothing happens
    assert client.get("/api/v1/agreements/", **header).status_code == 200
    tokens.revoke(user=personas["ministry"], pk=token.pk)
    response = client.get("/api/v1/agreements/", **header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_or_a_deactivated_user_is_401(client, personas, world):
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION="Token ks_nope").status_code == 401
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION="Token a b").status_code == 401
    _token, key = tokens.create(user=personas["local_in"], name="x")
    personas["local_in"].is_active = False
    personas["local_in"].save()
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(client, personas):
    token, key = tokens.create(user=personas["ministry"], name="x")
    header = {"HTTP_AUTHORIZATION": f"Token {key}"}
    client.get("/api/v1/affairs/", **header)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/affairs/", **header)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get("/api/v1/affairs/", **header)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


# --- rate limits -------------------------------------------------------------------------------------------------


def test_rate_limit_per_address_then_429_with_retry_after(client, settings):
    settings.API_RATE_PER_ADDRESS = 3
    for _ in range(3):
        assert client.get("/api/v1/affairs/").status_code == 200
    response = client.get("/api/v1/affairs/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= settings.API_RATE_WINDOW_SECONDS
    # Another address has its own counter.
    assert client.get("/api/v1/affairs/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_rate_limit_per_token(client, personas, settings):
    settings.API_RATE_PER_TOKEN = 2
    settings.API_RATE_PER_ADDRESS = 100
    _t1, first = tokens.create(user=personas["ministry"], name="a")
    _t2, second = tokens.create(user=personas["ministry"], name="b")
    for _ in range(2):
        assert client.get("/api/v1/affairs/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 200
    response = client.get("/api/v1/affairs/", HTTP_AUTHORIZATION=f"Token {first}")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert client.get("/api/v1/affairs/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_the_counters_live_in_the_database(client, settings):
    from agreements.models import ThrottleHit

    client.get("/api/v1/affairs/")
    hit = ThrottleHit.objects.get(scope="api-address")
    assert "127.0.0.1" not in hit.key  # hashed


# --- schema and documentation -------------------------------------------------------------------------------------


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    body = schema.json() if schema["Content-Type"].startswith("application/vnd.oai.openapi+json") else None
    assert body is None or body["openapi"].startswith("3.")
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "https://" not in html
    assert '<html lang="en">' in html
    assert "<script>" not in html  # the start script is a file of its own: the CSP forbids inline scripts
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert client.get("/api/v1/redoc/").status_code == 404  # Redoc's template loads web fonts from Google


def test_the_schema_documents_the_registers_filters(client):
    from agreements.filters import AgreementFilter as Filter

    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    params = {p["name"] for p in schema["paths"]["/api/v1/agreements/"]["get"]["parameters"]}
    assert set(Filter.base_filters) <= params
    assert {"page", "page_size"} <= params
    reverse("api:schema")


def test_the_schema_generates_without_warnings(db):
    """Every filter, field and parameter has a type drf-spectacular can state (a guess would be a warning)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    assert dict(GENERATOR_STATS._warn_cache) == {} and dict(GENERATOR_STATS._error_cache) == {}
