"""One write rule, whatever the door: the import, Django admin and concurrent saves obey the rules the pages
enforce (``access``, the model's own ``clean`` rules, optimistic locking, the audit trail, the upload checks)."""

import datetime
import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from agreements import access, importers, services
from agreements.affairs import suggest_partners
from agreements.forms import AgreementForm
from agreements.models import Agreement, AgreementParty, Document, Milestone, User
from tests.factories import AgreementFactory, MilestoneFactory, NeedOfferFactory, PksFactory, UserFactory, affair, region
from tests.test_import import agreement_row, csv_bytes, problems_of, run, workbook, xlsx

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
POSTGRESQL_ONLY = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs PostgreSQL: SQLite serialises whole-database writes, so two writes cannot truly race there",
)
D = datetime.date


# --- the importer calls the model's own rules ----------------------------------------------------------------

KB_HEADER = ["number", "document_type", "title", "cooperation_kind", "affair_codes", "region_codes", "signed_on"]


def _kb_with_pks():
    kb = AgreementFactory(number="KB/DB", signed_on=D(2024, 1, 15))
    PksFactory(number="PKS/DB", parent=kb, signed_on=D(2024, 3, 1))
    return kb


def test_import_refuses_a_kb_re_signed_after_its_pks():
    kb = _kb_with_pks()
    plan = run(xlsx([KB_HEADER, ["KB/DB", "KB", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.04", "2024-06-01"]]))
    assert problems_of(plan) == {("agreements", 2, "signed_on")}
    assert "before this date" in plan.problems[0].message
    kb.refresh_from_db()
    assert kb.signed_on == D(2024, 1, 15)


def test_import_refuses_a_kb_unsigned_while_a_pks_under_it_is_signed():
    _kb_with_pks()
    plan = run(xlsx([KB_HEADER, ["KB/DB", "KB", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.04", ""]]))
    assert problems_of(plan) == {("agreements", 2, "signed_on")}


def test_import_refuses_turning_a_kb_with_pks_into_a_pks():
    _kb_with_pks()
    plan = run(xlsx([KB_HEADER, ["KB/DB", "PKS", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.04", "2024-01-15"]]))
    assert ("agreements", 2, "document_type") in problems_of(plan)


def test_import_accepts_a_kb_and_its_pks_re_signed_together_in_one_file():
    """The file's own values count: the PKS re-signed later in the same file keeps the pair valid."""
    _kb_with_pks()
    header = [*KB_HEADER, "parent_number"]
    plan = run(xlsx([header,
                     ["KB/DB", "KB", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.04", "2024-06-01", ""],
                     ["PKS/DB", "PKS", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.04", "2024-07-01", "KB/DB"]]))
    assert plan.ok, plan.problems
    assert Agreement.objects.get(number="PKS/DB").signed_on == D(2024, 7, 1)


def test_import_keeps_a_pks_parties_within_its_kbs():
    AgreementFactory(number="KB/DB", regions=["32.73", "32.04"])
    plan = run([agreement_row(number="PKS/1", document_type="PKS", parent_number="KB/DB", signed_on="2024-02-01",
                              region_codes="32.73;32.77")])
    assert problems_of(plan) == {("agreements", 2, "region_codes")}
    _kb_with_pks_regions = AgreementFactory(number="KB/2", regions=["32.73", "32.04"])
    PksFactory(number="PKS/2", parent=_kb_with_pks_regions, regions=["32.73", "32.04"], signed_on=D(2024, 3, 1))
    plan = run(xlsx([KB_HEADER, ["KB/2", "KB", "Judul", "KSDD-SUKARELA", "3.26", "32.73;32.77", "2024-01-15"]]))
    assert ("agreements", 2, "region_codes") in problems_of(plan)


def test_import_provincial_officer_cannot_file_a_pks_under_a_kb_of_its_kabupaten_kota():
    """The reported side door: a province cleared a kabupaten/kota's KB_WITHOUT_PKS stall with its own PKS."""
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    AgreementFactory(number="KB/KAB", regions=["32.73", "32.04"])
    plan = run([agreement_row(number="PKS/PROV", document_type="PKS", parent_number="KB/KAB",
                              signed_on="2024-02-01", region_codes="32;32.73")], user=officer)
    assert ("agreements", 2, "parent_number") in problems_of(plan)
    assert not Agreement.objects.filter(number="PKS/PROV").exists()


def test_import_officer_cannot_remove_a_party_from_a_signed_agreement_ministry_can():
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    AgreementFactory(number="KB/PROV", regions=["32", "32.73", "32.04"])
    plan = run([agreement_row(number="KB/PROV", region_codes="32;32.73")], user=officer)
    assert problems_of(plan) == {("agreements", 2, "region_codes")}
    assert "only ministry staff" in plan.problems[0].message
    assert run([agreement_row(number="KB/PROV", region_codes="32;32.73")], user=UserFactory(role="ministry")).ok
    assert set(Agreement.objects.get(number="KB/PROV").regions.values_list("code", flat=True)) == {"32", "32.73"}


def test_import_page_reports_a_row_the_pages_would_refuse(client):
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    kab = AgreementFactory(number="KB/KAB", regions=["32.73", "32.04"])
    client.force_login(officer)
    response = client.post("/import/", {"agreements_file": SimpleUploadedFile(
        "data.xlsx", workbook([agreement_row(number="KB/KAB", terminated_on="2024-06-01")]))})
    assert response.status_code == 200
    assert [p.column for p in response.context["problems"]] == ["number"]
    kab.refresh_from_db()
    assert kab.terminated_on is None


def test_milestone_rows_of_a_kabupaten_kota_agreement_are_refused_for_the_province():
    officer = UserFactory(username="jabar", role="province", region=region("32"))
    MilestoneFactory(agreement=AgreementFactory(number="KB/KAB"), title="Tahap")
    milestones = importers.read_spreadsheet(
        csv_bytes([["agreement_number", "title", "progress"], ["KB/KAB", "Tahap", "50"]]), "m.csv",
        default_sheet="milestones")["milestones"]
    plan = importers.plan_import({"milestones": milestones}, user=officer)
    assert problems_of(plan) == {("m.csv", 2, "agreement_number")}


# --- parties -------------------------------------------------------------------------------------------------


def test_officer_cannot_remove_a_co_party_from_a_signed_agreement(client, personas):
    agreement = AgreementFactory(regions=["32.73", "32.04"])
    with pytest.raises(ValidationError) as exc:
        services.agreement_update(agreement=agreement, user=personas["local_in"], expected_version=1,
                                  regions=[region("32.73"), region("32.77")], affairs=[affair("3.26")])
    assert "regions" in exc.value.message_dict
    assert set(agreement.regions.values_list("code", flat=True)) == {"32.73", "32.04"}
    # Through the page: the form error, the co-party kept.
    client.force_login(personas["local_in"])
    data = AgreementForm.initial_for(agreement)
    data.update(regions=[region("32.73").pk], affairs=[affair("3.26").pk], parent="", dprd_approved_on="",
                starts_on="", ends_on="", terminated_on="", value_idr="", third_parties="", scope="")
    data["regions"] = [region("32.73").pk, region("32.77").pk]
    response = client.post(reverse("agreement-edit", args=[agreement.pk]), data)
    assert response.status_code == 200 and "regions" in response.context["form"].errors
    # Ministry staff may.
    services.agreement_update(agreement=Agreement.objects.get(pk=agreement.pk), user=personas["ministry"],
                              expected_version=1, regions=[region("32.73"), region("32.77")],
                              affairs=[affair("3.26")])
    assert set(agreement.regions.values_list("code", flat=True)) == {"32.73", "32.77"}


def test_a_pks_parties_are_parties_of_its_kb(personas):
    kb = AgreementFactory(regions=["32.73", "32.04"])
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=personas["ministry"], number="PKS/X", document_type="PKS", title="PKS",
                                  cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.77")],
                                  affairs=[affair("3.26")], parent=kb)
    assert "Kota Cimahi" in exc.value.message_dict["regions"][0]
    pks = services.agreement_create(user=personas["ministry"], number="PKS/Y", document_type="PKS", title="PKS",
                                    cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.04")],
                                    affairs=[affair("3.26")], parent=kb)
    with pytest.raises(ValidationError):  # and from the KB's side: a PKS's party stays a party of the KB
        services.agreement_update(agreement=Agreement.objects.get(pk=kb.pk), user=personas["ministry"],
                                  expected_version=1, regions=[region("32.73"), region("32.77")],
                                  affairs=[affair("3.26")])
    assert pks.parent_id == kb.pk


def test_whoever_files_a_pks_under_a_kb_must_be_allowed_to_write_the_kb(client, personas):
    kab_kb = AgreementFactory(regions=["32.73", "32.04"])  # Kota and Kabupaten Bandung; Jawa Barat only reads it
    province = personas["province_in"]
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=province, number="PKS/PROV", document_type="PKS", title="PKS",
                                  cooperation_kind="KSDPK", regions=[region("32")], affairs=[affair("3.26")],
                                  third_party_names=["PT Mitra"], parent=kab_kb)
    assert "parent" in exc.value.message_dict
    assert kab_kb not in AgreementForm(user=province).fields["parent"].queryset
    assert kab_kb in AgreementForm(user=personas["local_in"]).fields["parent"].queryset


# --- admin takes part in locking, the audit trail and the upload checks ---------------------------------------


@pytest.fixture
def admin_client(client, personas):
    client.force_login(personas["admin"])
    return client


def _admin_agreement_data(agreement, **changes):
    data = {
        "number": agreement.number, "document_type": agreement.document_type, "parent": agreement.parent_id or "",
        "title": agreement.title, "scope": agreement.scope, "cooperation_kind": agreement.cooperation_kind,
        "affairs": [a.pk for a in agreement.affairs.all()], "signed_on": agreement.signed_on or "",
        "dprd_approved_on": "", "starts_on": "", "ends_on": "", "terminated_on": "", "value_idr": "",
        "expected_version": agreement.version,
    }
    parties = list(agreement.parties.all())
    data.update({"parties-TOTAL_FORMS": len(parties), "parties-INITIAL_FORMS": len(parties),
                 "parties-MIN_NUM_FORMS": 0, "parties-MAX_NUM_FORMS": 1000})
    for i, party in enumerate(parties):
        data.update({f"parties-{i}-id": party.pk, f"parties-{i}-agreement": agreement.pk,
                     f"parties-{i}-region": party.region_id})
    for prefix in ("third_parties", "milestones", "documents", "amendments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0, f"{prefix}-MIN_NUM_FORMS": 0,
                     f"{prefix}-MAX_NUM_FORMS": 1000})
    data.update(changes)
    return data


def test_an_admin_save_bumps_the_version_so_an_officers_older_form_is_refused(admin_client, personas):
    agreement = AgreementFactory(title="Asli")
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    response = admin_client.post(url, _admin_agreement_data(agreement, title="Versi admin"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version) == ("Versi admin", 2)
    assert agreement.history.first().history_user == personas["admin"]
    with pytest.raises(services.StaleVersionError):  # the officer's form was opened at version 1
        services.agreement_update(agreement=Agreement.objects.get(pk=agreement.pk), user=personas["local_in"],
                                  expected_version=1, title="Versi petugas",
                                  regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")])


def test_an_admin_form_opened_before_an_officers_save_is_refused(admin_client, personas):
    agreement = AgreementFactory(title="Asli")
    stale = _admin_agreement_data(agreement, title="Versi admin")  # opened at version 1
    services.agreement_update(agreement=Agreement.objects.get(pk=agreement.pk), user=personas["local_in"],
                              expected_version=1, title="Versi petugas",
                              regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")])
    response = admin_client.post(reverse("admin:agreements_agreement_change", args=[agreement.pk]), stale)
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    agreement.refresh_from_db()
    assert (agreement.title, agreement.version) == ("Versi petugas", 2)


def test_admin_milestone_saves_take_part_in_locking(admin_client, personas):
    milestone = MilestoneFactory(title="Tahap")
    url = reverse("admin:agreements_milestone_change", args=[milestone.pk])
    data = {"agreement": milestone.agreement_id, "title": "Tahap admin", "description": "", "responsible_region": "",
            "due_on": "2024-06-30", "started_on": "", "completed_on": "", "status": "scheduled", "progress": 0,
            "expected_version": 1, "updates-TOTAL_FORMS": 0, "updates-INITIAL_FORMS": 0,
            "updates-MIN_NUM_FORMS": 0, "updates-MAX_NUM_FORMS": 1000}
    assert admin_client.post(url, data).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.title, milestone.version) == ("Tahap admin", 2)
    assert milestone.history.first().history_user == personas["admin"]
    response = admin_client.post(url, {**data, "title": "Lagi"})  # still version 1: stale
    assert response.status_code == 200 and "changed by someone else" in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).title == "Tahap admin"


def test_documents_uploaded_in_admin_pass_the_pages_upload_checks(admin_client, media_root):
    agreement = AgreementFactory()
    url = reverse("admin:agreements_document_add")
    fake = SimpleUploadedFile("scan.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    response = admin_client.post(url, {"agreement": agreement.pk, "doc_type": "kb", "dated_on": "", "file": fake})
    assert response.status_code == 200
    assert "file" in response.context["adminform"].form.errors
    assert not Document.objects.exists()
    pdf = SimpleUploadedFile("../../naskah <b>.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    response = admin_client.post(url, {"agreement": agreement.pk, "doc_type": "kb", "dated_on": "", "file": pdf})
    document = Document.objects.get()
    assert (document.content_type, document.original_name) == ("application/pdf", "naskah _b_.pdf")
    assert document.file.name.endswith(".pdf") and "naskah" not in document.file.name
    assert document.history.get().history_type == "+"


# --- two saves at once: one wins, the other gets a form error, never a 500 ------------------------------------


def test_a_create_that_loses_the_race_for_a_number_gets_a_form_error(personas, monkeypatch):
    """The window between validation and insert, made certain: the uniqueness check is skipped as if the
    other save committed right after it."""
    AgreementFactory(number="KB/SAMA")
    monkeypatch.setattr(Agreement, "validate_unique", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as exc:
        services.agreement_create(user=personas["ministry"], number="KB/SAMA", document_type="KB", title="Dua",
                                  cooperation_kind="KSDD-SUKARELA", regions=[region("32.73"), region("32.04")],
                                  affairs=[affair("3.26")])
    assert "number" in exc.value.message_dict
    milestone = MilestoneFactory(title="Tahap")
    monkeypatch.setattr(Milestone, "validate_constraints", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as exc:
        services.milestone_create(agreement=milestone.agreement, user=personas["ministry"], title="Tahap")
    assert "title" in exc.value.message_dict
    monkeypatch.setattr(User, "validate_unique", lambda self, exclude=None: None)
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=personas["ministry"], username=personas["local_in"].username,
                             email="x@example.go.id", role="local", region=region("32.73"))
    assert "username" in exc.value.message_dict


def _run_at_once(*targets):
    """Run each target in its own thread and connection, all released at the same moment."""
    barrier = threading.Barrier(len(targets), timeout=20)
    results = [None] * len(targets)

    def runner(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_re_signings_never_leave_a_pks_signed_before_its_kb(personas):
    kb = AgreementFactory(number="KB/RACE", signed_on=D(2024, 1, 15))
    pks = PksFactory(number="PKS/RACE", parent=kb, signed_on=D(2024, 3, 1))
    ministry = personas["ministry"]

    def resign(pk, day):
        def run():
            agreement = Agreement.objects.get(pk=pk)
            return services.agreement_sign(
                agreement=agreement, user=ministry, signed_on=day, expected_version=agreement.version,
                document=SimpleUploadedFile("s.pdf", b"%PDF-1.4\n%%EOF\n"))
        return run

    targets = [resign(kb.pk, D(2024, 2, 20 + i)) for i in range(5)] + [resign(pks.pk, D(2024, 2, 1 + i))
                                                                        for i in range(5)]
    results = _run_at_once(*targets)
    assert not [r for r in results if not isinstance(r, Agreement | ValidationError | services.StaleVersionError)]
    kb.refresh_from_db()
    pks.refresh_from_db()
    assert pks.signed_on >= kb.signed_on


def test_a_milestone_title_taken_before_the_check_is_said_on_the_title(personas):
    """The path the second of two concurrent creates takes when the first committed before its check: the model's
    constraint finds the title taken, and the error is on the title, as when the save itself finds it."""
    pks = PksFactory()
    services.milestone_create(agreement=pks, user=personas["ministry"], title="Tahap kembar")
    with pytest.raises(ValidationError) as exc:
        services.milestone_create(agreement=pks, user=personas["ministry"], title="Tahap kembar")
    assert exc.value.message_dict == {"title": ["This agreement already has a milestone with this title."]}
    assert pks.milestones.count() == 1


@POSTGRESQL_ONLY
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_creates_with_one_number_username_or_title_at_once(personas):
    ministry = personas["ministry"]
    milestone_agreement = PksFactory()

    def create_agreement():
        return services.agreement_create(
            user=ministry, number="KB/SAMA", document_type="KB", title="Sama", cooperation_kind="KSDD-SUKARELA",
            regions=[region("32.73"), region("32.04")], affairs=[affair("3.26")])

    def create_user():
        return services.user_create(actor=ministry, username="kembar", email="k@example.go.id",
                                    role="local", region=region("32.73"))

    def create_milestone():
        return services.milestone_create(agreement=milestone_agreement, user=ministry, title="Tahap kembar")

    for target, model, field in ((create_agreement, Agreement, "number"), (create_user, User, "username"),
                                 (create_milestone, Milestone, "title")):
        results = _run_at_once(target, target)
        kinds = sorted(type(r).__name__ for r in results)
        assert kinds == sorted([model.__name__, "ValidationError"]), results
        error = next(r for r in results if isinstance(r, ValidationError))
        assert field in error.message_dict


# --- partner suggestions are national, counts only ------------------------------------------------------------


def test_suggestions_say_they_are_national_and_show_counts_not_titles(client, personas):
    partner = AgreementFactory(title="Judul Rahasia Jawa Timur", regions=["35.78", "35.15"], affairs=["3.26"])
    need = NeedOfferFactory(region=region("32.73"), affair=affair("3.26"), kind="need")
    assert [s.region.code for s in suggest_partners(need.region, need.affair)][:2] == ["35.15", "35.78"]
    client.force_login(personas["local_in"])
    html = client.get(reverse("needoffer-list"), {"region": "32.73"}).content.decode()
    assert "(national)" in html and "Suggestions are national" in html
    assert partner.title not in html
    assert not access.agreements_visible_to(personas["local_in"]).filter(pk=partner.pk).exists()
    assert AgreementParty.objects.filter(agreement=partner).count() == 2


# --- a PKS from its KB -------------------------------------------------------------------------------------------


def test_a_signed_kb_offers_a_pks_under_it_prefilled_to_those_who_may_write_it(client, personas):
    kb = AgreementFactory(regions=["32.73", "32.04"], affairs=["3.26", "2.15"], third_parties=[])
    client.force_login(personas["local_in"])
    page = client.get(kb.get_absolute_url()).content.decode()
    url = f"{reverse('agreement-create')}?parent={kb.pk}"
    assert url in page
    form = client.get(url).context["form"]
    assert form.initial["parent"] == kb and form.initial["document_type"] == "PKS"
    assert {r.code for r in form.initial["regions"]} == {"32.73", "32.04"}
    assert {a.code for a in form.initial["affairs"]} == {"3.26", "2.15"}
    assert form.initial["cooperation_kind"] == kb.cooperation_kind
    client.force_login(personas["province_in"])  # reads the KB, may not write it: no action, no pre-filling
    assert url not in client.get(kb.get_absolute_url()).content.decode()
    assert "parent" not in client.get(url).context["form"].initial
    draft = AgreementFactory(signed_on=None)
    client.force_login(personas["local_in"])
    assert f"?parent={draft.pk}" not in client.get(draft.get_absolute_url()).content.decode()


# --- the import tells nothing about agreements the user may not read, and takes back the user's own export ------


def test_the_import_answers_about_a_hidden_agreement_as_about_a_missing_one():
    jatim = UserFactory(username="jatim", role="province", region=region("35"))
    AgreementFactory(number="KB/JABAR", regions=["32.73", "32.04"], signed_on=D(2024, 1, 15))
    hidden = run([agreement_row(number="PKS/1", document_type="PKS", parent_number="KB/JABAR", signed_on="2024-01-01",
                                region_codes="35;35.78")], user=jatim, dry_run=True)
    missing = run([agreement_row(number="PKS/1", document_type="PKS", parent_number="KB/NONE", signed_on="2024-01-01",
                                 region_codes="35;35.78")], user=jatim, dry_run=True)
    assert [(p.column, p.message.replace("KB/JABAR", "X")) for p in hidden.problems] == \
        [(p.column, p.message.replace("KB/NONE", "X")) for p in missing.problems]
    same_number = run([agreement_row(number="KB/JABAR", region_codes="35;35.78")], user=jatim, dry_run=True)
    assert [(p.column, p.message) for p in same_number.problems] == [
        ("number", "You may not change the agreement with this number: your region is not one of its parties.")]
    milestones = importers.read_spreadsheet(csv_bytes([["agreement_number", "title"], ["KB/JABAR", "T"]]), "m.csv",
                                            default_sheet="milestones")["milestones"]
    plan = importers.plan_import({"milestones": milestones}, user=jatim)
    assert [p.message for p in plan.problems] == [
        "Unknown agreement KB/JABAR: it is neither in the file nor in the register."]


def test_a_provincial_officer_imports_its_own_export_back_unchanged(client):
    from agreements.exports import COLUMNS

    jabar = UserFactory(username="jabar", role="province", region=region("32"))
    AgreementFactory(number="KB/KOTA", regions=["32.73", "32.04"])  # read, not written by the province
    AgreementFactory(number="KB/PROV", regions=["32", "32.73"])
    client.force_login(jabar)
    exported = b"".join(client.get(reverse("agreement-export", args=["csv"])).streaming_content)
    assert b"KB/KOTA" in exported and b"KB/PROV" in exported and COLUMNS[0].encode() in exported
    plan = importers.import_files((exported, "ekspor.csv"), user=jabar)
    assert plan.ok, plan.problems
    assert plan.agreement_counts.unchanged == 2
