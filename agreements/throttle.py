"""Counters that every worker and server sees: rows in the database (``ThrottleHit``), like django-axes' attempts.

Used by the account pages: password-reset requests per client address and reset mails per e-mail address
(``views.accounts``). Keys are HMACs of the address with SECRET_KEY, so the table holds no e-mail address
nor IP address; rows older than the window are deleted as new ones come.
"""

import datetime
import hashlib
import hmac

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import ThrottleHit


def _key(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _lock(scope: str, key: str) -> None:
    """Serialise the count-then-insert of one (scope, key) across workers: a transaction-scoped advisory lock on
    PostgreSQL (a burst of parallel requests once let 14 of 20 through a limit of 5). SQLite has one writer."""
    if connection.vendor == "postgresql":
        number = int.from_bytes(hashlib.sha256(f"{scope}:{key}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def allow(scope: str, value: str, *, limit: int, window: datetime.timedelta) -> bool:
    """Count one attempt of ``scope`` for ``value``: True while at most ``limit`` were counted in ``window``
    (this one included), False once over it (and then this attempt is not counted)."""
    key = _key(value)
    with transaction.atomic():
        _lock(scope, key)
        now = timezone.now()
        ThrottleHit.objects.filter(scope=scope, at__lt=now - window).delete()
        if ThrottleHit.objects.filter(scope=scope, key=key, at__gte=now - window).count() >= limit:
            return False
        ThrottleHit.objects.create(scope=scope, key=key, at=now)
    return True
