"""The statistics page in the navigation: for everyone, signed in or not."""

from django.utils.translation import gettext_lazy as _

from marketplace.dashboard import NavItem, nav_item

nav_item(NavItem(_("Statistics"), "reports:statistics", lambda user: True, order=60))
