"""A province and its kabupaten/kota: the one place that says which regions that is.

Every page, filter, figure and access check that reads "the province or one of its kabupaten/kota" goes
through these helpers, so the list's ``province=`` filter, the region page, the dashboard, the affairs map,
the admin and the officers' access all mean the same regions.

Rows that point at a region (parties, needs and offers) are filtered with ``in_province_q``:
``region IN (the province and its kabupaten/kota)``. It probes the index of the region column; the
equivalent ``region = p OR region.province = p`` spans two tables, and PostgreSQL answered it by scanning
every row.
"""

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from .models import Region


def regions_in_province_q(province) -> Q:
    """The province and its kabupaten/kota, as a Q on ``Region``.

    ``province`` is a ``Region``, its pk, or its code (a string). A code that is no province's selects only
    the region of that code, if any.
    """
    if isinstance(province, str):
        return Q(code=province) | Q(province__code=province)
    pk = getattr(province, "pk", province)
    return Q(pk=pk) | Q(province_id=pk)


def province_region_ids(province) -> QuerySet:
    """The pks of the province and its kabupaten/kota, as a subquery (see ``regions_in_province_q``)."""
    return Region.objects.filter(regions_in_province_q(province)).values("pk")


def in_province_q(province, field: str = "region") -> Q:
    """``field`` (a foreign key to ``Region``, or ``"pk"`` on ``Region`` itself) is the province or one of its
    kabupaten/kota: ``field IN (…)``, which probes the index of ``field``."""
    return Q(**{f"{field}__in": province_region_ids(province)})


def province_of(region: str = "region", field: str = "id") -> Coalesce:
    """The province a region belongs to (a province is its own), as an expression to group by.

    ``region`` is the path to the ``Region`` (``"region"`` on a party, ``"parties__region"`` on an
    agreement); ``field`` the province's field to give (``"id"`` or ``"code"``).
    """
    return Coalesce(f"{region}__province__{field}", f"{region}__{field}")
