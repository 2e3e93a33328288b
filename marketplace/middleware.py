"""Request-scoped context that services read without taking the request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    """Who is calling from where; empty outside a request (commands, tasks)."""

    ip_address: str | None = None
    request_id: str = ""


_EMPTY = RequestContext()
_context: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current_request_context() -> RequestContext:
    """Return the context of the request being served, or an empty one."""
    return _context.get()


class RequestContextMiddleware:
    """Record the client address (as django-axes resolves it behind proxies) for audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = RequestContext(
            ip_address=get_client_ip_address(request),
            request_id=request.headers.get("X-Request-ID", "") or uuid.uuid4().hex,
        )
        token = _context.set(context)
        try:
            response = self.get_response(request)
        finally:
            _context.reset(token)
        response.headers.setdefault("X-Request-ID", context.request_id)
        return response
