"""Follow-ups: who may record them, where they show, the 90-day rule, and the dashboard figure = its list."""

import datetime
import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from agreements import followups, services
from agreements.models import Agreement, FollowUp, StallSettings
from agreements.stalls import with_status
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, region

D = datetime.timedelta
AS_OF = datetime.date(2025, 6, 30)


def followup(agreement=None, region_obj=None, date=AS_OF, kind="letter", user=None):
    return FollowUp.objects.create(agreement=agreement, region=region_obj, kind=kind, date=date,
                                   note="Surat pembinaan", recorded_by=user)


def png_upload(name="foto.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


# --- model -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("with_agreement,with_region", [(True, True), (False, False)])
def test_exactly_one_of_agreement_and_region_is_enforced_by_the_database(with_agreement, with_region):
    agreement = AgreementFactory() if with_agreement else None
    reg = region("32.73") if with_region else None
    with pytest.raises(IntegrityError), transaction.atomic():
        followup(agreement=agreement, region_obj=reg)


# --- permissions -----------------------------------------------------------------------------------

AGREEMENT_CASES = [
    ("anonymous", 302), ("ministry", 200), ("admin", 200), ("province_in", 200), ("province_out", 404),
    ("local_in", 403), ("local_out", 404),
]


@pytest.mark.parametrize("who,status", AGREEMENT_CASES)
def test_record_on_agreement_permissions(client, personas, who, status):
    agreement = AgreementFactory()  # Kota Bandung + Kabupaten Bandung, Jawa Barat
    if who != "anonymous":
        client.force_login(personas[who])
    url = reverse("followup-create-agreement", args=[agreement.pk])
    assert client.get(url).status_code == status
    response = client.post(url, {"kind": "letter", "date": "2025-01-10", "note": "Surat"})
    assert response.status_code == (302 if status == 200 else status)
    assert FollowUp.objects.filter(agreement=agreement).exists() == (status == 200)


REGION_CASES = [
    ("ministry", "32.73", 200), ("province_in", "32", 200), ("province_in", "32.73", 200),
    ("province_out", "32.73", 403), ("local_in", "32.73", 403), ("local_out", "32.73", 403),
]


@pytest.mark.parametrize("who,code,status", REGION_CASES)
def test_record_on_region_permissions(client, personas, who, code, status):
    client.force_login(personas[who])
    url = reverse("followup-create-region", args=[code])
    assert client.get(url).status_code == status
    client.post(url, {"kind": "meeting", "date": "2025-01-10", "note": "Rapat koordinasi"})
    assert FollowUp.objects.filter(region__code=code).exists() == (status == 200)


def test_recorded_follow_up_shows_on_the_agreement_timeline_and_region_page(client, personas):
    agreement = AgreementFactory()
    client.force_login(personas["province_in"])
    response = client.post(reverse("followup-create-agreement", args=[agreement.pk]),
                           {"kind": "site_visit", "date": "2025-02-01", "note": "Kunjungan lapangan ke lokasi"})
    assert response.status_code == 302
    saved = FollowUp.objects.get()
    assert saved.recorded_by == personas["province_in"] and saved.kind == "site_visit"
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Kunjungan lapangan ke lokasi" in page and 'data-kind="followup"' in page

    client.post(reverse("followup-create-region", args=["32.73"]),
                {"kind": "guidance", "date": "2025-02-02", "note": "Bimtek KSDD"})
    region_page = client.get(reverse("region-detail", args=["32.73"])).content.decode()
    assert reverse("region-followups", args=["32.73"]) in region_page
    listing = client.get(reverse("region-followups", args=["32.73"])).content.decode()
    assert "Bimtek KSDD" in listing


def test_region_follow_ups_hidden_from_officers_of_other_regions(client, personas):
    followup(region_obj=region("32.73"))
    client.force_login(personas["local_out"])
    response = client.get(reverse("region-followups", args=["32.73"]))
    assert response.status_code == 200 and "Surat pembinaan" not in response.content.decode()
    client.force_login(personas["local_in"])
    assert "Surat pembinaan" in client.get(reverse("region-followups", args=["32.73"])).content.decode()


def test_future_date_and_bad_attachment_are_refused(client, personas, media_root):
    agreement = AgreementFactory()
    client.force_login(personas["ministry"])
    url = reverse("followup-create-agreement", args=[agreement.pk])
    future = (datetime.date.today() + D(5)).isoformat()
    response = client.post(url, {"kind": "letter", "date": future, "note": "x"})
    assert response.status_code == 200 and "future" in response.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("surat.pdf", b"<html><script>x</script></html>", content_type="application/pdf")
    response = client.post(url, {"kind": "letter", "date": "2025-01-01", "note": "x", "attachment": fake})
    assert response.status_code == 200 and not FollowUp.objects.exists()
    assert not any(media_root.rglob("*.*"))


@pytest.mark.parametrize("who,status", [("ministry", 200), ("local_in", 200), ("province_in", 200),
                                        ("local_out", 404), ("province_out", 404)])
def test_attachment_download_is_access_checked(client, personas, media_root, who, status):
    agreement = AgreementFactory()
    saved = services.followup_record(user=personas["ministry"], agreement=agreement, kind="letter",
                                      date=datetime.date(2025, 1, 5), note="Surat", attachment=png_upload())
    assert saved.content_type == "image/png" and saved.attachment.name.startswith("followups/")
    client.force_login(personas[who])
    response = client.get(reverse("followup-attachment", args=[saved.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Disposition"].startswith("attachment")


def test_service_refuses_a_kabupaten_kota_officer(personas):
    from django.core.exceptions import PermissionDenied

    agreement = AgreementFactory()
    with pytest.raises(PermissionDenied):
        services.followup_record(user=personas["local_in"], agreement=agreement, kind="letter",
                                  date=datetime.date(2025, 1, 5), note="x")


# --- the 90-day rule -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("days_before,counted", [(0, True), (90, True), (91, False), (-1, False)])
def test_followed_up_within_90_days_boundaries(days_before, counted):
    agreement = AgreementFactory()
    followup(agreement=agreement, date=AS_OF - D(days_before))
    qs = Agreement.objects.annotate(f=followups.followed_up_within(AS_OF))
    assert qs.get(pk=agreement.pk).f is counted


@pytest.mark.django_db
def test_a_follow_up_on_one_of_its_regions_counts_but_not_on_another_region():
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    followup(region_obj=region("32.01"), date=AS_OF)
    assert not Agreement.objects.filter(followups.followed_up_q(True, AS_OF)).exists()
    followup(region_obj=region("32.04"), date=AS_OF - D(10))
    assert list(Agreement.objects.filter(followups.followed_up_q(True, AS_OF))) == [agreement]
    assert not Agreement.objects.filter(followups.followed_up_q(False, AS_OF)).exists()


def _stalled_set():
    """Four KBs stalled as of AS_OF (signed 400 days before, no PKS), each between its own two regions."""
    a = AgreementFactory(number="KB/A", signed_on=AS_OF - D(400), regions=["11.71", "11.72"])
    b = AgreementFactory(number="KB/B", signed_on=AS_OF - D(500), regions=["12.71", "12.72"])
    c = AgreementFactory(number="KB/C", signed_on=AS_OF - D(600), regions=["13.71", "13.72"])
    d = AgreementFactory(number="KB/D", signed_on=AS_OF - D(700), regions=["14.71", "14.72"])
    AgreementFactory(number="KB/FRESH", signed_on=AS_OF - D(10), regions=["15.71", "15.72"])  # not stalled
    followup(agreement=a, date=AS_OF - D(10))
    followup(region_obj=region("12.72"), date=AS_OF - D(30))
    followup(agreement=c, date=AS_OF - D(100))  # too old
    return a, b, c, d


def test_dashboard_followup_figure_equals_its_list(client, personas):
    StallSettings.current()
    a, b, c, d = _stalled_set()
    client.force_login(personas["ministry"])
    ctx = client.get("/", {"as_of": AS_OF.isoformat()}).context
    summary = ctx["followups"]
    assert (summary["stalled"].value, summary["followed"].value, summary["not_followed"].value) == (4, 2, 2)
    assert [x.number for x in summary["longest_without"]] == ["KB/D", "KB/C"]
    for key, expected in (("followed", {"KB/A", "KB/B"}), ("not_followed", {"KB/C", "KB/D"})):
        params = dict(summary[key].params, as_of=AS_OF.isoformat())
        page = client.get(reverse("agreement-list"), params).context["page"]
        assert page.paginator.count == summary[key].value
        assert {row.number for row in page.object_list} == expected


def test_dashboard_followup_figure_is_scoped_to_the_user(client, personas):
    StallSettings.current()
    _stalled_set()
    stalled_jabar = AgreementFactory(number="KB/JABAR", signed_on=AS_OF - D(400))
    followup(agreement=stalled_jabar, date=AS_OF)
    client.force_login(personas["local_in"])
    summary = client.get("/", {"as_of": AS_OF.isoformat()}).context["followups"]
    assert (summary["stalled"].value, summary["followed"].value) == (1, 1)


def test_dashboard_query_count_with_follow_ups_is_constant(client, personas, django_assert_max_num_queries):
    StallSettings.current()
    _stalled_set()
    client.force_login(personas["ministry"])
    client.get("/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/", {"as_of": AS_OF.isoformat()})
    for i in range(3):
        stalled = AgreementFactory(number=f"KB/MORE/{i}", signed_on=AS_OF - D(450 + i), regions=["16.71", "16.72"])
        followup(agreement=stalled, date=AS_OF - D(i))
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/", {"as_of": AS_OF.isoformat()})


# --- "My agreements" lists what the digest lists -------------------------------------------------------


def test_my_agreements_lists_the_digest_milestones(client, personas):
    today = datetime.date.today()
    pks = PksFactory(regions=["32.73", "32.04"], signed_on=today - D(20))
    MilestoneFactory(agreement=pks, title="Lewat", due_on=today - D(3))
    MilestoneFactory(agreement=pks, title="Segera", due_on=today + D(5))
    MilestoneFactory(agreement=pks, title="Nanti", due_on=today + D(60))
    user = personas["local_in"]
    digest = followups.officer_digest(user, today)
    client.force_login(user)
    attention = client.get(reverse("my-agreements")).context["attention"]
    assert [m.pk for m in attention] == [m.pk for m in digest.overdue + digest.due_soon]
    assert [m.title for m in attention] == ["Lewat", "Segera"]


# --- profile ------------------------------------------------------------------------------------------


def test_profile_switches_reminders_and_language(client, personas):
    user = personas["local_in"]
    client.force_login(user)
    assert client.get(reverse("profile")).status_code == 200
    response = client.post(reverse("profile"), {"language": "en"})  # unchecked box: reminders off
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en" and user.reminders_enabled is False
    assert client.get(reverse("profile")).status_code == 200


def test_profile_requires_login(client, db):
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.django_db
def test_with_status_and_followed_up_combine_in_sql():
    """The flag is an Exists on the same annotated queryset the list and dashboard use."""
    a = AgreementFactory(number="KB/SQL", signed_on=AS_OF - D(400))
    followup(agreement=a, date=AS_OF)
    qs = with_status(Agreement.objects.all(), as_of=AS_OF).filter(is_stalled=True)
    assert qs.filter(followups.followed_up_q(True, AS_OF)).count() == 1
