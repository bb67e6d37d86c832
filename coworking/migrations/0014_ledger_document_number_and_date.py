"""Ledger entries keep the number of the invoice they concern and the date of their
document; the rule tying each kind to its sign stands alone. Which row each entry was
posted for is held by the apps above (each document points at its entry): their migrations
fill these fields on existing rows (the date below is only a placeholder for them)."""

import datetime

from django.db import migrations, models


def _has_undeclared_columns(schema_editor, model) -> bool:
    """Whether the table has columns the model no longer declares, on SQLite. SQLite adds a
    NOT NULL column or a constraint by rebuilding the table from the model, which would drop
    them; the apps above read such columns once (to move what they say to their own
    tables) and drop them themselves."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, model._meta.db_table)
    declared = {field.column for field in model._meta.local_concrete_fields}
    return bool({column.name for column in table} - declared)


class AddColumn(migrations.AddField):
    """``AddField`` that keeps undeclared columns on SQLite (``ALTER TABLE ADD COLUMN``)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not _has_undeclared_columns(schema_editor, model):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        field = model._meta.get_field(self.name)
        default, field.default = field.default, self.field.default
        definition, _ = schema_editor.column_sql(model, field, include_default=True)
        field.default = default
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} "
            f"ADD COLUMN {schema_editor.quote_name(field.column)} {definition}"
        )


class AddConstraint(migrations.AddConstraint):
    """``AddConstraint`` that, on SQLite with undeclared columns, leaves the constraint to
    the rebuild that drops them."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not _has_undeclared_columns(schema_editor, model):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    dependencies = [
        ('coworking', '0013_merge_single_line_texts'),
    ]

    operations = [
        AddColumn(
            model_name='ledgerentry',
            name='document_number',
            field=models.CharField(blank=True, help_text='The number of the invoice the entry concerns, as posted (none for a refund of account credit).', max_length=32, verbose_name='document number'),
        ),
        AddColumn(
            model_name='ledgerentry',
            name='document_date',
            field=models.DateField(default=datetime.date(2000, 1, 1), help_text="The date of the entry's document: its issue, receipt or refund day.", verbose_name='document date'),
            preserve_default=False,
        ),
        AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0), ('kind', 'invoice')) | models.Q(('amount__lt', 0), ('kind__in', ['payment', 'credit_note'])) | models.Q(('amount__gt', 0), ('kind__in', ['refund', 'settled_outside'])), name='ledger_kind_and_sign'),
        ),
    ]
