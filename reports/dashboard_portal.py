"""The public disclosure portal in the navigation: for everyone, signed in or not.

It sits right after the dashboard (order 10) and before the tenders (15), so a visitor
reads Home, Disclosure, Tenders, Contracts, Organizations.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marketplace.dashboard import NavItem, nav_item

nav_item(NavItem(_("Disclosure"), "reports:portal", lambda user: True, order=12))
