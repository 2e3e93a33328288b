"""Evaluation API v1 routes: panels, declarations, score sheets, deviations, corrections, the
ranking, price justifications and assessor profiles.

Resources are plural nouns; state changes are POST sub-resources (DESIGN.md section 7). The
tender-level resources (``tenders/{id}/panel``, ``declaration``, ``ranking``) live here, next
to the tenders API's own routes under the same prefix.
"""

from rest_framework.routers import SimpleRouter

from evaluation import api, api_urls_grades, api_urls_integrity, api_urls_performance

# Path converters (not regular expressions): ids are integers in the URLs and the schema.
router = SimpleRouter(use_regex_path=False)
router.register("tenders", api.TenderEvaluationViewSet, basename="tender-evaluation")
router.register("scoresheets", api.ScoreSheetViewSet, basename="scoresheet")
router.register("deviations", api.DeviationViewSet, basename="deviation")
router.register("objective-scores", api.ObjectiveScoreViewSet, basename="objective-score")
router.register(
    "price-justifications", api.PriceJustificationViewSet, basename="price-justification"
)
router.register("assessors/me/employments", api.EmploymentViewSet, basename="assessor-employment")
router.register("assessors/me/relations", api.RelationViewSet, basename="assessor-relation")
router.register("assessors", api.AssessorViewSet, basename="assessor")

urlpatterns = router.urls + api_urls_performance.urlpatterns + api_urls_grades.urlpatterns
urlpatterns += api_urls_integrity.urlpatterns
