"""Pages of the integrity screens (included by evaluation.urls)."""

from django.urls import path

from evaluation.views import integrity as views

urlpatterns: list = [
    path("integrity/", views.flag_queue, name="integrity_queue"),
    path("integrity/report/", views.integrity_report, name="integrity_report"),
    path("integrity/flags/<int:pk>/", views.flag_detail, name="integrity_flag"),
    path("integrity/flags/<int:pk>/confirm/", views.flag_confirm, name="integrity_flag_confirm"),
    path("integrity/flags/<int:pk>/dismiss/", views.flag_dismiss, name="integrity_flag_dismiss"),
    path("integrity/flags/<int:pk>/resolve/", views.flag_resolve, name="integrity_flag_resolve"),
    path("integrity/runs/", views.run_start, name="integrity_run_start"),
    path("integrity/runs/<int:pk>/", views.run_detail, name="integrity_run"),
]
