"""The evaluation part of the demo street office (DESIGN.md section 8).

An assessor pool of fifteen experts from several agencies, with their service categories,
employment histories and declared relations. Planted for the draws: ``assessor_11`` worked
for a demo bidder (夕阳红) until about fourteen months ago, ``assessor_12`` declared that
his wife sits on the board of another (渝中区社会工作者协会), ``assessor_13`` is staff of the
purchasing unit itself, and ``assessor_01`` and ``assessor_10`` share an employer.

Four opened tenders of ``tenders.demo`` (those with an ``evaluation``) are carried on:

- ``scoring``: the panel still scores; a member declared a conflict and was replaced by a
  new draw; some sheets are submitted, some are drafts, some untouched. The demo's own
  ``assessor`` chairs it and has a draft to finish.
- ``ranked``: every sheet locked and the ranking frozen, waiting for the award. One
  abnormal score (畸高畸低) was confirmed in writing by its member and one revised; an
  abnormally low price was justified by the bidder and accepted by the chair, so the bid
  stays in the ranking.
- ``challenged``: awarded to the first-ranked bid three working days ago; the runner-up
  filed a challenge (质疑), which was answered and decided: not upheld.
- ``ready``: a consultation panel with the purchaser's representative, awarded long
  enough ago that the challenge window is over: ready for the contract.

Every step goes through the real services (``evaluation.services``, ``tenders.services``),
so the audit log tells the story. The draw is random: for the catalogue's first copy a
draw that stopped before reaching the planted conflict is rolled back (with its audit
events) and drawn again, so that the demo always shows each kind of exclusion. Scores come
from seeded random numbers around each bid's quality, close enough that nothing but the
planted scores is ever flagged.

``marketplace.demo.seed_demo`` calls ``assessors_seed`` and then ``seed_evaluation``
after the tenders demo. Running it again changes nothing: an assessor who exists and a
tender that has a panel are left as they are.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone, translation

from evaluation import rules as evaluation_rules
from evaluation import scoring
from evaluation.models import (
    AssessorProfile,
    DeviationFlag,
    DeviationStatus,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelDrawKind,
    PanelMember,
    PriceJustification,
    Ranking,
    RankingCorrection,
    Score,
    ScoreSheet,
)
from evaluation.services import (
    assessor_employment_add,
    assessor_pool_join,
    assessor_relation_add,
)
from evaluation.services.panels import (
    EMPLOYED_BY_BIDDER,
    PURCHASING_UNIT,
    RELATION_WITH_BIDDER,
    justification_decide,
    justification_submit,
    panel_declare,
    panel_form,
)
from evaluation.services.sheets import (
    deviation_confirm,
    deviation_revise,
    scoresheet_save,
    scoresheet_submit,
)
from marketplace.models import Role, User
from marketplace.services import user_create
from orgs_registry.demo import DEMO_EMAIL_DOMAIN
from orgs_registry.models import Organization, ServiceCategory
from tenders import rules as tender_rules
from tenders import services as tender_services
from tenders.calendar import add_working_days, is_working_day
from tenders.demo import DemoTender, demo_pdf
from tenders.models import (
    Amendment,
    Award,
    AwardStatus,
    Bid,
    BidDocument,
    BidReceipt,
    Challenge,
    ChallengeDocument,
    CriterionKind,
    OpeningConfirmation,
    Question,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderInterest,
    TenderStatus,
)

SEED = 20261126  # the demo's random numbers for member scores

# The purchasing unit (DESIGN 1): its staff may not sit on its panels as experts.
STREET_OFFICE = "重庆市渝中区人民政府解放碑街道办事处"

# --- The assessor pool -----------------------------------------------------------------------


@dataclass(frozen=True)
class EmploymentPlan:
    """A period of an assessor's employment.

    ``organization``: a demo organization's key when the employer is in the registry.
    ``ended_months_ago``: the period ended that many months before the demo runs (a
    conflict that must stay within the 3 years whenever it runs); else ``end``.
    ``start`` None: the day after the previous period ended.
    """

    employer: str
    position: str
    start: date | None
    end: date | None = None
    ended_months_ago: int = 0
    organization: str = ""
    purchasing_unit: bool = False


@dataclass(frozen=True)
class RelationPlan:
    organization: str  # a demo organization's key
    relation: str


@dataclass(frozen=True)
class DemoAssessor:
    """One expert of the pool: their agency, categories (empty: all) and history."""

    username: str
    full_name: str
    agency: str
    categories: tuple[str, ...]
    employments: tuple[EmploymentPlan, ...]
    relations: tuple[RelationPlan, ...] = ()
    note: str = ""


def _job(employer: str, position: str, start: date | None, **extra: Any) -> EmploymentPlan:
    return EmploymentPlan(employer, position, start, **extra)


CQU = "重庆大学公共管理学院"

ASSESSORS: tuple[DemoAssessor, ...] = (
    DemoAssessor(
        "assessor_01",
        "刘建华",
        CQU,
        ("community_governance", "social_assistance", "culture_sports", "elderly_care"),
        (
            _job("重庆市社会科学院", "助理研究员", date(2002, 7, 1), end=date(2009, 8, 31)),
            _job(CQU, "教授", date(2009, 9, 1)),
        ),
        note="expert, 重庆大学 (same employer as assessor_10)",
    ),
    DemoAssessor(
        "assessor_02",
        "陈思远",
        "西南政法大学社会与法学院",
        ("community_correction", "child_youth", "community_governance"),
        (_job("西南政法大学社会与法学院", "副教授", date(2012, 9, 1)),),
        note="expert, 西南政法大学",
    ),
    DemoAssessor(
        "assessor_03",
        "黄晓琳",
        "重庆工商大学社会工作系",
        ("child_youth", "elderly_care", "social_assistance", "disability"),
        (_job("重庆工商大学社会工作系", "副教授", date(2014, 3, 1)),),
        note="expert, 重庆工商大学",
    ),
    DemoAssessor(
        "assessor_04",
        "杨帆",
        "重庆明德社会组织评估事务所",
        ("elderly_care", "community_governance", "child_youth", "volunteer_service"),
        (
            _job("重庆市渝北区民政局", "科员", date(2010, 7, 1), end=date(2018, 4, 30)),
            _job("重庆明德社会组织评估事务所", "评估师", date(2018, 5, 2)),
        ),
        note="expert, third-party assessment firm",
    ),
    DemoAssessor(
        "assessor_05",
        "何丽萍",
        "重庆信达会计师事务所",
        (),
        (_job("重庆信达会计师事务所", "注册会计师", date(2011, 7, 1)),),
        note="finance expert, all categories",
    ),
    DemoAssessor(
        "assessor_06",
        "邓国平",
        "重庆市老年学学会",
        ("elderly_care", "culture_sports"),
        (_job("重庆市老年学学会", "研究员", date(2016, 1, 4)),),
        note="expert, 重庆市老年学学会",
    ),
    DemoAssessor(
        "assessor_07",
        "谢婷",
        "重庆医科大学护理学院",
        ("elderly_care", "disability", "mental_health"),
        (_job("重庆医科大学护理学院", "副教授", date(2013, 9, 1)),),
        note="expert, 重庆医科大学",
    ),
    DemoAssessor(
        "assessor_08",
        "罗敏",
        "重庆师范大学教育科学学院",
        ("child_youth", "culture_sports", "volunteer_service"),
        (_job("重庆师范大学教育科学学院", "副教授", date(2015, 9, 1)),),
        note="expert, 重庆师范大学",
    ),
    DemoAssessor(
        "assessor_09",
        "唐海涛",
        "重庆市精神卫生中心",
        ("mental_health", "child_youth"),
        (_job("重庆市精神卫生中心", "主任医师", date(2008, 7, 1)),),
        note="expert, 重庆市精神卫生中心",
    ),
    DemoAssessor(
        "assessor_10",
        "周婧",
        CQU,
        ("community_governance", "volunteer_service", "culture_sports"),
        (_job(CQU, "讲师", date(2019, 9, 1)),),
        note="expert, 重庆大学 (same employer as assessor_01)",
    ),
    DemoAssessor(
        "assessor_11",
        "冯雪",
        "重庆康养产业研究院",
        ("elderly_care", "disability"),
        (
            _job(
                "渝中区夕阳红居家养老服务中心",
                "项目主管",
                date(2016, 3, 1),
                ended_months_ago=14,
                organization="eldercare",
            ),
            _job("重庆康养产业研究院", "研究员", None),
        ),
        note="expert; worked for 夕阳红 until last year (excluded from its tenders)",
    ),
    DemoAssessor(
        "assessor_12",
        "曾志勇",
        "重庆城市管理职业学院",
        ("community_governance", "social_assistance"),
        (_job("重庆城市管理职业学院", "副教授", date(2011, 9, 1)),),
        relations=(RelationPlan("sw_association", "配偶任该协会理事"),),
        note="expert; declared a relation with 渝中区社会工作者协会 (excluded from its tenders)",
    ),
    DemoAssessor(
        "assessor_13",
        "苏静",
        "解放碑街道办事处",
        ("community_governance", "child_youth", "elderly_care", "culture_sports"),
        (
            _job(
                STREET_OFFICE,
                "社区发展科科员",
                date(2019, 4, 1),
                purchasing_unit=True,
            ),
        ),
        note="street office staff in the pool (never drawn for its tenders)",
    ),
    DemoAssessor(
        "assessor_14",
        "彭勇",
        "重庆渝律律师事务所",
        ("community_correction", "social_assistance", "community_governance"),
        (_job("重庆渝律律师事务所", "律师", date(2010, 6, 1)),),
        note="legal expert, 重庆渝律律师事务所",
    ),
    DemoAssessor(
        "assessor_15",
        "江蓉",
        "重庆市社会组织促进会",
        (
            "child_youth",
            "community_governance",
            "culture_sports",
            "elderly_care",
            "volunteer_service",
        ),
        (
            _job("重庆市渝中区民政局", "科员", date(2008, 7, 1), end=date(2017, 2, 28)),
            _job("重庆市社会组织促进会", "秘书长", date(2017, 3, 1)),
        ),
        note="expert, 重庆市社会组织促进会",
    ),
)


def _months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def assessors_seed(
    *, organizations: Mapping[str, Organization], password: str
) -> list[DemoAssessor]:
    """Look up or build every demo assessor: account, pool profile, history, relations.

    Each assessor keeps their own profile (the actor of every change), as the pool's
    self-service pages let them.
    """
    categories = {category.code: category for category in ServiceCategory.objects.all()}
    today = timezone.localdate()
    for plan in ASSESSORS:
        if User.objects.filter(username=plan.username).exists():
            continue
        user = user_create(
            username=plan.username,
            role=Role.ASSESSOR,
            password=password,
            actor=None,
            email=f"{plan.username}@{DEMO_EMAIL_DOMAIN}",
            full_name=plan.full_name,
        )
        profile = assessor_pool_join(
            user=user,
            categories=[categories[code] for code in plan.categories],
            actor=None,
            agency=plan.agency,
        )
        previous_end: date | None = None
        for job in plan.employments:
            start, end = job.start, job.end
            if start is None:
                if previous_end is None:
                    raise RuntimeError(f"{plan.username}: a period follows no ended one")
                start = previous_end + timedelta(days=1)
            if job.ended_months_ago:
                end = _months_before(today, job.ended_months_ago) - timedelta(days=1)
            assessor_employment_add(
                profile=profile,
                actor=user,
                employer_name=job.employer,
                start_date=start,
                end_date=end,
                organization=organizations[job.organization] if job.organization else None,
                is_purchasing_unit=job.purchasing_unit,
                position=job.position,
            )
            previous_end = end
        for relation in plan.relations:
            organization = organizations[relation.organization]
            assessor_relation_add(
                profile=profile,
                actor=user,
                organization_name=organization.name,
                organization=organization,
                relation=relation.relation,
            )
    return list(ASSESSORS)


# --- The evaluations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviationPlan:
    """A planted abnormal score (畸高畸低): the member in ``seat`` scores ``org``'s bid on
    ``criterion`` far from the others (``direction`` -1 low, +1 high), then confirms it with
    ``text`` as the reason, or revises it to the others' mean with ``text`` as the reason."""

    seat: int
    org: str
    criterion: str
    direction: int
    text: str


@dataclass(frozen=True)
class JustificationPlan:
    """The abnormally low price's written justification and the chair's acceptance."""

    org: str
    text: str
    decision: str


@dataclass(frozen=True)
class ChallengePlan:
    """The runner-up's challenge (质疑), its answer (not upheld) and the decision."""

    subject: str
    text: str
    answer: str
    decision: str


@dataclass(frozen=True)
class EvaluationPlan:
    """How one demo tender is evaluated.

    ``quality``: each bidder's share of every subjective criterion's points (members differ
    a little around it). ``wanted``: exclusion reasons the initial draw must show (the
    catalogue's first copy only). ``progress`` (scoring only): per seat, one letter per
    sheet in bid order: ``S`` submitted, ``D`` draft, ``P`` partial draft, ``-`` untouched.
    ``award_working_days_ago``: the award is dated that many working days before today.
    """

    quality: Mapping[str, str]
    wanted: tuple[str, ...] = ()
    chaired_by_assessor: bool = False  # the demo's ``assessor`` is named and chairs
    representative: bool = False  # the official sits as the purchaser's representative
    conflict_seat: int = 0
    conflict_org: str = ""
    progress: tuple[str, ...] = ()
    confirmed: DeviationPlan | None = None
    revised: DeviationPlan | None = None
    low_price: JustificationPlan | None = None
    challenge: ChallengePlan | None = None
    award_working_days_ago: int = 0
    named: tuple[str, ...] = ()  # pool assessors (usernames) named to the panel


NO_CONFLICT = "本人已阅读回避规定，与本项目各投标人不存在利害关系，承诺独立、客观、公正评审。"

EVALUATIONS: dict[str, EvaluationPlan] = {
    "bathing": EvaluationPlan(
        quality={"eldercare": "0.87", "elder_fund": "0.79", "lele_health": "0.72"},
        wanted=(EMPLOYED_BY_BIDDER,),
        chaired_by_assessor=True,
        conflict_seat=3,
        conflict_org="lele_health",
        progress=("D--", "SSS", "SP-", "SSS", "PP-"),
    ),
    "incubation": EvaluationPlan(
        quality={
            "sw_association": "0.86",
            "shanyuan": "0.74",
            "volunteers": "0.80",
            "governance": "0.68",
        },
        wanted=(RELATION_WITH_BIDDER,),
        confirmed=DeviationPlan(
            2,
            "volunteers",
            "plan",
            -1,
            "该方案对孵化对象的遴选、培育和出壳退出缺乏具体设计，服务指标的实现路径不清晰，"
            "与招标文件要求差距较大，本人维持原评分。",
        ),
        revised=DeviationPlan(
            4,
            "shanyuan",
            "team",
            -1,
            "复核人员配置表后，初评对项目团队持证社工人数和孵化培育经验估计不足，调整评分。",
        ),
        low_price=JustificationPlan(
            "governance",
            "本单位报价较低的原因：一、项目团队由本单位长期扎根社区的专职社工组成，无需新增招聘；"
            "二、孵化场地由社区党群服务中心无偿提供；三、本单位承接的市级社区社会组织培育项目"
            "课程可共享使用。报价已覆盖全部人员经费和活动成本（详见所附成本测算），"
            "承诺不降低服务标准。",
            "评审委员会审查了投标人的书面说明和成本测算：人员经费按本单位现有薪酬标准足额列支，"
            "场地和课程来源有据可查，报价能够保证服务质量，不影响合同履行，报价有效。",
        ),
    ),
    "youth_growth": EvaluationPlan(
        quality={"growing": "0.84", "legal_youth": "0.77", "stars": "0.81"},
        wanted=(PURCHASING_UNIT,),
        challenge=ChallengePlan(
            "对青少年社区成长营服务项目中标结果的质疑",
            "我单位对本项目中标结果提出质疑：一、中标人项目团队中有人员同时在其他项目中任职，"
            "投入本项目的时间无法保证；二、评审委员会对“团队配置”的评分未充分考虑上述情况。"
            "请采购人核查并重新评审。",
            "经核查，中标人投标文件所列人员均在其本单位在职，人员配置表中的投入比例合计未超过"
            "其工作时间，符合招标文件要求；评审委员会按评分标准独立评分，评分过程和汇总无误。"
            "质疑事项不成立。",
            "同意答复意见：质疑事项不成立，维持中标结果。",
        ),
        award_working_days_ago=3,
    ),
    "fitness": EvaluationPlan(
        quality={"culture": "0.85", "seniors": "0.73", "senior_college": "0.78"},
        representative=True,
        award_working_days_ago=9,
    ),
}

REASONS = (
    (Decimal("0.85"), "内容完整、针对性强，措施具体可行"),
    (Decimal("0.75"), "内容较完整，个别环节不够具体"),
    (Decimal("0.6"), "基本满足招标要求，措施较笼统"),
    (Decimal("0"), "与招标要求差距较大"),
)
HALF = Decimal("0.5")
# Members differ a little (DESIGN 8: plausible scores): a personal bias of at most ±3% and
# a noise of at most ±4% of the points. Two members' scores on a cell are then at most 14%
# of the points (and 0.5 of rounding) apart: never beyond the deviation threshold of 30%
# for a criterion of 5 points or more, so only the planted scores are flagged.
BIAS = 0.03
NOISE = 0.04
# The integrity demo's assessor affinity: the demo's ``assessor`` scores this organization's
# bids 12% of the points above what the plan gives them, in every panel it sits on (named or
# drawn). With the bias and noise above, the favoured score is at most 0.26 of the points (and
# 0.5 of rounding) from any other member's, so at most 0.21 from the mean of a panel of five:
# never an abnormal score (30%), yet in every tender above what the others give.
FAVOURED = "elder_fund"
FAVOUR = Decimal("0.12")
# The integrity demo's assessor deviation: this pool assessor scores every bid 8% of the
# points above what the plan gives it in the panels it is named to (``EvaluationPlan.named``:
# four of the integrity demo's, over 20 scores, BIAS_MIN_SCORES), and only there, so that it
# never meets the catalogue's planted abnormal scores. The same bound holds as for the favour.
LENIENT = "assessor_05"
LENIENCY = Decimal("0.08")
# Draws tried before the demo settles for one that misses a planted conflict.
REDRAWS = 40


@dataclass
class _Context:
    organizations: Mapping[str, Organization]
    official: User
    approver: User
    assessor: User
    admins: dict[int, User] = field(default_factory=dict)


def seed_evaluation(
    *,
    tenders: Iterable[tuple[DemoTender, Tender]],
    organizations: Mapping[str, Organization],
    official: User,
    approver: User,
    assessor: User,
) -> list[Tender]:
    """Carry every demo tender with an ``evaluation`` on; return those tenders.

    ``tenders`` pairs the tenders demo's plans with their tenders; a tender that already
    has a panel is left as it is. ``official`` forms the panels, answers the challenge and
    may sit as the purchaser's representative; ``approver`` confirms the awards and decides
    the challenge; ``assessor`` chairs the panel that still scores.
    """
    context = _Context(
        organizations=organizations, official=official, approver=approver, assessor=assessor
    )
    found = []
    # Texts the services store (reasons, notes) are in the office's language of record.
    with translation.override(settings.LANGUAGE_CODE):
        for plan, tender in tenders:
            if not plan.evaluation:
                continue
            if not Panel.objects.filter(tender=tender).exists():
                if tender.status != TenderStatus.OPENED:
                    raise RuntimeError(f"demo tender {plan.key} is {tender.status}, not opened")
                _evaluate(plan, EVALUATIONS[plan.key], tender, context)
            tender.refresh_from_db()
            found.append(tender)
    return found


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed: stable across runs and machines.
    return random.Random(":".join(str(p) for p in (SEED, *parts)))  # noqa: S311  (not secret)


def _admin(organization: Organization, context: _Context) -> User:
    admin = context.admins.get(organization.pk)
    if admin is None:
        admin = (
            User.objects.filter(organization=organization, role=Role.ORG_ADMIN)
            .order_by("pk")
            .first()
        )
        if admin is None:  # the registry demo gives every organization an administrator
            raise RuntimeError(f"demo organization {organization.name} has no administrator")
        context.admins[organization.pk] = admin
    return admin


def _evaluate(
    plan: DemoTender, evaluation: EvaluationPlan, tender: Tender, context: _Context
) -> None:
    organizations = {key: context.organizations[plan.org_key(key)] for key in evaluation.quality}
    panel = _form_panel(plan, evaluation, tender, context)
    _declare(plan, evaluation, panel, organizations)
    justification = None
    if evaluation.low_price is not None:
        justification = _justify(plan, evaluation.low_price, tender, organizations, context)
    _score(plan, evaluation, panel, organizations, context.assessor)
    if plan.evaluation == "scoring":
        return
    _resolve_flags(evaluation, panel, organizations)
    if justification is not None and evaluation.low_price is not None:
        # 87号令 Art. 60: the panel decides; its chair records the decision.
        chair = Panel.objects.select_related("chair").get(pk=panel.pk).chair
        if chair is None:
            raise RuntimeError(f"demo tender {plan.key}: the panel has no chair")
        justification_decide(
            justification=justification,
            actor=chair,
            accept=True,
            note=evaluation.low_price.decision,
        )
    ranking = Ranking.objects.filter(tender=tender).first()
    if ranking is None:  # every sheet locked and nothing pending: a plan that misses is a bug
        raise RuntimeError(f"demo tender {plan.key} has no ranking")
    if plan.evaluation == "ranked":
        return
    first = ranking.rows.select_related("bid").order_by("position").first()
    if first is None:
        raise RuntimeError(f"demo tender {plan.key} has an empty ranking")
    tender.refresh_from_db()
    tender_services.award_confirm(tender=tender, actor=context.approver, bid=first.bid)
    back_date(tender, days=_days_back(evaluation.award_working_days_ago))
    if evaluation.challenge is not None:
        _challenge(plan, evaluation.challenge, tender, ranking, context)


# --- Panel, declarations, justification ----------------------------------------------------


class _Redraw(Exception):
    """The draw missed a planted conflict: roll it back and draw again."""


def _form_panel(
    plan: DemoTender, evaluation: EvaluationPlan, tender: Tender, context: _Context
) -> Panel:
    named = [context.assessor] if evaluation.chaired_by_assessor else []
    named += [User.objects.get(username=username) for username in evaluation.named]
    representatives = [context.official] if evaluation.representative else []
    wanted = set(evaluation.wanted) if plan.copy == 0 else set()
    for attempt in range(REDRAWS):
        try:
            # A savepoint: a rolled-back draw leaves neither rows nor audit events.
            with transaction.atomic():
                panel = panel_form(
                    tender=tender,
                    actor=context.official,
                    members=named,
                    representatives=representatives,
                    chair=context.assessor if evaluation.chaired_by_assessor else None,
                )
                if attempt < REDRAWS - 1 and not wanted <= _excluded_reasons(panel):
                    raise _Redraw
                return panel
        except _Redraw:
            continue
    raise RuntimeError("unreachable: the last draw is kept")


def _excluded_reasons(panel: Panel) -> set[str]:
    draw = PanelDraw.objects.filter(panel=panel, kind=PanelDrawKind.INITIAL).first()
    return {row["reason"] for row in draw.excluded} if draw is not None else set()


def _active_members(panel: Panel) -> list[PanelMember]:
    return list(
        PanelMember.objects.filter(panel=panel)
        .exclude(status=MemberStatus.REPLACED)
        .select_related("user")
        .order_by("seat")
    )


def _declare(
    plan: DemoTender,
    evaluation: EvaluationPlan,
    panel: Panel,
    organizations: Mapping[str, Organization],
) -> None:
    if evaluation.conflict_seat:
        member = next(m for m in _active_members(panel) if m.seat == evaluation.conflict_seat)
        name = organizations[evaluation.conflict_org].name
        panel_declare(
            member=member,
            actor=member.user,
            conflict=True,
            statement=f"本人配偶目前在{name}兼职，与该投标人存在利害关系，依规申请回避。",
        )
    for member in _active_members(panel):
        if member.status == MemberStatus.ASSIGNED:
            panel_declare(member=member, actor=member.user, conflict=False, statement=NO_CONFLICT)


def _justify(
    plan: DemoTender,
    low_price: JustificationPlan,
    tender: Tender,
    organizations: Mapping[str, Organization],
    context: _Context,
) -> PriceJustification:
    organization = organizations[low_price.org]
    justification = PriceJustification.objects.filter(
        bid__tender=tender, bid__organization=organization
    ).first()
    if justification is None:  # the price was chosen to be abnormally low: a miss is a bug
        raise RuntimeError(f"demo tender {plan.key}: no low price flagged for {low_price.org}")
    return justification_submit(
        justification=justification,
        actor=_admin(organization, context),
        text=low_price.text,
        upload=SimpleUploadedFile(
            "成本测算说明.pdf",
            demo_pdf(
                f"JFB price justification: {plan.key} #{plan.copy + 1}",
                f"Bidder {organization.uscc}: staff costs, premises, shared courses.",
            ),
        ),
    )


# --- Scores --------------------------------------------------------------------------------


def _half(value: Decimal, points: Decimal) -> Decimal:
    """``value`` rounded to half points, within [0, points]."""
    rounded = (value * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) * HALF
    return min(max(rounded, Decimal(0)), points)


def _reason(criterion: TenderCriterion, score: Decimal) -> str:
    share = score / criterion.points
    text = next(text for floor, text in REASONS if share >= floor)
    return f"{criterion.name}：{text}"


Cell = tuple[int, str, str]  # (seat, organization key, criterion code)


def _matrix(
    plan: DemoTender,
    evaluation: EvaluationPlan,
    seats: Sequence[int],
    criteria: Sequence[TenderCriterion],
    favouring_seat: int | None = None,
    lenient_seat: int | None = None,
) -> dict[Cell, Decimal]:
    """Every member's score on every bid and subjective criterion, planted ones included."""
    scores: dict[Cell, Decimal] = {}
    for seat in seats:
        bias = _rng("bias", plan.key, plan.copy, seat).uniform(-BIAS, BIAS)
        for org, quality in evaluation.quality.items():
            rng = _rng("scores", plan.key, plan.copy, seat, org)
            favour = FAVOUR if seat == favouring_seat and org == FAVOURED else 0
            favour += LENIENCY if seat == lenient_seat else 0
            for criterion in criteria:
                share = Decimal(quality) + Decimal(f"{bias + rng.uniform(-NOISE, NOISE):.4f}")
                share += favour
                scores[(seat, org, criterion.code)] = _half(
                    criterion.points * share, criterion.points
                )
    for planted in (evaluation.confirmed, evaluation.revised):
        if planted is None:
            continue
        criterion = next(c for c in criteria if c.code == planted.criterion)
        others = _others_mean(scores, planted, seats)
        # 0.45 of the points from the others' mean: 0.36 from the panel's mean with five
        # members, beyond the 30% threshold (DESIGN 4.4).
        value = _half(
            others + planted.direction * criterion.points * Decimal("0.45"), criterion.points
        )
        scores[(planted.seat, planted.org, planted.criterion)] = value
    for planted in (evaluation.confirmed, evaluation.revised):
        if planted is None:
            continue
        criterion = next(c for c in criteria if c.code == planted.criterion)
        cell = {str(seat): scores[(seat, planted.org, planted.criterion)] for seat in seats}
        flagged = scoring.deviations(
            cell, criterion.points, threshold=evaluation_rules.DEVIATION_THRESHOLD
        )
        if set(flagged) != {str(planted.seat)}:  # a plan that misses is a bug here
            raise RuntimeError(f"demo tender {plan.key}: planted score not flagged alone")
    return scores


def _others_mean(
    scores: Mapping[Cell, Decimal], planted: DeviationPlan, seats: Sequence[int]
) -> Decimal:
    values = [
        scores[(seat, planted.org, planted.criterion)] for seat in seats if seat != planted.seat
    ]
    return sum(values, Decimal(0)) / len(values)


def _score(
    plan: DemoTender,
    evaluation: EvaluationPlan,
    panel: Panel,
    organizations: Mapping[str, Organization],
    assessor: User,
) -> None:
    """Every member scores (and submits) their sheets, seat by seat; for the panel that
    still scores, as far as ``progress`` says. ``assessor`` (the demo's) favours
    ``FAVOURED``; ``LENIENT``, where named, scores above the others."""
    criteria = list(
        TenderCriterion.objects.filter(
            tender_id=panel.tender_id, kind=CriterionKind.SUBJECTIVE
        ).order_by("sort_order", "pk")
    )
    members = _active_members(panel)
    favouring = next((m.seat for m in members if m.user_id == assessor.pk), None)
    lenient = next(
        (m.seat for m in members if m.user.username == LENIENT and LENIENT in evaluation.named),
        None,
    )
    scores = _matrix(plan, evaluation, [m.seat for m in members], criteria, favouring, lenient)
    key_of = {organization.pk: key for key, organization in organizations.items()}
    for index, member in enumerate(members):
        sheets = list(
            ScoreSheet.objects.filter(member=member).select_related("bid").order_by("bid__pk")
        )
        steps = evaluation.progress[index] if evaluation.progress else "S" * len(sheets)
        for sheet, step in zip(sheets, steps, strict=True):
            if step == "-":
                continue
            org = key_of[sheet.bid.organization_id]
            chosen = criteria[: max(len(criteria) // 2, 1)] if step == "P" else criteria
            scoresheet_save(
                sheet=sheet,
                actor=member.user,
                scores=[
                    {
                        "criterion": criterion.code,
                        "score": scores[(member.seat, org, criterion.code)],
                        "reason": _reason(criterion, scores[(member.seat, org, criterion.code)]),
                    }
                    for criterion in chosen
                ],
            )
            if step == "S":
                scoresheet_submit(sheet=sheet, actor=member.user)


def _resolve_flags(
    evaluation: EvaluationPlan, panel: Panel, organizations: Mapping[str, Organization]
) -> None:
    """The flagged members confirm or revise their planted scores; nothing else is flagged."""
    open_flags = list(
        DeviationFlag.objects.filter(sheet__member__panel=panel, status=DeviationStatus.OPEN)
        .select_related("sheet__member__user", "sheet__bid", "criterion")
        .order_by("pk")
    )
    planted = [p for p in (evaluation.confirmed, evaluation.revised) if p is not None]
    if len(open_flags) != len(planted):
        raise RuntimeError(f"{len(open_flags)} scores flagged, {len(planted)} planted")
    for flag in open_flags:
        plan = next(
            p
            for p in planted
            if p.seat == flag.sheet.member.seat
            and organizations[p.org].pk == flag.sheet.bid.organization_id
            and p.criterion == flag.criterion.code
        )
        member = flag.sheet.member.user
        if plan is evaluation.confirmed:
            deviation_confirm(flag=flag, actor=member, note=plan.text)
        else:
            others = _cell_scores(panel, flag)
            value = _half(sum(others, Decimal(0)) / len(others), flag.criterion.points)
            deviation_revise(flag=flag, actor=member, score=value, reason=plan.text)


def _cell_scores(panel: Panel, flag: DeviationFlag) -> list[Decimal]:
    """The other members' scores on the flagged bid and criterion."""
    return [
        Decimal(value)
        for value in Score.objects.filter(
            sheet__member__panel=panel,
            sheet__bid_id=flag.sheet.bid_id,
            criterion=flag.criterion,
        )
        .exclude(sheet__member__status=MemberStatus.REPLACED)
        .exclude(sheet_id=flag.sheet_id)
        .values_list("score", flat=True)
    ]


# --- Award and challenge -------------------------------------------------------------------


def _challenge(
    plan: DemoTender,
    challenge: ChallengePlan,
    tender: Tender,
    ranking: Ranking,
    context: _Context,
) -> None:
    runner_up = ranking.rows.select_related("bid__organization").get(position=2)
    organization = runner_up.bid.organization
    filed = tender_services.challenge_file(
        tender=tender,
        actor=_admin(organization, context),
        subject=challenge.subject,
        text=challenge.text,
        uploads=[
            SimpleUploadedFile(
                "质疑函.pdf",
                demo_pdf(
                    f"JFB challenge: {plan.key} #{plan.copy + 1}",
                    f"Challenger {organization.uscc}.",
                ),
            )
        ],
    )
    filed = tender_services.challenge_answer(
        challenge=filed, actor=context.official, answer=challenge.answer, upheld=False
    )
    tender_services.challenge_decide(
        challenge=filed, actor=context.approver, note=challenge.decision
    )


# --- Dates ---------------------------------------------------------------------------------


def _days_back(working_days: int) -> int:
    """Calendar days back to the working day ``working_days`` working days before today."""
    today = timezone.localdate()
    day = today
    for _ in range(working_days):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return (today - day).days


def _shifted(queryset: models.QuerySet[Any], delta: timedelta) -> None:
    datetimes = [
        f.name for f in queryset.model._meta.concrete_fields if isinstance(f, models.DateTimeField)
    ]
    queryset.update(**{name: F(name) - delta for name in datetimes})


def back_date(tender: Tender, *, days: int) -> None:
    """Move an evaluated tender's whole story ``days`` days into the past (demo only).

    Like ``tenders.demo._deadline_passes``, these queryset updates are the only writes of
    the evaluation demo that bypass the services: a demo needs awards whose challenge
    window is running or over, and the services stamp every step with the present moment.
    Every time of the tender and of its bids, receipts, panel, sheets, ranking and award
    moves back by the same amount, so their order stays as the services made it; the
    working-day windows (documents, award notice, challenges) are computed again from the
    moved dates. Only dates change: statuses and the audit log keep what the services did,
    the day the demo ran.
    """
    if days <= 0:
        return
    delta = timedelta(days=days)
    for queryset in (
        Tender.objects.filter(pk=tender.pk),
        TenderDocument.objects.filter(tender=tender),
        TenderInterest.objects.filter(tender=tender),
        Question.objects.filter(tender=tender),
        Amendment.objects.filter(tender=tender),
        OpeningConfirmation.objects.filter(tender=tender),
        Bid.objects.filter(tender=tender),
        BidDocument.objects.filter(bid__tender=tender),
        BidReceipt.objects.filter(bid__tender=tender),
        Panel.objects.filter(tender=tender),
        PanelDraw.objects.filter(panel__tender=tender),
        PanelMember.objects.filter(panel__tender=tender),
        ObjectiveScore.objects.filter(bid__tender=tender),
        PriceJustification.objects.filter(bid__tender=tender),
        ScoreSheet.objects.filter(member__panel__tender=tender),
        DeviationFlag.objects.filter(sheet__member__panel__tender=tender),
        Ranking.objects.filter(tender=tender),
        RankingCorrection.objects.filter(ranking__tender=tender),
        Award.objects.filter(tender=tender),
        Challenge.objects.filter(tender=tender),
        ChallengeDocument.objects.filter(challenge__tender=tender),
    ):
        _shifted(queryset, delta)
    tender.refresh_from_db()
    if tender.published_at is not None:
        Tender.objects.filter(pk=tender.pk).update(
            documents_until=add_working_days(
                timezone.localdate(tender.published_at),
                tender_rules.DOCUMENT_PERIOD_WORKING_DAYS,
            )
        )
    for award in Award.objects.filter(tender=tender, status=AwardStatus.ACTIVE):
        notice_day = timezone.localdate(award.notice_published_at)
        Award.objects.filter(pk=award.pk).update(
            notice_until=add_working_days(notice_day, evaluation_rules.AWARD_NOTICE_WORKING_DAYS),
            challenge_deadline=add_working_days(
                notice_day, evaluation_rules.CHALLENGE_WORKING_DAYS
            ),
        )
    tender.refresh_from_db()


def demo_evaluation_counts() -> dict[str, int]:
    """How much the evaluation app holds (for the tests and for benchmarks' notes)."""
    return {
        "assessors": AssessorProfile.objects.count(),
        "panels": Panel.objects.count(),
        "panel members": PanelMember.objects.count(),
        "draws": PanelDraw.objects.count(),
        "score sheets": ScoreSheet.objects.count(),
        "deviation flags": DeviationFlag.objects.count(),
        "price justifications": PriceJustification.objects.count(),
        "rankings": Ranking.objects.count(),
        "awards": Award.objects.count(),
        "challenges": Challenge.objects.count(),
    }
