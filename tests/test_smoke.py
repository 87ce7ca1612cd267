import pytest

from agreements.models import GovernmentAffair, Region


@pytest.mark.django_db
def test_reference_data_is_loaded():
    assert Region.objects.count() == 552
    assert GovernmentAffair.objects.count() == 32


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
