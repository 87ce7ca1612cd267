"""The national dashboard: every figure equals the list it links to; the query count is constant."""

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement, Milestone
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory
from tests.listing import list_count, page_count

AS_OF = datetime.date(2026, 6, 30)
D = datetime.timedelta


def build(n: int = 1):
    """A spread of agreements over stages, reasons and provinces; ``n`` copies of the spread."""
    for i in range(n):
        # KB without PKS for 2 years (Jawa Barat), and one KB followed by a PKS that is implementing.
        AgreementFactory(number=f"KB/A/{i}", signed_on=AS_OF - D(730), regions=["32.73", "32.04"], affairs=["3.26"])
        kb = AgreementFactory(number=f"KB/B/{i}", signed_on=AS_OF - D(500), regions=["32.73", "32.01"], affairs=["2.11"])
        pks = PksFactory(number=f"PKS/B/{i}", parent=kb, signed_on=AS_OF - D(400), regions=["32.73", "32.01"],
                         affairs=["2.11"])
        MilestoneFactory(agreement=pks, title="Survei", due_on=AS_OF + D(60), started_on=AS_OF - D(300),
                         status=Milestone.Status.IN_PROGRESS)
        # Overdue milestone (Jawa Tengah and DIY: two provinces).
        pks2 = PksFactory(number=f"PKS/C/{i}", signed_on=AS_OF - D(100), regions=["33.71", "34.71"], affairs=["1.02"])
        MilestoneFactory(agreement=pks2, title="Tahap 1", due_on=AS_OF - D(60), started_on=AS_OF - D(90),
                         status=Milestone.Status.IN_PROGRESS)
        # PKS not started, signed a year ago (Bali).
        PksFactory(number=f"PKS/D/{i}", signed_on=AS_OF - D(365), regions=["51.71", "51.03"], affairs=["3.26"])
        # A draft, a terminated agreement and a recent KB that is not stalled.
        AgreementFactory(number=f"KB/E/{i}", signed_on=None, regions=["32.73", "32.04"])
        AgreementFactory(number=f"KB/F/{i}", signed_on=AS_OF - D(900), terminated_on=AS_OF - D(10),
                         regions=["35.78", "35.15"])
        AgreementFactory(number=f"KB/G/{i}", signed_on=AS_OF - D(30), regions=["35.78", "35.15"], affairs=["1.01"])


def links_with_figures(html: str) -> list[tuple[str, int]]:
    """Every link to the agreement list whose text is a number, with that number."""
    pairs = []
    for href, text in re.findall(r'<a href="(/agreements/\?[^"]*)">([\d.]+)</a>', html):
        pairs.append((unescape(href), int(text.replace(".", ""))))
    return pairs


@pytest.mark.django_db
def test_every_dashboard_figure_equals_the_list_it_links_to(client):
    build()
    user = UserFactory(role="ministry")
    client.force_login(user)
    response = client.get("/", {"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    pairs = links_with_figures(response.content.decode())
    assert len(pairs) > 40  # pipeline, reasons, ages, provinces, affairs, years
    for href, value in pairs:
        assert "as_of=2026-06-30" in href
        assert list_count(user, href) == value, href
    # The list page itself shows what its filterset counts (once: rendering every link costs minutes).
    href, value = max(pairs, key=lambda pair: (pair[1], pair[0].count("&")))
    assert page_count(client, href) == value, href


@pytest.mark.django_db
def test_dashboard_figures_with_filters_equal_their_lists(client):
    build()
    user = UserFactory(role="ministry")
    client.force_login(user)
    response = client.get("/", {"as_of": AS_OF.isoformat(), "province": "32", "kind": "KSDD-SUKARELA"})
    pairs = links_with_figures(response.content.decode())
    assert pairs
    for href, value in pairs:
        assert "kind=KSDD-SUKARELA" in href
        assert href.count("province=") <= 1
        assert list_count(user, href) == value, href
    href, value = max(pairs, key=lambda pair: (pair[1], pair[0].count("&")))
    assert page_count(client, href) == value, href


@pytest.mark.django_db
def test_dashboard_counts(client):
    build()
    client.force_login(UserFactory(role="ministry"))
    ctx = client.get("/", {"as_of": AS_OF.isoformat()}).context
    pipeline = {row["key"]: (row["total"].value, row["stalled"].value) for row in ctx["pipeline"]}
    assert pipeline == {
        "draft": (1, 0),
        "kb_signed": (2, 1),  # KB/A stalled, KB/G recent
        "followed_up": (1, 0),
        "pks_signed": (1, 1),  # PKS/D not started
        "implementing": (2, 1),  # PKS/B, PKS/C (overdue)
        "completed": (0, 0),
        "expired": (0, 0),
        "terminated": (1, 0),
    }
    summary = ctx["summary"]
    assert summary["stalled"].value == 3
    assert {r["reason"].value: r["figure"].value for r in summary["by_reason"]} == {
        "KB_WITHOUT_PKS": 1, "PKS_NOT_STARTED": 1, "MILESTONE_OVERDUE": 1,
    }
    # Ages past threshold: KB/A 365, PKS/D 185, PKS/C 30.
    assert [b["figure"].value for b in summary["by_age"]] == [1, 2, 0, 0]
    provinces = {row["province"].code: row for row in ctx["provinces"]}
    assert provinces["32"]["stalled"].value == 1 and provinces["32"]["total"].value == 4
    assert provinces["33"]["stalled"].value == 1 and provinces["34"]["stalled"].value == 1
    assert provinces["32"]["share"] == pytest.approx(1 / 3)  # KB/A stalled among KB/A, KB/B, PKS/B
    assert [a.number for a in ctx["longest"]] == ["KB/A/0", "PKS/D/0", "PKS/C/0"]
    years = {row["year"]: (row["total"].value, row["followed"].value) for row in ctx["years"]}
    # 2024: KB/A (stalled) and KB/F (terminated since, but signed that year); 2025: KB/B, followed up.
    assert years[2024] == (2, 0) and years[2025] == (1, 1)
    content = client.get("/", {"as_of": AS_OF.isoformat()}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "365 days" in content and "180 days" in content  # the thresholds in force are stated
    text = re.sub(r"<[^>]+>", " ", content)
    for code in ("KB_WITHOUT_PKS", "PKS_NOT_STARTED", "MILESTONE_OVERDUE"):
        assert code not in text, f"{code}: a person reads the reason's label; the code stays in attributes"
    assert "KB without PKS" in text
    assert "Days since signing or due date" in text and "Days past the threshold" in text, "two figures, two names"


@pytest.mark.django_db
def test_dashboard_is_scoped_to_what_the_user_may_see(client):
    build()
    officer = UserFactory(role="local", region=Agreement.objects.get(number="PKS/C/0").parties.first().region)
    client.force_login(officer)
    ctx = client.get("/", {"as_of": AS_OF.isoformat()}).context
    assert ctx["summary"]["stalled"].value == 1
    assert sum(row["total"].value for row in ctx["pipeline"]) == 1


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_data(client):
    client.force_login(UserFactory(role="ministry"))
    build(1)
    client.get("/")  # creates the thresholds row once
    with CaptureQueriesContext(connection) as small:
        assert client.get("/", {"as_of": AS_OF.isoformat()}).status_code == 200
    build_more = 4
    for i in range(build_more):
        build_suffix(i)
    with CaptureQueriesContext(connection) as large:
        assert client.get("/", {"as_of": AS_OF.isoformat()}).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    # With the stalled agreements by step (the counts; the steps' names when some have steps) and by open obstacle,
    # and the agreements ended without follow-up by year of their end date; the semester evaluations' figures (counts,
    # average scores by affair and by province, the agreements recommended to stop); the reports' completeness (the
    # due days, the regions, their reports).
    assert len(small.captured_queries) <= 26


def build_suffix(i: int):
    PksFactory(number=f"PKS/X/{i}", signed_on=AS_OF - D(365), regions=["11.71", "12.71"], affairs=["1.03"])
    AgreementFactory(number=f"KB/X/{i}", signed_on=AS_OF - D(800), regions=["61.71", "62.71"], affairs=["3.27"])


def test_dashboard_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "title"), [
    ("ministry", "National dashboard"),
    ("province_in", "Dashboard: Jawa Barat and its kabupaten/kota"),
    ("local_in", "Dashboard: Kota Bandung"),
])
def test_the_dashboard_title_names_what_its_figures_cover(client, personas, who, title):
    """A kota officer's figures are its own: the page is not called national."""
    client.force_login(personas[who])
    html = client.get("/").content.decode()
    assert f"<h1>{title}</h1>" in html
    assert (who == "ministry") == ("National dashboard" in html)
