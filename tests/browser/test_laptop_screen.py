"""Ministry staff on a 1366×768 laptop: the register's results on the first screen, the affairs map readable
(affair names on hover and focus, whole region names, a header with no gap under it while the table scrolls)."""

import pytest

from tests.browser.conftest import log_in, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


def test_filtered_register_shows_results_on_the_first_screen(live, demo_data, open_page):
    page = open_page()
    page.set_viewport_size(LAPTOP)
    log_in(page, live, "kemendagri")
    page.goto(f"{live}/agreements/?province=32&stalled=yes")

    summary = page.locator("details.filters-box > summary")
    assert summary.inner_text().startswith("Filter: Jawa Barat · terhenti"), summary.inner_text()
    assert not page.locator("form.list-filters").is_visible(), "the filters are folded once applied"
    first_row = page.locator(".agreement-list tbody tr").first.bounding_box()
    assert first_row is not None, "Jawa Barat has stalled agreements in the demo data"
    assert 0 <= first_row["y"] and first_row["y"] + first_row["height"] <= LAPTOP["height"], first_row
    assert serious_axe_violations(page) == []
    screenshot(page, "agreement-list-laptop-filtered")

    summary.click()  # unfolds without script (details/summary); the form keeps the filters
    assert page.locator("form.list-filters").is_visible()
    assert page.locator("select[name=stalled]").input_value() == "yes"


def test_affairs_map_names_affairs_and_keeps_its_header_on_the_rows(live, demo_data, open_page):
    page = open_page()
    page.set_viewport_size(LAPTOP)
    log_in(page, live, "kemendagri")
    page.goto(f"{live}/affairs/?expand=32")
    assert page.locator("#affair-map-legend dl > div").count() >= 4

    header = page.locator(".affair-map .affair-col").first
    tip = header.locator(".affair-tip")
    assert tip.bounding_box()["width"] <= 1, "the name is hidden until asked for"
    header.hover()
    assert tip.bounding_box()["width"] > 40 and tip.inner_text().strip() == "Pendidikan"
    page.keyboard.press("Escape")
    assert tip.bounding_box()["width"] <= 1, "Escape hides it"
    page.mouse.move(0, 0)

    third = page.locator(".affair-map .affair-col").nth(2)
    third.locator("a").focus()
    assert third.locator(".affair-tip").bounding_box()["width"] > 40, "keyboard focus shows the name too"

    # Whole region names: none is cut.
    cut = page.eval_on_selector_all(
        ".affair-map tbody th", "ths => ths.filter(th => th.scrollWidth > th.clientWidth).map(th => th.innerText)"
    )
    assert cut == []

    # Scrolled inside its box, the header sits on the rows: the point just under it is a body cell.
    page.evaluate("document.activeElement.blur()")
    page.locator(".affair-map-wrap").evaluate("w => { w.scrollTop = 300; w.scrollIntoView(); }")
    gap = page.evaluate("""() => {
        const wrap = document.querySelector('.affair-map-wrap').getBoundingClientRect();
        const head = document.querySelector('.affair-map thead').getBoundingClientRect();
        const below = document.elementFromPoint(wrap.left + 300, head.bottom + 0.5);
        return {top: head.top - wrap.top, under: below && below.closest('tbody') !== null};
    }""")
    assert abs(gap["top"]) <= 1 and gap["under"], gap
    assert serious_axe_violations(page) == []
    screenshot(page, "affair-map-laptop-scrolled")
