from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self) -> None:
        from marketplace import checks, signals  # noqa: F401  (registers receivers and checks)

        # Each app contributes its dashboard cards and navigation entries in
        # <app>/dashboard.py; importing the modules registers them.
        autodiscover_modules("dashboard")
