"""Pages of the performance part of the evaluation app (included by evaluation.urls)."""

from django.urls import path

from evaluation.views import performance as views

urlpatterns: list = [
    path("performance/", views.performance_list, name="performance_list"),
    path("performance/indicators/", views.performance_indicators, name="performance_indicators"),
    path("performance/<int:pk>/", views.performance_detail, name="performance_detail"),
    path("performance/<int:pk>/declare/", views.performance_declare, name="performance_declare"),
    path("performance/<int:pk>/scores/", views.performance_scores, name="performance_scores"),
    path("performance/<int:pk>/reply/", views.performance_reply, name="performance_reply"),
    path("performance/<int:pk>/withdraw/", views.performance_withdraw, name="performance_withdraw"),
    path(
        "contracts/<int:pk>/performance/assign/",
        views.performance_assign,
        name="performance_assign",
    ),
]
