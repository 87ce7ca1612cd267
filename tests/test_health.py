"""/healthz and the friendly 503 page while the database is unreachable.

"Unreachable" is real, not mocked: a second connection alias points at a closed TCP port (PostgreSQL) or at a
file in a folder that does not exist (SQLite), so every query on it raises the driver's OperationalError.
"""

import copy
import socket
import sys

import pytest
from django.db import OperationalError, connection, connections
from django.db.utils import load_backend
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import include, path

from agreements.views import health

DOWN = "down"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_alias():
    """A connection alias whose database does not answer."""
    cfg = copy.deepcopy(connections["default"].settings_dict)
    if connection.vendor == "postgresql":
        cfg.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        cfg["OPTIONS"] = {**cfg.get("OPTIONS", {}), "connect_timeout": 2}
    else:
        cfg["NAME"] = "/nonexistent-kerjasama-dir/db.sqlite3"
    wrapper = load_backend(cfg["ENGINE"]).DatabaseWrapper(cfg, alias=DOWN)
    connections[DOWN] = wrapper
    yield DOWN
    wrapper.close()
    del connections[DOWN]


def _query_the_down_database(request):
    with connections[DOWN].cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("unreachable")


# Used as ROOT_URLCONF by the end-to-end tests below: a page whose query fails as during a restart.
urlpatterns = [
    path("needs-db/", _query_the_down_database),
    path("", include("kerjasama.urls")),
]


def test_healthz_200_with_small_json_no_login(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_not_redirected_to_https(client, db, settings):
    """Local probes ask over plain HTTP even when the rest of the site redirects to HTTPS."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_healthz_503_when_the_database_does_not_answer(db, down_alias):
    response = health.healthz(RequestFactory().get("/healthz"), using=down_alias)
    assert response.status_code == 503
    assert b'"database": "down"' in response.content


def test_database_answers(db, down_alias):
    assert health.database_answers() is True
    assert health.database_answers(down_alias) is False


def test_unreachable_database_gives_friendly_bilingual_503_page(client, db, down_alias, settings,
                                                               django_assert_num_queries):
    settings.ROOT_URLCONF = "tests.test_health"
    settings.DEBUG = False
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    with django_assert_num_queries(0):
        response = client.get("/needs-db/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert '<div lang="en" class="other-language">' in html
    assert "Please try again in a few minutes." in html
    assert "Traceback" not in html


def test_503_page_in_english_also_offers_indonesian(client, db, down_alias, settings):
    settings.ROOT_URLCONF = "tests.test_health"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/needs-db/")
    assert response.status_code == 503
    assert '<div lang="id" class="other-language">' in response.content.decode()


def test_handler500_turns_a_database_error_outside_views_into_503(db, down_alias):
    request = RequestFactory().get("/")
    try:
        connections[down_alias].ensure_connection()
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = health.server_error(request)
    assert response.status_code == 503
    assert b"other-language" in response.content


def test_handler500_other_errors_stay_500(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    try:
        raise ValueError("boom")
    except ValueError:
        with django_assert_num_queries(0):
            response = health.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"boom" not in response.content


def test_other_errors_are_not_turned_into_503(client, db, settings):
    """Only an unreachable database is a 503; a programming error stays a 500 for the error log."""
    from agreements.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None
