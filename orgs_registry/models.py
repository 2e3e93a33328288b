"""Social organizations and the service category catalogue."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from orgs_registry.identifiers import uscc_kind, validate_uscc


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


class OrganizationKind(models.TextChoices):
    SOCIAL_GROUP = "social_group", _("Social group")
    SOCIAL_SERVICE_AGENCY = "social_service_agency", _("Social service agency")
    FOUNDATION = "foundation", _("Foundation")
    OTHER = "other", _("Other")


class OrganizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    ACTIVE = "active", _("Active")
    ABNORMAL = "abnormal", _("On the abnormal-activity list")
    DEREGISTERED = "deregistered", _("Deregistered")


def _validate_uscc_field(value: str) -> None:
    try:
        validate_uscc(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_uscc") from exc


class Organization(models.Model):
    """A social organization (社会组织): the register of who may compete."""

    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("Unified Social Credit Code"),
        max_length=18,
        unique=True,
        validators=[_validate_uscc_field],
    )
    kind = models.CharField(
        _("kind"), max_length=32, choices=OrganizationKind.choices, editable=False
    )
    status = FSMField(
        _("status"),
        default=OrganizationStatus.PENDING,
        choices=OrganizationStatus.choices,
        protected=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("social organization")
        verbose_name_plural = _("social organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.kind = uscc_kind(self.uscc)
        super().save(*args, **kwargs)

    @transition(field=status, source=OrganizationStatus.PENDING, target=OrganizationStatus.ACTIVE)
    def activate(self) -> None:
        """Registration verified by a registry administrator."""
