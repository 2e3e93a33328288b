"""API v1 routes of the delivery part of the tenders app (included by tenders.api_urls)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(use_regex_path=False)

urlpatterns = router.urls
