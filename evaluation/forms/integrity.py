"""Forms of the integrity pages: they parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def _text(label: Any, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=required,
    )


class FlagConfirmForm(forms.Form):
    note = _text(_("Note (optional)"))


class FlagDismissForm(forms.Form):
    # Required by the service (DESIGN 3), which names the field when it is missing.
    reason = _text(_("Why the flag is dismissed"))


class FlagResolveForm(forms.Form):
    resolution = _text(_("How the problem was resolved"))


class ScreensRunForm(forms.Form):
    tender = forms.IntegerField(
        label=_("Tender (its id; empty for everything)"), min_value=1, required=False
    )
