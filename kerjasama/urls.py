from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agreements import auth_forms
from agreements.i18n import set_language
from agreements.views import accounts


def admin_only_for_administrators(request):
    """The Django admin is for administrators only (role ``admin`` with ``is_staff``); everyone else uses the app."""
    user = request.user
    return user.is_active and user.is_staff and getattr(user, "role", None) == "admin"


admin.site.has_permission = admin_only_for_administrators

# A database that went away outside a view (e.g. while saving the session) still gets the friendly 503 page.
handler500 = "agreements.views.health.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own: the same pages, throttled (agreements/views/accounts.py).
    path("accounts/password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    # Before Django's own: the same views with the project's forms, whose messages locale/ translates.
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=auth_forms.AuthenticationForm),
         name="login"),
    path("accounts/reset/<uidb64>/<token>/",
         auth_views.PasswordResetConfirmView.as_view(form_class=auth_forms.SetPasswordForm),
         name="password_reset_confirm"),
    path("accounts/", include("django.contrib.auth.urls")),
    # Before Django's own: the same view, and a signed-in user's choice saved on the account (agreements/i18n.py).
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Open data: the read-only API and the public pages (no login).
    path("api/v1/", include("agreements.api.urls")),
    path("public/", include("agreements.public_urls")),
    path("", include("agreements.urls")),
]
