"""The tenders part of the demo street office (DESIGN.md section 8).

Eighteen service projects of 解放碑街道 in every state a tender reaches before the
evaluation: drafts (one returned by the approver with a note), one waiting for approval,
published ones open for bids and questions (one amended, its deadline moved and a bid
waiting for confirmation), one closed and waiting for the second official of the
opening, opened ones with their opening record and reviews, one failed (流标) and one
cancelled. Four more are opened and reviewed here and then carried on by
``evaluation.demo`` (their ``evaluation``): panels, score sheets, rankings, awards and a
challenge. Bids come from the demo organizations' administrators, with staffing plans
from their current rosters; every step goes through ``tenders.services``, so every bid
is sealed and every change has its audit event.

Planted for the integrity screens: in the disability tender two bidders (八一路家庭综合
服务中心 and 较场口青少年成长服务中心) upload the same price breakdown, byte for byte, and
one of them prices far below the others.

``marketplace.demo.seed_demo`` calls ``seed_tenders`` after the registry demo. Running
it again changes nothing: a demo tender is looked up by its title (and drafter) first,
and one that exists is left as it is. With ``--scale N`` the catalogue is built N times,
copy k with the organizations of the registry's copy k and titles numbered.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from evaluation.models import SchemeTemplate
from marketplace.models import Role, User
from orgs_registry.models import Employment, Organization, ServiceCategory
from tenders import rules, services
from tenders.calendar import add_working_days, is_working_day
from tenders.models import (
    Amendment,
    Bid,
    BidDocument,
    BidReceipt,
    Community,
    OpeningConfirmation,
    ProcurementMethod,
    Question,
    Tender,
    TenderDocument,
    TenderInterest,
)

SEED = 20261125  # the demo's random numbers for staffing plans and proposals

PUBLIC = ProcurementMethod.PUBLIC_TENDER.value
CONSULTATION = ProcurementMethod.COMPETITIVE_CONSULTATION.value

# Roles that lead a project team (the registry demo's leaders) and roles kept out of
# service teams: the bookkeeper and the office clerk support every project at once.
LEADER_ROLES = ("项目主管", "秘书长", "项目经理", "主任")
SUPPORT_ROLES = frozenset({"财务", "行政专员"})

ELIGIBILITY = (
    "1. 依法登记的社会组织、事业单位或企业，具有独立承担民事责任的能力；\n"
    "2. 未被列入严重违法失信名单，近三年内在经营活动中没有重大违法记录；\n"
    "3. 公益一类事业单位、使用事业编制且由财政拨款保障的群团组织不得作为承接主体"
    "（财政部令第102号第八条）；\n"
    "4. 本项目不接受联合体投标，中标后不得转包。"
)


# --- Scoring schemes (DESIGN 4.4): points add up to 100 -------------------------------------

Scheme = tuple[tuple[str, str, str, int], ...]

# Public tender, services: price at least 10 points (87号令 Art. 55).
SCHEME_PUBLIC: Scheme = (
    ("price", "价格", "price", 20),
    ("plan", "服务方案", "subjective", 30),
    ("team", "团队配置", "subjective", 15),
    ("management", "项目管理与质量控制", "subjective", 10),
    ("budget_fit", "预算合理性", "subjective", 5),
    ("grade", "社会组织等级评估", "objective", 8),
    ("social_workers", "持证社工", "objective", 6),
    ("performance", "以往绩效", "objective", 6),
)
# Care services: quality weighs more than price.
SCHEME_CARE: Scheme = (
    ("price", "价格", "price", 15),
    ("plan", "服务方案", "subjective", 30),
    ("team", "团队配置与专业资质", "subjective", 20),
    ("management", "项目管理与质量控制", "subjective", 10),
    ("budget_fit", "预算合理性", "subjective", 5),
    ("grade", "社会组织等级评估", "objective", 10),
    ("performance", "以往绩效", "objective", 10),
)
# Property management: a more standardized service, price weighs more.
SCHEME_PROPERTY: Scheme = (
    ("price", "价格", "price", 30),
    ("plan", "物业服务方案", "subjective", 25),
    ("emergency", "应急处置预案", "subjective", 10),
    ("team", "人员配置", "subjective", 15),
    ("management", "项目管理与质量控制", "subjective", 10),
    ("performance", "以往绩效", "objective", 10),
)
# Competitive consultation: price 10 to 30 points (财库〔2014〕214号 Art. 24).
SCHEME_CONSULTATION: Scheme = (
    ("price", "价格", "price", 25),
    ("plan", "服务方案", "subjective", 35),
    ("team", "团队配置", "subjective", 15),
    ("budget_fit", "预算合理性", "subjective", 10),
    ("grade", "社会组织等级评估", "objective", 5),
    ("social_workers", "持证社工", "objective", 5),
    ("performance", "以往绩效", "objective", 5),
)
SCHEME_HOTLINE: Scheme = (
    ("price", "价格", "price", 10),
    ("plan", "热线服务方案", "subjective", 35),
    ("team", "专业团队与督导", "subjective", 20),
    ("management", "热线运营管理与危机转介", "subjective", 15),
    ("social_workers", "持证专业人员", "objective", 10),
    ("performance", "以往绩效", "objective", 10),
)


# --- The catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BidPlan:
    """One organization's bid.

    ``state``: ``draft``; ``submitted``; ``withdrawn`` (submitted, then taken back);
    on an amended tender ``needs_confirmation`` (submitted before the amendment) or
    ``confirmed`` (confirmed after it); after the opening ``opened``, ``qualified`` or
    ``disqualified`` (with ``reason``). ``price`` is a share of the budget.
    """

    org: str  # orgs_registry.demo.DemoOrg.key
    price: str
    state: str = "submitted"
    staff: int = 3
    document: str = ""  # a document's title: uploaded as a small PDF
    document_kind: str = "technical"
    same_document_as: str = ""  # another bidder's key: the very same file (a planted case)
    reason: str = ""


@dataclass(frozen=True)
class QuestionPlan:
    org: str
    text: str
    answer: str = ""  # empty: still waiting for the street office
    by_member: bool = False  # asked by a staff member rather than the administrator


@dataclass(frozen=True)
class AmendmentPlan:
    summary: str
    description: str  # the tender's new description
    extend_days: int  # the bid and question deadlines move this many days later


@dataclass(frozen=True)
class DemoTender:
    """One demo tender and where it stands.

    ``state``: ``draft``, ``returned`` (returned to draft by the approver with
    ``note``), ``pending_approval``, ``published``, ``closed`` (deadline passed, one
    official confirmed the opening), ``opened``, ``failed`` or ``cancelled`` (with
    ``note`` as the public reason). ``days`` runs from publication to the bid deadline.
    ``evaluation`` (an opened tender whose bids are all reviewed): how far
    ``evaluation.demo`` carries it on: ``scoring``, ``ranked`` (waiting for the award),
    ``challenged`` (awarded, a challenge decided within the window) or ``ready`` (awarded,
    the challenge window over).
    """

    key: str
    title: str
    category: str
    method: str
    budget: str
    scheme: Scheme
    state: str
    description: str
    days: int = 25
    communities: tuple[str, ...] = ()  # empty: the whole street office
    eligibility: str = ""
    bids: tuple[BidPlan, ...] = ()
    questions: tuple[QuestionPlan, ...] = ()
    amendment: AmendmentPlan | None = None
    followers: tuple[str, ...] = ()  # organizations whose administrators follow it
    note: str = ""
    evaluation: str = ""
    copy: int = 0

    @property
    def display_title(self) -> str:
        return f"{self.title}（第{self.copy + 1}批）" if self.copy else self.title

    def org_key(self, key: str) -> str:
        """The registry key of ``key`` in this copy (``orgs_registry.demo.demo_organizations``)."""
        return f"{key}~{self.copy}" if self.copy else key


TENDERS: tuple[DemoTender, ...] = (
    DemoTender(
        "home_care",
        "解放碑街道2027年度居家养老上门服务项目",
        "elderly_care",
        PUBLIC,
        "1280000.00",
        SCHEME_CARE,
        "published",
        "项目背景：辖区60周岁以上户籍老年人1.1万余人，老龄化率超过30%，独居、高龄和失能"
        "老人居家照护需求突出。\n"
        "服务对象：经街道评估的独居、高龄（80周岁以上）、失能半失能及特困老年人约320人。\n"
        "服务内容：助餐、助洁、助浴、助医、探访关爱和紧急呼叫响应；建立“一人一档”服务档案，"
        "每人每月上门服务不少于4次，失能老人不少于8次。\n"
        "服务指标：全年上门服务不少于1.6万小时，服务对象满意度不低于90%，紧急呼叫30分钟内响应。\n"
        "考核与支付：中期和末期由第三方评估机构开展绩效评价，按季度支付，末期款与评价结果挂钩。",
        days=26,
        eligibility=ELIGIBILITY
        + "\n5. 从事上门照护的人员须持有养老护理员职业技能等级证书或健康证明。",
        bids=(
            BidPlan("eldercare", "0.94", staff=5, document="技术方案"),
            BidPlan("elder_fund", "0.91", staff=3),
            BidPlan("lele_health", "0.88", state="draft", staff=3),
        ),
        questions=(
            QuestionPlan(
                "eldercare",
                "服务对象名单是否由街道提供？其中失能、半失能老人大约有多少人？",
                "服务对象名单由街道民政办在合同签订后提供，现有约320人，其中失能、半失能老人约60人，"
                "名单按季度动态调整。",
            ),
            QuestionPlan(
                "elder_fund",
                "上门服务以人次还是服务小时计量？报价是否需要分项列明？",
                "以服务小时计量。报价须按招标文件附件三的格式分项列明人员经费、交通补贴、耗材和管理费用，"
                "管理费用不超过总价的8%。",
            ),
            QuestionPlan(
                "lele_health",
                "在其他街道承接过同类项目的，以往业绩是否接受合同复印件加盖公章作为证明材料？",
            ),
        ),
        followers=("seniors",),
    ),
    DemoTender(
        "after_school",
        "青少年课后托管（“四点半课堂”）服务项目",
        "child_youth",
        PUBLIC,
        "460000.00",
        SCHEME_PUBLIC,
        "published",
        "项目背景：辖区双职工家庭和困境家庭的小学生放学后无人看护的问题较为突出。\n"
        "服务对象：较场口、八一路、新华路社区小学一至六年级学生，每学期不少于80人。\n"
        "服务内容：在社区党群服务中心开设“四点半课堂”，工作日16:30至18:30提供作业辅导、"
        "阅读、安全教育和兴趣小组；寒暑假开展主题夏令营各1期；为困境儿童提供个案跟进。\n"
        "服务指标：全年开放不少于180天，个案跟进不少于15个，家长满意度不低于90%。\n"
        "考核与支付：按学期考核，分两次支付。",
        days=24,
        communities=("jiaochangkou", "bayi_road", "xinhua_road"),
        eligibility=ELIGIBILITY + "\n5. 服务人员须无违法犯罪记录，并提供无犯罪记录证明。",
        bids=(
            BidPlan("sunshine", "0.93", staff=4, document="技术方案"),
            BidPlan("growing", "0.89", staff=4),
            BidPlan("legal_youth", "0.95", state="withdrawn", staff=3),
            BidPlan("youth", "0.90", state="draft", staff=3),
        ),
        questions=(
            QuestionPlan(
                "sunshine",
                "托管场地由社区提供还是由承接方自行解决？场地的水电费用由哪一方承担？",
                "场地由三个社区的党群服务中心提供，水电费用由社区承担；承接方负责活动物资和日常管理。",
                by_member=True,
            ),
        ),
    ),
    DemoTender(
        "deliberation",
        "社区治理议事协商能力提升项目",
        "community_governance",
        PUBLIC,
        "520000.00",
        SCHEME_PUBLIC,
        "published",
        "项目背景：推进“三事分流”和居民议事会制度，提升社区协商议事的规范化水平。\n"
        "服务对象：辖区9个社区的居民议事会成员、楼栋长和居民骨干。\n"
        "服务内容：协助各社区完善议事规则，每个社区每季度召开议事协商会不少于1次；"
        "开展居民骨干培训不少于12场；培育社区社会组织不少于9个。\n"
        "服务指标：形成议事协商案例汇编1册，居民参与人次不少于2000。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=22,
        bids=(
            BidPlan("governance", "0.92", state="needs_confirmation", staff=4),
            BidPlan("sw_association", "0.90", state="confirmed", staff=3, document="技术方案"),
            BidPlan("sunshine", "0.88", state="draft", staff=3),
        ),
        questions=(
            QuestionPlan(
                "governance",
                "招标文件未明确楼栋自治的服务要求，是否需要在方案中覆盖楼栋自治？",
                "需要。街道将发布更正公告，增加楼栋自治服务指标，投标截止时间相应顺延。",
            ),
        ),
        amendment=AmendmentPlan(
            "根据投标人的澄清问题，增加“楼栋自治”服务内容和指标（培育楼栋自治小组不少于20个），"
            "相应调整服务方案要求；投标截止时间和提问截止时间各顺延10天。已提交的投标文件须重新确认。",
            "项目背景：推进“三事分流”和居民议事会制度，提升社区协商议事的规范化水平。\n"
            "服务对象：辖区9个社区的居民议事会成员、楼栋长和居民骨干。\n"
            "服务内容：协助各社区完善议事规则，每个社区每季度召开议事协商会不少于1次；"
            "开展居民骨干培训不少于12场；培育社区社会组织不少于9个；"
            "培育楼栋自治小组不少于20个，指导制定楼栋公约。\n"
            "服务指标：形成议事协商案例汇编1册，居民参与人次不少于2000。\n"
            "考核与支付：按半年考核，分两次支付。",
            extend_days=10,
        ),
    ),
    DemoTender(
        "hotline",
        "心理健康服务热线运营项目",
        "mental_health",
        CONSULTATION,
        "300000.00",
        SCHEME_HOTLINE,
        "published",
        "项目背景：商圈从业人员和辖区居民心理健康服务需求增长，需要一条响应及时的心理援助热线。\n"
        "服务对象：辖区居民、商圈从业人员及其家属。\n"
        "服务内容：运营街道心理援助热线，每日8:00至22:00人工接听，其余时段转接市级热线；"
        "对高危来电按流程转介并跟进；每季度开展心理健康讲座2场。\n"
        "服务指标：年接听不少于1500通，高危来电24小时内转介率100%。\n"
        "考核与支付：按季度考核支付。",
        days=14,
        bids=(
            BidPlan("hotline", "0.95", staff=4, document="技术方案"),
            BidPlan("harbour", "0.92", staff=3),
        ),
        questions=(
            QuestionPlan(
                "hotline",
                "热线号码和通话录音系统是沿用街道现有设备，还是由承接方自行配置？",
            ),
        ),
    ),
    DemoTender(
        "child_protection",
        "困境儿童关爱保护与家庭教育指导项目",
        "child_youth",
        CONSULTATION,
        "240000.00",
        SCHEME_CONSULTATION,
        "published",
        "项目背景：辖区登记在册的困境儿童、留守儿童共86人，家庭监护能力普遍较弱。\n"
        "服务对象：困境儿童、留守儿童及其监护人。\n"
        "服务内容：建立儿童关爱档案，开展每月一次的入户探访；为监护人提供家庭教育指导，"
        "每季度举办亲子活动1场；协助儿童主任开展监护评估。\n"
        "服务指标：入户探访不少于1000人次，监护人培训不少于8场。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=15,
        communities=("minzu_road", "wuyi_road", "dajingxiang"),
        followers=("family", "youth"),
    ),
    DemoTender(
        "volunteering",
        "社区志愿服务体系建设项目",
        "volunteer_service",
        CONSULTATION,
        "180000.00",
        SCHEME_CONSULTATION,
        "closed",
        "项目背景：解放碑商圈游客多、志愿服务需求大，现有志愿服务队伍分散、管理不规范。\n"
        "服务内容：建立街道志愿服务站点3个，完善志愿者招募、培训、记录和激励制度；"
        "组织商圈文明劝导、游客咨询和节假日应急值守志愿服务。\n"
        "服务指标：新增注册志愿者不少于500人，志愿服务时长不少于1.5万小时。\n"
        "考核与支付：按季度考核支付。",
        days=12,
        bids=(
            BidPlan("volunteers", "0.93", staff=3, document="技术方案"),
            BidPlan("cbd_volunteers", "0.90", staff=3),
            BidPlan("culture", "0.96", staff=2),
        ),
    ),
    DemoTender(
        "correction",
        "社区矫正与安置帮教服务项目",
        "community_correction",
        PUBLIC,
        "650000.00",
        SCHEME_PUBLIC,
        "opened",
        "项目背景：协助解放碑司法所做好社区矫正对象和刑满释放人员的教育帮扶工作。\n"
        "服务对象：在册社区矫正对象约40人，刑满释放人员约70人。\n"
        "服务内容：入矫评估和个案矫正方案，心理辅导和行为矫治，就业技能培训和就业推荐，"
        "家庭关系修复；安置帮教对象的衔接、走访和临时救助链接。\n"
        "服务指标：个案服务覆盖率100%，重新违法犯罪率低于0.2%。\n"
        "考核与支付：由司法所会同街道按季度考核支付。",
        days=25,
        eligibility=ELIGIBILITY + "\n5. 项目团队中持证社会工作者不少于2人。",
        bids=(
            BidPlan("correction", "0.93", state="qualified", staff=4, document="技术方案"),
            BidPlan("legal_youth", "0.90", state="qualified", staff=3),
            BidPlan("sw_association", "0.95", state="qualified", staff=3),
            BidPlan(
                "governance",
                "0.86",
                state="disqualified",
                staff=3,
                reason="未按招标文件第三章要求提供持证社会工作者的劳动合同及近6个月社保缴纳证明，"
                "资格性审查不通过。",
            ),
        ),
        questions=(
            QuestionPlan(
                "correction",
                "社区矫正对象的个人信息由司法所提供，承接方需要签订保密协议吗？",
                "需要。中标人在合同签订时须与司法所签订保密协议，相关信息仅限项目使用。",
            ),
        ),
    ),
    DemoTender(
        "rehabilitation",
        "残疾人社区康复服务项目",
        "disability",
        PUBLIC,
        "880000.00",
        SCHEME_CARE,
        "opened",
        "项目背景：辖区持证残疾人1300余人，其中有康复需求的约260人，社区康复服务供给不足。\n"
        "服务对象：有康复需求的持证残疾人和孤独症、发育迟缓儿童。\n"
        "服务内容：在街道残疾人之家开展康复训练、辅具适配和评估；为重度残疾人提供上门康复服务；"
        "组织残疾人家属照护技能培训。\n"
        "服务指标：康复训练不少于6000人次，上门康复不少于800人次，辅具适配不少于100例。\n"
        "考核与支付：中期、末期绩效评价，按季度支付。",
        days=25,
        eligibility=ELIGIBILITY + "\n5. 项目团队须有康复治疗师或特殊教育教师。",
        bids=(
            BidPlan("disability", "0.94", state="qualified", staff=4, document="技术方案"),
            BidPlan("stars", "0.91", state="qualified", staff=4),
            BidPlan(
                "sw_association",
                "0.89",
                state="disqualified",
                staff=3,
                reason="项目团队中无康复治疗师或特殊教育教师，不满足招标文件第三章的实质性要求。",
            ),
            BidPlan(
                "family",
                "0.87",
                state="opened",
                staff=3,
                document="报价明细",
                document_kind="price",
            ),
            BidPlan(
                "growing",
                "0.62",
                state="opened",
                staff=3,
                document="报价明细",
                document_kind="price",
                same_document_as="family",
            ),
        ),
    ),
    DemoTender(
        "special_relief",
        "特困人员救助帮扶服务项目",
        "social_assistance",
        PUBLIC,
        "720000.00",
        SCHEME_PUBLIC,
        "opened",
        "项目背景：辖区特困供养人员、低保对象和低保边缘家庭共约450户，需要常态化的走访和帮扶。\n"
        "服务内容：协助开展特困人员生活照料和探访，低保对象家庭经济状况核查，临时救助个案评估，"
        "链接慈善资源开展“微心愿”帮扶。\n"
        "服务指标：走访不少于3000户次，核查报告准确率不低于98%，个案帮扶不少于60个。\n"
        "考核与支付：按季度考核支付。",
        days=24,
        bids=(
            BidPlan("sunshine", "0.92", state="opened", staff=4, document="技术方案"),
            BidPlan("relief", "0.85", state="opened", staff=3),
            BidPlan("family", "0.94", state="qualified", staff=3),
            BidPlan("shanyuan", "0.90", state="qualified", staff=2),
        ),
    ),
    DemoTender(
        "meals",
        "社区老年人助餐服务项目",
        "elderly_care",
        PUBLIC,
        "1500000.00",
        SCHEME_CARE,
        "failed",
        "项目背景：建设“15分钟助餐服务圈”，解决高龄、独居老人吃饭难问题。\n"
        "服务内容：运营社区老年食堂2个、助餐点5个，为80周岁以上和失能老人送餐上门；"
        "严格落实食品安全管理。\n"
        "服务指标：年供餐不少于12万份，送餐上门不少于2万份，老人满意度不低于90%。\n"
        "考核与支付：按月核定供餐份数，按季度支付。",
        days=23,
        bids=(
            BidPlan("eldercare", "0.95", staff=5),
            BidPlan("lele_health", "0.90", staff=3),
        ),
    ),
    DemoTender(
        "old_estates",
        "较场口片区老旧小区物业管理服务项目",
        "property_management",
        PUBLIC,
        "1960000.00",
        SCHEME_PROPERTY,
        "draft",
        "项目背景：较场口片区有无物业管理的老旧小区12个、楼栋58栋，居民约4200户。\n"
        "服务内容：公共区域清扫保洁、垃圾分类收运、共用设施设备日常维修养护、秩序维护和"
        "消防安全巡查；建立物业服务与居民议事会的沟通机制。\n"
        "服务指标：居民满意度不低于85%，报修24小时内响应。\n"
        "考核与支付：按月考核，按季度支付。",
        communities=("jiaochangkou",),
    ),
    DemoTender(
        "culture",
        "社区文体活动组织服务项目",
        "culture_sports",
        CONSULTATION,
        "150000.00",
        SCHEME_CONSULTATION,
        "pending_approval",
        "服务内容：组织社区广场舞、合唱、太极拳等文体队伍的日常训练；举办“解放碑邻里节”"
        "和迎新春文艺汇演各1场；开展全民健身讲座4场。\n"
        "服务指标：参与居民不少于3000人次，文体队伍不少于12支。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=14,
        communities=("minzu_road", "zourong_road", "peoples_park", "xiaoshizi"),
    ),
    DemoTender(
        "veterans",
        "退役军人服务站运营服务项目",
        "community_governance",
        PUBLIC,
        "360000.00",
        SCHEME_PUBLIC,
        "returned",
        "服务内容：协助街道退役军人服务站开展退役军人信息采集、走访慰问、就业创业指导、"
        "困难帮扶和协助办理优抚待遇；组织“八一”“春节”主题活动。\n"
        "服务指标：走访慰问不少于600人次，就业推荐不少于30人。",
        note="“协助办理优抚待遇”属于行政审批事项，不宜作为政府购买服务内容，请删除；"
        "另请补充服务期限内的考核与支付方式。",
    ),
    DemoTender(
        "first_aid",
        "社区应急救护培训与演练服务项目",
        "volunteer_service",
        PUBLIC,
        "280000.00",
        SCHEME_PUBLIC,
        "cancelled",
        "服务内容：面向居民、商户和志愿者开展心肺复苏、AED使用等应急救护培训，"
        "组织社区应急疏散演练。\n"
        "服务指标：培训不少于2000人次，演练不少于9场。",
        days=21,
        bids=(BidPlan("cbd_volunteers", "0.92", staff=3),),
        note="区应急管理局已将辖区应急救护培训纳入全区统一采购项目，为避免重复购买服务，"
        "本项目终止采购。已提交的投标文件不予开启。",
    ),
    # Opened and reviewed, then carried on by evaluation.demo (``evaluation``).
    DemoTender(
        "bathing",
        "高龄失能老人助浴与居家康复护理服务项目",
        "elderly_care",
        PUBLIC,
        "960000.00",
        SCHEME_CARE,
        "opened",
        "项目背景：辖区80周岁以上高龄老人和失能、半失能老人洗浴困难，家庭照护者缺乏康复护理技能。\n"
        "服务对象：经街道评估的高龄、失能和半失能老年人约180人。\n"
        "服务内容：配置移动助浴设备提供上门助浴，每人每月不少于2次；开展居家康复训练指导、"
        "压疮预防和用药提醒；为家庭照护者举办照护技能培训。\n"
        "服务指标：上门助浴不少于4000人次，康复指导不少于1500人次，服务对象满意度不低于90%。\n"
        "考核与支付：中期、末期绩效评价，按季度支付。",
        days=25,
        eligibility=ELIGIBILITY + "\n5. 上门服务人员须持有养老护理员职业技能等级证书和健康证明。",
        bids=(
            BidPlan("eldercare", "0.93", state="qualified", staff=4, document="技术方案"),
            BidPlan("elder_fund", "0.90", state="qualified", staff=3),
            BidPlan("lele_health", "0.95", state="qualified", staff=3),
        ),
        evaluation="scoring",
    ),
    DemoTender(
        "incubation",
        "社区社会组织孵化培育服务项目",
        "community_governance",
        PUBLIC,
        "580000.00",
        SCHEME_PUBLIC,
        "opened",
        "项目背景：辖区社区社会组织数量少、规模小，参与社区治理的能力不足。\n"
        "服务对象：辖区9个社区的社区社会组织、居民骨干和志愿者团队。\n"
        "服务内容：运营街道社区社会组织孵化基地，提供登记备案指导、能力建设培训和项目策划辅导；"
        "开展社区公益微创投，支持社区社会组织承接社区服务项目。\n"
        "服务指标：孵化社区社会组织不少于12个，培训不少于16场，微创投项目不少于10个。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=24,
        bids=(
            BidPlan("sw_association", "0.91", state="qualified", staff=4, document="技术方案"),
            BidPlan("shanyuan", "0.88", state="qualified", staff=2),
            BidPlan("volunteers", "0.93", state="qualified", staff=3),
            BidPlan(
                "governance",
                "0.64",
                state="qualified",
                staff=3,
                document="报价明细",
                document_kind="price",
            ),
        ),
        evaluation="ranked",
    ),
    DemoTender(
        "youth_growth",
        "青少年社区成长营服务项目",
        "child_youth",
        PUBLIC,
        "420000.00",
        SCHEME_PUBLIC,
        "opened",
        "项目背景：辖区青少年课外活动场所和专业服务不足，部分青少年存在厌学、网络沉迷等问题。\n"
        "服务对象：辖区10至18周岁青少年及其家长。\n"
        "服务内容：开展青少年成长小组、网络素养和自我保护教育，为重点青少年提供个案辅导；"
        "组织家长课堂和亲子活动。\n"
        "服务指标：成长小组不少于12个，个案辅导不少于20个，家长课堂不少于8场。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=24,
        eligibility=ELIGIBILITY + "\n5. 服务人员须无违法犯罪记录，并提供无犯罪记录证明。",
        bids=(
            BidPlan("growing", "0.92", state="qualified", staff=3, document="技术方案"),
            BidPlan("legal_youth", "0.90", state="qualified", staff=3),
            BidPlan("stars", "0.94", state="qualified", staff=3),
        ),
        evaluation="challenged",
    ),
    DemoTender(
        "fitness",
        "全民健身赛事活动组织服务项目",
        "culture_sports",
        CONSULTATION,
        "200000.00",
        SCHEME_CONSULTATION,
        "opened",
        "服务内容：组织街道全民健身运动会、社区趣味运动会和广场舞展演各1场；"
        "在9个社区开展健身技能培训和科学健身讲座。\n"
        "服务指标：参与居民不少于5000人次，健身培训不少于18场。\n"
        "考核与支付：按半年考核，分两次支付。",
        days=14,
        bids=(
            BidPlan("culture", "0.94", state="qualified", staff=3, document="技术方案"),
            BidPlan("seniors", "0.91", state="qualified", staff=2),
            BidPlan("senior_college", "0.96", state="qualified", staff=3),
        ),
        evaluation="ready",
    ),
)


def demo_tenders(scale: int = 1) -> list[DemoTender]:
    """The catalogue, and for ``--scale N`` N-1 numbered copies of it (N times in all)."""
    found = list(TENDERS)
    for copy in range(1, scale):
        found.extend(replace(plan, copy=copy) for plan in TENDERS)
    return found


# --- Building ---------------------------------------------------------------------------------


@dataclass
class _Context:
    organizations: Mapping[str, Organization]
    official: User
    approver: User
    categories: dict[str, ServiceCategory]
    communities: dict[str, Community]
    admins: dict[int, User] = field(default_factory=dict)


def seed_tenders(
    *,
    organizations: Mapping[str, Organization],
    official: User,
    approver: User,
    scale: int = 1,
) -> list[Tender]:
    """Look up or build every demo tender; return them in catalogue order.

    ``organizations`` are the registry demo's organizations by key; ``official``
    drafts, opens and answers, ``approver`` approves and is the second official of the
    openings.
    """
    context = _Context(
        organizations=organizations,
        official=official,
        approver=approver,
        categories={c.code: c for c in ServiceCategory.objects.all()},
        communities={c.code: c for c in Community.objects.all()},
    )
    found = []
    # The services store some texts in the active language (a failed tender's reason,
    # a bid's warnings for the panel), as the office's own staff would have: in its
    # language, whatever language the command runs in.
    with translation.override(settings.LANGUAGE_CODE):
        for plan in demo_tenders(scale):
            existing = Tender.objects.filter(title=plan.display_title, created_by=official).first()
            found.append(existing or _tender_seed(plan, context))
    return found


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed: stable across runs and machines.
    return random.Random(":".join(str(p) for p in (SEED, *parts)))  # noqa: S311  (not secret)


def _deadline(day: date, at: time) -> datetime:
    """``at`` on ``day``, or on the first working day after it (a bid deadline)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, at))


def _question_deadline(bid_deadline: datetime, *, days: int, today: date) -> datetime:
    """17:00 ``days`` before the bid deadline, moved back to a working day.

    Never moved back to within three days of today: a long holiday (春节, 国庆) would
    otherwise put it before the publication.
    """
    day = timezone.localtime(bid_deadline).date() - timedelta(days=days)
    while not is_working_day(day) and day - timedelta(days=1) > today + timedelta(days=3):
        day -= timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(17, 0)))


def _service_period(today: date) -> tuple[date, date]:
    """One year from the first day of the month at least two months away."""
    later = today + timedelta(days=60)
    start = date(later.year + later.month // 12, later.month % 12 + 1, 1)
    return start, date(start.year + 1, start.month, 1) - timedelta(days=1)


def _tender_seed(plan: DemoTender, context: _Context) -> Tender:
    official, approver = context.official, context.approver
    today = timezone.localdate()
    # The bids close at 09:30 on a working day; questions some days before.
    bid_deadline = _deadline(today + timedelta(days=plan.days), time(9, 30))
    question_deadline = _question_deadline(
        bid_deadline, days=10 if plan.method == PUBLIC else 5, today=today
    )
    start, end = _service_period(today)
    tender = services.tender_create(
        actor=official,
        title=plan.display_title,
        description=plan.description,
        category=context.categories[plan.category],
        method=plan.method,
        budget=Decimal(plan.budget),
        bid_deadline=bid_deadline,
        question_deadline=question_deadline,
        criteria=[_criterion(code, name, kind, points) for code, name, kind, points in plan.scheme],
        scheme_template=SchemeTemplate.objects.filter(
            category=context.categories[plan.category], is_active=True
        ).first(),
        service_start=start,
        service_end=end,
        communities=[context.communities[code] for code in plan.communities],
        eligibility_notes=plan.eligibility or ELIGIBILITY,
    )
    services.tender_document_add(
        tender=tender,
        actor=official,
        upload=SimpleUploadedFile(
            "招标文件.pdf",
            demo_pdf(f"JFB tender documents: {plan.key} #{plan.copy + 1}", "Public tender file."),
        ),
        title="招标文件",
    )
    if plan.state == "draft":
        return tender
    tender = services.tender_publish(tender=tender, actor=official)
    if plan.state == "returned":
        return services.tender_return(tender=tender, actor=approver, note=plan.note)
    if plan.state == "pending_approval":
        return tender
    tender = services.tender_publish(tender=tender, actor=approver)

    for key in plan.followers:
        services.tender_follow(tender=tender, user=_admin(plan.org_key(key), context))
    for question in plan.questions:
        _question_seed(tender, question, plan=plan, context=context)

    bids = {bid.org: bid for bid in plan.bids}
    for bid in plan.bids:
        if bid.state != "draft":
            _bid_seed(tender, bid, plan=plan, context=context, bids=bids)
    if plan.amendment is not None:
        _amendment_seed(tender, plan.amendment, plan=plan, context=context)
    for bid in plan.bids:
        if bid.state == "draft":
            _bid_seed(tender, bid, plan=plan, context=context, bids=bids)

    if plan.state == "cancelled":
        return services.tender_cancel(tender=tender, actor=official, reason=plan.note)
    if plan.state in ("closed", "opened", "failed"):
        _deadline_passes(tender)
        services.tender_open(tender=tender, actor=official)
        if plan.state != "closed":
            services.tender_open(tender=tender, actor=approver)
            _reviews_seed(tender, plan=plan, context=context)
    tender.refresh_from_db()
    return tender


def _deadline_passes(tender: Tender) -> None:
    """Let the deadline of a tender built a moment ago pass (demo only).

    This queryset update is the only write of the tenders demo that bypasses the
    services: a demo needs tenders past their deadline, and the services refuse a
    deadline in the past at publication and every bid after it. The deadline becomes
    the present moment, after every receipt, so that the record stays in order:
    published, bids received, deadline, opening. The publication moves back by the
    method's bid period and a few days, so that the tender shows a lawful period (and the
    short-period red flag does not fire on the demo); receipts and the audit log keep the
    times the services stamped.
    """
    moment = timezone.now()
    published = moment - timedelta(days=rules.MIN_BID_PERIOD_DAYS[tender.method] + 5)
    Tender.objects.filter(pk=tender.pk).update(
        bid_deadline=moment,
        question_deadline=moment,
        submitted_at=published - timedelta(days=2),
        published_at=published,
        documents_until=add_working_days(
            timezone.localdate(published), rules.DOCUMENT_PERIOD_WORKING_DAYS
        ),
    )


def _admin(key: str, context: _Context) -> User:
    organization = context.organizations[key]
    admin = context.admins.get(organization.pk)
    if admin is None:
        admin = (
            User.objects.filter(organization=organization, role=Role.ORG_ADMIN)
            .order_by("pk")
            .first()
        )
        if admin is None:  # the registry demo gives every organization an administrator
            raise RuntimeError(f"demo organization {key} has no administrator")
        context.admins[organization.pk] = admin
    return admin


def _question_seed(
    tender: Tender, question: QuestionPlan, *, plan: DemoTender, context: _Context
) -> None:
    key = plan.org_key(question.org)
    asker = _admin(key, context)
    if question.by_member:
        asker = (
            User.objects.filter(organization=context.organizations[key], role=Role.ORG_MEMBER)
            .order_by("pk")
            .first()
            or asker
        )
    asked = services.question_ask(tender=tender, actor=asker, text=question.text)
    if question.answer:
        services.question_answer(question=asked, actor=context.official, answer=question.answer)


def _staffing(organization: Organization, *, size: int, rng: random.Random) -> list[dict[str, str]]:
    """A team from the current roster: a leader first, then service staff.

    Nobody is planned for more of their time than their contract gives (weekly hours
    over 40), so a part-time counsellor never appears full-time on a plan.
    """
    today = timezone.localdate()
    current = list(
        Employment.objects.filter(
            organization=organization, end_date__isnull=True, start_date__lte=today
        ).order_by("start_date", "person__id_number")
    )
    leader = [e for e in current if e.role in LEADER_ROLES][:1]
    workers = [e for e in current if e.role not in LEADER_ROLES and e.role not in SUPPORT_ROLES]
    rng.shuffle(workers)
    plan = []
    for employment in leader + workers[: max(size - len(leader), 0)]:
        # The leader runs other projects too; service staff work mostly on this one.
        shares = ("0.3", "0.4", "0.5") if employment in leader else ("0.5", "0.6", "0.8", "1.0")
        cap = (employment.weekly_hours / 40).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
        fte = max(min(Decimal(rng.choice(shares)), cap), Decimal("0.1"))
        plan.append({"person": str(employment.person_id), "role": employment.role, "fte": str(fte)})
    return plan


PROPOSAL_OPENINGS = (
    "本机构扎根解放碑街道多年，熟悉辖区居民构成和服务资源，",
    "本机构已在渝中区承接同类政府购买服务项目多个，",
    "本机构拥有一支以持证社会工作者为骨干的专业团队，",
)
PROPOSAL_METHODS = (
    "采用个案管理与小组工作相结合的方法，",
    "以“需求评估—服务计划—跟踪回访”的闭环方式组织服务，",
    "依托社区党群服务中心和网格员队伍开展服务，",
)


def _proposal(
    organization: Organization, plan: DemoTender, *, price: Decimal, rng: random.Random
) -> str:
    """A short technical proposal in the usual sections of a bid (技术方案)."""
    share = rng.choice((62, 65, 68, 70, 72))
    return (
        f"{organization.name}关于“{plan.display_title}”的服务方案\n\n"
        f"一、需求理解\n{rng.choice(PROPOSAL_OPENINGS)}"
        "已对招标文件所列服务对象和服务指标逐项分析，并走访社区了解实际需求。\n\n"
        f"二、服务内容与方法\n{rng.choice(PROPOSAL_METHODS)}"
        "按招标文件要求逐项落实服务内容，服务指标全部响应，部分指标高于招标要求。\n\n"
        "三、团队配置\n项目团队由项目主管统筹，专职服务人员按人员配置表投入，"
        "每月接受督导不少于1次。\n\n"
        "四、进度安排\n合同签订后15日内完成需求评估和年度服务计划，按月报送服务台账，"
        "按季度报送工作报告。\n\n"
        "五、质量控制与风险防范\n建立服务记录、回访和投诉处理制度；制定安全事件和舆情应急预案；"
        "服务对象个人信息专人管理、严格保密。\n\n"
        f"六、经费预算\n投标总价{price:,.2f}元，其中人员经费约占{share}%，"
        "其余为活动物资、交通和管理费用。"
    )


def _bid_seed(
    tender: Tender,
    bid_plan: BidPlan,
    *,
    plan: DemoTender,
    context: _Context,
    bids: Mapping[str, BidPlan],
) -> Bid:
    key = plan.org_key(bid_plan.org)
    organization = context.organizations[key]
    admin = _admin(key, context)
    rng = _rng("bid", plan.key, bid_plan.org, plan.copy)
    # Round to hundreds of yuan, as bidders do.
    price = (tender.budget * Decimal(bid_plan.price) / 100).quantize(Decimal("1")) * 100
    bid = services.bid_prepare(
        tender=tender,
        actor=admin,
        price=price,
        staff=_staffing(organization, size=bid_plan.staff, rng=rng),
        proposal=_proposal(organization, plan, price=price, rng=rng),
    )
    if bid_plan.document:
        # The same file as another bidder's, byte for byte, when planted so.
        owner = bids[bid_plan.same_document_as].org if bid_plan.same_document_as else bid_plan.org
        uscc = context.organizations[plan.org_key(owner)].uscc
        services.bid_document_add(
            bid=bid,
            actor=admin,
            upload=SimpleUploadedFile(
                f"{bid_plan.document}.pdf",
                demo_pdf(f"JFB bid document: {plan.key} #{plan.copy + 1}", f"Bidder {uscc}."),
            ),
            kind=bid_plan.document_kind,
        )
    if bid_plan.state == "draft":
        return bid
    services.bid_submit(bid=bid, actor=admin)
    if bid_plan.state == "withdrawn":
        bid = services.bid_withdraw(bid=bid, actor=admin)
    return bid


def _amendment_seed(
    tender: Tender, amendment: AmendmentPlan, *, plan: DemoTender, context: _Context
) -> None:
    tender.refresh_from_db()
    deadline = timezone.localtime(tender.bid_deadline)
    bid_deadline = _deadline(deadline.date() + timedelta(days=amendment.extend_days), time(9, 30))
    services.tender_amend(
        tender=tender,
        actor=context.official,
        summary=amendment.summary,
        changes={
            "description": amendment.description,
            "bid_deadline": bid_deadline,
            "question_deadline": _question_deadline(
                bid_deadline, days=10, today=timezone.localdate()
            ),
        },
        affects_preparation=True,
    )
    for bid_plan in plan.bids:
        if bid_plan.state == "confirmed":
            key = plan.org_key(bid_plan.org)
            bid = Bid.objects.get(tender=tender, organization=context.organizations[key])
            services.bid_confirm(bid=bid, actor=_admin(key, context))


def _reviews_seed(tender: Tender, *, plan: DemoTender, context: _Context) -> None:
    for bid_plan in plan.bids:
        if bid_plan.state not in ("qualified", "disqualified"):
            continue
        bid = Bid.objects.get(
            tender=tender, organization=context.organizations[plan.org_key(bid_plan.org)]
        )
        services.bid_review(
            bid=bid,
            actor=context.official,
            qualified=bid_plan.state == "qualified",
            reason=bid_plan.reason,
        )


# --- Documents ----------------------------------------------------------------------------------


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


# What each score range of a subjective criterion means (the bands members score against).
BAND_TEXTS = (
    "内容缺项较多，或与采购需求明显不符",
    "基本满足需求，部分内容不够具体或缺少量化指标",
    "完整、具体、针对性强，目标可衡量、措施可落实",
)


def _criterion(code: str, name: str, kind: str, points: int) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code, "name": name, "kind": kind, "points": points}
    if kind == "subjective":
        mid, top = Decimal(points) / 2, Decimal(points) * 4 / 5
        row["bands"] = [
            {"low": "0", "high": f"{mid - Decimal('0.01'):.2f}", "text": BAND_TEXTS[0]},
            {"low": f"{mid:.2f}", "high": f"{top - Decimal('0.01'):.2f}", "text": BAND_TEXTS[1]},
            {"low": f"{top:.2f}", "high": f"{Decimal(points):.2f}", "text": BAND_TEXTS[2]},
        ]
    return row


def demo_pdf(*lines: str) -> bytes:
    """A small, valid one-page PDF showing ``lines``.

    The lines must be ASCII: the standard Helvetica font of every PDF reader has no
    Chinese glyphs, and embedding a CJK font would make each demo file megabytes.
    """
    text = " ".join(f"({_pdf_text(line)}) '" for line in lines)
    stream = f"BT /F1 12 Tf 16 TL 72 790 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def demo_tender_counts() -> dict[str, int]:
    """How much the tenders app holds (for the tests and for benchmarks' notes)."""
    return {
        "tenders": Tender.objects.count(),
        "tender documents": TenderDocument.objects.count(),
        "bids": Bid.objects.count(),
        "bid documents": BidDocument.objects.count(),
        "receipts": BidReceipt.objects.count(),
        "questions": Question.objects.count(),
        "amendments": Amendment.objects.count(),
        "opening confirmations": OpeningConfirmation.objects.count(),
        "followers": TenderInterest.objects.count(),
    }
