"""Walking every URL pattern of the site, filling its ids and reading what comes back.

Shared by the seal crawl (tests/tenders/test_seal_crawl.py), the sealed-bid matrix and the
object-access suite (tests/reliability/). The walk is driven by the URL configuration, so a
new route is covered without touching the tests; the readers turn every kind of answer
(HTML, JSON, CSV, XLSX, PDF) into text so that one search finds a value in any of them.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
import re
import zlib
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from evaluation.services.panels import panel_declare, panel_form
from marketplace.models import Role, User
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import ServiceCategory
from orgs_registry.services import StaffInput, staff_add
from tenders import services
from tenders.models import (
    Bid,
    BidDocument,
    BidReceipt,
    Question,
    Tender,
    TenderDocument,
    TenderStatus,
)
from tests.conftest import building, make_organization, make_user, module_database, patch_clock
from tests.evaluation.conftest import make_assessor
from tests.tenders.conftest import CRITERIA, tender_data

SKIPPED_PREFIXES = ("static/", "media/")
# A named group of a regular-expression route: ``(?P<name>body)``.
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its text (``tenders/<int:pk>/`` or a regular expression after its
    prefix), its qualified name and the view that answers it."""

    pattern: str
    name: str
    callback: Callable[..., Any]

    @property
    def is_regex(self) -> bool:
        return "(?P<" in self.pattern or "^" in self.pattern or "\\" in self.pattern

    @property
    def params(self) -> list[tuple[str, str]]:
        """``(converter, name)`` of each part of the URL that varies (``re`` for a group)."""
        if self.is_regex:
            return [("re", match["name"]) for match in _GROUP.finditer(self.pattern)]
        return [
            (match["converter"] or "str", match["name"])
            for match in _CONVERTER.finditer(self.pattern)
        ]

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    def methods(self) -> set[str]:
        """The HTTP methods the view declares it accepts (DRF view sets list theirs per
        action; ``require_http_methods`` and class-based views name theirs)."""
        callback = self.callback
        actions = getattr(callback, "actions", None)
        if actions:
            return {method.upper() for method in actions}
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is not None:
            allowed = getattr(view_class, "http_method_names", [])
            return {m.upper() for m in allowed if hasattr(view_class, m)} - {"OPTIONS", "HEAD"}
        return {"GET", "POST"}


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every URL pattern of the site (static and media files left out)."""
    resolver = resolver or get_resolver()
    found: list[Route] = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            found.extend(walk(entry, prefix + pattern, inner))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            found.append(Route(prefix + pattern, name, entry.callback))
    return [route for route in found if not route.pattern.startswith(SKIPPED_PREFIXES)]


def routes() -> list[str]:
    """Every route of the site as text with its ``<conv:name>`` parts."""
    return [route.pattern for route in walk()]


def _is_id_name(name: str) -> bool:
    return name in ("pk", "object_id", "sequence") or name.endswith(("_pk", "_id"))


def pools_for(
    converter: str,
    name: str,
    ints: Sequence[Any],
    uuids: Sequence[str],
    named: Mapping[str, Sequence[str]],
) -> list[str]:
    """The values tried for one varying part of a URL.

    ``named`` gives the values of parts known by name (an export's ``list_name``, a
    document's ``kind``, a survey's ``token``); ids come from ``ints`` and ``uuids`` by the
    part's converter, or both for the admin's string ids; anything else gets ``x``.
    """
    if name in named:
        return [str(value) for value in named[name]]
    if converter == "uuid":
        return list(uuids)
    if converter == "int":
        return [str(i) for i in ints]
    if converter == "re":
        return [str(i) for i in ints] if _is_id_name(name) else []
    if _is_id_name(name):
        return [str(i) for i in ints] + list(uuids)
    return ["x"]


def _regex_template(pattern: str) -> str:
    """A regular-expression route as text with ``{name}`` where its groups are."""
    text = _GROUP.sub(lambda match: "{" + match["name"] + "}", pattern)
    return text.replace("^", "").replace("$", "").replace("\\", "")


def fill(
    route: str | Route,
    ints: Sequence[Any],
    uuids: Sequence[str],
    named: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Every URL the route makes with the given ids and named values.

    A regular-expression route is filled only when every group has values (``named`` or,
    for an id group, ``ints``); otherwise it makes no URL.
    """
    if isinstance(route, str):
        route = Route(route, "", lambda: None)
    named = named or {}
    params = route.params
    if not params:
        return ["/" + route.pattern]
    pools = [pools_for(conv, name, ints, uuids, named) for conv, name in params]
    if any(not pool for pool in pools):
        return []
    template = route.pattern
    if route.is_regex:
        template = _regex_template(template)
    else:
        template = _CONVERTER.sub(lambda match: "{" + match["name"] + "}", template)
    names = [name for _conv, name in params]
    return [
        "/" + template.format(**dict(zip(names, values, strict=True)))
        for values in itertools.product(*pools)
    ]


def sample(items: Sequence[str], count: int, *, seed: str) -> list[str]:
    """``count`` of ``items`` chosen the same way on every run for the same ``seed``."""
    if len(items) <= count:
        return list(items)
    return random.Random(zlib.crc32(seed.encode())).sample(list(items), count)


# --- Reading answers ---------------------------------------------------------------------------


def body_of(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _cell_text(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        number = Decimal(str(value))
        return [str(value), f"{number:.2f}", f"{number:,.2f}"]
    return [str(value)]


def xlsx_text(data: bytes) -> str:
    """Every cell of every sheet, numbers also as ``1234.50`` and ``1,234.50``."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: list[str] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                parts.extend(_cell_text(value))
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    """The text of a PDF's pages; a file that only starts like one (an uploaded document
    served back) is read as it is."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError):
        return data.decode("utf-8", errors="replace")


def response_text(response: Any) -> tuple[str, bytes]:
    """What a reader of the answer sees, as text (and the raw body, to look for bytes)."""
    body = body_of(response)
    content_type = response.get("Content-Type", "") or ""
    if body.startswith(b"%PDF") and "pdf" in content_type:
        return pdf_text(body), body
    if "spreadsheetml" in content_type:
        return xlsx_text(body), body
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type and text:
        # JsonResponse escapes every non-ASCII character; read it back as text.
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text, body


# A page's per-request CSRF token (in the forms, and in the headers htmx sends).
_CSRF = re.compile(
    r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|csrf[-_]?token"?[:=]\s*"?)[\w-]+', re.I
)


def without_tokens(text: str) -> str:
    """The answer without its CSRF token, which changes with every request."""
    return _CSRF.sub(r"\1", text)


def without_ids(text: str, *ids: str) -> str:
    """The answer with the asked ids taken out where a URL path or a quoted value names them
    (``/tenders/12/``, ``"12"``); the same digits elsewhere (``initial-scale=1``) stay."""
    for value in ids:
        escaped = re.escape(value)
        text = re.sub(rf"(?<=/){escaped}(?=[/.?#\"'&\s]|$)|(?<=\"){escaped}(?=\")", "<id>", text)
    return text


# --- Markers -------------------------------------------------------------------------------------


def price_forms(price: Decimal) -> list[str]:
    """A price as any page, export or PDF might print it: plain, grouped by thousands or
    by spaces, to one decimal, rounded or cut to yuan, and in 万元."""
    plain = f"{price:.2f}"
    yuan = price.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    wan = price / Decimal(10_000)
    return sorted(
        {
            plain,
            f"{price:,.2f}",
            f"{price:,.2f}".replace(",", " "),
            f"{price:.1f}",
            str(int(price)),
            str(yuan),
            f"{yuan:,}",
            f"{wan:.2f}",
            f"{wan:.4f}",
        }
    )


def found(
    text: str, body: bytes, markers: Mapping[str, Iterable[str]], raw: Iterable[bytes] = ()
) -> list[str]:
    """The labels of ``markers`` (label -> the texts that show it) present in an answer."""
    seen = [label for label, forms in markers.items() if any(form in text for form in forms)]
    seen += [f"bytes {value[:12]!r}" for value in raw if value in body]
    return seen


# --- A street office with a tender in every state, bids with values found nowhere else ---------
#
# Built once per test module (``world_once``, rolled back at its end) for the sealed-bid
# matrix and the object-access suite: a tender in every state before the opening and two
# after it; the bidder and a competitor bid on every sealed tender, three other
# organizations on the opened ones; a late organization is ready to bid during a test.

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BUILT_AT = datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI)
# The walks happen here: the closed tenders' deadline passed, the open ones' has not.
WALK_AT = BUILT_AT + timedelta(days=30)
SHORT = timedelta(days=25)
LONG = timedelta(days=60)
BUDGET = Decimal("9000000.00")

SEALED_STATES = (
    "draft",
    "pending_approval",
    "published",
    "amended",
    "closed",
    "opening",
    "cancelled",
)
OPENED_STATES = ("opened", "evaluating")
STATES = SEALED_STATES + OPENED_STATES
# The states a bid can be made in (the others have none: a draft is internal).
BID_STATES = ("published", "amended", "closed", "opening", "cancelled")

ROLES = (
    "anonymous",
    "bidder_admin",
    "bidder_member",
    "competitor_admin",
    "competitor_member",
    "official",
    "approver",
    "assessor_pool",
    "assessor_panel",
    "registry_admin",
    "auditor",
    "superuser",
)


def _marker_price(base: str, index: int) -> Decimal:
    return Decimal(f"{base}{index:02d}.{47 + index}")


@dataclass
class Sealed:
    """What one organization put in its bid on one tender."""

    price: Decimal
    proposal: str
    document_name: str
    document_bytes: bytes

    def markers(self) -> dict[str, list[str]]:
        return {
            f"price {self.price}": price_forms(self.price),
            "proposal": [self.proposal],
            "document name": [self.document_name],
        }


@dataclass
class Party:
    """An organization with its admin, member, a staff member on its bids and its bids."""

    key: str
    name: str
    uscc: str
    organization_pk: int
    admin_pk: int
    member_pk: int
    staff_name: str
    person_pk: int
    bids: dict[str, Sealed] = field(default_factory=dict)


@dataclass
class World:
    tenders: dict[str, int]
    parties: dict[str, Party]
    users: dict[str, int]
    int_ids: dict[str, list[int]]
    uuid_ids: dict[str, list[str]]
    media: Path | None = None


def make_party(
    key: str, name: str, body: str, staff_name: str, index: int, *, verified: bool = True
) -> Party:
    organization = make_organization(name, body, verified=verified)
    admin = make_user(f"{key}_admin", Role.ORG_ADMIN, organization)
    member = make_user(f"{key}_member", Role.ORG_MEMBER, organization)
    person = staff_add(
        organization=organization,
        actor=admin,
        data=StaffInput(
            name=staff_name,
            id_number=make_id_number(
                region="500103", born=date(1985, 1 + index, 3), sequence=40 + index, male=True
            ),
            role="社工",
            start_date=date(2024, 1, 1),
        ),
    ).person
    return Party(
        key=key,
        name=name,
        uscc=organization.uscc,
        organization_pk=organization.pk,
        admin_pk=admin.pk,
        member_pk=member.pk,
        staff_name=staff_name,
        person_pk=person.pk,
    )


def submit_marked_bid(tender: Tender, party: Party, sealed: Sealed) -> Bid:
    admin = User.objects.get(pk=party.admin_pk)
    bid = services.bid_prepare(
        tender=tender,
        actor=admin,
        price=sealed.price,
        staff=[{"person": party.person_pk, "role": "项目主管", "fte": "0.5"}],
        proposal=sealed.proposal,
    )
    services.bid_document_add(
        bid=bid,
        actor=admin,
        upload=SimpleUploadedFile(sealed.document_name + ".pdf", sealed.document_bytes),
    )
    services.bid_submit(bid=bid, actor=admin)
    party.bids[str(tender.pk)] = sealed
    return bid


def marked(state: str, index: int, base: str, tag: str) -> Sealed:
    return Sealed(
        price=_marker_price(base, index),
        proposal=f"矩阵{tag}方案{index}QX{state}",
        document_name=f"矩阵{tag}附件{index}ZK{state}",
        document_bytes=f"%PDF-1.4\n% {tag} sealed body MX-{index}-{state}\n%%EOF\n".encode(),
    )


def build_world(clock) -> World:
    official = make_user("official", Role.OFFICIAL)
    second = make_user("second_official", Role.OFFICIAL)
    approver = make_user("approver", Role.APPROVER)
    users = {
        "official": official.pk,
        "approver": approver.pk,
        "registry_admin": make_user("registry_admin", Role.REGISTRY_ADMIN).pk,
        "auditor": make_user("auditor", Role.AUDITOR).pk,
        "superuser": User.objects.create_superuser("root", "root@example.cn", "a-Strong-pass0").pk,
    }
    category = ServiceCategory.objects.get(code="elderly_care")
    experts = [
        make_assessor(f"expert{i}", agency=f"矩阵评估所{i}", categories=[category])
        for i in range(6)
    ]
    users["assessor_panel"] = experts[0].pk
    users["assessor_pool"] = experts[5].pk
    parties = {
        "bidder": make_party("bidder", "矩阵投标机构甲", "81000001", "矩阵员工甲乙", 0),
        "competitor": make_party("competitor", "矩阵竞争机构乙", "81000002", "矩阵员工丙丁", 1),
        "p1": make_party("p1", "开标机构一", "81000003", "开标员工戊己", 2),
        "p2": make_party("p2", "开标机构二", "81000004", "开标员工庚辛", 3),
        "p3": make_party("p3", "开标机构三", "81000005", "开标员工壬癸", 4),
        "late": make_party("late", "矩阵迟到机构", "81000006", "矩阵员工子丑", 5),
        # A registration the registry has not verified: nobody else knows it exists.
        "pending": make_party(
            "pending", "矩阵待审机构", "81000007", "矩阵员工寅卯", 6, verified=False
        ),
    }
    for role in ("bidder", "competitor"):
        users[f"{role}_admin"] = parties[role].admin_pk
        users[f"{role}_member"] = parties[role].member_pk

    def tender(state: str, deadline: timedelta, *, publish: bool = True) -> Tender:
        made = services.tender_create(
            actor=official,
            **tender_data(
                category,
                clock(),
                title=f"矩阵项目{state}",
                budget=BUDGET,
                bid_deadline=clock() + deadline,
                question_deadline=clock() + timedelta(days=12),
                criteria=CRITERIA,
            ),
        )
        if publish:
            services.tender_publish(tender=made, actor=official)
            services.tender_publish(tender=made, actor=approver)
        made.refresh_from_db()
        return made

    tenders: dict[str, Tender] = {}
    tenders["draft"] = tender("draft", LONG, publish=False)
    tenders["pending_approval"] = tender("pending_approval", LONG, publish=False)
    services.tender_publish(tender=tenders["pending_approval"], actor=official)
    for state in ("published", "amended", "cancelled"):
        tenders[state] = tender(state, LONG)
    for state in ("closed", "opening", "opened", "evaluating"):
        tenders[state] = tender(state, SHORT)
    asker = User.objects.get(pk=parties["p3"].admin_pk)
    for made in tenders.values():
        if made.status == TenderStatus.PUBLISHED:
            services.question_ask(tender=made, actor=asker, text="服务时间能否调整？")
    for index, state in enumerate(STATES):
        if state in BID_STATES:
            submit_marked_bid(
                tenders[state], parties["bidder"], marked(state, index, "73164", "甲")
            )
            submit_marked_bid(
                tenders[state], parties["competitor"], marked(state, index, "68291", "乙")
            )
        elif state in OPENED_STATES:
            submit_marked_bid(tenders[state], parties["p1"], marked(state, index, "59317", "开"))
            submit_marked_bid(tenders[state], parties["p2"], marked(state, index, "58224", "二"))
            submit_marked_bid(tenders[state], parties["p3"], marked(state, index, "57135", "三"))
    services.tender_amend(
        tender=tenders["amended"],
        actor=official,
        summary="服务内容调整。",
        changes={"description": "调整后的服务内容：增加夜间探访。"},
        affects_preparation=True,
    )
    services.bid_confirm(
        bid=Bid.objects.get(
            tender=tenders["amended"], organization_id=parties["competitor"].organization_pk
        ),
        actor=User.objects.get(pk=parties["competitor"].admin_pk),
    )
    services.tender_cancel(tender=tenders["cancelled"], actor=official, reason="预算调整。")
    clock.set(BUILT_AT + SHORT + timedelta(hours=1))
    services.tenders_close_due()
    services.tender_open(tender=tenders["opening"], actor=official)
    for state in OPENED_STATES:
        services.tender_open(tender=tenders[state], actor=official)
        services.tender_open(tender=tenders[state], actor=second)
    for bid in Bid.objects.filter(tender=tenders["evaluating"]):
        services.bid_review(bid=bid, actor=official, qualified=True)
    panel = panel_form(tender=tenders["evaluating"], actor=official, members=experts[:5])
    seat = panel.members.get(user=experts[0])
    panel_declare(member=seat, actor=experts[0], conflict=False, statement="无利害关系。")

    int_ids: dict[str, list[int]] = {}
    uuid_ids: dict[str, list[str]] = {}
    shared = sorted(
        {p.organization_pk for p in parties.values()} | {p.person_pk for p in parties.values()}
    )
    for state, made in tenders.items():
        bids = Bid.objects.filter(tender=made).order_by("organization__name")
        int_ids[state] = [
            made.pk,
            *Question.objects.filter(tender=made).values_list("pk", flat=True),
            *TenderDocument.objects.filter(tender=made).values_list("pk", flat=True),
            *shared,
        ]
        uuid_ids[state] = [
            *(str(pk) for pk in bids.values_list("pk", flat=True)),
            *(
                str(pk)
                for pk in BidDocument.objects.filter(bid__in=bids).values_list("pk", flat=True)
            ),
            *(
                str(pk)
                for pk in BidReceipt.objects.filter(bid__in=bids).values_list("pk", flat=True)
            ),
        ]
    return World(
        tenders={state: made.pk for state, made in tenders.items()},
        parties=parties,
        users=users,
        int_ids=int_ids,
        uuid_ids=uuid_ids,
    )


@contextlib.contextmanager
def world_built(django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """The world, for a module-scoped fixture: built inside the module's transaction."""
    media = tmp_path_factory.mktemp("access-media")
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=BUILT_AT, media=media) as clock,
    ):
        world = build_world(clock)
        world.media = media
        yield world


def at_walk_time(world: World, settings: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    """The world for one test: its documents' folder, the clock at ``WALK_AT``, and no rate
    limits (a walk asks hundreds of pages a minute; who may see what is the question here,
    not how often)."""
    from rest_framework.throttling import SimpleRateThrottle

    settings.MEDIA_ROOT = world.media
    settings.RATELIMIT_ENABLE = False
    monkeypatch.setattr(SimpleRateThrottle, "allow_request", lambda self, request, view: True)
    patch_clock(monkeypatch, WALK_AT)
    return world


def client_as(world: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(User.objects.get(pk=world.users[role]))
    return client
