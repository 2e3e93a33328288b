"""The registry part of the demo street office (DESIGN.md section 8).

About thirty organizations of 解放碑街道, 渝中区 of every kind and state, their staff
rosters, grades and credit records, all built through the registry services so that
every record has its audit events. Everything is synthetic and deterministic: the same
catalogue and the same seeded random numbers give the same people every time. Running it
again changes nothing: every organization, account, employment, grade and credit record
is looked up before it is made.

``marketplace.demo.seed_demo`` calls ``organizations_seed`` (before the organizations'
demo accounts exist) and then ``registry_seed``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from marketplace.models import Role, User
from marketplace.services import user_create
from orgs_registry.identifiers import id_birth_date, make_id_number, make_uscc
from orgs_registry.models import (
    CreditEntry,
    CreditList,
    CreditMeasure,
    CreditMeasureKind,
    Employment,
    FundingType,
    GradeAssessment,
    IndicatorSet,
    Organization,
    OrganizationStatus,
    Person,
    QualificationLevel,
    ServiceCategory,
)
from orgs_registry.services import (
    StaffInput,
    credit_entry_add,
    credit_entry_remove,
    credit_measure_add,
    grade_assign,
    grade_confirm,
    grade_for_score,
    grade_propose,
    grade_publicize,
    grade_request,
    grade_scores_save,
    grades_expire,
    organization_create,
    organization_deregistration_complete,
    organization_deregistration_start,
    organization_reject,
    staff_add,
)

REGION = "500103"  # 渝中区
SEED = 20260103  # the demo's random numbers: change it and every generated person changes
# Generated employment dates end here, not today, so that a later run finds the same rows.
ROSTER_UNTIL = date(2026, 6, 30)
DEMO_EMAIL_DOMAIN = "demo.jiefangbei.example.cn"

CIVIL_AFFAIRS = "重庆市渝中区民政局"
STAFFING_OFFICE = "重庆市渝中区委机构编制委员会办公室"
MARKET_REGULATOR = "重庆市渝中区市场监督管理局"


@dataclass(frozen=True)
class GradePlan:
    """Where an organization's grade assessment stands in the demo.

    ``state`` is ``confirmed``, ``expired``, ``downgraded`` (confirmed, then lowered by a
    penalty in the organization's ``measures``), ``publicized``, ``assessing`` or
    ``requested``. ``years_ago`` dates a confirmed grade's validity relative to the day
    the demo runs, so that the grades in force stay in force whenever it runs.
    """

    grade: str
    state: str
    years_ago: float = 0
    comment: str = "制度健全，财务规范，服务成效明显。"


@dataclass(frozen=True)
class MeasurePlan:
    """A reward or a penalty; a penalty with ``downgrade`` lowers the grade in force."""

    kind: str
    title: str
    authority: str
    decided_on: date
    document_number: str = ""
    downgrade: bool = False


@dataclass(frozen=True)
class CreditPlan:
    """An entry on a credit list, removed again when ``removed_on`` is set."""

    credit_list: str
    reason: str
    source: str
    listed_on: date
    removal_due: date | None = None
    removed_on: date | None = None
    removal_reason: str = ""


@dataclass(frozen=True)
class DemoOrg:
    """One demo organization: registered facts, story (status, grades, credit) and roster."""

    key: str
    name: str
    code: str  # USCC positions 1-2: 51 social group, 52 agency, 53 foundation, 12/13/91 other
    body: str  # USCC positions 9-16, the organization code
    registered: date
    legal_representative: str
    address: str
    phone: str
    categories: tuple[str, ...]
    description: str = ""
    funding: str = FundingType.INDEPENDENT
    # active, pending, rejected, deregistering or deregistered; abnormal and serious
    # (the credit lists) come about through the entries in ``credit``.
    status: str = "active"
    grades: tuple[GradePlan, ...] = ()
    credit: tuple[CreditPlan, ...] = ()
    measures: tuple[MeasurePlan, ...] = ()
    staff: int = 6
    copy: int = 0  # 0 for the catalogue, N for the N-th --scale copy

    @property
    def uscc(self) -> str:
        return make_uscc(
            authority=self.code[0], category=self.code[1], region=REGION, org_body=self.body
        )

    @property
    def verified(self) -> bool:
        return self.status not in ("pending", "rejected")

    @property
    def registration_authority(self) -> str:
        if self.code.startswith("9"):
            return MARKET_REGULATOR
        if self.code.startswith("1"):
            return STAFFING_OFFICE
        return CIVIL_AFFAIRS

    @property
    def admin_username(self) -> str:
        suffix = f"_{self.copy + 1}" if self.copy else ""
        return f"admin_{self.key.split('~')[0]}{suffix}"


def _address(street: str) -> str:
    return f"重庆市渝中区解放碑街道{street}"


ABNORMAL_SOURCE = "渝中区民政局 渝中民发〔2025〕41号"

# The catalogue. The first five keep the codes of the original demo (README accounts).
ORGANIZATIONS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "sunshine",
        "渝中区解放碑阳光社会工作服务中心",
        "52",
        "50310001",
        date(2014, 3, 18),
        "罗文静",
        _address("民族路168号7楼"),
        "023-63821568",
        ("community_governance", "social_assistance", "child_youth"),
        "以社区为平台开展困难群众帮扶、青少年成长和社区参与项目。",
        grades=(GradePlan("4A", "confirmed", years_ago=2.2),),
        measures=(
            MeasurePlan(
                CreditMeasureKind.REWARD,
                "2024年度渝中区优秀社会工作服务机构",
                CIVIL_AFFAIRS,
                date(2025, 1, 20),
                "渝中民〔2025〕6号",
            ),
        ),
        staff=12,
    ),
    DemoOrg(
        "eldercare",
        "渝中区夕阳红居家养老服务中心",
        "52",
        "50310002",
        date(2013, 6, 20),
        "王建国",
        _address("八一路207号2楼"),
        "023-63795120",
        ("elderly_care",),
        "为辖区独居、高龄、失能老人提供助餐、助洁、助医和上门照护。",
        grades=(
            GradePlan("4A", "expired", years_ago=8.5),
            GradePlan("5A", "confirmed", years_ago=3.4, comment="服务规范，老人满意度高。"),
        ),
        measures=(
            MeasurePlan(
                CreditMeasureKind.REWARD,
                "2024年度重庆市优秀养老服务机构",
                "重庆市民政局",
                date(2024, 12, 10),
                "渝民〔2024〕188号",
            ),
        ),
        staff=12,
    ),
    DemoOrg(
        "volunteers",
        "解放碑街道志愿者协会",
        "51",
        "50310003",
        date(2012, 9, 5),
        "何志强",
        _address("五一路99号"),
        "023-63710358",
        ("volunteer_service", "community_governance"),
        "组织商圈和社区志愿者开展文明劝导、应急和便民服务。",
        grades=(GradePlan("3A", "confirmed", years_ago=4.1),),
        staff=7,
    ),
    DemoOrg(
        "youth",
        "重庆市渝中区青少年发展基金会",
        "53",
        "50310004",
        date(2015, 11, 12),
        "唐晓雯",
        _address("青年路38号12楼"),
        "023-63893307",
        ("child_youth",),
        "资助困境青少年助学、课后托管和心理陪伴项目。",
        grades=(GradePlan("4A", "publicized"),),
        staff=5,
    ),
    DemoOrg(
        "heart",
        "渝中区心语心理咨询服务中心",
        "52",
        "50310005",
        date(2025, 8, 14),
        "孙丽",
        _address("邹容路131号5楼"),
        "023-63601752",
        ("mental_health",),
        "提供社区心理咨询、情绪疏导和危机干预。",
        status="pending",
        staff=3,
    ),
    DemoOrg(
        "correction",
        "渝中区解放碑社区矫正帮教服务中心",
        "52",
        "50310006",
        date(2015, 4, 9),
        "邓立新",
        _address("较场口88号3楼"),
        "023-63812046",
        ("community_correction",),
        "协助司法所开展社区矫正对象教育帮扶和刑满释放人员安置帮教。",
        grades=(GradePlan("3A", "confirmed", years_ago=1.3),),
        staff=8,
    ),
    DemoOrg(
        "disability",
        "渝中区助残之家康复服务中心",
        "52",
        "50310007",
        date(2016, 7, 1),
        "周红梅",
        _address("中华路176号"),
        "023-63859914",
        ("disability",),
        "为辖区残疾人提供社区康复、辅具适配和就业辅导。",
        grades=(GradePlan("3A", "assessing"),),
        staff=9,
    ),
    DemoOrg(
        "governance",
        "渝中区同心社区治理促进中心",
        "52",
        "50310008",
        date(2017, 10, 23),
        "范志刚",
        _address("新华路201号6楼"),
        "023-63750219",
        ("community_governance",),
        "培育居民自治组织，协助社区开展议事协商和楼栋自治。",
        grades=(GradePlan("3A", "requested"),),
        staff=6,
    ),
    DemoOrg(
        "harbour",
        "渝中区心灵港湾心理健康服务中心",
        "52",
        "50310009",
        date(2014, 12, 2),
        "冉春燕",
        _address("邹容路68号8楼"),
        "023-63715506",
        ("mental_health",),
        "开展社区心理健康讲座、个案咨询和重点人群心理关爱。",
        grades=(GradePlan("4A", "downgraded", years_ago=1.8),),
        measures=(
            MeasurePlan(
                CreditMeasureKind.PENALTY,
                "警告：政府购买服务项目资金使用不规范",
                CIVIL_AFFAIRS,
                date(2026, 3, 16),
                "渝中民罚〔2026〕3号",
                downgrade=True,
            ),
        ),
        staff=7,
    ),
    DemoOrg(
        "seniors",
        "渝中区邹容路社区老年协会",
        "51",
        "50310010",
        date(2012, 5, 16),
        "熊德明",
        _address("邹容路15号"),
        "023-63822671",
        ("elderly_care", "culture_sports"),
        "组织老年人文体活动、互助帮扶和老年维权。",
        grades=(GradePlan("3A", "expired", years_ago=7.2),),
        staff=4,
    ),
    DemoOrg(
        "growing",
        "渝中区较场口青少年成长服务中心",
        "52",
        "50310011",
        date(2018, 3, 27),
        "谭思远",
        _address("较场口民生路2号"),
        "023-63868432",
        ("child_youth",),
        "开展四点半课堂、青少年社会实践和家庭教育指导。",
        staff=6,
    ),
    DemoOrg(
        "cbd_volunteers",
        "渝中区解放碑商圈志愿服务联合会",
        "51",
        "50310012",
        date(2019, 6, 18),
        "黎明华",
        _address("民权路27号"),
        "023-63726681",
        ("volunteer_service",),
        "统筹商圈企业志愿者开展游客服务、文明创建和应急值守。",
        staff=5,
    ),
    DemoOrg(
        "culture",
        "渝中区民族路社区文化体育协会",
        "51",
        "50310013",
        date(2013, 9, 9),
        "夏永红",
        _address("民族路209号"),
        "023-63811924",
        ("culture_sports",),
        "组织社区广场舞、合唱、太极拳队和全民健身活动。",
        staff=4,
    ),
    DemoOrg(
        "relief",
        "渝中区新华路社会救助服务中心",
        "52",
        "50310014",
        date(2016, 1, 12),
        "曹新民",
        _address("新华路56号"),
        "023-63705538",
        ("social_assistance",),
        "协助开展低保、特困对象走访核查和临时救助。",
        status="abnormal",
        credit=(
            CreditPlan(
                CreditList.ABNORMAL,
                "未按规定参加2024年度检查。",
                ABNORMAL_SOURCE,
                date(2025, 7, 1),
            ),
        ),
        staff=5,
    ),
    DemoOrg(
        "family",
        "渝中区八一路家庭综合服务中心",
        "52",
        "50310015",
        date(2015, 8, 3),
        "姜丽华",
        _address("八一路177号4楼"),
        "023-63788109",
        ("social_assistance", "child_youth"),
        "为困境家庭提供个案管理、亲子关系辅导和资源链接。",
        credit=(
            CreditPlan(
                CreditList.ABNORMAL,
                "未按规定报送2022年度工作报告。",
                "渝中区民政局 渝中民发〔2023〕29号",
                date(2023, 7, 3),
                removed_on=date(2024, 2, 26),
                removal_reason="已补报年度工作报告，经核实予以移出。",
            ),
        ),
        staff=8,
    ),
    DemoOrg(
        "riverside",
        "渝中区临江路社区居家养老服务站",
        "52",
        "50310016",
        date(2017, 2, 20),
        "秦光辉",
        _address("临江路45号"),
        "023-63840067",
        ("elderly_care",),
        "提供社区日间照料和居家上门服务。",
        status="serious",
        credit=(
            CreditPlan(
                CreditList.SERIOUS,
                "虚报服务人次骗取政府购买服务资金，受到限期停止活动的行政处罚。",
                "渝中区民政局 渝中民罚〔2025〕5号",
                date(2025, 3, 12),
                removal_due=date(2030, 3, 11),
            ),
        ),
        staff=5,
    ),
    DemoOrg(
        "employment",
        "渝中区五一路残疾人就业服务中心",
        "52",
        "50310017",
        date(2018, 11, 5),
        "龚建华",
        _address("五一路158号"),
        "023-63766320",
        ("disability",),
        "为残疾人提供职业培训和辅助性就业岗位。",
        status="deregistering",
        staff=4,
    ),
    DemoOrg(
        "youthroad",
        "渝中区青年路社会工作事务所",
        "52",
        "50310018",
        date(2016, 5, 30),
        "廖俊",
        _address("青年路77号"),
        "023-63893120",
        ("community_governance",),
        "曾承接社区治理和居民议事项目。",
        status="deregistered",
        staff=3,
    ),
    DemoOrg(
        "zhonghua_elders",
        "渝中区中华路阳光助老服务中心",
        "52",
        "50310019",
        date(2025, 4, 7),
        "施美玲",
        _address("中华路89号"),
        "023-63856218",
        ("elderly_care",),
        "为高龄老人提供助餐和陪诊服务。",
        status="pending",
        staff=3,
    ),
    DemoOrg(
        "mediation",
        "渝中区和谐邻里调解服务中心",
        "52",
        "50310020",
        date(2024, 10, 15),
        "杜卫东",
        _address("民生路199号"),
        "023-63870543",
        ("community_governance", "community_correction"),
        "调解邻里纠纷，开展普法宣传。",
        status="rejected",
        staff=3,
    ),
    DemoOrg(
        "elder_fund",
        "重庆市渝中区敬老助老公益基金会",
        "53",
        "50310021",
        date(2014, 9, 19),
        "陶国庆",
        _address("民族路188号22楼"),
        "023-63813390",
        ("elderly_care",),
        "资助困难老人助餐、适老化改造和养老护理员培训。",
        grades=(GradePlan("4A", "confirmed", years_ago=0.9),),
        staff=4,
    ),
    DemoOrg(
        "sw_association",
        "渝中区社会工作者协会",
        "51",
        "50310022",
        date(2012, 12, 28),
        "汪晓红",
        _address("中华路122号9楼"),
        "023-63855701",
        ("community_governance", "social_assistance"),
        "社会工作者的行业组织：继续教育、督导和行业自律。",
        grades=(GradePlan("5A", "confirmed", years_ago=2.5),),
        staff=6,
    ),
    DemoOrg(
        "legal_youth",
        "渝中区护苗青少年法律服务中心",
        "52",
        "50310023",
        date(2019, 4, 16),
        "韦正义",
        _address("较场口日月光中心15楼"),
        "023-63870218",
        ("child_youth", "community_correction"),
        "开展未成年人法治教育和涉罪未成年人社会观护。",
        staff=5,
    ),
    DemoOrg(
        "hotline",
        "渝中区解放碑心理援助热线服务中心",
        "52",
        "50310024",
        date(2020, 8, 8),
        "贺晓萌",
        _address("邹容路100号11楼"),
        "023-63706611",
        ("mental_health",),
        "24小时心理援助热线和社区危机干预。",
        staff=8,
    ),
    DemoOrg(
        "hospice",
        "渝中区安宁疗护与临终关怀服务中心",
        "52",
        "50310025",
        date(2025, 6, 26),
        "顾文华",
        _address("临江路12号"),
        "023-63845562",
        ("elderly_care",),
        "为终末期老人和家属提供安宁疗护与哀伤辅导。",
        status="pending",
        staff=4,
    ),
    DemoOrg(
        "stars",
        "渝中区星语儿童康复中心",
        "52",
        "50310026",
        date(2017, 12, 1),
        "毛晓琴",
        _address("中华路56号3楼"),
        "023-63852270",
        ("disability", "child_youth"),
        "为孤独症和发育迟缓儿童提供康复训练和家长支持。",
        staff=9,
    ),
    DemoOrg(
        "shanyuan",
        "重庆市渝中区善源公益发展基金会",
        "53",
        "50310027",
        date(2021, 1, 18),
        "郝振华",
        _address("五一路201号18楼"),
        "023-63760982",
        ("community_governance", "social_assistance"),
        "资助社区公益创投和社会组织能力建设。",
        staff=3,
    ),
    # Not social organizations: they compete (or may not) beside them.
    DemoOrg(
        "welfare_home",
        "重庆市渝中区社会福利院",
        "12",
        "45020031",
        date(2012, 3, 1),
        "龙建平",
        _address("和平路11号"),
        "023-63837720",
        ("elderly_care", "disability"),
        "公益一类事业单位：承担特困供养和孤残托养，财政全额保障。",
        funding=FundingType.PUBLIC_INSTITUTION_1,
        staff=10,
    ),
    DemoOrg(
        "senior_college",
        "重庆市渝中区老年大学",
        "12",
        "45020032",
        date(2012, 8, 20),
        "史玉兰",
        _address("新华路320号"),
        "023-63749158",
        ("culture_sports", "elderly_care"),
        "公益二类事业单位：老年教育和文体培训。",
        funding=FundingType.PUBLIC_INSTITUTION_2,
        staff=6,
    ),
    DemoOrg(
        "disabled_federation",
        "重庆市渝中区残疾人联合会",
        "13",
        "45020033",
        date(2012, 1, 10),
        "段红军",
        _address("中山一路29号"),
        "023-63628410",
        ("disability",),
        "群团组织，使用事业编制、财政供养。",
        funding=FundingType.FISCAL_MASS_ORGANIZATION,
        staff=6,
    ),
    DemoOrg(
        "property",
        "重庆解放碑物业服务有限公司",
        "91",
        "MA60Y1K2",
        date(2016, 9, 12),
        "雷振宇",
        _address("八一路31号"),
        "023-63718845",
        ("property_management",),
        "老旧小区物业托管和社区公共空间管理。",
        staff=8,
    ),
    DemoOrg(
        "lele_health",
        "重庆渝中乐龄健康管理有限公司",
        "91",
        "MA5U7RXL",
        date(2020, 11, 3),
        "侯佳",
        _address("民权路88号16楼"),
        "023-63725536",
        ("elderly_care",),
        "社会企业：社区健康管理和长者智能照护。",
        staff=5,
    ),
)


@dataclass(frozen=True)
class SharedPlacement:
    org: str
    role: str
    hours: int
    start: date


@dataclass(frozen=True)
class SharedPerson:
    """Someone on two rosters at once: the later over-commitment screen must find them."""

    name: str
    region: str
    born: date
    male: bool
    placements: tuple[SharedPlacement, ...]
    qualification: str = ""

    @property
    def id_number(self) -> str:
        return make_id_number(region=self.region, born=self.born, sequence=88, male=self.male)


SHARED_PEOPLE: tuple[SharedPerson, ...] = (
    SharedPerson(
        "刘建军",
        "500103",
        date(1986, 4, 17),
        True,
        (
            SharedPlacement("sunshine", "社工", 40, date(2019, 3, 1)),
            SharedPlacement("family", "社工", 24, date(2022, 9, 1)),
        ),
        QualificationLevel.SOCIAL_WORKER,
    ),
    SharedPerson(
        "陈晓燕",
        "500106",
        date(1983, 11, 2),
        False,
        (
            SharedPlacement("harbour", "心理咨询师", 24, date(2018, 5, 1)),
            SharedPlacement("hotline", "心理咨询师", 20, date(2021, 2, 1)),
            SharedPlacement("sunshine", "心理咨询师", 8, date(2023, 6, 1)),
        ),
    ),
    SharedPerson(
        "何静",
        "500112",
        date(1990, 7, 23),
        False,
        (
            SharedPlacement("disability", "项目主管", 40, date(2020, 1, 6)),
            SharedPlacement("stars", "项目主管", 40, date(2023, 3, 1)),
        ),
        QualificationLevel.SOCIAL_WORKER,
    ),
    SharedPerson(
        "黄丽萍",
        "500230",
        date(1975, 2, 9),
        False,
        (
            SharedPlacement("eldercare", "护理员", 40, date(2017, 4, 1)),
            SharedPlacement("hospice", "护理员", 20, date(2025, 7, 1)),
        ),
    ),
    SharedPerson(
        "杨帆",
        "510104",
        date(1979, 9, 30),
        True,
        (
            SharedPlacement("volunteers", "财务", 16, date(2016, 1, 4)),
            SharedPlacement("culture", "财务", 16, date(2016, 1, 4)),
        ),
    ),
    SharedPerson(
        "邓小川",
        "500241",
        date(1988, 12, 12),
        True,
        (
            SharedPlacement("correction", "矫正社工", 40, date(2017, 8, 1)),
            SharedPlacement("legal_youth", "矫正社工", 20, date(2021, 9, 1)),
        ),
        QualificationLevel.ASSISTANT_SOCIAL_WORKER,
    ),
)

# --- Generated people -------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤冉"
)
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林洋文博毅川渝江峰松"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲燕婷雪慧莉倩萍颖琳晶欣佳悦琴蓉瑶璐露丹梅红兰"
# Where the staff's ID numbers were issued: mostly Chongqing, some from other provinces.
CHONGQING_REGIONS = (
    "500103",
    "500103",
    "500103",
    "500104",
    "500105",
    "500106",
    "500107",
    "500108",
    "500109",
    "500112",
    "500113",
    "500116",
    "500228",
    "500230",
    "500231",
    "500233",
    "500235",
    "500236",
    "500240",
    "500241",
    "500243",
)
OTHER_REGIONS = (
    "510104",
    "510722",
    "511302",
    "520102",
    "430105",
    "420106",
    "610113",
    "110105",
    "440106",
)
ROLES_BY_CATEGORY = {
    "elderly_care": ("护理员", "养老护理员", "康复师", "社工"),
    "child_youth": ("青少年社工", "活动专员", "心理辅导员"),
    "disability": ("康复师", "特教老师", "社工"),
    "community_correction": ("矫正社工", "帮教专员", "法律顾问"),
    "community_governance": ("社区社工", "项目专员", "调解员"),
    "volunteer_service": ("志愿者协调员", "项目专员"),
    "social_assistance": ("社工", "救助专员"),
    "property_management": ("物业管家", "维修工", "保洁主管"),
    "culture_sports": ("活动专员", "文体指导员"),
    "mental_health": ("心理咨询师", "心理热线接线员", "社工"),
}
SOCIAL_WORK_ROLES = frozenset(
    {"社工", "社区社工", "青少年社工", "矫正社工", "项目主管", "督导", "救助专员", "帮教专员"}
)
PART_TIME_HOURS = (16, 20, 24, 30)
QUALIFICATION_NUMBERS = {
    QualificationLevel.ASSISTANT_SOCIAL_WORKER: 1,
    QualificationLevel.SOCIAL_WORKER: 2,
    QualificationLevel.SENIOR_SOCIAL_WORKER: 3,
}


def _rng(*parts: object) -> random.Random:
    # A string seed is hashed with SHA-512 by random.seed: stable across runs and machines.
    return random.Random(":".join(str(p) for p in (SEED, *parts)))  # noqa: S311  (not secret)


def _leader_role(demo: DemoOrg) -> str:
    if demo.code in ("51", "53"):
        return "秘书长"
    if demo.code.startswith("1"):
        return "主任"
    if demo.code.startswith("9"):
        return "项目经理"
    return "项目主管"


def _person_name(rng: random.Random, *, male: bool) -> str:
    given = GIVEN_MALE if male else GIVEN_FEMALE
    length = 2 if rng.random() < 0.6 else 1
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(length))


def _id_number(rng: random.Random, *, male: bool, taken: set[str]) -> str:
    regions = CHONGQING_REGIONS if rng.random() < 0.8 else OTHER_REGIONS
    region = rng.choice(regions)
    born = date(1962, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    sequence = rng.randrange(100)
    while True:
        number = make_id_number(region=region, born=born, sequence=sequence, male=male)
        if number not in taken:
            taken.add(number)
            return number
        sequence += 1


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange(max((last - first).days, 1)))


def roster_for(demo: DemoOrg, *, taken: set[str]) -> list[StaffInput]:
    """The organization's staff, generated from the seed (plus its shared people)."""
    rng = _rng("roster", demo.key, demo.copy)
    shared: list[StaffInput] = []
    for person in SHARED_PEOPLE if demo.copy == 0 else ():
        # The same certificate on every roster the person is on.
        certificate, certified_on = _certificate(
            _rng("shared", person.name), person.qualification, person.born
        )
        shared.extend(
            StaffInput(
                name=person.name,
                id_number=person.id_number,
                role=placement.role,
                weekly_hours=Decimal(placement.hours),
                start_date=placement.start,
                qualification=person.qualification,
                certificate_number=certificate,
                certified_on=certified_on,
            )
            for placement in person.placements
            if placement.org == demo.key
        )
    first_day = max(demo.registered, date(2012, 1, 1))
    roles = [role for category in demo.categories for role in ROLES_BY_CATEGORY[category]]
    staff: list[StaffInput] = []
    for index in range(demo.staff - len(shared)):
        male = rng.random() < 0.45
        if index == 0 and _leader_role(demo) not in {entry.role for entry in shared}:
            role = _leader_role(demo)
        elif index == 1:
            role = "财务"
        elif index == 2 and demo.staff > 6:
            role = "行政专员"
        else:
            role = rng.choice(roles)
        number = _id_number(rng, male=male, taken=taken)
        born = id_birth_date(number)
        # Nobody starts before turning 20.
        start = _day_between(rng, max(first_day, _plus_years(born, 20)), ROSTER_UNTIL)
        ended = demo.status == "deregistered" or (index > 2 and rng.random() < 0.15)
        end = _day_between(rng, start + timedelta(days=90), ROSTER_UNTIL) if ended else None
        # Small organizations share a bookkeeper: most 财务 posts are part-time.
        part_time = rng.random() < (0.7 if role == "财务" else 0.12)
        qualification = ""
        if role in SOCIAL_WORK_ROLES and rng.random() < 0.65:
            levels = list(QUALIFICATION_NUMBERS)
            qualification = rng.choices(levels, weights=(55, 35, 10), k=1)[0].value
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if rng.random() < 0.6 else ""
        certificate, certified_on = _certificate(rng, qualification, born)
        staff.append(
            StaffInput(
                name=_person_name(rng, male=male),
                id_number=number,
                role=role,
                weekly_hours=Decimal(rng.choice(PART_TIME_HOURS) if part_time else 40),
                start_date=start,
                end_date=end,
                phone=phone,
                qualification=qualification,
                certificate_number=certificate,
                certified_on=certified_on,
            )
        )
    return shared + staff


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _certificate(rng: random.Random, qualification: str, born: date) -> tuple[str, date | None]:
    """A certificate number and date for ``qualification`` (none without one).

    The national social-work examinations began in 2008; nobody passes before 22.
    """
    if not qualification:
        return "", None
    day = _day_between(rng, max(date(2009, 6, 1), _plus_years(born, 22)), date(2025, 12, 31))
    level = QUALIFICATION_NUMBERS[QualificationLevel(qualification)]
    return f"{day.year}{level:02d}5001{rng.randrange(10**6):06d}", day


# --- Scaling ----------------------------------------------------------------------------------


def demo_organizations(scale: int = 1) -> list[DemoOrg]:
    """The catalogue, and for ``--scale N`` N-1 numbered copies of it (N times in all)."""
    found = list(ORGANIZATIONS)
    for copy in range(1, scale):
        for index, demo in enumerate(ORGANIZATIONS):
            found.append(
                replace(
                    demo,
                    key=f"{demo.key}~{copy}",
                    name=f"{demo.name}（第{copy + 1}分中心）",
                    body=f"6{copy:03d}{index:04d}",
                    copy=copy,
                )
            )
    return found


# --- Building ---------------------------------------------------------------------------------


def organizations_seed(*, registry: User, scale: int = 1) -> dict[str, Organization]:
    """Look up or register every demo organization; return them by key.

    Verified organizations are registered by the registry administrator; the others
    arrive as self-registrations waiting for verification.
    """
    categories = {category.code: category for category in ServiceCategory.objects.all()}
    found: dict[str, Organization] = {}
    for demo in demo_organizations(scale):
        existing = Organization.objects.filter(uscc=demo.uscc).first()
        if existing is None:
            existing = organization_create(
                name=demo.name,
                uscc=demo.uscc,
                actor=registry if demo.verified else None,
                verified=demo.verified,
                legal_representative=demo.legal_representative,
                address=demo.address,
                registration_date=demo.registered,
                registration_authority=demo.registration_authority,
                funding_type=demo.funding,
                phone=demo.phone,
                description=demo.description,
                categories=[categories[code] for code in demo.categories],
            )
        found[demo.key] = existing
    return found


def registry_seed(
    *,
    organizations: Mapping[str, Organization],
    registry: User,
    assessor: User,
    admins: Mapping[str, User],
    password: str,
    scale: int = 1,
) -> list[User]:
    """Give every demo organization its administrator, roster, grades, credit and status.

    ``admins`` are the organizations' administrators that already exist (the demo
    accounts of the README), by organization key. Returns the administrator accounts
    created for the other organizations.
    """
    created: list[User] = []
    taken = {person.id_number for person in SHARED_PEOPLE}
    for demo in demo_organizations(scale):
        organization = organizations[demo.key]
        admin = admins.get(demo.key) or User.objects.filter(username=demo.admin_username).first()
        if admin is None:
            admin = _admin_create(demo, organization=organization, password=password)
            created.append(admin)
        _roster_seed(demo, organization=organization, admin=admin, taken=taken)
        organization = _grades_seed(
            demo, organization, admin=admin, registry=registry, assessor=assessor
        )
        organization = _credit_seed(demo, organization, registry=registry)
        _status_seed(demo, organization, admin=admin, registry=registry)
    # Grades back-dated beyond their validity expire now, as the nightly job would.
    grades_expire()
    return created


def _admin_create(demo: DemoOrg, *, organization: Organization, password: str) -> User:
    rng = _rng("admin", demo.key, demo.copy)
    male = rng.random() < 0.5
    return user_create(
        username=demo.admin_username,
        role=Role.ORG_ADMIN,
        password=password,
        actor=None,
        organization=organization,
        email=f"{demo.admin_username}@{DEMO_EMAIL_DOMAIN}",
        full_name=_person_name(rng, male=male),
    )


def _roster_seed(
    demo: DemoOrg, *, organization: Organization, admin: User, taken: set[str]
) -> None:
    entries = roster_for(demo, taken=taken)
    on_roster = set(
        Employment.objects.filter(organization=organization).values_list(
            "person__id_number", "start_date"
        )
    )
    for entry in entries:
        if (entry.id_number, entry.start_date) in on_roster:
            continue
        staff_add(organization=organization, actor=admin, data=entry)


def _score_sheet(
    indicator_set: IndicatorSet, *, grade: str, rng: random.Random
) -> dict[str, tuple[Decimal, str]]:
    """Scores per indicator whose total lands inside ``grade``'s band."""
    cutoffs = indicator_set.cutoff_table()
    ordered = sorted(cutoffs.values())
    floor = cutoffs[grade]
    ceiling = min((c for c in ordered if c > floor), default=1000)
    target = Decimal(floor + (ceiling - floor) * rng.uniform(0.3, 0.7)) / 1000
    scores = {}
    for indicator in indicator_set.indicators.all():
        fraction = min(target + Decimal(rng.uniform(-0.04, 0.04)), Decimal(1))
        scores[indicator.code] = (
            (indicator.max_points * fraction).quantize(Decimal("0.5")),
            "",
        )
    total = sum((score for score, _note in scores.values()), Decimal(0))
    if grade_for_score(total, cutoffs) != grade:  # a seed that misses the band is a bug here
        raise RuntimeError(f"demo scores {total} do not give {grade}")
    return scores


def _back_date_notice(assessment: GradeAssessment, *, valid_from: date) -> GradeAssessment:
    """Move a grade's request and public notice into the past (demo only).

    These queryset updates, here and in ``_back_date_validity``, are the only writes of the
    demo that bypass the services: a demo needs grades confirmed years ago, and the
    services stamp every step with the current day (the notice must be over before a
    grade is confirmed). Only dates change; the audit events keep the day the demo ran.
    """
    requested = valid_from - timedelta(days=75)
    GradeAssessment.objects.filter(pk=assessment.pk).update(
        requested_at=timezone.make_aware(datetime.combine(requested, time(9, 30))),
        notice_starts=valid_from - timedelta(days=15),
        notice_ends=valid_from - timedelta(days=8),
    )
    assessment.refresh_from_db()
    return assessment


def _back_date_validity(assessment: GradeAssessment, *, valid_from: date) -> None:
    """Date a confirmed grade's five years of validity from ``valid_from`` (demo only)."""
    GradeAssessment.objects.filter(pk=assessment.pk).update(
        valid_from=valid_from,
        valid_until=_plus_years(valid_from, 5) - timedelta(days=1),
    )


def _grades_seed(
    demo: DemoOrg,
    organization: Organization,
    *,
    admin: User,
    registry: User,
    assessor: User,
) -> Organization:
    # Organizations made by an older version of the demo have no registration date, so
    # they cannot be graded (two full years of registration first).
    if not demo.grades or organization.registration_date is None:
        return organization
    if GradeAssessment.objects.filter(organization=organization).exists():
        return organization
    rng = _rng("grades", demo.key, demo.copy)
    today = timezone.localdate()
    for plan in demo.grades:
        assessment = grade_request(organization=organization, actor=admin)
        if plan.state == "requested":
            continue
        assessment = grade_assign(assessment=assessment, actor=registry, assessor=assessor)
        scores = _score_sheet(assessment.indicator_set, grade=plan.grade, rng=rng)
        if plan.state == "assessing":
            # Half of the sheet saved as a draft: the assessor is still at work.
            half = dict(list(scores.items())[: len(scores) // 2])
            grade_scores_save(assessment=assessment, actor=assessor, scores=half)
            continue
        assessment = grade_scores_save(
            assessment=assessment, actor=assessor, scores=scores, comment=plan.comment
        )
        assessment = grade_propose(assessment=assessment, actor=assessor)
        assessment = grade_publicize(assessment=assessment, actor=registry)
        if plan.state == "publicized":
            continue
        valid_from = today - timedelta(days=round(plan.years_ago * 365.25))
        assessment = _back_date_notice(assessment, valid_from=valid_from)
        assessment = grade_confirm(assessment=assessment, actor=registry)
        _back_date_validity(assessment, valid_from=valid_from)
        if plan.state == "expired":
            # Expired before the next grade is requested, as the nightly job would have.
            grades_expire()
    organization.refresh_from_db()
    return organization


def _credit_seed(demo: DemoOrg, organization: Organization, *, registry: User) -> Organization:
    if (
        CreditEntry.objects.filter(organization=organization).exists()
        or CreditMeasure.objects.filter(organization=organization).exists()
    ):
        return organization
    for plan in demo.credit:
        entry = credit_entry_add(
            organization=organization,
            actor=registry,
            credit_list=plan.credit_list,
            reason=plan.reason,
            source=plan.source,
            listed_on=plan.listed_on,
            removal_due=plan.removal_due,
        )
        if plan.removed_on is not None:
            credit_entry_remove(
                entry=entry,
                actor=registry,
                reason=plan.removal_reason,
                removed_on=plan.removed_on,
            )
    for measure in demo.measures:
        credit_measure_add(
            organization=organization,
            actor=registry,
            kind=measure.kind,
            title=measure.title,
            authority=measure.authority,
            decided_on=measure.decided_on,
            document_number=measure.document_number,
            downgrade_grade=measure.downgrade,
        )
    organization.refresh_from_db()
    return organization


def _status_seed(demo: DemoOrg, organization: Organization, *, admin: User, registry: User) -> None:
    if demo.status == "rejected" and organization.status == OrganizationStatus.PENDING:
        organization_reject(
            organization=organization,
            actor=registry,
            reason="登记证书扫描件上的统一社会信用代码与填报的不一致，请核对后重新提交。",
        )
    elif demo.status == "deregistering" and not organization.is_deregistering:
        organization_deregistration_start(
            organization=organization,
            actor=admin,
            reason="理事会决议终止运营，现有业务并入区残疾人就业服务机构。",
        )
    elif demo.status == "deregistered" and organization.status != OrganizationStatus.DEREGISTERED:
        if not organization.is_deregistering:
            organization = organization_deregistration_start(
                organization=organization,
                actor=registry,
                reason="连续两年未参加年度检查且无法取得联系，责令办理注销登记。",
            )
        organization_deregistration_complete(organization=organization, actor=registry)


def demo_counts() -> dict[str, int]:
    """How much the registry holds (for the tests and for benchmarks' notes)."""
    return {
        "organizations": Organization.objects.count(),
        "people": Person.objects.count(),
        "employments": Employment.objects.count(),
        "grade assessments": GradeAssessment.objects.count(),
        "credit entries": CreditEntry.objects.count(),
        "rewards and penalties": CreditMeasure.objects.count(),
    }
