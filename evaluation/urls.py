"""Evaluation pages: scoring scheme templates, assessors' work, panels, score sheets, rankings."""

from django.urls import path

from evaluation import urls_grades, urls_integrity, urls_performance, views

app_name = "evaluation"

urlpatterns = [
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
    # The assessor (and an official sitting as the purchaser's representative)
    path("assignments/", views.assignments, name="assignments"),
    path("seats/<int:pk>/declaration/", views.declaration, name="declaration"),
    path("seats/<int:pk>/sheets/", views.sheet_list, name="sheets"),
    path("sheets/<int:pk>/", views.sheet_detail, name="sheet"),
    path("sheets/<int:pk>/flags/<int:flag_pk>/confirm/", views.flag_confirm, name="flag_confirm"),
    path("sheets/<int:pk>/flags/<int:flag_pk>/revise/", views.flag_revise, name="flag_revise"),
    path("profile/", views.profile, name="profile"),
    path("profile/employments/", views.employment_add, name="employment_add"),
    path("profile/employments/<int:pk>/end/", views.employment_end, name="employment_end"),
    path("profile/relations/", views.relation_add, name="relation_add"),
    path("profile/relations/<int:pk>/end/", views.relation_end, name="relation_end"),
    # The street office (auditors read)
    path("tenders/<int:pk>/panel/", views.panel_page, name="panel"),
    path("tenders/<int:pk>/ranking/", views.ranking, name="ranking"),
    path("tenders/<int:pk>/ranking/reopen/", views.ranking_reopen, name="ranking_reopen"),
    path("tenders/<int:pk>/ranking/objective/", views.ranking_objective, name="ranking_objective"),
    # Price justifications (87号令 Art. 60)
    path("justifications/<int:pk>/", views.justification, name="justification"),
    path(
        "justifications/<int:pk>/submit/", views.justification_submit, name="justification_submit"
    ),
    path(
        "justifications/<int:pk>/decide/", views.justification_decide, name="justification_decide"
    ),
    path(
        "justifications/<int:pk>/document/",
        views.justification_document,
        name="justification_document",
    ),
]
urlpatterns += urls_performance.urlpatterns + urls_grades.urlpatterns
urlpatterns += urls_integrity.urlpatterns
