#!/usr/bin/env bash
# Nightly PostgreSQL backup for hallq: pg_dump in custom format (compressed,
# restorable table by table with pg_restore), old dumps pruned.
#   HALLQ_DATABASE_URL   postgresql+asyncpg://user:pw@host:port/db (the server's setting)
#   HALLQ_BACKUP_DIR     where dumps go (default /var/backups/hallq)
#   HALLQ_BACKUP_KEEP_DAYS  delete dumps older than this (default 30)
# Prints the path of the dump it wrote.
set -euo pipefail
url="${HALLQ_DATABASE_URL:?set HALLQ_DATABASE_URL}"
case "$url" in
  postgresql+asyncpg://*) ;;
  *) echo "HALLQ_DATABASE_URL is not PostgreSQL; for SQLite use: hallq backup" >&2; exit 2 ;;
esac
# libpq does not know the SQLAlchemy driver suffix.
libpq_url="postgresql://${url#postgresql+asyncpg://}"
dir="${HALLQ_BACKUP_DIR:-/var/backups/hallq}"
keep="${HALLQ_BACKUP_KEEP_DAYS:-30}"
mkdir -p "$dir"
out="$dir/hallq-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$out.partial" "$libpq_url"
mv "$out.partial" "$out"
find "$dir" -maxdepth 1 -name 'hallq-*.dump' -mtime +"$keep" -delete
echo "$out"
