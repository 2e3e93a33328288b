"""Final performance evaluations feed the past-performance criterion of later tenders
(DESIGN 4.4: "mean of the org's final performance evaluations in the last 3 years mapped to
points"; 4.5: results "feed the past-performance criterion").

Two contracts are delivered and evaluated through the real services: organization A's final
evaluation is excellent (100 points), organization B's poor (50). A new tender with a
past-performance criterion (10 points; none: half) receives bids from A, B and a newcomer C;
when the panel is formed the system's objective scores come from those evaluations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from evaluation.models import ObjectiveScore, PerformanceEvaluation
from evaluation.selectors import past_performance_means
from evaluation.services import performance as services
from marketplace.models import Role, User
from orgs_registry.models import Employment, ServiceCategory
from tenders import services as tender_services
from tenders.models import Contract, TenderCriterion
from tests.conftest import building, module_database, persona
from tests.contract_support import ACTIVE_DAY, make_active_contract, supplier_admin
from tests.evaluation.conftest import form_panel, make_assessor
from tests.evaluation.performance_support import evaluate, make_assessors
from tests.tenders.conftest import Bidder, make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import RANKED_AT

CRITERIA = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50"},
    {"code": "grade", "name": "等级", "kind": "objective", "points": "10"},
    {"code": "performance", "name": "以往绩效", "kind": "objective", "points": "10"},
]
PERFORMANCE_RULE = {"type": "past_performance", "none": "0.5"}


@dataclass
class Shared:
    excellent: int  # contract ids
    poor: int
    excellent_evaluation: int
    poor_evaluation: int
    mid_term_evaluation: int
    tender: int


def _bidder(contract: Contract) -> Bidder:
    """The contract's supplier as a bidder of the next tender (its roster as staff)."""
    organization = contract.organization
    admin = supplier_admin(contract)
    people = list(
        Employment.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("person_id", flat=True)
    )
    return Bidder(organization=organization, admin=admin, member=admin, staff_ids=people[:2])


def _build(clock) -> Shared:
    first = make_active_contract(clock)
    ids = make_assessors(first, prefix="ppa")
    independent = User.objects.get(pk=ids["independent"])
    # A mid-term result does not count for past performance, however good.
    mid_term = evaluate(first, "mid_term", independent, "1")
    excellent = evaluate(first, "final", User.objects.get(pk=ids["second"]), "1")

    second = make_active_contract(clock)  # another tender, another winner
    assert second.organization_id != first.organization_id
    other = make_assessors(second, prefix="ppb")
    poor = evaluate(second, "final", User.objects.get(pk=other["independent"]), "0.5")

    clock.set(ACTIVE_DAY + timedelta(days=1))
    official = persona("official", Role.OFFICIAL)
    category = ServiceCategory.objects.get(code="elderly_care")
    tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=category,
        criteria=CRITERIA,
        service_start=date(2027, 4, 1),
        service_end=date(2028, 3, 31),
        title="解放碑街道居家养老服务项目（续）",
    )
    TenderCriterion.objects.filter(tender=tender, code="grade").update(rule={"type": "grade"})
    TenderCriterion.objects.filter(tender=tender, code="performance").update(rule=PERFORMANCE_RULE)
    bidders = [_bidder(first), _bidder(second), make_bidder("新成立的服务社")]
    bids = [
        submit_bid(tender, bidder, price)[0]
        for bidder, price in zip(bidders, ["460000", "450000", "470000"], strict=True)
    ]
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    tender_services.tender_open(tender=tender, actor=persona("second_official", Role.OFFICIAL))
    for bid in bids:
        bid.refresh_from_db()
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    for i in range(5):
        make_assessor(f"pp_pool{i}", agency=f"以往绩效第{i}评估所", categories=[category])
    form_panel(tender, official)
    return Shared(
        excellent=first.pk,
        poor=second.pk,
        excellent_evaluation=excellent.pk,
        poor_evaluation=poor.pk,
        mid_term_evaluation=mid_term.pk,
        tender=tender.pk,
    )


@pytest.fixture(scope="module")
def _shared(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield _build(clock)


@pytest.fixture
def shared(_shared, db) -> Shared:
    return _shared


def _org(contract_id: int) -> int:
    return Contract.objects.get(pk=contract_id).organization_id


def _objective(shared: Shared, organization_id: int | None) -> ObjectiveScore:
    scores = ObjectiveScore.objects.filter(
        criterion__tender_id=shared.tender, criterion__code="performance"
    ).select_related("bid")
    if organization_id is None:
        known = {_org(shared.excellent), _org(shared.poor)}
        return next(s for s in scores if s.bid.organization_id not in known)
    return next(s for s in scores if s.bid.organization_id == organization_id)


def test_the_next_tenders_past_performance_scores_come_from_the_final_evaluations(shared):
    excellent = _objective(shared, _org(shared.excellent))
    poor = _objective(shared, _org(shared.poor))
    newcomer = _objective(shared, None)

    # 100 points ≥ 90: the full 10; 50 points below every band: 0; no evaluation: half.
    assert excellent.score == Decimal("10")
    assert Decimal(excellent.basis["mean"]) == Decimal("100")
    assert poor.score == Decimal("0")
    assert Decimal(poor.basis["mean"]) == Decimal("50")
    assert newcomer.score == Decimal("5")
    assert newcomer.basis["mean"] is None


def test_the_mean_counts_only_final_evaluations_with_a_result_since_the_day(shared):
    first, second = _org(shared.excellent), _org(shared.poor)
    submitted = PerformanceEvaluation.objects.get(pk=shared.excellent_evaluation).submitted_at
    day = timezone.localdate(submitted)

    means = past_performance_means([first, second, 999_999], day)

    # The excellent mid-term evaluation of the first contract is not in its mean.
    assert means == {first: Decimal("100"), second: Decimal("50")}
    assert past_performance_means([first], day + timedelta(days=1)) == {}
    assert past_performance_means([], day) == {}


def test_the_mean_is_one_query(shared, django_assert_num_queries):
    orgs = [_org(shared.excellent), _org(shared.poor)]
    with django_assert_num_queries(1):
        past_performance_means(orgs, date(2026, 1, 1))


def test_a_reply_keeps_the_result_counting(shared):
    evaluation = PerformanceEvaluation.objects.get(pk=shared.poor_evaluation)
    admin = supplier_admin(evaluation.contract)
    services.performance_reply(evaluation=evaluation, actor=admin, reply="我们将整改。")

    means = past_performance_means([_org(shared.poor)], date(2026, 1, 1))

    assert means == {_org(shared.poor): Decimal("50")}
