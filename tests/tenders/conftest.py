"""Fixtures for tenders: a controllable clock, tenders built through the services, bidders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from marketplace.models import Role, User
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import Organization, ServiceCategory
from orgs_registry.services import StaffInput, staff_add
from tenders import services
from tenders.models import Tender
from tests.conftest import Clock, make_organization, make_user, patch_clock

CRITERIA = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50"},
    {"code": "grade", "name": "等级", "kind": "objective", "points": "20"},
]


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return patch_clock(monkeypatch, timezone.now().replace(microsecond=0))


@pytest.fixture
def category(db) -> ServiceCategory:
    return ServiceCategory.objects.get(code="elderly_care")


def tender_data(category: ServiceCategory, now: datetime, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "解放碑街道居家养老服务项目",
        "description": "为辖区高龄、独居老人提供上门助餐、助洁和探访服务。",
        "category": category,
        "method": "public_tender",
        "budget": Decimal("500000.00"),
        "bid_deadline": now + timedelta(days=25),
        "question_deadline": now + timedelta(days=12),
        "criteria": CRITERIA,
        "service_start": date(2027, 1, 1),
        "service_end": date(2027, 12, 31),
    }
    data.update(overrides)
    return data


def publish_tender(
    *,
    official: User,
    approver: User,
    category: ServiceCategory,
    published: bool = True,
    **overrides: Any,
) -> Tender:
    """A tender through the real services: ``published=True`` runs draft → approval →
    published."""
    tender = services.tender_create(
        actor=official, **tender_data(category, timezone.now(), **overrides)
    )
    if published:
        services.tender_publish(tender=tender, actor=official)
        services.tender_publish(tender=tender, actor=approver)
        tender.refresh_from_db()
    return tender


@pytest.fixture
def make_tender(official, approver, category) -> Callable[..., Tender]:
    """A tender through the real services: ``published=True`` runs draft → approval → published."""

    def build(*, published: bool = True, **overrides: Any) -> Tender:
        return publish_tender(
            official=official,
            approver=approver,
            category=category,
            published=published,
            **overrides,
        )

    return build


@dataclass
class Bidder:
    organization: Organization
    admin: User
    member: User
    staff_ids: list[int]


_BODY = iter(range(10_000, 99_999))


def make_bidder(name: str, *, staff: int = 2) -> Bidder:
    body = f"8{next(_BODY):07d}"
    organization = make_organization(name, body)
    admin = make_user(f"admin_{body}", Role.ORG_ADMIN, organization)
    member = make_user(f"member_{body}", Role.ORG_MEMBER, organization)
    ids = []
    for i in range(staff):
        employment = staff_add(
            organization=organization,
            actor=admin,
            data=StaffInput(
                name=f"{name[:2]}员工{i}",
                id_number=make_id_number(
                    region="500103",
                    born=date(1980 + i, 1 + i % 12, 1 + i),
                    sequence=int(body[-3:]) + i,
                    male=bool(i % 2),
                ),
                role="社工",
                start_date=date(2024, 1, 1),
            ),
        )
        ids.append(employment.person_id)
    return Bidder(organization=organization, admin=admin, member=member, staff_ids=ids)


@pytest.fixture
def bidders(db) -> list[Bidder]:
    return [make_bidder(f"投标机构{i}") for i in range(3)]


def submit_bid(tender: Tender, bidder: Bidder, price: str, **extra: Any):
    bid = services.bid_prepare(
        tender=tender,
        actor=bidder.admin,
        price=Decimal(price),
        staff=[{"person": person, "role": "社工", "fte": "0.5"} for person in bidder.staff_ids],
        proposal=extra.get("proposal", "服务方案：每周上门两次。"),
    )
    receipt = services.bid_submit(bid=bid, actor=bidder.admin)
    return bid, receipt
