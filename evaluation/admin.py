from django.contrib import admin

from evaluation.models import AssessorProfile


@admin.register(AssessorProfile)
class AssessorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "joined_at"]
    filter_horizontal = ["categories"]
    list_select_related = ["user"]
