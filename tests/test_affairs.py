"""The region × affair map at /affairs/ and the affair pages at /affairs/<code>/."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import affairs
from agreements.models import Agreement, NeedOffer, Stage
from tests.factories import AgreementFactory, MilestoneFactory, NeedOfferFactory, PksFactory, UserFactory, region
from tests.listing import list_count, page_count

D = datetime.date(2025, 6, 30)
AS_OF = D.isoformat()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The factories hash a password per user; the default hasher makes these tests slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data(db):
    """As of D, in Jawa Barat (32) and Jawa Tengah (33):

    - A1 KB 32.73 + 32.04 on 3.26, signed 2024-01-15, no PKS: active (signed) and stalled;
    - A2 KB 32.73 + 33.74 on 3.26 and 1.02, KSDD mandatory, signed 2025-03-01: active;
    - A3 draft 32.01 + 32.73 on 3.26; A4 terminated 32.01 + 36.03 on 3.26: not active;
    - K1 KB 32.01 + 32.73 on 2.15 followed by P1, a PKS with a started milestone: both active;
    - A5 KB 32.73 + 32.04 on 3.26 signed after D: not active as of D.
    """
    AgreementFactory(number="A1", regions=["32.73", "32.04"], affairs=["3.26"], signed_on=datetime.date(2024, 1, 15))
    AgreementFactory(
        number="A2", regions=["32.73", "33.74"], affairs=["3.26", "1.02"], signed_on=datetime.date(2025, 3, 1),
        cooperation_kind=Agreement.Kind.KSDD_WAJIB,
    )
    AgreementFactory(number="A3", regions=["32.01", "32.73"], affairs=["3.26"], signed_on=None)
    AgreementFactory(
        number="A4", regions=["32.01", "36.03"], affairs=["3.26"], signed_on=datetime.date(2024, 2, 1),
        terminated_on=datetime.date(2024, 8, 1),
    )
    k1 = AgreementFactory(number="K1", regions=["32.01", "32.73"], affairs=["2.15"], signed_on=datetime.date(2024, 6, 1))
    p1 = PksFactory(
        number="P1", parent=k1, regions=["32.01", "32.73"], affairs=["2.15"], signed_on=datetime.date(2024, 9, 1)
    )
    MilestoneFactory(agreement=p1, title="Survei", started_on=datetime.date(2024, 10, 1), due_on=D)
    AgreementFactory(number="A5", regions=["32.73", "32.04"], affairs=["3.26"], signed_on=datetime.date(2025, 7, 1))
    NeedOfferFactory(region="32.73", affair="3.26", kind=NeedOffer.Kind.NEED)
    NeedOfferFactory(region="32.04", affair="3.26", kind=NeedOffer.Kind.OFFER)
    NeedOfferFactory(region="32", affair="3.26", kind=NeedOffer.Kind.OFFER)


def cell(matrix, region_code, affair_code):
    for row in matrix.rows:
        for line in row.lines:
            if line.region.code == region_code:
                return next(c for c in line.cells if c.affair.code == affair_code)
    raise LookupError(region_code)


def test_cells_count_active_and_stalled(data, ministry_user):
    m = affairs.affair_matrix(ministry_user, as_of=D, expand=["32", "33"])
    assert len(m.rows) == 38
    assert [g.label for g in m.groups] == [
        "Mandatory, basic services", "Mandatory, non-basic services", "Optional (pilihan)"
    ]
    assert [len(g.affairs) for g in m.groups] == [6, 18, 8]
    c = cell(m, "32", "3.26")
    assert (c.active, c.stalled, c.needs, c.offers) == (2, 1, 1, 2)  # province + its kabupaten/kota
    assert (cell(m, "32.73", "3.26").active, cell(m, "32.73", "3.26").stalled) == (2, 1)
    assert (cell(m, "32.04", "3.26").active, cell(m, "32.04", "3.26").offers) == (1, 1)
    assert cell(m, "32.01", "3.26").active == 0  # draft and terminated only
    assert cell(m, "32", "2.15").active == 2  # KB followed up + PKS implementing
    assert cell(m, "33", "3.26").active == 1 and cell(m, "33", "1.02").active == 1
    assert cell(m, "36", "3.26").active == 0
    # A province row counts agreements once, even with two of its regions as parties.
    assert cell(m, "32", "1.02").active == 1


def test_kind_filter_and_past_as_of(data, ministry_user):
    m = affairs.affair_matrix(ministry_user, as_of=D, kinds=[Agreement.Kind.KSDD_WAJIB])
    assert cell(m, "32", "3.26").active == 1
    m = affairs.affair_matrix(ministry_user, as_of=datetime.date(2025, 8, 1))
    assert cell(m, "32", "3.26").active == 3  # A5 is signed by then
    m = affairs.affair_matrix(ministry_user, as_of=datetime.date(2024, 12, 31))
    assert (cell(m, "32", "3.26").active, cell(m, "32", "3.26").stalled) == (1, 0)  # A1 not stalled yet


@pytest.mark.parametrize("kinds", [[], [Agreement.Kind.KSDD_WAJIB], [Agreement.Kind.KSDD_SUKARELA, "KSDPK"]])
def test_every_cell_equals_the_list_it_links_to(data, ministry_user, client, kinds):
    client.force_login(ministry_user)
    m = affairs.affair_matrix(ministry_user, as_of=D, kinds=kinds, expand=["32", "33"])
    checked = 0
    for row in m.rows:
        for line in row.lines:
            for c in line.cells:
                if c.active or line.region.code in ("32", "32.01") and c.affair.code in ("3.26", "2.15", "1.01"):
                    assert f"as_of={AS_OF}" in c.url
                    assert list_count(ministry_user, c.url) == c.active, c.url
                    assert list_count(ministry_user, c.url + "&stalled=yes") == c.stalled, c.url
                    checked += 1
    assert checked >= 8
    # The list page itself shows what its filterset counts (once: rendering every link costs a minute).
    c = cell(m, "32", "3.26")
    assert page_count(client, c.url + "&stalled=yes") == c.stalled


def test_cell_link_uses_the_list_contract(data, ministry_user):
    c = cell(affairs.affair_matrix(ministry_user, as_of=D, kinds=["KSDD-WAJIB"]), "32", "3.26")
    assert c.url == (
        "/agreements/?province=32&affair=3.26&stage=signed&stage=followed_up&stage=implementing"
        "&as_of=2025-06-30&kind=KSDD-WAJIB"
    )
    today = cell(affairs.affair_matrix(ministry_user), "32", "3.26")
    assert today.url == "/agreements/?province=32&affair=3.26&stage=signed&stage=followed_up&stage=implementing"


def test_cells_count_only_what_the_user_may_see(data, client):
    officer = UserFactory(role="local", region=region("32.04"))
    m = affairs.affair_matrix(officer, as_of=D, expand=["32", "33"])
    assert cell(m, "32", "3.26").active == 1  # A1 only: A2 has no party the officer reads
    assert cell(m, "33", "3.26").active == 0
    # Needs and offers are national.
    assert cell(m, "32", "3.26").needs == 1
    client.force_login(officer)
    c = cell(m, "32", "3.26")
    assert list_count(officer, c.url) == c.active
    assert page_count(client, c.url) == c.active


def test_map_page_renders_expands_and_filters(data, ministry_user, client):
    client.force_login(ministry_user)
    response = client.get("/affairs/", {"as_of": AS_OF})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="table-wrap affair-map-wrap"' in body
    assert "Kota Bandung" not in body  # collapsed
    assert 'hx-get="?as_of=2025-06-30&amp;expand=32#prov-32"' in body
    response = client.get("/affairs/", {"as_of": AS_OF, "expand": "32", "kind": ["KSDD-SUKARELA"]})
    body = response.content.decode()
    assert "Kota Bandung" in body and 'aria-expanded="true"' in body
    assert "stage=implementing&amp;as_of=2025-06-30&amp;kind=KSDD-SUKARELA" in body
    assert '<span class="stall-mark" aria-hidden="true">!1</span>' in body  # the cell's label says it in words
    assert "<script>" not in body and "onclick" not in body


def test_anonymous_is_sent_to_login(client, db):
    for url in ("/affairs/", "/affairs/3.26/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _add_agreements(n, start):
    for i in range(n):
        a = AgreementFactory(
            number=f"BULK/{start + i}", regions=[["32.73", "32.04"], ["33.74", "35.78"], ["51.71", "12.71"]][i % 3],
            affairs=[["3.26", "1.02"], ["2.15"], ["1.01"]][i % 3], signed_on=datetime.date(2023, 1, 1 + i % 28),
        )
        NeedOfferFactory(region=a.parties.first().region, affair="2.09", kind=NeedOffer.Kind.NEED)


def _map_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/affairs/", {"as_of": AS_OF, "expand": ["32", "33", "51"]})
    assert response.status_code == 200
    return len(ctx)


def test_map_query_count_does_not_grow_with_data(data, client, ministry_user, django_assert_max_num_queries):
    client.force_login(ministry_user)
    _map_queries(client)  # warm up: creates the stall settings row
    small = _map_queries(client)
    _add_agreements(30, 0)
    with django_assert_max_num_queries(small):
        response = client.get("/affairs/", {"as_of": AS_OF, "expand": ["32", "33", "51"]})
    assert response.status_code == 200
    assert _map_queries(client) == small
    with django_assert_max_num_queries(12):
        client.get("/affairs/")


def test_affair_page(data, ministry_user, client, django_assert_max_num_queries):
    client.force_login(ministry_user)
    with django_assert_max_num_queries(AFFAIR_PAGE_QUERIES + 2):  # + creating the stall settings row
        response = client.get("/affairs/3.26/", {"as_of": AS_OF})
    assert response.status_code == 200
    summary = response.context["summary"]
    counts = {s["stage"]: s["count"] for s in summary.by_stage}
    assert counts == {
        Stage.DRAFT: 2, Stage.SIGNED: 2, Stage.FOLLOWED_UP: 0, Stage.IMPLEMENTING: 0, Stage.COMPLETED: 0,
        Stage.EXPIRED: 0, Stage.TERMINATED: 1,
    }
    # A5 is signed after D: a draft as of D.
    for s in summary.by_stage:
        assert list_count(ministry_user, s["url"]) == s["count"], s["url"]
    # 3.26: A1 stalled of A1, A2 rated; all affairs: A1 of A1, A2, K1, P1.
    assert (summary.rate.stalled, summary.rate.rated) == (1, 2)
    assert (summary.all_affairs.stalled, summary.all_affairs.rated) == (1, 4)
    assert summary.scope is None and summary.affair_national == summary.rate, "the ministry's scope is national"
    assert [(r["region__code"], r["n"]) for r in summary.top_regions] == [("32.73", 2), ("32.04", 1), ("33.74", 1)]
    for r in summary.top_regions:
        assert list_count(ministry_user, r["url"]) == r["n"]
    assert [e.region.code for e in summary.needs] == ["32.73"]
    assert [e.region.code for e in summary.offers] == ["32", "32.04"]
    body = response.content.decode()
    assert "50%" in body and "25%" in body
    assert "Above the rate of all affairs" in body and "This affair (national)" in body
    # The need shows its partner suggestions: 32.04 offers, same province.
    assert 'href="/regions/32.04/"' in body and "offers this affair (medium priority); same province" in body
    # Each offer shows the needs it matches: 32.73's.
    assert [[m.region.code for m in e.suggestions] for e in summary.offers] == [["32.73"], ["32.73"]]
    assert body.count("1 matching need<") == 2 and "needs this affair (medium priority); same province" in body


AFFAIR_PAGE_QUERIES = 19


def test_affair_page_names_the_scope_of_its_rates(data, client):
    """An officer's rates are over the agreements the officer reads, and say so; the one labelled national is
    computed over every agreement (the figure the partner suggestions compare with)."""
    officer = UserFactory(role="local", region=region("33.74"))
    client.force_login(officer)
    response = client.get("/affairs/3.26/", {"as_of": AS_OF})
    summary = response.context["summary"]
    name = region("33.74").name
    assert summary.scope == name
    assert (summary.rate.stalled, summary.rate.rated) == (0, 1)  # A2 only
    assert (summary.all_affairs.stalled, summary.all_affairs.rated) == (0, 1)
    assert (summary.affair_national.stalled, summary.affair_national.rated) == (1, 2)  # A1 and A2
    body = response.content.decode()
    assert f"This affair ({name})" in body and f"All affairs ({name})" in body
    assert "This affair (national)" in body and "50%" in body
    assert "national average" not in body


def test_affair_page_query_count_does_not_grow_with_data(data, ministry_user, client, django_assert_max_num_queries):
    client.force_login(ministry_user)
    client.get("/affairs/3.26/", {"as_of": AS_OF})
    with django_assert_max_num_queries(AFFAIR_PAGE_QUERIES):
        assert client.get("/affairs/3.26/", {"as_of": AS_OF}).status_code == 200
    _add_agreements(30, 0)
    for code in ("32.01", "33.74", "51.71", "12.71", "35.78"):
        NeedOfferFactory(region=code, affair="3.26", kind=NeedOffer.Kind.NEED)
    for code in ("32.79", "36.71", "11.71"):  # more offers, each with its matching needs
        NeedOfferFactory(region=code, affair="3.26", kind=NeedOffer.Kind.OFFER)
    with django_assert_max_num_queries(AFFAIR_PAGE_QUERIES):
        response = client.get("/affairs/3.26/", {"as_of": AS_OF})
    assert len(response.context["summary"].needs) == 6
    assert [len(e.suggestions) for e in response.context["summary"].offers] == [5] * 5


def test_affair_page_404_for_unknown_code(ministry_user, client):
    client.force_login(ministry_user)
    assert client.get("/affairs/9.99/").status_code == 404


def test_cells_say_what_they_hold_and_the_map_has_a_legend(data, ministry_user, client):
    """Each cell's accessible name: its region, its affair, then its figures in words ("Kota Bandung, 3.26 …:
    2 agreements, 1 stalled, 1 need"); an affair's name is in its column header (shown on hover and focus)."""
    from django.utils import translation

    with translation.override("en"):
        matrix = affairs.affair_matrix(ministry_user, as_of=D, expand=["32"])
        bandung = cell(matrix, "32.73", "3.26")
        name = f"3.26 {bandung.affair.name}"
        assert bandung.label == f"Kota Bandung, {name}: 2 agreements, 1 stalled, 1 need"
        assert cell(matrix, "32", "3.26").label == f"Jawa Barat, {name}: 2 agreements, 1 stalled, 1 need, 2 offers"
        assert cell(matrix, "32.04", "3.26").label.endswith(": 1 agreement, 1 stalled, 1 offer")
        assert cell(matrix, "32.01", "1.01").label.endswith(": no agreements, needs or offers")
    client.force_login(ministry_user)
    body = client.get("/affairs/", {"as_of": AS_OF, "expand": "32"}).content.decode()
    assert f'<span class="sr-only">Kota Bandung, {name}: 2 agreements, 1 stalled, 1 need</span>' in body
    assert f'aria-label="Agreements: Kota Bandung, {name}"' in body
    assert f'aria-label="Needs and offers: Kota Bandung, {name}"' in body
    assert f'>3.26<span class="affair-tip"> {bandung.affair.name}</span></a>' in body
    assert 'id="affair-map-legend"' in body and "<h2>Legend</h2>" in body
    assert "needs declared" in body and "offers declared" in body and "the cell is tinted red" in body
    assert 'aria-describedby="affair-map-legend"' in body
