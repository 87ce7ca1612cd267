"""The log-in and password forms with the project's own messages.

Django's forms bring their labels and errors from Django's catalogue, whose Indonesian is not the project's
(the log-in error repeats "nama pengguna", "sandi" where the app writes "kata sandi", "anda" in lower case).
These subclasses give each label and error a msgid of this project, so locale/id translates it; the English
text stays Django's. kerjasama/urls.py wires them into the log-in, password change, password reset and
set-password pages. The messages Django's password validators give are overridden in the catalogue
(agreements/django_messages.py).
"""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

PASSWORD_MISMATCH = _("The two password fields didn’t match.")


class AuthenticationForm(auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."
        ),
        "inactive": _("This account is inactive."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")


class _NewPasswordFields:
    """The two new-password fields' labels, shared by the set-password and the password-change forms."""

    def _label_new_password_fields(self):
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password confirmation")
        self.fields["new_password2"].help_text = _("Enter the same password as before, for verification.")


class SetPasswordForm(_NewPasswordFields, auth_forms.SetPasswordForm):
    error_messages = {"password_mismatch": PASSWORD_MISMATCH}

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self._label_new_password_fields()


class PasswordChangeForm(_NewPasswordFields, auth_forms.PasswordChangeForm):
    error_messages = {
        "password_mismatch": PASSWORD_MISMATCH,
        "password_incorrect": _("Your old password was entered incorrectly. Please enter it again."),
    }

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = _("Old password")
        self._label_new_password_fields()


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also the mail is sent off the request: rendered here, handed to the ``send_email`` task, so a known
    address answers in the time of an unknown one whatever the mail server's speed."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        from django.template import loader

        from .tasks import send_email

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else ""
        send_email.enqueue(subject=subject, body=body, from_email=from_email or "", to=[to_email], html=html)
