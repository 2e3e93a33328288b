"""Pages of the grades part of the evaluation app (included by evaluation.urls): the
assessor's workspace for grade assessments."""

from django.urls import path

from evaluation.views import grades

urlpatterns = [
    path("grades/<int:pk>/", grades.grade_workspace, name="grade_workspace"),
    path("grades/<int:pk>/scores/", grades.grade_workspace_scores, name="grade_workspace_scores"),
    path("grades/<int:pk>/submit/", grades.grade_workspace_propose, name="grade_workspace_propose"),
]
