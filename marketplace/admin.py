"""Admin site: read-only views of users and the audit log, and audited (de)activation."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.admin_base import ReadOnlyAdmin
from marketplace.audit import embargoed_events
from marketplace.models import AuditEvent, User
from marketplace.services import user_set_active
from marketplace.two_factor import can_reset_two_factor
from marketplace.two_factor_services import two_factor_reset


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """Accounts are created by ``manage.py add_user`` and the registry, never here."""

    list_display = ["username", "full_name", "role", "organization", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_superuser"]
    search_fields = ["username", "full_name", "email", "organization__name"]
    list_select_related = ["organization"]
    ordering = ["username"]
    fields = [
        "username",
        "full_name",
        "email",
        "language",
        "role",
        "organization",
        "is_active",
        "is_superuser",
        "last_login",
        "date_joined",
    ]
    actions = ["deactivate", "reactivate", "reset_two_factor"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description=_("Reactivate the selected accounts"))
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, active=True)

    @admin.action(description=_("Reset two-factor sign-in of the selected accounts"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """A lost phone: the account enrols a new authenticator at its next sign-in."""
        reset = 0
        for user in queryset:
            if can_reset_two_factor(request.user, user):
                two_factor_reset(user=user, actor=request.user)  # type: ignore[arg-type]
                reset += 1
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in reset for %(n)d account.",
                "Two-factor sign-in reset for %(n)d accounts.",
                reset,
            )
            % {"n": reset},
            messages.SUCCESS,
        )

    def _set_active(self, request: HttpRequest, queryset: QuerySet[User], *, active: bool) -> None:
        changed = 0
        for user in queryset:
            if user.pk == request.user.pk and not active:
                continue  # nobody locks themselves out of the admin site
            if user.is_active != active:
                user_set_active(user=user, active=active, actor=request.user)  # type: ignore[arg-type]
                changed += 1
        self.message_user(
            request,
            ngettext("%(n)d account changed.", "%(n)d accounts changed.", changed) % {"n": changed},
            messages.SUCCESS,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "created_at", "actor_name", "actor_role", "action", "object_type"]
    list_filter = ["action", "actor_role"]
    search_fields = ["actor_name", "object_id"]
    ordering = ["-sequence"]

    def get_queryset(self, request: HttpRequest) -> Any:
        # The admin site is no way around the seal: embargoed events stay hidden here too.
        return super().get_queryset(request).exclude(embargoed_events())
