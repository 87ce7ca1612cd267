"""The dashboard's figures are cached per data version (``agreements.datacache``): a second reader gets them without
the aggregates, and every committed write (a page's save, a bulk path) shows on the next read."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import datacache, stalls
from agreements.models import Agreement, Milestone
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, UserFactory


def days_ago(n: int) -> datetime.date:
    return stalls.today() - datetime.timedelta(days=n)


def stalled(client) -> int:
    return client.get("/").context["summary"]["stalled"].value


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_figures_are_cached_until_a_write_commits(client):
    AgreementFactory(signed_on=days_ago(400))
    pks = PksFactory(signed_on=days_ago(300))
    client.force_login(UserFactory(role="ministry"))
    assert stalled(client) == 2  # (the first page creates the reports' settings row: a write, a new version)
    assert stalled(client) == 2
    with CaptureQueriesContext(connection) as hit:
        assert stalled(client) == 2
    # Read from the cache: no aggregate over the agreements (the session, the user, the filters' form remain).
    assert not any("COUNT(" in q["sql"] for q in hit.captured_queries)
    # A milestone started on a page: the PKS is implementing, no longer stalled.
    MilestoneFactory(agreement=pks, title="Survei", due_on=days_ago(-30), started_on=days_ago(1),
                     status=Milestone.Status.IN_PROGRESS)
    assert stalled(client) == 1
    # A bulk path (no signal): its refresh of the facts changes the version too.
    Agreement.objects.filter(pk=pks.pk).update(signed_on=days_ago(2))
    stalls.refresh_facts([pks.pk])
    Milestone.objects.filter(agreement=pks).delete()
    assert stalled(client) == 0 + 1  # the KB alone


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_users_who_see_other_agreements_get_their_own_figures(client):
    AgreementFactory(signed_on=days_ago(400), regions=["32.73", "32.04"])
    AgreementFactory(signed_on=days_ago(400), regions=["61.71", "62.71"])
    client.force_login(UserFactory(role="ministry"))
    assert stalled(client) == 2
    client.force_login(UserFactory(username="bandung", role="local", region=Agreement.objects.first().parties
                                   .get(region__code="32.73").region))
    assert stalled(client) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transaction_that_wrote_reads_its_own_figures():
    from django.db import transaction

    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert datacache.cached("t", ("x",), build) == 1
    assert datacache.cached("t", ("x",), build) == 1  # cached
    with transaction.atomic():
        AgreementFactory(signed_on=days_ago(10))
        assert datacache.cached("t", ("x",), build) == 2  # its own writes: computed, not cached
        assert datacache.cached("t", ("x",), build) == 3
    assert datacache.cached("t", ("x",), build) == 4  # committed: a new version
    assert datacache.cached("t", ("x",), build) == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lists_total_is_counted_once_per_data_version(client):
    AgreementFactory(signed_on=days_ago(400))
    client.force_login(UserFactory(role="ministry"))
    assert client.get("/agreements/").context["page"].paginator.count == 1
    with CaptureQueriesContext(connection) as hit:
        assert client.get("/agreements/").context["page"].paginator.count == 1
    assert not any("COUNT(" in q["sql"] for q in hit.captured_queries)
    AgreementFactory(signed_on=days_ago(10))  # a committed write: counted again
    assert client.get("/agreements/").context["page"].paginator.count == 2
    # Another filter is another query, another count.
    assert client.get("/agreements/", {"stalled": "yes"}).context["page"].paginator.count == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_api_page_is_serialized_once_per_data_version(client):
    kb = AgreementFactory(signed_on=days_ago(400), title="Air minum")
    client.force_login(UserFactory(role="ministry"))
    assert client.get("/api/v1/agreements/").json()["results"][0]["title"] == "Air minum"
    with CaptureQueriesContext(connection) as hit:
        assert client.get("/api/v1/agreements/").json()["count"] == 1
    assert not any('FROM "agreements_agreement"' in q["sql"] for q in hit.captured_queries)
    kb.title = "Air bersih"
    kb.save()
    assert client.get("/api/v1/agreements/").json()["results"][0]["title"] == "Air bersih"
    # Anonymous callers see the published agreements only: not the ministry's cached page.
    client.logout()
    assert client.get("/api/v1/agreements/").json()["count"] == 0
