"""Session authentication for the API that insists on staff's second factor.

A module of its own: DRF imports the authentication classes while it loads its views, so
this one must not import any view (``marketplace.api`` does).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from marketplace.two_factor import lacks_second_factor


class TwoFactorRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Enter the code of your authenticator app on the two-factor page before using the "
        "API with this session."
    )
    default_code = "two_factor_required"


class VerifiedSessionAuthentication(SessionAuthentication):
    """The browser session, as DRF's, refused (403 ``two_factor_required``) while a staff
    user has not entered the second factor; tokens are unaffected."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None and lacks_second_factor(request._request.user):
            raise TwoFactorRequired()
        return result
