#!/usr/bin/env bash
# Show that a running Kerjasama survives a PostgreSQL restart, against a THROWAWAY cluster created here
# (initdb into a temporary folder, its own port), never the shared server on 5432:
#   1. initdb + start a cluster on 127.0.0.1:$PG_PORT (default 55432), migrate, collectstatic;
#   2. start gunicorn with production settings (DEBUG off), log in once;
#   3. database up:   /healthz 200, a signed-in page 200;
#   4. database down: /healthz 503, the signed-in page 503 with the friendly bilingual page;
#   5. database up again: the SAME gunicorn (same pid) answers 200 again, without a restart.
# Every process it started is stopped by pid and the folder removed at exit. Exits non-zero on any failure.
# Run as root, the cluster runs as the "postgres" OS user (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PY:-$ROOT/.venv/bin/python}"
PG_PORT="${PG_PORT:-55432}"
[[ "$PG_PORT" != 5432 ]] || { echo "refusing to use the shared port 5432" >&2; exit 2; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
WORK="$(mktemp -d /tmp/kerjasama-restart-check.XXXXXX)"
DATA="$WORK/pgdata"
GUNICORN_PID=""
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ "$(id -u)" == 0 ]]; then chown postgres "$WORK"; chmod 755 "$WORK"; fi

cleanup() {
  set +e
  if [[ -n "$GUNICORN_PID" ]] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID"
    for _ in $(seq 1 50); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null
  fi
  if [[ -f "$DATA/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() { echo "FAILED: $*" >&2; echo "--- gunicorn log" >&2; tail -n 30 "$WORK/gunicorn.log" >&2 || true; exit 1; }

pg_start() {
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$WORK/postgres.log" -w -t 30 \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
pg_stop() { as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null; }

step "throwaway PostgreSQL cluster in $WORK on port $PG_PORT ($PG_BIN)"
as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -A trust --no-sync -E UTF8 >/dev/null
pg_start
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres kerjasama

APP_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$APP_PORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/kerjasama"
export DEBUG=0 ALLOWED_HOSTS="127.0.0.1,localhost" STATIC_ROOT="$WORK/static" MEDIA_ROOT="$WORK/media"
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
# Plain HTTP on the loopback, as behind a TLS-terminating proxy: no redirect, cookies sent without TLS.
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0

step "migrate, collectstatic, a probe user"
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
PROBE_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(16))')"
PROBE_PASSWORD="$PROBE_PASSWORD" "$PY" manage.py shell --no-imports -c "
import os
from agreements.models import User
User.objects.create_user('restart-probe', password=os.environ['PROBE_PASSWORD'], role=User.Role.MINISTRY)"

step "gunicorn on $BASE"
"$PY" -m gunicorn kerjasama.wsgi:application --bind "127.0.0.1:$APP_PORT" --workers 2 --timeout 30 \
  >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "$BASE/healthz" && break; sleep 0.1; done

status() { curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/cookies" -c "$WORK/cookies" "$@"; }
expect() {  # expect CODE URL LABEL
  local code
  code="$(status "$BASE$2")"
  echo "   $3: GET $2 -> $code"
  [[ "$code" == "$1" ]] || fail "$3: expected $1, got $code"
}

step "log in once (the session lives in the database)"
status "$BASE/accounts/login/" >/dev/null
CSRF="$(awk '$6 == "csrftoken" {print $7}' "$WORK/cookies")"
code="$(status -X POST -d "csrfmiddlewaretoken=$CSRF" -d "username=restart-probe" \
  --data-urlencode "password=$PROBE_PASSWORD" "$BASE/accounts/login/")"
[[ "$code" == 302 ]] || fail "login answered $code"

step "database up"
expect 200 /healthz "health"
expect 200 / "signed-in home page"

step "database down (pg_ctl stop)"
pg_stop
expect 503 /healthz "health"
grep -q '"database": "down"' "$WORK/body" || fail "healthz body"
expect 503 / "signed-in home page"
grep -q 'Service temporarily unavailable' "$WORK/body" || fail "the friendly page is missing"
grep -q '<div lang="en" class="other-language">' "$WORK/body" || fail "the English part of the page is missing"
echo "   the friendly 503 page (Indonesian and English) was served"

step "database up again (pg_ctl start), same gunicorn pid $GUNICORN_PID"
pg_start
kill -0 "$GUNICORN_PID" || fail "gunicorn died"
expect 200 /healthz "health"
expect 200 / "signed-in home page"
kill -0 "$GUNICORN_PID" || fail "gunicorn died"

step "request log (stdout of gunicorn), last lines"
grep ' kerjasama.request ' "$WORK/gunicorn.log" | tail -n 6 | sed 's/^/   /'
if grep -q -e "$PROBE_PASSWORD" -e "sessionid=" "$WORK/gunicorn.log"; then fail "a secret reached the log"; fi
echo "DB RESTART CHECK OK: the same gunicorn served again after PostgreSQL came back"
