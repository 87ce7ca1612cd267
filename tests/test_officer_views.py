"""The officer's workflow through the browser-facing views: landing page, forms, stale saves,
tampering, user management and the password reset by e-mail."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from agreements import stalls
from agreements.models import Agreement, Milestone, MilestoneUpdate, StallSettings, User
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, affair, region

pytestmark = pytest.mark.django_db


def today():
    return stalls.today()


# --- landing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "target"), [
    ("local_in", "my-agreements"), ("province_in", "my-agreements"), ("ministry", "home"), ("admin", "home"),
])
def test_login_lands_officers_on_my_agreements(client, personas, who, target, settings):
    personas[who].set_password("rahasia-123")
    personas[who].save()
    response = client.post(reverse("login"), {"username": personas[who].username, "password": "rahasia-123"})
    assert response.status_code == 302 and response["Location"] == reverse("after-login")
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == reverse(target)


def _agreements_with_milestones(n: int):
    for i in range(n):
        pks = PksFactory(signed_on=today() - datetime.timedelta(days=400))
        MilestoneFactory(agreement=pks, title=f"Lewat {i}", due_on=today() - datetime.timedelta(days=5))
        MilestoneFactory(agreement=pks, title=f"Segera {i}", due_on=today() + datetime.timedelta(days=10))
        MilestoneFactory(agreement=pks, title=f"Nanti {i}", due_on=today() + datetime.timedelta(days=90))


def test_my_agreements_lists_attention_first_with_constant_queries(client, personas, django_assert_max_num_queries):
    quiet = AgreementFactory(number="KB/QUIET", signed_on=today())
    other_region = PksFactory(regions=["32.01", "32.04"])
    MilestoneFactory(agreement=other_region, title="Bukan milik", due_on=today())
    _agreements_with_milestones(2)
    StallSettings.current()  # the thresholds row exists in a running app
    client.force_login(personas["local_in"])
    # One of them: the cooperation proposals to answer and those sent; another: the open obstacles.
    with django_assert_max_num_queries(10):
        response = client.get(reverse("my-agreements"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lewat 0" in html and "Segera 1" in html and "Nanti 0" not in html and "Bukan milik" not in html
    assert html.index("Lewat 0") < html.index("Segera 0")  # overdue before due soon
    numbers = [a.number for a in response.context["page"].object_list]
    assert numbers[-1] == quiet.number and other_region.number not in numbers
    _agreements_with_milestones(5)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("my-agreements")).status_code == 200


# --- agreements -----------------------------------------------------------------------------------


def agreement_post(**overrides):
    data = {
        "number": "KB/100/2025", "document_type": "KB", "title": "Transportasi Aglomerasi",
        "cooperation_kind": "KSDD-SUKARELA", "regions": [region("32.73").pk, region("32.77").pk],
        "affairs": [affair("2.15").pk], "third_parties": "", "scope": "", "version": "",
    }
    data.update(overrides)
    return data


def test_officer_creates_a_draft(client, personas):
    client.force_login(personas["local_in"])
    assert client.get(reverse("agreement-create")).status_code == 200
    response = client.post(reverse("agreement-create"), agreement_post())
    agreement = Agreement.objects.get(number="KB/100/2025")
    assert response.status_code == 302 and response["Location"] == agreement.get_absolute_url()
    assert agreement.signed_on is None


def test_a_create_form_submitted_twice_creates_one_record(client, personas):
    client.force_login(personas["local_in"])
    token = client.get(reverse("agreement-create")).context["form_token"]
    first = client.post(reverse("agreement-create"), {**agreement_post(), "form_token": token})
    again = client.post(reverse("agreement-create"), {**agreement_post(), "form_token": token}, follow=True)
    assert first.status_code == 302
    assert Agreement.objects.filter(number="KB/100/2025").count() == 1
    assert "already submitted" in again.content.decode()


def test_a_refused_create_keeps_its_token_for_the_corrected_submission(client, personas):
    client.force_login(personas["local_in"])
    token = client.get(reverse("agreement-create")).context["form_token"]
    wrong = agreement_post(regions=[region("32.01").pk, region("32.77").pk], form_token=token)
    refused = client.post(reverse("agreement-create"), wrong)
    assert refused.status_code == 200 and refused.context["form_token"] == token
    assert client.post(reverse("agreement-create"), {**agreement_post(), "form_token": token}).status_code == 302
    assert Agreement.objects.count() == 1


def test_create_without_own_region_names_the_field_and_keeps_the_input(client, personas):
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-create"), agreement_post(regions=[region("32.01").pk, region("32.77").pk]))
    assert response.status_code == 200
    assert "Your own region" in str(response.context["form"].errors["regions"])
    assert 'value="Transportasi Aglomerasi"' in response.content.decode()
    assert not Agreement.objects.exists()


def test_edit_with_a_stale_version_shows_the_newer_values_and_overwrites_nothing(client, personas):
    agreement = AgreementFactory(title="Judul asli")
    client.force_login(personas["local_in"])
    form_page = client.get(reverse("agreement-edit", args=[agreement.pk]))
    assert form_page.context["form"].initial["version"] == 1
    # Someone else saves first.
    other = client.__class__()
    other.force_login(personas["ministry"])
    data = agreement_post(number=agreement.number, title="Judul dari kementerian", version=1,
                          regions=[region("32.73").pk, region("32.04").pk], affairs=[affair("3.26").pk])
    assert other.post(reverse("agreement-edit", args=[agreement.pk]), data).status_code == 302
    response = client.post(reverse("agreement-edit", args=[agreement.pk]), {**data, "title": "Judul saya"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this record" in html
    assert "Judul dari kementerian" in html and 'value="Judul saya"' in html
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version) == ("Judul dari kementerian", 2)


def _rows(*rows, total=None):
    """POST data of the milestone table: each row a (title, responsible region pk or "", due date) tuple."""
    data = {"milestones-TOTAL_FORMS": str(total or len(rows)), "milestones-INITIAL_FORMS": "0"}
    for i, (title, responsible, due) in enumerate(rows):
        data.update({f"milestones-{i}-title": title, f"milestones-{i}-responsible_region": responsible,
                     f"milestones-{i}-due_on": due})
    return data


def test_milestone_with_a_responsible_region_that_is_not_a_party_is_refused(client, personas):
    agreement = PksFactory()
    client.force_login(personas["local_in"])
    response = client.post(reverse("milestone-create", args=[agreement.pk]),
                           _rows(("Survei lokasi", region("32.01").pk, "")))
    assert response.status_code == 200
    assert "responsible_region" in response.context["rows"].forms[0].errors
    assert not Milestone.objects.exists()
    response = client.post(reverse("milestone-create", args=[agreement.pk]),
                           _rows(("Survei lokasi", region("32.04").pk, "2025-08-01")))
    assert response.status_code == 302
    assert Milestone.objects.get().responsible_region.code == "32.04"


def test_several_milestones_are_added_together_or_not_at_all(client, personas):
    agreement = PksFactory(regions=["32.73", "32.04"])
    MilestoneFactory(agreement=agreement, title="Sudah ada")
    client.force_login(personas["local_in"])
    url = reverse("milestone-create", args=[agreement.pk])
    page = client.get(url)
    assert len(page.context["rows"].forms) == 3, "three empty rows to start"
    refused = client.post(url, _rows(("Survei", region("32.73").pk, "2025-01-31"), ("", "", ""),
                                     ("Sudah ada", "", ""), ("Survei", "", "")))
    assert refused.status_code == 200
    errors = [form.errors for form in refused.context["rows"].forms]
    assert errors[0] == {} and errors[1] == {}
    assert "title" in errors[2] and "title" in errors[3], "each row's own error, on the row"
    assert "row 1" in str(errors[3]["title"])
    assert agreement.milestones.count() == 1, "nothing saved"
    saved = client.post(url, _rows(("Survei", region("32.73").pk, "2025-01-31"), ("", "", ""),
                                   ("Rapat koordinasi", region("32.04").pk, "2025-03-31")))
    assert saved.status_code == 302
    assert set(agreement.milestones.values_list("title", flat=True)) == {"Sudah ada", "Survei", "Rapat koordinasi"}


def test_add_row_keeps_what_was_typed_and_saves_nothing(client, personas):
    agreement = PksFactory(regions=["32.73", "32.04"])
    client.force_login(personas["local_in"])
    response = client.post(reverse("milestone-create", args=[agreement.pk]),
                           {**_rows(("Survei", region("32.73").pk, "2025-01-31")), "add_row": "1"})
    rows = response.context["rows"]
    assert len(rows.forms) == 2 and rows.forms[0].initial["title"] == "Survei"
    assert not any(form.errors for form in rows.forms)
    assert not Milestone.objects.exists()


def test_a_new_pks_is_saved_with_its_milestones_or_not_at_all(client, personas):
    kb = AgreementFactory(regions=["32.73", "32.04"], affairs=["3.26"])
    client.force_login(personas["local_in"])
    data = {"number": "PKS/BARU/1", "document_type": "PKS", "parent": kb.pk, "title": "Pelaksanaan",
            "cooperation_kind": kb.cooperation_kind, "regions": [region("32.73").pk, region("32.04").pk],
            "affairs": [affair("3.26").pk], "third_parties": "", "scope": "", "dprd_approved_on": "", "starts_on": "",
            "ends_on": "", "value_idr": ""}
    refused = client.post(reverse("agreement-create"), {**data, **_rows(("Survei", region("32.01").pk, ""))})
    assert refused.status_code == 200
    assert "responsible_region" in refused.context["rows"].forms[0].errors
    assert not Agreement.objects.filter(number="PKS/BARU/1").exists(), "the PKS is not saved without its rows"
    saved = client.post(reverse("agreement-create"), {**data, **_rows(
        ("Survei", region("32.73").pk, "2025-01-31"), ("Rapat", region("32.04").pk, ""), ("Laporan", "", ""))})
    assert saved.status_code == 302
    pks = Agreement.objects.get(number="PKS/BARU/1")
    assert pks.parent == kb and pks.milestones.count() == 3


def test_sign_view_records_the_signing(client, personas, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = AgreementFactory(signed_on=None)
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-sign", args=[agreement.pk]), {
        "signed_on": "2025-02-03", "ends_on": "2030-02-02", "version": 1,
        "document": SimpleUploadedFile("KB.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
    })
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.signed_on == datetime.date(2025, 2, 3)
    assert agreement.ends_on == datetime.date(2030, 2, 2)
    assert agreement.documents.get().doc_type == "kb"


@pytest.mark.parametrize("ends_on, error", [
    ("", "This field is required."),
    ("2025-02-02", "The end date cannot be before the signing date."),
])
def test_the_sign_form_requires_an_end_date_not_before_the_signing(client, personas, media_root, ends_on, error):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = AgreementFactory(signed_on=None, ends_on=None)
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-sign", args=[agreement.pk]), {
        "signed_on": "2025-02-03", "ends_on": ends_on, "version": 1,
        "document": SimpleUploadedFile("KB.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert error in response.context["form"].errors["ends_on"]
    agreement.refresh_from_db()
    assert agreement.signed_on is None and agreement.ends_on is None and not agreement.documents.exists()


def test_the_sign_form_offers_the_recorded_end_date(client, personas):
    agreement = AgreementFactory(signed_on=None, ends_on=datetime.date(2031, 1, 14))
    client.force_login(personas["local_in"])
    form = client.get(reverse("agreement-sign", args=[agreement.pk])).context["form"]
    assert form.initial["ends_on"] == datetime.date(2031, 1, 14) and form.fields["ends_on"].required


def test_agreement_actions_are_shown_only_to_writers(client, personas):
    agreement = AgreementFactory()
    client.force_login(personas["local_in"])
    assert reverse("agreement-edit", args=[agreement.pk]) in client.get(agreement.get_absolute_url()).content.decode()
    client.force_login(personas["province_in"])  # reads, but the province is not a party
    response = client.get(agreement.get_absolute_url())
    assert response.status_code == 200
    assert reverse("agreement-edit", args=[agreement.pk]) not in response.content.decode()


# --- milestone updates ----------------------------------------------------------------------------


def test_milestone_update_through_the_form(client, personas):
    milestone = MilestoneFactory()
    client.force_login(personas["local_in"])
    url = reverse("milestone-update", args=[milestone.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"status": "partially_met", "progress": 40, "version": 1, "note": ""})
    assert response.status_code == 200 and "note" in response.context["form"].errors
    response = client.post(url, {"status": "partially_met", "progress": 40, "version": 1, "note": "Dana terlambat"})
    assert response.status_code == 302
    update = MilestoneUpdate.objects.get()
    assert (update.user, update.note, update.status_after) == (personas["local_in"], "Dana terlambat", "partially_met")


def test_stale_milestone_update_is_refused_showing_the_newer_values(client, personas):
    milestone = MilestoneFactory()
    MilestoneUpdate.objects.all().delete()
    url = reverse("milestone-update", args=[milestone.pk])
    first = client.__class__()
    first.force_login(personas["ministry"])
    first.post(url, {"status": "in_progress", "progress": 70, "version": 1, "started_on": "2024-05-01",
                     "note": "Sudah berjalan"})
    client.force_login(personas["local_in"])
    response = client.post(url, {"status": "not_met", "progress": 10, "version": 1, "note": "Belum mulai"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this record" in html and "Sudah berjalan" in html
    milestone.refresh_from_db()
    assert (milestone.status, milestone.progress, milestone.version) == ("in_progress", 70, 2)
    assert MilestoneUpdate.objects.count() == 1
    # The form now carries the newer version: a deliberate second save goes through.
    assert re.search(r'name="version" value="2"', html)


def test_tampering_with_another_regions_milestone_answers_404(client, personas):
    foreign = MilestoneFactory(agreement=PksFactory(regions=["32.01", "32.03"]))
    client.force_login(personas["local_in"])
    response = client.post(reverse("milestone-update", args=[foreign.pk]),
                           {"status": "met", "progress": 100, "completed_on": "2024-06-01", "version": 1})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.version) == ("scheduled", 1)
    client.force_login(personas["province_in"])  # may read it (a kabupaten of Jawa Barat), not change it
    assert client.post(reverse("milestone-update", args=[foreign.pk]), {"status": "met"}).status_code == 403


def test_document_form_refuses_a_milestone_of_another_agreement(client, personas, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = PksFactory()
    other = MilestoneFactory(agreement=PksFactory())
    client.force_login(personas["local_in"])
    response = client.post(reverse("document-upload", args=[agreement.pk]), {
        "doc_type": "evidence", "milestone": other.pk,
        "file": SimpleUploadedFile("b.pdf", b"%PDF-1.4\n%%EOF", content_type="application/pdf"),
    })
    assert response.status_code == 200 and "milestone" in response.context["form"].errors
    assert not agreement.documents.exists()


# --- user management ------------------------------------------------------------------------------


def test_ministry_creates_an_account_that_gets_a_password_email(client, personas):
    client.force_login(personas["ministry"])
    response = client.post(reverse("user-create"), {
        "username": "kota-cimahi", "email": "cimahi@example.go.id", "role": "local", "region": region("32.77").pk,
    })
    assert response.status_code == 302
    account = User.objects.get(username="kota-cimahi")
    assert account.region.code == "32.77"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["cimahi@example.go.id"]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_province_officer_manages_only_their_kabupaten_kota_officers(client, personas):
    inside = UserFactory(username="kab-garut", role="local", region=region("32.05"))
    outside = UserFactory(username="kab-malang", role="local", region=region("35.07"))
    client.force_login(personas["province_in"])
    html = client.get(reverse("user-list")).content.decode()
    assert "kab-garut" in html and "kab-malang" not in html and "p-ministry" not in html
    assert client.get(reverse("user-edit", args=[outside.pk])).status_code == 404
    assert client.get(reverse("user-edit", args=[personas["ministry"].pk])).status_code == 404
    response = client.post(reverse("user-edit", args=[inside.pk]), {
        "email": inside.email, "role": "local", "region": inside.region_id,  # is_active unticked: deactivate
    })
    assert response.status_code == 302
    inside.refresh_from_db()
    assert inside.is_active is False and User.objects.filter(pk=inside.pk).exists()
    response = client.post(reverse("user-create"), {
        "username": "kab-x", "email": "x@example.go.id", "role": "local", "region": region("35.07").pk,
    })
    assert response.status_code == 200 and "region" in response.context["form"].errors


def test_user_list_queries_do_not_grow(client, personas, django_assert_max_num_queries):
    client.force_login(personas["ministry"])
    with django_assert_max_num_queries(6):
        assert client.get(reverse("user-list")).status_code == 200
    for i in range(10):
        UserFactory(username=f"extra{i}", role="local", region=region("32.73"))
    with django_assert_max_num_queries(6):
        assert client.get(reverse("user-list")).status_code == 200


# --- password reset -------------------------------------------------------------------------------


def test_password_reset_by_email(client, personas):
    officer = personas["local_in"]
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200 and 'class="skip-link"' in page.content.decode()  # extends base.html
    response = client.post(reverse("password_reset"), {"email": officer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    response = client.post(response.redirect_chain[-1][0], {
        "new_password1": "Kerjasama-baru-2025", "new_password2": "Kerjasama-baru-2025"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("Kerjasama-baru-2025")


def test_an_evidence_file_lost_to_a_form_error_is_said_plainly(client, personas, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    milestone = MilestoneFactory(agreement=AgreementFactory(regions=["32.73", "32.04"]))
    client.force_login(personas["local_in"])
    response = client.post(reverse("milestone-update", args=[milestone.pk]), {
        "status": "not_met", "progress": 10, "version": 1, "note": "",  # not met needs a note: refused
        "evidence": SimpleUploadedFile("foto-kegiatan.png", b"\x89PNG..."),
    })
    assert response.status_code == 200
    assert "The evidence file “foto-kegiatan.png” was not saved because the form has errors" in response.content.decode()
    page = client.get(reverse("milestone-update", args=[milestone.pk]))
    assert "was not saved" not in page.content.decode()


def test_an_empty_milestone_table_asks_for_one_milestone(client, personas):
    agreement = PksFactory(regions=["32.73", "32.04"])
    client.force_login(personas["local_in"])
    for data in ({}, _rows(("", "", ""), ("", "", ""))):
        response = client.post(reverse("milestone-create", args=[agreement.pk]), data)
        assert response.status_code == 200
        assert "Fill in at least one milestone." in response.content.decode()
    assert not Milestone.objects.exists()


def test_my_agreements_lists_those_ending_within_90_days(client, personas, django_assert_max_num_queries):
    from tests.listing import list_count

    soon = AgreementFactory(number="KB/ENDS/SOON", signed_on=today() - datetime.timedelta(days=30),
                            ends_on=today() + datetime.timedelta(days=20))
    AgreementFactory(number="KB/ENDS/LATER", signed_on=today() - datetime.timedelta(days=30),
                     ends_on=today() + datetime.timedelta(days=91))
    AgreementFactory(number="KB/ENDS/BOGOR", signed_on=today() - datetime.timedelta(days=30),
                     ends_on=today() + datetime.timedelta(days=20), regions=["32.01", "32.04"])
    StallSettings.current()
    client.force_login(personas["local_in"])
    with django_assert_max_num_queries(11):
        response = client.get(reverse("my-agreements"))
    assert [a.number for a in response.context["expiring"]] == [soon.number]
    assert response.context["expiring"][0].days_left == 20
    html = response.content.decode()
    assert "KB/ENDS/LATER" not in html.split('data-section="expiring"')[1].split("</section>")[0]
    # The link shows the same agreements in the register.
    assert list_count(personas["local_in"], response.context["expiring_url"]) == 1
