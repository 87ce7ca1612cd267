"""A fresh install migrates from zero, on both engines, with the reference data, and the models need no migration.

The migrations must not import application code (a later change to it would break a fresh install), so this
migrates a brand-new database in a subprocess, the way ``manage.py migrate`` does on a new server: a SQLite file
under tmp_path always, and a throwaway PostgreSQL database (created and dropped here) when the suite runs on
PostgreSQL. On the way it stops at 0005, writes agreements and milestones with the historical models, and checks
that 0006's frozen backfill computes the same stall facts as ``agreements.stalls`` does today, and that 0014 gives
those agreements their regulated steps, derived from their dates.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
PROJECT_DIR = Path(__file__).resolve().parent.parent

# Runs in the subprocess: migrate to 0005, add agreements with the models of that state, migrate to the latest
# migration, then report what a fresh install holds (one JSON line on stdout).
SCRIPT = r"""
import datetime, json
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", "agreements", "0005", verbosity=0)
state = MigrationExecutor(connection).loader.project_state(("agreements", "0005_stall_settings_row"))
Agreement = state.apps.get_model("agreements", "Agreement")
Milestone = state.apps.get_model("agreements", "Milestone")
d = datetime.date
kb = Agreement.objects.create(number="KB/1", document_type="KB", title="KB", cooperation_kind="KSDD-SUKARELA",
                              signed_on=d(2024, 1, 10))
Agreement.objects.create(number="PKS/2", document_type="PKS", title="PKS", cooperation_kind="KSDD-SUKARELA",
                         parent=kb, signed_on=d(2024, 3, 5))
Agreement.objects.create(number="PKS/1", document_type="PKS", title="PKS", cooperation_kind="KSDD-SUKARELA",
                         parent=kb, signed_on=d(2024, 2, 1))
Agreement.objects.create(number="PKS/0", document_type="PKS", title="PKS unsigned", cooperation_kind="KSDD-SUKARELA",
                         parent=kb)
for title, status, due, started, completed in [
    ("met", "met", d(2024, 4, 1), None, d(2024, 3, 20)),
    ("met late", "met", d(2024, 5, 1), d(2024, 2, 15), d(2024, 6, 2)),
    ("in progress", "in_progress", d(2024, 7, 1), d(2024, 4, 2), None),
    ("scheduled", "scheduled", d(2024, 8, 1), None, None),
    ("cancelled", "cancelled", d(2023, 1, 1), d(2023, 1, 1), None),
]:
    Milestone.objects.create(agreement=kb, title=title, status=status, due_on=due, started_on=started,
                             completed_on=completed)
Agreement.objects.create(number="KB/2", document_type="KB", title="KB without milestones",
                         cooperation_kind="KSDD-SUKARELA")

call_command("migrate", verbosity=0)

from agreements import stalls
from agreements.models import Agreement, AgreementStep, GovernmentAffair, Region, StallSettings, StepTemplate

regions = Region.objects.all()
print(json.dumps({
    "provinces": regions.filter(level="province").count(),
    "kabupaten": regions.filter(level="kabupaten").count(),
    "kota": regions.filter(level="kota").count(),
    "not_autonomous": sorted(regions.filter(is_autonomous=False).values_list("code", flat=True)),
    "orphans": regions.exclude(level="province").filter(province__isnull=True).count(),
    "bandung": list(regions.filter(code="32.73").values_list("name", "level", "province__code").get()),
    "affairs": GovernmentAffair.objects.count(),
    "affair_groups": sorted(GovernmentAffair.objects.values_list("code", "group").filter(code__in=["1.01", "2.24", "3.32"])),
    "thresholds": list(StallSettings.objects.values_list(
        "pk", "kb_follow_up_days", "implementation_start_days", "overdue_grace_days")),
    "facts": {a.number: [str(getattr(a, name)) for name in stalls.FACT_FIELDS] for a in Agreement.objects.all()},
    "stale": stalls.stale_facts(),
    "templates": StepTemplate.objects.count(),
    "steps": {number: {s.code.rsplit(".", 1)[-1]: [s.status, str(s.done_on)]
                       for s in AgreementStep.objects.filter(agreement__number=number)}
              for number in ("KB/1", "KB/2", "PKS/0", "PKS/1")},
}))
"""


def migrate_fresh(database_url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "kerjasama.settings"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_fresh_install(report: dict) -> None:
    assert report["provinces"] == 38
    assert report["kabupaten"] + report["kota"] == 514
    assert (report["kabupaten"], report["kota"]) == (416, 98)
    # The administrative areas of DKI Jakarta (five Kota Administrasi and Kepulauan Seribu) cannot sign.
    assert report["not_autonomous"] == ["31.01", "31.71", "31.72", "31.73", "31.74", "31.75"]
    assert report["orphans"] == 0
    assert report["bandung"] == ["Kota Bandung", "kota", "32"]
    assert report["affairs"] == 32
    assert report["affair_groups"] == [["1.01", "wajib_dasar"], ["2.24", "wajib_non_dasar"], ["3.32", "pilihan"]]
    assert report["thresholds"] == [[1, 365, 180, 30]]
    # first_pks_signed_on, first_started_on (any milestone, cancelled too), live_milestones, open_milestones,
    # last_met_on, first_open_due_on
    assert report["facts"]["KB/1"] == ["2024-02-01", "2023-01-01", "4", "2", "2024-06-02", "2024-07-01"]
    assert report["facts"]["KB/2"] == ["None", "None", "0", "0", "None", "None"]
    assert report["stale"] == []
    # 0014: the ten step templates, and every agreement's steps derived from what the register knew.
    assert report["templates"] == 10
    kb, draft, unsigned_pks, pks = (report["steps"][n] for n in ("KB/1", "KB/2", "PKS/0", "PKS/1"))
    assert kb["SIGN"] == ["done", "2024-01-10"] and kb["TKKSD"] == ["done", "2024-01-10"]
    assert kb["PKS-SIGN"] == ["done", "2024-02-01"] and kb["PKS-DRAFT"] == ["done", "2024-02-01"]
    assert kb["DPRD"] == ["not_applicable", "None"]
    assert {key: state[0] for key, state in draft.items() if key != "DPRD"} == dict.fromkeys(
        ["TKKSD", "OBJECT", "PLAN", "OFFER", "ANSWER", "DRAFT", "SIGN", "PKS-DRAFT", "PKS-SIGN"], "not_started")
    assert pks["SIGN"] == ["done", "2024-02-01"] and unsigned_pks["SIGN"] == ["not_started", "None"]


def test_a_fresh_sqlite_database_migrates_from_zero_with_the_reference_data(tmp_path):
    check_fresh_install(migrate_fresh(f"sqlite:///{tmp_path / 'fresh.sqlite3'}"))


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the suite runs on SQLite: no PostgreSQL server to make a fresh database on")
def test_a_fresh_postgresql_database_migrates_from_zero_with_the_reference_data():
    import psycopg2

    db = settings.DATABASES["default"]
    server = {key: db[setting] for key, setting in
              [("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD")] if db.get(setting)}
    name = f"kerjasama_fresh_{uuid.uuid4().hex[:12]}"

    def on_the_server(sql):
        conn = psycopg2.connect(dbname="postgres", **server)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    on_the_server(f'CREATE DATABASE "{name}"')
    try:
        credentials = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        url = f"postgres://{credentials}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"
        check_fresh_install(migrate_fresh(url))
    finally:
        on_the_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_models_need_no_new_migration(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}", "DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "kerjasama.settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
