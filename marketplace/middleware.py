"""Request-scoped context that services read without taking the request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
