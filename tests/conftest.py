import pytest

from tests.factories import UserFactory


@pytest.fixture
def ministry_user(db):
    return UserFactory(username="staf", role="ministry")
