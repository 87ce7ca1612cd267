"""Publication and the public pages (/public/): who publishes, signed agreements only, every door the same service;
every public URL rendered without a trace of the unpublished agreements or of personal data; public documents only;
the downloads with their licence; personal API tokens on the profile page."""

import datetime
import json

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements import publication, services
from agreements.models import Agreement, ApiToken, Document
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

pytestmark = pytest.mark.django_db

SECRETS = ["Judul Belum Terbit Satu", "Judul Belum Terbit Dua", "KB/RAHASIA/1", "Kontak Pribadi Sekali",
           "Catatan kendala internal", "Catatan tindak lanjut internal", "rahasia@example.go.id",
           "Catatan milestone internal", "scan-asli-budi.pdf"]


def _pdf(name):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


@pytest.fixture
def world(personas, media_root):
    ministry = personas["ministry"]
    ministry.email = "rahasia@example.go.id"
    ministry.save()
    kb = AgreementFactory(number="KB/TERBIT/1", title="Pengelolaan Sampah Terpadu Terbit", scope="Ruang lingkup publik")
    pks = PksFactory(number="PKS/TERBIT/1", title="Pelaksanaan Terbit", parent=kb, signed_on=datetime.date(2024, 3, 1))
    party = kb.parties.first()
    party.contact_person = "Kontak Pribadi Sekali"
    party.signatory_name = "Dr. H. Penandatangan Resmi"
    party.signatory_position = "Wali Kota Bandung"
    party.save()
    milestone = MilestoneFactory(agreement=pks, title="Rapat koordinasi terbuka")
    services.milestone_update_status(user=ministry, milestone=milestone, status="in_progress", progress=10,
                                     note="Catatan milestone internal", started_on=datetime.date(2024, 4, 1),
                                     completed_on=None, expected_version=milestone.version)
    services.obstacle_record(user=ministry, agreement=kb, category="budget", description="Catatan kendala internal",
                             raised_on=datetime.date(2024, 2, 1))
    services.followup_record(user=ministry, agreement=kb, kind="letter", date=datetime.date(2024, 2, 2),
                             note="Catatan tindak lanjut internal")
    public_doc = services.document_upload(agreement=kb, user=ministry, doc_type=Document.Type.KB_SCAN,
                                          uploaded=_pdf("scan-asli-budi.pdf"))
    private_doc = services.document_upload(agreement=kb, user=ministry, doc_type=Document.Type.OTHER,
                                           uploaded=_pdf("catatan.pdf"))
    hidden = AgreementFactory(number="KB/RAHASIA/1", title="Judul Belum Terbit Satu")
    hidden_doc = services.document_upload(agreement=hidden, user=ministry, doc_type=Document.Type.KB_SCAN,
                                          uploaded=_pdf("kb.pdf"))
    draft = AgreementFactory(number="KB/DRAF/1", title="Judul Belum Terbit Dua", signed_on=None)
    publication.publish([kb, pks], user=ministry)
    publication.set_document_public(public_doc, public=True, user=ministry)
    publication.set_document_public(hidden_doc, public=True, user=ministry)  # its agreement is not published
    return {"kb": kb, "pks": pks, "hidden": hidden, "draft": draft, "public_doc": public_doc,
            "private_doc": private_doc, "hidden_doc": hidden_doc}


def _public_urls(world):
    kb, pks = world["kb"], world["pks"]
    urls = [reverse("public-home"), reverse("public-csv"), reverse("public-json")]
    urls += [reverse("public-home") + q for q in (
        "?q=Terbit", "?q=Belum", "?province=32", "?stage=signed", "?stalled=yes", "?document_type=KB",
        "?affair=3.26", "?sort=title", "?page=2", "?as_of=2030-01-01", "?as_of=bad", "?obstacle=budget")]
    urls += [reverse("public-csv") + "?q=Belum", reverse("public-json") + "?stalled=yes"]
    urls += [reverse("public-agreement", args=[a.pk]) for a in (kb, pks)]
    return urls


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_public_url_leaks_nothing(client, world, language, settings):
    settings.LANGUAGE_CODE = language
    for url in _public_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        for secret in SECRETS:
            assert secret not in text, (url, secret)
    page = client.get(reverse("public-agreement", args=[world["kb"].pk])).content.decode()
    assert "Pengelolaan Sampah Terpadu Terbit" in page and "Dr. H. Penandatangan Resmi" in page
    assert "Wali Kota Bandung" in page and "Ruang lingkup publik" in page
    assert f'lang="{language}"' in client.get(reverse("public-home")).content.decode()


def test_unpublished_agreements_and_documents_answer_404(client, world):
    for agreement in (world["hidden"], world["draft"]):
        assert client.get(reverse("public-agreement", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("public-document", args=[world["private_doc"].pk])).status_code == 404
    assert client.get(reverse("public-document", args=[world["hidden_doc"].pk])).status_code == 404
    response = client.get(reverse("public-document", args=[world["public_doc"].pk]))
    assert response.status_code == 200
    assert "scan-asli-budi" not in response["Content-Disposition"]  # a generated name, not the uploaded one
    page = client.get(reverse("public-agreement", args=[world["kb"].pk])).content.decode()
    assert reverse("public-document", args=[world["public_doc"].pk]) in page
    assert reverse("public-document", args=[world["private_doc"].pk]) not in page
    publication.unpublish([world["kb"]], user=_ministry())
    assert client.get(reverse("public-document", args=[world["public_doc"].pk])).status_code == 404


def _ministry():
    from agreements.models import User

    return User.objects.get(username="p-ministry")


def test_the_downloads_state_the_licence(client, world):
    data = json.loads(client.get(reverse("public-json")).content)
    assert data["licence"]["name"] == "CC BY 4.0" and data["regions_licence"]["name"] == "ODbL 1.0"
    assert "idn-area-data" in data["regions_licence"]["attribution"]
    assert sorted(row["number"] for row in data["agreements"]) == ["KB/TERBIT/1", "PKS/TERBIT/1"]
    response = client.get(reverse("public-csv"))
    assert 'rel="license"' in response["Link"] and "creativecommons.org/licenses/by/4.0" in response["Link"]
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].startswith("number,document_type") and len(rows) == 3
    page = client.get(reverse("public-home")).content.decode()
    assert "CC BY 4.0" in page and "ODbL 1.0" in page


def test_the_public_page_shows_the_map_and_figures(client, world):
    page = client.get(reverse("public-home")).content.decode()
    assert 'class="tile-map' in page or "tile-map" in page
    assert "Pengelolaan Sampah Terpadu Terbit" in page
    assert reverse("public-home") + "?province=32" in page  # the map links to the filtered public list


def test_public_pages_need_no_login_and_signed_in_users_see_the_same(client, world, personas):
    anonymous = client.get(reverse("public-home")).status_code
    client.force_login(personas["local_out"])
    assert anonymous == client.get(reverse("public-home")).status_code == 200
    assert "Judul Belum Terbit Satu" not in client.get(reverse("public-home") + "?q=Belum").content.decode()


# --- publishing: who, what, every door -------------------------------------------------------------------------


def test_only_ministry_staff_and_administrators_publish(personas):
    agreement = AgreementFactory()
    for role in ("province_in", "local_in", "local_out", "province_out"):
        with pytest.raises(PermissionDenied):
            publication.publish([agreement], user=personas[role])
    assert publication.publish([agreement], user=personas["admin"]) == 1
    assert publication.publish([agreement], user=personas["ministry"]) == 0  # already published
    agreement.refresh_from_db()
    assert agreement.published_at is not None
    assert agreement.history.first().history_user == personas["admin"]


def test_an_unsigned_agreement_is_refused_with_its_number(personas):
    signed = AgreementFactory(number="KB/OK/1")
    draft = AgreementFactory(number="KB/DRAF/9", signed_on=None)
    with pytest.raises(ValidationError) as error:
        publication.publish([signed, draft], user=personas["ministry"])
    assert "KB/DRAF/9" in " ".join(error.value.messages)
    assert not Agreement.objects.filter(published_at__isnull=False).exists()  # all or nothing


def test_publish_and_withdraw_from_the_agreement_page(client, personas):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    url = reverse("agreement-publish", args=[agreement.pk])
    client.force_login(personas["local_in"])
    assert client.post(url, {"action": "publish"}).status_code == 403
    assert "Withdraw from the public page" not in client.get(agreement.get_absolute_url()).content.decode()
    client.force_login(personas["local_out"])
    assert client.post(url, {"action": "publish"}).status_code == 404
    client.force_login(personas["ministry"])
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert 'value="publish"' in page
    assert client.post(url, {"action": "publish"}).status_code == 302
    agreement.refresh_from_db()
    assert agreement.published_at is not None
    client.post(url, {"action": "unpublish"})
    agreement.refresh_from_db()
    assert agreement.published_at is None
    draft = AgreementFactory(signed_on=None)
    response = client.post(reverse("agreement-publish", args=[draft.pk]), {"action": "publish"}, follow=True)
    assert "Only signed agreements are published" in response.content.decode()


def test_publish_the_filtered_list_after_a_confirmation(client, personas):
    AgreementFactory(number="KB/A/1", regions=["32.73", "32.04"])
    AgreementFactory(number="KB/B/1", regions=["35.07", "35.73"])
    AgreementFactory(number="KB/C/1", regions=["35.07", "35.73"], signed_on=None)
    url = reverse("agreement-publish-list")
    client.force_login(personas["local_in"])
    assert client.get(url + "?province=32").status_code == 403
    assert client.post(url + "?province=32", {"action": "publish"}).status_code == 403
    client.force_login(personas["ministry"])
    assert url in client.get(reverse("agreement-list")).content.decode()
    confirm = client.get(url + "?province=32").content.decode()
    assert "Publish 1 agreement" in confirm
    assert client.post(url + "?province=32", {"action": "publish"}).status_code == 302
    assert list(Agreement.objects.filter(published_at__isnull=False).values_list("number", flat=True)) == ["KB/A/1"]
    # The Jawa Timur list holds a draft: refused, nothing published.
    assert "not signed" in client.get(url + "?province=35").content.decode()
    client.post(url + "?province=35", {"action": "publish"})
    assert Agreement.objects.filter(published_at__isnull=False).count() == 1
    client.post(url + "?province=32", {"action": "unpublish"})
    assert not Agreement.objects.filter(published_at__isnull=False).exists()


def test_documents_are_made_public_one_by_one(client, personas, media_root):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    document = services.document_upload(agreement=agreement, user=personas["ministry"],
                                        doc_type=Document.Type.KB_SCAN, uploaded=_pdf("kb.pdf"))
    url = reverse("document-public", args=[document.pk])
    client.force_login(personas["local_in"])
    assert client.post(url, {"public": "1"}).status_code == 403
    client.force_login(personas["ministry"])
    assert client.post(url, {"public": "1"}).status_code == 302
    document.refresh_from_db()
    assert document.is_public
    client.post(url, {"public": "0"})
    document.refresh_from_db()
    assert not document.is_public


def test_the_admin_action_publishes_through_the_same_service(client, personas):
    signed = AgreementFactory(number="KB/ADM/1")
    draft = AgreementFactory(number="KB/ADM/2", signed_on=None)
    client.force_login(personas["admin"])
    url = reverse("admin:agreements_agreement_changelist")
    client.post(url, {"action": "publish_agreements", "_selected_action": [signed.pk, draft.pk]}, follow=True)
    assert not Agreement.objects.filter(published_at__isnull=False).exists()  # the draft refuses the whole request
    client.post(url, {"action": "publish_agreements", "_selected_action": [signed.pk]}, follow=True)
    assert list(Agreement.objects.filter(published_at__isnull=False)) == [signed]
    client.post(url, {"action": "unpublish_agreements", "_selected_action": [signed.pk]}, follow=True)
    assert not Agreement.objects.filter(published_at__isnull=False).exists()


# --- personal API tokens on the profile page --------------------------------------------------------------------


def test_tokens_are_created_once_listed_and_revoked_on_the_profile(client, personas):
    user = personas["local_in"]
    client.force_login(user)
    response = client.post(reverse("api-token-create"), {"name": "SIPD Jabar"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = response.context["key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=user)
    profile = client.get(reverse("profile")).content.decode()
    assert "SIPD Jabar" in profile and token.prefix in profile and key not in profile
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client.force_login(personas["local_out"])  # another user cannot revoke it
    client.post(reverse("api-token-revoke", args=[token.pk]))
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client.force_login(user)
    client.post(reverse("api-token-revoke", args=[token.pk]))
    assert client.get("/api/v1/agreements/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert "revoked on" in client.get(reverse("profile")).content.decode()
    assert client.post(reverse("api-token-create"), {"name": " "}).status_code == 302  # a name is required
    assert ApiToken.objects.filter(user=user).count() == 1


def test_settings_keep_the_docs_off_cdns():
    assert django_settings.SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] == "SIDECAR"
    assert django_settings.SPECTACULAR_SETTINGS["SWAGGER_UI_FAVICON_HREF"] == "SIDECAR"


def test_the_demo_publishes_signed_agreements_and_one_public_document(personas, media_root):
    from agreements import demo_publication

    for n in range(6):
        AgreementFactory(number=f"KB/D/{n}", regions=["32.73", "32.04"] if n < 3 else ["35.07", "35.73"])
        PksFactory(number=f"PKS/D/{n}", regions=["32.73", "32.04"] if n < 3 else ["35.07", "35.73"])
    AgreementFactory(number="KB/D/DRAF", signed_on=None)
    counts = demo_publication.seed_publication(users=[personas["local_in"], personas["ministry"]])
    assert counts == {"published": 8, "public_documents": 1}
    published = Agreement.objects.filter(published_at__isnull=False)
    assert not published.filter(signed_on__isnull=True).exists()
    assert published.filter(parties__region__code="32.73").exists()
    assert Document.objects.get(is_public=True).agreement.published_at is not None


def test_the_public_pages_queries_do_not_grow_with_the_data(client, personas, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    publication.publish([AgreementFactory(), PksFactory()], user=personas["ministry"])
    urls = [reverse("public-home"), reverse("public-json")]
    counts = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[url] = len(queries)
    more = []
    for n in range(6):
        more += [AgreementFactory(regions=["35.07", "35.73", "35"], affairs=["1.01", "3.26"], third_parties=[f"PT {n}"]),
                 PksFactory(regions=["51.71", "51.03"])]
    publication.publish(more, user=personas["ministry"])
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_the_public_page_shows_the_values_in_force_as_amended(client, world, settings):
    from agreements.models import Amendment

    settings.LANGUAGE_CODE = "id"
    kb = world["kb"]
    Amendment.objects.create(agreement=kb, number="1/ADD/2025", signed_on=datetime.date(2025, 1, 10),
                             ends_on=datetime.date(2031, 6, 30), scope="Ruang lingkup setelah adendum",
                             value_idr=4_550_000_000, summary="Diperpanjang dan diperluas.")
    Amendment.objects.create(agreement=kb, number="2/ADD/2099", signed_on=stalls_today() + datetime.timedelta(days=30),
                             ends_on=datetime.date(2040, 1, 1), summary="Belum berlaku.")
    page = client.get(reverse("public-agreement", args=[kb.pk])).content.decode()
    assert "Ruang lingkup setelah adendum" in page and "Ruang lingkup publik" not in page
    assert "30 Juni 2031" in page and "2040" not in page.split("Adendum")[0]
    assert "Rp4.550.000.000" in page
    assert "(32.73)" not in page  # region names, not codes, where a person reads


def stalls_today():
    from agreements import stalls

    return stalls.today()
