"""Reads of obstacles (kendala): an agreement's, open and resolved, and those an officer's page lists.

What makes an obstacle open as of a date is in ``stalls`` (``obstacle_open_q``), with the other rules on why an
agreement stopped; who may record one is in ``access``; recording and resolving are in ``services``.
"""

import datetime

from django.db.models import Q, QuerySet

from . import access, stalls
from .models import Agreement, Obstacle

MY_OBSTACLES_SHOWN = 50


def of_agreement(agreement: Agreement, as_of: datetime.date) -> dict:
    """The agreement's obstacles as of ``as_of``: ``open`` (oldest first) and ``resolved`` (latest resolved first),
    in one query. An obstacle raised after ``as_of`` is in neither."""
    obstacles = list(agreement.obstacles.select_related("recorded_by").order_by("raised_on", "pk"))
    return {
        "open": [o for o in obstacles if stalls.obstacle_is_open(o, as_of)],
        "resolved": sorted(
            (o for o in obstacles if o.resolved_on is not None and o.resolved_on <= as_of),
            key=lambda o: (o.resolved_on, o.pk), reverse=True,
        ),
    }


def open_for(user, agreements: QuerySet, as_of: datetime.date, limit: int = MY_OBSTACLES_SHOWN) -> list[Obstacle]:
    """Obstacles open as of ``as_of`` on ``agreements`` (an officer's own), or recorded by ``user`` on an agreement
    the user still reads (a provincial officer's on a kabupaten/kota's), oldest first, with their agreements (one
    query)."""
    visible = access.agreements_visible_to(user).values("pk")
    return list(
        Obstacle.objects.filter(stalls.obstacle_open_q(as_of))
        .filter(Q(agreement__in=agreements.values("pk")) | Q(recorded_by=user, agreement__in=visible))
        .select_related("agreement")
        .order_by("raised_on", "pk")[:limit]
    )
