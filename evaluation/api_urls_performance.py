"""API v1 routes of the performance part of the evaluation app (included by evaluation.api_urls)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(use_regex_path=False)

urlpatterns = router.urls
