"""Demo data for the semester evaluations (monev), called by ``demo.seed``: on PKSs implementing as of the anchor
date (Kota Bandung's first), each regional party's evaluations of the past semesters, with some missing for the last
completed semester (so that some are evaluation due, one of them Kota Bandung's own to fill in), one party
recommending to stop, others to improve, and the ministry's conclusion on a few.

Deterministic for a given seed and anchor date: the PKSs are read in number order and the choices drawn from one
``random.Random(seed)``. Written in bulk (evaluations with their history rows).
"""

import datetime
import random

from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import stalls
from .evaluations import due_cutoff, last_completed_semester
from .models import (
    Agreement,
    AgreementParty,
    Evaluation,
    EvaluationAnswer,
    EvaluationConclusion,
    EvaluationQuestion,
    Recommendation,
    Stage,
    User,
)

KOTA_BANDUNG = "32.73"
MAX_AGREEMENTS = 40
SEMESTERS_BACK = 3
NOTES = {
    Recommendation.CONTINUE: "Kegiatan berjalan sesuai rencana; dilanjutkan pada semester berikutnya.",
    Recommendation.IMPROVE: "Jadwal kegiatan mundur dan pembagian tugas perlu diperjelas dalam rapat koordinasi.",
    Recommendation.STOP: "Manfaat kerja sama tidak sebanding dengan biaya; mitra tidak lagi menganggarkan kegiatan.",
}
ANSWER_NOTES = ["", "", "Sesuai laporan perangkat daerah.", "Perlu data pendukung tambahan.", ""]
CONCLUSION = ("Kementerian mencatat hasil evaluasi para pihak. Kerja sama dilanjutkan dengan perbaikan jadwal dan "
              "pelaporan capaian indikator setiap semester.")


def _moment(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def seed_evaluations(*, seed: int, as_of: datetime.date, users: list) -> dict:
    """Evaluations of up to ``MAX_AGREEMENTS`` PKSs implementing as of ``as_of`` for their last
    ``SEMESTERS_BACK`` completed semesters; returns the numbers written."""
    rng = random.Random(seed)
    questions = list(EvaluationQuestion.objects.filter(active=True).order_by("order", "pk"))
    by_region = {u.region.code: u for u in users if u.region_id}
    ministry = next((u for u in users if u.role == User.Role.MINISTRY), None)
    kota_bandung = Exists(AgreementParty.objects.filter(agreement=OuterRef("pk"), region__code=KOTA_BANDUNG))
    pks = list(
        stalls.with_status(Agreement.objects.filter(document_type=Agreement.DocumentType.PKS), as_of=as_of)
        .filter(stage=Stage.IMPLEMENTING, first_started_on__isnull=False)
        .annotate(in_kota_bandung=kota_bandung)
        .order_by("-in_kota_bandung", "number")
        .values_list("pk", "first_started_on", "in_kota_bandung")[:MAX_AGREEMENTS]
    )
    parties: dict[int, list[tuple[int, str]]] = {}
    for agreement_id, region_id, code in (
        AgreementParty.objects.filter(agreement_id__in=[p[0] for p in pks])
        .order_by("agreement_id", "region__code").values_list("agreement_id", "region_id", "region__code")
    ):
        parties.setdefault(agreement_id, []).append((region_id, code))
    last = last_completed_semester(as_of)
    planned, recorded_on = [], []
    stop_given = kota_bandung_gap = False
    for index, (agreement_id, started_on, in_kota_bandung) in enumerate(pks):
        semesters, semester = [], last
        for _ in range(SEMESTERS_BACK):
            if started_on <= semester.last_day:
                semesters.append(semester)
            semester = semester.previous()
        for semester in semesters:
            for region_id, code in parties.get(agreement_id, []):
                if semester == last:
                    # Kota Bandung's first PKS waits for its own evaluation; every third PKS misses a partner's.
                    if (in_kota_bandung and code == KOTA_BANDUNG and not kota_bandung_gap
                            and started_on <= due_cutoff(as_of)):
                        kota_bandung_gap = True
                        continue
                    if index % 3 == 1 and code != KOTA_BANDUNG:
                        continue
                recommendation = Recommendation.CONTINUE
                if semester == last and not stop_given and index % 5 == 4:
                    recommendation, stop_given = Recommendation.STOP, True
                elif rng.random() < 0.25:
                    recommendation = Recommendation.IMPROVE
                day = min(semester.last_day + datetime.timedelta(days=rng.randint(5, 45)), as_of)
                planned.append(Evaluation(
                    agreement_id=agreement_id, region_id=region_id, year=semester.year, semester=semester.half,
                    recommendation=recommendation, note=NOTES[recommendation],
                    submitted_by=by_region.get(code),
                ))
                recorded_on.append(day)
    created = bulk_create_with_history(planned, Evaluation, default_date=_moment(as_of, 9))
    if created and created[0].pk is None:  # a backend that does not return keys: read them back
        created = list(Evaluation.objects.filter(agreement_id__in=[p[0] for p in pks]).order_by("pk"))
    for evaluation, day in zip(created, recorded_on, strict=True):
        evaluation.submitted_at = _moment(day)  # auto_now_add set it to now
    Evaluation.objects.bulk_update(created, ["submitted_at"], batch_size=500)
    answers = []
    for evaluation in created:
        low = 1 if evaluation.recommendation == Recommendation.STOP else 2
        high = 3 if evaluation.recommendation != Recommendation.CONTINUE else 5
        for question in questions:
            answers.append(EvaluationAnswer(
                evaluation=evaluation, question=question, question_code=question.code, question_text=question.text,
                score=rng.randint(low, high), note=rng.choice(ANSWER_NOTES),
            ))
    EvaluationAnswer.objects.bulk_create(answers, batch_size=1000)
    conclusions = 0
    concluded = sorted({e.agreement_id for e in created if (e.year, e.semester) == (last.year, last.half)})[:3]
    for agreement_id in concluded:
        conclusion = EvaluationConclusion(agreement_id=agreement_id, year=last.year, semester=last.half,
                                          text=CONCLUSION, written_by=ministry)
        conclusion._history_user = ministry
        conclusion.save()
        conclusions += 1
    return {"evaluations": len(created), "evaluation_conclusions": conclusions}
