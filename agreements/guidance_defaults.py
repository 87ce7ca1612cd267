"""The default guidance pages: one per phase of the procedure and one per cooperation kind, in Indonesian and
English, installed by ``manage.py install_guidance`` (production) and by ``seed_demo``.

Installing never overwrites a page an administrator has changed: a page whose slug exists is left as it is (unless
``overwrite``). A phase page's ``step_code`` is the phase itself (``agreements.guidance.guidance_url_for_step``
falls back to it for every step of that phase). The texts say what the regulations say and no more: where no
source fixes a rule (the exact order of the steps of Permendagri 22/2020, reporting periods, maximum terms), the
page says so.
"""

from django.db import transaction

from .guidance import forget_step_urls
from .models import Agreement, GuidancePage, StepPhase

_LEGAL_ID = ("Dasar hukum: UU 23/2014 tentang Pemerintahan Daerah (pasal 363–369), PP 28/2018 tentang Kerja Sama "
             "Daerah, Permendagri 22/2020 tentang Tata Cara Kerja Sama Daerah dengan Daerah Lain dan Kerja Sama "
             "Daerah dengan Pihak Ketiga.")
_LEGAL_EN = ("Legal basis: Law 23/2014 on regional government (articles 363–369), Government Regulation 28/2018 on "
             "regional cooperation, Minister of Home Affairs Regulation 22/2020 on the procedures of cooperation "
             "with other regions and with third parties.")

PAGES = [
    {
        "slug": "persiapan", "step_code": StepPhase.PREPARATION, "cooperation_kind": "",
        "title_id": "Tahapan persiapan kerja sama", "title_en": "Preparing a cooperation",
        "body_id": """Persiapan dilakukan oleh perangkat daerah yang membidangi kerja sama bersama Tim Koordinasi
Kerja Sama Daerah (TKKSD).

1. Pastikan daerah telah membentuk **TKKSD** dengan keputusan kepala daerah, dan catat keputusannya di halaman
   daerah.
2. Identifikasi dan petakan urusan yang akan dikerjasamakan dari RPJMD dan RKPD (kebutuhan dan potensi daerah).
3. Susun rencana kerja sama: objek, ruang lingkup, manfaat dan biaya yang terukur, serta calon mitra.
4. Untuk kerja sama wajib, pastikan pasangan daerahnya sesuai (daerah yang berbatasan, atau layanan yang lebih
   efisien bila dikerjakan bersama).

""" + _LEGAL_ID,
        "body_en": """Preparation is done by the regional agency in charge of cooperation with the regional cooperation
coordination team (TKKSD).

1. Make sure the region has formed its **TKKSD** by the regional head's decree, and record the decree on the
   region's page.
2. Identify and map the affairs to cooperate on from the RPJMD and RKPD (the region's needs and offers).
3. Draw up the cooperation plan: object, scope, measurable benefits and costs, and possible partners.
4. For mandatory cooperation, check that the pair of regions qualifies (bordering regions, or services run more
   efficiently together).

""" + _LEGAL_EN,
    },
    {
        "slug": "penawaran", "step_code": StepPhase.OFFER, "cooperation_kind": "",
        "title_id": "Penawaran kerja sama", "title_en": "The offer of cooperation",
        "body_id": """Kepala daerah yang berprakarsa menyampaikan **surat penawaran** kepada calon mitra, dengan
lampiran rancangan kerja sama (objek, ruang lingkup, jangka waktu, pembiayaan).

- Tembusan disampaikan kepada Menteri Dalam Negeri dan DPRD; untuk kabupaten/kota juga kepada gubernur.
- Draf surat penawaran dapat diunduh dari halaman kerja sama ("Unduh draf").
- Mitra menjawab secara tertulis; bila menerima, para pihak menyusun rancangan KB bersama.

""" + _LEGAL_ID,
        "body_en": """The regional head who takes the initiative sends an **offer letter** to the partner, with the
draft cooperation attached (object, scope, term, financing).

- Copies go to the Minister of Home Affairs and the DPRD; for a kabupaten/kota also to the governor.
- A draft offer letter can be downloaded from the agreement's page ("Download draft").
- The partner answers in writing; when it accepts, the parties draft the KB together.

""" + _LEGAL_EN,
    },
    {
        "slug": "kesepakatan-bersama", "step_code": StepPhase.KB, "cooperation_kind": "",
        "title_id": "Kesepakatan Bersama (KB)", "title_en": "The joint agreement (KB)",
        "body_id": """KB ditandatangani oleh kepala daerah para pihak dan memuat kehendak bersama. Naskahnya
paling sedikit memuat:

| bagian | isi |
| --- | --- |
| subjek | para pihak dan penanda tangannya |
| objek | urusan yang dikerjasamakan |
| ruang lingkup | kegiatan yang dicakup |
| hak dan kewajiban | bagian masing-masing pihak |
| jangka waktu | tanggal mulai dan berakhir |
| pengakhiran | kapan dan bagaimana kerja sama diakhiri |
| keadaan kahar | keadaan di luar kemampuan para pihak |
| penyelesaian perselisihan | musyawarah, lalu sesuai peraturan |
| pembiayaan | sumber dan besaran biaya |

Setelah KB ditandatangani, catat tanggal penandatanganan setiap pihak. KB yang belum ditindaklanjuti dengan PKS
dalam waktu yang ditetapkan dihitung **terhenti**.

""" + _LEGAL_ID,
        "body_en": """A KB is signed by the regional heads of the parties and states their common intent. It holds at
least:

| section | content |
| --- | --- |
| subjects | the parties and their signatories |
| object | the affairs cooperated on |
| scope | the activities covered |
| rights and obligations | each party's share |
| term | start and end dates |
| termination | when and how the cooperation ends |
| force majeure | events beyond the parties' control |
| dispute settlement | deliberation, then as the regulations say |
| financing | source and amount |

Once the KB is signed, record each party's signing date. A KB not followed by a PKS within the set time counts
as **stalled**.

""" + _LEGAL_EN,
    },
    {
        "slug": "persetujuan-dprd", "step_code": StepPhase.DPRD, "cooperation_kind": "",
        "title_id": "Persetujuan DPRD", "title_en": "DPRD approval",
        "body_id": """Kerja sama yang **membebani masyarakat dan daerah** dan/atau **belum dianggarkan dalam APBD**
tahun berjalan memerlukan persetujuan DPRD (UU 23/2014 pasal 363 ayat (3)).

- Setiap pihak meminta persetujuan DPRD-nya sendiri.
- Catat nomor dan tanggal keputusan DPRD pada pihak yang bersangkutan.
- Kerja sama yang tidak memerlukan persetujuan DPRD ditandai "tidak memerlukan".

""" + _LEGAL_ID,
        "body_en": """Cooperation that **burdens the public and the region** and/or **is not budgeted in the current
APBD** needs the DPRD's approval (Law 23/2014 article 363(3)).

- Each party asks its own DPRD.
- Record the number and date of the DPRD's decision on that party.
- Cooperation that needs no approval is marked "not required".

""" + _LEGAL_EN,
    },
    {
        "slug": "perjanjian-kerja-sama", "step_code": StepPhase.PKS, "cooperation_kind": "",
        "title_id": "Perjanjian Kerja Sama (PKS)", "title_en": "The cooperation agreement (PKS)",
        "body_id": """PKS menjabarkan KB menjadi kewajiban yang konkret: siapa melakukan apa, kapan, dengan biaya
berapa. PKS ditandatangani kepala daerah atau kepala perangkat daerah yang diberi kuasa.

1. Susun PKS di bawah KB-nya (buat PKS dari halaman KB).
2. Cantumkan kegiatan pelaksanaan dengan tenggat dan penanggung jawabnya.
3. Muat bagian yang sama dengan KB (subjek, objek, ruang lingkup, hak dan kewajiban, jangka waktu, pengakhiran,
   keadaan kahar, penyelesaian perselisihan, pembiayaan) secara lebih rinci.

""" + _LEGAL_ID,
        "body_en": """A PKS turns the KB into concrete obligations: who does what, when, at what cost. It is signed by
the regional heads or by the heads of the regional agencies they empower.

1. Draft the PKS under its KB (create the PKS from the KB's page).
2. List the implementation milestones with their due dates and responsible regions.
3. Hold the same sections as the KB (subjects, object, scope, rights and obligations, term, termination, force
   majeure, dispute settlement, financing) in more detail.

""" + _LEGAL_EN,
    },
    {
        "slug": "pelaksanaan", "step_code": StepPhase.IMPLEMENTATION, "cooperation_kind": "",
        "title_id": "Pelaksanaan kerja sama", "title_en": "Carrying out the cooperation",
        "body_id": """Para pihak melaksanakan kegiatan yang disepakati dalam PKS dan mencatat perkembangannya:

- perbarui status dan capaian (%) setiap kegiatan, dengan bukti (foto, berita acara, laporan);
- catat kendala yang dihadapi agar provinsi dan Kementerian dapat memfasilitasi;
- PKS yang belum satu pun kegiatannya dimulai dalam waktu yang ditetapkan dihitung **terhenti**.

""" + _LEGAL_ID,
        "body_en": """The parties carry out the milestones agreed in the PKS and record their progress:

- update each milestone's status and progress (%), with evidence (photos, minutes, reports);
- record the obstacles met so that the province and the ministry can help;
- a PKS none of whose milestones has started within the set time counts as **stalled**.

""" + _LEGAL_EN,
    },
    {
        "slug": "pelaporan", "step_code": StepPhase.REPORTING, "cooperation_kind": "",
        "title_id": "Pelaporan", "title_en": "Reporting",
        "body_id": """Pelaporan berjenjang: kabupaten/kota kepada gubernur sebagai wakil Pemerintah Pusat, dan
gubernur kepada Menteri Dalam Negeri.

Periode pelaporan dan pasal yang mengaturnya belum dapat kami pastikan dari sumber yang tersedia; ikuti surat
edaran Kementerian yang berlaku.

""" + _LEGAL_ID,
        "body_en": """Reporting goes up: a kabupaten/kota reports to the governor as the central government's
representative, and the governor to the Minister of Home Affairs.

The reporting period and the article that sets it could not be confirmed from the sources available; follow the
ministry's circular in force.

""" + _LEGAL_EN,
    },
    {
        "slug": "evaluasi", "step_code": StepPhase.EVALUATION, "cooperation_kind": "",
        "title_id": "Pemantauan dan evaluasi", "title_en": "Monitoring and evaluation",
        "body_id": """Pemantauan dan evaluasi (monev) menilai apakah kerja sama mencapai tujuannya, dan apakah
dilanjutkan, diubah (adendum) atau diakhiri (UU 23/2014 pasal 368).

- Bandingkan capaian kegiatan dengan rencana dalam PKS.
- Catat hasil monev dan keputusan para pihak.

""" + _LEGAL_ID,
        "body_en": """Monitoring and evaluation (monev) assesses whether the cooperation reaches its aims, and
whether it goes on, is amended (addendum) or ends (Law 23/2014 article 368).

- Compare the milestones achieved with the PKS's plan.
- Record the evaluation's findings and the parties' decision.

""" + _LEGAL_EN,
    },
    {
        "slug": "ksdd-wajib", "step_code": "", "cooperation_kind": Agreement.Kind.KSDD_WAJIB,
        "title_id": "Kerja sama daerah dengan daerah lain yang wajib",
        "title_en": "Mandatory cooperation with another region",
        "body_id": """Kerja sama **wajib** dilakukan oleh daerah yang **berbatasan** untuk urusan yang memiliki
eksternalitas lintas daerah, atau yang penyediaan layanannya lebih efisien bila dikelola bersama (PP 28/2018
pasal 3). Pasangannya: kabupaten/kota dengan kabupaten/kota dalam satu provinsi atau lintas provinsi, provinsi
dengan provinsi, kabupaten/kota dengan provinsinya (Permendagri 22/2020 pasal 3).

Pemetaan urusan yang dapat dikerjasamakan menjadi dasarnya (PP 28/2018 pasal 5 ayat (1)).""",
        "body_en": """**Mandatory** cooperation is done by **bordering** regions on affairs with cross-border
externalities, or whose services are run more efficiently together (Government Regulation 28/2018 article 3). The
pairs: kabupaten/kota with kabupaten/kota in one province or across provinces, province with province, a
kabupaten/kota with its province (Minister of Home Affairs Regulation 22/2020 article 3).

The mapping of the affairs that can be cooperated on is its basis (Government Regulation 28/2018 article 5(1)).""",
    },
    {
        "slug": "ksdd-sukarela", "step_code": "", "cooperation_kind": Agreement.Kind.KSDD_SUKARELA,
        "title_id": "Kerja sama daerah dengan daerah lain yang sukarela",
        "title_en": "Voluntary cooperation with another region",
        "body_id": """Kerja sama **sukarela** dilakukan oleh daerah yang tidak berbatasan, atau yang berbatasan
untuk urusan tanpa eksternalitas lintas daerah, bila para pihak menilai kerja sama lebih bermanfaat (PP 28/2018).
Tahapannya sama dengan kerja sama wajib: persiapan, penawaran, KB, persetujuan DPRD bila perlu, PKS, pelaksanaan,
pelaporan dan evaluasi.""",
        "body_en": """**Voluntary** cooperation is done by regions that do not border each other, or that do on affairs
without cross-border externalities, when the parties judge it worthwhile (Government Regulation 28/2018). The
steps are those of mandatory cooperation: preparation, offer, KB, DPRD approval when needed, PKS, implementation,
reporting and evaluation.""",
    },
    {
        "slug": "ksdpk", "step_code": "", "cooperation_kind": Agreement.Kind.KSDPK,
        "title_id": "Kerja sama daerah dengan pihak ketiga", "title_en": "Cooperation with a third party",
        "body_id": """Kerja sama dengan **pihak ketiga** (badan usaha, perguruan tinggi, organisasi kemasyarakatan)
mengikuti Permendagri 22/2020. Daerah menyiapkan kajian manfaat dan biaya, memilih mitra secara terbuka sesuai
ketentuan, dan mencantumkan pihak ketiga sebagai pihak dalam KB dan PKS.""",
        "body_en": """Cooperation with a **third party** (a business, a university, a civil society organisation)
follows Minister of Home Affairs Regulation 22/2020. The region prepares a cost–benefit study, chooses the partner
openly as the rules require, and names the third party as a party of the KB and the PKS.""",
    },
    {
        "slug": "ksdpl", "step_code": "", "cooperation_kind": Agreement.Kind.KSDPL,
        "title_id": "Kerja sama daerah dengan pemerintah daerah di luar negeri",
        "title_en": "Cooperation with a regional government abroad",
        "body_id": """Kerja sama dengan pemerintah daerah di luar negeri mengikuti Permendagri 25/2020, dengan
koordinasi Kementerian Dalam Negeri dan Kementerian Luar Negeri. Aplikasi ini mencatatnya dengan isian dan tahapan
yang sama.""",
        "body_en": """Cooperation with a regional government abroad follows Minister of Home Affairs Regulation
25/2020, coordinated with the Ministry of Home Affairs and the Ministry of Foreign Affairs. The application records
it with the same fields and steps.""",
    },
    {
        "slug": "ksdll", "step_code": "", "cooperation_kind": Agreement.Kind.KSDLL,
        "title_id": "Kerja sama daerah dengan lembaga di luar negeri",
        "title_en": "Cooperation with an institution abroad",
        "body_id": """Kerja sama dengan lembaga di luar negeri mengikuti Permendagri 25/2020, dengan koordinasi
Kementerian Dalam Negeri dan Kementerian Luar Negeri. Aplikasi ini mencatatnya dengan isian dan tahapan yang
sama.""",
        "body_en": """Cooperation with an institution abroad follows Minister of Home Affairs Regulation 25/2020,
coordinated with the Ministry of Home Affairs and the Ministry of Foreign Affairs. The application records it with
the same fields and steps.""",
    },
]


@transaction.atomic
def install(*, overwrite: bool = False) -> tuple[int, int]:
    """Create the default pages that are missing (and, with ``overwrite``, reset those that exist). Returns
    (created, updated)."""
    created = updated = 0
    existing = {p.slug: p for p in GuidancePage.objects.filter(slug__in=[d["slug"] for d in PAGES])}
    for data in PAGES:
        page = existing.get(data["slug"])
        if page is None:
            GuidancePage.objects.create(**{k: str(v) for k, v in data.items()})
            created += 1
        elif overwrite:
            for key, value in data.items():
                setattr(page, key, str(value))
            page.save()
            updated += 1
    forget_step_urls()
    return created, updated
