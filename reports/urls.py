from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/<slug:kind>/<int:pk>.pdf", views.document_pdf, name="document_pdf"),
]
