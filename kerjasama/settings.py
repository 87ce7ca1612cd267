"""Kerjasama settings: one file, configured through the environment.

Every value that differs between a laptop and a ministry server is read from an environment
variable through the small helpers below, so the same code runs everywhere:
- DATABASE_URL: PostgreSQL in production (postgres://user:pass@host:5432/name); when unset, a SQLite
  file in the project folder, so a newcomer needs no server.
- SECRET_KEY: required when DEBUG is off; a fixed development key only when DEBUG is on.
- DEBUG, ALLOWED_HOSTS, SITE_URL, EMAIL_*: see docs and README.
"""

import copy
import importlib.util
import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
FALSE_VALUES = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool = False) -> bool:
    """1/0, true/false, yes/no, on/off in any case; unset or empty: ``default``. Anything else stops start-up:
    a typo (``SECURE_SSL_REDIRECT=ture``) must not quietly switch a security setting off."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE_VALUES:
        return True
    if word in FALSE_VALUES:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false, yes/no, on/off; empty for the default), not {value!r}."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for development: a known key is harmless when DEBUG is on and the app runs locally.
    SECRET_KEY = "dev-only-insecure-key-kerjasama"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
# Links in e-mails. Unset, it is the development server's address; with DEBUG off that is a `check --deploy` error
# (agreements/checks.py), not a start-up one, so that commands without it (migrate, seed_demo) keep working.
SITE_URL_FROM_ENV = bool(env_str("SITE_URL").strip())
SITE_URL = env_str("SITE_URL").strip().rstrip("/") or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "agreements",
]

MIDDLEWARE = [
    # First, so that every request gets its one log line, even a redirect to HTTPS or a static file.
    "agreements.middleware.RequestLogMiddleware",
    # TRACE, CONNECT and made-up methods: 405 before anything else runs.
    "agreements.middleware.AllowedMethodsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A body larger than the route accepts (its declared Content-Length): 413 before a byte of it is read.
    "agreements.middleware.RequestSizeMiddleware",
    # A NUL character in the path, query, form, cookies or headers: 400 before any view or query (PostgreSQL refuses it).
    "agreements.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, minus the browser's language: the language chosen on the page, or Indonesian.
    "agreements.i18n.ChosenLanguageMiddleware",
    # Writes the language saved on the account into the language cookie at log-in (agreements/i18n.py).
    "agreements.i18n.LanguageCookieMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "agreements.middleware.SecurityHeadersMiddleware",
    # Cache-Control: private, no-store on every response to a signed-in user.
    "agreements.middleware.PrivateCacheMiddleware",
    # Turns "database unreachable" errors raised by a view into the friendly 503 page.
    "agreements.middleware.DatabaseUnavailableMiddleware",
    # Reports, exports and the API's lists read from the replica (DATABASE_REPLICA_URL) unless the request wrote.
    "kerjasama.db_routers.ReplicaReadsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kerjasama.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agreements.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "kerjasama.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The stage/stall annotation is one large expression; PostgreSQL's JIT spends ~11 s compiling it
    # for 20,000 agreements while the query itself runs in 0.6 s. Short OLTP queries gain nothing from JIT.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

# A read replica for the heavy reads (kerjasama/db_routers.py): reports, exports and the API's lists read from
# DATABASE_REPLICA_URL when it is set, never once the request has written. The "replica" alias always exists (a copy
# of "default" when the variable is unset, and a test mirror of it) so that the tests exercise the routing;
# READ_REPLICA says whether anything is sent to it.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL").strip()
READ_REPLICA = bool(DATABASE_REPLICA_URL)
DATABASES["replica"] = (
    dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True)
    if READ_REPLICA else copy.deepcopy(DATABASES["default"])
)
if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["kerjasama.db_routers.ReplicaRouter"]
# How many seconds after a request that wrote its user's heavy reads stay on the primary (the replica may lag).
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 30)


def cache_from_url(url: str) -> dict:
    """The cache named by CACHE_URL: ``redis://[:password@]host:6379/N`` (or ``rediss://``, ``unix://``) for Redis,
    ``db://TABLE`` for a table in the database (``manage.py createcachetable``), ``locmem://`` or empty for this
    process's own memory (one server: ``make run``, the tests). Anything else stops start-up."""
    url = url.strip()
    if not url or url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kerjasama"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        if importlib.util.find_spec("redis") is None:
            raise ImproperlyConfigured("CACHE_URL names a Redis server, but the redis package is not installed.")
        # CACHE_KEY_PREFIX: when several installations (or test runs) share one Redis database.
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "kerjasama")}
    if url.startswith("db://") and url.removeprefix("db://").strip("/"):
        return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": url.removeprefix("db://").strip("/")}
    raise ImproperlyConfigured(f"CACHE_URL must start with redis://, rediss://, unix://, db:// or locmem://, not {url!r}.")


# The cache (region pickers, guidance links, ...): in production one Redis for every server and worker, so that an
# invalidation on one server is seen by all (docs/deploy.md "Beyond one machine"); unset, each process's own memory.
CACHE_URL = env_str("CACHE_URL")
CACHES = {"default": cache_from_url(CACHE_URL)}
# Rendered pages are cached too (agreements/datacache.py): room for them in this process's memory or the table.
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DatabaseCache")):
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 3000}
# The release deployed (for example its commit), part of every cached figure's key: during a rolling deploy, servers
# of two releases sharing one Redis never serve each other's rendered pages (docs/deploy.md).
RELEASE = env_str("RELEASE")

AUTH_USER_MODEL = "agreements.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after-login"  # officers land on "My agreements", everyone else on the dashboard
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked-out username/address pair before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True
# Only what differs from Django's own locale formats ("29 November 2026" for id); see kerjasama/formats/.
FORMAT_MODULE_PATH = ["kerjasama.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("MANIFEST_STATIC", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded files go through Django's storage API ("default"): MEDIA_ROOT on this machine (a mount every server shares
# when there are several), or S3-compatible object storage through django-storages when AWS_STORAGE_BUCKET_NAME is set
# (docs/deploy.md "Beyond one machine"). Files never get a public URL: they are read back through the storage.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME").strip()
if AWS_STORAGE_BUCKET_NAME:
    if importlib.util.find_spec("storages") is None:
        raise ImproperlyConfigured("AWS_STORAGE_BUCKET_NAME is set, but the django-storages package is not installed.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Another S3-compatible service (MinIO, Ceph, a cloud provider's): its address; unset, Amazon S3.
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL").strip() or None,
            "region_name": env_str("AWS_S3_REGION_NAME").strip() or None,
            # Unset, boto3 finds the credentials itself (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, an instance role).
            "access_key": env_str("AWS_ACCESS_KEY_ID").strip() or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY").strip() or None,
            "location": env_str("AWS_LOCATION", "media").strip("/"),
            "default_acl": None,  # the bucket's own policy: private
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# Uploaded scans and evidence live outside static/ and are served only through an access-checked view.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_MAX_IMAGE_PIXELS = 40_000_000  # uploaded JPEG/PNG: width × height above this is refused (agreements/uploads.py)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kerjasama@localhost")
# SMTP for the reminder e-mails (send_reminders) and password resets, when EMAIL_BACKEND is the SMTP one.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)

# --- Security -------------------------------------------------------------------------------------------------
# On by default in production (DEBUG off); each can be switched through the environment, e.g. behind a
# TLS-terminating proxy that already redirects to HTTPS. docs/deploy.md lists them.
SESSION_COOKIE_AGE = 8 * 60 * 60  # a working day; the session ends even if the browser stays open
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Local probes (monitoring, the restart check) ask /healthz over plain HTTP on the loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
# Sub-domains of a ministry domain are run by other units, so HSTS does not claim them (security.W005), and
# the domain is not submitted to browsers' preload lists (security.W021). See docs/deploy.md.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    check
    for check, enabled in (("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS), ("security.W021", SECURE_HSTS_PRELOAD))
    if not enabled
]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets (and strips incoming) X-Forwarded-Proto; otherwise clients could spoof HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_SSL_REDIRECT:
        # The TLS-terminating proxy redirects HTTP to HTTPS itself (docs/deploy.md), so Django's redirect is off on
        # purpose: security.W008 is expected there, and only there (`make serve` fails on any other warning).
        SILENCED_SYSTEM_CHECKS.append("security.W008")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Password reset (agreements/views/accounts.py): requests per client address and mails per e-mail address, an
# hour; every reset request takes at least this long, so known and unknown addresses answer in the same time.
PASSWORD_RESET_REQUESTS_PER_IP = 20
PASSWORD_RESET_MAILS_PER_ADDRESS = 5
PASSWORD_RESET_MIN_SECONDS = 1.5

# Request bodies (agreements/middleware.py RequestSizeMiddleware): pages without uploads accept this much; a view
# with uploads declares its own limit (@body_limit), the admin accepts a 20 MB scan. Django's own limit on form
# fields read into memory stays below it. nginx in front: client_max_body_size 45m (docs/deploy.md).
REQUEST_MAX_BYTES = 3 * 1024 * 1024
ADMIN_REQUEST_MAX_BYTES = 21 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Background tasks (django-tasks, the backport of Django 6's tasks API; agreements/tasks.py). "database" queues
# them in the database for `manage.py worker` (make worker) to run, on any number of machines; "immediate"
# runs them at once inside the request, so the embedded default (make run) needs no second process.
# Default: immediate with DEBUG on, database with DEBUG off.
TASK_BACKEND = os.environ.get("TASK_BACKEND", "immediate" if DEBUG else "database")
if TASK_BACKEND not in ("immediate", "database"):
    raise ImproperlyConfigured(f"TASK_BACKEND must be immediate or database, not {TASK_BACKEND!r}.")
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend" if TASK_BACKEND == "database"
        else "django_tasks.backends.immediate.ImmediateBackend",
    }
}
# Imports larger than this many rows are checked by a background task (with a progress bar), smaller ones at once.
IMPORT_BACKGROUND_VALIDATION_ROWS = 2000
# What one import file may hold, checked while it is read (agreements/importers/reading.py, docs/import.md "Limits"):
# past any of these the file is refused, naming the limit, before memory or time grows with it.
IMPORT_MAX_AGREEMENT_ROWS = 50_000  # rows of the agreements sheet or file
IMPORT_MAX_OTHER_ROWS = 200_000  # rows of any other sheet or file (milestones, ...)
IMPORT_MAX_CELL_CHARS = 10_000  # characters in one cell
IMPORT_MAX_SHEET_XML_BYTES = 100 * 1024 * 1024  # any part of a workbook (a sheet's XML), uncompressed
IMPORT_MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed size of a part over 1 MB (zip bombs)
IMPORT_MAX_EXTRA_SHEETS = 5  # sheets beyond the template's four (instructions, agreements, milestones, codes)
IMPORT_MAX_COLUMNS = 200  # a value past this column refuses the file (empty cells there are ignored)

# Login throttling (django-axes): 5 failures for one username from one address lock that pair for 15 minutes.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The client address: REMOTE_ADDR, unless AXES_PROXY_COUNT says how many trusted proxies append X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

# Logs go to stdout (systemd's journal or the container log): one line per request from
# agreements.middleware.RequestLogMiddleware, one per error with its traceback from django.request. Never
# passwords, session ids, query strings or file contents (see RequestLogMiddleware).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # 4xx are already in the request line; keep django.request for errors (5xx) only.
        "django.request": {"level": "ERROR"},
        # django-axes logs every login attempt with the username; the request line and AccessAttempt suffice.
        "axes": {"level": "WARNING"},
    },
}

# STATIC_ROOT exists only after collectstatic; in development and tests whitenoise serves from finders.
WHITENOISE_USE_FINDERS = DEBUG
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")

# --- Open data: the read-only API (/api/v1/, agreements/api/) ----------------------------------------------------
# Callers are anonymous (published agreements only), a signed-in user (the session) or a program with that user's
# personal token (``Authorization: Token <key>`` or ``Bearer <key>``). Rate limits are counted in the database
# (agreements/throttle.py), so every worker sees the same counters: requests per hour per token, and per client
# address for calls without a token. Over the limit: 429 with Retry-After.
API_RATE_PER_TOKEN = env_int("API_RATE_PER_TOKEN", 3600)
API_RATE_PER_ADDRESS = env_int("API_RATE_PER_ADDRESS", 600)
API_RATE_WINDOW_SECONDS = 3600
API_PAGE_SIZE = 50
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agreements.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "agreements.api.throttling.TokenRateThrottle",
        "agreements.api.throttling.AddressRateThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_PAGINATION_CLASS": "agreements.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The client address for the per-address limit: REMOTE_ADDR, or X-Forwarded-For behind that many trusted proxies.
    "NUM_PROXIES": AXES_IPWARE_PROXY_COUNT or 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kerjasama API",
    "DESCRIPTION": (
        "Read-only open data on regional cooperation agreements (KB, PKS), their parties, affairs, milestones, "
        "regulated steps and amendments, with their stage and stall facts as of a date. Anonymous callers see the "
        "published agreements; a signed-in user or a personal token sees what that user sees on the pages, plus the "
        "published ones. Register data: CC BY 4.0. Region reference data: idn-area-data, ODbL 1.0. See docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # No schema generation in `check --deploy` (`make serve`): it would query the database (the register's filters
    # read the stall thresholds); tests/test_api.py and tests/test_api_fuzz.py generate and validate the schema.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the app's own static files (drf-spectacular-sidecar): no CDN. (No Redoc: its page loads web
    # fonts from Google.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
    "LICENSE": {"name": "CC BY 4.0 (register data); ODbL 1.0 (regions, idn-area-data)",
                "url": "https://creativecommons.org/licenses/by/4.0/"},
}
