"""The demo street office (DESIGN.md section 8): accounts for every role and their organizations.

Running it again changes nothing: every object is looked up before it is created.
All data is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from evaluation.services import assessor_pool_join
from marketplace.models import Role, User
from marketplace.services import user_create
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization
from orgs_registry.services import organization_create

DEMO_PASSWORD = "jfb-demo-2026"  # noqa: S105  (published in the README on purpose)
REGION = "500103"  # 渝中区


@dataclass(frozen=True)
class DemoOrganization:
    key: str
    name: str
    category: str  # USCC position 2: 1 social group, 2 social service agency, 3 foundation
    body: str
    verified: bool = True

    @property
    def uscc(self) -> str:
        return make_uscc(authority="5", category=self.category, region=REGION, org_body=self.body)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    full_name: str
    organization: str = ""  # DemoOrganization.key
    note: str = ""


ORGANIZATIONS = [
    DemoOrganization("sunshine", "渝中区解放碑阳光社会工作服务中心", "2", "50310001"),
    DemoOrganization("eldercare", "渝中区夕阳红居家养老服务中心", "2", "50310002"),
    DemoOrganization("volunteers", "解放碑街道志愿者协会", "1", "50310003"),
    DemoOrganization("youth", "重庆市渝中区青少年发展基金会", "3", "50310004"),
    DemoOrganization("heart", "渝中区心语心理咨询服务中心", "2", "50310005", verified=False),
]

ACCOUNTS = [
    DemoAccount("org_admin", Role.ORG_ADMIN, "张晓明", "sunshine", "阳光社工 administrator"),
    DemoAccount("org_member", Role.ORG_MEMBER, "李娜", "sunshine", "阳光社工 staff member"),
    DemoAccount("org_admin2", Role.ORG_ADMIN, "王建国", "eldercare", "夕阳红 administrator"),
    DemoAccount("org_pending", Role.ORG_ADMIN, "孙丽", "heart", "registration not yet verified"),
    DemoAccount("official", Role.OFFICIAL, "陈静", note="street office purchaser"),
    DemoAccount("approver", Role.APPROVER, "刘洋", note="street office approver"),
    DemoAccount("assessor", Role.ASSESSOR, "赵敏", note="third-party assessor, all categories"),
    DemoAccount("registry", Role.REGISTRY_ADMIN, "周伟", note="civil affairs registry"),
    DemoAccount("auditor", Role.AUDITOR, "吴芳", note="finance / staffing office"),
]


def seed_demo(*, scale: int = 1) -> list[DemoAccount]:
    """Create whatever part of the demo is missing and return the demo accounts."""
    with transaction.atomic():
        organizations = {demo.key: _organization(demo) for demo in ORGANIZATIONS}
        for account in ACCOUNTS:
            if User.objects.filter(username=account.username).exists():
                continue
            user = user_create(
                username=account.username,
                role=account.role,
                password=DEMO_PASSWORD,
                actor=None,
                organization=organizations.get(account.organization),
                email=f"{account.username}@demo.jiefangbei.example.cn",
                full_name=account.full_name,
            )
            if account.role == Role.ASSESSOR:
                assessor_pool_join(user=user, categories=[], actor=None, agency="重庆市评估中心")
        for demo in _scaled_organizations(scale):
            _organization(demo)
    return ACCOUNTS


def _scaled_organizations(scale: int) -> list[DemoOrganization]:
    """Extra generated organizations for ``--scale N`` (N times the base set in all)."""
    extra = []
    for copy in range(1, scale):
        for index, demo in enumerate(ORGANIZATIONS):
            number = copy * len(ORGANIZATIONS) + index
            extra.append(
                DemoOrganization(
                    key=f"{demo.key}-{copy}",
                    name=f"{demo.name}（第{copy + 1}分中心）",
                    category=demo.category,
                    body=f"6{number:07d}",
                )
            )
    return extra


def _organization(demo: DemoOrganization) -> Organization:
    existing = Organization.objects.filter(uscc=demo.uscc).first()
    if existing is not None:
        return existing
    return organization_create(name=demo.name, uscc=demo.uscc, actor=None, verified=demo.verified)
