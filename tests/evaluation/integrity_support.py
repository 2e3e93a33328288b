"""Shared state for the integrity tests, built with the real services.

``build_world(clock, media)``: the ranked tender of ``tests.tenders.test_award`` (four ranked
bids, service period 2027; ``bidders[i]`` has two staff at 0.5 FTE on its bid) and a second
tender, opened, where three of the same bidders bid again: the first bidder's first person
at 0.8 FTE (with the 0.5 of the ranked tender: 1.3, overcommitted), the second bidder's
people at 0.5 (1.0 with the ranked tender: not above full time).

``import_staffing`` / ``import_subsidies`` write a CSV and import it through the registry's
own import service (a newer import replaces the current version).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from marketplace.models import Role
from orgs_registry.models import FundingImportStatus, Person, ServiceCategory
from orgs_registry.services_funding import funding_import_from_path
from tenders import services as tender_services
from tenders.models import Bid, Tender
from tests.conftest import Clock, persona
from tests.tenders.conftest import publish_tender
from tests.tenders.test_award import Ranked, ranked_tender

STAFFING_HEADER = [
    "姓名",
    "身份证号",
    "工作单位",
    "单位统一社会信用代码",
    "编制类型",
    "经费形式",
    "职能类别",
    "起始日期",
    "终止日期",
]
SUBSIDY_HEADER = ["受补助单位", "统一社会信用代码", "补助用途", "金额", "起始日期", "终止日期"]
SECOND_DESCRIPTION = "为辖区青少年提供课后托管、学业辅导与亲子活动服务，每周三次。"


@dataclass
class World:
    ranked: Ranked
    second: Tender
    second_bids: list[Bid]
    built_until: Any = None

    def copy(self) -> World:
        return World(
            ranked=self.ranked.copy(),
            second=Tender.objects.get(pk=self.second.pk),
            second_bids=[Bid.objects.get(pk=bid.pk) for bid in self.second_bids],
            built_until=self.built_until,
        )

    def person(self, bidder: int, index: int) -> Person:
        return Person.objects.get(pk=self.ranked.bidders[bidder].staff_ids[index])


def build_world(clock: Clock) -> World:
    ranked = ranked_tender(clock)
    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    second = publish_tender(
        official=official,
        approver=approver,
        category=ServiceCategory.objects.get(code="elderly_care"),
        title="解放碑街道青少年课后服务项目",
        description=SECOND_DESCRIPTION,
    )
    bids = []
    for index, bidder in enumerate(ranked.bidders[:3]):
        fte = ["0.8", "0.5"] if index == 0 else ["0.5", "0.5"]
        bid = tender_services.bid_prepare(
            tender=second,
            actor=bidder.admin,
            price=Decimal("400000") + index * 1000,
            staff=[
                {"person": person, "role": "社工", "fte": share}
                for person, share in zip(bidder.staff_ids, fte, strict=True)
            ],
            proposal="服务方案。",
        )
        tender_services.bid_submit(bid=bid, actor=bidder.admin)
        bids.append(bid)
    clock.set(second.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=second, actor=official)
    tender_services.tender_open(tender=second, actor=persona("second_official", Role.OFFICIAL))
    world = World(
        ranked=ranked,
        second=Tender.objects.get(pk=second.pk),
        second_bids=[Bid.objects.get(pk=bid.pk) for bid in bids],
    )
    world.built_until = clock.current
    return world


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def post(
    person: Person | None = None,
    *,
    name: str = "",
    id_number: str = "",
    unit: str = "渝中区人民医院",
    unit_uscc: str = "",
    post_type: str = "事业编制",
    funding: str = "全额拨款",
    function: str = "elderly_care",
    start: str = "2020-01-01",
    end: str = "",
) -> list[str]:
    return [
        name or (person.name if person else ""),
        id_number or (person.id_number if person else ""),
        unit,
        unit_uscc,
        post_type,
        funding,
        function,
        start,
        end,
    ]


def import_staffing(tmp_path: Path, rows: list[list[str]], name: str = "roster.csv") -> Any:
    result = funding_import_from_path(
        kind="staffing", path=_write(tmp_path / name, STAFFING_HEADER, rows)
    )
    assert result.status == FundingImportStatus.DONE, result.errors
    return result


def subsidy(
    organization: Any,
    *,
    purpose: str = "elderly_care",
    amount: str = "80000",
    start: str = "2027-01-01",
    end: str = "2027-06-30",
) -> list[str]:
    return [organization.name, organization.uscc, purpose, amount, start, end]


def import_subsidies(tmp_path: Path, rows: list[list[str]], name: str = "ledger.csv") -> Any:
    result = funding_import_from_path(
        kind="subsidy", path=_write(tmp_path / name, SUBSIDY_HEADER, rows)
    )
    assert result.status == FundingImportStatus.DONE, result.errors
    return result


def legacy_id(id_number: str) -> str:
    """The 15-digit form of an 18-digit number of someone born in the 1900s."""
    return id_number[:6] + id_number[8:17]
