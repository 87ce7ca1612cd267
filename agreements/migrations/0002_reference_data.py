"""Load the 38 provinces, 514 kabupaten/kota (ODbL data in agreements/data/) and the 32 affairs."""

from django.db import migrations


def load(apps, schema_editor):
    from agreements.reference import load_reference_data

    load_reference_data(apps.get_model("agreements", "Region"), apps.get_model("agreements", "GovernmentAffair"))


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
