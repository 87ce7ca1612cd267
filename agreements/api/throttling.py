"""Rate limits counted in the database (``agreements.throttle``, ``ThrottleHit`` rows), so every worker and server
sees the same counters: per token for calls with a personal token, per client address for the others (anonymous
callers and signed-in sessions). Over the limit: 429 with ``Retry-After`` (seconds until the oldest counted call
leaves the window)."""

import datetime
import math

from django.conf import settings
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from .. import throttle
from ..models import ApiToken, ThrottleHit


class _DatabaseThrottle(BaseThrottle):
    scope = ""

    def key(self, request) -> str | None:
        raise NotImplementedError

    def limit(self) -> int:
        raise NotImplementedError

    def allow_request(self, request, view):
        self._wait = None
        key = self.key(request)
        if key is None:
            return True
        window = datetime.timedelta(seconds=settings.API_RATE_WINDOW_SECONDS)
        if throttle.allow(self.scope, key, limit=self.limit(), window=window):
            return True
        oldest = (ThrottleHit.objects.filter(scope=self.scope, key=throttle._key(key))
                  .order_by("at").values_list("at", flat=True).first())
        remaining = (oldest + window - timezone.now()).total_seconds() if oldest else window.total_seconds()
        self._wait = max(1, math.ceil(remaining))
        return False

    def wait(self):
        return self._wait


class TokenRateThrottle(_DatabaseThrottle):
    scope = "api-token"

    def key(self, request):
        return f"token:{request.auth.pk}" if isinstance(request.auth, ApiToken) else None

    def limit(self):
        return settings.API_RATE_PER_TOKEN


class AddressRateThrottle(_DatabaseThrottle):
    scope = "api-address"

    def key(self, request):
        if isinstance(request.auth, ApiToken):
            return None
        return f"address:{self.get_ident(request)}"

    def limit(self):
        return settings.API_RATE_PER_ADDRESS
