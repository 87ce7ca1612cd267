"""Amendments (adendum): the service and its rules, the form on the agreement page (hostile input included), the values
in force as amended, the amendments listed, the tree of the chain and the timeline."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import amendments, services, stalls
from agreements.models import Agreement, Amendment, Document
from agreements.timeline import agreement_timeline
from tests.factories import AgreementFactory, PksFactory, UserFactory, region

pytestmark = pytest.mark.django_db
D = datetime.date
PDF = b"%PDF-1.4\n%%EOF\n"


def pdf(name="adendum.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def officer(db):
    return UserFactory(username="kota-bandung", role="local", region=region("32.73"), language="en")


@pytest.fixture
def kb(db):
    return AgreementFactory(number="KB/001/2024", signed_on=D(2024, 1, 15), starts_on=D(2024, 2, 1),
                            ends_on=D(2027, 1, 31), scope="Promosi bersama", value_idr=1_000_000)


def record(agreement, user, **values):
    base = {"signed_on": D(2025, 3, 1), "summary": "Jangka waktu diperpanjang.", "number": "1/ADD/2025"}
    base.update(values)
    return services.amendment_create(agreement=agreement, user=user, **base)


# --- the service ---------------------------------------------------------------------------------------------------


def test_service_records_an_amendment_with_its_document_and_history(kb, officer, media_root):
    amendment = record(kb, officer, ends_on=D(2029, 1, 31), value_idr=2_000_000, document=pdf())
    assert (amendment.number, amendment.signed_on, amendment.ends_on, amendment.value_idr) == (
        "1/ADD/2025", D(2025, 3, 1), D(2029, 1, 31), 2_000_000)
    document = amendment.document
    assert (document.doc_type, document.dated_on, document.agreement_id) == (Document.Type.ADDENDUM, D(2025, 3, 1), kb.pk)
    assert amendment.history.get().history_user == officer
    kb.refresh_from_db()
    assert (kb.ends_on, kb.value_idr) == (D(2027, 1, 31), 1_000_000)  # the original values stay


@pytest.mark.parametrize(("values", "field"), [
    ({"signed_on": None}, "signed_on"),
    ({"signed_on": D(2023, 12, 31)}, "signed_on"),  # before the agreement's signing
    ({"signed_on": stalls.today() + datetime.timedelta(days=1)}, "signed_on"),
    ({"signed_on": D(1899, 12, 31)}, "signed_on"),
    ({"ends_on": D(2025, 2, 28)}, "ends_on"),  # before the amendment's own signing
    ({"summary": "  "}, "summary"),
    ({"summary": "a\x00b"}, "summary"),
    ({"summary": "x" * 4001}, "summary"),
    ({"scope": "y" * 10001}, "scope"),
    ({"number": "N" * 121}, "number"),
    ({"value_idr": 2 ** 64}, "value_idr"),
])
def test_service_refuses_what_the_rules_forbid(kb, officer, values, field):
    with pytest.raises(ValidationError) as exc:
        record(kb, officer, **values)
    assert field in exc.value.message_dict
    assert not Amendment.objects.exists()


def test_an_unsigned_agreement_cannot_be_amended_and_a_number_is_used_once(officer):
    draft = AgreementFactory(signed_on=None)
    with pytest.raises(ValidationError, match="not signed"):
        record(draft, officer)
    kb = AgreementFactory(signed_on=D(2024, 1, 15))
    record(kb, officer)
    with pytest.raises(ValidationError) as exc:
        record(kb, officer, signed_on=D(2025, 4, 1))
    assert exc.value.message_dict["number"] == ["This agreement already has an amendment with this number."]
    record(kb, officer, number="", signed_on=D(2025, 4, 1))  # without a number: no uniqueness
    record(kb, officer, number="", signed_on=D(2025, 5, 1))
    assert kb.amendments.count() == 3


def test_who_may_record_an_amendment_is_who_may_write_the_agreement(kb):
    jabar = UserFactory(role="province", region=region("32"))  # reads Kota Bandung's KB, may not write it
    with pytest.raises(PermissionDenied):
        record(kb, jabar)
    record(kb, UserFactory(role="ministry"))


def test_a_refused_upload_leaves_no_file(kb, officer, media_root):
    with pytest.raises(ValidationError):
        record(kb, officer, signed_on=D(2023, 1, 1), document=pdf())
    assert not list(media_root.rglob("*.pdf")) and not Document.objects.exists()


# --- the values in force ---------------------------------------------------------------------------------------------


def test_in_force_is_the_latest_amendment_signed_on_or_before_the_date_for_each_value(kb, officer):
    first = record(kb, officer, number="1", signed_on=D(2025, 1, 10), ends_on=D(2028, 1, 31), scope="Lingkup baru")
    second = record(kb, officer, number="2", signed_on=D(2025, 6, 1), ends_on=D(2029, 6, 30))
    third = record(kb, officer, number="3", signed_on=D(2025, 6, 1), value_idr=5)  # the same day, recorded later
    rows = list(kb.amendments.all())
    before = amendments.in_force(kb, rows, D(2025, 1, 9))
    assert (before.ends_on, before.scope, before.value_idr, before.amended) == (
        D(2027, 1, 31), "Promosi bersama", 1_000_000, False)
    middle = amendments.in_force(kb, rows, D(2025, 3, 1))
    assert (middle.ends_on, middle.ends_on_by, middle.scope_by) == (D(2028, 1, 31), first, first)
    after = amendments.in_force(kb, rows, D(2025, 6, 1))
    assert (after.ends_on, after.ends_on_by, after.value_idr, after.value_by, after.scope_by) == (
        D(2029, 6, 30), second, 5, third, first)
    # The stall rules compute the same end date in force.
    annotated = stalls.with_status(Agreement.objects.filter(pk=kb.pk), as_of=D(2025, 6, 1)).get()
    assert annotated.ends_on_in_force == after.ends_on


# --- the form ----------------------------------------------------------------------------------------------------------


def test_form_records_the_amendment_and_the_page_shows_the_agreement_as_amended(client, kb, officer, media_root):
    client.force_login(officer)
    url = reverse("amendment-create", args=[kb.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"number": "1/ADD/2025", "signed_on": "2025-03-01", "summary": "Diperpanjang.",
                                 "ends_on": "2029-01-31", "value_idr": "2500000", "scope": "Lingkup diperluas",
                                 "document": pdf()})
    assert response.status_code == 302 and response["Location"] == kb.get_absolute_url()
    amendment = Amendment.objects.get()
    page = client.get(kb.get_absolute_url())
    html = page.content.decode()
    assert page.context["in_force"].ends_on == D(2029, 1, 31)
    assert "31 January 2029" in html and "originally 31 January 2027" in html
    assert "amended by addendum No. 1/ADD/2025" in html
    assert "Rp2,500,000" in html and "originally Rp1,000,000" in html
    assert "Lingkup diperluas" in html and "Original scope" in html and "Promosi bersama" in html
    assert f'data-amendment="{amendment.pk}"' in html
    assert reverse("document-download", args=[amendment.document_id]) in html
    assert client.get(reverse("document-download", args=[amendment.document_id])).status_code == 200


@pytest.mark.parametrize(("values", "field"), [
    ({"signed_on": "2025-02-30"}, "signed_on"),
    ({"signed_on": "99999-01-01"}, "signed_on"),
    ({"signed_on": "0001-01-01"}, "signed_on"),
    ({"ends_on": "2025-01-01"}, "ends_on"),
    ({"summary": "x" * 5000}, "summary"),
    ({"number": "N" * 500}, "number"),
    ({"value_idr": "9" * 40}, "value_idr"),
    ({"value_idr": "-5"}, "value_idr"),
    ({"document": SimpleUploadedFile("adendum.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf")},
     "document"),
    ({"document": SimpleUploadedFile("adendum.exe", b"MZ\x90\x00" * 100, content_type="application/pdf")},
     "document"),
])
def test_hostile_input_is_a_form_error_never_a_500(client, kb, officer, media_root, values, field):
    client.force_login(officer)
    data = {"number": "1", "signed_on": "2025-03-01", "summary": "Diperpanjang.", **values}
    response = client.post(reverse("amendment-create", args=[kb.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Amendment.objects.exists() and not Document.objects.exists()


@pytest.mark.parametrize("values", [{"signed_on": "2025-03-01\x00"}, {"summary": "Perubahan\x00"}])
def test_a_nul_character_is_refused_with_400_before_the_form(client, kb, officer, values):
    client.force_login(officer)
    data = {"number": "1", "signed_on": "2025-03-01", "summary": "Diperpanjang.", **values}
    assert client.post(reverse("amendment-create", args=[kb.pk]), data).status_code == 400
    assert not Amendment.objects.exists()


def test_the_page_offers_the_form_only_to_who_may_write(client, kb, officer):
    client.force_login(officer)
    assert reverse("amendment-create", args=[kb.pk]) in client.get(kb.get_absolute_url()).content.decode()
    client.force_login(UserFactory(role="province", region=region("32")))
    assert reverse("amendment-create", args=[kb.pk]) not in client.get(kb.get_absolute_url()).content.decode()


def test_addendum_documents_are_recorded_as_amendments_not_uploaded_loose(client, kb, officer):
    client.force_login(officer)
    choices = [value for value, _label in client.get(reverse("document-upload", args=[kb.pk])).context[
        "form"].fields["doc_type"].choices]
    assert Document.Type.ADDENDUM not in choices and Document.Type.KB_SCAN in choices


# --- the tree, the timeline, the queries --------------------------------------------------------------------------------


def test_tree_shows_the_kb_its_pks_their_amendments_and_renewals(client, kb, officer):
    pks = PksFactory(parent=kb, number="PKS/001/2024", signed_on=D(2024, 3, 1))
    on_kb = record(kb, officer, number="KB-ADD-1")
    on_pks = record(pks, officer, number="PKS-ADD-1", signed_on=D(2024, 6, 1))
    successor = AgreementFactory(number="KB/002/2027", signed_on=D(2026, 12, 1), renews=kb)
    client.force_login(officer)
    for page in (kb, pks):
        response = client.get(page.get_absolute_url())
        html = response.content.decode()
        tree = response.context["tree"]
        assert tree.agreement == kb and [c.agreement for c in tree.children] == [pks]
        assert tree.amendments == [on_kb] and tree.children[0].amendments == [on_pks]
        assert tree.renewed_by == [successor]
        assert f'data-amendment="{on_pks.pk}"' in html and f'data-renewed-by="{successor.pk}"' in html
        assert 'aria-current="page"' in html
    html = client.get(successor.get_absolute_url()).content.decode()
    assert f'data-renews="{kb.pk}"' in html


def test_timeline_has_amendments_signed_and_renewals(kb, officer):
    record(kb, officer, number="1/ADD/2025")
    AgreementFactory(number="KB/002/2027", signed_on=D(2026, 12, 1), renews=kb)
    events = agreement_timeline(kb, today=D(2026, 12, 3))
    titles = {(e.kind, e.title) for e in events}
    assert ("amendment", "Addendum No. 1/ADD/2025 signed") in titles
    assert ("renewal", "Renewed by KB/002/2027, signed") in titles
    assert any(e.kind == "history" and e.title == "Addendum recorded: 1/ADD/2025" for e in events)


def test_agreement_page_queries_do_not_grow_with_the_amendments(client, kb, officer, django_assert_max_num_queries):
    client.force_login(officer)
    pks = PksFactory(parent=kb, signed_on=D(2024, 3, 1))
    record(kb, officer, number="0")
    client.get(kb.get_absolute_url())  # warm up the session and the settings row

    def count(agreement):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(agreement.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    few_kb, few_pks = count(kb), count(pks)
    for i in range(1, 8):
        record(kb, officer, number=str(i), signed_on=D(2025, 1, i), ends_on=D(2030, 1, i))
        record(pks, officer, number=str(i), signed_on=D(2025, 1, i), value_idr=i)
    assert count(kb) == few_kb
    with django_assert_max_num_queries(few_pks):  # eight amendments on the PKS and seven on its KB: no more queries
        client.get(pks.get_absolute_url())


# --- Django admin ------------------------------------------------------------------------------------------------------


def test_admin_applies_the_same_rules_and_lists_amendments_under_the_agreement(client, kb):
    admin = UserFactory(role="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    add = reverse("admin:agreements_amendment_add")
    data = {"agreement": kb.pk, "number": "1", "signed_on": "2023-01-01", "summary": "Diperpanjang.", "scope": "",
            "ends_on": "", "value_idr": ""}
    response = client.post(add, data)
    assert response.status_code == 200 and "signed_on" in response.context["adminform"].form.errors
    assert client.post(add, {**data, "signed_on": "2025-03-01"}).status_code == 302
    amendment = Amendment.objects.get()
    assert amendment.created_by == admin and amendment.history.get().history_user == admin
    html = client.get(reverse("admin:agreements_agreement_change", args=[kb.pk])).content.decode()
    assert reverse("admin:agreements_amendment_change", args=[amendment.pk]) in html
