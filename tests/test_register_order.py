"""Agreement numbers are ordered in plain code-point order in SQL on every database (the "C" collation on
PostgreSQL): the list, the exports and ``manage.py stalled`` keep one order contract whatever the database's own
collation."""

import datetime

import pytest

from agreements.filters import AgreementFilter
from agreements.models import Agreement
from tests.factories import AgreementFactory

NUMBERS = ["a/1", "Ba/1", "B/10", "B/1", "z/9", "PKS/1", "Z/1"]


@pytest.mark.django_db
def test_numbers_sort_in_code_point_order():
    for number in NUMBERS:
        AgreementFactory(number=number, signed_on=datetime.date(2024, 1, 15))
    by_number = AgreementFilter(data={"sort": "number"}, queryset=Agreement.objects.all()).qs
    assert [a.number for a in by_number] == sorted(NUMBERS)  # Python's str order is code-point order
    # The default order (newest signing first) breaks ties by number the same way.
    default = AgreementFilter(data={}, queryset=Agreement.objects.all()).qs
    assert [a.number for a in default] == sorted(NUMBERS)
    descending = AgreementFilter(data={"sort": "-number"}, queryset=Agreement.objects.all()).qs
    assert [a.number for a in descending] == sorted(NUMBERS, reverse=True)
