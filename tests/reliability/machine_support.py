"""Builders for the lifecycle state machine and the API fuzzing (schemathesis).

``seed_api_world`` makes, with the real services, one row of nearly every resource the API
serves, so that the fuzzer's path parameters can name objects that exist: a contracted
tender (panel, sheets, ranking, award, a decided challenge, an active contract with its
milestones), a published tender with a submitted and a draft bid and two questions, and a
draft tender. ``path_ids`` lists, for each resource segment of an API path, the keys of
its rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from rest_framework.authtoken.models import Token

from evaluation import models as evaluation_models
from marketplace.models import Role, User
from orgs_registry import models as registry_models
from orgs_registry.models import ServiceCategory
from tenders import models as tender_models
from tenders import services
from tenders.services import contracts as contract_services
from tests import contract_support
from tests.conftest import Clock, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY
from tests.evaluation.conftest import active_members, make_assessor
from tests.tenders.conftest import Bidder, make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import AWARD_DAY, awarded_tender

#: The callers the fuzzer sends every generated request as (``None``: no credentials).
ROLES = (
    "anonymous",
    "org_admin",
    "official",
    "approver",
    "assessor",
    "registry_admin",
    "auditor",
)


@dataclass
class ApiWorld:
    """The seeded rows' callers: the API token of each role (``None`` for anonymous)."""

    tokens: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Cast:
    """The people of one tender's lifecycle, made once per test and shared by the runs."""

    official: User
    second_official: User
    approver: User
    category: ServiceCategory
    bidders: list[Bidder]
    pool: list[User]
    outsiders: dict[str, User]

    def intruder(self, who: str) -> User:
        """Someone who must never take the street office's steps."""
        return self.bidders[0].admin if who == "bidder" else self.outsiders[who]

    def bidder_of(self, organization_id: int) -> Bidder:
        return next(b for b in self.bidders if b.organization.pk == organization_id)

    def readers_other_than(self, bidder: int) -> list[Any]:
        """Everyone but ``bidder``'s organization: none may read its bid before the opening."""
        other = self.bidders[(bidder + 1) % len(self.bidders)].admin
        staff = [self.official, self.approver, self.pool[0], self.outsiders["auditor"]]
        return [*staff, other, AnonymousUser()]


def build_cast(bidders: int = 4) -> Cast:
    """Two officials, an approver, ``bidders`` organizations with staff, seven assessors of
    the category (a five-member panel drawn from them), an auditor and a registry admin."""
    category = ServiceCategory.objects.get(code="elderly_care")
    return Cast(
        official=persona("official", Role.OFFICIAL),
        second_official=persona("second_official", Role.OFFICIAL),
        approver=persona("approver", Role.APPROVER),
        category=category,
        bidders=[make_bidder(f"生命周期机构{i}") for i in range(bidders)],
        pool=[
            make_assessor(f"machine_pool{i}", agency=f"第{i}评估所", categories=[category])
            for i in range(7)
        ],
        outsiders={
            "assessor": persona("assessor", Role.ASSESSOR),
            "auditor": persona("auditor", Role.AUDITOR),
            "registry_admin": persona("registry_admin", Role.REGISTRY_ADMIN),
        },
    )


def _keys(model: type[Model], column: str = "pk") -> Callable[[], list[Any]]:
    def read() -> list[Any]:
        return [str(key) for key in model._default_manager.values_list(column, flat=True)]

    return read


#: The rows an API path names after each of its segments (``/contracts/{id}/`` reads
#: ``contracts``). Read when a value is drawn, so they list what the seed made.
PATH_KEYS: dict[str, Callable[[], list[Any]]] = {
    "tenders": _keys(tender_models.Tender),
    "tender-documents": _keys(tender_models.TenderDocument),
    "questions": _keys(tender_models.Question),
    "bids": _keys(tender_models.Bid),
    "bid-documents": _keys(tender_models.BidDocument),
    "challenges": _keys(tender_models.Challenge),
    "challenge-documents": _keys(tender_models.ChallengeDocument),
    "contracts": _keys(tender_models.Contract),
    "milestones": _keys(tender_models.Milestone),
    "delivery-reports": _keys(tender_models.DeliveryReport),
    "delivery-documents": _keys(tender_models.DeliveryDocument),
    "team-changes": _keys(tender_models.TeamChange),
    "surveys": _keys(tender_models.SurveySite, "token"),
    "scoresheets": _keys(evaluation_models.ScoreSheet),
    "deviations": _keys(evaluation_models.DeviationFlag),
    "objective-scores": _keys(evaluation_models.ObjectiveScore),
    "price-justifications": _keys(evaluation_models.PriceJustification),
    "performance-evaluations": _keys(evaluation_models.PerformanceEvaluation),
    "performance-indicator-sets": _keys(evaluation_models.PerformanceIndicatorSet),
    "flags": _keys(evaluation_models.IntegrityFlag),
    "screens": _keys(evaluation_models.IntegrityRun),
    "assessors": _keys(evaluation_models.AssessorProfile, "user_id"),
    "employments": _keys(evaluation_models.AssessorEmployment),
    "relations": _keys(evaluation_models.AssessorRelation),
    "organizations": _keys(registry_models.Organization),
    "staff": _keys(registry_models.Employment, "person_id"),
    "change-requests": _keys(registry_models.ChangeRequest),
    "credit-records": _keys(registry_models.CreditEntry),
    "credit-proposals": _keys(registry_models.CreditProposal),
    "grades": _keys(registry_models.GradeAssessment),
    "funding-imports": _keys(registry_models.FundingImport),
}


def path_keys(path: str) -> dict[str, Callable[[], list[Any]]]:
    """For each ``{parameter}`` of ``path``, the reader of the rows it may name."""
    segments = path.strip("/").split("/")
    readers: dict[str, Callable[[], list[Any]]] = {}
    for before, segment in itertools.pairwise(segments):
        if segment.startswith("{") and segment.endswith("}") and before in PATH_KEYS:
            readers[segment[1:-1]] = PATH_KEYS[before]
    return readers


def _challenged_contract(clock: Clock) -> tuple[tender_models.Contract, list[User]]:
    """The awarded tender of tests/tenders/test_award.py, challenged by a losing bidder
    (answered, not upheld), then contracted and active; returns the panel's assessors."""
    ranked = awarded_tender(clock)
    loser = ranked.bidder_of(ranked.bid_at(2))
    challenge = services.challenge_file(
        tender=ranked.tender, actor=loser.admin, subject="评分异议", text="服务方案评分偏低。"
    )
    services.challenge_answer(
        challenge=challenge,
        actor=persona("official", Role.OFFICIAL),
        answer="经复核，评分无误。",
        upheld=False,
    )
    services.challenge_decide(
        challenge=challenge, actor=persona("approver", Role.APPROVER), note="维持原结果。"
    )
    clock.set(DRAFT_DAY)
    contract = contract_services.contract_draft(
        tender=ranked.tender, actor=contract_support.official()
    )
    contract_services.contract_sign(contract=contract, actor=contract_support.official())
    contract_services.contract_sign(
        contract=contract, actor=contract_support.supplier_admin(contract)
    )
    clock.set(ACTIVE_DAY)
    contract_services.contracts_start_due()
    contract.refresh_from_db()
    assessors = [member.user for member in active_members(ranked.panel)]
    return contract, assessors


def seed_api_world(clock: Clock) -> ApiWorld:
    """The rows the fuzzer names, and a token for each role."""
    contract, assessors = _challenged_contract(clock)
    winner_admin = contract_support.supplier_admin(contract)
    # A tender open for bids at the real date the fuzzer runs on.
    clock.set(datetime.now(tz=UTC).replace(microsecond=0))
    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    category = ServiceCategory.objects.get(code="elderly_care")
    build = partial(publish_tender, official=official, approver=approver, category=category)
    published = build()
    build(published=False, title="解放碑街道社区矫正帮教项目（草稿）")
    submitted_bidder, draft_bidder = make_bidder("投标方甲"), make_bidder("投标方乙")
    submit_bid(published, submitted_bidder, "420000")
    services.bid_prepare(tender=published, actor=draft_bidder.admin, price="390000")
    answered = services.question_ask(
        tender=published, actor=draft_bidder.member, text="可以联合投标吗？"
    )
    services.question_answer(question=answered, actor=official, answer="不接受联合体投标。")
    services.question_ask(
        tender=published, actor=submitted_bidder.member, text="服务范围包括哪些社区？"
    )
    callers: dict[str, User] = {
        "org_admin": winner_admin,
        "official": official,
        "approver": approver,
        "assessor": assessors[0],
        "registry_admin": persona("registry_admin", Role.REGISTRY_ADMIN),
        "auditor": persona("auditor", Role.AUDITOR),
    }
    tokens: dict[str, str | None] = {"anonymous": None}
    for role, user in callers.items():
        tokens[role] = Token.objects.get_or_create(user=user)[0].key
    return ApiWorld(tokens=tokens)


__all__ = ["AWARD_DAY", "ROLES", "ApiWorld", "Cast", "build_cast", "path_keys", "seed_api_world"]
