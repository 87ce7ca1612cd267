"""The end of the term on the dashboard and the list: lapsed per year and province, expiring within N days, no end
date; each figure equals the list it links to; the new parameters refuse hostile values without a 5xx."""

import datetime
import re
from html import unescape

import pytest

from agreements.models import Amendment
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory
from tests.listing import list_count, page_count

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 6, 30)
D = datetime.timedelta


def build():
    # Lapsed: a KB that ended in 2025 without a PKS (Jawa Barat), a PKS that ended in 2026 with nothing met (Bali).
    AgreementFactory(number="KB/LAPSED/2025", signed_on=AS_OF - D(900), ends_on=datetime.date(2025, 3, 31),
                     regions=["32.73", "32.04"])
    pks = PksFactory(number="PKS/LAPSED/2026", signed_on=AS_OF - D(700), ends_on=datetime.date(2026, 1, 31),
                     regions=["51.71", "51.03"])
    MilestoneFactory(agreement=pks, due_on=AS_OF - D(600), started_on=AS_OF - D(650))
    # Expired but followed: a KB with its PKS signed before the end; a KB renewed.
    followed = AgreementFactory(number="KB/FOLLOWED", signed_on=AS_OF - D(900), ends_on=AS_OF - D(100),
                                regions=["32.73", "32.04"])
    PksFactory(number="PKS/UNDER", parent=followed, signed_on=AS_OF - D(800), ends_on=AS_OF + D(400),
               regions=["32.73", "32.04"])
    renewed = AgreementFactory(number="KB/RENEWED", signed_on=AS_OF - D(900), ends_on=AS_OF - D(50),
                               regions=["35.78", "35.15"])
    AgreementFactory(number="KB/SUCCESSOR", renews=renewed, signed_on=AS_OF - D(60), ends_on=AS_OF + D(1000),
                     regions=["35.78", "35.15"])
    # Expiring: in 7, 30 and 90 days; one extended by an amendment signed before AS_OF (no longer expiring).
    for days in (7, 30, 90):
        AgreementFactory(number=f"KB/ENDS/{days}", signed_on=AS_OF - D(30), ends_on=AS_OF + D(days),
                         regions=["32.73", "32.04"])
    extended = AgreementFactory(number="KB/EXTENDED", signed_on=AS_OF - D(30), ends_on=AS_OF + D(10),
                                regions=["32.73", "32.04"])
    Amendment.objects.create(agreement=extended, signed_on=AS_OF - D(5), ends_on=AS_OF + D(700), summary="Diperpanjang")
    AgreementFactory(number="KB/ENDS/91", signed_on=AS_OF - D(30), ends_on=AS_OF + D(91), regions=["32.73", "32.04"])
    # No end date: signed in force; a draft without one does not count.
    AgreementFactory(number="KB/OPEN", signed_on=AS_OF - D(30), ends_on=None, regions=["33.71", "34.71"])
    AgreementFactory(number="KB/DRAFT", signed_on=None, ends_on=None, regions=["33.71", "34.71"])


def links(html: str) -> list[tuple[str, int]]:
    return [(unescape(href), int(text.replace(".", "")))
            for href, text in re.findall(r'<a href="(/agreements/\?[^"]*)">([\d.]+)</a>', html)]


def test_term_figures_and_the_lists_they_link_to(client):
    build()
    user = UserFactory(role="ministry")
    client.force_login(user)
    response = client.get("/", {"as_of": AS_OF.isoformat()})
    ctx = response.context
    summary = ctx["summary"]
    assert summary["lapsed"].value == 2
    assert summary["expiring"].value == 3  # 7, 30 and 90 days; not 91, not the extended one
    assert summary["no_end_date"].value == 1
    assert [(row["year"], row["figure"].value) for row in ctx["lapsed_years"]] == [(2026, 1), (2025, 1)]
    provinces = {row["province"].code: row["lapsed"].value for row in ctx["provinces"]}
    assert provinces["32"] == 1 and provinces["51"] == 1 and provinces["35"] == 0
    html = response.content.decode()
    hrefs = dict(links(html))
    for params in ("lapsed=yes", "expiring_within=90", "no_end_date=yes", "lapsed=yes&expiry_year=2025",
                   "province=32&lapsed=yes"):
        assert any(params in href for href in hrefs), params
    # Every figure equals its list; the expiring one once on the rendered page too.
    for href, value in links(html):
        assert list_count(user, href) == value, href
    expiring = next(href for href in hrefs if "expiring_within=90" in href)
    assert page_count(client, expiring) == summary["expiring"].value == 3


def test_expiring_within_equals_its_figure_at_every_threshold(client):
    build()
    user = UserFactory(role="ministry")
    for days, expected in ((7, 1), (30, 2), (90, 3), (91, 4)):
        assert list_count(user, f"/agreements/?as_of={AS_OF.isoformat()}&expiring_within={days}") == expected


def test_no_end_date_figure_only_for_ministry_staff(client, personas):
    build()
    client.force_login(personas["ministry"])
    assert 'data-figure="no-end-date"' in client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()
    client.force_login(personas["local_in"])
    content = client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()
    assert 'data-figure="no-end-date"' not in content
    assert 'data-figure="expiring"' in content  # the officer's own figures, scoped


def test_lapsed_list_filter_and_stalled_list_do_not_overlap(client):
    build()
    user = UserFactory(role="ministry")
    assert list_count(user, f"/agreements/?as_of={AS_OF.isoformat()}&lapsed=yes&stalled=yes") == 0
    assert list_count(user, f"/agreements/?as_of={AS_OF.isoformat()}&lapsed=yes&expiry_year=2026") == 1


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "99999999999999999999", "3661", "\x00", "x" * 10_000,
                                   "1e3", " "])
@pytest.mark.parametrize("path", ["/agreements/", "/", "/agreements/workbook.xlsx", "/agreements/export.csv"])
def test_hostile_expiring_within_is_a_form_error_never_a_500(client, value, path):
    AgreementFactory(ends_on=datetime.date(2030, 1, 1))
    client.force_login(UserFactory(role="ministry"))
    response = client.get(path, {"expiring_within": value, "expiry_year": value, "lapsed": value,
                                 "no_end_date": value})
    assert response.status_code < 500


@pytest.mark.parametrize("value", ["0", "abc", "1.5", "3661"])
def test_a_bad_expiring_within_is_reported_on_the_list(client, value):
    client.force_login(UserFactory(role="ministry"))
    response = client.get("/agreements/", {"expiring_within": value})
    assert response.status_code == 200
    assert response.context["form"].errors.get("expiring_within")


def test_the_largest_expiring_within_is_accepted(client):
    client.force_login(UserFactory(role="ministry"))
    response = client.get("/agreements/", {"expiring_within": "3660", "as_of": "2200-12-31"})
    assert response.status_code == 200
    assert not response.context["form"].errors
