"""Filters for tender lists, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs_registry.models import ServiceCategory
from tenders.models import ProcurementMethod, Tender, TenderStatus


class TenderFilter(django_filters.FilterSet):
    """Status, category, method, budget range, deadline range and text (DESIGN.md 7).

    ``status=closed`` also finds published tenders whose deadline has passed (they are
    closed for bidders even before the closing job has run).
    """

    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=TenderStatus.choices, method="filter_status"
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Service category"),
        to_field_name="code",
        queryset=ServiceCategory.objects.all(),
    )
    method = django_filters.ChoiceFilter(
        label=_("Procurement method"), choices=ProcurementMethod.choices
    )
    budget_min = django_filters.NumberFilter(
        label=_("Budget from"), field_name="budget", lookup_expr="gte"
    )
    budget_max = django_filters.NumberFilter(
        label=_("Budget up to"), field_name="budget", lookup_expr="lte"
    )
    deadline_from = django_filters.DateFilter(
        label=_("Deadline from"),
        field_name="bid_deadline",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    deadline_to = django_filters.DateFilter(
        label=_("Deadline until"),
        field_name="bid_deadline",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Tender
        fields = [
            "q",
            "status",
            "category",
            "method",
            "budget_min",
            "budget_max",
            "deadline_from",
            "deadline_to",
        ]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(reference__iexact=value)
        )

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        if value == TenderStatus.PUBLISHED:
            return queryset.filter(status=TenderStatus.PUBLISHED, bid_deadline__gt=now)
        if value == TenderStatus.CLOSED:
            return queryset.filter(
                Q(status=TenderStatus.CLOSED)
                | Q(status=TenderStatus.PUBLISHED, bid_deadline__lte=now)
            )
        return queryset.filter(status=value)
