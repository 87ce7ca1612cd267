"""Figures kept in Django's cache, keyed by a data version that every write changes.

The dashboard's figures cost a few hundred milliseconds of aggregates at national scale and are asked far more often
than the register changes. ``cached(name, parts, build)`` keeps what ``build()`` returns under a key made of the data
version and ``parts`` (who is asking, the filters, the as-of date, the thresholds, the language: everything the
figures depend on besides the data). Every write to a model of this app changes the version once its transaction
commits (``bump_on_commit``, connected in ``agreements.signals``), as do the bulk paths through
``stalls.refresh_facts``; a new day is a new as-of date, so a new key. Entries also expire after ``TIMEOUT`` seconds,
which bounds what an unforeseen raw write could leave stale.

The cache is Django's (``CACHE_URL``): this process's memory on the embedded default, Redis shared by every
server in production, so that a write on one server is seen by the others. ``RELEASE`` (the environment, for example
the commit deployed) is part of every key, so that servers of two releases never share rendered pages.

A request whose reads go to the read replica (``kerjasama.db_routers``) keeps what it computed under keys of its own,
for ``REPLICA_TIMEOUT`` seconds only: the replica lags behind the primary, so what it gave just after a write may
predate that write, and must never be served to a reader of the primary (the writer, pinned to it, sees its write).
"""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe

from kerjasama import db_routers

# Sorted after the "figures:" keys: the database cache, when full, removes the keys that sort first.
VERSION_KEY = "version:data"
TIMEOUT = 600
REPLICA_TIMEOUT = 30


def version() -> str:
    """The current data version (created on first use)."""
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        value = cache.get(VERSION_KEY)
    return value


def bump() -> None:
    """A new data version: every cached figure is recomputed on its next read."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def _pending(connection) -> bool:
    return any(func is bump for _sids, func, _robust in connection.run_on_commit)


def bump_on_commit() -> None:
    """``bump`` when the current transaction commits (at once outside one), once per transaction: a page that reads
    between the write and the commit caches the old data under the old version, never under the new one."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and _pending(connection):
        return
    transaction.on_commit(bump)


def key(name: str, parts) -> str:
    digest = hashlib.sha256(repr((settings.RELEASE, parts)).encode()).hexdigest()[:32]
    return f"figures:{name}:{version()}:{digest}"


def cached(name: str, parts, build):
    """What ``build()`` returns, from the cache when this version and ``parts`` were computed before. Inside a
    transaction that has written (its version change still pending), ``build()`` itself: that transaction sees its
    own writes, which nobody else does yet."""
    if _pending(transaction.get_connection()):
        return build()
    if db_routers.reads_replica():
        return cache.get_or_set(key(name, parts) + ":replica", build, REPLICA_TIMEOUT)
    return cache.get_or_set(key(name, parts), build, TIMEOUT)


def rendered(name: str, parts, template: str, context, *, request=None) -> tuple[SafeString, dict]:
    """``template`` rendered with ``context()`` and kept like ``cached`` (``parts``: everything the HTML depends on
    besides the data), and that context when this call rendered it (empty from the cache: tests read it).

    The template reads no request: only its context. With ``request``, its forms' CSRF token is that request's own:
    rendered with an unguessable placeholder (new each time, kept with the HTML), which each request replaces with its
    token, as ``{% csrf_token %}`` would have written it (and its cookie)."""
    built = {}

    def render() -> dict:
        built.update(context())
        placeholder = secrets.token_hex(16) if request is not None else ""
        extra = {"csrf_token": placeholder} if placeholder else {}
        return {"html": render_to_string(template, {**built, **extra}), "csrf": placeholder}

    page = cached(name, parts, render)
    html = page["html"]
    if page["csrf"] and page["csrf"] in html:
        html = html.replace(page["csrf"], get_token(request))
    return mark_safe(html), built  # rendered by our own template from escaped values


def ids(queryset: QuerySet) -> list:
    """The primary keys ``queryset`` gives, in its order, cached per data version and query (a list page's slice:
    finding which 50 agreements a search or a filter puts on the page reads far more rows than showing them)."""
    values = queryset.values_list("pk", flat=True)
    try:
        sql, params = values.query.sql_with_params()
    except EmptyResultSet:  # ``none()``
        return []
    return cached("ids", (sql, params, queryset.db), lambda: list(values))


class CountCachedPaginator(Paginator):
    """Django's paginator whose total (a ``COUNT(*)`` over every agreement the filters match, the costliest query of a
    list page at national scale) is cached per data version and query: the SQL names the filters and the reader's
    scope, so two users share a count only when they count the same rows."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        try:
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:  # ``none()``: nothing to count, no query
            return 0
        return cached("count", (sql, params, queryset.db), queryset.count)
