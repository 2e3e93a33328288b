from django.contrib import admin

from evaluation.models import AssessorProfile
from marketplace.admin_base import ReadOnlyAdmin


@admin.register(AssessorProfile)
class AssessorProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "agency", "joined_at"]
    list_select_related = ["user"]
