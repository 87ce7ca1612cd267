"""Demo data for guidance and capacity (called by ``demo.seed``): the default guidance pages, TKKSD records for
some regions (formed and not), and guidance events held with many regions, Jawa Barat's among them.

Deterministic for a given seed and anchor date. Some regions with stalled agreements are left without any guidance
in the last 12 months, so the dashboard's figure has something to show.
"""

import datetime
import random

from django.db.models import Exists, OuterRef

from . import guidance_defaults
from .models import AgreementParty, GovernmentAffair, GuidanceEvent, Region, StepPhase, TemplateStep, Tkksd, User

# (kind, title, days before the anchor date, place, the regions: "jabar" (Jawa Barat and its kabupaten/kota),
# "national" (30 regions across the country, Jawa Barat's included) or a province code, affair codes, step phases)
DEMO_EVENTS = [
    (GuidanceEvent.Kind.SOCIALISATION, "Sosialisasi Permendagri 22/2020 tentang Tata Cara Kerja Sama Daerah", 60,
     "Jakarta", "national", ["1.03", "2.15"], [StepPhase.PREPARATION, StepPhase.OFFER, StepPhase.KB]),
    (GuidanceEvent.Kind.BIMTEK, "Bimbingan teknis penyusunan PKS dan rencana kegiatan", 120, "Bandung", "jabar",
     ["3.26", "2.11"], [StepPhase.PKS, StepPhase.IMPLEMENTATION]),
    (GuidanceEvent.Kind.MEETING, "Rapat koordinasi kerja sama daerah wilayah Jawa Timur", 200, "Surabaya", "35",
     ["1.03"], [StepPhase.DPRD, StepPhase.PKS]),
    (GuidanceEvent.Kind.TRAINING, "Pelatihan pemantauan dan evaluasi kerja sama daerah", 30, "Yogyakarta", "34",
     ["2.13"], [StepPhase.REPORTING, StepPhase.EVALUATION]),
    # More than 12 months ago: does not count as recent guidance.
    (GuidanceEvent.Kind.SOCIALISATION, "Sosialisasi PP 28/2018 tentang Kerja Sama Daerah", 500, "Makassar", "73",
     ["1.02"], [StepPhase.PREPARATION]),
]

# TKKSD of the demo officers' regions: (code, formed, decree number, days before the anchor date, chair, members).
DEMO_TKKSD = [
    ("32", True, "Keputusan Gubernur Jawa Barat Nomor 119/Kep.512-Otdaksm/2024", 700, "Sekretaris Daerah Provinsi", 15),
    ("32.73", True, "Keputusan Wali Kota Bandung Nomor 130/Kep.221-Bag.Kerjasama/2025", 300, "Sekretaris Daerah Kota",
     11),
    ("32.01", False, "", None, "", None),
]


def _party_regions():
    return Region.objects.filter(Exists(AgreementParty.objects.filter(region=OuterRef("pk")))).order_by("code")


def seed_guidance(*, seed: int, as_of: datetime.date, users: list) -> dict:
    rng = random.Random(seed + 7)
    created, _updated = guidance_defaults.install()
    ministry = next((u for u in users if u.role == User.Role.MINISTRY), None)

    # TKKSD: the demo officers' regions as listed, then about half of the other party regions, most of them formed.
    tkksd = 0
    fixed = {code for code, *_rest in DEMO_TKKSD}
    for code, formed, number, days, chair, members in DEMO_TKKSD:
        region = Region.objects.filter(code=code).first()
        if region is None:
            continue
        Tkksd.objects.update_or_create(region=region, defaults={
            "formed": formed, "decree_number": number,
            "decree_date": as_of - datetime.timedelta(days=days) if days else None,
            "chair": chair, "member_count": members, "contact": "Bagian Kerja Sama Setda" if formed else "",
        })
        tkksd += 1
    for region in _party_regions().exclude(code__in=fixed):
        roll = rng.random()
        if roll > 0.5:
            continue
        formed = roll < 0.35
        Tkksd.objects.update_or_create(region=region, defaults={
            "formed": formed,
            "decree_number": f"188.45/Kep.{rng.randint(100, 999)}/{as_of.year - rng.randint(1, 4)}" if formed else "",
            "decree_date": as_of - datetime.timedelta(days=rng.randint(200, 1500)) if formed else None,
            "chair": "Sekretaris Daerah" if formed else "",
            "member_count": rng.randint(7, 21) if formed else None,
            "contact": "Bagian Kerja Sama Setda" if formed else "",
        })
        tkksd += 1

    # Events, each with every region that took part.
    party_regions = list(_party_regions().exclude(code__startswith="32"))
    jabar = list(Region.objects.filter(code__startswith="32").filter(is_autonomous=True).order_by("code"))
    steps_by_phase: dict[str, list] = {}
    for step in TemplateStep.objects.order_by("template_id", "order"):
        steps_by_phase.setdefault(step.phase, []).append(step)
    events = 0
    for kind, title, days, place, who, affair_codes, phases in DEMO_EVENTS:
        if GuidanceEvent.objects.filter(title=title).exists():
            continue
        if who == "national":
            regions = [r for r in jabar if r.code in ("32", "32.73", "32.04")]
            regions += rng.sample(party_regions, min(27, len(party_regions)))
        elif who == "jabar":
            regions = jabar
        else:
            regions = list(Region.objects.filter(code__startswith=who, is_autonomous=True).order_by("code"))
        event = GuidanceEvent.objects.create(
            kind=kind, title=title, held_on=as_of - datetime.timedelta(days=days), place=place,
            note="Peserta: perangkat daerah yang membidangi kerja sama dan anggota TKKSD.", recorded_by=ministry,
        )
        event.regions.set(regions)
        event.affairs.set(GovernmentAffair.objects.filter(code__in=affair_codes))
        event.steps.set([s for phase in phases for s in steps_by_phase.get(phase, [])[:1]])
        events += 1
    return {"guidance_pages": created, "tkksd": tkksd, "guidance_events": events}
