"""Renewal ("Perpanjang"): the successor created from the agreement's page, prefilled and linked both ways; when the
page offers it; new PKSs of a renewed KB go under its successor while its PKSs stay under it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import services, stalls
from agreements.forms import AgreementForm
from agreements.models import Agreement
from tests.factories import AgreementFactory, PksFactory, UserFactory, affair, region

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def officer(db):
    return UserFactory(username="kota-bandung", role="local", region=region("32.73"), language="en")


def ending_kb(days=30, **values):
    """A signed KB between Kota and Kabupaten Bandung whose end date is ``days`` from today."""
    values = {"number": "KB/001/2024", "signed_on": D(2024, 1, 15), **values}
    return AgreementFactory(ends_on=stalls.today() + datetime.timedelta(days=days), scope="Promosi bersama",
                            affairs=["3.26", "2.15"], **values)


def renewal_post(old, **values):
    data = {
        "number": "KB/002/2027", "document_type": old.document_type, "title": old.title,
        "cooperation_kind": old.cooperation_kind, "regions": [r.pk for r in old.regions.all()],
        "affairs": [a.pk for a in old.affairs.all()], "scope": old.scope,
        "milestones-TOTAL_FORMS": "0", "milestones-INITIAL_FORMS": "0",
    }
    data.update(values)
    return data


def test_renew_opens_the_new_agreement_form_prefilled_and_saves_the_successor(client, officer):
    old = ending_kb()
    client.force_login(officer)
    url = reverse("agreement-renew", args=[old.pk])
    response = client.get(url)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert (initial["document_type"], initial["cooperation_kind"], initial["title"], initial["scope"]) == (
        "KB", old.cooperation_kind, old.title, "Promosi bersama")
    assert {r.code for r in initial["regions"]} == {"32.73", "32.04"}
    assert {a.code for a in initial["affairs"]} == {"3.26", "2.15"}
    assert "number" not in initial  # the officer gives the successor its own number
    assert f'data-renews="{old.pk}"' in response.content.decode()
    response = client.post(url, renewal_post(old))
    successor = Agreement.objects.get(number="KB/002/2027")
    assert response.status_code == 302 and response["Location"] == successor.get_absolute_url()
    assert successor.renews == old and list(old.renewals.all()) == [successor]
    assert successor.signed_on is None and successor.steps.exists()  # a draft, with its checklist
    assert successor.history.first().renews_id == old.pk


def test_the_page_offers_renew_when_the_end_in_force_is_near_or_past(client, officer):
    client.force_login(officer)
    renew = "agreement-renew"
    near, far, past = ending_kb(30, number="A"), ending_kb(200, number="B"), ending_kb(-10, number="C")
    terminated = ending_kb(30, number="D", terminated_on=D(2025, 1, 1))
    draft = ending_kb(30, number="E", signed_on=None)
    for agreement, offered in ((near, True), (far, False), (past, True), (terminated, False), (draft, False)):
        html = client.get(agreement.get_absolute_url()).content.decode()
        assert (reverse(renew, args=[agreement.pk]) in html) is offered, agreement.number
    # An amendment moving the end date away takes the offer back: the end date in force decides.
    services.amendment_create(agreement=near, user=officer, signed_on=D(2025, 1, 1), summary="Diperpanjang.",
                              ends_on=stalls.today() + datetime.timedelta(days=400))
    assert reverse(renew, args=[near.pk]) not in client.get(near.get_absolute_url()).content.decode()
    # Once renewed, the page links the successor instead.
    successor = AgreementFactory(number="KB/NEW", signed_on=None, renews=past)
    html = client.get(past.get_absolute_url()).content.decode()
    assert reverse(renew, args=[past.pk]) not in html and f'data-renewed-by="{successor.pk}"' in html


@pytest.mark.parametrize("case", ["unsigned", "renewed", "other_type"])
def test_a_renewal_is_of_a_signed_agreement_not_renewed_yet_and_of_the_same_type(officer, case):
    old = ending_kb(signed_on=None) if case == "unsigned" else ending_kb()
    if case == "renewed":
        AgreementFactory(number="KB/FIRST", renews=old)
    kind = "PKS" if case == "other_type" else "KB"
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=officer, number="KB/002", document_type=kind, title="Baru",
                                  cooperation_kind=old.cooperation_kind, regions=list(old.regions.all()),
                                  affairs=list(old.affairs.all()), renews=old)
    assert set(exc.value.message_dict) & {"renews", "document_type"}
    assert not Agreement.objects.filter(number="KB/002").exists()


def test_only_who_may_write_the_agreement_renews_it(client):
    old = ending_kb()
    jabar = UserFactory(role="province", region=region("32"))  # reads it, may not write it
    with pytest.raises(ValidationError, match="renew"):
        services.agreement_create(user=jabar, number="X", document_type="KB", title="Baru",
                                  cooperation_kind=old.cooperation_kind, regions=[region("32"), region("32.73")],
                                  affairs=[affair("3.26")], renews=old)
    client.force_login(jabar)
    assert client.get(reverse("agreement-renew", args=[old.pk])).status_code == 403
    client.force_login(UserFactory(role="local", region=region("32.01")))
    assert client.get(reverse("agreement-renew", args=[old.pk])).status_code == 404


def test_new_pks_of_a_renewed_kb_go_under_its_successor_and_its_pks_stay(client, officer):
    old = ending_kb()
    kept = PksFactory(parent=old, number="PKS/OLD", signed_on=D(2024, 3, 1))
    successor = AgreementFactory(number="KB/002/2027", signed_on=stalls.today(), renews=old)
    client.force_login(officer)
    html = client.get(old.get_absolute_url()).content.decode()
    assert f'data-successor="{successor.pk}"' in html and "Create a PKS under the successor KB KB/002/2027" in html
    # The old KB's action prefills the successor as the parent; the old KB is no longer a choice.
    form = client.get(reverse("agreement-create") + f"?parent={old.pk}").context["form"]
    assert form.initial["parent"] == successor
    assert old not in form.fields["parent"].queryset and successor in form.fields["parent"].queryset
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=officer, number="PKS/NEW", document_type="PKS", title="PKS baru",
                                  cooperation_kind=old.cooperation_kind, regions=list(old.regions.all()),
                                  affairs=list(old.affairs.all()), parent=old)
    assert "KB/002/2027" in exc.value.message_dict["parent"][0]
    services.agreement_create(user=officer, number="PKS/NEW", document_type="PKS", title="PKS baru",
                              cooperation_kind=old.cooperation_kind, regions=list(old.regions.all()),
                              affairs=list(old.affairs.all()), parent=successor)
    kept.refresh_from_db()
    assert kept.parent == old
    assert client.get(kept.get_absolute_url()).context["tree"].agreement == old


def test_renewing_a_pks_puts_its_successor_under_the_kbs_successor():
    kb = ending_kb()
    pks = PksFactory(parent=kb, signed_on=D(2024, 3, 1))
    kb_successor = AgreementFactory(number="KB/002/2027", renews=kb)
    assert AgreementForm.initial_for_renewal(pks)["parent"] == kb_successor


def test_a_successor_signed_by_the_end_date_keeps_the_agreement_from_lapsing():
    old = ending_kb(-10)
    as_of = stalls.today()

    def lapsed():
        return stalls.with_status(Agreement.objects.filter(pk=old.pk), as_of=as_of).get().is_lapsed

    assert lapsed()
    AgreementFactory(number="KB/002", renews=old, signed_on=old.ends_on)
    assert not lapsed()


def test_an_existing_pks_cannot_be_moved_under_a_renewed_kb(officer):
    old = ending_kb()
    AgreementFactory(number="KB/002/2027", renews=old)
    pks = PksFactory(number="PKS/LOOSE", parent=None, signed_on=None)
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(agreement=pks, user=officer, expected_version=pks.version,
                                  regions=list(pks.regions.all()), affairs=list(pks.affairs.all()), parent=old)
    assert "KB/002/2027" in exc.value.message_dict["parent"][0]
    pks.refresh_from_db()
    assert pks.parent is None
