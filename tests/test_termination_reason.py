"""Termination before the end, with its reason (PP 28/2018's grounds): the edit form, the service, the page."""

import datetime

import pytest
from django.urls import reverse

from agreements import services
from agreements.models import Agreement, TerminationReason
from tests.factories import AgreementFactory, affair, region

pytestmark = pytest.mark.django_db
D = datetime.date


def edit_post(agreement, **overrides):
    data = {
        "number": agreement.number, "document_type": "KB", "title": agreement.title,
        "cooperation_kind": agreement.cooperation_kind, "regions": [region("32.73").pk, region("32.04").pk],
        "affairs": [affair("3.26").pk], "third_parties": "", "scope": "", "version": agreement.version,
        "signed_on": "", "ends_on": "2029-01-14", "terminated_on": "", "termination_reason": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("terminated_on, reason, error", [
    ("2025-06-01", "", "Choose why the agreement was terminated."),
    ("", "force_majeure", "Give the termination date with its reason."),
    ("2025-06-01", "unknown", None),  # not a choice: Django's own message
])
def test_a_termination_needs_its_reason_and_a_reason_its_date(client, personas, terminated_on, reason, error):
    agreement = AgreementFactory(signed_on=D(2024, 1, 15), ends_on=D(2029, 1, 14))
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-edit", args=[agreement.pk]),
                           edit_post(agreement, terminated_on=terminated_on, termination_reason=reason),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["form"].errors["termination_reason"]
    if error:
        assert error in errors
    agreement.refresh_from_db()
    assert agreement.terminated_on is None and agreement.termination_reason == ""


def test_terminated_with_its_reason_is_shown_on_the_page(client, personas):
    agreement = AgreementFactory(signed_on=D(2024, 1, 15), ends_on=D(2029, 1, 14))
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-edit", args=[agreement.pk]),
                           edit_post(agreement, terminated_on="2025-06-01", termination_reason="force_majeure"))
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.terminated_on, agreement.termination_reason) == (D(2025, 6, 1), TerminationReason.FORCE_MAJEURE)
    page = client.get(agreement.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Force majeure" in page
    page = client.get(agreement.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'data-field="termination_reason"' in page


def test_an_old_termination_without_a_reason_may_be_kept(client, personas):
    """Terminations recorded before reasons existed have none: other edits of the agreement are not blocked."""
    agreement = AgreementFactory(signed_on=D(2024, 1, 15), ends_on=D(2029, 1, 14), terminated_on=D(2025, 6, 1))
    client.force_login(personas["local_in"])
    response = client.post(reverse("agreement-edit", args=[agreement.pk]),
                           edit_post(agreement, terminated_on="2025-06-01", title="Judul baru"))
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).title == "Judul baru"


def test_the_service_refuses_a_reason_without_a_date(personas):
    from django.core.exceptions import ValidationError

    agreement = AgreementFactory(signed_on=D(2024, 1, 15))
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(agreement=agreement, user=personas["ministry"], expected_version=agreement.version,
                                  regions=list(agreement.regions.all()), affairs=list(agreement.affairs.all()),
                                  termination_reason=TerminationReason.BREACH)
    assert "termination_reason" in exc.value.message_dict
