"""Semester evaluation (monev): the semesters, "evaluation due" as of dates, who answers and reads, the questionnaire
kept as asked, the figures and their lists, the reminders."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import evaluations, followups, stalls
from agreements.evaluations import Semester, evaluation_due_q, last_completed_semester
from agreements.filters import AgreementFilter
from agreements.models import Agreement, Document, Evaluation, EvaluationAnswer, EvaluationQuestion, Milestone
from tests.factories import MilestoneFactory, PksFactory, UserFactory, region

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
CODES = ["objectives", "on_time", "partner", "indicators", "public_service"]
d = datetime.date


STARTED = datetime.date(2025, 1, 10)


def started_pks(started_on=STARTED, regions=("32.73", "32.04"), **kwargs):
    """A PKS whose first milestone started on ``started_on`` (implementing from then on)."""
    pks = PksFactory(regions=list(regions), signed_on=kwargs.pop("signed_on", d(2024, 6, 1)), **kwargs)
    MilestoneFactory(agreement=pks, title="Mulai", started_on=started_on, status=Milestone.Status.IN_PROGRESS,
                     due_on=d(2030, 12, 31))
    pks.refresh_from_db()
    return pks


def answers(score=4):
    return {code: (score, "") for code in CODES}


def evaluate(pks, code, year, half, *, recorded_on=None, recommendation="continue", user=None):
    """A party's evaluation, written directly with its recording date (the service records today)."""
    evaluation = Evaluation.objects.create(agreement=pks, region=region(code), year=year, semester=half,
                                           recommendation=recommendation, submitted_by=user)
    for question in EvaluationQuestion.objects.filter(active=True):
        EvaluationAnswer.objects.create(evaluation=evaluation, question=question, question_code=question.code,
                                        question_text=question.text, score=3)
    if recorded_on is not None:
        moment = timezone.make_aware(datetime.datetime.combine(recorded_on, datetime.time(10)))
        Evaluation.objects.filter(pk=evaluation.pk).update(submitted_at=moment)
    return evaluation


def due_as_of(pks, as_of) -> bool:
    qs = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=as_of)
    return qs.filter(evaluation_due_q(as_of)).exists()


# --- semesters -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("as_of", "expected"), [
    (d(2026, 1, 1), Semester(2025, 2)),
    (d(2026, 6, 30), Semester(2025, 2)),
    (d(2026, 7, 1), Semester(2026, 1)),
    (d(2026, 12, 31), Semester(2026, 1)),
    (d(2027, 1, 1), Semester(2026, 2)),
])
def test_the_last_completed_semester(as_of, expected):
    assert last_completed_semester(as_of) == expected


@pytest.mark.parametrize(("day", "expected"), [
    (d(2026, 7, 1), d(2026, 1, 1)),
    (d(2026, 8, 31), d(2026, 2, 28)),
    (d(2024, 8, 31), d(2024, 2, 29)),
    (d(2026, 3, 31), d(2025, 9, 30)),
    (d(2026, 1, 15), d(2025, 7, 15)),
])
def test_six_months_before(day, expected):
    assert evaluations.months_before(day, 6) == expected


def test_semester_bounds_and_labels():
    assert Semester(2026, 1).first_day == d(2026, 1, 1) and Semester(2026, 1).last_day == d(2026, 6, 30)
    assert Semester(2026, 2).first_day == d(2026, 7, 1) and Semester(2026, 2).last_day == d(2026, 12, 31)
    assert Semester(2026, 1).label == "January–June 2026"
    assert Semester(2026, 2).previous() == Semester(2026, 1) and Semester(2026, 1).previous() == Semester(2025, 2)


# --- evaluation due, as of dates ---------------------------------------------------------------------------------------

# A PKS between Kota Bandung and Kabupaten Bandung whose first milestone started on 10 January 2025. Both parties
# evaluate January–June 2025 on 20 July 2025; only Kota Bandung evaluates July–December 2025, on 10 January 2026.
DUE_CASES = [
    (d(2025, 7, 9), False, "implementing for less than six months"),
    (d(2025, 7, 10), True, "six months implementing; nobody evaluated January–June yet"),
    (d(2025, 7, 19), True, "the evaluations are recorded the next day"),
    (d(2025, 7, 20), False, "both parties evaluated January–June on that day"),
    (d(2025, 12, 31), False, "January–June is still the last completed semester"),
    (d(2026, 1, 1), True, "July–December completed, nobody evaluated it"),
    (d(2026, 1, 10), True, "Kabupaten Bandung still has not"),
    (d(2026, 6, 30), True, "still missing at the end of the next semester"),
]


@pytest.fixture
def scenario():
    pks = started_pks()
    evaluate(pks, "32.73", 2025, 1, recorded_on=d(2025, 7, 20))
    evaluate(pks, "32.04", 2025, 1, recorded_on=d(2025, 7, 20))
    evaluate(pks, "32.73", 2025, 2, recorded_on=d(2026, 1, 10))
    return pks


@pytest.mark.parametrize(("as_of", "due", "why"), DUE_CASES, ids=[c[2] for c in DUE_CASES])
def test_evaluation_due_as_of(scenario, as_of, due, why):
    assert due_as_of(scenario, as_of) is due, why


def test_evaluation_due_ends_when_every_party_has_evaluated(scenario):
    evaluate(scenario, "32.04", 2025, 2, recorded_on=d(2026, 2, 1))
    assert due_as_of(scenario, d(2026, 1, 31)) is True
    assert due_as_of(scenario, d(2026, 2, 1)) is False


@pytest.mark.parametrize("change", ["terminated", "completed", "expired", "kb", "not_started"])
def test_only_an_implementing_pks_is_ever_due(change):
    as_of = d(2026, 3, 1)
    pks = started_pks()
    assert due_as_of(pks, as_of) is True
    if change == "terminated":
        Agreement.objects.filter(pk=pks.pk).update(terminated_on=d(2026, 2, 1))
    elif change == "completed":
        Milestone.objects.filter(agreement=pks).update(status=Milestone.Status.MET, completed_on=d(2026, 2, 1))
        stalls.refresh_facts([pks.pk])
    elif change == "expired":
        Agreement.objects.filter(pk=pks.pk).update(ends_on=d(2026, 2, 28))
    elif change == "kb":
        Milestone.objects.filter(agreement=pks).delete()
        Agreement.objects.filter(pk=pks.pk).update(document_type=Agreement.DocumentType.KB)
        stalls.refresh_facts([pks.pk])
    else:
        Milestone.objects.filter(agreement=pks).update(started_on=None, status=Milestone.Status.SCHEDULED)
        stalls.refresh_facts([pks.pk])
    assert due_as_of(pks, as_of) is False


# --- who answers ---------------------------------------------------------------------------------------------------


@pytest.fixture
def pks_now():
    """A PKS implementing since 2024: its last completed semester as of today can be evaluated."""
    return started_pks(started_on=d(2024, 2, 1))


def submit(user, pks, code="32.73", semester=None, **kwargs):
    semester = semester or last_completed_semester(stalls.today())
    kwargs.setdefault("answers", answers())
    kwargs.setdefault("recommendation", "continue")
    return evaluations.evaluation_submit(user=user, agreement=pks, region=region(code), semester=semester, **kwargs)


@pytest.mark.parametrize(("who", "code"), [
    ("ministry", "32.73"), ("admin", "32.73"),  # the ministry reads and concludes, never answers for a party
    ("province_in", "32.73"),  # Jawa Barat reads its kabupaten/kota's agreement, does not answer for it
    ("local_in", "32.04"),  # Kota Bandung does not answer for Kabupaten Bandung
    ("local_out", "32.01"),  # Kabupaten Bogor is no party
])
def test_only_a_partys_own_officer_answers_for_it(personas, pks_now, who, code):
    with pytest.raises(PermissionDenied):
        submit(personas[who], pks_now, code)
    assert not Evaluation.objects.exists()


def test_a_party_answers_once_per_semester_and_each_answer_keeps_its_question(personas, pks_now):
    evaluation = submit(personas["local_in"], pks_now, note="Berjalan baik")
    assert evaluation.submitted_by == personas["local_in"] and evaluation.region.code == "32.73"
    rows = list(evaluation.answers.order_by("question__order"))
    assert [a.question_code for a in rows] == CODES
    assert rows[0].question_text == EvaluationQuestion.objects.get(code="objectives").text
    with pytest.raises(ValidationError, match="already evaluated"):
        submit(personas["local_in"], pks_now)
    assert Evaluation.objects.count() == 1


def test_every_active_question_needs_a_score_from_1_to_5(personas, pks_now):
    for bad in (None, 0, 6, "abc"):
        scores = answers()
        scores["partner"] = (bad, "")
        with pytest.raises(ValidationError) as exc:
            submit(personas["local_in"], pks_now, answers=scores)
        assert "score_partner" in exc.value.message_dict
    EvaluationQuestion.objects.filter(code="partner").update(active=False)
    scores = answers()
    del scores["partner"]
    evaluation = submit(personas["local_in"], pks_now, answers=scores)
    assert evaluation.answers.count() == 4


def test_a_semester_not_begun_or_before_implementation_is_refused(personas, pks_now):
    current = Semester.of(stalls.today())
    for semester in (Semester(current.year + 1, 1), Semester(2023, 2)):
        with pytest.raises(ValidationError) as exc:
            submit(personas["local_in"], pks_now, semester=semester)
        assert "semester" in exc.value.message_dict


def test_evidence_goes_through_the_upload_checks(personas, pks_now, media_root):
    html = SimpleUploadedFile("laporan.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        submit(personas["local_in"], pks_now, evidence=html)
    assert "evidence" in exc.value.message_dict
    assert not Document.objects.exists() and not Evaluation.objects.exists()
    pdf = SimpleUploadedFile("Laporan monev.pdf", PDF_BYTES, content_type="application/pdf")
    evaluation = submit(personas["local_in"], pks_now, evidence=pdf)
    assert evaluation.evidence.doc_type == Document.Type.EVIDENCE
    assert evaluation.evidence.agreement_id == pks_now.pk and evaluation.evidence.original_name == "Laporan monev.pdf"


def test_editing_a_question_leaves_past_answers_as_asked(personas, pks_now):
    evaluation = submit(personas["local_in"], pks_now)
    question = EvaluationQuestion.objects.get(code="objectives")
    asked = question.text
    question.text = "Sejauh mana tujuan tercapai?"
    question.save()
    answer = evaluation.answers.get(question_code="objectives")
    assert answer.question_text == asked and answer.question_id == question.pk


def test_editing_a_question_in_admin_leaves_past_answers_as_asked(client, personas, pks_now):
    evaluation = submit(personas["local_in"], pks_now)
    question = EvaluationQuestion.objects.get(code="on_time")
    asked = question.text
    client.force_login(personas["admin"])
    url = reverse("admin:agreements_evaluationquestion_change", args=[question.pk])
    response = client.post(url, {"code": "on_time", "text": "Pertanyaan baru?", "text_en": "New question?",
                                 "order": question.order, "active": "on"})
    assert response.status_code == 302
    assert EvaluationQuestion.objects.get(pk=question.pk).text == "Pertanyaan baru?"
    assert evaluation.answers.get(question_code="on_time").question_text == asked


# --- the conclusion -----------------------------------------------------------------------------------------------


def test_only_the_ministry_concludes(personas, pks_now):
    semester = last_completed_semester(stalls.today())
    for who in ("local_in", "province_in", "local_out"):
        with pytest.raises(PermissionDenied):
            evaluations.conclusion_save(user=personas[who], agreement=pks_now, semester=semester, text="Lanjut")
    with pytest.raises(ValidationError):
        evaluations.conclusion_save(user=personas["ministry"], agreement=pks_now, semester=semester, text="  ")
    first = evaluations.conclusion_save(user=personas["ministry"], agreement=pks_now, semester=semester,
                                        text="Lanjutkan")
    again = evaluations.conclusion_save(user=personas["admin"], agreement=pks_now, semester=semester,
                                        text="Perbaiki jadwal")
    assert first.pk == again.pk and again.text == "Perbaiki jadwal" and again.written_by == personas["admin"]
    assert again.history.count() == 2


# --- the pages -----------------------------------------------------------------------------------------------------


def form_url(pks, **params):
    last = last_completed_semester(stalls.today())
    params = {"year": last.year, "semester": last.half, **params}
    return reverse("evaluation-create", args=[pks.pk]) + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def form_data(score="4", **extra):
    data = {f"score_{code}": score for code in CODES}
    data.update({f"note_{code}": "" for code in CODES})
    data.update({"recommendation": "improve", "note": "Perlu jadwal baru"})
    data.update(extra)
    return data


def test_an_officer_records_the_evaluation_from_the_agreement_page(client, personas, pks_now, media_root):
    client.force_login(personas["local_in"])
    page = client.get(pks_now.get_absolute_url()).content.decode()
    assert "Semester evaluation" in page and form_url(pks_now).replace("&", "&amp;") in page
    response = client.get(form_url(pks_now))
    assert response.status_code == 200
    html = response.content.decode()
    for code in CODES:
        assert f'name="score_{code}"' in html and f'name="note_{code}"' in html
    assert 'name="recommendation"' in html and 'name="evidence"' in html and "Submit the evaluation" in html
    data = form_data(evidence=SimpleUploadedFile("bukti.pdf", PDF_BYTES, content_type="application/pdf"))
    response = client.post(form_url(pks_now), data)
    assert response.status_code == 302 and response["Location"].endswith("#evaluations-h")
    evaluation = Evaluation.objects.get()
    assert evaluation.recommendation == "improve" and evaluation.evidence is not None
    page = client.get(pks_now.get_absolute_url()).content.decode()
    assert "Perlu jadwal baru" in page and form_url(pks_now).replace("&", "&amp;") not in page
    # Opening the form again says it is done.
    assert client.get(form_url(pks_now)).status_code == 302


@pytest.mark.parametrize(("field", "value"), [
    ("score_objectives", "0"), ("score_objectives", "6"), ("score_objectives", "abc"), ("score_objectives", ""),
    ("recommendation", "maybe"), ("note", "x" * 100_000), ("note_partner", "y" * 10_000),
])
def test_hostile_answers_are_form_errors(client, personas, pks_now, field, value):
    client.force_login(personas["local_in"])
    response = client.post(form_url(pks_now), form_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("field", ["note", "note_partner", "score_objectives"])
def test_nul_bytes_are_refused_never_a_500(client, personas, pks_now, field):
    client.force_login(personas["local_in"])
    response = client.post(form_url(pks_now), form_data(**{field: "a\x00b"}))
    assert response.status_code in (200, 400)  # the request guard refuses NUL bytes before the form
    assert not Evaluation.objects.exists()


def test_a_nul_byte_in_the_parameters_is_refused(client, personas, pks_now):
    client.force_login(personas["local_in"])
    assert client.get(form_url(pks_now, year="2026\x00")).status_code in (400, 404)


@pytest.mark.parametrize("params", [
    {"year": "abc"}, {"semester": "3"}, {"semester": "0"}, {"year": "99999"}, {"year": "1800"},
    {"semester": "1.5"}, {"year": ""}, {"year": str(datetime.date.today().year + 1)},
    {"year": "2023", "semester": "1"},  # before the implementation started
])
def test_odd_semester_parameters_answer_404(client, personas, pks_now, params):
    client.force_login(personas["local_in"])
    assert client.get(form_url(pks_now, **params)).status_code == 404
    client.force_login(personas["ministry"])
    url = reverse("evaluation-conclusion", args=[pks_now.pk]) + "?" + "&".join(
        f"{k}={v}" for k, v in {"year": 2026, "semester": 1, **params}.items())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("who", "status"), [
    ("ministry", 403), ("admin", 403), ("province_in", 403), ("province_out", 404), ("local_in", 200),
    ("local_out", 404),
])
def test_the_form_answers_by_role(client, personas, pks_now, who, status):
    client.force_login(personas[who])
    assert client.get(form_url(pks_now)).status_code == status
    assert client.post(form_url(pks_now), form_data()).status_code == (302 if status == 200 else status)
    assert Evaluation.objects.count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(("who", "status"), [
    ("ministry", 200), ("admin", 200), ("province_in", 403), ("province_out", 404), ("local_in", 403),
    ("local_out", 404),
])
def test_the_conclusion_form_answers_by_role(client, personas, pks_now, who, status):
    client.force_login(personas[who])
    url = reverse("evaluation-conclusion", args=[pks_now.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"text": "Dilanjutkan dengan perbaikan"}).status_code == (302 if status == 200 else status)


def test_who_reads_which_answers(client, personas):
    """Kota Bandung (Jawa Barat) and Kota Surabaya (Jawa Timur): each party's officers read both answers and the
    ministry all; Jawa Barat's officers read Kota Bandung's answers but not Kota Surabaya's."""
    pks = started_pks(started_on=d(2024, 2, 1), regions=("32.73", "35.78"))
    semester = last_completed_semester(stalls.today())
    bandung = evaluate(pks, "32.73", semester.year, semester.half)
    EvaluationAnswer.objects.filter(evaluation=bandung).update(note="Catatan Bandung")
    surabaya = evaluate(pks, "35.78", semester.year, semester.half)
    EvaluationAnswer.objects.filter(evaluation=surabaya).update(note="Catatan Surabaya")
    surabaya_officer = UserFactory(username="kota-surabaya", role="local", region=region("35.78"))
    for user, bandung_seen, surabaya_seen in [
        (personas["ministry"], True, True), (personas["local_in"], True, True), (surabaya_officer, True, True),
        (personas["province_in"], True, False), (personas["province_out"], False, True),
    ]:
        client.force_login(user)
        html = client.get(pks.get_absolute_url()).content.decode()
        assert ("Catatan Bandung" in html) is bandung_seen, user
        assert ("Catatan Surabaya" in html) is surabaya_seen, user


def test_the_agreement_page_shows_the_conclusion_and_its_button_to_the_ministry(client, personas, pks_now):
    semester = last_completed_semester(stalls.today())
    evaluations.conclusion_save(user=personas["ministry"], agreement=pks_now, semester=semester,
                                text="Kesimpulan kementerian")
    client.force_login(personas["ministry"])
    html = client.get(pks_now.get_absolute_url()).content.decode()
    assert "Kesimpulan kementerian" in html and "Edit the conclusion" in html and "Fill in the evaluation" not in html
    client.force_login(personas["province_in"])
    html = client.get(pks_now.get_absolute_url()).content.decode()
    assert "Kesimpulan kementerian" in html and "Edit the conclusion" not in html
    assert "Fill in the evaluation" not in html


def test_the_evaluation_panel_reads_a_fixed_number_of_queries(personas):
    semester = last_completed_semester(stalls.today())
    one = started_pks(started_on=d(2024, 2, 1))
    evaluate(one, "32.73", semester.year, semester.half)
    many = started_pks(started_on=d(2024, 2, 1), regions=("32.73", "32.04", "32.01", "32.05"))
    for code in ("32.73", "32.04", "32.01"):
        evaluate(many, code, semester.year, semester.half)
        evaluate(many, code, semester.previous().year, semester.previous().half)
    evaluations.conclusion_save(user=personas["ministry"], agreement=many, semester=semester, text="Lanjut")
    for pks in (one, many):
        parties = list(pks.parties.select_related("region"))
        for user in (personas["ministry"], personas["province_in"]):
            with CaptureQueriesContext(connection) as ctx:
                panel = evaluations.panel(pks, parties, user, stalls.today())
            assert len(ctx) == (3 if user == personas["ministry"] else 4)
    assert [b["semester"] for b in panel["evaluation_panel"]["blocks"]] == [semester, semester.previous()]


# --- the dashboard and the list ---------------------------------------------------------------------------------------


@pytest.fixture
def monev():
    """As of 1 March 2026: a due PKS in Jawa Barat, one evaluated by both parties (one recommends stopping), one in
    Jawa Timur due, and one started too recently."""
    due_jabar = started_pks(d(2025, 1, 10))
    evaluated = started_pks(d(2025, 1, 10))
    evaluate(evaluated, "32.73", 2025, 2, recorded_on=d(2026, 1, 20), recommendation="stop")
    evaluate(evaluated, "32.04", 2025, 2, recorded_on=d(2026, 2, 2))
    due_jatim = started_pks(d(2025, 3, 1), regions=("35.78", "35.07"))
    recent = started_pks(d(2025, 12, 1))
    return {"due_jabar": due_jabar, "evaluated": evaluated, "due_jatim": due_jatim, "recent": recent,
            "as_of": d(2026, 3, 1)}


def list_pks(client, params) -> set[int]:
    response = client.get(reverse("agreement-list"), params)
    assert response.status_code == 200
    return {a.pk for a in response.context["page"].object_list}


@pytest.mark.parametrize(("who", "due"), [
    ("ministry", {"due_jabar", "due_jatim"}), ("province_in", {"due_jabar"}), ("local_in", {"due_jabar"}),
    ("province_out", {"due_jatim"}), ("local_out", set()),
])
def test_the_due_figure_equals_its_list_in_every_scope(client, personas, monev, who, due):
    client.force_login(personas[who])
    as_of = monev["as_of"].isoformat()
    response = client.get(reverse("home"), {"as_of": as_of})
    figures = response.context["evaluation"]
    assert figures["due"].value == len(due)
    listed = list_pks(client, {"as_of": as_of, "evaluation_due": "yes"})
    assert listed == {monev[name].pk for name in due}
    assert "evaluation_due=yes" in figures["due_href"]
    html = response.content.decode()
    assert figures["due_href"].replace("&", "&amp;") in html


def test_the_share_evaluated_this_semester_and_the_stop_list(client, personas, monev):
    client.force_login(personas["ministry"])
    as_of = monev["as_of"].isoformat()
    figures = client.get(reverse("home"), {"as_of": as_of}).context["evaluation"]
    assert figures["implementing"].value == 4 and figures["evaluated"].value == 1 and figures["share"] == 0.25
    assert list_pks(client, {"as_of": as_of, "stage": "implementing", "evaluated": "yes"}) == {monev["evaluated"].pk}
    assert figures["stop"].value == 1 and [a.pk for a in figures["stopped"]] == [monev["evaluated"].pk]
    assert list_pks(client, {"as_of": as_of, "recommendation": "stop"}) == {monev["evaluated"].pk}
    assert figures["national"] is True


def test_average_scores_by_affair_and_province_are_scoped_and_labelled(client, personas, monev):
    EvaluationAnswer.objects.filter(evaluation__region__code="32.04").update(score=5)
    client.force_login(personas["ministry"])
    response = client.get(reverse("home"), {"as_of": monev["as_of"].isoformat()})
    figures = response.context["evaluation"]
    assert [(r["code"], r["average"], r["evaluations"]) for r in figures["by_affair"]] == [("3.26", 4.0, 2)]
    assert [(r["code"], r["average"]) for r in figures["by_province"]] == [("32", 4.0)]
    assert "national" in response.content.decode().lower()
    client.force_login(personas["province_out"])
    response = client.get(reverse("home"), {"as_of": monev["as_of"].isoformat()})
    figures = response.context["evaluation"]
    assert figures["by_affair"] == [] and figures["national"] is False
    assert "Jawa Timur" in figures["scope_name"]


def test_a_bad_filter_value_is_a_form_error(client, personas):
    client.force_login(personas["ministry"])
    assert client.get(reverse("agreement-list"), {"evaluation_due": "yes\x00"}).status_code == 400
    for params in ({"evaluation_due": "maybe"}, {"evaluated": "x"}, {"recommendation": "later"}):
        response = client.get(reverse("agreement-list"), params)
        assert response.status_code == 200
        assert set(params) & set(response.context["form"].errors)


def test_the_dashboard_figures_read_a_fixed_number_of_queries(personas, monev):
    def count():
        qs = AgreementFilter(data={"as_of": "2026-03-01"}, queryset=Agreement.objects.all()).qs
        with CaptureQueriesContext(connection) as ctx:
            evaluations.dashboard_figures(qs, personas["ministry"], monev["as_of"], [])
        return len(ctx)

    before = count()
    for _ in range(3):
        pks = started_pks(d(2025, 1, 10), regions=("33.74", "34.71"), affairs=["1.02"])
        evaluate(pks, "33.74", 2025, 2, recorded_on=d(2026, 1, 5), recommendation="stop")
    assert count() == before


# --- reminders -------------------------------------------------------------------------------------------------------


def test_the_weekly_digest_lists_the_officers_evaluations_due(personas, monev):
    as_of = monev["as_of"]
    digest = followups.officer_digest(personas["local_in"], as_of)
    assert {a.pk for a in digest.evaluation_due} == {monev["due_jabar"].pk}
    assert not digest.is_empty
    # Kabupaten Bandung's officer: the same PKS is due for its own missing evaluation.
    kab_bandung = UserFactory(username="kab-bandung", role="local", region=region("32.04"))
    evaluate(monev["due_jabar"], "32.04", 2025, 2, recorded_on=d(2026, 2, 1))
    assert followups.officer_digest(kab_bandung, as_of).evaluation_due == []
    assert {a.pk for a in followups.officer_digest(personas["local_in"], as_of).evaluation_due} == {
        monev["due_jabar"].pk}


def test_the_reminder_email_names_the_evaluation_due(personas, monev, mailoutbox, settings):
    from django.core.management import call_command

    settings.SITE_URL = "https://kerjasama.example.go.id"
    personas["local_in"].email = "bandung@example.go.id"
    personas["local_in"].language = "en"
    personas["local_in"].save()
    call_command("send_reminders", as_of=monev["as_of"].isoformat())
    mine = [m for m in mailoutbox if m.to == ["bandung@example.go.id"]]
    assert mine and "Semester evaluations due" in mine[0].body
    assert monev["due_jabar"].number in mine[0].body


def test_the_admin_edits_questions_and_only_reads_evaluations(client, personas, pks_now):
    evaluation = submit(personas["local_in"], pks_now)
    client.force_login(personas["admin"])
    changelist = client.get(reverse("admin:agreements_evaluationquestion_changelist"))
    assert changelist.status_code == 200 and "form-0-order" in changelist.content.decode()  # list_editable
    page = client.get(reverse("admin:agreements_evaluation_change", args=[evaluation.pk]))
    assert page.status_code == 200
    assert EvaluationQuestion.objects.get(code="partner").text in page.content.decode()  # the answers, inline
    assert client.get(reverse("admin:agreements_evaluation_add")).status_code == 403
    question = EvaluationQuestion.objects.get(code="partner")
    assert client.post(reverse("admin:agreements_evaluationquestion_delete", args=[question.pk]),
                       {"post": "yes"}).status_code == 403  # answered: switched off, never deleted
    assert EvaluationQuestion.objects.filter(pk=question.pk).exists()
