"""Request-level safety nets: security headers, one log line per request, a friendly 503 when the DB is down,
hostile requests refused at the door (unknown methods, NUL characters) and no caching of signed-in pages."""

import logging
import re
import time

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject

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


# --- Hostile requests: refused before any view or query runs ------------------------------------------------------

# Every method a view here answers or refuses itself (405 from require_http_methods, the login redirect...). Any
# other (TRACE, CONNECT, TRACK, made-up ones) is answered 405 before anything else runs.
ALLOWED_METHODS = ("GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE")
NUL = "\x00"


class AllowedMethodsMiddleware:
    """405 Method Not Allowed for any method outside ``ALLOWED_METHODS``, before sessions, users or views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ALLOWED_METHODS:
            return HttpResponseNotAllowed(ALLOWED_METHODS)
        return self.get_response(request)


# --- Request bodies ----------------------------------------------------------------------------------------------

MB = 1024 * 1024


def body_limit(max_bytes: int):
    """Declare how large a request body a view accepts (its uploads plus the form); ``RequestSizeMiddleware``
    refuses a larger one before a byte of it is read. Put it above the other decorators."""

    def decorate(view):
        view.max_request_bytes = max_bytes
        return view

    return decorate


def request_limit(request) -> int:
    """The body size the route accepts: its view's ``body_limit``, the admin's largest upload (a 20 MB scan),
    or ``REQUEST_MAX_BYTES`` for every other page (forms without files)."""
    if request.path_info.startswith("/admin/"):
        return settings.ADMIN_REQUEST_MAX_BYTES
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return settings.REQUEST_MAX_BYTES
    return getattr(match.func, "max_request_bytes", settings.REQUEST_MAX_BYTES)


class RequestSizeMiddleware:
    """413 Payload Too Large when the declared ``Content-Length`` is over what the route accepts, before the body
    is read (without a proxy in front, a 300 MB upload was received into a temporary file before the form
    refused it). A proxy in front refuses even earlier (nginx ``client_max_body_size``, docs/deploy.md)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        limit = request_limit(request)
        if length > limit:
            body = loader.get_template("413.html").render({"limit_mb": max(1, limit // MB)})
            return HttpResponse(body, status=413)
        return self.get_response(request)


def _contains_nul(request) -> bool:
    """A NUL character in the path, a query parameter, a form field, an uploaded file's name, a cookie or a header.

    Uploaded files' contents are never read here (a scan may well contain NUL bytes).
    """
    if NUL in request.path_info or NUL in request.path:
        return True
    for key, values in request.GET.lists():
        if NUL in key or any(NUL in value for value in values):
            return True
    for key, value in request.COOKIES.items():
        if NUL in key or NUL in value:
            return True
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            return True
    if request.method == "POST":
        try:
            post, files = request.POST, request.FILES
        except (MultiPartParserError, OSError) as exc:
            raise BadRequest("unreadable form data") from exc
        for key, values in post.lists():
            if NUL in key or any(NUL in value for value in values):
                return True
        for key, uploads in files.lists():
            if NUL in key or any(NUL in (upload.name or "") for upload in uploads):
                return True
    return False


class RejectNulMiddleware:
    """400 Bad Request for a request with a NUL character (U+0000) anywhere a view could read it.

    No legitimate request carries one, and PostgreSQL refuses NUL in any string ("A string literal cannot contain
    NUL (0x00) characters", a ValueError of the driver, i.e. a 500), so every door is closed here, once: paths
    (``/regions/%00/``), query strings (``?q=%00``), form fields, file names, cookies (a session key) and headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _contains_nul(request):
            # Django's 400 handling: the django.security log and the 400 page, no traceback.
            raise BadRequest("NUL character in the request")
        return self.get_response(request)


# --- Caching ----------------------------------------------------------------------------------------------------


def _signed_in(request) -> bool:
    """Whether the request's user is signed in, without a query for a request that has no session at all."""
    user = getattr(request, "user", None)
    if user is None:
        return False
    not_loaded = isinstance(user, SimpleLazyObject) and not hasattr(request, "_cached_user")
    if not_loaded and settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False  # no session cookie: anonymous for sure
    return user.is_authenticated


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user (pages, downloads, exports).

    What a signed-in user sees depends on who they are (their region's agreements, documents, exports): no
    browser cache, shared computer or proxy may keep it. A response that already says ``no-store`` (the 503 page,
    ``never_cache`` views) is left as it is. Static files never get here: whitenoise serves them before.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", "") and _signed_in(request):
            patch_cache_control(response, private=True, no_store=True)
        return response
