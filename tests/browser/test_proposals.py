"""The proposal accepted by the partner: Kota Bandung's officer proposes cooperation from a partner suggestion under
its need, Kabupaten Bogor's officer finds it under "Cooperation proposals" on My agreements and accepts it; the draft
KB has both regions as parties and the affair, and both officers open its edit page. axe on the new pages at laptop
width and on a 360 px phone."""

import pytest

from tests.browser.conftest import log_in, page_width, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "Kota Bandung mengajak Kabupaten Bogor membangun pusat data bersama dan berbagi petugas persandian."


@pytest.fixture
def need_and_offer(demo_data):
    """Kota Bandung needs help on communication and informatics (2.16); Kabupaten Bogor offers it, so it is the
    first partner suggested under Bandung's need."""
    from agreements.models import GovernmentAffair, NeedOffer, Region

    affair = GovernmentAffair.objects.get(code="2.16")
    need = NeedOffer.objects.create(region=Region.objects.get(code="32.73"), affair=affair, kind="need",
                                    priority="high", description="Belum memiliki pusat data yang andal.")
    NeedOffer.objects.create(region=Region.objects.get(code="32.01"), affair=affair, kind="offer",
                             description="Pusat data daerah dengan kapasitas lebih.")
    return need


def _axe_clean(page, where: str) -> None:
    assert serious_axe_violations(page) == [], where


def test_the_proposal_accepted_by_the_partner(live, need_and_offer, open_page):
    from agreements.models import Agreement, Proposal

    # Kota Bandung's officer proposes from the suggestion under its need.
    page = open_page()
    log_in(page, live, "kota-bandung")
    page.goto(f"{live}/needs/?region=32.73&affair=2.16")
    page.locator("details.suggestions summary").first.click()
    link = page.locator("a.propose-link[href*='partner=32.01']").first
    link.click()
    page.wait_for_load_state("load")
    assert "/proposals/new/" in page.url
    assert page.locator("select[name=partner_region] option:checked").get_attribute("value") == str(
        need_and_offer.region.__class__.objects.get(code="32.01").pk)
    assert page.locator("select[name=affair] option:checked").inner_text().startswith("2.16")
    _axe_clean(page, "proposal form, laptop")
    page.fill("textarea[name=message]", MESSAGE)
    page.locator("form.form-card button.primary[type=submit]").click()
    page.wait_for_load_state("load")
    proposal = Proposal.objects.get(message=MESSAGE)
    assert (proposal.proposing_region.code, proposal.partner_region.code, proposal.affair.code) == (
        "32.73", "32.01", "2.16")
    assert proposal.need_offer == need_and_offer and proposal.status == Proposal.Status.PENDING
    assert page.url.endswith(f"/proposals/{proposal.pk}/")
    _axe_clean(page, "proposal page, laptop")

    # Kabupaten Bogor's officer, on a phone, finds it under "Cooperation proposals" on My agreements and accepts.
    phone = open_page(phone=True)
    log_in(phone, live, "kab-bogor")
    assert phone.url.endswith("/my/")
    card = phone.locator(f"#proposals [data-proposal='{proposal.pk}']")
    assert MESSAGE in card.inner_text()
    assert page_width(phone) <= 360
    screenshot(phone, "proposal-to-answer-phone")
    _axe_clean(phone, "My agreements with a proposal to answer, phone")
    card.locator("summary").click()  # "Decline…" opens the reason: axe with the form open too
    _axe_clean(phone, "the decline form open, phone")
    card.locator("button[data-action=accept]").click()
    phone.wait_for_load_state("load")

    proposal.refresh_from_db()
    kb = proposal.agreement
    assert proposal.status == Proposal.Status.ACCEPTED and kb is not None
    assert phone.url.endswith(f"/agreements/{kb.pk}/")
    assert kb.document_type == Agreement.DocumentType.KB and kb.signed_on is None
    assert {r.code for r in kb.regions.all()} == {"32.73", "32.01"}
    assert [a.code for a in kb.affairs.all()] == ["2.16"]
    assert kb.number in phone.locator("main").inner_text()

    # Both regions edit the draft as parties.
    phone.goto(f"{live}/agreements/{kb.pk}/edit/")
    assert phone.locator("input[name=number]").input_value() == kb.number
    page.goto(f"{live}/agreements/{kb.pk}/edit/")
    assert page.locator("input[name=number]").input_value() == kb.number

    # The answer on the proposal's page and in the region's list, at both widths.
    for view, where in ((page, "laptop"), (phone, "phone")):
        view.goto(f"{live}/proposals/{proposal.pk}/")
        assert view.locator(f"a[href='/agreements/{kb.pk}/']").count() == 1
        _axe_clean(view, f"the accepted proposal, {where}")
        view.goto(f"{live}/proposals/?region=32.01")
        assert view.locator(f"#proposal-results a[href='/proposals/{proposal.pk}/']").count() == 1
        _axe_clean(view, f"the region's proposals, {where}")
    phone.goto(f"{live}/proposals/new/?partner=32.73&affair=2.16")
    assert page_width(phone) <= 360
    _axe_clean(phone, "proposal form, phone")


def test_the_dashboard_and_region_page_show_proposals_waiting(live, demo_data, open_page):
    page = open_page()
    log_in(page, live, "kemendagri")
    page.goto(f"{live}/")
    figure = page.locator("[data-figure=proposals-waiting] a")
    assert int(figure.inner_text()) >= 1
    figure.click()
    page.wait_for_load_state("load")
    assert page.locator("#proposal-results table.proposals tbody tr").count() >= 1
    _axe_clean(page, "proposals waiting, laptop")
    page.goto(f"{live}/regions/32.73/")
    page.locator("#region-proposals-h").scroll_into_view_if_needed()
    page.wait_for_selector(".region-proposals table.proposals")  # loaded by htmx from the list
    _axe_clean(page, "region page with its proposals, laptop")
