"""Print: the dashboard and the agreement page print on A4 with no navigation, charts and tables kept."""

import pytest

from tests.browser.conftest import DESKTOP, ROOT, log_in, page_width

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRINTS = ROOT / "artifacts" / "print"
# A4 is 210 mm wide; less print.css's 12 mm margins that leaves 186 mm, about 703 CSS px at 96 px per inch.
A4_CONTENT = {"width": 703, "height": 1000}


def _print_pdf(page, name: str) -> bytes:
    PRINTS.mkdir(parents=True, exist_ok=True)
    path = PRINTS / f"{name}.pdf"
    page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
    data = path.read_bytes()
    assert data.startswith(b"%PDF"), "a PDF file"
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 1, "with at least one page"
    return data


def test_dashboard_and_agreement_page_print_on_a4(live, demo_data, open_page):
    from agreements.models import Agreement

    page = open_page()
    log_in(page, live, "kemendagri")
    page.goto(f"{live}/")
    assert page.locator(".site-nav").is_visible(), "on screen the navigation shows"
    assert not page.locator(".province-table table").is_visible(), "on screen the table by province is folded"

    page.emulate_media(media="print")
    page.set_viewport_size(A4_CONTENT)
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-nav").is_visible(), "no navigation on paper"
    assert not page.locator("form.filters").is_visible(), "no filter form on paper"
    assert page.locator(".chart svg").first.is_visible(), "the pipeline chart is printed"
    assert page.locator(".map-wrap svg").first.is_visible(), "the province map is printed"
    assert page.locator(".kpis").is_visible()
    assert page.locator(".province-table table").is_visible(), "the table by province is printed open"
    tables = page.locator("main table")
    assert tables.count() >= 4 and all(tables.nth(i).is_visible() for i in range(tables.count())), "every table"
    assert page_width(page) <= A4_CONTENT["width"], "nothing is wider than the paper"
    _print_pdf(page, "dashboard")

    agreement = Agreement.objects.filter(milestones__isnull=False).order_by("pk").first()
    page.emulate_media(media="screen")
    page.set_viewport_size(DESKTOP["viewport"])
    page.goto(f"{live}{agreement.get_absolute_url()}")
    assert page.locator(".actions").is_visible(), "ministry staff see the actions on screen"
    page.emulate_media(media="print")
    page.set_viewport_size(A4_CONTENT)
    assert not page.locator(".site-nav").is_visible()
    assert page_width(page) <= A4_CONTENT["width"], "nothing is wider than the paper"
    assert not page.locator(".actions").is_visible(), "no action buttons on paper"
    assert page.locator("h1").is_visible()
    assert page.locator("ol.timeline").is_visible(), "the timeline is printed"
    tables = page.locator("main table")
    assert tables.count() >= 2 and all(tables.nth(i).is_visible() for i in range(tables.count()))
    _print_pdf(page, "agreement")
