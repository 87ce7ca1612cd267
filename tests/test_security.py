"""Production security: deploy checks, headers, sessions, admin access, logs, deletion guards, double submits."""

import datetime
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.test import RequestFactory

from agreements import idempotency
from agreements.middleware import loggable_path
from agreements.models import Document, GovernmentAffair, Region
from tests.factories import PASSWORD, AgreementFactory, MilestoneFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "test-only-Zq8!uP3@xV7#rT1$wM5%yN9^bL2&cH6*kerjasama-deploy-check",  # 50+ characters
    "ALLOWED_HOSTS": "kerjasama.kemendagri.go.id",
    "DATABASE_URL": "postgres://kerjasama@127.0.0.1:5432/kerjasama",
    "SITE_URL": "https://kerjasama.kemendagri.go.id",
}


def _production(extra=None, *args):
    """Run Python with the production environment (and only it: no DEBUG, no switches from this shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "DJANGO_"))}
    env.update(PRODUCTION_ENV, **(extra or {}))
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _production_settings(extra=None) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({k: getattr(s, k,"
        " None) for k in ['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT',"
        " 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'STORAGES']}))"
    )
    result = _production({"DJANGO_SETTINGS_MODULE": "kerjasama.settings", **(extra or {})}, "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Deploy checks and production defaults -------------------------------------------------------------------


def test_check_deploy_reports_nothing_in_production():
    result = _production(None, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues (2 silenced)." in output
    assert "WARNINGS" not in output


def test_production_refuses_to_start_without_secret_key():
    result = _production({"SECRET_KEY": ""}, "manage.py", "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_https_hsts_and_secure_cookies_are_on_by_default_in_production():
    values = _production_settings()
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert "CompressedManifest" in values["STORAGES"]["staticfiles"]["BACKEND"]


def test_behind_a_tls_terminating_proxy_the_switches_work():
    values = _production_settings({"SECURE_SSL_REDIRECT": "0", "SECURE_PROXY_SSL_HEADER": "1", "SECURE_HSTS_SECONDS": "0"})
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- Response headers ------------------------------------------------------------------------------------------


def test_security_headers_on_every_page(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in csp
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_have_no_inline_script(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"\son[a-z]+=", html) is None


def test_hsts_and_https_redirect_when_switched_on(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


def test_session_cookie_is_http_only_and_secure_when_set(client, db, settings):
    settings.SESSION_COOKIE_SECURE = True
    user = UserFactory(username="rina")
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["max-age"] == 8 * 60 * 60


# --- Sessions, passwords, admin ------------------------------------------------------------------------------------


def test_sessions_expire_after_eight_hours():
    assert django_settings.SESSION_COOKIE_AGE == 8 * 60 * 60


@pytest.mark.parametrize("weak", ["12345678", "password", "kerja"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "is_staff", "status"),
    [("admin", True, 200), ("admin", False, 302), ("ministry", True, 302), ("ministry", False, 302)],
)
def test_admin_only_for_administrators(client, role, is_staff, status):
    user = UserFactory(role=role, is_staff=is_staff)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/")


# --- Logs ------------------------------------------------------------------------------------------------------------


def test_one_log_line_per_request_without_secrets(client, db, caplog):
    user = UserFactory(username="rina")
    with caplog.at_level(logging.INFO, logger="kerjasama.request"):
        client.post("/accounts/login/?next=/secret-query/", {"username": "rina", "password": PASSWORD})
        client.get("/healthz?token=abc")
    lines = [r.getMessage() for r in caplog.records if r.name == "kerjasama.request"]
    assert len(lines) == 2
    assert lines[0].startswith("POST /accounts/login/ 302 ")
    assert lines[1].startswith("GET /healthz 200 ")
    session_id = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    text = "\n".join(lines)
    for secret in (PASSWORD, session_id, "secret-query", "token=abc", "rina"):
        assert secret not in text
    assert f"user={user.pk}" in lines[0] or "user=-" in lines[0]


def test_reset_tokens_are_not_logged():
    assert loggable_path("/accounts/reset/MQ/c4x-0123abcd/") == "/accounts/reset/<token>/"
    assert loggable_path("/agreements/12/") == "/agreements/12/"


def test_log_goes_to_stdout():
    handler = django_settings.LOGGING["handlers"]["console"]
    assert handler["stream"] == "ext://sys.stdout"


# --- Error pages: friendly and without database queries ----------------------------------------------------------


def test_404_page_is_friendly_and_needs_no_query(client, db, settings, django_assert_num_queries):
    settings.DEBUG = False
    with django_assert_num_queries(0):
        response = client.get("/not-a-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert response["Content-Security-Policy"]


# --- Deletion guards ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_agreement_without_milestones_or_documents_can_be_deleted():
    assert AgreementFactory().can_be_deleted() is True


@pytest.mark.django_db
def test_agreement_with_a_milestone_cannot_be_deleted():
    milestone = MilestoneFactory()
    assert milestone.agreement.can_be_deleted() is False


@pytest.mark.django_db
def test_agreement_with_a_document_cannot_be_deleted():
    agreement = AgreementFactory()
    Document.objects.create(agreement=agreement, file="documents/scan.pdf", dated_on=datetime.date(2024, 1, 15))
    assert agreement.can_be_deleted() is False


@pytest.mark.django_db
def test_a_region_that_is_a_party_cannot_be_deleted():
    AgreementFactory(regions=["32.73", "32.04"])
    with pytest.raises(ProtectedError):
        Region.objects.get(code="32.73").delete()
    assert Region.objects.filter(code="32.73").exists()


@pytest.mark.django_db
def test_a_province_with_kabupaten_cannot_be_deleted():
    with pytest.raises(ProtectedError):
        Region.objects.get(code="32").delete()


@pytest.mark.django_db
def test_an_affair_in_use_cannot_be_deleted():
    AgreementFactory(affairs=["3.26"])
    assert GovernmentAffair.objects.get(code="3.26").can_be_deleted() is False
    assert GovernmentAffair.objects.get(code="3.32").can_be_deleted() is True


# --- Double submit -----------------------------------------------------------------------------------------------


def _request_with_session(method="get", data=None, session_key=None):
    request = getattr(RequestFactory(), method)("/form/", data or {})
    if session_key:
        request.COOKIES[django_settings.SESSION_COOKIE_NAME] = session_key
    SessionMiddleware(lambda r: None).process_request(request)
    return request


@pytest.mark.django_db
def test_a_form_token_can_be_claimed_only_once():
    first = _request_with_session()
    token = idempotency.issue_form_token(first)
    first.session.save()
    key = first.session.session_key

    submit = _request_with_session("post", {idempotency.FORM_TOKEN_FIELD: token}, key)
    assert idempotency.claim_form_token(submit) is True
    resubmit = _request_with_session("post", {idempotency.FORM_TOKEN_FIELD: token}, key)
    assert idempotency.claim_form_token(resubmit) is False


@pytest.mark.django_db
def test_a_parallel_submission_that_loaded_the_session_earlier_is_still_refused():
    """Both requests read the session before either claims: the claim re-reads the stored row."""
    first = _request_with_session()
    token = idempotency.issue_form_token(first)
    first.session.save()
    key = first.session.session_key
    a = _request_with_session("post", {idempotency.FORM_TOKEN_FIELD: token}, key)
    b = _request_with_session("post", {idempotency.FORM_TOKEN_FIELD: token}, key)
    assert token in a.session[idempotency.SESSION_KEY] and token in b.session[idempotency.SESSION_KEY]
    assert idempotency.claim_form_token(a) is True
    assert idempotency.claim_form_token(b) is False


@pytest.mark.django_db
def test_missing_or_unknown_tokens_are_refused_and_invalid_forms_keep_their_token():
    request = _request_with_session()
    token = idempotency.issue_form_token(request)
    request.session.save()
    key = request.session.session_key
    assert idempotency.claim_form_token(_request_with_session("post", {}, key)) is False
    assert idempotency.claim_form_token(_request_with_session("post", {"form_token": "forged"}, key)) is False
    # A form re-shown with errors hands back the same, still unclaimed token.
    again = _request_with_session("post", {"form_token": token}, key)
    assert idempotency.issue_form_token(again) == token


@pytest.mark.django_db
def test_pending_tokens_are_bounded():
    request = _request_with_session()
    tokens = [idempotency.issue_form_token(request) for _ in range(idempotency.MAX_PENDING_TOKENS + 5)]
    pending = request.session[idempotency.SESSION_KEY]
    assert len(pending) == idempotency.MAX_PENDING_TOKENS
    assert pending[-1] == tokens[-1] and tokens[0] not in pending
