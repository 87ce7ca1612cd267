"""Ministry staff in a laptop browser: dashboard → a stalled figure → the same agreements in the list → CSV export."""

import csv
import io
import re

import pytest

from tests.browser.conftest import log_in, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _number(text: str) -> int:
    """The first number in a text, Indonesian or English grouping ("1.234", "1,234")."""
    match = re.search(r"\d[\d.,]*", text)
    assert match, f"no number in {text!r}"
    return int(re.sub(r"[.,]", "", match.group()))


def test_stalled_figure_leads_to_the_matching_list_and_its_export(live, demo_data, open_page):
    page = open_page()
    log_in(page, live, "kemendagri")
    assert page.url == f"{live}/", "ministry staff land on the national dashboard"
    assert serious_axe_violations(page) == []
    screenshot(page, "dashboard")

    figure_link = page.locator(".kpi").first.locator(".kpi-value a")
    figure = _number(figure_link.inner_text())
    assert figure > 0, "the demo data has stalled agreements"
    figure_link.click()
    page.wait_for_load_state("load")

    assert page.url.startswith(f"{live}/agreements/?"), page.url
    assert "stalled" in page.url
    assert _number(page.locator(".list-summary [role=status]").inner_text()) == figure
    assert serious_axe_violations(page) == []
    screenshot(page, "agreement-list-stalled")

    with page.expect_download() as download_info:
        page.locator(".list-export a[href*='export.csv']").first.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) - 1 == figure, "the export holds exactly the agreements the figure counts"
    numbers_in_list = set(page.locator("table.agreement-list tbody td:first-child > a").all_inner_texts())
    numbers_in_export = {row[rows[0].index("number")] for row in rows[1:]}
    assert numbers_in_list and numbers_in_list <= numbers_in_export


def _fifth_column(page) -> list[int]:
    """The numbers of the sortable table's fifth column (each row starts with a header cell, then data cells)."""
    return [_number(row.locator(":scope > *").nth(4).inner_text()) for row in page.locator("table.sortable tbody tr").all()]


def test_province_table_sorts_by_a_column(live, demo_data, open_page):
    page = open_page()
    log_in(page, live, "kemendagri")
    page.locator("details.province-table summary").click()
    stalled_header = page.locator("table.sortable thead th").nth(4)
    stalled_header.locator("button").click()
    assert stalled_header.get_attribute("aria-sort") == "ascending"
    values = _fifth_column(page)
    assert values == sorted(values)
    stalled_header.locator("button").click()
    values = _fifth_column(page)
    assert values == sorted(values, reverse=True) and values[0] > 0
