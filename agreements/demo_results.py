"""Demo data for the results of cooperation, called by ``demo.seed``: outcome indicators with actual values per
semester on implementing PKSs (the demo officers' regions first: Kota Bandung, Kabupaten Bogor, Jawa Barat), and
financing lines over the last three fiscal years on signed agreements, so that the agreement, region and affair pages,
the register's filters and sort, and the readable workbook show them.

Deterministic for a given seed and anchor date: the agreements are read in a fixed order and the numbers drawn from one
``random.Random(seed)``. Written in bulk with their history rows.
"""

import datetime
import random
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import stalls
from .models import (
    Agreement,
    AgreementParty,
    Financing,
    FundingSource,
    Indicator,
    IndicatorActual,
    NeedOffer,
    Stage,
    ThirdParty,
)

DEMO_REGIONS = ("32.73", "32.01", "32")
MAX_PKS = 40  # implementing PKSs with indicators
MAX_FINANCED = 120  # signed agreements with financing lines
# Per affair, what the cooperation should change: (indicator, unit, baseline, target); the others get the generic one.
INDICATORS = {
    "2.11": [("Sampah terangkut ke TPA regional", "ton per hari", 120, 200),
             ("Sampah yang didaur ulang", "%", 8, 20)],
    "1.03": [("Rumah tangga terlayani air perpipaan", "rumah tangga", 1200, 2000),
             ("Luas genangan banjir", "hektare", 340, 120)],
    "3.26": [("Kunjungan wisatawan", "orang per tahun", 150000, 240000)],
    "2.15": [("Penumpang angkutan aglomerasi", "orang per hari", 4000, 9000)],
    "1.02": [("Pasien rujukan tertangani dalam 24 jam", "%", 62, 90)],
    "1.01": [("Guru mengikuti pertukaran", "orang", 0, 150)],
    "2.09": [("Cadangan beras daerah", "ton", 200, 500)],
}
GENERIC = [("Warga terlayani kegiatan kerja sama", "orang", 0, 5000)]
NOTES = ["Data dinas teknis, diverifikasi Bagian Kerja Sama.", "Laporan semester perangkat daerah.", ""]


def _semesters(start: datetime.date, as_of: datetime.date, limit: int = 5) -> list[tuple[datetime.date, datetime.date]]:
    """The semesters (January–June, July–December) after ``start`` that ended by ``as_of``, the latest ``limit``."""
    periods = []
    year, half = start.year, 1 if start.month <= 6 else 2
    while True:
        begin = datetime.date(year, 1 if half == 1 else 7, 1)
        end = datetime.date(year, 6, 30) if half == 1 else datetime.date(year, 12, 31)
        if end > as_of:
            break
        if end >= start:
            periods.append((begin, end))
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return periods[-limit:]


def _ordered(queryset):
    """The demo officers' agreements first, then by number."""
    mine = Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region__code__in=DEMO_REGIONS))
    return queryset.annotate(demo_officer=mine).order_by("-demo_officer", "number")


def seed_results(*, seed: int, as_of: datetime.date, users: list) -> dict:
    """Indicators with their actual values, and financing lines. Returns their counts."""
    rng = random.Random(seed)
    by_region = {u.region.code: u for u in users if u.region_id}
    officers_of = {}
    for agreement_id, code in AgreementParty.objects.filter(region__code__in=list(by_region)).values_list(
            "agreement_id", "region__code").order_by("agreement_id", "region__code"):
        officers_of.setdefault(agreement_id, by_region[code])
    when = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time(9)))

    implementing = list(_ordered(
        stalls.with_status(Agreement.objects.filter(document_type=Agreement.DocumentType.PKS), as_of=as_of)
        .filter(stage=Stage.IMPLEMENTING)
    ).values_list("pk", "signed_on", "ends_on")[:MAX_PKS])
    affairs = {}
    for agreement_id, code in Agreement.affairs.through.objects.filter(
            agreement_id__in=[pk for pk, _s, _e in implementing]).order_by("governmentaffair__code").values_list(
            "agreement_id", "governmentaffair__code"):
        affairs.setdefault(agreement_id, code)
    needs = {}
    for pk, affair_code, party in NeedOffer.objects.filter(
            kind=NeedOffer.Kind.NEED, region__parties__agreement_id__in=[pk for pk, _s, _e in implementing]
    ).values_list("pk", "affair__code", "region__parties__agreement_id").order_by("pk"):
        needs.setdefault((party, affair_code), pk)

    indicators, planned_actuals = [], []
    for index, (pk, signed_on, ends_on) in enumerate(implementing):
        officer = officers_of.get(pk)
        affair = affairs.get(pk)
        choices = INDICATORS.get(affair, GENERIC)
        for order, (name, unit, baseline, target) in enumerate(choices[: 1 + (index % 2)]):
            baseline_on = signed_on
            target_on = ends_on if ends_on and ends_on > signed_on else signed_on + datetime.timedelta(days=3 * 365)
            indicator = Indicator(
                agreement_id=pk, need_id=needs.get((pk, affair)) if order == 0 else None, name=name, unit=unit,
                baseline_value=Decimal(baseline), baseline_on=baseline_on, target_value=Decimal(target),
                target_on=target_on, order=order, created_by=officer,
            )
            indicators.append(indicator)
            # The values move from the baseline towards the target, some faster than planned, some slower.
            pace = rng.choice([0.5, 0.8, 1.0, 1.2])
            span = max((target_on - baseline_on).days, 1)
            for period_start, period_end in _semesters(baseline_on, as_of):
                planned = (period_end - baseline_on).days / span
                reached = min(1.1, planned * pace * rng.uniform(0.85, 1.1))
                value = Decimal(baseline + (target - baseline) * reached).quantize(Decimal("0.1"))
                planned_actuals.append((indicator, period_start, period_end, value, rng.choice(NOTES), officer))
    bulk_create_with_history(indicators, Indicator, default_date=when)
    actuals = [
        IndicatorActual(indicator=indicator, period_start=start, period_end=end, value=value, note=note,
                        recorded_by=officer)
        for indicator, start, end, value, note, officer in planned_actuals
    ]
    bulk_create_with_history(actuals, IndicatorActual, default_date=when)

    signed = list(_ordered(
        Agreement.objects.filter(signed_on__isnull=False, signed_on__lte=as_of, terminated_on__isnull=True)
    ).values_list("pk", "signed_on", "value_idr")[:MAX_FINANCED])
    parties = {}
    for agreement_id, region_id in AgreementParty.objects.filter(
            agreement_id__in=[pk for pk, _s, _v in signed]).order_by("region__code").values_list(
            "agreement_id", "region_id"):
        parties.setdefault(agreement_id, []).append(region_id)
    with_third = set(ThirdParty.objects.filter(agreement_id__in=[pk for pk, _s, _v in signed])
                     .values_list("agreement_id", flat=True))
    lines = []
    for index, (pk, signed_on, value) in enumerate(signed):
        budget = value or rng.randint(5, 300) * 10_000_000
        first_year = max(signed_on.year, as_of.year - 2)
        years = list(range(first_year, as_of.year + 1))
        regions = parties.get(pk, [])
        payers = [(region_id, FundingSource.APBD) for region_id in regions]
        if index % 4 == 0 and regions:
            payers.append((regions[0], FundingSource.APBN))
        if pk in with_third:
            payers.append((None, FundingSource.THIRD_PARTY))
        share = budget // max(len(payers) * len(years), 1)
        updater = officers_of.get(pk)
        for year in years:
            for region_id, source in payers:
                planned = share - share % 1_000_000
                realised = None
                if year < as_of.year:
                    realised = int(planned * rng.uniform(0.6, 1.0)) // 1_000_000 * 1_000_000
                elif as_of.month >= 7:
                    realised = int(planned * rng.uniform(0.1, 0.5)) // 1_000_000 * 1_000_000
                lines.append(Financing(agreement_id=pk, region_id=region_id, fiscal_year=year, source=source,
                                       planned_idr=planned, realised_idr=realised, updated_by=updater,
                                       note="Dokumen Pelaksanaan Anggaran (DPA)" if source == FundingSource.APBD else ""))
    bulk_create_with_history(lines, Financing, default_date=when)
    return {"indicators": len(indicators), "indicator_actuals": len(actuals), "financing_lines": len(lines)}
