"""Forms of the contract pages: they parse input; ``tenders.services.contracts`` decides.

The term rules (one year, three with a reason), the amounts adding up to the price, the
person joining being employed by the supplier: all are the services' checks, shown on
the form by ``add_service_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs_registry.forms import add_service_errors, date_input, model_field
from tenders.models import (
    Contract,
    ContractStatus,
    Milestone,
    TeamChange,
    TeamChangeKind,
)

__all__ = [
    "ContractDraftForm",
    "ContractEditForm",
    "ContractFilterForm",
    "PaymentForm",
    "TeamChangeDecisionForm",
    "TeamChangeForm",
    "TerminateForm",
    "add_service_errors",
]


class ContractFilterForm(forms.Form):
    """The contract list's filters (the selector's FilterSet validates them again)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *ContractStatus.choices], required=False
    )
    organization = forms.CharField(
        label=_("Supplier (Unified Social Credit Code)"), required=False, max_length=18
    )


class ContractDraftForm(forms.Form):
    """Drawing up the contract: the period (the tender's by default), the reason for a term
    over a year and the deliverables (the tender's description by default)."""

    service_start = model_field(Contract, "service_start")
    service_end = model_field(Contract, "service_end")
    long_term_reason = model_field(
        Contract, "long_term_reason", widget=forms.Textarea(attrs={"rows": 2})
    )
    deliverables = model_field(
        Contract, "deliverables", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )


def _amount_name(sequence: int) -> str:
    return f"milestone_{sequence}_amount"


def _due_name(sequence: int) -> str:
    return f"milestone_{sequence}_due_date"


class ContractEditForm(ContractDraftForm):
    """The draft's terms and, per milestone, its amount and due date."""

    def __init__(self, *args: Any, milestones: Iterable[Milestone] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deliverables"].required = True
        self.milestones = list(milestones)
        for milestone in self.milestones:
            self.fields[_amount_name(milestone.sequence)] = forms.DecimalField(
                label=_("Milestone %(number)s amount") % {"number": milestone.sequence},
                max_digits=14,
                decimal_places=2,
                min_value=0,
                initial=milestone.amount,
            )
            self.fields[_due_name(milestone.sequence)] = forms.DateField(
                label=_("Milestone %(number)s due") % {"number": milestone.sequence},
                widget=date_input(),
                initial=milestone.due_date,
            )

    def term_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("service_start", "service_end", "long_term_reason")]

    def milestone_rows(self) -> list[tuple[Milestone, forms.BoundField, forms.BoundField]]:
        return [
            (m, self[_amount_name(m.sequence)], self[_due_name(m.sequence)])
            for m in self.milestones
        ]

    def milestone_data(self) -> list[dict[str, Any]]:
        return [
            {
                "sequence": m.sequence,
                "amount": self.cleaned_data[_amount_name(m.sequence)],
                "due_date": self.cleaned_data[_due_name(m.sequence)],
            }
            for m in self.milestones
        ]


class TerminateForm(forms.Form):
    reason = model_field(
        Contract,
        "termination_reason",
        required=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Published with the contract. Payments not yet settled are withheld."),
    )


class PaymentForm(forms.Form):
    """The transfer of a released milestone: the day and the bank or treasury reference."""

    paid_on = model_field(Milestone, "paid_on", required=True)
    reference = model_field(Milestone, "payment_reference", required=True)


class TeamChangeForm(forms.Form):
    """A change of the service team; the choices are the current members and the
    supplier's current employees not on the team."""

    kind = forms.ChoiceField(label=_("Change"), choices=TeamChangeKind.choices)
    leaving = forms.TypedChoiceField(
        label=_("Member leaving"), coerce=int, required=False, empty_value=None
    )
    joining = forms.TypedChoiceField(
        label=_("Person joining"), coerce=int, required=False, empty_value=None
    )
    role = model_field(TeamChange, "role", required=False)
    fte = model_field(TeamChange, "fte", required=False)
    reason = model_field(TeamChange, "reason", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        members: Iterable[Any] = (),
        employees: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        leaving: Any = self.fields["leaving"]
        joining: Any = self.fields["joining"]
        leaving.choices = [("", "–")] + [
            (member.pk, f"{member.person.name} · {member.role}") for member in members
        ]
        joining.choices = [("", "–")] + [(person.pk, person.name) for person in employees]
        self.fields["role"].help_text = _("For the person joining; a replacement keeps the role.")
        self.fields["fte"].help_text = _("For the person joining, more than 0 and at most 1.")


class TeamChangeDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = model_field(
        TeamChange,
        "decision_note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the change is rejected."),
    )

    @property
    def approves(self) -> bool:
        return self.cleaned_data["decision"] == "approve"
