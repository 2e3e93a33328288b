"""Read-only admin views of tenders. Bids are not here at all: the admin site is no way
around the seal (DESIGN.md section 6), and after the opening the pages show them."""

from django.contrib import admin

from marketplace.admin_base import ReadOnlyAdmin
from tenders.models import Amendment, Community, Question, Tender, TenderCriterion


class CriterionInline(admin.TabularInline):
    model = TenderCriterion
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tender)
class TenderAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "method", "status", "budget", "bid_deadline"]
    list_filter = ["status", "method", "category"]
    search_fields = ["reference", "title"]
    inlines = [CriterionInline]


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["tender", "status", "asked_at", "answered_at"]
    list_filter = ["status"]
    list_select_related = ["tender"]


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ["tender", "number", "affects_preparation", "published_at"]
    list_select_related = ["tender"]


@admin.register(Community)
class CommunityAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_zh", "name_en", "sort_order"]
