"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test here is marked ``browser``. When /usr/bin/chromium is missing (a laptop without it) the tests are
deselected with a plain message at the end of the run, never skipped one by one; on CI (``CI`` set) a missing
Chromium is an error instead, so the browser tests cannot silently vanish there.

The live server answers from another thread of this process on the same test database, so the tests are
transactional (``live_server`` flushes the database after each test). The reference data (regions, affairs)
comes from a data migration; the ``live`` fixture puts it back when a previous test's flush removed it.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# The flags of /work/shared/tools/look.py: no sandbox in containers, no GPU, no traffic to Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
INDONESIA = {"locale": "id-ID", "timezone_id": "Asia/Jakarta"}  # a browser set up as in Indonesia
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "kerjasama-demo"
BROWSER_DIR = Path(__file__).resolve().parent

_deselected_for_missing_chromium: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Mark every test of tests/browser/ ``browser``; without Chromium, deselect them and say so plainly."""
    browser_items = [item for item in items if BROWSER_DIR in Path(str(item.path)).parents]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if CHROMIUM.exists() or not browser_items or "not browser" in (config.option.markexpr or ""):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing on CI: install it (apt-get install chromium).")
    config.hook.pytest_deselected(items=browser_items)
    items[:] = [item for item in items if item not in browser_items]
    _deselected_for_missing_chromium.extend(item.nodeid for item in browser_items)


def pytest_terminal_summary(terminalreporter):
    if _deselected_for_missing_chromium:
        terminalreporter.write_line(
            f"BROWSER TESTS NOT RUN: {CHROMIUM} is missing, so {len(_deselected_for_missing_chromium)} browser "
            f"tests were left out (apt-get install chromium to run them).", yellow=True, bold=True,
        )


@pytest.fixture(scope="session", autouse=True)
def _browser_environment():
    """Set when the first browser test runs (never for a run without them), and left set for the session.

    Playwright's sync API runs an asyncio event loop in this thread, alive until the session ends; Django then
    refuses ORM calls from the thread unless told that this is fine (the documented Playwright + Django pattern;
    the loop never runs Django code itself). The live server listens on 127.0.0.1, not "localhost", so that
    "no request leaves 127.0.0.1" is checked literally."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, pointed at Debian's Chromium (no browser download is possible)."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _live_server_media_url():
    """Django's live server thread wraps the app in a media-files handler that reads MEDIA_URL once, when it
    starts; this project leaves MEDIA_URL unset (Django's "": uploads are served only through views that check
    access), and that handler takes "" as the prefix of every path, trying each request as a file under
    MEDIA_ROOT first. So the server starts with a path nobody links to (see live_server)."""
    from django.conf import settings as django_settings

    original = django_settings.MEDIA_URL
    django_settings.MEDIA_URL = "/__live-server-media-unused__/"
    return original


@pytest.fixture(scope="session")
def live_server(_live_server_media_url, live_server):
    """pytest-django's live server; MEDIA_URL is back to the project's value as soon as it runs."""
    from django.conf import settings as django_settings

    django_settings.MEDIA_URL = _live_server_media_url
    return live_server


@pytest.fixture(scope="session")
def _reference_rows(django_db_setup, django_db_blocker):
    """The reference rows (affairs, provinces, then kabupaten/kota) as the migration wrote them, read once,
    before any transactional test flushed them; restoring them with bulk_create takes a fraction of a second
    where re-running the loader (one update_or_create a row) takes seconds on a busy PostgreSQL."""
    from agreements.models import GovernmentAffair, Region
    from agreements.reference import load_reference_data

    with django_db_blocker.unblock():
        if not Region.objects.exists():  # a transactional test of the same run flushed them already
            load_reference_data(Region, GovernmentAffair)
        affairs = list(GovernmentAffair.objects.order_by("pk"))
        regions = list(Region.objects.order_by("province_id", "pk"))  # provinces (no province) first
    return affairs, regions


@pytest.fixture
def live(live_server, transactional_db, _reference_rows, settings, media_root):
    """The live server's base URL, with uploads in a temporary MEDIA_ROOT and the reference data present."""
    from agreements.models import GovernmentAffair, Region

    if not Region.objects.exists():  # flushed after the previous transactional test
        affairs, regions = _reference_rows
        GovernmentAffair.objects.bulk_create(affairs)
        Region.objects.bulk_create([r for r in regions if r.province_id is None])
        Region.objects.bulk_create([r for r in regions if r.province_id is not None])
    assert Region.objects.filter(code="32.73").exists()
    from agreements import steps

    steps.install_default_templates()  # the step templates of migration 0014, flushed with the rest
    # The semester evaluation's questions of migration 0018, flushed with the rest: its own function puts them back.
    import importlib

    from django.apps import apps

    importlib.import_module("agreements.migrations.0018_evaluation_questions").add_questions(apps, None)
    return live_server.url


@pytest.fixture
def demo_data(live):
    """The demo data set, small: every stage and stall reason, and the demo accounts (password kerjasama-demo)."""
    from django.core.management import call_command

    call_command("seed_demo", agreements=60, seed=1, force=True, stdout=open(os.devnull, "w"))  # noqa: SIM115


def csp_allows_inline_script(csp: str) -> bool:
    """True when a page with this Content-Security-Policy would run an inline <script> (as look.py judges it)."""
    directives = {d.split()[0].lower(): d.split()[1:] for d in csp.split(";") if d.strip()}
    src = directives.get("script-src", directives.get("default-src"))
    if src is None:
        return True
    return "'unsafe-inline'" in src and not any(v.startswith(("'nonce-", "'sha")) for v in src)


@dataclass
class Watch:
    """What a person would trip over on the pages a test visits; ``problems()`` must be empty at the end."""

    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    bad_csp: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    def attach(self, page):
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(f"{page.url}: {m.text[:200]}"))
        page.on("pageerror", lambda exc: self.console_errors.append(f"{page.url}: {exc}"))
        page.on("request", self._request)
        page.on("response", self._response)
        return page

    def _request(self, request):
        url = request.url
        if not url.startswith(("data:", "blob:")) and urlparse(url).hostname != "127.0.0.1":
            self.external_requests.append(url[:160])

    def _response(self, response):
        if response.status >= 400:
            self.http_errors.append(f"{response.status} {response.url}")
        if response.request.resource_type == "document":
            self.documents.append(response.url)
            csp = response.headers.get("content-security-policy", "")
            if csp_allows_inline_script(csp):
                self.bad_csp.append(f"{response.url}: {csp or 'no Content-Security-Policy header'}")

    def problems(self) -> dict:
        found = {"console errors": self.console_errors, "requests leaving 127.0.0.1": self.external_requests,
                 "CSP allowing inline script": self.bad_csp, "HTTP errors": self.http_errors}
        return {k: v for k, v in found.items() if v}


@pytest.fixture
def open_page(browser):
    """``open_page(phone=False)``: a new page in its own context, watched; every watch is checked at teardown."""
    contexts, watches = [], []

    def _open(*, phone: bool = False):
        context = browser.new_context(**(PHONE if phone else DESKTOP), **INDONESIA, accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        watch = Watch()
        watches.append(watch)
        page = watch.attach(context.new_page())
        page.watch = watch
        return page

    yield _open
    for context in contexts:
        context.close()
    for watch in watches:
        assert watch.documents, "the test visited no page"
        assert watch.problems() == {}


def log_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, "the log-in failed"


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in artifacts/screenshots/ (gitignored; CI keeps it as a test artefact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def serious_axe_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v.get('help', '')} — " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in result.response.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]
