from django.contrib import admin

from orgs_registry.models import Organization, ServiceCategory


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "kind", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "uscc"]
    readonly_fields = ["kind", "status", "created_at"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "sort_order"]
