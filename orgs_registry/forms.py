"""Forms of the registry pages: they parse input; the services decide and save.

Field labels come from the model fields, so a page, the admin site and an error message
name a fact the same way. Rules (a valid code, a matching name, an eligible organization)
live in the services, whose ``ValidationError`` is shown on the form by
``add_service_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs_registry import selectors
from orgs_registry.models import (
    CHANGEABLE_FACTS,
    ChangeRequest,
    CreditEntry,
    CreditMeasure,
    Employment,
    Indicator,
    IndicatorScore,
    Organization,
    Person,
    Qualification,
    QualificationLevel,
)
from orgs_registry.services import NOTICE_DAYS, StaffInput

DATE_WIDGET_ATTRS = {"type": "date"}
REGISTERED_FACTS = (
    "name",
    "uscc",
    "legal_representative",
    "address",
    "registration_date",
    "registration_authority",
    "funding_type",
)
CONTACT_FIELDS = ("phone", "email", "description")


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs=DATE_WIDGET_ATTRS, format="%Y-%m-%d")


def model_field(model: type[models.Model], name: str, **overrides: Any) -> forms.Field:
    """The form field of a model field, with its label, length and choices."""
    field = model._meta.get_field(name)
    if isinstance(field, models.DateField):
        overrides.setdefault("widget", date_input())
    formfield = field.formfield(**overrides)  # type: ignore[union-attr]
    if formfield is None:
        raise ValueError(f"{model.__name__}.{name} has no form field")
    return formfield


def add_service_errors(
    form: forms.BaseForm, error: ValidationError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's ``ValidationError`` on ``form``: on its field when the form has one.

    Errors about fields the form does not show (and errors about no field) become
    non-field errors, so that nothing the service said is lost.
    """
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.error_dict.items():
        name = field_map.get(field, field)
        if name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(None, ValidationError(errors).messages)


def _categories_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Service categories"),
        queryset=selectors.service_category_list(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


def _reason_field(label: Any = None, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=required,
    )


# --- Organizations ---------------------------------------------------------------------------


class OrganizationFactsForm(forms.Form):
    """Registered facts, contact details and service categories of an organization."""

    name = model_field(Organization, "name")
    uscc = model_field(
        Organization,
        "uscc",
        # Typed codes may carry spaces or full-width characters; the service normalizes.
        max_length=40,
        help_text=_("18 characters, printed on the registration certificate."),
    )
    legal_representative = model_field(Organization, "legal_representative")
    address = model_field(Organization, "address")
    registration_date = model_field(Organization, "registration_date")
    registration_authority = model_field(Organization, "registration_authority")
    funding_type = model_field(Organization, "funding_type")
    phone = model_field(Organization, "phone")
    email = model_field(Organization, "email")
    categories = _categories_field()
    description = model_field(Organization, "description")

    def facts(self) -> dict[str, Any]:
        """The cleaned values as the services take them."""
        return {name: self.cleaned_data[name] for name in self.fields}

    @classmethod
    def initial_for(cls, organization: Organization) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(organization, name) for name in (*REGISTERED_FACTS, *CONTACT_FIELDS)
        }
        initial["categories"] = list(organization.categories.all())
        return initial


class RegistrationForm(OrganizationFactsForm):
    """Self-registration by a signed-in person without a role."""


class RegistrationWithAccountForm(OrganizationFactsForm):
    """A visitor registers the organization and its first administrator account."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only; you sign in with it."),
    )
    full_name = forms.CharField(label=_("Your full name"), max_length=100)
    account_email = forms.EmailField(
        label=_("Your e-mail"), help_text=_("For password resets and notices.")
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    ACCOUNT_FIELDS = ("username", "full_name", "account_email", "password1", "password2")
    # The account service names the password "password" and the account's e-mail "email".
    FIELD_MAP = {"password": "password1"}

    field_order = [*ACCOUNT_FIELDS]

    def account_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ACCOUNT_FIELDS]

    def organization_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name not in self.ACCOUNT_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned

    def account(self) -> dict[str, Any]:
        return {
            "username": self.cleaned_data["username"],
            "full_name": self.cleaned_data["full_name"],
            "account_email": self.cleaned_data["account_email"],
            "password": self.cleaned_data["password1"],
        }

    def facts(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in super().facts().items()
            if name not in self.ACCOUNT_FIELDS
        }


class ProfileForm(forms.Form):
    """Contact details, description and categories: the organization keeps them itself."""

    phone = model_field(Organization, "phone")
    email = model_field(Organization, "email")
    categories = _categories_field()
    description = model_field(Organization, "description")


class ResubmitForm(OrganizationFactsForm):
    """A rejected registration, corrected and sent back."""


class ChangeRequestForm(forms.Form):
    """New values for registered facts, with the reason; the registry decides."""

    name = model_field(Organization, "name")
    legal_representative = model_field(Organization, "legal_representative")
    address = model_field(Organization, "address")
    registration_date = model_field(Organization, "registration_date")
    registration_authority = model_field(Organization, "registration_authority")
    funding_type = model_field(Organization, "funding_type")
    reason = model_field(ChangeRequest, "reason", widget=forms.Textarea(attrs={"rows": 3}))

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CHANGEABLE_FACTS}


class ReasonForm(forms.Form):
    """One written reason: rejection, deregistration, downgrade, cancellation, review."""

    reason = _reason_field()


class ChangeDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve and apply")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = _reason_field(_("Note (required to reject)"), required=False)


# --- Rosters ---------------------------------------------------------------------------------


class StaffForm(forms.Form):
    """One person put on the roster; the person is recorded once, by ID number."""

    name = model_field(Person, "name")
    id_number = model_field(
        Person,
        "id_number",
        max_length=30,
        help_text=_("18 characters; a 15-digit number is converted."),
    )
    phone = model_field(Person, "phone")
    role = model_field(Employment, "role")
    weekly_hours = model_field(Employment, "weekly_hours")
    start_date = model_field(Employment, "start_date")
    end_date = model_field(Employment, "end_date")
    qualification = forms.ChoiceField(
        label=_("Social-work qualification"),
        choices=[("", _("None")), *QualificationLevel.choices],
        required=False,
    )
    certificate_number = model_field(Qualification, "certificate_number")
    certified_on = model_field(Qualification, "certified_on")

    FIELD_MAP = {"level": "qualification"}

    def staff_input(self) -> StaffInput:
        data = self.cleaned_data
        return StaffInput(
            name=data["name"],
            id_number=data["id_number"],
            role=data["role"],
            start_date=data["start_date"],
            weekly_hours=data["weekly_hours"],
            end_date=data["end_date"],
            phone=data["phone"],
            qualification=data["qualification"],
            certificate_number=data["certificate_number"],
            certified_on=data["certified_on"],
        )


class EmploymentForm(forms.Form):
    role = model_field(Employment, "role")
    weekly_hours = model_field(Employment, "weekly_hours")
    start_date = model_field(Employment, "start_date")
    end_date = model_field(
        Employment, "end_date", help_text=_("Leave empty while the person still works here.")
    )


class EmploymentEndForm(forms.Form):
    end_date = model_field(Employment, "end_date", required=True, label=_("Last working day"))


class QualificationForm(forms.Form):
    level = model_field(Qualification, "level")
    certificate_number = model_field(Qualification, "certificate_number")
    certified_on = model_field(Qualification, "certified_on")


class RosterImportForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_(
            "CSV (UTF-8) or Excel (.xlsx) with the columns of the template. "
            "Either every row is imported or none."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


# --- Grades ----------------------------------------------------------------------------------


def _score_field_name(indicator: Indicator) -> str:
    return f"score_{indicator.code}"


def _note_field_name(indicator: Indicator) -> str:
    return f"note_{indicator.code}"


class ScoresForm(forms.Form):
    """One score and note per indicator; empty scores are left as they are."""

    def __init__(
        self,
        *args: Any,
        indicators: Iterable[Indicator],
        scores: Iterable[IndicatorScore] = (),
        with_comment: bool = True,
        comment: str = "",
        prefill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        saved = {s.indicator_id: s for s in scores}
        for indicator in self.indicators:
            score = saved.get(indicator.pk)
            self.fields[_score_field_name(indicator)] = forms.DecimalField(
                label=_("Score for %(code)s") % {"code": indicator.code},
                min_value=Decimal("0"),
                max_value=Decimal(indicator.max_points),
                max_digits=5,
                decimal_places=1,
                required=False,
                initial=score.score if (score and prefill) else None,
                widget=forms.NumberInput(attrs={"class": "score-input"}),
            )
            self.fields[_note_field_name(indicator)] = forms.CharField(
                label=_("Note on %(code)s") % {"code": indicator.code},
                max_length=500,
                required=False,
                initial=score.note if (score and prefill) else "",
            )
        if with_comment:
            self.fields["comment"] = forms.CharField(
                label=_("Assessor's conclusion"),
                widget=forms.Textarea(attrs={"rows": 4}),
                required=False,
                initial=comment,
            )

    def rows(self) -> list[dict[str, Any]]:
        """One row per indicator with its bound score and note fields, for the template."""
        return [
            {
                "indicator": indicator,
                "score": self[_score_field_name(indicator)],
                "note": self[_note_field_name(indicator)],
            }
            for indicator in self.indicators
        ]

    def scores(self) -> dict[str, tuple[Decimal, str]]:
        """``{code: (score, note)}`` for every indicator given a score."""
        found = {}
        for indicator in self.indicators:
            value = self.cleaned_data.get(_score_field_name(indicator))
            if value is not None:
                note = self.cleaned_data.get(_note_field_name(indicator)) or ""
                found[indicator.code] = (value, note)
        return found

    @property
    def field_map(self) -> dict[str, str]:
        return {i.code: _score_field_name(i) for i in self.indicators}


class ReviewConclusionForm(ScoresForm):
    """The registry's answer to a review request, with scores corrected where needed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(with_comment=False, prefill=False)
        super().__init__(*args, **kwargs)
        self.fields["conclusion"] = forms.CharField(
            label=_("Conclusion of the review"),
            widget=forms.Textarea(attrs={"rows": 4}),
            max_length=4000,
        )


class AssignAssessorForm(forms.Form):
    assessor = forms.ModelChoiceField(
        label=_("Assessor"),
        queryset=selectors.grade_assessor_choice_list(),
        empty_label=_("Choose an assessor"),
    )


class PublicizeForm(forms.Form):
    days = forms.IntegerField(
        label=_("Days of public notice"), min_value=1, max_value=90, initial=NOTICE_DAYS
    )


# --- Credit ----------------------------------------------------------------------------------


class CreditEntryForm(forms.Form):
    credit_list = model_field(CreditEntry, "credit_list")
    reason = model_field(CreditEntry, "reason", widget=forms.Textarea(attrs={"rows": 3}))
    source = model_field(CreditEntry, "source")
    listed_on = model_field(CreditEntry, "listed_on")
    removal_due = model_field(CreditEntry, "removal_due")


class CreditRemoveForm(forms.Form):
    reason = model_field(
        CreditEntry,
        "removal_reason",
        required=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    removed_on = model_field(
        CreditEntry, "removed_on", help_text=_("Leave empty for today."), required=False
    )

    FIELD_MAP = {"removal_reason": "reason"}


class CreditMeasureForm(forms.Form):
    kind = model_field(CreditMeasure, "kind")
    title = model_field(CreditMeasure, "title")
    authority = model_field(CreditMeasure, "authority")
    decided_on = model_field(CreditMeasure, "decided_on")
    document_number = model_field(CreditMeasure, "document_number")
    description = model_field(CreditMeasure, "description")
    downgrade_grade = forms.BooleanField(
        label=_("The penalty lowers the current grade one level"), required=False
    )


# --- Credit proposals ------------------------------------------------------------------------


class CreditProposalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm and put on the list")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = _reason_field(_("Note (required to reject)"), required=False)
