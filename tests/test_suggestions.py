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


# Those that declared an offer first (32.04 near, 12.71 far), then the others by nearness, cooperation, record.
EXPECTED_ORDER = ["32.04", "12.71", "32.01", "32.79", "36.71", "33.74", "35.78", "51.71"]


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
    assert by_code["32.04"].reason == (
        "offers this affair (medium priority); same province; no stall record on this affair yet"
    )
    assert by_code["32.04"].entry.kind == NeedOffer.Kind.OFFER and by_code["32.04"].entry.region.code == "32.04"
    assert by_code["32.01"].entry is None and by_code["32.01"].declared_offer is False
    assert by_code["36.71"].reason.startswith("same island group;")
    assert by_code["33.74"].reason.endswith("stall rate 50% against 20% nationally")
    assert by_code["33.74"].good_record is False and by_code["36.71"].good_record is True
    assert by_code["12.71"].reason == (
        "offers this affair (medium priority); another island group; no stall record on this affair yet"
    )
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
    assert codes == ["32.04", "12.71", "33.74", "35.78"]


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


# --- a declared offer ranks first; an offer gets its matching needs --------------------------------------------


@pytest.fixture
def jabar_needs_2_11(db):
    """Jawa Barat (32) needs Lingkungan Hidup (2.11). Kota Cimahi (32.77), in the province, declared a
    high priority offer on it but has no agreement on it; six other kabupaten/kota of the province are parties
    to recent, not stalled agreements on 2.11 (a good record), and Kota Semarang (33.74) offers it too."""
    NeedOfferFactory(region="32", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.HIGH)
    NeedOfferFactory(region="32.77", affair="2.11", kind=NeedOffer.Kind.OFFER, priority=NeedOffer.Priority.HIGH)
    NeedOfferFactory(region="33.74", affair="2.11", kind=NeedOffer.Kind.OFFER, priority=NeedOffer.Priority.HIGH)
    for n, pair in enumerate((["32.01", "32.04"], ["32.71", "32.73"], ["32.79", "32.08"])):
        AgreementFactory(number=f"L{n}", regions=pair, affairs=["2.11"], signed_on=datetime.date(2025, 5, 1))
    return region("32"), affair("2.11")


def test_a_region_that_offers_what_is_needed_ranks_first_and_says_so(jabar_needs_2_11):
    suggestions = affairs.suggest_partners(*jabar_needs_2_11, limit=5, as_of=D)
    assert [s.region.code for s in suggestions] == ["32.77", "33.74", "32.01", "32.04", "32.08"]
    cimahi = suggestions[0]
    assert cimahi.reason == "offers this affair (high priority); same province; no stall record on this affair yet"
    assert cimahi.entry.kind == NeedOffer.Kind.OFFER and cimahi.entry.priority == NeedOffer.Priority.HIGH
    assert cimahi.entry.region == cimahi.region and cimahi.entry.affair.code == "2.11"
    assert suggestions[2].entry is None and suggestions[2].reason.startswith("same province; 1 active agreement")
    # By nearness, cooperation and record alone (the ranking before offers came first), Cimahi was not in the five.
    everyone = affairs.suggest_partners(*jabar_needs_2_11, as_of=D)
    by_nearness = sorted(everyone, key=lambda s: (s.proximity, not s.cooperating, not s.good_record, s.region.code))
    assert "32.77" not in [s.region.code for s in by_nearness[:5]]


def test_among_offers_nearness_then_priority(db):
    NeedOfferFactory(region="32.73", affair="2.11", kind=NeedOffer.Kind.NEED)
    for code, priority in (("32.77", "low"), ("32.01", "high"), ("33.74", "high"), ("12.71", "medium")):
        NeedOfferFactory(region=code, affair="2.11", kind=NeedOffer.Kind.OFFER, priority=priority)
    NeedOfferFactory(region="32.77", affair="2.11", kind=NeedOffer.Kind.OFFER, priority="medium")  # its best one
    AgreementFactory(regions=["32.71", "32.04"], affairs=["2.11"], signed_on=datetime.date(2025, 5, 1))
    suggestions = affairs.suggest_partners(region("32.73"), affair("2.11"), as_of=D)
    assert [s.region.code for s in suggestions] == ["32.01", "32.77", "33.74", "12.71", "32.04", "32.71"]
    assert suggestions[1].reason.startswith("offers this affair (medium priority); same province")
    assert suggestions[3].reason.startswith("offers this affair (medium priority); another island group")


def test_an_offer_gets_the_needs_it_matches(jabar_needs_2_11):
    NeedOfferFactory(region="32.73", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.LOW)
    best = NeedOfferFactory(region="32.73", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.HIGH)
    NeedOfferFactory(region="32.01", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.MEDIUM)
    NeedOfferFactory(region="36.71", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.LOW)
    NeedOfferFactory(region="12.71", affair="2.11", kind=NeedOffer.Kind.NEED, priority=NeedOffer.Priority.HIGH)
    NeedOfferFactory(region="32.77", affair="2.11", kind=NeedOffer.Kind.NEED)  # its own need: not a match
    NeedOfferFactory(region="32.04", affair="1.02", kind=NeedOffer.Kind.NEED)  # another affair
    NeedOfferFactory(region="32.71", affair="2.11", kind=NeedOffer.Kind.OFFER)  # an offer is not a need
    cimahi = region("32.77")
    matches = affairs.matching_needs_for([(cimahi, affair("2.11"))])[(cimahi.pk, affair("2.11").pk)]
    # Same province first (high before medium, then the code), then the same island group, then the rest.
    assert [m.region.code for m in matches] == ["32", "32.73", "32.01", "36.71", "12.71"]
    assert matches[1].entry == best and matches[1].affair.code == "2.11" and matches[1].url == "/regions/32.73/"
    assert matches[0].reason == "needs this affair (high priority); same province"
    assert matches[2].reason == "needs this affair (medium priority); same province"
    assert matches[3].reason == "needs this affair (low priority); same island group"
    assert matches[4].reason == "needs this affair (high priority); another island group"
    assert all(m.entry.kind == NeedOffer.Kind.NEED for m in matches)
    assert [m.region.code for m in affairs.matching_needs_for([(cimahi, affair("2.11"))], limit=2)[
        (cimahi.pk, affair("2.11").pk)]] == ["32", "32.73"]
    assert affairs.matching_needs_for([]) == {}


def test_matching_needs_cost_one_query_however_many_offers(jabar_needs_2_11, django_assert_num_queries):
    for code in ("32.73", "33.74", "12.71", "51.71"):
        NeedOfferFactory(region=code, affair="3.26", kind=NeedOffer.Kind.NEED)
    pairs = [(region(c), affair(a)) for c in ("32.77", "33.74", "32.01", "12.71") for a in ("2.11", "3.26", "1.02")]
    with django_assert_num_queries(1):
        result = affairs.matching_needs_for(pairs)
    assert [m.region.code for m in result[(region("33.74").pk, affair("3.26").pk)]] == ["32.73", "12.71", "51.71"]
    cimahi_2_11 = result[(region("32.77").pk, affair("2.11").pk)]
    with django_assert_num_queries(0):  # regions and affairs come with the needs
        assert [(m.region.name, m.affair.code, m.reason) for m in cimahi_2_11] == [
            ("Jawa Barat", "2.11", "needs this affair (high priority); same province")]


def test_offers_show_their_matching_needs_on_the_needs_list(jabar_needs_2_11, client):
    client.force_login(UserFactory(role="local", region=region("35.78")))
    response = client.get("/needs/", {"affair": "2.11"})
    by_region = {e.region.code: e for e in response.context["entries"]}
    assert [s.region.code for s in by_region["32"].suggestions][:1] == ["32.77"]
    assert [s.region.code for s in by_region["32.77"].suggestions] == ["32"]
    assert by_region["32.77"].suggestions[0].entry.kind == NeedOffer.Kind.NEED
    body = response.content.decode()
    assert "1 matching need<" in body and "needs this affair (high priority); same province" in body
    assert "offers this affair (high priority); same province" in body
