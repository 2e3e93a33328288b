"""Pages of the delivery part of the tenders app (included by tenders.urls)."""

from django.urls import path

from tenders.views import delivery as views

urlpatterns = [
    path("contracts/<int:pk>/delivery/", views.delivery, name="delivery"),
    path("contracts/milestones/<int:pk>/report/", views.report_file, name="delivery_report_file"),
    path("contracts/reports/waiting/", views.reports_waiting, name="delivery_reports_waiting"),
    path("contracts/reports/<int:pk>/", views.report_detail, name="delivery_report"),
    path("contracts/reports/<int:pk>/accept/", views.report_accept, name="delivery_report_accept"),
    path("contracts/reports/<int:pk>/return/", views.report_return, name="delivery_report_return"),
    path(
        "contracts/report-documents/<int:pk>/",
        views.delivery_document_download,
        name="delivery_document",
    ),
    path("contracts/<int:pk>/survey-sites/", views.survey_sites, name="survey_sites"),
    path(
        "contracts/survey-sites/<int:pk>/close/",
        views.survey_site_close,
        name="survey_site_close",
    ),
    path("contracts/survey-sites/<int:pk>/open/", views.survey_site_open, name="survey_site_open"),
    path("contracts/survey-sites/<int:pk>/qr.svg", views.survey_qr, name="survey_qr"),
    path("contracts/survey-sites/<int:pk>/poster/", views.survey_poster, name="survey_poster"),
    path("contracts/<int:pk>/satisfaction/", views.satisfaction, name="satisfaction"),
    # Public, no sign-in: the link printed on the site's poster.
    path("survey/<str:token>/", views.survey, name="survey"),
]
