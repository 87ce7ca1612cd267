"""The read replica: heavy reads (reports, exports, the API's lists) go to the "replica" database, never a read that
must see the request's own write.

``ReplicaReadsMiddleware`` opens a request-scoped state for every request and turns replica reads on only for a GET
or HEAD to one of ``REPLICA_VIEWS``, when ``settings.READ_REPLICA`` is on (``DATABASE_REPLICA_URL`` set), and not
within ``REPLICA_PIN_SECONDS`` of a write by the same browser (the ``PIN_COOKIE``: a replica lags behind the
primary, and the user who has just saved expects to see it in the export).

``ReplicaRouter`` then sends the reads of the register's models to "replica" until the request writes anything that
is not bookkeeping (a session, a throttle counter, a token's last use); from that write on, every read of the
request goes to "default". A write is an INSERT, UPDATE or DELETE actually sent to "default" (seen by an execute
wrapper on its connections), not a ``get_or_create`` that found its row. Accounts, sessions, tokens, throttle
counters, import jobs and the task queue are always read from "default": a revoked token or a deactivated user must
take effect at once. Every write goes to "default", also that of an object read from the replica.
"""

import contextvars
import re
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.core.signals import request_finished
from django.db import connections
from django.db.backends.signals import connection_created

PRIMARY, REPLICA = "default", "replica"
PIN_COOKIE = "kerjasama_primary"

# URL names (``app:name`` inside a namespace) whose GET or HEAD reads from the replica.
REPLICA_VIEWS = frozenset({
    "report-index", "report-detail",  # periodic reports
    "agreement-export", "agreement-workbook", "agreement-party-export",  # exports of the register
    "public-csv", "public-json",  # open data files
    "api:agreement-list", "api:region-list", "api:affair-list", "api:needoffer-list", "api:stalled",  # API lists
})

# Always read from the primary: who the user is and what they may do, and the state of their own jobs.
PRIMARY_ONLY_APPS = frozenset({"auth", "sessions", "admin", "contenttypes", "axes", "django_tasks_database"})
PRIMARY_ONLY_MODELS = frozenset({"agreements.user", "agreements.apitoken", "agreements.throttlehit",
                                 "agreements.importjob", "agreements.periodicrun", "agreements.sentdigest"})
# Writes that do not change what the heavy reads show, so they do not move the request's reads to the primary.
BOOKKEEPING = PRIMARY_ONLY_MODELS - {"agreements.importjob"}


@dataclass
class ReadState:
    replica: bool = False  # this request's heavy reads may go to the replica
    wrote: bool = False  # this request wrote something that is not bookkeeping
    replica_queries: int = 0  # reads sent to the replica (tests and logs)


_state: contextvars.ContextVar[ReadState | None] = contextvars.ContextVar("kerjasama_read_state", default=None)


def current() -> ReadState | None:
    return _state.get()


def reads_replica() -> bool:
    """Whether this request's reads of the register go to the replica now (``datacache`` keeps what they computed
    apart: a replica lags behind the primary)."""
    state = _state.get()
    return bool(state is not None and state.replica and not state.wrote and getattr(settings, "READ_REPLICA", False))


def begin(*, replica: bool) -> ReadState:
    """Start a request's state (the middleware; tests). Replaces whatever an earlier request on this thread left."""
    state = ReadState(replica=replica)
    _state.set(state)
    _watch(None, connections[PRIMARY])  # this thread's connection, if it was opened before this module was loaded
    return state


def end(**kwargs) -> None:
    """When the response is closed (after a streamed export's last row): nothing more goes to the replica."""
    _state.set(None)


request_finished.connect(end, dispatch_uid="kerjasama.db_routers.end")


def _label(model) -> str:
    return model._meta.label_lower


def _primary_only(model) -> bool:
    return model._meta.app_label in PRIMARY_ONLY_APPS or _label(model) in PRIMARY_ONLY_MODELS


@cache
def _bookkeeping_tables() -> frozenset[str]:
    return frozenset(model._meta.db_table.lower() for model in apps.get_models()
                     if _label(model) in BOOKKEEPING or model._meta.app_label in ("sessions", "axes"))


WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?(\w+)', re.IGNORECASE)


def _watch_writes(execute, sql, params, many, context):
    """An execute wrapper on "default": a write to anything but bookkeeping sends the request's reads to "default"."""
    state = _state.get()
    if state is not None and not state.wrote and (match := WRITE.match(sql if isinstance(sql, str) else str(sql))) \
            and match.group(1).lower() not in _bookkeeping_tables():
        state.wrote = True
    return execute(sql, params, many, context)


def _watch(sender, connection, **kwargs):
    if connection.alias == PRIMARY and _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


connection_created.connect(_watch, dispatch_uid="kerjasama.db_routers.watch")


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        state = _state.get()
        if (state is None or not state.replica or state.wrote or not getattr(settings, "READ_REPLICA", False)
                or _primary_only(model)):
            return PRIMARY
        state.replica_queries += 1
        return REPLICA

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db in (PRIMARY, REPLICA) and obj2._state.db in (PRIMARY, REPLICA) or None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None


class ReplicaReadsMiddleware:
    """Decides per request whether its heavy reads may go to the replica; pins a browser that wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = begin(replica=False)
        response = self.get_response(request)
        if state.wrote and getattr(settings, "READ_REPLICA", False):
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(PIN_COOKIE, "1", max_age=seconds, httponly=True, samesite="Lax",
                                secure=settings.SESSION_COOKIE_SECURE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        state = _state.get()
        match = request.resolver_match
        if (state is not None and getattr(settings, "READ_REPLICA", False) and request.method in ("GET", "HEAD")
                and match is not None and match.view_name in REPLICA_VIEWS and PIN_COOKIE not in request.COOKIES):
            state.replica = True
        return None
