"""Read-only admin views: the registry's writes go through its services (and pages)."""

from django.contrib import admin

from marketplace.admin_base import ReadOnlyAdmin
from orgs_registry.models import Organization, ServiceCategory


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "uscc", "kind", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "uscc"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(ReadOnlyAdmin):
    """The catalogue grows by data migrations, reviewed and versioned with the code."""

    list_display = ["code", "name_zh", "name_en", "sort_order"]
