#!/bin/sh
# Run once by the postgres image when it initialises an empty data directory
# (/docker-entrypoint-initdb.d). With POSTGRES_REPLICATION_PASSWORD set: the role the
# standby of the `replica` profile clones and streams as, a pg_hba.conf line that lets it
# connect for replication, and WAL kept for a standby that falls behind. Without it: nothing.
set -eu
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ]; then
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
ALTER SYSTEM SET wal_keep_size = '1GB';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
