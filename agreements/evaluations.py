"""Monitoring and evaluation (monev): each regional party's semester evaluation of a PKS, and the ministry's
conclusion. The one place for its rules, its writes and its reads.

Semesters are calendar halves: 1 is January–June, 2 is July–December. As of a date D:

- the *last completed semester* is the half-year before the one D falls in (D in March 2026: July–December 2025);
- an evaluation *counts as of D* when it was recorded (``submitted_at``, Jakarta time) on or before D;
- a PKS is *evaluation due* when it is implementing as of D (``stalls.with_status``: its first milestone started,
  not terminated, completed or expired) and its first milestone started on or before D − 6 months
  (``Agreement.first_started_on``), and at least one of its regional parties has no evaluation for the last
  completed semester counting as of D (``evaluation_due_q``);
- an implementing agreement is *evaluated this semester* when at least one party recorded an evaluation (for any
  semester) between the first day of D's semester and D (``evaluated_this_semester_q``).

Who: an officer answers for their own region, on a PKS their region is a party to (``may_evaluate``); ministry
staff and administrators read every answer and write the conclusion, never a party's answers; an officer reads the
answers of the agreements their region is a party to, and a provincial officer also those its kabupaten/kota gave
on the agreements it reads (``evaluations_visible_q``).
"""

import dataclasses
import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import access, stalls
from .models import (
    Agreement,
    AgreementParty,
    Document,
    Evaluation,
    EvaluationAnswer,
    EvaluationConclusion,
    EvaluationQuestion,
    Recommendation,
    Region,
    Stage,
    User,
)
from .regions import province_of

DUE_AFTER_MONTHS = 6
NOTE_MAX_LENGTH = 4000
ANSWER_NOTE_MAX_LENGTH = 2000
CONCLUSION_MAX_LENGTH = 8000
SCORES = (1, 2, 3, 4, 5)
YEAR_MIN, YEAR_MAX = 1990, 2100  # the model's validators


# --- semesters ------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class Semester:
    year: int
    half: int  # 1: January–June, 2: July–December

    @classmethod
    def of(cls, day: datetime.date) -> "Semester":
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last_day(self) -> datetime.date:
        return datetime.date(self.year, 6, 30) if self.half == 1 else datetime.date(self.year, 12, 31)

    def previous(self) -> "Semester":
        return Semester(self.year - 1, 2) if self.half == 1 else Semester(self.year, 1)

    @property
    def label(self) -> str:
        if self.half == 1:
            return _("January–June %(year)s") % {"year": self.year}
        return _("July–December %(year)s") % {"year": self.year}

    @property
    def key(self) -> str:
        return f"{self.year}-{self.half}"


def last_completed_semester(as_of: datetime.date) -> Semester:
    """The half-year that ended last before ``as_of`` (on 1 July 2026: January–June 2026)."""
    return Semester.of(as_of).previous()


def months_before(day: datetime.date, months: int) -> datetime.date:
    """``day`` minus whole months, the day clamped to the month's length (31 August − 6 months: 28 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def due_cutoff(as_of: datetime.date) -> datetime.date:
    """A PKS whose first milestone started on or before this day has been implementing for six months as of D."""
    return months_before(as_of, DUE_AFTER_MONTHS)


def _end_of(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day`` in the site's time zone (Jakarta): "recorded on or before D" is before it."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def counted_q(as_of: datetime.date, prefix: str = "") -> Q:
    """Evaluations recorded on or before ``as_of``."""
    return Q(**{f"{prefix}submitted_at__lt": _end_of(as_of)})


# --- the rules, in SQL (on a ``stalls.with_status`` queryset of the same ``as_of``) ------------------------------


def _implementing_for_six_months(as_of: datetime.date) -> Q:
    return Q(stage=Stage.IMPLEMENTING, first_started_on__lte=due_cutoff(as_of))


def _party_missing(semester: Semester, as_of: datetime.date) -> Exists:
    """A regional party of the agreement has no evaluation for ``semester`` counting as of D."""
    own = Evaluation.objects.filter(
        counted_q(as_of), agreement=OuterRef(OuterRef("pk")), region=OuterRef("region"),
        year=semester.year, semester=semester.half,
    )
    return Exists(AgreementParty.objects.filter(agreement=OuterRef("pk")).filter(~Exists(own)))


def evaluation_due_q(as_of: datetime.date) -> Q:
    """Filter on a ``with_status`` queryset (same ``as_of``): implementing for six months as of D and missing the
    evaluation of the last completed semester from at least one regional party."""
    return _implementing_for_six_months(as_of) & Q(_party_missing(last_completed_semester(as_of), as_of))


def evaluated_this_semester_q(as_of: datetime.date) -> Q:
    """Filter on a ``with_status`` queryset (same ``as_of``): implementing as of D with an evaluation recorded by a
    party between the first day of D's semester and D."""
    start = timezone.make_aware(datetime.datetime.combine(Semester.of(as_of).first_day, datetime.time.min))
    recorded = Evaluation.objects.filter(counted_q(as_of), agreement=OuterRef("pk"), submitted_at__gte=start)
    return Q(stage=Stage.IMPLEMENTING) & Q(Exists(recorded))


def recommended_q(recommendation: str, as_of: datetime.date) -> Q:
    """Agreements a party's evaluation of the last completed semester (counting as of D) recommends
    ``recommendation`` for."""
    semester = last_completed_semester(as_of)
    return Q(Exists(Evaluation.objects.filter(
        counted_q(as_of), agreement=OuterRef("pk"), year=semester.year, semester=semester.half,
        recommendation=recommendation,
    )))


# --- who -------------------------------------------------------------------------------------------------------------


def may_evaluate(user, agreement: Agreement, region_id: int | None, party_region_ids=None) -> bool:
    """An active officer, for their own region, a regional party of this PKS. Never ministry staff or
    administrators (a region evaluates for itself), never a provincial officer for its kabupaten/kota.
    ``party_region_ids``: the parties already loaded (no query)."""
    if not access.is_officer(user) or not user.is_active or region_id is None or user.region_id != region_id:
        return False
    if agreement.document_type != Agreement.DocumentType.PKS:
        return False
    if party_region_ids is None:
        return AgreementParty.objects.filter(agreement=agreement, region_id=region_id).exists()
    return region_id in set(party_region_ids)


def may_conclude(user) -> bool:
    """Ministry staff and administrators write the conclusion."""
    return access.is_national(user) and user.is_active


def evaluations_visible_q(user, prefix: str = "") -> Q:
    """The evaluations ``user`` may read, among those of agreements ``user`` may read: national users all; an
    officer those on the agreements their own region is a party to, and those given by the regions whose agreements
    they read (a provincial officer: its kabupaten/kota's)."""
    if access.is_national(user):
        return Q()
    if not user.is_authenticated or not user.is_active or user.region_id is None:
        return Q(pk__in=[])
    own = AgreementParty.objects.filter(agreement=OuterRef(f"{prefix}agreement"), region_id=user.region_id)
    return Q(Exists(own)) | access.readable_regions_q(user, f"{prefix}region")


def allowed_semester(agreement: Agreement, semester: Semester, today: datetime.date) -> bool:
    """A semester may be evaluated once it has begun, when the PKS was implementing by its last day."""
    return (
        YEAR_MIN <= semester.year <= YEAR_MAX
        and semester.half in (1, 2)
        and semester.first_day <= today
        and agreement.document_type == Agreement.DocumentType.PKS
        and agreement.first_started_on is not None
        and agreement.first_started_on <= semester.last_day
    )


def active_questions() -> list[EvaluationQuestion]:
    return list(EvaluationQuestion.objects.filter(active=True).order_by("order", "pk"))


def question_label(question: EvaluationQuestion) -> str:
    """The question in the reader's language: the English text when English is active and it has one."""
    if translation.get_language() and translation.get_language().startswith("en") and question.text_en:
        return question.text_en
    return question.text


# --- writes ----------------------------------------------------------------------------------------------------------


def evaluation_submit(
    *,
    user: User,
    agreement: Agreement,
    region: Region,
    semester: Semester,
    recommendation: str,
    note: str = "",
    answers: dict[str, tuple[int | None, str]],
    evidence=None,
) -> Evaluation:
    """Record ``region``'s evaluation of ``agreement`` for ``semester``: a score 1–5 (with a note) for every active
    question, keyed by its code, a recommendation, a note and an optional evidence file (through the upload
    checks, stored as a ``Document``). Once per party and semester; each answer keeps the question's text."""
    from . import services  # services imports nothing from here

    if not may_evaluate(user, agreement, region.pk):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not allowed_semester(agreement, semester, stalls.today()):
        errors["semester"] = _("This semester cannot be evaluated for this agreement.")
    if recommendation not in Recommendation.values:
        errors["recommendation"] = _("Choose a recommendation.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = _("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH}
    questions = active_questions()
    rows = []
    for question in questions:
        score, answer_note = answers.get(question.code, (None, ""))
        answer_note = (answer_note or "").strip()
        if score not in SCORES:
            errors[f"score_{question.code}"] = _("Choose a score from 1 to 5.")
        elif len(answer_note) > ANSWER_NOTE_MAX_LENGTH:
            errors[f"note_{question.code}"] = _("At most %(n)d characters.") % {"n": ANSWER_NOTE_MAX_LENGTH}
        rows.append((question, score, answer_note))
    if errors:
        raise ValidationError(errors)
    duplicate = _("This party has already evaluated this agreement for this semester.")
    document = None
    if evidence is not None:
        document = services._build_document(agreement=agreement, user=user, uploaded=evidence,
                                            doc_type=Document.Type.EVIDENCE, field="evidence",
                                            dated_on=semester.last_day)
    try:
        with transaction.atomic():
            Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
            if Evaluation.objects.filter(agreement=agreement, region=region, year=semester.year,
                                         semester=semester.half).exists():
                raise ValidationError(duplicate)
            if document is not None:
                document.full_clean()
                document.save()
            evaluation = Evaluation(agreement=agreement, region=region, year=semester.year, semester=semester.half,
                                    recommendation=recommendation, note=note, evidence=document, submitted_by=user)
            evaluation.full_clean(validate_unique=False, validate_constraints=False)
            evaluation._history_user = user
            try:
                with transaction.atomic():
                    evaluation.save()
            except IntegrityError as exc:
                raise ValidationError(duplicate) from exc
            EvaluationAnswer.objects.bulk_create([
                EvaluationAnswer(evaluation=evaluation, question=question, question_code=question.code,
                                 question_text=question.text, score=score, note=answer_note)
                for question, score, answer_note in rows
            ])
    except BaseException:
        if document is not None:
            services._discard_files([document])
        raise
    return evaluation


def conclusion_save(*, user: User, agreement: Agreement, semester: Semester, text: str) -> EvaluationConclusion:
    """The ministry's conclusion on ``agreement``'s evaluations for ``semester``: written, or rewritten (its
    history keeps every version), by ministry staff and administrators only."""
    if not may_conclude(user):
        raise PermissionDenied
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = _("Write the conclusion.")
    elif len(text) > CONCLUSION_MAX_LENGTH:
        errors["text"] = _("At most %(n)d characters.") % {"n": CONCLUSION_MAX_LENGTH}
    if not allowed_semester(agreement, semester, stalls.today()):
        errors["semester"] = _("This semester cannot be evaluated for this agreement.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        conclusion = (
            EvaluationConclusion.objects.select_for_update()
            .filter(agreement=agreement, year=semester.year, semester=semester.half).first()
        ) or EvaluationConclusion(agreement=agreement, year=semester.year, semester=semester.half)
        conclusion.text = text
        conclusion.written_by = user
        conclusion._history_user = user
        conclusion.full_clean(validate_unique=False, validate_constraints=False)
        conclusion.save()
    return conclusion


# --- reads: the agreement page --------------------------------------------------------------------------------------


def panel(agreement: Agreement, parties: list[AgreementParty], user, today: datetime.date) -> dict:
    """The agreement page's "Semester evaluation" section: one block per semester, newest first (those with an
    evaluation or a conclusion, and the last completed one when the PKS was implementing by its end), each party's
    answers where the user may read them, the conclusion, and what the user may do. Three queries for a PKS (four
    for a provincial officer reading its kabupaten/kota's), none for a KB."""
    if agreement.document_type != Agreement.DocumentType.PKS:
        return {"evaluation_panel": None}
    evaluations = list(
        Evaluation.objects.filter(agreement=agreement).filter(evaluations_visible_q(user))
        .select_related("region", "submitted_by", "evidence")
        .prefetch_related("answers")
    )
    conclusions = {(c.year, c.semester): c for c in
                   EvaluationConclusion.objects.filter(agreement=agreement).select_related("written_by")}
    # Which parties answered, even where the user may not read the answer (for "missing"): national users and the
    # parties' officers read every answer already; a provincial officer reading its kabupaten/kota's agreement asks.
    party_ids = [p.region_id for p in parties]
    if access.is_national(user) or getattr(user, "region_id", None) in party_ids:
        answered = {(e.region_id, e.year, e.semester) for e in evaluations}
    else:
        answered = set(
            Evaluation.objects.filter(agreement=agreement).values_list("region_id", "year", "semester")
        )
    semesters = {Semester(e.year, e.semester) for e in evaluations}
    semesters |= {Semester(year, half) for year, half in conclusions}
    last = last_completed_semester(today)
    if allowed_semester(agreement, last, today):
        semesters.add(last)
    can_conclude = may_conclude(user)
    by_key = defaultdict(dict)
    for e in evaluations:
        by_key[(e.year, e.semester)][e.region_id] = e
    blocks = []
    for semester in sorted(semesters, reverse=True):
        rows = []
        for party in parties:
            evaluation = by_key[(semester.year, semester.half)].get(party.region_id)
            done = (party.region_id, semester.year, semester.half) in answered
            rows.append({
                "region": party.region,
                "evaluation": evaluation,
                "done": done,
                "can_answer": not done and may_evaluate(user, agreement, party.region_id, party_ids)
                and allowed_semester(agreement, semester, today),
            })
        blocks.append({
            "semester": semester,
            "rows": rows,
            "conclusion": conclusions.get((semester.year, semester.half)),
            "can_conclude": can_conclude and allowed_semester(agreement, semester, today),
            "missing": sum(1 for r in rows if not r["done"]),
        })
    return {"evaluation_panel": {"blocks": blocks, "last": last}}


# --- reads: the dashboard -------------------------------------------------------------------------------------------


def dashboard_figures(qs: QuerySet, user, as_of: datetime.date, base_params: list[tuple[str, str]]) -> dict:
    """The dashboard's monev figures on ``qs`` (the filtered agreements the user may see, ``with_status`` as of D):
    evaluation due; implementing agreements with an evaluation recorded this semester; the average scores of the
    last completed semester's evaluations by affair and by province of the answering party (among the evaluations
    the user may read); the agreements a party recommended stopping. Four queries whatever the data."""
    from .dashboard import Figure, list_href

    semester = last_completed_semester(as_of)
    counts = qs.order_by().aggregate(
        due=Count("pk", filter=evaluation_due_q(as_of)),
        implementing=Count("pk", filter=Q(stage=Stage.IMPLEMENTING)),
        evaluated=Count("pk", filter=evaluated_this_semester_q(as_of)),
        stop=Count("pk", filter=recommended_q(Recommendation.STOP, as_of)),
    )
    due = Figure(counts["due"], [("evaluation_due", "yes")])
    implementing = Figure(counts["implementing"], [("stage", str(Stage.IMPLEMENTING))])
    evaluated = Figure(counts["evaluated"], [("stage", str(Stage.IMPLEMENTING)), ("evaluated", "yes")])
    stop = Figure(counts["stop"], [("recommendation", str(Recommendation.STOP))])
    answers = EvaluationAnswer.objects.filter(
        counted_q(as_of, "evaluation__"), evaluations_visible_q(user, "evaluation__"),
        evaluation__agreement__in=qs.values("pk"), evaluation__year=semester.year,
        evaluation__semester=semester.half,
    ).order_by()
    by_affair = _averages(answers, "evaluation__agreement__affairs__code", "evaluation__agreement__affairs__name")
    by_province = _averages(
        answers.annotate(_code=province_of("evaluation__region", "code"),
                         _name=province_of("evaluation__region", "name")), "_code", "_name",
    )
    stopped = list(
        qs.filter(recommended_q(Recommendation.STOP, as_of)).order_by("number")[:10]
    )
    return {
        "semester": semester,
        "due": due, "due_href": list_href(base_params, due),
        "implementing": implementing, "implementing_href": list_href(base_params, implementing),
        "evaluated": evaluated, "evaluated_href": list_href(base_params, evaluated),
        "share": counts["evaluated"] / counts["implementing"] if counts["implementing"] else None,
        "stop": stop, "stop_href": list_href(base_params, stop), "stopped": stopped,
        "by_affair": by_affair,
        "by_province": by_province,
        "national": access.is_national(user),
        "scope_name": access.scope_name(user),
    }


def _averages(answers: QuerySet, key: str, name: str) -> list[dict]:
    """Per value of ``key`` (with its ``name``), in ``key`` order: the average score and the number of evaluations
    (one query)."""
    rows = answers.values(key, name).annotate(average=Avg("score"), evaluations=Count("evaluation", distinct=True))
    return sorted(
        ({"code": row[key], "name": row[name], "average": row["average"], "evaluations": row["evaluations"]}
         for row in rows if row[key] is not None),
        key=lambda row: row["code"],
    )


# --- reads: reminders -----------------------------------------------------------------------------------------------


def due_for_officer(user, agreements: QuerySet, as_of: datetime.date,
                    thresholds: stalls.Thresholds | None = None) -> list[Agreement]:
    """The officer's agreements (``agreements``: those their region is a party to) evaluation due as of D whose
    missing evaluation is their own region's (one query)."""
    semester = last_completed_semester(as_of)
    own = Evaluation.objects.filter(counted_q(as_of), agreement=OuterRef("pk"), region_id=user.region_id,
                                    year=semester.year, semester=semester.half)
    rows = list(
        stalls.with_status(agreements, as_of=as_of, thresholds=thresholds)
        .filter(evaluation_due_q(as_of)).filter(~Exists(own)).order_by("number")
    )
    for agreement in rows:
        agreement.evaluation_semester = semester
    return rows
