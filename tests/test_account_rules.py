"""Accounts: who may change whom, checked on the account as it is and as it will be; every change in history;
never deleted; password reset and change throttled with counters every worker sees."""

import datetime
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import access, services
from agreements.models import StallSettings, User
from tests.factories import PASSWORD, UserFactory, region

pytestmark = pytest.mark.django_db

HistoricalUser = get_user_model().history.model
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _edit_data(account, **changes):
    data = {"first_name": account.first_name, "last_name": account.last_name, "email": account.email,
            "role": account.role, "region": account.region_id or "", "is_active": "on" if account.is_active else ""}
    data.update(changes)
    return data


# --- who may change whom --------------------------------------------------------------------------------------


def test_ministry_staff_cannot_take_over_an_administrator_account(client, personas):
    """The reported attack: ministry staff changed the administrator's e-mail, then reset its password."""
    target = personas["admin"]
    client.force_login(personas["ministry"])
    assert client.get(reverse("user-edit", args=[target.pk])).status_code == 404
    response = client.post(reverse("user-edit", args=[target.pk]), _edit_data(target, email="attacker@example.com"))
    assert response.status_code == 404
    target.refresh_from_db()
    assert target.email != "attacker@example.com"
    assert target not in client.get(reverse("user-list")).context["page"].object_list


@pytest.mark.parametrize("flags", [{"is_staff": True}, {"is_superuser": True}, {"role": "admin"}])
def test_ministry_staff_cannot_change_a_privileged_account_even_with_an_ordinary_role(personas, flags):
    target = UserFactory(username="privileged", **{"role": "ministry", **flags})
    ministry = personas["ministry"]
    assert not access.can_manage_account(ministry, target)
    assert not access.users_manageable_by(ministry).filter(pk=target.pk).exists()
    with pytest.raises(ValidationError):
        services.user_update(actor=ministry, account=User.objects.get(pk=target.pk), email="x@example.com",
                             role="ministry", region=None)
    target.refresh_from_db()
    assert target.email == "privileged@example.go.id"


def test_the_account_as_it_is_and_as_it_will_be_are_both_checked(personas):
    """A provincial officer cannot move an officer of another province into its own, nor its own out of it."""
    jabar = personas["province_in"]
    other = UserFactory(username="jatim-officer", role="local", region=region("35.78"))
    with pytest.raises(ValidationError):  # as it is: outside the province
        services.user_update(actor=jabar, account=User.objects.get(pk=other.pk), email=other.email, role="local",
                             region=region("32.73"))
    mine = personas["local_in"]
    with pytest.raises(ValidationError) as exc:  # as it will be: outside the province
        services.user_update(actor=jabar, account=User.objects.get(pk=mine.pk), email=mine.email, role="local",
                             region=region("35.78"))
    assert "region" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # ministry staff cannot make an administrator
        services.user_update(actor=personas["ministry"], account=User.objects.get(pk=mine.pk), email=mine.email,
                             role="admin", region=None)
    assert "role" in exc.value.message_dict
    assert User.objects.get(pk=other.pk).region.code == "35.78"
    assert User.objects.get(pk=mine.pk).role == "local"


def test_administrators_change_administrators_and_the_rule_matches_its_queryset(personas):
    admin_user = personas["admin"]
    target = UserFactory(username="admin-2", role="admin", is_staff=True)
    services.user_update(actor=admin_user, account=User.objects.get(pk=target.pk), email="new@example.go.id",
                         role="admin", region=None)
    assert User.objects.get(pk=target.pk).email == "new@example.go.id"
    accounts = list(User.objects.all())
    for actor in personas.values():
        in_queryset = set(access.users_manageable_by(actor).values_list("pk", flat=True))
        assert in_queryset == {a.pk for a in accounts if access.can_manage_account(actor, a)}, actor.username


def test_a_deactivated_manager_manages_nobody(personas):
    ministry = personas["ministry"]
    ministry.is_active = False
    assert not access.can_manage_users(ministry)
    assert not access.users_manageable_by(ministry).exists()


# --- history -------------------------------------------------------------------------------------------------


def test_account_changes_are_in_history_with_who_and_without_the_password_or_last_login(client, personas):
    officer = personas["local_in"]
    client.force_login(personas["ministry"])
    response = client.post(reverse("user-edit", args=[officer.pk]), _edit_data(officer, email="baru@example.go.id"))
    assert response.status_code == 302
    latest = HistoricalUser.objects.filter(id=officer.pk).order_by("-history_date", "-history_id").first()
    assert (latest.email, latest.history_user, latest.history_type) == ("baru@example.go.id", personas["ministry"], "~")
    before = latest.prev_record
    assert before is not None and before.email == officer.email
    field_names = {f.name for f in HistoricalUser._meta.get_fields()}
    assert "password" not in field_names and "last_login" not in field_names


def test_signing_in_writes_no_account_history(client):
    user = UserFactory(username="rina")
    rows = HistoricalUser.objects.filter(id=user.pk).count()
    assert client.login(username="rina", password=PASSWORD)
    assert HistoricalUser.objects.filter(id=user.pk).count() == rows


def test_threshold_changes_are_in_history_and_shown_in_admin(client, personas):
    client.force_login(personas["admin"])
    settings_row = StallSettings.current()
    url = reverse("admin:agreements_stallsettings_change", args=[settings_row.pk])
    response = client.post(url, {"kb_follow_up_days": 200, "implementation_start_days": 180, "overdue_grace_days": 30})
    assert response.status_code == 302
    record = StallSettings.history.order_by("-history_date").first()
    assert (record.kb_follow_up_days, record.history_user) == (200, personas["admin"])
    history_page = client.get(reverse("admin:agreements_stallsettings_history", args=[settings_row.pk]))
    assert history_page.status_code == 200 and "p-admin" in history_page.content.decode()


def test_account_history_is_shown_in_admin(client, personas):
    client.force_login(personas["admin"])
    officer = personas["local_in"]
    services.user_update(actor=personas["ministry"], account=User.objects.get(pk=officer.pk),
                         email="lain@example.go.id", role="local", region=officer.region)
    page = client.get(reverse("admin:agreements_user_history", args=[officer.pk]))
    assert page.status_code == 200
    assert "p-ministry" in page.content.decode()


# --- never deleted -------------------------------------------------------------------------------------------


def test_admin_cannot_delete_accounts(client, personas):
    client.force_login(personas["admin"])
    officer = personas["local_in"]
    assert client.get(reverse("admin:agreements_user_delete", args=[officer.pk])).status_code == 403
    assert client.post(reverse("admin:agreements_user_delete", args=[officer.pk]), {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:agreements_user_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    response = client.post(reverse("admin:agreements_user_changelist"),
                           {"action": "delete_selected", "_selected_action": [officer.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert User.objects.filter(pk=officer.pk).exists()


# --- throttled password reset and change ---------------------------------------------------------------------

RESET = "/accounts/password_reset/"


def test_at_most_five_reset_mails_an_hour_to_one_address_and_the_answer_does_not_change(client):
    UserFactory(username="rina", email="rina@example.go.id")
    answers = [client.post(RESET, {"email": "Rina@example.go.id"}, REMOTE_ADDR=f"192.0.2.{i}") for i in range(7)]
    assert len(mail.outbox) == 5
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, reverse("password_reset_done"))}


def test_one_address_asking_too_often_is_refused_with_429(client, settings):
    settings.PASSWORD_RESET_REQUESTS_PER_IP = 3
    statuses = [client.post(RESET, {"email": f"u{i}@example.go.id"}, REMOTE_ADDR="198.51.100.7").status_code
                for i in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert client.post(RESET, {"email": "u9@example.go.id"}, REMOTE_ADDR="198.51.100.8").status_code == 302


def test_known_and_unknown_addresses_get_the_same_answer_in_the_same_minimum_time(client, settings):
    settings.PASSWORD_RESET_MIN_SECONDS = 0.5
    UserFactory(username="rina", email="rina@example.go.id")
    for email in ("rina@example.go.id", "nobody@example.go.id"):
        client.post(RESET, {"email": email})  # warm-up: templates loaded, connections open
    mail.outbox.clear()
    timings, answers = [], []
    for email in ("rina@example.go.id", "nobody@example.go.id"):
        started = time.monotonic()
        response = client.post(RESET, {"email": email})
        timings.append(time.monotonic() - started)
        answers.append((response.status_code, response["Location"]))
    assert answers[0] == answers[1]
    assert min(timings) >= 0.5
    assert abs(timings[0] - timings[1]) < 0.15
    assert len(mail.outbox) == 1


def test_the_reset_mail_is_sent_off_the_request(client, settings):
    """With a queue the request only enqueues the mail: a slow mail server cannot tell known addresses apart."""
    from django_tasks_db.models import DBTaskResult

    settings.TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    UserFactory(username="rina", email="rina@example.go.id")
    client.post(RESET, {"email": "rina@example.go.id"})
    client.post(RESET, {"email": "nobody@example.go.id"})
    assert mail.outbox == []
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "agreements.tasks.send_email"
    assert queued.args_kwargs["kwargs"]["to"] == ["rina@example.go.id"]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL: parallel requests racing for one counter")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_requests_never_pass_the_limit():
    import threading

    from django.db import connection

    from agreements import throttle

    barrier, allowed = threading.Barrier(12, timeout=20), []

    def attempt():
        try:
            barrier.wait()
            allowed.append(throttle.allow("reset-mail", "rina@example.go.id", limit=5,
                                          window=datetime.timedelta(hours=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert allowed.count(True) == 5


@pytest.mark.axes
def test_wrong_old_passwords_count_as_failed_logins_and_lock_the_change(client):
    user = UserFactory(username="rina")
    client.force_login(user)
    url = reverse("password_change")
    data = {"old_password": "wrong-guess", "new_password1": "Sangat-Rahasia-2026", "new_password2": "Sangat-Rahasia-2026"}
    statuses = [client.post(url, data, REMOTE_ADDR="192.0.2.44").status_code for _ in range(5)]
    assert statuses[:4] == [200] * 4 and statuses[4] == 429
    assert AccessAttempt.objects.get(username="rina").failures_since_start == 5
    right = {**data, "old_password": PASSWORD}
    assert client.post(url, right, REMOTE_ADDR="192.0.2.44").status_code == 429  # locked, even the right one
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_threshold_beyond_a_hundred_years_is_refused_in_admin(client, personas):
    """10⁹ days would make every page overflow when the rules subtract it from a date."""
    client.force_login(personas["admin"])
    url = reverse("admin:agreements_stallsettings_change", args=[StallSettings.current().pk])
    response = client.post(url, {"kb_follow_up_days": 10**9, "implementation_start_days": 180,
                                 "overdue_grace_days": 30})
    assert response.status_code == 200 and "kb_follow_up_days" in response.context["adminform"].form.errors
    assert StallSettings.current().kb_follow_up_days == 365
