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


def _article(response) -> str:
    """The agreement page's content (the layout around it has a CSRF token of its own per response: log out)."""
    html = response.content.decode()
    return html[html.index('<article class="agreement-page">'):html.index("</article>")]


def _csrf_in(html: str) -> str:
    import re

    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_agreement_page_is_rendered_once_for_everyone_with_the_same_rights(client):
    from django.test import Client
    from django.urls import reverse


    agreement = AgreementFactory(signed_on=days_ago(400), regions=["32.73", "32.04"], title="Pengelolaan sampah")
    url = reverse("agreement-detail", args=[agreement.pk])
    second = UserFactory(username="kedua", role="ministry")  # (a new user is a write too: before the pages)
    client.force_login(UserFactory(role="ministry"))
    first = client.get(url)
    assert first.context["parties"]  # rendered by this request
    with CaptureQueriesContext(connection) as hit:
        again = client.get(url)
    # From the cache: the session, the user and the access check, nothing of the agreement's content.
    assert "parties" not in again.context and len(hit.captured_queries) <= 4
    assert not any("agreements_milestone" in q["sql"] for q in hit.captured_queries)
    assert _article(again) == _article(first).replace(_csrf_in(_article(first)), _csrf_in(_article(again)))

    # Another ministry user gets the same content with a CSRF token of their own, which their form's POST passes.
    other = Client(enforce_csrf_checks=True)
    other.force_login(second)
    page = other.get(url)
    assert "parties" not in page.context  # the cached content
    token = _csrf_in(page.content.decode())
    response = other.post(reverse("agreement-publish", args=[agreement.pk]), {"action": "publish",
                                                                             "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.published_at is not None
    # That write (committed) changed the data version: the next page shows it.
    assert "Published on the public page since" in client.get(url).content.decode()
    Agreement.objects.filter(pk=agreement.pk).update(title="Pengelolaan air bersih")
    datacache.bump()  # what the signals do after a save; a bulk update has its own refresh (see above)
    assert "Pengelolaan air bersih" in client.get(url).content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_agreement_page_shows_each_reader_their_own_rights(client):
    from django.urls import reverse

    from tests.factories import region

    agreement = AgreementFactory(signed_on=days_ago(400), regions=["32.73", "32.04"])
    url = reverse("agreement-detail", args=[agreement.pk])
    edit = reverse("agreement-edit", args=[agreement.pk])
    bandung, kabupaten, province, garut = (
        UserFactory(username="bandung", role="local", region=region("32.73")),
        UserFactory(username="kabbandung", role="local", region=region("32.04")),
        UserFactory(username="jabar", role="province", region=region("32")),
        UserFactory(username="garut", role="local", region=region("32.05")),
    )
    client.force_login(bandung)
    assert edit in client.get(url).content.decode()  # a party's officer writes
    assert "parties" not in client.get(url).context  # (cached)
    client.force_login(province)
    page = client.get(url)
    assert page.context["parties"] and edit not in page.content.decode()  # the province reads it only
    client.force_login(kabupaten)
    assert edit in client.get(url).content.decode()
    client.force_login(garut)
    assert client.get(url).status_code == 404  # the access check runs before the cache


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_list_pages_rows_are_rendered_once_per_query_and_rights(client):
    from tests.factories import region

    AgreementFactory(signed_on=days_ago(400), regions=["32.73", "32.04"], title="Pengelolaan sampah Bandung")
    AgreementFactory(signed_on=days_ago(400), regions=["61.71", "62.71"], title="Jalan perbatasan Kalimantan")
    officer = UserFactory(username="bandung", role="local", region=region("32.73"))
    client.force_login(UserFactory(role="ministry"))
    first = client.get("/agreements/")
    assert len(first.context["rows"]) == 2
    with CaptureQueriesContext(connection) as hit:
        again = client.get("/agreements/")
    assert "rows" not in again.context  # the rows' HTML came from the cache: no query on the parties
    assert not any("agreements_agreementparty" in q["sql"] for q in hit.captured_queries)
    assert "Jalan perbatasan Kalimantan" in again.content.decode()
    # Another query is another table; another reader's rights another table.
    assert len(client.get("/agreements/", {"q": "sampah"}).context["rows"]) == 1
    client.force_login(officer)
    page = client.get("/agreements/").content.decode()
    assert "Pengelolaan sampah Bandung" in page and "Jalan perbatasan Kalimantan" not in page
    # A committed write shows on the next page.
    AgreementFactory(signed_on=days_ago(5), regions=["32.73", "32.01"], title="Air bersih lintas kabupaten")
    assert "Air bersih lintas kabupaten" in client.get("/agreements/").content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_affairs_map_table_is_rendered_once_per_filters(client):
    AgreementFactory(signed_on=days_ago(400), regions=["32.73", "32.04"])
    client.force_login(UserFactory(role="ministry"))
    first = client.get("/affairs/", {"expand": "32"}).content.decode()
    with CaptureQueriesContext(connection) as hit:
        again = client.get("/affairs/", {"expand": "32"}).content.decode()
    assert not any("agreements_agreement" in q["sql"] for q in hit.captured_queries)
    table = slice(first.index('<table class="affair-map"'), first.index("</table>"))
    assert again[table] == first[table]
    assert 'href="/regions/32.73/"' in again  # the province opened (its kabupaten/kota's rows), from the cache
    # The toggles keep the query string of the page they are on: another query string, another table.
    kinds = client.get("/affairs/", {"expand": "32", "kind": "KSDD"}).content.decode()
    assert "kind=KSDD" in kinds and "kind=KSDD" not in again


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_log_in_is_not_a_change_of_the_data(client):
    user = UserFactory(role="ministry")
    before = datacache.version()
    client.force_login(user)  # saves last_login alone
    assert datacache.version() == before
    user.first_name = "Siti"  # a change of the account is (a page may show the name)
    user.save()
    assert datacache.version() != before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publishing_changes_the_data_version(client):
    from agreements import publication

    agreement = AgreementFactory(signed_on=days_ago(40))
    minister = UserFactory(role="ministry")
    before = datacache.version()
    assert publication.publish(Agreement.objects.filter(pk=agreement.pk), user=minister) == 1  # a bulk update
    published = datacache.version()
    assert published != before
    assert publication.unpublish([agreement], user=minister) == 1
    assert datacache.version() != published


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])
def test_what_the_replica_computed_is_never_served_to_a_reader_of_the_primary(settings):
    from kerjasama import db_routers

    settings.READ_REPLICA = True
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    try:
        db_routers.begin(replica=True)  # a report page's request: its reads go to the replica (which may lag)
        assert datacache.cached("t", ("x",), build) == 1
        assert datacache.cached("t", ("x",), build) == 1  # kept for the replica's readers
        db_routers.begin(replica=False)  # a reader of the primary (the writer, pinned to it): its own entry
        assert datacache.cached("t", ("x",), build) == 2
        assert datacache.cached("t", ("x",), build) == 2
        db_routers.begin(replica=True)
        assert datacache.cached("t", ("x",), build) == 1
    finally:
        db_routers.end()
    assert datacache.REPLICA_TIMEOUT <= 60  # and only for a short while


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_public_page_ignores_other_parameters(client):
    AgreementFactory(signed_on=days_ago(40), title="Pengelolaan sampah terpadu")
    from agreements import publication

    publication.publish(Agreement.objects.all(), user=UserFactory(role="ministry"))
    first = client.get("/public/", {"q": "sampah", "utm_source": "surat"})
    html = first.content.decode()
    assert "q=sampah" in html and "utm_source" not in html[html.index('<main id="main"'):]  # links keep the filters
    again = client.get("/public/", {"q": "sampah", "other": "x"})
    assert "Pengelolaan sampah terpadu" in again.content.decode() and "page" not in again.context  # cached


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_list_of_an_import_is_its_owners_alone_also_cached(client):
    from agreements.models import ImportJob

    mine, theirs = UserFactory(username="saya", role="ministry"), UserFactory(username="mereka", role="ministry")
    agreement = AgreementFactory(title="Diimpor oleh mereka")
    job = ImportJob.objects.create(user=theirs, agreements_name="milik-lain.xlsx", state="done")
    job.agreements.add(agreement)
    client.force_login(theirs)  # the owner first: their table must not be served to another with the same rights
    assert "Diimpor oleh mereka" in client.get("/agreements/", {"imported": job.pk}).content.decode()
    client.force_login(mine)
    assert "Diimpor oleh mereka" not in client.get("/agreements/", {"imported": job.pk}).content.decode()
