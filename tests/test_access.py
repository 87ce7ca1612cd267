"""The permission matrix: every URL × every role → the expected status.

Out-of-scope objects answer 404 (nothing leaks); in-scope objects the role may only read answer 403
on write; anonymous users are sent to the login page. The agreement under test is between Kota
Bandung (32.73) and Kabupaten Bandung (32.04), both in Jawa Barat (32): the Jawa Barat officer reads
it but may not change it (the province itself is not a party), Jawa Timur and Kabupaten Bogor do not
see it at all.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements import access, guidance_defaults, services
from agreements.models import Agreement, Document, ImportJob, NeedOffer
from tests.factories import MilestoneFactory, PksFactory, UserFactory, affair, region

ROLES = ["anonymous", "ministry", "province_in", "province_out", "local_in", "local_out", "admin"]


def row(anonymous, ministry, province_in, province_out, local_in, local_out, admin):
    return dict(zip(ROLES, (anonymous, ministry, province_in, province_out, local_in, local_out, admin), strict=True))


EVERYONE = row(302, 200, 200, 200, 200, 200, 200)
READ = row(302, 200, 200, 404, 200, 404, 200)
WRITE = row(302, 200, 403, 404, 200, 404, 200)
USER_ADMIN = row(302, 200, 200, 200, 403, 403, 200)
USER_EDIT = row(302, 200, 200, 404, 403, 403, 200)
# Only administrators change an administrator's account (ministry staff could take it over by its e-mail).
ADMIN_ACCOUNT_EDIT = row(302, 404, 404, 404, 403, 403, 200)
IMPORT = row(302, 200, 200, 200, 403, 403, 200)
# An import job belongs to whoever uploaded it (here ministry staff): nobody else sees it.
IMPORT_JOB = row(302, 200, 404, 404, 403, 403, 404)
IMPORT_JOB_PROGRESS = row(302, 204, 404, 404, 403, 403, 404)  # a finished job: "reload the page"
NEEDOFFER_EDIT = row(302, 200, 403, 403, 200, 403, 200)
DJANGO_ADMIN = row(302, 302, 302, 302, 302, 302, 200)
PUBLIC = row(200, 200, 200, 200, 200, 200, 200)
REDIRECT = row(302, 302, 302, 302, 302, 302, 302)
PERMANENT_REDIRECT = row(301, 301, 301, 301, 301, 301, 301)
FOLLOWUP = row(302, 200, 200, 404, 403, 404, 200)
FOLLOWUP_REGION = row(302, 200, 200, 403, 403, 403, 200)
# Obstacles: whoever reads the agreement records them, its province's officers too (who may not change it).
OBSTACLE = row(302, 200, 200, 404, 200, 404, 200)
# The ministry records guidance events; a region's own officers and the ministry keep its TKKSD (here Kota Bandung's).
GUIDANCE_EVENT_CREATE = row(302, 200, 403, 403, 403, 403, 200)
TKKSD_EDIT = row(302, 200, 403, 403, 200, 403, 200)
# Officers propose cooperation for their own region; ministry staff and administrators see proposals, never make or
# answer them. The proposal under test is from Kabupaten Bandung (32.04) to Kota Bandung (32.73).
PROPOSE = row(302, 403, 200, 200, 200, 200, 403)
POST_ONLY = row(302, 405, 405, 405, 405, 405, 405)
# Periodic reports (here Kota Bandung's): its own officers write it, its province's officers read (and return) it, the
# ministry and administrators read every report; see tests/test_reports.py for the writes.
REPORT = row(302, 200, 200, 404, 200, 404, 200)
# A party's semester evaluation: only its own officers answer (Kota Bandung's here); the province reads it, ministry
# staff and administrators read it and write the conclusion.
EVALUATE = row(302, 403, 403, 404, 200, 404, 403)
CONCLUDE = row(302, 200, 403, 404, 403, 404, 200)
# Ministry staff and administrators publish agreements (the filtered list: a confirmation page first).
PUBLISH = row(302, 200, 403, 403, 403, 403, 200)

# (url name, args built from the objects, expected row)
MATRIX = [
    ("home", (), EVERYONE),
    ("healthz", (), PUBLIC),
    ("favicon", (), PERMANENT_REDIRECT),
    ("login", (), PUBLIC),
    ("password_reset", (), PUBLIC),
    ("after-login", (), REDIRECT),
    ("agreement-list", (), EVERYONE),
    ("agreement-export", ("csv",), EVERYONE),
    ("agreement-export", ("xlsx",), EVERYONE),
    ("agreement-workbook", (), EVERYONE),
    ("agreement-party-export", (), EVERYONE),
    ("agreement-detail", ("agreement",), READ),
    ("region-detail", ("32.73",), EVERYONE),
    ("region-detail", ("32",), EVERYONE),
    ("my-agreements", (), EVERYONE),
    ("agreement-create", (), EVERYONE),
    ("agreement-edit", ("agreement",), WRITE),
    ("agreement-sign", ("agreement",), WRITE),
    ("amendment-create", ("agreement",), WRITE),  # an amendment: whoever may write the agreement
    ("agreement-renew", ("agreement",), WRITE),  # "Perpanjang": whoever may write the agreement
    ("party-record", ("agreement", "32.73"), WRITE),  # Kota Bandung's own party row
    ("milestone-create", ("agreement",), WRITE),
    ("milestone-update", ("milestone",), WRITE),
    ("step-update", ("step",), WRITE),  # a regulated step of the agreement: marked by who may write it
    ("document-upload", ("agreement",), WRITE),
    ("document-download", ("document",), READ),
    ("user-list", (), USER_ADMIN),
    ("user-create", (), USER_ADMIN),
    ("user-edit", ("account",), USER_EDIT),
    ("user-edit", ("admin_account",), ADMIN_ACCOUNT_EDIT),
    ("password_change", (), EVERYONE),
    ("affair-map", (), EVERYONE),
    ("affair-detail", ("3.26",), EVERYONE),
    ("needoffer-list", (), EVERYONE),
    ("needoffer-create", (), EVERYONE),
    ("needoffer-edit", ("needoffer",), NEEDOFFER_EDIT),
    ("proposal-list", (), EVERYONE),
    ("proposal-create", (), PROPOSE),
    ("proposal-detail", ("proposal",), READ),
    ("proposal-accept", ("proposal",), POST_ONLY),
    ("proposal-decline", ("proposal",), POST_ONLY),
    ("import-upload", (), IMPORT),
    ("import-template", (), IMPORT),
    ("import-jobs", (), IMPORT),
    ("import-job", ("import_job",), IMPORT_JOB),
    ("import-job-progress", ("import_job",), IMPORT_JOB_PROGRESS),
    ("followup-create-agreement", ("agreement",), FOLLOWUP),
    ("region-followups", ("32.73",), EVERYONE),
    ("followup-create-region", ("32.73",), FOLLOWUP_REGION),
    ("followup-attachment", ("followup",), READ),
    ("obstacle-create", ("agreement",), OBSTACLE),
    ("obstacle-resolve", ("obstacle",), OBSTACLE),
    ("evaluation-create", ("agreement",), EVALUATE),
    ("evaluation-conclusion", ("agreement",), CONCLUDE),
    ("profile", (), EVERYONE),
    ("api-token-create", (), POST_ONLY),
    ("api-token-revoke", ("1",), POST_ONLY),
    ("agreement-publish-list", (), PUBLISH),
    ("agreement-publish", ("agreement",), POST_ONLY),
    ("document-public", ("document",), POST_ONLY),
    ("guidance-list", (), EVERYONE),
    ("guidance-detail", ("persiapan",), EVERYONE),
    ("guidance-event-list", (), EVERYONE),
    ("guidance-event-create", (), GUIDANCE_EVENT_CREATE),
    ("guidance-event-detail", ("guidance_event",), EVERYONE),
    ("guidance-event-materials", ("guidance_event",), EVERYONE),
    ("guidance-unguided-regions", (), EVERYONE),
    ("region-guidance", ("32.73",), EVERYONE),
    ("tkksd-edit", ("32.73",), TKKSD_EDIT),
    ("agreement-draft", ("agreement",), READ),
    ("report-index", (), EVERYONE),
    ("report-detail", ("32.73", "2025-S1"), REPORT),
    # Results: indicators, their actual values and financing lines, for whoever may write the agreement (the province
    # reading a kabupaten/kota's agreement reads them only); the line under test is Kota Bandung's own.
    ("indicator-create", ("agreement",), WRITE),
    ("indicator-edit", ("indicator",), WRITE),
    ("actual-create", ("indicator",), WRITE),
    ("financing-create", ("agreement",), WRITE),
    ("financing-edit", ("financing",), WRITE),
    ("financing-delete", ("financing",), POST_ONLY),
    ("admin:index", (), DJANGO_ADMIN),
    ("admin:agreements_agreement_changelist", (), DJANGO_ADMIN),
]

# Forms posted empty: the access check comes before the form, so the status is the same as for GET
# (a form with errors re-renders with 200).
POST_MATRIX = [entry for entry in MATRIX if entry[2] is WRITE]
# Answers posted empty: only Kota Bandung's officer answers (accepting needs nothing more, declining a reason);
# whoever may see the proposal but not answer it gets 403, whoever may not see it 404.
PROPOSAL_POST_MATRIX = [
    ("proposal-accept", row(302, 403, 403, 404, 302, 404, 403)),
    ("proposal-decline", row(302, 403, 403, 404, 200, 404, 403)),
]


@pytest.fixture
def objects(personas, media_root):
    agreement = PksFactory(regions=["32.73", "32.04"])
    milestone = MilestoneFactory(agreement=agreement)
    # Implementing since its signing: its last completed semester can be evaluated.
    MilestoneFactory(agreement=agreement, title="Pelaksanaan", started_on=agreement.signed_on, status="in_progress")
    document = services.document_upload(
        agreement=agreement, user=personas["ministry"], doc_type=Document.Type.PKS_SCAN,
        uploaded=SimpleUploadedFile("pks.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    account = UserFactory(username="kab-garut", role="local", region=region("32.05"))
    admin_account = UserFactory(username="admin-lain", role="admin", is_staff=True)
    import_job = ImportJob.objects.create(user=personas["ministry"], agreements_name="data.xlsx", state="done")
    needoffer = NeedOffer.objects.create(region=region("32.73"), affair=affair("3.26"), kind="offer",
                                         description="Paket wisata bersama")
    followup = services.followup_record(
        user=personas["ministry"], agreement=agreement, kind="letter", date=agreement.signed_on, note="Surat",
        attachment=SimpleUploadedFile("surat.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    proposer = UserFactory(username="kab-bandung", role="local", region=region("32.04"))
    proposal = services.proposal_create(user=proposer, partner_region=region("32.73"), affair=affair("3.26"),
                                        message="Paket wisata bersama")
    guidance_defaults.install()
    guidance_event = services.guidance_event_record(
        user=personas["ministry"], kind="bimtek", title="Bimtek PKS", held_on=agreement.signed_on,
        regions=[region("32.73"), region("35")],
        materials=SimpleUploadedFile("materi.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    obstacle = services.obstacle_record(user=personas["ministry"], agreement=agreement, category="budget",
                                        description="Anggaran belum tersedia", raised_on=agreement.signed_on)
    from agreements import steps

    steps.create_steps(agreement)
    from agreements import results

    indicator = results.indicator_save(
        user=personas["ministry"], agreement=agreement, name="Rumah tangga terlayani", unit="rumah tangga",
        baseline_value=1200, baseline_on=agreement.signed_on, target_value=2000, target_on=agreement.signed_on)
    financing = results.financing_save(user=personas["ministry"], agreement=agreement, region=region("32.73"),
                                       fiscal_year=2025, source="apbd", planned_idr=100, realised_idr=None)
    return {"indicator": indicator.pk, "financing": financing.pk,
            "obstacle": obstacle.pk, "step": agreement.steps.order_by("order").first().pk,
            "agreement": agreement.pk, "milestone": milestone.pk, "document": document.pk, "account": account.pk,
            "admin_account": admin_account.pk, "import_job": import_job.pk, "needoffer": needoffer.pk,
            "followup": followup.pk, "proposal": proposal.pk, "guidance_event": guidance_event.pk}


def _url(name, args, objects):
    return reverse(name, args=[objects.get(a, a) for a in args])


def _login(client, personas, role):
    if role != "anonymous":
        client.force_login(personas[role])


def _check(response, expected, role):
    assert response.status_code == expected, f"{role}: {response.status_code} != {expected}"
    if expected == 302 and role == "anonymous":
        assert "/login/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "args", "expected"), MATRIX, ids=[f"{n}{list(a)}" for n, a, _e in MATRIX])
def test_get_matrix(client, personas, objects, name, args, expected, role):
    _login(client, personas, role)
    _check(client.get(_url(name, args, objects)), expected[role], role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "args", "expected"), POST_MATRIX, ids=[n for n, _a, _e in POST_MATRIX])
def test_post_matrix(client, personas, objects, name, args, expected, role):
    _login(client, personas, role)
    _check(client.post(_url(name, args, objects), {}), expected[role], role)
    assert Agreement.objects.get(pk=objects["agreement"]).version == 1  # an empty post changes nothing


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "expected"), PROPOSAL_POST_MATRIX, ids=[n for n, _e in PROPOSAL_POST_MATRIX])
def test_proposal_answer_matrix(client, personas, objects, name, expected, role):
    from agreements.models import Proposal

    _login(client, personas, role)
    _check(client.post(_url(name, ("proposal",), objects), {}), expected[role], role)
    accepted = Proposal.objects.filter(pk=objects["proposal"], status="accepted").exists()
    assert accepted == (name == "proposal-accept" and role == "local_in")


def test_matrix_covers_every_named_route():
    """A new route must be added to the matrix (or this test fails)."""
    from django.urls import get_resolver

    app_names = {p.name for p in get_resolver().url_patterns[-1].url_patterns if p.name}
    covered = {name for name, _a, _e in MATRIX}
    assert app_names - covered == set()


# --- the helpers behind the matrix -----------------------------------------------------------------


@pytest.mark.django_db
def test_scopes_of_the_access_helpers(personas):
    inside = PksFactory(regions=["32.73", "32.04"])
    province_party = PksFactory(regions=["32", "33"])
    elsewhere = PksFactory(regions=["35.07", "35.73"])
    visible = {role: set(access.agreements_visible_to(personas[role]).values_list("pk", flat=True)) for role in personas}
    writable = {role: set(access.agreements_writable_by(personas[role]).values_list("pk", flat=True)) for role in personas}
    everything = {inside.pk, province_party.pk, elsewhere.pk}
    assert visible["ministry"] == writable["ministry"] == everything
    assert visible["admin"] == writable["admin"] == everything
    assert visible["province_in"] == {inside.pk, province_party.pk}
    assert writable["province_in"] == {province_party.pk}
    assert visible["province_out"] == {elsewhere.pk} and writable["province_out"] == set()
    assert visible["local_in"] == writable["local_in"] == {inside.pk}
    assert visible["local_out"] == writable["local_out"] == set()


@pytest.mark.django_db
def test_deactivated_accounts_see_nothing(personas):
    PksFactory()
    officer = personas["local_in"]
    officer.is_active = False
    assert not access.agreements_visible_to(officer).exists()
    assert not access.agreements_writable_by(officer).exists()


@pytest.mark.django_db
def test_a_document_of_an_out_of_scope_agreement_answers_404_even_by_id(client, personas, media_root):
    foreign = PksFactory(regions=["32.01", "32.03"])
    document = services.document_upload(
        agreement=foreign, user=personas["ministry"], doc_type=Document.Type.PKS_SCAN,
        uploaded=SimpleUploadedFile("rahasia.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    client.force_login(personas["local_in"])
    assert client.get(reverse("document-download", args=[document.pk])).status_code == 404
    assert client.get(reverse("document-download", args=[document.pk + 1000])).status_code == 404
    client.force_login(personas["local_out"])  # Kabupaten Bogor is a party
    assert client.get(reverse("document-download", args=[document.pk])).status_code == 200


@pytest.mark.parametrize(
    "role, sees_import, sees_users",
    [("ministry", True, True), ("province_in", True, True), ("local_in", False, False), ("admin", True, True)],
)
def test_navigation_shows_what_access_allows(client, personas, role, sees_import, sees_users):
    client.force_login(personas[role])
    html = client.get(reverse("agreement-list")).content.decode()
    assert (f'href="{reverse("import-upload")}"' in html) is sees_import
    assert (f'href="{reverse("user-list")}"' in html) is sees_users
