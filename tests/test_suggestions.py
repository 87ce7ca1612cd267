"""Partner suggestions: who is suggested, in which order, and why."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import affairs
from agreements.models import NeedOffer
from tests.factories import AgreementFactory, NeedOfferFactory, UserFactory, affair, region

D = datetime.date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The factories hash a password per user; the default hasher makes these tests slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def case(db):
    """Kota Bandung (32.73) needs Pariwisata (3.26). On 3.26, as of D:

    - X1 32.01 + 32.79, recent KB, active, not stalled;
    - X2 33.74 + 35.78, KB signed 2023 with no PKS: stalled;
    - X3 33.74 + 51.71 and X5 36.71 + 51.71, recent, not stalled;
    - X6 32.73 + 32.79, recent (cooperation with 32.79, but on this very affair);
    national rate on 3.26: 1 stalled of 5 = 20%.
    Elsewhere: X4 32.73 + 32.01 on 1.02 (cooperation on another affair); a terminated one
    32.73 + 32.04 on 1.01 (not cooperating any more); a draft 32.73 + 32.08 on 3.26 (not offering).
    Declared offers on 3.26: 32.04, 12.71, and 32.73 itself (never suggested to itself).
    """
    AgreementFactory(number="X1", regions=["32.01", "32.79"], affairs=["3.26"], signed_on=datetime.date(2025, 5, 1))
    AgreementFactory(number="X2", regions=["33.74", "35.78"], affairs=["3.26"], signed_on=datetime.date(2023, 1, 1))
    AgreementFactory(number="X3", regions=["33.74", "51.71"], affairs=["3.26"], signed_on=datetime.date(2025, 4, 1))
    AgreementFactory(number="X4", regions=["32.73", "32.01"], affairs=["1.02"], signed_on=datetime.date(2025, 2, 1))
    AgreementFactory(number="X5", regions=["36.71", "51.71"], affairs=["3.26"], signed_on=datetime.date(2025, 4, 15))
    AgreementFactory(number="X6", regions=["32.73", "32.79"], affairs=["3.26"], signed_on=datetime.date(2025, 5, 10))
    AgreementFactory(
        number="T1", regions=["32.73", "32.04"], affairs=["1.01"], signed_on=datetime.date(2024, 1, 1),
        terminated_on=datetime.date(2024, 6, 1),
    )
    AgreementFactory(number="D1", regions=["32.73", "32.08"], affairs=["3.26"], signed_on=None)
    for code in ("32.04", "12.71", "32.73"):
        NeedOfferFactory(region=code, affair="3.26", kind=NeedOffer.Kind.OFFER)
    # A need on the affair is not an offer.
    NeedOfferFactory(region="35.01", affair="3.26", kind=NeedOffer.Kind.NEED)
    return region("32.73"), affair("3.26")


EXPECTED_ORDER = ["32.01", "32.79", "32.04", "36.71", "33.74", "35.78", "51.71", "12.71"]


def test_documented_order(case):
    codes = [s.region.code for s in affairs.suggest_partners(*case, as_of=D)]
    assert codes == EXPECTED_ORDER


def test_reasons_explain_each_rank(case):
    by_code = {s.region.code: s for s in affairs.suggest_partners(*case, as_of=D)}
    assert by_code["32.01"].reason == (
        "same province; 1 active agreement on this affair; already cooperating with you on another affair; "
        "stall rate 0% against 20% nationally"
    )
    # Cooperating with 32.73 only on the needed affair itself does not count as "another affair".
    assert by_code["32.79"].cooperating is False
    assert "already cooperating" not in by_code["32.79"].reason
    # A terminated agreement is not a cooperation.
    assert by_code["32.04"].reason == "same province; declared an offer; no stall record on this affair yet"
    assert by_code["36.71"].reason.startswith("same island group;")
    assert by_code["33.74"].reason.endswith("stall rate 50% against 20% nationally")
    assert by_code["33.74"].good_record is False and by_code["36.71"].good_record is True
    assert by_code["12.71"].reason == "another island group; declared an offer; no stall record on this affair yet"
    assert by_code["51.71"].url == "/regions/51.71/"


def test_excludes_itself_needs_and_drafts(case):
    codes = {s.region.code for s in affairs.suggest_partners(*case, as_of=D)}
    assert "32.73" not in codes  # its own offer
    assert "35.01" not in codes  # declared a need, not an offer
    assert "32.08" not in codes  # only a draft on the affair


def test_limit(case):
    assert [s.region.code for s in affairs.suggest_partners(*case, limit=3, as_of=D)] == EXPECTED_ORDER[:3]


def test_past_as_of_changes_who_is_active(case):
    # On 2025-03-01 X1, X3, X5 and X6 were not signed yet: only X2 (not yet stalled then? signed 2023-01-01,
    # > 365 days: stalled) and the declared offers remain.
    codes = [s.region.code for s in affairs.suggest_partners(*case, as_of=datetime.date(2025, 3, 1))]
    assert codes == ["32.04", "33.74", "35.78", "12.71"]


def test_sumatra_is_one_island_group(db):
    assert affairs.island_group("12.71") == affairs.island_group("21.71") == "1"
    assert affairs.island_group("33.74") != affairs.island_group("51.71")
    NeedOfferFactory(region="21.71", affair="2.15", kind=NeedOffer.Kind.OFFER)
    NeedOfferFactory(region="33.74", affair="2.15", kind=NeedOffer.Kind.OFFER)
    suggestions = affairs.suggest_partners(region("13.71"), affair("2.15"), as_of=D)
    assert [(s.region.code, s.proximity) for s in suggestions] == [
        ("21.71", affairs.Proximity.SAME_ISLAND_GROUP),
        ("33.74", affairs.Proximity.ELSEWHERE),
    ]


def test_query_count_does_not_grow_with_pairs(case):
    pairs = [(case[0], case[1])]
    affairs.suggest_partners_for(pairs, as_of=D)  # creates the stall settings row once
    with CaptureQueriesContext(connection) as one:
        affairs.suggest_partners_for(pairs, as_of=D)
    many = [(region(c), affair(a)) for c in ("32.73", "33.74", "12.71") for a in ("3.26", "1.02", "2.15")]
    with CaptureQueriesContext(connection) as nine:
        result = affairs.suggest_partners_for(many, as_of=D)
    assert len(nine) == len(one)
    assert [s.region.code for s in result[(case[0].pk, case[1].pk)]] == EXPECTED_ORDER


def test_suggestions_show_on_needs_list_and_region_page(case, client):
    NeedOfferFactory(region="32.73", affair="3.26", kind=NeedOffer.Kind.NEED, description="Butuh mitra wisata")
    client.force_login(UserFactory(role="local", region=region("35.78")))
    response = client.get("/needs/?region=32.73")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Butuh mitra wisata" in body
    assert 'href="/regions/32.01/"' in body
    assert "already cooperating with you on another affair" in body
