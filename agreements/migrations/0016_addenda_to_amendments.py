"""Every uploaded document of type addendum becomes an amendment of its agreement, dated by the document.

The document stays where it is and is attached to the amendment; its date (else the upload date) is the
amendment's signing date. The amendment has no number and changes nothing until an officer completes it;
its summary says where it came from.
"""

from django.db import migrations


def addenda_to_amendments(apps, schema_editor):
    Document = apps.get_model("agreements", "Document")
    Amendment = apps.get_model("agreements", "Amendment")
    made = []
    for doc in Document.objects.filter(doc_type="addendum", amendment__isnull=True).order_by("pk").iterator():
        made.append(Amendment(
            agreement_id=doc.agreement_id,
            signed_on=doc.dated_on or doc.uploaded_at.date(),
            summary=f"Adendum: {doc.original_name or doc.file.name}",
            document_id=doc.pk,
            created_by_id=doc.uploaded_by_id,
        ))
    Amendment.objects.bulk_create(made, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0015_terms_amendments_renewals")]

    operations = [migrations.RunPython(addenda_to_amendments, migrations.RunPython.noop)]
