"""Tenders API v1 routes: tenders, questions, documents, bids, receipts, the award, challenges.

Resources are plural nouns; state changes are POST sub-resources (DESIGN.md section 7).
"""

from rest_framework.routers import SimpleRouter

from tenders import api, api_urls_contracts, api_urls_delivery

# Path converters (not regular expressions): ids are integers in the URLs and the schema.
router = SimpleRouter(use_regex_path=False)
router.register("tenders", api.TenderViewSet, basename="tender")
router.register(
    "tenders/<int:tender_pk>/documents",
    api.TenderDocumentListViewSet,
    basename="tender-documents",
)
router.register(
    "tenders/<int:tender_pk>/questions", api.TenderQuestionViewSet, basename="tender-question"
)
router.register("tenders/<int:tender_pk>/bids", api.TenderBidViewSet, basename="tender-bid")
router.register("tender-documents", api.TenderDocumentViewSet, basename="tender-document")
router.register("questions", api.QuestionViewSet, basename="question")
router.register("bids", api.BidViewSet, basename="bid")
router.register("bids/<uuid:bid_pk>/receipts", api.BidReceiptViewSet, basename="bid-receipt")
router.register(
    "bids/<uuid:bid_pk>/documents", api.BidDocumentListViewSet, basename="bid-documents"
)
router.register("bid-documents", api.BidDocumentViewSet, basename="bid-document")
# Award and challenges
router.register("tenders", api.TenderAwardViewSet, basename="tender-award")
router.register("challenges", api.ChallengeViewSet, basename="challenge")
router.register("challenge-documents", api.ChallengeDocumentViewSet, basename="challenge-document")

urlpatterns = router.urls + api_urls_contracts.urlpatterns + api_urls_delivery.urlpatterns
