"""Pages of the contracts part of the tenders app (included by tenders.urls)."""

from django.urls import path

from tenders.views import contracts as views

urlpatterns = [
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("tenders/<int:pk>/contract/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/sign/", views.contract_sign, name="contract_sign"),
    path("contracts/<int:pk>/terminate/", views.contract_terminate, name="contract_terminate"),
    path(
        "contracts/<int:pk>/team-changes/new/",
        views.team_change_request,
        name="team_change_request",
    ),
    path(
        "contracts/team-changes/<int:pk>/decide/",
        views.team_change_decide,
        name="team_change_decide",
    ),
    path(
        "contracts/<int:pk>/milestones/<int:milestone_pk>/payment/",
        views.milestone_payment,
        name="milestone_payment",
    ),
]
