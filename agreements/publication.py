"""Publication: which agreements the public page, the open-data downloads and anonymous API callers see, and which
documents are public. Every door (the agreement page, the register's filtered list, Django admin, the demo data)
calls these functions, so the rules are the same everywhere:

- only ministry staff and administrators publish or withdraw (``access.can_publish``);
- only a signed agreement is published: a draft is refused, naming it;
- a document is public only by its own choice (``Document.is_public``), and shown only while its agreement is
  published.

What the public sees of a published agreement (no internal notes, follow-ups, obstacles, users, e-mails or contact
persons) is decided by the public views and the API's serializers, which name every field they show.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_update_with_history

from . import access, datacache
from .models import Agreement, Document

# The licence of the register's data, and the region reference data's own (agreements/data/LICENSE-ODbL.md).
DATA_LICENCE = {
    "name": "CC BY 4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "attribution": "Kementerian Dalam Negeri, Ditjen Bina Administrasi Kewilayahan — Kerjasama",
}
REGIONS_LICENCE = {
    "name": "ODbL 1.0",
    "url": "https://opendatacommons.org/licenses/odbl/1-0/",
    "attribution": "idn-area-data 4.0.1, © its authors (https://www.npmjs.com/package/idn-area-data)",
}


def _check(user) -> None:
    if not access.can_publish(user):
        raise PermissionDenied


def publish(agreements, *, user) -> int:
    """Publish ``agreements`` (a queryset or an iterable of agreements) that are not yet published; returns how many
    were. All or nothing: an unsigned agreement among them refuses the whole request with a ``ValidationError``
    naming it (up to five numbers)."""
    _check(user)
    ids = [a.pk for a in agreements] if not hasattr(agreements, "values_list") else list(
        agreements.order_by().values_list("pk", flat=True))
    with transaction.atomic():
        rows = list(Agreement.objects.select_for_update().filter(pk__in=ids).order_by("number"))
        unsigned = [a.number for a in rows if a.signed_on is None]
        if unsigned:
            raise ValidationError(ngettext(
                "Only signed agreements are published; not signed: %(numbers)s.",
                "Only signed agreements are published; %(count)d not signed: %(numbers)s.",
                len(unsigned),
            ) % {"count": len(unsigned), "numbers": ", ".join(unsigned[:5]) + (" …" if len(unsigned) > 5 else "")})
        now = timezone.now()
        changed = [a for a in rows if a.published_at is None]
        for agreement in changed:
            agreement.published_at = now
            agreement._change_reason = "published"
        if changed:
            bulk_update_with_history(changed, Agreement, ["published_at"], default_user=user,
                                     default_change_reason="published")
            datacache.bump_on_commit()  # a bulk update sends no signal: the public page and the agreement's pages
    return len(changed)


def unpublish(agreements, *, user) -> int:
    """Withdraw ``agreements`` from publication; returns how many were published."""
    _check(user)
    ids = [a.pk for a in agreements] if not hasattr(agreements, "values_list") else list(
        agreements.order_by().values_list("pk", flat=True))
    with transaction.atomic():
        changed = list(Agreement.objects.select_for_update().filter(pk__in=ids, published_at__isnull=False))
        for agreement in changed:
            agreement.published_at = None
        if changed:
            bulk_update_with_history(changed, Agreement, ["published_at"], default_user=user,
                                     default_change_reason="unpublished")
            datacache.bump_on_commit()
    return len(changed)


def set_document_public(document: Document, *, public: bool, user) -> Document:
    """Make a document public (shown on the public page while its agreement is published) or not."""
    _check(user)
    if document.is_public != public:
        document.is_public = public
        document._history_user = user
        document.save(update_fields=["is_public"])
    return document


def public_documents(agreement):
    """The documents of a published agreement the public may download (none while it is not published)."""
    if agreement.published_at is None:
        return Document.objects.none()
    return agreement.documents.filter(is_public=True)


def refusal_message(error: ValidationError) -> str:
    return " ".join(error.messages) or _("This agreement cannot be published.")
