"""The agreement timeline: one list of what happened to an agreement, newest first.

A selector (reads only). It merges
- the dated facts of the agreement (signed, DPRD approval, start, end, termination) and the signing
  of its PKS when it is a KB,
- document uploads,
- the regulated steps done (``AgreementStep``),
- obstacles raised and resolved (``Obstacle``),
- milestone updates written by officers (``MilestoneUpdate``),
- amendments signed (``Amendment``) and renewals (the agreement it renews, those renewing it),
- audited changes recorded by django-simple-history on the agreement, its regional parties, its
  third parties, its milestones and its amendments: who, when and which fields changed (``diff_against`` between
  consecutive historical records of the same object).

The number of queries is constant: one per source plus one per kind of related object that a
changed foreign key points to, whatever the number of milestones, updates, parties or records.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import Agreement, AgreementParty, Amendment, Document, Milestone, MilestoneUpdate, ThirdParty

# Never shown as changes: bookkeeping that the record's own "who" and "when" already say.
_HIDDEN_FIELDS = {"id", "created_at", "updated_at", "created_by", "updated_by", "version", "agreement"}


@dataclasses.dataclass
class Change:
    field: str
    old: str
    new: str


@dataclasses.dataclass
class Event:
    """One line of the timeline.

    ``kind`` is one of ``fact`` (a dated fact of the agreement), ``document``, ``milestone_update``,
    ``step`` (a regulated step done) and ``history`` (an audited change). ``when`` is a date for facts and
    steps and a datetime otherwise.
    ``region`` is set when the event is about a region (a party added or removed), so templates
    can link it. ``upcoming`` marks a fact dated after today (a planned end date, for example).
    """

    kind: str
    when: datetime.date | datetime.datetime
    title: str
    user: object = None
    note: str = ""
    changes: list[Change] = dataclasses.field(default_factory=list)
    region: object = None
    upcoming: bool = False
    sort_key: tuple = ()
    url: str = ""  # a link shown with the event (a follow-up's attachment)

    @property
    def is_datetime(self) -> bool:
        return isinstance(self.when, datetime.datetime)


def _key(when, tiebreak: int) -> tuple:
    """Sort key: a date counts as the start of its day in the local time zone.

    So that on the same day, a change recorded at 10:00 sorts above (newer than) the signing it
    records, which is dated that day.
    """
    if isinstance(when, datetime.datetime):
        moment = timezone.localtime(when) if timezone.is_aware(when) else when
        moment = moment.replace(tzinfo=None)
    else:
        moment = datetime.datetime.combine(when, datetime.time.min)
    return (moment, tiebreak)


def _fact_events(agreement: Agreement, today: datetime.date) -> list[Event]:
    facts = [
        (agreement.signed_on, _("%(doc)s signed") % {"doc": agreement.document_type}),
        (agreement.dprd_approved_on, _("Approved by the DPRD")),
        (agreement.starts_on, _("Cooperation starts")),
        (agreement.ends_on, _("Cooperation ends")),
        (agreement.terminated_on, _("Terminated")),
    ]
    events = []
    for order, (when, title) in enumerate(facts):
        if when:
            events.append(Event("fact", when, title, upcoming=when > today, sort_key=_key(when, order)))
    return events


def _child_events(agreement: Agreement, today: datetime.date) -> list[Event]:
    if agreement.document_type != Agreement.DocumentType.KB:
        return []
    events = []
    for child in Agreement.objects.filter(parent=agreement, signed_on__isnull=False).only("number", "signed_on"):
        events.append(
            Event(
                "fact",
                child.signed_on,
                _("PKS %(number)s signed") % {"number": child.number},
                upcoming=child.signed_on > today,
                sort_key=_key(child.signed_on, 10),
            )
        )
    return events


def _document_events(agreement: Agreement) -> list[Event]:
    events = []
    for doc in Document.objects.filter(agreement=agreement).select_related("uploaded_by", "milestone"):
        title = _("Document uploaded: %(name)s (%(type)s)") % {"name": str(doc), "type": doc.get_doc_type_display()}
        note = _("Evidence for milestone “%(title)s”") % {"title": doc.milestone.title} if doc.milestone_id else ""
        events.append(Event("document", doc.uploaded_at, title, user=doc.uploaded_by, note=note,
                            sort_key=_key(doc.uploaded_at, 20)))
    return events


def _update_events(agreement: Agreement) -> list[Event]:
    statuses = dict(Milestone.Status.choices)
    events = []
    updates = MilestoneUpdate.objects.filter(milestone__agreement=agreement).select_related("milestone", "user")
    for update in updates:
        title = _("Milestone “%(title)s”: %(before)s → %(after)s, %(progress)s%%") % {
            "title": update.milestone.title,
            "before": statuses.get(update.status_before, "—") if update.status_before else "—",
            "after": statuses.get(update.status_after, update.status_after),
            "progress": update.progress,
        }
        events.append(Event("milestone_update", update.created_at, title, user=update.user, note=update.note,
                            sort_key=_key(update.created_at, 30)))
    return events


def _display(model, field_name: str, value, fk_names: dict) -> str:
    if value is None or value == "":
        return "—"
    field = model._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        return fk_names.get((field.related_model, value), str(value))
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(field, models.DateField):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def _history_records(agreement: Agreement) -> list[tuple]:
    """(model, record) for every historical record of the agreement and its children, one query each."""
    sources = [
        (Agreement, Agreement.history.filter(id=agreement.pk)),
        (AgreementParty, AgreementParty.history.filter(agreement_id=agreement.pk).select_related("region")),
        (ThirdParty, ThirdParty.history.filter(agreement_id=agreement.pk)),
        (Milestone, Milestone.history.filter(agreement_id=agreement.pk)),
        (Amendment, Amendment.history.filter(agreement_id=agreement.pk)),
    ]
    records = []
    for model, qs in sources:
        for record in qs.select_related("history_user").order_by("history_date", "history_id"):
            records.append((model, record))
    return records


def _history_events(agreement: Agreement) -> list[Event]:
    records = _history_records(agreement)

    # Pair each record with the previous record of the same object (records arrive oldest first).
    previous = {}
    deltas = []
    for model, record in records:
        key = (model, record.id)
        prev = previous.get(key)
        delta = None
        if record.history_type == "~" and prev is not None:
            delta = record.diff_against(prev, excluded_fields=_HIDDEN_FIELDS)
        previous[key] = record
        deltas.append((model, record, delta))

    # Resolve the foreign keys that changed: one query per related model.
    wanted = defaultdict(set)
    for model, _record, delta in deltas:
        for change in delta.changes if delta else []:
            field = model._meta.get_field(change.field)
            if isinstance(field, models.ForeignKey):
                wanted[field.related_model].update(v for v in (change.old, change.new) if v is not None)
    fk_names = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            fk_names[(related, obj.pk)] = str(obj)

    events = []
    for model, record, delta in deltas:
        title, region = _history_title(model, record)
        changes = []
        if delta:
            if not delta.changes:
                continue  # a save that changed nothing we show
            for change in delta.changes:
                changes.append(Change(
                    field=str(model._meta.get_field(change.field).verbose_name),
                    old=_display(model, change.field, change.old, fk_names),
                    new=_display(model, change.field, change.new, fk_names),
                ))
        events.append(Event("history", record.history_date, title, user=record.history_user, changes=changes,
                            region=region, note=record.history_change_reason or "",
                            sort_key=_key(record.history_date, 40)))
    return events


def _history_title(model, record) -> tuple[str, object]:
    verb = record.history_type  # "+" created, "~" changed, "-" deleted
    if model is Agreement:
        return {"+": _("Agreement recorded"), "~": _("Agreement changed"), "-": _("Agreement deleted")}[verb], None
    if model is AgreementParty:
        # The region is returned apart so that the page can link its name.
        titles = {"+": _("Party added"), "~": _("Party changed"), "-": _("Party removed")}
        return titles[verb], record.region
    if model is ThirdParty:
        titles = {
            "+": _("Third party added: %(name)s"),
            "~": _("Third party changed: %(name)s"),
            "-": _("Third party removed: %(name)s"),
        }
        return titles[verb] % {"name": record.name}, None
    if model is Amendment:
        name = record.number or formats.date_format(record.signed_on, "DATE_FORMAT")
        titles = {
            "+": _("Addendum recorded: %(name)s"),
            "~": _("Addendum changed: %(name)s"),
            "-": _("Addendum removed: %(name)s"),
        }
        return titles[verb] % {"name": name}, None
    titles = {
        "+": _("Milestone added: “%(name)s”"),
        "~": _("Milestone changed: “%(name)s”"),
        "-": _("Milestone removed: “%(name)s”"),
    }
    return titles[verb] % {"name": record.title}, None


def _followup_events(agreement: Agreement) -> list[Event]:
    """Follow-ups recorded on the agreement (letters, meetings, guidance, site visits), dated by their date."""
    from django.urls import reverse

    from .models import FollowUp

    events = []
    for followup in FollowUp.objects.filter(agreement=agreement).select_related("recorded_by"):
        title = _("Follow-up: %(kind)s") % {"kind": followup.get_kind_display()}
        url = reverse("followup-attachment", args=[followup.pk]) if followup.attachment else ""
        events.append(Event("followup", followup.date, title, user=followup.recorded_by, note=followup.note,
                            sort_key=_key(followup.date, 15), url=url))
    return events


def _obstacle_events(agreement: Agreement, today: datetime.date) -> list[Event]:
    """Obstacles raised on the agreement (still open ones say so) and their resolution, dated by their dates."""
    from .models import Obstacle

    events = []
    for obstacle in Obstacle.objects.filter(agreement=agreement).select_related("recorded_by"):
        category = obstacle.get_category_display()
        resolved = obstacle.resolved_on is not None and obstacle.resolved_on <= today
        title = (_("Obstacle raised: %(category)s") if resolved else _("Obstacle raised, not resolved: %(category)s"))
        events.append(Event("obstacle", obstacle.raised_on, title % {"category": category},
                            user=obstacle.recorded_by, note=obstacle.description,
                            sort_key=_key(obstacle.raised_on, 16)))
        if obstacle.resolved_on is not None:
            events.append(Event("obstacle", obstacle.resolved_on,
                                _("Obstacle resolved: %(category)s") % {"category": category},
                                note=obstacle.resolution, upcoming=obstacle.resolved_on > today,
                                sort_key=_key(obstacle.resolved_on, 17)))
    return events


def _step_events(agreement: Agreement, today: datetime.date) -> list[Event]:
    """The regulated steps done, dated by the day they were done: one event for each step a person marked (with its
    document), and one a day for those the register's dates completed (its signing, a PKS under a KB, ...)."""
    from django.urls import reverse
    from django.utils.translation import ngettext

    from .models import AgreementStep

    events, automatic = [], defaultdict(list)
    steps = (AgreementStep.objects.filter(agreement=agreement, status=AgreementStep.Status.DONE)
             .select_related("done_by").order_by("order", "pk"))
    for step in steps:
        if step.done_by_id is None:
            automatic[step.done_on].append(step.title)
            continue
        url = reverse("document-download", args=[step.document_id]) if step.document_id else ""
        events.append(Event("step", step.done_on, _("Step done: %(title)s") % {"title": step.title}, user=step.done_by,
                            upcoming=step.done_on > today, sort_key=_key(step.done_on, 12), url=url))
    for day, titles in automatic.items():
        title = ngettext("Step done, from the register's dates: %(titles)s",
                         "Steps done, from the register's dates: %(titles)s", len(titles)) % {"titles": "; ".join(titles)}
        events.append(Event("step", day, title, upcoming=day > today, sort_key=_key(day, 11)))
    return events


def _amendment_events(agreement: Agreement, today: datetime.date, amendments=None, renewals=None) -> list[Event]:
    """Each amendment signed (on its date: what changed, and its signed document), and the renewals: the agreement
    this one renews, and those renewing it (signed on their date, or recorded as a draft). ``amendments`` and
    ``renewals`` (the renewed agreement or None, and the renewing ones), when the caller has them, save the queries."""
    from django.urls import reverse

    events = []
    if amendments is None:
        amendments = Amendment.objects.filter(agreement=agreement)
    for amendment in amendments:
        if amendment.number:
            title = _("Addendum No. %(number)s signed") % {"number": amendment.number}
        else:
            title = _("Addendum signed")
        url = reverse("document-download", args=[amendment.document_id]) if amendment.document_id else ""
        events.append(Event("amendment", amendment.signed_on, title, note=amendment.summary,
                            upcoming=amendment.signed_on > today, sort_key=_key(amendment.signed_on, 13), url=url))
    if renewals is None:
        linked = Agreement.objects.filter(renews=agreement)
        if agreement.renews_id:
            linked = linked | Agreement.objects.filter(pk=agreement.renews_id)
        linked = list(linked.only("number", "signed_on", "created_at", "renews_id"))
    else:
        linked = [other for other in (renewals[0], *renewals[1]) if other is not None]
    for other in linked:
        if other.pk == agreement.renews_id:
            when = agreement.signed_on or agreement.created_at
            events.append(Event("renewal", when, _("Renews %(number)s") % {"number": other.number},
                                sort_key=_key(when, 14)))
        else:
            when = other.signed_on or other.created_at
            title = (_("Renewed by %(number)s, signed") if other.signed_on
                     else _("Renewal %(number)s drafted")) % {"number": other.number}
            events.append(Event("renewal", when, title, upcoming=other.signed_on is not None and other.signed_on > today,
                                sort_key=_key(when, 14)))
    return events


def agreement_timeline(agreement: Agreement, today: datetime.date | None = None, *, amendments=None,
                       renewals=None) -> list[Event]:
    """Everything that happened to ``agreement``, newest first, in a constant number of queries. ``amendments`` and
    ``renewals``: see ``_amendment_events``."""
    today = today or timezone.localdate()
    events = [
        *_fact_events(agreement, today),
        *_child_events(agreement, today),
        *_document_events(agreement),
        *_update_events(agreement),
        *_history_events(agreement),
        *_followup_events(agreement),
        *_step_events(agreement, today),
        *_obstacle_events(agreement, today),
        *_amendment_events(agreement, today, amendments, renewals),
    ]
    events.sort(key=lambda e: e.sort_key, reverse=True)
    return events
