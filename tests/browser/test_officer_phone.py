"""A kabupaten/kota officer on a 360 × 740 phone: log in, update a milestone with evidence, see it on the timeline;
then switch the language and see the same page in English."""

import io
import re

import pytest
from PIL import Image

from tests.browser.conftest import log_in, page_width, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 362  # 360 px plus a rounding pixel


def _evidence_png() -> bytes:
    """A small real PNG (the upload check reads the file's magic bytes, not its name)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (11, 79, 108)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_officer_updates_a_milestone_with_evidence_on_a_phone(live, demo_data, open_page):
    page = open_page(phone=True)
    log_in(page, live, "kota-bandung")
    assert page.url == f"{live}/my/", "officers land on their own agreements"
    assert page_width(page) <= PHONE_WIDTH

    update_link = page.locator("a[href^='/milestones/'][href$='/update/']").first
    update_link.click()
    page.wait_for_load_state("load")
    assert "/milestones/" in page.url and page.url.endswith("/update/")
    assert page_width(page) <= PHONE_WIDTH
    assert serious_axe_violations(page) == [], "the form is accessible on the phone too"
    screenshot(page, "officer-phone-milestone-update")

    page.fill("input[name=completed_on]", "")
    page.select_option("select[name=status]", "met")  # choosing "met" fills today's date and 100 %
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.input_value("input[name=completed_on]"))
    assert page.input_value("input[name=progress]") == "100"
    page.select_option("select[name=status]", "in_progress")
    page.fill("input[name=progress]", "60")
    page.fill("input[name=started_on]", "2026-01-05")
    page.fill("input[name=completed_on]", "")
    page.fill("textarea[name=note]", "Rapat koordinasi teknis selesai; foto kegiatan terlampir.")
    page.set_input_files("input[name=evidence]", files=[
        {"name": "bukti-rapat-koordinasi.png", "mimeType": "image/png", "buffer": _evidence_png()},
    ])
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_load_state("load")

    assert "/agreements/" in page.url, f"after saving, the agreement page: {page.url}"
    assert page.locator(".messages").inner_text().strip() != ""
    timeline = page.locator("ol.timeline")
    newest = timeline.locator("li.timeline-item").filter(has_text="bukti-rapat-koordinasi.png")
    assert newest.count() >= 1, "the evidence upload is on the timeline"
    assert timeline.filter(has_text="Rapat koordinasi teknis selesai").count() == 1, "the note is on the timeline"
    assert page_width(page) <= PHONE_WIDTH
    screenshot(page, "officer-phone-agreement")

    from agreements.models import Document, MilestoneUpdate

    update = MilestoneUpdate.objects.order_by("-pk").first()
    assert (update.status_after, update.progress) == ("in_progress", 60)
    assert Document.objects.filter(milestone=update.milestone).exists()


def test_switching_the_language_shows_the_same_page_in_english(live, demo_data, open_page):
    page = open_page(phone=True)
    log_in(page, live, "kota-bandung")
    page.locator("main table a[href^='/agreements/']").first.click()
    page.wait_for_load_state("load")
    path = page.url
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("#timeline-h").inner_text() == "Riwayat", "Bahasa Indonesia by default"

    page.locator(".lang-form button[value=en]").click()
    page.wait_for_load_state("load")
    assert page.url.split("#")[0] == path.split("#")[0], "the same page, now in English"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#timeline-h").inner_text() == "Timeline"
    assert page.locator(".site-nav").get_by_role("link", name="My agreements").count() == 1
    assert page_width(page) <= PHONE_WIDTH
    screenshot(page, "officer-phone-agreement-english")

    page.goto(f"{live}/my/")
    assert page.locator("html").get_attribute("lang") == "en", "the choice is remembered"
