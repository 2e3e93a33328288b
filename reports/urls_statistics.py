"""Pages of the reports app: statistics (see reports/urls.py)."""

from django.urls import path

from reports import views_statistics

urlpatterns = [
    path("statistics/", views_statistics.statistics_page, name="statistics"),
]
