"""Personal API tokens: created (the key shown once, only its SHA-256 stored), listed, revoked (at once)."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ApiToken

KEY_PREFIX = "ks_"
PREFIX_LENGTH = 10  # what the profile page shows to tell tokens apart ("ks_" and 7 characters of the key)
MAX_ACTIVE_TOKENS = 20


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the token row and the key, which is never stored nor shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, to recognise it later.")})
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": _("The name is too long.")})
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError({"name": _("You have too many active tokens; revoke one first.")})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key))
    return token, key


def revoke(*, user, pk) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens (another user's: None, nothing changed). Effective at the next request."""
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def of_user(user):
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
