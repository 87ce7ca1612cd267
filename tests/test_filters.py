"""AgreementFilter: each query parameter alone returns exactly the right agreements, and combined."""

import datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.http import QueryDict

from agreements import stalls
from agreements.filters import AGE_CHOICES, DEFAULT_SORT, SORT_CHOICES, SORTS, AgreementFilter
from agreements.models import Agreement, Milestone
from tests.factories import AgreementFactory, MilestoneFactory, PksFactory

D = datetime.date(2025, 6, 30)
THRESHOLDS = stalls.Thresholds()  # 365 / 180 / 30


def build_scenario():
    """Seven agreements; the comments give their facts as of D = 2025-06-30 with the default thresholds."""
    s = SimpleNamespace()
    # Jawa Barat, KB without PKS for 902 days (537 past the threshold): KB_WITHOUT_PKS, age 366-730.
    s.kb_old = AgreementFactory(
        number="KB/001/2023", title="Pengembangan Kawasan Wisata Alam", scope="Promosi wisata bersama",
        signed_on=datetime.date(2023, 1, 10), regions=["32.73", "32.04"], affairs=["3.26"],
        cooperation_kind=Agreement.Kind.KSDD_SUKARELA,
    )
    # Jawa Tengah, KB followed by a PKS signed 2024-03-01 whose milestone started: followed_up / implementing.
    s.kb_followed = AgreementFactory(
        number="KB/002/2024", title="Pelayanan Kesehatan Perbatasan", signed_on=datetime.date(2024, 1, 15),
        regions=["33.74", "33.22"], affairs=["1.02"], cooperation_kind=Agreement.Kind.KSDD_WAJIB,
    )
    s.pks_child = PksFactory(
        number="PKS/002-1/2024", title="Rujukan Rumah Sakit Daerah", parent=s.kb_followed,
        signed_on=datetime.date(2024, 3, 1), regions=["33.74", "33.22"], affairs=["1.02"],
        cooperation_kind=Agreement.Kind.KSDD_WAJIB,
    )
    MilestoneFactory(
        agreement=s.pks_child, title="Sistem rujukan berjalan", due_on=datetime.date(2026, 1, 1),
        started_on=datetime.date(2024, 4, 1), status=Milestone.Status.IN_PROGRESS,
    )
    # Jawa Timur, KSDPK PKS with a third party, no milestone, 272 days (92 past): PKS_NOT_STARTED, age 0-182.
    s.pks_stalled = PksFactory(
        number="PKS/003/2024", title="Angkutan Umum Terpadu", signed_on=datetime.date(2024, 10, 1),
        regions=["35.78"], third_parties=["PT Transportasi Nusantara"], affairs=["2.15"],
        cooperation_kind=Agreement.Kind.KSDPK,
    )
    # Jawa Barat (province) and Banten: KB with a milestone due 2025-01-15, 166 days overdue: MILESTONE_OVERDUE.
    s.overdue = AgreementFactory(
        number="KB/004/2024", title="Pengelolaan Sampah Regional", scope="Tempat pengolahan sampah terpadu",
        signed_on=datetime.date(2024, 12, 1), regions=["32", "36"], affairs=["2.11"],
    )
    MilestoneFactory(agreement=s.overdue, title="Lahan TPPAS", due_on=datetime.date(2025, 1, 15))
    # Bali, not signed: draft.
    s.draft = AgreementFactory(
        number="KB/005/2025", title="Pertukaran Budaya", signed_on=None, regions=["51.71", "51.03"], affairs=["2.22"],
    )
    # Jawa Barat and Banten, terminated in 2021: never stalled.
    s.terminated = AgreementFactory(
        number="KB/006/2020", title="Pengembangan Pasar Induk", signed_on=datetime.date(2020, 1, 1),
        terminated_on=datetime.date(2021, 1, 1), regions=["32.73", "36.71"], affairs=["3.30"],
    )
    # Kalimantan Timur, KB without PKS since 2021-06-01: 1490 days, 1125 past: KB_WITHOUT_PKS, age 731+.
    s.kb_ancient = AgreementFactory(
        number="KB/007/2021", title="Rehabilitasi Hutan Mangrove", signed_on=datetime.date(2021, 6, 1),
        regions=["64.72", "64.02"], affairs=["2.11", "3.28"],
    )
    s.all = [s.kb_old, s.kb_followed, s.pks_child, s.pks_stalled, s.overdue, s.draft, s.terminated, s.kb_ancient]
    return s


def run(query: str, queryset=None) -> AgreementFilter:
    f = AgreementFilter(QueryDict(query), queryset=queryset or Agreement.objects.all(), thresholds=THRESHOLDS)
    return f


def numbers(query: str, queryset=None) -> set[str]:
    f = run(query, queryset)
    assert f.is_valid(), f.errors
    return set(f.qs.values_list("number", flat=True))


def nums(*agreements) -> set[str]:
    return {a.number for a in agreements}


@pytest.fixture
def s(db):
    return build_scenario()


AS_OF = "as_of=2025-06-30"


def test_no_filter_returns_everything(s):
    assert numbers(AS_OF) == nums(*s.all)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=KSDD-WAJIB", ["kb_followed", "pks_child"]),
        ("kind=KSDPK", ["pks_stalled"]),
        ("kind=KSDD-WAJIB&kind=KSDPK", ["kb_followed", "pks_child", "pks_stalled"]),
        ("kind=KSDPL", []),
        ("document_type=PKS", ["pks_child", "pks_stalled"]),
        ("document_type=KB", ["kb_old", "kb_followed", "overdue", "draft", "terminated", "kb_ancient"]),
        ("stage=draft", ["draft"]),
        ("stage=followed_up", ["kb_followed"]),
        ("stage=implementing", ["pks_child"]),
        ("stage=terminated", ["terminated"]),
        ("stage=signed", ["kb_old", "pks_stalled", "overdue", "kb_ancient"]),
        ("stage=draft&stage=terminated&stage=implementing", ["draft", "terminated", "pks_child"]),
        ("stalled=yes", ["kb_old", "pks_stalled", "overdue", "kb_ancient"]),
        ("stalled=no", ["kb_followed", "pks_child", "draft", "terminated"]),
        ("reason=KB_WITHOUT_PKS", ["kb_old", "kb_ancient"]),
        ("reason=PKS_NOT_STARTED", ["pks_stalled"]),
        ("reason=MILESTONE_OVERDUE", ["overdue"]),
        ("age=0-182", ["pks_stalled", "overdue"]),
        ("age=183-365", []),
        ("age=366-730", ["kb_old"]),
        ("age=731%2B", ["kb_ancient"]),
        ("province=32", ["kb_old", "overdue", "terminated"]),
        ("province=33", ["kb_followed", "pks_child"]),
        ("province=36", ["overdue", "terminated"]),
        ("province=11", []),
        ("region=32.73", ["kb_old", "terminated"]),
        ("region=32", ["overdue"]),
        ("region=35.78", ["pks_stalled"]),
        ("affair=2.11", ["overdue", "kb_ancient"]),
        ("affair=3.28", ["kb_ancient"]),
        ("affair=1.01", []),
        ("signed_from=2024-01-15&signed_to=2024-10-01", ["kb_followed", "pks_child", "pks_stalled"]),
        ("signed_from=2024-12-01", ["overdue"]),
        ("signed_to=2020-01-01", ["terminated"]),
        ("year_from=2024", ["kb_followed", "pks_child", "pks_stalled", "overdue"]),
        ("year_to=2021", ["terminated", "kb_ancient"]),
        ("year_from=2021&year_to=2023", ["kb_old", "kb_ancient"]),
        ("year_from=2023&year_to=2023", ["kb_old"]),
        ("has_pks=yes", ["kb_followed"]),
        ("has_pks=no", ["kb_old", "pks_child", "pks_stalled", "overdue", "draft", "terminated", "kb_ancient"]),
    ],
)
def test_each_filter_alone(s, query, expected):
    assert numbers(f"{AS_OF}&{query}") == nums(*[getattr(s, name) for name in expected])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stalled=yes&province=32", ["kb_old", "overdue"]),
        ("stalled=yes&document_type=KB&year_to=2023", ["kb_old", "kb_ancient"]),
        ("reason=KB_WITHOUT_PKS&age=731%2B&affair=2.11", ["kb_ancient"]),
        ("reason=KB_WITHOUT_PKS&province=64&stage=signed", ["kb_ancient"]),
        ("stage=signed&stage=implementing&kind=KSDD-WAJIB", ["pks_child"]),
        ("province=33&document_type=PKS&stalled=no", ["pks_child"]),
        ("region=36.71&stalled=yes", []),
        ("q=sampah&stalled=yes&province=36", ["overdue"]),
    ],
)
def test_filters_combined(s, query, expected):
    assert numbers(f"{AS_OF}&{query}") == nums(*[getattr(s, name) for name in expected])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("KB/004/2024", ["overdue"]),  # a number, with its slashes
        ("004/2024", ["overdue"]),  # part of a number
        ("mangrove", ["kb_ancient"]),  # title
        ("sampah", ["overdue"]),  # title and scope
        ("Promosi", ["kb_old"]),  # scope only
        ("Surabaya", ["pks_stalled"]),  # a party region's name
        ("Semarang", ["kb_followed", "pks_child"]),
        ("Transportasi", ["pks_stalled"]),  # a third party's name
        ("kesehatan perbatasan", ["kb_followed"]),  # several words: all must match
        ("tidakadaapapun", []),
    ],
)
def test_text_search(s, q, expected):
    assert numbers(f"{AS_OF}&q={q}") == nums(*[getattr(s, name) for name in expected])


def test_text_search_stems_indonesian_on_postgresql(s):
    """PostgreSQL: full-text search with the ``indonesian`` configuration ("kesehatannya" → "sehat");
    SQLite has no stemmer, the plain fallback needs the word as written."""
    found = numbers(f"{AS_OF}&q=pelayanan kesehatannya")
    if connection.vendor == "postgresql":
        assert found == nums(s.kb_followed)
    else:
        assert found == set()
    assert numbers(f"{AS_OF}&q=pelayanan kesehatan") == nums(s.kb_followed)


def test_past_as_of_date_moves_stage_and_stalls(s):
    # On 2024-02-01 the PKS under kb_followed was not yet signed: the KB is signed (not followed up),
    # the PKS a draft; kb_old had been waiting 387 days (22 past the threshold).
    past = "as_of=2024-02-01"
    assert numbers(f"{past}&stage=followed_up") == set()
    assert numbers(f"{past}&has_pks=yes") == set()
    assert numbers(f"{past}&stage=draft") == nums(s.pks_child, s.pks_stalled, s.overdue, s.draft)
    assert numbers(f"{past}&stalled=yes") == nums(s.kb_old, s.kb_ancient)
    assert numbers(f"{past}&reason=KB_WITHOUT_PKS&age=0-182") == nums(s.kb_old)
    assert numbers(f"{past}&stage=terminated") == nums(s.terminated)
    f = run(past)
    list(f.qs)
    assert f.as_of == datetime.date(2024, 2, 1)


def test_as_of_defaults_to_today(s):
    f = run("")
    assert {a.number for a in f.qs} == nums(*s.all)
    assert f.as_of == stalls.today()


def test_thresholds_are_those_given(s):
    strict = stalls.Thresholds(kb_follow_up_days=2000, implementation_start_days=180, overdue_grace_days=30)
    f = AgreementFilter(QueryDict(f"{AS_OF}&reason=KB_WITHOUT_PKS"), queryset=Agreement.objects.all(), thresholds=strict)
    assert list(f.qs) == []


def test_province_needs_a_province_code(s):
    f = run(f"{AS_OF}&province=32.73")
    assert not f.is_valid()
    assert "province" in f.errors


@pytest.mark.parametrize(
    "query", ["has_pks=maybe", "stage=bogus", "kind=KSDD", "stalled=maybe", "reason=LATE", "age=1-2", "region=99.99",
              "affair=9.99", "as_of=2025-13-01", "signed_from=yesterday", "year_from=abc", "sort=colour",
              "document_type=MoU"],
)
def test_invalid_values_are_form_errors(s, query):
    f = run(query)
    assert not f.is_valid()
    name = query.split("=")[0]
    assert name in f.errors


def test_filters_apply_to_the_queryset_given(s):
    """The view passes the user's visible agreements; the filter never widens them."""
    base = Agreement.objects.filter(pk__in=[s.kb_old.pk, s.overdue.pk])
    assert numbers(f"{AS_OF}&stalled=yes", base) == nums(s.kb_old, s.overdue)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("number", ["KB/001/2023", "KB/002/2024", "KB/004/2024", "KB/005/2025", "KB/006/2020", "KB/007/2021",
                    "PKS/002-1/2024", "PKS/003/2024"]),
        ("-number", ["PKS/003/2024", "PKS/002-1/2024", "KB/007/2021", "KB/006/2020", "KB/005/2025", "KB/004/2024",
                     "KB/002/2024", "KB/001/2023"]),
        ("-signed_on", ["KB/004/2024", "PKS/003/2024", "PKS/002-1/2024", "KB/002/2024", "KB/001/2023",
                        "KB/007/2021", "KB/006/2020", "KB/005/2025"]),
        ("signed_on", ["KB/006/2020", "KB/007/2021", "KB/001/2023", "KB/002/2024", "PKS/002-1/2024",
                       "PKS/003/2024", "KB/004/2024", "KB/005/2025"]),
        # most days first: 1490, 902, 272, 166, then the not stalled by number
        ("-days_stalled", ["KB/007/2021", "KB/001/2023", "PKS/003/2024", "KB/004/2024", "KB/002/2024",
                           "KB/005/2025", "KB/006/2020", "PKS/002-1/2024"]),
        ("days_stalled", ["KB/004/2024", "PKS/003/2024", "KB/001/2023", "KB/007/2021", "KB/002/2024",
                          "KB/005/2025", "KB/006/2020", "PKS/002-1/2024"]),
    ],
)
def test_sort(s, sort, expected):
    f = run(f"{AS_OF}&sort={sort}")
    assert [a.number for a in f.qs] == expected


def test_sort_by_stage_follows_the_lifecycle(s):
    f = run(f"{AS_OF}&sort=stage")
    stages = [a.stage for a in f.qs]
    order = ["draft", "signed", "followed_up", "implementing", "terminated"]
    assert stages == sorted(stages, key=order.index)
    f = run(f"{AS_OF}&sort=-stage")
    assert [a.stage for a in f.qs] == sorted(stages, key=order.index, reverse=True)


def test_default_sort_is_newest_signed_first(s):
    assert [a.number for a in run(AS_OF).qs] == [a.number for a in run(f"{AS_OF}&sort=-signed_on").qs]


def test_choices_match_the_rules_module():
    assert [label for label, _lo, _hi in stalls.AGE_BUCKETS] == [value for value, _label in AGE_CHOICES]
    assert set(SORTS) == {value for value, _label in SORT_CHOICES}
    # The sort select shows the default order first (the form has no blank choice).
    assert SORT_CHOICES[0][0] == DEFAULT_SORT
