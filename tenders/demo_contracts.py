"""The contracts part of the demo street office (issue 6; DESIGN.md 3 and 4.5).

Eight more service projects of 解放碑街道, tendered, scored by a drawn panel and awarded
like the evaluation demo's, then carried on to their contracts, one story each:

- 困境儿童关爱保护 (阳光社工): completed. Start-up report accepted, mid-term evaluation
  良 (good), final 优 (excellent); every payment released and its transfer recorded.
- 商圈文明劝导志愿服务 (商圈志愿服务联合会): completed with a final evaluation of 差 (poor):
  the last 30 % is withheld with its reason (the demo's one withheld payment), a credit
  proposal waits for the registry, and the organization's reply is on record.
- 社区嵌入式养老服务站 (夕阳红): in delivery. Start-up report accepted and paid, a team
  member replaced with the official's approval, mid-term evaluation 中 (fair), its payment
  released and waiting for the transfer; the organization replied.
- 低保边缘家庭帮扶 (阳光社工): in delivery. The first report returned with comments and
  accepted once corrected; the mid-term report waits for review, a team change waits for
  approval and the mid-term evaluation waits for the demo's own ``assessor``.
- 社区全民健身指导 (民族路文体协会): terminated with its reason after a returned report;
  its unsettled milestones are withheld by the termination.
- 青少年心理健康教育 (较场口成长中心): signed by both sides; delivery starts next month.
  阳光社工 bid for it too: its panel's past-performance score comes from the excellent
  final evaluation above (DESIGN 4.4), the feedback of evaluations into later tenders.
- 社区心理健康服务驿站 (心理援助热线): a draft signed by the supplier, waiting for the
  street office past its 30 days (87号令 Art. 71).
- 孤独症儿童家庭支持 (星语): a draft drawn up days ago, waiting for both signatures.

Contracts in delivery have survey sites with beneficiaries' answers over several months;
delivery reports carry activities, people served, spending lines, a photo and a PDF.

The projects of past periods were awarded months ago, so their stories are told with the
demo's own clock: ``timezone.now()`` reads a clock set to each step's moment while the
services run, so that every date, the audit log included, is the one the step would have
had. Every write goes through the services (``tenders.services``, the tenders and
evaluation demos' tender and panel steps, ``evaluation.services.performance``); the
stories are placed relative to the day the demo runs, so that their states hold whenever
it runs.

``marketplace.demo.seed_demo`` calls ``seed_contracts`` after the evaluation demo.
Running it again changes nothing: a project is looked up by its title (and drafter) first
and one that exists is left as it is. With ``--scale N`` the catalogue is built N times,
copy k with the organizations of the registry's copy k and titles numbered.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from unittest import mock

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from evaluation import demo as evaluation_demo
from evaluation.models import (
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
    PerformanceIndicator,
)
from evaluation.services.performance import (
    independence_conflict,
    performance_declare,
    performance_evaluation_assign,
    performance_evaluation_submit,
    performance_reply,
    performance_scores_save,
)
from marketplace.models import Role, User
from orgs_registry.models import CreditProposal, Employment, Organization, ServiceCategory
from tenders import demo as tenders_demo
from tenders.calendar import add_working_days, is_working_day
from tenders.demo import (
    CONSULTATION,
    ELIGIBILITY,
    PUBLIC,
    SCHEME_CARE,
    SCHEME_CONSULTATION,
    SCHEME_PUBLIC,
    BidPlan,
    DemoTender,
    demo_pdf,
)
from tenders.models import (
    Award,
    AwardStatus,
    Community,
    Contract,
    ContractTeamMember,
    DeliveryDocument,
    DeliveryReport,
    DeliveryReportStatus,
    Milestone,
    MilestoneStatus,
    SurveyResponse,
    SurveySite,
    TeamChange,
    Tender,
)
from tenders.selectors.delivery import contract_satisfaction
from tenders.services.contracts import (
    contract_draft,
    contract_sign,
    contract_terminate,
    contracts_start_due,
    milestone_payment_record,
    team_change_decide,
    team_change_request,
)
from tenders.services.delivery import (
    delivery_report_accept,
    delivery_report_file,
    delivery_report_return,
)
from tenders.services.surveys import survey_answer, survey_form_token, survey_site_add

SEED = 20261127  # the demo's random numbers for reports, answers and evaluation scores

# Weights of the ratings 1 to 5 in a contract's survey answers.
Mood = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class EvaluationStory:
    """A performance evaluation of the contract.

    ``assessor``: the username asked first (another independent one of the pool when in
    conflict). ``grade``: the grade its scores give; empty: assigned and waiting for the
    assessor. ``level``: the share of each indicator's points the assessor gives (a little
    noise around it). ``reply``: the organization's answer, if any.
    """

    kind: str
    assessor: str
    grade: str = ""
    level: str = "0"
    conclusion: str = ""
    reply: str = ""


@dataclass(frozen=True)
class DemoContract:
    """One demo project carried on to its contract, and how far its story goes.

    ``stage``: ``draft`` (nobody signed), ``draft_overdue`` (the supplier signed, the
    street office not, past the 30 days), ``signed`` (delivery starts next month),
    ``active`` (as far as ``mid_report`` and the evaluations say), ``completed`` or
    ``terminated`` (with ``termination`` as the reason). ``start_months``: the service
    starts on the first day of the month this many months before the current one
    (negative: after it); ``awarded_working_days``, when set, instead dates the award that
    many working days before today (a fresh draft). ``supplier``: the winner expected from
    ``quality`` (each bidder's share of the subjective points).
    """

    tender: DemoTender
    supplier: str
    quality: Mapping[str, str]
    stage: str
    start_months: int = 0
    awarded_working_days: int = 0
    sites: tuple[tuple[str, str], ...] = ()  # (name, community code or "")
    mood: Mood = (0, 1, 3, 10, 6)
    activities: tuple[str, ...] = ()
    served_per_month: int = 60
    first_report_returned: str = ""  # the official's comments on the first report
    mid_report: str = ""  # accepted, waiting (filed days ago, not reviewed) or returned
    mid_report_returned: str = ""
    mid_term: EvaluationStory | None = None
    final: EvaluationStory | None = None
    team_change: str = ""  # approved or requested
    team_change_reason: str = ""
    team_change_note: str = ""
    termination: str = ""

    @property
    def key(self) -> str:
        return self.tender.key

    @property
    def copy(self) -> int:
        return self.tender.copy


def _project(
    key: str,
    title: str,
    category: str,
    method: str,
    budget: str,
    description: str,
    bids: tuple[BidPlan, ...],
    *,
    communities: tuple[str, ...] = (),
    eligibility: str = "",
) -> DemoTender:
    scheme = SCHEME_CONSULTATION if method == CONSULTATION else SCHEME_PUBLIC
    if category == "elderly_care":
        scheme = SCHEME_CARE
    return DemoTender(
        key,
        title,
        category,
        method,
        budget,
        scheme,
        "opened",
        description,
        days=14 if method == CONSULTATION else 25,
        communities=communities,
        eligibility=eligibility,
        bids=bids,
        evaluation="ready",
    )


def _bid(org: str, price: str, staff: int = 3, document: str = "") -> BidPlan:
    return BidPlan(org, price, state="qualified", staff=staff, document=document)


NO_CRIMINAL_RECORD = ELIGIBILITY + "\n5. 服务人员须无违法犯罪记录，并提供无犯罪记录证明。"

# Most projects are bought by competitive consultation (竞争性磋商, open to service projects
# below the public-tender threshold), whose three-member panels also keep the demo quick.
CONTRACTS: tuple[DemoContract, ...] = (
    DemoContract(
        _project(
            "child_care",
            "困境儿童关爱保护服务项目",
            "child_youth",
            CONSULTATION,
            "480000.00",
            "项目背景：辖区有留守、单亲、重病重残家庭等困境儿童130余名，家庭监护和关爱服务薄弱。\n"
            "服务对象：经社区排查建档的困境儿童及其家庭。\n"
            "服务内容：建立“一童一档”，开展入户探访、监护评估和个案服务；在社区儿童之家开展"
            "课业辅导、安全教育和亲子活动；链接助学、医疗救助资源。\n"
            "服务指标：入户探访不少于1000人次，个案服务不少于30个，小组和社区活动不少于60场。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("sunshine", "0.93", 4, "技术方案"),
                _bid("growing", "0.91"),
                _bid("legal_youth", "0.94"),
            ),
            communities=("jiaochangkou", "bayi_road", "xinhua_road"),
            eligibility=NO_CRIMINAL_RECORD,
        ),
        "sunshine",
        {"sunshine": "0.87", "growing": "0.77", "legal_youth": "0.74"},
        "completed",
        start_months=14,
        sites=(("较场口社区儿童之家", "jiaochangkou"), ("八一路社区儿童之家", "bayi_road")),
        mood=(0, 1, 2, 10, 20),
        activities=(
            "入户探访困境儿童家庭，更新“一童一档”和监护评估",
            "在社区儿童之家开展课业辅导和安全教育活动",
            "为重点个案链接助学和医疗救助资源",
            "组织亲子活动和家长课堂",
        ),
        served_per_month=110,
        mid_report="accepted",
        mid_term=EvaluationStory(
            "mid_term",
            "assessor_04",
            "good",
            "0.86",
            "项目前半期按计划推进，建档、探访和个案服务数量达到进度要求，儿童之家活动受到家长"
            "欢迎；个案服务记录的规范性和资源链接的跟进还需加强。综合评定为“良”。",
        ),
        final=EvaluationStory(
            "final",
            "assessor",
            "excellent",
            "0.96",
            "项目全面完成合同约定的服务内容和指标，入户探访、个案服务和社区活动均超额完成；"
            "服务档案完整规范，资金使用合规；服务对象满意度高，培育了一支稳定的儿童关爱志愿者"
            "队伍。综合评定为“优”。",
            "感谢评估组的肯定。我们将把“一童一档”和志愿者队伍的经验固化下来，在后续服务中"
            "继续跟进重点个案。",
        ),
    ),
    DemoContract(
        _project(
            "civility",
            "解放碑商圈文明劝导志愿服务项目",
            "volunteer_service",
            CONSULTATION,
            "260000.00",
            "项目背景：解放碑商圈日均客流超过30万人次，节假日人流密集，需要常态化的文明劝导和"
            "游客服务。\n"
            "服务内容：在步行街、地铁站口设立志愿服务岗，开展文明劝导、游客咨询、失物招领和"
            "节假日人流疏导；招募和培训商圈志愿者。\n"
            "服务指标：上岗志愿者不少于8000人次，服务时长不少于2万小时，培训不少于12场。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("cbd_volunteers", "0.92", 3, "技术方案"),
                _bid("culture", "0.90"),
                _bid("seniors", "0.95"),
            ),
            communities=("minzu_road", "jiaochangkou", "xiaoshizi"),
        ),
        "cbd_volunteers",
        {"cbd_volunteers": "0.86", "culture": "0.73", "seniors": "0.70"},
        "completed",
        start_months=15,
        sites=(
            ("解放碑步行街志愿服务站", "minzu_road"),
            ("较场口地铁站志愿服务岗", "jiaochangkou"),
        ),
        mood=(5, 7, 8, 6, 3),
        activities=(
            "在步行街和地铁站口设岗开展文明劝导和游客咨询",
            "节假日开展人流疏导和失物招领",
            "招募并培训商圈志愿者",
        ),
        served_per_month=2600,
        mid_report="accepted",
        mid_term=EvaluationStory(
            "mid_term",
            "assessor_15",
            "fair",
            "0.68",
            "项目前半期基本按计划开展，志愿服务岗设置到位；但志愿者上岗人次低于进度要求，"
            "培训场次不足，服务台账不够完整。综合评定为“中”，请在下半期整改。",
        ),
        final=EvaluationStory(
            "final",
            "assessor_04",
            "poor",
            "0.46",
            "项目下半期主要骨干流失，志愿服务岗多次空岗，全年上岗志愿者人次和服务时长仅完成"
            "约定的六成左右；部分支出与预算科目不符且凭证缺失；服务对象满意度较低。中期评价"
            "指出的问题未得到整改。综合评定为“差”，末期款不予支付，建议登记管理机关依规处理。",
            "本机构接受评价结论。项目执行期间两名骨干离职、志愿者招募不足，导致服务数量未达"
            "约定；我们已调整管理团队并制定整改方案，将按要求向登记管理机关说明情况。",
        ),
    ),
    DemoContract(
        _project(
            "embedded_care",
            "社区嵌入式养老服务站运营项目",
            "elderly_care",
            PUBLIC,
            "860000.00",
            "项目背景：邹容路、新华路社区建成嵌入式养老服务站2个，需要专业机构运营。\n"
            "服务对象：两个社区60周岁以上老年人，重点是独居、高龄和失能半失能老人。\n"
            "服务内容：日间照料、助餐、助浴、康复指导和文娱活动；为失能老人提供上门照护；"
            "建立老年人健康档案。\n"
            "服务指标：日间照料不少于1.2万人次，上门服务不少于3000人次，满意度不低于90%。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("eldercare", "0.93", 4, "技术方案"),
                _bid("elder_fund", "0.90"),
                _bid("lele_health", "0.95"),
            ),
            communities=("zourong_road", "xinhua_road"),
            eligibility=ELIGIBILITY
            + "\n5. 从事照护的人员须持有养老护理员职业技能等级证书或健康证明。",
        ),
        "eldercare",
        {"eldercare": "0.88", "elder_fund": "0.77", "lele_health": "0.72"},
        "active",
        start_months=8,
        sites=(("邹容路社区养老服务站", "zourong_road"), ("新华路社区养老服务站", "xinhua_road")),
        mood=(0, 2, 5, 12, 6),
        activities=(
            "两个服务站开展日间照料和助餐服务",
            "为失能半失能老人提供上门助浴和照护",
            "开展康复指导、健康讲座和文娱活动",
        ),
        served_per_month=1100,
        mid_report="accepted",
        mid_term=EvaluationStory(
            "mid_term",
            "assessor_05",
            "fair",
            "0.70",
            "两个服务站运营正常，日间照料和助餐服务量达到进度要求；上门助浴和康复指导服务量"
            "明显不足，经费台账与预算科目对应不清。综合评定为“中”。",
            "感谢评估组的意见。我们已增配一名持证护理员，下半期将补齐上门助浴和康复指导的"
            "服务量，并按预算科目重新整理经费台账，按月报送服务数据。",
        ),
        team_change="approved",
        team_change_reason="原服务人员因家庭原因离职，由本中心在职人员接替，岗位和投入比例不变。",
        team_change_note="经核查，接替人员为本中心在职人员，资质符合要求，同意变更。",
    ),
    DemoContract(
        _project(
            "low_income",
            "低保边缘家庭综合帮扶服务项目",
            "social_assistance",
            CONSULTATION,
            "540000.00",
            "项目背景：辖区低保边缘家庭约180户，因病、因残、因学致困问题突出，需要救助之外的"
            "综合帮扶。\n"
            "服务内容：入户走访和需求评估，制定家庭帮扶计划；开展就业指导、心理支持和"
            "子女学业帮扶；链接慈善资源开展“微心愿”活动。\n"
            "服务指标：走访不少于1500户次，家庭个案不少于40个，链接资源不少于30万元。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("sunshine", "0.92", 4, "技术方案"),
                _bid("family", "0.90"),
                _bid("shanyuan", "0.94"),
            ),
        ),
        "sunshine",
        {"sunshine": "0.87", "family": "0.76", "shanyuan": "0.72"},
        "active",
        start_months=5,
        sites=(("解放碑街道社会救助服务站", ""), ("人民公园社区党群服务中心", "peoples_park")),
        mood=(0, 1, 3, 10, 8),
        activities=(
            "入户走访低保边缘家庭并完成需求评估",
            "为家庭个案制定帮扶计划并开展就业指导和心理支持",
            "链接慈善资源开展“微心愿”活动",
        ),
        served_per_month=160,
        first_report_returned="报告未附服务签到表和经费支出凭证；“活动物资”一项支出超出预算，"
        "请说明原因并补充材料后重新报送。",
        mid_report="waiting",
        mid_term=EvaluationStory("mid_term", "assessor"),
        team_change="requested",
        team_change_reason="原项目社工调往本中心其他项目，拟由本中心在职人员接替，投入比例不变。",
    ),
    DemoContract(
        _project(
            "fitness_guide",
            "社区全民健身指导服务项目",
            "culture_sports",
            CONSULTATION,
            "180000.00",
            "服务内容：在9个社区开展科学健身指导，组建和培训社区健身队伍，每月举办健身讲座和"
            "体质监测活动。\n"
            "服务指标：健身指导不少于200场，参与居民不少于6000人次。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("culture", "0.92", 3, "技术方案"),
                _bid("seniors", "0.90", 2),
                _bid("senior_college", "0.95"),
            ),
            communities=("minzu_road", "xiaoshizi", "peoples_park"),
        ),
        "culture",
        {"culture": "0.85", "seniors": "0.74", "senior_college": "0.72"},
        "terminated",
        start_months=7,
        sites=(("民族路社区健身广场", "minzu_road"), ("小什字社区活动中心", "xiaoshizi")),
        mood=(3, 4, 6, 5, 3),
        activities=(
            "在社区开展科学健身指导和健身讲座",
            "组织社区健身队伍训练",
            "开展居民体质监测",
        ),
        served_per_month=450,
        mid_report="returned",
        mid_report_returned="报告所列的多场健身指导活动与社区反映的情况不符，请补充活动签到表、"
        "现场照片和场地使用记录后重新报送。",
        termination="承接方项目负责人和两名健身指导员相继离职后未按合同补充人员，两个月内仅开展"
        "计划活动的三分之一；经两次约谈仍未整改，依据合同第十二条解除合同，未结算款项不予支付。",
    ),
    DemoContract(
        _project(
            "youth_mind",
            "青少年心理健康教育服务项目",
            "child_youth",
            CONSULTATION,
            "240000.00",
            "服务内容：在辖区中小学和社区开展心理健康讲座和团体辅导，为有需要的青少年提供"
            "个别咨询和转介，开展家长课堂。\n"
            "服务指标：讲座和团体辅导不少于40场，个别咨询不少于80人次。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (
                _bid("growing", "0.93", 3, "技术方案"),
                _bid("stars", "0.90"),
                _bid("sunshine", "0.96"),
            ),
            eligibility=NO_CRIMINAL_RECORD,
        ),
        "growing",
        # 阳光社工's plan is weak here, but its excellent final evaluation of the child-care
        # contract above earns it the past-performance points (the feedback loop).
        {"growing": "0.90", "stars": "0.76", "sunshine": "0.64"},
        "signed",
        start_months=-1,
        sites=(
            ("较场口社区青少年活动室", "jiaochangkou"),
            ("大井巷社区党群服务中心", "dajingxiang"),
        ),
    ),
    DemoContract(
        _project(
            "mind_station",
            "社区心理健康服务驿站运营项目",
            "mental_health",
            CONSULTATION,
            "300000.00",
            "服务内容：运营街道心理健康服务驿站，提供心理咨询、情绪疏导和危机干预转介；"
            "每月开展心理健康讲座；为社区网格员开展心理援助技能培训。\n"
            "服务指标：咨询不少于600人次，讲座不少于24场，培训不少于6场。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (_bid("hotline", "0.92", 3, "技术方案"), _bid("harbour", "0.90")),
        ),
        "hotline",
        {"hotline": "0.89", "harbour": "0.73"},
        "draft_overdue",
        start_months=-1,
    ),
    DemoContract(
        _project(
            "autism_family",
            "孤独症儿童家庭支持服务项目",
            "disability",
            CONSULTATION,
            "350000.00",
            "服务内容：为辖区孤独症儿童提供康复训练和融合活动，为家长提供照护技能培训和"
            "喘息服务，建立家长互助小组。\n"
            "服务指标：康复训练不少于1500人次，家长培训不少于12场，喘息服务不少于200小时。\n"
            "考核与支付：首期报告验收、中期和末期第三方绩效评价，按30%/40%/30%支付。",
            (_bid("stars", "0.92", 3, "技术方案"), _bid("disability", "0.90")),
        ),
        "stars",
        {"stars": "0.88", "disability": "0.74"},
        "draft",
        awarded_working_days=10,
    ),
)


def demo_contracts(scale: int = 1) -> list[DemoContract]:
    """The catalogue, and for ``--scale N`` N-1 numbered copies of it (N times in all)."""
    found = list(CONTRACTS)
    for copy in range(1, scale):
        found.extend(replace(plan, tender=replace(plan.tender, copy=copy)) for plan in CONTRACTS)
    return found


# --- Building ----------------------------------------------------------------------------------


@dataclass
class _Context:
    organizations: Mapping[str, Organization]
    official: User
    approver: User
    assessor: User
    real_now: datetime
    tenders: tenders_demo._Context
    evaluation: evaluation_demo._Context
    admins: dict[int, User] = field(default_factory=dict)


def seed_contracts(
    *,
    organizations: Mapping[str, Organization],
    official: User,
    approver: User,
    assessor: User,
    scale: int = 1,
) -> list[Contract]:
    """Look up or build every demo contract (and its tender); return them in catalogue order.

    ``official`` drafts the tenders and contracts, reviews reports, assigns evaluations and
    records payments; ``approver`` approves the tenders, confirms the awards and signs for
    the street office; ``assessor`` is the demo's own assessor, who has an evaluation to do.
    """
    context = _Context(
        organizations=organizations,
        official=official,
        approver=approver,
        assessor=assessor,
        real_now=timezone.now(),
        tenders=tenders_demo._Context(
            organizations=organizations,
            official=official,
            approver=approver,
            categories={c.code: c for c in ServiceCategory.objects.all()},
            communities={c.code: c for c in Community.objects.all()},
        ),
        evaluation=evaluation_demo._Context(
            organizations=organizations, official=official, approver=approver, assessor=assessor
        ),
    )
    found = []
    # The texts the services store (reasons, notes) are in the office's language of record.
    with translation.override(settings.LANGUAGE_CODE):
        for plan in demo_contracts(scale):
            tender = Tender.objects.filter(
                title=plan.tender.display_title, created_by=official
            ).first()
            if tender is None:
                tender = _tell(plan, context)
            contract = Contract.objects.filter(tender=tender).first()
            if contract is None:  # the stories all reach a contract: a miss is a bug
                raise RuntimeError(f"demo contract {plan.key}: the tender has no contract")
            found.append(contract)
    return found


# --- The demo's clock --------------------------------------------------------------------------


class _Clock:
    """What ``timezone.now()`` returns while a story is told: the moment of the current step,
    a millisecond later at each reading, so that the services' stamps keep their order."""

    TICK = timedelta(milliseconds=1)

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        self.moment += self.TICK
        return self.moment

    def set(self, moment: datetime) -> None:
        # Steps come in the order of time; of two at the same minute, the second keeps the
        # milliseconds the first one took, so that a story's stamps never run backwards.
        self.moment = max(self.moment, moment)


@contextmanager
def _clock(start: datetime) -> Iterator[_Clock]:
    """Let ``timezone.now()`` (and so ``localdate()``, ``auto_now`` fields and the audit log)
    read the demo's clock inside the block.

    Only the demo does this, in one thread (``manage.py seed_demo``): the services stamp every
    step with the present moment, and a project delivered last year needs last year's dates.
    """
    clock = _Clock(start)
    current_localdate = timezone.localdate

    def localdate(value: datetime | None = None, tz: tzinfo | None = None) -> date:
        # localdate() reads now() already; replaced as well in case it was replaced too
        # (the tests' clock does so).
        return current_localdate(value if value is not None else clock(), tz)

    with (
        mock.patch.object(timezone, "now", clock),
        mock.patch.object(timezone, "localdate", localdate),
    ):
        yield clock


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _workday(day: date) -> date:
    """``day``, or the first working day after it (office work happens on working days)."""
    return add_working_days(day, 0)


def _working_days_before(day: date, count: int) -> date:
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


def _first_of_month(day: date, months_later: int) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


# --- One story -----------------------------------------------------------------------------------


Step = Callable[[], object]


@dataclass
class _Story:
    """The steps of one contract's story, each at its moment, run in the order of time."""

    plan: DemoContract
    context: _Context
    tender: Tender
    contract: Contract | None = None
    steps: list[tuple[datetime, int, Step]] = field(default_factory=list)

    def at(self, moment: datetime, step: Step) -> None:
        self.steps.append((moment, len(self.steps), step))

    def run(self, clock: _Clock, *, until: datetime) -> None:
        for moment, _number, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            if moment >= until:  # a plan that reaches the future is a bug
                raise RuntimeError(f"demo contract {self.plan.key}: a step at {moment} is ahead")
            clock.set(moment)
            step()

    @property
    def current(self) -> Contract:
        if self.contract is None:
            raise RuntimeError(f"demo contract {self.plan.key}: no contract yet")
        self.contract.refresh_from_db()
        return self.contract

    def milestone(self, sequence: int) -> Milestone:
        return Milestone.objects.get(contract=self.current, sequence=sequence)

    def admin(self) -> User:
        organization = self.context.organizations[self.plan.tender.org_key(self.plan.supplier)]
        return _admin(organization, self.context)

    def rng(self, *parts: object) -> random.Random:
        # A string seed is hashed with SHA-512 by random.seed: stable across runs and machines.
        joined = ":".join(str(p) for p in (SEED, self.plan.key, self.plan.copy, *parts))
        return random.Random(joined)  # noqa: S311  (not secret)


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


def _award_moment(plan: DemoContract, real_today: date) -> datetime:
    """When the tender is opened, scored and awarded (on one working day, at 09:00)."""
    if plan.awarded_working_days:
        day = _working_days_before(real_today, plan.awarded_working_days)
    else:
        # The tender's service period starts on the first day of the month at least two
        # months after its publication (``tenders.demo._service_period``): 75 days before
        # the wanted start lands in the month before, so the period starts on that day.
        start = _first_of_month(real_today, -plan.start_months)
        day = start - timedelta(days=75)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return _at(day, 9)


def _tell(plan: DemoContract, context: _Context) -> Tender:
    """Tender, evaluate and award the project at its moment, then tell its contract's story."""
    with _clock(_award_moment(plan, timezone.localdate(context.real_now))) as clock:
        tender = tenders_demo._tender_seed(plan.tender, context.tenders)
        evaluation_plan = evaluation_demo.EvaluationPlan(quality=plan.quality)
        evaluation_demo._evaluate(plan.tender, evaluation_plan, tender, context.evaluation)
        award = Award.objects.select_related("bid__organization").get(
            tender=tender, status=AwardStatus.ACTIVE
        )
        expected = context.organizations[plan.tender.org_key(plan.supplier)]
        if award.bid.organization_id != expected.pk:  # the qualities decide: a miss is a bug
            raise RuntimeError(f"demo contract {plan.key}: {award.bid.organization} won")
        tender.refresh_from_db()
        story = _Story(plan=plan, context=context, tender=tender)
        _plan_story(story, award)
        story.run(clock, until=context.real_now - timedelta(hours=1))
    tender.refresh_from_db()
    return tender


def _plan_story(story: _Story, award: Award) -> None:
    plan, context = story.plan, story.context
    official, approver = context.official, context.approver
    drawn = _at(add_working_days(award.challenge_deadline, 1), 10)

    def draft() -> None:
        story.contract = contract_draft(tender=story.tender, actor=official)

    story.at(drawn, draft)
    if plan.stage == "draft":
        return
    signed_by_supplier = _at(
        add_working_days(drawn.date(), 2 if plan.stage != "draft_overdue" else 5), 11
    )
    story.at(signed_by_supplier, lambda: contract_sign(contract=story.current, actor=story.admin()))
    if plan.stage == "draft_overdue":
        return
    signed = _at(add_working_days(signed_by_supplier.date(), 1), 15)
    story.at(signed, lambda: contract_sign(contract=story.current, actor=approver))
    for number, (name, community) in enumerate(plan.sites):
        story.at(
            signed + timedelta(hours=1, minutes=number), partial(_add_site, story, name, community)
        )
    if plan.stage == "signed":
        return
    _plan_delivery(story)


def _add_site(story: _Story, name: str, community: str) -> SurveySite:
    """The supplier sets up a service site with its survey link."""
    return survey_site_add(
        contract=story.current,
        actor=story.admin(),
        name=name,
        community=story.context.tenders.communities[community] if community else None,
    )


def _plan_delivery(story: _Story) -> None:
    """The story of a contract in delivery, from its first day."""
    plan, context = story.plan, story.context
    official = context.official
    start, end = story.tender.service_start, story.tender.service_end
    if start is None or end is None:  # every demo tender has a service period
        raise RuntimeError(f"demo contract {plan.key}: no service period")
    middle = start + timedelta(days=(end - start).days // 2)
    today = timezone.localdate(context.real_now)
    story.at(_at(start, 8), lambda: contracts_start_due(start))

    # The first report (the start-up milestone, paid when accepted).
    first_filed = _workday(start + timedelta(days=27))
    first_accepted = _report_cycle(
        story,
        1,
        start,
        first_filed - timedelta(days=1),
        first_filed,
        returned=plan.first_report_returned,
        outcome="accepted",
    )
    _record_payment(story, 1, _workday(first_accepted.date() + timedelta(days=5)))

    last_day = today - timedelta(days=1)
    if plan.stage == "terminated":
        ended = _workday(start + timedelta(days=130))
        last_day = ended - timedelta(days=1)
        story.at(
            _at(ended, 10),
            lambda: contract_terminate(
                contract=story.current, actor=official, reason=plan.termination
            ),
        )
        _plan_report(story, 2, first_filed, _workday(start + timedelta(days=95)), plan.mid_report)
    elif plan.stage == "completed":
        last_day = end
    _plan_answers(story, start, min(last_day, end))

    if plan.team_change:
        _plan_team_change(story, start, today)
    if plan.stage == "terminated":
        return

    # The mid-term report: filed shortly before the middle of the period (or, for a story
    # still waiting, a few days ago).
    if plan.mid_report == "waiting":
        mid_filed = _working_days_before(today, 4)
    else:
        mid_filed = _workday(middle - timedelta(days=3))
    mid_reviewed = _plan_report(story, 2, first_filed, mid_filed, plan.mid_report)
    if plan.mid_term is not None:
        if plan.mid_term.grade:
            assigned = _workday(middle - timedelta(days=20))
            due = middle + timedelta(days=25)
        else:
            assigned = _working_days_before(today, 6)
            due = max(middle, today) + timedelta(days=21)
        _plan_evaluation(story, plan.mid_term, assigned, due, after=mid_reviewed)
    if plan.stage != "completed" or plan.final is None:
        return
    final_filed = _workday(end + timedelta(days=1))
    final_reviewed = _plan_report(story, 3, mid_filed, final_filed, "accepted")
    _plan_evaluation(
        story,
        plan.final,
        _workday(end - timedelta(days=14)),
        end + timedelta(days=25),
        after=final_reviewed,
    )


def _plan_report(
    story: _Story, sequence: int, previous_filed: date, filed: date, outcome: str
) -> datetime | None:
    """A report covering the days since the previous one; returns when it was accepted."""
    if not outcome:
        return None
    returned = story.plan.mid_report_returned if outcome == "returned" else ""
    end = story.tender.service_end or filed
    return _report_cycle(
        story,
        sequence,
        previous_filed,
        min(filed - timedelta(days=1), end),
        filed,
        returned=returned,
        outcome=outcome,
    )


def _report_cycle(
    story: _Story,
    sequence: int,
    period_start: date,
    period_end: date,
    filed: date,
    *,
    returned: str,
    outcome: str,
) -> datetime:
    """File a milestone's report on ``filed``; when ``returned``, the official sends it back
    with those comments and (unless ``outcome`` is ``returned``) a corrected one follows.
    ``outcome`` ``accepted``: the official accepts it two working days later; ``waiting``:
    nobody reviewed it yet. Returns the moment of the last step."""
    official = story.context.official
    moment = _at(filed, 16)
    story.at(
        moment,
        lambda: _file(story, sequence, period_start, period_end, complete=not returned),
    )
    if returned:
        moment = _at(add_working_days(filed, 2), 10)
        story.at(
            moment,
            lambda: delivery_report_return(
                report=_pending_report(story, sequence), actor=official, comment=returned
            ),
        )
        if outcome == "returned":
            return moment
        moment = _at(add_working_days(moment.date(), 3), 16)
        story.at(moment, lambda: _file(story, sequence, period_start, period_end, complete=True))
    if outcome == "accepted":
        moment = _at(add_working_days(moment.date(), 2), 10, 30)
        story.at(
            moment,
            lambda: delivery_report_accept(
                report=_pending_report(story, sequence),
                actor=official,
                comment="报告内容与服务台账相符，材料齐全，同意验收。",
            ),
        )
    return moment


def _pending_report(story: _Story, sequence: int) -> DeliveryReport:
    return DeliveryReport.objects.get(
        milestone=story.milestone(sequence), status=DeliveryReportStatus.SUBMITTED
    )


# What a month of service costs, by spending line (shares of the monthly price).
SPENDING_LINES = (
    ("人员经费", Decimal("0.65")),
    ("活动物资", Decimal("0.14")),
    ("交通及通讯", Decimal("0.05")),
    ("培训与督导", Decimal("0.08")),
    ("管理费用", Decimal("0.08")),
)
CENT = Decimal("0.01")


def _file(
    story: _Story, sequence: int, period_start: date, period_end: date, *, complete: bool
) -> DeliveryReport:
    """The supplier files the report: activities, people served, spending, a photo and (when
    ``complete``) the service ledger as a PDF."""
    plan = story.plan
    contract = story.current
    rng = story.rng("report", sequence, complete)
    days = (period_end - period_start).days + 1
    months = Decimal(days) / Decimal("30.4")
    served = int(plan.served_per_month * float(months) * rng.uniform(0.85, 1.1))
    sessions = max(int(served / rng.uniform(8, 14)), 1)
    budget = contract.price * months / 12
    spending = []
    for item, share in SPENDING_LINES:
        planned = (budget * share).quantize(CENT, rounding=ROUND_HALF_UP)
        spent = (planned * Decimal(f"{rng.uniform(0.86, 1.0):.3f}")).quantize(CENT)
        spending.append({"item": item, "budget": str(planned), "spent": str(spent)})
    lines = "；\n".join(f"{number}. {text}" for number, text in enumerate(plan.activities, 1))
    activities = (
        f"{period_start:%Y年%m月%d日}至{period_end:%Y年%m月%d日}服务情况：\n{lines}。\n"
        f"本期服务{served}人次，开展服务{sessions}场次。"
        "下阶段将按服务计划继续推进，重点跟进服务对象的个别需求。"
    )
    uploads = [
        SimpleUploadedFile(
            "活动照片.png", demo_png(tuple(rng.randrange(40, 220) for _ in range(3)))
        )
    ]
    if complete:
        uploads.append(
            SimpleUploadedFile(
                "服务台账.pdf",
                demo_pdf(
                    f"JFB delivery report: {contract.reference} #{sequence}",
                    f"Period {period_start.isoformat()} to {period_end.isoformat()}.",
                    f"People served: {served}; sessions: {sessions}.",
                ),
            )
        )
    return delivery_report_file(
        milestone=story.milestone(sequence),
        actor=story.admin(),
        period_start=period_start,
        period_end=period_end,
        activities=activities,
        people_served=served,
        service_sessions=sessions,
        spending=spending,
        uploads=uploads,
    )


def _record_payment(story: _Story, sequence: int, day: date) -> None:
    """The official records the treasury transfer of a released milestone."""

    def record() -> None:
        milestone = story.milestone(sequence)
        if milestone.status != MilestoneStatus.PAID:
            return  # withheld: nothing to transfer
        milestone_payment_record(
            milestone=milestone,
            actor=story.context.official,
            paid_on=day,
            reference=f"渝中国库集中支付{day:%Y%m%d}-{milestone.pk:04d}",
        )

    story.at(_at(day, 14), record)


def _plan_team_change(story: _Story, start: date, today: date) -> None:
    plan, context = story.plan, story.context
    if plan.team_change == "approved":
        requested = _at(_workday(start + timedelta(days=45)), 9, 30)
    else:
        requested = _at(_working_days_before(today, 2), 9, 30)

    def request() -> None:
        contract = story.current
        team = list(
            ContractTeamMember.objects.filter(contract=contract, left_on__isnull=True).order_by(
                "pk"
            )
        )
        leaving = team[-1]  # the leader comes first and stays
        local_today = timezone.localdate()
        joining = (
            Employment.objects.filter(
                organization_id=contract.organization_id,
                end_date__isnull=True,
                start_date__lte=local_today,
            )
            .exclude(person_id__in=[member.person_id for member in team])
            .order_by("start_date", "person_id")
            .first()
        )
        if joining is None:  # the registry demo's rosters are larger than any team
            raise RuntimeError(f"demo contract {plan.key}: nobody to join the team")
        team_change_request(
            contract=contract,
            actor=story.admin(),
            kind="replace",
            leaving=leaving,
            joining=joining.person_id,
            reason=plan.team_change_reason,
        )

    story.at(requested, request)
    if plan.team_change == "approved":
        story.at(
            _at(add_working_days(requested.date(), 2), 11),
            lambda: team_change_decide(
                change=TeamChange.objects.get(contract=story.current, status="requested"),
                actor=context.official,
                approve=True,
                note=plan.team_change_note,
            ),
        )


# --- Survey answers --------------------------------------------------------------------------

GOOD_COMMENTS = (
    "工作人员很耐心，服务很贴心。",
    "活动组织得好，希望以后多办几次。",
    "有事打电话很快就有人来，很放心。",
    "社工经常来看望，家里人都很感谢。",
    "",
    "",
)
FAIR_COMMENTS = (
    "总体还可以，希望活动时间更灵活一些。",
    "有时候要等比较久才能约上。",
    "",
)
POOR_COMMENTS = (
    "说好的活动经常取消，也不提前通知。",
    "来的人经常换，对情况不熟悉。",
    "服务时间太短，有点走过场。",
    "",
)


def _plan_answers(story: _Story, start: date, last_day: date) -> None:
    """Beneficiaries answer the survey every other month of the service (one period each)."""
    plan = story.plan
    if not plan.sites:
        return
    for month in range(1, 12, 2):
        day = _first_of_month(start, month) + timedelta(days=11)
        if day > last_day:
            break
        rng = story.rng("answers", month)
        for number in range(rng.randint(5, 8)):
            moment = _at(day, 9) + timedelta(minutes=47 * number + rng.randrange(30))
            story.at(moment, partial(_answer, story, month, number, moment))


def _answer(story: _Story, month: int, number: int, moment: datetime) -> SurveyResponse:
    plan = story.plan
    rng = story.rng("answer", month, number)
    sites = list(SurveySite.objects.filter(contract=story.current).order_by("pk"))
    site = SurveySite.objects.select_related("contract").get(pk=rng.choice(sites).pk)
    overall = rng.choices(range(1, 6), weights=plan.mood)[0]

    def near() -> int:
        return min(max(overall + rng.choice((-1, 0, 0, 0, 1)), 1), 5)

    pool = GOOD_COMMENTS if overall >= 4 else FAIR_COMMENTS if overall == 3 else POOR_COMMENTS
    # Synthetic mobile numbers, unique per answer; the service keeps only a keyed hash.
    phone = f"139{plan.copy % 10}{story.tender.pk % 1000:03d}{month:02d}{number:02d}"
    return survey_answer(
        site=site,
        phone=phone,
        overall=overall,
        quality=near(),
        attitude=near(),
        timeliness=near(),
        comment=rng.choice(pool),
        address=f"10.{story.tender.pk % 250}.{month}.{number + 10}",
        started_at=survey_form_token(site, now=moment - timedelta(seconds=rng.randint(40, 240))),
    )


# --- Performance evaluations -----------------------------------------------------------------

# What an assessor writes as the evidence of each indicator, for a full, a partial and a
# weak result (``evaluation`` migration 0005: the default indicator set).
EVIDENCE: dict[str, tuple[str, str, str]] = {
    "D1": (
        "绩效目标明确、可衡量，与前期需求调研一致。",
        "绩效目标基本明确，部分指标缺少量化标准。",
        "绩效目标笼统，未结合需求调研设定量化指标。",
    ),
    "D2": (
        "实施方案具体可行，预算编制与服务内容匹配。",
        "实施方案可行，个别预算科目的测算依据不足。",
        "实施方案与实际执行脱节，预算编制依据不足。",
    ),
    "P1": (
        "管理制度健全并有效执行，项目人员按合同到岗。",
        "管理制度基本健全，个别月份人员到岗不足。",
        "项目管理松散，主要人员变动频繁、未按合同到岗。",
    ),
    "P2": (
        "资金专款专用，支出凭证齐全，与预算相符。",
        "资金使用基本合规，少量支出凭证不完整。",
        "部分支出与预算科目不符，凭证缺失较多。",
    ),
    "P3": (
        "服务档案完整规范，报告按时报送。",
        "服务档案基本完整，个别报告延迟报送。",
        "服务记录缺失较多，报告被退回补正。",
    ),
    "O1": (
        "服务人次、活动场次均达到或超过合同约定。",
        "主要服务数量指标基本完成，个别指标略低于进度。",
        "服务数量明显低于合同约定，完成率约六成。",
    ),
    "O2": (
        "服务符合合同约定的标准与规范，个案记录质量较高。",
        "服务质量总体达标，部分活动记录不够规范。",
        "服务质量未达合同标准，抽查发现多处问题。",
    ),
    "O3": (
        "各项服务均按计划时间完成。",
        "少数活动较计划推迟，已补足。",
        "多项服务未按计划时间开展。",
    ),
    "B1": (
        "服务对象状况明显改善，社区反映良好。",
        "服务对象状况有所改善，成效有待巩固。",
        "服务成效不明显，社区问题未得到有效解决。",
    ),
    "B2": (
        "培育了稳定的志愿者和居民骨干队伍，成果可持续。",
        "初步形成骨干队伍，长效机制尚在建立。",
        "未形成可持续的服务机制。",
    ),
    "B3": (
        "服务对象访谈和回访记录反映满意度高。",
        "服务对象访谈反映总体满意，个别意见待改进。",
        "服务对象访谈中不满意的意见较多。",
    ),
}
HALF = Decimal("0.5")


def _evidence(code: str, score: Decimal, points: Decimal) -> str:
    full, partial, weak = EVIDENCE.get(code, ("符合要求。", "基本符合要求。", "不符合要求。"))
    share = score / points
    return full if share >= Decimal("0.9") else partial if share >= Decimal("0.7") else weak


def _scores(story: _Story, evaluation: EvaluationStory) -> dict[str, dict[str, str]]:
    """The assessor's scores around ``evaluation.level``, to half points, with evidence; the
    satisfaction indicator is left to the survey when it has answers."""
    rng = story.rng("scores", evaluation.kind)
    level = Decimal(evaluation.level)
    surveyed = contract_satisfaction(story.current).answers > 0
    scores = {}
    for indicator in PerformanceIndicator.objects.filter(set__is_current=True).order_by(
        "sort_order", "code"
    ):
        if indicator.is_satisfaction and surveyed:
            continue
        share = level + Decimal(f"{rng.uniform(-0.05, 0.05):.3f}")
        score = ((indicator.max_points * share * 2).quantize(Decimal(1)) * HALF).quantize(
            Decimal("0.1")
        )
        score = min(max(score, Decimal(0)), indicator.max_points)
        scores[indicator.code] = {
            "score": str(score),
            "evidence": _evidence(indicator.code, score, indicator.max_points),
        }
    return scores


def _assessor(story: _Story, username: str) -> User:
    """``username`` when independent of the supplier, else the first independent assessor of
    the pool (the conflict rules of the panels, DESIGN 4.4)."""
    contract = story.current
    today = timezone.localdate()
    preferred = User.objects.get(username=username)
    if independence_conflict(preferred, contract, today) is None:
        return preferred
    for candidate in User.objects.filter(role=Role.ASSESSOR, is_active=True).order_by("username"):
        if independence_conflict(candidate, contract, today) is None:
            return candidate
    raise RuntimeError(f"demo contract {story.plan.key}: no independent assessor")


def _plan_evaluation(
    story: _Story,
    evaluation: EvaluationStory,
    assigned: date,
    due: date,
    *,
    after: datetime | None,
) -> None:
    """Assigned on ``assigned``; for a story with a grade, declared the next day and scored
    and submitted some days after the report was reviewed (``after``); replied to."""
    official = story.context.official
    holder: dict[str, PerformanceEvaluation] = {}

    def assign() -> None:
        holder["evaluation"] = performance_evaluation_assign(
            contract=story.current,
            kind=evaluation.kind,
            assessor=_assessor(story, evaluation.assessor),
            actor=official,
            due_date=due,
        )

    story.at(_at(assigned, 10, 15), assign)
    if not evaluation.grade:
        return
    declared = _at(add_working_days(assigned, 1), 9, 10)
    story.at(
        declared,
        lambda: performance_declare(
            evaluation=holder["evaluation"], actor=holder["evaluation"].assessor
        ),
    )
    scored = add_working_days(max((after or declared).date(), declared.date()), 3)

    def score() -> None:
        current = holder["evaluation"]
        performance_scores_save(
            evaluation=current,
            actor=current.assessor,
            scores=_scores(story, evaluation),
            conclusion=evaluation.conclusion,
        )

    def submit() -> None:
        current = performance_evaluation_submit(
            evaluation=holder["evaluation"], actor=holder["evaluation"].assessor
        )
        if current.grade != evaluation.grade:  # the level decides the grade: a miss is a bug
            raise RuntimeError(
                f"demo contract {story.plan.key}: the {evaluation.kind} graded {current.grade} "
                f"({current.total_score}), not {evaluation.grade}"
            )
        holder["evaluation"] = current

    story.at(_at(scored, 15), score)
    story.at(_at(scored, 16, 30), submit)
    sequence = 2 if evaluation.kind == "mid_term" else 3
    if story.plan.stage == "completed" or evaluation.kind == "final":
        _record_payment(story, sequence, add_working_days(scored, 5))
    if evaluation.reply:
        story.at(
            _at(add_working_days(scored, 3), 11),
            lambda: performance_reply(
                evaluation=holder["evaluation"], actor=story.admin(), reply=evaluation.reply
            ),
        )


# --- Files ---------------------------------------------------------------------------------------


def demo_png(rgb: tuple[int, ...], size: int = 16) -> bytes:
    """A small, valid PNG of one colour (a stand-in for an activity photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb[:3]) * size  # filter type 0, then RGB pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def demo_contract_counts() -> dict[str, int]:
    """How much the contracts part holds (for the tests and for benchmarks' notes)."""
    return {
        "contracts": Contract.objects.count(),
        "milestones": Milestone.objects.count(),
        "team members": ContractTeamMember.objects.count(),
        "team changes": TeamChange.objects.count(),
        "delivery reports": DeliveryReport.objects.count(),
        "delivery documents": DeliveryDocument.objects.count(),
        "survey sites": SurveySite.objects.count(),
        "survey answers": SurveyResponse.objects.count(),
        "performance evaluations": PerformanceEvaluation.objects.count(),
        "evaluations waiting": PerformanceEvaluation.objects.filter(
            status=PerformanceEvaluationStatus.ASSIGNED
        ).count(),
        "credit proposals": CreditProposal.objects.count(),
    }
