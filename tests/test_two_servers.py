"""Two application servers, one PostgreSQL, one Redis: what one server does, the other sees.

Two gunicorn processes on two ports serve the test database with ``CACHE_URL`` on the local Redis and one
``MEDIA_ROOT``, like two machines behind a load balancer with a shared mount (or object storage). One browser (one
cookie jar, as through the balancer) logs in on A and is signed in on B; a document uploaded on A downloads from B;
a guidance page saved on A changes the cached step links B shows; an import uploaded and confirmed on A is run by a
separate worker process and its result is seen on B. Nothing here is held by one server alone.

PostgreSQL only (SQLite is one file on one machine). It needs Redis on 127.0.0.1:6379 and the ``redis`` package;
without them it is skipped, saying why, except in CI (``CI`` set), where it fails instead: CI has both.
``TWO_SERVERS_CACHE_URL`` names another shared cache (``db://kerjasama_cache`` runs it on the database cache).
"""

import html.parser
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.urls import reverse

from agreements import steps
from agreements.models import Agreement, Document, GuidancePage, ImportJob
from agreements.spreadsheet import AGREEMENT_COLUMNS
from tests.factories import AgreementFactory, UserFactory
from tests.test_import import agreement_row, csv_bytes
from tests.test_uploads import PDF_BYTES

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8210, 8220)
PASSWORD = "dua-server-kerjasama"  # noqa: S105


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI has PostgreSQL and Redis, so this test must run there.")
    pytest.skip(reason)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _cache_url() -> str:
    chosen = os.environ.get("TWO_SERVERS_CACHE_URL")
    if chosen:
        return chosen
    if importlib.util.find_spec("redis") is None:
        _unavailable("the redis package is not installed")
    if not _redis_answers():
        _unavailable("Redis does not answer on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


def _free_ports(count: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"no {count} free ports in {PORTS.start}-{PORTS.stop - 1}")


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Cluster:
    """Two servers started by this test, and the environment of a worker beside them."""

    def __init__(self, env: dict, ports: list[int]):
        self.env = env
        self.urls = [f"http://127.0.0.1:{port}" for port in ports]
        self.processes = []

    def start(self, log_dir: Path) -> None:
        for url in self.urls:
            log = open(log_dir / f"server-{url.rsplit(':', 1)[1]}.log", "wb")  # noqa: SIM115 (closed in stop)
            self.processes.append((subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "gunicorn", "kerjasama.wsgi:application", "--bind", url.removeprefix("http://"),
                 "--workers", "1", "--threads", "2", "--timeout", "60", "--error-logfile", "-"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
        import requests

        deadline = time.monotonic() + 30
        for url in self.urls:
            while True:
                try:
                    if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):  # still starting: the worker loads the app
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{url} did not start; see {log_dir}")
                time.sleep(0.2)

    def stop(self) -> None:
        for process, log in self.processes:  # only the processes this test started, by their id
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            log.close()

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,  # noqa: S603
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def cluster(tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("two servers share PostgreSQL; SQLite is one file on one machine")
    cache_url = _cache_url()
    media = tmp_path / "shared-media"
    media.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CACHE_"))}
    env.update({
        "DEBUG": "1", "DATABASE_URL": _database_url(), "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": f"two-servers-{uuid.uuid4().hex[:8]}", "MEDIA_ROOT": str(media),
        "TASK_BACKEND": "database", "AXES_ENABLED": "0", "CONN_MAX_AGE": "0", "SECRET_KEY": django_settings.SECRET_KEY,
    })
    servers = Cluster(env, _free_ports(2))
    if cache_url.startswith("db://"):
        servers.manage("createcachetable")
    try:
        servers.start(tmp_path)
        yield servers
    finally:
        servers.stop()


class _Form(html.parser.HTMLParser):
    """The fields of the form ``form_id``, as a browser would send them unchanged."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.fields, self._select, self._textarea, self._inside, self._done = {}, None, None, False, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id and not self._done:
            self._inside = True
        if not self._inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._inside:
            self._inside, self._done = False, True

    def handle_data(self, data):
        if self._textarea and self._inside:
            self.fields[self._textarea] += data.removeprefix("\n") if not self.fields[self._textarea] else data


def _post(browser, url, data, **kwargs):
    return browser.post(url, data={**data, "csrfmiddlewaretoken": browser.cookies.get("csrftoken", "")},
                        headers={"Referer": url}, allow_redirects=False, timeout=30, **kwargs)


def test_a_session_an_upload_a_cache_invalidation_and_an_import_cross_servers(cluster, settings):
    import requests

    a, b = cluster.urls
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the servers check
    user = UserFactory(username="dua-server", role="admin", is_staff=True, is_superuser=True, language="en")
    user.password = make_password(PASSWORD)
    user.save(update_fields=["password"])
    agreement = AgreementFactory()
    steps.create_steps(agreement)
    first = agreement.steps.order_by("order", "pk").first()
    page = GuidancePage.objects.create(slug="dua-server-satu", step_code=first.code, title_id="Satu", title_en="One",
                                       body_id="Teks", body_en="Text")
    browser = requests.Session()  # one cookie jar: a browser behind a load balancer that picks A, then B

    # A session opened on A is a session on B.
    login = reverse("login")
    browser.get(f"{a}{login}", timeout=30)
    response = _post(browser, f"{a}{login}", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    on_b = browser.get(f"{b}/", allow_redirects=False, timeout=30)
    assert on_b.status_code == 200 and user.username in on_b.text

    # A document uploaded on A downloads from B.
    upload_url = f"{a}{reverse('document-upload', args=[agreement.pk])}"
    browser.get(upload_url, timeout=30)
    response = _post(browser, upload_url, {"doc_type": "kb"}, files={"file": ("kb.pdf", PDF_BYTES, "application/pdf")})
    assert response.status_code == 302, response.text[:500]
    document = Document.objects.get(agreement=agreement)
    download = browser.get(f"{b}{reverse('document-download', args=[document.pk])}", timeout=30)
    assert download.status_code == 200 and download.content == PDF_BYTES

    # B caches the step's guidance link; the page saved on A (the admin forgets the cached links) changes it on B.
    agreement_url = agreement.get_absolute_url()
    assert "/guidance/dua-server-satu/" in browser.get(f"{b}{agreement_url}", timeout=30).text
    change_url = f"{a}{reverse('admin:agreements_guidancepage_change', args=[page.pk])}"
    form = _Form("guidancepage_form")
    form.feed(browser.get(change_url, timeout=30).text)
    assert form.fields.get("step_code") == first.code, form.fields
    response = _post(browser, change_url, {**form.fields, "slug": "dua-server-dua", "_save": "Save"})
    assert response.status_code == 302, response.text[:2000]
    on_b = browser.get(f"{b}{agreement_url}", timeout=30).text
    assert "/guidance/dua-server-dua/" in on_b and "/guidance/dua-server-satu/" not in on_b

    # B serves the register's first page of the API from the shared figures cache (``datacache``) ...
    api = f"{b}/api/v1/agreements/"
    before = browser.get(api, timeout=30).json()["count"]
    assert browser.get(api, timeout=30).json()["count"] == before

    # An import uploaded and confirmed on A, run by a worker process, is done on B.
    upload_url = f"{a}{reverse('import-upload')}"
    browser.get(upload_url, timeout=30)
    data = csv_bytes([AGREEMENT_COLUMNS, agreement_row(number="KB/777/2024")])
    response = _post(browser, upload_url, {}, files={"agreements_file": ("dua-server.csv", data, "text/csv")})
    assert response.status_code == 200 and "KB/777/2024" in response.text, response.text[:2000]
    job = ImportJob.objects.get(agreements_name="dua-server.csv")
    assert job.state == ImportJob.State.PREVIEW
    response = _post(browser, upload_url, {"action": "confirm", "token": str(job.pk)})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED  # waiting for a worker: neither server ran it
    worker = cluster.manage("worker", "--batch", "--no-periodic")
    assert worker.returncode == 0, worker.stderr[-2000:]
    job_page = browser.get(f"{b}{reverse('import-job', args=[job.pk])}", timeout=30)
    assert job_page.status_code == 200 and "The import is done" in job_page.text
    assert Agreement.objects.filter(number="KB/777/2024").exists()
    # ... and the worker's import changed the data version for every server: B counts the new agreement.
    assert browser.get(api, timeout=30).json()["count"] == before + 1

