"""A kota officer records a KB with one partner, signs it, then a PKS under it with three milestones, counting the
interactions (a click or tap, a key that selects or submits, or filling one field); and the region search by
keyboard alone."""

import io

import pytest
from PIL import Image

from tests.browser.conftest import log_in, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Counter:
    """Each method is one interaction, as the goal counts them."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, selector):
        self.count += 1
        self.page.locator(selector).first.click()

    def fill(self, selector, value):
        self.count += 1
        self.page.fill(selector, value)

    def select(self, selector, value):
        self.count += 1
        self.page.select_option(selector, value)

    def files(self, selector, files):
        self.count += 1
        self.page.set_input_files(selector, files=files)

    def press(self, selector, key):
        self.count += 1
        self.page.press(selector, key)

    def submit(self, selector="form.form-card button.primary[type=submit]"):
        self.click(selector)
        self.page.wait_for_load_state("load")


def _scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (250, 250, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_kb_and_its_pks_with_three_milestones_in_under_25_interactions(live, demo_data, open_page):
    from agreements.models import Agreement

    page = open_page()
    log_in(page, live, "kota-bandung")
    act = Counter(page)
    act.click("a[href='/agreements/new/']")  # on "My agreements", where an officer lands
    page.wait_for_load_state("load")
    assert page.locator(".picker-chips .chip").filter(has_text="Kota Bandung").count() == 1, "own region from the start"
    act.fill("input[name=number]", "180/KB/JOURNEY/2026")
    act.fill("input[name=title]", "Pengelolaan Sampah Regional Bandung Raya")
    act.select("select[name=cooperation_kind]", "KSDD-SUKARELA")
    act.fill("#id_regions-search", "cimahi")
    act.press("#id_regions-search", "Enter")
    act.select("select[name=affairs]", [page.locator("select[name=affairs] option").nth(10).get_attribute("value")])
    act.submit()
    kb = Agreement.objects.get(number="180/KB/JOURNEY/2026")
    assert {r.name for r in kb.regions.all()} == {"Kota Bandung", "Kota Cimahi"}

    act.click(f"a[href='/agreements/{kb.pk}/sign/']")
    page.wait_for_load_state("load")
    act.fill("input[name=signed_on]", "2026-01-15")
    act.fill("input[name=ends_on]", "2031-01-14")  # a signed agreement in force has an end date
    act.files("input[name=document]", [{"name": "kb.png", "mimeType": "image/png", "buffer": _scan()}])
    act.submit()
    kb.refresh_from_db()
    assert kb.signed_on is not None

    act.click(f"a[href='/agreements/new/?parent={kb.pk}']")
    page.wait_for_load_state("load")
    act.fill("input[name=number]", "180/PKS/JOURNEY/2026")
    act.fill("input[name=title]", "Pelaksanaan pengelolaan sampah regional")
    for i, title in enumerate(["Survei lokasi TPA", "Penyusunan DED", "Rapat koordinasi teknis"]):
        act.fill(f"input[name=milestones-{i}-title]", title)
    screenshot(page, "journey-pks-form")
    assert serious_axe_violations(page) == []
    act.submit()
    pks = Agreement.objects.get(number="180/PKS/JOURNEY/2026")
    assert pks.parent == kb and pks.milestones.count() == 3
    assert set(pks.regions.all()) == set(kb.regions.all())
    print(f"KB → signing → PKS with three milestones: {act.count} interactions")
    assert act.count < 25


def test_the_region_search_works_by_keyboard_alone(live, demo_data, open_page):
    page = open_page()
    log_in(page, live, "kota-bandung")
    page.goto(f"{live}/agreements/new/")
    search = page.get_by_role("combobox", name="Cari daerah")
    search.focus()
    page.keyboard.type("bogor")
    options = page.get_by_role("option")
    assert options.count() >= 2  # Kabupaten and Kota Bogor
    page.keyboard.press("ArrowDown")
    chosen = page.locator("[role=option][aria-selected=true] strong").inner_text()
    page.keyboard.press("Enter")
    chip = page.locator(".picker-chips .chip").filter(has_text=chosen)
    assert chip.count() == 1
    assert page.locator("select[name=regions] option:checked").filter(has_text=chosen).count() == 1
    page.get_by_role("button", name=f"Hapus {chosen}").click()
    assert page.locator(".picker-chips .chip").filter(has_text=chosen).count() == 0
    assert serious_axe_violations(page) == []
