"""Every main page, on a laptop and on a 360 px phone: axe-core finds no serious or critical violation, the page
does not scroll sideways on the phone, and a screenshot is kept. Keyboard: a skip link and a visible focus."""

import pytest

from tests.browser.conftest import log_in, page_width, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 362  # 360 px plus a rounding pixel


def _main_pages() -> dict[str, str]:
    """The main pages of the app, on the demo data: name → path."""
    from agreements.models import Milestone

    milestone = (Milestone.objects.filter(agreement__parties__region__code="32.73", updates__isnull=False)
                 .order_by("pk").first())
    agreement = milestone.agreement
    return {
        "dashboard": "/",
        "agreement-list": "/agreements/",
        "agreement": agreement.get_absolute_url(),
        "milestone-update": f"/milestones/{milestone.pk}/update/",
        "region": "/regions/32.73/",
        "affairs-map": "/affairs/",
        "needs": "/needs/?province=32&affair=2.11",
        "import": "/import/",
    }


@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_main_pages_are_accessible_and_fit_the_screen(live, demo_data, open_page, phone):
    page = open_page(phone=phone)
    suffix = "-phone" if phone else ""
    found = {}

    page.goto(f"{live}/accounts/login/")
    found["login"] = serious_axe_violations(page)
    if phone:
        found["login width"] = page_width(page)
    screenshot(page, f"login{suffix}")
    log_in(page, live, "kemendagri")

    for name, path in _main_pages().items():
        response = page.goto(live + path)
        assert response.status == 200, f"{path}: {response.status}"
        assert page.locator("script:not([src])").count() == 0, f"{path} has an inline script"
        if name == "needs":  # the partner suggestions and matching needs, folded by default, are checked open
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        found[name] = serious_axe_violations(page)
        if phone:
            found[f"{name} width"] = page_width(page)
        screenshot(page, f"{name}{suffix}")

    for key, value in found.items():
        if key.endswith(" width"):
            assert value <= PHONE_WIDTH, f"{key}: {value}px, the page scrolls sideways on a 360 px phone"
        else:
            assert value == [], f"{key}: {value}"


def test_keyboard_skip_link_and_visible_focus(live, demo_data, open_page):
    page = open_page()
    log_in(page, live, "kemendagri")

    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const el = document.activeElement, r = el.getBoundingClientRect(),
        s = getComputedStyle(el);
        return {cls: el.className, href: el.getAttribute('href'), left: r.left, top: r.top, width: r.width,
                outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)}; }""")
    assert focused["cls"] == "skip-link" and focused["href"] == "#main", "the first Tab reaches the skip link"
    assert focused["left"] >= 0 and focused["top"] >= 0 and focused["width"] > 0, "the focused skip link is on screen"
    assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, "focus is visible (a :focus-visible outline)"

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main", "the skip link moves the focus to the content"

    has_focus_visible_rule = page.evaluate(r"""() => [...document.styleSheets].some(sheet => {
        try { return [...sheet.cssRules].some(r => (r.selectorText || '').includes(':focus-visible')
                                                   && /outline:\s*\d/.test(r.cssText)); }
        catch (e) { return false; } })""")
    assert has_focus_visible_rule, "a :focus-visible rule with an outline exists"

    # Keyboard-only: tabbing on from the content reaches a link of the dashboard, with the same visible outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert outline != "none"
