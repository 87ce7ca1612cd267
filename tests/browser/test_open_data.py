"""Open data in a browser: the API's documentation (Swagger UI from the app's static files) works under the
Content-Security-Policy, with no inline script and no request leaving 127.0.0.1, and lists the operations; the public
pages open without logging in, in Indonesian, and a visitor reaches a published agreement from the list. The
``open_page`` watch fails the test on any console error (a blocked script is one), external request or HTTP error."""

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_runs_under_the_csp(live, open_page):
    page = open_page()
    response = page.goto(f"{live}/api/v1/docs/")
    assert response.status == 200
    assert page.locator("script:not([src])").count() == 0
    page.locator(".opblock-summary-path", has_text="/api/v1/agreements/").first.wait_for()
    assert page.locator(".opblock-summary-path").count() >= 9
    screenshot(page, "api-docs")


def test_the_public_pages_need_no_login(live, demo_data, open_page):
    page = open_page()
    assert page.goto(f"{live}/public/").status == 200
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("script:not([src])").count() == 0
    page.locator("table.list-table tbody a").first.click()
    page.wait_for_load_state("load")
    assert "/public/agreements/" in page.url
    screenshot(page, "public-agreement")
