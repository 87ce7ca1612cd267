"""Install the ten default step templates and give every existing agreement its checklist, derived from what the
register knows (a signed KB has its signing step done, a party's DPRD approval its DPRD step, and so on).

Historical models only. The templates and the derivation rule come from ``agreements.step_defaults``, a module of
plain data and plain functions that imports no model (the same data ``agreements.steps`` installs); its docstring
says what must stay the same for this migration to keep working. Steps are written with ``bulk_create``, without
history rows: their creation is this migration, and what they say is derived from facts whose history is kept.
Agreements that already have steps, and templates that already exist, are left alone (the migration can run on a
database where some were made by hand).
"""

from collections import defaultdict

from django.db import migrations

from agreements import step_defaults

BATCH = 2000


def install_templates(apps):
    StepTemplate = apps.get_model("agreements", "StepTemplate")
    TemplateStep = apps.get_model("agreements", "TemplateStep")
    taken = set(TemplateStep.objects.values_list("code", flat=True))
    for data in step_defaults.default_templates():
        template, created = StepTemplate.objects.get_or_create(
            document_type=data["document_type"], cooperation_kind=data["cooperation_kind"],
            defaults={"name": data["name"]},
        )
        if not created:
            continue
        TemplateStep.objects.bulk_create([
            TemplateStep(template=template, **{k: v for k, v in step.items()})
            for step in data["steps"] if step["code"] not in taken
        ])


def derive_existing(apps):
    Agreement = apps.get_model("agreements", "Agreement")
    AgreementParty = apps.get_model("agreements", "AgreementParty")
    AgreementStep = apps.get_model("agreements", "AgreementStep")
    TemplateStep = apps.get_model("agreements", "TemplateStep")

    fields = ["code", "order", "phase", "title", "instructions", "expected_document", "actor", "per_party",
              "legal_basis", "pks_step_code"]
    templates = defaultdict(list)
    for step in TemplateStep.objects.select_related("template").order_by("template_id", "order"):
        templates[(step.template.document_type, step.template.cooperation_kind)].append(
            {name: getattr(step, name) for name in fields})
    with_steps = set(AgreementStep.objects.values_list("agreement_id", flat=True).distinct())
    agreements = [a for a in Agreement.objects.values(
        "pk", "document_type", "cooperation_kind", "parent_id", "signed_on", "dprd_approved_on", "first_started_on",
        "first_pks_signed_on",
    ) if a["pk"] not in with_steps]
    parties = defaultdict(list)
    for party in AgreementParty.objects.values("agreement_id", "signed_on", "dprd_required", "dprd_approved_on"):
        parties[party["agreement_id"]].append(party)

    # PKSs first, so that a KB's closing steps see what its PKSs have done.
    agreements.sort(key=lambda a: (a["document_type"] != "PKS", a["pk"]))
    children_done = defaultdict(dict)
    rows = []
    for agreement in agreements:
        steps = templates.get((agreement["document_type"], agreement["cooperation_kind"]), [])
        facts = {**agreement, "parties": parties[agreement["pk"]], "children_done": children_done[agreement["pk"]]}
        for step, target in zip(steps, step_defaults.derive(steps, facts), strict=True):
            status, done_on, reason = target or (step_defaults.NOT_STARTED, None, "")
            rows.append(AgreementStep(agreement_id=agreement["pk"], status=status, done_on=done_on,
                                      not_applicable_reason=reason, **step))
            if status == step_defaults.DONE and agreement["parent_id"]:
                done = children_done[agreement["parent_id"]]
                key = step_defaults.step_key(step["code"])
                done[key] = min(done_on, done.get(key, done_on))
        if len(rows) >= BATCH:
            AgreementStep.objects.bulk_create(rows)
            rows = []
    AgreementStep.objects.bulk_create(rows)


def forwards(apps, schema_editor):
    install_templates(apps)
    derive_existing(apps)


class Migration(migrations.Migration):

    dependencies = [
        ("agreements", "0013_steps_parties_obstacles_guidance"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
