"""Filters of the public disclosure portal's lists (openings, results, performance).

Every list filters on the same facts of the tender behind a row: the year (of the opening,
the award notice or the evaluation), the service category, the community served, the
procurement method, and free text. A value that does not parse (a year of letters, an
unknown category) is a form error, never an exception: the page answers 400 with the errors.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from evaluation.models import PerformanceEvaluation
from orgs_registry.models import ServiceCategory
from tenders.models import (
    Award,
    Bid,
    Community,
    PerformanceGrade,
    ProcurementMethod,
    Tender,
)

# Longer searches are refused (a form error): no title or name is that long.
SEARCH_MAX_LENGTH = 100
FIRST_YEAR = 2000
LAST_YEAR = 2100


class YearFilter(django_filters.NumberFilter):
    """A calendar year: a whole number within a sane range (``2026.5`` is an error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", FIRST_YEAR)
        kwargs.setdefault("max_value", LAST_YEAR)
        kwargs.setdefault("lookup_expr", "year")
        super().__init__(*args, **kwargs)


def _search_filter() -> django_filters.CharFilter:
    return django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


def _category_filter(field_name: str) -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label=_("Service category"),
        field_name=field_name,
        to_field_name="code",
        queryset=ServiceCategory.objects.all(),
    )


def _community_filter(field_name: str) -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label=_("Community"),
        field_name=field_name,
        to_field_name="code",
        queryset=Community.objects.all(),
    )


def _method_filter(field_name: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        label=_("Procurement method"), field_name=field_name, choices=ProcurementMethod.choices
    )


class OpeningFilter(django_filters.FilterSet):
    """Opened tenders: year of the opening, category, community, method, title or reference."""

    q = _search_filter()
    year = YearFilter(label=_("Year opened"), field_name="opened_at")
    category = _category_filter("category")
    community = _community_filter("communities")
    method = _method_filter("method")

    class Meta:
        model = Tender
        fields = ["q", "year", "category", "community", "method"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        # Bidders are named in the opening record, so they may be searched for (only the
        # opened bids: an unopened one is nobody's business).
        named = Bid.objects.filter(
            tender=OuterRef("pk"), opened_at__isnull=False, organization__name__icontains=value
        )
        return queryset.filter(
            Q(title__icontains=value) | Q(reference__icontains=value) | Q(Exists(named))
        )


class ResultFilter(django_filters.FilterSet):
    """Awards in force: year of the notice, category, community, method, title, reference
    or the winner's name or code."""

    q = _search_filter()
    year = YearFilter(label=_("Year of the award"), field_name="notice_published_at")
    category = _category_filter("tender__category")
    community = _community_filter("tender__communities")
    method = _method_filter("tender__method")

    class Meta:
        model = Award
        fields = ["q", "year", "category", "community", "method"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(tender__title__icontains=value)
            | Q(tender__reference__icontains=value)
            | Q(bid__organization__name__icontains=value)
            | Q(bid__organization__uscc__iexact=value)
        )


class PerformanceFilter(django_filters.FilterSet):
    """Published evaluations: year of the submission, grade, category, community, contract
    title or number, the organization's name."""

    q = _search_filter()
    year = YearFilter(label=_("Year evaluated"), field_name="submitted_at")
    grade = django_filters.ChoiceFilter(
        label=_("Grade"), field_name="grade", choices=PerformanceGrade.choices
    )
    category = _category_filter("contract__tender__category")
    community = _community_filter("contract__tender__communities")

    class Meta:
        model = PerformanceEvaluation
        fields = ["q", "year", "grade", "category", "community"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(contract__title__icontains=value)
            | Q(contract__reference__icontains=value)
            | Q(contract__organization__name__icontains=value)
            | Q(contract__organization__uscc__iexact=value)
        )


class PortalSearchForm(forms.Form):
    """The portal's one search box, across tenders, contracts and organizations."""

    q = forms.CharField(
        label=_("Search tenders, contracts and organizations"),
        max_length=SEARCH_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
