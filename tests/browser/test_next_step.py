"""Where the agreement stopped and what comes next: Kota Bandung's officer opens a KB whose next step is the DPRD
approval, sees in the ``next-step`` panel that Kota Bandung has not done it yet, records its DPRD approval on the
party form, then records an obstacle; the panel moves on to drafting the PKS, the party grid shows the approval
and the open obstacle is on the page. On a 360 px phone, axe on each page."""

import datetime

import pytest

from tests.browser.conftest import log_in, page_width, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "KB/118/DPRD/2026"
OBSTACLE = "Anggaran pendamping untuk PKS belum masuk APBD perubahan."


@pytest.fixture
def kb_waiting_for_dprd(demo_data):
    """A KB Kota Bandung and Kabupaten Bandung signed 40 days ago; both DPRDs must approve, Kabupaten Bandung's has,
    Kota Bandung's has not: the first step not done is the DPRD approval."""
    from agreements import services, steps
    from agreements.models import AgreementParty, AgreementStep, User
    from tests.factories import AgreementFactory

    today = datetime.date.today()
    kb = AgreementFactory(number=NUMBER, title="Pengelolaan Sampah Regional Bandung Raya",
                          signed_on=today - datetime.timedelta(days=40), affairs=["2.11"])
    steps.create_steps(kb)
    admin = User.objects.get(username="admin")
    for code, approved in (("32.04", today - datetime.timedelta(days=50)), ("32.73", None)):
        party = AgreementParty.objects.select_related("agreement").get(agreement=kb, region__code=code)
        kb.refresh_from_db()
        services.party_record(party=party, user=admin, expected_version=kb.version, signed_on=kb.signed_on,
                              dprd_required=True, dprd_approved_on=approved,
                              dprd_decision_number="7/KEP/DPRD-32.04/2026" if approved else "")
    # Everything before the DPRD approval is done (the preparation and offer, recorded by hand in real life).
    dprd = AgreementStep.objects.get(agreement=kb, code__endswith=".DPRD")
    AgreementStep.objects.filter(agreement=kb, order__lt=dprd.order, status="not_started").update(
        status="done", done_on=today - datetime.timedelta(days=60))
    kb.refresh_from_db()
    assert steps.next_step(kb).step.pk == dprd.pk
    return kb


def _axe_clean(page, where: str) -> None:
    assert serious_axe_violations(page) == [], where
    assert page_width(page) <= 360, f"{where}: wider than the phone"


def test_officer_records_the_dprd_approval_and_an_obstacle_and_the_next_step_moves_on(
        live, kb_waiting_for_dprd, open_page):
    from agreements.models import AgreementParty, Obstacle

    kb = kb_waiting_for_dprd
    page = open_page(phone=True)
    log_in(page, live, "kota-bandung")
    page.goto(f"{live}/agreements/{kb.pk}/")
    panel = page.locator("#next-step")
    assert "persetujuan DPRD" in panel.locator(".next-step-title").inner_text()
    assert "Kota Bandung" in panel.locator(".next-step-who").inner_text()
    assert "Kabupaten Bandung" not in panel.locator(".next-step-who").inner_text()
    _axe_clean(page, "agreement page before")

    # The party form of Kota Bandung: its DPRD approval, with the decision number.
    page.goto(f"{live}/agreements/{kb.pk}/parties/32.73/")
    assert page.locator("input[name=dprd_required]").is_checked()
    _axe_clean(page, "party form")
    approved = datetime.date.today() - datetime.timedelta(days=3)
    page.fill("input[name=dprd_approved_on]", approved.isoformat())
    page.fill("input[name=dprd_decision_number]", "15/KEP/DPRD-32.73/2026")
    page.get_by_role("button", name="Simpan").click()
    page.wait_for_load_state("load")
    party = AgreementParty.objects.get(agreement=kb, region__code="32.73")
    assert (party.dprd_approved_on, party.dprd_decision_number) == (approved, "15/KEP/DPRD-32.73/2026")
    kb.refresh_from_db()
    assert kb.dprd_approved_on == approved  # the last approval required is the agreement's

    # An obstacle: the budget for the PKS.
    page.goto(f"{live}/agreements/{kb.pk}/")
    page.get_by_role("link", name="Catat kendala").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/agreements/{kb.pk}/obstacles/new/")
    _axe_clean(page, "obstacle form")
    page.locator("fieldset", has_text="Jenis kendala").get_by_label("Anggaran", exact=True).check()
    page.get_by_label("Apa kendalanya?").fill(OBSTACLE)
    page.get_by_label("Tanggal kendala muncul").fill(datetime.date.today().isoformat())
    page.get_by_role("button", name="Catat", exact=True).click()
    page.wait_for_load_state("load")
    obstacle = Obstacle.objects.get(agreement=kb)
    assert (obstacle.category, obstacle.description, obstacle.resolved_on) == ("budget", OBSTACLE, None)

    # Back on the agreement: the panel has moved on to drafting the PKS; the approval and the obstacle show.
    assert page.url.split("#")[0].endswith(f"/agreements/{kb.pk}/")
    title = page.locator("#next-step .next-step-title").inner_text()
    assert "persetujuan DPRD" not in title and "PKS" in title, title
    assert OBSTACLE in page.content()
    assert "15/KEP/DPRD-32.73/2026" in page.content()
    _axe_clean(page, "agreement page after")
    screenshot(page, "officer-phone-next-step-after-dprd-and-obstacle")
