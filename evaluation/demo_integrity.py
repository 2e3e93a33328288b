"""The integrity part of the demo (DESIGN.md sections 5 and 8): the district's staffing roster
and subsidy ledger, imported through the real import service, planted cases of every screen,
one run of the screens and a flag in every review state.

Planted cases, each on real demo people, organizations and tenders:

- ``staff_on_public_payroll``: three members of active contract teams hold fully funded posts,
  written on the roster with errors record linkage must see through (a homophone name; a
  15-digit legacy ID number; one mistyped ID digit); a namesake of a bid's staff member with
  another birth date and ID number is the near miss that must NOT be flagged;
- ``unit_keeps_staff_for_function``: the street office's own elderly-care centre keeps fully
  funded posts for the function it buys;
- ``subsidy_overlap``: the winner of the social-assistance contract receives a subsidy for
  social assistance in the same period;
- ``staff_overcommitted``: people already above full time across the demo's contracts and
  bids (``tenders.demo``);
- ``duplicate_project``: the tenders below keep the descriptions of the catalogue tenders
  they are made from; the two awarded ones are funded projects the catalogue's published
  tenders (and the college's tender) nearly repeat in the same area and period;
- ``excluded_provider``: the senior college, its staff on fully funded public-institution
  posts (funded like a 公益一类 unit), bids;
- collusion: a single valid bid (R018) after a notice period of 12 days (R003: the
  publication service refuses such a period, so the demo moves that tender's publication
  back, see ``_short_period_seed``), identical prices (R028, which is also a close second,
  R024), a winner far below the others (R058); a cartel's price pattern (``price_screen``:
  five bids, the designated winner below a tight pack of four cover bids) in which two
  bidders give one contact phone written two ways (a shared phone); the demo's assessor,
  named to three panels here (and drawn to others), scores the cartel's designated winner
  above the other members wherever it scores it (assessor affinity,
  ``evaluation.demo.FAVOURED``); a pool assessor named to four of these panels scores
  every bid above the others (assessor deviation, ``evaluation.demo.LENIENT``); one of the
  cover bidders has lost all five of its bids (R025); shared people and an identical
  document between competing bidders come from the evaluation demo.

``scale`` (``seed_demo --scale N``) multiplies the roster's filler posts and the subsidy
ledger's rows (the organizations of every copy get their grants) for benchmarks; the planted
cases stay those of the first copy.

Everything is deterministic; running it again adds nothing (tenders are looked up by title,
a current import is not imported again, the screens and the reviews run once).
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from evaluation.demo import LENIENT, EvaluationPlan, JustificationPlan
from evaluation.models import FlagKind, FlagStatus, IntegrityFlag, IntegrityRun, RunStatus
from evaluation.services.integrity import flag_confirm, flag_dismiss, flag_resolve, screens_run
from marketplace.models import Role, User
from orgs_registry.funding_import import STAFFING_COLUMNS, SUBSIDY_COLUMNS
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import FundingImport, FundingImportKind, Organization
from orgs_registry.services import organization_profile_update
from orgs_registry.services_funding import funding_import_from_path
from tenders import demo as tenders_demo
from tenders import rules as tender_rules
from tenders.calendar import add_working_days
from tenders.models import (
    BidStaff,
    BidStatus,
    Contract,
    ContractStatus,
    ContractTeamMember,
    Tender,
)

SEED = 20261126  # the roster's random numbers: change it and every generated post changes
REGION = "500103"  # 渝中区
STAFFING_FILE = "渝中区财政供养人员花名册.csv"
SUBSIDY_FILE = "渝中区社会组织补助资金台账.csv"
FILLER_POSTS = 300  # per --scale copy
# R003: the single-bid tender's notice ran this many days, not the 20 an open tender needs
# (87号令 Art. 18): a short period is how few bidders get to bid.
SHORT_PERIOD_DAYS = 12
# The planted shared phone: two bidders of the cartel's tender give the same mobile number as
# their contact phone, written two ways (the screen compares digits without +86).
SHARED_PHONE: tuple[tuple[str, str], ...] = (
    ("lele_health", "+86 139 8365 2417"),
    ("family", "13983652417"),
)

# The same sound written with another character (the pinyin, tone aside, is the same).
HOMOPHONES = {
    "伟": "玮", "丽": "莉", "静": "婧", "军": "君", "明": "铭", "华": "骅", "红": "虹",
    "平": "萍", "林": "琳", "杰": "洁", "芳": "方", "涛": "韬", "斌": "彬", "辉": "晖",
    "鹏": "朋", "飞": "菲", "宇": "雨", "浩": "昊", "俊": "骏", "洋": "阳", "文": "雯",
    "峰": "锋", "燕": "艳", "颖": "莹", "佳": "嘉", "蓉": "容", "瑶": "遥", "敏": "闵",
    "娜": "纳", "玲": "灵", "婷": "庭", "霞": "侠", "强": "墙", "超": "钞", "勇": "永",
    "磊": "垒", "刚": "钢", "波": "博", "凯": "楷", "健": "剑", "帆": "凡", "旭": "序",
    "宁": "凝", "龙": "隆", "博": "搏", "毅": "义", "川": "穿", "江": "姜", "松": "嵩",
    "艳": "燕", "娟": "涓", "秀": "绣", "雪": "薛", "慧": "惠", "倩": "茜", "萍": "平",
    "晶": "京", "欣": "馨", "悦": "月", "琴": "芹", "璐": "路", "露": "路", "丹": "单",
    "梅": "玫", "兰": "岚", "鑫": "新", "东": "冬", "小": "晓",
}  # fmt: skip

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
    "曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊"
    "芳娜敏静丽艳娟霞秀玲燕婷雪慧莉倩萍颖琳晶欣佳悦琴蓉"
)

# Units of the district and the functions their posts serve. The street office's own units
# (containing 解放碑街道, the purchasing unit) carry only functions the office does not buy,
# so that the planted case below is the only one of screen 2.
UNITS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("重庆市渝中区解放碑街道办事处", "行政编制", "全额拨款", ("综合行政", "党建工作", "城市管理")),
    ("重庆市渝中区解放碑街道便民服务中心", "事业编制", "全额拨款", ("政务服务", "综合行政")),
    ("重庆市渝中区七星岗街道办事处", "行政编制", "全额拨款", ("综合行政", "社会救助")),
    ("重庆市渝中区七星岗街道社区居委会", "其他财政供养", "全额拨款", ("社区治理", "养老服务")),
    ("重庆市渝中区上清寺街道社区居委会", "其他财政供养", "全额拨款", ("社区治理", "志愿服务")),
    ("重庆市渝中区大溪沟街道社区卫生服务中心", "事业编制", "差额拨款", ("医疗卫生", "养老服务")),
    ("重庆市渝中区石油路街道社区卫生服务中心", "事业编制", "差额拨款", ("医疗卫生",)),
    ("重庆市渝中区人民小学校", "事业编制", "全额拨款", ("教育教学", "儿童与青少年服务")),
    ("重庆市渝中区巴蜀中学校", "事业编制", "全额拨款", ("教育教学",)),
    ("重庆市渝中区文化馆", "事业编制", "全额拨款", ("文化体育服务",)),
    ("重庆市渝中区民政局", "行政编制", "全额拨款", ("社会救助", "养老服务")),
    ("重庆市渝中区残疾人康复中心", "事业编制", "全额拨款", ("残疾人服务",)),
    ("重庆市渝中区机关事务服务中心", "工勤编制", "全额拨款", ("后勤保障",)),
)
# The planted case of screen 2: the street office's own centre keeps elderly-care posts.
OFFICE_CARE_UNIT = "重庆市渝中区解放碑街道社区养老服务中心"
PAYROLL_UNIT = "重庆市渝中区七星岗街道社区卫生服务中心"


def seed_integrity(
    *,
    organizations: Mapping[str, Organization],
    official: User,
    approver: User,
    assessor: User,
    auditor: User,
    scale: int = 1,
) -> None:
    """Build whatever part of the integrity demo is missing."""
    with translation.override(settings.LANGUAGE_CODE):
        tenders = _tenders_seed(organizations=organizations, official=official, approver=approver)
        plans = [plan.key for plan in demo_integrity_tenders()]
        _short_period_seed(tenders[plans.index("integrity_single")])
        _shared_phone_seed(organizations)
        _awards_seed(
            tenders,
            organizations=organizations,
            official=official,
            approver=approver,
            assessor=assessor,
        )
        if not FundingImport.objects.filter(
            kind=FundingImportKind.STAFFING, is_current=True
        ).exists():
            _import(
                FundingImportKind.STAFFING,
                STAFFING_FILE,
                staffing_csv(organizations, scale=scale),
                auditor,
            )
        if not FundingImport.objects.filter(
            kind=FundingImportKind.SUBSIDY, is_current=True
        ).exists():
            _import(
                FundingImportKind.SUBSIDY,
                SUBSIDY_FILE,
                subsidy_csv(organizations, scale=scale),
                auditor,
            )
        if not IntegrityRun.objects.filter(status=RunStatus.FINISHED).exists():
            screens_run(actor=auditor)
        _reviews_seed(auditor)


# --- Tenders with planted collusion, a duplicate project and an excluded provider -------------


def demo_integrity_tenders() -> list[tenders_demo.DemoTender]:
    """The integrity demo's own tenders, made from catalogue tenders of the same category
    (their descriptions kept: the planted duplicate projects)."""
    plans = {plan.key: plan for plan in tenders_demo.TENDERS}
    base = _by_category(plans, "social_assistance")
    care = _by_category(plans, "elderly_care")
    youth = _by_category(plans, "child_youth")
    return [
        # R018: one valid bid of three, after a notice period too short (R003).
        _variant(
            base,
            key="integrity_single",
            title="低保边缘家庭帮扶延伸服务项目",
            state="opened",
            evaluation="",
            bids=(
                tenders_demo.BidPlan("family", "0.93", state="qualified", staff=2),
                tenders_demo.BidPlan(
                    "relief",
                    "0.90",
                    state="disqualified",
                    staff=2,
                    reason="未按要求提供近三年财务审计报告。",
                ),
                tenders_demo.BidPlan(
                    "shanyuan",
                    "0.88",
                    state="disqualified",
                    staff=2,
                    reason="项目负责人不具备社会工作者职业资格。",
                ),
            ),
        ),
        # R028 identical prices (and R024: the second is no price away from the first).
        # The senior college (公益二类, but its staff on fully funded posts: funded like a
        # 公益一类 unit, whose own bids the bid service refuses) bids: excluded_provider.
        _variant(
            care,
            key="integrity_identical",
            title="社区失能老人照护技能培训服务项目",
            state="opened",
            evaluation="ready",
            bids=(
                tenders_demo.BidPlan("eldercare", "0.90", state="qualified", staff=2),
                tenders_demo.BidPlan("elder_fund", "0.90", state="qualified", staff=2),
                tenders_demo.BidPlan("senior_college", "0.95", state="qualified", staff=2),
            ),
        ),
        # The senior college (see above) bids on a tender still under review: a live bid.
        _variant(
            care,
            key="integrity_college",
            title="社区老年人智能手机应用培训服务项目",
            state="opened",
            evaluation="",
            bids=(
                tenders_demo.BidPlan("senior_college", "0.93", state="qualified", staff=2),
                tenders_demo.BidPlan("lele_health", "0.91", state="qualified", staff=2),
                tenders_demo.BidPlan("elder_fund", "0.88", state="qualified", staff=2),
            ),
        ),
        # price_screen: a cartel's pattern. The designated winner bids 8 % below four cover
        # bids packed within 1.4 % of each other, close under the ceiling; the screens of
        # R024 and R058 see nothing (the winner is neither within 1 % of the second nor 25 %
        # below the others). Two cover bidders share a contact phone (SHARED_PHONE), and the
        # assessor named to the panel favours the winner (AWARDS: assessor affinity).
        _variant(
            care,
            key="integrity_cartel",
            title="社区老年人居家安全改造评估服务项目",
            description=(
                "项目背景：辖区独居、高龄老年人居家跌倒风险较高，需要专业评估和适老化改造指导。\n"
                "服务对象：辖区80周岁以上独居老年人和失能老年人家庭约300户。\n"
                "服务内容：入户开展居家安全风险评估，出具适老化改造建议，跟进改造效果回访，"
                "组织家属防跌倒照护培训。\n"
                "服务指标：入户评估不少于300户，回访率100%，培训不少于12场。\n"
                "考核与支付：中期、末期评估，按季度支付。"
            ),
            state="opened",
            evaluation="ready",
            bids=(
                tenders_demo.BidPlan("elder_fund", "0.88", state="qualified", staff=2),
                tenders_demo.BidPlan("eldercare", "0.955", state="qualified", staff=2),
                tenders_demo.BidPlan("lele_health", "0.96", state="qualified", staff=2),
                tenders_demo.BidPlan("seniors", "0.963", state="qualified", staff=2),
                tenders_demo.BidPlan("family", "0.968", state="qualified", staff=2),
            ),
        ),
        # Assessor affinity: the third panel with the same assessor and the same favourite
        # (three bids: too few for the price screen).
        _variant(
            care,
            key="integrity_affinity",
            title="社区老年人健康档案管理服务项目",
            description=(
                "项目背景：辖区老年人健康档案分散在社区卫生服务中心和各社区，动态更新不及时。\n"
                "服务对象：辖区65周岁以上常住老年人约5800人。\n"
                "服务内容：健康档案的入户核实和信息更新，慢性病老年人随访提醒，"
                "健康讲座和义诊活动的组织。\n"
                "服务指标：档案核实率不低于95%，随访提醒不少于4000人次。\n"
                "考核与支付：由街道会同社区卫生服务中心按季度考核支付。"
            ),
            state="opened",
            evaluation="ready",
            bids=(
                tenders_demo.BidPlan("eldercare", "0.90", state="qualified", staff=2),
                tenders_demo.BidPlan("elder_fund", "0.93", state="qualified", staff=2),
                tenders_demo.BidPlan("seniors", "0.95", state="qualified", staff=2),
            ),
        ),
        # R058: the winner far below the others.
        _variant(
            youth,
            key="integrity_far_below",
            title="青少年暑期托管服务项目",
            state="opened",
            evaluation="ready",
            bids=(
                tenders_demo.BidPlan("growing", "0.60", state="qualified", staff=2),
                tenders_demo.BidPlan("legal_youth", "0.95", state="qualified", staff=2),
                tenders_demo.BidPlan("stars", "0.97", state="qualified", staff=2),
            ),
        ),
    ]


def integrity_titles() -> list[str]:
    """The titles of the integrity demo's tenders (other demos' counts leave them out)."""
    return [plan.display_title for plan in demo_integrity_tenders()]


def _variant(plan: tenders_demo.DemoTender, **changes: Any) -> tenders_demo.DemoTender:
    """``plan`` without its questions, amendment and followers, with ``changes``."""
    return replace(plan, questions=(), amendment=None, followers=(), note="", **changes)


def _by_category(
    plans: Mapping[str, tenders_demo.DemoTender], category: str
) -> tenders_demo.DemoTender:
    return next(plan for plan in plans.values() if plan.category == category)


def _tenders_seed(
    *, organizations: Mapping[str, Organization], official: User, approver: User
) -> list[Tender]:
    from tenders.demo import Community, ServiceCategory

    context = tenders_demo._Context(
        organizations=organizations,
        official=official,
        approver=approver,
        categories={c.code: c for c in ServiceCategory.objects.all()},
        communities={c.code: c for c in Community.objects.all()},
    )
    found = []
    for plan in demo_integrity_tenders():
        existing = Tender.objects.filter(title=plan.display_title, created_by=official).first()
        found.append(existing or tenders_demo._tender_seed(plan, context))
    return found


# R024 and R058 compare the winner with the others: these tenders are evaluated and awarded,
# the bidder with the best proposal also the one at the planted price. The demo's assessor is
# named to (and chairs) the panels of the identical prices, the cartel and the affinity
# tenders, where the cartel's designated winner (敬老助老公益基金会) bids: it scores that bidder
# above the other members there as everywhere (``evaluation.demo.FAVOURED``), so the assessor
# affinity screen, which wants three tenders, finds it however the other panels are drawn.
AWARDS: dict[str, EvaluationPlan] = {
    "integrity_identical": EvaluationPlan(
        quality={"eldercare": "0.88", "elder_fund": "0.80", "senior_college": "0.70"},
        chaired_by_assessor=True,
        named=(LENIENT,),
    ),
    "integrity_cartel": EvaluationPlan(
        quality={
            "elder_fund": "0.86",
            "eldercare": "0.80",
            "lele_health": "0.74",
            "seniors": "0.72",
            "family": "0.70",
        },
        chaired_by_assessor=True,
        named=(LENIENT,),
    ),
    "integrity_affinity": EvaluationPlan(
        quality={"eldercare": "0.84", "elder_fund": "0.78", "seniors": "0.74"},
        chaired_by_assessor=True,
        named=(LENIENT,),
    ),
    "integrity_far_below": EvaluationPlan(
        quality={"growing": "0.90", "legal_youth": "0.78", "stars": "0.74"},
        named=(LENIENT,),
        low_price=JustificationPlan(
            "growing",
            "本单位报价较低的原因：暑期托管场地由社区无偿提供，师资为本单位专职社工和"
            "高校志愿者，报价已覆盖全部人员经费和活动成本，承诺不降低服务标准。",
            "评审委员会审查了投标人的书面说明和成本测算，报价能够保证服务质量，报价有效。",
        ),
    ),
}


def _awards_seed(
    tenders: list[Tender],
    *,
    organizations: Mapping[str, Organization],
    official: User,
    approver: User,
    assessor: User,
) -> None:
    from evaluation import demo as evaluation_demo
    from evaluation.models import Panel

    context = evaluation_demo._Context(
        organizations=organizations, official=official, approver=approver, assessor=assessor
    )
    for plan, tender in zip(demo_integrity_tenders(), tenders, strict=True):
        if plan.key not in AWARDS or Panel.objects.filter(tender=tender).exists():
            continue
        evaluation_demo._evaluate(plan, AWARDS[plan.key], tender, context)


def _short_period_seed(tender: Tender) -> None:
    """Give the single-bid tender a notice period of ``SHORT_PERIOD_DAYS`` (demo only).

    ``tender_publish`` refuses a bid deadline sooner than the method's minimum, so a short
    period reaches the screens only in records the service did not make (a tender carried
    over from the old platform). Like ``tenders.demo._deadline_passes``, which gave every
    opened tender a lawful period, this queryset update bypasses the services: it moves the
    publication (and the documents' availability with it) to ``SHORT_PERIOD_DAYS`` before
    the deadline; the bids' receipts and the audit log keep the times the services stamped.
    """
    if tender.published_at is None:
        return
    published = tender.bid_deadline - timedelta(days=SHORT_PERIOD_DAYS)
    if tender.published_at == published:
        return
    Tender.objects.filter(pk=tender.pk).update(
        published_at=published,
        submitted_at=published - timedelta(days=2),
        documents_until=add_working_days(
            timezone.localdate(published), tender_rules.DOCUMENT_PERIOD_WORKING_DAYS
        ),
    )
    tender.refresh_from_db()


def _shared_phone_seed(organizations: Mapping[str, Organization]) -> None:
    """The cartel's two cover bidders give one contact phone (their administrators set it
    through the profile service, as any organization updates its contact details)."""
    for key, phone in SHARED_PHONE:
        organization = organizations.get(key)
        if organization is None:
            continue
        organization.refresh_from_db()
        if organization.phone == phone:
            continue
        admin = (
            User.objects.filter(organization=organization, role=Role.ORG_ADMIN)
            .order_by("pk")
            .first()
        )
        if admin is None:  # the registry demo gives every organization an administrator
            raise RuntimeError(f"demo organization {organization.name} has no administrator")
        organization_profile_update(organization=organization, actor=admin, phone=phone)


# --- The staffing roster ------------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (SEED, *parts)))  # noqa: S311  (not secret)


def homophone(name: str) -> str:
    """``name`` with its last character that has a homophone written with that one."""
    for index in range(len(name) - 1, 0, -1):
        if name[index] in HOMOPHONES:
            return name[:index] + HOMOPHONES[name[index]] + name[index + 1 :]
    return name


def one_digit_wrong(id_number: str) -> str:
    """The same number with digit 15 mistyped (the check digit no longer matches)."""
    digit = (int(id_number[14]) + 1) % 10
    return f"{id_number[:14]}{digit}{id_number[15:]}"


def legacy_id(id_number: str) -> str:
    """The 15-digit number issued before 1999: no century, no check digit."""
    return id_number[:6] + id_number[8:17]


def _post(
    name: str,
    id_number: str,
    unit: str,
    post_type: str,
    funding: str,
    function: str,
    start: date,
    end: date | None = None,
    unit_uscc: str = "",
) -> dict[str, str]:
    return {
        "unit_uscc": unit_uscc,
        "person_name": name,
        "id_number": id_number,
        "employing_unit": unit,
        "post_type": post_type,
        "funding_type": funding,
        "function": function,
        "start": start.isoformat(),
        "end": end.isoformat() if end else "",
    }


def _filler_posts(scale: int = 1) -> list[dict[str, str]]:
    """A few hundred posts of the district's units per copy, nobody of the demo's
    organizations."""
    rng = _rng("filler")
    rows = []
    for number in range(FILLER_POSTS * scale):
        unit, post_type, funding, functions = UNITS[number % len(UNITS)]
        male = rng.random() < 0.5
        born = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        start = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 365 * 16))
        end = start + timedelta(days=365 * rng.randrange(2, 8)) if rng.random() < 0.2 else None
        rows.append(
            _post(
                name,
                make_id_number(region=REGION, born=born, sequence=number, male=male),
                unit,
                post_type,
                funding,
                rng.choice(functions),
                start,
                end,
            )
        )
    return rows


def planted_people() -> dict[str, tuple[str, str, date | None]]:
    """The people of the planted payroll cases: ``key -> (name, id_number, birth_date)``.

    ``payroll_homophone``, ``payroll_legacy`` and ``payroll_typo`` serve on active contract
    teams;
    ``namesake`` is on an opened bid's staffing plan and has a namesake on the roster.
    """
    members = list(
        ContractTeamMember.objects.filter(contract__status=ContractStatus.ACTIVE)
        .select_related("person")
        .order_by("contract_id", "pk")
    )
    chosen: dict[str, tuple[str, str, date | None]] = {}
    used: set[int] = set()
    for member in members:
        person = member.person
        if len(person.id_number) != 18 or person.pk in used:
            continue
        if "payroll_homophone" not in chosen and homophone(person.name) != person.name:
            chosen["payroll_homophone"] = (person.name, person.id_number, person.birth_date)
            used.add(person.pk)
        elif "payroll_legacy" not in chosen and person.id_number[6:8] == "19":
            chosen["payroll_legacy"] = (person.name, person.id_number, person.birth_date)
            used.add(person.pk)
        elif "payroll_typo" not in chosen:
            chosen["payroll_typo"] = (person.name, person.id_number, person.birth_date)
            used.add(person.pk)
    committed = set(
        ContractTeamMember.objects.filter(
            contract__status__in=(
                ContractStatus.DRAFT,
                ContractStatus.SIGNED,
                ContractStatus.ACTIVE,
            )
        ).values_list("person_id", flat=True)
    )
    seat = (
        BidStaff.objects.filter(bid__status__in=(BidStatus.QUALIFIED, BidStatus.OPENED))
        .exclude(person_id__in=committed | used)
        .exclude(person__birth_date__isnull=True)
        .select_related("person")
        .order_by("bid__tender_id", "pk")
        .first()
    )
    if seat is not None:
        person = seat.person
        chosen["namesake"] = (person.name, person.id_number, person.birth_date)
    return chosen


def staffing_rows(
    organizations: Mapping[str, Organization], *, scale: int = 1
) -> list[dict[str, str]]:
    rows = _filler_posts(scale)
    college = organizations.get("senior_college")
    if college is not None:
        for number in range(3):
            born = date(1968 + number * 5, 5 + number, 3 + number)
            rows.append(
                _post(
                    _rng("college", number).choice(SURNAMES)
                    + "".join(_rng("college-name", number).sample(GIVEN, 2)),
                    make_id_number(
                        region=REGION, born=born, sequence=600 + number, male=number == 0
                    ),
                    college.name,
                    "事业编制",
                    "全额拨款",
                    "文化体育服务",
                    date(2013 + number, 9, 1),
                    unit_uscc=college.uscc,
                )
            )
    people = planted_people()
    if "payroll_homophone" in people:
        name, id_number, _born = people["payroll_homophone"]
        rows.append(
            _post(
                homophone(name),
                id_number,
                PAYROLL_UNIT,
                "事业编制",
                "全额拨款",
                "养老服务",
                date(2018, 3, 1),
            )
        )
    if "payroll_legacy" in people:
        name, id_number, _born = people["payroll_legacy"]
        rows.append(
            _post(
                name,
                legacy_id(id_number),
                "重庆市渝中区大坪街道社区居委会",
                "其他财政供养",
                "全额拨款",
                "社区治理",
                date(2016, 9, 1),
            )
        )
    if "payroll_typo" in people:
        name, id_number, _born = people["payroll_typo"]
        rows.append(
            _post(
                name,
                one_digit_wrong(id_number),
                "重庆市渝中区两路口街道社区居委会",
                "其他财政供养",
                "全额拨款",
                "社区治理",
                date(2019, 4, 1),
            )
        )
    if "namesake" in people:
        name, _id_number, birth = people["namesake"]
        assert birth is not None  # noqa: S101  (chosen with a birth date)
        other = date(birth.year - 3, birth.month, min(birth.day, 28))
        rows.append(
            _post(
                name,
                make_id_number(region="500106", born=other, sequence=77, male=True),
                "重庆市沙坪坝区教育委员会",
                "事业编制",
                "全额拨款",
                "教育教学",
                date(2012, 9, 1),
            )
        )
    rng = _rng("office")
    for number in range(3):
        born = date(1975 + number * 4, 3 + number, 10 + number)
        rows.append(
            _post(
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                make_id_number(region=REGION, born=born, sequence=500 + number, male=number != 1),
                OFFICE_CARE_UNIT,
                "事业编制",
                "全额拨款",
                "养老服务",
                date(2015 + number, 1, 1),
            )
        )
    return rows


def staffing_csv(organizations: Mapping[str, Organization], *, scale: int = 1) -> bytes:
    """The roster as the office's staffing bureau exports it (Chinese headers)."""
    return _csv(staffing_rows(organizations, scale=scale), STAFFING_COLUMNS)


# --- The subsidy ledger ---------------------------------------------------------------------------


def subsidy_rows(
    organizations: Mapping[str, Organization], *, scale: int = 1
) -> list[dict[str, str]]:
    """The planted grant and the near misses; with ``scale`` the near misses again for the
    organizations of every copy (``orgs_registry.demo.demo_organizations``)."""
    rows = []

    def grant(key: str, purpose: str, amount: str, start: date, end: date, programme: str) -> None:
        organization = organizations.get(key)
        if organization is None:
            return
        rows.append(
            {
                "recipient_name": organization.name,
                "recipient_uscc": organization.uscc,
                "purpose": purpose,
                "amount": amount,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "programme": programme,
            }
        )

    # The planted case: the winner of the social-assistance contract is also subsidized for
    # social assistance in the same year.
    winner = (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE, tender__category__code="social_assistance"
        )
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    winner_key = next(
        (
            key
            for key, org in organizations.items()
            if winner is not None and org.pk == winner.organization_id
        ),
        "sunshine",
    )
    # The contract's own period, so that the case stays planted whenever the demo is built.
    period_start = winner.service_start if winner is not None else date(2026, 1, 1)
    period_end = winner.service_end if winner is not None else date(2026, 12, 31)
    grant(
        winner_key,
        "社会救助",
        "80000.00",
        period_start,
        period_end,
        "渝中区困难群众帮扶专项补助",
    )
    # Near misses: subsidies for other services or other years.
    for copy in range(scale):
        suffix = f"~{copy}" if copy else ""
        grant(
            f"culture{suffix}",
            "文化体育服务",
            "30000.00",
            date(2024, 1, 1),
            date(2024, 12, 31),
            "文化惠民",
        )
        grant(
            f"volunteers{suffix}",
            "志愿服务",
            "20000.00",
            date(2024, 1, 1),
            date(2024, 12, 31),
            "志愿服务补助",
        )
        grant(
            f"seniors{suffix}",
            "文化体育服务",
            "15000.00",
            date(2025, 1, 1),
            date(2025, 12, 31),
            "老年文体活动",
        )
        grant(
            f"heart{suffix}",
            "心理健康服务",
            "25000.00",
            date(2023, 1, 1),
            date(2023, 12, 31),
            "心理关爱项目",
        )
    return rows


def subsidy_csv(organizations: Mapping[str, Organization], *, scale: int = 1) -> bytes:
    return _csv(subsidy_rows(organizations, scale=scale), SUBSIDY_COLUMNS)


def _csv(rows: list[dict[str, str]], columns: Mapping[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns.values())
    for row in rows:
        writer.writerow([row.get(code, "") for code in columns])
    return out.getvalue().encode("utf-8")


def _import(kind: str, name: str, data: bytes, auditor: User) -> FundingImport:
    """Through the commands' import service: the file is checked and written as any other."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        funding_import = funding_import_from_path(kind=kind, path=path, actor=auditor)
    if not funding_import.is_current:
        raise RuntimeError(f"demo {kind} import failed: {funding_import.errors[:5]}")
    return funding_import


# --- Reviews --------------------------------------------------------------------------------------


def _reviews_seed(auditor: User) -> None:
    """One confirmed, one dismissed and one resolved flag, unless a review was made already."""
    flags = IntegrityFlag.objects.order_by("pk")
    if flags.exclude(status=FlagStatus.OPEN).exists():
        return
    resolve = flags.filter(kind=FlagKind.SUBSIDY_OVERLAP).first()
    if resolve is not None:
        resolve = flag_confirm(flag=resolve, actor=auditor, note="补助与购买服务内容重叠，已核实。")
        flag_resolve(
            flag=resolve,
            actor=auditor,
            resolution="补助资金已按规定退回，购买服务合同继续履行。",
        )
    confirm = flags.filter(kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL, status=FlagStatus.OPEN).first()
    if confirm is not None:
        flag_confirm(flag=confirm, actor=auditor, note="经编办核实，该人员仍在编在岗。")
    dismiss = flags.filter(kind=FlagKind.STAFF_OVERCOMMITTED, status=FlagStatus.OPEN).first()
    if dismiss is not None:
        flag_dismiss(
            flag=dismiss,
            actor=auditor,
            reason="投标阶段的人员安排，中标后只保留一个项目，不存在重复投入。",
        )
