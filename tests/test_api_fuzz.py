"""The API fuzzed from its own OpenAPI schema (schemathesis, a few examples per operation, in-process through the WSGI
application, no network): no answer is a 500, and every answer matches the schema. As anonymous caller and with a
ministry user's token, on a small published and unpublished data set."""

import datetime

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from agreements.api import tokens
from agreements.models import NeedOffer
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory, affair, region

APP = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" database connections at each request's start and end; Django's test client
    turns that off (the test's transaction lives on the connection), and so does this test."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, settings):
    settings.API_RATE_PER_ADDRESS = 100_000
    settings.API_RATE_PER_TOKEN = 100_000
    raw = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    import json

    from drf_spectacular.renderers import OpenApiJsonRenderer

    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


@pytest.fixture
def data(db):
    kb = AgreementFactory(number="KB/F/1", published_at=timezone.now(), signed_on=datetime.date(2024, 1, 15))
    pks = PksFactory(number="PKS/F/1", parent=kb, signed_on=datetime.date(2024, 3, 1))
    MilestoneFactory(agreement=pks, status="met", started_on=datetime.date(2024, 4, 1),
                     completed_on=datetime.date(2024, 5, 1))
    AgreementFactory(number="KB/F/2", regions=["51.71", "51.03"])
    NeedOffer.objects.create(region=region("32.73"), affair=affair("3.26"), kind="need", description="Pelatihan")
    _token, key = tokens.create(user=UserFactory(username="fuzz-ministry", role="ministry"), name="fuzz")
    return key


SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
CHECKS = [not_a_server_error, response_schema_conformance]


def _fuzz(schema, headers):
    """Every operation of the schema, ``max_examples`` cases each (the schema is built inside the test: building it
    reads the stall settings from the test database)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        @given(case=operation.as_strategy())
        @SETTINGS
        def check(case):
            case.call_and_validate(app=APP, headers=headers, checks=CHECKS)

        check()


def test_anonymous_answers_match_the_schema(api_schema, data):
    _fuzz(api_schema, {})


def test_token_answers_match_the_schema(api_schema, data):
    _fuzz(api_schema, {"Authorization": f"Token {data}"})
