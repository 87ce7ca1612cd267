"""The write services: model rules at every save, errors naming the field, the officer's own region,
the milestone update log, history rows that record the user, and account management."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements import services
from agreements.models import Agreement, AgreementParty, Document, Milestone, MilestoneUpdate, User
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, affair, region

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


def pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def create_kwargs(**overrides):
    kwargs = {
        "number": "KB/001/2025", "document_type": "KB", "title": "Pengelolaan Sampah Regional",
        "cooperation_kind": "KSDD-SUKARELA", "regions": [region("32.73"), region("32.04")],
        "affairs": [affair("2.11")],
    }
    kwargs.update(overrides)
    return kwargs


pytestmark = pytest.mark.django_db


# --- agreements ---


def test_officer_creates_a_draft_with_parties_and_history_user(personas):
    officer = personas["local_in"]
    agreement = services.agreement_create(user=officer, third_party_names=[], **create_kwargs())
    assert agreement.signed_on is None  # a draft
    assert set(agreement.regions.values_list("code", flat=True)) == {"32.73", "32.04"}
    assert list(agreement.affairs.values_list("code", flat=True)) == ["2.11"]
    assert agreement.created_by == officer and agreement.version == 1
    assert agreement.history.get().history_user == officer
    assert {h.history_user for h in AgreementParty.history.all()} == {officer}


def test_officer_cannot_save_an_agreement_without_their_own_region(personas):
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=personas["local_in"], **create_kwargs(regions=[region("32.01"), region("32.04")]))
    assert "Your own region" in exc.value.message_dict["regions"][0]
    assert Agreement.objects.count() == 0


def test_ministry_may_create_for_any_regions(personas):
    agreement = services.agreement_create(user=personas["ministry"], **create_kwargs(regions=[region("11"), region("12")]))
    assert agreement.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cooperation_kind": "KSDD-WAJIB", "regions": "only-own"}, "regions"),
        ({"cooperation_kind": "KSDPK"}, "third_parties"),
        ({"affairs": []}, "affairs"),
        ({"document_type": "KB", "parent": "a-kb"}, "parent"),
        ({"starts_on": datetime.date(2025, 5, 1), "ends_on": datetime.date(2025, 1, 1)}, "ends_on"),
        ({"number": "duplicate"}, "number"),
    ],
)
def test_model_rules_are_enforced_with_the_field_named(personas, overrides, field):
    existing = AgreementFactory(number="KB/EXISTING")
    overrides = dict(overrides)
    if overrides.get("regions") == "only-own":
        overrides["regions"] = [region("32.73")]
    if overrides.get("parent") == "a-kb":
        overrides["parent"] = existing
    if overrides.get("number") == "duplicate":
        overrides["number"] = "KB/EXISTING"
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=personas["local_in"], **create_kwargs(**overrides))
    assert field in exc.value.message_dict
    assert Agreement.objects.count() == 1


def test_update_changes_fields_and_relations_and_bumps_the_version(personas):
    officer = personas["local_in"]
    agreement = AgreementFactory(third_parties=["PT Lama"], signed_on=None)  # a draft: its officer removes parties
    services.agreement_update(
        agreement=agreement, user=officer, expected_version=1, regions=[region("32.73"), region("32.77")],
        affairs=[affair("3.26"), affair("2.15")], third_party_names=["PT Baru"], title="Judul baru",
    )
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version, agreement.updated_by) == ("Judul baru", 2, officer)
    assert set(agreement.regions.values_list("code", flat=True)) == {"32.73", "32.77"}
    assert list(agreement.third_parties.values_list("name", flat=True)) == ["PT Baru"]
    assert agreement.history.first().history_user == officer
    removed = AgreementParty.history.filter(history_type="-").get()
    assert (removed.region.code, removed.history_user) == ("32.04", officer)


def test_update_keeps_the_officers_own_region(personas):
    agreement = AgreementFactory()
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(agreement=agreement, user=personas["local_in"], expected_version=1,
                                  regions=[region("32.04"), region("32.01")], affairs=[affair("3.26")])
    assert "regions" in exc.value.message_dict
    assert set(Agreement.objects.get().regions.values_list("code", flat=True)) == {"32.73", "32.04"}


def test_update_cannot_drop_a_party_responsible_for_a_milestone(personas):
    agreement = PksFactory()
    MilestoneFactory(agreement=agreement, responsible_region=region("32.04"))
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(agreement=agreement, user=personas["local_in"], expected_version=1,
                                  regions=[region("32.73"), region("32.01")], affairs=[affair("3.26")])
    assert "responsible" in exc.value.message_dict["regions"][0]


def test_sign_records_date_and_document(personas, media_root):
    agreement = AgreementFactory(signed_on=None)
    services.agreement_sign(agreement=agreement, user=personas["local_in"], signed_on=datetime.date(2025, 3, 1),
                            document=pdf(), expected_version=1)
    agreement.refresh_from_db()
    assert (agreement.signed_on, agreement.version) == (datetime.date(2025, 3, 1), 2)
    document = Document.objects.get()
    assert (document.doc_type, document.dated_on, document.uploaded_by) == (
        "kb", datetime.date(2025, 3, 1), personas["local_in"])
    assert agreement.history.first().history_user == personas["local_in"]


def test_pks_cannot_be_signed_before_its_kb_and_nothing_is_stored(personas, media_root):
    kb = AgreementFactory(signed_on=datetime.date(2025, 1, 10))
    pks = PksFactory(parent=kb, signed_on=None)
    with pytest.raises(ValidationError) as exc:
        services.agreement_sign(agreement=pks, user=personas["local_in"], signed_on=datetime.date(2024, 12, 1),
                                document=pdf(), expected_version=1)
    assert "signed_on" in exc.value.message_dict
    pks.refresh_from_db()
    assert pks.signed_on is None and Document.objects.count() == 0
    assert not any(p.is_file() for p in media_root.rglob("*"))


# --- milestones ---------------------------------------------------------------------------------


def test_milestone_responsible_region_must_be_a_party(personas):
    agreement = PksFactory()
    with pytest.raises(ValidationError) as exc:
        services.milestone_create(agreement=agreement, user=personas["local_in"], title="Survei",
                                  responsible_region=region("32.01"))
    assert "responsible_region" in exc.value.message_dict
    milestone = services.milestone_create(agreement=agreement, user=personas["local_in"], title="Survei",
                                          responsible_region=region("32.04"), due_on=datetime.date(2025, 6, 1))
    assert milestone.history.get().history_user == personas["local_in"]


def test_status_update_writes_the_log_bumps_the_version_and_stores_evidence(personas, media_root):
    officer = personas["local_in"]
    milestone = MilestoneFactory()
    update = services.milestone_update_status(
        milestone=milestone, user=officer, status="met", progress=100, started_on=datetime.date(2024, 5, 1),
        completed_on=datetime.date(2024, 6, 20), note="Selesai", evidence=pdf("berita acara.pdf"), expected_version=1,
    )
    milestone.refresh_from_db()
    assert (milestone.status, milestone.progress, milestone.version) == ("met", 100, 2)
    assert (update.status_before, update.status_after, update.user, update.note) == ("scheduled", "met", officer,
                                                                                       "Selesai")
    evidence = Document.objects.get()
    assert (evidence.doc_type, evidence.milestone, evidence.agreement_id) == ("evidence", milestone,
                                                                               milestone.agreement_id)
    assert milestone.history.first().history_user == officer


@pytest.mark.parametrize("status", ["not_met", "partially_met"])
def test_note_is_required_when_not_met_or_partially_met(personas, status):
    milestone = MilestoneFactory()
    with pytest.raises(ValidationError) as exc:
        services.milestone_update_status(milestone=milestone, user=personas["local_in"], status=status, progress=50,
                                         started_on=None, completed_on=None, note="  ", expected_version=1)
    assert "note" in exc.value.message_dict
    assert MilestoneUpdate.objects.count() == 0
    assert Milestone.objects.get().status == "scheduled"


@pytest.mark.parametrize(
    ("status", "started_on", "completed_on", "field"),
    [
        ("met", None, None, "completed_on"),
        ("in_progress", None, None, "started_on"),
        ("scheduled", datetime.date(2024, 5, 2), datetime.date(2024, 5, 1), "completed_on"),
    ],
)
def test_milestone_model_rules_name_the_field(personas, status, started_on, completed_on, field):
    milestone = MilestoneFactory()
    with pytest.raises(ValidationError) as exc:
        services.milestone_update_status(milestone=milestone, user=personas["local_in"], status=status, progress=0,
                                         started_on=started_on, completed_on=completed_on, note="",
                                         expected_version=1)
    assert field in exc.value.message_dict
    assert MilestoneUpdate.objects.count() == 0


# --- accounts -----------------------------------------------------------------------------------


def test_province_officer_creates_kabupaten_kota_officers_of_their_province_only(personas):
    actor = personas["province_in"]
    account = services.user_create(actor=actor, username="kab-garut", email="garut@example.go.id", role="local",
                                   region=region("32.05"))
    assert account.is_active and account.has_usable_password()
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=actor, username="kab-x", email="x@example.go.id", role="local",
                             region=region("35.01"))
    assert "region" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=actor, username="kem", email="k@example.go.id", role="ministry", region=None)
    assert "role" in exc.value.message_dict
    assert not User.objects.filter(username__in=["kab-x", "kem"]).exists()


def test_local_officer_may_not_manage_accounts(personas):
    with pytest.raises(ValidationError):
        services.user_create(actor=personas["local_in"], username="z", email="z@example.go.id", role="local",
                             region=region("32.73"))


def test_ministry_cannot_grant_the_administrator_role(personas):
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=personas["ministry"], username="z", email="z@example.go.id", role="admin",
                             region=None)
    assert "role" in exc.value.message_dict


def test_accounts_are_deactivated_not_deleted(personas):
    account = UserFactory(role="local", region=region("32.05"))
    services.user_update(actor=personas["province_in"], account=account, email=account.email, role="local",
                         region=account.region, is_active=False)
    account.refresh_from_db()
    assert account.is_active is False
    with pytest.raises(ValidationError) as exc:
        services.user_update(actor=personas["ministry"], account=personas["ministry"], email="m@example.go.id",
                             role="ministry", region=None, is_active=False)
    assert "is_active" in exc.value.message_dict
