"""Login throttling with django-axes: 5 failures for one username from one address lock that pair 15 minutes."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.axes, pytest.mark.django_db]

LOGIN = "/accounts/login/"
WRONG = "not-the-password-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Each attempt checks a password; the production hasher's deliberate slowness only costs test time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username, password, ip="192.0.2.10"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en"
    )


def _fail_five_times(client, username, ip="192.0.2.10"):
    return [_login(client, username, WRONG, ip) for _ in range(5)]


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_four_failures_do_not_lock(client):
    UserFactory(username="rina")
    for _ in range(4):
        response = _login(client, "rina", WRONG)
        assert response.status_code == 200  # the form again, with its error
    response = _login(client, "rina", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_five_failures_lock_the_pair_and_the_sixth_is_refused_with_a_message(client):
    UserFactory(username="rina")
    responses = _fail_five_times(client, "rina")
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429

    sixth = _login(client, "rina", PASSWORD)  # even the right password
    assert sixth.status_code == 429
    html = sixth.content.decode()
    assert "Too many failed log-in attempts" in html
    assert "blocked for 15 minutes" in html
    assert not _logged_in(client)


def test_another_username_from_the_same_address_is_not_locked(client):
    UserFactory(username="rina")
    UserFactory(username="budi")
    _fail_five_times(client, "rina")
    response = _login(client, "budi", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_same_username_from_another_address_is_not_locked(client):
    UserFactory(username="rina")
    _fail_five_times(client, "rina", ip="192.0.2.10")
    response = _login(client, "rina", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 302


def test_the_lock_ends_after_15_minutes(client):
    UserFactory(username="rina")
    _fail_five_times(client, "rina")
    assert _login(client, "rina", PASSWORD).status_code == 429
    # Move the recorded attempts 16 minutes into the past instead of waiting.
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    response = _login(client, "rina", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_attempts_are_recorded_without_the_password_and_visible_in_admin(client):
    UserFactory(username="rina")
    _fail_five_times(client, "rina")
    attempt = AccessAttempt.objects.get(username="rina", ip_address="192.0.2.10")
    assert attempt.failures_since_start == 5
    assert WRONG not in attempt.post_data
    assert admin.site.is_registered(AccessAttempt)

    administrator = UserFactory(username="admin1", role="admin", is_staff=True, is_superuser=True)
    client.force_login(administrator)
    response = client.get("/admin/axes/accessattempt/")
    assert response.status_code == 200
    assert "rina" in response.content.decode()
