"""Guidance: the pages at ``/guidance/``, the link from a step to its page, guidance events and the regions that
had none.

- Pages are written by administrators in Markdown (raw HTML allowed) and always shown through ``render_markdown``:
  Python-Markdown turns the text into HTML and nh3 (the Ammonia sanitiser) keeps only the tags and attributes of
  ``ALLOWED_TAGS``/``ALLOWED_ATTRIBUTES``; scripts, styles, event handlers and ``javascript:`` links are dropped.
- ``guidance_url_for_step(code, phase)``: the page for a step, in at most one query (a cached dict of step codes).
  A page's ``step_code`` is either a step's own code or a phase (``StepPhase``: ``preparation``, ``offer``, ``kb``,
  ``dprd``, ``pks``, ``implementation``, ``reporting``, ``evaluation``), which covers every step of that phase.
- Guidance a region had: the ``GuidanceEvent`` rows it took part in, and the ministry's follow-ups of kind
  "guidance" recorded on the region (``FollowUp``), each read as an event with one region. Both are read, nothing
  is migrated (``had_guidance_q``, ``region_events``).
- ``unguided_regions``: the regions that are a party to a stalled agreement and had no guidance in the last
  ``GUIDANCE_WINDOW_DAYS`` days: the dashboard's figure and the page it links to use this one function.

Imports only point down: models, stalls, selectors.
"""

import dataclasses
import datetime

import markdown
import nh3
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import get_language

from .models import (
    Agreement,
    AgreementParty,
    FollowUp,
    GuidanceEvent,
    GuidancePage,
    Region,
    StepPhase,
    TemplateStep,
    Tkksd,
)
from .selectors import query_string

GUIDANCE_WINDOW_DAYS = 365  # "no guidance in the last 12 months"
SEARCH_MAX_LENGTH = 200
STEP_URLS_CACHE_KEY = "guidance:step-slugs"
STEP_URLS_CACHE_SECONDS = 300

# What a guidance page may hold: text structure, lists, tables, links and images. Nothing that runs or styles.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Markdown (or HTML) → sanitised HTML, safe to mark safe in a template. A page's own ``<h1>`` is its title, so
    headings in the text start at ``<h2>`` (a ``# heading`` becomes ``<h2>``)."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer", strip_comments=True,
    )


def is_english() -> bool:
    return (get_language() or "id").startswith("en")


def page_title(page: GuidancePage) -> str:
    return page.title_en if is_english() and page.title_en else page.title_id


def page_body(page: GuidancePage) -> str:
    return page.body_en if is_english() and page.body_en else page.body_id


# --- the step → page link ------------------------------------------------------------------------------------


def _step_slugs() -> dict[str, str]:
    def build():
        return dict(GuidancePage.objects.exclude(step_code="").order_by("slug").values_list("step_code", "slug"))

    return cache.get_or_set(STEP_URLS_CACHE_KEY, build, STEP_URLS_CACHE_SECONDS)


def forget_step_urls() -> None:
    """Called when a guidance page is saved or deleted (admin, ``install_guidance``)."""
    cache.delete(STEP_URLS_CACHE_KEY)


def guidance_url_for_step(code: str, phase: str = "") -> str | None:
    """The guidance page for the step ``code`` (or, when no page names that code, for its ``phase``), or None.
    At most one query per cache period, whatever the number of steps asked about."""
    slugs = _step_slugs()
    slug = slugs.get(code) or (slugs.get(phase) if phase else None)
    return reverse("guidance-detail", args=[slug]) if slug else None


# --- the list: search and groups -----------------------------------------------------------------------------


@dataclasses.dataclass
class PageGroup:
    key: str
    label: str
    pages: list


def search_pages(query: str) -> QuerySet:
    """Pages whose title or text, in the current language, holds every word of ``query``."""
    qs = GuidancePage.objects.all()
    title, body = ("title_en", "body_en") if is_english() else ("title_id", "body_id")
    for word in (query or "")[:SEARCH_MAX_LENGTH].split():
        qs = qs.filter(Q(**{f"{title}__icontains": word}) | Q(**{f"{body}__icontains": word}))
    return qs


def grouped(pages: list[GuidancePage]) -> list[PageGroup]:
    """The pages by step phase (in the procedure's order), then by cooperation kind, then the rest (two queries at
    most: the pages are given, the step codes' phases are read once)."""
    codes = {p.step_code for p in pages if p.step_code and p.step_code not in StepPhase.values}
    phase_of = dict(TemplateStep.objects.filter(code__in=codes).values_list("code", "phase")) if codes else {}
    groups = {phase: PageGroup(phase, str(label), []) for phase, label in StepPhase.choices}
    kinds = {kind: PageGroup(kind, str(label), []) for kind, label in Agreement.Kind.choices}
    other = PageGroup("other", "", [])
    for page in pages:
        page.display_title = page_title(page)
        phase = page.step_code if page.step_code in StepPhase.values else phase_of.get(page.step_code)
        if phase:
            groups[phase].pages.append(page)
        elif page.cooperation_kind in kinds:
            kinds[page.cooperation_kind].pages.append(page)
        else:
            other.pages.append(page)
    ordered = [*groups.values(), *kinds.values(), other]
    return [g for g in ordered if g.pages]


# --- guidance a region had ---------------------------------------------------------------------------------


def window_start(as_of: datetime.date, days: int = GUIDANCE_WINDOW_DAYS) -> datetime.date:
    return as_of - datetime.timedelta(days=days)


def had_guidance_q(as_of: datetime.date, region_ref: str = "pk", days: int = GUIDANCE_WINDOW_DAYS) -> Q:
    """A region (``region_ref``: ``"pk"`` on ``Region``) took part in a guidance event, or had a guidance follow-up
    recorded on it, dated in (as_of − days, as_of]."""
    start = window_start(as_of, days)
    events = GuidanceEvent.regions.through.objects.filter(
        region_id=OuterRef(region_ref), guidanceevent__held_on__gt=start, guidanceevent__held_on__lte=as_of,
    )
    followups = FollowUp.objects.filter(
        region_id=OuterRef(region_ref), kind=FollowUp.Kind.GUIDANCE, date__gt=start, date__lte=as_of,
    )
    return Q(Exists(events)) | Q(Exists(followups))


def formed_tkksd_regions() -> QuerySet:
    """The ids of the regions whose TKKSD is recorded as formed (a subquery)."""
    return Tkksd.objects.filter(formed=True).values("region_id")


def party_without_tkksd() -> Exists:
    """An agreement (``OuterRef("pk")``) has a regional party without a formed TKKSD recorded: the register's and the
    affairs map's ``tkksd=no`` (``tkksd=yes`` is its negation)."""
    return Exists(AgreementParty.objects.filter(agreement=OuterRef("pk")).exclude(region_id__in=formed_tkksd_regions()))


def tkksd_q(value: str) -> Q:
    """``tkksd=no``: agreements with a regional party without a formed TKKSD; ``yes``: every regional party has one."""
    return Q(party_without_tkksd()) if value == "no" else ~Q(party_without_tkksd())


def unguided_regions(stalled_among: QuerySet, as_of: datetime.date) -> QuerySet:
    """Regions that are a party to one of the agreements of ``stalled_among`` (annotated by ``stalls.with_status``)
    stalled as of ``as_of``, and had no guidance in the ``GUIDANCE_WINDOW_DAYS`` days up to it, by code."""
    stalled = stalled_among.filter(is_stalled=True).order_by().values("pk")
    parties = AgreementParty.objects.filter(region_id=OuterRef("pk"), agreement_id__in=stalled)
    return Region.objects.filter(Exists(parties)).exclude(had_guidance_q(as_of)).order_by("code")


@dataclasses.dataclass
class RegionEvent:
    """One line of a region's guidance: an event it took part in, or a guidance follow-up recorded on it."""

    held_on: datetime.date
    kind_label: str
    title: str
    place: str
    region_count: int
    event: GuidanceEvent | None = None
    followup: FollowUp | None = None


def region_events(region: Region, *, include_followups: bool, limit: int = 50) -> list[RegionEvent]:
    """The guidance ``region`` had, newest first (three queries: events with their region counts, their steps and
    affairs; one more for the follow-ups)."""
    took_part = GuidanceEvent.regions.through.objects.filter(region=region).values("guidanceevent_id")
    events = (
        GuidanceEvent.objects.filter(pk__in=took_part)
        .annotate(region_count=Count("regions", distinct=True))
        .prefetch_related("steps", "affairs")
        .order_by("-held_on", "-pk")[:limit]
    )
    rows = [RegionEvent(e.held_on, e.get_kind_display(), e.title, e.place, e.region_count, event=e) for e in events]
    if include_followups:
        for f in FollowUp.objects.filter(region=region, kind=FollowUp.Kind.GUIDANCE).order_by("-date", "-pk")[:limit]:
            rows.append(RegionEvent(f.date, f.get_kind_display(), f.note, "", 1, followup=f))
    rows.sort(key=lambda r: r.held_on, reverse=True)
    return rows[:limit]


def unguided_figure(stalled_among: QuerySet, as_of: datetime.date, base_params: list[tuple[str, str]]) -> dict:
    """The dashboard's "regions with stalled agreements and no guidance in the last 12 months": the count (one query)
    and the link to the page listing exactly those regions under the same filters."""
    params = [(k, v) for k, v in base_params if k != "as_of"] + [("as_of", as_of.isoformat())]
    return {
        "value": unguided_regions(stalled_among, as_of).count(),
        "url": reverse("guidance-unguided-regions") + query_string(params),
    }
