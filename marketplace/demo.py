"""The demo street office (DESIGN.md section 8): accounts for every role and their organizations.

Running it again changes nothing: every object is looked up before it is created.
All data is synthetic. The registry's part (about thirty organizations with rosters,
grades and credit records) lives in ``orgs_registry.demo``; the tenders (every state,
with bids and questions) in ``tenders.demo``; the assessor pool, panels, score sheets,
rankings, awards and a challenge in ``evaluation.demo``; contracts, delivery reports,
surveys, performance evaluations and payments in ``tenders.demo_contracts``.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from evaluation import demo as evaluation_demo
from evaluation import demo_integrity as integrity_demo
from evaluation.services import assessor_pool_join
from marketplace.models import Role, User
from marketplace.services import user_create
from marketplace.two_factor import TWO_FACTOR_ROLES
from orgs_registry import demo as registry_demo
from orgs_registry.models import Organization
from tenders import demo as tenders_demo
from tenders import demo_contracts as contracts_demo

DEMO_PASSWORD = "jfb-demo-2026"  # noqa: S105  (published in the README on purpose)
REGION = registry_demo.REGION  # 渝中区
# Staff demo accounts sign in with a second factor too. Their authenticator keys derive from
# this published seed and the username, so that anyone trying the demo can add them to an
# app (or run ``manage.py demo_totp USERNAME``); like the password, never for production.
DEMO_TOTP_SEED = "jfb-demo-totp-2026:"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    full_name: str
    organization: str = ""  # orgs_registry.demo.DemoOrg.key
    note: str = ""


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
    """Create whatever part of the demo is missing and return the demo accounts.

    The accounts of ``ACCOUNTS`` come first, then the assessors of the pool, then the
    administrators of the other demo organizations (same password).
    """
    with transaction.atomic():
        # The street office's and the registry's people first: the registry registers
        # the verified organizations, which the organizations' accounts then join.
        users = {
            account.username: _account(account, organization=None)
            for account in ACCOUNTS
            if not account.organization
        }
        organizations = registry_demo.organizations_seed(registry=users["registry"], scale=scale)
        for account in ACCOUNTS:
            if account.organization:
                users[account.username] = _account(
                    account, organization=organizations[account.organization]
                )
        admins = {
            account.organization: users[account.username]
            for account in ACCOUNTS
            if account.role == Role.ORG_ADMIN
        }
        registry_demo.registry_seed(
            organizations=organizations,
            registry=users["registry"],
            assessor=users["assessor"],
            admins=admins,
            password=DEMO_PASSWORD,
            scale=scale,
        )
        others = [
            _admin_account(demo, organizations[demo.key])
            for demo in registry_demo.demo_organizations(scale)
            if demo.key not in admins
        ]
        assessors = evaluation_demo.assessors_seed(
            organizations=organizations, password=DEMO_PASSWORD
        )
        # The tenders last: their bids come from the organizations' administrators and
        # staffing plans from the rosters made above; the evaluation carries some of the
        # opened ones on to panels, rankings and awards.
        tenders = tenders_demo.seed_tenders(
            organizations=organizations,
            official=users["official"],
            approver=users["approver"],
            scale=scale,
        )
        evaluation_demo.seed_evaluation(
            tenders=zip(tenders_demo.demo_tenders(scale), tenders, strict=True),
            organizations=organizations,
            official=users["official"],
            approver=users["approver"],
            assessor=users["assessor"],
        )
        # The contracts carry awarded projects on to delivery, evaluation and payment.
        contracts_demo.seed_contracts(
            organizations=organizations,
            official=users["official"],
            approver=users["approver"],
            assessor=users["assessor"],
            scale=scale,
        )
        # The registries of public funding with planted cases, one run of the integrity
        # screens and a flag in every review state.
        integrity_demo.seed_integrity(
            organizations=organizations,
            official=users["official"],
            approver=users["approver"],
            assessor=users["assessor"],
            auditor=users["auditor"],
            scale=scale,
        )
    pool = [
        DemoAccount(plan.username, Role.ASSESSOR, plan.full_name, note=plan.note)
        for plan in assessors
    ]
    accounts = [*ACCOUNTS, *pool, *others]
    demo_two_factor_seed([account.username for account in accounts])
    return accounts


def demo_totp_key(username: str) -> bytes:
    """The demo authenticator key of ``username`` (20 bytes, derived from the seed)."""
    return hashlib.sha256(f"{DEMO_TOTP_SEED}{username}".encode()).digest()[:20]


def demo_totp_secret(username: str) -> str:
    """The key as an authenticator app takes it (base32)."""
    return base64.b32encode(demo_totp_key(username)).decode()


def demo_two_factor_seed(usernames: list[str]) -> None:
    """Give each staff demo account without one a confirmed authenticator with its demo key."""
    staff = User.objects.filter(username__in=usernames, role__in=sorted(TWO_FACTOR_ROLES))
    with transaction.atomic():
        for user in staff.exclude(totpdevice__confirmed=True):
            TOTPDevice.objects.create(
                user=user,
                name="demo authenticator",
                key=demo_totp_key(user.username).hex(),
                confirmed=True,
            )


def demo_totp_code(device: TOTPDevice) -> str:
    """A code ``device`` accepts now: the current one, or the next step's when the current
    one was used already (the device accepts one step ahead)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    current = totp.t()
    if current <= device.last_t:
        totp.drift += device.last_t + 1 - current
    return f"{totp.token():0{device.digits}d}"


def _account(account: DemoAccount, *, organization: Organization | None) -> User:
    existing = User.objects.filter(username=account.username).first()
    if existing is not None:
        return existing
    user = user_create(
        username=account.username,
        role=account.role,
        password=DEMO_PASSWORD,
        actor=None,
        organization=organization,
        email=f"{account.username}@{registry_demo.DEMO_EMAIL_DOMAIN}",
        full_name=account.full_name,
    )
    if account.role == Role.ASSESSOR:
        assessor_pool_join(user=user, categories=[], actor=None, agency="重庆市评估中心")
    return user


def _admin_account(demo: registry_demo.DemoOrg, organization: Organization) -> DemoAccount:
    user = User.objects.get(username=demo.admin_username)
    return DemoAccount(
        user.username, Role.ORG_ADMIN, user.full_name, demo.key, note=organization.name
    )
