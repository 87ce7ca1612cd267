"""Performance benchmark at national scale: ``make bench``.

For each size (default 2,000 then 20,000 agreements) it seeds the deterministic dataset of
``agreements.benchdata`` into a dedicated PostgreSQL database, serves the app with gunicorn
(2 workers, DEBUG off, HTTPS redirect/HSTS/secure cookies switched off through the environment) and
measures over real HTTP, logged in with a session cookie, the median and p95 latency of every page
(``--requests`` timed requests after ``--warmup`` untimed ones), plus each page's SQL query count
measured in-process (``django.test.Client`` + ``CaptureQueriesContext``, same database). It also
times ``manage.py stalled --format json`` (a subprocess, Django start-up included) and the CSV export
of every agreement, served by a separate single-worker gunicorn whose peak resident memory
(``VmHWM`` of the worker in /proc) is read after the download. At the largest size it runs locust
headless (50 users, 1–3 s waits, 60 s). It prints a table with both sizes, their ratio and the
budgets, and writes everything to ``bench_results.json``.

The pages (``PAGES``) include the report index and one region's report for the period being reported now, the
API's agreement list (with the session), an officer's "My agreements" (``bench_officer``, kabupaten/kota officer of
the region that is a party of the most agreements) and the public page (anonymous; one signed agreement in four is
published after seeding, ``--no-publish`` for none). Each size records the database's size (``db_mb``) and the
1-minute load average before its pages are timed; above 50,000 agreements the seeding first checks that
PostgreSQL's data directory has 10 GB free. ``--pages dashboard,report`` times only some pages and
``--skip-stalled-export`` skips the stalled command and the export, for quick iterations.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kerjasama_bench .venv/bin/python scripts/bench.py

DATABASE_URL defaults to that URL; the database is created when missing, migrated, TRUNCATEd and
reseeded, so the script refuses a database whose name does not contain "bench" (``--force`` to
override) and refuses SQLite. Every process it starts is stopped by pid at the end, also on error.
"""

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kerjasama_bench"
HOST = "127.0.0.1"
PASSWORD = "bench-" + secrets.token_hex(8)
MINISTRY_USER, ADMIN_USER = "bench_ministry", "bench_admin"
OFFICER_USER = "bench_officer"  # a kabupaten/kota officer of the region with the most agreements ("My agreements")
ANONYMOUS = None  # the public pages: no session
PROVINCE = "35"  # Jawa Timur: the province with the most kabupaten/kota
SEARCH = "sampah"

# name -> (p95 budget in ms, kind of page); the budgets the pages must meet (README, "Performance").
PAGES = {
    "dashboard": 250,
    "dashboard_province": 250,
    "list": 150,
    "list_province": 150,
    "list_search": 150,
    "agreement": 100,
    "region": 150,
    "affairs_map": 250,
    "admin_changelist": 300,
    "report_index": 150,
    "report": 150,
    "api_list": 150,
    "my_agreements": 150,
    "public": 150,
}
# Who opens each page (default: the ministry user): the admin changelist as the administrator, "My agreements" as
# the officer, the public page without a session. The query counts are taken as the same user.
PAGE_USERS = {"admin_changelist": ADMIN_USER, "my_agreements": OFFICER_USER, "public": ANONYMOUS}
# Seeding more agreements than this needs room: the free space of PostgreSQL's data directory is checked first.
DISK_CHECK_ABOVE = 50_000
DISK_MIN_FREE_GB = 10.0
# The benchmark dataset publishes nothing; one signed agreement in PUBLISH_EVERY is published after seeding so
# that the public page lists and counts a national share (``--no-publish``: none, the page then lists nothing).
PUBLISH_EVERY = 4
STALLED_BUDGET_S = 3.0
EXPORT_BUDGET_S = 10.0
EXPORT_BUDGET_MB = 250.0
LOAD_P95_BUDGET_MS = 500


def page_user(name: str) -> str | None:
    return PAGE_USERS.get(name, MINISTRY_USER)


def page_paths(big_pks_id: int, report_path: str = "/reports/") -> dict[str, str]:
    """Every page's path; ``report_path`` is one region's report for a period (``report_path_for``)."""
    return {
        "dashboard": "/",
        "dashboard_province": f"/?province={PROVINCE}",
        "list": "/agreements/",
        "list_province": f"/agreements/?province={PROVINCE}",
        "list_search": f"/agreements/?q={SEARCH}",
        "agreement": f"/agreements/{big_pks_id}/",
        "region": f"/regions/{PROVINCE}/",
        "affairs_map": "/affairs/",
        "admin_changelist": "/admin/agreements/agreement/",
        "report_index": "/reports/",
        "report": report_path,
        "api_list": "/api/v1/agreements/",
        "my_agreements": "/my/",
        "public": "/public/",
    }


# --- the database -------------------------------------------------------------------------------


def check_database_url(url: str, force: bool = False) -> str:
    """The database name; SystemExit with a clear message for SQLite or a name without "bench"."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise SystemExit(
            f"bench: DATABASE_URL must be a PostgreSQL URL (postgres://...), not {parsed.scheme or url!r}: the "
            "budgets are for PostgreSQL and SQLite cannot hold the national dataset meaningfully."
        )
    name = parsed.path.lstrip("/")
    if not name:
        raise SystemExit("bench: DATABASE_URL has no database name")
    if "bench" not in name and not force:
        raise SystemExit(
            f"bench: refusing to TRUNCATE and reseed database {name!r}: its name does not contain 'bench'. "
            "Use a dedicated database (default kerjasama_bench) or pass --force."
        )
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1", None):
        raise SystemExit("bench: only a local PostgreSQL (127.0.0.1) is benchmarked")
    return name


def ensure_database(url: str, name: str) -> None:
    import psycopg2

    parsed = urllib.parse.urlparse(url)
    conn = psycopg2.connect(
        dbname="postgres", user=parsed.username or "postgres", password=parsed.password,
        host=parsed.hostname or HOST, port=parsed.port or 5432,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}", flush=True)
    finally:
        conn.close()


def server_env(url: str, static_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{HOST},testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "kerjasama.settings",
        # The API's per-address limit (600 an hour) would answer 429 to the timed requests and the load test, all
        # from 127.0.0.1: raised, the throttle's own queries are still made and timed.
        "API_RATE_PER_ADDRESS": "100000000",
    })
    # The figures cache as in production: one Redis for every worker and this process (so a change of the data
    # version made here reaches the servers); each process's own memory when no Redis answers on 127.0.0.1:6379.
    if "CACHE_URL" not in os.environ and redis_answers():
        env["CACHE_URL"] = "redis://127.0.0.1:6379/0"
        env["CACHE_KEY_PREFIX"] = "bench-" + secrets.token_hex(4)
    return env


def redis_answers() -> bool:
    try:
        with socket.create_connection((HOST, 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- processes ----------------------------------------------------------------------------------


class Processes:
    """Processes started here, stopped by pid (SIGTERM, then SIGKILL after a bounded wait)."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, args, env, log_path) -> subprocess.Popen:
        log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        proc._bench_log = log
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        proc._bench_log.close()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(procs: Processes, env, workers: int, log_path: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = procs.start(
        [str(VENV_BIN / "gunicorn"), "kerjasama.wsgi:application", "--bind", f"{HOST}:{port}",
         "--workers", str(workers), "--timeout", "120", "--access-logfile", "-"],
        env, log_path,
    )
    base = f"http://{HOST}:{port}"
    for _ in range(150):  # up to 30 s
        if proc.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: gunicorn did not answer /healthz in 30 s; see {log_path}")


def worker_pids(master_pid: int) -> list[int]:
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- HTTP ---------------------------------------------------------------------------------------


class Browser:
    """A logged-in HTTP client: urllib with a cookie jar (session cookie, CSRF cookie)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, timeout: float = 120) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def login(self, username: str, password: str) -> None:
        status, body = self.get("/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not match:
            raise SystemExit(f"bench: the login page answered {status} without a CSRF token")
        data = urllib.parse.urlencode({
            "username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode(),
        }).encode()
        request = urllib.request.Request(self.base + "/accounts/login/", data=data,
                                         headers={"Referer": self.base + "/accounts/login/"})
        with self.opener.open(request, timeout=60) as r:
            r.read()
        if not self.cookie("sessionid"):
            raise SystemExit(f"bench: could not log in as {username}")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by linear interpolation (as numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class PageError(SystemExit):
    """A page did not answer 200: the message carries the end of the server's log."""


def fail(path: str, status: int, log_path: str | None) -> None:
    tail = ""
    if log_path and os.path.exists(log_path):
        tail = "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-40:])
    raise PageError(f"bench: GET {path} answered {status}\n{tail}")


def time_page(browser: Browser, path: str, warmup: int, requests: int, max_seconds: float,
              log_path: str | None = None) -> dict:
    """``warmup`` untimed requests, then ``requests`` timed ones, or fewer when they take more than
    ``max_seconds`` in all (a page far over budget would otherwise hold the run for an hour; the
    result then says how many requests were timed and ``capped`` is true). ``cold_ms`` is the first request after a
    new data version (every cached figure recomputed, as after a write; meaningful with a shared cache)."""
    from agreements import datacache

    datacache.bump()
    cold_ms = None
    for _ in range(max(warmup, 1)):
        start = time.perf_counter()
        status, _body = browser.get(path)
        if cold_ms is None:
            cold_ms = round((time.perf_counter() - start) * 1000, 1)
        if status != 200:
            fail(path, status, log_path)
    times = []
    deadline = time.monotonic() + max_seconds
    for i in range(requests):
        if i >= 10 and time.monotonic() > deadline:
            break
        start = time.perf_counter()
        status, body = browser.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            fail(path, status, log_path)
    return {
        "path": path, "requests": len(times), "capped": len(times) < requests,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1), "max_ms": round(max(times), 1), "bytes": len(body),
        "cold_ms": cold_ms,
    }


# --- in-process (query counts, users) ----------------------------------------------------------


def django_setup(env: dict) -> None:
    for key in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "STATIC_ROOT", "LOG_LEVEL", "DJANGO_SETTINGS_MODULE",
                "API_RATE_PER_ADDRESS"):
        os.environ[key] = env[key]
    for key in ("CACHE_URL", "CACHE_KEY_PREFIX"):  # the servers' cache, when shared (``server_env``)
        if key in env:
            os.environ[key] = env[key]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def busiest_local_region():
    """The kabupaten/kota (autonomous, not a province) that is a party of the most agreements; ties by code."""
    from django.db.models import Count

    from agreements.models import Region

    return (Region.objects.filter(is_autonomous=True).exclude(level=Region.Level.PROVINCE)
            .annotate(n=Count("parties")).order_by("-n", "code").first())


def ensure_users():
    """The ministry, administrator and officer users (the officer's region: ``busiest_local_region``), each with
    ``PASSWORD``; returns the officer's region, annotated with ``n`` (its agreements)."""
    from agreements.models import User

    region = busiest_local_region()
    for username, role, staff, user_region in (
        (MINISTRY_USER, User.Role.MINISTRY, False, None),
        (ADMIN_USER, User.Role.ADMIN, True, None),
        (OFFICER_USER, User.Role.LOCAL, False, region),
    ):
        user, _created = User.objects.get_or_create(username=username, defaults={"role": role, "region": user_region})
        user.role, user.is_staff, user.is_superuser, user.is_active = role, staff, staff, True
        user.region = user_region
        user.set_password(PASSWORD)
        user.save()
    return region


def report_path_for(region) -> str:
    """A region's report for the period being reported now (no ``Report`` row needed: the page computes a draft)."""
    from agreements import reports

    return f"/reports/{region.code}/{reports.reporting_period().code}/"


def publish_share(every: int) -> int:
    """Publish one signed agreement in ``every`` (by id), as ministry staff would have; one UPDATE, no history
    rows (the public pages do not read them). Returns how many agreements are published."""
    from django.db import connection
    from django.utils import timezone

    from agreements.models import Agreement

    table = connection.ops.quote_name(Agreement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET published_at = %s WHERE signed_on IS NOT NULL AND id %% %s = 0",
                       [timezone.now(), every])
        cursor.execute(f"ANALYZE {table}")
    return Agreement.objects.filter(published_at__isnull=False).count()


def data_directory_free_gb() -> tuple[str, float]:
    """PostgreSQL's data directory and the free space of its file system (GB)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        path = cursor.fetchone()[0]
    return path, shutil.disk_usage(path).free / 1024**3


def check_disk(n: int) -> float | None:
    """Before seeding more than ``DISK_CHECK_ABOVE`` agreements: SystemExit when PostgreSQL's data directory has
    less than ``DISK_MIN_FREE_GB`` free (or cannot be checked). Returns the free GB (None when not checked)."""
    if n <= DISK_CHECK_ABOVE:
        return None
    try:
        path, free_gb = data_directory_free_gb()
    except OSError as exc:
        raise SystemExit(f"bench: cannot check the free space of PostgreSQL's data directory ({exc}) before seeding "
                         f"{n:,} agreements; is PostgreSQL on another file system or in a container?") from exc
    if free_gb < DISK_MIN_FREE_GB:
        raise SystemExit(f"bench: refusing to seed {n:,} agreements: PostgreSQL's data directory {path} has "
                         f"{free_gb:.1f} GB free, under the {DISK_MIN_FREE_GB:.0f} GB needed. Free some space or "
                         "run smaller --sizes.")
    print(f"   disk: {free_gb:.1f} GB free in {path}", flush=True)
    return round(free_gb, 1)


def database_mb() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return round(cursor.fetchone()[0] / 1024 / 1024, 1)


def query_counts(paths: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from agreements.models import User

    clients = {ANONYMOUS: Client(SERVER_NAME=HOST)}
    for username in (MINISTRY_USER, ADMIN_USER, OFFICER_USER):
        client = Client(SERVER_NAME=HOST)
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    counts = {}
    for name, path in paths.items():
        client = clients[page_user(name)]
        client.get(path)  # warm caches (thresholds, content types) as a served page would be
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench: in-process GET {path} answered {response.status_code}")
        counts[name] = len(ctx.captured_queries)
    return counts


# --- one size -----------------------------------------------------------------------------------


def run_size(n: int, args, env: dict, procs: Processes, workdir: str, load: bool) -> dict:
    from agreements import benchdata
    from agreements.models import Agreement

    print(f"\n== {n:,} agreements: seeding", flush=True)
    disk_free_gb = check_disk(n)
    start = time.perf_counter()
    seeded = benchdata.seed(n=n, seed=args.seed)
    seed_s = time.perf_counter() - start
    published = publish_share(PUBLISH_EVERY) if not args.no_publish else 0
    db_mb = database_mb()
    print(f"   seeded {seeded.agreements:,} agreements, {seeded.milestones:,} milestones, "
          f"{seeded.updates:,} updates in {seed_s:.1f} s; database {db_mb:,.1f} MB; {published:,} published",
          flush=True)
    officer_region = ensure_users()
    paths = page_paths(seeded.big_pks_id, report_path_for(officer_region))
    if args.pages:
        paths = {name: path for name, path in paths.items() if name in args.pages}
    result = {
        "agreements": Agreement.objects.count(), "milestones": seeded.milestones, "updates": seeded.updates,
        "seed_s": round(seed_s, 1), "pages": {}, "db_mb": db_mb, "published": published,
        "officer_region": {"code": officer_region.code, "name": officer_region.name,
                           "agreements": officer_region.n},
    }
    if disk_free_gb is not None:
        result["disk_free_gb_before_seed"] = disk_free_gb
    print(f"   officer {OFFICER_USER}: {officer_region.code} {officer_region.name} "
          f"({officer_region.n:,} agreements as a party)", flush=True)
    result["queries"] = query_counts(paths)

    # Static files again: a template may reference a file added since (the manifest storage would answer 500).
    from django.core.management import call_command

    call_command("collectstatic", verbosity=0, interactive=False)
    log_path = os.path.join(workdir, f"gunicorn-{n}.log")
    if os.path.exists(log_path):
        os.remove(log_path)
    proc, base = start_gunicorn(procs, env, 2, log_path)
    try:
        browsers = {ANONYMOUS: Browser(base)}
        for username in {page_user(name) for name in paths} | {MINISTRY_USER}:
            if username is not ANONYMOUS:
                browsers[username] = Browser(base)
                browsers[username].login(username, PASSWORD)
        ministry = browsers[MINISTRY_USER]
        result["load_average_1m_before_pages"] = round(os.getloadavg()[0], 2)
        print(f"   load average (1 min) before timing the pages: {result['load_average_1m_before_pages']}", flush=True)
        for name, path in paths.items():
            browser = browsers[page_user(name)]
            result["pages"][name] = time_page(browser, path, args.warmup, args.requests, args.max_page_seconds,
                                              log_path)
            result["pages"][name]["queries"] = result["queries"][name]
            p = result["pages"][name]
            print(f"   {name:<20} median {p['median_ms']:>7.1f} ms  p95 {p['p95_ms']:>7.1f} ms  "
                  f"{p['queries']:>3} queries  ({p['requests']} requests{', capped' if p['capped'] else ''}; "
                  f"first after a write {p['cold_ms']} ms)",
                  flush=True)
        if load:
            result["load"] = run_locust(args, base, ministry, seeded, workdir, paths.get("report")
                                        or report_path_for(officer_region))
    finally:
        procs.stop(proc)
    if args.skip_stalled_export:
        print("   stalled and export.csv: skipped (--skip-stalled-export)", flush=True)
        return result

    # The stalled command, as an operator runs it (Python and Django start-up included).
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "manage.py", "stalled", "--format", "json"], cwd=ROOT, env=env, capture_output=True,
        timeout=600, check=True,
    )
    result["stalled"] = {"seconds": round(time.perf_counter() - start, 2), "rows": len(json.loads(out.stdout))}
    print(f"   stalled --format json: {result['stalled']['seconds']} s, {result['stalled']['rows']:,} rows", flush=True)

    # The export of every agreement, served by a single-worker gunicorn whose peak RSS is read afterwards.
    # Static files again: the working tree is shared, a template may reference a file added during the run.
    call_command("collectstatic", verbosity=0, interactive=False)
    proc, base = start_gunicorn(procs, env, 1, os.path.join(workdir, f"gunicorn-export-{n}.log"))
    try:
        browser = Browser(base)
        browser.login(MINISTRY_USER, PASSWORD)
        browser.get("/")  # a worker that has served a page, as in production
        (worker,) = worker_pids(proc.pid)
        rss_before = vm_kib(worker, "VmRSS") / 1024
        start = time.perf_counter()
        status, body = browser.get("/agreements/export.csv", timeout=600)
        seconds = time.perf_counter() - start
        if status != 200:
            raise SystemExit(f"bench: the CSV export answered {status}")
        rows = body.count(b"\r\n") - 1
        result["export"] = {
            "seconds": round(seconds, 2), "rows": rows, "bytes": len(body),
            "peak_rss_mb": round(vm_kib(worker, "VmHWM") / 1024, 1), "rss_before_mb": round(rss_before, 1),
        }
        print(f"   export.csv: {rows:,} rows in {seconds:.2f} s, worker peak RSS "
              f"{result['export']['peak_rss_mb']} MB (before: {rss_before:.1f} MB)", flush=True)
    finally:
        procs.stop(proc)
    return result


# --- load test ----------------------------------------------------------------------------------


def run_locust(args, base: str, browser: Browser, seeded, workdir: str, report_path: str) -> dict:
    from agreements.models import Agreement

    ids = list(Agreement.objects.order_by("?").values_list("pk", flat=True)[:200])
    env = dict(os.environ)
    env.update({
        "BENCH_SESSIONID": browser.cookie("sessionid"),
        "BENCH_AGREEMENT_IDS": ",".join(str(i) for i in ids + [seeded.big_pks_id]),
        "BENCH_PROVINCE": PROVINCE,
        "BENCH_REPORT_PATH": report_path,
    })
    prefix = os.path.join(workdir, "locust")
    print(f"   locust: {args.users} users for {args.load_seconds} s ...", flush=True)
    subprocess.run(
        [str(VENV_BIN / "locust"), "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless",
         "-u", str(args.users), "-r", "10", "-t", f"{args.load_seconds}s", "--host", base,
         "--csv", prefix, "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0"],
        cwd=ROOT, env=env, capture_output=True, timeout=args.load_seconds + 120, check=True,
    )
    import csv

    with open(prefix + "_stats.csv", encoding="utf-8") as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    agg = stats["Aggregated"]
    load = {
        "users": args.users, "seconds": args.load_seconds,
        "requests": int(agg["Request Count"]), "failures": int(agg["Failure Count"]),
        "median_ms": float(agg["Median Response Time"]), "p95_ms": float(agg["95%"]),
        "rps": round(float(agg["Requests/s"]), 1),
        "by_page": {name: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                           "p95_ms": float(r["95%"])} for name, r in stats.items() if name != "Aggregated"},
    }
    print(f"   locust: {load['requests']:,} requests, {load['failures']} failures, p95 {load['p95_ms']} ms, "
          f"{load['rps']} req/s", flush=True)
    return load


# --- report -------------------------------------------------------------------------------------


def machine() -> dict:
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {"nproc": os.cpu_count(), "memory_gb": round(mem_kib / 1024 / 1024, 1), "postgresql": pg,
            "python": sys.version.split()[0], "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()]}


# The budgets hold for the country's likely volume; above it (ten times, 200,000) the contract is the ratio to the
# smaller size and the same query counts, and the exports in bounded memory.
NATIONAL_SIZE = 20000


def verdicts(small: dict, large: dict, national: dict | None = None) -> list[str]:
    """Each page's budget (``PAGES``), met or missed, at ``national`` (the largest size up to ``NATIONAL_SIZE``; the
    largest size when none is given), the ratio of the largest size's p95 to the smallest's and their query counts."""
    national = national or large
    lines = []

    def check(ok: bool, text: str):
        lines.append(f"{'OK  ' if ok else 'MISS'} {text}")

    for name, budget in PAGES.items():
        if name not in large["pages"] or name not in small["pages"]:
            continue  # not timed (--pages)
        p95 = national["pages"][name]["p95_ms"]
        timed = national["pages"][name]["requests"]
        check(p95 <= budget, f"{name}: p95 {p95} ms at {national['agreements']:,} (budget {budget} ms; "
                             f"{timed} requests timed)")
        ratio = large["pages"][name]["p95_ms"] / max(small["pages"][name]["p95_ms"], 0.1)
        check(ratio <= 2, f"{name}: p95 ratio {ratio:.2f} (budget 2)")
        q_small, q_large = small["queries"][name], large["queries"][name]
        check(q_large <= q_small, f"{name}: queries {q_small} -> {q_large} (must not grow)")
    if "stalled" in national:  # not with --skip-stalled-export
        check(national["stalled"]["seconds"] <= STALLED_BUDGET_S,
              f"stalled --format json: {national['stalled']['seconds']} s at {national['agreements']:,} "
              f"(budget {STALLED_BUDGET_S} s)")
    if "export" in national:
        check(national["export"]["seconds"] <= EXPORT_BUDGET_S,
              f"export.csv: {national['export']['seconds']} s at {national['agreements']:,} "
              f"(budget {EXPORT_BUDGET_S} s)")
    if "export" in large:
        check(large["export"]["peak_rss_mb"] <= EXPORT_BUDGET_MB,
              f"export.csv: peak RSS {large['export']['peak_rss_mb']} MB (budget {EXPORT_BUDGET_MB} MB)")
    if "load" in large:
        load = large["load"]
        check(load["failures"] == 0, f"load: {load['failures']} failed requests (budget 0)")
        check(load["p95_ms"] <= LOAD_P95_BUDGET_MS, f"load: p95 {load['p95_ms']} ms (budget {LOAD_P95_BUDGET_MS} ms)")
    return lines


def table(results: dict) -> str:
    sizes = sorted(results, key=int)
    small, large = results[sizes[0]], results[sizes[-1]]
    head = f"{'page':<20}{'budget':>8}" + "".join(
        f"{'med@' + s:>11}{'p95@' + s:>11}{'q@' + s:>8}" for s in sizes) + f"{'p95 ratio':>11}"
    lines = [head, "-" * len(head)]
    for name, budget in PAGES.items():
        if not all(name in results[s]["pages"] for s in sizes):
            continue  # not timed (--pages)
        cells = "".join(
            f"{results[s]['pages'][name]['median_ms']:>11.1f}{results[s]['pages'][name]['p95_ms']:>11.1f}"
            f"{results[s]['queries'][name]:>8}" for s in sizes)
        ratio = large["pages"][name]["p95_ms"] / max(small["pages"][name]["p95_ms"], 0.1)
        lines.append(f"{name:<20}{budget:>6}ms{cells}{ratio:>11.2f}")
    lines.append("")
    for s in sizes:
        r = results[s]
        parts = []
        if "stalled" in r:
            parts.append(f"stalled json {r['stalled']['seconds']} s ({r['stalled']['rows']:,} rows)")
        if "export" in r:
            parts.append(f"export.csv {r['export']['seconds']} s, {r['export']['rows']:,} rows, "
                         f"peak RSS {r['export']['peak_rss_mb']} MB")
        seeded = f"seeded in {r['seed_s']} s"
        if "db_mb" in r:
            seeded += f", database {r['db_mb']:,.1f} MB"
        if "load_average_1m_before_pages" in r:
            seeded += f"; load average {r['load_average_1m_before_pages']} before the pages"
        lines.append(f"{int(s):>6,} agreements: " + "; ".join(parts + [seeded]))
    if "load" in large:
        lo = large["load"]
        lines.append(f"load ({lo['users']} users, {lo['seconds']} s, at {int(sizes[-1]):,}): {lo['requests']:,} requests, "
                     f"{lo['failures']} failures, median {lo['median_ms']} ms, p95 {lo['p95_ms']} ms, {lo['rps']} req/s")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000", help="agreement counts, comma-separated (default 2000,20000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first (default 5)")
    parser.add_argument("--max-page-seconds", type=float, default=90,
                        help="stop timing a page after this many seconds, once 10 requests are in (default 90)")
    parser.add_argument("--users", type=int, default=50, help="locust users (default 50)")
    parser.add_argument("--load-seconds", type=int, default=60, help="locust run time (default 60)")
    parser.add_argument("--no-load", action="store_true", help="skip the locust load test")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the dataset (default 2026)")
    parser.add_argument("--output", default=str(ROOT / "bench_results.json"))
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--pages", default="",
                        help=f"time only these pages, comma-separated (default all: {', '.join(PAGES)})")
    parser.add_argument("--skip-stalled-export", action="store_true",
                        help="skip the stalled command and the CSV export (quick iterations on the pages)")
    parser.add_argument("--no-publish", action="store_true",
                        help=f"publish nothing (default: one signed agreement in {PUBLISH_EVERY}, for the public page)")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be at least 1")
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in args.pages if p not in PAGES]
    if unknown:
        parser.error(f"--pages: unknown {', '.join(unknown)}; the pages are {', '.join(PAGES)}")

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    name = check_database_url(url, args.force)
    ensure_database(url, name)
    procs = Processes()
    logdir = ROOT / "artifacts" / "bench"  # gitignored; the servers' logs stay there for a post-mortem
    logdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kerjasama-bench-") as workdir:
        static_root = os.path.join(workdir, "static")
        workdir = str(logdir)
        env = server_env(url, static_root)
        django_setup(env)
        from django.core.management import call_command

        print(f"database {name}: migrating; collecting static files into {static_root}", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        call_command("collectstatic", verbosity=0, interactive=False)
        check_disk(sizes[-1])  # fail fast, before the smaller sizes; checked again right before seeding it
        results = {}
        load_before = [round(x, 1) for x in os.getloadavg()]
        try:
            for n in sizes:
                results[str(n)] = run_size(n, args, env, procs, workdir, load=(n == sizes[-1] and not args.no_load))
        finally:
            procs.stop_all()
        report = {"machine": {**machine(), "load_average_at_start": load_before}, "database": name,
                  "cache": "redis" if env.get("CACHE_URL") else "per-process memory",
                  "requests_per_page": args.requests, "warmup": args.warmup, "results": results,
                  "pages_timed": args.pages or list(PAGES), "budgets_ms": PAGES}
        small, large = results[str(sizes[0])], results[str(sizes[-1])]
        national = [results[str(n)] for n in sizes if n <= NATIONAL_SIZE]
        report["verdicts"] = verdicts(small, large, national[-1] if national else None)
        print("\n" + table(results))
        m = report["machine"]
        print(f"\nmachine: {m['nproc']} CPUs, {m['memory_gb']} GB, PostgreSQL {m['postgresql']}, Python {m['python']}; "
              f"load average at start {m['load_average_at_start']}, at end {m['load_average_1_5_15']} (1/5/15 min)")
        print("\n".join(report["verdicts"]))
        Path(args.output).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
