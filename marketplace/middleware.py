"""Request-scoped context that services read without taking the request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import reverse
from django.utils import translation

from marketplace.two_factor import lacks_second_factor


@dataclass(frozen=True)
class RequestContext:
    """Who is calling from where; empty outside a request (commands, tasks)."""

    ip_address: str | None = None
    request_id: str = ""


_EMPTY = RequestContext()
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_context: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current_request_context() -> RequestContext:
    """Return the context of the request being served, or an empty one."""
    return _context.get()


class RequestContextMiddleware:
    """Record the client address (as django-axes resolves it behind proxies) for audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        context = RequestContext(
            ip_address=get_client_ip_address(request),
            # A proxy's request id is kept for tracing only when it looks like one.
            request_id=supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex,
        )
        token = _context.set(context)
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response.headers.setdefault("X-Request-ID", context.request_id)
        return response


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Chinese unless the visitor chose English with the language switch.

    The browser's Accept-Language does not switch pages (the office's staff and the
    public read Chinese first, whatever their browser says); API clients, which have no
    switch, may ask for English with Accept-Language.
    """

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/") or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            super().process_request(request)
            return
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()


# What a staff session reaches before its second factor, as itself: the two-factor page,
# signing out, the language switch, and the probes browsers and load balancers send.
TWO_FACTOR_EXEMPT_VIEWS = frozenset(
    {"two_factor", "logout", "set_language", "healthz", "marketplace.views.favicon"}
)
# The public pages, which such a session sees as the public does (never with the staff
# parts a mixed page such as a tender's shows to officials).
PUBLIC_VIEWS = frozenset(
    {
        "home",
        "reports:portal",
        "reports:portal_search",
        "reports:openings",
        "reports:opening",
        "reports:results",
        "reports:result",
        "reports:performance_results",
        "reports:data",
        "reports:statistics",
        "reports:ocds_bulk",
        "reports:document_pdf",
        "reports:export",
        "reports:export_of",
        "tenders:list",
        "tenders:detail",
        "tenders:document",
        "tenders:survey",
        "orgs_registry:directory",
        "orgs_registry:profile",
        "orgs_registry:credit_lists",
        "orgs_registry:grade_list",
    }
)


class TwoFactorMiddleware:
    """Keep staff who signed in with a password but no second factor on the two-factor page.

    Runs after ``OTPMiddleware``. Pages outside ``TWO_FACTOR_EXEMPT_VIEWS`` redirect to
    ``/accounts/two-factor/?next=...``, except public pages, which are served as to an
    anonymous visitor. The API answers for itself (403 ``two_factor_required`` from
    ``marketplace.api_auth``), as it knows whether a call came with a token or the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith("/api/") or not lacks_second_factor(request.user):
            return None
        match = request.resolver_match
        view_name = match.view_name if match else ""
        if view_name in TWO_FACTOR_EXEMPT_VIEWS:
            return None
        if view_name in PUBLIC_VIEWS:
            request.user = AnonymousUser()
            return None
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('two_factor')}?{query}")
