"""API v1 routes of the integrity screens (included by evaluation.api_urls)."""

from rest_framework.routers import SimpleRouter

from evaluation.api import integrity as api

router = SimpleRouter(use_regex_path=False)
router.register("integrity/flags", api.IntegrityFlagViewSet, basename="integrity-flag")
router.register("integrity/screens", api.IntegrityScreensViewSet, basename="integrity-screens")

urlpatterns = router.urls
