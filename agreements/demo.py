"""Demo data for ``manage.py seed_demo``: realistic agreements on the real regions and affairs.

Two steps, so that the same seed and the same anchor date always give the same data:
1. ``build_plan`` draws everything from one ``random.Random(seed)`` into plain dataclasses, with every
   date relative to the anchor date ``as_of`` and to the stall thresholds in force, so each scenario
   lands in the stage and stall state it is meant for;
2. ``write_plan`` inserts the plan with ``bulk_create`` (history rows included) in a few queries.

Scenarios cover every lifecycle stage, each of the three stall reasons and healthy agreements; the
demo officers' regions (Jawa Barat, Kota Bandung, Kabupaten Bogor) each get agreements with
milestones met, overdue and due in the next 30 days. Official names and titles stay Indonesian.
"""

import dataclasses
import datetime
import random
from collections import defaultdict

from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import (
    demo_amendments,
    demo_evaluations,
    demo_guidance,
    demo_obstacles,
    demo_parties,
    demo_reports,
    demo_results,
    demo_terms,
    stalls,
)
from .models import (
    Agreement,
    AgreementParty,
    GovernmentAffair,
    Milestone,
    MilestoneUpdate,
    NeedOffer,
    Region,
    StallSettings,
    ThirdParty,
    User,
)
from .reference import read_csv
from .stalls import Thresholds

DEMO_PASSWORD = "kerjasama-demo"

# username, role, region code (None for national roles), first name, last name
DEMO_USERS = [
    ("admin", User.Role.ADMIN, None, "Admin", "Kerjasama"),
    ("kemendagri", User.Role.MINISTRY, None, "Staf", "Kemendagri"),
    ("jabar", User.Role.PROVINCE, "32", "Petugas", "Jawa Barat"),
    ("kota-bandung", User.Role.LOCAL, "32.73", "Petugas", "Kota Bandung"),
    ("kab-bogor", User.Role.LOCAL, "32.01", "Petugas", "Kabupaten Bogor"),
]
# Partners for the demo officers' own agreements (neighbours in Jawa Barat and next door).
DEMO_PARTNERS = {"32": ["33", "36", "31"], "32.73": ["32.04", "32.77", "32.17"], "32.01": ["32.71", "32.76", "32.16"]}

# Title themes with their affairs (Permendagri 90/2019 codes).
THEMES = [
    ("Pengelolaan Sampah Regional", ["2.11", "1.03"]),
    ("Pengembangan Kawasan Wisata Terpadu", ["3.26", "2.22"]),
    ("Penanganan Banjir Lintas Daerah", ["1.03", "1.05"]),
    ("Pengembangan Transportasi Aglomerasi", ["2.15"]),
    ("Penyediaan Air Minum Regional", ["1.03", "1.04"]),
    ("Pelayanan Kesehatan Rujukan di Wilayah Perbatasan", ["1.02"]),
    ("Peningkatan Mutu Pendidikan dan Pertukaran Guru", ["1.01"]),
    ("Ketahanan Pangan dan Distribusi Beras", ["2.09", "3.27"]),
    ("Pengembangan Sentra Industri Kecil dan Menengah", ["3.31", "2.17"]),
    ("Promosi Investasi Bersama", ["2.18"]),
    ("Pengelolaan Daerah Aliran Sungai", ["2.11", "3.28"]),
    ("Integrasi Data Kependudukan", ["2.12", "2.16"]),
    ("Pengembangan Pelabuhan Perikanan", ["3.25"]),
    ("Penanggulangan Bencana dan Kebakaran", ["1.05"]),
    ("Perlindungan Perempuan dan Anak", ["2.08"]),
    ("Pelatihan dan Penempatan Tenaga Kerja", ["2.07"]),
    ("Pengembangan Energi Terbarukan", ["3.29"]),
    ("Perdagangan Antardaerah Komoditas Unggulan", ["3.30"]),
    ("Pengembangan Kawasan Transmigrasi", ["3.32"]),
    ("Pelestarian Cagar Budaya", ["2.22"]),
    ("Pengembangan Perpustakaan Digital", ["2.23"]),
    ("Penataan Ruang Kawasan Perbatasan", ["1.03", "2.10"]),
    ("Pembinaan Olahraga Prestasi", ["2.19"]),
    ("Penyelenggaraan Statistik Sektoral", ["2.20"]),
    ("Pengamanan Informasi dan Persandian", ["2.21"]),
    ("Tata Kelola Kearsipan Daerah", ["2.24"]),
    ("Pemberdayaan Masyarakat Desa Perbatasan", ["2.13"]),
    ("Percepatan Penurunan Stunting", ["1.02", "2.14"]),
    ("Penanganan Penyandang Masalah Kesejahteraan Sosial", ["1.06"]),
    ("Pembangunan Rumah Layak Huni", ["1.04"]),
    ("Pengembangan Agribisnis Hortikultura", ["3.27"]),
]
PKS_ASPECTS = [
    "Penyediaan Sarana dan Prasarana", "Peningkatan Kapasitas Sumber Daya Manusia", "Pembiayaan Bersama",
    "Operasional dan Pemeliharaan", "Penyusunan Rencana Induk", "Pertukaran Data dan Informasi",
]
AGENCIES = {
    "1.01": "Dinas Pendidikan", "1.02": "Dinas Kesehatan", "1.03": "Dinas Pekerjaan Umum dan Penataan Ruang",
    "1.04": "Dinas Perumahan dan Kawasan Permukiman", "1.05": "Badan Penanggulangan Bencana Daerah",
    "1.06": "Dinas Sosial", "2.07": "Dinas Tenaga Kerja", "2.08": "Dinas Pemberdayaan Perempuan dan Perlindungan Anak",
    "2.09": "Dinas Ketahanan Pangan", "2.11": "Dinas Lingkungan Hidup",
    "2.12": "Dinas Kependudukan dan Pencatatan Sipil", "2.15": "Dinas Perhubungan",
    "2.16": "Dinas Komunikasi dan Informatika", "2.18": "Dinas Penanaman Modal dan PTSP",
    "3.25": "Dinas Kelautan dan Perikanan", "3.26": "Dinas Pariwisata", "3.27": "Dinas Pertanian",
    "3.29": "Dinas Energi dan Sumber Daya Mineral", "3.30": "Dinas Perdagangan", "3.31": "Dinas Perindustrian",
}
DEFAULT_AGENCY = "Bagian Kerja Sama, Sekretariat Daerah"
THIRD_PARTIES = {
    Agreement.Kind.KSDPK: [
        "Universitas Padjadjaran", "Institut Teknologi Bandung", "Universitas Gadjah Mada", "Universitas Indonesia",
        "Universitas Airlangga", "Universitas Hasanuddin", "Universitas Sumatera Utara", "Universitas Udayana",
        "PT PLN (Persero)", "PT Pertamina (Persero)", "PT Bank Rakyat Indonesia (Persero) Tbk",
        "PT Telkom Indonesia (Persero) Tbk", "Perum Bulog", "PT Kereta Api Indonesia (Persero)",
        "PT Pos Indonesia (Persero)", "PT Pelabuhan Indonesia (Persero)", "Yayasan Kesehatan Masyarakat Nusantara",
    ],
    Agreement.Kind.KSDPL: [
        "Prefektur Okayama, Jepang", "Provinsi Gyeonggi, Korea Selatan", "Kota Rotterdam, Belanda",
        "Provinsi Guangdong, Tiongkok", "Negara Bagian Australia Barat, Australia",
    ],
    Agreement.Kind.KSDLL: [
        "Japan International Cooperation Agency (JICA)", "Korea International Cooperation Agency (KOICA)",
        "Deutsche Gesellschaft für Internationale Zusammenarbeit (GIZ)", "United Nations Development Programme (UNDP)",
    ],
}
KINDS = [  # (kind, weight)
    (Agreement.Kind.KSDD_WAJIB, 25), (Agreement.Kind.KSDD_SUKARELA, 45), (Agreement.Kind.KSDPK, 20),
    (Agreement.Kind.KSDPL, 5), (Agreement.Kind.KSDLL, 5),
]
MILESTONE_TITLES = [
    "Rapat koordinasi dan penyusunan rencana kerja bersama", "Penyusunan Detail Engineering Design (DED)",
    "Pengadaan lahan", "Pembangunan fisik tahap I", "Pembangunan fisik tahap II", "Sosialisasi kepada masyarakat",
    "Uji coba operasional", "Penyusunan standar operasional prosedur", "Pelatihan petugas",
    "Evaluasi pelaksanaan semester I", "Penyusunan laporan akhir pelaksanaan", "Serah terima aset",
]
NOTES = {
    Milestone.Status.IN_PROGRESS: ["Pekerjaan dimulai sesuai jadwal.", "Tim teknis gabungan sudah dibentuk."],
    Milestone.Status.MET: ["Selesai, laporan sudah diterima kedua pihak.", "Berita acara penyelesaian ditandatangani."],
    Milestone.Status.PARTIALLY_MET: ["Sebagian tercapai; terkendala anggaran.", "Terkendala pengadaan lahan."],
    Milestone.Status.NOT_MET: ["Tidak terlaksana karena refocusing anggaran."],
    Milestone.Status.CANCELLED: ["Dibatalkan atas kesepakatan para pihak."],
}
FIRST_NAMES = [
    "Ahmad", "Budi", "Siti", "Dewi", "Rudi", "Agus", "Sri", "Hendra", "Yusuf", "Nur", "Rina", "Bambang", "Wahyu",
    "Dedi", "Ratna", "Iwan", "Fitri", "Taufik", "Lestari", "Eko",
]
LAST_NAMES = [
    "Santoso", "Wijaya", "Hidayat", "Saputra", "Kurniawan", "Rahmawati", "Setiawan", "Nugroho", "Pratama", "Lubis",
    "Siregar", "Nasution", "Harahap", "Tanjung", "Gunawan", "Permana", "Sutrisno", "Manurung", "Sembiring", "Daulay",
]

# Top-level scenarios and their weights: KB_* are KBs (KB_FOLLOWED brings its PKS), PKS_* standalone PKS.
KB_SCENARIOS = {"kb_draft": 5, "kb_recent": 8, "kb_stalled": 14, "kb_expired": 5, "kb_terminated": 3, "kb_followed": 22}
PKS_SCENARIOS = {
    "pks_draft": 4, "pks_recent": 6, "pks_not_started": 10, "pks_implementing": 10, "pks_overdue": 10,
    "pks_completed": 6, "pks_expired": 3, "pks_terminated": 3,
}
FOLLOW_UP_SCENARIOS = ["pks_implementing", "pks_overdue", "pks_not_started", "pks_completed", "pks_recent"]


@dataclasses.dataclass
class PlannedUpdate:
    on: datetime.date
    status_before: str
    status_after: str
    progress: int
    note: str


@dataclasses.dataclass
class PlannedMilestone:
    title: str
    due_on: datetime.date | None
    status: str = Milestone.Status.SCHEDULED
    started_on: datetime.date | None = None
    completed_on: datetime.date | None = None
    progress: int = 0
    responsible: int = 0  # index into the agreement's regions
    updates: list[PlannedUpdate] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PlannedAgreement:
    number: str
    document_type: str
    title: str
    scope: str
    kind: str
    regions: list[Region]
    third_parties: list[str]
    affairs: list[str]
    signed_on: datetime.date | None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    dprd_approved_on: datetime.date | None = None
    terminated_on: datetime.date | None = None
    value_idr: int | None = None
    parent: int | None = None  # index of the parent KB in the plan
    milestones: list[PlannedMilestone] = dataclasses.field(default_factory=list)
    party_details: list[dict] = dataclasses.field(default_factory=list)
    scenario: str = ""


def _neighbour_provinces() -> dict[str, list[str]]:
    """Provinces next to each other on the tile grid (a fair stand-in for geographic neighbours)."""
    tiles = {row["code"]: (int(row["col"]), int(row["row"])) for row in read_csv("province_tiles.csv")}
    return {
        code: sorted(
            other for other, (c2, r2) in tiles.items()
            if other != code and abs(c - c2) <= 1 and abs(r - r2) <= 1
        )
        for code, (c, r) in tiles.items()
    }


def _head_title(region: Region) -> str:
    if region.level == Region.Level.PROVINCE:
        return f"Gubernur {region.name}"
    if region.level == Region.Level.KOTA:
        return f"Wali Kota {region.name.removeprefix('Kota ')}"
    return f"Bupati {region.name.removeprefix('Kabupaten ')}"


def _government(region: Region) -> str:
    return f"Pemerintah Provinsi {region.name}" if region.level == Region.Level.PROVINCE else f"Pemerintah {region.name}"


class PlanBuilder:
    """Draws the whole data set from one seeded random generator; touches the database only to read."""

    def __init__(self, *, seed: int, as_of: datetime.date, thresholds: Thresholds):
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.t = thresholds
        # Sorted in Python: the database's collation must not change the data a seed gives.
        regions = sorted(Region.objects.filter(is_autonomous=True), key=lambda r: r.code)
        self.by_code = {r.code: r for r in regions}
        self.provinces = [r for r in regions if r.level == Region.Level.PROVINCE]
        self.local = [r for r in regions if r.level != Region.Level.PROVINCE]
        self.local_by_province = defaultdict(list)
        for r in self.local:
            self.local_by_province[r.province_code].append(r)
        self.neighbours = _neighbour_provinces()
        self.plan: list[PlannedAgreement] = []

    # -- helpers ------------------------------------------------------------------------------

    def days_ago(self, low: int, high: int) -> datetime.date:
        return self.as_of - datetime.timedelta(days=self.rng.randint(low, max(low, high)))

    def days_ahead(self, low: int, high: int) -> datetime.date:
        return self.as_of + datetime.timedelta(days=self.rng.randint(low, max(low, high)))

    def between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        span = max(0, (end - start).days)
        return start + datetime.timedelta(days=self.rng.randint(0, span))

    def weighted(self, weights: dict[str, int]) -> str:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def primary_region(self) -> Region:
        pool = self.local
        if self.rng.random() < 0.2:  # a richer picture for the demo officers of Jawa Barat
            pool = [self.by_code["32"], *self.local_by_province["32"]]
        elif self.rng.random() < 0.2:
            pool = self.provinces
        return self.rng.choice(pool)

    def partner_for(self, region: Region, exclude: set[str]) -> Region:
        """Mostly the same province, else a neighbouring one, rarely anywhere."""
        roll = self.rng.random()
        province = region.province_code
        if roll < 0.6:
            pool = self.local_by_province[province] + ([self.by_code[province]] if region.level != "province" else [])
        elif roll < 0.9 and self.neighbours.get(province):
            other = self.rng.choice(self.neighbours[province])
            if other not in self.by_code:  # DKI Jakarta's province is autonomous; its areas are not
                pool = []
            elif region.level == Region.Level.PROVINCE:
                pool = [self.by_code[other]]
            else:
                pool = self.local_by_province[other] or [self.by_code[other]]
        else:
            pool = self.provinces if region.level == Region.Level.PROVINCE else self.local
        pool = [r for r in pool if r.code not in exclude]
        if not pool:
            pool = [r for r in self.local_by_province[province] + self.local if r.code not in exclude]
        return self.rng.choice(pool)

    def parties(self, kind: str, primary: Region | None = None, partners: list[Region] | None = None):
        primary = primary or self.primary_region()
        if kind not in Agreement.KSDD_KINDS:
            return [primary], [self.rng.choice(THIRD_PARTIES[kind])]
        regions = [primary, *(partners or [])]
        if not partners:
            wanted = 3 if self.rng.random() < 0.15 else 2
            while len(regions) < wanted:
                regions.append(self.partner_for(primary, {r.code for r in regions}))
        return regions, []

    def number(self, document_type: str, primary: Region, year: int) -> str:
        return f"{document_type}/{len(self.plan) + 1:05d}/{primary.code}/{year}"

    def party_details(self, regions, document_type, affairs, year):
        details = []
        for region in regions:
            agency = AGENCIES.get(affairs[0], DEFAULT_AGENCY)
            details.append({
                "document_number": f"{self.rng.randint(100, 999)}/{self.rng.randint(1, 400)}/"
                                   f"{'KSD' if document_type == 'KB' else 'PKS'}/{region.code}/{year}",
                "signatory_name": self.person(),
                "signatory_position": _head_title(region) if document_type == "KB" else f"Kepala {agency}",
                "agency": agency,
                "contact_person": f"{self.person()} ({agency})",
            })
        return details

    # -- agreements ---------------------------------------------------------------------------

    def add(self, *, document_type, signed_on, kind=None, regions=None, third_parties=None, theme=None,
            parent=None, scenario="", validity_days=None, **dates) -> PlannedAgreement:
        kind = kind or self.rng.choices([k for k, _w in KINDS], weights=[w for _k, w in KINDS])[0]
        if regions is None:
            regions, third_parties = self.parties(kind)
        title_base, affairs = theme or self.rng.choice(THEMES)
        names = [_government(r) for r in regions] + list(third_parties or [])
        if document_type == Agreement.DocumentType.KB:
            title = f"{title_base} antara {' dan '.join([', '.join(names[:-1]), names[-1]])}"
        else:
            title = f"{self.rng.choice(PKS_ASPECTS)} dalam rangka {title_base}"
        year = (signed_on or self.as_of).year
        if signed_on and "ends_on" not in dates:
            validity = validity_days or (1826 if document_type == "KB" else self.rng.choice([730, 1095, 1826]))
            dates["starts_on"] = signed_on
            dates["ends_on"] = signed_on + datetime.timedelta(days=validity)
        planned = PlannedAgreement(
            number=self.number(document_type, regions[0], year),
            document_type=document_type,
            title=title[:300],
            scope=f"Ruang lingkup: {title_base.lower()}, meliputi perencanaan, pelaksanaan, pembiayaan, serta "
                  f"pemantauan dan evaluasi.",
            kind=kind,
            regions=regions,
            third_parties=list(third_parties or []),
            affairs=affairs,
            signed_on=signed_on,
            parent=parent,
            scenario=scenario,
            party_details=self.party_details(regions, document_type, affairs, year),
            **dates,
        )
        if document_type == Agreement.DocumentType.PKS and self.rng.random() < 0.6:
            planned.value_idr = self.rng.randint(5, 500) * 10_000_000
        if signed_on and self.rng.random() < 0.3 and signed_on + datetime.timedelta(days=60) <= self.as_of:
            planned.dprd_approved_on = signed_on + datetime.timedelta(days=self.rng.randint(20, 60))
        self.plan.append(planned)
        return planned

    def milestone(self, planned, *, due_on, status=Milestone.Status.SCHEDULED, started_on=None,
                  completed_on=None, progress=None) -> PlannedMilestone:
        used = {m.title for m in planned.milestones}
        title = self.rng.choice([t for t in MILESTONE_TITLES if t not in used])
        if progress is None:
            progress = {Milestone.Status.MET: 100, Milestone.Status.SCHEDULED: 0,
                        Milestone.Status.CANCELLED: 0}.get(status, self.rng.choice([20, 35, 50, 65, 80]))
        m = PlannedMilestone(title=title, due_on=due_on, status=status, started_on=started_on,
                             completed_on=completed_on, progress=progress,
                             responsible=self.rng.randrange(len(planned.regions)))
        if started_on:
            m.updates.append(PlannedUpdate(started_on, Milestone.Status.SCHEDULED, Milestone.Status.IN_PROGRESS,
                                           min(progress, 10), self.rng.choice(NOTES[Milestone.Status.IN_PROGRESS])))
        if status != Milestone.Status.SCHEDULED and status != Milestone.Status.IN_PROGRESS:
            before = Milestone.Status.IN_PROGRESS if started_on else Milestone.Status.SCHEDULED
            on = completed_on or min(self.as_of, max(due_on or self.as_of, started_on or due_on or self.as_of))
            m.updates.append(PlannedUpdate(on, before, status, progress, self.rng.choice(NOTES[status])))
        planned.milestones.append(m)
        return m

    def met(self, planned, after: datetime.date, before: datetime.date):
        """A milestone met between two dates (completion ≤ ``before`` ≤ as_of)."""
        started = self.between(after, before)
        completed = self.between(started, before)
        due = completed + datetime.timedelta(days=self.rng.randint(-10, 20))
        return self.milestone(planned, due_on=due, status=Milestone.Status.MET, started_on=started,
                              completed_on=completed)

    def future_milestones(self, planned, count: int, first_due_within: int | None = None):
        for i in range(count):
            due = self.days_ahead(3, first_due_within) if i == 0 and first_due_within else self.days_ahead(35, 360)
            self.milestone(planned, due_on=due)

    # PKS scenarios: each takes the signing date (or draws one) and builds the milestones.

    def pks(self, scenario: str, *, signed_on=None, parent=None, regions=None, third_parties=None, kind=None,
            theme=None) -> PlannedAgreement:
        t, g = self.t, self.t.overdue_grace_days
        impl = t.implementation_start_days
        signed = signed_on or {
            "pks_draft": None,
            "pks_recent": self.days_ago(5, impl - 5),
            "pks_not_started": self.days_ago(impl + 1, impl + 700),
            "pks_implementing": self.days_ago(120, 700),
            "pks_overdue": self.days_ago(max(300, g + 120), 900),
            "pks_completed": self.days_ago(400, 1400),
            "pks_expired": self.days_ago(1200, 1800),
            "pks_terminated": self.days_ago(300, 1400),
        }[scenario]
        extra = {}
        if scenario == "pks_expired":
            extra["starts_on"] = signed
            extra["ends_on"] = signed + datetime.timedelta(days=730)
        elif scenario == "pks_terminated":
            extra["terminated_on"] = self.between(signed + datetime.timedelta(days=60), self.as_of)
        elif signed and scenario in ("pks_implementing", "pks_overdue", "pks_not_started", "pks_recent"):
            age = (self.as_of - signed).days
            extra["starts_on"] = signed
            extra["ends_on"] = signed + datetime.timedelta(days=max(age + 400, self.rng.choice([1095, 1826])))
        p = self.add(document_type=Agreement.DocumentType.PKS, signed_on=signed, parent=parent, regions=regions,
                     third_parties=third_parties, kind=kind, theme=theme, scenario=scenario, **extra)
        yesterday = self.as_of - datetime.timedelta(days=1)
        if scenario == "pks_draft":
            self.future_milestones(p, self.rng.randint(0, 2))
        elif scenario in ("pks_recent", "pks_not_started"):
            count = self.rng.randint(0 if scenario == "pks_not_started" else 1, 3)
            self.future_milestones(p, count)
            if scenario == "pks_not_started" and self.rng.random() < 0.3:
                # Also overdue: due after signing, more than the grace period ago, never started.
                due = self.between(signed + datetime.timedelta(days=10), self.as_of - datetime.timedelta(days=g + 5))
                self.milestone(p, due_on=due, status=self.rng.choice([Milestone.Status.SCHEDULED,
                                                                      Milestone.Status.NOT_MET]))
        elif scenario in ("pks_implementing", "pks_overdue"):
            first = self.met(p, signed + datetime.timedelta(days=5), yesterday - datetime.timedelta(days=20))
            if scenario == "pks_overdue":
                overdue_from = self.as_of - datetime.timedelta(days=g + 5)
                due = self.between(max(first.completed_on, signed + datetime.timedelta(days=30)), overdue_from)
                due = min(due, overdue_from)
                status = self.rng.choice([Milestone.Status.IN_PROGRESS, Milestone.Status.PARTIALLY_MET,
                                          Milestone.Status.NOT_MET])
                started = first.completed_on if status != Milestone.Status.NOT_MET else None
                self.milestone(p, due_on=due, status=status, started_on=started)
            else:
                self.milestone(p, due_on=self.days_ahead(30, 150), status=Milestone.Status.IN_PROGRESS,
                               started_on=first.completed_on)
            self.future_milestones(p, self.rng.randint(1, 2), first_due_within=28)
        elif scenario == "pks_completed":
            for _i in range(self.rng.randint(2, 4)):
                self.met(p, signed + datetime.timedelta(days=5), yesterday)
            if self.rng.random() < 0.3:
                self.milestone(p, due_on=self.between(signed, yesterday), status=Milestone.Status.CANCELLED)
        elif scenario == "pks_expired":
            if self.rng.random() < 0.7:
                first = self.met(p, signed + datetime.timedelta(days=5), signed + datetime.timedelta(days=300))
                self.milestone(p, due_on=first.completed_on + datetime.timedelta(days=120),
                               status=Milestone.Status.PARTIALLY_MET, started_on=first.completed_on)
        elif scenario == "pks_terminated":
            end = p.terminated_on
            if (end - signed).days > 30:
                self.met(p, signed + datetime.timedelta(days=5), end)
            self.milestone(p, due_on=end + datetime.timedelta(days=self.rng.randint(30, 200)),
                           status=Milestone.Status.CANCELLED)
        return p

    def kb(self, scenario: str) -> None:
        kb_days = self.t.kb_follow_up_days
        if scenario == "kb_draft":
            self.add(document_type="KB", signed_on=None, scenario=scenario)
        elif scenario == "kb_recent":
            self.add(document_type="KB", signed_on=self.days_ago(10, kb_days - 5), scenario=scenario)
        elif scenario == "kb_stalled":
            signed = self.days_ago(kb_days + 1, kb_days + 1000)
            age = (self.as_of - signed).days
            self.add(document_type="KB", signed_on=signed, scenario=scenario, validity_days=max(1826, age + 60))
        elif scenario == "kb_expired":  # expired unused: the case the ministry cares about most
            signed = self.days_ago(max(1900, kb_days + 30), max(2600, kb_days + 700))
            self.add(document_type="KB", signed_on=signed, scenario=scenario, validity_days=min(1826, kb_days))
        elif scenario == "kb_terminated":
            signed = self.days_ago(200, 1500)
            self.add(document_type="KB", signed_on=signed, scenario=scenario,
                     terminated_on=self.between(signed + datetime.timedelta(days=30), self.as_of))
        elif scenario == "kb_followed":
            child_scenario = self.rng.choice(FOLLOW_UP_SCENARIOS)
            self.followed_kb(child_scenario)

    def followed_kb(self, child_scenario: str, regions=None, third_parties=None, kind=None, theme=None,
                    children=None):
        """A KB with one or two PKS signed after it (the first in ``child_scenario``)."""
        kind = kind or self.rng.choices([k for k, _w in KINDS], weights=[w for _k, w in KINDS])[0]
        if regions is None:
            regions, third_parties = self.parties(kind)
        theme = theme or self.rng.choice(THEMES)
        # Draw the PKS's signing date first; the KB was signed 30–365 days before it.
        probe = {"pks_recent": (5, self.t.implementation_start_days - 5),
                 "pks_not_started": (self.t.implementation_start_days + 1, self.t.implementation_start_days + 500),
                 "pks_implementing": (120, 700), "pks_overdue": (max(300, self.t.overdue_grace_days + 120), 900),
                 "pks_completed": (400, 1000)}[child_scenario]
        pks_signed = self.days_ago(*probe)
        kb_signed = pks_signed - datetime.timedelta(days=self.rng.randint(30, 365))
        age = (self.as_of - kb_signed).days
        self.add(document_type="KB", signed_on=kb_signed, kind=kind, regions=regions,
                      third_parties=third_parties, theme=theme, scenario="kb_followed",
                      validity_days=max(1826, age + 60))
        parent = len(self.plan) - 1
        for scenario in children or [child_scenario, *(["pks_draft"] if self.rng.random() < 0.15 else [])]:
            self.pks(scenario, signed_on=pks_signed if scenario == child_scenario else None, parent=parent,
                     regions=regions, third_parties=third_parties, kind=kind, theme=theme)

    def demo_officer_agreements(self) -> None:
        """Each demo officer's region: milestones met, overdue and due within 30 days, and a healthy one."""
        for code, partners in DEMO_PARTNERS.items():
            regions = [self.by_code[code], self.by_code[self.rng.choice(partners)]]
            kind = Agreement.Kind.KSDD_WAJIB
            self.followed_kb("pks_overdue", regions=regions, kind=kind, third_parties=[])
            self.followed_kb("pks_implementing", regions=regions, kind=Agreement.Kind.KSDD_SUKARELA,
                             third_parties=[])

    def build(self, n: int) -> list[PlannedAgreement]:
        self.demo_officer_agreements()
        # One of each scenario first, so every stage and stall reason exists even in small runs.
        queue = list(KB_SCENARIOS) + list(PKS_SCENARIOS)
        weights = {**KB_SCENARIOS, **PKS_SCENARIOS}
        while len(self.plan) < n:
            scenario = queue.pop(0) if queue else self.weighted(weights)
            if scenario.startswith("kb_"):
                self.kb(scenario)
            else:
                self.pks(scenario)
        del self.plan[n:]  # a followed KB's last PKS may overshoot; children always come after parents
        return self.plan


def build_plan(*, n: int, seed: int, as_of: datetime.date, thresholds: Thresholds | None = None):
    return PlanBuilder(seed=seed, as_of=as_of, thresholds=thresholds or Thresholds.current()).build(n)


def _at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def ensure_demo_users(password: str = DEMO_PASSWORD) -> list[User]:
    """Create or reset the demo accounts (the admin is a superuser)."""
    users = []
    for username, role, code, first, last in DEMO_USERS:
        user = User.objects.filter(username=username).first() or User(username=username)
        user.role = role
        user.region = Region.objects.get(code=code) if code else None
        user.email = f"{username}@kerjasama.example.go.id"
        user.first_name, user.last_name = first, last
        user.is_active = True
        user.is_staff = user.is_superuser = role == User.Role.ADMIN
        user.set_password(password)
        user.full_clean()
        user.save()
        users.append(user)
    return users


@transaction.atomic
def write_plan(plan: list[PlannedAgreement], *, as_of: datetime.date, users: list[User] = ()) -> dict:
    """Insert the plan in bulk (with history rows); return counts."""
    history_date = _at(as_of, 8)
    officer_by_region = {u.region_id: u for u in users if u.region_id}
    objects = []
    for p in plan:
        objects.append(Agreement(
            number=p.number, document_type=p.document_type, title=p.title, scope=p.scope,
            cooperation_kind=p.kind, signed_on=p.signed_on, dprd_approved_on=p.dprd_approved_on,
            starts_on=p.starts_on, ends_on=p.ends_on, terminated_on=p.terminated_on, value_idr=p.value_idr,
        ))
    roots = [o for o, p in zip(objects, plan, strict=True) if p.parent is None]
    bulk_create_with_history(roots, Agreement, batch_size=500, default_date=history_date)
    children = []
    for o, p in zip(objects, plan, strict=True):
        if p.parent is not None:
            o.parent = objects[p.parent]
            children.append(o)
    bulk_create_with_history(children, Agreement, batch_size=500, default_date=history_date)
    # auto_now/auto_now_add overwrite the timestamps in bulk_create; bulk_update writes the planned ones.
    for o, p in zip(objects, plan, strict=True):
        o.created_at = _at(min((p.signed_on or as_of) - datetime.timedelta(days=30), as_of))
        o.updated_at = _at(min(p.signed_on or as_of, as_of))
    Agreement.objects.bulk_update(objects, ["created_at", "updated_at"], batch_size=500)

    affairs = dict(GovernmentAffair.objects.values_list("code", "pk"))
    through = Agreement.affairs.through
    through.objects.bulk_create(
        [through(agreement_id=o.pk, governmentaffair_id=affairs[code])
         for o, p in zip(objects, plan, strict=True) for code in p.affairs],
        batch_size=1000,
    )
    parties = [
        AgreementParty(agreement=o, region=region, **details)
        for o, p in zip(objects, plan, strict=True) for region, details in zip(p.regions, p.party_details, strict=True)
    ]
    bulk_create_with_history(parties, AgreementParty, batch_size=1000, default_date=history_date)
    third = [ThirdParty(agreement=o, name=name) for o, p in zip(objects, plan, strict=True) for name in p.third_parties]
    bulk_create_with_history(third, ThirdParty, batch_size=1000, default_date=history_date)

    milestones, planned_ms = [], []
    for o, p in zip(objects, plan, strict=True):
        for m in p.milestones:
            milestones.append(Milestone(
                agreement=o, title=m.title, description="", responsible_region=p.regions[m.responsible],
                due_on=m.due_on, started_on=m.started_on, completed_on=m.completed_on, status=m.status,
                progress=m.progress,
            ))
            planned_ms.append((m, p))
    bulk_create_with_history(milestones, Milestone, batch_size=1000, default_date=history_date)
    for obj, (_m, p) in zip(milestones, planned_ms, strict=True):
        obj.created_at = obj.updated_at = _at(min(p.signed_on or as_of, as_of))
    Milestone.objects.bulk_update(milestones, ["created_at", "updated_at"], batch_size=500)

    updates = []
    for obj, (m, p) in zip(milestones, planned_ms, strict=True):
        for u in m.updates:
            updates.append(MilestoneUpdate(
                milestone=obj, user=officer_by_region.get(p.regions[m.responsible].pk),
                status_before=u.status_before, status_after=u.status_after, progress=u.progress, note=u.note,
            ))
            updates[-1]._planned_at = _at(min(u.on, as_of), 10)
    MilestoneUpdate.objects.bulk_create(updates, batch_size=1000)
    for u in updates:
        u.created_at = u._planned_at
    MilestoneUpdate.objects.bulk_update(updates, ["created_at"], batch_size=500)
    return {
        "agreements": len(objects), "parties": len(parties), "third_parties": len(third),
        "milestones": len(milestones), "milestone_updates": len(updates),
    }


# Needs and offers: what a region lacks or can share, per affair, as its RPJMD/RKPD states it.
NEED_TEXTS = {
    "need": [
        "Kekurangan tenaga ahli untuk {affair}; perlu pendampingan dari daerah yang berpengalaman.",
        "Belum memiliki sarana {affair} yang memadai untuk melayani warga di wilayah perbatasan.",
        "Membutuhkan mitra untuk berbagi biaya layanan {affair} secara regional.",
    ],
    "offer": [
        "Berpengalaman menjalankan program {affair} dan siap berbagi praktik baik serta pelatihan.",
        "Memiliki kapasitas lebih pada layanan {affair} yang dapat dimanfaatkan daerah tetangga.",
        "Menawarkan kerja sama {affair} dengan skema berbagi biaya.",
    ],
}


def seed_needs_offers(*, seed: int, as_of: datetime.date, users: list) -> int:
    """A few needs and offers per region around the demo officers, and some elsewhere, deterministically."""
    rng = random.Random(seed * 7919 + 17)
    ministry = next(u for u in users if u.role == User.Role.MINISTRY)
    affairs = list(GovernmentAffair.objects.order_by("code"))
    autonomous = list(Region.objects.filter(is_autonomous=True).order_by("code"))
    near = [r for r in autonomous if r.code.split(".")[0] in ("32", "33", "36")]
    regions = near + rng.sample([r for r in autonomous if r not in near], 60)
    by_code = {r.code: r for r in autonomous}
    by_affair = {a.code: a for a in affairs}
    # The demo officers' regions each declare a need that partners nearby offer (for the suggestions).
    fixed = [("32.73", "2.11", "need"), ("32.77", "2.11", "offer"), ("33.74", "2.11", "offer"),
             ("32.01", "1.03", "need"), ("32.71", "1.03", "offer"), ("32", "3.26", "need"), ("51", "3.26", "offer")]
    entries, seen = [], set()
    for code, affair_code, kind in fixed:
        region, affair = by_code[code], by_affair[affair_code]
        seen.add((region.pk, affair.pk, kind))
        entries.append(NeedOffer(
            region=region, affair=affair, kind=kind, priority="high",
            description=NEED_TEXTS[kind][0].format(affair=affair.name.lower()),
            planning_reference=f"RPJMD {as_of.year - 1}–{as_of.year + 3}", created_by=ministry, updated_by=ministry,
        ))
    for region in regions:
        for _i in range(rng.randint(1, 3)):
            affair, kind = rng.choice(affairs), rng.choice(["need", "offer"])
            if (region.pk, affair.pk, kind) in seen:
                continue
            seen.add((region.pk, affair.pk, kind))
            entries.append(NeedOffer(
                region=region, affair=affair, kind=kind,
                description=rng.choice(NEED_TEXTS[kind]).format(affair=affair.name.lower()),
                priority=rng.choice(["high", "medium", "medium", "low"]),
                planning_reference=f"RPJMD {as_of.year - rng.randint(0, 3)}–{as_of.year + 2}",
                created_by=ministry, updated_by=ministry,
            ))
    NeedOffer.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def seed(*, n: int = 400, seed: int = 2024, as_of: datetime.date, password: str = DEMO_PASSWORD) -> dict:
    """Create the demo users and ``n`` agreements anchored on ``as_of``, in one transaction."""
    with transaction.atomic():
        StallSettings.current()
        users = ensure_demo_users(password)
        plan = build_plan(n=n, seed=seed, as_of=as_of)
        counts = write_plan(plan, as_of=as_of, users=users)
        stalls.refresh_facts()  # bulk_create sends no signals
        counts["needs_offers"] = seed_needs_offers(seed=seed, as_of=as_of, users=users)
        counts["imports"] = seed_imports(as_of=as_of, users=users)
        counts.update(demo_guidance.seed_guidance(seed=seed, as_of=as_of, users=users))
        counts["proposals"] = seed_proposals(as_of=as_of, users=users)
        counts["parties"] = demo_parties.seed_parties(as_of=as_of)  # each party's signing and DPRD approval
        counts["steps"] = seed_steps(as_of=as_of, users=users)  # after the proposals: their partner's answer
        counts["obstacles"] = demo_obstacles.seed_obstacles(seed=seed, as_of=as_of, users=users)
        counts.update(demo_results.seed_results(seed=seed, as_of=as_of, users=users))  # indicators, financing
        counts["terms"] = demo_terms.seed_terms(as_of=as_of)  # ending soon, no end date, termination reasons
        counts.update(demo_evaluations.seed_evaluations(seed=seed, as_of=as_of, users=users))  # monev, some due
        counts.update(demo_amendments.seed_amendments(as_of=as_of, users=users))  # amendments, a renewed KB
        counts.update(demo_reports.seed_reports(as_of=as_of, users=users))  # reports in every state
        from . import demo_publication  # open data: a few published agreements, one public document
        counts.update(demo_publication.seed_publication(users=users))
        # The seeding above writes end dates, terminations and amendments in bulk too: today's stored status last.
        stalls.refresh_status()
    counts["users"] = [u.username for u in users]
    return counts


def _problem_in_indonesian(message: str, **values) -> str:
    """A problem as the importer words it for a user reading Indonesian (problems are stored as shown)."""
    from django.utils import translation

    with translation.override("id"):
        return translation.gettext(message) % values


def seed_imports(*, as_of: datetime.date, users: list) -> int:
    """Two past imports of the ministry's demo account, for "My imports": one done (the agreements it updated
    are linked, as the register's ?imported= filter shows them) and one whose file had a problem."""
    from .models import Agreement, ImportJob

    user = next(u for u in users if u.username == "kemendagri")
    ImportJob.objects.filter(user=user).delete()
    numbers = list(Agreement.objects.order_by("number").values_list("pk", "number", "title")[:6])
    done = ImportJob.objects.create(
        user=user, state=ImportJob.State.DONE, agreements_name="kerja-sama-jabar.xlsx",
        rows_total=len(numbers), rows_validated=len(numbers), rows_written=len(numbers),
        summary={
            "agreements": {"created": 0, "updated": len(numbers), "unchanged": 0},
            "milestones": {"created": 0, "updated": 0, "unchanged": 0},
            "agreement_rows": [{"row": i + 2, "number": number, "title": title, "action": "updated",
                                "changed": ["scope"]} for i, (_pk, number, title) in enumerate(numbers)],
            "milestone_rows": [], "more_agreements": 0, "more_milestones": 0,
        },
    )
    done.agreements.set([pk for pk, _number, _title in numbers])
    invalid = ImportJob.objects.create(
        user=user, state=ImportJob.State.INVALID, agreements_name="kerja-sama-baru.csv", rows_total=1,
        rows_validated=1,
        problems=[{"sheet": "kerja-sama-baru.csv", "row": 2, "column": "affair_codes",
                   "message": _problem_in_indonesian("Unknown affair code %(code)s.", code="9.99")}],
    )
    for job, days in ((done, 12), (invalid, 3)):
        at = _at(as_of - datetime.timedelta(days=days), hour=10)
        ImportJob.objects.filter(pk=job.pk).update(created_at=at, confirmed_at=at, started_at=at, finished_at=at)
    return 2


# Cooperation proposals around the demo officers: (proposing, partner, affair, need or offer answered as (region,
# kind), days before the anchor date it was made, answer as (status, days later, reason), message).
DEMO_PROPOSALS = [
    ("32.77", "32.73", "2.11", ("32.73", "need"), 6, None,
     "Kota Cimahi siap berbagi fasilitas pengolahan sampah untuk membantu Kota Bandung mengurangi timbulan sampah "
     "ke TPA. Kami mengusulkan rapat koordinasi bulan depan."),
    ("32.01", "32.71", "1.03", ("32.71", "offer"), 45, None,
     "Kabupaten Bogor mengajak Kota Bogor menata drainase dan ruang terbuka di kawasan perbatasan kedua daerah."),
    ("32.73", "33.74", "2.11", ("33.74", "offer"), 75, ("declined", 12,
     "Kapasitas pengolahan sampah kami sudah penuh hingga akhir tahun depan; kami terbuka untuk pembahasan ulang."),
     "Kota Bandung ingin belajar dari pengelolaan bank sampah Kota Semarang dan mengusulkan pertukaran petugas."),
]


def seed_proposals(*, as_of: datetime.date, users: list) -> int:
    """A few proposals, so that a newcomer sees them on "My agreements", the region pages and the dashboard: one
    waiting for Kota Bandung's answer, one waiting for more than 30 days, one declined with its reason, and one
    accepted with its draft KB (a draft KSDD KB of the plan between two regions, when the plan has one)."""
    from .models import Proposal

    officers = {u.region.code: u for u in users if u.region_id}
    by_code = {r.code: r for r in Region.objects.filter(code__in={c for row in DEMO_PROPOSALS for c in row[:2]})}
    affairs = {a.code: a for a in GovernmentAffair.objects.filter(code__in={row[2] for row in DEMO_PROPOSALS})}
    proposals = []
    for proposing, partner, affair, (entry_region, entry_kind), days, answer, message in DEMO_PROPOSALS:
        Proposal.objects.filter(proposing_region=by_code[proposing], partner_region=by_code[partner],
                                affair=affairs[affair]).delete()
        made = _at(as_of - datetime.timedelta(days=days), 10)
        proposal = Proposal(
            proposing_region=by_code[proposing], partner_region=by_code[partner], affair=affairs[affair],
            need_offer=NeedOffer.objects.filter(region__code=entry_region, affair=affairs[affair],
                                                kind=entry_kind).first(),
            message=message, created_by=officers.get(proposing), created_at=made,
        )
        if answer is not None:
            proposal.status, proposal.answer_reason = answer[0], answer[2]
            proposal.answered_at = made + datetime.timedelta(days=answer[1])
            proposal.answered_by = officers.get(partner)
        proposals.append(proposal)
    draft = (Agreement.objects.filter(document_type="KB", signed_on__isnull=True,
                                      cooperation_kind__in=Agreement.KSDD_KINDS, proposals__isnull=True)
             .annotate(n=models.Count("parties")).filter(n=2).order_by("number").first())
    if draft is not None:
        first, second = (p.region for p in draft.parties.select_related("region").order_by("region__code"))
        made = min(draft.created_at, _at(as_of)) - datetime.timedelta(days=14)
        proposals.append(Proposal(
            proposing_region=first, partner_region=second, affair=draft.affairs.order_by("code").first(),
            message=f"{_government(first)} mengajak {_government(second)} bekerja sama: {draft.title}.",
            created_by=officers.get(first.code), created_at=made, status=Proposal.Status.ACCEPTED,
            answered_at=made + datetime.timedelta(days=9), answered_by=officers.get(second.code), agreement=draft,
        ))
    bulk_create_with_history(proposals, Proposal, default_date=_at(as_of, 8))
    return len(proposals)


# Steps the demo officers marked by hand on draft KBs of their regions, in turn: (key, days before the anchor date
# it was done, or None and the reason it does not apply). The rest of every checklist is what the register says.
DEMO_STEP_MARKS = [
    [("TKKSD", 40, ""), ("OBJECT", 35, ""), ("PLAN", 21, "")],
    [("TKKSD", None, "TKKSD belum dibentuk dengan keputusan kepala daerah; persiapan dibahas oleh Bagian Kerja Sama "
                     "Sekretariat Daerah bersama perangkat daerah terkait."), ("OBJECT", 30, "")],
    [("TKKSD", 45, ""), ("OBJECT", 44, ""), ("PLAN", 30, ""), ("OFFER", 12, "")],
]
# On a demo officer's mandatory KSDD (a KB between bordering regions): the offer step did not apply.
WAJIB_OFFER_REASON = ("Kerja sama wajib dengan daerah yang berbatasan: rencananya dibahas dalam rapat koordinasi yang "
                      "difasilitasi gubernur, tanpa surat penawaran.")


def _mark(step, officer, *, done_on=None, reason="") -> None:
    from .models import AgreementStep

    if reason:
        step.status, step.done_on, step.not_applicable_reason = AgreementStep.Status.NOT_APPLICABLE, None, reason
    else:
        step.status, step.done_on, step.not_applicable_reason = AgreementStep.Status.DONE, done_on, ""
    step.done_by = officer
    step._history_user = officer
    step.save()


def seed_steps(*, as_of: datetime.date, users: list) -> int:
    """Every agreement's regulated steps, copied from its template with what the register already says done
    (``steps.create_steps_bulk``); the partner's answer of each accepted proposal answered by a demo officer; and what
    the demo officers marked on their regions' agreements: the offer of a mandatory KSDD not applicable (with the
    reason), the report of a PKS under way sent, and on draft KBs the preparation done, an offer letter sent and
    waiting for its answer, a step that does not apply. Returns the number of steps."""
    from . import steps
    from .models import AgreementStep, Proposal

    steps.install_default_templates()  # a test's flush may have removed the migration's templates
    created = steps.create_steps_bulk(Agreement.objects.values_list("pk", flat=True), when=_at(as_of, 8))
    for proposal in Proposal.objects.filter(status=Proposal.Status.ACCEPTED, agreement__isnull=False,
                                            answered_by__isnull=False).select_related("agreement", "answered_by"):
        steps.mark_partner_answered(proposal.agreement, timezone.localdate(proposal.answered_at), proposal.answered_by)
    drafts_marked = 0
    for officer in sorted((u for u in users if u.region_id), key=lambda u: u.username):
        mine = Agreement.objects.filter(parties__region=officer.region).order_by("number")
        by_agreement = defaultdict(dict)
        for step in AgreementStep.objects.filter(agreement__in=mine, status=AgreementStep.Status.NOT_STARTED,
                                                 done_by__isnull=True).order_by("agreement_id", "order") | \
                AgreementStep.objects.filter(agreement__in=mine, code__endswith=".OFFER",
                                             agreement__cooperation_kind=Agreement.Kind.KSDD_WAJIB,
                                             agreement__document_type=Agreement.DocumentType.KB):
            by_agreement[step.agreement_id][steps.step_key(step.code)] = step
        wajib_done = report_done = False
        for agreement in mine:
            found = by_agreement.get(agreement.pk, {})
            if not wajib_done and agreement.cooperation_kind == Agreement.Kind.KSDD_WAJIB and "OFFER" in found:
                _mark(found["OFFER"], officer, reason=WAJIB_OFFER_REASON)
                wajib_done = True
            elif not report_done and "REPORT" in found and agreement.first_started_on:
                _mark(found["REPORT"], officer, done_on=max(agreement.first_started_on,
                                                            as_of - datetime.timedelta(days=15)))
                report_done = True
            elif agreement.document_type == Agreement.DocumentType.KB and agreement.signed_on is None:
                for key, days, reason in DEMO_STEP_MARKS[drafts_marked % len(DEMO_STEP_MARKS)]:
                    if key in found:
                        _mark(found[key], officer, done_on=as_of - datetime.timedelta(days=days or 0), reason=reason)
                drafts_marked += 1
    return len(created)
