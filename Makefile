# Two commands for a newcomer: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1

.PHONY: run test install venv lint check browser-tests messages serve bench backup

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

venv: $(VENV)/bin/activate

install: venv
	$(PY) -m pip install --quiet -e ".[dev]"

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

test: install lint check
	$(PY) -m pytest

# Production: gunicorn on PostgreSQL with DEBUG off, static files collected for whitenoise (compressed,
# hashed names). Needs DATABASE_URL (postgres://...), SECRET_KEY and ALLOWED_HOSTS; see docs/deploy.md.
GUNICORN_BIND ?= 127.0.0.1:8000
GUNICORN_WORKERS ?= 3
serve: install
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "make serve: set DATABASE_URL to a PostgreSQL URL (postgres://user:pass@host:5432/name)"; exit 2;; esac
	DEBUG=0 $(PY) manage.py check --deploy
	DEBUG=0 $(PY) manage.py migrate --no-input
	DEBUG=0 $(PY) manage.py collectstatic --no-input -v 0
	DEBUG=0 exec $(VENV)/bin/gunicorn kerjasama.wsgi:application --bind $(GUNICORN_BIND) \
	  --workers $(GUNICORN_WORKERS) --timeout 60 --graceful-timeout 30 --error-logfile -

# A pg_dump of DATABASE_URL to backups/kerjasama-YYYYmmdd-HHMMSS.dump (restore steps: docs/deploy.md).
backup:
	scripts/backup.sh
