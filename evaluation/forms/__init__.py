"""Forms of the evaluation pages: they parse input; the services decide and save.

Rules (a lawful panel size, a score within the criterion's points, a reason for every score,
a statement for a conflict, a written justification) live in ``evaluation.services``, whose
``ValidationError`` is shown on the form by ``add_service_errors``: on the field it names,
at the top otherwise. The score sheet maps the service's ``scores`` messages, which start
with the criterion's code, onto that criterion's inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from evaluation import selectors
from evaluation.models import (
    AssessorEmployment,
    AssessorRelation,
    CorrectionReason,
    Score,
)
from marketplace.models import Role, User
from orgs_registry import selectors as registry_selectors
from orgs_registry.forms import add_service_errors, date_input, model_field
from tenders.models import Tender, TenderCriterion

__all__ = [
    "DecisionForm",
    "DeclarationForm",
    "DeviationConfirmForm",
    "DeviationReviseForm",
    "EmploymentEndForm",
    "EmploymentForm",
    "JustificationForm",
    "ObjectiveCorrectionForm",
    "PanelForm",
    "ProfileForm",
    "RelationForm",
    "ReopenForm",
    "ScoreSheetForm",
    "add_service_errors",
]

# A service message about one criterion starts with its code: "plan: the score is missing"
# (a translation may use a full-width colon).
CRITERION_MESSAGE = re.compile(r"^\s*(?P<code>[-\w]+)\s*[:：]")


def _text(label: Any, *, rows: int = 3, max_length: int = 4000, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=max_length,
        required=False,
        **kwargs,
    )


def _score_input(points: Decimal | None = None) -> forms.NumberInput:
    """A number input with the range as a hint to the browser (the service decides)."""
    attrs: dict[str, Any] = {"step": "0.01", "min": "0", "inputmode": "decimal"}
    if points is not None:
        attrs["max"] = f"{Decimal(points).normalize():f}"
    return forms.NumberInput(attrs=attrs)


# --- Declarations and panels ---------------------------------------------------------------------


class DeclarationForm(forms.Form):
    """The conflict-of-interest declaration: the statement; the button pressed decides."""

    NO_CONFLICT = "no_conflict"
    CONFLICT = "conflict"

    decision = forms.ChoiceField(
        choices=[(NO_CONFLICT, _("No conflict")), (CONFLICT, _("I have a conflict"))],
        widget=forms.HiddenInput,
    )
    statement = _text(
        _("Statement"),
        rows=4,
        help_text=_(
            "Required when you declare a conflict: say what it is (employment in the last "
            "three years, family, a board seat, funding)."
        ),
    )

    @property
    def conflict(self) -> bool:
        return self.cleaned_data["decision"] == self.CONFLICT


class _UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


class _UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _user_label(obj)


def _user_label(user: Any) -> str:
    profile = getattr(user, "assessor_profile", None) if user.role == Role.ASSESSOR else None
    agency = getattr(profile, "agency", "") if profile is not None else ""
    return f"{user.get_full_name()} · {agency}" if agency else user.get_full_name()


class PanelForm(forms.Form):
    """Forming the panel: its size, the purchaser's representatives, named experts, a chair."""

    size = forms.IntegerField(
        label=_("Number of members"),
        min_value=1,
        max_value=99,
    )
    representatives = _UsersChoiceField(
        label=_("Purchaser's representatives"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Optional. Officials of the street office; at most a third of the panel."),
    )
    members = _UsersChoiceField(
        label=_("Named experts"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Optional. Experts named here are checked for conflicts like drawn ones; the "
            "remaining seats are drawn at random from the pool."
        ),
    )
    chair = _UserChoiceField(
        label=_("Chair"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The first expert (named, else drawn)"),
        help_text=_("A chair named here must be one of the experts or representatives above."),
    )

    def __init__(self, *args: Any, tender: Tender, minimum: int, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"size": minimum})
        super().__init__(*args, **kwargs)
        officials = selectors.panel_official_choices()
        experts = selectors.panel_expert_choices(tender)
        self.fields["representatives"].queryset = officials  # type: ignore[attr-defined]
        self.fields["members"].queryset = experts  # type: ignore[attr-defined]
        self.fields["chair"].queryset = selectors.panel_chair_choices(  # type: ignore[attr-defined]
            officials, experts
        )

    def users(self, name: str) -> list[User]:
        return list(self.cleaned_data.get(name) or [])


# --- Score sheets --------------------------------------------------------------------------------


class ScoreSheetForm(forms.Form):
    """A score and a short reason per subjective criterion (``score_<code>``, ``reason_<code>``).

    Only the type is checked here (a number); the range, the decimals and the reason are
    the service's. A criterion left empty is not sent, so a draft may be partial.
    """

    def __init__(
        self,
        *args: Any,
        criteria: Sequence[TenderCriterion],
        scores: Iterable[Score] = (),
        **kwargs: Any,
    ) -> None:
        saved = {score.criterion_id: score for score in scores}
        initial: dict[str, Any] = {}
        for criterion in criteria:
            score = saved.get(criterion.pk)
            if score is not None:
                initial[f"score_{criterion.code}"] = f"{Decimal(score.score).normalize():f}"
                initial[f"reason_{criterion.code}"] = score.reason
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"score_{criterion.code}"] = forms.DecimalField(
                label=_("Score"),
                required=False,
                widget=_score_input(criterion.points),
                help_text=_("From 0 to %(points)s, at most two decimals.")
                % {"points": f"{Decimal(criterion.points).normalize():f}"},
            )
            self.fields[f"reason_{criterion.code}"] = forms.CharField(
                label=_("Reason"),
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("A short reason for the score (at most 500 characters)."),
            )

    def rows(self) -> list[tuple[TenderCriterion, forms.BoundField, forms.BoundField]]:
        """Each criterion with its score and reason inputs, for the template."""
        return [
            (criterion, self[f"score_{criterion.code}"], self[f"reason_{criterion.code}"])
            for criterion in self.criteria
        ]

    def items(self) -> list[dict[str, Any]]:
        """The filled criteria as ``scoresheet_save`` takes them."""
        found = []
        for criterion in self.criteria:
            score = self.cleaned_data.get(f"score_{criterion.code}")
            reason = (self.cleaned_data.get(f"reason_{criterion.code}") or "").strip()
            if score is None and not reason:
                continue
            found.append(
                {
                    "criterion": criterion.code,
                    "score": None if score is None else str(score),
                    "reason": reason,
                }
            )
        return found

    def add_service_errors(self, error: ValidationError) -> None:
        """The service's messages on the criterion they name; the rest at the top."""
        if not hasattr(error, "error_dict"):
            add_service_errors(self, error)
            return
        codes = {criterion.code for criterion in self.criteria}
        rest: dict[str, Any] = {}
        for name, errors in error.error_dict.items():
            if name != "scores":
                rest[name] = errors
                continue
            for message in ValidationError(errors).messages:
                match = CRITERION_MESSAGE.match(message)
                code = match.group("code") if match else ""
                if code in codes:
                    self.add_error(f"score_{code}", message)
                else:
                    self.add_error(None, message)
        if rest:
            add_service_errors(self, ValidationError(rest))


class DeviationConfirmForm(forms.Form):
    note = _text(
        _("Why the score stands"),
        max_length=2000,
        help_text=_("A written reason is kept with the score and shown to the panel."),
    )


class DeviationReviseForm(forms.Form):
    score = forms.DecimalField(label=_("New score"), required=False, widget=_score_input())
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, points: Decimal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["score"].widget = _score_input(points)


# --- The ranking: corrections --------------------------------------------------------------------


class ReopenForm(forms.Form):
    """The chair reopens one locked sheet for one of the four reasons (DESIGN 4.4)."""

    sheet = forms.TypedChoiceField(label=_("Score sheet"), coerce=int)
    reason = forms.ChoiceField(label=_("Reason"), choices=CorrectionReason.choices)
    explanation = _text(_("Explanation"), help_text=_("What is corrected and why."))

    def __init__(self, *args: Any, sheets: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [("", "–"), *sheets]  # type: ignore[attr-defined]


class ObjectiveCorrectionForm(forms.Form):
    """The chair corrects an inconsistent objective score; the ranking is recomputed."""

    score = forms.TypedChoiceField(label=_("Objective score"), coerce=int)
    value = forms.DecimalField(label=_("Correct score"), required=False, widget=_score_input())
    explanation = _text(_("Explanation"), help_text=_("What was inconsistent, and the source."))

    def __init__(self, *args: Any, scores: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["score"].choices = [("", "–"), *scores]  # type: ignore[attr-defined]


# --- Price justifications ------------------------------------------------------------------------


class JustificationForm(forms.Form):
    """The bidder's written justification of an abnormally low price, with a document."""

    text = _text(
        _("Written justification"),
        rows=8,
        max_length=8000,
        help_text=_("How the service can be delivered at this price (costs, staff, resources)."),
    )
    file = forms.FileField(
        label=_("Supporting document (optional)"),
        required=False,
        help_text=_("PDF, Word (.docx), Excel (.xlsx), PNG or JPEG; at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}),
    )


class DecisionForm(forms.Form):
    """The panel's decision on a justification, recorded by its chair with reasons."""

    ACCEPT = "accept"
    REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (ACCEPT, _("Accept: the bid stays valid")),
            (REJECT, _("Reject: the bid is invalid")),
        ],
        widget=forms.RadioSelect,
    )
    note = _text(_("The panel's reasons"))

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == self.ACCEPT


# --- The assessor's profile ----------------------------------------------------------------------


class ProfileForm(forms.Form):
    agency = forms.CharField(label=_("Assessment agency"), max_length=200, required=False)
    categories = forms.ModelMultipleChoiceField(
        label=_("Service categories you assess"),
        queryset=registry_selectors.service_category_list(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


def _uscc_field(model: Any, name: str) -> forms.Field:
    return model_field(
        model,
        name,
        required=False,
        # Typed codes may carry spaces or full-width characters; the service normalizes.
        max_length=40,
        help_text=_("18 characters; an organization in the registry is recognized by it."),
    )


class EmploymentForm(forms.Form):
    employer_name = model_field(AssessorEmployment, "employer_name", required=False)
    employer_uscc = _uscc_field(AssessorEmployment, "employer_uscc")
    position = model_field(AssessorEmployment, "position", required=False)
    is_purchasing_unit = model_field(
        AssessorEmployment,
        "is_purchasing_unit",
        required=False,
        help_text=_("Staff of the street office that buys the service."),
    )
    start_date = model_field(AssessorEmployment, "start_date")
    end_date = model_field(
        AssessorEmployment,
        "end_date",
        required=False,
        help_text=_("Leave empty while it goes on."),
    )


class EmploymentEndForm(forms.Form):
    end_date = forms.DateField(
        label=capfirst(AssessorEmployment._meta.get_field("end_date").verbose_name),
        widget=date_input(),
    )


class RelationForm(forms.Form):
    organization_name = model_field(AssessorRelation, "organization_name", required=False)
    organization_uscc = _uscc_field(AssessorRelation, "organization_uscc")
    relation = model_field(
        AssessorRelation,
        "relation",
        required=False,
        help_text=_("For example: a family member works there, a board seat, funding."),
    )
