"""Registry pages (public directory and profiles, the organization's own pages, the registry)."""

from django.urls import path

from orgs_registry import urls_funding, views

app_name = "orgs_registry"

urlpatterns = [
    # Public
    path("organizations/", views.directory, name="directory"),
    path("organizations/register/", views.register, name="register"),
    path("organizations/mine/", views.my_organization, name="mine"),
    path("organizations/<int:pk>/", views.profile, name="profile"),
    path("credit/", views.credit_lists, name="credit_lists"),
    # The organization's own pages
    path("organizations/<int:pk>/manage/", views.manage, name="manage"),
    path("organizations/<int:pk>/manage/contact/", views.profile_edit, name="profile_edit"),
    path("organizations/<int:pk>/manage/resubmit/", views.resubmit, name="resubmit"),
    path(
        "organizations/<int:pk>/manage/change-request/",
        views.change_request_new,
        name="change_request_new",
    ),
    path(
        "organizations/<int:pk>/manage/deregistration/",
        views.deregistration_start,
        name="deregistration_start",
    ),
    path(
        "organizations/<int:pk>/manage/deregistration/withdraw/",
        views.deregistration_withdraw,
        name="deregistration_withdraw",
    ),
    path(
        "organizations/<int:pk>/manage/deregistration/complete/",
        views.deregistration_complete,
        name="deregistration_complete",
    ),
    path("organizations/<int:pk>/staff/", views.roster, name="roster"),
    path("organizations/<int:pk>/staff/add/", views.staff_add, name="staff_add"),
    path("organizations/<int:pk>/staff/import/", views.roster_upload, name="roster_import"),
    path(
        "organizations/<int:pk>/staff/import/template.csv",
        views.roster_template,
        name="roster_template",
    ),
    path(
        "organizations/<int:pk>/staff/<int:person_id>/",
        views.staff_detail,
        name="staff_detail",
    ),
    path(
        "organizations/<int:pk>/staff/<int:person_id>/qualifications/",
        views.qualification_record,
        name="qualification_record",
    ),
    path(
        "organizations/<int:pk>/staff/employments/<int:employment_id>/",
        views.employment_edit,
        name="employment_edit",
    ),
    path(
        "organizations/<int:pk>/staff/employments/<int:employment_id>/end/",
        views.employment_end,
        name="employment_end",
    ),
    path("organizations/<int:pk>/grades/", views.organization_grades, name="organization_grades"),
    path("organizations/<int:pk>/grades/request/", views.grade_request, name="grade_request"),
    # Grade assessments: assessors score, the registry decides, the organization follows
    path("grades/", views.grade_list, name="grade_list"),
    path("grades/<int:pk>/", views.grade_detail, name="grade_detail"),
    path("grades/<int:pk>/scores/", views.grade_scores_save, name="grade_scores_save"),
    path("grades/<int:pk>/submit/", views.grade_propose, name="grade_propose"),
    path("grades/<int:pk>/review/", views.grade_review_request, name="grade_review_request"),
    path("grades/<int:pk>/assign/", views.grade_assign, name="grade_assign"),
    path("grades/<int:pk>/publicize/", views.grade_publicize, name="grade_publicize"),
    path(
        "grades/<int:pk>/review/conclude/",
        views.grade_review_conclude,
        name="grade_review_conclude",
    ),
    path("grades/<int:pk>/confirm/", views.grade_confirm, name="grade_confirm"),
    path("grades/<int:pk>/downgrade/", views.grade_downgrade, name="grade_downgrade"),
    path("grades/<int:pk>/cancel/", views.grade_cancel, name="grade_cancel"),
    # The registry
    path("registry/", views.registry_home, name="registry_home"),
    path("registry/organizations/", views.registry_organizations, name="registry_organizations"),
    path("registry/organizations/new/", views.organization_new, name="organization_new"),
    path(
        "registry/organizations/<int:pk>/verify/",
        views.organization_verify,
        name="organization_verify",
    ),
    path(
        "registry/organizations/<int:pk>/reject/",
        views.organization_reject,
        name="organization_reject",
    ),
    path("registry/organizations/<int:pk>/credit/", views.credit_manage, name="credit_manage"),
    path(
        "registry/organizations/<int:pk>/credit/entries/",
        views.credit_entry_add,
        name="credit_entry_add",
    ),
    path(
        "registry/organizations/<int:pk>/credit/measures/",
        views.credit_measure_add,
        name="credit_measure_add",
    ),
    path(
        "registry/credit-entries/<int:entry_id>/remove/",
        views.credit_entry_remove,
        name="credit_entry_remove",
    ),
    path("registry/change-requests/", views.change_request_list, name="change_requests"),
    path("registry/credit-proposals/", views.credit_proposal_list, name="credit_proposals"),
    path("credit-proposals/<int:pk>/", views.credit_proposal_detail, name="credit_proposal_detail"),
    path(
        "credit-proposals/<int:pk>/decide/",
        views.credit_proposal_decide,
        name="credit_proposal_decide",
    ),
    path(
        "change-requests/<int:pk>/",
        views.change_request_detail,
        name="change_request_detail",
    ),
    path(
        "change-requests/<int:pk>/decide/",
        views.change_request_decide,
        name="change_request_decide",
    ),
]
urlpatterns += urls_funding.urlpatterns
