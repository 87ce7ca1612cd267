#!/usr/bin/env bash
# Prove that a backup restores: restore a pg_dump file into a fresh, throwaway database and compare the
# exact row count of every table with the source database. Usage:
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kerjasama scripts/restore_check.sh [backup.dump]
# Without a file it first takes a new backup with scripts/backup.sh. Exits 1 on any difference.
# The scratch database (<source>_restore_check_<pid>) is dropped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${DATABASE_URL:-}" != postgres://* && "${DATABASE_URL:-}" != postgresql://* ]]; then
  echo "restore_check.sh: DATABASE_URL must point at PostgreSQL (postgres://...)" >&2
  exit 2
fi
dump="${1:-}"
if [[ -z "$dump" ]]; then
  dump="$(scripts/backup.sh "${BACKUP_DIR:-backups}" | tail -n 1)"
fi
[[ -f "$dump" ]] || { echo "restore_check.sh: no such file: $dump" >&2; exit 2; }

# Same server and credentials, another database name: replace the path of the URL (keep ?query options).
base="${DATABASE_URL%%\?*}"
query=""
[[ "$DATABASE_URL" == *\?* ]] && query="?${DATABASE_URL#*\?}"
source_db="${base##*/}"
scratch_db="${source_db}_restore_check_$$"
scratch_url="${base%/*}/${scratch_db}${query}"
admin_url="${base%/*}/postgres${query}"

cleanup() { psql "$admin_url" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$scratch_db\"" >/dev/null 2>&1 || true; }
trap cleanup EXIT

psql "$admin_url" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$scratch_db\"" >/dev/null
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch_url" "$dump"

# Exact counts of every table of the public schema, one "table|count" line each.
count_sql=$(cat <<'SQL'
SELECT string_agg(format('SELECT %L AS t, count(*) AS n FROM %I.%I', table_name, table_schema, table_name),
                  ' UNION ALL ' ORDER BY table_name)
FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
SQL
)
counts() {
  local url="$1" query
  query="$(psql "$url" -At -v ON_ERROR_STOP=1 -c "$count_sql")"
  psql "$url" -At -F '|' -v ON_ERROR_STOP=1 -c "$query ORDER BY 1"
}
expected="$(counts "$DATABASE_URL")"
restored="$(counts "$scratch_url")"

tables=$(printf '%s\n' "$expected" | grep -c .)
rows=$(printf '%s\n' "$expected" | awk -F'|' '{s += $2} END {print s + 0}')
if [[ "$expected" != "$restored" ]]; then
  echo "RESTORE CHECK FAILED: row counts differ (source < > restored)" >&2
  diff <(printf '%s\n' "$expected") <(printf '%s\n' "$restored") >&2 || true
  exit 1
fi
echo "restore check OK: $dump restored into $scratch_db; $tables tables, $rows rows, every count equal"
