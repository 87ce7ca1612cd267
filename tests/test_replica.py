"""The read replica (kerjasama/db_routers.py): reports, exports and the API's lists read from "replica", never a read
that must see the request's own write. "replica" is a test mirror of "default" (settings), so the same rows are
there and the routing itself is what these tests watch, query by query."""

import datetime

import pytest
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import Agreement, ReportSettings, StallSettings
from kerjasama import db_routers
from tests.factories import AgreementFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])

AGREEMENT_TABLE = '"agreements_agreement"'


@pytest.fixture(autouse=True)
def replica_on(settings):
    settings.READ_REPLICA = True
    StallSettings.current(), ReportSettings.current()  # the settings rows exist, as they do once the app has run


def reads_of_agreements(queries) -> list:
    """SELECTs of the agreement table, also through a server-side cursor (PostgreSQL: DECLARE ... FOR SELECT)."""
    return [q["sql"] for q in queries
            if AGREEMENT_TABLE in q["sql"] and q["sql"].lstrip().upper().startswith(("SELECT", "DECLARE"))]


def get(client, url, **extra):
    """GET ``url`` (a streamed body read to its end), with the queries sent to each database."""
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get(url, **extra)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body, primary.captured_queries, replica.captured_queries


@pytest.mark.parametrize("url", [
    "/agreements/export.csv", "/agreements/export-parties.csv", "/api/v1/agreements/", "/api/v1/stalled/",
])
def test_exports_and_api_lists_read_from_the_replica(client, staff, url):
    agreement = AgreementFactory()
    client.force_login(staff)
    response, body, primary, replica = get(client, url)
    assert response.status_code == 200
    assert agreement.number.encode() in body or url.endswith("stalled/")
    assert reads_of_agreements(replica), "the heavy read went to the replica"
    assert reads_of_agreements(primary) == []


def test_the_report_index_reads_from_the_replica(client, staff):
    AgreementFactory()
    client.force_login(staff)
    response, _body, _primary, replica = get(client, reverse("report-index"))
    assert response.status_code == 200
    assert replica


def test_other_pages_read_from_the_primary(client, staff):
    agreement = AgreementFactory()
    client.force_login(staff)
    for url in ("/agreements/", agreement.get_absolute_url()):
        response, _body, primary, replica = get(client, url)
        assert response.status_code == 200
        assert replica == [] and reads_of_agreements(primary)


def test_without_a_replica_url_nothing_reads_from_it(client, staff, settings):
    settings.READ_REPLICA = False
    AgreementFactory()
    client.force_login(staff)
    _response, _body, primary, replica = get(client, "/agreements/export.csv")
    assert replica == [] and reads_of_agreements(primary)


def test_after_its_own_write_a_request_reads_from_the_primary():
    agreement = AgreementFactory()
    state = db_routers.begin(replica=True)
    try:
        with CaptureQueriesContext(connections["default"]) as primary, \
                CaptureQueriesContext(connections["replica"]) as replica:
            StallSettings.current()  # a get_or_create that finds its row writes nothing
            assert Agreement.objects.get(pk=agreement.pk)._state.db == "replica"
            Agreement.objects.filter(pk=agreement.pk).update(title="Changed in this request")
            assert state.wrote
            read = Agreement.objects.get(pk=agreement.pk)
        assert read.title == "Changed in this request" and read._state.db == "default"
        assert len(reads_of_agreements(replica)) == 1  # the read before the write only
        assert reads_of_agreements(primary)
    finally:
        db_routers.end()


def test_bookkeeping_writes_keep_the_reads_on_the_replica():
    from agreements import throttle

    AgreementFactory()
    state = db_routers.begin(replica=True)
    try:
        throttle.allow("test", "127.0.0.1", limit=5, window=datetime.timedelta(hours=1))
        assert not state.wrote
        with CaptureQueriesContext(connections["replica"]) as replica:
            list(Agreement.objects.all())
        assert reads_of_agreements(replica.captured_queries)
    finally:
        db_routers.end()


def test_an_object_read_from_the_replica_is_saved_to_the_primary():
    agreement = AgreementFactory()
    db_routers.begin(replica=True)
    try:
        read = Agreement.objects.get(pk=agreement.pk)
        assert read._state.db == "replica"
        with CaptureQueriesContext(connections["replica"]) as replica:
            read.title = "Saved through the primary"
            read.save()
        assert not [q for q in replica.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    finally:
        db_routers.end()
    assert Agreement.objects.using("default").get(pk=agreement.pk).title == "Saved through the primary"


def test_a_browser_that_wrote_reads_its_next_export_from_the_primary(client, staff, settings):
    def writing_view(request):
        AgreementFactory()
        return HttpResponse("ok")

    response = db_routers.ReplicaReadsMiddleware(writing_view)(RequestFactory().post("/"))
    assert response.cookies[db_routers.PIN_COOKIE]["max-age"] == settings.REPLICA_PIN_SECONDS
    untouched = db_routers.ReplicaReadsMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
    assert db_routers.PIN_COOKIE not in untouched.cookies

    client.force_login(staff)
    client.cookies[db_routers.PIN_COOKIE] = "1"
    _response, _body, primary, replica = get(client, "/agreements/export.csv")
    assert replica == [] and reads_of_agreements(primary)


def test_nothing_is_migrated_on_the_replica():
    router = db_routers.ReplicaRouter()
    assert router.allow_migrate("replica", "agreements") is False
    assert router.allow_migrate("default", "agreements") is None
