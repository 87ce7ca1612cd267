"""Bulk import of agreements and milestones from XLSX or CSV: all or nothing, every problem in one pass.

The same code serves the ``import_agreements`` command and the upload page (``views/imports.py``).
The package: ``reading`` (file checks, XLSX/CSV, headers, cell values), ``plan`` (the plan and its
problems), ``validation`` (``plan_import``), ``apply`` (``apply_plan``), ``template`` (the template
workbook). Who may import is decided in ``access`` (``can_import``); each row obeys the same write rules
as the pages (``access.may_write_parties``, ``access.may_remove_parties``). The entry points are re-exported
here (``importers.import_files``, ...):

    tables = read_spreadsheet(data, filename)               # or read_spreadsheet(..., default_sheet=...)
    plan = plan_import(tables, user=user)                   # bulk validation, nothing written
    if plan.ok:
        apply_plan(plan, user=user)                         # one transaction, audit history

Formats
-------
- XLSX: a sheet ``agreements`` and the optional sheets ``milestones``, ``parties`` and ``amendments`` (sheet names
  case-insensitive).
  A separate milestones workbook may use a ``milestones`` sheet or be a single-sheet workbook.
- CSV: UTF-8 with or without a byte-order mark; ``;`` or ``,`` as separator, detected on the header
  line (Excel set to Indonesian writes ``;``). Milestones come in a second CSV file.
- Refused outright (``FileRefused``): empty files, files over 20 MB, legacy ``.xls``, and anything
  that is not an XLSX workbook or UTF-8 text (PDF, images, ...).
- Limits (``reading.Limits``, the settings ``IMPORT_MAX_*``: rows, cell length, a part's uncompressed size and
  compression ratio, sheets, columns) are checked while the file is read, as a stream: the first row, cell or
  byte past one refuses the file (``FileRefused`` naming the limit), so memory never grows with it.

Headers are matched case-insensitively; spaces, ``_``, ``-`` and ``.`` are ignored
(``Document Type`` = ``document_type``). The columns are those of ``spreadsheet.AGREEMENT_COLUMNS``
and ``spreadsheet.MILESTONE_COLUMNS``; the export's read-only columns (``stage``, ``stall_reasons``,
``days_stalled``) are ignored; any other header is reported as an unknown column. Indonesian aliases:

agreements
    number: ``nomor``, ``nomor_dokumen``, ``nomor_kesepakatan``;
    document_type: ``jenis_dokumen``, ``tipe_dokumen``;
    parent_number: ``nomor_induk``, ``nomor_kb``, ``induk``;
    title: ``judul``, ``perihal``, ``tentang``;
    cooperation_kind: ``jenis_kerja_sama``, ``jenis_kerjasama``, ``bentuk_kerja_sama``;
    region_codes: ``kode_daerah``, ``kode_wilayah``, ``daerah``;
    third_parties: ``pihak_ketiga``;
    affair_codes: ``kode_urusan``, ``urusan``;
    signed_on: ``tanggal_tanda_tangan``, ``tanggal_penandatanganan``, ``tanggal_ttd``;
    dprd_approved_on: ``tanggal_persetujuan_dprd``, ``persetujuan_dprd``;
    starts_on: ``tanggal_mulai``; ends_on: ``tanggal_berakhir``;
    terminated_on: ``tanggal_pengakhiran``, ``tanggal_dihentikan``;
    termination_reason (optional; a code of ``models.TerminationReason``, only with a termination date):
    ``alasan_pengakhiran``, ``alasan_dihentikan``;
    value_idr: ``nilai``, ``nilai_rp``, ``nilai_idr``; scope: ``ruang_lingkup``, ``lingkup``.
milestones
    agreement_number: ``nomor``, ``nomor_dokumen``, ``nomor_kesepakatan``, ``nomor_perjanjian``;
    title: ``judul``, ``tahapan``, ``nama_tahapan``;
    responsible_region_code: ``kode_daerah_penanggung_jawab``, ``penanggung_jawab``, ``kode_daerah``;
    due_on: ``tenggat``, ``jatuh_tempo``, ``batas_waktu``, ``tanggal_target``;
    started_on: ``tanggal_mulai``; completed_on: ``tanggal_selesai``;
    status: ``status``; progress: ``progres``, ``kemajuan``, ``persentase``.

amendments (the sheet ``amendments``, or a CSV file of its own: ``spreadsheet.AMENDMENT_COLUMNS``)
    agreement_number: ``nomor_kerja_sama``, ``nomor_kesepakatan``, ``nomor_perjanjian``, ``nomor_dokumen``;
    number (the amendment's own): ``nomor_adendum``;
    signed_on: ``tanggal_tanda_tangan``, ``tanggal_penandatanganan``, ``tanggal_ttd``;
    ends_on (the new end date, optional): ``tanggal_berakhir_baru``, ``tanggal_berakhir``;
    summary (what changed): ``ringkasan_perubahan``, ``ringkasan``, ``perubahan``.

Values
------
- An empty cell is "no value": on an update it clears the field (progress becomes 0, status
  ``scheduled``). A column that is absent from the file leaves that field as it is on updates.
- A leading ``'`` before ``=``, ``+``, ``-``, ``@`` (the export's formula guard) is stripped.
- Dates: ``YYYY-MM-DD``, ``DD/MM/YYYY`` or a real Excel date cell.
- Amounts: digits, optionally with ``.`` as thousands separator (``1.234.567``), or a number cell.
- Lists (``region_codes``, ``affair_codes``) are separated by ``;`` (``,`` is accepted too);
  ``third_parties`` only by ``;`` because names may contain commas.
- Codes that Excel turned into numbers: a code with one decimal digit gets a trailing zero back
  (``32.1`` → ``32.10``, ``2.1`` → ``2.10``) and a whole number loses its decimals (``32.0`` or ``32``
  → ``32``, a province). No Kemendagri or Permendagri 90/2019 code has a single decimal digit or
  a ``.00`` part, so this reading is never ambiguous. Agreement numbers that became numbers are
  read as whole numbers (``123.0`` → ``123``).
- Row numbers are those a spreadsheet shows: the header is row 1, blank rows count (and are skipped).

Rules
-----
``number`` is the key of an agreement; ``agreement_number`` + ``title`` the key of a milestone. A
known key updates the record, an unknown one creates it; nothing is ever deleted. Parties, third
parties and affairs are replaced by the row's (a kept party keeps its signatory details). A row
equal to the database writes nothing, so importing a file twice changes nothing the second time.
Writes record audit history with the importing user (change reason ``import``) and a milestone
whose status changes (or is created with a status other than ``scheduled``) gets a
``MilestoneUpdate``. A row the user could not save through the pages is a problem on that row: a provincial
officer writes only agreements the province itself is a party to (it reads, not writes, those of its
kabupaten/kota).

An amendment is keyed by ``agreement_number`` + ``number`` (one without a number by its signing date): its agreement
is in the file or the register; it is signed (``signed_on`` required), not in the future, not before its agreement's
signing (the agreement after the file), and its new end date (``ends_on``) is not before its signing; a new one says
what changed (``summary``). These are ``amendments.amendment_errors``, the rules of the pages.

Speed: validation runs a fixed number of queries per file (regions, affairs, then the stored
agreements, parties, third parties, affairs and milestones by chunks of numbers); rows are written
with bulk inserts, and their simple_history rows (and the MilestoneUpdate of created milestones)
are copied in SQL with ``INSERT … SELECT`` -- so simple_history's ``pre/post_create_historical_record``
signals are not sent for imported rows. ``scripts/bench_import.py`` measures 10,000 + 30,000 rows.

Hostile files: a damaged archive, XML that is not well-formed, a DOCTYPE or entity declaration in any part, a
row number or cell reference that is not one, a NUL character or an over-long field in a CSV refuse the file
(``FileRefused``, naming the sheet, part or line); a cell whose value contradicts its type is a problem on its
row and column. Each import logs one line (``kerjasama.import``) with counts, row numbers and the contract's
column names only: never a cell, a header, a sheet or file name (file contents are never logged).
"""

import logging

from django.utils.translation import gettext as _

from ..access import can_import
from ..spreadsheet import AGREEMENT_COLUMNS, AMENDMENT_COLUMNS, MILESTONE_COLUMNS, PARTY_COLUMNS
from .apply import CHANGE_REASON, RegisterChanged, apply_plan
from .plan import Counts, ImportPlan, Problem
from .reading import (
    AGREEMENTS_SHEET,
    AMENDMENTS_SHEET,
    MAX_FILE_SIZE,
    MILESTONES_SHEET,
    PARTIES_SHEET,
    FileRefused,
    Table,
    read_spreadsheet,
)
from .template import CODES_SHEET, build_template
from .validation import plan_import

__all__ = [
    "AGREEMENTS_SHEET", "AMENDMENTS_SHEET", "CHANGE_REASON", "CODES_SHEET", "MAX_FILE_SIZE", "MILESTONES_SHEET",
    "PARTIES_SHEET", "Counts",
    "FileRefused",
    "ImportPlan", "Problem", "RegisterChanged", "Table", "apply_plan", "build_template", "can_import", "import_files",
    "log_outcome", "plan_import", "read_files", "read_spreadsheet",
]


logger = logging.getLogger("kerjasama.import")
LOGGED_COLUMNS = (frozenset(AGREEMENT_COLUMNS) | frozenset(MILESTONE_COLUMNS) | frozenset(PARTY_COLUMNS)
                  | frozenset(AMENDMENT_COLUMNS))
LOGGED_ROWS = 20


def read_files(agreements: tuple[bytes, str] | None, milestones: tuple[bytes, str] | None = None, *,
               parties: tuple[bytes, str] | None = None, amendments: tuple[bytes, str] | None = None,
               user=None) -> dict[str, Table]:
    """The tables of the agreements file (its milestones, parties and amendments sheets too) and of a separate
    milestones, parties or amendments file. ``FileRefused`` (logged by its reason only) for a file that cannot be read."""
    user_id = getattr(user, "pk", None) or "-"
    tables = {}
    try:
        if agreements is not None:
            tables.update(read_spreadsheet(*agreements, default_sheet=AGREEMENTS_SHEET))
        if milestones is not None:
            tables[MILESTONES_SHEET] = read_spreadsheet(*milestones, default_sheet=MILESTONES_SHEET)[MILESTONES_SHEET]
        if parties is not None:
            tables[PARTIES_SHEET] = read_spreadsheet(*parties, default_sheet=PARTIES_SHEET)[PARTIES_SHEET]
        if amendments is not None:
            tables[AMENDMENTS_SHEET] = read_spreadsheet(
                *amendments, default_sheet=AMENDMENTS_SHEET)[AMENDMENTS_SHEET]
        if not tables:
            raise FileRefused(_("No file to import."), "no_file")
    except FileRefused as exc:
        logger.info("import refused: reason=%s user=%s", exc.reason, user_id)
        raise
    return tables


def import_files(agreements: tuple[bytes, str] | None, milestones: tuple[bytes, str] | None = None, *, user=None,
                 dry_run: bool = False, progress=None, parties: tuple[bytes, str] | None = None,
                 amendments: tuple[bytes, str] | None = None) -> ImportPlan:
    """Read, plan and (unless ``dry_run`` or there are problems) apply. ``FileRefused`` for unreadable files.

    ``progress(rows)``, when given, is called as rows are checked and again as they are written."""
    tables = read_files(agreements, milestones, parties=parties, amendments=amendments, user=user)
    plan = plan_import(tables, user=user, progress=progress)
    if plan.ok and not dry_run:
        apply_plan(plan, user=user, progress=progress)
    log_outcome(plan, getattr(user, "pk", None) or "-", dry_run)
    return plan


def log_outcome(plan: ImportPlan, user_id, dry_run: bool) -> None:
    """One line: counts, the rows and the contract's columns with problems. Never a value from the file: a
    problem's message quotes its cell, and its column is the file's own header when the header is unknown."""
    if plan.problems:
        rows = sorted({p.row for p in plan.problems if p.row is not None})
        shown = ",".join(str(r) for r in rows[:LOGGED_ROWS])
        if len(rows) > LOGGED_ROWS:
            shown += f",+{len(rows) - LOGGED_ROWS} more"
        columns = sorted({p.column if p.column in LOGGED_COLUMNS else "other" for p in plan.problems if p.column})
        logger.info("import rejected: problems=%d rows=%s columns=%s user=%s", len(plan.problems), shown or "-",
                    ",".join(columns) or "-", user_id)
        return
    a, m = plan.agreement_counts, plan.milestone_counts
    logger.info(
        "import %s: agreements created=%d updated=%d unchanged=%d; milestones created=%d updated=%d unchanged=%d "
        "user=%s", "checked" if dry_run else "applied", a.created, a.updated, a.unchanged, m.created, m.updated,
        m.unchanged, user_id)
