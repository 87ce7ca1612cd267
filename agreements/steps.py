"""The regulated steps (tahapan) of each agreement: copied from a template, derived from the register, the next one.

- A ``StepTemplate`` per document type and cooperation kind holds the ordered steps (``TemplateStep``);
  ``install_default_templates`` writes the defaults of ``agreements.step_defaults`` where a template is missing.
- ``create_steps`` copies the template's steps onto a new agreement (``AgreementStep``): editing a template changes
  the agreements created after, never the existing ones. Every way an agreement is created calls it (the services:
  the pages, a PKS from its KB, an accepted proposal, Django admin) or ``create_steps_bulk`` (the importer,
  ``seed_demo``); the benchmark's data and migration 0014 apply the same ``step_defaults.derive`` to their rows.
- ``derive_steps`` completes what the register knows (``step_defaults.derive``: a signed KB has its signing step done
  on its signing date, a party's DPRD approval its DPRD step, a started milestone the implementation's start, a PKS
  under a KB the KB's closing steps). It changes only the steps nobody marked by hand (``done_by`` empty): what a
  person recorded stays, and what it derived itself follows the facts when they change. The services call it after
  every write that changes those facts.
- ``next_step`` says in plain words what to do next: the step, the document expected, who must do it (for a step each
  party does on its own, the parties that have not yet) and the regulation it comes from, with its guidance page.

The state changes a person makes (done, not applicable, undone) are services: ``services.step_mark_done``,
``step_mark_not_applicable`` and ``step_reset``.
"""

import dataclasses
import datetime
from collections import defaultdict

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import datacache, guidance, step_defaults
from .models import (
    Agreement,
    AgreementParty,
    AgreementStep,
    StepActor,
    StepTemplate,
    TemplateStep,
)
from .step_defaults import step_key

STEP_FIELDS = ("code", "order", "phase", "title", "instructions", "expected_document", "actor", "per_party",
               "legal_basis", "pks_step_code")
DERIVED_FIELDS = ["status", "done_on", "not_applicable_reason", "updated_at"]
CHUNK = 2000
Status = AgreementStep.Status


def _chunks(items, size: int = CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- templates ----------------------------------------------------------------------------------------------------


def install_default_templates() -> int:
    """Create the default templates that are missing, with their steps (idempotent: a template that exists, edited by
    an administrator or not, is left alone; a default code some other template already uses is skipped). Returns the
    number of templates created."""
    created_count = 0
    with transaction.atomic():
        taken = set(TemplateStep.objects.values_list("code", flat=True))
        for data in step_defaults.default_templates():
            template, created = StepTemplate.objects.get_or_create(
                document_type=data["document_type"], cooperation_kind=data["cooperation_kind"],
                defaults={"name": data["name"]},
            )
            if not created:
                continue
            created_count += 1
            bulk_create_with_history(
                [TemplateStep(template=template, **step) for step in data["steps"] if step["code"] not in taken],
                TemplateStep,
            )
    return created_count


def _templates(pairs) -> dict[tuple[str, str], list[TemplateStep]]:
    """The template steps of each (document type, kind), in order: one query."""
    pairs = set(pairs)
    found = defaultdict(list)
    if not pairs:
        return found
    steps = TemplateStep.objects.filter(
        template__document_type__in={d for d, _k in pairs}, template__cooperation_kind__in={k for _d, k in pairs},
    ).select_related("template").order_by("template_id", "order")
    for step in steps:
        found[(step.template.document_type, step.template.cooperation_kind)].append(step)
    return found


def _copy(template_step, agreement_id: int) -> AgreementStep:
    return AgreementStep(agreement_id=agreement_id, **{name: getattr(template_step, name) for name in STEP_FIELDS})


# --- the facts the derivation reads ---------------------------------------------------------------------------------


def _facts(ids, document_type: str | None = None) -> dict[int, dict]:
    """What ``step_defaults.derive`` reads, for each agreement (of ``document_type`` when given): its dates, its
    regional parties' dates, and for a KB the earliest date each step was done by the PKSs under it. Two to four
    queries a chunk."""
    facts = {}
    for chunk in _chunks(ids):
        agreements = Agreement.objects.filter(pk__in=chunk)
        if document_type is not None:
            agreements = agreements.filter(document_type=document_type)
        chunk, kbs = [], []
        for row in agreements.values(
            "pk", "document_type", "cooperation_kind", "parent_id", "signed_on", "dprd_approved_on",
            "first_started_on", "first_pks_signed_on",
        ):
            facts[row["pk"]] = {**row, "parties": [], "children_done": {}}
            chunk.append(row["pk"])
            if row["document_type"] == Agreement.DocumentType.KB:
                kbs.append(row["pk"])
        if not chunk:
            continue
        for party in AgreementParty.objects.filter(agreement_id__in=chunk).values(
            "agreement_id", "signed_on", "dprd_required", "dprd_approved_on",
        ):
            facts[party["agreement_id"]]["parties"].append(party)
        # Two indexed lookups (the KBs' PKSs, then their steps done) rather than one join the planner scans for.
        parent_of = dict(Agreement.objects.filter(parent_id__in=kbs).values_list("pk", "parent_id")) if kbs else {}
        if not parent_of:
            continue
        done = AgreementStep.objects.filter(agreement_id__in=list(parent_of), status=Status.DONE).values_list(
            "agreement_id", "code", "done_on")
        for child_id, code, done_on in done:
            children = facts[parent_of[child_id]]["children_done"]
            key = step_key(code)
            children[key] = min(done_on, children.get(key, done_on))
    return facts


def is_by_hand(step: AgreementStep) -> bool:
    """A step a person marked (done or not applicable): the derivation leaves it as it is."""
    return step.status != Status.NOT_STARTED and step.done_by_id is not None


def _apply(steps: list[AgreementStep], facts: dict) -> list[AgreementStep]:
    """Set the steps nobody marked by hand to what the register says; returns those that changed."""
    targets = step_defaults.derive(
        [{"code": s.code, "per_party": s.per_party, "pks_step_code": s.pks_step_code} for s in steps], facts)
    changed = []
    for step, target in zip(steps, targets, strict=True):
        if is_by_hand(step):
            continue
        status, done_on, reason = target or (Status.NOT_STARTED, None, "")
        if (step.status, step.done_on, step.not_applicable_reason) != (status, done_on, reason):
            step.status, step.done_on, step.not_applicable_reason = status, done_on, reason
            step.done_by, step.document = None, None
            changed.append(step)
    return changed


# --- creating the checklist -----------------------------------------------------------------------------------------


def create_steps(agreement: Agreement, user=None) -> list[AgreementStep]:
    """Copy the template of the agreement's document type and kind onto it (nothing when it has steps already or no
    template exists), then derive what the register knows. Inside the caller's transaction."""
    if agreement.steps.exists():
        return []
    template = _templates([(agreement.document_type, agreement.cooperation_kind)])
    steps = [_copy(s, agreement.pk) for s in template.get((agreement.document_type, agreement.cooperation_kind), [])]
    if steps:
        bulk_create_with_history(steps, AgreementStep, default_user=user)
        derive_steps(agreement, user=user)
    return steps


def rebuild_steps(agreement: Agreement, user=None) -> None:
    """After the agreement's document type or kind changed: its checklist becomes the new template's. What a person
    marked on a step is kept where the new template has a step of the same key (``step_defaults.step_key``); the
    other steps are deleted, with their history."""
    with transaction.atomic():
        old = {step_key(s.code): s for s in agreement.steps.all()}
        for step in old.values():
            step._history_user = user
            step.delete()
        template = _templates([(agreement.document_type, agreement.cooperation_kind)])
        steps = []
        for template_step in template.get((agreement.document_type, agreement.cooperation_kind), []):
            step = _copy(template_step, agreement.pk)
            before = old.get(step_key(step.code))
            if before is not None and is_by_hand(before):
                for name in ("status", "done_on", "done_by_id", "document_id", "not_applicable_reason"):
                    setattr(step, name, getattr(before, name))
            steps.append(step)
        if steps:
            bulk_create_with_history(steps, AgreementStep, default_user=user)
        derive_steps(agreement, user=user)


def create_steps_bulk(agreement_ids, *, user=None, when=None, reason=None) -> list[int]:
    """``create_steps`` for many agreements at once (the importer, the demo data): the steps of those without any are
    inserted with what the register already says (PKSs first, so that their KBs' closing steps see them), with their
    history rows ("created", by ``user``, ``reason``, at ``when``); then the KBs above new PKSs are derived again.

    Set-based, for imports of tens of thousands: Python derives each step's state (a few small values), and the
    database copies the template step's texts (``INSERT … SELECT`` joined to the template), then the history rows
    from the steps. A few hundred agreements at a time. Returns the ids of the steps created."""
    ids = set(agreement_ids)
    if not ids:
        return []
    with_steps = set()
    for chunk in _chunks(ids):
        with_steps |= set(AgreementStep.objects.filter(agreement_id__in=chunk).values_list("agreement_id", flat=True))
    ids = sorted(ids - with_steps)
    templates = _templates((d, k) for d in Agreement.DocumentType.values for k in Agreement.Kind.values)
    now = timezone.now()
    created_ids, parents = [], set()
    for document_type in (Agreement.DocumentType.PKS, Agreement.DocumentType.KB):
        for chunk in _chunks(ids, CHUNK // 4):
            facts = _facts(chunk, document_type)
            rows = []
            for pk in sorted(facts):
                template = templates.get((facts[pk]["document_type"], facts[pk]["cooperation_kind"]), [])
                targets = step_defaults.derive(
                    [{"code": t.code, "per_party": t.per_party, "pks_step_code": t.pks_step_code} for t in template],
                    facts[pk])
                for template_step, target in zip(template, targets, strict=True):
                    status, done_on, why = target or (Status.NOT_STARTED, None, "")
                    rows.append((pk, template_step.pk, status, done_on, why))
                if facts[pk]["parent_id"]:
                    parents.add(facts[pk]["parent_id"])
            new_ids = _insert_copies(rows, now)
            _copy_history(new_ids, user=user, reason=reason, when=when or now)
            created_ids += new_ids
    if parents - set(ids):  # KBs above the new PKSs
        derive_many(parents - set(ids), user=user, reason=reason)
    return created_ids


def _insert_copies(rows: list[tuple], now) -> list[int]:
    """Insert each ``(agreement id, template step id, status, done on, reason)`` as an ``AgreementStep`` whose other
    fields are the template step's, copied by the database. Returns the new ids."""
    if not rows:
        return []
    quote, ops = connection.ops.quote_name, connection.ops
    table, template_table = AgreementStep._meta.db_table, TemplateStep._meta.db_table
    copied = [AgreementStep._meta.get_field(name).column for name in STEP_FIELDS]
    columns = ", ".join(quote(c) for c in [*copied, "status", "done_on", "not_applicable_reason", "updated_at",
                                            "agreement_id"])
    # VALUES columns are column1 … column5 on PostgreSQL and SQLite alike; PostgreSQL needs the date typed.
    done_on = "CAST(v.column4 AS date)" if connection.vendor == "postgresql" else "v.column4"
    returning = connection.features.can_return_rows_from_bulk_insert
    ids = []
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 1000):
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            sql = (
                f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608 - names from _meta
                f"SELECT {', '.join('t.' + quote(c) for c in copied)}, v.column3, {done_on}, v.column5, %s, v.column1 "
                f"FROM (VALUES {values}) AS v JOIN {quote(template_table)} t ON t.{quote('id')} = v.column2"
                + (f" RETURNING {quote(table)}.{quote('id')}" if returning else "")
            )
            params = [ops.adapt_datetimefield_value(now)]
            for agreement_id, template_step_id, status, day, why in chunk:
                params += [agreement_id, template_step_id, status, ops.adapt_datefield_value(day), why]
            cursor.execute(sql, params)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    if not returning:  # the agreements had no steps before: their steps are the new ones
        for chunk in _chunks({r[0] for r in rows}):
            ids += list(AgreementStep.objects.filter(agreement_id__in=chunk).values_list("pk", flat=True))
    return ids


def _copy_history(ids: list[int], *, user, reason, when) -> None:
    """The "created" history rows of the steps just inserted, copied from them in SQL (as the importer's)."""
    if not ids:
        return
    history = AgreementStep.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    extra = ", ".join(quote(history._meta.get_field(name).column) for name in (
        "history_date", "history_user", "history_change_reason", "history_type"))
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({columns}, {extra}) "  # noqa: S608 - names from _meta
                f"SELECT {columns}, %s, %s, %s, %s FROM {quote(AgreementStep._meta.db_table)} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(chunk))})",
                [connection.ops.adapt_datetimefield_value(when), user.pk if user is not None else None, reason, "+",
                 *chunk],
            )


# --- deriving -----------------------------------------------------------------------------------------------------


def derive_many(agreement_ids, *, user=None, history: bool = True, reason=None) -> int:
    """``derive_steps`` for many agreements, in bulk (PKSs first, then the KBs, the KBs above the PKSs included), a
    few hundred agreements at a time. Returns the number of steps changed."""
    ids = set(agreement_ids)
    if not ids:
        return 0
    for chunk in _chunks(ids):
        ids |= {p for p in Agreement.objects.filter(pk__in=chunk, parent__isnull=False)
                .values_list("parent_id", flat=True)}
    fields = ["status", "done_on", "not_applicable_reason", "done_by", "document", "updated_at"]
    changed_count = 0
    for document_type in (Agreement.DocumentType.PKS, Agreement.DocumentType.KB):
        for chunk in _chunks(sorted(ids), CHUNK // 4):
            facts = _facts(chunk, document_type)
            if not facts:
                continue
            by_agreement = defaultdict(list)
            for step in AgreementStep.objects.filter(agreement_id__in=list(facts)).order_by("agreement_id", "order",
                                                                                           "pk"):
                by_agreement[step.agreement_id].append(step)
            changed = []
            for pk, steps in by_agreement.items():
                changed += _apply(steps, facts[pk])
            if not changed:
                continue
            now = timezone.now()
            for step in changed:
                step.updated_at = now
            if history:
                bulk_update_with_history(changed, AgreementStep, fields, batch_size=CHUNK, default_user=user,
                                         default_change_reason=reason)
            else:
                AgreementStep.objects.bulk_update(changed, fields, batch_size=CHUNK)
            changed_count += len(changed)
    if changed_count:
        datacache.bump_on_commit()  # bulk updates send no signal: the cached figures (where agreements stopped)
    return changed_count


def derive_steps(agreement: Agreement, user=None) -> int:
    """Set the agreement's steps that nobody marked by hand to what the register says, then its KB's closing steps
    when it is a PKS (``sync_parent_closing_steps``). Each change is saved with its history (by ``user``, whose write
    changed the facts). Returns the number of steps changed."""
    changed = 0
    with transaction.atomic():
        facts = _facts([agreement.pk]).get(agreement.pk)
        if facts is None:
            return 0
        steps = list(AgreementStep.objects.filter(agreement_id=agreement.pk).order_by("order", "pk"))
        for step in _apply(steps, facts):
            step._history_user = user
            step.save(update_fields=[*DERIVED_FIELDS, "done_by", "document"])
            changed += 1
        if facts["parent_id"]:
            changed += sync_parent_closing_steps(agreement, user=user, parent_id=facts["parent_id"])
    return changed


def sync_parent_closing_steps(pks: Agreement, user=None, parent_id: int | None = None) -> int:
    """A KB's closing steps (those with ``pks_step_code``: PKS drafted, PKS signed) are done when a PKS under it has
    done the step of that code, on the PKS's date: derive the PKS's KB again."""
    parent_id = parent_id or pks.parent_id
    if not parent_id:
        return 0
    return derive_steps(Agreement(pk=parent_id), user=user)


def after_save(agreement: Agreement, user=None, *, rebuild: bool = False, previous_parent_id: int | None = None):
    """What the services call after a write to an agreement or to the facts its steps follow (its dates, its
    parties' dates, its milestones): the checklist is made when missing, rebuilt when ``rebuild`` (the document type
    or kind changed), derived again otherwise; a KB the agreement left follows too."""
    if rebuild:
        rebuild_steps(agreement, user=user)
    elif not create_steps(agreement, user=user):
        derive_steps(agreement, user=user)
    after_parent_change(agreement, previous_parent_id, user=user)


def after_parent_change(agreement: Agreement, previous_parent_id: int | None, user=None) -> None:
    """A PKS moved from one KB to another (or out): both KBs' closing steps follow."""
    if previous_parent_id and previous_parent_id != agreement.parent_id:
        derive_steps(Agreement(pk=previous_parent_id), user=user)


def mark_partner_answered(agreement: Agreement, on: datetime.date, user=None) -> AgreementStep | None:
    """An accepted proposal is the partner's answer to the offer: its step (key ANSWER) is done on ``on``, by the
    officer who accepted. The offer letter itself is still the document the offer step expects."""
    step = (agreement.steps.filter(code__endswith=f".{step_defaults.ANSWER}", status=Status.NOT_STARTED)
            .order_by("order").first())
    if step is None:
        return None
    step.status, step.done_on, step.done_by, step.not_applicable_reason = Status.DONE, on, user, ""
    step._history_user = user
    step.save(update_fields=[*DERIVED_FIELDS, "done_by"])
    return step


# --- the next step, in plain words ----------------------------------------------------------------------------------


@dataclasses.dataclass
class NextStep:
    """The first step neither done nor not applicable, and what it asks, for the agreement page's panel."""

    step: AgreementStep
    actor_label: str
    who: list[str]  # the parties (regions, third parties) that must act; for a per-party step, those that have not
    per_party_pending: bool  # ``who`` lists the parties that have not done it yet
    guidance_url: str | None
    upload_url: str | None  # where the document it expects is uploaded (for a user who may write)
    pks_url: str | None  # a KB's closing step: where a PKS under this KB is recorded


def _initiator_partner(agreement: Agreement, parties, third_parties, proposal):
    """(initiator names, partner names): an accepted proposal says who proposed; a cooperation with a third party
    has the regions on one side and the third parties on the other; otherwise either region may be either."""
    regions = [p.region.name for p in parties]
    if proposal is not None:
        return [proposal.proposing_region.name], [proposal.partner_region.name]
    if third_parties:
        return regions, [t.name for t in third_parties]
    return regions, regions


def next_step(agreement: Agreement, *, steps=None, parties=None, third_parties=None, can_write: bool = False):
    """The first step in order that is neither done nor not applicable, described; None when there is none (every
    step done or not applicable, or no checklist). ``steps``, ``parties`` (with their regions) and ``third_parties``
    may be given when already loaded; at most two queries more (the accepted proposal, the guidance pages)."""
    steps = list(agreement.steps.all()) if steps is None else steps
    step = next((s for s in sorted(steps, key=lambda s: (s.order, s.pk)) if s.status == Status.NOT_STARTED), None)
    if step is None:
        return None
    parties = list(agreement.parties.select_related("region")) if parties is None else parties
    third_parties = list(agreement.third_parties.all()) if third_parties is None else third_parties
    key = step_key(step.code)
    pending = False
    if step.per_party and key == step_defaults.SIGN:
        who, pending = [p.region.name for p in parties if p.signed_on is None], True
    elif step.per_party and key == step_defaults.DPRD:
        required = [p for p in parties if p.dprd_required]
        who = [p.region.name for p in required if p.dprd_approved_on is None] if required else [
            p.region.name for p in parties]
        pending = bool(required)
    elif step.actor in (StepActor.INITIATOR, StepActor.PARTNER):
        proposal = (agreement.proposals.filter(status="accepted").select_related(
            "proposing_region", "partner_region").first()
            if agreement.document_type == Agreement.DocumentType.KB else None)
        initiator, partner = _initiator_partner(agreement, parties, third_parties, proposal)
        who = initiator if step.actor == StepActor.INITIATOR else partner
    elif step.actor == StepActor.EACH_PARTY:
        who = [p.region.name for p in parties]
    else:
        who = [p.region.name for p in parties] + [t.name for t in third_parties]
    pks_url = None
    if step.pks_step_code and can_write and agreement.document_type == Agreement.DocumentType.KB \
            and agreement.signed_on:
        pks_url = f"{reverse('agreement-create')}?parent={agreement.pk}"
    return NextStep(
        step=step,
        actor_label=str(StepActor(step.actor).label) if step.actor in StepActor.values else step.actor,
        who=who,
        per_party_pending=pending,
        guidance_url=guidance.guidance_url_for_step(step.code, step.phase),
        upload_url=reverse("document-upload", args=[agreement.pk]) if can_write and step.expected_document else None,
        pks_url=pks_url,
    )
