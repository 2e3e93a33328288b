"""Template context every portal page needs: navigation for the user and the office."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from marketplace.dashboard import nav_for
from marketplace.two_factor import lacks_second_factor


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if lacks_second_factor(user):
        # Staff who have not entered their code yet reach only public pages: public links.
        user = AnonymousUser()
    return {
        "nav_items": nav_for(user),
        "street_office": settings.STREET_OFFICE,
    }
