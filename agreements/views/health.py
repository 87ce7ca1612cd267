"""Liveness of the app and its database, and the last-resort error handler.

Both answer without a login and without exposing data, and neither needs the database to render.
"""

import sys

from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache

from ..middleware import DATABASE_DOWN_ERRORS, database_unavailable_response


def database_answers(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True when a trivial query on the database ``using`` succeeds."""
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # Django drops the broken connection when the request ends; the next request opens a fresh one.
        return False
    return True


@never_cache
def healthz(request, using: str = DEFAULT_DB_ALIAS):
    """200 when the database answers, 503 when it does not. No login, no data."""
    if database_answers(using):
        return JsonResponse({"status": "ok", "database": "up"})
    return JsonResponse({"status": "unavailable", "database": "down"}, status=503)


def server_error(request):
    """handler500: the friendly 503 when the cause is an unreachable database, else the plain 500 page.

    Reached for errors outside a view (e.g. saving the session after the database went away), which
    ``DatabaseUnavailableMiddleware.process_exception`` never sees. Renders without a request context so
    that it cannot trigger a query.
    """
    if isinstance(sys.exc_info()[1], DATABASE_DOWN_ERRORS):
        return database_unavailable_response(request)
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the served icon."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("favicon.svg"))
