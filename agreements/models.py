"""The domain model: regions, government affairs, agreements, their parties and milestones.

Facts are stored, stages are derived: the lifecycle stage and the stall status are never stored but
computed as of a date in SQL (see ``agreements.stalls``). Structural rules live in database
constraints; rules that span rows live in ``clean()`` and are enforced by the services.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """A province, kabupaten or kota, with its Kemendagri code (``32``, ``32.73``)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Provinsi")
        KABUPATEN = "kabupaten", _("Kabupaten")
        KOTA = "kota", _("Kota")

    code = models.CharField(_("kode"), max_length=8, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    level = models.CharField(_("tingkat"), max_length=10, choices=Level.choices)
    province = models.ForeignKey(
        "self",
        verbose_name=_("provinsi"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"level": "province"},
    )
    is_autonomous = models.BooleanField(
        _("daerah otonom"),
        default=True,
        help_text=_("Wilayah administratif DKI Jakarta bukan daerah otonom dan tidak dapat menandatangani."),
    )

    class Meta:
        verbose_name = _("daerah")
        verbose_name_plural = _("daerah")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="province", province__isnull=True) | (~Q(level="province") & Q(province__isnull=False))),
                name="region_province_only_for_kabupaten_kota",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def province_code(self) -> str:
        return self.code.split(".")[0]

    @property
    def island_group(self) -> str:
        """Sumatra 1–2, Java 3, Bali–Nusa Tenggara 5, Kalimantan 6, Sulawesi 7, Maluku 8, Papua 9."""
        return self.code[0]


class GovernmentAffair(models.Model):
    """An urusan pemerintahan with its Permendagri 90/2019 code (``1.01`` … ``3.32``)."""

    class Group(models.TextChoices):
        BASIC_SERVICE = "wajib_dasar", _("Wajib pelayanan dasar")
        MANDATORY = "wajib_non_dasar", _("Wajib non-pelayanan dasar")
        OPTIONAL = "pilihan", _("Pilihan")

    code = models.CharField(_("kode"), max_length=5, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    group = models.CharField(_("kelompok"), max_length=20, choices=Group.choices)

    class Meta:
        verbose_name = _("urusan pemerintahan")
        verbose_name_plural = _("urusan pemerintahan")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A person who signs in. Officers have the region they work for; see ``agreements.access``."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MINISTRY = "ministry", _("Staf Kemendagri")
        PROVINCE = "province", _("Petugas provinsi")
        LOCAL = "local", _("Petugas kabupaten/kota")

    role = models.CharField(_("peran"), max_length=10, choices=Role.choices, default=Role.LOCAL)
    region = models.ForeignKey(
        Region, verbose_name=_("daerah"), null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    language = models.CharField(
        _("bahasa"), max_length=5, choices=settings.LANGUAGES, default="id",
        help_text=_("Bahasa antarmuka dan surel pengingat."),
    )
    reminders_enabled = models.BooleanField(_("terima surel pengingat"), default=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["admin", "ministry"]) | Q(region__isnull=False),
                name="user_officer_has_region",
            ),
        ]

    def clean(self):
        super().clean()
        if self.role == self.Role.PROVINCE and self.region_id and self.region.level != Region.Level.PROVINCE:
            raise ValidationError({"region": _("Petugas provinsi harus terdaftar pada sebuah provinsi.")})
        if self.role == self.Role.LOCAL and self.region_id and self.region.level == Region.Level.PROVINCE:
            raise ValidationError({"region": _("Petugas kabupaten/kota harus terdaftar pada kabupaten atau kota.")})
        if self.role in (self.Role.PROVINCE, self.Role.LOCAL) and not self.region_id:
            raise ValidationError({"region": _("Petugas daerah harus memiliki daerah.")})


class Stage(models.TextChoices):
    """Lifecycle stages in lifecycle order (lists sort by this order, not alphabetically)."""

    DRAFT = "draft", _("Draf")
    SIGNED = "signed", _("Ditandatangani")
    FOLLOWED_UP = "followed_up", _("Ditindaklanjuti PKS")
    IMPLEMENTING = "implementing", _("Dilaksanakan")
    COMPLETED = "completed", _("Selesai")
    EXPIRED = "expired", _("Berakhir")
    TERMINATED = "terminated", _("Diakhiri")


STAGE_ORDER = {value: index for index, value in enumerate(Stage.values)}


class StallReason(models.TextChoices):
    KB_WITHOUT_PKS = "KB_WITHOUT_PKS", _("KB tanpa PKS")
    PKS_NOT_STARTED = "PKS_NOT_STARTED", _("PKS belum dilaksanakan")
    MILESTONE_OVERDUE = "MILESTONE_OVERDUE", _("Tahapan terlambat")


class StallSettings(models.Model):
    """The stall thresholds, editable by administrators without a redeploy (one row)."""

    kb_follow_up_days = models.PositiveIntegerField(
        _("batas hari KB ke PKS"), default=365, help_text=_("KB_FOLLOW_UP_DAYS: hari sejak KB ditandatangani.")
    )
    implementation_start_days = models.PositiveIntegerField(
        _("batas hari PKS ke pelaksanaan"),
        default=180,
        help_text=_("IMPLEMENTATION_START_DAYS: hari sejak PKS ditandatangani."),
    )
    overdue_grace_days = models.PositiveIntegerField(
        _("tenggang tahapan terlambat (hari)"),
        default=30,
        help_text=_("OVERDUE_GRACE_DAYS: hari setelah tenggat tahapan."),
    )
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    class Meta:
        verbose_name = _("ambang kemacetan")
        verbose_name_plural = _("ambang kemacetan")

    def __str__(self):
        return str(_("Ambang kemacetan"))

    def save(self, *args, **kwargs):
        self.pk = 1  # a single row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "StallSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Agreement(models.Model):
    """A Kesepakatan Bersama (KB) or a Perjanjian Kerja Sama (PKS)."""

    class DocumentType(models.TextChoices):
        KB = "KB", _("Kesepakatan Bersama (KB)")
        PKS = "PKS", _("Perjanjian Kerja Sama (PKS)")

    class Kind(models.TextChoices):
        KSDD_WAJIB = "KSDD-WAJIB", _("KSDD wajib")
        KSDD_SUKARELA = "KSDD-SUKARELA", _("KSDD sukarela")
        KSDPK = "KSDPK", _("KSDPK (dengan pihak ketiga)")
        KSDPL = "KSDPL", _("KSDPL (dengan pemerintah daerah di luar negeri)")
        KSDLL = "KSDLL", _("KSDLL (dengan lembaga di luar negeri)")

    KSDD_KINDS = (Kind.KSDD_WAJIB, Kind.KSDD_SUKARELA)

    number = models.CharField(_("nomor"), max_length=120, unique=True)
    document_type = models.CharField(_("jenis dokumen"), max_length=3, choices=DocumentType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("KB induk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"document_type": "KB"},
    )
    title = models.CharField(_("judul"), max_length=300)
    scope = models.TextField(_("ruang lingkup"), blank=True)
    cooperation_kind = models.CharField(_("bentuk kerja sama"), max_length=15, choices=Kind.choices)
    regions = models.ManyToManyField(
        Region, through="AgreementParty", related_name="agreements", verbose_name=_("daerah pihak")
    )
    affairs = models.ManyToManyField(GovernmentAffair, related_name="agreements", verbose_name=_("urusan"))
    signed_on = models.DateField(_("tanggal ditandatangani"), null=True, blank=True)
    dprd_approved_on = models.DateField(_("tanggal persetujuan DPRD"), null=True, blank=True)
    starts_on = models.DateField(_("tanggal mulai berlaku"), null=True, blank=True)
    ends_on = models.DateField(_("tanggal berakhir"), null=True, blank=True)
    terminated_on = models.DateField(_("tanggal diakhiri"), null=True, blank=True)
    value_idr = models.PositiveBigIntegerField(_("nilai (Rp)"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dibuat oleh"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diperbarui oleh"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    version = models.PositiveIntegerField(_("versi"), default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("perjanjian")
        verbose_name_plural = _("perjanjian")
        ordering = ["-signed_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="agreement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(terminated_on__isnull=True) | Q(signed_on__isnull=True)
                | Q(terminated_on__gte=F("signed_on")),
                name="agreement_terminated_after_signing",
            ),
            models.CheckConstraint(
                condition=Q(document_type="PKS") | Q(parent__isnull=True), name="agreement_only_pks_has_parent"
            ),
        ]
        indexes = [
            models.Index(fields=["document_type", "signed_on"]),
            models.Index(fields=["signed_on"]),
            models.Index(fields=["cooperation_kind"]),
        ]

    def __str__(self):
        return f"{self.number} — {self.title}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("agreement-detail", args=[self.pk])

    def clean(self):
        """Rules on this row and its parent. Party and affair rules are in ``clean_relations``."""
        super().clean()
        errors = {}
        if self.parent_id:
            parent = self.parent
            if self.document_type != self.DocumentType.PKS:
                errors["parent"] = _("Hanya PKS yang dapat memiliki KB induk.")
            elif parent.document_type != self.DocumentType.KB:
                errors["parent"] = _("Induk sebuah PKS harus berupa KB.")
            elif self.signed_on and (parent.signed_on is None or self.signed_on < parent.signed_on):
                errors["signed_on"] = _("PKS tidak dapat ditandatangani sebelum KB induknya.")
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("Tanggal berakhir tidak boleh sebelum tanggal mulai.")
        if self.terminated_on and self.signed_on and self.terminated_on < self.signed_on:
            errors["terminated_on"] = _("Tanggal diakhiri tidak boleh sebelum tanggal penandatanganan.")
        if self.terminated_on and not self.signed_on:
            errors["terminated_on"] = _("Perjanjian yang belum ditandatangani tidak dapat diakhiri.")
        if errors:
            raise ValidationError(errors)

    def clean_relations(self, regions, third_party_names, affairs):
        """Cross-row rules on the parties and affairs about to be saved with this agreement."""
        errors = {}
        regions = list(regions)
        if len({r.pk for r in regions}) != len(regions):
            errors["regions"] = _("Sebuah daerah hanya dapat tercatat sekali sebagai pihak.")
        not_autonomous = [r.name for r in regions if not r.is_autonomous]
        if not_autonomous:
            errors["regions"] = _("Bukan daerah otonom, tidak dapat menjadi pihak: %(names)s") % {
                "names": ", ".join(not_autonomous)
            }
        names = [n for n in third_party_names if n.strip()]
        if self.cooperation_kind in self.KSDD_KINDS:
            if len(regions) < 2:
                errors.setdefault("regions", _("Kerja sama antardaerah (KSDD) memerlukan sedikitnya dua daerah."))
        else:
            if len(regions) < 1:
                errors.setdefault("regions", _("Diperlukan sedikitnya satu daerah sebagai pihak."))
            if len(names) < 1:
                errors["third_parties"] = _("Bentuk kerja sama ini memerlukan sedikitnya satu pihak ketiga.")
        if len(list(affairs)) < 1:
            errors["affairs"] = _("Pilih sedikitnya satu urusan pemerintahan.")
        if errors:
            raise ValidationError(errors)


class AgreementParty(models.Model):
    """A region as party: each signatory registers the same agreement under its own number."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    region = models.ForeignKey(Region, verbose_name=_("daerah"), on_delete=models.PROTECT, related_name="parties")
    document_number = models.CharField(_("nomor dokumen pihak"), max_length=120, blank=True)
    signatory_name = models.CharField(_("nama penandatangan"), max_length=150, blank=True)
    signatory_position = models.CharField(_("jabatan penandatangan"), max_length=150, blank=True)
    agency = models.CharField(_("perangkat daerah penanggung jawab"), max_length=200, blank=True)
    contact_person = models.CharField(_("narahubung"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pihak daerah")
        verbose_name_plural = _("pihak daerah")
        ordering = ["region__code"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "region"], name="party_unique_region_per_agreement"),
        ]

    def __str__(self):
        return str(self.region)


class ThirdParty(models.Model):
    """A non-regional party (business, university, NGO, foreign government or institution)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="third_parties")
    name = models.CharField(_("nama pihak ketiga"), max_length=250)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pihak ketiga")
        verbose_name_plural = _("pihak ketiga")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "name"], name="third_party_unique_name_per_agreement"),
        ]

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """A concrete step of implementation, with the status regional officers keep up to date."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Dijadwalkan")
        IN_PROGRESS = "in_progress", _("Berjalan")
        MET = "met", _("Tercapai")
        PARTIALLY_MET = "partially_met", _("Tercapai sebagian")
        NOT_MET = "not_met", _("Tidak tercapai")
        CANCELLED = "cancelled", _("Dibatalkan")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("perjanjian"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("judul"), max_length=250)
    description = models.TextField(_("uraian"), blank=True)
    responsible_region = models.ForeignKey(
        Region, verbose_name=_("daerah penanggung jawab"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="milestones",
    )
    due_on = models.DateField(_("tenggat"), null=True, blank=True)
    started_on = models.DateField(_("tanggal mulai"), null=True, blank=True)
    completed_on = models.DateField(_("tanggal selesai"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.SCHEDULED)
    progress = models.PositiveSmallIntegerField(
        _("kemajuan (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)
    version = models.PositiveIntegerField(_("versi"), default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("tahapan")
        verbose_name_plural = _("tahapan")
        ordering = ["due_on", "title"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "title"], name="milestone_unique_title_per_agreement"),
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=100), name="milestone_progress_0_100"),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(started_on__isnull=True)
                | Q(completed_on__gte=F("started_on")),
                name="milestone_completed_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="met") | Q(completed_on__isnull=False), name="milestone_met_has_completed_on"
            ),
            models.CheckConstraint(
                condition=~Q(status="in_progress") | Q(started_on__isnull=False),
                name="milestone_in_progress_has_started_on",
            ),
        ]
        indexes = [
            models.Index(fields=["agreement", "status", "due_on"]),
            models.Index(fields=["agreement", "started_on"]),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        errors = {}
        if self.status == self.Status.MET and not self.completed_on:
            errors["completed_on"] = _("Tahapan yang tercapai memerlukan tanggal selesai.")
        if self.status == self.Status.IN_PROGRESS and not self.started_on:
            errors["started_on"] = _("Tahapan yang berjalan memerlukan tanggal mulai.")
        if self.completed_on and self.started_on and self.completed_on < self.started_on:
            errors["completed_on"] = _("Tanggal selesai tidak boleh sebelum tanggal mulai.")
        if self.responsible_region_id and self.agreement_id:
            if not self.agreement.parties.filter(region_id=self.responsible_region_id).exists():
                errors["responsible_region"] = _("Daerah penanggung jawab harus salah satu pihak perjanjian.")
        if errors:
            raise ValidationError(errors)


class MilestoneUpdate(models.Model):
    """The log regional officers write: one row per status update of a milestone."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="updates")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("oleh"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="milestone_updates",
    )
    created_at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)
    status_before = models.CharField(_("status sebelum"), max_length=15, choices=Milestone.Status.choices, blank=True)
    status_after = models.CharField(_("status sesudah"), max_length=15, choices=Milestone.Status.choices)
    progress = models.PositiveSmallIntegerField(
        _("kemajuan (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(_("catatan"), blank=True)

    class Meta:
        verbose_name = _("pembaruan tahapan")
        verbose_name_plural = _("pembaruan tahapan")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=100), name="update_progress_0_100"),
        ]

    def __str__(self):
        return f"{self.milestone}: {self.status_before or '—'} → {self.status_after}"


def document_upload_to(instance, filename):
    """Generated names only: the user's file name is kept in ``original_name``, never on disk."""
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"documents/{uuid.uuid4().hex}{suffix}"


class Document(models.Model):
    """An uploaded scan (KB, PKS, addendum) or a milestone's evidence. Served only via an access check."""

    class Type(models.TextChoices):
        KB_SCAN = "kb", _("Naskah KB")
        PKS_SCAN = "pks", _("Naskah PKS")
        ADDENDUM = "addendum", _("Adendum")
        EVIDENCE = "evidence", _("Bukti pelaksanaan")
        OTHER = "other", _("Lainnya")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("perjanjian"), on_delete=models.CASCADE, related_name="documents"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("tahapan"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="evidence",
    )
    doc_type = models.CharField(_("jenis"), max_length=10, choices=Type.choices, default=Type.OTHER)
    dated_on = models.DateField(_("tanggal dokumen"), null=True, blank=True)
    file = models.FileField(_("berkas"), upload_to=document_upload_to)
    original_name = models.CharField(_("nama berkas asli"), max_length=200, blank=True)
    content_type = models.CharField(_("tipe isi"), max_length=60, blank=True)
    size = models.PositiveIntegerField(_("ukuran (bita)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diunggah oleh"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    uploaded_at = models.DateTimeField(_("diunggah"), auto_now_add=True)

    class Meta:
        verbose_name = _("dokumen")
        verbose_name_plural = _("dokumen")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.original_name or self.file.name

    def clean(self):
        super().clean()
        if self.milestone_id and self.agreement_id and self.milestone.agreement_id != self.agreement_id:
            raise ValidationError({"milestone": _("Tahapan ini bukan milik perjanjian tersebut.")})
