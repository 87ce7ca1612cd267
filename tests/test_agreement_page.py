"""The agreement page at /agreements/<id>/ and its timeline selector."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import stalls
from agreements.models import Agreement, AgreementParty, Document, Milestone, MilestoneUpdate, StallSettings
from agreements.timeline import agreement_timeline
from tests.factories import (
    AgreementFactory,
    MilestoneFactory,
    MilestoneUpdateFactory,
    PksFactory,
    UserFactory,
    region,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 34  # 30, the semester evaluations of a PKS (evaluations, answers, conclusions), and the access check
# reading the agreement's number alone before the content is rendered (a cached page costs only that: test_figures_cache)


def url(agreement):
    return reverse("agreement-detail", args=[agreement.pk])


def aware(year, month, day, hour=12):
    return timezone.make_aware(datetime.datetime(year, month, day, hour, 0))


@pytest.fixture
def kb(db):
    kb = AgreementFactory(
        number="415.4/01/KB/2024", title="Pengembangan Kawasan Wisata Bandung Raya",
        signed_on=datetime.date(2024, 1, 15), dprd_approved_on=datetime.date(2024, 2, 1),
        value_idr=1_500_000_000, regions=["32.73", "32.04"], affairs=["3.26", "2.15"],
    )
    AgreementParty.objects.filter(agreement=kb, region__code="32.73").update(
        signatory_name="Muhammad Farhan", signatory_position="Wali Kota Bandung",
        agency="Dinas Kebudayaan dan Pariwisata", contact_person="Rina, 022-123456",
    )
    return kb


def test_anonymous_is_sent_to_login(client, kb):
    response = client.get(url(kb))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("role", "region_code", "status"),
    [
        ("ministry", None, 200),
        ("admin", None, 200),
        ("province", "32", 200),  # Jawa Barat oversees its kabupaten/kota
        ("local", "32.73", 200),  # Kota Bandung is a party
        ("local", "32.01", 404),  # Kabupaten Bogor is not
        ("province", "31", 404),  # DKI Jakarta is not
    ],
)
def test_access(client, kb, role, region_code, status):
    user = UserFactory(language="en", role=role, region=region(region_code) if region_code else None)
    client.force_login(user)
    assert client.get(url(kb)).status_code == status


def test_unknown_id_is_404(client, staff):
    client.force_login(staff)
    assert client.get("/agreements/999999/").status_code == 404


def test_header_parties_affairs_dates_and_value(client, staff, kb):
    client.force_login(staff)
    response = client.get(url(kb))
    html = response.content.decode()
    assert response.status_code == 200
    assert "415.4/01/KB/2024" in html and "Pengembangan Kawasan Wisata Bandung Raya" in html
    assert str(Agreement.Kind.KSDD_SUKARELA.label) in html
    assert str(Agreement.DocumentType.KB.label) in html
    # Parties with signatories, each region linked to its page.
    for text in ("Muhammad Farhan", "Wali Kota Bandung", "Dinas Kebudayaan dan Pariwisata", "Rina, 022-123456",
                 "415.4/01/KB/2024/32.73"):
        assert text in html
    assert f'href="{reverse("region-detail", args=["32.73"])}"' in html
    assert f'href="{reverse("region-detail", args=["32.04"])}"' in html
    assert f'href="{reverse("region-detail", args=["32"])}"' in html  # the province of the parties
    # Affairs, linked to the filtered list.
    assert "3.26 Pariwisata" in html and "2.15 Perhubungan" in html
    assert "?affair=3.26" in html
    # Dates and the value in Rupiah (thousands grouped).
    assert re.search(r"Rp1[.,]500[.,]000[.,]000", html)
    assert 'datetime="2024-02-01"' in html  # DPRD approval on the timeline


def test_stage_and_stall_reasons_with_days_and_thresholds(client, staff, kb):
    StallSettings.objects.update_or_create(pk=1, defaults={"kb_follow_up_days": 200})
    client.force_login(staff)
    response = client.get(url(kb))
    html = response.content.decode()
    days = (stalls.today() - kb.signed_on).days
    assert 'data-stage="signed"' in html
    assert 'data-reason="KB_WITHOUT_PKS"' in html
    assert f"signed {days} days ago" in html
    assert "past the threshold of 200 days" in html
    assert response.context["reasons"][0]["days"] == days


def test_not_stalled_shows_no_reason(client, staff):
    draft = AgreementFactory(signed_on=None)
    client.force_login(staff)
    response = client.get(url(draft))
    assert response.context["reasons"] == []
    assert 'data-stage="draft"' in response.content.decode()


def test_third_parties_are_listed(client, staff):
    agreement = AgreementFactory(cooperation_kind=Agreement.Kind.KSDPK, regions=["32.73"],
                                 third_parties=["Institut Teknologi Bandung", "PT Kereta Api Indonesia"])
    client.force_login(staff)
    html = client.get(url(agreement)).content.decode()
    assert "Institut Teknologi Bandung" in html and "PT Kereta Api Indonesia" in html


def test_kb_lists_its_pks_with_their_stage(client, staff, kb):
    pks = PksFactory(parent=kb, number="PKS/7/2024", signed_on=datetime.date(2024, 3, 1))
    MilestoneFactory(agreement=pks, started_on=datetime.date(2024, 3, 10), status=Milestone.Status.IN_PROGRESS,
                     due_on=stalls.today() + datetime.timedelta(days=90))
    client.force_login(staff)
    response = client.get(url(kb))
    html = response.content.decode()
    assert [c.number for c in response.context["children"]] == ["PKS/7/2024"]
    assert f'href="{url(pks)}"' in html
    assert 'data-stage="implementing"' in html
    assert 'data-stage="followed_up"' in html  # the KB itself, followed up by its PKS


def test_pks_links_its_kb_and_lists_addenda(client, staff, kb):
    pks = PksFactory(parent=kb, signed_on=datetime.date(2024, 3, 1))
    Document.objects.create(agreement=pks, doc_type=Document.Type.ADDENDUM, file="documents/a1.pdf",
                            original_name="Addendum I.pdf", dated_on=datetime.date(2024, 9, 1))
    Document.objects.create(agreement=pks, doc_type=Document.Type.PKS_SCAN, file="documents/p.pdf",
                            original_name="PKS ditandatangani.pdf")
    client.force_login(staff)
    response = client.get(url(pks))
    html = response.content.decode()
    assert f'href="{url(kb)}"' in html and kb.number in html
    assert [d.original_name for d in response.context["addenda"]] == ["Addendum I.pdf"]
    assert "PKS ditandatangani.pdf" in html  # in the documents list, not among the addenda
    addendum = Document.objects.get(original_name="Addendum I.pdf")
    assert f'href="{reverse("document-download", args=[addendum.pk])}"' in html


def test_pks_parent_outside_scope_is_not_linked(client, kb):
    """A Kabupaten Bogor officer, party to the PKS only, sees the KB number but gets no link to it."""
    pks = PksFactory(parent=kb, regions=["32.01", "32.73"], signed_on=datetime.date(2024, 3, 1))
    client.force_login(UserFactory(language="en", role="local", region=region("32.01")))
    response = client.get(url(pks))
    assert response.status_code == 200
    assert kb.number in response.content.decode()
    assert f'href="{url(kb)}"' not in response.content.decode()


def test_milestones_with_status_progress_and_evidence(client, staff):
    pks = PksFactory(signed_on=datetime.date(2024, 3, 1))
    m = MilestoneFactory(agreement=pks, title="Penyusunan masterplan", responsible_region=region("32.04"),
                         status=Milestone.Status.IN_PROGRESS, started_on=datetime.date(2024, 4, 1), progress=40,
                         due_on=datetime.date(2024, 12, 31))
    for i in range(2):
        Document.objects.create(agreement=pks, milestone=m, doc_type=Document.Type.EVIDENCE,
                                file=f"documents/e{i}.jpg", original_name=f"foto{i}.jpg")
    client.force_login(staff)
    response = client.get(url(pks))
    html = response.content.decode()
    row = html[html.index("Penyusunan masterplan</th>"):]
    row = row[: row.index("</tr>")]
    assert "Kabupaten Bandung" in row and reverse("region-detail", args=["32.04"]) in row
    assert str(Milestone.Status.IN_PROGRESS.label) in row
    assert "40%" in row and 'value="40"' in row
    assert '<td class="num" data-label="Evidence">2</td>' in row


def test_can_write_reaches_the_actions_include(client, kb):
    client.force_login(UserFactory(language="en", role="local", region=region("32.73")))
    assert client.get(url(kb)).context["can_write"] is True
    client.force_login(UserFactory(language="en", role="province", region=region("32")))
    assert client.get(url(kb)).context["can_write"] is False


# --- the timeline -------------------------------------------------------------------------------


def test_timeline_merges_sources_newest_first(client, staff, kb):
    pks = PksFactory(parent=kb, number="PKS/9/2024", signed_on=datetime.date(2024, 3, 1),
                     starts_on=datetime.date(2024, 4, 1))
    m = MilestoneFactory(agreement=pks, title="Survei lokasi")
    first = MilestoneUpdateFactory(milestone=m, user=staff, note="Tim dibentuk")
    second = MilestoneUpdateFactory(milestone=m, user=staff, status_before=Milestone.Status.IN_PROGRESS,
                                    status_after=Milestone.Status.PARTIALLY_MET, progress=60, note="Lahan belum siap")
    MilestoneUpdate.objects.filter(pk=first.pk).update(created_at=aware(2024, 5, 2))
    MilestoneUpdate.objects.filter(pk=second.pk).update(created_at=aware(2024, 6, 3))
    doc = Document.objects.create(agreement=pks, doc_type=Document.Type.PKS_SCAN, file="documents/x.pdf",
                                  original_name="PKS.pdf", uploaded_by=staff)
    Document.objects.filter(pk=doc.pk).update(uploaded_at=aware(2024, 3, 2))
    # Move the audit records of the creation to a known time, before the updates.
    for model in (Agreement, AgreementParty, Milestone):
        model.history.model.objects.update(history_date=aware(2024, 2, 20))

    events = agreement_timeline(pks)
    keys = [e.sort_key for e in events]
    assert keys == sorted(keys, reverse=True)
    kinds_and_when = [(e.kind, e.when) for e in events]
    assert kinds_and_when[:2] == [("milestone_update", second.__class__.objects.get(pk=second.pk).created_at),
                                  ("milestone_update", MilestoneUpdate.objects.get(pk=first.pk).created_at)]
    assert ("fact", datetime.date(2024, 4, 1)) in kinds_and_when  # start
    assert ("document", Document.objects.get(pk=doc.pk).uploaded_at) in kinds_and_when
    titles = [e.title for e in events]
    assert titles.index("Cooperation starts") < titles.index("Document uploaded: PKS.pdf (PKS document)")
    assert titles.index("Document uploaded: PKS.pdf (PKS document)") < titles.index("PKS signed")
    assert titles[-1] in ("Agreement recorded", "Party added", "Milestone added: “Survei lokasi”")

    # The page shows the same order.
    client.force_login(staff)
    html = client.get(url(pks)).content.decode()
    positions = [html.index(text) for text in ("Lahan belum siap", "Tim dibentuk", "Cooperation starts",
                                               "Document uploaded: PKS.pdf", "PKS signed")]
    assert positions == sorted(positions)


def test_kb_timeline_shows_the_signing_of_its_pks(kb):
    PksFactory(parent=kb, number="PKS/12/2024", signed_on=datetime.date(2024, 5, 5))
    events = agreement_timeline(kb)
    assert any(e.title == "PKS PKS/12/2024 signed" and e.when == datetime.date(2024, 5, 5) for e in events)


def test_future_end_date_is_marked_planned(kb):
    kb.ends_on = stalls.today() + datetime.timedelta(days=400)
    kb.save()
    events = agreement_timeline(kb)
    end = next(e for e in events if e.title == "Cooperation ends")
    assert end.upcoming is True
    assert events[0] is end  # the newest (latest-dated) event comes first


def test_timeline_shows_audited_changes_with_who_and_what(client, staff, kb):
    editor = UserFactory(language="en", username="editor-bandung", role="local", region=region("32.73"))
    kb._history_user = editor
    kb.title = "Kawasan Wisata Bandung Raya Terpadu"
    kb.signed_on = datetime.date(2024, 1, 16)
    kb.save()
    party = AgreementParty.objects.get(agreement=kb, region__code="32.04")
    party._history_user = editor
    party.signatory_name = "Dadang Supriatna"
    party.save()
    removed = AgreementParty.objects.create(agreement=kb, region=region("32.01"))
    removed.delete()

    events = agreement_timeline(kb)
    changed = next(e for e in events if e.title == "Agreement changed")
    assert changed.user == editor
    fields = {c.field: (c.old, c.new) for c in changed.changes}
    assert fields["title"] == ("Pengembangan Kawasan Wisata Bandung Raya", "Kawasan Wisata Bandung Raya Terpadu")
    assert fields["signing date"] == ("15 January 2024", "16 January 2024")
    party_changed = next(e for e in events if e.title == "Party changed")
    assert party_changed.region.code == "32.04"
    assert [(c.field, c.old, c.new) for c in party_changed.changes] == [("signatory's name", "—", "Dadang Supriatna")]
    assert any(e.title == "Party removed" and e.region.code == "32.01" for e in events)

    client.force_login(staff)
    html = client.get(url(kb)).content.decode()
    assert "editor-bandung" in html
    assert "title: Pengembangan Kawasan Wisata Bandung Raya → Kawasan Wisata Bandung Raya Terpadu" in html


def test_timeline_resolves_changed_foreign_keys_and_choices():
    pks = PksFactory(signed_on=datetime.date(2024, 3, 1))
    m = MilestoneFactory(agreement=pks, title="Pelatihan", responsible_region=region("32.73"))
    m.responsible_region = region("32.04")
    m.status = Milestone.Status.CANCELLED
    m.save()
    event = next(e for e in agreement_timeline(pks) if e.title == "Milestone changed: “Pelatihan”")
    changes = {c.field: (c.old, c.new) for c in event.changes}
    assert changes["responsible region"] == ("Kota Bandung", "Kabupaten Bandung")
    assert changes["status"] == ("Scheduled", "Cancelled")


# --- query counts ---------------------------------------------------------------------------------


def _grow(pks, user, size):
    """Add ``size`` parties, third parties, milestones (with updates, evidence and changes) and documents."""
    codes = ["32.01", "32.02", "32.03", "32.05", "32.06", "32.07", "32.08", "32.09"][:size]
    for code in codes:
        AgreementParty.objects.create(agreement=pks, region=region(code), signatory_name=f"Bupati {code}")
        pks.third_parties.create(name=f"Mitra {code}")
    for i in range(size):
        m = MilestoneFactory(agreement=pks, title=f"Tahap besar {i}", responsible_region=region("32.73"))
        for _ in range(3):
            MilestoneUpdateFactory(milestone=m, user=user)
        m.progress = 50
        m.responsible_region = region("32.04")
        m.save()
        Document.objects.create(agreement=pks, milestone=m, doc_type=Document.Type.EVIDENCE,
                                file=f"documents/{pks.pk}-{i}.pdf", uploaded_by=user)
        Document.objects.create(agreement=pks, doc_type=Document.Type.ADDENDUM, file=f"documents/ad{pks.pk}-{i}.pdf")


def _count(client, agreement):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(agreement))
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["ministry", "local"])
def test_query_count_does_not_grow_with_the_agreement(client, kb, role, django_assert_max_num_queries):
    user = UserFactory(language="en", role=role, region=region("32.73") if role == "local" else None)
    client.force_login(user)
    small = PksFactory(parent=kb, signed_on=datetime.date(2024, 3, 1))
    big = PksFactory(parent=kb, signed_on=datetime.date(2024, 3, 1))
    _grow(small, user, 1)
    _grow(big, user, 8)
    StallSettings.current()
    _count(client, kb)  # warm up the session and the settings row

    small_count, small_response = _count(client, small)
    big_count, big_response = _count(client, big)
    assert len(big_response.context["milestones"]) == 8 and len(big_response.context["parties"]) == 10
    assert len(big_response.context["timeline"]) > len(small_response.context["timeline"]) + 30
    assert big_count == small_count
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url(big))
    # The KB page too, with one child or many.
    kb_small, _r = _count(client, kb)
    for _ in range(5):
        PksFactory(parent=kb, signed_on=datetime.date(2024, 4, 1))
    kb_big, _r = _count(client, kb)
    assert kb_big == kb_small
