"""The domain model: regions, government affairs, agreements, their parties and milestones.

Facts are stored, stages are derived: the lifecycle stage and the stall status are never stored but
computed as of a date in SQL (see ``agreements.stalls``). Structural rules live in database
constraints; rules that span rows live in ``clean()`` and are enforced by the services.
"""

import datetime
import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """A province, kabupaten or kota, with its Kemendagri code (``32``, ``32.73``)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        KABUPATEN = "kabupaten", _("Kabupaten")
        KOTA = "kota", _("Kota")

    code = models.CharField(
        _("code"), max_length=8, unique=True,
        error_messages={"unique": _("A region with this code already exists.")},
    )
    name = models.CharField(_("name"), max_length=120)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    province = models.ForeignKey(
        "self",
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"level": "province"},
    )
    is_autonomous = models.BooleanField(
        _("autonomous region"),
        default=True,
        help_text=_("The administrative areas of DKI Jakarta are not autonomous regions and cannot sign."),
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
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


class GovernmentAffair(models.Model):
    """An urusan pemerintahan with its Permendagri 90/2019 code (``1.01`` … ``3.32``)."""

    class Group(models.TextChoices):
        BASIC_SERVICE = "wajib_dasar", _("Mandatory, basic services")
        MANDATORY = "wajib_non_dasar", _("Mandatory, non-basic services")
        OPTIONAL = "pilihan", _("Optional (pilihan)")

    code = models.CharField(
        _("code"), max_length=5, unique=True,
        error_messages={"unique": _("A government affair with this code already exists.")},
    )
    name = models.CharField(_("name"), max_length=120)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices)

    class Meta:
        verbose_name = _("government affair")
        verbose_name_plural = _("government affairs")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def can_be_deleted(self) -> bool:
        """An affair some agreement is about cannot be deleted (the many-to-many link would cascade silently)."""
        return not self.agreements.exists()


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # A superuser is an administrator: officers need a region, administrators don't.
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. Officers have the region they work for; see ``agreements.access``."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MINISTRY = "ministry", _("Ministry staff")
        PROVINCE = "province", _("Provincial officer")
        LOCAL = "local", _("Kabupaten/kota officer")

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.LOCAL)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="officers"
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="id",
        help_text=_("Language of the interface and of reminder e-mails."),
    )
    objects = UserManager()

    reminders_enabled = models.BooleanField(_("receive reminder e-mails"), default=True)
    # Every change to an account is recorded (who, when, before/after); never the password hash, nor
    # last_login, which changes at every sign-in and says nothing about who changed the account.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    # A save that touches only these fields writes no history row (a sign-in updates last_login).
    UNAUDITED_FIELDS = frozenset({"last_login"})

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["admin", "ministry"]) | Q(region__isnull=False),
                name="user_officer_has_region",
            ),
        ]

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) <= self.UNAUDITED_FIELDS:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)

    @property
    def is_administrator(self) -> bool:
        """An administrator: the role, or Django's superuser flag."""
        return self.is_superuser or self.role == self.Role.ADMIN

    def clean(self):
        super().clean()
        if self.role == self.Role.PROVINCE and self.region_id and self.region.level != Region.Level.PROVINCE:
            raise ValidationError({"region": _("A provincial officer must belong to a province.")})
        if self.role == self.Role.LOCAL and self.region_id and self.region.level == Region.Level.PROVINCE:
            raise ValidationError({"region": _("A kabupaten/kota officer must belong to a kabupaten or kota.")})
        if self.role in (self.Role.PROVINCE, self.Role.LOCAL) and not self.region_id:
            raise ValidationError({"region": _("A regional officer must have a region.")})


class Stage(models.TextChoices):
    """Lifecycle stages in lifecycle order (lists sort by this order, not alphabetically)."""

    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    FOLLOWED_UP = "followed_up", _("Followed up by a PKS")
    IMPLEMENTING = "implementing", _("Implementing")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


STAGE_ORDER = {value: index for index, value in enumerate(Stage.values)}


class StallReason(models.TextChoices):
    KB_WITHOUT_PKS = "KB_WITHOUT_PKS", _("KB without PKS")
    PKS_NOT_STARTED = "PKS_NOT_STARTED", _("PKS not started")
    MILESTONE_OVERDUE = "MILESTONE_OVERDUE", _("Milestone overdue")


# A hundred years: a larger threshold means nothing, and dates computed from it would overflow.
MAX_THRESHOLD_DAYS = 36500


class SingleRow(models.Model):
    """Settings kept in one row (pk 1), edited by administrators without a redeploy: ``current()`` reads it,
    creating it with the defaults the first time."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1  # a single row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls):
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class StallSettings(SingleRow):
    """The stall thresholds, editable by administrators without a redeploy (one row)."""

    kb_follow_up_days = models.PositiveIntegerField(
        _("days from KB to PKS"), default=365, validators=[MaxValueValidator(MAX_THRESHOLD_DAYS)],
        help_text=_("Days after the KB was signed: a KB without a signed PKS by then is stalled."),
    )
    implementation_start_days = models.PositiveIntegerField(
        _("days from PKS to implementation"),
        default=180,
        validators=[MaxValueValidator(MAX_THRESHOLD_DAYS)],
        help_text=_("Days after the PKS was signed: a PKS with no milestone started by then is stalled."),
    )
    overdue_grace_days = models.PositiveIntegerField(
        _("grace for overdue milestones (days)"),
        default=30,
        validators=[MaxValueValidator(MAX_THRESHOLD_DAYS)],
        help_text=_("Days after a milestone's due date: a milestone not met by then is overdue."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The day and thresholds the agreements' stored ``status_*`` columns hold for (``stalls.refresh_status``);
    # written by that refresh only, never by the form.
    status_date = models.DateField(null=True, blank=True, editable=False)
    status_thresholds = models.CharField(max_length=40, blank=True, default="", editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "status_date", "status_thresholds"])

    class Meta:
        verbose_name = _("stall thresholds")
        verbose_name_plural = _("stall thresholds")

    def __str__(self):
        return str(_("Stall thresholds"))


class Recorded(models.Model):
    """When and by whom a record was created and last changed (the audit history keeps the rest)."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        abstract = True


class TerminationReason(models.TextChoices):
    """Why an agreement ended before its term: the grounds for ending a cooperation in PP 28/2018."""

    AGREED = "agreed", _("Agreed by the parties")
    ACHIEVED = "achieved", _("Objectives achieved early")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")
    BREACH = "breach", _("A party did not fulfil its obligations")
    REPLACED = "replaced", _("Replaced by another agreement")
    LAW_CHANGE = "law_change", _("Change of law or policy")
    OBJECT_LOST = "object_lost", _("The object of the cooperation no longer exists")
    NATIONAL_INTEREST = "national_interest", _("Harmful to the national interest")
    OTHER = "other", _("Other")


class Agreement(Recorded):
    """A Kesepakatan Bersama (KB) or a Perjanjian Kerja Sama (PKS)."""

    class DocumentType(models.TextChoices):
        KB = "KB", _("Joint agreement (KB)")
        PKS = "PKS", _("Cooperation agreement (PKS)")

    class Kind(models.TextChoices):
        KSDD_WAJIB = "KSDD-WAJIB", _("KSDD mandatory")
        KSDD_SUKARELA = "KSDD-SUKARELA", _("KSDD voluntary")
        KSDPK = "KSDPK", _("KSDPK (with a third party)")
        KSDPL = "KSDPL", _("KSDPL (with a regional government abroad)")
        KSDLL = "KSDLL", _("KSDLL (with an institution abroad)")

    KSDD_KINDS = (Kind.KSDD_WAJIB, Kind.KSDD_SUKARELA)

    number = models.CharField(
        _("number"), max_length=120, unique=True,
        error_messages={"unique": _("An agreement with this number already exists.")},
    )
    document_type = models.CharField(_("document type"), max_length=3, choices=DocumentType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent KB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"document_type": "KB"},
    )
    title = models.CharField(_("title"), max_length=300)
    scope = models.TextField(_("scope"), blank=True)
    cooperation_kind = models.CharField(_("cooperation kind"), max_length=15, choices=Kind.choices)
    regions = models.ManyToManyField(
        Region, through="AgreementParty", related_name="agreements", verbose_name=_("party regions")
    )
    affairs = models.ManyToManyField(GovernmentAffair, related_name="agreements", verbose_name=_("affairs"))
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    dprd_approved_on = models.DateField(_("DPRD approval date"), null=True, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    terminated_on = models.DateField(_("termination date"), null=True, blank=True)
    termination_reason = models.CharField(
        _("termination reason"), max_length=20, choices=TerminationReason.choices, blank=True,
        help_text=_("Why the agreement ended before its end date (PP 28/2018)."),
    )
    renews = models.ForeignKey(
        "self", verbose_name=_("renews"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="renewals",
        help_text=_("The earlier agreement this one renews (its successor)."),
    )
    value_idr = models.PositiveBigIntegerField(_("value (Rp)"), null=True, blank=True)
    published_at = models.DateTimeField(
        _("published"), null=True, blank=True, db_index=True,
        help_text=_("When ministry staff published it on the public page and in the open data; empty: not published."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Facts about this agreement's milestones and PKSs, kept by ``stalls.refresh_facts`` after every
    # write (signals, and the bulk paths call it). They hold for every as-of date, so the stage and
    # stall rules in ``stalls.with_status`` read columns instead of re-scanning milestones per row.
    first_pks_signed_on = models.DateField(_("first PKS signed on"), null=True, blank=True, editable=False)
    first_started_on = models.DateField(_("first milestone started on"), null=True, blank=True, editable=False)
    live_milestones = models.PositiveIntegerField(
        _("milestones not cancelled"), default=0, db_default=0, editable=False
    )
    open_milestones = models.PositiveIntegerField(
        _("milestones not cancelled and not met"), default=0, db_default=0, editable=False
    )
    last_met_on = models.DateField(_("last milestone met on"), null=True, blank=True, editable=False)
    first_open_due_on = models.DateField(_("earliest due date not met"), null=True, blank=True, editable=False)
    # Today's stage and stall flags, as ``stalls.with_status`` computes them for the day the thresholds row says
    # (``StallSettings.status_date``) with the thresholds in force: kept by ``stalls.refresh_facts`` after every write
    # that feeds them and refreshed for every agreement when the date changes in Jakarta or the thresholds change.
    # ``with_status`` reads them only when they hold for the date asked, else computes the same rules in SQL.
    status_stage = models.CharField(max_length=20, default="draft", db_default="draft",
                                    editable=False)
    status_stage_order = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    status_has_signed_pks = models.BooleanField(default=False, db_default=False, editable=False)
    status_has_started_milestone = models.BooleanField(default=False, db_default=False, editable=False)
    status_overdue_since = models.DateField(null=True, blank=True, editable=False)
    status_ends_on_in_force = models.DateField(null=True, blank=True, editable=False)
    status_stall_kb_without_pks = models.BooleanField(default=False, db_default=False, editable=False)
    status_stall_pks_not_started = models.BooleanField(default=False, db_default=False, editable=False)
    status_stall_milestone_overdue = models.BooleanField(default=False, db_default=False, editable=False)
    status_is_stalled = models.BooleanField(default=False, db_default=False, editable=False)
    status_stalled_since = models.DateField(null=True, blank=True, editable=False)
    status_is_lapsed = models.BooleanField(default=False, db_default=False, editable=False)
    history = HistoricalRecords(excluded_fields=[
        "updated_at", "version", "first_pks_signed_on", "first_started_on", "live_milestones", "open_milestones",
        "last_met_on", "first_open_due_on", "status_stage", "status_stage_order", "status_has_signed_pks",
        "status_has_started_milestone", "status_overdue_since", "status_ends_on_in_force",
        "status_stall_kb_without_pks", "status_stall_pks_not_started", "status_stall_milestone_overdue",
        "status_is_stalled", "status_stalled_since", "status_is_lapsed",
    ])

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
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

    def can_be_deleted(self) -> bool:
        """Deleting is for mistakes only: an agreement with milestones or documents is terminated, never deleted.

        The app has no delete view for agreements; the admin's ``has_delete_permission`` asks this.
        """
        return not (self.milestones.exists() or self.documents.exists())

    def clean(self):
        """Rules on this row and its parent. Party and affair rules are in ``clean_relations``."""
        super().clean()
        errors = {}
        if self.parent_id:
            parent = self.parent
            errors.update(self.parent_errors(parent.document_type, parent.signed_on))
        if self.pk:
            errors.update(self.children_errors(
                list(Agreement.objects.filter(parent_id=self.pk).values_list("signed_on", flat=True))
            ))
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The end date cannot be before the start date.")
        if self.terminated_on and self.signed_on and self.terminated_on < self.signed_on:
            errors["terminated_on"] = _("The termination date cannot be before the signing date.")
        if self.terminated_on and not self.signed_on:
            errors["terminated_on"] = _("An agreement that is not signed cannot be terminated.")
        if errors:
            raise ValidationError(errors)

    def parent_errors(self, parent_document_type: str, parent_signed_on) -> dict:
        """The rules between a PKS and its parent KB, from the parent's values as given.

        One function for every door: ``clean`` passes the stored parent, the importer the parent's values
        after the file (which may re-sign the KB in the same import).
        """
        if self.document_type != self.DocumentType.PKS:
            return {"parent": _("Only a PKS can have a parent KB.")}
        if parent_document_type != self.DocumentType.KB:
            return {"parent": _("The parent of a PKS must be a KB.")}
        if self.signed_on and (parent_signed_on is None or self.signed_on < parent_signed_on):
            return {"signed_on": _("A PKS cannot be signed before its parent KB.")}
        return {}

    def children_errors(self, children_signed_on) -> dict:
        """The same rules seen from the KB: the signing dates of the PKSs under it (None: not signed).

        A KB with PKSs stays a KB, and stays signed no later than each of its signed PKSs.
        """
        children_signed_on = list(children_signed_on)
        if not children_signed_on:
            return {}
        errors = {}
        if self.document_type != self.DocumentType.KB:
            errors["document_type"] = _("This KB has PKSs under it; it cannot become a PKS.")
        signed = [d for d in children_signed_on if d is not None]
        if self.signed_on is None and signed:
            errors["signed_on"] = _("A PKS under this KB is signed; the KB's signing date cannot be removed.")
        elif self.signed_on and any(d < self.signed_on for d in signed):
            errors["signed_on"] = _("A PKS under this KB was signed before this date.")
        return errors

    @staticmethod
    def parent_party_errors(regions, parent_regions) -> dict:
        """A PKS's regional parties are parties of its KB (the PKS carries out what they agreed)."""
        parent_ids = {r.pk for r in parent_regions}
        outside = sorted(r.name for r in regions if r.pk not in parent_ids)
        if outside:
            return {"regions": _("The regional parties of a PKS must be parties of its KB; not parties of the KB: "
                                 "%(names)s.") % {"names": ", ".join(outside)}}
        return {}

    @staticmethod
    def children_party_errors(regions, children_regions) -> dict:
        """Seen from the KB: a region that is a party of a PKS under it cannot be removed from the KB."""
        kept = {r.pk for r in regions}
        needed = sorted({r.name for r in children_regions if r.pk not in kept})
        if needed:
            return {"regions": _("These regions are parties of a PKS under this KB and must stay parties: "
                                 "%(names)s.") % {"names": ", ".join(needed)}}
        return {}

    def clean_relations(self, regions, third_party_names, affairs):
        """Cross-row rules on the parties and affairs about to be saved with this agreement."""
        errors = {}
        for check, value in ((self.party_errors, regions), (self.third_party_errors, third_party_names)):
            errors.update(check(value))
        if len(list(affairs)) < 1:
            errors["affairs"] = _("Choose at least one government affair.")
        if errors:
            raise ValidationError(errors)

    def party_errors(self, regions) -> dict:
        """The rules on the regions as parties: autonomous, each once, two for a KSDD, one otherwise."""
        regions = list(regions)
        errors = {}
        if len({r.pk for r in regions}) != len(regions):
            errors["regions"] = _("A region can be a party only once.")
        not_autonomous = [r.name for r in regions if not r.is_autonomous]
        if not_autonomous:
            errors["regions"] = _("Not autonomous regions, they cannot be parties: %(names)s") % {
                "names": ", ".join(not_autonomous)
            }
        if self.cooperation_kind in self.KSDD_KINDS:
            if len(regions) < 2:
                errors.setdefault("regions", _("Cooperation between regions (KSDD) needs at least two regions."))
        elif len(regions) < 1:
            errors.setdefault("regions", _("At least one region is needed as a party."))
        if "regions" not in errors:
            errors.update(self.stored_family_party_errors(regions))
        return errors

    def stored_family_party_errors(self, regions) -> dict:
        """``parent_party_errors`` and ``children_party_errors`` against the parent and PKSs in the database."""
        if self.parent_id and self.document_type == self.DocumentType.PKS:
            errors = self.parent_party_errors(regions, Region.objects.filter(parties__agreement_id=self.parent_id))
            if errors:
                return errors
        if self.pk and self.document_type == self.DocumentType.KB:
            children = Region.objects.filter(parties__agreement__parent_id=self.pk).distinct()
            return self.children_party_errors(regions, children)
        return {}

    def third_party_errors(self, names) -> dict:
        """KSDPK, KSDPL and KSDLL need at least one third party."""
        if self.cooperation_kind not in self.KSDD_KINDS and not [n for n in names if n.strip()]:
            return {"third_parties": _("This kind of cooperation needs at least one third party.")}
        return {}


class AgreementParty(models.Model):
    """A region as party: each signatory registers the same agreement under its own number."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="parties")
    document_number = models.CharField(_("party's document number"), max_length=120, blank=True)
    signatory_name = models.CharField(_("signatory's name"), max_length=150, blank=True)
    signatory_position = models.CharField(_("signatory's position"), max_length=150, blank=True)
    agency = models.CharField(_("agency in charge (perangkat daerah)"), max_length=200, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    # Each party signs, and where required has its DPRD approve, on its own date (UU 23/2014 pasal 363(3)):
    # the agreement's ``signed_on`` is the latest party's date once every party's is recorded.
    signed_on = models.DateField(_("date this party signed"), null=True, blank=True)
    dprd_required = models.BooleanField(
        _("DPRD approval required"), default=False,
        help_text=_("Required when the cooperation burdens the public and the region, or is not budgeted in the "
                    "current APBD."),
    )
    dprd_approved_on = models.DateField(_("DPRD approval date"), null=True, blank=True)
    dprd_decision_number = models.CharField(_("DPRD decision number"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("regional party")
        verbose_name_plural = _("regional parties")
        ordering = ["region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "region"], name="party_unique_region_per_agreement",
                violation_error_message=_("A region can be a party only once."),
            ),
        ]

    def __str__(self):
        return str(self.region)


class ThirdParty(models.Model):
    """A non-regional party (business, university, NGO, foreign government or institution)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="third_parties")
    name = models.CharField(_("third party name"), max_length=250)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("third party")
        verbose_name_plural = _("third parties")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "name"], name="third_party_unique_name_per_agreement",
                violation_error_message=_("A third party is listed twice."),
            ),
        ]

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """A concrete step of implementation, with the status regional officers keep up to date."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        MET = "met", _("Met")
        PARTIALLY_MET = "partially_met", _("Partially met")
        NOT_MET = "not_met", _("Not met")
        CANCELLED = "cancelled", _("Cancelled")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    responsible_region = models.ForeignKey(
        Region, verbose_name=_("responsible region"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="milestones",
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    started_on = models.DateField(_("start date"), null=True, blank=True)
    completed_on = models.DateField(_("completion date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.SCHEDULED)
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "title"], name="milestone_unique_title_per_agreement",
                violation_error_message=_("This agreement already has a milestone with this title."),
            ),
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
            errors["completed_on"] = _("A met milestone needs a completion date.")
        if self.status == self.Status.IN_PROGRESS and not self.started_on:
            errors["started_on"] = _("A milestone in progress needs a start date.")
        if self.completed_on and self.started_on and self.completed_on < self.started_on:
            errors["completed_on"] = _("The completion date cannot be before the start date.")
        if self.responsible_region_id and self.agreement_id:
            if not self.agreement.parties.filter(region_id=self.responsible_region_id).exists():
                errors["responsible_region"] = _("The responsible region must be one of the agreement's parties.")
        if errors:
            raise ValidationError(errors)


class MilestoneUpdate(models.Model):
    """The log regional officers write: one row per status update of a milestone."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="updates")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="milestone_updates",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    status_before = models.CharField(_("status before"), max_length=15, choices=Milestone.Status.choices, blank=True)
    status_after = models.CharField(_("status after"), max_length=15, choices=Milestone.Status.choices)
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("milestone update")
        verbose_name_plural = _("milestone updates")
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
        KB_SCAN = "kb", _("KB document")
        PKS_SCAN = "pks", _("PKS document")
        ADDENDUM = "addendum", _("Addendum")
        EVIDENCE = "evidence", _("Implementation evidence")
        OTHER = "other", _("Other")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="documents"
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="evidence",
    )
    doc_type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.OTHER)
    dated_on = models.DateField(_("document date"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=document_upload_to)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=60, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    is_public = models.BooleanField(
        _("public"), default=False,
        help_text=_("Shown on the public page when its agreement is published."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.original_name or self.file.name

    def clean(self):
        super().clean()
        if self.milestone_id and self.agreement_id and self.milestone.agreement_id != self.agreement_id:
            raise ValidationError({"milestone": _("This milestone does not belong to that agreement.")})


class Amendment(models.Model):
    """An addendum (adendum) to an agreement: dated, numbered, what it changed, and the signed document.

    It may change the end date, the scope and the value; the agreement keeps its original values, and the
    values in force as of a date are those of the latest amendment signed on or before it
    (``stalls.with_status`` computes the end date in force).
    """

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="amendments"
    )
    number = models.CharField(_("amendment number"), max_length=120, blank=True)
    signed_on = models.DateField(_("signing date"))
    ends_on = models.DateField(_("new end date"), null=True, blank=True)
    scope = models.TextField(_("new scope"), blank=True)
    value_idr = models.PositiveBigIntegerField(_("new value (Rp)"), null=True, blank=True)
    summary = models.TextField(_("what changed"))
    document = models.OneToOneField(
        Document, verbose_name=_("signed document"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="amendment",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["agreement", "signed_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], condition=~Q(number=""), name="amendment_number_once_per_agreement",
                violation_error_message=_("This agreement already has an amendment with this number."),
            ),
        ]

    def __str__(self):
        return self.number or str(self.signed_on)


class ExpiryReminder(models.Model):
    """An agreement's coming end sent to one user at one threshold (90, 30 or 7 days): each is sent once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    threshold_days = models.PositiveSmallIntegerField(_("days before the end"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agreement", "threshold_days"], name="expiryreminder_once_per_threshold",
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.agreement_id} {self.threshold_days}"


class NeedOffer(Recorded):
    """What a region needs from, or can offer to, other regions on one government affair.

    The identification and mapping step that comes before any offer (penawaran) or KB. The
    register is national: every signed-in user sees it; who may edit is decided in ``access``.
    """

    class Kind(models.TextChoices):
        NEED = "need", _("Need")
        OFFER = "offer", _("Offer")

    class Priority(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="needs_offers"
    )
    affair = models.ForeignKey(
        GovernmentAffair, verbose_name=_("government affair"), on_delete=models.PROTECT, related_name="needs_offers"
    )
    kind = models.CharField(_("need or offer"), max_length=5, choices=Kind.choices)
    description = models.TextField(_("description"))
    priority = models.CharField(_("priority"), max_length=6, choices=Priority.choices, default=Priority.MEDIUM)
    planning_reference = models.CharField(
        _("planning document reference"), max_length=250, blank=True,
        help_text=_("Where the region's plan states it, for example an RPJMD or RKPD chapter."),
    )
    planning_url = models.URLField(_("planning document link"), blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("need or offer")
        verbose_name_plural = _("needs and offers")
        ordering = ["region__code", "affair__code", "kind", "pk"]
        indexes = [models.Index(fields=["affair", "kind"])]

    def __str__(self):
        return f"{self.region} · {self.get_kind_display()} · {self.affair}"

    def clean(self):
        super().clean()
        if self.region_id and not self.region.is_autonomous:
            raise ValidationError({"region": _("Only an autonomous region can declare needs and offers.")})


# How long a proposal may wait for its answer before the dashboard counts it as waiting too long.
PROPOSAL_WAITING_DAYS = 30
PROPOSAL_TEXT_MAX = 4000


class Proposal(models.Model):
    """A region's proposal of cooperation to another region on one affair ("Ajukan kerja sama"), usually answering
    a need or offer: not yet an agreement. The partner's officers accept it (a draft KB is created with both
    regions as parties, ``services.proposal_accept``) or decline it with a reason (``services.proposal_decline``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    proposing_region = models.ForeignKey(
        Region, verbose_name=_("proposing region"), on_delete=models.PROTECT, related_name="proposals_sent"
    )
    partner_region = models.ForeignKey(
        Region, verbose_name=_("partner region"), on_delete=models.PROTECT, related_name="proposals_received"
    )
    affair = models.ForeignKey(
        GovernmentAffair, verbose_name=_("government affair"), on_delete=models.PROTECT, related_name="proposals"
    )
    need_offer = models.ForeignKey(
        NeedOffer, verbose_name=_("need or offer answered"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="proposals",
    )
    message = models.TextField(_("message"), validators=[MaxLengthValidator(PROPOSAL_TEXT_MAX)])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    answer_reason = models.TextField(
        _("reason given with the answer"), blank=True, validators=[MaxLengthValidator(PROPOSAL_TEXT_MAX)]
    )
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("draft KB"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="proposals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("proposed"), default=timezone.now, editable=False)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("cooperation proposal")
        verbose_name_plural = _("cooperation proposals")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(proposing_region=F("partner_region")), name="proposal_not_to_itself",
                violation_error_message=_("A region cannot propose cooperation to itself."),
            ),
            models.UniqueConstraint(
                fields=["proposing_region", "partner_region", "affair"], condition=Q(status="pending"),
                name="proposal_one_pending_per_pair_and_affair",
                violation_error_message=_("This region already has a proposal waiting for an answer from that "
                                          "partner on this affair."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending", answered_at__isnull=True)
                | (~Q(status="pending") & Q(answered_at__isnull=False)),
                name="proposal_answered_at_iff_answered",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(answer_reason=""), name="proposal_decline_has_reason",
                violation_error_message=_("Give the reason for declining."),
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.proposing_region} → {self.partner_region} · {self.affair}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("proposal-detail", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @staticmethod
    def waiting_q(as_of, days: int = PROPOSAL_WAITING_DAYS) -> Q:
        """Proposals made more than ``days`` days before ``as_of`` (a date) and not answered by then."""
        limit = timezone.make_aware(datetime.datetime.combine(as_of - datetime.timedelta(days=days),
                                                              datetime.time.min))
        answered_after = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1),
                                                                       datetime.time.min))
        return Q(created_at__lt=limit) & (Q(answered_at__isnull=True) | Q(answered_at__gte=answered_after))

    def clean(self):
        super().clean()
        errors = {}
        for field in ("proposing_region", "partner_region"):
            region = getattr(self, field) if getattr(self, f"{field}_id") else None
            if region is not None and not region.is_autonomous:
                errors[field] = _("Only an autonomous region can propose or be proposed cooperation.")
        if self.proposing_region_id and self.proposing_region_id == self.partner_region_id:
            errors["partner_region"] = _("A region cannot propose cooperation to itself.")
        if self.need_offer_id and self.affair_id:
            entry = self.need_offer
            if entry.affair_id != self.affair_id or entry.region_id not in (self.proposing_region_id,
                                                                             self.partner_region_id):
                errors["need_offer"] = _("The need or offer answered must be one of the two regions' entries on "
                                         "this affair.")
        if self.status == self.Status.DECLINED and not self.answer_reason.strip():
            errors["answer_reason"] = _("Give the reason for declining.")
        if errors:
            raise ValidationError(errors)


def followup_upload_to(instance, filename):
    """Like ``document_upload_to``: a generated name under MEDIA_ROOT, the user's name kept in ``original_name``."""
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"followups/{uuid.uuid4().hex}{suffix}"


class FollowUp(models.Model):
    """The ministry's or a province's follow-up on a stalled agreement or with a region.

    Exactly one of ``agreement`` and ``region`` is set. Recorded through ``services.followup_record``.
    """

    class Kind(models.TextChoices):
        LETTER = "letter", _("Letter")
        MEETING = "meeting", _("Coordination meeting")
        GUIDANCE = "guidance", _("Guidance or training")
        SITE_VISIT = "site_visit", _("Site visit")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="followups",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="followups"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    date = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="followups",
    )
    note = models.TextField(_("note"))
    attachment = models.FileField(_("attachment"), upload_to=followup_upload_to, blank=True)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(agreement__isnull=False, region__isnull=True)
                           | Q(agreement__isnull=True, region__isnull=False)),
                name="followup_agreement_xor_region",
            ),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d}: {self.agreement or self.region}"

    def clean(self):
        super().clean()
        if bool(self.agreement_id) == bool(self.region_id):
            raise ValidationError(_("A follow-up is about either an agreement or a region, not both and not neither."))


class SentDigest(models.Model):
    """A reminder digest sent to a user for one ISO week: running ``send_reminders`` twice sends nothing twice."""

    class Kind(models.TextChoices):
        OFFICER = "officer", _("Officer digest")
        MINISTRY = "ministry", _("Ministry digest")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="sent_digests"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    iso_year = models.PositiveSmallIntegerField(_("ISO year"))
    iso_week = models.PositiveSmallIntegerField(_("ISO week"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("sent digest")
        verbose_name_plural = _("sent digests")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "iso_year", "iso_week"], name="sentdigest_once_a_week",
                violation_error_message=_("This digest was already sent to this user in this week."),
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.kind} {self.iso_year}-W{self.iso_week:02d}"


class ThrottleHit(models.Model):
    """One counted attempt (a password-reset request, a password-reset mail), kept in the database so that
    every worker and every server sees the same counters (like django-axes' attempts). The key is a hash of
    the address or e-mail, never the value itself; rows older than the longest window are deleted as new
    ones come (``agreements.throttle``)."""

    scope = models.CharField(_("scope"), max_length=30)
    key = models.CharField(_("key (hashed)"), max_length=64)
    at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")
        indexes = [models.Index(fields=["scope", "key", "at"])]

    def __str__(self):
        return f"{self.scope} {self.key[:8]} {self.at:%Y-%m-%d %H:%M}"


class ImportJob(models.Model):
    """One import through /import/: the uploaded files, the state and progress, and the result.

    The files are kept in the database (not on a disk one machine has), so a worker on any machine reads
    them; they are cleared when the import is done, and a periodic task clears those of previews never
    confirmed and of failed or cancelled imports after a day (``jobs.clean_up``).
    """

    class State(models.TextChoices):
        VALIDATING = "validating", _("Checking the file")
        PREVIEW = "preview", _("Waiting for confirmation")
        INVALID = "invalid", _("Problems found")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATES = (State.VALIDATING, State.QUEUED, State.RUNNING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="imports"
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.VALIDATING)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    agreements_name = models.CharField(_("agreements file"), max_length=200, blank=True)
    milestones_name = models.CharField(_("milestones file"), max_length=200, blank=True)
    agreements_data = models.BinaryField(_("agreements file content"), null=True, blank=True, editable=False)
    milestones_data = models.BinaryField(_("milestones file content"), null=True, blank=True, editable=False)
    parties_name = models.CharField(_("parties file"), max_length=200, blank=True)
    parties_data = models.BinaryField(_("parties file content"), null=True, blank=True, editable=False)
    amendments_name = models.CharField(_("amendments file"), max_length=200, blank=True)
    amendments_data = models.BinaryField(_("amendments file content"), null=True, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_validated = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    error = models.TextField(_("why it failed"), blank=True)
    agreements = models.ManyToManyField(
        "Agreement", verbose_name=_("agreements imported"), blank=True, related_name="import_jobs"
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.agreements_name or '—'} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def percent(self) -> int:
        """Progress in percent: checking counts for the first half, writing for the second."""
        if self.state in (self.State.DONE, self.State.INVALID, self.State.PREVIEW):
            return 100
        if not self.rows_total:
            return 0
        done = self.rows_validated + self.rows_written
        return min(99, done * 100 // (2 * self.rows_total))


class PeriodicRun(models.Model):
    """A periodic job scheduled for one slot (a week, a day, a minute): the unique row makes a job fire once per
    slot however many workers run (``agreements.periodic``)."""

    job = models.CharField(_("job"), max_length=60)
    slot = models.CharField(_("slot"), max_length=40)
    created_at = models.DateTimeField(_("scheduled"), auto_now_add=True)

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "slot"], name="periodicrun_once_per_slot",
                violation_error_message=_("This periodic job has already run in this slot."),
            ),
        ]

    def __str__(self):
        return f"{self.job} {self.slot}"


# --- The regulated steps, obstacles, TKKSD and guidance ------------------------------------------------------


class StepTemplate(models.Model):
    """The ordered checklist an agreement gets when it is created, chosen by document type and cooperation kind.

    Copied into ``AgreementStep`` rows at creation (``agreements.steps``): editing a template changes the
    agreements created after, never the existing ones.
    """

    document_type = models.CharField(_("document type"), max_length=3, choices=Agreement.DocumentType.choices)
    cooperation_kind = models.CharField(_("cooperation kind"), max_length=15, choices=Agreement.Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("step template")
        verbose_name_plural = _("step templates")
        ordering = ["document_type", "cooperation_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "cooperation_kind"], name="step_template_unique_type_kind",
                violation_error_message=_("There is already a template for this document type and kind."),
            ),
        ]

    def __str__(self):
        return self.name


class StepPhase(models.TextChoices):
    PREPARATION = "preparation", _("Preparation")
    OFFER = "offer", pgettext_lazy("regulated step", "Offer")
    KB = "kb", _("Joint agreement (KB)")
    DPRD = "dprd", _("DPRD approval")
    PKS = "pks", _("Cooperation agreement (PKS)")
    IMPLEMENTATION = "implementation", _("Implementation")
    REPORTING = "reporting", _("Reporting")
    EVALUATION = "evaluation", _("Evaluation")


class StepActor(models.TextChoices):
    EACH_PARTY = "each_party", _("Each regional party, on its own")
    PARTIES = "parties", _("The parties together")
    INITIATOR = "initiator", _("The region that takes the initiative")
    PARTNER = "partner", _("The partner region")


class StepFields(models.Model):
    """What a step says, in a template and copied onto an agreement."""

    code = models.CharField(_("code"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"))
    phase = models.CharField(_("phase"), max_length=15, choices=StepPhase.choices)
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("what to do"), blank=True)
    expected_document = models.CharField(_("document expected"), max_length=200, blank=True)
    actor = models.CharField(_("who does it"), max_length=12, choices=StepActor.choices, default=StepActor.PARTIES)
    per_party = models.BooleanField(
        _("done by each party"), default=False,
        help_text=_("Each regional party does this step on its own (signing, DPRD approval)."),
    )
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)
    pks_step_code = models.CharField(
        _("done by the PKS step"), max_length=40, blank=True,
        help_text=_("For a KB: the code of the PKS step whose completion completes this step."),
    )

    class Meta:
        abstract = True


class TemplateStep(StepFields):
    template = models.ForeignKey(
        StepTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="steps"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("template step")
        verbose_name_plural = _("template steps")
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], name="template_step_unique_code",
                violation_error_message=_("A step with this code already exists (codes are unique across templates)."),
            ),
            models.UniqueConstraint(
                fields=["template", "order"], name="template_step_unique_order",
                violation_error_message=_("Two steps of a template cannot have the same order."),
            ),
        ]

    def __str__(self):
        return f"{self.code}: {self.title}"


class AgreementStep(StepFields):
    """A step of one agreement's checklist: not started, done (date, who, optional document) or not applicable."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        DONE = "done", _("Done")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="steps"
    )
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.NOT_STARTED)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    document = models.ForeignKey(
        "Document", verbose_name=_("document"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    not_applicable_reason = models.TextField(_("why it does not apply"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("agreement step")
        verbose_name_plural = _("agreement steps")
        ordering = ["agreement", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "code"], name="agreement_step_unique_code",
                violation_error_message=_("This agreement already has this step."),
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_on__isnull=False), name="agreement_step_done_has_date",
                violation_error_message=_("A step done has the date it was done."),
            ),
        ]
        indexes = [models.Index(fields=["agreement", "order"])]

    def __str__(self):
        return f"{self.agreement}: {self.title}"


class Obstacle(models.Model):
    """An obstacle (kendala) the parties, their province or the ministry name on an agreement."""

    class Category(models.TextChoices):
        BUDGET = "budget", _("Budget")
        DPRD = "dprd", _("DPRD approval")
        CAPACITY = "capacity", _("Staff capacity")
        REGULATION = "regulation", _("Understanding of the regulation")
        PARTNER = "partner", _("Partner not responding")
        LEADERSHIP = "leadership", _("Change of leadership")
        TECHNICAL = "technical", _("Technical")
        OTHER = "other", _("Other")

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="obstacles"
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    description = models.TextField(_("description"))
    raised_on = models.DateField(_("raised on"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.TextField(_("what resolved it"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("obstacle")
        verbose_name_plural = _("obstacles")
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=F("raised_on")),
                name="obstacle_resolved_after_raised",
                violation_error_message=_("An obstacle is resolved on or after the day it was raised."),
            ),
        ]
        indexes = [models.Index(fields=["agreement", "raised_on"])]

    def __str__(self):
        return f"{self.get_category_display()}: {self.agreement}"


class Tkksd(models.Model):
    """A region's Tim Koordinasi Kerja Sama Daerah (TKKSD): formed or not, by which decree, who chairs it."""

    region = models.OneToOneField(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="tkksd")
    formed = models.BooleanField(_("formed"), default=False)
    decree_number = models.CharField(_("decree number"), max_length=120, blank=True)
    decree_date = models.DateField(_("decree date"), null=True, blank=True)
    chair = models.CharField(_("chair"), max_length=200, blank=True)
    member_count = models.PositiveSmallIntegerField(
        _("members"), null=True, blank=True, validators=[MaxValueValidator(500)]
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("TKKSD")
        verbose_name_plural = _("TKKSD")
        ordering = ["region__code"]

    def __str__(self):
        return f"TKKSD {self.region}"


class GuidancePage(models.Model):
    """A guidance page (/guidance/) for a step or a cooperation kind, written by administrators in Markdown, in
    Indonesian and English; rendered through a sanitiser."""

    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title_id = models.CharField(_("title (Indonesian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_id = models.TextField(_("text (Indonesian, Markdown)"))
    body_en = models.TextField(_("text (English, Markdown)"))
    step_code = models.CharField(_("step code"), max_length=40, blank=True, db_index=True)
    cooperation_kind = models.CharField(
        _("cooperation kind"), max_length=15, choices=Agreement.Kind.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("guidance page")
        verbose_name_plural = _("guidance pages")
        ordering = ["slug"]

    def __str__(self):
        return self.title_id


def guidance_upload_to(instance, filename):
    """Like ``document_upload_to``: a generated name, the user's name kept in ``materials_name``."""
    suffix = PurePath(filename).suffix.lower()[:6]
    return f"guidance/{uuid.uuid4().hex}{suffix}"


class GuidanceEvent(models.Model):
    """A socialisation, technical guidance (bimtek), coordination meeting or training the ministry held, recorded
    once with every region that took part."""

    class Kind(models.TextChoices):
        SOCIALISATION = "socialisation", _("Socialisation")
        BIMTEK = "bimtek", _("Technical guidance (bimtek)")
        MEETING = "meeting", _("Coordination meeting")
        TRAINING = "training", _("Training")

    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=250)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    regions = models.ManyToManyField(Region, verbose_name=_("regions"), related_name="guidance_events")
    steps = models.ManyToManyField(
        TemplateStep, verbose_name=_("steps covered"), blank=True, related_name="guidance_events"
    )
    affairs = models.ManyToManyField(
        GovernmentAffair, verbose_name=_("affairs covered"), blank=True, related_name="guidance_events"
    )
    note = models.TextField(_("note"), blank=True)
    materials = models.FileField(_("materials"), upload_to=guidance_upload_to, blank=True)
    materials_name = models.CharField(_("original file name"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guidance event")
        verbose_name_plural = _("guidance events")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["held_on"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"


# --- results: outcome indicators, financing, periodic evaluation (monev) --------------------------------------------

INDICATOR_VALUE = {"max_digits": 18, "decimal_places": 4}


class Indicator(models.Model):
    """An outcome indicator of a PKS: what the cooperation should change, with its baseline and target (a result →
    indicator → period chain as IATI has it), optionally linked to the need it answers."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="indicators"
    )
    need = models.ForeignKey(
        NeedOffer, verbose_name=_("need it answers"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="indicators",
    )
    name = models.CharField(_("indicator"), max_length=250)
    unit = models.CharField(_("unit"), max_length=60)
    baseline_value = models.DecimalField(_("baseline value"), **INDICATOR_VALUE)
    baseline_on = models.DateField(_("baseline date"))
    target_value = models.DecimalField(_("target value"), **INDICATOR_VALUE)
    target_on = models.DateField(_("target date"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["agreement", "order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(target_on__gte=F("baseline_on")), name="indicator_target_after_baseline",
                                   violation_error_message=_("The target date cannot be before the baseline date.")),
        ]

    def __str__(self):
        return self.name


class IndicatorActual(models.Model):
    """The value an indicator reached in one period (a year, a semester, a quarter: ``period_end`` is its last day)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="actuals"
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    value = models.DecimalField(_("value"), **INDICATOR_VALUE)
    note = models.TextField(_("note"), blank=True)
    evidence = models.ForeignKey(
        Document, verbose_name=_("evidence"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("actual value")
        verbose_name_plural = _("actual values")
        ordering = ["indicator", "period_end", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period_start", "period_end"], name="actual_once_per_period",
                                    violation_error_message=_("This indicator already has a value for this period.")),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="actual_period_ends_after_start",
                                   violation_error_message=_("The period cannot end before it starts.")),
        ]

    def __str__(self):
        return f"{self.indicator}: {self.value} ({self.period_end})"


class FundingSource(models.TextChoices):
    APBD = "apbd", _("APBD (regional budget)")
    APBN = "apbn", _("APBN (state budget)")
    THIRD_PARTY = "third_party", _("Third party")
    OTHER = "other", _("Other")


class Financing(models.Model):
    """What one party plans to spend, and has spent, on an agreement in one fiscal year, from one source. The
    agreement's ``value_idr`` stays its stated total; these are the budget lines behind it (OCDS-like)."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="financing"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("party"), null=True, blank=True, on_delete=models.PROTECT, related_name="financing",
        help_text=_("The regional party that pays; empty for a third party's contribution."),
    )
    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    source = models.CharField(_("source"), max_length=12, choices=FundingSource.choices)
    planned_idr = models.PositiveBigIntegerField(_("planned (Rp)"), null=True, blank=True)
    realised_idr = models.PositiveBigIntegerField(_("realised (Rp)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=250, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("financing")
        verbose_name_plural = _("financing")
        ordering = ["agreement", "fiscal_year", "region", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "fiscal_year", "region", "source"], name="financing_once_per_year_party_source",
                condition=Q(region__isnull=False),
                violation_error_message=_("This party already has a line for this year and source."),
            ),
            models.UniqueConstraint(
                fields=["agreement", "fiscal_year", "source"], name="financing_third_party_once_per_year_source",
                condition=Q(region__isnull=True),
                violation_error_message=_("The third parties already have a line for this year and source."),
            ),
        ]
        indexes = [models.Index(fields=["region", "fiscal_year"])]

    def __str__(self):
        return f"{self.agreement_id} {self.fiscal_year} {self.source}"


class Recommendation(models.TextChoices):
    CONTINUE = "continue", _("Continue")
    IMPROVE = "improve", _("Improve")
    STOP = "stop", _("Stop")


class EvaluationQuestion(models.Model):
    """A question of the semester evaluation (monev), scored 1–5. Editable in admin; an answer keeps the text it
    answered, so editing a question never changes past answers."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    text = models.CharField(_("question"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("asked"), default=True)

    class Meta:
        verbose_name = _("evaluation question")
        verbose_name_plural = _("evaluation questions")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.text


class Evaluation(models.Model):
    """One regional party's evaluation of a PKS for one semester (January–June is 1, July–December is 2)."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="evaluations"
    )
    region = models.ForeignKey(Region, verbose_name=_("party"), on_delete=models.PROTECT, related_name="evaluations")
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    semester = models.PositiveSmallIntegerField(
        _("semester"), choices=[(1, _("January–June")), (2, _("July–December"))]
    )
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices)
    note = models.TextField(_("note"), blank=True)
    evidence = models.ForeignKey(
        Document, verbose_name=_("evidence"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-year", "-semester", "agreement", "region"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "region", "year", "semester"], name="evaluation_once_per_party_semester",
                violation_error_message=_("This party has already evaluated this agreement for this semester."),
            ),
        ]
        indexes = [models.Index(fields=["year", "semester"])]

    def __str__(self):
        return f"{self.agreement_id} {self.region_id} {self.year}-{self.semester}"


class EvaluationAnswer(models.Model):
    """A score (1–5) with a note for one question, keeping the question's text as it was asked."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        EvaluationQuestion, verbose_name=_("question"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="answers",
    )
    question_code = models.CharField(_("question code"), max_length=40)
    question_text = models.CharField(_("question as asked"), max_length=300)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("evaluation answer")
        verbose_name_plural = _("evaluation answers")
        ordering = ["evaluation", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="evaluation_score_1_to_5",
                                   violation_error_message=_("A score is from 1 to 5.")),
            models.UniqueConstraint(fields=["evaluation", "question_code"], name="evaluation_answer_once"),
        ]

    def __str__(self):
        return f"{self.question_code}: {self.score}"


class EvaluationConclusion(models.Model):
    """The ministry's conclusion on a PKS's evaluations for one semester."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="evaluation_conclusions"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)])
    semester = models.PositiveSmallIntegerField(
        _("semester"), choices=[(1, _("January–June")), (2, _("July–December"))]
    )
    text = models.TextField(_("conclusion"))
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    written_at = models.DateTimeField(_("written"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation conclusion")
        verbose_name_plural = _("evaluation conclusions")
        ordering = ["-year", "-semester"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "year", "semester"], name="conclusion_once_per_semester"),
        ]

    def __str__(self):
        return f"{self.agreement_id} {self.year}-{self.semester}"


# --- periodic reports along the reporting line ----------------------------------------------------------------------


class ReportSettings(SingleRow):
    """When reports are due, editable by administrators (one row)."""

    due_days = models.PositiveSmallIntegerField(
        _("days after the period to report"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A report is due this many days after its period (semester or year) ends."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self):
        return str(_("Report settings"))


class Report(models.Model):
    """A region's report for one period (``2026-S1``, ``2026-S2`` or the year ``2026``): a draft generated from the
    register, the region's narratives, and once submitted a frozen snapshot. Every submission is kept as a
    ``ReportVersion``."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for correction")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="reports")
    period = models.CharField(_("period"), max_length=7)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    narrative = models.JSONField(_("narratives"), default=dict, blank=True)
    snapshot = models.JSONField(_("figures as submitted"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("returned by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    return_comment = models.TextField(_("why it was returned"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-period", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "period"], name="report_once_per_region_period",
                                    violation_error_message=_("This region already has a report for this period.")),
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self):
        return f"{self.region_id} {self.period}"


class ReportVersion(models.Model):
    """One submission of a report, kept whole: its figures and narratives as submitted, and whether and why it was
    returned."""

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("submission"))
    snapshot = models.JSONField(_("figures as submitted"))
    narrative = models.JSONField(_("narratives"), default=dict)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"))
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("returned by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    return_comment = models.TextField(_("why it was returned"), blank=True)

    class Meta:
        verbose_name = _("report submission")
        verbose_name_plural = _("report submissions")
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_number_once"),
        ]

    def __str__(self):
        return f"{self.report} #{self.number}"


# --- open data: personal API tokens -----------------------------------------------------------------------------------


class ApiToken(models.Model):
    """A user's personal token for programs calling the API: it sees what the user sees. Only a hash is stored; the
    token is shown once, when created. Revoking takes effect at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, to recognise it later."))
    prefix = models.CharField(_("first characters"), max_length=12, editable=False)
    key_hash = models.CharField(_("hash"), max_length=128, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
