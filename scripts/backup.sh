#!/usr/bin/env bash
# Write a pg_dump of the Kerjasama database to backups/kerjasama-YYYYmmdd-HHMMSS.dump (custom format,
# compressed; restore with pg_restore, see docs/deploy.md). Usage:
#   DATABASE_URL=postgres://user:pass@host:5432/kerjasama scripts/backup.sh [backup-dir]
# Prints the path of the new file on the last line. The password, if any, is taken from the URL by libpq and
# never printed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${DATABASE_URL:-}" != postgres://* && "${DATABASE_URL:-}" != postgresql://* ]]; then
  echo "backup.sh: DATABASE_URL must point at PostgreSQL (postgres://...)" >&2
  exit 2
fi
dir="${1:-${BACKUP_DIR:-backups}}"
mkdir -p "$dir"
chmod 700 "$dir"
file="$dir/kerjasama-$(date +%Y%m%d-%H%M%S).dump"
tmp="$file.partial"
trap 'rm -f "$tmp"' EXIT
# Custom format: compressed, restorable table by table, and with --no-owner into any role.
pg_dump --format=custom --no-owner --no-privileges --file="$tmp" "$DATABASE_URL"
chmod 600 "$tmp"
mv "$tmp" "$file"
trap - EXIT
echo "backup written: $file ($(du -h "$file" | cut -f1))"
echo "$file"
