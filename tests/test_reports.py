"""Periodic reports: the periods and due dates, the figures as of the period's end (the register's lists), the frozen
submission, consolidation along the reporting line, returns and resubmissions, the states per region, the formats
(XLSX, PDF), access by role and hostile input."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from agreements import report_formats, reports
from agreements.filters import AgreementFilter
from agreements.models import (
    Agreement,
    Financing,
    FollowUp,
    Milestone,
    NeedOffer,
    Obstacle,
    Report,
    ReportSettings,
    ReportVersion,
    Stage,
)
from tests.factories import AgreementFactory, MilestoneFactory, NeedOfferFactory, PksFactory, UserFactory, region

PERIOD = reports.parse_period("2025-S1")
END = datetime.date(2025, 6, 30)


# --- periods -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "start", "end"), [
    ("2026-S1", datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)),
    ("2026-S2", datetime.date(2026, 7, 1), datetime.date(2026, 12, 31)),
    ("2026", datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
])
def test_a_period_is_a_semester_or_a_year(code, start, end):
    period = reports.parse_period(code)
    assert (period.start, period.end, period.code) == (start, end, code)


@pytest.mark.parametrize("bad", ["2026-S3", "2026-s1", "26", "1999", "2101", "2026-S1\n", "", "2026-H1", None,
                                 "２０２６", "2026-S1x", "9" * 50])
def test_anything_else_is_not_a_period(bad):
    with pytest.raises(ValueError):
        reports.parse_period(bad)


@pytest.mark.django_db
def test_the_due_date_follows_the_setting():
    assert PERIOD.due_on() == END + datetime.timedelta(days=30)
    settings = ReportSettings.current()
    settings.due_days = 45
    settings.save()
    assert PERIOD.due_on() == END + datetime.timedelta(days=45)


def test_the_reporting_period_is_the_latest_semester_ended():
    assert reports.reporting_period(datetime.date(2026, 12, 3)).code == "2026-S1"
    assert reports.reporting_period(datetime.date(2026, 3, 1)).code == "2025-S2"


# --- the figures as of the period's end -------------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    """Kota Bandung's agreements around the first semester of 2025."""
    kb_old = AgreementFactory(number="KB/OLD", signed_on=datetime.date(2023, 1, 10))  # stalled: no PKS after a year
    kb_new = AgreementFactory(number="KB/NEW", signed_on=datetime.date(2025, 3, 1))  # signed in the period
    pks = PksFactory(number="PKS/1", parent=kb_new, signed_on=datetime.date(2025, 4, 1))
    MilestoneFactory(agreement=pks, title="Met", due_on=datetime.date(2025, 5, 1), status=Milestone.Status.MET,
                     started_on=datetime.date(2025, 4, 2), completed_on=datetime.date(2025, 5, 2))
    MilestoneFactory(agreement=pks, title="Missed", due_on=datetime.date(2025, 6, 1))
    AgreementFactory(number="KB/LATER", signed_on=datetime.date(2025, 9, 1))  # draft as of the end
    AgreementFactory(number="KB/OTHER", regions=["32.01", "32.04"], signed_on=datetime.date(2025, 2, 1))
    ended = AgreementFactory(number="KB/ENDED", signed_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2025, 3, 31))
    Obstacle.objects.create(agreement=kb_old, category=Obstacle.Category.BUDGET, description="Anggaran belum ada",
                            raised_on=datetime.date(2024, 5, 1))
    Obstacle.objects.create(agreement=kb_old, category=Obstacle.Category.DPRD, description="Sudah selesai",
                            raised_on=datetime.date(2024, 5, 1), resolved_on=datetime.date(2024, 6, 1))
    FollowUp.objects.create(agreement=kb_old, kind=FollowUp.Kind.LETTER, date=datetime.date(2025, 2, 2), note="Surat")
    FollowUp.objects.create(region=region("32.73"), kind=FollowUp.Kind.MEETING, date=datetime.date(2024, 2, 2),
                            note="Before the period")
    Financing.objects.create(agreement=pks, region=region("32.73"), fiscal_year=2025, source="apbd",
                             planned_idr=150_000_000, realised_idr=50_000_000)
    NeedOfferFactory(region=region("32.73"), kind=NeedOffer.Kind.NEED)
    NeedOffer.objects.update(created_at=timezone.make_aware(datetime.datetime(2025, 1, 5, 9)))
    NeedOfferFactory(region=region("32.73"), kind=NeedOffer.Kind.OFFER)  # declared after the period
    return {"kb_old": kb_old, "kb_new": kb_new, "pks": pks, "ended": ended}


def register(query: str) -> list[str]:
    f = AgreementFilter(QueryDict(query), queryset=Agreement.objects.all())
    assert f.is_valid(), f.errors
    return sorted(f.qs.values_list("number", flat=True))


def test_the_figures_equal_the_registers_lists_as_of_the_periods_end(seeded):
    data = reports.generate(region("32.73"), PERIOD)
    assert data["as_of"] == "2025-06-30"
    for row in data["stages"]:
        assert row["count"] == len(register(f"region=32.73&as_of=2025-06-30&stage={row['stage']}")), row
    assert data["totals"]["agreements"] == len(register("region=32.73&as_of=2025-06-30"))
    assert sorted(a["number"] for a in data["stalled"]) == register("region=32.73&as_of=2025-06-30&stalled=yes")
    assert sorted(a["number"] for a in data["new"]) == register(
        "region=32.73&as_of=2025-06-30&signed_from=2025-01-01&signed_to=2025-06-30")
    # The facts themselves, to be sure the comparison is not empty on both sides.
    assert [a["number"] for a in data["stalled"]] == ["KB/OLD"]
    assert [o["description"] for o in data["stalled"][0]["obstacles"]] == ["Anggaran belum ada"]
    assert sorted(a["number"] for a in data["new"]) == ["KB/NEW", "PKS/1"]
    assert [a["number"] for a in data["ended"]] == ["KB/ENDED"]
    assert [m["title"] for m in data["milestones_met"]] == ["Met"]
    assert [m["title"] for m in data["milestones_missed"]] == ["Missed"]
    assert data["totals"]["planned_idr"] == 150_000_000
    assert [f["note"] for f in data["followups"]] == ["Surat"]
    assert data["totals"]["needs"] == 1
    draft = next(row for row in data["stages"] if row["stage"] == Stage.DRAFT)
    assert draft["count"] == 1  # KB/LATER, signed after the period


def test_a_region_without_agreements_gets_a_nil_report(db):
    data = reports.generate(region("32.01"), PERIOD)
    assert data["nil"] is True and data["totals"]["agreements"] == 0


def test_generating_takes_a_fixed_number_of_queries(seeded, django_assert_max_num_queries):
    for n in range(5):
        AgreementFactory(number=f"KB/MORE/{n}", signed_on=datetime.date(2023, 1, 1 + n))
    with django_assert_max_num_queries(15):
        reports.generate(region("32.73"), PERIOD)


# --- submitting, freezing, returning ----------------------------------------------------------------------------------


@pytest.fixture
def officers(db):
    return {
        "bandung": UserFactory(username="r-bandung", role="local", region=region("32.73")),
        "bogor": UserFactory(username="r-bogor", role="local", region=region("32.01")),
        "jabar": UserFactory(username="r-jabar", role="province", region=region("32")),
        "jatim": UserFactory(username="r-jatim", role="province", region=region("35")),
        "ministry": UserFactory(username="r-ministry", role="ministry"),
    }


def submit(user, code="32.73", period=PERIOD, version=None, narrative=None):
    reg = region(code)
    if version is None:
        report = Report.objects.filter(region=reg, period=period.code).first()
        version = report.version if report else 1
    return reports.submit(user=user, region=reg, period=period, expected_version=version, narrative=narrative)


def test_a_submitted_report_does_not_change_when_the_data_does(seeded, officers):
    report = submit(officers["bandung"], narrative={"sections": {"summary": "Semua berjalan"}})
    before = report.snapshot
    assert before["totals"]["stalled"] == 1
    PksFactory(number="PKS/2", parent=seeded["kb_old"], signed_on=datetime.date(2025, 5, 1))  # KB/OLD followed up
    Obstacle.objects.all().delete()
    report.refresh_from_db()
    assert report.snapshot == before
    assert reports.generate(region("32.73"), PERIOD)["totals"]["stalled"] == 0  # the live figures did change
    version = report.versions.get()
    assert version.number == 1 and version.snapshot == before and version.narrative["sections"]["summary"]
    assert (report.submitted_by, report.status) == (officers["bandung"], Report.Status.SUBMITTED)
    page = report_formats.layout(report.snapshot, report.narrative)
    assert page[0]["narrative"] == "Semua berjalan"


def test_a_submitted_report_cannot_be_edited_or_submitted_again(seeded, officers):
    report = submit(officers["bandung"])
    with pytest.raises(ValidationError):
        reports.save_narrative(user=officers["bandung"], region=region("32.73"), period=PERIOD,
                               narrative={"sections": {"summary": "x"}}, expected_version=report.version)
    with pytest.raises(ValidationError):
        submit(officers["bandung"])


def test_a_report_is_submitted_only_after_its_period(officers):
    period = reports.reporting_period()
    running = reports.Period(period.year + 1, None)
    with pytest.raises(ValidationError):
        submit(officers["bandung"], period=running)


def test_a_stale_version_is_refused_and_nothing_is_lost(officers):
    reg = region("32.73")
    reports.save_narrative(user=officers["bandung"], region=reg, period=PERIOD,
                           narrative={"sections": {"summary": "first"}}, expected_version=1)
    with pytest.raises(reports.StaleReportError) as exc:
        reports.save_narrative(user=officers["bandung"], region=reg, period=PERIOD,
                               narrative={"sections": {"summary": "second"}}, expected_version=1)
    assert exc.value.current.narrative["sections"]["summary"] == "first"


def test_returned_then_resubmitted_keeps_both_versions(seeded, officers):
    submit(officers["bandung"], narrative={"sections": {"summary": "v1"}})
    report = Report.objects.get(region=region("32.73"), period=PERIOD.code)
    reports.return_report(user=officers["jabar"], region=region("32.73"), period=PERIOD, comment="Lengkapi narasi",
                          expected_version=report.version)
    report.refresh_from_db()
    assert report.status == Report.Status.RETURNED and report.return_comment == "Lengkapi narasi"
    submit(officers["bandung"], narrative={"sections": {"summary": "v2"}})
    versions = list(ReportVersion.objects.filter(report=report).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert [v.narrative["sections"]["summary"] for v in versions] == ["v1", "v2"]
    assert versions[0].return_comment == "Lengkapi narasi" and versions[0].returned_by == officers["jabar"]
    assert versions[1].returned_at is None


def test_who_returns(seeded, officers):
    submit(officers["bandung"])
    submit(officers["jabar"], code="32")
    kwargs = {"comment": "x", "period": PERIOD}
    for user, code in ((officers["bandung"], "32.73"), (officers["jatim"], "32.73"), (officers["jabar"], "32"),
                       (officers["bogor"], "32.73")):
        with pytest.raises(PermissionDenied):
            reports.return_report(user=user, region=region(code), expected_version=9, **kwargs)
    report = Report.objects.get(region=region("32"), period=PERIOD.code)
    reports.return_report(user=officers["ministry"], region=region("32"), expected_version=report.version, **kwargs)
    with pytest.raises(ValidationError):  # a comment is required
        report = Report.objects.get(region=region("32.73"), period=PERIOD.code)
        reports.return_report(user=officers["jabar"], region=region("32.73"), period=PERIOD, comment="  ",
                              expected_version=report.version)


def test_only_the_regions_officers_write_its_report(officers):
    for user in (officers["jabar"], officers["ministry"], officers["bogor"]):
        with pytest.raises(PermissionDenied):
            reports.save_narrative(user=user, region=region("32.73"), period=PERIOD, narrative={},
                                   expected_version=1)


# --- consolidation and states -----------------------------------------------------------------------------------------


def test_consolidation_equals_the_sum_of_its_parts(seeded, officers):
    bogor_report = submit(officers["bogor"], code="32.01")
    bandung_report = submit(officers["bandung"], narrative={"sections": {"stalled": "Rapat koordinasi"}})
    province = submit(officers["jabar"], code="32")
    consolidation = province.snapshot["consolidation"]
    assert consolidation["submitted"] == 2
    for key in reports.TOTAL_KEYS:
        assert consolidation["totals"][key] == bogor_report.snapshot["totals"][key] + \
            bandung_report.snapshot["totals"][key], key
        assert province.snapshot["consolidated_totals"][key] == \
            province.snapshot["totals"][key] + consolidation["totals"][key], key
    assert consolidation["totals"]["agreements"] > 0
    bandung = next(c for c in consolidation["children"] if c["code"] == "32.73")
    assert bandung["narrative"]["sections"]["stalled"] == "Rapat koordinasi"
    missing = {m["code"] for m in consolidation["missing"]}
    assert "32.04" in missing and "32.73" not in missing and "32.01" not in missing
    expected = set(reports.reporting_regions().filter(province=region("32")).values_list("code", flat=True))
    assert {c["code"] for c in consolidation["children"]} == expected


def test_a_returned_report_is_not_consolidated(seeded, officers):
    report = submit(officers["bandung"])
    reports.return_report(user=officers["jabar"], region=region("32.73"), period=PERIOD, comment="x",
                          expected_version=report.version)
    consolidation = reports.consolidate(region("32"), PERIOD)
    assert consolidation["submitted"] == 0
    assert {"code": "32.73", "name": "Kota Bandung", "state": "returned"} in consolidation["missing"]


def test_states_on_time_late_returned_missing(officers):
    due = PERIOD.due_on()
    reg_on_time, reg_late, reg_returned = region("32.73"), region("32.01"), region("32.04")
    on_time = submit(officers["bandung"])
    ReportVersion.objects.filter(report=on_time).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(due, datetime.time(20))))
    late = submit(officers["bogor"], code="32.01")
    ReportVersion.objects.filter(report=late).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(due + datetime.timedelta(days=1), datetime.time(8))))
    Report.objects.create(region=reg_returned, period=PERIOD.code, status=Report.Status.RETURNED)
    rows = {row["region"].code: row["state"] for row in reports.region_states(
        PERIOD, reports.reporting_regions().filter(province=region("32")))}
    assert rows[reg_on_time.code] == "on_time"
    assert rows[reg_late.code] == "late"
    assert rows[reg_returned.code] == "returned"
    assert rows["32.02"] == "missing"
    assert reports.region_states(PERIOD, reports.reporting_regions().filter(code="32.02"),
                                 today=END)[0]["state"] == "open"


def test_the_state_keeps_the_first_submission_date(officers):
    due = PERIOD.due_on()
    report = submit(officers["bandung"])
    ReportVersion.objects.filter(report=report).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(due, datetime.time(9))))
    reports.return_report(user=officers["jabar"], region=region("32.73"), period=PERIOD, comment="x",
                          expected_version=Report.objects.get(pk=report.pk).version)
    submit(officers["bandung"])  # today, long after the due date
    row = reports.region_states(PERIOD, reports.reporting_regions().filter(code="32.73"))[0]
    assert row["state"] == "on_time"


def test_administrative_areas_owe_no_report(db):
    assert not reports.reporting_regions().filter(is_autonomous=False).exists()
    assert reports.reporting_regions().count() == 38 + 514 - 6  # DKI Jakarta's six administrative areas


# --- formats -------------------------------------------------------------------------------------------------------


def test_the_page_writes_numbers_and_dates_as_people_read_them(seeded, officers, client, settings):
    settings.LANGUAGE_CODE = "id"
    submit(officers["bandung"])
    client.force_login(officers["bandung"])
    page = client.get(reverse("report-detail", args=["32.73", PERIOD.code])).content.decode()
    assert "150.000.000" in page and "150000000" not in page  # the planned financing, grouped
    assert "2025-05-02" not in page and "2 Mei 2025" in page  # the milestone met, in words


def test_the_xlsx_and_the_pdf_hold_the_same_totals(seeded, officers, client):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    report = submit(officers["bandung"], narrative={"sections": {"summary": "Narasi – dengan “kutipan”"}})
    totals = report.snapshot["totals"]
    client.force_login(officers["jabar"])
    url = reverse("report-detail", args=["32.73", PERIOD.code])
    xlsx = client.get(url + "?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) == 1 + len(report_formats.layout(report.snapshot))
    summary = book[book.sheetnames[1]]
    values = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and len(row) > 1}
    for key in reports.TOTAL_KEYS:
        assert values[str(reports.TOTAL_LABELS[key])] == totals[key], key
    assert isinstance(values[str(reports.TOTAL_LABELS["planned_idr"])], int)
    dates = [c for row in book[book.sheetnames[3]].iter_rows(values_only=True) for c in row
             if isinstance(c, datetime.datetime)]
    assert datetime.datetime(2025, 3, 1) in dates  # real dates, not text

    pdf = client.get(url + "?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Kota Bandung" in text
    assert "Narasi – dengan “kutipan”" in text
    for key in reports.TOTAL_KEYS:
        label = str(reports.TOTAL_LABELS[key])
        value = f"{totals[key]:,}"
        assert f"{label}\n{value}" in text or f"{label} {value}" in text, (label, value)


def test_the_pdf_replaces_characters_its_font_lacks(officers):
    data = reports.generate(region("32.01"), PERIOD)
    body = report_formats.write_pdf("Laporan 报告", [("x", "y")], report_formats.layout(
        data, {"sections": {"summary": "Emoji 🎉 ok"}}))
    assert body.startswith(b"%PDF")


# --- pages ---------------------------------------------------------------------------------------------------------


def detail(code="32.73", period="2025-S1"):
    return reverse("report-detail", args=[code, period])


@pytest.mark.parametrize(("user", "code", "get", "post"), [
    ("bandung", "32.73", 200, 302),
    ("jabar", "32.73", 200, 403),
    ("jabar", "32", 200, 302),
    ("ministry", "32.73", 200, 403),
    ("ministry", "32", 200, 403),
    ("bogor", "32.73", 404, 404),
    ("jatim", "32.73", 404, 404),
    ("bandung", "32", 404, 404),
])
def test_access_by_role(officers, client, user, code, get, post):
    client.force_login(officers[user])
    assert client.get(detail(code)).status_code == get
    assert client.get(detail(code) + "?format=pdf").status_code == get
    response = client.post(detail(code), {"action": "save", "version": "1", "section-summary": "x"})
    assert response.status_code == post


def test_anonymous_users_are_sent_to_log_in(db, client):
    assert client.get(detail()).status_code == 302
    assert client.get(reverse("report-index")).status_code == 302


def test_an_administrative_area_has_no_report_page(officers, client):
    client.force_login(officers["ministry"])
    area = reports.Region.objects.filter(is_autonomous=False).first()
    assert client.get(detail(area.code)).status_code == 404


@pytest.mark.parametrize("bad", ["2025-S3", "2025-s1", "abc", "1999", "99999", "2025-S1%00", "%E2%80%8B2025"])
def test_bad_periods_are_not_found(officers, client, bad):
    client.force_login(officers["bandung"])
    assert client.get(f"/reports/32.73/{bad}/").status_code in (400, 404)


def test_unknown_region_code_is_not_found(officers, client):
    client.force_login(officers["ministry"])
    assert client.get("/reports/99.99/2025-S1/").status_code == 404
    assert client.get("/reports/" + "3" * 300 + "/2025-S1/").status_code == 404


def test_the_officer_saves_submits_the_province_returns_and_the_region_resubmits(seeded, officers, client):
    client.force_login(officers["bandung"])
    response = client.get(detail())
    assert response.status_code == 200
    post = {"version": "1", "section-summary": "Ringkasan", f"stalled-{seeded['kb_old'].pk}": "Surat ke mitra"}
    assert client.post(detail(), {**post, "action": "save"}).status_code == 302
    report = Report.objects.get(region=region("32.73"), period="2025-S1")
    assert report.narrative == {"sections": {"summary": "Ringkasan"},
                                "stalled": {str(seeded["kb_old"].pk): "Surat ke mitra"}}
    stale = client.post(detail(), {**post, "action": "submit"})  # version 1 is stale now
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    assert client.post(detail(), {**post, "version": str(report.version), "action": "submit"}).status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.SUBMITTED
    page = client.get(detail()).content.decode()
    assert "Surat ke mitra" in page and 'name="section-summary"' not in page

    client.force_login(officers["jabar"])
    assert "Return for correction" in client.get(detail()).content.decode()
    index = client.get(reverse("report-index") + "?period=2025-S1").content.decode()
    assert "Kota Bandung" in index and 'data-state="late"' in index  # submitted today, long after its due date
    assert client.post(detail(), {"action": "return", "version": str(report.version), "comment": ""}).status_code == 400
    assert client.post(detail(), {"action": "return", "version": str(report.version),
                                  "comment": "Tambahkan kendala"}).status_code == 302
    client.force_login(officers["bandung"])
    page = client.get(detail()).content.decode()
    assert "Tambahkan kendala" in page and 'name="section-summary"' in page
    report.refresh_from_db()
    assert client.post(detail(), {**post, "version": str(report.version), "action": "submit"}).status_code == 302
    assert report.versions.count() == 2


@pytest.mark.parametrize("payload", [
    {"section-summary": "x" * (reports.NARRATIVE_MAX_CHARS + 1)},
    {"stalled-abc": "x"},
    {"stalled-" + "9" * 20: "x"},
    {"version": "abc"},
    {"version": "9" * 40},
    {"action": "explode"},
])
def test_hostile_posts_get_a_clear_error_never_a_500(officers, client, payload):
    client.force_login(officers["bandung"])
    data = {"action": "save", "version": "1", **payload}
    response = client.post(detail(), data)
    assert response.status_code == 400
    assert not Report.objects.filter(narrative__sections__summary__isnull=False).exists()


def test_a_nul_byte_in_a_narrative_is_refused(officers, client):
    client.force_login(officers["bandung"])
    response = client.post(detail(), {"action": "save", "version": "1", "section-summary": "a\x00b"})
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        reports.clean_narrative({"sections": {"summary": "a\x00b"}})
    with pytest.raises(ValidationError):
        reports.clean_narrative({"sections": {"unknown": "x"}})


def test_the_index_by_role(seeded, officers, client):
    submit(officers["bandung"])
    client.force_login(officers["ministry"])
    page = client.get(reverse("report-index") + "?period=2025-S1&province=32&state=late").content.decode()
    assert "Kota Bandung" in page and "Kabupaten Bogor" not in page
    page = client.get(reverse("report-index") + "?period=2025-S1&state=missing&province=32").content.decode()
    assert "Kabupaten Bogor" in page and "Kota Bandung</a>" not in page
    client.force_login(officers["bogor"])
    page = client.get(reverse("report-index")).content.decode()
    assert "Reports of Kabupaten Bogor" in page and "report-states" not in page
    client.force_login(officers["jabar"])
    page = client.get(reverse("report-index") + "?period=nonsense").content.decode()
    assert "Kota Bandung" in page and "Kota Surabaya" not in page


def test_the_pages_take_a_fixed_number_of_queries(seeded, officers, client, django_assert_max_num_queries):
    submit(officers["bandung"])
    submit(officers["bogor"], code="32.01")
    client.force_login(officers["jabar"])
    with django_assert_max_num_queries(30):
        assert client.get(detail("32")).status_code == 200
    client.force_login(officers["ministry"])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("report-index") + "?period=2025-S1").status_code == 200
    client.force_login(officers["bandung"])
    with django_assert_max_num_queries(25):
        assert client.get(detail()).status_code == 200


# --- the demo ------------------------------------------------------------------------------------------------------


def test_the_demo_reports_show_every_state(db):
    from agreements import demo, demo_reports

    as_of = datetime.date(2026, 12, 3)
    users = demo.ensure_demo_users()
    demo_reports.seed_reports(as_of=as_of, users=users)
    past = reports.reporting_period(as_of)
    rows = {row["region"].code: row["state"] for row in reports.region_states(
        past, reports.reporting_regions().filter(code__in=["32", "32.73", "32.01", "32.04"]), today=as_of)}
    assert rows == {"32": "on_time", "32.73": "on_time", "32.01": "returned", "32.04": "missing"}
    province = Report.objects.get(region__code="32", period=past.code)
    assert [c["code"] for c in province.snapshot["consolidation"]["children"] if c["state"] == "on_time"] == ["32.73"]
    before = reports.region_states(reports.Period(2025, 2), reports.reporting_regions().filter(code="32.73"),
                                   today=as_of)
    assert before[0]["state"] == "late"
    draft = Report.objects.get(region__code="32.73", period="2026-S2")
    assert draft.status == Report.Status.DRAFT and draft.narrative["sections"]["summary"]
    assert reports.region_states(reports.Period(2026, 2), reports.reporting_regions().filter(code="32.73"),
                                 today=as_of)[0]["state"] == "open"


# --- reminders and the dashboard ----------------------------------------------------------------------------------------


def test_reminders_list_the_reports_due_within_14_days_or_late(officers):
    reg = region("32.73")
    due = PERIOD.due_on()  # 2025-07-30
    for period in ("2024-S2", "2024"):  # the reports before are in
        Report.objects.create(region=reg, period=period, status=Report.Status.SUBMITTED)
    assert [r["period"].code for r in reports.reminders_for(reg, due - datetime.timedelta(days=15))] == []
    soon = reports.reminders_for(reg, due - datetime.timedelta(days=14))
    assert [(r["period"].code, r["late"], r["days"]) for r in soon] == [("2025-S1", False, 14)]
    late = reports.reminders_for(reg, due + datetime.timedelta(days=1))
    assert ("2025-S1", True) in [(r["period"].code, r["late"]) for r in late]
    submit(officers["bandung"])
    assert "2025-S1" not in [r["period"].code for r in reports.reminders_for(reg, due + datetime.timedelta(days=1))]


def test_the_weekly_email_carries_the_reports(officers, settings):
    from django.core import mail
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://kerjasama.example.go.id"
    submit(officers["bandung"])
    as_of = PERIOD.due_on() + datetime.timedelta(days=3)
    call_command("send_reminders", as_of=as_of.isoformat(), stdout=io.StringIO())
    by_user = {m.to[0]: m.body for m in mail.outbox}
    bogor = by_user[officers["bogor"].email]
    # In Indonesian, each officer's language.
    assert "Laporan yang jatuh tempo" in bogor and "Semester I 2025" in bogor and "/reports/32.01/2025-S1/" in bogor
    province = by_user[officers["jabar"].email]
    assert "Laporan kabupaten/kota Anda untuk Semester I 2025: 1 dari" in province
    assert "/reports/?period=2025-S1" in province


def test_the_dashboard_shows_the_reporting_periods_completeness(officers, client):
    submit(officers["bandung"], period=reports.reporting_period())
    client.force_login(officers["ministry"])
    figure = client.get("/").context["reporting"]
    assert figure["period"] == reports.reporting_period()
    assert figure["counts"]["submitted"] == 1 and figure["counts"]["total"] == reports.reporting_regions().count()
    assert figure["scope"] is None
    figure = client.get("/", {"province": "32"}).context["reporting"]
    assert figure["counts"]["total"] == reports.reporting_regions().filter(
        reports.Q(code="32") | reports.Q(province__code="32")).count()
    client.force_login(officers["bogor"])
    figure = client.get("/").context["reporting"]
    assert figure["counts"]["total"] == 1 and figure["counts"]["submitted"] == 0
    assert figure["scope"] == "Kabupaten Bogor"
    page = client.get("/").content.decode()
    assert f"/reports/?period={figure['period'].code}" in page


ROLES = ["anonymous", "ministry", "province_in", "province_out", "local_in", "local_out", "admin"]
# Saving Kota Bandung's narratives: its officers (then redirected to the page), 403 for those who read it, 404 for the
# others, the log-in page for anonymous users.
REPORT_POST = dict(zip(ROLES, (302, 403, 403, 404, 302, 404, 403), strict=True))


@pytest.mark.parametrize("role", ROLES)
def test_the_post_matrix(client, personas, role):
    if role != "anonymous":
        client.force_login(personas[role])
    response = client.post(detail(), {"action": "save", "version": "1", "section-summary": "x"})
    assert response.status_code == REPORT_POST[role]
    if role == "anonymous":
        assert "/login/" in response["Location"]
    saved = Report.objects.filter(region=region("32.73"), narrative__sections__summary="x").exists()
    assert saved == (role == "local_in")


def test_administrators_set_the_due_days_and_read_the_reports(officers, admin_client):
    response = admin_client.get(reverse("admin:agreements_reportsettings_changelist"))
    assert response.status_code == 302
    response = admin_client.post(response["Location"], {"due_days": "45"})
    assert response.status_code == 302 and ReportSettings.current().due_days == 45
    assert PERIOD.due_on() == END + datetime.timedelta(days=45)
    report = submit(officers["bandung"])
    assert admin_client.get(reverse("admin:agreements_report_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:agreements_report_change", args=[report.pk]))
    assert page.status_code == 200 and "Kota Bandung" in page.content.decode()


def test_the_officers_index_takes_a_fixed_number_of_queries(officers, client, django_assert_max_num_queries):
    client.force_login(officers["jabar"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("report-index")).status_code == 200
