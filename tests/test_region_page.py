"""The region pages at /regions/<code>/."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import stalls
from agreements.models import AgreementParty, Milestone, Region, StallReason
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, region

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20
OLD = datetime.date(2020, 1, 15)  # stalled under any default threshold


def url(code):
    return reverse("region-detail", args=[code])


@pytest.fixture
def data(db):
    """Agreements around Kota Bandung (32.73) and Jawa Barat (32), with one of each stall reason.

    - kb_stalled: KB 32.73 + 32.04 (Kab. Bandung), signed long ago, no PKS  -> KB_WITHOUT_PKS
    - pks_idle: PKS 32.73 + 33.74 (Kota Semarang), signed long ago, not started -> PKS_NOT_STARTED
    - pks_overdue: PKS 32.73 + 32.04, started, an overdue milestone -> MILESTONE_OVERDUE
    - draft: KB 32.01 (Kab. Bogor) + 36.71 (Kota Tangerang, Banten), not signed
    - far: KB 33.74 + 35.78 (Semarang, Surabaya): not Jawa Barat at all
    """
    d = {}
    d["kb_stalled"] = AgreementFactory(number="KB/1", signed_on=OLD, regions=["32.73", "32.04"], affairs=["3.26"])
    d["pks_idle"] = PksFactory(number="PKS/2", signed_on=OLD, regions=["32.73", "33.74"], affairs=["3.26", "2.15"])
    d["pks_overdue"] = PksFactory(number="PKS/3", signed_on=OLD, regions=["32.73", "32.04"], affairs=["1.02"])
    MilestoneFactory(agreement=d["pks_overdue"], started_on=OLD, status=Milestone.Status.IN_PROGRESS,
                     due_on=datetime.date(2021, 1, 1))
    d["draft"] = AgreementFactory(number="KB/4", signed_on=None, regions=["32.01", "36.71"], affairs=["2.15"])
    d["far"] = AgreementFactory(number="KB/5", signed_on=OLD, regions=["33.74", "35.78"], affairs=["3.26"])
    return d


def test_anonymous_is_sent_to_login(client, data):
    response = client.get(url("32.73"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("code", ["99.99", "32.7", "xx", "32.73.01"])
def test_unknown_code_is_404(client, staff, code):
    client.force_login(staff)
    assert client.get(f"/regions/{code}/").status_code == 404


def test_kabupaten_kota_page_counts(client, staff, data):
    client.force_login(staff)
    response = client.get(url("32.73"))
    html = response.content.decode()
    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals["total"] == 3 and totals["stalled"] == 3
    reasons = {row["label"]: row["count"] for row in response.context["stall_rows"]}
    assert reasons == {StallReason.KB_WITHOUT_PKS.label: 1, StallReason.PKS_NOT_STARTED.label: 1,
                       StallReason.MILESTONE_OVERDUE.label: 1}
    assert sorted(a.number for a in response.context["agreements"]) == ["KB/1", "PKS/2", "PKS/3"]
    # Every count links to the register with the filters of the contract.
    assert 'href="/agreements/?region=32.73"' in html
    assert 'href="/agreements/?region=32.73&amp;stalled=yes"' in html
    assert 'href="/agreements/?region=32.73&amp;stalled=yes&amp;reason=KB_WITHOUT_PKS"' in html
    assert 'href="/agreements/?region=32.73&amp;stage=signed"' in html
    stages = {row["label"]: row["count"] for row in response.context["stage_rows"]}
    assert sum(stages.values()) == 3


def test_partners_with_shared_agreement_counts(client, staff, data):
    client.force_login(staff)
    response = client.get(url("32.73"))
    partners = [(p.code, p.shared) for p in response.context["partners"]]
    assert partners == [("32.04", 2), ("33.74", 1)]
    html = response.content.decode()
    assert f'href="{url("32.04")}">Kabupaten Bandung</a>' in html
    assert f'href="{url("33.74")}">Kota Semarang</a>' in html


def test_affair_counts(client, staff, data):
    client.force_login(staff)
    response = client.get(url("32.73"))
    rows = {row["code"]: row["count"] for row in response.context["affair_rows"]}
    assert rows == {"3.26": 2, "2.15": 1, "1.02": 1}
    assert 'href="/agreements/?region=32.73&amp;affair=3.26"' in response.content.decode()


def test_province_page_includes_its_kabupaten_kota(client, staff, data):
    client.force_login(staff)
    response = client.get(url("32"))
    html = response.content.decode()
    assert response.context["totals"]["total"] == 4  # KB/1, PKS/2, PKS/3, and the draft of Kab. Bogor
    assert sorted(a.number for a in response.context["agreements"]) == ["KB/1", "KB/4", "PKS/2", "PKS/3"]
    assert 'href="/agreements/?province=32&amp;stalled=yes"' in html
    # Partners are the regions outside the province, linked with province + region.
    partners = [(p.code, p.shared) for p in response.context["partners"]]
    assert partners == [("33.74", 1), ("36.71", 1)]
    assert 'href="/agreements/?province=32&amp;region=33.74"' in html
    # Its kabupaten/kota, each linked, with its count.
    children = {c.code: c.agreement_count for c in response.context["children"]}
    assert len(children) == Region.objects.filter(province__code="32").count()
    assert children["32.73"] == 3 and children["32.04"] == 2 and children["32.01"] == 1 and children["32.02"] == 0
    assert f'href="{url("32.79")}">Kota Banjar</a>' in html
    assert 'href="/agreements/?region=32.04"' in html


def test_kabupaten_page_links_its_province(client, staff, data):
    client.force_login(staff)
    html = client.get(url("32.73")).content.decode()
    assert f'href="{url("32")}">Jawa Barat</a>' in html


def test_aggregates_are_scoped_to_what_the_user_may_see(client, data):
    """A Kabupaten Bandung officer on Kota Bandung's page sees only the agreements 32.04 is party to."""
    client.force_login(UserFactory(language="en", role="local", region=region("32.04")))
    response = client.get(url("32.73"))
    assert response.status_code == 200
    assert sorted(a.number for a in response.context["agreements"]) == ["KB/1", "PKS/3"]
    assert response.context["totals"]["total"] == 2
    assert [(p.code, p.shared) for p in response.context["partners"]] == [("32.04", 2)]
    assert "PKS/2" not in response.content.decode()
    # An officer far away sees the page (regions are public) but none of these agreements.
    client.force_login(UserFactory(language="en", role="local", region=region("35.78")))
    response = client.get(url("32.73"))
    assert response.status_code == 200
    assert response.context["totals"]["total"] == 0 and response.context["partners"] == []


def test_counts_equal_the_register_they_link_to(client, staff, data):
    """The figures equal the agreement list filtered by the parameters they link with."""
    client.force_login(staff)
    response = client.get(url("32"))
    from agreements.filters import AgreementFilter

    def listed(params):
        return AgreementFilter(params, queryset=stalls.with_status()).qs.count()

    assert listed({"province": "32"}) == response.context["totals"]["total"]
    assert listed({"province": "32", "stalled": "yes"}) == response.context["totals"]["stalled"]
    for row in response.context["stall_rows"]:
        reason = row["query"].rsplit("reason=", 1)[1]
        assert listed({"province": "32", "stalled": "yes", "reason": reason}) == row["count"]
    for partner in response.context["partners"]:
        assert listed({"province": "32", "region": partner.code}) == partner.shared


def test_region_extra_include_is_rendered(client, staff, data):
    client.force_login(staff)
    templates = [t.name for t in client.get(url("32.73")).templates]
    assert "agreements/includes/region_extra.html" in templates


def _add_agreements(n, start):
    for i in range(n):
        a = PksFactory(number=f"PKS/Q/{start + i}", signed_on=OLD,
                       regions=["32.73", "32.04", ["33.74", "35.78", "36.71"][i % 3]], affairs=["3.26", "1.02"])
        MilestoneFactory(agreement=a, due_on=datetime.date(2021, 1, 1))


@pytest.mark.parametrize(("code", "role", "user_region"),
                         [("32.73", "ministry", None), ("32", "province", "32"), ("32.73", "local", "32.04")])
def test_query_count_does_not_grow_with_the_data(client, data, django_assert_max_num_queries, code, role,
                                                 user_region):
    client.force_login(UserFactory(language="en", role=role, region=region(user_region) if user_region else None))
    client.get(url(code))  # warm up the session and the settings row
    with CaptureQueriesContext(connection) as small:
        first = client.get(url(code))
    _add_agreements(40, 100)
    with CaptureQueriesContext(connection) as big:
        second = client.get(url(code))
    assert len(second.context["agreements"]) > len(first.context["agreements"])
    assert second.context["totals"]["total"] >= first.context["totals"]["total"] + 40
    assert len(big.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url(code))


def test_party_rows_are_unchanged_by_the_page(client, staff, data):
    """Reading the page writes nothing (no audit records appear)."""
    before = AgreementParty.history.count()
    client.force_login(staff)
    client.get(url("32"))
    assert AgreementParty.history.count() == before
