"""Migration operations shared by the apps' migrations."""

from django.db import migrations


def vat_categories_from_rates(*, app_label: str, model_name: str) -> migrations.RunPython:
    """Give the existing lines of a document table their VAT category from their rate:
    standard (S) above 0 %, zero rated (Z) at 0 % (the one 0 % category that needs no
    exemption reason; staff can tell exempt or reverse-charge lines apart only on new
    documents).

    Lines of issued documents are frozen by row triggers that refuse every UPDATE, so on
    PostgreSQL the column is recomputed by ``ALTER COLUMN … TYPE … USING``, a table rewrite
    that fires no row trigger, as ``ADD COLUMN … DEFAULT`` does; nothing else in the rows
    changes. Elsewhere (SQLite, no triggers) it is a plain UPDATE.
    """

    def forward(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        table = schema_editor.quote_name(model._meta.db_table)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN vat_category TYPE varchar(2) "
                "USING (CASE WHEN tax_rate > 0 THEN 'S' ELSE 'Z' END)"
            )
        else:
            model.objects.filter(tax_rate=0).update(vat_category="Z")

    return migrations.RunPython(forward, migrations.RunPython.noop)


class PostgresOnlyAddIndex(migrations.AddIndex):
    """``AddIndex`` for an index only PostgreSQL has (a GIN trigram index): the model state
    holds it everywhere, the embedded SQLite database simply goes without it."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
