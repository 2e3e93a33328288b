"""API v1: statistics (see reports/api_urls.py)."""

from django.urls import path

from reports import api_statistics

urlpatterns = [
    path("statistics/", api_statistics.StatisticsView.as_view(), name="statistics"),
]
