"""API v1 routes of the funding registries (included by orgs_registry.api_urls)."""

from rest_framework.routers import SimpleRouter

from orgs_registry import api_funding as api

router = SimpleRouter(use_regex_path=False)
router.register("staffing-records", api.StaffingRecordViewSet, basename="staffing-record")
router.register("subsidies", api.SubsidyViewSet, basename="subsidy")
router.register("funding-imports", api.FundingImportViewSet, basename="funding-import")

urlpatterns = router.urls
