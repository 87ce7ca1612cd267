"""Demo data for obstacles (kendala), called by ``demo.seed``: on stalled agreements, Kota Bandung's among them,
obstacles of every category, most still open, some resolved (with what resolved them).

Deterministic for a given seed and anchor date: the stalled agreements are read in number order and the choices
drawn from one ``random.Random(seed)``. Written in bulk with their history rows.
"""

import datetime
import random

from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import stalls
from .models import Agreement, AgreementParty, Obstacle, User

# Per category, what officers write (Indonesian, as they would), and what resolved it.
DESCRIPTIONS = {
    Obstacle.Category.BUDGET: (
        "Anggaran kegiatan belum dialokasikan dalam APBD tahun berjalan; menunggu APBD Perubahan.",
        "Dialokasikan dalam APBD Perubahan.",
    ),
    Obstacle.Category.DPRD: (
        "Persetujuan DPRD salah satu pihak belum terbit; pembahasan di Badan Musyawarah DPRD tertunda.",
        "Persetujuan DPRD ditetapkan dalam rapat paripurna.",
    ),
    Obstacle.Category.CAPACITY: (
        "Bagian Kerja Sama hanya memiliki dua staf; penyusunan rancangan PKS belum dapat dikerjakan.",
        "Perangkat daerah teknis menugaskan staf pendamping.",
    ),
    Obstacle.Category.REGULATION: (
        "Perangkat daerah belum memahami perbedaan KB dan PKS serta tahapan menurut Permendagri 22/2020.",
        "Bimbingan teknis oleh Kemendagri dan pemerintah provinsi.",
    ),
    Obstacle.Category.PARTNER: (
        "Surat penawaran rancangan PKS belum dijawab oleh pemerintah daerah mitra.",
        "Mitra menjawab setelah rapat koordinasi yang difasilitasi provinsi.",
    ),
    Obstacle.Category.LEADERSHIP: (
        "Pergantian kepala daerah; kebijakan kerja sama menunggu arahan pejabat yang baru.",
        "Kepala daerah yang baru menyetujui kelanjutan kerja sama.",
    ),
    Obstacle.Category.TECHNICAL: (
        "Lokasi kegiatan belum disepakati karena status lahan belum jelas.",
        "Status lahan ditetapkan oleh kantor pertanahan.",
    ),
    Obstacle.Category.OTHER: (
        "Kegiatan ditunda karena penanganan bencana banjir di wilayah perbatasan.",
        "Kegiatan dijadwalkan ulang setelah masa tanggap darurat.",
    ),
}
CATEGORIES = list(DESCRIPTIONS)
KOTA_BANDUNG = "32.73"
MAX_AGREEMENTS = 60


def seed_obstacles(*, seed: int, as_of: datetime.date, users: list) -> int:
    """Obstacles on up to ``MAX_AGREEMENTS`` agreements stalled as of ``as_of`` (Kota Bandung's first), one or two
    each, every category used; about one in three resolved before ``as_of``. Returns the number of obstacles."""
    rng = random.Random(seed)
    by_region = {u.region.code: u for u in users if u.region_id}
    ministry = next((u for u in users if u.role == User.Role.MINISTRY), None)
    kota_bandung = Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region__code=KOTA_BANDUNG))
    stalled = list(
        stalls.with_status(Agreement.objects.all(), as_of=as_of)
        .filter(is_stalled=True)
        .annotate(in_kota_bandung=kota_bandung)
        .order_by("-in_kota_bandung", "number")
        .values_list("pk", "stalled_since", "in_kota_bandung")[:MAX_AGREEMENTS]
    )
    obstacles = []
    for index, (pk, since, in_kota_bandung) in enumerate(stalled):
        recorder = by_region.get(KOTA_BANDUNG) if in_kota_bandung else ministry
        for extra in range(1 + (index % 3 == 0)):
            category = CATEGORIES[(index + extra * 3) % len(CATEGORIES)]
            description, resolution = DESCRIPTIONS[category]
            span = max((as_of - since).days, 1)
            raised_on = since + datetime.timedelta(days=rng.randrange(span))
            resolved_on = None
            if (index + extra) % 3 == 2 and raised_on < as_of:
                resolved_on = raised_on + datetime.timedelta(days=rng.randrange(1, (as_of - raised_on).days + 1))
            obstacles.append(Obstacle(
                agreement_id=pk, category=category, description=description, raised_on=raised_on,
                resolved_on=resolved_on, resolution=resolution if resolved_on else "", recorded_by=recorder,
            ))
    when = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time(9)))
    bulk_create_with_history(obstacles, Obstacle, default_date=when)
    return len(obstacles)
