"""The load benchmark's data: 50,000 tenders and 200,000 bids in a database of their own.

``bench_load.py`` runs this module in a subprocess against the load database (the server
under test, gunicorn, reads the same database), so nothing here touches the test database
of the pytest process:

    python -m tests.bench.load_data setup --tenders 50000 --bids 200000
    python -m tests.bench.load_data queries          # query counts of the public pages
    python -m tests.bench.load_data rush --lead 12 --warm 24   # closing in 12 s, 500 drafts
    python -m tests.bench.load_data rush-check ID    # what the database kept of the rush

The environment names the database (``DATABASE_URL``) and the production-like settings.
``setup`` migrates, then writes the data with PostgreSQL's COPY (about a minute) unless a
marker row says that this database already holds the same amount; reruns take seconds.

The data follows the models' rules: tenders are spread over eight years, every category
and community, both methods and every state, in proportions that depend on how long ago
the deadline was (recent ones are being evaluated, old ones completed, some failed or
cancelled). Bids exist only where the lifecycle allows: drafts and sealed submissions on
tenders still open, sealed submissions on closed ones, plain opened content (and
qualified, won or lost) once a tender was opened. Every bid's content is sealed with the
bench key, as the submission seals it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

# A fixed Fernet key: the generator seals the drafts and the server opens them (bench only).
BENCH_BID_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"bench_load").digest()).decode()
MARKER_TABLE = "bench_load_marker"
# Bump when the shape of the generated data changes: the next run regenerates.
DATA_VERSION = 1
ORGANIZATIONS = 500
RUSH_BIDS = 500
SEED = 20261126

TITLES = {
    "elderly_care": [
        "居家养老上门服务",
        "社区老年食堂运营",
        "高龄独居老人探访",
        "日间照料中心运营",
    ],
    "child_youth": ["青少年课后托管", "儿童友好社区营造", "青少年心理成长小组", "四点半课堂"],
    "disability": ["残疾人康复服务", "残疾人就业辅导", "助残志愿服务"],
    "community_correction": ["社区矫正帮扶", "安置帮教服务"],
    "community_governance": ["居民议事会培育", "社区治理能力提升", "楼栋自治试点"],
    "volunteer_service": ["志愿服务站运营", "志愿者培训与激励"],
    "social_assistance": ["困难群众救助帮扶", "低保家庭跟踪服务"],
    "property_management": ["老旧小区物业服务", "无物业小区托管"],
    "culture_sports": ["社区文化活动", "全民健身指导"],
    "mental_health": ["心理健康服务站", "精神障碍社区康复"],
}
DESCRIPTION = (
    "为辖区{community}居民提供{title}，包括需求评估、个案跟进、小组活动和社区活动；"
    "服务期一年，按季度报送服务报告并接受第三方绩效评价。"
)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ.setdefault("BID_ENCRYPTION_KEYS", BENCH_BID_KEY)
    import django

    django.setup()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201 (progress of a bench helper)


# --- Database ---------------------------------------------------------------------------------


def ensure_database() -> None:
    """Create the database named by DATABASE_URL when it does not exist yet."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def _marker() -> tuple[int, int, int] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
            "(tenders integer, bids integer, version integer)"
        )
        cursor.execute(f"SELECT tenders, bids, version FROM {MARKER_TABLE}")  # noqa: S608
        row = cursor.fetchone()
    return tuple(row) if row else None


def _set_marker(tenders: int, bids: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")  # noqa: S608 (a constant)
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s, %s, %s)",  # noqa: S608 (a constant)
            [tenders, bids, DATA_VERSION],
        )


def _copy(model: Any, objects: Iterable[Any]) -> int:
    """Write model instances with COPY (every concrete column, primary keys included)."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection, models

    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    is_json = [isinstance(f, models.JSONField) for f in fields]
    count = 0
    with connection.cursor() as cursor:
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for obj in objects:
                row = [getattr(obj, f.attname) for f in fields]
                for i, flag in enumerate(is_json):
                    if flag:
                        row[i] = json.dumps(row[i], cls=DjangoJSONEncoder)
                copy.write_row(row)
                count += 1
    return count


def _reset_sequence(model: Any) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def _wipe() -> None:
    """Remove earlier generated tenders and bids (a different size or version); the
    catalogue, the organizations and their tokens stay."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tenders_bidreceipt, tenders_biddocument, tenders_bidstaff, tenders_bid, "
            "tenders_tendercriterion, tenders_tender_communities, tenders_tender CASCADE"
        )


# --- People -----------------------------------------------------------------------------------


def _staff_users() -> tuple[Any, Any]:
    from marketplace.models import Role, User

    official, _ = User.objects.get_or_create(
        username="load_official",
        defaults={"role": Role.OFFICIAL, "full_name": "王采购", "email": "o@example.cn"},
    )
    approver, _ = User.objects.get_or_create(
        username="load_approver",
        defaults={"role": Role.APPROVER, "full_name": "李审批", "email": "a@example.cn"},
    )
    return official, approver


def _organizations() -> list[Any]:
    """500 active, verified organizations, each with an administrator and an API token."""
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from marketplace.models import Role, User
    from orgs_registry.identifiers import make_uscc
    from orgs_registry.models import Organization

    existing = list(Organization.objects.filter(name__startswith="负载测试").order_by("pk"))
    if len(existing) >= ORGANIZATIONS:
        return existing[:ORGANIZATIONS]
    now = timezone.now()
    kinds = ["social_service_agency", "social_group", "foundation"]
    codes = {"social_service_agency": "2", "social_group": "1", "foundation": "3"}
    organizations = []
    for i in range(len(existing), ORGANIZATIONS):
        kind = kinds[i % 3]
        organizations.append(
            Organization(
                name=f"负载测试社会工作服务中心{i:03d}",
                uscc=make_uscc(
                    authority="5", category=codes[kind], region="500103", org_body=f"7{i:07d}"
                ),
                kind=kind,
                status="active",
                verified_at=now,
                registration_date=date(2015 + i % 9, 1 + i % 12, 1 + i % 28),
                legal_representative=f"负责人{i}",
                address=f"渝中区解放碑街道{i % 40 + 1}号",
            )
        )
    created = Organization.objects.bulk_create(organizations)
    users = User.objects.bulk_create(
        User(
            username=f"load_admin_{org.pk}",
            role=Role.ORG_ADMIN,
            organization=org,
            full_name=f"管理员{org.pk}",
            email=f"load{org.pk}@example.cn",
            password="!",  # unusable: the bench signs in with tokens
        )
        for org in created
    )
    Token.objects.bulk_create(
        Token(key=hashlib.sha1(f"load-{u.pk}".encode()).hexdigest(), user=u)  # noqa: S324
        for u in users
    )
    return existing + created


# --- Tenders and bids -------------------------------------------------------------------------

LATE_STATES = [  # deadline more than 400 days ago
    ("completed", 70),
    ("in_delivery", 6),
    ("failed", 12),
    ("cancelled", 12),
]
MIDDLE_STATES = [  # 60 to 400 days ago
    ("in_delivery", 50),
    ("completed", 15),
    ("contracted", 5),
    ("awarded", 3),
    ("failed", 14),
    ("cancelled", 13),
]
RECENT_STATES = [  # in the last 60 days
    ("closed", 10),
    ("opened", 10),
    ("evaluating", 20),
    ("awarded", 20),
    ("contracted", 15),
    ("failed", 12),
    ("cancelled", 13),
]
OPEN_STATES = [("published", 90), ("pending_approval", 5), ("draft", 5)]


def _pick(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]


def _state(rng: random.Random, deadline: datetime, now: datetime) -> str:
    age = (now - deadline).days
    if deadline > now:
        return _pick(rng, OPEN_STATES)
    if age > 400:
        return _pick(rng, LATE_STATES)
    if age > 60:
        return _pick(rng, MIDDLE_STATES)
    if age < 1 and rng.random() < 0.5:
        return "published"  # past its deadline, before the closing job ran
    return _pick(rng, RECENT_STATES)


def _tenders(n: int, official: Any, approver: Any, now: datetime) -> Iterator[Any]:
    from orgs_registry.models import ServiceCategory
    from tenders.models import Community, Tender

    rng = random.Random(SEED)
    categories = list(ServiceCategory.objects.filter(code__in=TITLES))
    communities = list(Community.objects.all())
    start = datetime(2019, 1, 1, tzinfo=now.tzinfo)
    span = (now + timedelta(days=60) - start).total_seconds()
    numbers: dict[int, int] = {}
    for pk in range(1, n + 1):
        category = rng.choice(categories)
        community = rng.choice(communities)
        deadline = (start + timedelta(seconds=rng.random() * span)).replace(
            minute=0, second=0, microsecond=0
        )
        deadline = deadline.replace(hour=9 + rng.randrange(0, 8))
        status = _state(rng, deadline, now)
        published = deadline - timedelta(days=rng.randint(20, 40))
        internal = status in ("draft", "pending_approval")
        year = published.year
        reference = ""
        if not internal:
            numbers[year] = numbers.get(year, 0) + 1
            reference = f"JFB-{year}-{numbers[year]:05d}"
        title = rng.choice(TITLES[category.code])
        tender = Tender(
            id=pk,
            reference=reference,
            title=f"{community.name_zh}{title}项目（{year}年度）",
            description=DESCRIPTION.format(community=community.name_zh, title=title),
            category=category,
            method=rng.choices(["public_tender", "competitive_consultation"], weights=[75, 25])[0],
            budget=Decimal(rng.randrange(50_000, 2_000_000, 1_000)),
            service_start=(deadline + timedelta(days=30)).date(),
            service_end=(deadline + timedelta(days=395)).date(),
            question_deadline=deadline - timedelta(days=15),
            bid_deadline=deadline,
            status=status,
            created_by=official,
            submitted_at=None if status == "draft" else published - timedelta(days=2),
            approved_by=None if internal else approver,
            published_at=None if internal else published,
            created_at=published - timedelta(days=5),
            updated_at=deadline if deadline < now else published,
        )
        if status not in ("draft", "pending_approval", "published"):
            after = deadline + timedelta(minutes=1)
            if status == "cancelled":
                tender.cancelled_at = deadline - timedelta(days=rng.randint(-10, 10))
                tender.cancel_reason = "预算调整，项目取消。"
            else:
                tender.closed_at = after
            if status not in ("closed", "cancelled"):
                tender.opened_at = after
            if status == "failed":
                tender.failed_at = after
                tender.failed_reason = "有效投标不足三家。"
            if status in ("awarded", "contracted", "in_delivery", "completed"):
                tender.awarded_at = deadline + timedelta(days=10)
        yield tender


def _communities(tenders: list[Any], ids: list[int]) -> Iterator[Any]:
    """Rows of the service-area table (no queries: it runs inside a COPY)."""
    from tenders.models import Tender

    rng = random.Random(SEED + 1)
    through = Tender.communities.through
    pk = 0
    for tender in tenders:
        for community in rng.sample(ids, rng.choice([0, 1, 1, 1, 2, 3])):
            pk += 1
            yield through(id=pk, tender_id=tender.pk, community_id=community)


def _criteria(tenders: list[Any]) -> Iterator[Any]:
    from tenders.models import TenderCriterion

    pk = 0
    for tender in tenders:
        price = 30 if tender.method == "public_tender" else 20
        for order, (code, name, kind, points) in enumerate(
            [
                ("price", "价格", "price", price),
                ("plan", "服务方案", "subjective", 90 - price),
                ("grade", "社会组织等级", "objective", 10),
            ]
        ):
            pk += 1
            yield TenderCriterion(
                id=pk,
                tender_id=tender.pk,
                code=code,
                name=name,
                kind=kind,
                points=Decimal(points),
                rule={"type": "grade"} if kind == "objective" else {},
                sort_order=order,
            )


def _bid_counts(rng: random.Random, tenders: list[Any], total: int) -> list[int]:
    """How many bids each tender has, summing to ``total``: none before publication,
    few on failed tenders, about four on the others."""
    counts = []
    for tender in tenders:
        if tender.status in ("draft", "pending_approval"):
            counts.append(0)
        elif tender.status == "failed":
            counts.append(rng.choice([0, 1, 2]))
        elif tender.status == "cancelled":
            counts.append(rng.choice([0, 0, 1, 2, 3]))
        else:
            counts.append(max(1, int(rng.gauss(5, 2))))
    # Scale to the exact total, never above the number of organizations.
    room = [i for i, t in enumerate(tenders) if t.status not in ("draft", "pending_approval")]
    while (difference := total - sum(counts)) != 0:
        i = rng.choice(room)
        if difference > 0 and counts[i] < min(12, ORGANIZATIONS):
            counts[i] += 1
        elif difference < 0 and counts[i] > (1 if tenders[i].status != "failed" else 0):
            counts[i] -= 1
    return counts


def _bids(
    tenders: list[Any], total: int, organizations: list[Any], admins: dict[int, int], now: datetime
) -> Iterator[Any]:
    from tenders import sealing
    from tenders.models import Bid

    rng = random.Random(SEED + 2)
    counts = _bid_counts(rng, tenders, total)
    for tender, count in zip(tenders, counts, strict=True):
        if not count:
            continue
        prices = [
            (tender.budget * Decimal(rng.uniform(0.78, 0.99))).quantize(Decimal("0.01"))
            for _ in range(count)
        ]
        winner = min(range(count), key=prices.__getitem__)
        for i, org in enumerate(rng.sample(organizations, count)):
            content = {"price": str(prices[i]), "staff": [], "proposal": "服务方案：每周上门两次。"}
            submitted = tender.bid_deadline - timedelta(hours=rng.randint(1, 240))
            bid = Bid(
                tender_id=tender.pk,
                organization_id=org.pk,
                created_by_id=admins[org.pk],
                sealed=sealing.seal_json(content),
                content_sha256=hashlib.sha256(json.dumps(content).encode()).hexdigest(),
                created_at=submitted - timedelta(days=2),
                updated_at=submitted,
                status=(status := _bid_status(rng, tender, i == winner)),
            )
            if status != "draft":
                bid.submitted_at = submitted
            if tender.opened_at is not None and status not in ("draft", "submitted"):
                bid.price = prices[i]
                bid.proposal = content["proposal"]
                bid.opened_at = tender.opened_at
            yield bid


def _bid_status(rng: random.Random, tender: Any, winner: bool) -> str:
    status = tender.status
    if status == "published":
        return "draft" if rng.random() < 0.3 else "submitted"
    if status in ("closed", "cancelled"):
        return "submitted"
    if status == "opened":
        return "opened"
    if status == "failed":
        return "disqualified" if rng.random() < 0.5 else "opened"
    if status == "evaluating":
        return "disqualified" if rng.random() < 0.1 else "qualified"
    return "won" if winner else "lost"


def setup(tenders: int, bids: int) -> dict[str, Any]:
    """Migrate and generate (unless this database holds the same data already)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from marketplace.models import User
    from tenders.models import Bid, Community, Tender, TenderCriterion

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    marker = _marker()
    if marker == (tenders, bids, DATA_VERSION):
        return {"generated": False, "seconds": round(time.perf_counter() - started, 1)}
    _say(f"generating {tenders:,} tenders and {bids:,} bids")
    with transaction.atomic():
        _wipe()
        official, approver = _staff_users()
        organizations = _organizations()
        admins = dict(
            User.objects.filter(organization__in=organizations).values_list("organization_id", "pk")
        )
        now = timezone.now()
        rows = list(_tenders(tenders, official, approver, now))
        _copy(Tender, rows)
        communities = list(Community.objects.values_list("pk", flat=True))
        _copy(Tender.communities.through, _communities(rows, communities))
        _copy(TenderCriterion, _criteria(rows))
        for model in (Tender, Tender.communities.through, TenderCriterion):
            _reset_sequence(model)
        written = _copy(Bid, _bids(rows, bids, organizations, admins, now))
        assert written == bids, written
        _set_marker(tenders, bids)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics for the planner, as in production
    return {"generated": True, "seconds": round(time.perf_counter() - started, 1)}


# --- Query counts -----------------------------------------------------------------------------


def query_counts() -> dict[str, int]:
    """Queries of one anonymous request to each public page (the page cache cleared first)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tenders.models import Tender

    tender = Tender.objects.filter(status="published").order_by("-bid_deadline").first()
    assert tender is not None
    client = Client(HTTP_HOST="127.0.0.1")
    urls = {
        "list": reverse("tenders:list"),
        "list_page_50": reverse("tenders:list") + "?page=50",
        "list_filtered": reverse("tenders:list") + "?category=elderly_care&status=completed",
        "detail": reverse("tenders:detail", args=[tender.pk]),
        "api_list": "/api/v1/tenders/",
        "api_list_filtered": "/api/v1/tenders/?category=elderly_care&status=completed",
        "api_detail": f"/api/v1/tenders/{tender.pk}/",
    }
    counts = {}
    for name, url in urls.items():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = len(captured)
    return counts


# --- The deadline rush ------------------------------------------------------------------------


def rush(lead: float, warm: int = 0) -> dict[str, Any]:
    """A published tender whose deadline is ``lead`` seconds away, and a sealed draft with a
    price and a document from each of 500 organizations, ready to be submitted; and
    ``warm`` drafts of the first organizations to a tender closing in an hour, which warm
    every server process's submission path before the rush (as a server that has run
    all day is)."""
    from django.db import transaction
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    organizations = _organizations()[:RUSH_BIDS]
    tokens = dict(
        Token.objects.filter(user__organization__in=organizations).values_list(
            "user__organization_id", "key"
        )
    )
    now = timezone.now()
    deadline = now + timedelta(seconds=lead)
    with transaction.atomic():
        _remove_rush_tenders()
        tender, bids = _rush_tender(f"RUSH-{now:%Y%m%d%H%M%S%f}", deadline, organizations)
        _warm_tender, warm_bids = _rush_tender(
            f"RUSH-WARM-{now:%Y%m%d%H%M%S%f}", now + timedelta(hours=1), organizations[:warm]
        )
    return {
        "tender": tender.pk,
        "deadline": deadline.timestamp(),
        "bids": [[str(bid.pk), tokens[bid.organization_id]] for bid in bids],
        "warm_bids": [[str(bid.pk), tokens[bid.organization_id]] for bid in warm_bids],
    }


def _rush_tender(reference: str, deadline: Any, organizations: list[Any]) -> tuple[Any, list[Any]]:
    """A published tender closing at ``deadline`` with a sealed draft (a price and a PDF)
    from each organization."""
    from django.core.files.base import ContentFile
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from tenders import sealing
    from tenders.models import Bid, BidDocument, Tender, TenderCriterion

    official, approver = _staff_users()
    admins = dict(
        Token.objects.filter(user__organization__in=organizations).values_list(
            "user__organization_id", "user_id"
        )
    )
    template = Tender.objects.filter(status="published").first()
    assert template is not None
    now = timezone.now()
    tender = Tender(
        reference=reference,
        title="截止冲刺测试项目",
        description=template.description,
        category_id=template.category_id,
        method="public_tender",
        budget=Decimal("800000.00"),
        question_deadline=now,
        bid_deadline=deadline,
        status="published",
        created_by=official,
        approved_by=approver,
        submitted_at=now,
        published_at=now,
    )
    tender.save()
    TenderCriterion.objects.bulk_create(
        TenderCriterion(tender=tender, code=c, name=c, kind=k, points=Decimal(p))
        for c, k, p in [("price", "price", 30), ("plan", "subjective", 70)]
    )
    rng = random.Random(int(now.timestamp()))
    bids = Bid.objects.bulk_create(
        Bid(
            tender=tender,
            organization=org,
            created_by_id=admins[org.pk],
            sealed=sealing.seal_json(
                {
                    "price": str(Decimal(rng.randrange(600_000, 800_000, 100))),
                    "staff": [],
                    "proposal": "服务方案：每周上门两次，建立服务档案。",
                }
            ),
        )
        for org in organizations
    )
    for bid in bids:
        data = b"%PDF-1.4\n% bench bid document " + bid.pk.hex.encode() + b"\n%%EOF\n"
        document = BidDocument(
            bid=bid,
            kind="technical",
            storage_key=bid.pk.hex,
            sealed_name=sealing.seal_json("技术方案.pdf"),
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        document.file.save(document.storage_key, ContentFile(sealing.seal_bytes(data)), False)
        document.save()
    return tender, bids


def _remove_rush_tenders() -> None:
    """Earlier runs' rush tenders go, so that the pages measure the same 50,000 tenders
    (their audit events stay: the log is append-only)."""
    from tenders.models import Bid, BidDocument, BidReceipt, Tender, TenderInterest

    earlier = Tender.objects.filter(reference__startswith="RUSH-")
    for document in BidDocument.objects.filter(bid__tender__in=earlier):
        document.file.delete(save=False)
    BidReceipt.objects.filter(bid__tender__in=earlier).delete()
    BidDocument.objects.filter(bid__tender__in=earlier).delete()
    Bid.objects.filter(tender__in=earlier).delete()
    TenderInterest.objects.filter(tender__in=earlier).delete()
    earlier.delete()


def rush_check(tender_id: int) -> dict[str, Any]:
    """What the database kept: submitted bids, receipts, the latest receipt time."""
    from django.db.models import Count, Max

    from tenders.models import Bid, BidReceipt, Tender

    tender = Tender.objects.get(pk=tender_id)
    receipts = BidReceipt.objects.filter(bid__tender=tender)
    per_bid = receipts.values("bid").annotate(n=Count("pk"))
    latest = receipts.aggregate(latest=Max("received_at"))["latest"]
    return {
        "deadline": tender.bid_deadline.timestamp(),
        "submitted": Bid.objects.filter(tender=tender, status="submitted").count(),
        "receipts": receipts.count(),
        "bids_with_several_receipts": sum(1 for row in per_bid if row["n"] > 1),
        "latest_receipt": latest.timestamp() if latest else None,
        "submitted_ids": [
            str(pk)
            for pk in Bid.objects.filter(tender=tender, status="submitted").values_list(
                "pk", flat=True
            )
        ],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("setup")
    generate.add_argument("--tenders", type=int, default=50_000)
    generate.add_argument("--bids", type=int, default=200_000)
    commands.add_parser("queries")
    prepare = commands.add_parser("rush")
    prepare.add_argument("--lead", type=float, default=12.0)
    prepare.add_argument("--warm", type=int, default=0)
    check = commands.add_parser("rush-check")
    check.add_argument("tender", type=int)
    args = parser.parse_args(argv)
    if args.command == "setup":
        ensure_database()
    _django()
    if args.command == "setup":
        result: Any = setup(args.tenders, args.bids)
    elif args.command == "queries":
        result = query_counts()
    elif args.command == "rush":
        result = rush(args.lead, args.warm)
    else:
        result = rush_check(args.tender)
    print(json.dumps(result))  # noqa: T201 (read by bench_load.py)


if __name__ == "__main__":
    main(sys.argv[1:])
