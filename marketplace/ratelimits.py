"""Rate limits of the pages anyone may post to (django-ratelimit): registration, sign-in and
the public survey by client address; questions and two-factor codes by account. The API has
its own (DRF scoped throttles). Sign-in is also locked per account by django-axes, two-factor
codes by django-otp's throttling, and the survey by its per-site limits: these limits stop a
single address from trying many accounts (or sites) quickly, which those do not.

Counters live in the default cache: with several app servers set ``CACHE_URL`` to a shared
cache (database or Redis), as for the API's throttles. A refused post answers 429 with the
page ``429.html`` (``RATELIMIT_VIEW``) and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django_ratelimit.decorators import ratelimit


def client_address(group: str, request: Any) -> str:
    """The client's address as the audit log and the sign-in lock-out see it (behind
    ``TRUSTED_PROXY_COUNT`` proxies)."""
    return get_client_ip_address(request) or "unknown"


def account(group: str, request: Any) -> str:
    user = request.user
    return f"user:{user.pk}" if user.is_authenticated else f"ip:{client_address(group, request)}"


def _rate(name: str) -> Callable[[str, Any], str]:
    # Read at request time, so that the environment and tests can change it.
    return lambda group, request: getattr(settings, name)


def limit_registrations(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``RATE_REGISTER`` registrations posted per client address."""
    return ratelimit(
        group="register", key=client_address, rate=_rate("RATE_REGISTER"), method="POST"
    )(view)


def limit_questions(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``RATE_QUESTION`` questions posted per account."""
    return ratelimit(group="question", key=account, rate=_rate("RATE_QUESTION"), method="POST")(
        view
    )


def limit_logins(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``RATE_LOGIN`` sign-in attempts posted per client address, whatever the
    account (django-axes locks one account after its failures)."""
    return ratelimit(group="login", key=client_address, rate=_rate("RATE_LOGIN"), method="POST")(
        view
    )


def limit_two_factor(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``RATE_TWO_FACTOR`` two-factor codes posted per account."""
    return ratelimit(group="two_factor", key=account, rate=_rate("RATE_TWO_FACTOR"), method="POST")(
        view
    )


def limit_survey_answers(view: Callable[..., Any]) -> Callable[..., Any]:
    """At most ``RATE_SURVEY`` survey answers posted per client address over all sites
    (the survey service also limits answers per site and address per hour)."""
    return ratelimit(group="survey", key=client_address, rate=_rate("RATE_SURVEY"), method="POST")(
        view
    )
