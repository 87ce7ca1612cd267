"""The default step templates (tahapan kerja sama) and the rule that derives steps from the register's facts.

Plain data and plain functions: no model is imported here, so that the data migration 0014 can read this module
as well as ``agreements.steps`` does (the migration must not import the live models). Keep the shape of
``default_templates()`` (the keys of each template and step) and the signature of ``derive()``; should either ever
have to change, put a copy of today's file next to migration 0014 first and point the migration at it.

The defaults are data, written in Indonesian as the ministry writes (the interface is Indonesian and
administrators edit them in Django admin); they are not in the translation catalogue. What each step relies on
is in ``legal_basis`` and, with the sources and where they differ, in docs/domain.md ("The regulated steps").

Codes. A template's steps have codes ``<document type>-<kind>.<key>``, for example ``KB-KSDDS.SIGN`` (the
signing of a voluntary KSDD's KB) or ``PKS-KSDPK.START``: unique across templates, as the database requires. The
key, after the dot, says what the step is; ``derive`` recognises the steps it can complete from the register by
their key (SIGN, DPRD, START, and a KB's closing steps through ``pks_step_code``). A step an administrator adds
with a key of their own is simply done by hand.
"""

import datetime

KB, PKS = "KB", "PKS"
KSDD_WAJIB, KSDD_SUKARELA, KSDPK, KSDPL, KSDLL = "KSDD-WAJIB", "KSDD-SUKARELA", "KSDPK", "KSDPL", "KSDLL"
KINDS = (KSDD_WAJIB, KSDD_SUKARELA, KSDPK, KSDPL, KSDLL)
DOCUMENT_TYPES = (KB, PKS)
KIND_CODES = {KSDD_WAJIB: "KSDDW", KSDD_SUKARELA: "KSDDS", KSDPK: "KSDPK", KSDPL: "KSDPL", KSDLL: "KSDLL"}
KIND_NAMES = {
    KSDD_WAJIB: "KSDD wajib", KSDD_SUKARELA: "KSDD sukarela", KSDPK: "KSDPK, dengan pihak ketiga",
    KSDPL: "KSDPL, dengan pemerintah daerah di luar negeri", KSDLL: "KSDLL, dengan lembaga di luar negeri",
}

# The keys (what a step is). ``derive`` completes SIGN, DPRD and START from the register's dates, and a KB's
# PKS_DRAFT and PKS_SIGN from the PKSs under it.
TKKSD, OBJECT, PLAN, OFFER, ANSWER, CENTRAL = "TKKSD", "OBJECT", "PLAN", "OFFER", "ANSWER", "CENTRAL"
DRAFT, SIGN, DPRD, PKS_DRAFT, PKS_SIGN = "DRAFT", "SIGN", "DPRD", "PKS-DRAFT", "PKS-SIGN"
START, REPORT, EVAL = "START", "REPORT", "EVAL"

# StepPhase and StepActor values (agreements.models), repeated as plain strings.
PREPARATION, OFFER_PHASE, KB_PHASE, DPRD_PHASE, PKS_PHASE = "preparation", "offer", "kb", "dprd", "pks"
IMPLEMENTATION, REPORTING, EVALUATION = "implementation", "reporting", "evaluation"
EACH_PARTY, PARTIES, INITIATOR, PARTNER = "each_party", "parties", "initiator", "partner"

# Why a DPRD step is not applicable when no party needs the DPRD's approval (written by ``derive``).
DPRD_NOT_REQUIRED = (
    "Tidak ada pihak yang memerlukan persetujuan DPRD: kerja sama ini tidak membebani masyarakat dan daerah, dan "
    "pendanaannya sudah dianggarkan dalam APBD tahun berjalan. Bila salah satu pihak memerlukannya, tandai "
    "\u201cperlu persetujuan DPRD\u201d pada pihak tersebut."
)

UU_23 = "UU 23/2014"
PP_28 = "PP 28/2018"
PMDN_22 = "Permendagri 22/2020"
PMDN_25 = "Permendagri 25/2020"


def template_prefix(document_type: str, kind: str) -> str:
    return f"{document_type}-{KIND_CODES[kind]}"


def step_code(document_type: str, kind: str, key: str) -> str:
    return f"{template_prefix(document_type, kind)}.{key}"


def step_key(code: str) -> str:
    """What a step is: the part of its code after the last dot (the whole code when it has none)."""
    return (code or "").rsplit(".", 1)[-1]


def _abroad(kind: str) -> bool:
    return kind in (KSDPL, KSDLL)


def _procedure(kind: str) -> str:
    """The regulation that sets the procedure of this kind of cooperation."""
    return PMDN_25 if _abroad(kind) else PMDN_22


def _partner(kind: str) -> str:
    return {
        KSDPK: "pihak ketiga",
        KSDPL: "pemerintah daerah di luar negeri",
        KSDLL: "lembaga di luar negeri",
    }.get(kind, "daerah mitra")


def _kb_steps(kind: str) -> list[dict]:
    """The KB's checklist: preparation, offer, the KB drafted and signed, DPRD approval where required, and the
    two closing steps a PKS under the KB completes."""
    proc, partner = _procedure(kind), _partner(kind)
    ksdd = kind in (KSDD_WAJIB, KSDD_SUKARELA)
    steps = [
        {
            "key": TKKSD, "phase": PREPARATION, "actor": INITIATOR,
            "title": "Libatkan TKKSD dalam persiapan",
            "instructions": (
                "Tim Koordinasi Kerja Sama Daerah (TKKSD), yang dibentuk dengan keputusan kepala daerah, membahas "
                "rencana kerja sama ini sejak persiapan. Catat rapat TKKSD yang membahasnya dan hasilnya."
            ),
            "expected_document": "Notula atau berita acara rapat TKKSD",
            "legal_basis": f"{proc}, ketentuan tentang TKKSD",
        },
        {
            "key": OBJECT, "phase": PREPARATION, "actor": INITIATOR,
            "title": "Pastikan objek kerja sama ada dalam rencana daerah atau hasil pemetaan",
            "instructions": (
                "Objek kerja sama adalah urusan pemerintahan yang menjadi kewenangan daerah. Tunjukkan bahwa objek "
                "ini tercantum dalam RPJMD atau RKPD, atau dalam hasil identifikasi dan pemetaan urusan (peta urusan "
                "serta kebutuhan dan potensi di aplikasi ini)."
                + (" Kerja sama wajib dilaksanakan oleh daerah yang berbatasan, untuk urusan yang memiliki "
                   "eksternalitas lintas daerah atau layanan publik yang lebih efisien jika dikelola bersama."
                   if kind == KSDD_WAJIB else "")
            ),
            "expected_document": "Kutipan RPJMD/RKPD atau hasil pemetaan urusan",
            "legal_basis": (f"{PP_28} pasal 5 ayat (1); {PMDN_22} pasal 3 dan pasal 5" if kind == KSDD_WAJIB
                            else f"{PMDN_22} pasal 5 ayat (1)\u2013(3)" if ksdd
                            else f"{proc}, ketentuan tentang objek kerja sama"),
        },
        {
            "key": PLAN, "phase": PREPARATION, "actor": INITIATOR,
            "title": "Susun rencana kerja sama",
            "instructions": (
                "Rencana kerja sama memuat tujuan, ruang lingkup, pendanaan, dan jangka waktu, serta analisis "
                "manfaat dan biaya yang terukur: objek lebih bermanfaat dikerjasamakan daripada dikelola sendiri."
            ),
            "expected_document": "Rencana kerja sama dengan analisis manfaat dan biaya",
            "legal_basis": f"{proc}, tahapan persiapan",
        },
    ]
    if ksdd:
        steps += [
            {
                "key": OFFER, "phase": OFFER_PHASE, "actor": INITIATOR,
                "title": "Kirim surat penawaran kepada daerah mitra",
                "instructions": (
                    "Kepala daerah yang memprakarsai mengirim surat penawaran kerja sama kepada kepala daerah mitra, "
                    "dengan tembusan kepada Menteri Dalam Negeri dan DPRD daerah yang menawarkan; bila yang "
                    "menawarkan kabupaten/kota, juga kepada gubernur."
                ),
                "expected_document": "Surat penawaran kerja sama",
                "legal_basis": f"{PMDN_22}, tahapan penawaran",
            },
            {
                "key": ANSWER, "phase": OFFER_PHASE, "actor": PARTNER,
                "title": "Terima jawaban daerah mitra",
                "instructions": (
                    "Daerah mitra menjawab penawaran secara tertulis. Jawaban yang menerima penawaran menjadi dasar "
                    "penyusunan KB. Usulan kerja sama yang diterima di aplikasi ini mencatat tahapan ini; surat "
                    "penawaran tetap diperlukan pada tahapan sebelumnya."
                ),
                "expected_document": "Surat jawaban daerah mitra",
                "legal_basis": f"{PMDN_22}, tahapan penawaran",
            },
        ]
    elif kind == KSDPK:
        steps += [
            {
                "key": OFFER, "phase": OFFER_PHASE, "actor": INITIATOR,
                "title": "Tawarkan kerja sama kepada pihak ketiga atau nilai prakarsanya",
                "instructions": (
                    "Daerah menawarkan objek kerja sama kepada pihak ketiga, atau menerima dan menilai usulan kerja "
                    "sama yang diprakarsai pihak ketiga."
                ),
                "expected_document": "Surat penawaran, atau usulan pihak ketiga dengan hasil penilaiannya",
                "legal_basis": f"{PMDN_22}, tahapan penawaran KSDPK",
            },
            {
                "key": ANSWER, "phase": OFFER_PHASE, "actor": PARTNER,
                "title": "Terima jawaban pihak ketiga",
                "instructions": "Pihak ketiga menjawab penawaran secara tertulis, atau daerah menjawab prakarsanya.",
                "expected_document": "Surat jawaban pihak ketiga",
                "legal_basis": f"{PMDN_22}, tahapan penawaran KSDPK",
            },
        ]
    else:
        steps += [
            {
                "key": OFFER, "phase": OFFER_PHASE, "actor": INITIATOR,
                "title": f"Jajaki dan tawarkan kerja sama kepada {partner}",
                "instructions": (
                    f"Lakukan komunikasi awal dengan {partner} dan sampaikan surat minat atau penawaran kerja sama."
                ),
                "expected_document": "Surat minat atau surat penawaran kerja sama",
                "legal_basis": f"{PMDN_25}, tahapan penawaran",
            },
            {
                "key": ANSWER, "phase": OFFER_PHASE, "actor": PARTNER,
                "title": f"Terima jawaban {partner}",
                "instructions": f"Mitra menjawab secara tertulis ({partner}).",
                "expected_document": "Surat jawaban atau surat minat mitra",
                "legal_basis": f"{PMDN_25}, tahapan penawaran",
            },
        ]
    steps.append({
        "key": DRAFT, "phase": KB_PHASE, "actor": PARTIES,
        "title": "Susun rancangan KB bersama",
        "instructions": (
            f"Para pihak menyusun rancangan Kesepakatan Bersama bersama {partner}: maksud dan tujuan, objek dan "
            "ruang lingkup, serta jangka waktu kesepakatan."
        ),
        "expected_document": "Rancangan KB",
        "legal_basis": f"{proc}, tahapan penyusunan KB",
    })
    if _abroad(kind):
        steps.append({
            "key": CENTRAL, "phase": KB_PHASE, "actor": INITIATOR,
            "title": "Mintakan persetujuan Pemerintah Pusat atas rancangan",
            "instructions": (
                "Rencana dan rancangan kerja sama dengan pihak di luar negeri disampaikan kepada Menteri Dalam Negeri "
                "untuk mendapat persetujuan, dengan pertimbangan Menteri Luar Negeri, sebelum ditandatangani."
            ),
            "expected_document": "Surat persetujuan Menteri Dalam Negeri",
            "legal_basis": f"{PMDN_25}, ketentuan tentang persetujuan; {PP_28} (KSDPL dan KSDLL)",
        })
    steps += [
        {
            "key": SIGN, "phase": KB_PHASE, "actor": EACH_PARTY, "per_party": True,
            "title": "Tanda tangani KB",
            "instructions": (
                "KB ditandatangani oleh kepala daerah (gubernur, bupati, atau wali kota) setiap pihak"
                + ("" if ksdd else f" dan oleh {partner}") + ". Catat tanggal penandatanganan setiap pihak dan "
                "unggah naskah KB yang sudah ditandatangani."
            ),
            "expected_document": "Naskah KB yang ditandatangani",
            "legal_basis": f"{PP_28} pasal 2",
        },
        {
            "key": DPRD, "phase": DPRD_PHASE, "actor": EACH_PARTY, "per_party": True,
            "title": "Mintakan persetujuan DPRD bila diperlukan",
            "instructions": (
                "Persetujuan DPRD diperlukan bila kerja sama membebani masyarakat dan daerah, atau pendanaannya "
                "belum dianggarkan dalam APBD tahun berjalan. Setiap pihak yang memerlukannya mencatat tanggal dan "
                "nomor keputusan DPRD-nya."
            ),
            "expected_document": "Keputusan DPRD tentang persetujuan kerja sama",
            "legal_basis": f"{UU_23} pasal 363 ayat (3)",
        },
        {
            "key": PKS_DRAFT, "phase": PKS_PHASE, "actor": PARTIES, "pks_key": DRAFT,
            "title": "Susun PKS yang menindaklanjuti KB",
            "instructions": (
                "Perangkat daerah yang membidangi urusan ini menyusun Perjanjian Kerja Sama yang menjabarkan KB: hak "
                "dan kewajiban, kegiatan, pendanaan, dan jangka waktu. Catat PKS di bawah KB ini; tahapan ini "
                "selesai ketika PKS tersebut mencatat tahapan penyusunannya."
            ),
            "expected_document": "Rancangan PKS",
            "legal_basis": f"{proc}, tahapan penyusunan PKS",
        },
        {
            "key": PKS_SIGN, "phase": PKS_PHASE, "actor": PARTIES, "pks_key": SIGN,
            "title": "Tanda tangani PKS",
            "instructions": (
                "PKS ditandatangani oleh kepala daerah, atau oleh pejabat yang diberi surat kuasa olehnya. Tahapan "
                "ini selesai ketika PKS di bawah KB ini ditandatangani."
            ),
            "expected_document": "Naskah PKS yang ditandatangani",
            "legal_basis": f"{PP_28} pasal 2",
        },
    ]
    return steps


def _pks_steps(kind: str) -> list[dict]:
    """A PKS's own checklist, from drafting to evaluation."""
    proc, partner = _procedure(kind), _partner(kind)
    return [
        {
            "key": DRAFT, "phase": PKS_PHASE, "actor": PARTIES,
            "title": "Susun rancangan PKS",
            "instructions": (
                f"Perangkat daerah yang membidangi urusan ini menyusun rancangan PKS bersama {partner}: hak dan "
                "kewajiban para pihak, kegiatan, pendanaan, jangka waktu, dan penyelesaian perselisihan."
            ),
            "expected_document": "Rancangan PKS",
            "legal_basis": f"{proc}, tahapan penyusunan PKS",
        },
        {
            "key": DPRD, "phase": DPRD_PHASE, "actor": EACH_PARTY, "per_party": True,
            "title": "Mintakan persetujuan DPRD bila diperlukan",
            "instructions": (
                "Persetujuan DPRD diperlukan bila kerja sama membebani masyarakat dan daerah, atau pendanaannya "
                "belum dianggarkan dalam APBD tahun berjalan. Setiap pihak yang memerlukannya mencatat tanggal dan "
                "nomor keputusan DPRD-nya."
            ),
            "expected_document": "Keputusan DPRD tentang persetujuan kerja sama",
            "legal_basis": f"{UU_23} pasal 363 ayat (3)",
        },
        {
            "key": SIGN, "phase": PKS_PHASE, "actor": EACH_PARTY, "per_party": True,
            "title": "Tanda tangani PKS",
            "instructions": (
                "PKS ditandatangani oleh kepala daerah setiap pihak, atau oleh pejabat perangkat daerah yang diberi "
                "surat kuasa olehnya. Catat tanggal penandatanganan setiap pihak dan unggah naskah PKS yang sudah "
                "ditandatangani."
            ),
            "expected_document": "Naskah PKS yang ditandatangani",
            "legal_basis": f"{PP_28} pasal 2",
        },
        {
            "key": START, "phase": IMPLEMENTATION, "actor": PARTIES,
            "title": "Mulai pelaksanaan",
            "instructions": (
                "Catat kegiatan pelaksanaan PKS di aplikasi ini dan mulai kegiatan pertama. Tahapan ini selesai "
                "ketika kegiatan pertama dicatat sudah dimulai."
            ),
            "expected_document": "Bukti pelaksanaan kegiatan pertama",
            "legal_basis": f"{proc}, tahapan pelaksanaan",
        },
        {
            "key": REPORT, "phase": REPORTING, "actor": EACH_PARTY,
            "title": "Laporkan pelaksanaan kerja sama",
            "instructions": (
                "Setiap daerah melaporkan pelaksanaan kerja sama: bupati/wali kota kepada gubernur sebagai wakil "
                "Pemerintah Pusat, gubernur kepada Menteri Dalam Negeri."
            ),
            "expected_document": "Laporan pelaksanaan kerja sama",
            "legal_basis": f"{PP_28}, ketentuan tentang pelaporan; {proc}",
        },
        {
            "key": EVAL, "phase": EVALUATION, "actor": PARTIES,
            "title": "Lakukan pemantauan dan evaluasi",
            "instructions": (
                "Para pihak, bersama TKKSD, menilai pelaksanaan: capaian kegiatan, manfaat, kendala, dan apakah kerja "
                "sama dilanjutkan, diubah, atau diakhiri."
            ),
            "expected_document": "Laporan hasil pemantauan dan evaluasi",
            "legal_basis": f"{PP_28}, ketentuan tentang pemantauan dan evaluasi; {proc}",
        },
    ]


def default_templates() -> list[dict]:
    """The ten default templates (two document types × five kinds), each with its ordered steps:
    ``{"document_type", "cooperation_kind", "name", "steps": [{"code", "order", "phase", "title", "instructions",
    "expected_document", "actor", "per_party", "legal_basis", "pks_step_code"}]}``."""
    templates = []
    for document_type in DOCUMENT_TYPES:
        for kind in KINDS:
            raw = _kb_steps(kind) if document_type == KB else _pks_steps(kind)
            steps = []
            for index, step in enumerate(raw, start=1):
                pks_key = step.get("pks_key")
                steps.append({
                    "code": step_code(document_type, kind, step["key"]),
                    "order": index * 10,
                    "phase": step["phase"],
                    "title": step["title"],
                    "instructions": step["instructions"],
                    "expected_document": step["expected_document"],
                    "actor": step["actor"],
                    "per_party": step.get("per_party", False),
                    "legal_basis": step["legal_basis"],
                    "pks_step_code": step_code(PKS, kind, pks_key) if pks_key else "",
                })
            templates.append({
                "document_type": document_type,
                "cooperation_kind": kind,
                "name": f"Tahapan {document_type} \u2014 {KIND_NAMES[kind]} ({_procedure(kind)})",
                "steps": steps,
            })
    return templates


# --- derivation ------------------------------------------------------------------------------------------------

DONE, NOT_APPLICABLE, NOT_STARTED = "done", "not_applicable", "not_started"


def derive(steps: list[dict], facts: dict) -> list[tuple[str, datetime.date | None, str] | None]:
    """What the register says about each step: ``(status, done_on, reason)``, or None when it says nothing.

    ``steps``: the agreement's steps in order, each ``{"code", "per_party", "pks_step_code"}``. ``facts``:
    ``signed_on``, ``dprd_approved_on``, ``first_started_on``, ``first_pks_signed_on`` (dates or None),
    ``parties`` (``[{"signed_on", "dprd_required", "dprd_approved_on"}]``, the regional parties) and
    ``children_done`` (for a KB: the key of each step done by a PKS under it → the earliest date it was done).

    - SIGN is done when the agreement is signed (its date), or when every regional party has its signing date
      (the latest);
    - DPRD is done when every party that needs the DPRD's approval has it (the latest date), or on the
      agreement's own DPRD approval date when no party is marked as needing it; with neither, it does not apply;
    - START is done when the first milestone started;
    - a step with ``pks_step_code`` (a KB's closing step) is done when a PKS under the KB has done the step of that
      key (the earliest date), and the closing signing step too when a PKS under it is signed;
    - a step that is not done by a person each party does on its own is implied by a later step the register
      completed: it was done by then (on that later date). Per-party steps (signing, DPRD) are never implied.

    The caller applies these to the steps nobody marked by hand, and sets the others back to not started.
    """
    parties = facts.get("parties") or []
    children_done = facts.get("children_done") or {}
    targets: list = []
    for step in steps:
        key = step_key(step["code"])
        target = None
        if step.get("pks_step_code"):
            pks_key = step_key(step["pks_step_code"])
            dates = [d for d in (children_done.get(pks_key),
                                 facts.get("first_pks_signed_on") if pks_key == SIGN else None) if d]
            if dates:
                target = (DONE, min(dates), "")
        elif key == SIGN:
            signed = [p.get("signed_on") for p in parties]
            if facts.get("signed_on"):
                target = (DONE, facts["signed_on"], "")
            elif signed and all(signed):
                target = (DONE, max(signed), "")
        elif key == DPRD:
            required = [p for p in parties if p.get("dprd_required")]
            if required:
                approved = [p.get("dprd_approved_on") for p in required]
                if all(approved):
                    target = (DONE, max(approved), "")
            elif facts.get("dprd_approved_on"):
                target = (DONE, facts["dprd_approved_on"], "")
            else:
                target = (NOT_APPLICABLE, None, DPRD_NOT_REQUIRED)
        elif key == START and facts.get("first_started_on"):
            target = (DONE, facts["first_started_on"], "")
        targets.append(target)
    # Implied: walking back from the end, the earliest date of a later step the register completed.
    later = None
    for index in range(len(steps) - 1, -1, -1):
        target = targets[index]
        if target is not None and target[0] == DONE:
            later = target[1] if later is None else min(later, target[1])
        elif target is None and later is not None and not steps[index].get("per_party"):
            targets[index] = (DONE, later, "")
    return targets
