# Two commands for a newcomer: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1

.PHONY: run test install venv lint check browser-tests messages messages-check serve worker bench import-bench backup

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

venv: $(VENV)/bin/activate

install: venv
	$(PY) -m pip install --quiet -e ".[dev]"

PORT ?= 8000
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# The Indonesian catalogue: `make messages` extracts new strings into locale/id/LC_MESSAGES/django.po and
# compiles django.mo (kept in the repository, so installing needs no gettext); translate, then run it again.
# `make messages-check` fails on an untranslated or fuzzy entry, a string not extracted yet, or a stale .mo.
messages: install
	$(PY) manage.py makemessages -l id --no-obsolete --ignore=.venv --ignore=staticfiles \
	  --ignore=media --ignore=artifacts --ignore=backups --ignore=build
	msgfmt --check-format -o locale/id/LC_MESSAGES/django.mo locale/id/LC_MESSAGES/django.po

messages-check: install
	$(PY) scripts/check_catalogue.py

# The suite runs on every core (pytest-xdist; each worker gets its own test database).
PYTEST_WORKERS ?= auto
test: install lint check messages-check
	$(PY) -m pytest -m "not browser" -n $(PYTEST_WORKERS)
	@$(RUN_BROWSER_TESTS)

# The browser tests (tests/browser/): Playwright on Debian's Chromium against the live test server.
# Without /usr/bin/chromium they are not run, and this says so plainly (.ci/run installs chromium, so CI runs them).
RUN_BROWSER_TESTS = if [ -x /usr/bin/chromium ]; then \
	  echo "== browser tests (tests/browser/, /usr/bin/chromium)"; $(PY) -m pytest -m browser tests/browser; \
	else \
	  echo "== BROWSER TESTS SKIPPED: /usr/bin/chromium is not installed (apt-get install chromium to run them)."; \
	fi
browser-tests: install
	@$(RUN_BROWSER_TESTS)

# Production: gunicorn on PostgreSQL with DEBUG off, static files collected for whitenoise (compressed,
# hashed names). Needs DATABASE_URL (postgres://...), SECRET_KEY, ALLOWED_HOSTS and SITE_URL; see docs/deploy.md.
# It refuses to start on any `check --deploy` warning, apart from those docs/deploy.md expects (silenced in settings).
GUNICORN_BIND ?= 127.0.0.1:8000
GUNICORN_WORKERS ?= 3
serve: install
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "make serve: set DATABASE_URL to a PostgreSQL URL (postgres://user:pass@host:5432/name)"; exit 2;; esac
	DEBUG=0 $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=0 $(PY) manage.py migrate --no-input
	DEBUG=0 $(PY) manage.py collectstatic --no-input -v 0
	DEBUG=0 exec $(VENV)/bin/gunicorn kerjasama.wsgi:application --bind $(GUNICORN_BIND) \
	  --workers $(GUNICORN_WORKERS) --timeout 60 --graceful-timeout 30 --error-logfile -

# The background worker beside `make serve`: imports, reminders and the daily clean-up (agreements/tasks.py), with
# the periodic jobs scheduled by the workers themselves. Run one or more, on one machine or several; the same
# environment as `make serve` (DATABASE_URL, SECRET_KEY). See docs/deploy.md.
worker: install
	DEBUG=0 TASK_BACKEND=database exec $(PY) manage.py worker

# A pg_dump of DATABASE_URL to backups/kerjasama-YYYYmmdd-HHMMSS.dump (restore steps: docs/deploy.md).
backup:
	scripts/backup.sh

# Performance benchmark at national scale (README "Performance"): seeds 2,000 then 20,000 agreements
# into a dedicated PostgreSQL database (default postgres://postgres@127.0.0.1:5432/kerjasama_bench, created if
# missing, TRUNCATEd and reseeded), serves it with gunicorn and measures every page; writes bench_results.json.
# Then the largest import the limits accept (50,000 agreements + 150,000 milestones) through the /import/ path: an
# import job checked and run by `manage.py worker` processes, with each worker's time and peak memory.
BENCH_IMPORT_DB ?= postgres://postgres@127.0.0.1:5432/kerjasama_import_bench
bench: install
	$(PY) scripts/bench.py $(BENCH_ARGS)
	@$(MAKE) --no-print-directory import-bench

import-bench: install
	@psql "$(dir $(BENCH_IMPORT_DB))postgres" -qtc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_IMPORT_DB))'" \
	  | grep -q 1 || psql "$(dir $(BENCH_IMPORT_DB))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_IMPORT_DB))"
	DATABASE_URL=$(BENCH_IMPORT_DB) $(PY) scripts/bench_import.py --largest --via-worker
