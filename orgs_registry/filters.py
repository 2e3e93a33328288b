"""Filters for organization lists, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from marketplace.filters import MAX_ID
from orgs_registry.identifiers import normalize_code
from orgs_registry.models import (
    CreditEntry,
    CreditList,
    Grade,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    ServiceCategory,
)


class OrganizationFilter(django_filters.FilterSet):
    """Kind, category, current grade, status and free text (name, code, representative).

    Expects a queryset annotated by ``selectors.with_current_grade``.
    """

    q = django_filters.CharFilter(label=_("Search"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=OrganizationKind.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("Service category"),
        field_name="categories",
        to_field_name="code",
        queryset=ServiceCategory.objects.all(),
    )
    grade = django_filters.ChoiceFilter(
        label=_("Current grade"),
        choices=[*Grade.choices, ("none", _("No grade"))],
        method="filter_grade",
    )
    min_grade = django_filters.ChoiceFilter(
        label=_("Grade at least"), choices=Grade.choices, method="filter_min_grade"
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrganizationStatus.choices)

    class Meta:
        model = Organization
        fields = ["q", "kind", "category", "grade", "min_grade", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(uscc__iexact=normalize_code(value))
            | Q(legal_representative__icontains=value)
            | Q(address__icontains=value)
        )

    def filter_grade(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "none":
            return queryset.filter(current_grade__isnull=True)
        return queryset.filter(current_grade=value)

    def filter_min_grade(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # "5A" > "4A" > ... as strings, since the digit comes first.
        return queryset.filter(current_grade__gte=value)


class CreditEntryFilter(django_filters.FilterSet):
    credit_list = django_filters.ChoiceFilter(label=_("List"), choices=CreditList.choices)
    active = django_filters.BooleanFilter(
        label=_("Still listed"), field_name="removed_on", lookup_expr="isnull"
    )
    organization = django_filters.NumberFilter(label=_("Organization"), max_value=MAX_ID)

    class Meta:
        model = CreditEntry
        fields = ["credit_list", "active", "organization"]
