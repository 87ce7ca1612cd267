"""Applying an import plan: one transaction, bulk writes, audit history with the importing user.

Rows are written with bulk inserts and updates; their simple_history rows (and the
``MilestoneUpdate`` of created milestones) are copied in SQL with ``INSERT … SELECT``, so
simple_history's ``pre/post_create_historical_record`` signals are not sent for imported rows.
"""

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import stalls, steps
from ..models import Agreement, AgreementParty, Amendment, Milestone, MilestoneUpdate, ThirdParty
from .plan import AgreementRow, ImportPlan
from .validation import AGREEMENT_SCALARS, AMENDMENT_VALUES, MILESTONE_SCALARS, PARTY_VALUES, _chunks

CHANGE_REASON = "import"
BATCH = 2000


class RegisterChanged(Exception):
    """Records the plan updates were saved by someone else after it was checked: nothing was written."""

    def __init__(self, numbers: list[str]):
        self.numbers = numbers
        shown = ", ".join(numbers[:10]) + (" …" if len(numbers) > 10 else "")
        super().__init__(_(
            "The register changed while the file was being checked: %(numbers)s were saved by someone else "
            "meanwhile. Nothing was written; import the file again to check it against the register as it is now."
        ) % {"numbers": shown})


def _claim_versions(plan: ImportPlan) -> None:
    """Inside the transaction: lock every stored record the plan updates and check it is still at the version the
    plan read; a save made since (on a page, in admin, by another import) must not be overwritten."""
    changed = []
    for model, rows, label in (
        (Agreement, [r for r in plan.agreements if r.action == "updated"], lambda r: r.number),
        (Milestone, [r for r in plan.milestones if r.action == "updated"], lambda r: f"{r.agreement_number} / {r.title}"),
    ):
        expected = {r.existing.pk: (r.existing.version, label(r)) for r in rows}
        for chunk in _chunks(list(expected)):
            for pk, version in model.objects.select_for_update().filter(pk__in=chunk).values_list("pk", "version"):
                if version != expected[pk][0]:
                    changed.append(expected[pk][1])
    party_only = _party_only_agreements(plan)  # their parties are written: a party form saved meanwhile counts too
    for chunk in _chunks(list(party_only)):
        for pk, version in Agreement.objects.select_for_update().filter(pk__in=chunk).values_list("pk", "version"):
            if version != party_only[pk][0]:
                changed.append(party_only[pk][1])
    if changed:
        raise RegisterChanged(sorted(changed))


def apply_plan(plan: ImportPlan, *, user=None, reason: str = CHANGE_REASON, progress=None) -> ImportPlan:
    """Write the plan in one transaction, with audit history. Refuses a plan that has problems.

    ``progress(rows)``, when given, is called with the number of rows written so far, after each bulk step."""
    if not plan.ok:
        raise ValueError("An import plan with problems cannot be applied.")
    report = progress or (lambda count, final=False: None)
    now = timezone.now()
    history = {"user": user, "reason": reason, "when": now}
    user_id = user.pk if user is not None else None
    through = Agreement.affairs.through
    moved_from = set()  # the KBs a PKS of the file leaves: their closing steps follow
    with transaction.atomic():
        _claim_versions(plan)
        # KBs first, so that a PKS can point at a KB created by the same file.
        for document_type in (Agreement.DocumentType.KB, Agreement.DocumentType.PKS):
            rows = [r for r in plan.agreements if r.final["document_type"] == document_type]
            creates, updates = [], []
            for row in rows:
                if row.action == "unchanged":
                    continue
                parent_id = _parent_id(row)
                if row.action == "created":
                    row.obj = Agreement(number=row.number, parent_id=parent_id, created_by_id=user_id,
                                        updated_by_id=user_id, **row.final)
                    creates.append(row.obj)
                else:
                    obj = row.existing
                    for field, value in row.final.items():
                        setattr(obj, field, value)
                    if obj.parent_id and obj.parent_id != parent_id:
                        moved_from.add(obj.parent_id)
                    obj.parent_id = parent_id
                    obj.updated_by_id = user_id
                    obj.updated_at = now
                    obj.version += 1
                    row.obj = obj
                    updates.append(obj)
            if creates:
                Agreement.objects.bulk_create(creates, batch_size=BATCH)
                _ensure_pks(creates)
                _write_history(Agreement, [o.pk for o in creates], history_type="+", **history)
            if updates:
                fields = [*AGREEMENT_SCALARS, "parent", "updated_by", "updated_at", "version"]
                Agreement.objects.bulk_update(updates, fields, batch_size=BATCH)
                _write_history(Agreement, [o.pk for o in updates], history_type="~", **history)
            written = sum(1 for r in plan.agreements if r.obj is not None)
            report(written)

        # Parties, third parties, affairs: the row's set replaces the stored one.
        new_parties, new_third, new_links = [], [], []
        removed_party_q, removed_third, removed_links = [], [], []
        for row in plan.agreements:
            if row.action == "unchanged":
                continue
            agreement_id = row.obj.pk
            old_regions, old_names, old_affairs = row.old_region_ids, row.old_third_party_names, row.old_affair_ids
            if row.action == "created" or "region_codes" in row.changed:
                new_parties += [AgreementParty(agreement_id=agreement_id, region_id=r, **_party_values(plan, row, r))
                                for r in sorted(row.region_ids - old_regions)]
                removed_party_q += [(agreement_id, r) for r in old_regions - row.region_ids]
            if row.action == "created" or "third_parties" in row.changed:
                new_third += [ThirdParty(agreement_id=agreement_id, name=n)
                              for n in sorted(row.third_party_names - old_names)]
                removed_third += [(agreement_id, n) for n in old_names - row.third_party_names]
            if row.action == "created" or "affair_codes" in row.changed:
                new_links += [through(agreement_id=agreement_id, governmentaffair_id=a)
                              for a in sorted(row.affair_ids - old_affairs)]
                removed_links += [(agreement_id, a) for a in old_affairs - row.affair_ids]
        for agreement_id, region_id in removed_party_q:
            for party in AgreementParty.objects.filter(agreement_id=agreement_id, region_id=region_id):
                party._history_user, party._change_reason = user, reason
                party.delete()
        for agreement_id, name in removed_third:
            for third in ThirdParty.objects.filter(agreement_id=agreement_id, name=name):
                third._history_user, third._change_reason = user, reason
                third.delete()
        for agreement_id, affair_id in removed_links:
            through.objects.filter(agreement_id=agreement_id, governmentaffair_id=affair_id).delete()
        if new_parties:
            _create_with_history(new_parties, AgreementParty, **history)
        _update_parties(plan, history)
        if new_third:
            _create_with_history(new_third, ThirdParty, **history)
        if new_links:
            through.objects.bulk_create(new_links, batch_size=BATCH)

        # Milestones, and a MilestoneUpdate for each status change.
        creates, updates, logs = [], [], []
        for row in plan.milestones:
            if row.action == "unchanged":
                continue
            ref = row.agreement_ref
            agreement_id = ref.obj.pk if isinstance(ref, AgreementRow) and ref.obj is not None else (
                ref.existing.pk if isinstance(ref, AgreementRow) else ref.pk)
            if row.action == "created":
                row.obj = Milestone(agreement_id=agreement_id, title=row.title, **row.final)
                creates.append(row.obj)
                before = ""
            else:
                obj = row.existing
                before = obj.status
                for field, value in row.final.items():
                    setattr(obj, field, value)
                obj.updated_at = now
                obj.version += 1
                row.obj = obj
                updates.append(obj)
            if row.final["status"] != (before or Milestone.Status.SCHEDULED):
                logs.append((row, before))
        report(len(plan.agreements))
        if creates:
            Milestone.objects.bulk_create(creates, batch_size=BATCH)
            _ensure_milestone_pks(creates)
            _write_history(Milestone, [o.pk for o in creates], history_type="+", **history)
        if updates:
            fields = [*MILESTONE_SCALARS, "responsible_region", "updated_at", "version"]
            Milestone.objects.bulk_update(updates, fields, batch_size=BATCH)
            _write_history(Milestone, [o.pk for o in updates], history_type="~", **history)
        note = _("Imported from a spreadsheet.")
        _log_created_milestones([row.obj.pk for row, before in logs if not before], user=user, when=now, note=note)
        changed = [(row, before) for row, before in logs if before]
        if changed:
            MilestoneUpdate.objects.bulk_create(
                [MilestoneUpdate(milestone_id=row.obj.pk, user=user, status_before=before,
                                 status_after=row.final["status"], progress=row.final["progress"], note=note)
                 for row, before in changed],
                batch_size=BATCH,
            )
        _write_amendments(plan, history)
        # Bulk writes send no signals: recompute the stall facts. All of them, in one UPDATE (a second or
        # two at national scale), because a changed parent number moves facts between KBs.
        stalls.refresh_facts()
        _write_steps(plan, moved_from, history)
        report(len(plan.agreements) + len(plan.milestones), final=True)
    return plan


def _agreement_id(ref) -> int:
    """The stored id of a row's agreement: one the file created or updated, or one of the register."""
    if isinstance(ref, AgreementRow):
        return ref.obj.pk if ref.obj is not None else ref.existing.pk
    return ref.pk


def _write_amendments(plan: ImportPlan, history: dict) -> None:
    """The amendments sheet's rows: created and updated in bulk, with their history rows. An amendment number taken
    meanwhile by a save on a page (the uniqueness constraint) refuses the import, nothing written."""
    user = history["user"]
    creates, updates = [], []
    for row in plan.amendments:
        if row.action == "unchanged":
            continue
        if row.action == "created":
            row.obj = Amendment(agreement_id=_agreement_id(row.agreement_ref), created_by=user, **row.final)
            creates.append(row.obj)
        else:
            row.obj = row.existing
            for field, value in row.final.items():
                setattr(row.obj, field, value)
            updates.append(row.obj)
    try:
        with transaction.atomic():
            if creates:
                Amendment.objects.bulk_create(creates, batch_size=BATCH)
            if updates:
                Amendment.objects.bulk_update(updates, list(AMENDMENT_VALUES), batch_size=BATCH)
    except IntegrityError as exc:
        raise RegisterChanged(sorted({r.agreement_number for r in plan.amendments if r.obj is not None})) from exc
    for obj in creates:
        if obj.pk is None:  # backends without RETURNING
            obj.pk = Amendment.objects.filter(agreement_id=obj.agreement_id, number=obj.number,
                                              signed_on=obj.signed_on).order_by("-pk").values_list("pk", flat=True)[0]
    if creates:
        _write_history(Amendment, [o.pk for o in creates], history_type="+", **history)
    if updates:
        _write_history(Amendment, [o.pk for o in updates], history_type="~", **history)


def _write_steps(plan: ImportPlan, moved_from: set, history: dict) -> None:
    """The regulated steps: each agreement created gets its template's checklist, with what the file already says
    done (``steps.create_steps_bulk``, copied in SQL with their history like the rest); those updated, or whose milestones or
    parties changed, are derived again (and the KBs above them)."""
    created = [r.obj.pk for r in plan.agreements if r.action == "created"]
    steps.create_steps_bulk(created, user=history["user"], reason=history["reason"], when=history["when"])
    touched = {r.obj.pk for r in plan.agreements if r.action == "updated"} | moved_from
    touched |= {r.obj.agreement_id for r in plan.milestones if r.action != "unchanged" and r.obj is not None}
    touched |= set(plan.party_agreements)  # stored agreements whose parties' dates the parties sheet changes
    steps.derive_many(touched - set(created), user=history["user"], reason=history["reason"])


def _party_values(plan: ImportPlan, row: AgreementRow, region_id: int) -> dict:
    """The values of a party created with its agreement (or added to it) that the parties sheet, or a date given for
    the whole agreement, sets."""
    values = dict(plan.party_writes.get((row.number, region_id), {}))
    values.pop("pk", None)
    return values


def _update_parties(plan: ImportPlan, history: dict) -> None:
    """Stored parties whose signatory, document number, signing date or DPRD approval the file changes, with their
    history rows; the agreements they belong to get a new version (an open party form is then refused)."""
    updates = []
    for values in plan.party_writes.values():
        if values.get("pk") is None:
            continue
        party = AgreementParty(**values)
        updates.append(party)
    if not updates:
        return
    AgreementParty.objects.bulk_update(updates, list(PARTY_VALUES), batch_size=BATCH)
    _write_history(AgreementParty, [p.pk for p in updates], history_type="~", **history)
    for chunk in _chunks(sorted(_party_only_agreements(plan))):
        Agreement.objects.filter(pk__in=chunk).update(version=F("version") + 1)


def _party_only_agreements(plan: ImportPlan) -> dict[int, tuple[int, str]]:
    """Stored agreements whose parties the file changes while the agreement row itself is not updated: id →
    (version read, number)."""
    updated = {r.existing.pk for r in plan.agreements if r.action == "updated"}
    return {pk: facts for pk, facts in plan.party_agreements.items() if pk not in updated}


def _log_created_milestones(ids: list[int], *, user, when, note: str) -> None:
    """A MilestoneUpdate ("" → status) for each milestone just created, copied in SQL like the history."""
    quote = connection.ops.quote_name
    log = MilestoneUpdate._meta
    columns = ", ".join(quote(log.get_field(name).column) for name in (
        "milestone", "user", "created_at", "status_before", "status_after", "progress", "note"))
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            cursor.execute(
                f"INSERT INTO {quote(log.db_table)} ({columns}) "  # noqa: S608 - names from _meta
                f"SELECT {quote(Milestone._meta.pk.column)}, %s, %s, '', {quote('status')}, {quote('progress')}, %s "
                f"FROM {quote(Milestone._meta.db_table)} WHERE {quote(Milestone._meta.pk.column)} "
                f"IN ({', '.join(['%s'] * len(chunk))})",
                [user.pk if user is not None else None, connection.ops.adapt_datetimefield_value(when), note, *chunk],
            )


def _write_history(model, ids: list[int], *, history_type: str, user, reason: str, when) -> None:
    """simple_history rows for rows just written, copied in SQL (``INSERT … SELECT``), a few queries per table.

    The same rows ``bulk_create_with_history`` would write, without building one Python object per
    row: with 10,000 agreements and 30,000 milestones that is most of the import's time.
    """
    history = model.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    extra = ", ".join(quote(history._meta.get_field(name).column) for name in (
        "history_date", "history_user", "history_change_reason", "history_type"))
    pk_column = quote(model._meta.pk.column)
    date_value = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({columns}, {extra}) "  # noqa: S608 - names from _meta
                f"SELECT {columns}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} WHERE {pk_column} IN ({placeholders})",
                [date_value, user.pk if user is not None else None, reason, history_type, *chunk],
            )


def _create_with_history(objs: list, model, *, user, reason: str, when) -> None:
    model.objects.bulk_create(objs, batch_size=BATCH)
    missing = [o for o in objs if o.pk is None]
    if missing:  # backends without RETURNING: the parties and third parties are unique per agreement
        key = "region_id" if model is AgreementParty else "name"
        for obj in missing:
            obj.pk = model.objects.get(agreement_id=obj.agreement_id, **{key: getattr(obj, key)}).pk
    _write_history(model, [o.pk for o in objs], history_type="+", user=user, reason=reason, when=when)


def _parent_id(row: AgreementRow):
    ref = row.parent_ref
    if ref is None:
        return None
    if isinstance(ref, int):
        return ref
    if isinstance(ref, Agreement):
        return ref.pk
    return ref.obj.pk if ref.obj is not None else ref.existing.pk


def _ensure_pks(objs: list[Agreement]) -> None:
    """Backends that do not return ids from a bulk insert: fetch them by number."""
    missing = [o for o in objs if o.pk is None]
    for chunk in _chunks(missing):
        ids = dict(Agreement.objects.filter(number__in=[o.number for o in chunk]).values_list("number", "id"))
        for obj in chunk:
            obj.pk = ids[obj.number]


def _ensure_milestone_pks(objs: list[Milestone]) -> None:
    missing = [o for o in objs if o.pk is None]
    for obj in missing:
        obj.pk = Milestone.objects.get(agreement_id=obj.agreement_id, title=obj.title).pk
