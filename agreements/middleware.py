"""Request-level safety nets: security headers, one log line per request, a friendly 503 when the DB is down."""

import logging
import re
import time

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)

request_logger = logging.getLogger("kerjasama.request")

# Password-reset links carry a one-time token in the path: log the route, not the token.
_SECRET_PATH = re.compile(r"^(/accounts/reset/)[^/]+/[^/]+/")
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with no inline script and no external source."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def loggable_path(path: str) -> str:
    """The request path without secrets (reset tokens). Query strings are never logged at all."""
    return _SECRET_PATH.sub(r"\1<token>/", path)


class RequestLogMiddleware:
    """One line per request: method, path, status, duration, user id and client address.

    Deliberately left out: query strings and bodies (passwords, file contents), cookies and headers (session
    ids, CSRF tokens), user names. Errors get their own line with a traceback from ``django.request``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        # Only read the user if something already loaded it: the log line must not cost a database query.
        user = getattr(request, "_cached_user", None)
        user_id = getattr(user, "pk", None) or "-"
        request_logger.info(
            "%s %s %s %dms user=%s ip=%s",
            request.method,
            loggable_path(request.path),
            response.status_code,
            (time.monotonic() - started) * 1000,
            user_id,
            request.META.get("REMOTE_ADDR", "-"),
        )
        return response


def database_unavailable_response(request=None) -> HttpResponse:
    """The friendly 503 page, rendered without touching the database (no user, no session, no messages)."""
    body = loader.get_template("503.html").render({})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is down or restarting, a view's query fails: answer 503 with a friendly page, not a 500.

    Django re-opens the connection on the next request (``CONN_HEALTH_CHECKS``), so the same running server
    serves again once the database is back. Errors outside views are caught by ``handler500``
    (``agreements.views.health.server_error``), which applies the same rule.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN_ERRORS):
            request_logger.error("database unavailable: %s", type(exception).__name__)
            return database_unavailable_response(request)
        return None
