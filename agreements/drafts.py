"""Document drafts ("Unduh draf"): an offer letter, a KB or a PKS as a DOCX file, filled from an agreement.

The text is Indonesian, as the documents are written: the parties (each region with its signatory's name and
position, then the third parties), the object (title and affairs), the scope, the term, the financing, and the
sections PP 28/2018 and Permendagri 22/2020 ask a KB or PKS to hold: subjects, object, scope, rights and
obligations, term, termination, force majeure (keadaan kahar), dispute settlement and financing. Blanks a person
fills in are dotted lines. Nothing is stored: the draft is built from the agreement as it is now.

Every value passes through ``xml_text``, which drops the characters XML 1.0 cannot hold (NUL and the other control
characters but tab and line ends, lone surrogates, U+FFFE/U+FFFF): a title pasted with such characters gives a
draft, not an error.
"""

import io
import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.formats import date_format, number_format
from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from .models import Agreement, AgreementParty, Region

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

OFFER, KB, PKS = "offer", "kb", "pks"
KINDS = (OFFER, KB, PKS)
FILE_WORDS = {OFFER: "penawaran", KB: "kb", PKS: "pks"}

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
BLANK = "…………………"
ORDINALS = ["KESATU", "KEDUA", "KETIGA", "KEEMPAT", "KELIMA", "KEENAM", "KETUJUH", "KEDELAPAN", "KESEMBILAN",
            "KESEPULUH"]


def xml_text(value) -> str:
    """``value`` as text a DOCX can hold: XML-invalid characters dropped, line ends kept."""
    return _XML_INVALID.sub("", str(value if value is not None else ""))


def _ordinal(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else f"KE-{index + 1}"


def _date(value) -> str:
    if value is None:
        return BLANK
    with translation.override("id"):
        return date_format(value, "DATE_FORMAT")


def _rupiah(value) -> str:
    with translation.override("id"):
        return "Rp" + number_format(int(value), decimal_pos=0, force_grouping=True)


def _government(region: Region) -> str:
    """"Pemerintah Provinsi Jawa Barat", "Pemerintah Kota Bandung": a region's name already says its kind."""
    return f"Pemerintah {region.name}"


def _head_title(region: Region) -> str:
    if region.level == Region.Level.PROVINCE:
        return "Gubernur"
    return "Wali Kota" if region.name.startswith("Kota") else "Bupati"


@dataclass
class Party:
    label: str  # PIHAK KESATU, ...
    name: str  # Pemerintah Kota Bandung, or the third party's name
    signatory: str
    position: str
    number: str
    region: Region | None = None


def _parties(agreement: Agreement) -> list[Party]:
    rows: list[AgreementParty] = list(agreement.parties.select_related("region__province").order_by("region__code"))
    parties = []
    for row in rows:
        parties.append(Party(
            label="", name=xml_text(_government(row.region)),
            signatory=xml_text(row.signatory_name) or BLANK,
            position=xml_text(row.signatory_position) or f"{_head_title(row.region)} {xml_text(row.region.name)}",
            number=xml_text(row.document_number) or BLANK, region=row.region,
        ))
    for third in agreement.third_parties.all():
        parties.append(Party(label="", name=xml_text(third.name), signatory=BLANK, position=BLANK, number=BLANK))
    for index, party in enumerate(parties):
        party.label = f"PIHAK {_ordinal(index)}"
    return parties


class _Writer:
    def __init__(self):
        self.doc = DocxDocument()
        style = self.doc.styles["Normal"]
        style.font.name = "Arial"
        style.font.size = Pt(11)
        self.article = 0

    def centered(self, text: str, *, bold: bool = True, size: int | None = None) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(xml_text(text))
        run.bold = bold
        if size:
            run.font.size = Pt(size)

    def para(self, text: str) -> None:
        paragraph = self.doc.add_paragraph(xml_text(text))
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    def items(self, texts: list[str]) -> None:
        for number, text in enumerate(texts, start=1):
            self.para(f"({number}) {text}")

    def article_heading(self, title: str) -> None:
        self.article += 1
        self.centered(f"Pasal {self.article}")
        self.centered(title.upper())

    def signatures(self, parties: list[Party]) -> None:
        table = self.doc.add_table(rows=3, cols=len(parties))
        for column, party in enumerate(parties):
            table.cell(0, column).text = xml_text(f"{party.label},")
            table.cell(1, column).text = xml_text(f"{party.position}\n\n\n")
            table.cell(2, column).text = xml_text(party.signatory)

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _object_text(agreement: Agreement, affairs: list) -> str:
    names = "; ".join(f"{a.code} {xml_text(a.name)}" for a in affairs) or BLANK
    return f"{xml_text(agreement.title)}, dalam urusan pemerintahan {names}"


def _term_text(agreement: Agreement) -> str:
    if agreement.starts_on and agreement.ends_on:
        return f"sejak tanggal {_date(agreement.starts_on)} sampai dengan tanggal {_date(agreement.ends_on)}"
    if agreement.starts_on:
        return f"sejak tanggal {_date(agreement.starts_on)} sampai dengan tanggal {BLANK}"
    return f"selama {BLANK} tahun sejak ditandatangani"


def _financing_text(agreement: Agreement) -> str:
    if agreement.value_idr is not None:
        return (f"Pembiayaan kerja sama ini diperkirakan sebesar {_rupiah(agreement.value_idr)}, dibebankan pada "
                "Anggaran Pendapatan dan Belanja Daerah (APBD) masing-masing pihak sesuai dengan kewenangannya "
                "dan/atau sumber lain yang sah dan tidak mengikat sesuai dengan ketentuan peraturan "
                "perundang-undangan.")
    return ("Pembiayaan kerja sama ini dibebankan pada Anggaran Pendapatan dan Belanja Daerah (APBD) masing-masing "
            "pihak sesuai dengan kewenangannya dan/atau sumber lain yang sah dan tidak mengikat sesuai dengan "
            f"ketentuan peraturan perundang-undangan, sebesar {BLANK}.")


def _agreement_body(w: _Writer, agreement: Agreement, parties: list[Party], affairs: list, *, is_pks: bool) -> None:
    kind = "PERJANJIAN KERJA SAMA" if is_pks else "KESEPAKATAN BERSAMA"
    w.centered(kind, size=13)
    w.centered("ANTARA")
    w.centered("\nDAN\n".join(p.name.upper() for p in parties))
    w.centered("TENTANG")
    w.centered(xml_text(agreement.title).upper())
    for party in parties:
        w.centered(f"NOMOR: {party.number}", bold=False)
    if is_pks and agreement.parent_id:
        w.para(f"Sebagai tindak lanjut Kesepakatan Bersama Nomor {xml_text(agreement.parent.number)} "
               f"tentang {xml_text(agreement.parent.title)}.")
    w.para(f"Pada hari ini {BLANK} tanggal {BLANK} bulan {BLANK} tahun {BLANK}, bertempat di {BLANK}, "
           "yang bertanda tangan di bawah ini:")
    for index, party in enumerate(parties, start=1):
        w.para(f"{index}. {party.signatory}, {party.position}, dalam hal ini bertindak untuk dan atas nama "
               f"{party.name}, selanjutnya disebut {party.label}.")
    w.para("Para pihak, dengan berpedoman pada Undang-Undang Nomor 23 Tahun 2014 tentang Pemerintahan Daerah, "
           "Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah dan Peraturan Menteri Dalam Negeri "
           "Nomor 22 Tahun 2020 tentang Tata Cara Kerja Sama Daerah dengan Daerah Lain dan Kerja Sama Daerah dengan "
           f"Pihak Ketiga, sepakat mengadakan {kind.title()} dengan ketentuan sebagai berikut:")

    w.article_heading("Subjek kerja sama")
    w.items([f"{p.label}: {p.name}, diwakili oleh {p.signatory}, {p.position}." for p in parties])
    w.article_heading("Objek kerja sama")
    w.para(f"Objek kerja sama ini adalah {_object_text(agreement, affairs)}.")
    w.article_heading("Ruang lingkup")
    w.para("Ruang lingkup kerja sama ini sebagai berikut:")
    w.para(xml_text(agreement.scope) or BLANK)
    w.article_heading("Hak dan kewajiban")
    for party in parties:
        w.para(f"{party.label} berhak menerima informasi dan hasil pelaksanaan kerja sama sesuai dengan "
               f"kesepakatan, dan berkewajiban melaksanakan bagiannya dalam kerja sama ini: {BLANK}.")
    if is_pks:
        milestones = list(agreement.milestones.select_related("responsible_region").order_by("due_on", "pk"))
        if milestones:
            w.para("Kegiatan pelaksanaan yang disepakati:")
            w.items([
                f"{xml_text(m.title)}, penanggung jawab "
                f"{xml_text(m.responsible_region.name) if m.responsible_region_id else BLANK}, "
                f"paling lambat {_date(m.due_on)}." for m in milestones
            ])
    w.article_heading("Jangka waktu")
    w.para(f"{kind.title()} ini berlaku {_term_text(agreement)}, dan dapat diperpanjang atas kesepakatan para pihak.")
    w.article_heading("Pembiayaan")
    w.para(_financing_text(agreement))
    w.article_heading("Pengakhiran")
    w.items([
        f"{kind.title()} ini berakhir apabila jangka waktunya berakhir, tujuannya telah tercapai, atau para pihak "
        "sepakat mengakhirinya.",
        "Pihak yang bermaksud mengakhiri kerja sama sebelum jangka waktunya berakhir memberitahukan secara tertulis "
        f"kepada pihak lain paling lambat {BLANK} hari sebelumnya.",
        "Pengakhiran tidak mengurangi kewajiban yang belum diselesaikan para pihak.",
    ])
    w.article_heading("Keadaan kahar (force majeure)")
    w.items([
        "Keadaan kahar adalah keadaan di luar kemampuan para pihak, antara lain bencana alam, kebakaran, wabah, huru-"
        "hara, perang, dan kebijakan pemerintah yang berakibat langsung pada pelaksanaan kerja sama.",
        f"Pihak yang mengalami keadaan kahar memberitahukan secara tertulis kepada pihak lain paling lambat {BLANK} "
        "hari sejak terjadinya, dan para pihak membicarakan penyelesaiannya.",
    ])
    w.article_heading("Penyelesaian perselisihan")
    w.items([
        "Perselisihan yang timbul dari pelaksanaan kerja sama ini diselesaikan secara musyawarah untuk mufakat.",
        "Apabila musyawarah tidak mencapai mufakat, perselisihan diselesaikan sesuai dengan ketentuan peraturan "
        "perundang-undangan (untuk kerja sama daerah dengan daerah lain: oleh Gubernur atau Menteri Dalam Negeri "
        "sesuai dengan kewenangannya).",
    ])
    w.article_heading("Penutup")
    w.para(f"{kind.title()} ini dibuat dalam rangkap {len(parties)} asli, masing-masing bermeterai cukup dan "
           "mempunyai kekuatan hukum yang sama, ditandatangani oleh para pihak.")
    w.signatures(parties)


def _offer_letter(w: _Writer, agreement: Agreement, parties: list[Party], affairs: list) -> None:
    sender, partners = parties[0], parties[1:]
    w.centered(sender.name.upper(), size=13)
    w.para(f"Nomor\t: {sender.number}")
    w.para("Sifat\t: Penting")
    w.para("Lampiran\t: 1 (satu) berkas rancangan kerja sama")
    w.para(f"Hal\t: Penawaran Kerja Sama tentang {xml_text(agreement.title)}")
    for partner in partners or [Party("", BLANK, BLANK, BLANK, BLANK)]:
        w.para(f"Yth. {partner.position}")
    w.para(f"di {BLANK}")
    w.para("Dalam rangka meningkatkan kesejahteraan masyarakat dan efektivitas pelayanan publik, serta berpedoman "
           "pada Peraturan Pemerintah Nomor 28 Tahun 2018 tentang Kerja Sama Daerah dan Peraturan Menteri Dalam "
           f"Negeri Nomor 22 Tahun 2020, {sender.name} menawarkan kerja sama dengan rincian sebagai berikut:")
    w.items([
        "Subjek kerja sama: " + "; ".join(f"{p.name}, diwakili oleh {p.signatory}, {p.position}" for p in parties)
        + ".",
        f"Objek kerja sama: {_object_text(agreement, affairs)}.",
        f"Ruang lingkup: {xml_text(agreement.scope) or BLANK}",
        f"Jangka waktu: {_term_text(agreement)}.",
        f"Pembiayaan: {_financing_text(agreement)}",
        "Hak dan kewajiban, pengakhiran, keadaan kahar dan penyelesaian perselisihan diatur dalam rancangan "
        "kesepakatan bersama terlampir.",
    ])
    w.para(f"Kami mengharapkan tanggapan atas penawaran ini paling lambat {BLANK}. Atas perhatian dan kerja sama "
           "yang baik, kami ucapkan terima kasih.")
    w.para(f"{sender.position},")
    w.para("\n\n")
    w.para(sender.signatory)
    copies = ["Menteri Dalam Negeri", "Ketua DPRD " + (sender.region.name if sender.region else BLANK)]
    if sender.region is not None and sender.region.province_id:
        copies.append(f"Gubernur {sender.region.province.name}")
    w.para("Tembusan:")
    w.items(copies)


def build_draft(agreement: Agreement, kind: str) -> bytes:
    """The DOCX bytes of the ``kind`` draft (``offer``, ``kb`` or ``pks``) of ``agreement``."""
    if kind not in KINDS:
        raise ValueError(kind)
    parties = _parties(agreement)
    affairs = list(agreement.affairs.order_by("code"))
    writer = _Writer()
    if kind == OFFER:
        _offer_letter(writer, agreement, parties, affairs)
    else:
        _agreement_body(writer, agreement, parties, affairs, is_pks=(kind == PKS))
    return writer.save()


def filename(agreement: Agreement, kind: str) -> str:
    """"draf-kb-<number>.docx", with only safe characters."""
    stem = re.sub(r"[^A-Za-z0-9.-]+", "-", xml_text(agreement.number)).strip("-.")[:80] or str(agreement.pk)
    return f"draf-{FILE_WORDS[kind]}-{stem}.docx"
