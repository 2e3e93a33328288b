"""Forms of the tender pages: they parse input; the services decide and save.

Field labels come from the model fields, so a page, the admin site and an error message
name a fact the same way. Rules (deadlines a method allows, a scheme adding up to 100, a
price under the ceiling, a person on the roster) live in ``tenders.services``, whose
``ValidationError`` is shown on the form by ``add_service_errors``: on the field it
names, on the formset for ``criteria`` and ``staff``, at the top otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from orgs_registry import selectors as registry_selectors
from orgs_registry.forms import add_service_errors as add_form_errors
from orgs_registry.forms import model_field
from tenders import selectors
from tenders.models import (
    Amendment,
    BidDocument,
    BidDocumentKind,
    BidStaff,
    Challenge,
    ChallengeRemedy,
    ChallengeStatus,
    CriterionKind,
    Question,
    Tender,
    TenderCriterion,
    TenderDocument,
    TieRule,
)
from tenders.rules import default_rule

# What ``<input type="datetime-local">`` sends and shows (minutes; seconds are not asked for).
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# Deadlines are typed and shown in the street office's own time (Asia/Shanghai).
OFFICE_TIMEZONE = ZoneInfo(settings.TIME_ZONE)
TENDER_FACTS = (
    "title",
    "description",
    "category",
    "method",
    "purchase_nature",
    "budget",
    "service_start",
    "service_end",
    "eligibility_notes",
    "question_deadline",
    "bid_deadline",
    "tie_rule",
    "trim_extremes",
)
AMENDABLE_FACTS = (
    "description",
    "eligibility_notes",
    "budget",
    "question_deadline",
    "bid_deadline",
    "service_start",
    "service_end",
)


def add_service_errors(
    form: forms.BaseForm,
    error: ValidationError,
    *,
    formsets: Mapping[str, ServiceErrorsFormSet] | None = None,
) -> None:
    """Show a service's ``ValidationError``: list errors (``criteria``, ``staff``) on their
    formset, field errors on their field, the rest at the top of ``form``."""
    formsets = formsets or {}
    if not hasattr(error, "error_dict"):
        add_form_errors(form, error)
        return
    rest: dict[str, Any] = {}
    for name, errors in error.error_dict.items():
        if name in formsets:
            formsets[name].add_service_errors(ValidationError(errors).messages)
        else:
            rest[name] = errors
    if rest:
        add_form_errors(form, ValidationError(rest))


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read and shown in the street office's time zone."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        )
        kwargs.setdefault("input_formats", [DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M"])
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(OFFICE_TIMEZONE):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(OFFICE_TIMEZONE):
            return super().prepare_value(value)


def _tender_field(name: str, **overrides: Any) -> forms.Field:
    if name in ("question_deadline", "bid_deadline"):
        field = Tender._meta.get_field(name)
        return LocalDateTimeField(
            label=overrides.pop("label", capfirst(field.verbose_name)),
            help_text=overrides.pop("help_text", _("Beijing time (UTC+8).")),
            **overrides,
        )
    if name == "category":
        overrides.setdefault("queryset", registry_selectors.service_category_list())
    return model_field(Tender, name, **overrides)


def _same(before: Any, after: Any) -> bool:
    """Equal as the form can express it: datetimes to the minute, the input's precision."""
    if isinstance(before, datetime) and isinstance(after, datetime):
        return before.replace(second=0, microsecond=0) == after.replace(second=0, microsecond=0)
    return bool(before == after)


# --- Formsets that show the services' list errors ------------------------------------------------


class ServiceErrorsFormSet(forms.BaseFormSet):
    """A formset that also shows a service's errors about the whole list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service_errors: list[str] = []

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row is read, changed or not (Django skips unchanged extra rows): all its
        # fields are optional and an empty row is ignored anyway.
        return {**super().get_form_kwargs(index), "empty_permitted": False}

    def add_service_errors(self, messages: Iterable[str]) -> None:
        self.service_errors.extend(messages)

    def all_errors(self) -> list[str]:
        """Every problem of the list and its rows, for the summary at the top of the page."""
        found = [str(error) for error in self.non_form_errors()] + self.service_errors
        for number, form in enumerate(self.forms, start=1):
            for field in form:
                found.extend(
                    _("row %(n)s, %(field)s: %(error)s")
                    % {"n": number, "field": field.label, "error": error}
                    for error in field.errors
                )
        return found


OBJECTIVE_RULE_CHOICES = [
    ("grade", _("The organization's grade")),
    ("social_workers", _("Certified social workers on the staffing plan")),
    ("past_performance", _("Past performance evaluations")),
]


class CriterionForm(forms.Form):
    """One row of the weighted scoring scheme; an empty row is ignored."""

    code = model_field(TenderCriterion, "code", required=False)
    name = model_field(TenderCriterion, "name", required=False)
    kind = forms.ChoiceField(
        label=capfirst(TenderCriterion._meta.get_field("kind").verbose_name),
        choices=[("", "–"), *CriterionKind.choices],
        required=False,
    )
    points = model_field(TenderCriterion, "points", required=False)
    rule_type = forms.ChoiceField(
        label=_("Scored from"),
        choices=[("", "–"), *OBJECTIVE_RULE_CHOICES],
        required=False,
        help_text=_("Objective criteria only: which registry data gives the score."),
    )
    # Carried through the page unchanged: the template's description, bands and rule.
    description = forms.CharField(widget=forms.HiddenInput, required=False)
    bands = forms.JSONField(widget=forms.HiddenInput, required=False)
    rule = forms.JSONField(widget=forms.HiddenInput, required=False)

    def row(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not any(data.get(name) not in (None, "") for name in ("code", "name", "kind", "points")):
            return None
        points = data.get("points")
        kind = data.get("kind") or ""
        rule = data.get("rule") if isinstance(data.get("rule"), dict) else {}
        rule_type = data.get("rule_type") or ""
        if kind != "objective":
            rule = {}
        elif rule_type and rule.get("type") != rule_type:
            rule = default_rule("objective", rule_type) or {"type": rule_type}
        return {
            "code": data.get("code") or "",
            "name": data.get("name") or "",
            "kind": kind,
            "points": "" if points is None else str(points),
            "description": data.get("description") or "",
            "bands": data.get("bands") if isinstance(data.get("bands"), list) else [],
            "rule": rule,
        }


class CriteriaFormSet(ServiceErrorsFormSet):
    def rows(self) -> list[dict[str, str]]:
        """The filled rows, as the services take them."""
        return [row for form in self.forms if (row := form.row()) is not None]

    def differs_from(self, criteria: Iterable[TenderCriterion]) -> bool:
        def key(code: str, name: str, kind: str, points: Any) -> tuple[str, str, str, str]:
            try:
                number = str(Decimal(str(points)).normalize())
            except ArithmeticError:
                number = str(points)
            return (code, name, kind, number)

        current = [
            (key(c.code, c.name, c.kind, c.points), (c.rule or {}).get("type", ""))
            for c in criteria
        ]
        given = [
            (
                key(r["code"], r["name"], r["kind"], r["points"]),
                (r["rule"] or default_rule(r["kind"], r["code"])).get("type", ""),
            )
            for r in self.rows()
        ]
        return current != given


def _criterion_initial(criterion: Any) -> dict[str, Any]:
    """A form row from a tender criterion or a template row (a model or a dict)."""

    def get(name: str) -> Any:
        if isinstance(criterion, Mapping):
            return criterion.get(name)
        return getattr(criterion, name)

    rule = get("rule") or {}
    return {
        "code": get("code"),
        "name": get("name"),
        "kind": get("kind"),
        "points": get("points"),
        "rule_type": rule.get("type", ""),
        "description": get("description") or "",
        "bands": get("bands") or [],
        "rule": rule,
    }


def criteria_formset(
    data: Any = None, *, criteria: Iterable[Any] = (), extra: int = 3
) -> CriteriaFormSet:
    """The scheme's rows (the current criteria first) and ``extra`` empty ones."""
    initial = [_criterion_initial(c) for c in criteria]
    factory = forms.formset_factory(
        CriterionForm, formset=CriteriaFormSet, extra=extra, max_num=40, absolute_max=40
    )
    return cast(CriteriaFormSet, factory(data, initial=initial or None, prefix="criteria"))


# --- Tenders -------------------------------------------------------------------------------------


class TenderForm(forms.Form):
    """The facts of a draft tender (its scoring scheme is a formset beside it)."""

    title = _tender_field("title")
    description = _tender_field("description", widget=forms.Textarea(attrs={"rows": 8}))
    category = _tender_field("category")
    method = _tender_field("method")
    purchase_nature = _tender_field(
        "purchase_nature",
        help_text=_(
            "Only a public service may be bought; everything else is on the negative list "
            "(Ministry of Finance Order No. 102, Art. 10)."
        ),
    )
    budget = _tender_field("budget", help_text=_("In yuan; no bid may be above it."))
    service_start = _tender_field("service_start")
    service_end = _tender_field("service_end")
    communities = forms.ModelMultipleChoiceField(
        label=capfirst(Tender._meta.get_field("communities").verbose_name),
        queryset=selectors.community_list(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Leave empty for the whole street office."),
    )
    eligibility_notes = _tender_field("eligibility_notes", widget=forms.Textarea(attrs={"rows": 3}))
    question_deadline = _tender_field("question_deadline")
    scheme_template = forms.ModelChoiceField(
        queryset=selectors.scheme_template_list(), required=False, widget=forms.HiddenInput
    )
    tie_rule = _tender_field("tie_rule", required=False)
    trim_extremes = _tender_field("trim_extremes", required=False)
    bid_deadline = _tender_field(
        "bid_deadline",
        help_text=_(
            "Beijing time (UTC+8). The bids open at this moment. At least 20 days after "
            "publication for an open tender, 10 for a competitive consultation."
        ),
    )

    def facts(self) -> dict[str, Any]:
        """Every fact, as ``tender_create`` takes them."""
        facts = {name: self.cleaned_data[name] for name in TENDER_FACTS}
        facts["tie_rule"] = facts["tie_rule"] or TieRule.DRAW
        return facts

    def changed_facts(self, tender: Tender) -> dict[str, Any]:
        """The facts that differ from ``tender``, as ``tender_update`` takes them."""
        return {
            name: value
            for name, value in self.facts().items()
            if not _same(getattr(tender, name), value)
        }

    @staticmethod
    def initial_for(tender: Tender) -> dict[str, Any]:
        initial = {name: getattr(tender, name) for name in TENDER_FACTS}
        initial["category"] = tender.category_id
        initial["communities"] = list(tender.communities.all())
        return initial


class TenderDocumentForm(forms.Form):
    """A public tender document; its type is decided by its content, never by its name."""

    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("PDF, Word (.docx), Excel (.xlsx), PNG or JPEG; at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}),
    )
    title = model_field(TenderDocument, "title", required=False)

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].required = required
        self.fields["title"].help_text = _("Leave empty to use the file name.")


class DocumentsFormSet(forms.BaseFormSet):
    def uploads(self) -> list[tuple[Any, str]]:
        return [
            (form.cleaned_data["file"], form.cleaned_data.get("title") or "")
            for form in self.forms
            if form.cleaned_data.get("file")
        ]


def amendment_documents_formset(data: Any = None, files: Any = None) -> DocumentsFormSet:
    factory = forms.formset_factory(
        TenderDocumentForm, formset=DocumentsFormSet, extra=2, max_num=5, absolute_max=5
    )
    return cast(
        DocumentsFormSet,
        factory(data, files, prefix="documents", form_kwargs={"required": False}),
    )


class AmendmentForm(forms.Form):
    """An amendment (更正公告): what changed and why, and the new values."""

    summary = model_field(Amendment, "summary", widget=forms.Textarea(attrs={"rows": 4}))
    affects_preparation = model_field(
        Amendment,
        "affects_preparation",
        help_text=_(
            "Bidders must confirm their bids again, and the deadline moves so that at least "
            "15 days remain. A new budget or scheme always counts as affecting preparation."
        ),
    )
    description = _tender_field("description", widget=forms.Textarea(attrs={"rows": 8}))
    eligibility_notes = _tender_field("eligibility_notes", widget=forms.Textarea(attrs={"rows": 3}))
    budget = _tender_field("budget")
    question_deadline = _tender_field("question_deadline")
    bid_deadline = _tender_field("bid_deadline")
    service_start = _tender_field("service_start")
    service_end = _tender_field("service_end")

    @staticmethod
    def initial_for(tender: Tender) -> dict[str, Any]:
        return {name: getattr(tender, name) for name in AMENDABLE_FACTS}

    def changes(self, tender: Tender) -> dict[str, Any]:
        """The amendable facts given values different from the tender's."""
        return {
            name: self.cleaned_data[name]
            for name in AMENDABLE_FACTS
            if not _same(getattr(tender, name), self.cleaned_data[name])
        }


def _reason_field(label: Any, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=4000,
        required=required,
    )


class CancelForm(forms.Form):
    reason = _reason_field(_("Public reason for the cancellation"))


class ReturnForm(forms.Form):
    # Required of an approver, not of the drafter taking the tender back: the service decides.
    note = _reason_field(_("Note to the drafter"), required=False)


class QuestionForm(forms.Form):
    text = model_field(
        Question,
        "text",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The answer is published to everyone; your organization's name is not shown."),
    )


class AnswerForm(forms.Form):
    answer = model_field(
        Question,
        "answer",
        required=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Published to everyone who reads the tender, without the asker's name."),
    )


class ReviewForm(forms.Form):
    """The qualification and conformity review of one opened bid."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("qualified", _("Qualified")),
            ("disqualified", _("Disqualified")),
        ],
        widget=forms.RadioSelect,
    )
    reason = _reason_field(_("Reason (required to disqualify)"), required=False, rows=2)

    @property
    def qualified(self) -> bool:
        return self.cleaned_data["decision"] == "qualified"


# --- Bids ---------------------------------------------------------------------------------------


class BidForm(forms.Form):
    """The price and the technical proposal of the organization's draft bid."""

    price = forms.DecimalField(
        label=_("Price (yuan)"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Sealed: nobody outside your organization sees it before the opening."),
    )
    proposal = forms.CharField(
        label=_("Technical proposal"),
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
    )

    @staticmethod
    def initial_for(content: Any) -> dict[str, Any]:
        if content is None:
            return {}
        return {"price": content.price, "proposal": content.proposal}


class StaffRowForm(forms.Form):
    """One person of the staffing plan, chosen from the organization's current roster."""

    person = forms.TypedChoiceField(label=_("Person"), coerce=int, required=False, empty_value=None)
    role = model_field(BidStaff, "role", required=False)
    fte = forms.DecimalField(
        label=capfirst(BidStaff._meta.get_field("fte").verbose_name),
        max_digits=3,
        decimal_places=2,
        required=False,
        help_text=_("More than 0, at most 1."),
    )

    def __init__(self, *args: Any, people: Sequence[tuple[Any, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["person"]).choices = [("", _("Nobody")), *people]

    def row(self) -> dict[str, Any] | None:
        person = self.cleaned_data.get("person")
        if person is None:
            return None
        fte = self.cleaned_data.get("fte")
        return {
            "person": person,
            "role": self.cleaned_data.get("role") or "",
            "fte": "" if fte is None else str(fte),
        }


class StaffFormSet(ServiceErrorsFormSet):
    def rows(self) -> list[dict[str, Any]]:
        return [row for form in self.forms if (row := form.row()) is not None]


def staff_formset(
    data: Any = None, *, people: Sequence[tuple[Any, str]], plan: Iterable[Any] = (), extra: int = 3
) -> StaffFormSet:
    initial = [{"person": line.person_id, "role": line.role, "fte": line.fte} for line in plan]
    factory = forms.formset_factory(
        StaffRowForm, formset=StaffFormSet, extra=extra, max_num=100, absolute_max=100
    )
    return cast(
        StaffFormSet,
        factory(data, initial=initial or None, prefix="staff", form_kwargs={"people": people}),
    )


class BidDocumentForm(forms.Form):
    """A document of the bid: sealed, its name included, until the opening."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, Word (.docx), Excel (.xlsx), PNG or JPEG; at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}),
    )
    kind = model_field(
        BidDocument, "kind", initial=BidDocumentKind.TECHNICAL, label=_("Kind of document")
    )


# --- Award and challenges -----------------------------------------------------------------------


class AwardForm(forms.Form):
    """The approver's choice of the winner among the frozen ranking's rows."""

    bid = forms.ChoiceField(label=_("Winning bid"), widget=forms.RadioSelect)
    reason = _reason_field(_("Reason for not choosing the first-ranked bid"), required=False)

    def __init__(self, *args: Any, rows: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["bid"]).choices = [
            (
                str(row.bid_id),
                _("Position %(position)s: %(organization)s, total %(total)s")
                % {"position": row.position, "organization": row.organization, "total": row.total},
            )
            for row in rows
        ]
        # The first position is the default; another choice needs the reason (the service).
        if rows and "bid" not in self.initial:
            self.initial["bid"] = str(rows[0].bid_id)
        self.fields["reason"].help_text = _(
            "Required when the chosen bid is not in position 1; published with the award notice."
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the cleaned value is a list (maybe empty)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ChallengeForm(forms.Form):
    """A challenge (质疑) of the award: subject, grounds and supporting documents."""

    subject = model_field(Challenge, "subject")
    text = model_field(Challenge, "text", widget=forms.Textarea(attrs={"rows": 8}))
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_(
            "Up to 10 files: PDF, Word (.docx), Excel (.xlsx), PNG or JPEG; at most 20 MB each."
        ),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}),
    )


class ChallengeAnswerForm(forms.Form):
    """An official's written answer, proposing to uphold the challenge or not."""

    answer = model_field(
        Challenge, "answer", required=True, widget=forms.Textarea(attrs={"rows": 6})
    )
    upheld = forms.ChoiceField(
        label=_("Is the challenge upheld?"),
        choices=[("no", _("No, not upheld")), ("yes", _("Yes, upheld"))],
        widget=forms.RadioSelect,
    )
    remedy = forms.ChoiceField(
        label=capfirst(Challenge._meta.get_field("remedy").verbose_name),
        choices=ChallengeRemedy.choices,
        required=False,
        help_text=_("Only for an upheld challenge; an approver decides and applies it."),
    )

    @property
    def is_upheld(self) -> bool:
        return self.cleaned_data["upheld"] == "yes"


class ChallengeDecisionForm(forms.Form):
    """An approver's decision on an answered challenge, with an optional note."""

    note = model_field(
        Challenge,
        "decision_note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ChallengeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), ("overdue", _("Answer overdue")), *ChallengeStatus.choices],
        required=False,
    )
