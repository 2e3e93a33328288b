"""Template context every portal page needs: navigation for the user and the office."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from marketplace.dashboard import nav_for


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "nav_items": nav_for(user),
        "street_office": settings.STREET_OFFICE,
    }
