"""The regulated steps (tahapan): the default templates, the checklist every way of creating an agreement makes, what
the register's dates complete, a KB's closing steps done by its PKS, the next step, marking steps on the agreement
page (with access and concurrency), the timeline, and the agreement page's query count."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import benchdata, demo, services, step_defaults, steps
from agreements.models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    Document,
    Milestone,
    Proposal,
    StepTemplate,
    TemplateStep,
)
from agreements.timeline import agreement_timeline
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, affair, region

pytestmark = pytest.mark.django_db

DONE, NOT_APPLICABLE, NOT_STARTED = "done", "not_applicable", "not_started"
KSDD_KB_KEYS = ["TKKSD", "OBJECT", "PLAN", "OFFER", "ANSWER", "DRAFT", "SIGN", "DPRD", "PKS-DRAFT", "PKS-SIGN"]
PKS_KEYS = ["DRAFT", "DPRD", "SIGN", "START", "REPORT", "EVAL"]


def keyed(agreement) -> dict[str, AgreementStep]:
    return {step_defaults.step_key(s.code): s for s in AgreementStep.objects.filter(agreement=agreement)}


def states(agreement) -> dict[str, tuple]:
    return {key: (s.status, s.done_on) for key, s in keyed(agreement).items()}


def with_steps(agreement, user=None):
    """A factory's agreement (written without the services) with its checklist, as the services would make it."""
    steps.create_steps(agreement, user)
    return agreement


# --- the default templates ---------------------------------------------------------------------------------------


def test_every_document_type_and_kind_has_its_ordered_template_with_unique_codes_and_a_legal_basis():
    templates = StepTemplate.objects.all()
    assert {(t.document_type, t.cooperation_kind) for t in templates} == {
        (d, k) for d in Agreement.DocumentType.values for k in Agreement.Kind.values}
    codes = list(TemplateStep.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))
    for template in templates:
        rows = list(template.steps.order_by("order"))
        assert rows, template
        orders = [s.order for s in rows]
        assert orders == sorted(set(orders))
        assert all(s.legal_basis.strip() and s.title.strip() and s.instructions.strip() for s in rows)
        assert all(s.code.startswith(step_defaults.template_prefix(template.document_type, template.cooperation_kind)
                                     + ".") for s in rows)


@pytest.mark.parametrize("kind", ["KSDD-WAJIB", "KSDD-SUKARELA"])
def test_the_ksdd_sequence_follows_the_regulation(kind):
    kb = StepTemplate.objects.get(document_type="KB", cooperation_kind=kind)
    rows = list(kb.steps.order_by("order"))
    assert [step_defaults.step_key(s.code) for s in rows] == KSDD_KB_KEYS
    assert [s.phase for s in rows] == ["preparation"] * 3 + ["offer"] * 2 + ["kb", "kb", "dprd", "pks", "pks"]
    by_key = {step_defaults.step_key(s.code): s for s in rows}
    assert "analisis manfaat dan biaya" in by_key["PLAN"].instructions
    assert "surat kuasa" in by_key["PKS-SIGN"].instructions  # the head, or an official with a power of attorney
    assert by_key["SIGN"].per_party and by_key["DPRD"].per_party
    assert by_key["DPRD"].legal_basis == "UU 23/2014 pasal 363 ayat (3)"
    # The KB's closing steps are completed by the PKS template's steps of those codes.
    pks_codes = set(TemplateStep.objects.filter(template__document_type="PKS").values_list("code", flat=True))
    assert by_key["PKS-DRAFT"].pks_step_code in pks_codes and by_key["PKS-SIGN"].pks_step_code in pks_codes
    pks = StepTemplate.objects.get(document_type="PKS", cooperation_kind=kind)
    assert [step_defaults.step_key(s.code) for s in pks.steps.order_by("order")] == PKS_KEYS


def test_abroad_templates_follow_permendagri_25_2020_and_ask_the_central_government():
    for kind in ("KSDPL", "KSDLL"):
        rows = list(TemplateStep.objects.filter(template__document_type="KB", template__cooperation_kind=kind))
        assert "CENTRAL" in [step_defaults.step_key(s.code) for s in rows]
        assert any("Permendagri 25/2020" in s.legal_basis for s in rows)


def test_installing_the_defaults_is_idempotent_and_leaves_edited_templates_alone():
    assert steps.install_default_templates() == 0
    edited = TemplateStep.objects.get(code="KB-KSDDS.TKKSD")
    edited.title = "Rapat TKKSD"
    edited.save()
    StepTemplate.objects.filter(document_type="PKS", cooperation_kind="KSDLL").delete()
    assert steps.install_default_templates() == 1
    assert TemplateStep.objects.get(code="KB-KSDDS.TKKSD").title == "Rapat TKKSD"
    assert StepTemplate.objects.filter(document_type="PKS", cooperation_kind="KSDLL").get().steps.count() == 6


# --- every way of creating an agreement makes its checklist ----------------------------------------------------------


def test_the_page_creates_the_checklist_of_the_template(client, personas):
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-create"), {
        "number": "KB/100/2025", "document_type": "KB", "title": "Transportasi Aglomerasi",
        "cooperation_kind": "KSDD-SUKARELA", "regions": [region("32.73").pk, region("32.77").pk],
        "affairs": [affair("2.15").pk], "third_parties": "", "scope": "", "version": "",
    })
    assert response.status_code == 302
    agreement = Agreement.objects.get(number="KB/100/2025")
    template = TemplateStep.objects.filter(template__document_type="KB", template__cooperation_kind="KSDD-SUKARELA")
    rows = list(agreement.steps.order_by("order"))
    assert [(s.code, s.title, s.legal_basis) for s in rows] == list(
        template.order_by("order").values_list("code", "title", "legal_basis"))
    # A draft: nothing is done; the DPRD's approval does not apply while no party needs it.
    assert {s.status for s in rows if step_defaults.step_key(s.code) != "DPRD"} == {NOT_STARTED}
    assert keyed(agreement)["DPRD"].status == NOT_APPLICABLE
    assert AgreementStep.history.filter(agreement_id=agreement.pk, history_type="+",
                                        history_user=personas["local_in"]).count() == len(rows)


def test_a_pks_created_under_its_kb_gets_the_pks_checklist(personas):
    kb = with_steps(AgreementFactory(cooperation_kind="KSDD-WAJIB"))
    pks = services.agreement_create(
        user=personas["local_in"], number="PKS/1/2024", document_type="PKS", title="PKS", parent=kb,
        cooperation_kind="KSDD-WAJIB", regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")],
    )
    assert [step_defaults.step_key(s.code) for s in pks.steps.order_by("order")] == PKS_KEYS
    assert all(s.code.startswith("PKS-KSDDW.") for s in pks.steps.all())


def test_the_import_creates_checklists_with_what_the_file_says(db):
    from tests.test_import import agreement_row, milestone_row, run

    user = UserFactory(username="importer")
    plan = run([agreement_row(), agreement_row(number="KB/002/2024", signed_on="")],
               [milestone_row(started_on="2024-02-01")], user=user)
    assert plan.ok
    signed, draft = Agreement.objects.get(number="KB/001/2024"), Agreement.objects.get(number="KB/002/2024")
    assert states(signed)["SIGN"] == (DONE, datetime.date(2024, 1, 15))
    assert states(signed)["TKKSD"] == (DONE, datetime.date(2024, 1, 15))  # implied by the signing
    assert states(draft)["SIGN"] == (NOT_STARTED, None)
    assert AgreementStep.history.filter(agreement_id=signed.pk, history_type="+", history_user=user,
                                        history_change_reason="import").count() == signed.steps.count()
    # A PKS imported later under the KB completes the KB's closing steps.
    run([agreement_row(number="PKS/001/2024", document_type="PKS", parent_number="KB/001/2024",
                       signed_on="2024-03-01")], user=user)
    assert states(signed)["PKS-SIGN"] == (DONE, datetime.date(2024, 3, 1))
    assert states(signed)["PKS-DRAFT"] == (DONE, datetime.date(2024, 3, 1))


def test_seed_demo_gives_every_agreement_its_checklist_in_several_states(db):
    demo.seed(n=60, seed=1, as_of=datetime.date(2026, 6, 30))
    assert not Agreement.objects.filter(steps__isnull=True).exists()
    by_hand = AgreementStep.objects.filter(done_by__isnull=False)
    assert by_hand.filter(status=NOT_APPLICABLE).exclude(not_applicable_reason="").exists()
    assert by_hand.filter(status=DONE, done_on__isnull=False).exists()
    assert AgreementStep.objects.filter(status=DONE, done_by__isnull=True).exists()  # from the register's dates
    assert AgreementStep.objects.filter(status=NOT_STARTED).exists()


def test_the_benchmark_data_carries_the_steps():
    benchdata.seed(n=40, seed=3, as_of=datetime.date(2026, 6, 30))
    lengths = {(t.document_type, t.cooperation_kind): t.steps.count() for t in StepTemplate.objects.all()}
    expected = sum(lengths[(a.document_type, a.cooperation_kind)] for a in Agreement.objects.all())
    assert AgreementStep.objects.count() == expected == AgreementStep.history.count()
    for agreement in Agreement.objects.filter(signed_on__isnull=False)[:10]:
        assert states(agreement)["SIGN"] == (DONE, agreement.signed_on)
    # What a bulk write computes is what the services would: deriving again changes nothing.
    assert steps.derive_many(Agreement.objects.values_list("pk", flat=True)) == 0


def test_an_accepted_proposal_records_the_partners_answer_not_the_offer_letter(personas):
    proposal = Proposal.objects.create(
        proposing_region=region("32.01"), partner_region=region("32.73"), affair=affair("2.11"), message="Mari.",
        created_by=personas["local_out"])
    kb = services.proposal_accept(proposal=proposal, user=personas["local_in"])
    answer, offer = keyed(kb)["ANSWER"], keyed(kb)["OFFER"]
    assert (answer.status, answer.done_by) == (DONE, personas["local_in"])
    assert offer.status == NOT_STARTED
    # The next step names the proposing region as the one to send the offer letter.
    panel = steps.next_step(kb)
    assert step_defaults.step_key(panel.step.code) == "TKKSD" and panel.who == ["Kabupaten Bogor"]


def test_editing_a_template_changes_new_agreements_not_existing_ones(personas):
    old = with_steps(AgreementFactory(signed_on=None))
    step = TemplateStep.objects.get(code="KB-KSDDS.PLAN")
    step.title = "Susun rencana kerja sama dan kajian"
    step.save()
    TemplateStep.objects.filter(code="KB-KSDDS.OBJECT").delete()
    assert keyed(old)["PLAN"].title == "Susun rencana kerja sama"
    assert "OBJECT" in keyed(old)
    new = with_steps(AgreementFactory(signed_on=None))
    assert keyed(new)["PLAN"].title == "Susun rencana kerja sama dan kajian"
    assert "OBJECT" not in keyed(new)


def test_a_new_kind_brings_its_template_and_keeps_what_a_person_marked(personas):
    user = personas["local_in"]
    kb = services.agreement_create(user=user, number="KB/9/2024", document_type="KB", title="KB",
                                   cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.04")],
                                   affairs=[affair("3.26")])
    services.step_mark_done(step=keyed(kb)["TKKSD"], user=user, done_on=datetime.date(2024, 1, 2))
    kb.refresh_from_db()
    services.agreement_update(agreement=kb, user=user, expected_version=kb.version, cooperation_kind="KSDD-WAJIB",
                              regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")])
    assert {s.code.split(".")[0] for s in kb.steps.all()} == {"KB-KSDDW"}
    assert states(kb)["TKKSD"] == (DONE, datetime.date(2024, 1, 2))


# --- what the register completes ----------------------------------------------------------------------------------


def test_a_signed_kb_has_its_signing_step_done_and_the_steps_before_it(personas):
    kb = with_steps(AgreementFactory(signed_on=datetime.date(2024, 1, 15)))
    found = states(kb)
    assert found["SIGN"] == (DONE, datetime.date(2024, 1, 15))
    for key in ("TKKSD", "OBJECT", "PLAN", "OFFER", "ANSWER", "DRAFT"):
        assert found[key] == (DONE, datetime.date(2024, 1, 15)), key
    assert found["DPRD"][0] == NOT_APPLICABLE and found["PKS-DRAFT"] == (NOT_STARTED, None)
    assert all(s.done_by is None for s in kb.steps.all())  # from the register, not by a person


def test_the_signing_service_completes_the_step_and_a_person_s_mark_stays(personas, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = personas["local_in"]
    kb = services.agreement_create(user=user, number="KB/7/2024", document_type="KB", title="KB",
                                   cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.04")],
                                   affairs=[affair("3.26")])
    services.step_mark_not_applicable(step=keyed(kb)["PLAN"], user=user, reason="Rencana disusun provinsi.")
    kb.refresh_from_db()
    scan = SimpleUploadedFile("KB.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf")
    services.agreement_sign(agreement=kb, user=user, signed_on=datetime.date(2024, 5, 2), document=scan,
                            expected_version=kb.version)
    found = keyed(kb)
    assert (found["SIGN"].status, found["SIGN"].done_on) == (DONE, datetime.date(2024, 5, 2))
    assert (found["PLAN"].status, found["PLAN"].not_applicable_reason) == (NOT_APPLICABLE, "Rencana disusun provinsi.")
    assert (found["TKKSD"].status, found["TKKSD"].done_on) == (DONE, datetime.date(2024, 5, 2))


def test_each_party_signing_and_dprd_approval(personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    AgreementParty.objects.filter(agreement=kb).update(dprd_required=True)
    steps.derive_steps(kb)
    assert states(kb)["DPRD"] == (NOT_STARTED, None)
    AgreementParty.objects.filter(agreement=kb, region__code="32.73").update(
        signed_on=datetime.date(2024, 2, 1), dprd_approved_on=datetime.date(2024, 3, 1))
    steps.derive_steps(kb)
    assert states(kb)["SIGN"] == (NOT_STARTED, None) and states(kb)["DPRD"] == (NOT_STARTED, None)
    panel = steps.next_step(kb)
    assert step_defaults.step_key(panel.step.code) == "TKKSD"
    AgreementParty.objects.filter(agreement=kb, region__code="32.04").update(
        signed_on=datetime.date(2024, 2, 9), dprd_approved_on=datetime.date(2024, 3, 4))
    steps.derive_steps(kb)
    assert states(kb)["SIGN"] == (DONE, datetime.date(2024, 2, 9))
    assert states(kb)["DPRD"] == (DONE, datetime.date(2024, 3, 4))


def test_a_started_milestone_starts_the_implementation(personas):
    user = personas["local_in"]
    pks = with_steps(PksFactory(signed_on=datetime.date(2024, 3, 1)))
    milestone = MilestoneFactory(agreement=pks)
    assert states(pks)["START"] == (NOT_STARTED, None)
    services.milestone_update_status(
        milestone=milestone, user=user, status=Milestone.Status.IN_PROGRESS, progress=10,
        started_on=datetime.date(2024, 4, 2), completed_on=None, note="", expected_version=milestone.version)
    assert states(pks)["START"] == (DONE, datetime.date(2024, 4, 2))
    assert states(pks)["REPORT"] == (NOT_STARTED, None)


def test_a_kbs_closing_steps_are_done_by_its_pks(personas):
    user = personas["local_in"]
    kb = with_steps(AgreementFactory(signed_on=datetime.date(2024, 1, 15)))
    pks = services.agreement_create(user=user, number="PKS/2/2024", document_type="PKS", title="PKS", parent=kb,
                                    cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.04")],
                                    affairs=[affair("3.26")])
    assert states(kb)["PKS-DRAFT"] == (NOT_STARTED, None)
    services.step_mark_done(step=keyed(pks)["DRAFT"], user=user, done_on=datetime.date(2024, 2, 10))
    assert states(kb)["PKS-DRAFT"] == (DONE, datetime.date(2024, 2, 10))
    assert states(kb)["PKS-SIGN"] == (NOT_STARTED, None)
    Agreement.objects.filter(pk=pks.pk).update(signed_on=datetime.date(2024, 3, 5))
    steps.derive_steps(Agreement.objects.get(pk=pks.pk), user)
    assert states(kb)["PKS-SIGN"] == (DONE, datetime.date(2024, 3, 5))
    assert steps.next_step(kb) is None  # every step of the KB is done or does not apply
    # Undone on the PKS, the KB's drafting step falls back to what the register says (implied by the signing).
    services.step_reset(step=keyed(pks)["DRAFT"], user=user)
    assert states(kb)["PKS-DRAFT"] == (DONE, datetime.date(2024, 3, 5))


# --- the next step ------------------------------------------------------------------------------------------------


def test_the_next_step_says_what_to_do_which_document_who_and_the_regulation(client, personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    AgreementParty.objects.filter(agreement=kb, region__code="32.73").update(signed_on=datetime.date(2024, 2, 1))
    for key in ("TKKSD", "OBJECT", "PLAN", "OFFER", "ANSWER", "DRAFT"):
        services.step_mark_done(step=keyed(kb)[key], user=personas["ministry"], done_on=datetime.date(2024, 1, 5))
    panel = steps.next_step(kb, can_write=True)
    assert step_defaults.step_key(panel.step.code) == "SIGN"
    assert panel.per_party_pending and panel.who == ["Kabupaten Bandung"]  # Kota Bandung has signed
    assert panel.step.expected_document == "Naskah KB yang ditandatangani"
    assert panel.step.legal_basis == "PP 28/2018 pasal 2"
    assert panel.upload_url == reverse("document-upload", args=[kb.pk])

    client.force_login(personas["local_in"])
    response = client.get(reverse("agreement-detail", args=[kb.pk]))
    html = response.content.decode()
    section = html[html.index('id="next-step"'):html.index("</section>", html.index('id="next-step"'))]
    assert "Tanda tangani KB" in section and "Naskah KB yang ditandatangani" in section
    assert "Kabupaten Bandung" in section and "PP 28/2018 pasal 2" in section
    assert reverse("document-upload", args=[kb.pk]) in section


def test_the_next_step_links_its_guidance_page(client, personas):
    from agreements import guidance
    from agreements.models import GuidancePage

    kb = with_steps(AgreementFactory(signed_on=None))
    GuidancePage.objects.create(slug="tkksd", title_id="TKKSD", title_en="TKKSD", body_id="-", body_en="-",
                                step_code="KB-KSDDS.TKKSD")
    guidance.forget_step_urls()
    assert steps.next_step(kb).guidance_url == reverse("guidance-detail", args=["tkksd"])


# --- marking steps on the agreement page ----------------------------------------------------------------------------


def test_an_officer_of_a_party_marks_a_step_done_with_a_document_then_undoes_it(client, personas, media_root):
    user = personas["local_in"]
    kb = with_steps(AgreementFactory(signed_on=None))
    document = Document.objects.create(agreement=kb, doc_type=Document.Type.KB_SCAN, file="documents/x.pdf",
                                       original_name="notula.pdf")
    step = keyed(kb)["TKKSD"]
    client.force_login(user)
    response = client.post(reverse("step-update", args=[step.pk]), {
        "action": "done", "token": services.step_token(step), "done_on": "2024-01-20", "document": document.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"#step-{step.pk}")
    step.refresh_from_db()
    assert (step.status, step.done_on, step.done_by, step.document) == (DONE, datetime.date(2024, 1, 20), user,
                                                                         document)
    event = next(e for e in agreement_timeline(kb) if e.kind == "step")
    assert step.title in event.title and event.user == user
    assert event.url == reverse("document-download", args=[document.pk])
    client.post(reverse("step-update", args=[step.pk]), {"action": "reset", "token": services.step_token(step)})
    step.refresh_from_db()
    assert (step.status, step.done_by, step.document) == (NOT_STARTED, None, None)


def test_not_applicable_needs_a_reason(client, personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    step = keyed(kb)["OBJECT"]
    client.force_login(personas["local_in"])
    url = reverse("step-update", args=[step.pk])
    refused = client.post(url, {"action": "not_applicable", "token": services.step_token(step), "reason": "  "})
    assert refused.status_code == 200 and refused.context["form"].errors
    step.refresh_from_db()
    assert step.status == NOT_STARTED
    client.post(url, {"action": "not_applicable", "token": services.step_token(step),
                      "reason": "Objek sudah ditetapkan dalam kerja sama wajib."})
    step.refresh_from_db()
    assert (step.status, step.not_applicable_reason) == (NOT_APPLICABLE, "Objek sudah ditetapkan dalam kerja sama wajib.")


def test_a_date_in_the_future_is_refused(client, personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    step = keyed(kb)["TKKSD"]
    client.force_login(personas["local_in"])
    response = client.post(reverse("step-update", args=[step.pk]), {
        "action": "done", "token": services.step_token(step), "done_on": "2999-01-01"})
    assert response.status_code == 200 and "done_on" in response.context["form"].errors


@pytest.mark.parametrize(("role", "status"), [
    ("province_in", 403),  # reads the agreement (its province), is not a party
    ("local_out", 404),  # does not see it
    ("ministry", 302),
    ("local_in", 302),
])
def test_only_a_user_who_may_write_the_agreement_marks_its_steps(client, personas, role, status):
    kb = with_steps(AgreementFactory(signed_on=None))
    step = keyed(kb)["TKKSD"]
    client.force_login(personas[role])
    response = client.post(reverse("step-update", args=[step.pk]),
                           {"action": "done", "token": services.step_token(step), "done_on": "2024-01-20"})
    assert response.status_code == status
    step.refresh_from_db()
    assert step.status == (DONE if status == 302 else NOT_STARTED)


def test_a_form_shown_before_someone_else_changed_the_step_saves_nothing(client, personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    step = keyed(kb)["TKKSD"]
    stale = services.step_token(step)
    services.step_mark_done(step=step, user=personas["ministry"], done_on=datetime.date(2024, 1, 3))
    client.force_login(personas["local_in"])
    response = client.post(reverse("step-update", args=[step.pk]),
                           {"action": "not_applicable", "token": stale, "reason": "Tidak perlu."})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    step.refresh_from_db()
    assert (step.status, step.done_by) == (DONE, personas["ministry"])


def test_the_page_shows_the_checklist_and_forms_only_to_writers(client, personas):
    kb = with_steps(AgreementFactory(signed_on=datetime.date(2024, 1, 15)))
    client.force_login(personas["local_in"])
    html = client.get(reverse("agreement-detail", args=[kb.pk])).content.decode()
    assert 'id="steps"' in html and 'data-code="KB-KSDDS.SIGN" data-status="done"' in html
    assert reverse("step-update", args=[keyed(kb)["TKKSD"].pk]) in html
    client.force_login(personas["province_in"])
    html = client.get(reverse("agreement-detail", args=[kb.pk])).content.decode()
    assert 'id="steps"' in html and 'id="next-step"' in html
    assert "/steps/" not in html


# --- the agreement page's queries ----------------------------------------------------------------------------------


def _count(client, agreement):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("agreement-detail", args=[agreement.pk]))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_agreement_page_costs_the_same_queries_however_many_steps(client, personas):
    user = personas["local_in"]
    client.force_login(user)
    kb = with_steps(AgreementFactory(signed_on=None))
    document = Document.objects.create(agreement=kb, doc_type=Document.Type.KB_SCAN, file="documents/y.pdf")
    services.step_mark_done(step=keyed(kb)["TKKSD"], user=user, done_on=datetime.date(2024, 1, 1), document=document)
    _count(client, kb)  # warm up the session, the settings row and the guidance cache
    before = _count(client, kb)
    # More steps done (the last ones: the next step stays the same), each with its document, and more steps.
    for index, step in enumerate(kb.steps.filter(status=NOT_STARTED).order_by("-order")[:4]):
        services.step_mark_done(step=step, user=user, done_on=datetime.date(2024, 1, 2 + index), document=document)
    AgreementStep.objects.bulk_create([
        AgreementStep(agreement=kb, code=f"EXTRA.{i}", order=200 + i, phase="reporting", title=f"Tambahan {i}",
                      status=DONE, done_on=datetime.date(2024, 2, 1), done_by=user, document=document)
        for i in range(15)])
    assert _count(client, kb) == before


def test_the_step_page_shows_the_step_and_its_forms_to_a_writer(client, personas):
    kb = with_steps(AgreementFactory(signed_on=None))
    step = keyed(kb)["PLAN"]
    client.force_login(personas["local_in"])
    response = client.get(reverse("step-update", args=[step.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and step.title in html and step.legal_basis in html
    assert html.count(f'action="{reverse("step-update", args=[step.pk])}"') == 2  # done, not applicable (no undo)
    client.force_login(personas["province_in"])
    assert client.get(reverse("step-update", args=[step.pk])).status_code == 403


def test_administrators_edit_templates_in_admin(client, personas):
    client.force_login(personas["admin"])
    template = StepTemplate.objects.get(document_type="KB", cooperation_kind="KSDD-SUKARELA")
    assert client.get(reverse("admin:agreements_steptemplate_changelist")).status_code == 200
    page = client.get(reverse("admin:agreements_steptemplate_change", args=[template.pk]))
    assert page.status_code == 200 and "KB-KSDDS.PKS-SIGN" in page.content.decode()
    kb = with_steps(AgreementFactory(signed_on=datetime.date(2024, 1, 15)))
    page = client.get(reverse("admin:agreements_agreement_change", args=[kb.pk]))
    assert page.status_code == 200 and "Tanda tangani KB" in page.content.decode()


def test_an_agreement_added_in_admin_gets_its_checklist(client, personas):
    from agreements.models import GovernmentAffair, Region

    client.force_login(personas["admin"])
    data = {"number": "KB/ADMIN/9", "document_type": "KB", "title": "Pengelolaan Sampah Regional",
            "cooperation_kind": "KSDPK", "affairs": [GovernmentAffair.objects.get(code="2.11").pk],
            "signed_on": "2024-03-01"}
    for prefix, rows in [("parties", [Region.objects.get(code="32.73").pk]), ("third_parties", ["PT Sampah"]),
                         ("milestones", []), ("documents", []), ("amendments", [])]:
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, value in enumerate(rows):
            data[f"{prefix}-{i}-{'region' if prefix == 'parties' else 'name'}"] = value
    response = client.post(reverse("admin:agreements_agreement_add"), data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(number="KB/ADMIN/9")
    assert all(s.code.startswith("KB-KSDPK.") for s in agreement.steps.all()) and agreement.steps.count() == 10
    assert states(agreement)["SIGN"] == (DONE, datetime.date(2024, 3, 1))
