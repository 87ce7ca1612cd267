"""Guidance and capacity: sanitised guidance pages and their search, the step → page link, the default pages, DOCX
drafts, a region's TKKSD and the register's ``tkksd`` filter, guidance events, and the dashboard's regions with
stalled agreements and no guidance in the last 12 months."""

import datetime
import io
import re
from html import unescape

import docx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils.formats import date_format

from agreements import drafts, guidance, guidance_defaults, services, stalls
from agreements.models import Agreement, AgreementParty, FollowUp, GuidanceEvent, GuidancePage, Region, Tkksd
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, affair, region
from tests.listing import list_count

PDF = b"%PDF-1.4\n%%EOF\n"
D = datetime.timedelta


@pytest.fixture(autouse=True)
def _fresh_step_urls():
    guidance.forget_step_urls()
    yield
    guidance.forget_step_urls()


def page(**fields) -> GuidancePage:
    values = {"slug": "kb", "title_id": "Kesepakatan Bersama", "title_en": "Joint agreement",
              "body_id": "Isi KB", "body_en": "What a KB holds", **fields}
    page = GuidancePage.objects.create(**values)
    guidance.forget_step_urls()
    return page


# --- sanitising ----------------------------------------------------------------------------------------------


HOSTILE = """# Judul

<script>alert("x")</script>
<p onclick="steal()">Paragraf</p>
[tautan](javascript:alert(1)) <a href="https://jdih.kemendagri.go.id/" onmouseover="x()">JDIH</a>
<iframe src="https://example.org"></iframe><style>body{display:none}</style>
<img src="x" onerror="alert(2)" alt="gambar">

| a | b |
| --- | --- |
| 1 | 2 |
"""


def test_guidance_html_is_sanitised_scripts_and_handlers_removed():
    html = guidance.render_markdown(HOSTILE)
    assert "<script" not in html and "alert(\"x\")" not in html
    assert "onclick" not in html and "onmouseover" not in html and "onerror" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html and "<style" not in html and "display:none" not in html
    # What stays: the heading (as h2, the page's h1 is its title), the paragraph, safe links, tables, images.
    assert "<h2>Judul</h2>" in html
    assert "Paragraf" in html
    assert 'href="https://jdih.kemendagri.go.id/"' in html and 'rel="noopener noreferrer"' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<img src="x" alt="gambar"' in html


@pytest.mark.django_db
def test_a_guidance_page_shows_its_text_sanitised(client, personas):
    page(slug="hostile", body_id=HOSTILE, body_en=HOSTILE)
    client.force_login(personas["local_in"])
    response = client.get(reverse("guidance-detail", args=["hostile"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body and "onclick" not in body
    assert "<h2>Judul</h2>" in body


@pytest.mark.django_db
def test_admin_preview_shows_the_sanitised_text(client, personas):
    p = page(slug="hostile", body_id=HOSTILE, body_en="<script>alert('en')</script>English text")
    client.force_login(personas["admin"])
    response = client.get(reverse("admin:agreements_guidancepage_change", args=[p.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    preview = html[html.index('class="guidance-body"'):]
    assert "<h2>Judul</h2>" in preview and "English text" in preview
    assert "<script>alert" not in preview


@pytest.mark.django_db
def test_admin_refuses_an_address_the_application_uses(client, personas):
    client.force_login(personas["admin"])
    response = client.post(reverse("admin:agreements_guidancepage_add"), {
        "slug": "events", "title_id": "A", "title_en": "A", "body_id": "a", "body_en": "a",
        "step_code": "", "cooperation_kind": "",
    })
    assert response.status_code == 200
    assert not GuidancePage.objects.filter(slug="events").exists()


# --- the list, the search, the languages --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_groups_pages_by_phase_and_kind_and_searches_the_current_language(client, personas):
    guidance_defaults.install()
    client.force_login(personas["local_in"])
    html = client.get(reverse("guidance-list")).content.decode()
    assert html.index("Preparing a cooperation") < html.index("Reporting") < html.index("Cooperation with a third")
    # The tests speak English: the English titles and texts are searched.
    response = client.get(reverse("guidance-list"), {"q": "DPRD burdens"})
    assert [p.slug for g in response.context["groups"] for p in g.pages] == ["persetujuan-dprd"]
    assert "DPRD approval" in response.content.decode()
    # In Indonesian the Indonesian texts are, and not the English ones.
    client.cookies["django_language"] = "id"
    assert client.get(reverse("guidance-list"), {"q": "burdens"}).context["count"] == 0
    response = client.get(reverse("guidance-list"), {"q": "membebani APBD"})
    assert [p.slug for g in response.context["groups"] for p in g.pages] == ["persetujuan-dprd"]
    assert "Persetujuan DPRD" in response.content.decode()


@pytest.mark.django_db
def test_the_search_takes_hostile_input(client, personas):
    guidance_defaults.install()
    client.force_login(personas["ministry"])
    for q in ["%", "_", "' OR 1=1 --", "x" * 5000, "<script>alert(1)</script>", "\u202e\u0007"]:
        response = client.get(reverse("guidance-list"), {"q": q})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert client.get(reverse("guidance-list"), {"q": "a\x00b"}).status_code == 400
    assert client.get(reverse("guidance-detail", args=["tidak-ada"])).status_code == 404


# --- the step -> page link ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_guidance_url_for_step_by_code_then_phase_in_one_query_at_most(django_assert_max_num_queries):
    page(slug="tanda-tangan-kb", step_code="kb-sign")
    page(slug="kb-umum", step_code="kb")
    with django_assert_max_num_queries(1):
        assert guidance.guidance_url_for_step("kb-sign") == "/guidance/tanda-tangan-kb/"
        assert guidance.guidance_url_for_step("kb-draft", "kb") == "/guidance/kb-umum/"
        assert guidance.guidance_url_for_step("kb-draft") is None
        assert guidance.guidance_url_for_step("unknown", "evaluation") is None
    with django_assert_max_num_queries(0):
        guidance.guidance_url_for_step("kb-sign")


@pytest.mark.django_db
def test_install_guidance_is_idempotent_and_keeps_administrators_edits():
    call_command("install_guidance", stdout=io.StringIO())
    assert GuidancePage.objects.count() == len(guidance_defaults.PAGES) >= 13
    kinds = set(GuidancePage.objects.exclude(cooperation_kind="").values_list("cooperation_kind", flat=True))
    assert kinds == set(Agreement.Kind.values)
    phases = set(GuidancePage.objects.exclude(step_code="").values_list("step_code", flat=True))
    assert phases == {"preparation", "offer", "kb", "dprd", "pks", "implementation", "reporting", "evaluation"}
    assert all(p.title_en and p.body_en and p.title_id and p.body_id for p in GuidancePage.objects.all())
    GuidancePage.objects.filter(slug="pelaporan").update(body_id="Diubah oleh administrator")
    call_command("install_guidance", stdout=io.StringIO())
    assert GuidancePage.objects.count() == len(guidance_defaults.PAGES)
    assert GuidancePage.objects.get(slug="pelaporan").body_id == "Diubah oleh administrator"
    call_command("install_guidance", "--overwrite", stdout=io.StringIO())
    assert GuidancePage.objects.get(slug="pelaporan").body_id != "Diubah oleh administrator"
    assert guidance.guidance_url_for_step("any-step", "reporting") == "/guidance/pelaporan/"


# --- drafts --------------------------------------------------------------------------------------------------


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _party_details(agreement):
    AgreementParty.objects.filter(agreement=agreement, region__code="32.73").update(
        signatory_name="Muhammad Farhan", signatory_position="Wali Kota Bandung")
    AgreementParty.objects.filter(agreement=agreement, region__code="32.04").update(
        signatory_name="Dadang Supriatna", signatory_position="Bupati Bandung")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["offer", "kb", "pks"])
def test_a_draft_opens_in_python_docx_with_the_parties_and_the_required_sections(client, personas, kind):
    kb = AgreementFactory(title="Pengelolaan Sampah Regional", scope="Pengangkutan dan pengolahan sampah",
                          starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2029, 12, 31),
                          value_idr=4_550_000_000, affairs=["2.11"])
    agreement = PksFactory(parent=kb, title=kb.title, scope=kb.scope, value_idr=4_550_000_000,
                           starts_on=kb.starts_on, ends_on=kb.ends_on, affairs=["2.11"])
    MilestoneFactory(agreement=agreement, title="Pembangunan TPST", due_on=datetime.date(2026, 3, 1))
    _party_details(agreement)
    client.force_login(personas["province_in"])  # may read the agreement, not change it
    response = client.get(reverse("agreement-draft", args=[agreement.pk]), {"document": kind})
    assert response.status_code == 200
    assert response["Content-Type"] == drafts.DOCX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"] and ".docx" in response["Content-Disposition"]
    text = _docx_text(response.content)
    for expected in ["Pemerintah Kota Bandung", "Pemerintah Kabupaten Bandung", "Muhammad Farhan",
                     "Wali Kota Bandung", "Dadang Supriatna", "Pengelolaan Sampah Regional", "Lingkungan Hidup",
                     "Pengangkutan dan pengolahan sampah", "1 Januari 2025", "31 Desember 2029", "Rp4.550.000.000"]:
        assert expected in text, expected
    if kind == "offer":
        assert "Penawaran Kerja Sama" in text and "Menteri Dalam Negeri" in text
    else:
        for section in ["SUBJEK KERJA SAMA", "OBJEK KERJA SAMA", "RUANG LINGKUP", "HAK DAN KEWAJIBAN",
                        "JANGKA WAKTU", "PENGAKHIRAN", "KEADAAN KAHAR", "PENYELESAIAN PERSELISIHAN", "PEMBIAYAAN"]:
            assert section in text, section
    if kind == "pks":
        assert "PERJANJIAN KERJA SAMA" in text and kb.number in text and "Pembangunan TPST" in text


@pytest.mark.django_db
def test_a_draft_survives_titles_with_nul_bytes_and_control_characters():
    # PostgreSQL stores no NUL: the other control characters are stored, the NUL is on the title in memory (SQLite,
    # or a value that reached the draft some other way).
    agreement = AgreementFactory(title="Kerja Sama\x07 Air\x1b Bersih\ufffe", scope="Baris\x0bsatu\nBaris dua",
                                 third_parties=["PT Air\x01 Jernih"])
    AgreementParty.objects.filter(agreement=agreement).update(signatory_name="Nama\x08 Penanda Tangan")
    agreement.title = "Kerja\x00 " + agreement.title
    for kind in drafts.KINDS:
        text = _docx_text(drafts.build_draft(agreement, kind))
        assert "Kerja Sama Air Bersih" in text.upper().title() or "KERJA SAMA AIR BERSIH" in text
        assert "\x00" not in text and "\x07" not in text
        assert "PT Air Jernih" in text and "Nama Penanda Tangan" in text
    assert re.fullmatch(r"draf-kb-[A-Za-z0-9.-]+\.docx", drafts.filename(agreement, "kb"))


@pytest.mark.django_db
def test_the_draft_page_asks_for_a_choice_and_refuses_what_is_not_one(client, personas):
    agreement = AgreementFactory()
    client.force_login(personas["local_in"])
    url = reverse("agreement-draft", args=[agreement.pk])
    assert client.get(url).status_code == 200
    for bad in ["", "docx", "KB", "x" * 1000, "../../etc/passwd"]:
        assert client.get(url, {"document": bad}).status_code == 400
    client.force_login(personas["local_out"])
    assert client.get(url, {"document": "kb"}).status_code == 404  # out of scope: nothing leaks
    assert client.get(reverse("agreement-draft", args=[99999999]), {"document": "kb"}).status_code == 404


@pytest.mark.django_db
def test_every_reader_sees_the_draft_form_on_the_agreement_page(client, personas):
    agreement = AgreementFactory()
    client.force_login(personas["province_in"])  # reads, may not write, records no obstacle
    html = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    assert reverse("agreement-draft", args=[agreement.pk]) in html


# --- TKKSD ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_tkksd_is_kept_by_the_regions_officers_and_the_ministry(personas):
    bandung = region("32.73")
    with pytest.raises(PermissionDenied):
        services.tkksd_save(user=personas["province_in"], region=bandung, formed=False)  # the province: not its own
    with pytest.raises(PermissionDenied):
        services.tkksd_save(user=personas["local_out"], region=bandung, formed=False)
    with pytest.raises(ValidationError) as exc:
        services.tkksd_save(user=personas["local_in"], region=bandung, formed=True)
    assert set(exc.value.message_dict) == {"decree_number", "decree_date"}
    with pytest.raises(ValidationError):
        services.tkksd_save(user=personas["local_in"], region=bandung, formed=True, decree_number="1",
                            decree_date=stalls.today() + D(1))
    services.tkksd_save(user=personas["local_in"], region=bandung, formed=True, decree_number="130/Kep/2025",
                        decree_date=datetime.date(2025, 2, 1), chair="Sekda", member_count=11, contact="Setda")
    services.tkksd_save(user=personas["ministry"], region=bandung, formed=True, decree_number="130/Kep/2025",
                        decree_date=datetime.date(2025, 2, 1), member_count=12)
    tkksd = Tkksd.objects.get(region=bandung)
    assert tkksd.member_count == 12 and tkksd.history.count() == 2
    with pytest.raises(PermissionDenied):  # not an autonomous region
        services.tkksd_save(user=personas["ministry"], region=region("31.71"), formed=False)


@pytest.mark.django_db
def test_the_tkksd_form_saves_and_refuses_hostile_values(client, personas):
    client.force_login(personas["local_in"])
    url = reverse("tkksd-edit", args=["32.73"])
    for bad in [{"formed": "on", "decree_number": "1", "decree_date": "2025-02-30"},
                {"formed": "on", "decree_number": "1", "decree_date": "99999-01-01"},
                {"formed": "on", "decree_number": "1", "decree_date": "2025-01-01", "member_count": "10" * 30},
                {"formed": "on", "decree_number": "x" * 5000, "decree_date": "2025-01-01"},
                {"member_count": "-1"}]:
        response = client.post(url, bad)
        assert response.status_code == 200, bad
        assert response.context["form"].errors
    assert client.post(url, {"chair": "a\x00b"}).status_code == 400
    assert not Tkksd.objects.exists()
    response = client.post(url, {"formed": "on", "decree_number": "130/Kep/2025", "decree_date": "2025-02-01",
                                 "chair": "Sekretaris Daerah", "member_count": "11", "contact": "Bagian Kerja Sama"})
    assert response.status_code == 302
    html = client.get(reverse("region-guidance", args=["32.73"])).content.decode()
    assert "130/Kep/2025" in html and "Sekretaris Daerah" in html
    assert date_format(datetime.date(2025, 2, 1), "DATE_FORMAT") in html
    assert reverse("tkksd-edit", args=["32.73"]) in html
    client.force_login(personas["local_out"])
    html = client.get(reverse("region-guidance", args=["32.73"])).content.decode()
    assert "130/Kep/2025" in html and reverse("tkksd-edit", args=["32.73"]) not in html


@pytest.mark.django_db
def test_the_register_filters_agreements_with_a_party_without_a_formed_tkksd(personas):
    both = AgreementFactory(regions=["32.73", "32.04"])
    one = AgreementFactory(regions=["32.73", "32.01"])
    neither = AgreementFactory(regions=["35.78", "35.15"])
    formed = {"formed": True, "decree_number": "1", "decree_date": datetime.date(2024, 1, 1)}
    Tkksd.objects.create(region=region("32.73"), **formed)
    Tkksd.objects.create(region=region("32.04"), **formed)
    Tkksd.objects.create(region=region("32.01"), formed=False)  # recorded: not formed
    user = personas["ministry"]
    no = list_count(user, "/agreements/?tkksd=no")
    yes = list_count(user, "/agreements/?tkksd=yes")
    assert (no, yes) == (2, 1)
    from django.http import QueryDict

    from agreements.filters import AgreementFilter

    ids = set(AgreementFilter(QueryDict("tkksd=no"), queryset=Agreement.objects.all()).qs.values_list("pk", flat=True))
    assert ids == {one.pk, neither.pk} and both.pk not in ids


# --- guidance events -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_guidance_event_is_recorded_once_with_every_region(personas, media_root):
    regions = list(Region.objects.filter(code__startswith="32", is_autonomous=True)[:30])
    event = services.guidance_event_record(
        user=personas["ministry"], kind=GuidanceEvent.Kind.BIMTEK, title="Bimtek PKS", held_on=stalls.today(),
        place="Bandung", regions=regions, affairs=[affair("2.11")], note="",
        materials=SimpleUploadedFile("materi.pdf", PDF, content_type="application/pdf"),
    )
    assert GuidanceEvent.objects.count() == 1 and event.regions.count() == len(regions) >= 20
    assert event.materials_name == "materi.pdf" and event.history.count() == 1
    for user in (personas["province_in"], personas["local_in"]):
        with pytest.raises(PermissionDenied):
            services.guidance_event_record(user=user, kind="bimtek", title="x", held_on=stalls.today(),
                                           regions=regions)
    with pytest.raises(ValidationError) as exc:
        services.guidance_event_record(user=personas["ministry"], kind="bimtek", title="x",
                                       held_on=stalls.today() + D(1), regions=[])
    assert set(exc.value.message_dict) == {"regions", "held_on"}
    with pytest.raises(ValidationError) as exc:
        services.guidance_event_record(
            user=personas["ministry"], kind="bimtek", title="x", held_on=stalls.today(), regions=regions,
            materials=SimpleUploadedFile("materi.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf"))
    assert "materials" in exc.value.message_dict
    assert GuidanceEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_event_form_records_and_refuses_hostile_input(client, personas, media_root):
    client.force_login(personas["ministry"])
    url = reverse("guidance-event-create")
    form = client.get(url)
    token = form.context["form_token"]
    ids = [str(region("32.73").pk), str(region("32.04").pk), str(region("33").pk)]
    bad_posts = [
        {"title": "x", "kind": "bimtek", "held_on": "2025-13-45", "regions": ids},
        {"title": "x", "kind": "nope", "held_on": "2025-01-01", "regions": ids},
        {"title": "x", "kind": "bimtek", "held_on": "2025-01-01", "regions": ["999999999999"]},
        {"title": "x" * 10000, "kind": "bimtek", "held_on": "2025-01-01", "regions": ids},
        {"title": "x", "kind": "bimtek", "held_on": "2025-01-01", "regions": ids,
         "materials": SimpleUploadedFile("m.pdf", b"not a pdf at all", content_type="application/pdf")},
    ]
    for data in bad_posts:
        response = client.post(url, {**data, "form_token": token})
        assert response.status_code == 200
        assert response.context["form"].errors
    assert not GuidanceEvent.objects.exists()
    response = client.post(url, {"title": "Rapat koordinasi KSD", "kind": "meeting", "held_on": "2025-06-01",
                                 "place": "Bandung", "regions": ids, "form_token": token,
                                 "materials": SimpleUploadedFile("bahan.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302
    event = GuidanceEvent.objects.get()
    assert event.regions.count() == 3 and event.recorded_by == personas["ministry"]
    download = client.get(reverse("guidance-event-materials", args=[event.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/pdf"
    # Every signed-in user reads the events; a region's page lists its own.
    client.force_login(personas["local_out"])
    assert "Rapat koordinasi KSD" in client.get(reverse("guidance-event-list")).content.decode()
    assert "Rapat koordinasi KSD" in client.get(reverse("region-guidance", args=["32.73"])).content.decode()
    assert "Rapat koordinasi KSD" not in client.get(reverse("region-guidance", args=["32.01"])).content.decode()


@pytest.mark.django_db
def test_a_regions_guidance_follow_ups_count_as_events_with_one_region(client, personas):
    services.followup_record(user=personas["ministry"], region=region("32.73"), kind=FollowUp.Kind.GUIDANCE,
                             date=stalls.today(), note="Bimbingan teknis penyusunan PKS di kantor wali kota")
    services.followup_record(user=personas["ministry"], region=region("32.73"), kind=FollowUp.Kind.LETTER,
                             date=stalls.today(), note="Surat teguran")
    client.force_login(personas["local_in"])
    events = client.get(reverse("region-guidance", args=["32.73"])).context["events"]
    assert [(e.title, e.region_count) for e in events] == [("Bimbingan teknis penyusunan PKS di kantor wali kota", 1)]


@pytest.mark.django_db
def test_a_regions_guidance_costs_the_same_queries_however_many_events(client, personas,
                                                                       django_assert_max_num_queries):
    client.force_login(personas["ministry"])
    url = reverse("region-guidance", args=["32.73"])

    def add(n):
        for i in range(n):
            event = GuidanceEvent.objects.create(kind="training", title=f"Pelatihan {i}", held_on=stalls.today())
            event.regions.set([region("32.73"), region("32.04")])
            event.affairs.set([affair("2.11")])

    add(1)
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    add(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url).context["events"]) == 11
    with django_assert_max_num_queries(10):
        client.get(reverse("guidance-event-list"))


# --- regions with stalled agreements and no guidance in the last 12 months -----------------------------------


AS_OF = datetime.date(2026, 6, 30)


def _stalled_world():
    """Stalled KBs: Bandung–Kab. Bandung, Bogor–Kota Bogor, Surabaya–Sidoarjo; a recent KB, not stalled, in Bali."""
    AgreementFactory(number="KB/1", signed_on=AS_OF - D(700), regions=["32.73", "32.04"])
    AgreementFactory(number="KB/2", signed_on=AS_OF - D(700), regions=["32.01", "32.71"])
    AgreementFactory(number="KB/3", signed_on=AS_OF - D(700), regions=["35.78", "35.15"])
    AgreementFactory(number="KB/4", signed_on=AS_OF - D(10), regions=["51.71", "51.03"])
    recent = GuidanceEvent.objects.create(kind="bimtek", title="Bimtek", held_on=AS_OF - D(100))
    recent.regions.set([region("32.73"), region("32.04"), region("51.71")])
    old = GuidanceEvent.objects.create(kind="socialisation", title="Sosialisasi lama", held_on=AS_OF - D(400))
    old.regions.set([region("32.01")])
    FollowUp.objects.create(region=region("35.78"), kind=FollowUp.Kind.GUIDANCE, date=AS_OF - D(30), note="Bimtek")
    FollowUp.objects.create(region=region("35.15"), kind=FollowUp.Kind.LETTER, date=AS_OF - D(30), note="Surat")


@pytest.mark.django_db
def test_unguided_regions_are_party_to_a_stalled_agreement_without_guidance_in_12_months(personas):
    _stalled_world()
    qs = stalls.with_status(Agreement.objects.all(), as_of=AS_OF)
    codes = list(guidance.unguided_regions(qs, AS_OF).values_list("code", flat=True))
    # 32.01: its only event was 400 days earlier; 35.15: a letter is not guidance; 35.78: a guidance follow-up.
    assert codes == ["32.01", "32.71", "35.15"]


def _figure(html: str) -> tuple[str, int]:
    match = re.search(r'data-figure="unguided-regions">.*?<a href="([^"]+)">([\d.]+)</a>', html, re.S)
    return unescape(match.group(1)), int(match.group(2).replace(".", ""))


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"province": "32"}, {"province": "35", "kind": "KSDD-SUKARELA"}])
def test_the_dashboard_figure_equals_the_regions_it_links_to_and_each_links_to_its_stalled_agreements(
        client, personas, params):
    _stalled_world()
    user = personas["ministry"]
    client.force_login(user)
    html = client.get("/", {"as_of": AS_OF.isoformat(), **params}).content.decode()
    href, value = _figure(html)
    assert value == {(): 3, ("province",): 2, ("kind", "province"): 1}[tuple(sorted(params))]
    page = client.get(href)
    assert page.status_code == 200
    regions = page.context["regions"]
    assert len(regions) == value
    for r in regions:
        assert list_count(user, r.list_url) >= 1
        assert "stalled=yes" in r.list_url and f"region={r.code}" in r.list_url


@pytest.mark.django_db
def test_an_officer_counts_only_the_agreements_it_reads(client, personas):
    _stalled_world()
    client.force_login(personas["local_in"])  # Kota Bandung reads KB/1 only, whose regions had guidance
    href, value = _figure(client.get("/", {"as_of": AS_OF.isoformat()}).content.decode())
    assert value == 0
    assert client.get(href).context["regions"] == []


@pytest.mark.django_db
def test_the_unguided_page_takes_hostile_parameters(client, personas):
    client.force_login(personas["ministry"])
    url = reverse("guidance-unguided-regions")
    for params in [{"as_of": "2026-02-30"}, {"as_of": "99999-01-01"}, {"province": "'; DROP TABLE x"},
                   {"kind": "NOPE"}, {"year_from": "1" * 400}, {"as_of": "1800-01-01"}]:
        assert client.get(url, params).status_code == 200, params
    assert client.get(url, {"province": "3\x002"}).status_code == 400


@pytest.mark.django_db
def test_event_pages_take_hostile_ids(client, personas):
    client.force_login(personas["ministry"])
    for name in ("guidance-event-detail", "guidance-event-materials"):
        assert client.get(reverse(name, args=[2**62])).status_code == 404
    assert client.get("/guidance/events/abc/").status_code == 404
    assert client.get(reverse("region-guidance", args=["99.99"])).status_code == 404
    assert client.get(reverse("tkksd-edit", args=["99.99"])).status_code == 404
    assert client.get(reverse("guidance-event-list"), {"page": "x" * 300}).status_code == 200


@pytest.mark.django_db
def test_seed_demo_guidance_makes_pages_tkksd_and_events_with_jawa_barat(db):
    from agreements import demo, demo_guidance

    users = demo.ensure_demo_users("x")
    AgreementFactory(regions=["32.73", "32.04"])
    counts = demo_guidance.seed_guidance(seed=1, as_of=AS_OF, users=users)
    assert counts["guidance_pages"] == len(guidance_defaults.PAGES)
    assert Tkksd.objects.filter(region__code="32", formed=True).exists()
    assert Tkksd.objects.filter(region__code="32.01", formed=False).exists()
    with_jabar = GuidanceEvent.objects.filter(regions__code="32")
    assert max(e.regions.count() for e in with_jabar) >= 20  # one record for many regions
    assert set(GuidanceEvent.objects.values_list("kind", flat=True)) == set(GuidanceEvent.Kind.values)
    again = demo_guidance.seed_guidance(seed=1, as_of=AS_OF, users=users)
    assert again["guidance_pages"] == 0 and again["guidance_events"] == 0


@pytest.mark.django_db
def test_the_affairs_map_filters_by_tkksd_and_each_cell_equals_its_list(client, personas):
    from agreements import affairs

    signed = datetime.date(2026, 1, 10)
    formed = {"formed": True, "decree_number": "1", "decree_date": datetime.date(2024, 1, 1)}
    Tkksd.objects.create(region=region("32.73"), **formed)
    Tkksd.objects.create(region=region("32.04"), **formed)
    with_teams = AgreementFactory(signed_on=signed, regions=["32.73", "32.04"], affairs=["3.26"])
    without = AgreementFactory(signed_on=signed, regions=["32.73", "32.01"], affairs=["3.26"])
    user = personas["ministry"]
    as_of = datetime.date(2026, 2, 1)
    for value, expected in (("no", {without.pk}), ("yes", {with_teams.pk}), ("", {without.pk, with_teams.pk})):
        ids = set(affairs.active_agreements(user, as_of=as_of, tkksd=value).values_list("pk", flat=True))
        assert ids == expected, value
        matrix = affairs.affair_matrix(user, as_of=as_of, expand=["32"], tkksd=value)
        jabar = next(row for row in matrix.rows if row.region.code == "32")
        children = {child.region.code for child in jabar.children}
        if value == "no":
            assert "32.01" in children and "32.73" not in children and "32.04" not in children
        elif value == "yes":
            assert children == {"32.73", "32.04"}
        cells = [c for row in [jabar, *jabar.children] for c in row.cells if c.active]
        assert cells
        for cell in cells:
            assert (f"tkksd={value}" in cell.url) == bool(value)
            assert list_count(user, cell.url) == cell.active, cell.url
    client.force_login(user)
    response = client.get(reverse("affair-map"), {"tkksd": "no", "as_of": "2026-02-01", "expand": "32"})
    assert response.status_code == 200 and 'name="tkksd"' in response.content.decode()
    assert client.get(reverse("affair-map"), {"tkksd": "maybe"}).status_code == 200  # an error on the form
