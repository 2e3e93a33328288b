"""The integrity queue in the navigation and on the dashboards of officials and auditors:
how many flags wait for a review and how many confirmed ones still block something."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluation.models import DOUBLE_FUNDING_KINDS, FlagStatus
from evaluation.permissions import integrity as permissions
from evaluation.selectors import integrity as selectors
from marketplace.dashboard import Card, NavItem, card_provider, nav_item
from marketplace.models import User

nav_item(
    NavItem(
        _("Integrity flags"),
        "evaluation:integrity_queue",
        permissions.can_view_integrity_flags,
        order=75,
    )
)


@card_provider(order=215)
def _integrity_flags(user: User) -> list[Card]:
    if not permissions.can_view_integrity_flags(user):
        return []
    flags = selectors.flag_list_for_user(user)
    blocking = flags.filter(
        status=FlagStatus.CONFIRMED, kind__in=sorted(DOUBLE_FUNDING_KINDS)
    ).count()
    return [
        Card(
            title=_("Integrity flags to review"),
            value=selectors.open_flag_count(user),
            description=gettext(
                "%(count)s confirmed double-funding flag(s) block an award or payment."
            )
            % {"count": blocking},
            url=reverse("evaluation:integrity_queue") + "?status=open",
            link_text=_("Review the flags"),
            empty_hint=_("No flag waits for a review."),
            tone="attention" if blocking else "neutral",
        )
    ]
