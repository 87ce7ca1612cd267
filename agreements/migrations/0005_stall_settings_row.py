"""Create the single row of stall thresholds with the documented defaults, so reading it never writes."""

from django.db import migrations


def create_row(apps, schema_editor):
    StallSettings = apps.get_model("agreements", "StallSettings")
    StallSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0004_followup")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
