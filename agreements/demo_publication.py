"""Demo data for open data (called by ``demo.seed``): a handful of signed agreements published by the demo ministry
account, Kota Bandung's among them (so the public page and anonymous API callers have something to show), and one
public document: a small PDF of the first published KB, generated here.

Deterministic: the first signed agreements by number, of each document type, through ``publication.publish``.
"""

from django.core.files.base import ContentFile

from . import publication
from .models import Agreement, Document

KOTA_BANDUNG = "32.73"
PUBLISHED_PER_TYPE = 4
# A one-page PDF written by hand: the demo's public document (the real ones are uploaded scans).
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_publication(*, users: list) -> dict:
    """Publish the demo agreements and make one document public; returns their counts."""
    ministry = next((u for u in users if u.role == "ministry"), None)
    if ministry is None:
        return {"published": 0, "public_documents": 0}
    signed = Agreement.objects.filter(signed_on__isnull=False, terminated_on__isnull=True).order_by("number")
    chosen = []
    for document_type in (Agreement.DocumentType.KB, Agreement.DocumentType.PKS):
        of_type = signed.filter(document_type=document_type)
        mine = list(of_type.filter(parties__region__code=KOTA_BANDUNG).distinct()[:2])
        chosen += mine + list(of_type.exclude(pk__in=[a.pk for a in mine])[:PUBLISHED_PER_TYPE - len(mine)])
    published = publication.publish(chosen, user=ministry)
    documents = 0
    first_kb = next((a for a in chosen if a.document_type == Agreement.DocumentType.KB), None)
    if first_kb is not None:
        document = Document(agreement=first_kb, doc_type=Document.Type.KB_SCAN, dated_on=first_kb.signed_on,
                            original_name="kesepakatan-bersama.pdf", content_type="application/pdf",
                            size=len(DEMO_PDF), uploaded_by=ministry)
        document.file.save("kesepakatan-bersama.pdf", ContentFile(DEMO_PDF), save=True)
        publication.set_document_public(document, public=True, user=ministry)
        documents = 1
    return {"published": published, "public_documents": documents}
