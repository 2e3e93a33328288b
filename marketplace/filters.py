"""Filters for audit-log browsing."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import AuditAction, AuditEvent, Role

#: The largest row id a supported database stores (SQLite's INTEGER, PostgreSQL's bigint).
#: An id filter refuses a larger number: SQLite cannot even take it as a query parameter.
MAX_ID = 2**63 - 1


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditAction.choices)
    actor = django_filters.CharFilter(
        label=_("Actor (username)"), field_name="actor_name", lookup_expr="iexact"
    )
    actor_role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.choices)
    object_type = django_filters.CharFilter(label=_("Object type"), lookup_expr="iexact")
    object_id = django_filters.CharFilter(label=_("Object id"))
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=_("Until"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "actor_role", "object_type", "object_id", "since", "until"]
