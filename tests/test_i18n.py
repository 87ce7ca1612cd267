"""The interface language: Bahasa Indonesia first, English through the switcher, remembered per user; Indonesian formats;
the catalogue complete (scripts/check_catalogue.py, which `make test` runs)."""

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats, translation

from agreements.models import User
from agreements.templatetags.kerjasama import rupiah
from tests.factories import PASSWORD, AgreementFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import check_catalogue  # noqa: E402

LOGIN = "/accounts/login/"
SETLANG = "/i18n/setlang/"


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Overrides tests/conftest.py's fixture: here the app keeps its Indonesian default."""
    yield


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


# --- default language and the switcher ------------------------------------------------------------------------


def test_indonesian_is_the_default(client, db):
    assert settings.LANGUAGE_CODE == "id"
    response = client.get(LOGIN)
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Masuk" in html and "Kata sandi" in html  # "Log in", "Password"
    assert ">Log in<" not in html
    assert response["Content-Language"] == "id"


def test_the_log_in_page_ignores_the_browser_language_until_the_person_chooses(client, db):
    """A browser set to English still gets the Indonesian log-in page, with the switch on it; the choice wins."""
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="id">' in html and "Kata sandi" in html
    assert 'class="lang-form"' in html and 'value="en"' in html, "the switch is on the log-in page"
    response = client.post(SETLANG, {"language": "en", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 302
    html = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert '<html lang="en">' in html and "Password" in html


def test_signed_in_pages_are_indonesian_by_default(client, db):
    user = UserFactory(role="ministry")
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "Dasbor" in html and "Keluar" in html  # "Dashboard", "Log out"
    assert ">Log out<" not in html


def test_switching_to_english_shows_english_and_is_saved_on_the_account(client, db, django_assert_max_num_queries):
    user = UserFactory(role="ministry")
    client.force_login(user)
    with django_assert_max_num_queries(6):
        response = client.post(SETLANG, {"language": "en", "next": reverse("home")})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    user.refresh_from_db()
    assert user.language == "en"

    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html and "Dashboard" in html and "Log out" in html
    assert "Dasbor" not in html

    client.post(SETLANG, {"language": "id", "next": reverse("home")})
    user.refresh_from_db()
    assert user.language == "id"
    assert "Dasbor" in client.get(reverse("home")).content.decode()


def test_the_language_is_remembered_after_logging_in_again(client, db):
    user = UserFactory(role="ministry")
    log_in(client, user)
    client.post(SETLANG, {"language": "en", "next": "/"})
    client.post(reverse("logout"))

    fresh = client.__class__()  # another browser: no language cookie
    response = log_in(fresh, user)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = fresh.get(reverse("home")).content.decode()
    assert "Dashboard" in html and "Dasbor" not in html


def test_logging_in_restores_the_saved_language_over_the_cookie(client, db):
    """Someone switched the shared computer to English; an officer who works in Indonesian logs in."""
    user = UserFactory(role="ministry", language="id")
    client.post(SETLANG, {"language": "en", "next": LOGIN})  # anonymous: only the cookie
    assert "Log in" in client.get(LOGIN).content.decode()
    response = log_in(client, user)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    assert "Dasbor" in client.get(reverse("home")).content.decode()


def test_anonymous_switch_only_sets_the_cookie(client, db):
    response = client.post(SETLANG, {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log in" in client.get(LOGIN).content.decode()


def test_an_unknown_language_is_not_saved(client, db):
    user = UserFactory(role="ministry", language="id")
    client.force_login(user)
    client.post(SETLANG, {"language": "fr", "next": "/"})
    user.refresh_from_db()
    assert user.language == "id"


def test_a_get_changes_nothing(client, db):
    user = UserFactory(role="ministry", language="id")
    client.force_login(user)
    client.get(SETLANG, {"language": "en"})
    user.refresh_from_db()
    assert user.language == "id"


def test_model_and_validation_strings_come_from_the_catalogue(db):
    with translation.override("id"):
        assert str(User._meta.get_field("language").verbose_name) == "bahasa"
        assert str(User.Role.LOCAL.label) == "Petugas kabupaten/kota"
    with translation.override("en"):
        assert str(User.Role.LOCAL.label) == "Kabupaten/kota officer"


# --- formats --------------------------------------------------------------------------------------------------


def test_indonesian_dates_spell_the_month_out():
    day = datetime.date(2026, 11, 29)
    with translation.override("id"):
        assert formats.date_format(day) == "29 November 2026"
        assert Template("{{ day }}").render(Context({"day": day})) == "29 November 2026"
        assert formats.date_format(datetime.date(2026, 8, 17)) == "17 Agustus 2026"
    with translation.override("en"):
        assert formats.date_format(day) == "29 November 2026"  # one date format per language, the same order


def test_times_are_written_one_way_per_language():
    when = datetime.datetime(2026, 12, 2, 19, 52)
    template = Template("{{ when }}|{{ when|date:'SHORT_DATETIME_FORMAT' }}")
    with translation.override("id"):
        assert template.render(Context({"when": when})) == "2 Des 2026 19.52|2 Des 2026 19.52"
    with translation.override("en"):
        assert template.render(Context({"when": when})) == "2 Dec 2026 19:52|2 Dec 2026 19:52"


def test_indonesian_numbers_group_with_dots_and_use_a_decimal_comma():
    with translation.override("id"):
        assert intcomma(1234567) == "1.234.567"
        assert formats.number_format(1234567, force_grouping=True) == "1.234.567"
        assert formats.number_format(12.5, decimal_pos=1) == "12,5"
    with translation.override("en"):
        assert intcomma(1234567) == "1,234,567"


@pytest.mark.parametrize(("value", "expected"), [
    (1234567, "Rp1.234.567"), (0, "Rp0"), (999, "Rp999"), (1_500_000_000, "Rp1.500.000.000"),
    ("2500000", "Rp2.500.000"), (None, "–"), ("", "–"),
])
def test_rupiah_filter(value, expected):
    with translation.override("id"):
        assert rupiah(value) == expected
        assert Template("{% load kerjasama %}{{ v|rupiah }}").render(Context({"v": value})) == expected


def test_rupiah_follows_the_language_grouping():
    with translation.override("en"):
        assert rupiah(1234567) == "Rp1,234,567"


def test_the_agreement_page_shows_the_value_in_rupiah(client, db):
    agreement = AgreementFactory(value_idr=1_234_567)
    client.force_login(UserFactory(role="ministry"))
    html = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    assert "Rp1.234.567" in html
    assert "Nilai" in html  # "Value"


# --- the catalogue ---------------------------------------------------------------------------------------------


def test_the_catalogue_check_passes():
    """The same command as `make messages-check`: every entry translated, nothing fuzzy or new, .mo current."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_catalogue.py")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all translated" in result.stdout


PO_WITH_PROBLEMS = r'''
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: a.py:1
msgid "Dashboard"
msgstr "Dasbor"

#: a.py:2
msgid "Untranslated"
msgstr ""

#: a.py:3
#, fuzzy
msgid "Agreements"
msgstr "Perjanjian"

#: a.py:4
#, python-format
msgid "%(count)s agreement"
msgid_plural "%(count)s agreements"
msgstr[0] "%(jumlah)s perjanjian"

#: a.py:5
msgid ""
"A long "
"message"
msgstr ""
"Pesan "
"panjang"

#: a.py:6
#, python-format
msgid "%(count)s region"
msgid_plural "%(count)s regions"
msgstr[0] ""

#~ msgid "Old"
#~ msgstr ""
'''


def test_the_check_lists_untranslated_fuzzy_and_broken_placeholder_entries():
    entries = check_catalogue.parse_po(PO_WITH_PROBLEMS)
    by_id = {entry.msgid: entry for entry in entries}
    assert by_id["A long message"].msgstr == {0: "Pesan panjang"}
    assert by_id["%(count)s agreement"].msgid_plural == "%(count)s agreements"
    assert "Old" not in by_id  # obsolete entries are not entries

    problems = check_catalogue.check_entries(entries)
    assert len(problems) == 4, problems
    assert any(p.startswith("untranslated") and "'Untranslated'" in p for p in problems)
    assert any(p.startswith("fuzzy") and "'Agreements'" in p for p in problems)
    assert any(p.startswith("placeholders") and "%(count)s agreement" in p for p in problems)
    assert any(p.startswith("untranslated") and "%(count)s region" in p for p in problems)


def test_the_check_accepts_a_complete_catalogue():
    entries = check_catalogue.parse_po('msgid ""\nmsgstr "Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
                                       '#, python-format\nmsgid "%(n)s day"\nmsgid_plural "%(n)s days"\n'
                                       'msgstr[0] "%(n)s hari"\n\nmsgid "Log in"\nmsgstr "Masuk"\n')
    assert check_catalogue.check_entries(entries) == []


def test_the_repository_catalogue_is_complete_and_compiled():
    """Without running makemessages: the committed .po has no gap and the committed .mo matches it."""
    entries = check_catalogue.parse_po(check_catalogue.PO.read_text(encoding="utf-8"))
    assert len(entries) > 500
    assert check_catalogue.check_entries(entries) == []
    assert check_catalogue.check_mo(entries) == []


def test_the_check_fails_on_a_string_missing_from_the_catalogue(tmp_path):
    """A new {% trans %} in a template, not yet extracted: the check (run on a copy of the project) exits 1."""
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*check_catalogue.NOT_COPIED))
    (copy / "templates" / "i18n_check_probe.html").write_text(
        '{% load i18n %}<p>{% trans "A sentence nobody translated yet" %}</p>\n', encoding="utf-8"
    )
    result = subprocess.run([sys.executable, "scripts/check_catalogue.py"], capture_output=True, text=True, cwd=copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "new msgid    'A sentence nobody translated yet'" in result.stdout


def test_the_check_finds_a_mo_that_was_not_recompiled(tmp_path, monkeypatch):
    entries = check_catalogue.parse_po(check_catalogue.PO.read_text(encoding="utf-8"))
    changed = next(entry for entry in entries if entry.msgid == "Log in")
    changed.msgstr = {0: "Log masuk"}  # the .po edited, the .mo not recompiled
    assert check_catalogue.check_mo(entries)[0].startswith("stale .mo")
    monkeypatch.setattr(check_catalogue, "MO", tmp_path / "django.mo")
    assert "missing" in check_catalogue.check_mo(entries)[0]
