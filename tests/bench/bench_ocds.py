"""OCDS export: ``manage.py export_ocds`` of 10,000 published tenders in <= 10 s, with memory
that does not grow with the number of tenders (the package is streamed batch by batch).

The tenders are generated with ``bulk_create`` (PostgreSQL in CI: ``DATABASE_URL=postgres://
...``; SQLite otherwise) in the states a street office has over a few years: open for bids
with sealed bids, cancelled, failed, under evaluation, awarded, and with a contract whose
payment milestones are partly paid, some amended, with documents, communities and 3-6 bids.
"""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from marketplace.models import Role
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import Organization, OrganizationKind, ServiceCategory
from reports import ocds
from tenders.models import (
    Amendment,
    Award,
    Bid,
    BidStatus,
    Community,
    Contract,
    Milestone,
    Programme,
    Tender,
    TenderDocument,
    TenderStatus,
)
from tests.bench.conftest import report
from tests.conftest import make_user

TENDERS = 10_000
SMALL = 1_000
ORGANIZATIONS = 300
SECONDS_TARGET = 10.0
SEED = 20261126

DESCRIPTION = (
    "服务内容：为辖区高龄、独居、失能老人提供上门助餐、助洁、助浴、助医和探访服务，"
    "建立一人一档服务台账，每月开展不少于四次集中活动。"
    "服务指标：服务对象不少于 300 人，每人每月上门不少于 4 次，满意度不低于 90%。"
    "考核与支付：首期报告验收、中期和末期第三方绩效评价，按 30%/40%/30% 支付。"
)
ELIGIBILITY = (
    "1. 依法登记的社会组织、事业单位或企业；2. 未被列入严重违法失信名单；"
    "3. 公益一类事业单位不得作为承接主体（财政部令第102号第八条）。"
)
PLAN = [
    ("report", "", Decimal("30"), "启动与首期服务报告", "Start-up report"),
    ("evaluation", "mid_term", Decimal("40"), "中期绩效评价", "Mid-term evaluation"),
    ("evaluation", "final", Decimal("30"), "终期绩效评价", "Final evaluation"),
]


@contextmanager
def recorded_times(*fields: Any) -> Iterator[None]:
    """Let bulk_create keep the given ``auto_now_add`` times (history is being written)."""
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field in fields:
            field.auto_now_add = True


def _organizations() -> list[Organization]:
    rows = []
    for index in range(ORGANIZATIONS):
        category = "12"[index % 2]
        uscc = make_uscc(
            authority="5", category=category, region="500103", org_body=f"7{index:07d}"
        )
        rows.append(
            Organization(
                name=f"渝中区第{index}号社会工作服务中心",
                uscc=uscc,
                kind=OrganizationKind.SOCIAL_GROUP
                if category == "1"
                else OrganizationKind.SOCIAL_SERVICE_AGENCY,
                status="active",
            )
        )
    return Organization.objects.bulk_create(rows, batch_size=1000)


def generate(n: int) -> None:
    """``n`` published tenders in every public state, with their bids, awards, contracts."""
    rng = random.Random(SEED)
    official = make_user("bench_official", Role.OFFICIAL)
    approver = make_user("bench_approver", Role.APPROVER)
    organizations = _organizations()
    categories = list(ServiceCategory.objects.all())
    communities = list(Community.objects.all())
    programme = Programme.objects.get(is_default=True)
    start = datetime(2023, 1, 2, 9, 0, tzinfo=timezone.get_current_timezone())
    now = timezone.now()

    tenders = []
    states = []
    for index in range(n):
        published = start + timedelta(hours=index * 3)
        deadline = published + timedelta(days=25)
        roll = rng.random()
        if deadline > now or roll < 0.12:
            state = "published"
        elif roll < 0.17:
            state = "cancelled"
        elif roll < 0.27:
            state = "failed"
        elif roll < 0.37:
            state = "evaluating"
        elif roll < 0.57:
            state = "awarded"
        else:
            state = "contracted"
        states.append(state)
        status = {
            "published": TenderStatus.PUBLISHED,
            "cancelled": TenderStatus.CANCELLED,
            "failed": TenderStatus.FAILED,
            "evaluating": TenderStatus.EVALUATING,
            "awarded": TenderStatus.AWARDED,
            "contracted": TenderStatus.IN_DELIVERY,
        }[state]
        opened = deadline if state not in ("published", "cancelled") else None
        tenders.append(
            Tender(
                reference=f"JFB-{published.year}-{index:05d}",
                title=f"解放碑街道第{index}号社区服务项目",
                description=DESCRIPTION,
                category=rng.choice(categories),
                method=rng.choice(["public_tender", "competitive_consultation"]),
                budget=Decimal(rng.randrange(100_000, 1_000_000, 1_000)),
                service_start=(deadline + timedelta(days=60)).date(),
                service_end=(deadline + timedelta(days=424)).date(),
                eligibility_notes=ELIGIBILITY,
                question_deadline=published + timedelta(days=12),
                bid_deadline=deadline,
                status=status,
                created_by=official,
                approved_by=approver,
                submitted_at=published - timedelta(days=1),
                published_at=published,
                closed_at=opened,
                opened_at=opened,
                cancel_reason="预算调整，项目取消。" if state == "cancelled" else "",
                cancelled_at=published + timedelta(days=5) if state == "cancelled" else None,
                failed_reason="有效投标不足三家。" if state == "failed" else "",
                failed_at=opened if state == "failed" else None,
                awarded_at=deadline + timedelta(days=20)
                if state in ("awarded", "contracted")
                else None,
            )
        )
    with transaction.atomic():
        tenders = Tender.objects.bulk_create(tenders, batch_size=2000)
        Through = Tender.communities.through
        Through.objects.bulk_create(
            [
                Through(tender_id=tender.pk, community_id=community.pk)
                for tender in tenders
                for community in rng.sample(communities, rng.randint(1, 3))
            ],
            batch_size=5000,
        )
        with recorded_times(
            TenderDocument._meta.get_field("uploaded_at"),
            Amendment._meta.get_field("published_at"),
        ):
            TenderDocument.objects.bulk_create(
                [
                    TenderDocument(
                        tender=tender,
                        title="招标文件",
                        file=f"tenders/{tender.pk}/ab/{index:064d}",
                        original_name="招标文件.pdf",
                        content_type="application/pdf",
                        size=250_000,
                        sha256=f"{index:064d}",
                        uploaded_by=official,
                        uploaded_at=tender.published_at,
                    )
                    for index, tender in enumerate(tenders)
                ],
                batch_size=2000,
            )
            Amendment.objects.bulk_create(
                [
                    Amendment(
                        tender=tender,
                        number=1,
                        summary="根据财政评审意见调整预算。",
                        changes={
                            "budget": {
                                "before": str(tender.budget + 10_000),
                                "after": str(tender.budget),
                            }
                        },
                        affects_preparation=True,
                        bid_deadline_before=tender.bid_deadline,
                        bid_deadline_after=tender.bid_deadline,
                        published_at=tender.published_at + timedelta(days=3),
                        created_by=official,
                    )
                    for tender in tenders
                    if rng.random() < 0.1
                ],
                batch_size=2000,
            )
        _bids_awards_contracts(rng, tenders, states, organizations, official, programme, now)


def _bids_awards_contracts(
    rng: random.Random,
    tenders: list[Tender],
    states: list[str],
    organizations: list[Organization],
    official: Any,
    programme: Programme,
    now: datetime,
) -> None:
    bids: list[Bid] = []
    winners: dict[int, Bid] = {}
    for tender, state in zip(tenders, states, strict=True):
        count = 1 if state == "failed" else rng.randint(3, 6)
        for position, organization in enumerate(rng.sample(organizations, count)):
            opened = tender.opened_at is not None
            price = (tender.budget * Decimal(rng.uniform(0.8, 0.99))).quantize(Decimal("0.01"))
            if not opened:
                status = BidStatus.SUBMITTED
            elif state in ("awarded", "contracted"):
                status = BidStatus.WON if position == 0 else BidStatus.LOST
            elif state == "failed":
                status = BidStatus.OPENED
            else:
                status = BidStatus.QUALIFIED
            bid = Bid(
                tender=tender,
                organization=organization,
                created_by=official,
                status=status,
                sealed="" if opened else "gAAAAA-sealed",
                content_sha256=f"{rng.getrandbits(256):064x}",
                submitted_at=tender.bid_deadline - timedelta(days=rng.randint(1, 10)),
                price=price if opened else None,
                opened_at=tender.opened_at,
                reviewed_at=tender.bid_deadline + timedelta(days=1)
                if opened and state != "failed"
                else None,
                reviewed_by=official if opened and state != "failed" else None,
            )
            bids.append(bid)
            if status == BidStatus.WON:
                winners[tender.pk] = bid
    Bid.objects.bulk_create(bids, batch_size=5000)

    awards = []
    for tender in tenders:
        bid = winners.get(tender.pk)
        if bid is None:
            continue
        notice = tender.bid_deadline + timedelta(days=20)
        awards.append(
            Award(
                tender=tender,
                bid=bid,
                position=1,
                confirmed_by=official,
                confirmed_at=notice,
                notice_published_at=notice,
                notice_until=(notice + timedelta(days=1)).date(),
                challenge_deadline=(notice + timedelta(days=9)).date(),
            )
        )
    awards = Award.objects.bulk_create(awards, batch_size=5000)

    contracts = []
    for tender, award in _contracted(tenders, states, awards):
        signed = award.notice_published_at + timedelta(days=14)
        contracts.append(
            Contract(
                reference=f"{tender.reference}-HT",
                tender=tender,
                award=award,
                organization_id=award.bid.organization_id,
                programme=programme,
                title=tender.title,
                price=award.bid.price,
                service_start=tender.service_start,
                service_end=tender.service_end,
                deliverables=DESCRIPTION,
                pass_grade="fair",
                sign_due=(award.notice_published_at + timedelta(days=30)).date(),
                status="active",
                created_by=official,
                purchaser_signed_by=official,
                purchaser_signed_at=signed,
                supplier_signed_at=signed,
                published_at=signed,
                started_at=_midnight(tender.service_start),
            )
        )
    contracts = Contract.objects.bulk_create(contracts, batch_size=5000)

    milestones = []
    for contract in contracts:
        start = contract.service_start
        for sequence, (kind, evaluation, share, title, title_en) in enumerate(PLAN, start=1):
            due = start + timedelta(days=30 if sequence == 1 else 180 * (sequence - 1))
            amount = (contract.price * share / 100).quantize(Decimal("0.01"))
            settled = _midnight(due)
            paid = settled < now and rng.random() < 0.9
            paid_on = due + timedelta(days=3)
            milestones.append(
                Milestone(
                    contract=contract,
                    sequence=sequence,
                    title=title,
                    title_en=title_en,
                    kind=kind,
                    evaluation_kind=evaluation,
                    share=share,
                    amount=amount,
                    due_date=due,
                    status="paid" if paid else "planned",
                    released_amount=amount if paid else None,
                    withheld_amount=Decimal(0) if paid else None,
                    checked_at=settled if paid else None,
                    settled_at=settled if paid else None,
                    paid_on=paid_on if paid and paid_on < now.date() else None,
                    payment_reference=f"GK-{contract.pk:05d}-{sequence}" if paid else "",
                    settled_by=official if paid else None,
                )
            )
    Milestone.objects.bulk_create(milestones, batch_size=5000)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _contracted(
    tenders: list[Tender], states: list[str], awards: list[Award]
) -> Iterator[tuple[Tender, Award]]:
    by_tender = {award.tender_id: award for award in awards}
    for tender, state in zip(tenders, states, strict=True):
        if state == "contracted" and tender.pk in by_tender:
            yield tender, by_tender[tender.pk]


def _peak_bytes(queryset, path: Path) -> tuple[int, int]:
    """Peak traced memory while writing the package of ``queryset``, and the releases."""
    stats = ocds.ExportStats()
    tracemalloc.start()
    try:
        with path.open("w", encoding="utf-8") as file:
            for chunk in ocds.package_chunks(queryset, stats=stats):
                file.write(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, stats.releases


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_export_ocds_of_10000_tenders_streams_in_time_with_flat_memory(tmp_path):
    generate(TENDERS)
    assert ocds.published_tenders().count() == TENDERS

    out = tmp_path / "releases.json"
    started = time.perf_counter()
    cpu = time.process_time()
    call_command("export_ocds", "--out", str(out))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu

    with out.open(encoding="utf-8") as file:
        document = json.load(file)
    releases = document["releases"]
    assert len({release["ocid"] for release in releases}) == TENDERS
    size = out.stat().st_size
    del document, releases

    # Traced twice, after the export above loaded what is loaded once (catalogues, URLs).
    small = ocds.published_tenders().order_by("pk")[SMALL - 1 : SMALL].get().pk
    peak_small, releases_small = _peak_bytes(
        ocds.published_tenders().filter(pk__lte=small), tmp_path / "small.json"
    )
    peak_all, releases_all = _peak_bytes(ocds.published_tenders(), tmp_path / "all.json")

    vendor = connection.vendor
    report(
        f"export_ocds of {TENDERS:,} tenders, {releases_all:,} releases, "
        f"{size / 1e6:,.0f} MB ({vendor}), wall-clock",
        seconds,
        "s",
        f"<= {SECONDS_TARGET:.0f} s",
    )
    report("the same, CPU time of this process", cpu_seconds, "s", "")
    report(
        f"peak traced memory writing {SMALL:,} tenders ({releases_small:,} releases)",
        peak_small / 2**20,
        "MiB",
        "flat",
    )
    report(
        f"peak traced memory writing {TENDERS:,} tenders ({releases_all:,} releases)",
        peak_all / 2**20,
        "MiB",
        f"<= 1.5 x the {SMALL:,}-tender figure",
    )
    assert peak_all <= 1.5 * peak_small
    assert seconds <= SECONDS_TARGET
