"""The interface language, remembered per user across browsers and devices.

Bahasa Indonesia is the default (``LANGUAGE_CODE = "id"``); English is one click away through the switcher in
``templates/base.html``, which posts to ``i18n/setlang/``. Django keeps the choice in a cookie only, which a
new browser or a cleared cookie forgets, so the choice is also saved on the account (``User.language``):

- :func:`set_language` wraps Django's view: a signed-in user who switches gets ``User.language`` saved;
- on log-in (the ``user_logged_in`` signal) the saved language is picked up and :class:`LanguageCookieMiddleware`
  writes it into the language cookie of the log-in response, so every page after it is in that language.

The saved language also picks the language of the reminder e-mails.

The browser's language (``Accept-Language``) is not asked: :class:`ChosenLanguageMiddleware` replaces Django's
``LocaleMiddleware`` and speaks the language the person chose (the cookie the switcher and the log-in write), or
Bahasa Indonesia; so the log-in page of a browser set to English is in Indonesian until the person switches.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.views.i18n import set_language as django_set_language

# Set on the request by the log-in signal, read by the middleware on the way out.
_COOKIE_ATTRIBUTE = "_kerjasama_language_cookie"


def set_language_cookie(response, language: str) -> None:
    """Django's language cookie, with the attributes its own ``set_language`` gives it (the ``LANGUAGE_COOKIE_*``
    settings): every place that writes the cookie writes it this way."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _known(language: str | None) -> bool:
    return bool(language) and language in dict(settings.LANGUAGES) and translation.check_for_language(language)


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` without the browser's ``Accept-Language``: the chosen language or the default."""

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        translation.activate(language if _known(language) else settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()


def set_language(request):
    """Django's ``set_language``, and for a signed-in user the choice saved on the account as well."""
    response = django_set_language(request)
    language = request.POST.get("language") if request.method == "POST" else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and _known(language) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response


@receiver(user_logged_in, dispatch_uid="kerjasama-language-on-login")
def _language_on_login(sender, request, user, **kwargs):
    """After logging in, the user's saved language wins over whatever the browser or the cookie said."""
    language = getattr(user, "language", None)
    if request is None or not _known(language):
        return
    # Not translation.activate(): the log-in response is a redirect, and activating here would also switch the
    # language of the calling thread (a test's client.force_login(), a management command).
    request.LANGUAGE_CODE = language
    setattr(request, _COOKIE_ATTRIBUTE, language)


class LanguageCookieMiddleware:
    """Writes the language chosen at log-in into Django's language cookie (a signal cannot reach the response)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        language = getattr(request, _COOKIE_ATTRIBUTE, None)
        if language:
            set_language_cookie(response, language)
        return response
