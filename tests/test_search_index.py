"""The full-text search index (migration 0007): on PostgreSQL the list's search uses it.

The index expression must match ``filters.text_search_q``'s ``SearchVector`` exactly, or PostgreSQL
ignores the index and computes ``to_tsvector`` for every agreement on each search. SQLite has no GIN
and searches with ``icontains``, so the migration creates nothing there.
"""

import pytest
from django.db import connection

from agreements.filters import text_search_q
from agreements.models import Agreement
from tests.factories import AgreementFactory

INDEX = "agreement_search_idx"


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Agreement._meta.db_table)
    return set(constraints)


@pytest.mark.django_db
def test_search_index_exists_only_on_postgresql():
    if connection.vendor == "postgresql":
        assert INDEX in _index_names()
    else:
        assert INDEX not in _index_names()


@pytest.mark.django_db
def test_search_uses_the_index_on_postgresql_and_finds_the_agreement():
    match = AgreementFactory(title="Pengelolaan Sampah Regional", scope="Tempat pemrosesan akhir bersama")
    AgreementFactory(title="Pengembangan Kawasan Wisata", scope="Promosi bersama")
    found = list(Agreement.objects.filter(text_search_q("sampah")).values_list("pk", flat=True))
    assert found == [match.pk]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # With two rows a sequential scan is cheapest; switched off, the planner takes the index
            # only when its expression is exactly the one the filter computes.
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = Agreement.objects.filter(text_search_q("sampah")).explain()
        assert INDEX in plan


@pytest.mark.django_db
def test_the_new_indexes_exist_only_on_postgresql():
    """Migration 0021: the number in code-point order, alone and after the signing date (the register's two orders
    read a page from the index), and the third parties' names as the search reads them."""
    from agreements.models import ThirdParty

    names = _index_names()
    with connection.cursor() as cursor:
        third = set(connection.introspection.get_constraints(cursor, ThirdParty._meta.db_table))
    expected = {"agreement_number_c_idx", "agreement_signed_number_c_idx"}
    if connection.vendor == "postgresql":
        assert expected <= names and "thirdparty_search_idx" in third
    else:
        assert not expected & names and "thirdparty_search_idx" not in third


@pytest.mark.django_db
def test_search_finds_words_party_names_and_number_fragments():
    title = AgreementFactory(number="KB/001/2024", title="Pengelolaan Sampah Regional")
    party = AgreementFactory(number="KB/002/2024", title="Air minum", regions=["33.74", "33.22"])  # Kota Semarang
    other = AgreementFactory(number="PKS/003/2024", title="Jalan", third_parties=["PT Angkasa Pura"])
    AgreementFactory(number="KB/004/2025", title="Wisata")

    def found(value):
        return sorted(Agreement.objects.filter(text_search_q(value)).values_list("pk", flat=True))

    assert found("sampah") == [title.pk]
    assert found("semarang") == [party.pk]
    assert found("angkasa") == [other.pk]
    assert found("003/20") == [other.pk]  # a fragment of a number, slashes and all
    assert found("/2024") == sorted([title.pk, party.pk, other.pk])
