"""Assessors and, later, panels, score sheets and evaluations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AssessorProfile(models.Model):
    """A member of the third-party assessor pool and the categories they may assess."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="assessor_profile",
    )
    agency = models.CharField(_("assessment agency"), max_length=200, blank=True)
    categories = models.ManyToManyField(
        "orgs_registry.ServiceCategory",
        verbose_name=_("service categories"),
        related_name="assessors",
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessor profile")
        verbose_name_plural = _("assessor profiles")

    def __str__(self) -> str:
        return str(self.user)
