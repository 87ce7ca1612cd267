"""Django admin: the agreement changelist (stage, stalls, filters, sorting, query count) and every model's pages."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import stalls
from agreements.admin import AgreementAdmin, EstimatedCountPaginator
from agreements.models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    Amendment,
    Document,
    FollowUp,
    GovernmentAffair,
    Milestone,
    MilestoneUpdate,
    NeedOffer,
    Region,
    SentDigest,
    Stage,
    StallSettings,
    StepTemplate,
    ThirdParty,
    User,
)
from tests.factories import AgreementFactory, MilestoneFactory, MilestoneUpdateFactory, PksFactory, UserFactory

CHANGELIST = reverse("admin:agreements_agreement_changelist")
# The changelist numbers its columns from 0, the action checkbox first (publishing is an action; deleting is not).
COLUMNS = ["action_checkbox", *AgreementAdmin.list_display]
DAYS_COLUMN = COLUMNS.index("days_stalled")


def ago(days: int) -> datetime.date:
    return stalls.today() - datetime.timedelta(days=days)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def client_admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world(db):
    """One agreement per situation, as of today with the default thresholds."""
    kb_stalled = AgreementFactory(number="KB-STALLED", signed_on=ago(400))  # KB_WITHOUT_PKS, 400 days
    kb_followed = AgreementFactory(number="KB-FOLLOWED", signed_on=ago(500))
    pks_implementing = PksFactory(number="PKS-IMPL", parent=kb_followed, signed_on=ago(450))
    MilestoneFactory(agreement=pks_implementing, title="Tahap 1", started_on=ago(400), due_on=ago(-60),
                     status=Milestone.Status.IN_PROGRESS)
    pks_not_started = PksFactory(number="PKS-NOT-STARTED", signed_on=ago(200), regions=["33.74", "33.22"],
                                 affairs=["2.11"])  # PKS_NOT_STARTED, 200 days
    pks_overdue = PksFactory(number="PKS-OVERDUE", signed_on=ago(100),
                             cooperation_kind=Agreement.Kind.KSDPK, regions=["32.73"],
                             third_parties=["Universitas Padjadjaran"])
    MilestoneFactory(agreement=pks_overdue, title="Tahap 1", started_on=ago(90), due_on=ago(60),
                     status=Milestone.Status.IN_PROGRESS)  # MILESTONE_OVERDUE, 60 days
    kb_draft = AgreementFactory(number="KB-DRAFT", signed_on=None)
    return {
        "kb_stalled": kb_stalled, "kb_followed": kb_followed, "pks_implementing": pks_implementing,
        "pks_not_started": pks_not_started, "pks_overdue": pks_overdue, "kb_draft": kb_draft,
    }


def numbers(response) -> list[str]:
    assert response.status_code == 200
    return [a.number for a in response.context["cl"].result_list]


def test_changelist_shows_translated_stage_reasons_and_days(client_admin, world):
    response = client_admin.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ["Stage", "Stall reasons", "Days since signing or due date"]:
        assert label in html
    for stage in [Stage.DRAFT, Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING]:
        assert f">{stage.label}<" in html
    assert "KB without PKS" in html and "PKS not started" in html and "Milestone overdue" in html
    rows = {a.number: a for a in response.context["cl"].result_list}
    admin_obj = admin.site._registry[Agreement]
    assert admin_obj.days_stalled(rows["KB-STALLED"]) == 400
    assert admin_obj.days_stalled(rows["PKS-NOT-STARTED"]) == 200
    assert admin_obj.days_stalled(rows["PKS-OVERDUE"]) == 60
    assert admin_obj.days_stalled(rows["KB-DRAFT"]) is None
    # The stalled filter states the thresholds in force.
    assert "365" in html and "180" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "draft"}, {"KB-DRAFT"}),
        ({"stage": "signed"}, {"KB-STALLED", "PKS-NOT-STARTED"}),
        ({"stage": "followed_up"}, {"KB-FOLLOWED"}),
        ({"stage": "implementing"}, {"PKS-IMPL", "PKS-OVERDUE"}),
        ({"stalled": "KB_WITHOUT_PKS"}, {"KB-STALLED"}),
        ({"stalled": "PKS_NOT_STARTED"}, {"PKS-NOT-STARTED"}),
        ({"stalled": "MILESTONE_OVERDUE"}, {"PKS-OVERDUE"}),
        ({"stalled": "any"}, {"KB-STALLED", "PKS-NOT-STARTED", "PKS-OVERDUE"}),
        ({"stalled": "no"}, {"KB-FOLLOWED", "PKS-IMPL", "KB-DRAFT"}),
        ({"province": "33"}, {"PKS-NOT-STARTED"}),
        ({"province": "32"}, {"KB-STALLED", "KB-FOLLOWED", "PKS-IMPL", "PKS-OVERDUE", "KB-DRAFT"}),
        ({"province": "11"}, set()),
        ({"affair": "2.11"}, {"PKS-NOT-STARTED"}),
        ({"cooperation_kind__exact": "KSDPK"}, {"PKS-OVERDUE"}),
        ({"document_type__exact": "PKS"}, {"PKS-IMPL", "PKS-NOT-STARTED", "PKS-OVERDUE"}),
        ({"q": "Semarang"}, {"PKS-NOT-STARTED"}),
        ({"q": "KB-FOLLOWED"}, {"KB-FOLLOWED"}),
        ({"stalled": "any", "province": "32"}, {"KB-STALLED", "PKS-OVERDUE"}),
    ],
)
def test_changelist_filters(client_admin, world, params, expected):
    assert set(numbers(client_admin.get(CHANGELIST, params))) == expected


def test_signing_year_filter(client_admin, world):
    year = ago(400).year
    expected = {a.number for a in Agreement.objects.filter(signed_on__year=year)}
    assert expected
    assert set(numbers(client_admin.get(CHANGELIST, {"signed_year": str(year)}))) == expected
    assert numbers(client_admin.get(CHANGELIST, {"signed_year": "1990"})) == []


def test_days_stalled_sorts_like_days(client_admin, world):
    ascending = numbers(client_admin.get(CHANGELIST, {"o": str(DAYS_COLUMN)}))
    descending = numbers(client_admin.get(CHANGELIST, {"o": f"-{DAYS_COLUMN}"}))
    stalled_by_days_desc = ["KB-STALLED", "PKS-NOT-STARTED", "PKS-OVERDUE"]  # 400, 200, 60 days
    assert descending[:3] == stalled_by_days_desc
    assert set(descending[3:]) == {"KB-FOLLOWED", "PKS-IMPL", "KB-DRAFT"}
    assert ascending[-3:] == stalled_by_days_desc[::-1]
    assert set(ascending[:3]) == {"KB-FOLLOWED", "PKS-IMPL", "KB-DRAFT"}


def test_stage_column_sorts_in_lifecycle_order(client_admin, world):
    column = COLUMNS.index("stage_label")
    rows = numbers(client_admin.get(CHANGELIST, {"o": str(column)}))
    orders = [stalls.with_status(Agreement.objects.filter(number=n)).get().stage_order for n in rows]
    assert orders == sorted(orders)
    assert rows[0] == "KB-DRAFT"


def make_agreements(prefix: str, count: int) -> None:
    for i in range(count):
        kb = AgreementFactory(number=f"{prefix}-KB-{i}", signed_on=ago(400 + i), affairs=["3.26", "2.11"])
        pks = PksFactory(number=f"{prefix}-PKS-{i}", parent=kb, signed_on=ago(300 + i),
                         third_parties=[f"Mitra {prefix} {i}"])
        m = MilestoneFactory(agreement=pks, title="Tahap 1", due_on=ago(40 + i))
        MilestoneUpdateFactory(milestone=m)


def changelist_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"stalled": "any", "province": "32"}, {"q": "Bandung"}, {"o": f"-{DAYS_COLUMN}"}])
def test_changelist_query_count_does_not_grow_with_rows(client_admin, django_assert_max_num_queries, params):
    make_agreements("A", 2)
    changelist_queries(client_admin, params)  # warm caches (content types, sessions)
    small = changelist_queries(client_admin, params)
    make_agreements("B", 20)
    assert Agreement.objects.count() == 44
    large = changelist_queries(client_admin, params)
    assert large == small
    with django_assert_max_num_queries(12):
        client_admin.get(CHANGELIST, params)


def test_changelist_skips_full_result_count():
    assert AgreementAdmin.show_full_result_count is False
    assert AgreementAdmin.paginator is EstimatedCountPaginator


def test_paginator_counts_exactly_when_filtered_or_small(world):
    qs = Agreement.objects.order_by("pk")
    assert EstimatedCountPaginator(qs, 50).count == 6
    assert EstimatedCountPaginator(qs.filter(document_type="PKS"), 50).count == 3


def test_paginator_uses_planner_estimate_only_for_unfiltered_postgresql(world, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", 1)
    qs = Agreement.objects.order_by("pk")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Agreement._meta.db_table}")
        with CaptureQueriesContext(connection) as ctx:
            count = EstimatedCountPaginator(qs, 50).count
        assert count == 6
        assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
        assert any("reltuples" in q["sql"] for q in ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            assert EstimatedCountPaginator(qs.filter(document_type="KB"), 50).count == 3
        assert any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    else:
        with CaptureQueriesContext(connection) as ctx:
            assert EstimatedCountPaginator(qs, 50).count == 6
        assert not any("reltuples" in q["sql"] for q in ctx.captured_queries)


def test_every_model_is_registered():
    for model in [Region, GovernmentAffair, User, Agreement, Milestone, MilestoneUpdate, Document, StallSettings,
                  NeedOffer, FollowUp, SentDigest, StepTemplate, AgreementStep]:
        assert model in admin.site._registry, model
    inlines = {inline.model for inline in admin.site._registry[Agreement].inlines}
    assert inlines == {AgreementParty, ThirdParty, Milestone, Document, Amendment}
    assert Amendment in admin.site._registry


@pytest.fixture
def one_of_each(world, admin_user):
    milestone = Milestone.objects.get(agreement__number="PKS-OVERDUE")
    update = MilestoneUpdateFactory(milestone=milestone, user=admin_user)
    document = Document.objects.create(agreement=milestone.agreement, milestone=milestone, file="documents/x.pdf",
                                       original_name="pks.pdf", doc_type=Document.Type.PKS_SCAN, size=10)
    need = NeedOffer.objects.create(region=Region.objects.get(code="32.73"), affair=GovernmentAffair.objects.get(
        code="2.11"), kind=NeedOffer.Kind.NEED, description="Butuh TPA regional")
    followup = FollowUp.objects.create(agreement=milestone.agreement, kind=FollowUp.Kind.LETTER,
                                       date=datetime.date(2026, 1, 5), note="Surat teguran", recorded_by=admin_user)
    digest = SentDigest.objects.create(user=admin_user, kind=SentDigest.Kind.MINISTRY, iso_year=2026, iso_week=2)
    return {
        NeedOffer: need, FollowUp: followup, SentDigest: digest,
        Region: Region.objects.get(code="32.73"), GovernmentAffair: GovernmentAffair.objects.get(code="3.26"),
        User: admin_user, Agreement: world["pks_overdue"], Milestone: milestone, MilestoneUpdate: update,
        Document: document, StallSettings: StallSettings.current(),
    }


MODELS = [Region, GovernmentAffair, User, Agreement, Milestone, MilestoneUpdate, Document, NeedOffer, FollowUp,
          SentDigest]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_pages_open(client_admin, one_of_each, model):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    obj = one_of_each[model]
    assert client_admin.get(reverse(f"{prefix}_changelist")).status_code == 200
    add_status = 403 if model is SentDigest else 200  # a read-only log
    assert client_admin.get(reverse(f"{prefix}_add")).status_code == add_status
    assert client_admin.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200
    assert client_admin.get(reverse(f"{prefix}_history", args=[obj.pk])).status_code == 200


def test_agreement_history_is_visible(client_admin, world):
    agreement = world["kb_stalled"]
    response = client_admin.get(reverse("admin:agreements_agreement_history", args=[agreement.pk]))
    assert response.status_code == 200
    assert "simple_history/object_history.html" in [t.name for t in response.templates]
    record = agreement.history.get()
    assert f"history/{record.history_id}/" in response.content.decode()


def test_stall_settings_is_one_editable_row(client_admin, db):
    response = client_admin.get(reverse("admin:agreements_stallsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:agreements_stallsettings_change", args=[1])
    assert client_admin.get(reverse("admin:agreements_stallsettings_add")).status_code == 403
    response = client_admin.post(
        reverse("admin:agreements_stallsettings_change", args=[1]),
        {"kb_follow_up_days": 200, "implementation_start_days": 90, "overdue_grace_days": 10},
    )
    assert response.status_code == 302
    assert StallSettings.objects.count() == 1
    assert stalls.Thresholds.current() == stalls.Thresholds(200, 90, 10)


def test_changelist_uses_thresholds_in_force(client_admin, world):
    StallSettings.objects.update_or_create(pk=1, defaults={"kb_follow_up_days": 450})
    assert numbers(client_admin.get(CHANGELIST, {"stalled": "KB_WITHOUT_PKS"})) == []


def test_autocomplete_for_regions_and_affairs(client_admin, db):
    url = reverse("admin:autocomplete")
    base = {"app_label": "agreements", "model_name": "agreementparty", "field_name": "region"}
    response = client_admin.get(url, {**base, "term": "Bandung"})
    assert response.status_code == 200
    names = {r["text"] for r in response.json()["results"]}
    assert {"Kota Bandung", "Kabupaten Bandung"} <= names
    response = client_admin.get(
        url, {"app_label": "agreements", "model_name": "agreement", "field_name": "affairs", "term": "Pariwisata"}
    )
    assert [r["text"] for r in response.json()["results"]] == ["3.26 Pariwisata"]


def test_admin_can_add_an_agreement_with_parties(client_admin, admin_user):
    data = {
        "number": "KB/ADMIN/1", "document_type": "KB", "title": "Pengelolaan Sampah Regional",
        "cooperation_kind": "KSDD-SUKARELA", "affairs": [GovernmentAffair.objects.get(code="2.11").pk],
        "signed_on": "2024-03-01",
    }
    for prefix, rows in [("parties", [Region.objects.get(code="32.73").pk, Region.objects.get(code="32.04").pk]),
                         ("third_parties", []), ("milestones", []), ("documents", []), ("amendments", [])]:
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, pk in enumerate(rows):
            data[f"{prefix}-{i}-region"] = pk
    response = client_admin.post(reverse("admin:agreements_agreement_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    agreement = Agreement.objects.get(number="KB/ADMIN/1")
    assert agreement.created_by == admin_user
    assert sorted(agreement.parties.values_list("region__code", flat=True)) == ["32.04", "32.73"]
    assert agreement.history.count() == 1


def _agreement_post(kind: str, regions: list[str], third_parties: list[str]) -> dict:
    data = {
        "number": "KB/ADMIN/2", "document_type": "KB", "title": "Penanganan Banjir Lintas Daerah",
        "cooperation_kind": kind, "affairs": [GovernmentAffair.objects.get(code="1.03").pk], "signed_on": "2024-03-01",
    }
    rows = {
        "parties": [("region", Region.objects.get(code=code).pk) for code in regions],
        "third_parties": [("name", name) for name in third_parties],
        "milestones": [], "documents": [], "amendments": [],
    }
    for prefix, items in rows.items():
        data.update({f"{prefix}-TOTAL_FORMS": len(items), f"{prefix}-INITIAL_FORMS": 0,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, (field, value) in enumerate(items):
            data[f"{prefix}-{i}-{field}"] = value
    return data


@pytest.mark.parametrize(
    "kind, regions, third_parties, refused",
    [
        ("KSDD-WAJIB", ["32.73"], [], True),  # a KSDD needs two regions
        ("KSDD-WAJIB", ["32.73", "31.71"], [], True),  # Jakarta Pusat is not autonomous
        ("KSDPK", ["32.73"], [], True),  # a KSDPK needs a third party
        ("KSDPK", ["32.73"], ["Universitas Padjadjaran"], False),
        ("KSDD-WAJIB", ["32.73", "32.04"], [], False),
    ],
)
def test_admin_refuses_what_the_services_refuse(client_admin, kind, regions, third_parties, refused):
    response = client_admin.post(reverse("admin:agreements_agreement_add"), _agreement_post(kind, regions, third_parties))
    assert Agreement.objects.filter(number="KB/ADMIN/2").exists() is not refused
    assert response.status_code == (200 if refused else 302)


def test_agreements_with_milestones_and_affairs_in_use_cannot_be_deleted_in_admin(client_admin, db):
    used = MilestoneFactory().agreement
    bare = AgreementFactory(number="KB/BARE/1")
    assert client_admin.get(reverse("admin:agreements_agreement_delete", args=[used.pk])).status_code == 403
    response = client_admin.post(reverse("admin:agreements_agreement_delete", args=[bare.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Agreement.objects.filter(pk=bare.pk).exists()
    affair = GovernmentAffair.objects.get(code="3.26")  # the factories' default affair, in use
    assert client_admin.get(reverse("admin:agreements_governmentaffair_delete", args=[affair.pk])).status_code == 403
    changelist = client_admin.get(reverse("admin:agreements_agreement_changelist"))
    assert "delete_selected" not in changelist.content.decode()
