"""Forms of the performance evaluation pages: they parse input; the services decide.

The score form has a score and an evidence input per indicator (``score_<code>``,
``evidence_<code>``); the service names a problem by the indicator's code, which
``add_score_errors`` puts back on that indicator's inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from evaluation.models import PerformanceIndicator
from evaluation.selectors import performance as selectors
from orgs_registry.forms import add_service_errors, date_input
from tenders.models import EvaluationKind


class AssessorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "assessor_profile", None)
        agency = profile.agency if profile is not None and profile.agency else ""
        name = obj.get_full_name()
        return f"{name} · {agency}" if agency else name


class PerformanceAssignForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of evaluation"), choices=EvaluationKind.choices)
    assessor = AssessorChoiceField(
        label=_("Assessor"),
        queryset=selectors.assessor_choices(),
        help_text=_(
            "Independent of the organization: not employed by it within three years, no "
            "declared relation with it, not staff of the purchasing unit."
        ),
    )
    due_date = forms.DateField(label=_("Due"), widget=date_input())


def _reason(label: Any, *, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=max_length,
        required=False,
    )


class PerformanceWithdrawForm(forms.Form):
    reason = _reason(_("Why the evaluation is withdrawn"), max_length=2000)


class PerformanceReplyForm(forms.Form):
    reply = _reason(_("The organization's reply"), max_length=8000)


class PerformanceScoresForm(forms.Form):
    """A score and its evidence per indicator, and the conclusion. The satisfaction
    indicator has no input when the survey scores it."""

    SAVE = "save"
    SUBMIT = "submit"

    conclusion = forms.CharField(
        label=_("Conclusion"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=8000,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        indicators: Iterable[PerformanceIndicator],
        survey_scored: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = [i for i in indicators if not (survey_scored and i.is_satisfaction)]
        for indicator in self.indicators:
            points = f"{Decimal(indicator.max_points).normalize():f}"
            self.fields[f"score_{indicator.code}"] = forms.CharField(
                label=_("Score (0–%(points)s)") % {"points": points},
                required=False,
                max_length=10,
                widget=forms.NumberInput(
                    attrs={"step": "0.1", "min": "0", "max": points, "inputmode": "decimal"}
                ),
            )
            self.fields[f"evidence_{indicator.code}"] = forms.CharField(
                label=_("Evidence"),
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    @property
    def submitting(self) -> bool:
        return self.data.get("action") == self.SUBMIT

    def scores(self) -> dict[str, tuple[str, str]]:
        return {
            i.code: (
                self.cleaned_data.get(f"score_{i.code}", ""),
                self.cleaned_data.get(f"evidence_{i.code}", ""),
            )
            for i in self.indicators
        }

    def field_pairs(self) -> list[tuple[PerformanceIndicator, Any, Any]]:
        return [(i, self[f"score_{i.code}"], self[f"evidence_{i.code}"]) for i in self.indicators]

    def add_score_errors(self, error: ValidationError) -> None:
        codes = {i.code for i in self.indicators}
        add_service_errors(self, error, {code: f"score_{code}" for code in codes})


__all__ = [
    "PerformanceAssignForm",
    "PerformanceReplyForm",
    "PerformanceScoresForm",
    "PerformanceWithdrawForm",
    "add_service_errors",
]
