"""The default questions of the semester evaluation (monev), each scored 1-5; administrators edit them in admin."""

from django.db import migrations

QUESTIONS = [
    ("objectives", "Apakah tujuan kerja sama tercapai?", "Were the cooperation's objectives met?"),
    ("on_time", "Apakah pelaksanaan tepat waktu sesuai jadwal?", "Was it carried out on time?"),
    ("partner", "Bagaimana kontribusi mitra kerja sama?", "How did the partner contribute?"),
    ("indicators", "Apakah target indikator tercapai?", "Were the indicators' targets reached?"),
    ("public_service", "Apakah kerja sama bermanfaat bagi pelayanan publik?",
     "Did the cooperation benefit public services?"),
]


def add_questions(apps, schema_editor):
    Question = apps.get_model("agreements", "EvaluationQuestion")
    for order, (code, text, text_en) in enumerate(QUESTIONS, start=1):
        Question.objects.get_or_create(code=code, defaults={"text": text, "text_en": text_en, "order": order})


class Migration(migrations.Migration):
    dependencies = [("agreements", "0017_results_financing_evaluation")]

    operations = [migrations.RunPython(add_questions, migrations.RunPython.noop)]
