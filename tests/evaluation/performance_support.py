"""Helpers for the performance evaluation tests (no tests in here).

``build_active`` makes, with the real services, the active contract of
``tests.contract_support.make_active_contract`` (milestones 30/40/30: 1 report, 2 mid-term
evaluation 192000.00, 3 final evaluation 144000.00) and five assessors: one independent of
the supplier, and one for each conflict of DESIGN 4.4 (employed by the supplier within 3
years, a declared relation, staff of the purchasing unit), plus one who left the supplier
more than 3 years ago. Modules build it once (``module_database`` + ``building``) and hand
each test a ``Built`` re-read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from evaluation.models import (
    AssessorProfile,
    PerformanceEvaluation,
    PerformanceIndicator,
)
from evaluation.services import assessor_employment_add, assessor_relation_add
from evaluation.services import performance as services
from marketplace.models import Role, User
from tenders.models import Contract, Milestone
from tenders.services import surveys as survey_services
from tests.conftest import Clock, persona
from tests.contract_support import make_active_contract, supplier_admin, supplier_member
from tests.evaluation.conftest import make_assessor

EVIDENCE = "现场查阅服务台账与回访记录。"
CONCLUSION = "项目总体按合同推进，服务对象反映良好，建议加强档案管理。"
ASSESSORS = ("independent", "employed", "related", "purchasing", "former", "second")


@dataclass
class Built:
    contract_id: int
    assessor_ids: dict[str, int]
    built_until: Any

    @property
    def contract(self) -> Contract:
        return Contract.objects.select_related("organization", "tender").get(pk=self.contract_id)

    def assessor(self, name: str) -> User:
        return User.objects.get(pk=self.assessor_ids[name])

    @property
    def official(self) -> User:
        return persona("official", Role.OFFICIAL)

    @property
    def supplier_admin(self) -> User:
        return supplier_admin(self.contract)

    @property
    def supplier_member(self) -> User:
        return supplier_member(self.contract)

    def milestone(self, evaluation_kind: str) -> Milestone:
        return Milestone.objects.get(contract_id=self.contract_id, evaluation_kind=evaluation_kind)


def _profile(user: User) -> AssessorProfile:
    return AssessorProfile.objects.get(user=user)


def make_assessors(contract: Contract, prefix: str = "perf") -> dict[str, int]:
    """The independent assessor and one per conflict with the contract's supplier."""
    organization = contract.organization
    official = persona("official", Role.OFFICIAL)
    users = {
        name: make_assessor(f"{prefix}_{name}", agency=f"{prefix}{name}评估所")
        for name in ASSESSORS
    }
    assessor_employment_add(
        profile=_profile(users["employed"]),
        actor=official,
        employer_name=organization.name,
        organization=organization,
        start_date=date(2020, 3, 1),
        end_date=date(2025, 6, 30),
    )
    assessor_relation_add(
        profile=_profile(users["related"]),
        actor=official,
        organization_name=organization.name,
        organization=organization,
        relation="理事会成员的配偶",
    )
    assessor_employment_add(
        profile=_profile(users["purchasing"]),
        actor=official,
        employer_name="解放碑街道办事处",
        is_purchasing_unit=True,
        start_date=date(2019, 1, 1),
    )
    assessor_employment_add(
        profile=_profile(users["former"]),
        actor=official,
        employer_name=organization.name,
        organization=organization,
        start_date=date(2015, 1, 1),
        end_date=date(2022, 12, 31),
    )
    return {name: user.pk for name, user in users.items()}


def build_active(clock: Clock) -> Built:
    contract = make_active_contract(clock)
    return Built(
        contract_id=contract.pk,
        assessor_ids=make_assessors(contract),
        built_until=clock.current,
    )


def indicators(evaluation: PerformanceEvaluation) -> list[PerformanceIndicator]:
    return list(
        PerformanceIndicator.objects.filter(set_id=evaluation.indicator_set_id).order_by(
            "sort_order"
        )
    )


def scores_at(
    evaluation: PerformanceEvaluation,
    fraction: str,
    *,
    skip_satisfaction: bool = False,
    evidence: str = EVIDENCE,
) -> dict[str, tuple[Decimal, str]]:
    """Every indicator at ``fraction`` of its points (to 0.1), each with evidence."""
    share = Decimal(fraction)
    return {
        i.code: ((i.max_points * share).quantize(Decimal("0.1"), ROUND_HALF_UP), evidence)
        for i in indicators(evaluation)
        if not (skip_satisfaction and i.is_satisfaction)
    }


def assign(
    built_or_contract: Built | Contract, kind: str, assessor: User, *, due_in: int = 30
) -> PerformanceEvaluation:
    contract = (
        built_or_contract.contract if isinstance(built_or_contract, Built) else built_or_contract
    )
    from django.utils import timezone

    return services.performance_evaluation_assign(
        contract=contract,
        kind=kind,
        assessor=assessor,
        actor=persona("official", Role.OFFICIAL),
        due_date=timezone.localdate() + timedelta(days=due_in),
    )


def evaluate(
    built_or_contract: Built | Contract,
    kind: str,
    assessor: User,
    fraction: str,
    *,
    skip_satisfaction: bool = False,
) -> PerformanceEvaluation:
    """Assign, declare, score every indicator at ``fraction`` and submit."""
    evaluation = assign(built_or_contract, kind, assessor)
    services.performance_declare(evaluation=evaluation, actor=assessor)
    services.performance_scores_save(
        evaluation=evaluation,
        actor=assessor,
        scores=scores_at(evaluation, fraction, skip_satisfaction=skip_satisfaction),
        conclusion=CONCLUSION,
    )
    services.performance_evaluation_submit(evaluation=evaluation, actor=assessor)
    return PerformanceEvaluation.objects.get(pk=evaluation.pk)


def answer_survey(built: Built, clock: Clock, ratings: list[int]) -> None:
    """A service site and one answer per rating (distinct phones and addresses)."""
    site = survey_services.survey_site_add(
        contract=built.contract, actor=built.official, name="解放碑社区服务站"
    )
    for index, rating in enumerate(ratings):
        survey_services.survey_answer(
            site=site,
            phone=f"1380000{index:04d}",
            overall=rating,
            quality=rating,
            attitude=rating,
            timeliness=rating,
            address=f"10.0.0.{index + 1}",
            started_at=survey_services.survey_form_token(
                site, now=clock.current - timedelta(minutes=1)
            ),
        )
