"""Bahasa Indonesia as the ministry writes it: the glossary's banned words kept out of the catalogue, the messages
Django lends the app (uniqueness errors, log-in and password forms) in the project's words, and the weekly
e-mails with labels instead of codes, dates as people write them and "Yth." with the person's full name.

The app's Indonesian default is what is tested here, so this module overrides tests/conftest.py's English."""

import datetime
import io
import re
import sys
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from agreements.models import (
    AgreementParty,
    FollowUp,
    GovernmentAffair,
    Milestone,
    PeriodicRun,
    Region,
    SentDigest,
    StallSettings,
    ThirdParty,
    User,
)
from agreements.templatetags.kerjasama import rupiah, stall_reason_labels
from tests.factories import PASSWORD, AgreementFactory, MilestoneFactory, PksFactory, UserFactory, region

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import check_catalogue  # noqa: E402

D = datetime.timedelta
AS_OF = datetime.date(2025, 6, 18)  # a Wednesday
SITE = "https://kerjasama.example.go.id"
STALL_CODES = re.compile(r"KB_WITHOUT_PKS|PKS_NOT_STARTED|MILESTONE_OVERDUE")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Overrides tests/conftest.py's fixture: here the app keeps its Indonesian default."""
    with translation.override("id"):
        yield


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE


# --- the banned terms ------------------------------------------------------------------------------------------

BANNED_PO = '''
msgid ""
msgstr "Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Stalled agreements"
msgstr "Perjanjian macet"

msgid "Breadcrumb"
msgstr "Remah roti"

msgid "Signatory"
msgstr "Penandatangan"

msgid "Signing date"
msgstr "Tanggal penandatanganan"

msgid "Cooperation agreement (PKS)"
msgstr "Perjanjian Kerja Sama (PKS)"

msgid "Your password"
msgstr "Sandi anda"
'''


def banned_terms():
    return check_catalogue.read_banned_terms(check_catalogue.BANNED_TERMS.read_text(encoding="utf-8"))


def test_the_banned_list_holds_the_glossarys_words():
    terms = banned_terms()
    for word in ("macet", "kemacetan", "mandek", "remah roti", "penandatangan", "non-pelayanan", "linimasa",
                 "penyaring", "kemajuan", "sedikitnya", "setidaknya", "KB tanpa PKS", "tahapan terlambat",
                 "bentuk kerja sama", "kerja sama antardaerah", "email", "sandi", "perjanjian"):
        assert any(term.pattern.search(word) for term in terms), word
    for allowed in ("penandatanganan", "Perjanjian Kerja Sama", "kata sandi", "Anda", "terhenti", "penanda tangan"):
        assert not any(term.pattern.search(allowed) for term in terms), allowed


def test_the_check_fails_on_a_banned_term():
    entries = check_catalogue.parse_po(BANNED_PO)
    problems = check_catalogue.check_banned_terms(entries, banned_terms())
    found = {p.split(": ")[1] for p in problems}
    assert found == {"'Stalled agreements'", "'Breadcrumb'", "'Signatory'", "'Your password'"}, problems
    assert any("“macet”" in p and "terhenti" in p for p in problems)
    assert any("“Perjanjian”" in p for p in problems)  # a KB is a kesepakatan: only "Perjanjian Kerja Sama"
    assert any("“anda”" in p and "write: Anda" in p for p in problems)


def test_the_repository_catalogue_has_no_banned_term():
    entries = check_catalogue.parse_po(check_catalogue.PO.read_text(encoding="utf-8"))
    assert check_catalogue.check_banned_terms(entries, banned_terms()) == []


@pytest.mark.parametrize(("english", "indonesian"), [
    ("Stalled", "Terhenti"),
    ("KB without PKS", "KB belum ditindaklanjuti dengan PKS"),
    ("PKS not started", "PKS belum dilaksanakan"),
    ("Milestone overdue", "Kegiatan melewati tenggat"),
    ("Milestones", "Kegiatan"),
    ("Agreements", "Kerja sama"),
    ("Record a follow-up", "Catat fasilitasi"),
    ("Needs and offers", "Kebutuhan dan potensi"),
    ("Declare a need or an offer", "Sampaikan kebutuhan atau potensi"),
    ("Implementing", "Dalam pelaksanaan"),
    ("Expired", "Jangka waktu berakhir"),
    ("Followed up by a PKS", "Ditindaklanjuti dengan PKS"),
    ("Cooperation kind", "Jenis kerja sama"),
    ("Mandatory, non-basic services", "Wajib nonpelayanan dasar"),
    ("Signatory", "Penanda tangan"),
    ("Progress (%)", "Capaian (%)"),
    ("Timeline", "Riwayat"),
    ("Filters", "Filter"),
    ("Breadcrumb", "Navigasi lokasi"),
    ("Map of affairs", "Pemetaan urusan yang dapat dikerjasamakan"),
    ("Affairs map", "Peta urusan"),
    ("My imports", "Impor saya"),
    ("%(n)s suggested partner (national)", "%(n)s saran mitra (nasional)"),
])
def test_the_glossary_terms(english, indonesian):
    assert translation.gettext(english) == indonesian


# --- uniqueness errors -----------------------------------------------------------------------------------------


def messages_of(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def unique_error(instance, check: str = "unique") -> list[str]:
    with pytest.raises(ValidationError) as raised:
        instance.validate_unique() if check == "unique" else instance.validate_constraints()
    return messages_of(raised.value)


def test_each_uniqueness_error_in_indonesian(db):
    agreement = AgreementFactory(number="KB/UNIK/1", regions=["32.73", "32.04"], third_parties=["PT Maju"])
    MilestoneFactory(agreement=agreement, title="Survei lokasi")
    user = UserFactory(username="kota-bandung")
    SentDigest.objects.create(user=user, kind="officer", iso_year=2025, iso_week=25)
    PeriodicRun.objects.create(job="reminders", slot="2025-W25")
    some_region = Region.objects.first()
    some_affair = GovernmentAffair.objects.first()

    cases = [
        (type(agreement)(number="KB/UNIK/1"), "unique", "Kerja sama dengan nomor ini sudah ada."),
        (Region(code=some_region.code, name="X"), "unique", "Daerah dengan kode ini sudah ada."),
        (GovernmentAffair(code=some_affair.code, name="X"), "unique",
         "Urusan pemerintahan dengan kode ini sudah ada."),
        (User(username="kota-bandung"), "unique", "Pengguna dengan nama pengguna tersebut sudah ada."),
        (Milestone(agreement=agreement, title="Survei lokasi"), "constraints",
         "Kerja sama ini sudah memiliki kegiatan dengan judul ini."),
        (AgreementParty(agreement=agreement, region=region("32.73")), "constraints",
         "Sebuah daerah hanya dapat tercatat sekali sebagai pihak."),
        (ThirdParty(agreement=agreement, name="PT Maju"), "constraints", "Ada pihak ketiga yang tercantum dua kali."),
        (SentDigest(user=user, kind="officer", iso_year=2025, iso_week=25), "constraints",
         "Ringkasan ini sudah dikirim kepada pengguna ini pada minggu ini."),
        (PeriodicRun(job="reminders", slot="2025-W25"), "constraints",
         "Tugas berkala ini sudah dijalankan pada slot ini."),
    ]
    for instance, check, expected in cases:
        found = unique_error(instance, check)
        assert expected in found, (type(instance).__name__, found)
        assert not any("tidak ada" in m for m in found)  # Django's "… dengan … ini tidak ada." says the opposite


def test_a_uniqueness_check_without_its_own_message_reads_right(db):
    """Django's fallback message, in case a constraint comes without one: the catalogue says "sudah ada"."""
    assert translation.gettext("%(model_name)s with this %(field_labels)s already exists.") == (
        "%(model_name)s dengan %(field_labels)s ini sudah ada."
    )


# --- log-in and password forms ---------------------------------------------------------------------------------


def test_the_login_error(client, db):
    UserFactory(username="kota-bandung")
    html = client.post(reverse("login"), {"username": "kota-bandung", "password": "salah"}).content.decode()
    assert ("Masukkan nama pengguna dan kata sandi yang benar. Perhatikan bahwa huruf besar dan huruf kecil "
            "pada keduanya dibedakan.") in html
    assert "nama pengguna nama pengguna" not in html and "Sandi" not in html


def test_the_password_change_errors(client, db):
    user = UserFactory(username="kota-bandung", first_name="Rina", last_name="Kusuma")
    client.force_login(user)
    url = reverse("password_change")
    html = client.get(url).content.decode()
    for label in ("Kata sandi lama", "Kata sandi baru", "Konfirmasi kata sandi baru",
                  "Kata sandi Anda tidak boleh terlalu mirip dengan informasi pribadi Anda yang lain.",
                  "Kata sandi Anda paling sedikit 8 karakter.",
                  "Kata sandi Anda tidak boleh kata sandi yang umum digunakan.",
                  "Kata sandi Anda tidak boleh seluruhnya angka.",
                  "Masukkan kata sandi yang sama seperti di atas, untuk verifikasi."):
        assert label in html, label

    html = client.post(url, {"old_password": "salah", "new_password1": "x", "new_password2": "x"}).content.decode()
    assert "Kata sandi lama yang Anda masukkan salah. Masukkan sekali lagi." in html

    html = client.post(url, {"old_password": PASSWORD, "new_password1": "Teluk-Bayur-2025",
                             "new_password2": "Teluk-Bayur-2026"}).content.decode()
    assert "Kedua isian kata sandi tidak sama." in html

    html = client.post(url, {"old_password": PASSWORD, "new_password1": "12345678",
                             "new_password2": "12345678"}).content.decode()
    assert "Kata sandi ini terlalu umum." in html and "Kata sandi ini seluruhnya angka." in html

    html = client.post(url, {"old_password": PASSWORD, "new_password1": "9137",
                             "new_password2": "9137"}).content.decode()
    assert "Kata sandi ini terlalu pendek. Kata sandi paling sedikit 8 karakter." in html

    html = client.post(url, {"old_password": PASSWORD, "new_password1": "kota-bandung",
                             "new_password2": "kota-bandung"}).content.decode()
    assert "Kata sandi terlalu mirip dengan nama pengguna." in html
    assert "Sandi" not in html and " anda " not in html


def test_the_password_reset_form_error(client, db):
    html = client.post(reverse("password_reset"), {"email": "bukan-alamat"}).content.decode()
    assert "Masukkan alamat surel yang sah." in html
    assert "Alamat surel" in html and "Alamat email" not in html and ">Email<" not in html


def test_the_set_password_form_errors(client, db):
    user = UserFactory(username="kota-bandung")
    url = reverse("password_reset_confirm", args=[urlsafe_base64_encode(force_bytes(user.pk)),
                                                  default_token_generator.make_token(user)])
    response = client.get(url, follow=True)
    set_url = response.redirect_chain[-1][0]
    html = response.content.decode()
    assert "Kata sandi baru" in html and "Konfirmasi kata sandi baru" in html
    html = client.post(set_url, {"new_password1": "Teluk-Bayur-2025", "new_password2": "Teluk-Bayur-2026"}
                       ).content.decode()
    assert "Kedua isian kata sandi tidak sama." in html
    html = client.post(set_url, {"new_password1": "", "new_password2": ""}).content.decode()
    assert "Isian ini wajib diisi." in html


@pytest.mark.parametrize(("first", "last", "greeting"), [
    ("Rina", "Kusuma", "Yth. Rina Kusuma,"),
    ("", "", "Yth. kota-bandung,"),  # no name recorded: the username
])
def test_the_password_reset_mail_greets_the_person(client, db, first, last, greeting):
    UserFactory(username="kota-bandung", email="rina@example.go.id", first_name=first, last_name=last)
    client.post(reverse("password_reset"), {"email": "rina@example.go.id"})
    [message] = mail.outbox
    assert message.subject == "Kerjasama: pilih kata sandi Anda"
    assert message.body.startswith(f"{greeting}\n\nSeseorang (mungkin Anda, atau pengelola akun Anda)")


# --- Django's field messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("english", "indonesian"), [
    ("This field is required.", "Isian ini wajib diisi."),
    ("Enter a whole number.", "Masukkan bilangan bulat."),
    ("Enter a valid email address.", "Masukkan alamat surel yang sah."),
    ("Enter a valid date.", "Masukkan tanggal yang sah."),
    ("Select a valid choice. %(value)s is not one of the available choices.",
     "Pilih pilihan yang sah. %(value)s bukan salah satu pilihan yang tersedia."),
])
def test_djangos_field_messages_come_from_the_projects_catalogue(english, indonesian):
    assert translation.gettext(english) == indonesian


def test_a_form_of_the_app_shows_the_projects_field_messages(db):
    from agreements.forms import MilestoneUpdateForm

    form = MilestoneUpdateForm(data={"progress": "setengah", "started_on": "kemarin"})
    assert not form.is_valid()
    assert "Masukkan bilangan bulat." in form.errors["progress"]
    assert "Masukkan tanggal yang sah." in form.errors["started_on"]


# --- money, dates, times, labels -------------------------------------------------------------------------------


def test_formats_as_the_ministry_writes_them():
    from django.utils import formats

    assert rupiah(4_550_000_000) == "Rp4.550.000.000"
    assert formats.date_format(datetime.date(2026, 12, 2)) == "2 Desember 2026"
    assert formats.time_format(datetime.time(10, 0)) == "10.00"
    assert formats.date_format(datetime.datetime(2026, 12, 2, 10, 0), "SHORT_DATETIME_FORMAT") == "2 Des 2026 10.00"
    assert stall_reason_labels(["KB_WITHOUT_PKS", "MILESTONE_OVERDUE"]) == (
        "KB belum ditindaklanjuti dengan PKS, Kegiatan melewati tenggat"
    )


# --- the weekly e-mails ----------------------------------------------------------------------------------------


def assert_readable(message):
    """No code of StallReason and no ISO date in anything a person reads: subject, text and HTML."""
    html = message.alternatives[0][0]
    html_text = re.sub(r'(href|datetime)="[^"]*"', "", html)
    for part in (message.subject, message.body, html_text):
        assert not STALL_CODES.search(part), STALL_CODES.search(part).group(0)
        without_links = re.sub(r"https?://\S+", "", part)
        assert not ISO_DATE.search(without_links), ISO_DATE.search(without_links).group(0)


@pytest.fixture
def officer_case(db):
    StallSettings.current()
    officer = UserFactory(username="kota-bandung", role="local", region=region("32.73"), language="id",
                          first_name="Rina", last_name="Kusuma")
    partner = UserFactory(username="kab-bandung", role="local", region=region("32.04"), language="id",
                          first_name="Asep", last_name="Sunarya")
    pks = PksFactory(number="PKS/BDG/1", signed_on=AS_OF - D(60), regions=["32.73", "32.04"])
    MilestoneFactory(agreement=pks, title="Survei lokasi", due_on=AS_OF - D(3))
    MilestoneFactory(agreement=pks, title="Rapat teknis", due_on=AS_OF + D(20))
    AgreementFactory(number="KB/BDG/LAMA", signed_on=AS_OF - D(779), regions=["32.73", "32.04"])
    return {"officer": officer, "partner": partner, "pks": pks}


def test_the_officer_digest_in_indonesian(officer_case):
    call_command("send_reminders", "--as-of", AS_OF.isoformat(), stdout=io.StringIO())
    [message] = [m for m in mail.outbox if m.to == [officer_case["officer"].email]]
    assert message.subject == "Kerjasama: pengingat mingguan Anda (18 Juni 2025)"
    body = message.body
    assert body.startswith("Yth. Rina Kusuma,\n")
    assert "Kegiatan melewati tenggat\n- 15 Juni 2025 · PKS/BDG/1 · Survei lokasi (Dijadwalkan)" in body
    assert "Kegiatan yang bertenggat dalam 30 hari ke depan" in body
    assert "Kerja sama terhenti\n- KB/BDG/LAMA" in body
    assert "KB belum ditindaklanjuti dengan PKS · ditandatangani atau jatuh tempo 779 hari lalu" in body
    assert "Hal yang perlu perhatian dalam kerja sama Kota Bandung, per tanggal 18 Juni 2025:" in body
    html = message.alternatives[0][0]
    assert '<html lang="id">' in html
    assert "KB belum ditindaklanjuti dengan PKS · ditandatangani atau jatuh tempo 779 hari lalu" in html
    assert_readable(message)


def test_the_weekly_emails_from_demo_data_show_no_code_and_no_iso_date(db, settings):
    """The demo data (many agreements, every stall reason, follow-ups, partner changes), every recipient in
    Indonesian: each e-mail is read for codes and ISO dates."""
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    as_of = datetime.date(2026, 6, 30)
    call_command("seed_demo", agreements=80, as_of=as_of.isoformat(), stdout=io.StringIO())
    User.objects.update(language="id")
    ministry = User.objects.filter(role=User.Role.MINISTRY, is_active=True).exclude(email="").first()
    # A new stall this week and a follow-up recorded this week, so that the ministry's digest has both parts.
    AgreementFactory(number="KB/DEMO/BARU", signed_on=as_of - D(366), regions=["32.73", "33.71"])
    letter = FollowUp.objects.create(region=region("32.73"), kind="letter", date=as_of - D(1), note="Surat",
                                     recorded_by=ministry)
    FollowUp.objects.filter(pk=letter.pk).update(
        created_at=datetime.datetime.combine(as_of - D(1), datetime.time(10), tzinfo=datetime.UTC)
    )
    call_command("send_reminders", "--as-of", as_of.isoformat(), stdout=io.StringIO())

    assert len(mail.outbox) >= 2
    kinds = {m.subject.split(" (")[0] for m in mail.outbox}
    assert kinds == {"Kerjasama: pengingat mingguan Anda",
                     "Kerjasama: ringkasan mingguan kerja sama yang baru terhenti dan fasilitasi"}
    for message in mail.outbox:
        assert message.subject.endswith("(30 Juni 2026)")
        assert message.body.startswith("Yth. ")
        assert_readable(message)
    [to_ministry] = [m for m in mail.outbox if m.to == [ministry.email]]
    assert to_ministry.body.startswith(f"Yth. {ministry.get_full_name()},")
    assert "KB/DEMO/BARU · " in to_ministry.body and "KB belum ditindaklanjuti dengan PKS" in to_ministry.body
    assert "Fasilitasi yang dicatat minggu ini\n- 29 Juni 2026 · Surat · Kota Bandung · " in to_ministry.body
    assert f"· {ministry.get_full_name()}\n" in to_ministry.body
