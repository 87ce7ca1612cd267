"""Did the cooperation change anything: Kota Bandung's officer, on a 360 px phone, records an indicator's actual
value for the last semester and the region's semester evaluation of an implementing PKS; both show on the agreement
page. axe on each page, nothing wider than the phone."""

import datetime

import pytest

from tests.browser.conftest import log_in, page_width, screenshot, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = datetime.timedelta(days=1)


@pytest.fixture
def implementing_pks(demo_data):
    """A PKS of Kota Bandung and Kabupaten Bandung under their KB, implementing for more than a year (so the last
    completed semester is due for evaluation), with one outcome indicator and no actual value yet."""
    from agreements.models import Indicator
    from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

    today = datetime.date.today()
    kb = AgreementFactory(number="KB/AIR/32.73/2024", title="Penyediaan Air Minum Lintas Batas",
                          signed_on=today - 700 * DAY, affairs=["1.03"])
    pks = PksFactory(number="PKS/AIR/32.73/2024", parent=kb, title="Jaringan Air Minum Bandung Timur",
                     signed_on=today - 600 * DAY, ends_on=today + 900 * DAY, affairs=["1.03"])
    MilestoneFactory(agreement=pks, title="Pemasangan pipa distribusi", started_on=today - 500 * DAY,
                     due_on=today + 60 * DAY, status="in_progress")
    indicator = Indicator.objects.create(
        agreement=pks, name="Rumah tangga terlayani air perpipaan", unit="rumah tangga", baseline_value=1200,
        baseline_on=today - 600 * DAY, target_value=3000, target_on=today + 700 * DAY)
    return pks, indicator


def _last_semester(today: datetime.date) -> tuple[datetime.date, datetime.date, int, int]:
    if today.month > 6:
        return datetime.date(today.year, 1, 1), datetime.date(today.year, 6, 30), today.year, 1
    return datetime.date(today.year - 1, 7, 1), datetime.date(today.year - 1, 12, 31), today.year - 1, 2


def _check(page, where: str) -> None:
    assert serious_axe_violations(page) == [], where
    assert page_width(page) <= 360, f"{where}: wider than the phone"


def test_officer_records_an_actual_value_and_a_semester_evaluation_on_a_phone(live, implementing_pks, open_page):
    from agreements.models import Evaluation, IndicatorActual

    pks, indicator = implementing_pks
    start, end, year, half = _last_semester(datetime.date.today())
    page = open_page(phone=True)
    log_in(page, live, "kota-bandung")
    page.goto(f"{live}/agreements/{pks.pk}/")
    _check(page, "agreement page")

    # The indicator's actual value for the last semester.
    page.locator(f"article.indicator[data-indicator='{indicator.pk}'] a.record-actual").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/indicators/{indicator.pk}/actuals/new/")
    _check(page, "actual value form")
    page.fill("#id_period_start", start.isoformat())
    page.fill("#id_period_end", end.isoformat())
    page.fill("#id_value", "1450,5")  # as an Indonesian keyboard writes it
    page.fill("#id_note", "Sambungan rumah baru di Kecamatan Cibiru.")
    page.locator("button[name=save-actual]").click()
    page.wait_for_load_state("load")
    actual = IndicatorActual.objects.get(indicator=indicator)
    assert (actual.period_start, actual.period_end, str(actual.value.normalize())) == (start, end, "1450.5")
    assert page.locator("table.actuals tr[data-actual]").count() == 1

    # The region's evaluation of the last completed semester.
    page.get_by_role("link", name="Isi evaluasi").first.click()
    page.wait_for_load_state("load")
    assert f"year={year}" in page.url and f"semester={half}" in page.url
    _check(page, "evaluation form")
    for code in ("objectives", "on_time", "partner", "indicators", "public_service"):
        page.locator(f"#id_score_{code}_3").check()  # 4 of 5
    page.fill("#id_note_partner", "Kabupaten Bandung menyediakan lahan reservoir tepat waktu.")
    page.locator("#id_recommendation_0").check()  # continue
    page.fill("#id_note", "Cakupan layanan naik; perlu tambahan debit pada musim kemarau.")
    page.get_by_role("button", name="Kirim evaluasi").click()
    page.wait_for_load_state("load")
    evaluation = Evaluation.objects.get(agreement=pks, region__code="32.73", year=year, semester=half)
    assert evaluation.recommendation == "continue"
    assert sorted(a.score for a in evaluation.answers.all()) == [4, 4, 4, 4, 4]
    assert page.url.split("#")[0].endswith(f"/agreements/{pks.pk}/")
    assert "Kabupaten Bandung menyediakan lahan reservoir tepat waktu." in page.content()
    _check(page, "agreement page after")
    screenshot(page, "officer-phone-indicator-and-evaluation")
