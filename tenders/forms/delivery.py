"""Forms of the delivery pages and the public survey: they parse input; the services decide.

Spending rows are plain text cells: the service checks them row by row and names the row
and the column of each problem ("spending row 2: spent: not a number"), shown at the top
of the form. The survey form carries a honeypot field people never see and the signed
moment the form was shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orgs_registry.forms import model_field
from tenders.forms import MultipleFileField, MultipleFileInput, add_service_errors
from tenders.models import DeliveryReport, SurveyResponse, SurveySite

__all__ = [
    "DeliveryReportForm",
    "ReviewForm",
    "SpendingFormSet",
    "SurveyAnswerForm",
    "SurveySiteForm",
    "add_service_errors",
    "spending_rows",
]

# Empty spending rows offered under the filled ones (the page needs no script).
SPENDING_ROWS = 6


class DeliveryReportForm(forms.Form):
    """The facts of a delivery report; the spending rows come in ``SpendingFormSet``."""

    period_start = model_field(DeliveryReport, "period_start")
    period_end = model_field(DeliveryReport, "period_end")
    activities = model_field(
        DeliveryReport,
        "activities",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What was done in the period: services, events, home visits."),
    )
    people_served = model_field(DeliveryReport, "people_served", min_value=0)
    service_sessions = model_field(DeliveryReport, "service_sessions", min_value=0)
    uploads = MultipleFileField(
        label=_("Photos and documents"),
        required=False,
        help_text=_(
            "Up to 20 files: photos (PNG or JPEG, 10 MB each) and documents (PDF, Word .docx, "
            "Excel .xlsx, 20 MB each)."
        ),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}),
    )


class SpendingRowForm(forms.Form):
    item = forms.CharField(label=_("Item"), required=False, max_length=200)
    budget = forms.CharField(label=_("Budget (yuan)"), required=False, max_length=30)
    spent = forms.CharField(label=_("Spent (yuan)"), required=False, max_length=30)


SpendingFormSet = forms.formset_factory(SpendingRowForm, extra=SPENDING_ROWS, max_num=50)


def spending_rows(formset: Any) -> list[dict[str, str]]:
    """The rows as typed, blank ones included (the service numbers rows as shown)."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_valid() else {}
        rows.append({key: str(data.get(key) or "") for key in ("item", "budget", "spent")})
    while rows and not any(rows[-1].values()):
        rows.pop()
    return rows


class ReviewForm(forms.Form):
    """An official's comments when accepting (optional) or returning (required) a report."""

    comment = forms.CharField(
        label=_("Comments"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SurveySiteForm(forms.Form):
    name = model_field(SurveySite, "name")


RATING_CHOICES = [
    (5, _("5 – very satisfied")),
    (4, _("4 – satisfied")),
    (3, _("3 – neutral")),
    (2, _("2 – dissatisfied")),
    (1, _("1 – very dissatisfied")),
]


def _rating(name: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=capfirst(SurveyResponse._meta.get_field(name).verbose_name),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )


class SurveyAnswerForm(forms.Form):
    """The public survey: four ratings, a comment, the mobile number (never stored), the
    signed form-start moment and a honeypot."""

    overall = _rating("overall")
    quality = _rating("quality")
    attitude = _rating("attitude")
    timeliness = _rating("timeliness")
    comment = forms.CharField(
        label=pgettext_lazy("survey", "Comments or suggestions"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_(
            "Only to allow one answer per person each month: the number is never stored or shown."
        ),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # Hidden from people (CSS and aria-hidden); scripts fill every field.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)
