"""Which database a read goes to: the primary, or the optional streaming replica.

With ``DATABASE_REPLICA_URL`` set, the settings add a ``replica`` alias. Reads that only
report (the journal exports, the VAT summary, the customer statement) name it explicitly
through ``reporting_db()``; everything else reads and writes the primary. The choice is
explicit rather than a router's guess because a router sees a model, not the operation: it
cannot tell the read a service makes after taking its lock (which must see the last
committed state), or the list a member reloads right after a cancel (which must show it),
from a report that tolerates a second of replication lag. ``PrimaryRouter`` only guards the
other direction: whatever a replica read returned, saving it writes the primary.
"""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"


def reporting_db() -> str:
    """The alias reports read from: the replica when one is configured, else the primary.
    Inside a transaction on the primary it is the primary, so a report built there sees
    what that transaction wrote, and reads under its locks stay under them."""
    alias = settings.REPORTING_DATABASE
    if alias != DEFAULT_DB_ALIAS and connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


class PrimaryRouter:
    """Writes and migrations go to the primary, whatever database an instance was read
    from; reads go where the query says (``.using(reporting_db())``), else to the primary.
    A standby refuses writes, so an object read from it and saved would otherwise fail."""

    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
