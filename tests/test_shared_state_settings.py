"""What the settings make of CACHE_URL, AWS_STORAGE_BUCKET_NAME and DATABASE_REPLICA_URL (docs/deploy.md "Beyond
one machine"): the embedded default needs neither Redis nor object storage, and a misconfiguration stops start-up."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kerjasama.settings import cache_from_url

ROOT = Path(__file__).resolve().parent.parent


def settings_of(*names: str, **env: str) -> subprocess.CompletedProcess:
    """Start-up in a fresh process with ``env``: the repr of each named setting, or the error."""
    code = ("import django; django.setup(); from django.conf import settings; "
            + "; ".join(f"print(repr(settings.{name}))" for name in names))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CACHE_", "AWS_", "DATABASE_REPLICA"))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,  # noqa: S603
                          env={**clean, "DJANGO_SETTINGS_MODULE": "kerjasama.settings", "DEBUG": "1", **env})


def test_without_cache_url_each_process_has_its_own_memory():
    assert cache_from_url("")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert cache_from_url("locmem://")["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_database_cache_names_its_table():
    assert cache_from_url("db://kerjasama_cache") == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kerjasama_cache"}
    with pytest.raises(ImproperlyConfigured):
        cache_from_url("db://")


@pytest.mark.parametrize("url", ["memcached://127.0.0.1:11211", "127.0.0.1:6379", "redis"])
def test_an_unknown_cache_url_stops_start_up(url):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must start with"):
        cache_from_url(url)


def test_a_redis_url_is_djangos_redis_cache_or_a_clear_error_without_the_package():
    if importlib.util.find_spec("redis") is None:
        with pytest.raises(ImproperlyConfigured, match="redis package is not installed"):
            cache_from_url("redis://127.0.0.1:6379/0")
        return
    config = cache_from_url("redis://:secret@127.0.0.1:6379/2")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://:secret@127.0.0.1:6379/2"


def test_the_cache_url_reaches_the_settings():
    result = settings_of("CACHES", CACHE_URL="db://shared_cache")
    assert result.returncode == 0, result.stderr
    assert "DatabaseCache" in result.stdout and "shared_cache" in result.stdout


def test_uploads_stay_on_the_local_disk_without_a_bucket():
    result = settings_of("STORAGES")
    assert result.returncode == 0, result.stderr
    assert "'default': {'BACKEND': 'django.core.files.storage.FileSystemStorage'}" in result.stdout


def test_a_bucket_sends_uploads_to_s3_compatible_storage():
    result = settings_of("STORAGES", AWS_STORAGE_BUCKET_NAME="kerjasama-media",
                         AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000")
    if importlib.util.find_spec("storages") is None:
        assert result.returncode != 0
        assert "django-storages package is not installed" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert "storages.backends.s3.S3Storage" in result.stdout
    assert "'bucket_name': 'kerjasama-media'" in result.stdout and "http://127.0.0.1:9000" in result.stdout


def test_the_replica_is_used_only_when_its_url_is_set():
    result = settings_of("READ_REPLICA", "DATABASES['replica']['NAME']")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "False"
    result = settings_of("READ_REPLICA", "DATABASES['replica']['NAME']", "DATABASES['replica']['HOST']",
                         DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/kerjasama")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True", "'kerjasama'", "'replica.internal'"]
