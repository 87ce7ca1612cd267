"""A GIN index for the list's full-text search, on PostgreSQL only (so a search stays fast at national scale).

The expression is exactly the one ``filters.text_search_q`` generates for
``SearchVector("number", "title", "scope", config="indonesian")``, so the planner answers a search
with a Bitmap Index Scan instead of computing ``to_tsvector`` for every agreement. SQLite has no GIN
and no full-text search (``text_search_q`` uses ``icontains`` there), so nothing is created on it.
The index is not declared in ``Agreement.Meta`` (it would be created on SQLite too), so the model state
does not change and ``makemigrations --check`` stays clean.
"""

from django.db import migrations

INDEX_NAME = "agreement_search_idx"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON agreements_agreement USING gin ("
    "to_tsvector('indonesian'::regconfig, COALESCE(number, '') || ' ' || COALESCE(title, '') || ' ' "
    "|| COALESCE(scope, '')))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0006_stall_facts"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
