"""Ministry staff import a file in a laptop browser: My imports shows past imports and links a finished one to
its agreements in the register; a new file is checked, previewed, confirmed, and its page shows the result."""

import pytest

from tests.browser.conftest import log_in, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "number;document_type;title;cooperation_kind;region_codes;affair_codes;signed_on\r\n"
    "KB/IMPOR/2026;KB;Pengelolaan Sampah Regional;KSDD-SUKARELA;32.73,32.04;2.11;2026-01-15\r\n"
)


def test_an_import_from_my_imports_to_the_register(live, demo_data, open_page):
    from agreements.models import Agreement, ImportJob

    page = open_page()
    log_in(page, live, "kemendagri")
    page.goto(f"{live}/import/jobs/")
    assert page.locator("table tbody tr").count() == 2, "the demo data has two past imports"
    assert serious_axe_violations(page) == []
    screenshot(page, "my-imports")

    done = ImportJob.objects.get(state="done")
    page.locator(f"a[href='/import/jobs/{done.pk}/']").click()
    page.wait_for_load_state("load")
    page.locator(f"a[href*='imported={done.pk}']").click()
    page.wait_for_load_state("load")
    rows = page.locator("table.agreement-list tbody tr")
    assert rows.count() == done.agreements.count() > 0, "the link lists exactly the agreements of that import"

    page.goto(f"{live}/import/")
    page.set_input_files("input[name=agreements_file]", files=[
        {"name": "kerja-sama.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    ])
    page.locator("form.form-card button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("button[value=confirm]").is_visible(), "the preview offers to confirm"
    assert "KB/IMPOR/2026" in page.content()
    assert serious_axe_violations(page) == []
    page.locator("button[value=confirm]").click()
    page.wait_for_load_state("load")
    assert "/import/jobs/" in page.url
    assert page.locator("a[href*='imported=']").is_visible(), "the finished import links to its agreements"
    screenshot(page, "import-done")
    assert Agreement.objects.filter(number="KB/IMPOR/2026").exists()
