"""API v1 routes of the performance part of the evaluation app (included by evaluation.api_urls)."""

from rest_framework.routers import SimpleRouter

from evaluation.api import performance as api

router = SimpleRouter(use_regex_path=False)
router.register(
    "performance-evaluations", api.PerformanceEvaluationViewSet, basename="performance-evaluation"
)
router.register(
    "performance-indicator-sets",
    api.PerformanceIndicatorSetViewSet,
    basename="performance-indicator-set",
)

urlpatterns = router.urls
