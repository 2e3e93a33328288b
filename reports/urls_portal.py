"""Pages of the reports app: the public disclosure portal (see reports/views_portal.py)."""

from django.urls import path

from reports import views_portal as views

urlpatterns: list = [
    path("public/", views.portal, name="portal"),
    path("public/search/", views.search, name="portal_search"),
    path("public/openings/", views.opening_list, name="openings"),
    path("public/openings/<int:pk>/", views.opening_detail, name="opening"),
    path("public/results/", views.result_list, name="results"),
    path("public/results/<int:pk>/", views.result_detail, name="result"),
    path("public/performance/", views.performance_list, name="performance_results"),
    path("public/data/", views.data, name="data"),
]
