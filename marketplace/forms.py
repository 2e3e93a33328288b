"""Account forms whose writes go through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import User
from marketplace.notifications import email_user
from marketplace.services import user_password_set


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "The username or password is wrong. After 10 failed attempts from this address "
            "the account is locked for a while."
        ),
    }


class TwoFactorForm(forms.Form):
    """One code: six digits from the authenticator app, or an unused backup code."""

    otp_token = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        help_text=_(
            "The six-digit code your authenticator app shows now, or one of your backup codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        return user_password_set(
            user=self.user,
            password=self.cleaned_data["new_password1"],
            actor=self.user,
            reset=False,
        )


class SetPasswordForm(auth_forms.SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        return user_password_set(
            user=self.user, password=self.cleaned_data["new_password1"], actor=self.user, reset=True
        )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Queues the reset e-mail as a background task, in the recipient's language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user: User = context["user"]
        email_user(
            to=to_email,
            language=user.language,
            subject_template=subject_template_name,
            body_template=email_template_name,
            context=context,
        )
