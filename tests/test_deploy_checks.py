"""Start-up and deployment checks: `make serve` refuses a weak deployment, boolean variables
are booleans, SITE_URL is required with DEBUG off."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from agreements import checks
from kerjasama import settings as project_settings

BASE_DIR = Path(__file__).resolve().parent.parent
STRONG_KEY = "test-only-Zq8!uP3@xV7#rT1$wM5%yN9^bL2&cH6*kerjasama-deploy-check"  # 50+ characters, varied
# Production behind nginx (docs/deploy.md, section 3).
BEHIND_PROXY = {
    "DEBUG": "0",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "kerjasama.kemendagri.go.id",
    "DATABASE_URL": "postgres://kerjasama@127.0.0.1:5432/kerjasama",
    "SITE_URL": "https://kerjasama.kemendagri.go.id",
    "CSRF_TRUSTED_ORIGINS": "https://kerjasama.kemendagri.go.id",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_PROXY_SSL_HEADER": "1",
}


def _run(env_overrides: dict, *args) -> subprocess.CompletedProcess:
    """Python in a clean production-like environment (no switches inherited from this shell)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "DJANGO_", "SITE_URL", "DEBUG", "SECRET_KEY"))}
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def production(settings):
    """The test settings turned into a correct production configuration: `check --deploy` reports nothing."""
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG_KEY
    settings.ALLOWED_HOSTS = ["kerjasama.kemendagri.go.id"]
    settings.SITE_URL = "https://kerjasama.kemendagri.go.id"
    settings.SITE_URL_FROM_ENV = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
    return settings


def _deploy_check():
    call_command("check", deploy=True, fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())


# --- 4. make serve fails on any deploy warning but the expected ones -----------------------------------------------


def test_make_serve_runs_the_deploy_check_with_warnings_fatal():
    makefile = (BASE_DIR / "Makefile").read_text()
    recipe = re.search(r"^serve:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    lines = [line.strip() for line in recipe.splitlines()]
    check = next(i for i, line in enumerate(lines) if "manage.py check" in line)
    assert "--deploy --fail-level WARNING" in lines[check]
    assert check < next(i for i, line in enumerate(lines) if "gunicorn" in line)  # before the server starts


def test_a_correct_production_configuration_passes_the_deploy_check(production):
    _deploy_check()


def test_a_weak_secret_key_is_fatal(production):
    production.SECRET_KEY = "dev-only-insecure-key-kerjasama"
    with pytest.raises(SystemCheckError, match=r"security\.W009"):
        _deploy_check()


def test_behind_a_tls_proxy_w008_is_expected_and_nothing_else_is_reported():
    result = _run(BEHIND_PROXY, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (3 silenced)." in result.stdout + result.stderr


def test_without_the_proxy_header_an_https_redirect_switched_off_is_fatal():
    env = {**BEHIND_PROXY, "SECURE_PROXY_SSL_HEADER": "0"}
    result = _run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stderr


def test_behind_a_proxy_a_weak_secret_key_is_still_fatal():
    result = _run({**BEHIND_PROXY, "SECRET_KEY": "short-key"}, "manage.py", "check", "--deploy", "--fail-level",
                  "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stderr


# --- 5. Boolean environment variables --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("Yes", True), ("on", True), (" On ", True),
     ("0", False), ("false", False), ("False", False), ("NO", False), ("off", False),
     ("", "default"), ("  ", "default"), (None, "default")],
)
def test_env_bool_accepts_the_usual_words_in_any_case(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("KERJASAMA_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("KERJASAMA_TEST_FLAG", value)
    for default in (True, False):
        want = default if expected == "default" else expected
        assert project_settings.env_bool("KERJASAMA_TEST_FLAG", default) is want


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y", "nope", "1.0"])
def test_env_bool_refuses_anything_else_naming_the_variable_and_value(monkeypatch, value):
    monkeypatch.setenv("KERJASAMA_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match=f"KERJASAMA_TEST_FLAG must be a boolean .*not '{value}'"):
        project_settings.env_bool("KERJASAMA_TEST_FLAG", True)


def test_a_mistyped_boolean_stops_start_up_with_a_clear_error():
    result = _run({**BEHIND_PROXY, "SECURE_SSL_REDIRECT": "ture"}, "manage.py", "check")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be a boolean" in result.stderr
    assert "'ture'" in result.stderr


def test_a_mistyped_number_stops_start_up_with_a_clear_error():
    result = _run({**BEHIND_PROXY, "SECURE_HSTS_SECONDS": "one year"}, "manage.py", "check")
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS must be a whole number, not 'one year'" in result.stderr


# --- 6. SITE_URL ------------------------------------------------------------------------------------------------


def test_a_missing_site_url_with_debug_off_is_a_deploy_error(production):
    production.SITE_URL_FROM_ENV = False
    production.SITE_URL = "http://127.0.0.1:8000"
    errors = checks.site_url_check(None)
    assert [e.id for e in errors] == ["kerjasama.E001"]
    assert errors[0].is_serious()
    with pytest.raises(SystemCheckError, match=r"kerjasama\.E001"):
        _deploy_check()


def test_a_site_url_that_is_not_an_absolute_address_is_a_deploy_error(production):
    production.SITE_URL = "kerjasama.kemendagri.go.id"
    assert [e.id for e in checks.site_url_check(None)] == ["kerjasama.E002"]


def test_site_url_is_not_required_with_debug_on(settings):
    settings.DEBUG = True
    settings.SITE_URL_FROM_ENV = False
    assert checks.site_url_check(None) == []


def test_without_site_url_commands_still_run_and_only_the_deploy_check_fails():
    env = {k: v for k, v in BEHIND_PROXY.items() if k != "SITE_URL"}
    plain = _run(env, "manage.py", "check")
    assert plain.returncode == 0, plain.stderr
    deploy = _run(env, "manage.py", "check", "--deploy")
    assert deploy.returncode != 0
    assert "kerjasama.E001" in deploy.stderr and "SITE_URL is not set" in deploy.stderr


def test_site_url_is_read_from_the_environment():
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SITE_URL, s.SITE_URL_FROM_ENV)"
    with_url = _run({**BEHIND_PROXY, "SITE_URL": "https://kerjasama.kemendagri.go.id/", "DJANGO_SETTINGS_MODULE":
                     "kerjasama.settings"}, "-c", code)
    assert with_url.stdout.split() == ["https://kerjasama.kemendagri.go.id", "True"], with_url.stderr
    without = _run({"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "kerjasama.settings"}, "-c", code)
    assert without.stdout.split() == ["http://127.0.0.1:8000", "False"], without.stderr
