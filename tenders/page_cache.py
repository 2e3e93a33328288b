"""A short-lived cache of the public tender pages, for anonymous visitors only.

The tender list and a tender's page are what the public reads most (and the API's tender
list, ``cached_public_data``), and what they show an
anonymous visitor changes only when a tender does: publication, an answer, an amendment,
the opening, the award. Rendering the list costs a count over every tender and a table
of thirty rows; serving a stored copy costs a cache read. A government portal that serves
the anonymous view from a cache for half a minute is normal practice.

What keeps it safe:

- Only a GET by a visitor without a session or a pending message is served from or stored
  in the cache. A signed-in user's page (their own bid, drafts, buttons) never is: such a
  visitor has a session cookie, and the user is checked too. A draft is a 404 to the
  public, and only 200 answers are stored, so the cache holds nothing the public may not
  read; sealed values are not on any public page.
- The CSRF token is not stored: the page is rendered with a placeholder in its place, and
  each answer gets the visitor's own token (the language switch posts it).
- The key holds a version that changes after every committed change to the data of these
  pages (any tender row except bids, their documents and receipts before the opening,
  which no public page shows), the language, htmx's partial request, the host and the
  full path with its query.
- A stored page lives ``PUBLIC_PAGE_CACHE_SECONDS`` (30 by default, 0 turns the cache
  off), and less when a deadline shown on it falls sooner: the page says whether bids
  are still accepted.

With several app processes, the cache must be shared (``CACHE_URL``, as for the rate
limits) for a version change to reach all of them at once; with the per-process default, a
process that did not make the change shows the old page until it expires.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

VERSION_KEY = "tenders:public-pages:version"
# Stands for the CSRF token in a stored page; each answer gets the visitor's own.
CSRF_PLACEHOLDER = "public-page-csrf-token-placeholder"
_MISS_ATTRIBUTE = "_public_page_render"
_UNTIL_ATTRIBUTE = "_public_page_until"
# Models of the tenders app whose rows no public page shows while a bid is sealed.
_SEALED_BID_MODELS = frozenset({"biddocument", "bidreceipt"})
_PRIVATE_MODELS = frozenset({"tenderinterest"})


def _seconds() -> int:
    return int(getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 0))


# --- The version ------------------------------------------------------------------------------


def current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY) or "none"
    return str(version)


def bump_version() -> None:
    """Every stored public page is stale from now on."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def _changed(sender: Any, instance: Any = None, **kwargs: Any) -> None:
    """A tender's public data may have changed: bump now and once more after the commit.

    The first bump covers the reads of this transaction's own connection (and tests, which
    never commit); the second the pages other requests rendered before the commit, from
    the data as it was.
    """
    meta = getattr(sender, "_meta", None)
    if meta is None or meta.app_label != "tenders" or meta.model_name in _PRIVATE_MODELS:
        return
    if meta.model_name in _SEALED_BID_MODELS:
        return
    if meta.model_name == "bid" and getattr(instance, "opened_at", None) is None:
        return  # a draft or a sealed submission: on no public page
    bump_version()
    transaction.on_commit(bump_version)


def connect_signals() -> None:
    """Called from the app's ``ready``."""
    post_save.connect(_changed, dispatch_uid="tenders-public-pages-save")
    post_delete.connect(_changed, dispatch_uid="tenders-public-pages-delete")
    m2m_changed.connect(_changed, dispatch_uid="tenders-public-pages-m2m")


# --- The pages --------------------------------------------------------------------------------


def expires_by(response: HttpResponse, moments: Iterable[datetime | None]) -> HttpResponse:
    """The stored copy of ``response`` must not outlive the earliest future moment given
    (a deadline the page shows as still ahead)."""
    now = timezone.now()
    future = [m for m in moments if m is not None and m > now]
    if future:
        earliest = min(future)
        current = getattr(response, _UNTIL_ATTRIBUTE, None)
        setattr(response, _UNTIL_ATTRIBUTE, min(earliest, current) if current else earliest)
    return response


def csrf_placeholder(request: HttpRequest) -> dict[str, str]:
    """Template context processor: the placeholder instead of the token while a page is
    rendered for the cache."""
    if getattr(request, _MISS_ATTRIBUTE, False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def _anonymous_without_state(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
        return False
    user = getattr(request, "user", None)
    return user is not None and not user.is_authenticated


def _key(request: HttpRequest) -> str:
    partial = "1" if request.headers.get("HX-Request") else "0"
    return ":".join(
        [
            "tenders:public-page",
            current_version(),
            translation.get_language() or "",
            partial,
            request.get_host(),
            request.get_full_path(),
        ]
    )


def _lifetime(response: HttpResponse) -> float:
    seconds = float(_seconds())
    until = getattr(response, _UNTIL_ATTRIBUTE, None)
    if until is not None:
        seconds = min(seconds, (until - timezone.now()).total_seconds())
    return seconds


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
    )


def _with_token(request: HttpRequest, content: bytes) -> bytes:
    return content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())


def _answer(request: HttpRequest, stored: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(_with_token(request, stored["content"]), status=stored["status"])
    for name, value in stored["headers"].items():
        response[name] = value
    return response


def cached_public_data(
    request: Any, compute: Callable[[], tuple[Any, Iterable[datetime | None]]]
) -> Any:
    """An API answer's data for an anonymous caller, from the cache when it is there.

    ``compute`` returns the data (plain, picklable values) and the moments it depends on,
    like ``expires_by``. The same rules as for the pages: no session, nobody signed in (a
    token caller is signed in), the version, the language and the full address in the key
    (the paging links are absolute).
    """
    if _seconds() <= 0 or not _anonymous_without_state(request):
        return compute()[0]
    key = "tenders:public-data:" + _key(request)
    stored = cache.get(key)
    if stored is not None:
        return stored
    data, moments = compute()
    lifetime = float(_seconds())
    future = [m for m in moments if m is not None and m > timezone.now()]
    if future:
        lifetime = min(lifetime, (min(future) - timezone.now()).total_seconds())
    if lifetime >= 1:
        cache.set(key, data, lifetime)
    return data


def cache_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view`` to anonymous visitors from the cache (see the module's docstring)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _seconds() <= 0 or not _anonymous_without_state(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        stored = cache.get(key)
        if stored is not None:
            return _answer(request, stored)
        setattr(request, _MISS_ATTRIBUTE, True)
        try:
            response = view(request, *args, **kwargs)
        finally:
            setattr(request, _MISS_ATTRIBUTE, False)
        if not isinstance(response, HttpResponse) or response.streaming:
            return response
        content = response.content
        lifetime = _lifetime(response)
        if _storable(response) and lifetime >= 1:
            stored = {"status": 200, "content": content, "headers": dict(response.headers)}
            cache.set(key, stored, lifetime)
        response.content = _with_token(request, content)
        return response

    return wrapper
