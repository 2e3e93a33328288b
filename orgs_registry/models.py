"""The register of who may compete: organizations, people, grades, credit and exit.

State fields are django-fsm ``FSMField(protected=True)``; they change only through the
transition methods below, called by ``orgs_registry.services``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from orgs_registry.identifiers import (
    id_birth_date,
    id_sex,
    mask_id_number,
    mask_phone,
    uscc_kind,
    validate_id_number,
    validate_phone,
    validate_uscc,
)

# Field validators: the pure checks of ``identifiers`` as Django ValidationErrors.


def validate_uscc_field(value: str) -> None:
    try:
        validate_uscc(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_uscc") from exc


def validate_id_number_field(value: str) -> None:
    try:
        validate_id_number(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_id_number") from exc


def validate_phone_field(value: str) -> None:
    if not value:
        return
    try:
        validate_phone(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_phone") from exc


class ServiceCategory(models.Model):
    """One entry of the service catalogue (CONTRACTS.md section 0); the catalogue may grow."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


# --- Organizations ---------------------------------------------------------------------------


class OrganizationKind(models.TextChoices):
    SOCIAL_GROUP = "social_group", _("Social group")
    SOCIAL_SERVICE_AGENCY = "social_service_agency", _("Social service agency")
    FOUNDATION = "foundation", _("Foundation")
    OTHER = "other", _("Other")


class OrganizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    REJECTED = "rejected", _("Registration rejected")
    ACTIVE = "active", _("Active")
    ABNORMAL = "abnormal", _("On the abnormal-activity list")
    DEREGISTERED = "deregistered", _("Deregistered")


class FundingType(models.TextChoices):
    """How an organization is funded; two kinds may not sell services (财政部令第102号 Art. 8)."""

    INDEPENDENT = "independent", _("Not fiscally funded")
    PUBLIC_INSTITUTION_2 = "public_institution_2", _("Public institution, class 2")
    PUBLIC_INSTITUTION_1 = "public_institution_1", _("Public institution, class 1")
    FISCAL_MASS_ORGANIZATION = (
        "fiscal_mass_organization",
        _("Fiscally funded mass organization using public-institution posts"),
    )


EXCLUDED_FUNDING_TYPES = frozenset(
    {FundingType.PUBLIC_INSTITUTION_1, FundingType.FISCAL_MASS_ORGANIZATION}
)


class DeregistrationInitiator(models.TextChoices):
    ORGANIZATION = "organization", _("Requested by the organization")
    REGISTRY = "registry", _("Ordered by the registry")


class Organization(ConcurrentTransitionMixin, models.Model):
    """A social organization (社会组织): one trusted record, collected once, used everywhere."""

    # Registered facts: changed only through a change request decided by the registry.
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("Unified Social Credit Code"),
        max_length=18,
        unique=True,
        validators=[validate_uscc_field],
    )
    kind = models.CharField(
        pgettext_lazy("organization", "kind"),
        max_length=32,
        choices=OrganizationKind.choices,
        editable=False,
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    address = models.CharField(_("registered address"), max_length=300, blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    registration_authority = models.CharField(
        _("registration authority"), max_length=100, blank=True
    )
    funding_type = models.CharField(
        _("funding type"),
        max_length=32,
        choices=FundingType.choices,
        default=FundingType.INDEPENDENT,
    )
    # Contact facts and profile: kept by the organization's administrators.
    phone = models.CharField(
        _("phone"), max_length=30, blank=True, validators=[validate_phone_field]
    )
    email = models.EmailField(_("e-mail"), blank=True)
    description = models.TextField(
        pgettext_lazy("organization", "description"), blank=True, max_length=4000
    )
    categories = models.ManyToManyField(
        ServiceCategory,
        verbose_name=_("service categories"),
        related_name="organizations",
        blank=True,
    )
    # Lifecycle (DESIGN.md section 3).
    status = FSMField(
        _("status"),
        default=OrganizationStatus.PENDING,
        choices=OrganizationStatus.choices,
        protected=True,
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    deregistration_requested_at = models.DateTimeField(
        _("deregistration started"), null=True, blank=True
    )
    deregistration_initiator = models.CharField(
        _("deregistration initiated by"),
        max_length=20,
        choices=DeregistrationInitiator.choices,
        blank=True,
    )
    deregistration_reason = models.TextField(_("reason for deregistration"), blank=True)
    deregistered_at = models.DateTimeField(_("deregistered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("social organization")
        verbose_name_plural = _("social organizations")
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "kind"], name="org_status_kind_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.kind = uscc_kind(self.uscc)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("orgs_registry:profile", args=[self.pk])

    def clean(self) -> None:
        # clean() runs even when the field itself failed to parse (then it is still text).
        day = self.registration_date
        if isinstance(day, date) and day > timezone.localdate():
            raise ValidationError(
                {"registration_date": _("The registration date cannot be in the future.")}
            )

    @property
    def is_deregistering(self) -> bool:
        return self.deregistration_requested_at is not None and self.deregistered_at is None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @transition(field=status, source=OrganizationStatus.PENDING, target=OrganizationStatus.ACTIVE)
    def activate(self) -> None:
        """Registration verified by a registry administrator."""

    @transition(field=status, source=OrganizationStatus.PENDING, target=OrganizationStatus.REJECTED)
    def reject(self) -> None:
        """Registration refused by a registry administrator, with a reason."""

    @transition(field=status, source=OrganizationStatus.REJECTED, target=OrganizationStatus.PENDING)
    def resubmit(self) -> None:
        """The corrected registration goes back to the registry."""

    @transition(field=status, source=OrganizationStatus.ACTIVE, target=OrganizationStatus.ABNORMAL)
    def mark_abnormal(self) -> None:
        """Put on the abnormal-activity list (活动异常名录)."""

    @transition(field=status, source=OrganizationStatus.ABNORMAL, target=OrganizationStatus.ACTIVE)
    def clear_abnormal(self) -> None:
        """The last abnormal-activity entry was removed."""

    @transition(
        field=status,
        source=[OrganizationStatus.ACTIVE, OrganizationStatus.ABNORMAL],
        target=OrganizationStatus.DEREGISTERED,
    )
    def deregister(self) -> None:
        """Exit (注销退出), once every open commitment is settled."""


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the registry")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


# Registered facts an organization may ask the registry to change.
CHANGEABLE_FACTS = (
    "name",
    "legal_representative",
    "address",
    "registration_date",
    "registration_authority",
    "funding_type",
)


class ChangeRequest(ConcurrentTransitionMixin, models.Model):
    """A request to change registered facts, decided by a registry administrator."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    changes = models.JSONField(_("requested changes"), encoder=DjangoJSONEncoder)
    previous = models.JSONField(_("values before"), encoder=DjangoJSONEncoder, default=dict)
    reason = models.TextField(_("reason"), max_length=2000)
    status = FSMField(
        _("status"),
        default=ChangeRequestStatus.PENDING,
        choices=ChangeRequestStatus.choices,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.organization} {self.requested_at:%Y-%m-%d}"

    @transition(
        field=status, source=ChangeRequestStatus.PENDING, target=ChangeRequestStatus.APPROVED
    )
    def approve(self) -> None:
        """Apply the changes to the organization."""

    @transition(
        field=status, source=ChangeRequestStatus.PENDING, target=ChangeRequestStatus.REJECTED
    )
    def reject(self) -> None:
        """Keep the registered facts as they are."""


# --- People and staff rosters ----------------------------------------------------------------


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Person(models.Model):
    """A person, recorded once (ID number unique) and linked to organizations by employment.

    The ID number and phone are personal data: shown masked to everyone except the
    person's own organization administrators and auditors (DESIGN.md 4.1).
    """

    name = models.CharField(_("name"), max_length=50)
    id_number = models.CharField(
        _("National ID number"),
        max_length=18,
        unique=True,
        validators=[validate_id_number_field],
    )
    birth_date = models.DateField(_("birth date"), editable=False)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, editable=False)
    phone = models.CharField(
        _("phone"), max_length=30, blank=True, validators=[validate_phone_field]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Birth date and sex are facts of the ID number, never entered separately.
        self.birth_date = id_birth_date(self.id_number)
        self.sex = id_sex(self.id_number)
        super().save(*args, **kwargs)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone) if self.phone else ""


class QualificationLevel(models.TextChoices):
    """社会工作者职业水平 (GLOSSARY)."""

    ASSISTANT_SOCIAL_WORKER = "assistant_social_worker", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    SENIOR_SOCIAL_WORKER = "senior_social_worker", _("Senior social worker")


class Qualification(models.Model):
    """A social-work qualification certificate held by a person."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="qualifications",
    )
    level = models.CharField(_("level"), max_length=32, choices=QualificationLevel.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=40, blank=True)
    certified_on = models.DateField(_("certificate date"), null=True, blank=True)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["person", "-certified_on"]
        constraints = [
            models.UniqueConstraint(fields=["person", "level"], name="one_qualification_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_level_display()}"


class Employment(models.Model):
    """A period in which a person works for an organization."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="employments"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="employments",
    )
    role = models.CharField(_("role in the organization"), max_length=60)
    weekly_hours = models.DecimalField(
        _("weekly hours"), max_digits=4, decimal_places=1, default=40
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_ends_after_start",
                violation_error_message=_("The end date is before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(weekly_hours__gt=0) & Q(weekly_hours__lte=84),
                name="employment_weekly_hours_range",
                violation_error_message=_("Weekly hours must be between 0 and 84."),
            ),
            # At most one open employment of a person in the same organization.
            models.UniqueConstraint(
                fields=["person", "organization"],
                condition=Q(end_date__isnull=True),
                name="one_open_employment_per_org",
                violation_error_message=_("This person already works for the organization."),
            ),
        ]
        indexes = [models.Index(fields=["organization", "end_date"], name="employment_org_idx")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.organization}"

    def clean(self) -> None:
        # The check constraints say the same below the ORM; here each error lands on its field.
        errors: dict[str, Any] = {}
        start, end, hours = self.start_date, self.end_date, self.weekly_hours
        if isinstance(start, date) and start > timezone.localdate() + timedelta(days=366):
            errors["start_date"] = _("The start date is more than a year ahead.")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            errors["end_date"] = _("The end date is before the start date.")
        if isinstance(hours, Decimal | int) and not (0 < hours <= 84):
            errors["weekly_hours"] = _("Weekly hours must be between 0 and 84.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)


# --- Grades (民政部令第39号) ---------------------------------------------------------------------


class Grade(models.TextChoices):
    A5 = "5A", "5A"
    A4 = "4A", "4A"
    A3 = "3A", "3A"
    A2 = "2A", "2A"
    A1 = "1A", "1A"


GRADE_ORDER = ["1A", "2A", "3A", "4A", "5A"]
DEFAULT_CUTOFFS = {"5A": 900, "4A": 800, "3A": 700, "2A": 600, "1A": 500}


class IndicatorSet(models.Model):
    """The indicators an organization of one kind is assessed against: four groups, 1000 points."""

    kind = models.CharField(_("organization kind"), max_length=32, choices=OrganizationKind.choices)
    name = models.CharField(_("name"), max_length=120)
    version = models.CharField(_("version"), max_length=20, default="1")
    cutoffs = models.JSONField(
        _("grade cut-offs"),
        default=dict,
        help_text=_('Minimum total points per grade, e.g. {"5A": 900, ...}'),
    )
    is_current = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("indicator set")
        verbose_name_plural = _("indicator sets")
        ordering = ["kind", "-is_current", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_current=True), name="one_current_set_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"

    def cutoff_table(self) -> dict[str, int]:
        return {**DEFAULT_CUTOFFS, **(self.cutoffs or {})}

    def problems(self) -> list[str]:
        """What makes the set unusable (民政部令第39号: four groups, 1000 points)."""
        indicators = list(self.indicators.all())
        found = []
        total = sum(i.max_points for i in indicators)
        if total != 1000:
            found.append(f"indicators add up to {total} points, not 1000")
        groups = {i.group for i in indicators}
        if len(groups) != 4:
            found.append(f"{len(groups)} groups instead of 4")
        cutoffs = self.cutoff_table()
        ordered = [cutoffs[g] for g in GRADE_ORDER]
        if ordered != sorted(ordered) or len(set(ordered)) != len(ordered):
            found.append("grade cut-offs must rise strictly from 1A to 5A")
        if cutoffs["5A"] > 1000:
            found.append("the 5A cut-off exceeds 1000 points")
        return found


class Indicator(models.Model):
    set = models.ForeignKey(
        IndicatorSet,
        verbose_name=_("indicator set"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    group = models.CharField(_("group"), max_length=60)
    group_en = models.CharField(_("group (English)"), max_length=80, blank=True)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    max_points = models.PositiveSmallIntegerField(_("maximum points"))
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["set", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["set", "code"], name="indicator_code_unique_in_set")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        """The name in the active language."""
        english = (get_language() or "").startswith("en")
        return (self.name_en or self.name) if english else self.name

    @property
    def group_label(self) -> str:
        english = (get_language() or "").startswith("en")
        return (self.group_en or self.group) if english else self.group


class GradeAssessmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ASSESSING = "assessing", _("Being assessed")
    PROPOSED = "proposed", _("Result proposed")
    PUBLICIZED = "publicized", _("Public notice")
    REVIEW_REQUESTED = "review_requested", _("Review requested")
    REVIEWED = "reviewed", _("Reviewed")
    CONFIRMED = "confirmed", _("Confirmed")
    EXPIRED = "expired", _("Expired")
    DOWNGRADED = "downgraded", _("Downgraded")
    CANCELLED = "cancelled", _("Cancelled")


# States in which an assessment's grade is in force (while inside its validity period).
GRADE_IN_FORCE = frozenset({GradeAssessmentStatus.CONFIRMED, GradeAssessmentStatus.DOWNGRADED})
GRADE_OPEN = frozenset(
    {
        GradeAssessmentStatus.REQUESTED,
        GradeAssessmentStatus.ASSESSING,
        GradeAssessmentStatus.PROPOSED,
        GradeAssessmentStatus.PUBLICIZED,
        GradeAssessmentStatus.REVIEW_REQUESTED,
        GradeAssessmentStatus.REVIEWED,
    }
)


class GradeAssessment(ConcurrentTransitionMixin, models.Model):
    """One grade assessment of an organization, from request to expiry (DESIGN.md section 3)."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="grade_assessments",
    )
    indicator_set = models.ForeignKey(
        IndicatorSet, verbose_name=_("indicator set"), on_delete=models.PROTECT
    )
    status = FSMField(
        _("status"),
        default=GradeAssessmentStatus.REQUESTED,
        choices=GradeAssessmentStatus.choices,
        protected=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grade_assessments",
    )
    total_score = models.DecimalField(
        _("total score"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    proposed_grade = models.CharField(
        _("proposed grade"), max_length=2, choices=Grade.choices, blank=True
    )
    assessor_comment = models.TextField(_("assessor's conclusion"), blank=True)
    notice_starts = models.DateField(_("public notice from"), null=True, blank=True)
    notice_ends = models.DateField(_("public notice until"), null=True, blank=True)
    review_reason = models.TextField(_("reason for the review request"), blank=True)
    review_conclusion = models.TextField(_("review conclusion"), blank=True)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_reason = models.TextField(_("reason for downgrade or cancellation"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("grade assessment")
        verbose_name_plural = _("grade assessments")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["organization", "status"], name="grade_org_status_idx"),
        ]
        constraints = [
            # One assessment in progress per organization at a time.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(
                    status__in=[
                        "requested",
                        "assessing",
                        "proposed",
                        "publicized",
                        "review_requested",
                        "reviewed",
                    ]
                ),
                name="one_open_grade_assessment_per_org",
                violation_error_message=_(
                    "This organization already has a grade assessment in progress."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.grade or self.proposed_grade or '–'}"

    def in_force_on(self, day: date) -> bool:
        return (
            self.status in GRADE_IN_FORCE
            and bool(self.grade)
            and self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from <= day <= self.valid_until
        )

    @transition(
        field=status,
        source=GradeAssessmentStatus.REQUESTED,
        target=GradeAssessmentStatus.ASSESSING,
    )
    def assign(self) -> None:
        """An assessor is assigned and starts scoring."""

    @transition(
        field=status,
        source=GradeAssessmentStatus.ASSESSING,
        target=GradeAssessmentStatus.PROPOSED,
    )
    def propose(self) -> None:
        """The assessor submits the scores and the proposed grade."""

    @transition(
        field=status,
        source=[GradeAssessmentStatus.PROPOSED, GradeAssessmentStatus.REVIEWED],
        target=GradeAssessmentStatus.PUBLICIZED,
    )
    def publicize(self) -> None:
        """The result is put on public notice (公示)."""

    @transition(
        field=status,
        source=GradeAssessmentStatus.PUBLICIZED,
        target=GradeAssessmentStatus.REVIEW_REQUESTED,
    )
    def request_review(self) -> None:
        """The organization asks for a review during the notice period."""

    @transition(
        field=status,
        source=GradeAssessmentStatus.REVIEW_REQUESTED,
        target=GradeAssessmentStatus.REVIEWED,
    )
    def conclude_review(self) -> None:
        """The registry answers the review request (scores kept or corrected)."""

    @transition(
        field=status,
        source=[GradeAssessmentStatus.PUBLICIZED, GradeAssessmentStatus.REVIEWED],
        target=GradeAssessmentStatus.CONFIRMED,
    )
    def confirm(self) -> None:
        """The registry confirms the grade after the notice period; valid five years."""

    @transition(
        field=status,
        source=[GradeAssessmentStatus.CONFIRMED, GradeAssessmentStatus.DOWNGRADED],
        target=GradeAssessmentStatus.EXPIRED,
    )
    def expire(self) -> None:
        """The validity period ended, or a newer grade replaced this one."""

    @transition(
        field=status,
        source=[GradeAssessmentStatus.CONFIRMED, GradeAssessmentStatus.DOWNGRADED],
        target=GradeAssessmentStatus.DOWNGRADED,
    )
    def downgrade(self) -> None:
        """One level down for a failed annual inspection or a penalty."""

    @transition(
        field=status,
        source=[
            GradeAssessmentStatus.REQUESTED,
            GradeAssessmentStatus.ASSESSING,
            GradeAssessmentStatus.PROPOSED,
            GradeAssessmentStatus.PUBLICIZED,
            GradeAssessmentStatus.REVIEW_REQUESTED,
            GradeAssessmentStatus.REVIEWED,
            GradeAssessmentStatus.CONFIRMED,
            GradeAssessmentStatus.DOWNGRADED,
        ],
        target=GradeAssessmentStatus.CANCELLED,
    )
    def cancel(self) -> None:
        """The registry withdraws the assessment or the grade, with a reason."""


class IndicatorScore(models.Model):
    """An assessor's score for one indicator of an assessment."""

    assessment = models.ForeignKey(
        GradeAssessment,
        verbose_name=_("grade assessment"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        ordering = ["indicator__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="one_score_per_indicator"
            ),
            models.CheckConstraint(condition=Q(score__gte=0), name="indicator_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.score}"


# --- Credit (民政部令第60号) and rewards and penalties -----------------------------------------


class CreditList(models.TextChoices):
    ABNORMAL = "abnormal", _("Abnormal-activity list")
    SERIOUS = "serious", _("Serious-dishonesty list")


class CreditEntry(models.Model):
    """An organization's entry on the abnormal-activity or serious-dishonesty list."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="credit_entries",
    )
    credit_list = models.CharField(_("list"), max_length=10, choices=CreditList.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("The deciding authority and document number.")
    )
    listed_on = models.DateField(_("listed on"))
    removal_due = models.DateField(_("removal due"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    removal_reason = models.TextField(_("reason for removal"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit list entry")
        verbose_name_plural = _("credit list entries")
        ordering = ["-listed_on"]
        indexes = [
            models.Index(
                fields=["organization", "credit_list", "removed_on"], name="credit_org_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_credit_list_display()}"

    @property
    def is_active(self) -> bool:
        return self.removed_on is None


class CreditMeasureKind(models.TextChoices):
    REWARD = "reward", _("Reward")
    PENALTY = "penalty", _("Penalty")


class CreditMeasure(models.Model):
    """A reward or a penalty (奖励惩戒) recorded on an organization's credit record."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="credit_measures",
    )
    kind = models.CharField(
        pgettext_lazy("reward or penalty", "kind"),
        max_length=10,
        choices=CreditMeasureKind.choices,
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(
        pgettext_lazy("reward or penalty", "description"), blank=True, max_length=2000
    )
    authority = models.CharField(_("deciding authority"), max_length=200)
    decided_on = models.DateField(_("decided on"))
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reward or penalty")
        verbose_name_plural = _("rewards and penalties")
        ordering = ["-decided_on"]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_kind_display()}: {self.title}"


class CreditProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for the registry")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


class CreditProposal(ConcurrentTransitionMixin, models.Model):
    """A proposed credit-list entry raised by another part of the system (a poor performance
    evaluation, later an integrity finding); only the registry admin puts it on a list."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.CASCADE,
        related_name="credit_proposals",
    )
    credit_list = models.CharField(_("list"), max_length=10, choices=CreditList.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("What raised the proposal, e.g. an evaluation.")
    )
    source_url = models.CharField(_("source link"), max_length=200, blank=True)
    status = FSMField(
        _("status"),
        default=CreditProposalStatus.PROPOSED,
        choices=CreditProposalStatus.choices,
        protected=True,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=2000)
    entry = models.OneToOneField(
        CreditEntry,
        verbose_name=_("credit list entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposal",
    )

    class Meta:
        verbose_name = _("credit proposal")
        verbose_name_plural = _("credit proposals")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source"],
                condition=Q(status="proposed"),
                name="one_open_proposal_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_credit_list_display()} ({self.source})"

    @transition(
        field=status, source=CreditProposalStatus.PROPOSED, target=CreditProposalStatus.CONFIRMED
    )
    def confirm(self) -> None:
        """The registry admin put the organization on the list."""

    @transition(
        field=status, source=CreditProposalStatus.PROPOSED, target=CreditProposalStatus.REJECTED
    )
    def reject(self) -> None:
        """The registry admin declined, with a note."""


# --- Registries of public funding (DESIGN.md 5) -----------------------------------------------
# Imported by auditors from the staffing office's roster (编制) and the finance bureau's
# subsidy ledger; the integrity screens read them to find functions paid for twice.


class FundingImportKind(models.TextChoices):
    STAFFING = "staffing", _("Staffing roster")
    SUBSIDY = "subsidy", _("Subsidy ledger")


class FundingImportStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("import status", "Waiting")
    RUNNING = "running", pgettext_lazy("import status", "Importing")
    DONE = "done", pgettext_lazy("import status", "Imported")
    FAILED = "failed", pgettext_lazy("import status", "Failed")


class FundingImport(ConcurrentTransitionMixin, models.Model):
    """One imported file of the staffing roster or the subsidy ledger.

    Each import is a version: a newer one of the same kind becomes current and the older
    ones stay as history, their records still queryable, so a screen run can be replayed
    against the roster it saw.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=FundingImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    status = FSMField(
        _("status"),
        max_length=10,
        choices=FundingImportStatus.choices,
        default=FundingImportStatus.PENDING,
        protected=True,
    )
    errors = models.JSONField(_("errors"), default=list, blank=True, encoder=DjangoJSONEncoder)
    is_current = models.BooleanField(_("current version"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("funding registry import")
        verbose_name_plural = _("funding registry imports")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(is_current=True),
                name="funding_import_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @transition(
        field=status, source=FundingImportStatus.PENDING, target=FundingImportStatus.RUNNING
    )
    def start(self) -> None:
        """The file passed its checks; its rows are being written."""

    @transition(field=status, source=FundingImportStatus.RUNNING, target=FundingImportStatus.DONE)
    def finish(self) -> None:
        """Every row written: this version becomes the current one."""
        self.finished_at = timezone.now()
        self.rows_done = self.row_count
        self.is_current = True

    @transition(
        field=status,
        source=[FundingImportStatus.PENDING, FundingImportStatus.RUNNING],
        target=FundingImportStatus.FAILED,
    )
    def fail(self, errors: list[str]) -> None:
        """Bad rows or an unreadable file: nothing of it is kept."""
        self.finished_at = timezone.now()
        self.errors = errors
        self.rows_done = 0

    @property
    def is_finished(self) -> bool:
        return self.status in (FundingImportStatus.DONE, FundingImportStatus.FAILED)

    @property
    def progress(self) -> int:
        """Percentage of rows written, 0-100."""
        if self.status == FundingImportStatus.DONE:
            return 100
        if not self.row_count:
            return 0
        return min(100, self.rows_done * 100 // self.row_count)


class PostType(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative post (行政编制)")
    PUBLIC_INSTITUTION = "public_institution", _("Public-institution post (事业编制)")
    SUPPORT = "support", _("Support staff post (工勤编制)")
    OTHER_FUNDED = "other_funded", _("Other fiscally funded post")


class PostFunding(models.TextChoices):
    FULL = "full", _("Fully funded (全额拨款)")
    PARTIAL = "partial", _("Partly funded (差额拨款)")
    SELF_FUNDED = "self_funded", _("Self-financing (自收自支)")
    OTHER = "other", pgettext_lazy("post funding", "Other")


class StaffingRecord(models.Model):
    """One post on the staffing roster: a person holding a fiscally funded post."""

    # The FK indexes are left to the composite indexes below, which lead with the same
    # column: each index costs time on every row of a million-row import.
    funding_import = models.ForeignKey(
        FundingImport,
        verbose_name=_("import"),
        on_delete=models.CASCADE,
        related_name="staffing_records",
        db_index=False,
    )
    row_number = models.PositiveIntegerField(_("row"))
    person_name = models.CharField(_("name"), max_length=100)
    # As written in the roster (possibly 15 digits or mistyped); the normalized form is
    # set only when it is a valid GB 11643 number, so exact joins never see a bad value.
    id_number = models.CharField(_("National ID number"), max_length=40, blank=True)
    id_number_normalized = models.CharField(_("normalized ID number"), max_length=18, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, blank=True)
    employing_unit = models.CharField(_("employing unit"), max_length=200)
    unit_uscc = models.CharField(_("unit USCC"), max_length=18, blank=True)
    post_type = models.CharField(_("post type"), max_length=20, choices=PostType.choices)
    funding_type = models.CharField(_("funding type"), max_length=12, choices=PostFunding.choices)
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("function category"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    function_text = models.CharField(_("function as written"), max_length=200, blank=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        verbose_name = _("staffing record")
        verbose_name_plural = _("staffing records")
        ordering = ["funding_import", "row_number"]
        # Plain indexes, not db_index=True: on PostgreSQL that adds a second, LIKE-pattern
        # index per text column, which nothing here searches with.
        indexes = [
            models.Index(fields=["id_number_normalized"], name="staffing_id_number_idx"),
            models.Index(fields=["unit_uscc"], name="staffing_unit_uscc_idx"),
            models.Index(fields=["category", "start", "end"], name="staffing_cat_period_idx"),
            models.Index(fields=["funding_import", "row_number"], name="staffing_import_row_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.employing_unit})"

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class Subsidy(models.Model):
    """One grant of the subsidy ledger to an organization."""

    funding_import = models.ForeignKey(
        FundingImport,
        verbose_name=_("import"),
        on_delete=models.CASCADE,
        related_name="subsidies",
    )
    row_number = models.PositiveIntegerField(_("row"))
    recipient_name = models.CharField(_("recipient"), max_length=200)
    recipient_uscc = models.CharField(_("recipient USCC"), max_length=18, blank=True, db_index=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        related_name="subsidies",
        null=True,
        blank=True,
    )
    category = models.ForeignKey(
        ServiceCategory,
        verbose_name=_("purpose category"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    purpose_text = models.CharField(_("purpose as written"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    programme = models.CharField(_("source or programme"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("subsidy")
        verbose_name_plural = _("subsidies")
        ordering = ["funding_import", "row_number"]
        indexes = [
            models.Index(
                fields=["category", "period_start", "period_end"], name="subsidy_cat_period_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name} {self.amount}"
