"""The statistics page ``/statistics/``: figures of the policy's shift for everyone, with
the review figures (every flag status, mid-term evaluations) for officials and auditors.

The page only parses the filters and renders what ``reports.statistics.report_for`` gives
(cached for a few minutes); a bad filter is a 400 with the form's message, never a 500.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from reports import statistics
from reports.statistics import Choices, Filters

TEMPLATE = "reports/statistics/page.html"


class StatisticsFilterForm(forms.Form):
    """The year (any year in range; the list offers those with published tenders) and the
    service category."""

    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=statistics.YEAR_MIN,
        max_value=statistics.YEAR_MAX,
        widget=forms.Select,
    )
    category = forms.ChoiceField(label=_("Service category"), required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        years = list(choices.years)
        asked = self.data.get("year") if self.is_bound else None
        if asked and str(asked).isdigit() and int(asked) not in years:
            years = sorted({*years, int(asked)}, reverse=True)  # keep the asked year shown
        year_widget = cast("forms.Select", self.fields["year"].widget)
        year_widget.choices = [("", _("All years")), *((year, year) for year in years)]
        category_field = cast("forms.ChoiceField", self.fields["category"])
        category_field.choices = [("", _("All categories")), *choices.categories]

    def filters(self) -> Filters:
        return Filters(
            year=self.cleaned_data.get("year"), category=self.cleaned_data.get("category") or None
        )


def _pdf_year(filters: Filters, choices: Choices) -> int | None:
    """The year whose annual report the page links to: the chosen one, or the latest, when
    it has one (a year with published tenders)."""
    year = filters.year if filters.year is not None else choices.latest_year
    return year if year in choices.years else None


@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    choices = statistics.filter_choices()
    form = StatisticsFilterForm(request.GET, choices=choices)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form, "report": None}, status=400)
    filters = form.filters()
    audience = statistics.audience_for(request.user)
    report = statistics.report_for(filters=filters, audience=audience)
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "report": report,
            "filters": filters,
            "for_officials": audience == statistics.OFFICIAL,
            "pdf_year": _pdf_year(filters, choices),
            "cache_minutes": statistics.CACHE_SECONDS // 60,
        },
    )
