"""API v1 routes of the contracts part of the tenders app (included by tenders.api_urls)."""

from rest_framework.routers import SimpleRouter

from tenders.api import contracts as api

router = SimpleRouter(use_regex_path=False)
router.register("contracts", api.ContractViewSet, basename="contract")
router.register(
    "contracts/<int:contract_pk>/milestones",
    api.ContractMilestoneViewSet,
    basename="contract-milestone",
)
router.register(
    "contracts/<int:contract_pk>/team-changes",
    api.ContractTeamChangeViewSet,
    basename="contract-team-change",
)
router.register("team-changes", api.TeamChangeViewSet, basename="team-change")

urlpatterns = router.urls
