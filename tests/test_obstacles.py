"""Where and why an agreement stopped: ``stuck_at`` (the first step not done as of D) and obstacles (kendala).

The rules are in ``agreements.stalls`` (``with_stuck_at``, ``obstacle_open_q``), who may record an obstacle in
``agreements.access``, recording and resolving in ``agreements.services``; the dashboard, the list's filters, the
agreement page, "My agreements", the timeline and ``manage.py stalled`` read them.
"""

import csv
import datetime
import io
import json
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse

from agreements import access, services, stalls
from agreements.filters import AgreementFilter
from agreements.models import Agreement, AgreementStep, Milestone, Obstacle, StepTemplate, TemplateStep
from agreements.timeline import agreement_timeline
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory
from tests.listing import list_count, page_count
from tests.test_dashboard import links_with_figures

pytestmark = pytest.mark.django_db

D = datetime.date(2026, 6, 30)
DAY = datetime.timedelta(days=1)
DONE, NOT_STARTED, NA = AgreementStep.Status.DONE, AgreementStep.Status.NOT_STARTED, AgreementStep.Status.NOT_APPLICABLE


def give_steps(agreement, *steps):
    """Replace the agreement's steps by ``steps``: (code, status, done_on), in order."""
    AgreementStep.objects.filter(agreement=agreement).delete()
    for order, (code, status, done_on) in enumerate(steps, start=1):
        AgreementStep.objects.create(
            agreement=agreement, code=code, order=order, phase="kb", title=f"Langkah {code}", status=status,
            done_on=done_on, not_applicable_reason="Tidak perlu" if status == NA else "",
        )


def stuck_at(agreement, as_of=D):
    qs = stalls.with_stuck_at(stalls.with_status(Agreement.objects.filter(pk=agreement.pk), as_of=as_of), as_of,
                              title=True)
    row = qs.get()
    return row.stuck_at, row.stuck_at_title


@pytest.fixture
def kb_without_pks():
    """A KB signed two years before D, never followed by a PKS: signed, then the DPRD approval of one party is
    missing, then the PKS to draft."""
    kb = AgreementFactory(number="KB/stuck", signed_on=D - 730 * DAY)
    give_steps(kb, ("T.PREP", DONE, D - 800 * DAY), ("T.SIGN", DONE, D - 730 * DAY), ("T.DPRD", NOT_STARTED, None),
               ("T.PKS-DRAFT", NOT_STARTED, None), ("T.PKS-SIGN", NOT_STARTED, None))
    return kb


# --- stuck_at ------------------------------------------------------------------------------------------------------


def test_kb_without_pks_is_stuck_at_its_first_step_not_done(kb_without_pks):
    assert stuck_at(kb_without_pks) == ("T.DPRD", "Langkah T.DPRD")


def test_a_step_that_does_not_apply_is_passed_over(kb_without_pks):
    AgreementStep.objects.filter(agreement=kb_without_pks, code="T.DPRD").update(
        status=NA, not_applicable_reason="Sudah dianggarkan")
    assert stuck_at(kb_without_pks)[0] == "T.PKS-DRAFT"


def test_a_step_done_after_d_was_not_done_as_of_d(kb_without_pks):
    AgreementStep.objects.filter(agreement=kb_without_pks, code="T.DPRD").update(status=DONE, done_on=D + DAY)
    assert stuck_at(kb_without_pks)[0] == "T.DPRD"
    AgreementStep.objects.filter(agreement=kb_without_pks, code="T.DPRD").update(done_on=D)
    assert stuck_at(kb_without_pks)[0] == "T.PKS-DRAFT"
    # Earlier, the KB was signed but its signing step was not yet done: that is where it stood.
    before = D - 100 * DAY
    assert stalls.with_status(Agreement.objects.filter(pk=kb_without_pks.pk), as_of=before).get().is_stalled
    AgreementStep.objects.filter(agreement=kb_without_pks, code="T.SIGN").update(done_on=before + DAY)
    assert stuck_at(kb_without_pks, before)[0] == "T.SIGN"


def test_steps_follow_their_order_not_their_creation():
    kb = AgreementFactory(signed_on=D - 730 * DAY)
    AgreementStep.objects.create(agreement=kb, code="Z.LATE", order=9, phase="pks", title="Terakhir")
    AgreementStep.objects.create(agreement=kb, code="Z.EARLY", order=2, phase="kb", title="Awal")
    assert stuck_at(kb)[0] == "Z.EARLY"


def test_pks_not_started_is_stuck_at_the_start_of_implementation():
    pks = PksFactory(signed_on=D - 365 * DAY)
    give_steps(pks, ("P.SIGN", DONE, D - 365 * DAY), ("P.DPRD", NA, None), ("P.START", NOT_STARTED, None),
               ("P.REPORT", NOT_STARTED, None))
    row = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=D).get()
    assert stalls.reasons_of(row) == ["PKS_NOT_STARTED"]
    assert stuck_at(pks)[0] == "P.START"


def test_an_overdue_milestone_stalls_where_the_steps_stopped():
    pks = PksFactory(signed_on=D - 200 * DAY)
    MilestoneFactory(agreement=pks, due_on=D - 60 * DAY, started_on=D - 150 * DAY, status=Milestone.Status.IN_PROGRESS)
    give_steps(pks, ("M.SIGN", DONE, D - 200 * DAY), ("M.START", DONE, D - 150 * DAY), ("M.REPORT", NOT_STARTED, None),
               ("M.EVAL", NOT_STARTED, None))
    row = stalls.with_status(Agreement.objects.filter(pk=pks.pk), as_of=D).get()
    assert stalls.reasons_of(row) == ["MILESTONE_OVERDUE"]
    assert stuck_at(pks)[0] == "M.REPORT"


def test_no_stuck_at_when_not_stalled_without_steps_or_with_every_step_done(kb_without_pks):
    recent = AgreementFactory(signed_on=D - 10 * DAY)
    give_steps(recent, ("R.SIGN", DONE, D - 10 * DAY), ("R.DPRD", NOT_STARTED, None))
    assert stuck_at(recent) == (None, None)  # not stalled
    bare = AgreementFactory(signed_on=D - 730 * DAY)
    AgreementStep.objects.filter(agreement=bare).delete()
    assert stuck_at(bare) == (None, None)  # stalled, but no steps recorded
    AgreementStep.objects.filter(agreement=kb_without_pks).exclude(code="T.PKS-SIGN").update(status=DONE, done_on=D)
    AgreementStep.objects.filter(agreement=kb_without_pks, code="T.PKS-SIGN").update(status=NA)
    assert stuck_at(kb_without_pks) == (None, None)


# --- obstacles: the rule and the services ---------------------------------------------------------------------------


@pytest.fixture
def officer(personas):
    return personas["local_in"]


def record(agreement, user, category="budget", raised_on=D - 30 * DAY, description="Anggaran belum tersedia"):
    return services.obstacle_record(user=user, agreement=agreement, category=category, description=description,
                                    raised_on=raised_on)


def test_an_obstacle_is_open_from_the_day_it_is_raised_until_the_day_it_is_resolved(officer, kb_without_pks):
    obstacle = record(kb_without_pks, officer, raised_on=D - 30 * DAY)
    services.obstacle_resolve(user=officer, obstacle=obstacle, resolved_on=D - 10 * DAY, resolution="APBD-P")

    def open_on(day):
        return Obstacle.objects.filter(stalls.obstacle_open_q(day)).exists()

    assert not open_on(D - 31 * DAY)
    assert open_on(D - 30 * DAY) and open_on(D - 11 * DAY)
    assert not open_on(D - 10 * DAY) and not open_on(D)
    obstacle.refresh_from_db()
    assert stalls.obstacle_is_open(obstacle, D - 11 * DAY) and not stalls.obstacle_is_open(obstacle, D - 10 * DAY)


def test_recording_checks_the_description_and_dates(officer, kb_without_pks):
    with pytest.raises(ValidationError) as exc:
        record(kb_without_pks, officer, description="   ")
    assert "description" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        record(kb_without_pks, officer, raised_on=stalls.today() + DAY)
    assert exc.value.message_dict["raised_on"] == ["This date is in the future."]
    with pytest.raises(ValidationError) as exc:
        record(kb_without_pks, officer, raised_on=datetime.date(1, 1, 1))
    assert "raised_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        record(kb_without_pks, officer, category="weather")
    assert "category" in exc.value.message_dict
    assert not Obstacle.objects.exists()
    obstacle = record(kb_without_pks, officer)
    assert obstacle.recorded_by == officer and obstacle.history.get().history_user == officer


def test_resolving_checks_the_date_and_what_resolved_it_and_happens_once(officer, kb_without_pks):
    obstacle = record(kb_without_pks, officer, raised_on=D - 30 * DAY)
    for resolved_on, field in [(D - 31 * DAY, "resolved_on"), (stalls.today() + DAY, "resolved_on"),
                               (None, "resolved_on")]:
        with pytest.raises(ValidationError) as exc:
            services.obstacle_resolve(user=officer, obstacle=obstacle, resolved_on=resolved_on, resolution="Rapat")
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.obstacle_resolve(user=officer, obstacle=obstacle, resolved_on=D, resolution=" ")
    assert "resolution" in exc.value.message_dict
    assert Obstacle.objects.get().resolved_on is None
    services.obstacle_resolve(user=officer, obstacle=obstacle, resolved_on=D - 30 * DAY, resolution="Rapat")
    with pytest.raises(ValidationError, match="already"):
        services.obstacle_resolve(user=officer, obstacle=obstacle, resolved_on=D, resolution="Lagi")
    assert Obstacle.objects.get().resolution == "Rapat"


@pytest.mark.parametrize(("who", "may"), [
    ("ministry", True), ("admin", True), ("province_in", True), ("local_in", True),
    ("province_out", False), ("local_out", False),
])
def test_who_may_record_an_obstacle(personas, who, may):
    """The parties' officers, their province's officers (who only read the agreement), ministry staff and admins."""
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    user = personas[who]
    assert access.can_record_obstacle(user, agreement) is may
    assert access.can_write_agreement(user, agreement) is (who in ("ministry", "admin", "local_in"))
    if may:
        assert record(agreement, user).recorded_by == user
    else:
        with pytest.raises(PermissionDenied):
            record(agreement, user)


def test_an_inactive_officer_may_not_record(personas):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    officer = personas["local_in"]
    officer.is_active = False
    assert not access.can_record_obstacle(officer, agreement)


# --- the pages -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [
    ("anonymous", 302), ("ministry", 200), ("admin", 200), ("province_in", 200), ("local_in", 200),
    ("province_out", 404), ("local_out", 404),
])
def test_the_forms_answer_by_role(client, personas, who, status):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    obstacle = record(agreement, personas["ministry"])
    if who != "anonymous":
        client.force_login(personas[who])
    for url in (reverse("obstacle-create", args=[agreement.pk]), reverse("obstacle-resolve", args=[obstacle.pk])):
        assert client.get(url).status_code == status, url
        assert client.post(url, {}).status_code == status, url  # an empty post: the form again, with its errors
    assert Obstacle.objects.get().resolved_on is None


def test_a_provincial_officer_records_and_resolves_from_the_agreement_page(client, personas):
    """The Jawa Barat officer reads Kota Bandung's agreement (cannot edit it) and records why it stopped."""
    agreement = AgreementFactory(regions=["32.73", "32.04"], signed_on=D - 730 * DAY)
    user = personas["province_in"]
    client.force_login(user)
    page = client.get(agreement.get_absolute_url()).content.decode()
    create_url = reverse("obstacle-create", args=[agreement.pk])
    assert f'href="{create_url}"' in page and "Record an obstacle" in page
    assert reverse("agreement-edit", args=[agreement.pk]) not in page
    form = client.get(create_url)
    token = form.context["form_token"]
    response = client.post(create_url, {"category": "partner", "description": "Mitra belum menjawab surat",
                                        "raised_on": "2026-01-05", "form_token": token})
    assert response.status_code == 302 and response["Location"].endswith("#obstacles-h")
    obstacle = Obstacle.objects.get()
    assert (obstacle.category, obstacle.raised_on, obstacle.recorded_by) == ("partner", datetime.date(2026, 1, 5), user)
    # The same form sent twice records once.
    client.post(create_url, {"category": "partner", "description": "Lagi", "raised_on": "2026-01-05",
                             "form_token": token})
    assert Obstacle.objects.count() == 1

    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Partner not responding" in page and "Mitra belum menjawab surat" in page
    resolve_url = reverse("obstacle-resolve", args=[obstacle.pk])
    assert resolve_url in page
    response = client.post(resolve_url, {"resolved_on": "2026-01-01", "resolution": "Rapat koordinasi"})
    assert response.status_code == 200
    assert "An obstacle is resolved on or after the day it was raised." in response.content.decode()
    response = client.post(resolve_url, {"resolved_on": "2026-02-10", "resolution": "Rapat koordinasi"})
    assert response.status_code == 302
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "No open obstacle." in page
    assert re.search(r"<details class=\"obstacles-resolved\">\s*<summary>1 obstacle resolved</summary>", page)
    assert "Rapat koordinasi" in page and resolve_url not in page
    assert client.get(resolve_url).status_code == 302  # already resolved: back to the agreement


@pytest.mark.parametrize("fields", [
    {"category": "budget", "description": "x", "raised_on": "0001-01-01"},
    {"category": "budget", "description": "x", "raised_on": "9999-12-31"},
    {"category": "budget", "description": "x", "raised_on": "2024-02-30"},
    {"category": "budget", "description": "x", "raised_on": "99999999999999999999"},
    {"category": "budget" * 1000, "description": "x", "raised_on": "2024-02-01"},
    {"category": "budget", "description": "x" * 100_000, "raised_on": "2024-02-01"},
    {"category": "budget", "description": "x\x00y", "raised_on": "2024-02-01"},
])
def test_hostile_input_is_an_error_never_a_500(client, personas, fields):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    obstacle = record(agreement, personas["ministry"], raised_on=D - 30 * DAY)
    client.force_login(personas["local_in"])
    response = client.post(reverse("obstacle-create", args=[agreement.pk]), fields)
    assert response.status_code in (200, 400)
    resolve = {"resolved_on": fields["raised_on"], "resolution": fields["description"]}
    assert client.post(reverse("obstacle-resolve", args=[obstacle.pk]), resolve).status_code in (200, 400)
    assert Obstacle.objects.count() == 1 and Obstacle.objects.get().resolved_on is None
    for pk in ("999999", "99999999999999999999"):
        assert client.get(f"/obstacles/{pk}/resolve/").status_code == 404


def test_my_agreements_lists_the_open_obstacles(client, personas):
    mine = AgreementFactory(number="KB/mine", regions=["32.73", "32.04"])
    other = AgreementFactory(number="KB/other", regions=["32.01", "32.04"])
    record(mine, personas["local_in"], description="Anggaran belum ada")
    resolved = record(mine, personas["local_in"], category="dprd", description="DPRD reses")
    services.obstacle_resolve(user=personas["local_in"], obstacle=resolved, resolved_on=stalls.today(),
                              resolution="Disetujui")
    record(other, personas["ministry"], category="partner", description="Mitra diam")
    client.force_login(personas["local_in"])
    html = client.get(reverse("my-agreements")).content.decode()
    assert "Open obstacles" in html and "Anggaran belum ada" in html
    assert "DPRD reses" not in html and "Mitra diam" not in html
    # A provincial officer sees those it recorded on a kabupaten/kota's agreement, which its province is no party to.
    record(mine, personas["province_in"], category="capacity", description="Staf baru")
    client.force_login(personas["province_in"])
    html = client.get(reverse("my-agreements")).content.decode()
    assert "Staf baru" in html and "Anggaran belum ada" not in html


def test_the_timeline_shows_obstacles_raised_and_resolved(personas):
    agreement = AgreementFactory()
    open_one = record(agreement, personas["ministry"], category="budget", raised_on=D - 40 * DAY)
    closed = record(agreement, personas["ministry"], category="leadership", raised_on=D - 30 * DAY)
    services.obstacle_resolve(user=personas["ministry"], obstacle=closed, resolved_on=D - 20 * DAY,
                              resolution="Pejabat baru dilantik")
    events = [e for e in agreement_timeline(agreement) if e.kind == "obstacle"]
    assert [(e.title, e.when) for e in events] == [
        ("Obstacle resolved: Change of leadership", D - 20 * DAY),
        ("Obstacle raised: Change of leadership", D - 30 * DAY),
        ("Obstacle raised, not resolved: Budget", D - 40 * DAY),
    ]
    assert events[0].note == "Pejabat baru dilantik" and events[2].note == open_one.description


def test_the_agreement_page_names_the_step_where_it_stopped(client, staff):
    client.force_login(staff)
    today_kb = AgreementFactory(signed_on=stalls.today() - 730 * DAY)
    give_steps(today_kb, ("S.SIGN", DONE, today_kb.signed_on), ("S.DPRD", NOT_STARTED, None))
    html = client.get(today_kb.get_absolute_url()).content.decode()
    assert 'data-step="S.DPRD"' in html and "Stopped at the step: Langkah S.DPRD" in html


# --- the list's filters --------------------------------------------------------------------------------------------


@pytest.fixture
def template_steps():
    """Two templates sharing a step title, and one of their own."""
    a, _ = StepTemplate.objects.get_or_create(document_type="KB", cooperation_kind="KSDD-SUKARELA",
                                              defaults={"name": "KB sukarela"})
    b, _ = StepTemplate.objects.get_or_create(document_type="PKS", cooperation_kind="KSDD-SUKARELA",
                                              defaults={"name": "PKS sukarela"})
    TemplateStep.objects.filter(code__in=["T.DPRD", "T.PKS-DRAFT", "P.START"]).delete()
    TemplateStep.objects.create(template=a, code="T.DPRD", order=901, phase="dprd", title="Persetujuan DPRD (uji)")
    TemplateStep.objects.create(template=a, code="T.PKS-DRAFT", order=902, phase="pks", title="Penyusunan PKS (uji)")
    TemplateStep.objects.create(template=b, code="P.START", order=901, phase="implementation",
                                title="Persetujuan DPRD (uji)")
    return a, b


def test_the_filters_select_by_step_and_open_obstacle(staff, kb_without_pks, template_steps):
    other = AgreementFactory(number="KB/other", signed_on=D - 730 * DAY)
    give_steps(other, ("T.SIGN", DONE, D - 730 * DAY), ("T.DPRD", DONE, D - 700 * DAY), ("T.PKS-DRAFT", NOT_STARTED, None))
    record(kb_without_pks, staff, category="dprd", raised_on=D - 100 * DAY)
    late = record(other, staff, category="dprd", raised_on=D - 100 * DAY)
    services.obstacle_resolve(user=staff, obstacle=late, resolved_on=D - 50 * DAY, resolution="Disetujui")

    def numbers(**params):
        data = QueryDict(mutable=True)
        data.update({"as_of": D.isoformat(), **params})
        f = AgreementFilter(data, queryset=access.agreements_visible_to(staff))
        assert f.is_valid(), f.errors
        return sorted(f.qs.values_list("number", flat=True))

    assert numbers(stuck_at="T.DPRD") == ["KB/stuck"]
    assert numbers(stuck_at="T.PKS-DRAFT") == ["KB/other"]
    assert numbers(obstacle="dprd") == ["KB/stuck"]
    # As of a day when the second obstacle was still open.
    assert numbers(obstacle="dprd", as_of=(D - 60 * DAY).isoformat()) == ["KB/other", "KB/stuck"]
    assert numbers(obstacle="budget") == []
    f = AgreementFilter(QueryDict("stuck_at=NO.SUCH&obstacle=weather"), queryset=Agreement.objects.all())
    assert not f.is_valid() and set(f.errors) == {"stuck_at", "obstacle"}
    # Labelled for a person: the steps' titles (the template's name where two templates share one).
    choices = dict(f.form.fields["stuck_at"].choices)
    assert choices["T.PKS-DRAFT"] == "Penyusunan PKS (uji)"
    assert choices["T.DPRD"] == f"Persetujuan DPRD (uji) · {template_steps[0].name}"
    assert dict(f.form.fields["obstacle"].choices)["dprd"] == "DPRD approval"


def test_the_list_page_says_the_step_and_obstacle_in_words(client, staff, kb_without_pks, template_steps):
    client.force_login(staff)
    response = client.get(reverse("agreement-list"), {"stuck_at": "T.PKS-DRAFT", "obstacle": "partner",
                                                       "as_of": D.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stopped at the step" in html and "Open obstacle" in html
    assert "Penyusunan PKS (uji)" in html


# --- the dashboard -------------------------------------------------------------------------------------------------


def build_stalls(staff):
    """Stalled agreements stopped at several steps, with obstacles open, resolved, and raised after D."""
    for i in range(2):
        kb = AgreementFactory(number=f"KB/dprd/{i}", signed_on=D - 730 * DAY, regions=["32.73", "32.04"])
        give_steps(kb, ("T.SIGN", DONE, D - 730 * DAY), ("T.DPRD", NOT_STARTED, None),
                   ("T.PKS-DRAFT", NOT_STARTED, None))
        record(kb, staff, category="dprd", raised_on=D - 200 * DAY)
        record(kb, staff, category="budget", raised_on=D - 200 * DAY)
    kb = AgreementFactory(number="KB/draft-pks", signed_on=D - 900 * DAY, regions=["33.71", "33.74"])
    give_steps(kb, ("T.SIGN", DONE, D - 900 * DAY), ("T.DPRD", NA, None), ("T.PKS-DRAFT", NOT_STARTED, None))
    resolved = record(kb, staff, category="partner", raised_on=D - 300 * DAY)
    services.obstacle_resolve(user=staff, obstacle=resolved, resolved_on=D - 100 * DAY, resolution="Dijawab")
    record(kb, staff, category="regulation", raised_on=D + DAY)  # raised after D: not open as of D
    pks = PksFactory(number="PKS/start", signed_on=D - 365 * DAY, regions=["51.71", "51.03"])
    give_steps(pks, ("P.SIGN", DONE, D - 365 * DAY), ("P.START", NOT_STARTED, None))
    record(pks, staff, category="technical", raised_on=D - 30 * DAY)
    # Not stalled: an obstacle on it does not count among the stalled agreements.
    recent = AgreementFactory(number="KB/recent", signed_on=D - 20 * DAY)
    give_steps(recent, ("T.SIGN", DONE, D - 20 * DAY), ("T.DPRD", NOT_STARTED, None))
    record(recent, staff, category="dprd", raised_on=D - 10 * DAY)
    # Stalled without steps.
    AgreementFactory(number="KB/bare", signed_on=D - 800 * DAY, regions=["35.78", "35.15"])


def test_dashboard_by_step_and_obstacle_equal_their_lists(client, staff, template_steps):
    build_stalls(staff)
    client.force_login(staff)
    response = client.get("/", {"as_of": D.isoformat()})
    ctx = response.context
    by_step = {row["code"]: (row["title"], row["template"], row["figure"].value) for row in ctx["by_step"]}
    assert by_step == {
        "T.DPRD": ("Persetujuan DPRD (uji)", template_steps[0].name, 2),
        "T.PKS-DRAFT": ("Penyusunan PKS (uji)", template_steps[0].name, 1),
        "P.START": ("Persetujuan DPRD (uji)", template_steps[1].name, 1),
    }
    assert [row["code"] for row in ctx["by_step"]][0] == "T.DPRD"  # most first
    by_obstacle = {row["category"]: row["figure"].value for row in ctx["by_obstacle"]}
    assert by_obstacle == {"budget": 2, "dprd": 2, "capacity": 0, "regulation": 0, "partner": 0, "leadership": 0,
                           "technical": 1, "other": 0}
    html = response.content.decode()
    pairs = [(href, value) for href, value in links_with_figures(html) if "stuck_at=" in href or "obstacle=" in href]
    assert len(pairs) == 3 + 8
    for href, value in pairs:
        assert list_count(staff, href) == value, href
    href, value = next((h, v) for h, v in pairs if "stuck_at=T.DPRD" in h)
    assert page_count(client, href) == value == 2
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Stalled agreements by the step where they stopped" in text and "Stalled agreements by open obstacle" in text
    assert "T.DPRD" not in text and "P.START" not in text  # codes only in links


def test_dashboard_by_obstacle_is_scoped(client, personas, staff, template_steps):
    build_stalls(staff)
    client.force_login(personas["local_in"])  # Kota Bandung: the two KB/dprd agreements
    ctx = client.get("/", {"as_of": D.isoformat()}).context
    assert {row["category"]: row["figure"].value for row in ctx["by_obstacle"] if row["figure"].value} == {
        "budget": 2, "dprd": 2}
    assert [(row["code"], row["figure"].value) for row in ctx["by_step"]] == [("T.DPRD", 2)]


def test_a_step_no_template_has_is_named_but_not_linked(client, staff):
    kb = AgreementFactory(signed_on=D - 730 * DAY)
    give_steps(kb, ("GONE.SIGN", DONE, D - 730 * DAY), ("GONE.DPRD", NOT_STARTED, None))
    client.force_login(staff)
    response = client.get("/", {"as_of": D.isoformat()})
    assert [(r["title"], r["linked"]) for r in response.context["by_step"]] == [("Langkah GONE.DPRD", False)]
    assert "stuck_at=GONE.DPRD" not in response.content.decode()


# --- manage.py stalled ---------------------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("stalled", *args, stdout=out)
    return out.getvalue()


def test_the_stalled_command_says_where_and_why(staff):
    build_stalls(staff)
    rows = {r["number"]: r for r in json.loads(run("--as-of", D.isoformat(), "--format", "json"))}
    assert {n: (r["stuck_at"], r["obstacles"]) for n, r in rows.items()} == {
        "KB/dprd/0": ("T.DPRD", ["budget", "dprd"]),
        "KB/dprd/1": ("T.DPRD", ["budget", "dprd"]),
        "KB/draft-pks": ("T.PKS-DRAFT", []),  # its obstacle was resolved before D
        "PKS/start": ("P.START", ["technical"]),
        "KB/bare": (None, []),
    }
    # Before the partner obstacle was resolved, it was open.
    earlier = {r["number"]: r for r in json.loads(run("--as-of", (D - 150 * DAY).isoformat(), "--format", "json"))}
    assert earlier["KB/draft-pks"]["obstacles"] == ["partner"]
    table = list(csv.DictReader(io.StringIO(run("--as-of", D.isoformat(), "--format", "csv"))))
    by_number = {r["number"]: r for r in table}
    assert (by_number["KB/dprd/0"]["stuck_at"], by_number["KB/dprd/0"]["obstacles"]) == ("T.DPRD", "budget;dprd")
    assert (by_number["KB/bare"]["stuck_at"], by_number["KB/bare"]["obstacles"]) == ("", "")
    lines = run("--as-of", D.isoformat()).splitlines()
    assert "Stopped at" in lines[0] and "Open obstacles" in lines[0]
    assert any("T.DPRD" in line and "budget;dprd" in line for line in lines)


# --- demo and benchmark data ---------------------------------------------------------------------------------------


def test_demo_obstacles_are_on_stalled_agreements_kota_bandungs_first(personas):
    from agreements import demo_obstacles

    for i in range(10):
        AgreementFactory(number=f"KB/j/{i}", signed_on=D - (400 + i) * DAY, regions=["33.71", "33.74"])
    AgreementFactory(number="KB/zz-bandung", signed_on=D - 800 * DAY, regions=["32.73", "32.04"])
    AgreementFactory(number="KB/fresh", signed_on=D - 10 * DAY)
    users = list(personas.values())
    count = demo_obstacles.seed_obstacles(seed=1, as_of=D, users=users)
    assert count == Obstacle.objects.count() > 11
    assert Obstacle.objects.filter(agreement__number="KB/zz-bandung", recorded_by=personas["local_in"]).exists()
    assert not Obstacle.objects.filter(agreement__number="KB/fresh").exists()
    assert len(set(Obstacle.objects.values_list("category", flat=True))) == len(Obstacle.Category.choices)
    assert Obstacle.objects.filter(resolved_on__isnull=False).exclude(resolution="").exists()
    assert Obstacle.objects.filter(stalls.obstacle_open_q(D)).count() > count // 2
    assert not Obstacle.objects.filter(raised_on__gt=D).exists()
    assert Obstacle.history.count() == count
    first = list(Obstacle.objects.order_by("pk").values_list("agreement__number", "category", "raised_on"))
    Obstacle.objects.all().delete()
    demo_obstacles.seed_obstacles(seed=1, as_of=D, users=users)
    assert list(Obstacle.objects.order_by("pk").values_list("agreement__number", "category", "raised_on")) == first
