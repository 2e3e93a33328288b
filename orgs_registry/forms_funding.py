"""Forms of the funding registry pages: the upload and the record filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from orgs_registry.models import FundingImportKind, PostType, ServiceCategory


class FundingUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Registry"), choices=FundingImportKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GB18030) or Excel (.xlsx). Either every row is imported or none; "
            "a roster of a million rows takes about a minute."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class _FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=ServiceCategory.objects.all(),
        required=False,
        empty_label=pgettext_lazy("filter", "All"),
    )
    on = forms.DateField(
        label=_("In force on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def filters(self) -> dict[str, Any]:
        """The selector's filters from a valid form (invalid fields are left out)."""
        data = self.cleaned_data if self.is_valid() else {}
        filters = {key: value for key, value in data.items() if value not in (None, "")}
        if "category" in filters:
            filters["category"] = filters["category"].pk
        return filters


class StaffingFilterForm(_FilterForm):
    unit = forms.CharField(label=_("Employing unit"), required=False, max_length=100)
    post_type = forms.ChoiceField(
        label=_("Post type"),
        required=False,
        choices=[("", pgettext_lazy("filter", "All")), *PostType.choices],
    )


class SubsidyFilterForm(_FilterForm):
    pass
