"""The demo's periodic reports, so that ``/reports/`` shows every state: for the semester being reported as of the
demo's date, Kota Bandung and its province Jawa Barat submitted on time (the province's report consolidates Kota
Bandung's), Kabupaten Bogor's was returned for correction, the other regions have not submitted; for the semester
before, Kota Bandung submitted late; for the semester under way, Kota Bandung has a draft with a narrative. Written
through the services of ``reports``, as an officer would."""

import datetime

from django.utils import timezone

from . import reports
from .models import Region, Report


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def seed_reports(*, as_of: datetime.date, users: list) -> dict:
    by_name = {u.username: u for u in users}
    bandung, bogor, jabar = (Region.objects.get(code=code) for code in ("32.73", "32.01", "32"))
    officer, bogor_officer, province_officer = by_name["kota-bandung"], by_name["kab-bogor"], by_name["jabar"]
    Report.objects.filter(region__in=[bandung, bogor, jabar]).delete()  # seeded again: written anew
    past = reports.reporting_period(as_of)
    due = past.due_on()

    def submit(user, region, period, day, summary):
        report = Report.objects.filter(region=region, period=period.code).first()
        return reports.submit(
            user=user, region=region, period=period, expected_version=report.version if report else 1,
            narrative={"sections": {"summary": summary}}, now=_at(min(day, as_of), 10),
        )

    submit(officer, bandung, past, past.end + datetime.timedelta(days=12),
           "Kerja sama pariwisata berjalan; dua kesepakatan bersama masih menunggu PKS.")
    returned = submit(bogor_officer, bogor, past, past.end + datetime.timedelta(days=15),
                      "Laporan semester Kabupaten Bogor.")
    reports.return_report(user=province_officer, region=bogor, period=past, expected_version=returned.version,
                          comment="Lengkapi narasi untuk kerja sama yang terhenti dan kendalanya.",
                          now=_at(min(past.end + datetime.timedelta(days=20), as_of), 14))
    submit(province_officer, jabar, past, min(due, past.end + datetime.timedelta(days=25)),
           "Provinsi Jawa Barat bersama kabupaten/kota menyampaikan laporan kerja sama daerah.")

    before = reports.Period(past.year, 1) if past.semester == 2 else reports.Period(past.year - 1, 2)
    submit(officer, bandung, before, before.due_on() + datetime.timedelta(days=9),
           "Laporan disampaikan terlambat karena pergantian petugas.")

    current = reports.Period(as_of.year, 1 if as_of.month <= 6 else 2)
    reports.save_narrative(user=officer, region=bandung, period=current, expected_version=1,
                           narrative={"sections": {"summary": "Draf laporan semester berjalan."}})
    return {"reports": Report.objects.count()}
