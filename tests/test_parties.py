"""Each regional party's own signing date and DPRD approval (``agreements.signing``, ``services.party_record``,
``services.sync_signing``), the agreement page's grid that shows the lagging party, and the party form."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements import services
from agreements.models import Agreement, AgreementParty, AgreementStep
from tests.factories import AgreementFactory, PksFactory, UserFactory, region

D = datetime.date


def pdf():
    return SimpleUploadedFile("kb.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def party(agreement, code) -> AgreementParty:
    return AgreementParty.objects.select_related("agreement", "region").get(agreement=agreement, region__code=code)


def record(user, agreement, code, **fields):
    agreement.refresh_from_db()
    p = party(agreement, code)
    p.agreement = agreement
    return services.party_record(party=p, user=user, expected_version=agreement.version, **fields)


# --- the rule: the agreement's dates follow its parties' ---------------------------------------------------------


def test_agreement_is_signed_when_its_last_party_signs(personas):
    agreement = AgreementFactory(signed_on=None)
    record(personas["local_in"], agreement, "32.73", signed_on=D(2025, 3, 1), signatory_name="Muhammad Farhan",
           signatory_position="Wali Kota Bandung")
    agreement.refresh_from_db()
    assert agreement.signed_on is None  # Kabupaten Bandung has not signed yet: still a draft
    assert party(agreement, "32.73").signatory_name == "Muhammad Farhan"
    record(personas["ministry"], agreement, "32.04", signed_on=D(2025, 3, 20))
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 3, 20)
    assert agreement.history.first().history_user == personas["ministry"]
    # A correction of the last date moves the agreement's with it.
    record(personas["ministry"], agreement, "32.04", signed_on=D(2025, 3, 10))
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 3, 10)


def test_dprd_approval_is_the_last_required_one(personas):
    agreement = AgreementFactory(dprd_approved_on=None)
    record(personas["local_in"], agreement, "32.73", dprd_required=True, dprd_approved_on=D(2024, 2, 1),
           dprd_decision_number="12/DPRD/2024")
    agreement.refresh_from_db()
    assert agreement.dprd_approved_on == D(2024, 2, 1)  # the only party that requires approval has it
    record(personas["ministry"], agreement, "32.04", dprd_required=True)
    agreement.refresh_from_db()
    assert agreement.dprd_approved_on == D(2024, 2, 1)  # one approval is missing: left as it is
    record(personas["ministry"], agreement, "32.04", dprd_required=True, dprd_approved_on=D(2024, 3, 5))
    agreement.refresh_from_db()
    assert agreement.dprd_approved_on == D(2024, 3, 5)


@pytest.mark.parametrize("fields, field", [
    ({"dprd_required": False, "dprd_approved_on": D(2024, 2, 1)}, "dprd_approved_on"),
    ({"dprd_required": False, "dprd_decision_number": "12/DPRD/2024"}, "dprd_decision_number"),
    ({"dprd_required": True, "dprd_decision_number": "12/DPRD/2024"}, "dprd_approved_on"),
    ({"signatory_name": "x" * 151}, "signatory_name"),
])
def test_party_rules_refuse_and_nothing_is_saved(personas, fields, field):
    agreement = AgreementFactory()
    with pytest.raises(ValidationError) as exc:
        record(personas["ministry"], agreement, "32.73", **fields)
    assert field in exc.value.message_dict
    stored = party(agreement, "32.73")
    assert (stored.dprd_required, stored.dprd_approved_on, stored.signatory_name) == (False, None, "")
    agreement.refresh_from_db()
    assert agreement.version == 1


def test_an_officer_records_only_their_own_region(personas):
    agreement = AgreementFactory(signed_on=None)
    with pytest.raises(ValidationError):
        record(personas["local_in"], agreement, "32.04", signed_on=D(2025, 3, 1))
    assert party(agreement, "32.04").signed_on is None


def test_a_stale_version_is_refused(personas):
    agreement = AgreementFactory(signed_on=None)
    p = party(agreement, "32.73")
    p.agreement = agreement
    record(personas["ministry"], agreement, "32.04", signed_on=D(2025, 3, 1))  # someone else saved meanwhile
    with pytest.raises(services.StaleVersionError):
        services.party_record(party=p, user=personas["local_in"], expected_version=1, signed_on=D(2025, 3, 2))
    assert party(agreement, "32.73").signed_on is None


def test_a_pks_party_cannot_make_the_pks_signed_before_its_kb(personas):
    kb = AgreementFactory(signed_on=D(2025, 1, 10))
    pks = PksFactory(parent=kb, signed_on=None)
    record(personas["ministry"], pks, "32.04", signed_on=D(2025, 1, 5))  # one party: the PKS is not signed yet
    with pytest.raises(ValidationError) as exc:
        record(personas["ministry"], pks, "32.73", signed_on=D(2025, 1, 6))
    assert "before its parent KB" in exc.value.message_dict["signed_on"][0]
    pks.refresh_from_db()
    assert pks.signed_on is None and party(pks, "32.73").signed_on is None


def test_sign_form_date_goes_to_parties_without_one(personas, media_root):
    agreement = AgreementFactory(signed_on=None)
    services.agreement_sign(agreement=agreement, user=personas["local_in"], signed_on=D(2025, 3, 1),
                            document=pdf(), expected_version=1)
    assert [p.signed_on for p in AgreementParty.objects.filter(agreement=agreement)] == [D(2025, 3, 1)] * 2
    # A correction moves the parties that had the agreement's date.
    agreement.refresh_from_db()
    services.agreement_sign(agreement=agreement, user=personas["local_in"], signed_on=D(2025, 3, 4),
                            document=pdf(), expected_version=agreement.version)
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 3, 4)
    assert {p.signed_on for p in AgreementParty.objects.filter(agreement=agreement)} == {D(2025, 3, 4)}


def test_sign_form_date_the_parties_contradict_is_refused(personas, media_root):
    agreement = AgreementFactory(signed_on=None)
    record(personas["ministry"], agreement, "32.73", signed_on=D(2025, 3, 1))
    record(personas["ministry"], agreement, "32.04", signed_on=D(2025, 3, 9))
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 3, 9)
    # Kabupaten Bandung signed last, with the agreement's date: it moves with it; Kota Bandung signed on 1 March,
    # so the agreement cannot be signed on 20 February.
    with pytest.raises(ValidationError) as exc:
        services.agreement_sign(agreement=agreement, user=personas["ministry"], signed_on=D(2025, 2, 20),
                                document=pdf(), expected_version=agreement.version)
    assert "last party signed on 1 March 2025" in exc.value.message_dict["signed_on"][0]
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 3, 9) and party(agreement, "32.04").signed_on == D(2025, 3, 9)
    services.agreement_sign(agreement=agreement, user=personas["ministry"], signed_on=D(2025, 3, 5),
                            document=pdf(), expected_version=agreement.version)
    assert (party(agreement, "32.73").signed_on, party(agreement, "32.04").signed_on) == (D(2025, 3, 1), D(2025, 3, 5))


def test_agreement_form_dprd_date_goes_to_the_parties_that_require_approval(personas):
    agreement = AgreementFactory(dprd_approved_on=None)
    AgreementParty.objects.filter(agreement=agreement, region__code="32.73").update(dprd_required=True)
    agreement.refresh_from_db()
    services.agreement_update(
        agreement=agreement, user=personas["ministry"], expected_version=agreement.version,
        regions=[region("32.73"), region("32.04")], affairs=list(agreement.affairs.all()),
        dprd_approved_on=D(2024, 5, 2),
    )
    assert party(agreement, "32.73").dprd_approved_on == D(2024, 5, 2)
    assert party(agreement, "32.04").dprd_approved_on is None  # does not require approval


def test_sync_signing_derives_and_saves(personas):
    agreement = AgreementFactory(signed_on=None)
    AgreementParty.objects.filter(agreement=agreement).update(signed_on=D(2025, 4, 1))
    AgreementParty.objects.filter(agreement=agreement, region__code="32.04").update(signed_on=D(2025, 4, 3))
    services.sync_signing(agreement, user=personas["admin"])
    agreement.refresh_from_db()
    assert (agreement.signed_on, agreement.version) == (D(2025, 4, 3), 2)


# --- the agreement page's grid ----------------------------------------------------------------------------------


def _row(html: str, code: str) -> str:
    start = html.index(f'data-party="{code}"')
    return html[start:html.index("</tr>", start)]


def test_grid_shows_the_lagging_party(client, personas):
    agreement = AgreementFactory(signed_on=None, regions=["32.73", "32.04", "32"])
    record(personas["ministry"], agreement, "32.73", signed_on=D(2025, 3, 1), dprd_required=True,
           dprd_approved_on=D(2025, 2, 1), dprd_decision_number="12/DPRD/2025")
    record(personas["ministry"], agreement, "32", signed_on=D(2025, 3, 2), dprd_required=True)
    client.force_login(personas["local_in"])
    html = client.get(agreement.get_absolute_url()).content.decode()
    # Kabupaten Bandung has not signed while the others have; Jawa Barat's DPRD has not approved while Kota
    # Bandung's has: both lag, Kota Bandung does not.
    assert 'data-lagging="1"' in _row(html, "32.04") and 'data-lagging="1"' in _row(html, "32")
    assert "data-lagging" not in _row(html, "32.73")
    assert 'data-step="sign" data-state="lagging"' in _row(html, "32.04")
    assert 'data-step="dprd" data-state="not_required"' in _row(html, "32.04")
    assert 'data-step="dprd" data-state="lagging"' in _row(html, "32")
    assert "12/DPRD/2025" in _row(html, "32.73") and "1 March 2025" in _row(html, "32.73")
    assert 'data-waiting="32.04"' in html and 'data-waiting="32"' in html
    assert "Signing of the KB" in html and "DPRD approval" in html
    # Kota Bandung's officer records only Kota Bandung's row.
    assert reverse("party-record", args=[agreement.pk, "32.73"]) in html
    assert reverse("party-record", args=[agreement.pk, "32.04"]) not in html


def test_grid_columns_come_from_the_per_party_steps(client, staff):
    agreement = AgreementFactory(signed_on=None)
    AgreementStep.objects.create(agreement=agreement, code="kb-sign", order=1, phase="kb", per_party=True,
                                 title="Penandatanganan KB oleh kepala daerah")
    AgreementStep.objects.create(agreement=agreement, code="kb-dprd", order=2, phase="dprd", per_party=True,
                                 title="Persetujuan DPRD masing-masing daerah")
    AgreementStep.objects.create(agreement=agreement, code="kb-pks", order=3, phase="pks", per_party=True,
                                 title="Penandatanganan PKS")
    pks = PksFactory(parent=agreement, signed_on=None)
    AgreementParty.objects.filter(agreement=agreement).update(signed_on=D(2025, 1, 2))
    AgreementParty.objects.filter(agreement=pks, region__code="32.73").update(signed_on=D(2025, 6, 1))
    client.force_login(staff)
    html = client.get(agreement.get_absolute_url()).content.decode()
    assert "Penandatanganan KB oleh kepala daerah" in html and "Penandatanganan PKS" in html
    assert 'data-step="pks" data-state="done"' in _row(html, "32.73")
    assert 'data-step="pks" data-state="lagging"' in _row(html, "32.04")


def test_grid_of_an_agreement_signed_as_a_whole_shows_its_date(client, staff):
    agreement = AgreementFactory(signed_on=D(2024, 1, 15))  # no party has a date of its own
    client.force_login(staff)
    html = client.get(agreement.get_absolute_url()).content.decode()
    assert 'data-state="with_agreement"' in _row(html, "32.73") and "data-lagging" not in html


def test_agreement_page_queries_do_not_grow_with_parties(client, staff, django_assert_max_num_queries):
    small = AgreementFactory(regions=["32.73", "32.04"])
    large = AgreementFactory(regions=["32.73", "32.04", "32.01", "32.02", "32.03", "32"])
    client.force_login(staff)
    client.get(small.get_absolute_url())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small_queries:
        client.get(small.get_absolute_url())
    with django_assert_max_num_queries(len(small_queries)):
        client.get(large.get_absolute_url())


# --- the party form -----------------------------------------------------------------------------------------------


def test_officer_records_own_signing_and_dprd_approval(client, personas):
    agreement = AgreementFactory(signed_on=None)
    url = reverse("party-record", args=[agreement.pk, "32.73"])
    client.force_login(personas["local_in"])
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "version": agreement.version, "signatory_name": "Muhammad Farhan", "signatory_position": "Wali Kota Bandung",
        "document_number": "PEM.04/12-Bag.Kerjasama", "signed_on": "2025-03-01", "dprd_required": "on",
        "dprd_approved_on": "2025-02-10", "dprd_decision_number": "12/DPRD/2025",
    })
    assert response.status_code == 302 and response.url == agreement.get_absolute_url()
    stored = party(agreement, "32.73")
    assert (stored.signed_on, stored.dprd_approved_on, stored.dprd_decision_number) == (
        D(2025, 3, 1), D(2025, 2, 10), "12/DPRD/2025")
    assert stored.history.first().history_user == personas["local_in"]
    agreement.refresh_from_db()
    assert agreement.dprd_approved_on == D(2025, 2, 10)


def test_party_form_stale_version_keeps_the_typing_and_saves_nothing(client, personas):
    agreement = AgreementFactory(signed_on=None)
    url = reverse("party-record", args=[agreement.pk, "32.73"])
    record(personas["ministry"], agreement, "32.04", signed_on=D(2025, 3, 5))
    client.force_login(personas["local_in"])
    response = client.post(url, {"version": 1, "signed_on": "2025-03-01"})
    assert response.status_code == 200
    assert "Someone else saved" in response.content.decode()
    assert party(agreement, "32.73").signed_on is None


def test_party_form_errors_name_the_field(client, personas):
    agreement = AgreementFactory(signed_on=None)
    url = reverse("party-record", args=[agreement.pk, "32.73"])
    client.force_login(personas["local_in"])
    response = client.post(url, {"version": 1, "dprd_approved_on": "2025-02-10"})
    assert response.status_code == 200
    assert response.context["form"].errors["dprd_approved_on"]


def test_other_region_403_unknown_party_and_outside_scope_404(client, personas):
    agreement = AgreementFactory()
    client.force_login(personas["local_in"])
    assert client.get(reverse("party-record", args=[agreement.pk, "32.04"])).status_code == 403
    assert client.get(reverse("party-record", args=[agreement.pk, "32.01"])).status_code == 404
    assert client.get(reverse("party-record", args=[agreement.pk, "nope"])).status_code == 404
    client.force_login(personas["local_out"])
    assert client.get(reverse("party-record", args=[agreement.pk, "32.01"])).status_code == 404
    province = UserFactory(username="jabar-x", role="province", region=region("32"))
    client.force_login(province)
    assert client.get(reverse("party-record", args=[agreement.pk, "32.73"])).status_code == 403


@pytest.mark.parametrize("data", [
    {"version": "1", "signed_on": "2025-02-30"},
    {"version": "1", "signed_on": "99999-01-01"},
    {"version": "1", "signatory_name": "Budi\x00"},
    {"version": "1", "dprd_decision_number": "9" * 5000},
    {"version": "99999999999999999999999", "signed_on": "2025-01-01"},
    {"version": "-1"},
    {},
])
def test_hostile_input_is_an_error_never_a_500(client, personas, data):
    agreement = AgreementFactory(signed_on=None)
    client.force_login(personas["local_in"])
    response = client.post(reverse("party-record", args=[agreement.pk, "32.73"]), data)
    # A NUL byte is refused by the request middleware (400) before the form; the rest are form errors.
    assert response.status_code == (400 if any("\x00" in v for v in data.values()) else 200)
    if response.status_code == 200:
        assert response.context["form"].errors
    assert party(agreement, "32.73").signed_on is None
    assert Agreement.objects.get(pk=agreement.pk).version == 1


# --- Django admin: the same rule after its inlines are saved ------------------------------------------------------


def _admin_post(agreement, parties: dict, **fields) -> dict:
    """A change form of ``agreement`` with its party rows (region code → party fields); the other inlines empty."""
    data = {
        "number": agreement.number, "document_type": agreement.document_type, "title": agreement.title,
        "cooperation_kind": agreement.cooperation_kind, "affairs": [a.pk for a in agreement.affairs.all()],
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else "",
        "dprd_approved_on": "", "expected_version": agreement.version, **fields,
    }
    stored = list(AgreementParty.objects.filter(agreement=agreement).select_related("region").order_by("pk"))
    data.update({"parties-TOTAL_FORMS": len(stored), "parties-INITIAL_FORMS": len(stored),
                 "parties-MIN_NUM_FORMS": 0, "parties-MAX_NUM_FORMS": 1000})
    for i, p in enumerate(stored):
        data.update({f"parties-{i}-id": p.pk, f"parties-{i}-agreement": agreement.pk, f"parties-{i}-region": p.region_id,
                     f"parties-{i}-document_number": p.document_number})
        for name, value in parties.get(p.region.code, {}).items():
            data[f"parties-{i}-{name}"] = value
    for prefix in ("third_parties", "milestones", "documents", "steps", "amendments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
                     f"{prefix}-MAX_NUM_FORMS": 1000})
    return data


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root-parties", role="admin", is_staff=True, is_superuser=True))
    return client


def test_admin_party_dates_make_the_agreements(admin_client):
    agreement = AgreementFactory(signed_on=None)
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    response = admin_client.post(url, _admin_post(agreement, {"32.73": {"signed_on": "2025-04-01"},
                                                              "32.04": {"signed_on": "2025-04-03"}}))
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.signed_on == D(2025, 4, 3)


def test_admin_refuses_dprd_fields_where_approval_is_not_required(admin_client):
    agreement = AgreementFactory()
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    response = admin_client.post(url, _admin_post(agreement, {"32.73": {"dprd_approved_on": "2024-01-01"}}))
    assert response.status_code == 200
    assert party(agreement, "32.73").dprd_approved_on is None


def test_admin_agreement_date_the_parties_contradict_is_refused_and_nothing_saved(admin_client):
    agreement = AgreementFactory(signed_on=None)
    AgreementParty.objects.filter(agreement=agreement, region__code="32.73").update(signed_on=D(2025, 4, 1))
    AgreementParty.objects.filter(agreement=agreement, region__code="32.04").update(signed_on=D(2025, 4, 3))
    agreement.refresh_from_db()
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    response = admin_client.post(url, _admin_post(agreement, {"32.73": {"signed_on": "2025-04-01"},
                                                              "32.04": {"signed_on": "2025-04-03"}},
                                                  signed_on="2025-03-01"))
    assert response.status_code == 302  # back to the form with the message
    agreement.refresh_from_db()
    assert agreement.signed_on is None and agreement.version == 1
