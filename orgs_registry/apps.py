from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsRegistryConfig(AppConfig):
    name = "orgs_registry"
    verbose_name = _("Organization registry")
