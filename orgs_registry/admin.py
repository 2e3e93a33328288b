"""Read-only admin views of the registry: its writes go through the services (and pages)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from marketplace.admin_base import ReadOnlyAdmin
from orgs_registry.models import (
    ChangeRequest,
    CreditEntry,
    CreditMeasure,
    Employment,
    GradeAssessment,
    Indicator,
    IndicatorScore,
    IndicatorSet,
    Organization,
    Person,
    Qualification,
    ServiceCategory,
)


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "uscc", "kind", "status", "funding_type", "registration_date"]
    list_filter = ["kind", "status", "funding_type", "categories"]
    search_fields = ["name", "uscc", "legal_representative"]
    exclude = ["phone"]
    readonly_fields = ["masked_phone"]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(ReadOnlyAdmin):
    """The catalogue grows by data migrations, reviewed and versioned with the code."""

    list_display = ["code", "name_zh", "name_en", "sort_order"]


class QualificationInline(admin.TabularInline):
    model = Qualification
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """People are personal data: the admin shows ID numbers and phones masked."""

    list_display = ["name", "id_number_masked", "sex", "birth_date"]
    search_fields = ["name"]
    fields = ["name", "id_number_masked", "sex", "birth_date", "phone_masked", "created_at"]
    readonly_fields = fields
    inlines = [QualificationInline]

    @admin.display(description=_("National ID number"))
    def id_number_masked(self, person: Person) -> str:
        return person.id_number_masked

    @admin.display(description=_("phone"))
    def phone_masked(self, person: Person) -> str:
        return person.phone_masked


@admin.register(Employment)
class EmploymentAdmin(ReadOnlyAdmin):
    list_display = ["person", "organization", "role", "weekly_hours", "start_date", "end_date"]
    list_filter = ["organization"]
    list_select_related = ["person", "organization"]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IndicatorSet)
class IndicatorSetAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "version", "is_current"]
    inlines = [IndicatorInline]


class IndicatorScoreInline(admin.TabularInline):
    model = IndicatorScore
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GradeAssessment)
class GradeAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["organization", "status", "proposed_grade", "grade", "valid_until"]
    list_filter = ["status", "grade"]
    list_select_related = ["organization"]
    inlines = [IndicatorScoreInline]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["organization", "status", "requested_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["organization"]


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["organization", "credit_list", "listed_on", "removed_on"]
    list_filter = ["credit_list"]
    list_select_related = ["organization"]


@admin.register(CreditMeasure)
class CreditMeasureAdmin(ReadOnlyAdmin):
    list_display = ["organization", "kind", "title", "decided_on"]
    list_filter = ["kind"]
    list_select_related = ["organization"]
