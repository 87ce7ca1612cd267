"""One submission per form: a double click or a resubmitted POST must not create two records.

Each rendered create form carries a one-time token in a hidden ``form_token`` field. The token is issued into
the user's session; the first valid submission *claims* it (removes it from the session) and only that one
creates the record. A second submission with the same token finds it gone and is told so.

Usage in a view (the officers' create forms)::

    from agreements import idempotency

    def agreement_create(request):
        if request.method == "POST":
            form = AgreementForm(request.POST)
            if form.is_valid():
                with transaction.atomic():
                    if not idempotency.claim_form_token(request):
                        messages.info(request, idempotency.ALREADY_SUBMITTED)
                        return redirect("agreement-list")
                    agreement = services.agreement_create(**form.cleaned_data, user=request.user)
                return redirect(agreement)
        else:
            form = AgreementForm()
        return render(request, "...", {"form": form, "form_token": idempotency.issue_form_token(request)})

and in the template, inside the ``<form>``::

    <input type="hidden" name="form_token" value="{{ form_token }}">

Claim only after the form validated, so that a form re-shown with errors can be sent again with the same
token (``issue_form_token`` hands the posted token back while it is still unclaimed). Claim inside the same
transaction as the write: if the write fails and rolls back, the claim is undone with it on the database
session backend.

Concurrency: with the database session backend (Django's default) the claim locks the session's row
(``SELECT ... FOR UPDATE`` on PostgreSQL) and re-reads it, so two simultaneous submissions of one browser,
even on two gunicorn workers, are serialised and only one wins. Other session backends fall back to the
in-memory session, which catches resubmissions but not two requests arriving within the same instant.
"""

import contextlib
import uuid

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction
from django.utils.translation import gettext_lazy as _

FORM_TOKEN_FIELD = "form_token"
SESSION_KEY = "_form_tokens"
# Enough for many open tabs; the oldest unused tokens are forgotten first, which keeps the session small.
MAX_PENDING_TOKENS = 50
ALREADY_SUBMITTED = _("This form was already submitted; it was not saved a second time.")


def issue_form_token(request) -> str:
    """A token for the hidden ``form_token`` field: the posted one while still unclaimed, else a new one."""
    pending = list(request.session.get(SESSION_KEY, []))
    posted = request.POST.get(FORM_TOKEN_FIELD, "") if request.method == "POST" else ""
    if posted and posted in pending:
        return posted
    token = uuid.uuid4().hex
    pending.append(token)
    request.session[SESSION_KEY] = pending[-MAX_PENDING_TOKENS:]
    return token


def _pending_tokens_locked(request) -> list[str]:
    """The session's pending tokens as stored now, the session row locked until the transaction ends."""
    session = request.session
    if isinstance(session, DatabaseSessionStore) and session.session_key:
        row = session.model.objects.select_for_update().filter(session_key=session.session_key).first()
        if row is not None:
            return list(session.decode(row.session_data).get(SESSION_KEY, []))
    return list(session.get(SESSION_KEY, []))


def claim_form_token(request) -> bool:
    """True exactly once per issued token: for the first submission. False for a repeat or a missing token."""
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not token:
        return False
    with transaction.atomic():
        pending = _pending_tokens_locked(request)
        if token not in pending:
            return False
        pending.remove(token)
        request.session[SESSION_KEY] = pending
        # Write now, under the lock, rather than when the response leaves: a parallel submission then sees it.
        request.session.save()
    return True


class AlreadySubmitted(Exception):
    """The form's token was claimed by an earlier submission."""


@contextlib.contextmanager
def single_submission(request):
    """Claim the posted token and run the write in one transaction; raise ``AlreadySubmitted`` when the
    token is gone. A write that raises (a ``ValidationError``) rolls the claim back with it, so the form
    re-shown with its errors can be sent again::

        try:
            with idempotency.single_submission(request):
                obj = services.thing_create(...)
        except idempotency.AlreadySubmitted:
            messages.info(request, idempotency.ALREADY_SUBMITTED)
            return redirect(...)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
    """
    token = request.POST.get(FORM_TOKEN_FIELD)
    claimed = False
    try:
        with transaction.atomic():
            # A post without the field (a script, not one of our forms, which always carry it) is not
            # deduplicated; a post with a token already claimed, or never issued, is refused.
            if token is not None:
                if not claim_form_token(request):
                    raise AlreadySubmitted
                claimed = True
            yield
    except AlreadySubmitted:
        raise
    except Exception:
        # The write failed and rolled back: the token is unused again (the session in memory, which
        # the middleware saves after this response, must say so too).
        if claimed:
            request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), token][-MAX_PENDING_TOKENS:]
        raise
