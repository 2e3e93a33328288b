"""API v1 routes of the delivery part of the tenders app (included by tenders.api_urls)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from tenders.api import delivery as api

router = SimpleRouter(use_regex_path=False)
router.register(
    "contracts/<int:contract_pk>/reports", api.ContractReportViewSet, basename="contract-report"
)
router.register("delivery-reports", api.DeliveryReportViewSet, basename="delivery-report")
router.register("delivery-documents", api.DeliveryDocumentViewSet, basename="delivery-document")
router.register(
    "contracts/<int:contract_pk>/survey-sites",
    api.ContractSurveySiteViewSet,
    basename="contract-survey-site",
)
router.register(
    "contracts/<int:contract_pk>/satisfaction",
    api.ContractSatisfactionViewSet,
    basename="contract-satisfaction",
)

urlpatterns = [
    *router.urls,
    # Public, no sign-in: the survey behind a site's QR code.
    path("surveys/<str:token>/", api.SurveyView.as_view(), name="survey"),
]
