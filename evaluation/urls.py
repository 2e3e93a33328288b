"""Evaluation pages: scoring scheme templates, assessors' work, panels, score sheets, rankings."""

from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
]
