"""A deterministic national-scale dataset for the performance benchmark (``scripts/bench.py``).

``seed(n=20_000)`` replaces every agreement in the configured database with ``n`` agreements (KBs and
PKSs, most PKSs following a KB) spread over all autonomous regions, ``5 n`` milestones and ``15 n``
milestone updates, each agreement's regulated steps (its template's, with what its dates say done), with their
django-simple-history "created" rows. Dates are relative to ``as_of``
(default today) and to the default stall thresholds, so the stage and stall shares are the same
whatever the day: roughly a third of the signed agreements are stalled, each reason present.

It writes in bulk: ``COPY`` on PostgreSQL (20,000 agreements in well under a minute), plain
``executemany`` elsewhere (small sizes only, for the tests). Not for production data: it TRUNCATEs the
agreement tables first. Same ``n``, ``seed`` and ``as_of`` give the same rows.
"""

import dataclasses
import datetime
import io
import random

from django.db import connection, transaction
from django.utils import timezone

from . import demo, stalls, step_defaults, steps
from .models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    Evaluation,
    EvaluationAnswer,
    EvaluationQuestion,
    Financing,
    GovernmentAffair,
    Indicator,
    IndicatorActual,
    Milestone,
    MilestoneUpdate,
    Obstacle,
    Region,
    StallSettings,
    TemplateStep,
    TerminationReason,
    ThirdParty,
)

# Tables this module fills (children after parents); all are emptied before seeding.
TABLES = [
    Agreement._meta.db_table,
    AgreementParty._meta.db_table,
    Agreement.affairs.through._meta.db_table,
    ThirdParty._meta.db_table,
    Milestone._meta.db_table,
    MilestoneUpdate._meta.db_table,
    Agreement.history.model._meta.db_table,
    AgreementParty.history.model._meta.db_table,
    ThirdParty.history.model._meta.db_table,
    Milestone.history.model._meta.db_table,
    AgreementStep._meta.db_table,
    AgreementStep.history.model._meta.db_table,
    Obstacle._meta.db_table,
    Obstacle.history.model._meta.db_table,
    Evaluation._meta.db_table,
    Evaluation.history.model._meta.db_table,
    EvaluationAnswer._meta.db_table,
    Indicator._meta.db_table,
    Indicator.history.model._meta.db_table,
    IndicatorActual._meta.db_table,
    IndicatorActual.history.model._meta.db_table,
    Financing._meta.db_table,
    Financing.history.model._meta.db_table,
]
# The history tables, named once (``Model.history`` builds a manager at each access: too slow in the row loops).
AGREEMENT_H, PARTY_H, THIRD_PARTY_H, MILESTONE_H = TABLES[6:10]
STEP, STEP_H = TABLES[10:12]
OBSTACLE, OBSTACLE_H = TABLES[12:14]
EVALUATION, EVALUATION_H, EVALUATION_ANSWER = TABLES[14:17]
INDICATOR, INDICATOR_H, ACTUAL, ACTUAL_H, FINANCING, FINANCING_H = TABLES[17:23]
# The results' rows: (indicator, unit, baseline, target), drawn in turn; the note of every actual value.
RESULT_INDICATORS = [
    ("Rumah tangga terlayani air perpipaan", "rumah tangga", 1200, 2000),
    ("Sampah terangkut ke TPA regional", "ton per hari", 120, 200),
    ("Kunjungan wisatawan", "orang per tahun", 150000, 240000),
    ("Pasien rujukan tertangani dalam 24 jam", "%", 62, 90),
]
RESULT_NOTE = "Laporan semester perangkat daerah."
# Emptied as well, since they point at agreements or milestones (no rows are seeded there).
# Emptied too (they point at the agreements), never seeded.
EXTRA_TABLES = ["agreements_document", "agreements_amendment", "agreements_expiryreminder",
                "agreements_evaluationconclusion"]

# A terminated agreement's reason, drawn among the grounds (``models.TerminationReason``).
TERMINATION_REASONS = list(TerminationReason.values)
MILESTONES_PER_AGREEMENT = 5
UPDATES_PER_MILESTONE = 3  # on average: 1, 4, 2, 5, 3 in turn
BIG_PKS_MILESTONES = 20  # one PKS has exactly this many (the benchmark's agreement page)

# The demo data's titles and their affairs (one list for both datasets).
THEMES = demo.THEMES
THIRD_PARTIES = [
    "PT Sarana Multi Infrastruktur",
    "Universitas Gadjah Mada",
    "PT Pelabuhan Indonesia",
    "Yayasan Pembangunan Desa Mandiri",
    "Institut Teknologi Bandung",
    "PT Bank Pembangunan Daerah",
    "Pemerintah Kota Kitakyushu",
    "Japan International Cooperation Agency",
]
KB_SCENARIOS = {"draft": 4, "followed": 50, "stalled": 28, "recent": 14, "terminated": 4}
PKS_SCENARIOS = {
    "draft": 4, "recent": 8, "not_started": 14, "overdue": 20, "implementing": 36, "completed": 10,
    "expired": 4, "terminated": 4,
}
KINDS = {"KSDD-SUKARELA": 55, "KSDD-WAJIB": 25, "KSDPK": 15, "KSDPL": 3, "KSDLL": 2}
STEP_NAMES = ["Penyusunan rencana kerja", "Pelaksanaan kegiatan", "Monitoring dan evaluasi", "Pelaporan"]
NEEDS_MILESTONES = ("overdue", "implementing", "completed")  # at least two milestones each
# Obstacles (kendala) on the stalled scenarios: one each, a second on one in three, a third of them resolved.
OBSTACLE_SCENARIOS = ("stalled", "not_started", "overdue")
OBSTACLE_TEXT = "Kendala dicatat oleh petugas: persetujuan, anggaran atau mitra belum siap; lihat rapat koordinasi."
# Semester evaluations (monev): each regional party of the implementing PKSs evaluates the last two completed
# semesters it was implementing in; one PKS in four misses a party's evaluation of the last one (evaluation due), one
# in twenty has a party recommending to stop.
EVALUATION_SCENARIOS = ("implementing", "overdue")
EVALUATION_NOTE = "Evaluasi semester oleh perangkat daerah: capaian kegiatan dan kontribusi mitra dibahas bersama."


@dataclasses.dataclass
class Result:
    """What was written, and the handles the benchmark needs."""

    agreements: int
    milestones: int
    updates: int
    big_pks_id: int
    as_of: datetime.date
    kbs: int = 0
    pks: int = 0


def _cell(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


class _Plan:
    """Every row to insert, drawn from one ``random.Random(seed)``, with explicit ids."""

    def __init__(self, *, n: int, seed: int, as_of: datetime.date):
        self.n, self.as_of, self.rng = n, as_of, random.Random(seed)
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.ids = {t: 0 for t in TABLES}
        regions = list(Region.objects.filter(is_autonomous=True).order_by("code").values_list("pk", "code", "name",
                                                                                            "province_id"))
        self.regions = regions
        self.rng.shuffle(self.regions)
        self.by_province: dict[int, list[tuple]] = {}
        for r in regions:
            self.by_province.setdefault(r[3] or r[0], []).append(r)
        self.affairs = dict(GovernmentAffair.objects.values_list("code", "pk"))
        # The regulated steps: each template's steps as plain values, and what ``step_defaults.derive`` reads.
        self.templates: dict[tuple[str, str], list[dict]] = {}
        for step in TemplateStep.objects.select_related("template").order_by("template_id", "order"):
            self.templates.setdefault((step.template.document_type, step.template.cooperation_kind), []).append(
                {name: getattr(step, name) for name in steps.STEP_FIELDS})
        self.step_facts: dict[int, dict] = {}
        self.obstacle_on: list[tuple[int, datetime.date]] = []  # (agreement id, signing date)
        self.first_started: dict[int, datetime.date] = {}
        self.evaluation_on: list[tuple[int, list[int]]] = []  # (PKS id, its regional parties' ids)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def ago(self, low: int, high: int) -> datetime.date:
        return self.as_of - datetime.timedelta(days=self.rng.randint(low, high))

    def at(self, day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(9, self.rng.randint(0, 59)), tzinfo=datetime.UTC)

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def partner(self, primary: tuple, taken: set) -> tuple:
        """A neighbour in the same province where there is one, any region otherwise."""
        same = [r for r in self.by_province.get(primary[3] or primary[0], []) if r[0] not in taken]
        pool = same if same and self.rng.random() < 0.85 else [r for r in self.rng.sample(self.regions, 5)
                                                               if r[0] not in taken]
        return self.rng.choice(pool or [r for r in self.regions if r[0] not in taken])

    # -- agreements ------------------------------------------------------------------------------

    def build(self) -> Result:
        n, rng, as_of = self.n, self.rng, self.as_of
        n_kb = n * 9 // 20
        n_pks = n - n_kb
        kb_scen = [self.pick(KB_SCENARIOS) for _ in range(n_kb)]
        pks_scen = [self.pick(PKS_SCENARIOS) for _ in range(n_pks)]
        # The benchmark's agreement page: an implementing PKS with exactly BIG_PKS_MILESTONES milestones.
        pks_scen[0] = "implementing"

        # PKS signing dates first: a followed KB is signed before its earliest PKS.
        pks_signed = [self._pks_signed_on(s) for s in pks_scen]
        followed = [i for i, s in enumerate(kb_scen) if s == "followed"] or [0]
        if kb_scen[followed[0]] != "followed":
            kb_scen[followed[0]] = "followed"
        pks_parent: list[int | None] = []
        earliest_child: dict[int, datetime.date] = {}
        turn = 0
        for j in range(n_pks):
            if j > 0 and rng.random() < 0.08:
                pks_parent.append(None)  # a PKS with a third party, without a KB
                continue
            if pks_signed[j] is not None:
                kb = followed[turn % len(followed)]
                turn += 1
                earliest_child[kb] = min(earliest_child.get(kb, pks_signed[j]), pks_signed[j])
            else:
                kb = rng.choice(followed)
            pks_parent.append(kb)
        for kb in followed:  # a followed KB whose PKSs are all drafts is "KB signed" instead
            if kb not in earliest_child:
                kb_scen[kb] = "recent"

        kb_ids, kb_info = [], []
        for i, scen in enumerate(kb_scen):
            if scen == "followed":
                signed = earliest_child[i] - datetime.timedelta(days=rng.randint(20, 400))
            else:
                signed = {
                    "draft": None,
                    "stalled": self.ago(366, 2900),
                    "recent": self.ago(0, 365),
                    "terminated": self.ago(200, 2500),
                }[scen]
            primary = self.regions[i % len(self.regions)]
            kind = self.pick(KINDS)
            aid, info = self._agreement("KB", i, scen, signed, primary, kind, parent=None)
            kb_ids.append(aid)
            kb_info.append(info)

        milestone_counts = self._milestone_counts(pks_scen)
        big_pks_id = None
        for j, scen in enumerate(pks_scen):
            parent = pks_parent[j]
            if parent is None:
                primary, kind, parent_info = self.regions[(n_kb + j) % len(self.regions)], "KSDPK", None
            else:
                parent_info = kb_info[parent]
                primary, kind = parent_info["primary"], parent_info["kind"]
            aid, info = self._agreement("PKS", n_kb + j, scen, pks_signed[j], primary, kind,
                                        parent=kb_ids[parent] if parent is not None else None, parent_info=parent_info)
            if j == 0:
                big_pks_id = aid
            self._milestones(aid, info, scen, milestone_counts[j])
            if scen in EVALUATION_SCENARIOS:
                self.evaluation_on.append((aid, [r[0] for r in info["regions"]]))
        self._steps()
        self._obstacles()
        self._evaluations()
        self._results()

        return Result(
            agreements=n, milestones=len(self.rows[Milestone._meta.db_table]),
            updates=len(self.rows[MilestoneUpdate._meta.db_table]), big_pks_id=big_pks_id, as_of=as_of,
            kbs=n_kb, pks=n_pks,
        )

    def _pks_signed_on(self, scen: str) -> datetime.date | None:
        return {
            "draft": lambda: None,
            "recent": lambda: self.ago(0, 180),
            "not_started": lambda: self.ago(181, 2200),
            "overdue": lambda: self.ago(200, 2000),
            "implementing": lambda: self.ago(120, 1000),
            "completed": lambda: self.ago(400, 2500),
            "expired": lambda: self.ago(1200, 3000),
            "terminated": lambda: self.ago(200, 2500),
        }[scen]()

    def _agreement(self, doc_type, seq, scen, signed, primary, kind, *, parent, parent_info=None):
        rng, as_of = self.rng, self.as_of
        table = Agreement._meta.db_table
        aid = self.next_id(table)
        theme, affair_codes = THEMES[rng.randrange(len(THEMES))] if parent_info is None else parent_info["theme"]
        if parent_info is not None:
            regions, third = parent_info["regions"], parent_info["third"]
        else:
            regions, third = [primary], []
            if kind.startswith("KSDD"):
                taken = {primary[0]}
                for _ in range(2 if rng.random() < 0.2 else 1):
                    other = self.partner(primary, taken)
                    taken.add(other[0])
                    regions.append(other)
            else:
                third = [THIRD_PARTIES[rng.randrange(len(THIRD_PARTIES))]]
        year = (signed or as_of).year
        number = f"{seq + 1:05d}/{doc_type}/{primary[1]}/{year}"
        names = " dan ".join(r[2] for r in regions + [(None, None, t) for t in third])
        title = f"{theme} antara {names}"[:300]
        scope = f"{theme}: perencanaan, pelaksanaan, dan pelaporan kegiatan bersama {names}."
        created = signed - datetime.timedelta(days=rng.randint(10, 90)) if signed else self.ago(0, 300)
        starts = signed
        ends = None
        if signed:
            ends = signed + datetime.timedelta(days=(5 if doc_type == "KB" else 3) * 365)
            if scen == "expired":
                ends = min(ends, as_of - datetime.timedelta(days=rng.randint(1, 300)))
                ends = max(ends, signed)
        terminated, reason = None, ""
        if scen == "terminated" and signed:
            terminated = min(as_of, signed + datetime.timedelta(days=rng.randint(30, 600)))
            reason = TERMINATION_REASONS[rng.randrange(len(TERMINATION_REASONS))]
        created_at = self.at(created)
        value = rng.randint(1, 500) * 10_000_000 if doc_type == "PKS" and rng.random() < 0.7 else None
        dprd = signed + datetime.timedelta(days=rng.randint(10, 60)) if signed and rng.random() < 0.15 else None
        if dprd and dprd > as_of:
            dprd = None
        row = (aid, number, doc_type, title, scope, kind, signed, dprd, starts, ends, terminated, reason, value,
               created_at, created_at, 1, None, parent, None, None, None)
        self.rows[table].append(row)
        self.rows[AGREEMENT_H].append(
            (aid, number, doc_type, title, scope, kind, signed, dprd, starts, ends, terminated, reason, value,
             created_at, None, self.next_id(AGREEMENT_H), created_at, None, "+", None, None, parent, None, None)
        )
        for r in regions:
            pid = self.next_id(AgreementParty._meta.db_table)
            doc_number = f"{seq + 1:05d}/{r[1]}/{year}"
            # Each party signed on the agreement's date; where the DPRD approved, every party needed its approval.
            party = (doc_number, f"Kepala Daerah {r[2]}", "Kepala Daerah", "Bagian Kerja Sama Setda", "", signed,
                     dprd is not None, dprd, "")
            self.rows[AgreementParty._meta.db_table].append((pid, *party, aid, r[0]))
            self.rows[PARTY_H].append(
                (pid, *party, self.next_id(PARTY_H), created_at, None, "+",
                 aid, None, r[0])
            )
        for name in third:
            tid = self.next_id(ThirdParty._meta.db_table)
            self.rows[ThirdParty._meta.db_table].append((tid, name, aid))
            self.rows[THIRD_PARTY_H].append(
                (tid, name, self.next_id(THIRD_PARTY_H), created_at, None, "+", aid, None)
            )
        through = Agreement.affairs.through._meta.db_table
        for code in affair_codes:
            self.rows[through].append((self.next_id(through), aid, self.affairs[code]))
        if scen in OBSTACLE_SCENARIOS and signed and (ends is None or ends >= self.as_of):
            self.obstacle_on.append((aid, signed))  # on the stalled agreements still in force, the ones to save
        info = {"primary": primary, "kind": kind, "regions": regions, "third": third, "theme": (theme, affair_codes),
                "signed": signed, "ends": ends}
        self.step_facts[aid] = {
            "document_type": doc_type, "cooperation_kind": kind, "parent_id": parent, "signed_on": signed,
            "dprd_approved_on": dprd, "created_at": created_at,
            "parties": [{"signed_on": signed, "dprd_required": dprd is not None, "dprd_approved_on": dprd}] * len(regions),
        }
        return aid, info

    # -- milestones ------------------------------------------------------------------------------

    def _milestone_counts(self, pks_scen: list[str]) -> list[int]:
        """Milestones per PKS, summing to exactly ``5 n``: none for some not yet started, 20 for the first."""
        rng = self.rng
        total = MILESTONES_PER_AGREEMENT * self.n - BIG_PKS_MILESTONES
        minimum = [2 if s in NEEDS_MILESTONES else 0 for s in pks_scen]
        raw = [0] + [
            0 if s in ("not_started", "recent", "draft") and rng.random() < 0.3 else rng.randint(3, 16)
            for s in pks_scen[1:]
        ]
        raw = [max(r, m) for r, m in zip(raw, minimum, strict=True)]
        scale = total / max(sum(raw), 1)
        counts = [max(minimum[i], int(r * scale)) if r else 0 for i, r in enumerate(raw)]
        counts[0] = 0
        diff = total - sum(counts)
        active = [i for i in range(1, len(counts)) if counts[i] > 0] or list(range(1, len(counts)))
        k = 0
        while diff != 0 and k < 10 * (len(active) + abs(diff)):  # bounded: spreads ±1 over the PKSs with milestones
            i = active[k % len(active)]
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > max(minimum[i], 1):
                counts[i] -= 1
                diff += 1
            k += 1
        counts[0] = BIG_PKS_MILESTONES
        return counts

    def _milestones(self, aid: int, info: dict, scen: str, count: int) -> None:
        rng, as_of = self.rng, self.as_of
        signed = info["signed"] or (as_of - datetime.timedelta(days=rng.randint(0, 60)))
        day = datetime.timedelta
        table, htable = Milestone._meta.db_table, MILESTONE_H
        responsible = info["regions"][0][0]
        met_part = {"implementing": 0.4, "overdue": 0.4, "completed": 1.0, "expired": 0.6, "terminated": 0.3}.get(scen, 0)
        n_met = min(count, int(round(count * met_part))) if count else 0
        if scen in ("implementing", "overdue") and count:
            n_met = max(1, min(n_met, count - 1))
        overdue_at = n_met if scen == "overdue" else None
        for k in range(count):
            started = completed = None
            progress = 0
            status = Milestone.Status.SCHEDULED
            if scen in ("not_started", "recent", "draft"):
                # Not started; a third of the old ones have due dates long past (also overdue).
                due = signed + day(200 + 60 * k) if scen == "not_started" and rng.random() < 0.33 else (
                    as_of + day(30 + 45 * k))
            elif k < n_met:
                due = min(signed + day(60 * (k + 1)), as_of - day(1))
                started = min(signed + day(15 * k), due)
                completed = min(due, as_of - day(1))
                if completed < started:
                    started = completed
                status, progress = Milestone.Status.MET, 100
                if scen == "completed" and k == count - 1 and count > 2 and rng.random() < 0.1:
                    status, progress, completed = Milestone.Status.CANCELLED, 0, None
            elif k == overdue_at:
                due = as_of - day(rng.randint(31, 700))
                due = max(due, signed)
                if due >= as_of - day(30):
                    due = as_of - day(31)
                started = min(signed + day(10), as_of)
                if started > due:
                    started = due
                status, progress = Milestone.Status.IN_PROGRESS, rng.randint(10, 80)
            elif scen in ("implementing", "overdue"):
                due = as_of + day(rng.randint(-25, 400))
                if k == n_met and rng.random() < 0.7:
                    started = min(as_of, max(signed, as_of - day(rng.randint(0, 90))))
                    status, progress = Milestone.Status.IN_PROGRESS, rng.randint(10, 90)
            else:  # expired or terminated, not met: past due (an expired one stays overdue)
                due = signed + day(90 * (k + 1))
                if rng.random() < 0.3:
                    status = Milestone.Status.CANCELLED
            mid = self.next_id(table)
            title = f"Tahap {k + 1}: {STEP_NAMES[k % len(STEP_NAMES)]}"
            created_at = self.at(signed)
            self.rows[table].append((mid, title, "", due, started, completed, status, progress, created_at, created_at,
                                     1, aid, responsible))
            self.rows[htable].append((mid, title, "", due, started, completed, status, progress, created_at,
                                      self.next_id(htable), created_at, None, "+", aid, None, responsible))
            began = started or (completed if status == Milestone.Status.MET else None)
            if began is not None:
                self.first_started[aid] = min(began, self.first_started.get(aid, began))
            self._updates(mid, status, progress, signed)

    # -- regulated steps -------------------------------------------------------------------------

    def _steps(self) -> None:
        """Each agreement's checklist, copied from its template with what its dates say done (the rule of
        ``step_defaults.derive``, as ``steps.create_steps`` applies it): the PKSs first, so that each KB's closing
        steps see what its PKSs did. The first PKS signed under each KB and the first milestone started are read from
        the plan's own rows."""
        first_pks_signed: dict[int, datetime.date] = {}
        for facts in self.step_facts.values():
            if facts["parent_id"] and facts["signed_on"]:
                parent = facts["parent_id"]
                first_pks_signed[parent] = min(facts["signed_on"], first_pks_signed.get(parent, facts["signed_on"]))
        children_done: dict[int, dict[str, datetime.date]] = {}
        order = sorted(self.step_facts, key=lambda aid: (self.step_facts[aid]["document_type"] != "PKS", aid))
        for aid in order:
            facts = self.step_facts[aid]
            template = self.templates.get((facts["document_type"], facts["cooperation_kind"]), [])
            targets = step_defaults.derive(template, {
                **facts, "first_started_on": self.first_started.get(aid), "first_pks_signed_on": first_pks_signed.get(aid),
                "children_done": children_done.get(aid, {}),
            })
            at = facts["created_at"]
            for step, target in zip(template, targets, strict=True):
                status, done_on, reason = target or (step_defaults.NOT_STARTED, None, "")
                values = tuple(step[name] for name in steps.STEP_FIELDS) + (status, done_on, reason)
                sid = self.next_id(STEP)
                self.rows[STEP].append((sid, *values, at, aid, None, None))
                self.rows[STEP_H].append((sid, *values, self.next_id(STEP_H), at, None, "+", aid, None, None, None))
                if status == step_defaults.DONE and facts["parent_id"]:
                    done = children_done.setdefault(facts["parent_id"], {})
                    key = step_defaults.step_key(step["code"])
                    done[key] = min(done_on, done.get(key, done_on))

    def _obstacles(self) -> None:
        categories = [c for c, _label in Obstacle.Category.choices]
        for index, (aid, signed) in enumerate(self.obstacle_on):
            for extra in range(1 + (index % 3 == 0)):
                category = categories[(index + extra) % len(categories)]
                raised = signed + datetime.timedelta(days=self.rng.randint(30, max((self.as_of - signed).days, 30)))
                raised = min(raised, self.as_of)
                resolved = None
                if (index + extra) % 3 == 2 and raised < self.as_of:
                    resolved = raised + datetime.timedelta(days=self.rng.randint(1, (self.as_of - raised).days))
                values = (category, OBSTACLE_TEXT, raised, resolved, "Rapat koordinasi" if resolved else "",
                          self.at(raised))
                oid = self.next_id(OBSTACLE)
                self.rows[OBSTACLE].append((oid, *values, values[-1], aid, None))
                self.rows[OBSTACLE_H].append((oid, *values, self.next_id(OBSTACLE_H), values[-1], None, "+", aid,
                                              None, None))

    def _evaluations(self) -> None:
        from .evaluations import last_completed_semester

        questions = list(EvaluationQuestion.objects.filter(active=True).order_by("order", "pk")
                         .values_list("pk", "code", "text"))
        last = last_completed_semester(self.as_of)
        for index, (aid, parties) in enumerate(self.evaluation_on):
            started = self.first_started.get(aid)
            if started is None:
                continue
            for semester in (last, last.previous()):
                if started > semester.last_day:
                    continue
                for k, region_id in enumerate(parties):
                    if semester == last and index % 4 == 1 and k == len(parties) - 1:
                        continue  # evaluation due
                    stop = semester == last and index % 20 == 7 and k == 0
                    recommendation = "stop" if stop else ("improve" if self.rng.random() < 0.25 else "continue")
                    day = min(semester.last_day + datetime.timedelta(days=self.rng.randint(5, 60)), self.as_of)
                    at = self.at(day)
                    values = (semester.year, semester.half, recommendation, EVALUATION_NOTE, at)
                    eid = self.next_id(EVALUATION)
                    self.rows[EVALUATION].append((eid, aid, region_id, *values[:4], None, None, at))
                    self.rows[EVALUATION_H].append((eid, *values, aid, region_id, None, None,
                                                    self.next_id(EVALUATION_H), at, None, "+", None))
                    low, high = (1, 2) if stop else (2, 5)
                    for qid, code, text in questions:
                        self.rows[EVALUATION_ANSWER].append((self.next_id(EVALUATION_ANSWER), eid, qid, code, text,
                                                             self.rng.randint(low, high), ""))

    def _updates(self, mid: int, status: str, progress: int, since: datetime.date) -> None:
        table = MilestoneUpdate._meta.db_table
        count = 1 + (3 * (self.ids[Milestone._meta.db_table] - 1)) % 5  # 1, 4, 2, 5, 3: three on average
        span = max((self.as_of - since).days, 1)
        before = Milestone.Status.SCHEDULED
        for u in range(count):
            last = u == count - 1
            after = status if last or status == Milestone.Status.SCHEDULED else Milestone.Status.IN_PROGRESS
            p = progress if last else min(progress, 10 * (u + 1)) if status != Milestone.Status.SCHEDULED else 0
            when = self.at(since + datetime.timedelta(days=span * (u + 1) // (count + 1)))
            self.rows[table].append((self.next_id(table), when, before, after, p,
                                     f"Laporan perkembangan ke-{u + 1}: rapat koordinasi dan verifikasi lapangan.",
                                     mid, None))
            before = after

    def _results(self) -> None:
        """Outcome indicators with semester values on the PKSs under way (implementing, their first milestone started),
        and financing lines (each regional party's APBD, the third parties') on every signed PKS for the last two
        fiscal years: read from the plan's own rows, written like the demo's (``demo_results``)."""
        cols = {name: i for i, name in enumerate(COLUMNS[TABLES[0]])}
        parties: dict[int, list[int]] = {}
        party_cols = COLUMNS[TABLES[1]]
        for row in self.rows[TABLES[1]]:
            parties.setdefault(row[party_cols.index("agreement_id")], []).append(row[party_cols.index("region_id")])
        third = {row[COLUMNS[TABLES[3]].index("agreement_id")] for row in self.rows[TABLES[3]]}
        day = datetime.timedelta
        for index, row in enumerate(self.rows[TABLES[0]]):
            aid, signed = row[cols["id"]], row[cols["signed_on"]]
            if row[cols["document_type"]] != "PKS" or signed is None or row[cols["terminated_on"]] is not None:
                continue
            at = self.at(signed)
            if self.first_started.get(aid) is not None and (row[cols["ends_on"]] or self.as_of) > self.as_of:
                target_on = row[cols["ends_on"]] or signed + day(3 * 365)
                for order in range(1 + (index % 3 == 0)):
                    name, unit, baseline, target = RESULT_INDICATORS[(index + order) % len(RESULT_INDICATORS)]
                    values = (name, unit, baseline, signed, target, target_on, order, at)
                    iid = self.next_id(INDICATOR)
                    self.rows[INDICATOR].append((iid, *values, 1, aid, None, None))
                    self.rows[INDICATOR_H].append((iid, *values, self.next_id(INDICATOR_H), at, None, "+", aid, None,
                                                   None, None))
                    span = max((target_on - signed).days, 1)
                    for start, end in _semesters_after(signed, self.as_of)[-4:]:
                        reached = (end - signed).days / span * self.rng.uniform(0.5, 1.2)
                        value = round(baseline + (target - baseline) * min(reached, 1.1), 1)
                        actual = (start, end, value, RESULT_NOTE, self.at(min(end + day(20), self.as_of)))
                        xid = self.next_id(ACTUAL)
                        self.rows[ACTUAL].append((xid, *actual, iid, None, None))
                        self.rows[ACTUAL_H].append((xid, *actual, self.next_id(ACTUAL_H), actual[-1], None, "+", iid,
                                                    None, None, None))
            payers = [(region_id, "apbd") for region_id in parties.get(aid, [])]
            if aid in third:
                payers.append((None, "third_party"))
            for year in range(max(signed.year, self.as_of.year - 1), self.as_of.year + 1):
                for region_id, source in payers:
                    planned = self.rng.randint(1, 200) * 5_000_000
                    realised = (planned * self.rng.randint(50, 100) // 100 if year < self.as_of.year else
                                planned * self.rng.randint(0, 40) // 100 or None)
                    line = (year, source, planned, realised, "")
                    fid = self.next_id(FINANCING)
                    self.rows[FINANCING].append((fid, *line, 1, at, aid, region_id, None))
                    self.rows[FINANCING_H].append((fid, *line, self.next_id(FINANCING_H), at, None, "+", aid, region_id,
                                                   None, None))


def _semesters_after(start: datetime.date, as_of: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """The semesters ending after ``start`` and by ``as_of`` (the periods of the actual values)."""
    from .demo_results import _semesters

    return _semesters(start, as_of, limit=1000)


_HISTORY = ["history_id", "history_date", "history_change_reason", "history_type"]
_AGREEMENT = ["id", "number", "document_type", "title", "scope", "cooperation_kind", "signed_on", "dprd_approved_on",
              "starts_on", "ends_on", "terminated_on", "termination_reason", "value_idr", "created_at"]
# Not seeded: the agreement's publication (none published) and the agreement it renews (none).
_PARTY = ["id", "document_number", "signatory_name", "signatory_position", "agency", "contact_person", "signed_on",
          "dprd_required", "dprd_approved_on", "dprd_decision_number"]
_MILESTONE = ["id", "title", "description", "due_on", "started_on", "completed_on", "status", "progress", "created_at"]
_INDICATOR = ["name", "unit", "baseline_value", "baseline_on", "target_value", "target_on", "order", "created_at"]
_ACTUAL = ["period_start", "period_end", "value", "note", "recorded_at"]
_FINANCING = ["fiscal_year", "source", "planned_idr", "realised_idr", "note"]
# The seed rows' column order, table by table (checked against the database before writing).
COLUMNS = {
    TABLES[0]: _AGREEMENT + ["updated_at", "version", "created_by_id", "parent_id", "updated_by_id", "renews_id",
                             "published_at"],
    TABLES[1]: _PARTY + ["agreement_id", "region_id"],
    TABLES[2]: ["id", "agreement_id", "governmentaffair_id"],
    TABLES[3]: ["id", "name", "agreement_id"],
    TABLES[4]: _MILESTONE + ["updated_at", "version", "agreement_id", "responsible_region_id"],
    TABLES[5]: ["id", "created_at", "status_before", "status_after", "progress", "note", "milestone_id", "user_id"],
    TABLES[6]: _AGREEMENT + ["published_at"] + _HISTORY
    + ["created_by_id", "history_user_id", "parent_id", "updated_by_id", "renews_id"],
    TABLES[7]: _PARTY + _HISTORY + ["agreement_id", "history_user_id", "region_id"],
    TABLES[8]: ["id", "name"] + _HISTORY + ["agreement_id", "history_user_id"],
    TABLES[9]: _MILESTONE + _HISTORY + ["agreement_id", "history_user_id", "responsible_region_id"],
    STEP: ["id", *steps.STEP_FIELDS, "status", "done_on", "not_applicable_reason", "updated_at", "agreement_id",
           "document_id", "done_by_id"],
    STEP_H: ["id", *steps.STEP_FIELDS, "status", "done_on", "not_applicable_reason", *_HISTORY, "agreement_id",
             "document_id", "done_by_id", "history_user_id"],
    OBSTACLE: ["id", "category", "description", "raised_on", "resolved_on", "resolution", "created_at", "updated_at",
               "agreement_id", "recorded_by_id"],
    OBSTACLE_H: ["id", "category", "description", "raised_on", "resolved_on", "resolution", "created_at",
                 *_HISTORY, "agreement_id", "history_user_id", "recorded_by_id"],
    EVALUATION: ["id", "agreement_id", "region_id", "year", "semester", "recommendation", "note", "evidence_id",
                 "submitted_by_id", "submitted_at"],
    EVALUATION_H: ["id", "year", "semester", "recommendation", "note", "submitted_at", "agreement_id", "region_id",
                   "evidence_id", "submitted_by_id", *_HISTORY, "history_user_id"],
    EVALUATION_ANSWER: ["id", "evaluation_id", "question_id", "question_code", "question_text", "score", "note"],
    INDICATOR: ["id", *_INDICATOR, "version", "agreement_id", "need_id", "created_by_id"],
    INDICATOR_H: ["id", *_INDICATOR, *_HISTORY, "agreement_id", "need_id", "created_by_id", "history_user_id"],
    ACTUAL: ["id", *_ACTUAL, "indicator_id", "evidence_id", "recorded_by_id"],
    ACTUAL_H: ["id", *_ACTUAL, *_HISTORY, "indicator_id", "evidence_id", "recorded_by_id", "history_user_id"],
    FINANCING: ["id", *_FINANCING, "version", "updated_at", "agreement_id", "region_id", "updated_by_id"],
    FINANCING_H: ["id", *_FINANCING, *_HISTORY, "agreement_id", "region_id", "updated_by_id", "history_user_id"],
}


def _check_columns(table: str) -> list[str]:
    """The seed's columns for ``table``, after checking the database has exactly these (a model changed?)."""
    with connection.cursor() as cursor:
        actual = {c.name for c in connection.introspection.get_table_description(cursor, table)}
    columns = COLUMNS[table]
    # The stored stall facts and today's stored status are not seeded: ``stalls.refresh_facts`` computes them after
    # the copy (the status columns take their database defaults until then).
    stored = {*stalls.FACT_FIELDS, *(f"status_{name}" for name in stalls.STATUS_FIELDS)}
    derived = stored if table == TABLES[0] else set()
    if actual - derived != set(columns):
        raise RuntimeError(f"{table}: the seed writes {sorted(columns)} but the table has {sorted(actual)}; "
                           "update agreements/benchdata.py to the model")
    return columns


def _adapt(value):
    """A value for a non-PostgreSQL cursor (dates and datetimes as the backend stores them)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _empty_tables() -> None:
    tables = TABLES + EXTRA_TABLES
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def _write(table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = _check_columns(table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(_cell(v) for v in row))
                buffer.write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN", buffer)
            # Explicit ids were written: move the id sequences past them.
            for column in ("id", "history_id"):
                if column in columns:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT MAX({column}) FROM "
                        f"{connection.ops.quote_name(table)}))",
                        [table, column],
                    )
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({placeholders})"
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, [[_adapt(v) for v in row] for row in rows[start:start + 5000]])


def _skip_fk_triggers() -> None:
    """Skip the row-by-row foreign-key checks for this transaction when allowed (superuser): the plan's ids
    are consistent by construction, and a million deferred checks would take most of the seeding time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def seed(*, n: int = 20_000, seed: int = 2026, as_of: datetime.date | None = None) -> Result:
    """Replace every agreement with the benchmark dataset of ``n`` agreements (see the module docstring)."""
    as_of = as_of or timezone.localdate()
    steps.install_default_templates()  # the step templates the checklists are copied from (kept, not emptied)
    plan = _Plan(n=n, seed=seed, as_of=as_of)
    result = plan.build()
    with transaction.atomic():
        _empty_tables()
        if connection.vendor == "postgresql":
            _skip_fk_triggers()
        StallSettings.objects.update_or_create(
            pk=1, defaults={"kb_follow_up_days": 365, "implementation_start_days": 180, "overdue_grace_days": 30}
        )
        for table in TABLES:
            _write(table, plan.rows[table])
        stalls.refresh_facts()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return result
