"""Today's stage and stall flags stored beside the facts (``stalls.refresh_status`` fills them and stamps the
thresholds row; until the first refresh the pages compute them, as before), and, on PostgreSQL only, indexes for
the register at national scale: the agreement number in the "C" collation (the order the list, the exports and
``manage.py stalled`` sort numbers in, ``selectors.codepoint_order``), alone and after the signing date (the
register's default order); the third parties' names as the search reads them; the numbers' trigrams for a search
by part of a number (when the pg_trgm extension can be installed). SQLite sorts in code-point order by default and
has none of these; the indexes are not in ``Agreement.Meta`` (SQLite has no "C" collation), so ``makemigrations
--check`` stays clean."""

from django.db import DatabaseError, migrations, models, transaction

# The two orders of the register that read a page without sorting every row: by number, and the default (newest
# signing first, then number), as ``filters.SORTS`` writes them.
INDEXES = {
    "agreement_number_c_idx": '(number COLLATE "C")',
    "agreement_signed_number_c_idx": '(signed_on DESC NULLS LAST, number COLLATE "C")',
}


# The search's third-party names (``filters.text_search_q``): the expression it generates, indexed.
THIRD_PARTY_SEARCH = (
    "thirdparty_search_idx",
    "agreements_thirdparty USING gin (to_tsvector('indonesian'::regconfig, COALESCE(name, '')))",
)


# A number's substring (``number__icontains``, which Django writes ``UPPER(number::text) LIKE UPPER(...)``): a trigram
# index on that expression, when the pg_trgm extension can be installed (a trusted extension from PostgreSQL 13: the
# database's owner may). Without it the search still works, scanning the numbers.
NUMBER_TRIGRAMS = "agreement_number_trgm_idx"


def create_number_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON agreements_agreement {columns}")
        schema_editor.execute("CREATE INDEX IF NOT EXISTS %s ON %s" % THIRD_PARTY_SEARCH)
        try:
            with transaction.atomic():
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NUMBER_TRIGRAMS} ON agreements_agreement "
                              "USING gin ((UPPER(number::text)) gin_trgm_ops)")


def drop_number_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in [*INDEXES, THIRD_PARTY_SEARCH[0], NUMBER_TRIGRAMS]:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0020_indicator_financing_versions'),
    ]

    operations = [
        migrations.AddField(
            model_name='agreement',
            name='status_ends_on_in_force',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_has_signed_pks',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_has_started_milestone',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_is_lapsed',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_is_stalled',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_overdue_since',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stage',
            field=models.CharField(db_default='draft', default='draft', editable=False, max_length=20),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stage_order',
            field=models.PositiveSmallIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stall_kb_without_pks',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stall_milestone_overdue',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stall_pks_not_started',
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name='agreement',
            name='status_stalled_since',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='stallsettings',
            name='status_date',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='stallsettings',
            name='status_thresholds',
            field=models.CharField(blank=True, default='', editable=False, max_length=40),
        ),
        migrations.RunPython(create_number_index, drop_number_index),
    ]
