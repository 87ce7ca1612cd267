"""Results of a cooperation: outcome indicators with their actual values, financing lines, their totals, the pages,
the register's filters and sort, the readable workbook. The agreement under test is a PKS between Kota Bandung (32.73)
and Kabupaten Bandung (32.04), both in Jawa Barat (32)."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.urls import reverse

from agreements import results, stalls
from agreements.models import Document, Financing, FundingSource, Indicator, IndicatorActual
from tests.factories import AgreementFactory, NeedOfferFactory, PksFactory, UserFactory, region

PDF = b"%PDF-1.4\n%%EOF\n"
BASE = datetime.date(2024, 1, 1)
TARGET = datetime.date(2026, 12, 31)


def pdf(name="bukti.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def pks(db):
    return PksFactory(number="PKS/AIR/2024", regions=["32.73", "32.04"], affairs=["1.03"])


@pytest.fixture
def officer(db):
    return UserFactory(username="kota-bandung", role="local", region=region("32.73"), language="en")


@pytest.fixture
def partner(db):
    return UserFactory(username="kab-bandung", role="local", region=region("32.04"), language="en")


@pytest.fixture
def province(db):
    return UserFactory(username="jabar", role="province", region=region("32"), language="en")


@pytest.fixture
def outsider(db):
    return UserFactory(username="kab-bogor", role="local", region=region("32.01"), language="en")


def make_indicator(agreement, user, **overrides):
    values = {"name": "Rumah tangga terlayani air perpipaan", "unit": "rumah tangga",
              "baseline_value": Decimal("1200"), "baseline_on": BASE, "target_value": Decimal("2000"),
              "target_on": TARGET}
    values.update(overrides)
    return results.indicator_save(user=user, agreement=agreement, **values)


def record(indicator, user, start, end, value, **kwargs):
    return results.actual_record(user=user, indicator=indicator, period_start=start, period_end=end,
                                 value=Decimal(value), **kwargs)


def line(agreement, user, *, region_code="32.73", year=2025, source=FundingSource.APBD, planned=100, realised=60,
         note=""):
    return results.financing_save(
        user=user, agreement=agreement, region=region(region_code) if region_code else None, fiscal_year=year,
        source=source, planned_idr=planned, realised_idr=realised, note=note,
    )


# --- indicators: who, on what, with which values ---------------------------------------------------------------


def test_the_parties_officers_and_the_ministry_add_indicators_on_a_pks(pks, officer, partner, staff):
    first = make_indicator(pks, officer)
    make_indicator(pks, partner, name="Sampah terangkut", unit="ton per hari")
    make_indicator(pks, staff, name="Titik sambungan baru", unit="titik")
    assert pks.indicators.count() == 3
    assert first.created_by == officer and first.history.first().history_user == officer


def test_a_kb_has_no_indicators(db, officer):
    kb = AgreementFactory(regions=["32.73", "32.04"])
    with pytest.raises(ValidationError) as exc:
        make_indicator(kb, officer)
    assert "Only a PKS" in str(exc.value)
    assert not Indicator.objects.exists()


def test_a_province_reading_a_kabupaten_agreement_and_an_outsider_may_not_add_indicators(pks, province, outsider):
    for user in (province, outsider):
        with pytest.raises(PermissionDenied):
            make_indicator(pks, user)
    assert not Indicator.objects.exists()


def test_the_target_date_is_not_before_the_baseline_date(pks, officer):
    with pytest.raises(ValidationError) as exc:
        make_indicator(pks, officer, target_on=BASE - datetime.timedelta(days=1))
    assert "target date cannot be before the baseline date" in str(exc.value)


def test_the_need_answered_is_a_need_of_a_party(pks, officer):
    own = NeedOfferFactory(region="32.73", affair="1.03")
    indicator = make_indicator(pks, officer, need=own)
    assert indicator.need == own
    foreign = NeedOfferFactory(region="32.01", affair="1.03")
    offer = NeedOfferFactory(region="32.04", affair="1.03", kind="offer")
    for need in (foreign, offer):
        with pytest.raises(ValidationError) as exc:
            make_indicator(pks, officer, name=f"Lain {need.pk}", need=need)
        assert "need" in exc.value.message_dict


def test_an_indicator_is_edited_by_a_party_and_its_history_kept(pks, officer, partner):
    indicator = make_indicator(pks, officer)
    results.indicator_save(user=partner, agreement=pks, indicator=indicator, expected_version=1, name=indicator.name,
                           unit="KK", baseline_value=Decimal("1200"), baseline_on=BASE,
                           target_value=Decimal("2500"), target_on=TARGET)
    indicator.refresh_from_db()
    assert (indicator.unit, indicator.target_value, indicator.version) == ("KK", Decimal("2500"), 2)
    assert indicator.history.count() == 2 and indicator.history.first().history_user == partner


def test_two_officers_editing_one_indicator_the_second_save_is_refused_and_shows_the_first(client, pks, officer,
                                                                                          partner):
    from agreements.services import StaleVersionError

    indicator = make_indicator(pks, officer)
    url = reverse("indicator-edit", args=[indicator.pk])
    client.force_login(partner)
    form = client.get(url).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "need": ""}
    assert data["version"] == 1
    # Kota Bandung's officer saves first.
    results.indicator_save(user=officer, agreement=pks, indicator=indicator, expected_version=1, name="Sambungan",
                           unit="titik", baseline_value=Decimal("10"), baseline_on=BASE, target_value=Decimal("90"),
                           target_on=TARGET)
    response = client.post(url, {**data, "unit": "KK", "target_value": "2500"})
    assert response.status_code == 200
    assert "Someone else saved this record" in response.content.decode()
    assert response.context["form"].data["version"] == 2  # a deliberate resubmit may then replace it
    indicator.refresh_from_db()
    assert (indicator.unit, indicator.version) == ("titik", 2)
    with pytest.raises(StaleVersionError):
        results.indicator_save(user=partner, agreement=pks, indicator=indicator, name="x", unit="x",
                               baseline_value=Decimal("1"), baseline_on=BASE, target_value=Decimal("2"),
                               target_on=TARGET)  # an edit without the version it started from is refused too


# --- actual values --------------------------------------------------------------------------------------------


def test_the_parties_officers_and_the_ministry_record_actuals_a_province_reads_only(pks, officer, partner, staff,
                                                                                       province, outsider):
    indicator = make_indicator(pks, staff)
    record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1350")
    record(indicator, partner, datetime.date(2025, 1, 1), datetime.date(2025, 6, 30), "1500")
    record(indicator, staff, datetime.date(2025, 7, 1), datetime.date(2025, 12, 31), "1620,5".replace(",", "."))
    for user in (province, outsider):
        with pytest.raises(PermissionDenied):
            record(indicator, user, datetime.date(2026, 1, 1), datetime.date(2026, 6, 30), "1700")
    assert list(indicator.actuals.order_by("period_end").values_list("value", "recorded_by__username")) == [
        (Decimal("1350"), "kota-bandung"), (Decimal("1500"), "kab-bandung"), (Decimal("1620.5"), "kemendagri")]


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    (datetime.date(2025, 6, 30), datetime.date(2025, 1, 1), "period_end", "cannot end before it starts"),
    (datetime.date(2023, 1, 1), datetime.date(2023, 12, 31), "period_end", "before the indicator's baseline date"),
    (datetime.date(1800, 1, 1), datetime.date(2024, 12, 31), "period_start", "from 1 January 1900"),
    (None, datetime.date(2024, 12, 31), "period_start", "Enter the date"),
])
def test_odd_periods_are_refused_on_their_field(pks, officer, start, end, field, message):
    indicator = make_indicator(pks, officer)
    with pytest.raises(ValidationError) as exc:
        record(indicator, officer, start, end, "1300")
    assert message in " ".join(exc.value.message_dict[field])
    assert not IndicatorActual.objects.exists()


def test_a_period_that_has_not_begun_has_no_actual(pks, officer):
    indicator = make_indicator(pks, officer)
    tomorrow = stalls.today() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        record(indicator, officer, tomorrow, tomorrow + datetime.timedelta(days=30), "1300")
    assert "period_start" in exc.value.message_dict


def test_one_value_per_period(pks, officer, partner):
    indicator = make_indicator(pks, officer)
    record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1350")
    with pytest.raises(ValidationError) as exc:
        record(indicator, partner, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1400")
    assert "already has a value for this period" in str(exc.value)
    assert indicator.actuals.get().value == Decimal("1350")


def test_evidence_is_checked_stored_as_the_agreements_evidence_and_served_to_readers_only(
        client, pks, officer, province, outsider, media_root):
    indicator = make_indicator(pks, officer)
    actual = record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1350",
                    evidence=pdf())
    document = actual.evidence
    assert (document.agreement, document.doc_type, document.original_name) == (pks, Document.Type.EVIDENCE,
                                                                               "bukti.pdf")
    url = reverse("document-download", args=[document.pk])
    client.force_login(province)  # reads the agreement: reads its evidence
    assert client.get(url).status_code == 200
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_file_that_is_not_a_pdf_or_image_is_an_error_on_the_evidence_and_nothing_is_stored(pks, officer,
                                                                                              media_root):
    indicator = make_indicator(pks, officer)
    fake = SimpleUploadedFile("bukti.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1350", evidence=fake)
    assert "evidence" in exc.value.message_dict
    assert not IndicatorActual.objects.exists() and not Document.objects.exists()
    assert not list((media_root).rglob("*.*"))


def test_a_refused_actual_leaves_no_evidence_file_behind(pks, officer, media_root):
    indicator = make_indicator(pks, officer)
    record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1350")
    with pytest.raises(ValidationError):
        record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1400", evidence=pdf())
    assert not Document.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


# --- progress and the chart -----------------------------------------------------------------------------------


def test_progress_to_target_counts_from_the_baseline_also_for_a_decrease():
    assert results.progress_share(Decimal("1200"), Decimal("2000"), Decimal("1600")) == 0.5
    assert results.progress_share(Decimal("100"), Decimal("40"), Decimal("70")) == 0.5  # waste to landfill down
    assert results.progress_share(Decimal("5"), Decimal("5"), Decimal("7")) is None
    assert results.progress_share(Decimal("1"), Decimal("2"), None) is None


def test_the_agreement_page_shows_indicators_with_a_chart_that_says_its_numbers(client, pks, officer, province):
    indicator = make_indicator(pks, officer)
    record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1600")
    client.force_login(province)  # reads it, may not write it
    response = client.get(pks.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="indicators-h"' in html and "Rumah tangga terlayani air perpipaan" in html
    chart = html[html.index('<svg viewBox="0 0 320'):]
    chart = chart[:chart.index("</svg>")]
    assert 'role="img"' in chart and "<title>" in chart and "<desc>" in chart
    assert "1,200" in chart and "2,000" in chart and "1,600" in chart  # baseline, target, latest, as words too
    assert "50%" in html  # progress to target
    assert reverse("actual-create", args=[indicator.pk]) not in html  # a reader gets no "Record" button
    client.force_login(officer)
    assert reverse("actual-create", args=[indicator.pk]) in client.get(pks.get_absolute_url()).content.decode()


def test_a_kb_page_has_no_indicator_section_but_has_financing(client, officer):
    kb = AgreementFactory(regions=["32.73", "32.04"])
    client.force_login(officer)
    html = client.get(kb.get_absolute_url()).content.decode()
    assert 'id="indicators-h"' not in html and 'id="financing-h"' in html


# --- the "record an actual value" page -------------------------------------------------------------------------


def test_an_officer_records_an_actual_value_with_evidence_through_the_form(client, pks, officer, media_root):
    indicator = make_indicator(pks, officer)
    client.force_login(officer)
    url = reverse("actual-create", args=[indicator.pk])
    page = client.get(url)
    html = page.content.decode()
    for name in ("period_start", "period_end", "value", "note", "evidence", "form_token"):
        assert f'name="{name}"' in html
    assert 'inputmode="decimal"' in html and 'enctype="multipart/form-data"' in html
    response = client.post(url, {
        "period_start": "2025-01-01", "period_end": "2025-06-30", "value": "1450.5", "note": "Data PDAM",
        "evidence": pdf("laporan.pdf"), "form_token": page.context["form_token"],
    })
    assert response.status_code == 302 and response["Location"].endswith("#indicators-h")
    actual = indicator.actuals.get()
    assert (actual.value, actual.note, actual.evidence.original_name) == (Decimal("1450.5"), "Data PDAM", "laporan.pdf")


def test_the_form_reads_a_decimal_comma_in_indonesian(client, pks, officer, settings):
    indicator = make_indicator(pks, officer)
    client.force_login(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"  # reads the pages in Indonesian
    response = client.post(reverse("actual-create", args=[indicator.pk]), {
        "period_start": "2025-01-01", "period_end": "2025-06-30", "value": "1450,25"})
    assert response.status_code == 302
    assert indicator.actuals.get().value == Decimal("1450.25")


@pytest.mark.parametrize("data", [
    {"period_start": "0001-01-01", "period_end": "9999-12-31", "value": "1"},
    {"period_start": "2025-01-01", "period_end": "2025-06-30", "value": "9" * 40},
    {"period_start": "2025-01-01", "period_end": "2025-06-30", "value": "1e400"},
    {"period_start": "2025-01-01", "period_end": "2025-06-30", "value": "NaN"},
    {"period_start": "2025-13-45", "period_end": "x", "value": "abc"},
    {"period_start": "2025-01-01", "period_end": "2025-06-30", "value": "1", "note": "x" * 5000},
])
def test_hostile_values_are_form_errors_never_500(client, pks, officer, data):
    indicator = make_indicator(pks, officer)
    client.force_login(officer)
    response = client.post(reverse("actual-create", args=[indicator.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not IndicatorActual.objects.exists()


def test_a_non_pdf_evidence_through_the_form_is_an_error_on_the_field(client, pks, officer, media_root):
    indicator = make_indicator(pks, officer)
    client.force_login(officer)
    response = client.post(reverse("actual-create", args=[indicator.pk]), {
        "period_start": "2025-01-01", "period_end": "2025-06-30", "value": "1",
        "evidence": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")})
    assert response.status_code == 200 and "evidence" in response.context["form"].errors
    assert "choose it again" in response.content.decode()
    assert not IndicatorActual.objects.exists() and not Document.objects.exists()


def test_the_indicator_form_refuses_a_target_before_the_baseline_and_a_kb(client, pks, officer):
    client.force_login(officer)
    response = client.post(reverse("indicator-create", args=[pks.pk]), {
        "name": "A", "unit": "u", "baseline_value": "1", "baseline_on": "2025-01-01", "target_value": "2",
        "target_on": "2024-01-01"})
    assert response.status_code == 200 and "target_on" in response.context["form"].errors
    kb = AgreementFactory(regions=["32.73", "32.04"])
    response = client.get(reverse("indicator-create", args=[kb.pk]))
    assert response.status_code == 302 and response["Location"] == kb.get_absolute_url()


# --- financing: who records which line -----------------------------------------------------------------------


def test_an_officer_records_its_own_regions_lines_not_the_partners(pks, officer):
    own = line(pks, officer)
    assert (own.region.code, own.updated_by) == ("32.73", officer)
    with pytest.raises(ValidationError) as exc:
        line(pks, officer, region_code="32.04")
    assert "region" in exc.value.message_dict
    assert Financing.objects.count() == 1


def test_a_financing_line_changed_meanwhile_is_not_overwritten(client, pks, officer, staff):
    own = line(pks, officer)
    url = reverse("financing-edit", args=[own.pk])
    client.force_login(officer)
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    results.financing_save(user=staff, agreement=pks, line=own, expected_version=1, region=region("32.73"),
                           fiscal_year=2025, source="apbd", planned_idr=100, realised_idr=95)
    response = client.post(url, {**data, "realised_idr": "70"})
    assert "Someone else saved this record" in response.content.decode()
    own.refresh_from_db()
    assert (own.realised_idr, own.version, own.updated_by) == (95, 2, staff)
    response = client.post(url, {**data, "realised_idr": "70", "version": "2"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.realised_idr, own.version) == (70, 3)


def test_an_officer_may_not_change_or_delete_the_partners_line(pks, officer, partner):
    theirs = line(pks, partner, region_code="32.04")
    with pytest.raises(PermissionDenied):
        results.financing_save(user=officer, agreement=pks, line=theirs, region=region("32.73"), fiscal_year=2025,
                               source="apbd", planned_idr=1, realised_idr=1)
    with pytest.raises(PermissionDenied):
        results.financing_delete(user=officer, line=theirs)
    assert Financing.objects.get().region.code == "32.04"


def test_the_ministry_records_any_line_and_the_parties_the_third_parties_lines(db, officer, staff, province):
    ksdpk = PksFactory(cooperation_kind="KSDPK", regions=["32.73"], third_parties=["PT Air Bersih"])
    line(ksdpk, staff, region_code="32.73", source="apbn")
    third = line(ksdpk, officer, region_code=None, source=FundingSource.THIRD_PARTY, planned=500, realised=None)
    assert third.region is None
    with pytest.raises(ValidationError) as exc:
        line(ksdpk, officer, region_code=None, year=2026, source=FundingSource.APBD)
    assert "source" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        line(ksdpk, province, region_code=None, year=2026, source=FundingSource.OTHER)


def test_no_third_parties_line_without_a_third_party(pks, staff):
    with pytest.raises(ValidationError) as exc:
        line(pks, staff, region_code=None, source=FundingSource.THIRD_PARTY)
    assert "region" in exc.value.message_dict


def test_a_line_has_an_amount_a_year_in_range_and_is_once_per_year_party_and_source(pks, officer):
    with pytest.raises(ValidationError) as exc:
        line(pks, officer, planned=None, realised=None)
    assert "planned_idr" in exc.value.message_dict
    with pytest.raises(ValidationError):
        line(pks, officer, year=1800)
    line(pks, officer)
    with pytest.raises(ValidationError) as exc:
        line(pks, officer)
    assert "already has a line" in str(exc.value)
    line(pks, officer, source=FundingSource.APBN)  # another source: another line
    assert Financing.objects.count() == 2


def test_the_financing_form_offers_an_officer_its_own_region_and_the_pages_enforce_it(client, pks, officer, partner):
    client.force_login(officer)
    page = client.get(reverse("financing-create", args=[pks.pk]))
    assert [c[1] for c in page.context["form"].fields["payer"].choices] == ["Kota Bandung"]
    kab = region("32.04")
    response = client.post(reverse("financing-create", args=[pks.pk]), {
        "payer": str(kab.pk), "fiscal_year": "2025", "source": "apbd", "planned_idr": "100",
        "form_token": page.context["form_token"]})
    assert response.status_code == 200 and "payer" in response.context["form"].errors
    theirs = line(pks, partner, region_code="32.04")
    assert client.get(reverse("financing-edit", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("financing-delete", args=[theirs.pk])).status_code == 403
    mine = line(pks, officer)
    assert client.post(reverse("financing-delete", args=[mine.pk])).status_code == 302
    assert list(Financing.objects.values_list("pk", flat=True)) == [theirs.pk]


@pytest.mark.parametrize("data", [
    {"payer": "x", "fiscal_year": "99999999999999999999", "source": "apbd", "planned_idr": "1"},
    {"fiscal_year": "2025", "source": "nope", "planned_idr": "-5"},
    {"fiscal_year": "2025", "source": "apbd", "planned_idr": "9" * 30},
    {"fiscal_year": "2025", "source": "apbd", "realised_idr": "1.5"},
    {"fiscal_year": "2025", "source": "apbd", "planned_idr": "1", "note": "x" * 300},
])
def test_hostile_financing_input_is_a_form_error(client, pks, officer, data):
    client.force_login(officer)
    data = {"payer": str(region("32.73").pk), **data}
    response = client.post(reverse("financing-create", args=[pks.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not Financing.objects.exists()


# --- totals equal their lists -----------------------------------------------------------------------------------


@pytest.fixture
def financed(db, pks, officer, partner, staff):
    """Three agreements with lines over two years: two in Jawa Barat (one with Kota Bandung), one in Jawa Timur."""
    line(pks, officer, year=2024, planned=1_000, realised=900)
    line(pks, officer, year=2025, planned=2_000, realised=500)
    line(pks, partner, region_code="32.04", year=2025, source=FundingSource.APBN, planned=700, realised=None)
    other = PksFactory(number="PKS/JABAR/2024", regions=["32", "32.01"], affairs=["1.03"])
    line(other, staff, region_code="32", year=2025, planned=5_000, realised=4_000)
    east = PksFactory(number="PKS/JATIM/2024", regions=["35.07", "35.73"], affairs=["3.26"])
    line(east, staff, region_code="35.07", year=2025, planned=50, realised=30)
    PksFactory(number="PKS/NOLINE/2024", regions=["32.73", "32.04"], affairs=["1.03"])  # no line: not counted
    return {"pks": pks, "other": other, "east": east}


def test_the_agreement_page_sums_its_lines_beside_its_stated_value(client, financed, staff):
    pks = financed["pks"]
    pks.value_idr = 9_999
    pks.save()
    client.force_login(staff)
    response = client.get(pks.get_absolute_url())
    total = response.context["financing_total"]
    assert (total["planned"], total["realised"]) == (3_700, 1_400)
    assert total == {"planned": sum(f.planned_idr or 0 for f in pks.financing.all()),
                     "realised": sum(f.realised_idr or 0 for f in pks.financing.all()), "lines": 3}
    years = response.context["financing_years"]
    assert [(y["year"], y["planned"], y["realised"]) for y in years] == [(2024, 1_000, 900), (2025, 2_700, 500)]
    html = response.content.decode()
    assert 'data-figure="value">Rp9,999' in html and 'data-figure="realised">Rp1,400' in html


def _register_sums(client, url) -> tuple[int, int, list[str]]:
    """Planned and realised summed over the agreements the register lists at ``url`` (every page), and their numbers."""
    response = client.get(url)
    numbers = [row["agreement"].number for row in response.context["rows"]]
    assert response.context["page"].paginator.num_pages == 1
    ids = [row["agreement"].pk for row in response.context["rows"]]
    sums = results.sums_by_agreement(ids)
    return sum(p for p, _r in sums.values()), sum(r for _p, r in sums.values()), numbers


@pytest.mark.parametrize(("page", "expected"), [
    ("/regions/32.73/", (3_700, 1_400)),
    ("/regions/32/", (8_700, 5_400)),
    ("/affairs/1.03/", (8_700, 5_400)),
    ("/affairs/3.26/", (50, 30)),
])
def test_each_total_equals_the_sum_over_the_register_list_it_links_to(client, financed, staff, page, expected):
    client.force_login(staff)
    response = client.get(page)
    totals = response.context["financing"]
    assert (totals["planned"], totals["realised"]) == expected
    planned, realised, numbers = _register_sums(client, response.context["financing_url"])
    assert (planned, realised) == expected
    assert totals["agreements"] == len(numbers)
    assert "PKS/NOLINE/2024" not in numbers
    assert response.context["financing_url"] in response.content.decode().replace("&amp;", "&")


def test_totals_are_scoped_to_what_the_user_sees(client, financed, officer):
    client.force_login(officer)  # Kota Bandung: sees its own agreements only, even on the province's page
    response = client.get("/regions/32/")
    assert (response.context["financing"]["planned"], response.context["financing"]["realised"]) == (3_700, 1_400)


def test_the_readable_workbook_carries_planned_and_realised_per_agreement(client, financed, staff):
    client.force_login(staff)
    response = client.get("/agreements/workbook.xlsx?province=32&financed=yes")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    planned, realised = header.index("Planned financing (Rp)"), header.index("Realised financing (Rp)")
    by_number = {row[0]: (row[planned], row[realised]) for row in rows[1:]}
    assert by_number == {"PKS/AIR/2024": (3_700, 1_400), "PKS/JABAR/2024": (5_000, 4_000)}
    region_page = client.get("/regions/32/").context["financing"]
    assert sum(p for p, _r in by_number.values()) == region_page["planned"]
    assert sum(r for _p, r in by_number.values()) == region_page["realised"]


# --- the register: filters and the sort ------------------------------------------------------------------------


def _numbers(client, query) -> list[str]:
    response = client.get(f"/agreements/?{query}")
    assert response.status_code == 200
    return [row["agreement"].number for row in response.context["rows"]]


def test_register_filters_financed_and_has_indicators(client, financed, officer, staff):
    make_indicator(financed["other"], staff)
    client.force_login(staff)
    assert set(_numbers(client, "financed=yes")) == {"PKS/AIR/2024", "PKS/JABAR/2024", "PKS/JATIM/2024"}
    assert _numbers(client, "financed=no") == ["PKS/NOLINE/2024"]
    assert _numbers(client, "has_indicators=yes") == ["PKS/JABAR/2024"]
    assert "PKS/JABAR/2024" not in _numbers(client, "has_indicators=no")


def test_register_sorts_by_realised_amount(client, financed, staff):
    client.force_login(staff)
    assert _numbers(client, "sort=-realised") == ["PKS/JABAR/2024", "PKS/AIR/2024", "PKS/JATIM/2024",
                                                  "PKS/NOLINE/2024"]
    assert _numbers(client, "sort=realised") == ["PKS/JATIM/2024", "PKS/AIR/2024", "PKS/JABAR/2024",
                                                 "PKS/NOLINE/2024"]


@pytest.mark.parametrize("query", ["financed=maybe", "has_indicators=1", "sort=realised%00", "financed=" + "x" * 5000,
                                   "sort=--realised"])
def test_bad_register_values_are_form_errors(client, financed, staff, query):
    client.force_login(staff)
    response = client.get(f"/agreements/?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.context["form"].errors


def test_the_sorted_register_costs_the_same_queries_whatever_the_rows(client, staff, django_assert_max_num_queries):
    client.force_login(staff)
    first = PksFactory(regions=["32.73", "32.04"])
    line(first, staff, planned=1, realised=1)
    client.get("/agreements/?sort=-realised&financed=yes")  # warm up (sessions, settings)
    import django.db
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(django.db.connection) as small:
        client.get("/agreements/?sort=-realised&financed=yes")
    for i in range(15):
        agreement = PksFactory(regions=["32.73", "32.04"])
        line(agreement, staff, planned=i, realised=i)
        line(agreement, staff, region_code="32.04", planned=i, realised=i)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/agreements/?sort=-realised&financed=yes")
    assert len(response.context["rows"]) == 16


def test_region_and_agreement_pages_cost_the_same_queries_whatever_the_indicators(
        client, pks, staff, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff)
    first = make_indicator(pks, staff)
    record(first, staff, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1300")
    line(pks, staff)
    client.get(pks.get_absolute_url())
    with CaptureQueriesContext(connection) as page, CaptureQueriesContext(connection) as _unused:
        client.get(pks.get_absolute_url())
    with CaptureQueriesContext(connection) as region_page:
        client.get("/regions/32.73/")
    for i in range(6):
        indicator = make_indicator(pks, staff, name=f"Indikator {i}")
        record(indicator, staff, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), str(1300 + i),
               evidence=None)
        line(pks, staff, year=2010 + i)
    with django_assert_max_num_queries(len(page.captured_queries)):
        client.get(pks.get_absolute_url())
    with django_assert_max_num_queries(len(region_page.captured_queries)):
        client.get("/regions/32.73/")


# --- region and affair pages list the indicators -------------------------------------------------------------


def test_region_and_affair_pages_list_their_agreements_indicators_latest_against_target(client, pks, officer, staff):
    indicator = make_indicator(pks, officer)
    record(indicator, officer, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1300")
    record(indicator, officer, datetime.date(2025, 1, 1), datetime.date(2025, 12, 31), "1600")
    elsewhere = PksFactory(regions=["35.07", "35.73"], affairs=["3.26"])
    make_indicator(elsewhere, staff, name="Kunjungan wisatawan", unit="orang")
    client.force_login(staff)
    for url in ("/regions/32.73/", "/regions/32/", "/affairs/1.03/"):
        response = client.get(url)
        rows = response.context["indicators"]
        assert [(r.name, r.latest_value, r.percent) for r in rows] == [
            ("Rumah tangga terlayani air perpipaan", Decimal("1600"), "50%")], url
        assert response.context["indicator_count"] == 1
        assert "Kunjungan wisatawan" not in response.content.decode()
    response = client.get(response.context["indicators_url"])
    assert [row["agreement"].number for row in response.context["rows"]] == ["PKS/AIR/2024"]


# --- admin, demo data ----------------------------------------------------------------------------------------


def test_admin_lists_and_opens_indicators_with_their_actuals_and_financing_lines(client, pks, staff):
    from agreements.admin import IndicatorActualInline

    admin_user = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True, language="en")
    indicator = make_indicator(pks, staff)
    record(indicator, staff, datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), "1300")
    financing = line(pks, staff)
    client.force_login(admin_user)
    for model, obj in (("indicator", indicator), ("financing", financing)):
        for view, args in (("changelist", []), ("add", []), ("change", [obj.pk]), ("history", [obj.pk])):
            response = client.get(reverse(f"admin:agreements_{model}_{view}", args=args))
            assert response.status_code == 200, (model, view)
    change = client.get(reverse("admin:agreements_indicator_change", args=[indicator.pk])).content.decode()
    assert "1300" in change  # the actual value, inline
    from django.contrib import admin

    assert IndicatorActualInline(Indicator, admin.site).has_add_permission(None) is False


@pytest.mark.django_db
def test_seed_demo_gives_the_demo_officers_indicators_with_actuals_and_financing_over_years(settings):
    from django.core.management import call_command
    from django.utils import translation

    settings.DEBUG = True
    with translation.override("en"):
        call_command("seed_demo", as_of="2026-06-30", stdout=io.StringIO())
    indicators = Indicator.objects.select_related("agreement")
    assert indicators.count() >= 20
    bandung = indicators.filter(agreement__parties__region__code="32.73")
    assert bandung.exists() and IndicatorActual.objects.filter(indicator__in=bandung).count() >= 2
    assert {i.agreement.document_type for i in indicators} == {"PKS"}
    for actual in IndicatorActual.objects.select_related("indicator")[:200]:
        actual.full_clean()
        assert actual.period_end >= actual.indicator.baseline_on
        assert actual.period_end <= datetime.date(2026, 6, 30)
    lines = Financing.objects.select_related("agreement")
    assert lines.values("fiscal_year").distinct().count() >= 2
    assert lines.filter(agreement__parties__region__code="32.73").values("fiscal_year").distinct().count() >= 2
    assert lines.filter(realised_idr__isnull=False).exists() and lines.filter(region__isnull=True).exists()
    for item in lines[:300]:
        item.full_clean()
        if item.region_id:
            assert item.agreement.parties.filter(region_id=item.region_id).exists()
        else:
            assert item.agreement.third_parties.exists()


@pytest.mark.django_db
def test_the_benchmark_data_holds_indicators_with_actuals_and_financing_in_proportion():
    from agreements import benchdata

    as_of = datetime.date(2026, 6, 30)
    benchdata.seed(n=200, seed=7, as_of=as_of)
    indicators = Indicator.objects.select_related("agreement")
    assert 10 <= indicators.count() <= 200
    assert not indicators.exclude(agreement__document_type="PKS").exists()
    assert Indicator.history.count() == indicators.count()
    actuals = IndicatorActual.objects.select_related("indicator")
    assert actuals.count() >= indicators.count()
    for actual in actuals[:100]:
        actual.full_clean()
        assert actual.period_end <= as_of and actual.period_end >= actual.indicator.baseline_on
    lines = Financing.objects.all()
    assert lines.count() >= 100 and lines.values("fiscal_year").distinct().count() == 2
    assert Financing.history.count() == lines.count()
    assert not lines.filter(region__isnull=False).exclude(agreement__parties__region=F("region")).exists()
    assert not lines.filter(region__isnull=True, agreement__third_parties__isnull=True).exists()


def test_the_indicator_count_counts_beyond_the_rows_shown(pks, staff):
    for i in range(3):
        make_indicator(pks, staff, name=f"Indikator {i}")
    shown = results.indicators_for(results.Agreement.objects.all(), limit=2)
    assert (len(shown["indicators"]), shown["indicator_count"]) == (2, 3)
    assert results.indicators_for(results.Agreement.objects.none())["indicator_count"] == 0
