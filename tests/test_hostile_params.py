"""Hostile parameters: no URL of the project answers 5xx, whatever its path and query say.

One test per persona walks EVERY named route of the URLconf (the app, the accounts pages, i18n and the admin),
fills its path converters with a real object's key and with hostile strings (NUL, 10,000 characters), and asks
each URL with hostile query parameters (year-1 and year-9999 ``as_of``, NUL everywhere, huge page numbers, very
long values) and a POST with NUL in its form fields. Every answer must be below 500 (400, 403, 404, 302, 200 are
all fine). It runs on SQLite and on PostgreSQL, where a NUL in a query parameter is an error of the driver.
"""

import collections
import datetime
import io
import itertools
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from agreements import services, stalls
from agreements.models import Document, FollowUp, Obstacle
from tests.factories import (
    PASSWORD,
    AgreementFactory,
    MilestoneFactory,
    NeedOfferFactory,
    PksFactory,
    UserFactory,
    region,
)

NUL = "\x00"
LONG = "x" * 10_000
# Routes that are meant to answer 5xx in some situation, with the only 5xx allowed. /healthz says 503 when the
# database is down (it is up here, so it must not), nothing else may.
MAY_FAIL = {"healthz": set()}

# Each NUL on its own, so that each door is tested by itself (they are refused before any view: cheap). The
# out-of-range values are grouped: each group renders the page once, and the suite stays quick.
HOSTILE_QUERIES = [
    {"as_of": "0001-01-01", "page": "99999999999999999999", "year_from": "99999999999999999999",
     "signed_from": "0001-01-01", "sort": "-", "expand": "99"},
    {"as_of": "9999-12-31", "page": "-1", "year_to": "-99999999999999999999", "signed_to": "9999-12-31"},
    {key: LONG for key in ("as_of", "page", "q", "sort", "region", "province", "affair", "kind", "expand", "next")},
    {"as_of": NUL},
    {"as_of": "2024-01-01" + NUL},
    {"page": NUL},
    {"q": NUL},
    {"sort": NUL},
    {"region": NUL},
    {"province": NUL},
    {"affair": NUL},
    {"kind": NUL},
    {"expand": NUL},
    {"next": NUL},
    {NUL: "key"},
    {"financed": "maybe", "has_indicators": LONG, "sort": "-realised"},
    {"financed": NUL},
    {"has_indicators": NUL},
]
# The admin's own parameters: search, page, ordering, filters and add-form initial values, popups.
ADMIN_QUERIES = [
    {"q": LONG, "p": "99999999999999999999", "o": "99.-99"},
    {"region": "abc", "province": "abc", "agreement": "abc", "milestone": "abc", "parent": "abc", "affairs": "abc"},
    {"q": NUL},
    {"p": NUL},
    {"o": NUL},
    {"e": "1", "_changelist_filters": NUL},
    {"_to_field": NUL, "_popup": "1"},
    {"region": NUL, "province": NUL, "agreement": NUL},
]
# Field names the app's forms use; each gets a NUL (a POST with NUL in any value is refused before any view).
POST_FIELDS = ["username", "password", "q", "title", "number", "note", "description", "code", "name", "next",
               "language", "affair", "region", "email", "as_of", "csrfmiddlewaretoken", "form_token"]


def _named_routes(resolver=None, namespace=""):
    """(full name, {kwarg: converter type name}) for every named route, with the kwargs of enclosing includes."""
    resolver = resolver or get_resolver()
    found = []

    def kwargs_of(pattern) -> dict[str, str]:
        converters = getattr(pattern.pattern, "converters", {})
        if converters:
            return {name: type(conv).__name__ for name, conv in converters.items()}
        regex = pattern.pattern.regex
        if regex.groups > len(regex.groupindex):  # unnamed groups (django-simple-history's admin): positional
            return {f"#{i}": "positional" for i in range(regex.groups)}
        return {name: "regex" for name in regex.groupindex}

    def walk(patterns, ns, inherited):
        for entry in patterns:
            params = {**inherited, **kwargs_of(entry)}
            if isinstance(entry, URLResolver):
                inner = f"{ns}{entry.namespace}:" if entry.namespace else ns
                walk(entry.url_patterns, inner, params)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{ns}{entry.name}", params))

    walk(resolver.url_patterns, namespace, {})
    return found


ROUTES = _named_routes()


def test_the_walk_finds_every_kind_of_route():
    names = {name for name, _params in ROUTES}
    assert {"home", "agreement-list", "agreement-export", "region-detail", "affair-detail", "needoffer-create",
            "user-list", "login", "password_reset_confirm", "set_language", "admin:index",
            "admin:agreements_agreement_change", "admin:app_list"} <= names
    assert len(ROUTES) > 80


# Candidate values of regex groups (the export's format, the admin's app labels, the API router's keys and format
# suffix: a region's or an affair's code, a primary key).
REGEX_VALUES = {"fmt": ["csv", "xlsx"], "app_label": ["agreements", "auth", "axes"], "code": ["32.73", "2.11"],
                "format": ["json"], "pk": ["1", "999999"]}


def _urls(name: str, params: dict[str, str], objects: dict) -> list[tuple[str, bool]]:
    """The URLs to ask for one route, each with whether it is made of real keys: real keys (an existing object)
    first, then 999999 in each int converter and every hostile value in each string converter."""
    if not params:
        return [(reverse(name), True)]
    real, hostile = {}, {}
    for kwarg, kind in params.items():
        if kind == "IntConverter":
            real[kwarg] = [objects.get((name, kwarg), objects.get(kwarg, 999_999))]
            hostile[kwarg] = [999_999]
        elif kind == "positional":
            real[kwarg] = [str(objects["pk"])]
            hostile[kwarg] = [NUL, "abc", "999999"]
        elif kind == "regex":
            real[kwarg] = hostile[kwarg] = REGEX_VALUES.get(kwarg, ["x"])
        else:  # str, path, slug, uuid: a real value where one exists, then NUL and a very long value
            real[kwarg] = [objects.get((name, kwarg), objects.get(kwarg, "1"))]
            hostile[kwarg] = [NUL, f"a{NUL}b", LONG] if kind in ("StringConverter", "PathConverter") else real[kwarg]
    urls = []
    for is_real, values in ((True, real), (False, hostile)):
        keys = list(values)
        for combo in itertools.product(*(values[k] for k in keys)):
            given = dict(zip(keys, combo, strict=True))
            args = [v for k, v in given.items() if k.startswith("#")]
            try:
                urls.append((reverse(name, args=args) if args else reverse(name, kwargs=given), is_real))
            except NoReverseMatch:
                continue
    assert urls, f"no URL could be built for {name} {params}"
    return list(dict.fromkeys(urls))  # (url, real) pairs, in order, without repeats


@pytest.fixture
def objects(db, media_root):
    """A few real objects, so that pages with a key are asked for an existing object too (not only 404s)."""
    kb = AgreementFactory(regions=["32.73", "32.04"])
    pks = PksFactory(parent=kb, regions=["32.73", "32.04"])
    milestone = MilestoneFactory(agreement=pks, due_on=datetime.date(2024, 6, 30))
    (media_root / "documents").mkdir()
    (media_root / "documents" / "scan.pdf").write_bytes(b"%PDF-1.4 test")
    document = Document.objects.create(agreement=pks, file="documents/scan.pdf", original_name="scan.pdf",
                                       content_type="application/pdf", size=13)
    obstacle = Obstacle.objects.create(agreement=kb, category=Obstacle.Category.BUDGET, description="Anggaran",
                                       raised_on=datetime.date(2024, 3, 1))
    followup = FollowUp.objects.create(agreement=kb, kind=FollowUp.Kind.LETTER, date=datetime.date(2024, 3, 1),
                                       note="Surat")
    need = NeedOfferFactory(region="32.73", affair="3.26")
    officer = UserFactory(username="hostile-kota-bandung", role="local", region=region("32.73"), language="en")
    proposer = UserFactory(username="hostile-kab-bandung", role="local", region=region("32.04"), language="en")
    proposal = services.proposal_create(user=proposer, partner_region=region("32.73"), affair=need.affair,
                                        message="Ajakan", need_offer=need)
    return {
        "pk": kb.pk, "object_id": str(kb.pk), "code": "32.73", "id": str(officer.pk), "content_type_id": 999_999,
        ("agreement-detail", "pk"): pks.pk, ("milestone-update", "pk"): milestone.pk,
        ("document-download", "pk"): document.pk, ("followup-attachment", "pk"): followup.pk,
        ("obstacle-resolve", "pk"): obstacle.pk,
        ("user-edit", "pk"): officer.pk, ("needoffer-edit", "pk"): need.pk, ("affair-detail", "code"): "3.26",
        ("admin:agreements_region_change", "object_id"): str(region("32.73").pk),
        ("proposal-detail", "pk"): proposal.pk, ("proposal-accept", "pk"): proposal.pk,
        ("proposal-decline", "pk"): proposal.pk,
        "officer": officer,
        **_results(pks, officer),
    }


def _results(pks, officer) -> dict:
    """An indicator with a value and a financing line on the PKS, for the results' pages (their keys)."""
    from agreements import results

    indicator = results.indicator_save(
        user=officer, agreement=pks, name="Rumah tangga terlayani", unit="rumah tangga", baseline_value=1,
        baseline_on=datetime.date(2024, 1, 1), target_value=2, target_on=datetime.date(2026, 12, 31))
    results.actual_record(user=officer, indicator=indicator, period_start=datetime.date(2024, 1, 1),
                          period_end=datetime.date(2024, 12, 31), value=1)
    line = results.financing_save(user=officer, agreement=pks, region=region("32.73"), fiscal_year=2025,
                                  source="apbd", planned_idr=1, realised_idr=None)
    return {("indicator-edit", "pk"): indicator.pk, ("actual-create", "pk"): indicator.pk,
            ("financing-edit", "pk"): line.pk, ("financing-delete", "pk"): line.pk,
            ("indicator-create", "pk"): pks.pk, ("financing-create", "pk"): pks.pk}

def _status(client, method: str, url: str, data=None) -> int | str:
    """The status code, after reading a streamed body (an export fails while streaming, not before)."""
    try:
        response = getattr(client, method)(url, data)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # the test client closes it at the end (never close() it twice:
            # request_finished would close the test's database connection)
    except Exception as exc:  # noqa: BLE001 - any exception is what this test reports
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return response.status_code


def _fails(name: str, status) -> bool:
    return isinstance(status, str) or (status >= 500 and status not in MAY_FAIL.get(name, set()))


@pytest.mark.parametrize("persona", ["anonymous", "ministry", "local", "admin"])
def test_no_route_answers_5xx_to_hostile_parameters(client, objects, persona):
    user = {
        "anonymous": None,
        "ministry": UserFactory(username="hostile-ministry", role="ministry", language="en"),
        "local": objects["officer"],
        "admin": UserFactory(username="hostile-admin", role="admin", is_staff=True, is_superuser=True, language="en"),
    }[persona]
    if user is not None:
        client.force_login(user)
    failures, seen, answered = [], set(), collections.Counter()
    for name, params in ROUTES:
        is_admin = name.startswith("admin:")
        for url, real in _urls(name, params, objects):
            if url in seen:
                continue
            seen.add(url)
            if is_admin != (persona == "admin"):
                # The administrator is tested on the admin, the others on the app; the other side only gets its
                # hostile paths (the others: redirects to the admin's login), to keep the test quick.
                requests = [("get", url, None)] if not real or persona != "admin" else []
            elif real:
                requests = [("get", url, q) for q in (ADMIN_QUERIES if is_admin else HOSTILE_QUERIES)]
                requests.append(("post", url, {f: NUL for f in POST_FIELDS}))
            else:
                requests = [("get", url, None)]
            for method, target, data in requests:
                status = _status(client, method, target, data)
                answered[status] += 1
                if _fails(name, status):
                    shown = {k[:20]: v[:20] for k, v in (data or {}).items()}
                    failures.append(f"{method.upper()} {re.sub('x{50,}', 'x…', target)} {shown} -> {status}")
            if user is not None and "logout" in name:
                client.force_login(user)  # signed in again, should a hostile request have signed the user out
    # The signed-in personas stayed signed in: pages were answered, not only redirects to the login.
    assert answered[200] >= (20 if user is not None else 1), answered
    report = f"{len(failures)} requests failed as {persona}:\n" + "\n".join(failures)
    assert not failures, report


# --- 1. The as-of date: a form error and today, never an overflow ------------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
@pytest.mark.parametrize("url", ["/", "/agreements/", "/affairs/", "/affairs/3.26/"])
def test_an_as_of_date_out_of_range_is_a_form_error_and_the_page_shows_today(client, staff, url, value):
    AgreementFactory()
    client.force_login(staff)
    response = client.get(url, {"as_of": value})
    assert response.status_code == 200
    assert "Enter a date between 1 January 1900 and 31 December 2200." in response.content.decode()
    shown = response.context.get("as_of") or response.context.get("summary", response.context.get("matrix")).as_of
    assert shown == stalls.today()


@pytest.mark.parametrize("value", ["1900-01-01", "2200-12-31"])
def test_the_limits_of_the_as_of_range_are_accepted(client, staff, value):
    AgreementFactory()
    client.force_login(staff)
    for url in ("/", "/agreements/", "/affairs/"):
        response = client.get(url, {"as_of": value})
        assert response.status_code == 200
        assert "Enter a date between" not in response.content.decode()
    assert client.get("/agreements/", {"as_of": value}).context["as_of"] == datetime.date.fromisoformat(value)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_with_an_as_of_date_out_of_range_is_as_of_today(client, staff, fmt):
    AgreementFactory()
    client.force_login(staff)
    response = client.get(f"/agreements/export.{fmt}", {"as_of": "0001-01-01"})
    assert response.status_code == 200
    assert f"kerjasama-agreements-{stalls.today().isoformat()}.{fmt}" in response["Content-Disposition"]
    b"".join(response.streaming_content)


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["stalled", "send_reminders"])
@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_the_commands_refuse_an_as_of_date_out_of_range(command, value):
    with pytest.raises(CommandError, match="--as-of must be between 1900-01-01 and 2200-12-31"):
        call_command(command, as_of=value, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_commands_accept_the_limits_of_the_range():
    for value in ("1900-01-01", "2200-12-31"):
        call_command("stalled", as_of=value, stdout=io.StringIO())
        call_command("send_reminders", as_of=value, dry_run=True, stdout=io.StringIO())


# --- 2. NUL characters: 400 at the door ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        ("get", "/regions/%00/", {}),
        ("get", "/affairs/%00/", {}),
        ("get", "/regions/32.73/followups/?x=%00", {}),
        ("get", "/needs/new/", {"data": {"affair": NUL}}),
        ("get", "/users/", {"data": {"q": NUL}}),
        ("get", "/agreements/", {"data": {"q": "air" + NUL}}),
        ("get", "/agreements/", {"data": {NUL: "1"}}),
        ("post", "/needs/new/", {"data": {"description": "a" + NUL + "b", "region": "32.73"}}),
        ("post", "/accounts/login/", {"data": {"username": NUL, "password": NUL}}),
        ("get", "/", {"HTTP_USER_AGENT": "robot" + NUL}),
        ("get", "/", {"HTTP_COOKIE": 'sessionid="\\000abcdefgh"'}),
    ],
)
def test_a_nul_character_anywhere_is_answered_400_before_any_query(client, staff, method, url, kwargs,
                                                                    django_assert_num_queries):
    with django_assert_num_queries(0):
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 400


def test_uploaded_files_may_hold_nul_bytes_and_a_nul_in_their_name_is_no_error(client, staff, objects):
    client.force_login(staff)
    pks = objects[("agreement-detail", "pk")]
    # Django's multipart parser drops non-printable characters from file names itself.
    named = SimpleUploadedFile("scan\x00.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert client.post(f"/agreements/{pks}/documents/new/", {"file": named}).status_code < 500
    binary = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\x00\x00binary", content_type="application/pdf")
    assert client.post(f"/agreements/{pks}/documents/new/", {"file": binary}).status_code != 400


# --- 3. Methods and caching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT", "PROPFIND", "FOO"])
def test_methods_outside_the_allowed_set_are_answered_405_early(client, db, method, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.generic(method, "/accounts/login/")
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"])
def test_allowed_methods_reach_the_views(client, db, method):
    assert client.generic(method, "/healthz").status_code != 405 or method not in ("GET", "HEAD")
    assert client.generic(method, "/healthz").status_code < 500


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_signed_in_pages_downloads_and_exports_are_private_and_not_stored(client, staff, objects):
    client.force_login(staff)
    pks = objects[("agreement-detail", "pk")]
    document = objects[("document-download", "pk")]
    for url in ("/", "/agreements/", f"/agreements/{pks}/", "/agreements/export.csv", "/agreements/export.xlsx",
                f"/documents/{document}/", "/import/template.xlsx", "/regions/32.73/", "/profile/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= _cache_control(response), url
        if response.streaming:
            b"".join(response.streaming_content)


def test_a_response_that_already_says_no_store_is_left_alone(client, staff):
    client.force_login(staff)
    response = client.get("/healthz")  # never_cache
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_anonymous_responses_are_not_marked_private_and_cost_no_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "no-store" not in _cache_control(response)
    assert "private" not in _cache_control(response)


def test_the_login_redirect_after_signing_in_is_not_stored(client, db):
    user = UserFactory(username="hostile-rina", language="en")
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert {"private", "no-store"} <= _cache_control(response)


def test_a_bad_request_gets_the_apps_own_400_page(client, staff):
    client.force_login(staff)
    response = client.get("/regions/%00/")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode() and "Nothing was changed" in response.content.decode()
