"""Registry API v1 routes (organizations, staff, change requests, grades, credit records).

Resources are plural nouns; state changes are POST sub-resources (DESIGN.md section 7).
"""

from rest_framework.routers import SimpleRouter

from orgs_registry import api
from orgs_registry.api_urls_funding import urlpatterns as funding_urlpatterns

# Path converters (not regular expressions): ids are integers in the URLs and the schema.
router = SimpleRouter(use_regex_path=False)
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register(
    "organizations/<int:organization_pk>/staff", api.StaffViewSet, basename="organization-staff"
)
router.register(
    "organizations/<int:organization_pk>/change-requests",
    api.OrganizationChangeRequestViewSet,
    basename="organization-change-request",
)
router.register(
    "organizations/<int:organization_pk>/credit-measures",
    api.CreditMeasureViewSet,
    basename="organization-credit-measure",
)
router.register(
    "organizations/<int:organization_pk>/performance",
    api.OrganizationPerformanceViewSet,
    basename="organization-performance",
)
router.register("change-requests", api.ChangeRequestViewSet, basename="change-request")
router.register("grades", api.GradeViewSet, basename="grade")
router.register("credit-records", api.CreditRecordViewSet, basename="credit-record")
router.register("credit-proposals", api.CreditProposalViewSet, basename="credit-proposal")

urlpatterns = router.urls + funding_urlpatterns
