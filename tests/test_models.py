"""Structural rules in database constraints, cross-row rules in clean() / clean_relations()."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements.models import (
    Agreement,
    AgreementParty,
    GovernmentAffair,
    Milestone,
    Region,
    ThirdParty,
    User,
)
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory, affair, region

pytestmark = pytest.mark.django_db

D = datetime.date(2024, 3, 1)
DAY = datetime.timedelta(days=1)


def _agreement(**fields):
    """An Agreement row inserted directly, without parties (the constraints are on the row)."""
    values = {
        "number": "KB/1/2024",
        "document_type": Agreement.DocumentType.KB,
        "title": "Pengelolaan Sampah Regional",
        "cooperation_kind": Agreement.Kind.KSDD_SUKARELA,
        "signed_on": D,
    }
    values.update(fields)
    return Agreement.objects.create(**values)


def _milestone(**fields):
    values = {"agreement": PksFactory(), "title": "Tahap 1", "due_on": D}
    values.update(fields)
    return Milestone.objects.create(**values)


# --- Database constraints: each broken once ------------------------------------------------------


def _duplicate_number():
    AgreementFactory(number="KB/7/2024")
    _agreement(number="KB/7/2024")


def _duplicate_milestone_title():
    pks = PksFactory()
    _milestone(agreement=pks, title="Penyusunan rencana kerja")
    _milestone(agreement=pks, title="Penyusunan rencana kerja")


BROKEN_CONSTRAINTS = [
    pytest.param(lambda: _agreement(starts_on=D, ends_on=D - DAY), id="ends_on-before-starts_on"),
    pytest.param(lambda: _agreement(signed_on=D, terminated_on=D - DAY), id="terminated_on-before-signed_on"),
    pytest.param(lambda: _milestone(started_on=D, completed_on=D - DAY), id="completed_on-before-started_on"),
    pytest.param(lambda: _milestone(progress=101), id="progress-above-100"),
    pytest.param(lambda: _milestone(progress=-1), id="progress-below-0"),
    pytest.param(_duplicate_number, id="unique-agreement-number"),
    pytest.param(
        lambda: Region.objects.create(code="32.73", name="Kota Bandung Kedua", level="kota", province=region("32")),
        id="unique-region-code",
    ),
    pytest.param(
        lambda: GovernmentAffair.objects.create(code="3.26", name="Pariwisata Kedua", group="pilihan"),
        id="unique-affair-code",
    ),
    pytest.param(_duplicate_milestone_title, id="unique-milestone-title-per-agreement"),
    pytest.param(lambda: _milestone(status=Milestone.Status.MET, completed_on=None), id="met-needs-completed_on"),
    pytest.param(
        lambda: _milestone(status=Milestone.Status.IN_PROGRESS, started_on=None), id="in_progress-needs-started_on"
    ),
    pytest.param(lambda: _agreement(parent=AgreementFactory()), id="only-a-pks-has-a-parent"),
    pytest.param(
        lambda: Region.objects.create(code="99.99", name="Kabupaten Tanpa Provinsi", level="kabupaten"),
        id="kabupaten-needs-a-province",
    ),
    pytest.param(
        lambda: AgreementParty.objects.create(agreement=AgreementFactory(regions=["32.73"]), region=region("32.73")),
        id="unique-party-per-agreement",
    ),
    pytest.param(
        lambda: ThirdParty.objects.create(
            agreement=AgreementFactory(cooperation_kind="KSDPK", regions=["32"], third_parties=["PT Maju"]),
            name="PT Maju",
        ),
        id="unique-third-party-per-agreement",
    ),
    pytest.param(
        lambda: User.objects.create(username="tanpa-wilayah", role=User.Role.LOCAL, region=None),
        id="officer-needs-a-region",
    ),
]


@pytest.mark.parametrize("break_it", BROKEN_CONSTRAINTS)
def test_database_constraint_refuses(break_it):
    with pytest.raises(IntegrityError), transaction.atomic():
        break_it()


ACCEPTED_AT_THE_EDGE = [
    pytest.param(lambda: _agreement(starts_on=D, ends_on=D), id="ends_on-equal-starts_on"),
    pytest.param(lambda: _agreement(signed_on=D, terminated_on=D), id="terminated_on-equal-signed_on"),
    pytest.param(lambda: _milestone(started_on=D, completed_on=D), id="completed_on-equal-started_on"),
    pytest.param(lambda: _milestone(progress=0), id="progress-0"),
    pytest.param(lambda: _milestone(progress=100), id="progress-100"),
    pytest.param(lambda: _milestone(status=Milestone.Status.MET, completed_on=D), id="met-and-completed_on-set"),
    pytest.param(
        lambda: _milestone(status=Milestone.Status.IN_PROGRESS, started_on=D), id="in_progress-and-started_on-set"
    ),
    pytest.param(
        lambda: (_milestone(agreement=PksFactory(number="PKS/A"), title="Sama"),
                 _milestone(agreement=PksFactory(number="PKS/B"), title="Sama")),
        id="same-milestone-title-in-two-agreements",
    ),
]


@pytest.mark.parametrize("build", ACCEPTED_AT_THE_EDGE)
def test_database_accepts_the_edge(build):
    with transaction.atomic():
        built = build()
    rows = built if isinstance(built, tuple) else (built,)
    assert all(row.pk is not None for row in rows)


# --- clean(): rules on the row and its parent ------------------------------------------------------


def _messages(exc_info) -> dict:
    return exc_info.value.message_dict


def errors_of(check) -> dict:
    """The message dict of the ValidationError ``check()`` raises, or {} when it passes."""
    try:
        check()
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _pks_with_parent(parent, **fields):
    pks = PksFactory.build(parent=parent, **fields)
    pks.full_clean()


def test_pks_parent_must_be_a_kb():
    other_pks = PksFactory(signed_on=D)
    with pytest.raises(ValidationError) as exc:
        _pks_with_parent(other_pks, signed_on=D)
    assert "parent" in _messages(exc)
    # clean() itself holds the rule, not only the form field's limit_choices_to.
    with pytest.raises(ValidationError) as exc:
        PksFactory.build(parent=other_pks, signed_on=D).clean()
    assert "parent" in _messages(exc)


def test_pks_with_a_kb_parent_is_valid():
    kb = AgreementFactory(signed_on=D)
    assert errors_of(lambda: _pks_with_parent(kb, signed_on=D)) == {}  # signed the same day as its KB


def test_only_a_pks_has_a_parent_in_clean():
    kb = AgreementFactory(signed_on=D)
    other = AgreementFactory.build(parent=kb, signed_on=D)
    with pytest.raises(ValidationError) as exc:
        other.clean()
    assert "parent" in _messages(exc)


@pytest.mark.parametrize(
    "kb_signed_on, pks_signed_on, field",
    [
        pytest.param(D, D - DAY, "signed_on", id="pks-one-day-before-its-kb"),
        pytest.param(None, D, "signed_on", id="pks-signed-kb-not-signed"),
        pytest.param(D, D, None, id="pks-same-day-as-kb"),
        pytest.param(D, D + DAY, None, id="pks-after-kb"),
        pytest.param(D, None, None, id="pks-not-signed-yet"),
    ],
)
def test_pks_not_signed_before_its_kb(kb_signed_on, pks_signed_on, field):
    kb = AgreementFactory(signed_on=kb_signed_on)
    errors = errors_of(lambda: _pks_with_parent(kb, signed_on=pks_signed_on))
    assert list(errors) == ([] if field is None else [field])


@pytest.mark.parametrize(
    "fields, field",
    [
        pytest.param({"starts_on": D, "ends_on": D - DAY}, "ends_on", id="ends-before-start"),
        pytest.param({"signed_on": D, "terminated_on": D - DAY}, "terminated_on", id="terminated-before-signing"),
        pytest.param({"signed_on": None, "terminated_on": D}, "terminated_on", id="terminated-never-signed"),
    ],
)
def test_agreement_clean_dates(fields, field):
    agreement = AgreementFactory.build(**fields)
    with pytest.raises(ValidationError) as exc:
        agreement.clean()
    assert field in _messages(exc)


# --- clean_relations(): parties, third parties, affairs -------------------------------------------

KSDD = Agreement.Kind.KSDD_SUKARELA


@pytest.mark.parametrize(
    "kind, region_codes, third_parties, affair_codes, field",
    [
        pytest.param(KSDD, ["32.73"], [], ["3.26"], "regions", id="ksdd-one-party"),
        pytest.param(Agreement.Kind.KSDD_WAJIB, [], [], ["3.26"], "regions", id="ksdd-wajib-no-party"),
        pytest.param(KSDD, ["32.73", "31.71"], [], ["3.26"], "regions", id="non-autonomous-party"),
        pytest.param(KSDD, ["32.73", "32.73"], [], ["3.26"], "regions", id="same-region-twice"),
        pytest.param("KSDPK", [], ["PT Maju"], ["3.26"], "regions", id="ksdpk-no-region"),
        pytest.param("KSDPK", ["32.73"], [], ["3.26"], "third_parties", id="ksdpk-no-third-party"),
        pytest.param("KSDPL", ["32.73"], ["  "], ["3.26"], "third_parties", id="ksdpl-blank-third-party"),
        pytest.param("KSDLL", ["31.01"], ["JICA"], ["3.26"], "regions", id="ksdll-non-autonomous"),
        pytest.param(KSDD, ["32.73", "32.04"], [], [], "affairs", id="no-affair"),
    ],
)
def test_clean_relations_refuses(kind, region_codes, third_parties, affair_codes, field):
    agreement = AgreementFactory.build(cooperation_kind=kind)
    with pytest.raises(ValidationError) as exc:
        agreement.clean_relations(
            [region(c) for c in region_codes], third_parties, [affair(c) for c in affair_codes]
        )
    assert field in _messages(exc)


@pytest.mark.parametrize(
    "kind, region_codes, third_parties",
    [
        pytest.param(KSDD, ["32.73", "32.04"], [], id="ksdd-two-regions"),
        pytest.param(Agreement.Kind.KSDD_WAJIB, ["32", "32.73", "32.04"], [], id="ksdd-three-regions"),
        pytest.param("KSDPK", ["32.73"], ["Universitas Padjadjaran"], id="ksdpk"),
        pytest.param("KSDPL", ["51"], ["Pemerintah Prefektur Okinawa"], id="ksdpl"),
        pytest.param("KSDLL", ["31"], ["JICA"], id="ksdll-dki-province-is-autonomous"),
    ],
)
def test_clean_relations_accepts(kind, region_codes, third_parties):
    agreement = AgreementFactory.build(cooperation_kind=kind)
    regions = [region(c) for c in region_codes]
    assert errors_of(lambda: agreement.clean_relations(regions, third_parties, [affair("3.26")])) == {}


def test_dki_administrative_areas_are_not_autonomous():
    codes = set(Region.objects.filter(is_autonomous=False).values_list("code", flat=True))
    assert codes == {"31.01", "31.71", "31.72", "31.73", "31.74", "31.75"}


# --- Milestone.clean() ----------------------------------------------------------------------------


def test_responsible_region_must_be_a_party():
    pks = PksFactory(regions=["32.73", "32.04"])
    outsider = MilestoneFactory.build(agreement=pks, responsible_region=region("33.74"))
    with pytest.raises(ValidationError) as exc:
        outsider.full_clean()
    assert "responsible_region" in _messages(exc)
    party = MilestoneFactory.build(agreement=pks, responsible_region=region("32.04"))
    assert errors_of(party.full_clean) == {}


@pytest.mark.parametrize(
    "fields, field",
    [
        pytest.param({"status": "met", "completed_on": None}, "completed_on", id="met-needs-completed_on"),
        pytest.param({"status": "in_progress", "started_on": None}, "started_on", id="in_progress-needs-started_on"),
        pytest.param({"started_on": D, "completed_on": D - DAY}, "completed_on", id="completed-before-started"),
        pytest.param({"progress": 101}, "progress", id="progress-above-100"),
    ],
)
def test_milestone_full_clean_refuses(fields, field):
    milestone = MilestoneFactory.build(agreement=PksFactory(), **fields)
    with pytest.raises(ValidationError) as exc:
        milestone.full_clean()
    assert field in _messages(exc)


def test_milestone_title_unique_within_agreement_in_full_clean():
    pks = PksFactory()
    MilestoneFactory(agreement=pks, title="Sosialisasi")
    with pytest.raises(ValidationError):
        MilestoneFactory.build(agreement=pks, title="Sosialisasi").full_clean()
    assert errors_of(MilestoneFactory.build(agreement=PksFactory(), title="Sosialisasi").full_clean) == {}


@pytest.mark.django_db
def test_a_kb_keeps_its_pks_rules_from_its_own_side():
    kb = AgreementFactory(signed_on=datetime.date(2024, 1, 1))
    PksFactory(parent=kb, signed_on=datetime.date(2024, 2, 1))
    kb.signed_on = datetime.date(2024, 3, 1)  # re-signed after its PKS
    with pytest.raises(ValidationError) as exc:
        kb.full_clean()
    assert "signed_on" in exc.value.message_dict
    kb.signed_on = None
    with pytest.raises(ValidationError) as exc:
        kb.full_clean()
    assert "signed_on" in exc.value.message_dict
    kb.signed_on, kb.document_type = datetime.date(2024, 1, 1), "PKS"
    with pytest.raises(ValidationError) as exc:
        kb.full_clean()
    assert "document_type" in exc.value.message_dict
