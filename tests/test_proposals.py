"""Cooperation proposals: a region proposes cooperation to another on an affair (from a partner suggestion), the
partner's officers accept it (a draft KB between the two, through the path of every draft) or decline it with a
reason; who may propose, answer and see them; the pages, the dashboard's figure and hostile input.

The personas (tests/conftest.py): Kota Bandung (32.73, ``local_in``) and Kabupaten Bogor (32.01, ``local_out``)
officers, Jawa Barat (32, ``province_in``) and Jawa Timur (35, ``province_out``) officers, ministry staff and an
administrator.
"""

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from agreements import access, dashboard, idempotency, services
from agreements.models import Agreement, Proposal
from tests.factories import AgreementFactory, NeedOfferFactory, UserFactory, affair, region

pytestmark = pytest.mark.django_db


def propose(user, partner="32.73", affair_code="2.11", message="Mari bekerja sama mengelola sampah.", **kwargs):
    return services.proposal_create(user=user, partner_region=region(partner), affair=affair(affair_code),
                                    message=message, **kwargs)


@pytest.fixture
def bogor_officer(personas):
    return personas["local_out"]


@pytest.fixture
def bandung_officer(personas):
    return personas["local_in"]


@pytest.fixture
def proposal(bogor_officer):
    """Kabupaten Bogor proposes cooperation on the environment (2.11) to Kota Bandung."""
    return propose(bogor_officer)


def ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


# --- making a proposal -----------------------------------------------------------------------------------------


def test_an_officer_proposes_on_behalf_of_its_own_region(proposal, bogor_officer):
    assert proposal.proposing_region == region("32.01")
    assert proposal.partner_region == region("32.73")
    assert proposal.status == Proposal.Status.PENDING
    assert proposal.created_by == bogor_officer and proposal.answered_at is None
    assert proposal.history.get().history_user == bogor_officer


def test_ministry_staff_and_administrators_do_not_propose(personas):
    for role in ("ministry", "admin"):
        with pytest.raises(ValidationError, match="Only an officer"):
            propose(personas[role])
    assert not Proposal.objects.exists()


def test_a_region_cannot_propose_to_itself(bandung_officer):
    with pytest.raises(ValidationError) as exc:
        propose(bandung_officer, partner="32.73")
    assert exc.value.message_dict["partner_region"] == ["A region cannot propose cooperation to itself."]


def test_an_administrative_area_cannot_be_proposed_cooperation(bandung_officer):
    with pytest.raises(ValidationError) as exc:
        propose(bandung_officer, partner="31.71")  # Kota Administrasi Jakarta Pusat
    assert "partner_region" in exc.value.message_dict


def test_a_pending_proposal_is_not_made_twice_in_either_direction(proposal, bogor_officer, bandung_officer):
    with pytest.raises(ValidationError) as exc:
        propose(bogor_officer)
    assert "already proposed cooperation on this affair to Kota Bandung" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        propose(bandung_officer, partner="32.01")
    assert "Kabupaten Bogor already proposed cooperation on this affair to your region" in str(exc.value)
    propose(bogor_officer, affair_code="1.03")  # another affair is another proposal
    assert Proposal.objects.count() == 2


def test_the_database_refuses_a_second_pending_proposal_for_the_same_pair_and_affair(proposal):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(proposing_region=proposal.proposing_region, partner_region=proposal.partner_region,
                                affair=proposal.affair, message="lagi")


def test_after_a_decline_the_region_may_propose_again(proposal, bogor_officer, bandung_officer):
    services.proposal_decline(proposal=proposal, user=bandung_officer, reason="Belum ada anggaran tahun ini.")
    again = propose(bogor_officer)
    assert again.pk != proposal.pk and again.status == Proposal.Status.PENDING


def test_the_need_or_offer_answered_must_be_one_of_the_two_regions_on_the_affair(bogor_officer):
    own_need = NeedOfferFactory(region="32.01", affair="2.11", kind="need")
    assert propose(bogor_officer, need_offer=own_need).need_offer == own_need
    elsewhere = NeedOfferFactory(region="33.74", affair="2.11", kind="offer")
    other_affair = NeedOfferFactory(region="32.73", affair="3.26", kind="offer")
    for entry in (elsewhere, other_affair):
        with pytest.raises(ValidationError) as exc:
            propose(bogor_officer, partner="32.04", need_offer=entry)
        assert "need_offer" in exc.value.message_dict


def test_a_message_is_required_and_not_endless(bogor_officer):
    with pytest.raises(ValidationError) as exc:
        propose(bogor_officer, message="   ")
    assert "message" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        propose(bogor_officer, message="x" * 4001)
    assert "message" in exc.value.message_dict
    assert not Proposal.objects.exists()


# --- answering ---------------------------------------------------------------------------------------------------


def test_accepting_creates_a_draft_kb_between_the_two_regions_that_both_can_edit(proposal, bandung_officer,
                                                                                  bogor_officer):
    kb = services.proposal_accept(proposal=proposal, user=bandung_officer)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ACCEPTED and proposal.agreement == kb
    assert proposal.answered_by == bandung_officer and proposal.answered_at is not None
    assert kb.document_type == Agreement.DocumentType.KB and kb.signed_on is None
    assert kb.cooperation_kind == Agreement.Kind.KSDD_SUKARELA
    assert kb.number == f"USULAN/{proposal.pk:05d}/{timezone.localdate().year}"
    assert {r.code for r in kb.regions.all()} == {"32.01", "32.73"}
    assert [a.code for a in kb.affairs.all()] == ["2.11"]
    assert kb.scope == proposal.message and kb.created_by == bandung_officer
    assert access.can_write_agreement(bandung_officer, kb) and access.can_write_agreement(bogor_officer, kb)
    assert proposal.history.first().history_user == bandung_officer


@pytest.mark.parametrize("role", ["local_out", "ministry", "admin", "province_in", "province_out"])
def test_only_the_partner_regions_officers_answer(proposal, personas, role):
    for answer in (lambda: services.proposal_accept(proposal=proposal, user=personas[role]),
                   lambda: services.proposal_decline(proposal=proposal, user=personas[role], reason="Tidak")):
        with pytest.raises(ValidationError, match="Only the officers of Kota Bandung"):
            answer()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PENDING and not Agreement.objects.exists()


def test_declining_needs_a_reason(proposal, bandung_officer):
    with pytest.raises(ValidationError) as exc:
        services.proposal_decline(proposal=proposal, user=bandung_officer, reason="  ")
    assert exc.value.message_dict == {"reason": ["Give the reason for declining."]}
    with pytest.raises(ValidationError) as exc:
        services.proposal_decline(proposal=proposal, user=bandung_officer, reason="x" * 4001)
    assert "reason" in exc.value.message_dict
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PENDING


def test_declining_keeps_the_reason_for_both_regions(proposal, bandung_officer):
    services.proposal_decline(proposal=proposal, user=bandung_officer, reason="Belum ada anggaran.")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answer_reason, proposal.answered_by) == (
        Proposal.Status.DECLINED, "Belum ada anggaran.", bandung_officer)
    assert proposal.agreement is None and not Agreement.objects.exists()
    assert proposal.history.first().history_user == bandung_officer


def test_a_proposal_is_answered_once_the_second_answer_is_refused_clearly(proposal, personas):
    colleague = UserFactory(username="kota-bandung-2", role="local", region=region("32.73"))
    first = Proposal.objects.get(pk=proposal.pk)  # both officers opened the proposal while it was pending
    second = Proposal.objects.get(pk=proposal.pk)
    services.proposal_accept(proposal=first, user=personas["local_in"])
    for answer in (lambda: services.proposal_decline(proposal=second, user=colleague, reason="Tidak"),
                   lambda: services.proposal_accept(proposal=second, user=colleague)):
        with pytest.raises(services.ProposalAlreadyAnswered, match=r"already been answered \(accepted\)"):
            answer()
    proposal.refresh_from_db()
    assert proposal.answered_by == personas["local_in"] and proposal.answer_reason == ""
    assert Agreement.objects.count() == 1


def test_an_acceptance_that_cannot_create_its_kb_leaves_the_proposal_waiting(proposal, bandung_officer):
    AgreementFactory(number=services.provisional_number(proposal, timezone.localdate().year))  # the number is taken
    with pytest.raises(ValidationError) as exc:
        services.proposal_accept(proposal=proposal, user=bandung_officer)
    assert exc.value.message_dict["number"] == ["An agreement with this number already exists."]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PENDING and proposal.answered_at is None
    assert Agreement.objects.count() == 1


# --- who sees what -------------------------------------------------------------------------------------------------


def test_visibility_follows_the_regions_whose_agreements_the_user_reads(proposal, personas):
    visible = {role: access.proposals_visible_to(user).filter(pk=proposal.pk).exists()
               for role, user in personas.items()}
    assert visible == {"ministry": True, "admin": True, "province_in": True, "province_out": False,
                       "local_in": True, "local_out": True}


def test_waiting_counts_proposals_unanswered_for_more_than_30_days_as_of_a_date(proposal, bandung_officer):
    today = timezone.localdate()

    def waiting(as_of):
        return Proposal.objects.filter(Proposal.waiting_q(as_of)).exists()

    assert not waiting(today)  # made today
    Proposal.objects.filter(pk=proposal.pk).update(created_at=ago(30))
    assert not waiting(today)  # 30 days is not more than 30
    Proposal.objects.filter(pk=proposal.pk).update(created_at=ago(40))
    assert waiting(today)
    services.proposal_decline(proposal=proposal, user=bandung_officer, reason="Tidak")
    assert not waiting(today)  # answered
    assert waiting(today - datetime.timedelta(days=2))  # as of two days ago it was still waiting
    assert not waiting(today - datetime.timedelta(days=15))  # as of then it was not 30 days old yet


# --- the pages -----------------------------------------------------------------------------------------------------


def test_the_suggestion_offers_propose_cooperation_to_the_regions_own_officers_only(client, personas):
    need = NeedOfferFactory(region="32.73", affair="2.11", kind="need")
    NeedOfferFactory(region="32.77", affair="2.11", kind="offer")  # Kota Cimahi offers it: a suggestion
    link = f'href="/proposals/new/?partner=32.77&amp;affair=2.11&amp;need_offer={need.pk}"'
    for role, shown in (("local_in", True), ("local_out", False), ("ministry", False), ("province_in", False)):
        client.force_login(personas[role])
        for url in ("/needs/?region=32.73", "/affairs/2.11/"):
            assert (link in client.get(url).content.decode()) is shown, (role, url)


def test_the_form_is_prefilled_from_the_suggestion_and_sends_the_proposal_once(client, bandung_officer):
    need = NeedOfferFactory(region="32.73", affair="2.11", kind="need")
    client.force_login(bandung_officer)
    response = client.get("/proposals/new/", {"partner": "32.77", "affair": "2.11", "need_offer": need.pk})
    form = response.context["form"]
    assert (form.initial["partner_region"].code, form.initial["affair"].code, form.initial["need_offer"]) == (
        "32.77", "2.11", need)
    data = {"partner_region": region("32.77").pk, "affair": affair("2.11").pk, "need_offer": need.pk,
            "message": "Kami mengajak Kota Cimahi mengelola TPA bersama.", "form_token": response.context["form_token"]}
    response = client.post("/proposals/new/", data)
    created = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/proposals/{created.pk}/"
    assert (created.proposing_region.code, created.need_offer) == ("32.73", need)
    again = client.post("/proposals/new/", data)  # the same form sent twice
    assert again.status_code == 302 and Proposal.objects.count() == 1
    assert str(idempotency.ALREADY_SUBMITTED) in [str(m) for m in again.wsgi_request._messages]


def test_a_duplicate_is_refused_on_the_form_with_a_clear_message(client, proposal, bogor_officer):
    client.force_login(bogor_officer)
    token = client.get("/proposals/new/").context["form_token"]
    response = client.post("/proposals/new/", {"partner_region": region("32.73").pk, "affair": affair("2.11").pk,
                                               "message": "Sekali lagi", "form_token": token})
    assert response.status_code == 200
    assert response.context["form"].errors["partner_region"] == [
        "Your region already proposed cooperation on this affair to Kota Bandung; the proposal is waiting for an "
        "answer."]


def test_my_page_lists_proposals_to_answer_and_those_sent(client, proposal, bandung_officer, bogor_officer):
    client.force_login(bandung_officer)
    page = client.get("/my/").content.decode()
    assert "Cooperation proposals" in page and "Waiting for your answer" in page
    assert f'action="/proposals/{proposal.pk}/accept/"' in page and f'action="/proposals/{proposal.pk}/decline/"' in page
    client.force_login(bogor_officer)
    response = client.get("/my/")
    assert response.context["proposals_sent"] == [proposal] and response.context["proposals_received"] == []
    assert "Waiting for an answer" in response.content.decode()
    assert 'action="/proposals/' not in response.content.decode()


def test_accepting_on_the_page_opens_the_draft_that_both_regions_can_edit(client, proposal, bandung_officer,
                                                                          bogor_officer):
    client.force_login(bandung_officer)
    response = client.post(f"/proposals/{proposal.pk}/accept/")
    kb = Agreement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/agreements/{kb.pk}/"
    for officer in (bandung_officer, bogor_officer):
        client.force_login(officer)
        assert client.get(f"/agreements/{kb.pk}/edit/").status_code == 200
    page = client.get(f"/proposals/{proposal.pk}/").content.decode()
    assert "Accepted" in page and f'href="/agreements/{kb.pk}/"' in page


def test_declining_without_a_reason_shows_the_error_on_the_reason(client, proposal, bandung_officer):
    client.force_login(bandung_officer)
    response = client.post(f"/proposals/{proposal.pk}/decline/", {"reason": ""})
    assert response.status_code == 200
    assert response.context["answer_form"].errors["reason"] == ["Give the reason for declining."]
    assert 'aria-invalid="true"' in response.content.decode()
    response = client.post(f"/proposals/{proposal.pk}/decline/", {"reason": "Prioritas lain tahun ini."})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DECLINED


def test_a_second_answer_on_the_page_is_told_the_proposal_was_answered(client, proposal, bandung_officer):
    colleague = UserFactory(username="kota-bandung-2", role="local", region=region("32.73"))
    services.proposal_accept(proposal=proposal, user=bandung_officer)
    client.force_login(colleague)
    response = client.post(f"/proposals/{proposal.pk}/decline/", {"reason": "Tidak"})
    assert response.status_code == 200
    assert "This proposal has already been answered (accepted). Nothing was saved." in response.content.decode()
    assert not response.context["answerable"]


def test_the_region_page_loads_the_regions_proposals(client, proposal, personas):
    client.force_login(personas["ministry"])
    page = client.get("/regions/32.73/").content.decode()
    assert 'hx-get="/proposals/?region=32.73"' in page
    assert list(client.get("/proposals/", {"region": "32.73"}).context["page"].object_list) == [proposal]
    assert list(client.get("/proposals/", {"province": "32"}).context["page"].object_list) == [proposal]
    assert list(client.get("/proposals/", {"province": "35"}).context["page"].object_list) == []
    client.force_login(personas["province_out"])  # Jawa Timur reads neither region's agreements
    assert list(client.get("/proposals/", {"region": "32.73"}).context["page"].object_list) == []
    assert client.get(f"/proposals/{proposal.pk}/").status_code == 404


def test_the_dashboard_counts_proposals_waiting_more_than_30_days(client, proposal, personas):
    old = propose(personas["local_out"], affair_code="1.03")
    Proposal.objects.filter(pk=old.pk).update(created_at=ago(45))
    jatim = UserFactory(username="kota-surabaya", role="local", region=region("35.78"))
    far = propose(jatim, partner="35.15", affair_code="1.03")
    Proposal.objects.filter(pk=far.pk).update(created_at=ago(60))
    client.force_login(personas["ministry"])
    figure = client.get("/").context["proposals_waiting"]
    assert figure["value"] == 2
    assert figure["url"] == f"/proposals/?waiting=yes&as_of={timezone.localdate().isoformat()}"
    assert [p.pk for p in client.get(figure["url"]).context["page"].object_list] == [old.pk, far.pk]
    assert client.get("/", {"province": "32"}).context["proposals_waiting"]["value"] == 1
    assert client.get("/", {"affair": "2.11"}).context["proposals_waiting"]["value"] == 0
    for role in ("local_in", "local_out", "province_out"):  # received, sent, a proposal in Jawa Timur
        client.force_login(personas[role])
        assert client.get("/").context["proposals_waiting"]["value"] == 1, role
    client.force_login(UserFactory(username="kab-garut", role="local", region=region("32.05")))
    assert client.get("/").context["proposals_waiting"]["value"] == 0


def test_the_dashboard_figure_costs_one_query_whatever_the_number_of_proposals(personas):
    qs = access.proposals_visible_to(personas["province_in"])
    today, jabar, environment = timezone.localdate(), region("32"), affair("2.11")
    propose(personas["local_out"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        dashboard.proposals_waiting(qs, today, province=jabar, affair=environment)
    for code in ("32.04", "32.77", "32.71", "32.75"):
        propose(personas["local_out"], partner=code)
    with CaptureQueriesContext(connection) as many:
        assert dashboard.proposals_waiting(qs, today, province=jabar, affair=environment)["value"] == 0
    assert len(few.captured_queries) == len(many.captured_queries) == 1


def _proposals(codes):
    """Proposals to Kota Bandung from these regions, waiting for 40 days."""
    for code in codes:
        officer = UserFactory(username=f"officer-{code}", role="local", region=region(code))
        p = propose(officer, partner="32.73")
        Proposal.objects.filter(pk=p.pk).update(created_at=ago(40))


@pytest.mark.parametrize(("url", "role"), [("/", "ministry"), ("/my/", "local_in"), ("/proposals/", "ministry"),
                                           ("/proposals/?waiting=yes", "province_in")])
def test_pages_cost_the_same_queries_however_many_proposals(client, personas, url, role,
                                                            django_assert_max_num_queries):
    _proposals(["32.04"])
    client.force_login(personas[role])
    client.get(url)  # warm: the session, the stall settings row
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _proposals(["32.77", "32.71", "32.75", "32.05", "32.06"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- hostile input ----------------------------------------------------------------------------------------------


def test_hostile_input_is_an_error_never_a_500(client, proposal, bandung_officer, bogor_officer):
    client.force_login(bogor_officer)
    token = client.get("/proposals/new/").context["form_token"]
    huge = client.post("/proposals/new/", {"partner_region": region("32.77").pk, "affair": affair("2.11").pk,
                                           "message": "x" * 100_000, "form_token": token})
    assert huge.status_code == 200 and "message" in huge.context["form"].errors
    bad_ids = client.post("/proposals/new/", {"partner_region": "99999999999999999999", "affair": "abc",
                                              "need_offer": "-1", "message": "Halo", "form_token": token})
    assert bad_ids.status_code == 200
    assert {"partner_region", "affair", "need_offer"} <= set(bad_ids.context["form"].errors)
    assert client.post("/proposals/new/", {"message": "a\x00b", "form_token": token}).status_code == 400
    assert client.get("/proposals/new/", {"partner": "x" * 10_000, "affair": "\x00", "need_offer": "9" * 40}
                      ).status_code in (200, 400)
    assert client.get("/proposals/new/", {"partner": "x" * 10_000, "need_offer": "9" * 40}).status_code == 200
    assert client.get("/proposals/", {"region": "x" * 10_000, "province": "y" * 500, "affair": "z" * 500,
                                      "status": "?", "waiting": "yes", "as_of": "0001-01-01",
                                      "page": "99999999999999999999"}).status_code == 200
    assert client.get("/proposals/999999999/").status_code == 404
    client.force_login(bandung_officer)
    assert client.post("/proposals/999999999/accept/").status_code == 404
    assert client.post(f"/proposals/{proposal.pk}/decline/", {"reason": "x" * 100_000}).status_code == 200
    assert client.post(f"/proposals/{proposal.pk}/decline/", {"reason": "\x00"}).status_code == 400
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PENDING
    assert Proposal.objects.count() == 1


def test_only_officers_of_a_region_open_the_form(client, personas):
    for role, status in (("ministry", 403), ("admin", 403), ("local_in", 200), ("province_in", 200)):
        client.force_login(personas[role])
        assert client.get("/proposals/new/").status_code == status, role


def test_the_admin_shows_proposals_and_their_history_read_only(client, proposal, personas):
    personas["admin"].is_staff = True
    client.force_login(personas["admin"])
    assert Proposal in admin.site._registry
    assert client.get(reverse("admin:agreements_proposal_changelist")).status_code == 200
    assert client.get(reverse("admin:agreements_proposal_change", args=[proposal.pk])).status_code == 200
    assert client.get(reverse("admin:agreements_proposal_history", args=[proposal.pk])).status_code == 200
    assert client.get(reverse("admin:agreements_proposal_add")).status_code == 403


# --- the demo data -------------------------------------------------------------------------------------------------


def test_the_demo_shows_each_state_of_a_proposal(settings):
    import io

    from django.core.management import call_command

    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off without --force
    call_command("seed_demo", agreements=60, seed=1, as_of="2026-06-30", stdout=io.StringIO())
    assert Agreement.objects.count() == 60  # the accepted proposal's draft is one of the plan's
    bandung = region("32.73")
    waiting_for_bandung = Proposal.objects.get(partner_region=bandung, status=Proposal.Status.PENDING)
    assert waiting_for_bandung.need_offer.region == bandung
    assert Proposal.objects.filter(Proposal.waiting_q(datetime.date(2026, 6, 30))).exists()
    declined = Proposal.objects.get(status=Proposal.Status.DECLINED)
    assert declined.answer_reason and declined.proposing_region == bandung
    accepted = Proposal.objects.get(status=Proposal.Status.ACCEPTED)
    assert accepted.agreement.signed_on is None and accepted.agreement.document_type == "KB"
    assert set(accepted.agreement.regions.all()) == {accepted.proposing_region, accepted.partner_region}
    assert accepted.affair in accepted.agreement.affairs.all()
    for p in Proposal.objects.all():
        p.full_clean()
        assert p.history.exists()
