"""The agreement list page at /agreements/: access, rendering, sort and pagination links, query counts."""

import datetime
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from agreements.models import Milestone, StallSettings
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory
from tests.factories import region as get_region
from tests.test_filters import build_scenario, nums

URL = "/agreements/"
AS_OF = "2025-06-30"


@pytest.fixture
def s(db):
    return build_scenario()


def listed(client, params=None) -> set[str]:
    response = client.get(URL, {"as_of": AS_OF, **(params or {})})
    assert response.status_code == 200
    return {row["agreement"].number for row in response.context["rows"]}


def hrefs(html: str, prefix: str = "?") -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(' + re.escape(prefix) + r'[^"]*)"', html)]


def test_url_names():
    assert reverse("agreement-list") == URL
    assert reverse("agreement-export", args=["csv"]) == "/agreements/export.csv"
    assert reverse("agreement-export", args=["xlsx"]) == "/agreements/export.xlsx"


def test_login_required(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "region", "expected"),
    [
        ("ministry", None, ["kb_old", "kb_followed", "pks_child", "pks_stalled", "overdue", "draft", "terminated",
                            "kb_ancient"]),
        ("admin", None, ["kb_old", "kb_followed", "pks_child", "pks_stalled", "overdue", "draft", "terminated",
                         "kb_ancient"]),
        # Provincial officer of Jawa Barat: the province or one of its kabupaten/kota is a party.
        ("province", "32", ["kb_old", "overdue", "terminated"]),
        # Kota Bandung officer: only where Kota Bandung is a party.
        ("local", "32.73", ["kb_old", "terminated"]),
        ("local", "35.78", ["pks_stalled"]),
        # An officer whose region is party to nothing sees nothing.
        ("local", "11.01", []),
    ],
)
def test_each_user_sees_only_what_access_allows(client, s, role, region, expected):
    user = UserFactory(role=role, region=get_region(region) if region else None)
    client.force_login(user)
    assert listed(client) == nums(*[getattr(s, name) for name in expected])
    assert listed(client, {"stalled": "yes"}) == nums(*[getattr(s, n) for n in expected]) & nums(
        s.kb_old, s.pks_stalled, s.overdue, s.kb_ancient
    )


def test_filters_never_widen_what_an_officer_sees(client, s):
    client.force_login(UserFactory(role="local", region=get_region("32.73")))
    assert listed(client, {"province": "33"}) == set()
    assert listed(client, {"region": "32", "q": "sampah"}) == set()


def test_page_shows_the_row_and_the_thresholds_in_force(client, s):
    StallSettings.objects.update_or_create(pk=1, defaults={"kb_follow_up_days": 400})
    client.force_login(UserFactory(role="ministry"))
    response = client.get(URL, {"as_of": AS_OF, "q": "KB/001/2023"}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert f'href="{reverse("agreement-detail", args=[s.kb_old.pk])}"' in html
    assert f'href="{reverse("region-detail", args=["32.73"])}"' in html
    assert f'href="{reverse("region-detail", args=["32.04"])}"' in html
    assert "Kota Bandung" in html and "Pengembangan Kawasan Wisata Alam" in html
    # KB_WITHOUT_PKS for 902 days under the 400-day threshold in force.
    # One meaning per figure, each said in words: days since signing, and days past the threshold (as the
    # dashboard's age buckets count them).
    assert "signed 902 days ago" in html and "502 days past the threshold of 400 days" in html
    assert "after 400 days" in html and "after 180 days" in html and "30 days after its due date" in html
    assert response.context["thresholds"].kb_follow_up_days == 400
    row = response.context["rows"][0]
    assert row["stage_label"] == "Signed"
    assert [(r["code"], r["days"], r["past"]) for r in row["reasons"]] == [("KB_WITHOUT_PKS", 902, 502)]
    assert row["days_stalled"] == 902


def test_several_reasons_each_with_days(client, db):
    # A PKS not started for 400 days that also has a milestone overdue since 100 days.
    pks = PksFactory(number="PKS/9/2024", signed_on=datetime.date(2024, 5, 26))
    MilestoneFactory(agreement=pks, title="Rapat", due_on=datetime.date(2025, 3, 22))
    client.force_login(UserFactory(role="ministry"))
    response = client.get(URL, {"as_of": AS_OF})
    row = response.context["rows"][0]
    assert [(r["code"], r["days"], r["past"]) for r in row["reasons"]] == [
        ("MILESTONE_OVERDUE", 100, 70), ("PKS_NOT_STARTED", 400, 220)
    ]
    assert row["days_stalled"] == 400
    html = response.content.decode()
    assert "due 100 days ago (22 March 2025) · 70 days past the threshold of 30 days" in " ".join(html.split())
    assert "signed 400 days ago (26 May 2024) · 220 days past the threshold of 180 days" in " ".join(html.split())
    assert "MILESTONE_OVERDUE" not in re.sub(r"<[^>]+>", "", html), "codes only in attributes, never in the text"


def test_filter_form_is_labelled(client, s):
    client.force_login(UserFactory(role="ministry"))
    html = client.get(URL).content.decode()
    for name in ["q", "document_type", "stalled", "reason", "age", "province", "region", "affair", "signed_from",
                 "signed_to", "year_from", "year_to", "as_of", "sort"]:
        assert f'<label for="id_{name}"' in html, name
    # The checkbox groups are fieldsets with a legend.
    assert html.count("<legend>") == 2
    assert "<script>" not in html and "onclick" not in html


def test_invalid_filter_shows_an_error_not_a_crash(client, s):
    client.force_login(UserFactory(role="ministry"))
    response = client.get(URL, {"stage": "bogus", "as_of": AS_OF})
    assert response.status_code == 200
    assert "stage" in response.context["form"].errors


def test_sort_links_keep_filters_and_reset_the_page(client, s):
    client.force_login(UserFactory(role="ministry"))
    params = {"as_of": AS_OF, "stage": ["signed", "draft"], "province": "32", "page": "1", "sort": "number"}
    html = client.get(URL, params).content.decode()
    sort_links = {parse_qs(urlsplit(h).query)["sort"][0]: parse_qs(urlsplit(h).query) for h in hrefs(html)
                  if "sort=" in h and "page=" not in h}
    assert set(sort_links) == {"-number", "title", "stage", "-days_stalled", "-signed_on"}
    for query in sort_links.values():
        assert query["stage"] == ["signed", "draft"]
        assert query["province"] == ["32"]
        assert query["as_of"] == [AS_OF]
    # The current sort is announced to screen readers.
    assert 'aria-sort="ascending"' in html


def test_pagination_keeps_filters_and_sort(client, db):
    for i in range(53):
        AgreementFactory(number=f"KB/{i:03d}/2024", regions=["32.73", "32.04"])
    AgreementFactory(number="KB/OTHER/2024", regions=["33.74", "33.22"])
    client.force_login(UserFactory(role="ministry"))
    params = {"as_of": AS_OF, "province": "32", "kind": ["KSDD-SUKARELA", "KSDD-WAJIB"], "sort": "-number"}
    response = client.get(URL, params)
    assert response.context["page"].paginator.count == 53
    assert len(response.context["rows"]) == 50
    assert response.context["rows"][0]["agreement"].number == "KB/052/2024"
    html = response.content.decode()
    next_links = [h for h in hrefs(html) if "page=2" in h]
    assert next_links
    query = parse_qs(urlsplit(next_links[0]).query)
    assert query["province"] == ["32"] and query["kind"] == ["KSDD-SUKARELA", "KSDD-WAJIB"]
    assert query["sort"] == ["-number"] and query["as_of"] == [AS_OF]
    page2 = client.get(URL + next_links[0])
    assert [r["agreement"].number for r in page2.context["rows"]] == ["KB/002/2024", "KB/001/2024", "KB/000/2024"]
    # The export links carry the filters too (and not the page).
    export = [h for h in hrefs(page2.content.decode(), "/agreements/export.csv")][0]
    query = parse_qs(urlsplit(export).query)
    assert query["province"] == ["32"] and "page" not in query


def _build(n: int):
    for i in range(n):
        kb = AgreementFactory(number=f"KB/Q/{i}", signed_on=datetime.date(2023, 1, 1), regions=["32.73", "32.04"],
                              affairs=["3.26", "2.11"])
        pks = PksFactory(number=f"PKS/Q/{i}", parent=kb, signed_on=datetime.date(2023, 5, 1),
                         regions=["32.73", "32.04", "32.01"], third_parties=["PT Contoh"], affairs=["3.26"])
        for j in range(3):
            MilestoneFactory(agreement=pks, title=f"Tahap {j}", due_on=datetime.date(2024, 1, 1),
                             started_on=datetime.date(2023, 6, 1), status=Milestone.Status.IN_PROGRESS)


@pytest.mark.parametrize("role", ["ministry", "province"])
def test_query_count_does_not_grow_with_the_data(client, db, django_assert_max_num_queries, role):
    user = UserFactory(role=role, region=get_region("32") if role == "province" else None)
    client.force_login(user)
    params = {"as_of": AS_OF, "stage": ["signed", "implementing", "followed_up"], "province": "32", "region": "32.73",
              "affair": "3.26", "q": "Q"}
    StallSettings.current()
    _build(2)
    with django_assert_max_num_queries(13):
        response = client.get(URL, params)
    assert len(response.context["rows"]) == 4
    for i in range(40):  # 80 more agreements: a full page of 50
        kb = AgreementFactory(number=f"KB/R/{i}", signed_on=datetime.date(2023, 1, 1), regions=["32.73", "32.04"],
                              affairs=["3.26"])
        pks = PksFactory(number=f"PKS/R/{i}", parent=kb, signed_on=datetime.date(2023, 5, 1),
                         regions=["32.73", "32.04"], third_parties=["PT Lain"], affairs=["3.26"])
        MilestoneFactory(agreement=pks, title="Tahap", due_on=datetime.date(2024, 1, 1))
    with django_assert_max_num_queries(13):
        response = client.get(URL, {**params, "q": ""})
    assert len(response.context["rows"]) == 50


def _filters_box(html: str) -> str:
    return re.search(r'<details class="filters-box"[^>]*>\s*<summary>(.*?)</summary>', html, re.S).group(0)


def test_filters_fold_into_a_summary_of_the_filters_in_force(client, s):
    """The form is folded, so that the results are on a laptop's first screen; its summary reads the filters in
    force as a person says them (names and labels, no codes), and the sort order is not one of them."""
    from agreements.models import GovernmentAffair

    client.force_login(UserFactory(role="ministry"))
    affair = GovernmentAffair.objects.get(code="1.03")
    html = client.get(URL, {
        "province": "32", "stalled": "yes", "affair": "1.03", "kind": ["KSDD-WAJIB"], "signed_from": "2024-01-02",
        "year_to": "2025", "sort": "title", "as_of": AS_OF,
    }).content.decode()
    box = unescape(_filters_box(html))
    assert "<details" in box and " open" not in box.split(">")[0]
    assert (f"Filters: <span class=\"filters-applied\">Jawa Barat · stalled · Affair 1.03 {affair.name} · "
            "Cooperation kind: KSDD mandatory · Signed from: 2 January 2024 · Signed until year: 2025 · "
            "As of: 30 June 2025</span>") in box
    assert "KSDD-WAJIB" not in box and "Sort by" not in box

    box = _filters_box(client.get(URL, {"stalled": "no", "region": "32.73"}).content.decode())
    assert "Kota Bandung · not stalled</span>" in box

    # Nothing applied: folded too, and it says so.
    box = _filters_box(client.get(URL).content.decode())
    assert " open" not in box.split(">")[0] and "(none applied)" in box

    # An invalid filter opens the form on its error.
    box = _filters_box(client.get(URL, {"year_from": "1200"}).content.decode())
    assert box.startswith('<details class="filters-box" open>')
