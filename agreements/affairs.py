"""Identification and mapping of the affairs to cooperate on: one module for its rules.

- ``affair_matrix``: the region × affair map. Each cell counts the *active* agreements (stage
  signed, followed_up or implementing as of D) among those the user may see, the stalled ones among
  them, and the needs and offers regions declared. A province's cell counts the distinct agreements
  with the province or any of its kabupaten/kota as a party, exactly what the agreement list's
  ``province=`` filter returns, so each cell equals the list it links to. A few GROUP BY queries,
  however many regions and agreements there are.
- ``suggest_partners``: candidate partners for a region's need, ranked and explained (see its
  docstring for the order: those that declared an offer on the affair first, then nearness). National:
  the register and the suggestions do not depend on the user.
- ``matching_needs_for``: for an offer, the needs other regions declared on the same affair, nearest
  and highest priority first.
- ``affair_summary``: the figures of an affair's page.
Writes to the register are ``services.needoffer_create`` / ``services.needoffer_update`` (form:
``forms.NeedOfferForm``); who may write is decided in ``access.needoffer_regions_for`` /
``access.can_edit_needoffers_of``.

Stage and stall status always come from ``stalls.with_status``; this module only groups and ranks.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import access, charts, guidance, stalls
from .models import Agreement, AgreementParty, GovernmentAffair, NeedOffer, Region, Stage
from .regions import province_of
from .selectors import query_string, register_url

ACTIVE_STAGES = (Stage.SIGNED, Stage.FOLLOWED_UP, Stage.IMPLEMENTING)
# A stall rate is the share of stalled agreements among the signed and not terminated ones
# (the dashboard's "share"): drafts and terminated agreements can never stall.
NOT_RATED_STAGES = (Stage.DRAFT, Stage.TERMINATED)

AffairLink = Agreement.affairs.through


def island_group(code: str) -> str:
    """The island group of a region code: the first digit, with Sumatra's 1 and 2 (Kepulauan Riau is 21) as one
    group; then Java 3, Bali–Nusa Tenggara 5, Kalimantan 6, Sulawesi 7, Maluku 8, Papua 9."""
    first = code[0]
    return "1" if first in "12" else first


def active_agreements(user, *, as_of: datetime.date, kinds=(), thresholds: stalls.Thresholds | None = None,
                      tkksd: str = ""):
    """The agreements ``user`` may see that are active as of ``as_of``, annotated by ``with_status``; with ``tkksd``
    (``yes``/``no``) only those the register's ``tkksd`` filter keeps."""
    qs = stalls.with_status(access.agreements_visible_to(user), as_of, thresholds).filter(stage__in=ACTIVE_STAGES)
    if kinds:
        qs = qs.filter(cooperation_kind__in=list(kinds))
    if tkksd:
        qs = qs.filter(guidance.tkksd_q(tkksd))
    return qs


def _active_params(*, as_of: datetime.date, kinds, default_as_of: datetime.date, tkksd: str = "") -> list[tuple[str, str]]:
    params = [("stage", str(s)) for s in ACTIVE_STAGES]
    if as_of != default_as_of:
        params.append(("as_of", as_of.isoformat()))
    params += [("kind", k) for k in kinds]
    if tkksd:
        params.append(("tkksd", tkksd))
    return params


# --- The matrix ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Cell:
    affair: GovernmentAffair
    active: int = 0
    stalled: int = 0
    needs: int = 0
    offers: int = 0
    url: str = ""
    needs_url: str = ""
    region: Region | None = None

    @property
    def place(self) -> str:
        """"Kabupaten Bogor, 1.03 Pekerjaan Umum": the row and the column, for screen readers."""
        return _("%(region)s, %(affair)s") % {"region": self.region.name, "affair": self.affair}

    @property
    def label(self) -> str:
        """What the cell says, in words: "Kabupaten Bogor, 1.03 Pekerjaan Umum: 1 agreement, 1 stalled, 1 need"
        (its accessible name; the figures left out are zero)."""
        counts = []
        if self.active:
            counts.append(ngettext("%(count)s agreement", "%(count)s agreements", self.active) % {"count": self.active})
        if self.stalled:
            counts.append(_("%(count)s stalled") % {"count": self.stalled})
        if self.needs:
            counts.append(ngettext("%(count)s need", "%(count)s needs", self.needs) % {"count": self.needs})
        if self.offers:
            counts.append(ngettext("%(count)s offer", "%(count)s offers", self.offers) % {"count": self.offers})
        counts = ", ".join(counts) if counts else _("no agreements, needs or offers")
        return _("%(place)s: %(counts)s") % {"place": self.place, "counts": counts}


@dataclasses.dataclass
class Row:
    region: Region
    cells: list[Cell]
    children: list[Row] = dataclasses.field(default_factory=list)
    expanded: bool = False

    is_province: bool = True

    @property
    def lines(self) -> list[Row]:
        """This row then its kabupaten/kota rows, in display order."""
        return [self, *self.children]


@dataclasses.dataclass
class AffairGroup:
    label: str
    affairs: list[GovernmentAffair]


@dataclasses.dataclass
class Matrix:
    groups: list[AffairGroup]
    affairs: list[GovernmentAffair]
    rows: list[Row]
    as_of: datetime.date
    kinds: list[str]


def affair_groups(affairs) -> list[AffairGroup]:
    by_group = defaultdict(list)
    for a in affairs:
        by_group[a.group].append(a)
    return [
        AffairGroup(str(label), by_group[value]) for value, label in GovernmentAffair.Group.choices if by_group[value]
    ]


def affair_matrix(
    user,
    *,
    as_of: datetime.date | None = None,
    kinds=(),
    expand=(),
    thresholds: stalls.Thresholds | None = None,
    tkksd: str = "",
) -> Matrix:
    """Provinces × affairs, each province with its kabupaten/kota rows (filled only when in ``expand``).

    Five queries whatever the data size: affairs, regions, counts by party region (only the
    kabupaten/kota of the expanded provinces; skipped when none is), counts by province, needs and
    offers.
    """
    default_as_of = stalls.today()
    as_of = as_of or default_as_of
    kinds = list(kinds)
    affairs = list(GovernmentAffair.objects.order_by("code"))
    regions = list(Region.objects.order_by("code"))
    active = active_agreements(user, as_of=as_of, kinds=kinds, thresholds=thresholds, tkksd=tkksd)
    active_ids = active.values("pk")
    stalled_ids = active.filter(is_stalled=True).values("pk")
    def tally(group_field, parties_q=None):
        parties = AgreementParty.objects.filter(parties_q) if parties_q is not None else AgreementParty.objects
        return {
            (row["key"], row["agreement__affairs__id"]): (row["n"], row["s"])
            for row in parties.filter(agreement_id__in=active_ids)
            .annotate(key=group_field)
            .values("key", "agreement__affairs__id")
            .annotate(
                n=Count("agreement_id", distinct=True),
                s=Count("agreement_id", distinct=True, filter=Q(agreement_id__in=stalled_ids)),
            )
            .order_by()
        }

    # Kabupaten/kota rows are shown only under an expanded province: count only those (the
    # per-region tally over every party was half of the map's time at 20,000 agreements).
    expand = set(expand)
    by_region = (
        tally(F("region_id"), Q(region__province__code__in=expand)) if expand else {}
    )
    by_province = tally(province_of())
    declared = defaultdict(int)
    province_pk = {r.pk: (r.province_id or r.pk) for r in regions}
    declared_province = defaultdict(int)
    for row in NeedOffer.objects.values("region_id", "affair_id", "kind").annotate(n=Count("pk")).order_by():
        declared[(row["region_id"], row["affair_id"], row["kind"])] += row["n"]
        declared_province[(province_pk[row["region_id"]], row["affair_id"], row["kind"])] += row["n"]

    params = _active_params(as_of=as_of, kinds=kinds, default_as_of=default_as_of, tkksd=tkksd)
    # The lists' addresses once, not per cell (a ``reverse`` for each of 1,200 cells was a tenth of the page).
    needs_base = reverse("needoffer-list")
    list_base = register_url()

    def make_row(region: Region, is_province: bool) -> Row:
        counts = by_province if is_province else by_region
        decl = declared_province if is_province else declared
        scope = "province" if is_province else "region"
        cells = []
        for a in affairs:
            n, s = counts.get((region.pk, a.pk), (0, 0))
            cells.append(
                Cell(
                    affair=a,
                    active=n,
                    stalled=s,
                    needs=decl[(region.pk, a.pk, NeedOffer.Kind.NEED)],
                    offers=decl[(region.pk, a.pk, NeedOffer.Kind.OFFER)],
                    url=list_base + query_string([(scope, region.code), ("affair", a.code), *params]),
                    needs_url=needs_base + query_string([("affair", a.code), (scope, region.code)]),
                    region=region,
                )
            )
        return Row(region=region, cells=cells, is_province=is_province)

    rows = []
    children = defaultdict(list)
    # With ``tkksd``, an expanded province lists only its kabupaten/kota without (``no``) or with (``yes``) a formed
    # TKKSD (one more query); the province rows stay, as the groups.
    formed = set(guidance.formed_tkksd_regions().values_list("region_id", flat=True)) if tkksd else set()
    for r in regions:
        if r.province_id and (not tkksd or (r.pk in formed) == (tkksd == "yes")):
            children[r.province_id].append(r)
    for r in regions:
        if r.province_id:
            continue
        row = make_row(r, True)
        if r.code in expand:
            row.expanded = True
            row.children = [make_row(child, False) for child in children[r.pk]]
        rows.append(row)
    return Matrix(groups=affair_groups(affairs), affairs=affairs, rows=rows, as_of=as_of, kinds=kinds)


# --- Stall rates ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Rate:
    stalled: int
    rated: int

    @property
    def value(self) -> float | None:
        return self.stalled / self.rated if self.rated else None

    @property
    def percent(self) -> str:
        return charts.percent(self.value)


def stall_rate(queryset) -> Rate:
    """Stalled among the signed, not terminated agreements of a ``with_status`` queryset."""
    result = queryset.exclude(stage__in=NOT_RATED_STAGES).aggregate(
        rated=Count("pk"), stalled=Count("pk", filter=Q(is_stalled=True))
    )
    return Rate(result["stalled"] or 0, result["rated"] or 0)


# --- Partner suggestions --------------------------------------------------------------------------


class Proximity:
    SAME_PROVINCE = 0
    SAME_ISLAND_GROUP = 1
    ELSEWHERE = 2


def proximity(region: Region, other: Region) -> int:
    """How near ``other`` is to ``region``: a ``Proximity`` value (a province and its kabupaten/kota are one
    province; the island group is ``island_group``)."""
    if other.province_code == region.province_code:
        return Proximity.SAME_PROVINCE
    if island_group(other.code) == island_group(region.code):
        return Proximity.SAME_ISLAND_GROUP
    return Proximity.ELSEWHERE


def _proximity_reason(value: int) -> str:
    return {
        Proximity.SAME_PROVINCE: _("same province"),
        Proximity.SAME_ISLAND_GROUP: _("same island group"),
        Proximity.ELSEWHERE: _("another island group"),
    }[value]


# High first; an unknown value ranks as medium.
PRIORITY_RANK = {NeedOffer.Priority.HIGH: 0, NeedOffer.Priority.MEDIUM: 1, NeedOffer.Priority.LOW: 2}


def _best_entries(entries) -> dict[tuple[int, int], NeedOffer]:
    """Per (region id, affair id), the entry of highest priority (then the oldest)."""
    best = {}
    for e in sorted(entries, key=lambda e: (PRIORITY_RANK.get(e.priority, 1), e.pk)):
        best.setdefault((e.region_id, e.affair_id), e)
    return best


@dataclasses.dataclass
class Suggestion:
    """A candidate partner for a need. ``entry`` is the partner's declared offer on the affair (its highest
    priority one), or None when it is suggested for its agreements only."""

    region: Region
    affair: GovernmentAffair
    proximity: int
    active_on_affair: int
    cooperating: bool
    rate: Rate
    national: Rate
    entry: NeedOffer | None = None

    @property
    def declared_offer(self) -> bool:
        return self.entry is not None

    @property
    def good_record(self) -> bool:
        """Stall rate on the affair at or below the national one; no record is not a good record."""
        return self.rate.value is not None and self.national.value is not None and self.rate.value <= self.national.value

    def sort_key(self):
        priority = PRIORITY_RANK.get(self.entry.priority, 1) if self.entry else 0
        return (not self.declared_offer, self.proximity, priority, not self.cooperating, not self.good_record,
                self.region.code)

    @property
    def reason(self) -> str:
        """One line saying why, in the order of the ranking."""
        parts = []
        if self.entry is not None:
            parts.append({
                NeedOffer.Priority.HIGH: _("offers this affair (high priority)"),
                NeedOffer.Priority.MEDIUM: _("offers this affair (medium priority)"),
                NeedOffer.Priority.LOW: _("offers this affair (low priority)"),
            }.get(self.entry.priority, _("declared an offer")))
        parts.append(_proximity_reason(self.proximity))
        if self.active_on_affair:
            parts.append(
                ngettext(
                    "%(count)s active agreement on this affair",
                    "%(count)s active agreements on this affair",
                    self.active_on_affair,
                )
                % {"count": self.active_on_affair}
            )
        if self.cooperating:
            parts.append(_("already cooperating with you on another affair"))
        if self.rate.value is None:
            parts.append(_("no stall record on this affair yet"))
        else:
            parts.append(
                _("stall rate %(rate)s against %(national)s nationally")
                % {"rate": self.rate.percent, "national": self.national.percent}
            )
        return "; ".join(parts)

    @property
    def url(self) -> str:
        return reverse("region-detail", args=[self.region.code])


def suggest_partners_for(
    pairs, *, limit: int = 10, as_of: datetime.date | None = None, thresholds: stalls.Thresholds | None = None
) -> dict[tuple[int, int], list[Suggestion]]:
    """``suggest_partners`` for several (region, affair) pairs at once, in a fixed number of queries.

    Returns a dict keyed by ``(region.pk, affair.pk)``.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    as_of = as_of or stalls.today()
    affair_ids = {a.pk for _r, a in pairs}
    asking_ids = {r.pk for r, _a in pairs}
    everything = stalls.with_status(Agreement.objects.all(), as_of, thresholds)
    active_ids = everything.filter(stage__in=ACTIVE_STAGES).values("pk")
    rated = everything.exclude(stage__in=NOT_RATED_STAGES)
    rated_ids = rated.values("pk")
    stalled_ids = rated.filter(is_stalled=True).values("pk")

    offers = _best_entries(NeedOffer.objects.filter(kind=NeedOffer.Kind.OFFER, affair_id__in=affair_ids).order_by())
    offering = defaultdict(set)  # affair id -> region ids with a declared offer
    for region_id, affair_id in offers:
        offering[affair_id].add(region_id)
    active_count = {}  # (region id, affair id) -> active agreements
    for row in (
        AgreementParty.objects.filter(agreement_id__in=active_ids, agreement__affairs__in=affair_ids)
        .values("region_id", "agreement__affairs")
        .annotate(n=Count("agreement_id", distinct=True))
        .order_by()
    ):
        active_count[(row["region_id"], row["agreement__affairs"])] = row["n"]
    region_rate = {}
    for row in (
        AgreementParty.objects.filter(agreement_id__in=rated_ids, agreement__affairs__in=affair_ids)
        .values("region_id", "agreement__affairs")
        .annotate(
            n=Count("agreement_id", distinct=True),
            s=Count("agreement_id", distinct=True, filter=Q(agreement_id__in=stalled_ids)),
        )
        .order_by()
    ):
        region_rate[(row["region_id"], row["agreement__affairs"])] = Rate(row["s"], row["n"])
    national = {}
    for row in (
        AffairLink.objects.filter(agreement_id__in=rated_ids, governmentaffair_id__in=affair_ids)
        .values("governmentaffair_id")
        .annotate(
            n=Count("agreement_id", distinct=True),
            s=Count("agreement_id", distinct=True, filter=Q(agreement_id__in=stalled_ids)),
        )
        .order_by()
    ):
        national[row["governmentaffair_id"]] = Rate(row["s"], row["n"])
    cooperation = defaultdict(set)  # (asking id, partner id) -> affair ids of their active agreements
    for asking_id, partner_id, affair_id in (
        AgreementParty.objects.filter(region_id__in=asking_ids, agreement_id__in=active_ids)
        .values_list("region_id", "agreement__parties__region_id", "agreement__affairs")
        .order_by()
        .distinct()
    ):
        if partner_id != asking_id:
            cooperation[(asking_id, partner_id)].add(affair_id)

    candidate_ids = set().union(*offering.values()) | {rid for rid, _a in active_count}
    candidates = {r.pk: r for r in Region.objects.filter(pk__in=candidate_ids, is_autonomous=True)}
    result = {}
    for region, affair in pairs:
        ids = offering[affair.pk] | {rid for (rid, aid) in active_count if aid == affair.pk}
        suggestions = []
        for rid in ids:
            cand = candidates.get(rid)
            if cand is None or rid == region.pk:
                continue
            offer = offers.get((rid, affair.pk))
            if offer is not None:
                offer.region, offer.affair = cand, affair
            suggestions.append(
                Suggestion(
                    region=cand,
                    affair=affair,
                    proximity=proximity(region, cand),
                    entry=offer,
                    active_on_affair=active_count.get((rid, affair.pk), 0),
                    cooperating=bool(cooperation[(region.pk, rid)] - {affair.pk}),
                    rate=region_rate.get((rid, affair.pk), Rate(0, 0)),
                    national=national.get(affair.pk, Rate(0, 0)),
                )
            )
        suggestions.sort(key=Suggestion.sort_key)
        result[(region.pk, affair.pk)] = suggestions[:limit]
    return result


def suggest_partners(
    region: Region,
    affair: GovernmentAffair,
    limit: int = 10,
    *,
    as_of: datetime.date | None = None,
    thresholds: stalls.Thresholds | None = None,
) -> list[Suggestion]:
    """Candidate partners for ``region`` on ``affair``, best first, each with a one-line ``reason``.

    Candidates: the other autonomous regions that offer the affair, by a declared offer or by being a
    party to an active agreement on it (as of ``as_of``). Ranked by, in turn:
    1. those that declared an offer on the affair: a region that says it offers what ``region``
       needs comes before any that only has agreements on it (``entry`` is that offer, its
       highest-priority one when there are several, and the reason starts with it);
    2. nearness: the same province (a province and its kabupaten/kota), then the same island group
       (first digit of the province code, Sumatra's 1 and 2 together), then the rest;
    3. among offers, the offer's priority (high, medium, low);
    4. those already cooperating with ``region`` (an active agreement together) on another affair;
    5. those whose stall rate on the affair is at or below the national rate for it (stalled among
       signed, not terminated agreements; a region without any such agreement has no record and
       ranks after those with a good one);
    6. the region code.
    National figures: the register and the suggestions are the same for every user.
    """
    return suggest_partners_for([(region, affair)], limit=limit, as_of=as_of, thresholds=thresholds)[
        (region.pk, affair.pk)
    ]


@dataclasses.dataclass
class NeedMatch:
    """Another region's declared need on the affair an offer is about: ``entry`` is that need."""

    entry: NeedOffer
    proximity: int

    @property
    def region(self) -> Region:
        return self.entry.region

    @property
    def affair(self) -> GovernmentAffair:
        return self.entry.affair

    def sort_key(self):
        return (self.proximity, PRIORITY_RANK.get(self.entry.priority, 1), self.region.code, self.entry.pk)

    @property
    def reason(self) -> str:
        """One line saying why, in the order of the ranking."""
        need = {
            NeedOffer.Priority.HIGH: _("needs this affair (high priority)"),
            NeedOffer.Priority.MEDIUM: _("needs this affair (medium priority)"),
            NeedOffer.Priority.LOW: _("needs this affair (low priority)"),
        }[self.entry.priority]
        return f"{need}; {_proximity_reason(self.proximity)}"

    @property
    def url(self) -> str:
        return reverse("region-detail", args=[self.region.code])


def matching_needs_for(pairs, *, limit: int = 10) -> dict[tuple[int, int], list[NeedMatch]]:
    """For offers given as (region, affair) pairs: the needs other regions declared on the same affair.

    Ranked by nearness to the offering region (as ``suggest_partners``), then the need's priority (high
    first), then the region code; one item per region (its highest-priority need). Returns a dict keyed by
    ``(region.pk, affair.pk)``, in one query however many pairs. National, like the register.
    """
    pairs = list(pairs)
    if not pairs:
        return {}
    needs = _best_entries(
        NeedOffer.objects.filter(
            kind=NeedOffer.Kind.NEED, affair_id__in={a.pk for _r, a in pairs}, region__is_autonomous=True
        )
        .select_related("region", "affair")
        .order_by()
    )
    by_affair = defaultdict(list)
    for (_rid, affair_id), need in needs.items():
        by_affair[affair_id].append(need)
    result = {}
    for region, affair in pairs:
        matches = [
            NeedMatch(entry=need, proximity=proximity(region, need.region))
            for need in by_affair[affair.pk]
            if need.region_id != region.pk
        ]
        matches.sort(key=NeedMatch.sort_key)
        result[(region.pk, affair.pk)] = matches[:limit]
    return result


# --- An affair's page -----------------------------------------------------------------------------


PRIORITY_ORDER = Case(
    When(priority=NeedOffer.Priority.HIGH, then=Value(0)),
    When(priority=NeedOffer.Priority.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@dataclasses.dataclass
class AffairSummary:
    affair: GovernmentAffair
    as_of: datetime.date
    by_stage: list[dict]
    rate: Rate  # on this affair, over what the user may see
    all_affairs: Rate  # on every affair, over what the user may see
    affair_national: Rate  # on this affair, over every agreement: the figure the suggestions compare with
    scope: str | None  # what ``rate`` and ``all_affairs`` cover (``access.scope_name``); None when national
    top_regions: list[dict]
    needs: list[NeedOffer]
    offers: list[NeedOffer]
    list_url: str


def affair_summary(
    user,
    affair: GovernmentAffair,
    *,
    as_of: datetime.date | None = None,
    thresholds: stalls.Thresholds | None = None,
    top: int = 10,
):
    """Agreements by stage, stall rates, most active regions, needs and offers.

    Agreement figures are over what ``user`` may see (``scope``), labelled with that scope; the stall rate on
    the affair is also computed nationally (``affair_national``, a count like the suggestions' figures, never a
    list of agreements), so a figure called national is one. Needs and offers are national.
    """
    default_as_of = stalls.today()
    as_of = as_of or default_as_of
    thresholds = thresholds or stalls.Thresholds.current()
    visible = stalls.with_status(access.agreements_visible_to(user), as_of, thresholds)
    on_affair = visible.filter(affairs=affair)
    as_of_param = [] if as_of == default_as_of else [("as_of", as_of.isoformat())]
    counts = {
        row["stage"]: row["n"]
        for row in on_affair.order_by().values("stage").annotate(n=Count("pk"))
    }
    by_stage = [
        {
            "stage": value,
            "label": label,
            "count": counts.get(value, 0),
            "url": register_url([("affair", affair.code), ("stage", value), *as_of_param]),
        }
        for value, label in Stage.choices
    ]
    active_ids = on_affair.filter(stage__in=ACTIVE_STAGES).values("pk")
    active_params = _active_params(as_of=as_of, kinds=(), default_as_of=default_as_of)
    top_regions = [
        {
            **row,
            "url": register_url([("region", row["region__code"]), ("affair", affair.code), *active_params]),
        }
        for row in AgreementParty.objects.filter(agreement_id__in=active_ids)
        .values("region__code", "region__name")
        .annotate(n=Count("agreement_id", distinct=True))
        .order_by("-n", "region__code")[:top]
    ]
    entries = list(
        NeedOffer.objects.filter(affair=affair)
        .select_related("region", "affair")
        .order_by(PRIORITY_ORDER, "region__code", "pk")
    )
    scope = access.scope_name(user)
    rate = stall_rate(on_affair)
    return AffairSummary(
        affair=affair,
        as_of=as_of,
        by_stage=by_stage,
        rate=rate,
        all_affairs=stall_rate(visible),
        affair_national=rate if scope is None else stall_rate(
            stalls.with_status(Agreement.objects.all(), as_of, thresholds).filter(affairs=affair)
        ),
        scope=scope,
        top_regions=top_regions,
        needs=[e for e in entries if e.kind == NeedOffer.Kind.NEED],
        offers=[e for e in entries if e.kind == NeedOffer.Kind.OFFER],
        list_url=register_url([("affair", affair.code), *as_of_param]),
    )
