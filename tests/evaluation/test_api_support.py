"""Helpers for the evaluation and award API tests (no tests in here).

Clients speak English (``Accept-Language: en``) so that messages can be read; every error
answer has the CONTRACTS shape ``{"error", "detail", "fields"}``.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from marketplace.models import AuditEvent, User

__all__ = [
    "ENGLISH",
    "ERROR_KEYS",
    "PDF",
    "anonymous",
    "api",
    "delete",
    "events",
    "get",
    "is_error",
    "patch",
    "post",
    "put",
]

ENGLISH = {"Accept-Language": "en"}
ERROR_KEYS = {"error", "detail", "fields"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def api(user: User) -> Client:
    """A client signed in as ``user`` (session authentication, like the browser's)."""
    client = Client(headers=ENGLISH)
    client.force_login(user)
    return client


def anonymous() -> Client:
    return Client(headers=ENGLISH)


def get(client: Client, url: str, data: dict[str, Any] | None = None):
    return client.get(url, data or {})


def post(client: Client, url: str, data: Any = None):
    return client.post(url, data if data is not None else {}, content_type="application/json")


def put(client: Client, url: str, data: Any):
    return client.put(url, data, content_type="application/json")


def patch(client: Client, url: str, data: Any):
    return client.patch(url, data, content_type="application/json")


def delete(client: Client, url: str):
    return client.delete(url)


def is_error(response, status: int, *fields: str) -> bool:
    """The CONTRACTS error shape with ``status``, naming each of ``fields``."""
    body = response.json()
    return (
        response.status_code == status
        and set(body) == ERROR_KEYS
        and all(name in body["fields"] for name in fields)
    )


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))
