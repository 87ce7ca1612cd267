"""Password reset and password change, throttled, on top of Django's own views.

- Reset: at most ``PASSWORD_RESET_REQUESTS_PER_IP`` requests an hour from one client address (then 429), and
  at most ``PASSWORD_RESET_MAILS_PER_ADDRESS`` mails an hour to one e-mail address (beyond that nothing is
  sent, and the page answers exactly as when a mail is sent). Known and unknown addresses get the same answer
  in the same time: the mail is sent off the request (the ``send_email`` task), and every request takes at
  least ``PASSWORD_RESET_MIN_SECONDS`` besides.
- Both use the project's forms (agreements/auth_forms.py), whose messages the project's catalogue translates.
- Change: a wrong old password counts as a failed log-in (django-axes), so guessing it here is throttled like
  guessing it on the log-in page; a locked-out pair gets the same lockout page.
"""

import datetime
import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_lockout_response
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponseRedirect
from django.shortcuts import render

from .. import auth_forms, throttle

HOUR = datetime.timedelta(hours=1)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = auth_forms.PasswordResetForm

    def post(self, request, *args, **kwargs):
        started = time.monotonic()
        try:
            address = get_client_ip_address(request) or "-"
            if not throttle.allow("reset-ip", address, limit=settings.PASSWORD_RESET_REQUESTS_PER_IP, window=HOUR):
                return render(request, "registration/password_reset_throttled.html", status=429)
            return super().post(request, *args, **kwargs)
        finally:
            remaining = settings.PASSWORD_RESET_MIN_SECONDS - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        if throttle.allow("reset-mail", email, limit=settings.PASSWORD_RESET_MAILS_PER_ADDRESS, window=HOUR):
            return super().form_valid(form)  # sends the mail, if the address has an active account
        return HttpResponseRedirect(self.get_success_url())  # the same answer, no mail


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = auth_forms.PasswordChangeForm

    def _credentials(self) -> dict:
        return {settings.AXES_USERNAME_FORM_FIELD: self.request.user.get_username()}

    def post(self, request, *args, **kwargs):
        if not AxesProxyHandler.is_allowed(request, self._credentials()):
            return get_lockout_response(request, credentials=self._credentials())
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password"):
            user_login_failed.send(sender=__name__, credentials=self._credentials(), request=self.request)
            if not AxesProxyHandler.is_allowed(self.request, self._credentials()):
                return get_lockout_response(self.request, credentials=self._credentials())
        return super().form_invalid(form)
