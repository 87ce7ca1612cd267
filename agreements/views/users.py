"""User management outside Django admin (/users/).

Ministry staff manage every account; provincial officers manage the officer accounts of their
province's kabupaten/kota (``access.users_manageable_by``). Accounts are deactivated, never deleted.
A new account gets a random password and a password-reset e-mail, so nobody else knows it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import access, auth_forms, forms, idempotency, services
from ..forms import UserForm

USERS_PAGE_SIZE = 50


def _require_manager(user) -> None:
    if not access.can_manage_users(user):
        raise PermissionDenied


@login_required
def user_list(request):
    _require_manager(request.user)
    users = access.users_manageable_by(request.user).select_related("region").order_by("-is_active", "username")
    q = request.GET.get("q", "").strip()
    if q:
        users = users.filter(Q(username__icontains=q) | Q(email__icontains=q) | Q(first_name__icontains=q)
                             | Q(last_name__icontains=q) | Q(region__name__icontains=q))
    page = Paginator(users, USERS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "agreements/officer/user_list.html", {"page": page, "q": q})


def _send_password_email(request, email: str) -> None:
    form = auth_forms.PasswordResetForm({"email": email})  # the mail goes off the request, as for a reset
    if form.is_valid():
        form.save(request=request, use_https=request.is_secure(),
                  email_template_name="registration/password_reset_email.html",
                  subject_template_name="registration/password_reset_subject.txt")


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    _require_manager(request.user)
    if request.method == "POST":
        form = UserForm(request.POST, actor=request.user)
        if form.is_valid():
            try:
                with idempotency.single_submission(request):
                    account = services.user_create(actor=request.user, username=form.cleaned_data["username"],
                                                   **form.service_kwargs())
            except idempotency.AlreadySubmitted:
                messages.info(request, idempotency.ALREADY_SUBMITTED)
                return redirect("user-list")
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                _send_password_email(request, account.email)
                messages.success(request, _("The account was created; an e-mail to set the password was sent."))
                return redirect("user-list")
    else:
        initial = {"role": "local"} if not access.is_national(request.user) else {}
        form = UserForm(initial=initial, actor=request.user)
    return render(request, "agreements/officer/user_form.html", {
        "form": form, "account": None, "form_token": idempotency.issue_form_token(request),
    })


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk):
    _require_manager(request.user)
    try:
        account = access.users_manageable_by(request.user).get(pk=pk)
    except (ValueError, access.User.DoesNotExist) as exc:
        raise Http404 from exc
    if request.method == "POST":
        form = UserForm(request.POST, initial=UserForm.initial_for(account), actor=request.user, editing=True)
        if form.is_valid():
            try:
                services.user_update(actor=request.user, account=account, **form.service_kwargs())
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, _("The account was saved."))
                return redirect("user-list")
    else:
        form = UserForm(initial=UserForm.initial_for(account), actor=request.user, editing=True)
    return render(request, "agreements/officer/user_form.html", {"form": form, "account": account})
