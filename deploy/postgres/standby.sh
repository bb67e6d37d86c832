#!/bin/sh
# The entrypoint of the `replica` profile's standby: the first time (an empty data
# directory) clone the primary with pg_basebackup as the replication role and mark the copy
# a standby (-R); then run PostgreSQL, which follows the primary's WAL, read-only.
# hot_standby_feedback: the primary keeps the row versions a long export on the standby
# still reads, so replaying WAL does not cancel that export halfway.
# No replication slot: a slot the primary keeps for a standby that is gone fills its disk.
# A standby down for longer than the primary keeps WAL (wal_keep_size, 1 GB) must be
# cloned again: remove its volume and start it.
set -eu
export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -p 5432 -q; do sleep 1; done
  pg_basebackup -h postgres -p 5432 -U replicator -D "$PGDATA" -X stream -R --checkpoint=fast
  echo "primary_conninfo = 'host=postgres port=5432 user=replicator password=$POSTGRES_REPLICATION_PASSWORD application_name=replica'" \
    >> "$PGDATA/postgresql.auto.conf"
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
