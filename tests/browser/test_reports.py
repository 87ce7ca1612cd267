"""The periodic report along the reporting line: Kota Bandung's officer opens its annual report from /reports/, writes
the summary's narrative and submits; Jawa Barat's officer sees it among its kabupaten/kota's reports and opens it; the
ministry returns it for correction with a comment, which Kota Bandung's officer then reads on its report. axe on the
pages; the draft prints its sections (print media emulated)."""

import pytest

from tests.browser.conftest import log_in, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY = "Kerja sama pariwisata berjalan baik; dua KB masih menunggu PKS dan sedang dibahas dengan mitra."
COMMENT = "Mohon lengkapi narasi untuk kerja sama yang terhenti."


def _axe_clean(page, where: str) -> None:
    assert serious_axe_violations(page) == [], where


def test_an_officer_submits_the_province_sees_it_the_ministry_returns_it(live, demo_data, open_page):
    from agreements.models import Report

    period = "2025"  # the year before the demo's: not seeded, a fresh draft
    # Kota Bandung's officer opens the report from /reports/ and submits it.
    page = open_page()
    log_in(page, live, "kota-bandung")
    page.goto(f"{live}/reports/")
    _axe_clean(page, "reports index, officer")
    page.locator(f"a[href$='/reports/32.73/{period}/']").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/reports/32.73/{period}/")
    _axe_clean(page, "draft report")
    page.fill("textarea[name=section-summary]", SUMMARY)
    page.emulate_media(media="print")
    assert page.locator("#section-stalled").is_visible() and not page.locator("textarea").first.is_visible()
    page.emulate_media(media="screen")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state("load")
    report = Report.objects.get(region__code="32.73", period=period)
    assert report.status == Report.Status.SUBMITTED and report.narrative["sections"]["summary"] == SUMMARY
    assert report.snapshot["period"] == period and report.submitted_by.username == "kota-bandung"
    assert SUMMARY in page.locator("#section-summary").inner_text()
    assert page.locator("textarea[name=section-summary]").count() == 0  # frozen
    screenshot(page, "report-submitted")

    # Jawa Barat's officer sees it among its kabupaten/kota's reports.
    province = open_page()
    log_in(province, live, "jabar")
    province.goto(f"{live}/reports/?period={period}")
    row = province.locator("#report-states tr", has=province.locator(f"a[href$='/reports/32.73/{period}/']"))
    assert row.locator("[data-state=late]").count() == 1  # submitted after its due date (30 days after 2025)
    _axe_clean(province, "reports index, province")
    row.locator("a").first.click()
    province.wait_for_load_state("load")
    assert SUMMARY in province.locator("main").inner_text()

    # The ministry returns it for correction.
    ministry = open_page()
    log_in(ministry, live, "kemendagri")
    ministry.goto(f"{live}/reports/?period={period}&province=32")
    _axe_clean(ministry, "reports index, ministry")
    ministry.locator(f"#report-states a[href$='/reports/32.73/{period}/']").click()
    ministry.wait_for_load_state("load")
    _axe_clean(ministry, "submitted report, ministry")
    ministry.fill("textarea[name=comment]", COMMENT)
    ministry.locator("form:has(textarea[name=comment]) button[type=submit]").click()
    ministry.wait_for_load_state("load")
    report.refresh_from_db()
    assert report.status == Report.Status.RETURNED and report.return_comment == COMMENT
    version = report.versions.get()
    assert version.returned_by.username == "kemendagri" and version.narrative["sections"]["summary"] == SUMMARY

    # Back on Kota Bandung's side: the comment, and the narratives open again.
    page.reload()
    assert COMMENT in page.locator("main").inner_text()
    assert page.locator("textarea[name=section-summary]").input_value() == SUMMARY
