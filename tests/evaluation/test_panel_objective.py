"""Objective scores computed at panel formation from the registry: a real confirmed grade,
certified social workers on the staffing plan, past performance (no source yet).

The module builds once (each test rolls back to it) the pool, the graded bidder and the
opened tender scored on ``CRITERIA`` with ``RULES``; the tests form its panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from evaluation.models import ObjectiveScore, Panel
from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import services as registry
from orgs_registry.identifiers import make_id_number, make_uscc
from orgs_registry.models import ServiceCategory
from orgs_registry.services import StaffInput
from tenders import services as tender_services
from tenders.models import Bid, Tender, TenderCriterion
from tests.conftest import building, make_user, module_database, persona
from tests.evaluation.conftest import OpenedTender, form_panel
from tests.evaluation.test_api_support import BUILT_AT, Shared, build_personas, build_pool
from tests.tenders.conftest import Bidder, Clock, make_bidder, publish_tender, submit_bid

CRITERIA = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "30"},
    {"code": "grade", "name": "等级", "kind": "objective", "points": "20"},
    {"code": "social_workers", "name": "持证社工", "kind": "objective", "points": "10"},
    {"code": "performance", "name": "以往绩效", "kind": "objective", "points": "10"},
]
RULES = {
    "grade": {"type": "grade"},
    "social_workers": {"type": "social_workers", "per_person": "4", "cap": "10"},
    "performance": {"type": "past_performance", "none": "0.5"},
}


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


def graded_bidder(*, registry_admin, grader, clock) -> Bidder:
    """A social service agency registered in 2018, graded 4A through the real grade
    services, with two people on its roster, one a certified social worker."""
    organization = registry.organization_create(
        name="渝中区阳光社工服务中心",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="70000001"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2018, 6, 1),
    )
    admin = make_user("graded_admin", Role.ORG_ADMIN, organization)
    member = make_user("graded_member", Role.ORG_MEMBER, organization)
    people = []
    for i, qualification in enumerate(["social_worker", ""]):
        employment = registry.staff_add(
            organization=organization,
            actor=admin,
            data=StaffInput(
                name=f"阳光员工{i}",
                id_number=make_id_number(
                    region="500103", born=date(1985, 3, 1 + i), sequence=700 + i, male=bool(i)
                ),
                role="社工",
                start_date=date(2023, 1, 1),
                qualification=qualification,
                certificate_number="SW2023001" if qualification else "",
            ),
        )
        people.append(employment.person_id)
    assessment = registry.grade_request(organization=organization, actor=admin)
    registry.grade_assign(assessment=assessment, actor=registry_admin, assessor=grader)
    assessment.refresh_from_db()
    scores = {
        i.code: ((Decimal(i.max_points) * Decimal("0.86")).quantize(Decimal("0.1")), "")
        for i in assessment.indicator_set.indicators.all()
    }
    registry.grade_scores_save(assessment=assessment, actor=grader, scores=scores, comment="规范")
    registry.grade_propose(assessment=assessment, actor=grader)
    registry.grade_publicize(assessment=assessment, actor=registry_admin, days=7)
    clock.advance(days=8)
    confirmed = registry.grade_confirm(assessment=assessment, actor=registry_admin)
    assert confirmed.grade == "4A"
    return Bidder(organization=organization, admin=admin, member=member, staff_ids=people)


def open_scored(
    *, make_tender, clock: Clock, official: User, second_official: User, graded: Bidder
) -> OpenedTender:
    """A tender scored on ``CRITERIA`` with ``RULES``, bid by ``graded`` and three plain
    bidders, opened and every bid qualified."""
    tender = make_tender(criteria=CRITERIA)
    for code, rule in RULES.items():
        TenderCriterion.objects.filter(tender=tender, code=code).update(rule=rule)
    bidders = [graded] + [make_bidder(f"普通机构{i}") for i in range(3)]
    bids = [
        submit_bid(tender, bidder, price)[0]
        for bidder, price in zip(bidders, ["450000", "460000", "470000", "480000"], strict=True)
    ]
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    tender_services.tender_open(tender=tender, actor=second_official)
    for bid in bids:
        bid.refresh_from_db()
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    tender.refresh_from_db()
    return OpenedTender(tender=tender, bidders=bidders, bids=bids)


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the pool (and the grader, an assessor of every category),
    the graded bidder and the opened tender (``open_scored``), no panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        grader = persona("assessor", Role.ASSESSOR)
        shared = Shared(pool=build_pool())
        graded = graded_bidder(
            registry_admin=persona("registry_admin", Role.REGISTRY_ADMIN),
            grader=grader,
            clock=clock,
        )
        shared.opened["scored"] = open_scored(
            make_tender=partial(
                publish_tender,
                official=official,
                approver=persona("approver", Role.APPROVER),
                category=ServiceCategory.objects.get(code="elderly_care"),
            ),
            clock=clock,
            official=official,
            second_official=persona("second_official", Role.OFFICIAL),
            graded=graded,
        )
        yield shared.done(clock)


@pytest.fixture
def scored(_built, db, clock) -> tuple[Tender, list[Bidder], list[Bid]]:
    """The shared tender, its bidders and bids re-read for this test."""
    clock.set(_built.built_until)
    opened = _built.evaluated("scored")
    return opened.tender, opened.bidders, opened.bids


def score_of(bid, code):
    return ObjectiveScore.objects.get(bid=bid, criterion__code=code)


def test_objective_scores_come_from_the_grade_and_the_certified_social_workers(scored, official):
    tender, bidders, bids = scored
    form_panel(tender, official)

    graded = bids[0]
    grade = score_of(graded, "grade")
    assert grade.score == Decimal("16.0000")  # 4A: 80% of 20
    assert grade.basis == {"rule": "grade", "grade": "4A"}
    workers = score_of(graded, "social_workers")
    assert workers.score == Decimal("4.0000")  # one certified person × 4
    assert workers.basis["workers"] == 1
    assert workers.basis["people"] == [bidders[0].staff_ids[0]]
    performance = score_of(graded, "performance")
    assert performance.score == Decimal("5.0000")  # no evaluation yet: the rule's "none"
    assert performance.basis["mean"] is None
    for plain in bids[1:]:
        assert score_of(plain, "grade").score == 0
        assert score_of(plain, "grade").basis["grade"] is None
        assert score_of(plain, "social_workers").score == 0
        assert score_of(plain, "performance").score == Decimal("5")
    assert ObjectiveScore.objects.count() == 4 * 3


def test_the_objective_scores_are_recorded_in_one_audit_event(scored, official):
    tender, _bidders, bids = scored
    form_panel(tender, official)

    (event,) = AuditEvent.objects.filter(action=AuditAction.OBJECTIVE_SCORES_COMPUTED)
    rows = event.details["scores"]
    assert len(rows) == 12
    graded_grade = next(
        r for r in rows if r["bid"] == str(bids[0].pk) and r["criterion"] == "grade"
    )
    assert graded_grade["score"] == "16.0000"
    assert graded_grade["basis"] == {"rule": "grade", "grade": "4A"}


def test_a_panel_is_not_formed_while_an_objective_criterion_has_no_usable_rule(scored, official):
    tender, _bidders, _bids = scored
    TenderCriterion.objects.filter(tender=tender, code="social_workers").update(rule={})
    TenderCriterion.objects.filter(tender=tender, code="performance").update(
        rule={"type": "past_performance", "none": "3"}
    )
    with pytest.raises(ValidationError) as caught:
        form_panel(tender, official)
    problems = caught.value.message_dict["criteria"]
    assert any("持证社工" in p and "social_workers" in p for p in problems)
    assert any("以往绩效" in p and "between 0 and 1" in p for p in problems)
    assert not Panel.objects.exists()
    assert not ObjectiveScore.objects.exists()
