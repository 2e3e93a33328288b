"""Dashboard cards and navigation entries, contributed by every app.

Each app's ``dashboard.py`` registers functions that build cards for a user;
``MarketplaceConfig.ready`` imports them all. A card shows a real count and, when
the count is zero, an empty state that says what to do next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from marketplace import permissions
from marketplace.audit import embargoed_events
from marketplace.models import AuditEvent, Role, User
from marketplace.selectors import staff_without_authenticator_count
from marketplace.two_factor import can_manage_two_factor


@dataclass(frozen=True)
class Card:
    """One tile on a dashboard."""

    title: str | Promise
    value: int | str | Promise
    description: str | Promise = ""
    url: str = ""
    link_text: str | Promise = ""
    empty_hint: str | Promise = ""  # shown when the value is zero or empty: what to do next
    note: str | Promise = ""  # shown always, e.g. why something is waiting
    tone: str = "neutral"  # neutral | attention | good

    @property
    def is_empty(self) -> bool:
        return self.value in (0, "", None)


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation, shown when ``visible(user)`` holds."""

    label: str | Promise
    url_name: str
    visible: Callable[[Any], bool]
    order: int = 100
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return reverse(self.url_name, kwargs=self.kwargs or None)


CardProvider = Callable[[Any], list[Card]]
_card_providers: list[tuple[int, CardProvider]] = []
_nav_items: list[NavItem] = []


def card_provider(order: int = 100) -> Callable[[CardProvider], CardProvider]:
    """Register a function that returns the cards it has for a user (maybe none)."""

    def decorator(func: CardProvider) -> CardProvider:
        _card_providers.append((order, func))
        _card_providers.sort(key=lambda item: item[0])
        return func

    return decorator


def nav_item(item: NavItem) -> NavItem:
    """Register a navigation entry."""
    _nav_items.append(item)
    _nav_items.sort(key=lambda entry: entry.order)
    return item


def cards_for(user: Any) -> list[Card]:
    """Every card the registered providers build for ``user``, in order."""
    cards: list[Card] = []
    for _order, provider in _card_providers:
        cards.extend(provider(user))
    return cards


def nav_for(user: Any) -> list[NavItem]:
    """The navigation entries ``user`` may see."""
    return [item for item in _nav_items if item.visible(user)]


# --- The marketplace's own entries ---------------------------------------------------------

nav_item(NavItem(_("Home"), "home", lambda user: True, order=0))
nav_item(NavItem(_("Dashboard"), "dashboard", permissions.can_view_dashboard, order=10))
nav_item(NavItem(_("Audit log"), "audit_log", permissions.can_view_audit_log, order=90))
nav_item(NavItem(_("Staff accounts"), "staff_accounts", can_manage_two_factor, order=92))
nav_item(NavItem(_("API"), "api_docs", lambda user: True, order=95))


@card_provider(order=900)
def _audit_cards(user: User) -> list[Card]:
    if not permissions.can_view_audit_log(user):
        return []
    since = timezone.now() - timedelta(days=1)
    # Embargoed events (sealed bids) must not move the counts either.
    counts = AuditEvent.objects.exclude(embargoed_events()).aggregate(
        total=Count("sequence"),
        last_day=Count("sequence", filter=Q(created_at__gte=since)),
        lockouts=Count("sequence", filter=Q(action="auth.locked_out", created_at__gte=since)),
    )
    return [
        Card(
            title=_("Audit events"),
            value=counts["total"],
            description=_("%(n)s in the last 24 hours") % {"n": counts["last_day"]},
            url=reverse("audit_log"),
            link_text=_("Browse the audit log"),
            empty_hint=_("Nothing has been recorded yet."),
        ),
        Card(
            title=_("Lock-outs in the last 24 hours"),
            value=counts["lockouts"],
            url=reverse("audit_log") + "?action=auth.locked_out",
            link_text=_("See lock-outs"),
            tone="attention" if counts["lockouts"] else "good",
            empty_hint=_("No account was locked out."),
        ),
    ]


@card_provider(order=910)
def _two_factor_cards(user: User) -> list[Card]:
    if not can_manage_two_factor(user):
        return []
    waiting = staff_without_authenticator_count(user)
    return [
        Card(
            title=_("Staff without an authenticator"),
            value=waiting,
            description=_("They set one up at their next sign-in."),
            url=reverse("staff_accounts"),
            link_text=_("See the staff accounts"),
            tone="attention" if waiting else "good",
            empty_hint=_("Every staff account signs in with its authenticator app."),
        )
    ]


@card_provider(order=0)
def _role_card(user: User) -> list[Card]:
    label = Role(user.role).label if user.role else _("Site administrator")
    return [
        Card(
            title=_("Signed in as"),
            value=user.get_full_name(),
            description=label,
            url=reverse("password_change"),
            link_text=_("Change password"),
        )
    ]
