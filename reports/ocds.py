"""Open Contracting Data Standard (OCDS 1.1) publication of the published tenders.

Every published tender is one contracting process (``ocid`` = ``OCDS_OCID_PREFIX`` + "-" +
the tender's reference) with one release per public event, in time order:

==================  ===================  ==================================================
event               tags                 what the release adds
==================  ===================  ==================================================
publication         tender               the tender notice (its values at publication),
                                         the buyer
each amendment      tenderAmendment      the amended tender and ``tender.amendments``
opening             tenderUpdate         the bids (extension): statistics, details
review done         tenderUpdate         each bid valid or disqualified, valid-bid figures
failure (流标)       tenderUpdate         ``tender.status`` "unsuccessful" and the reason
award notice        award                the award and its supplier
award withdrawn     awardCancellation    the award "cancelled"
contract signed     contract             the contract and its payment milestones
milestone settled   implementation       the milestone met or not met
payment recorded    implementation       the transaction, payer and payee
contract ended      contractTermination  the contract "terminated"
cancellation        tenderCancellation   ``tender.status`` "cancelled" and the reason
==================  ===================  ==================================================

Releases are incremental, as OCDS intends: each carries what its event made public (a
party appears with every role it has at that moment) and a record of the process is the
releases merged in date order (OCDS merge rules: objects field by field, arrays of objects by
``id``). A release never shows what was learnt later, so it does not change once published,
and its id (``{ocid}-{event}``) is stable. Events in the same second (an opening and the
failure it causes; a termination and the milestones it withholds) are one release with
several tags.

Sealed bids (DESIGN.md 6): nothing about bids, not even their number, appears before the
opening; afterwards the opened bids (the opening record is public) are published through
the bids extension. No personal data: organizations only, never people, users or ID numbers.

Reading is batched: ``releases_for`` and ``package_chunks`` walk the tenders by primary key,
``BATCH_SIZE`` at a time, with a fixed number of queries per batch that read plain rows
(``values()``: no model instances to build), and the package is written tender by tender,
so memory stays flat however many tenders there are.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.models import AuditAction, AuditEvent
from orgs_registry.models import ServiceCategory
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    PUBLIC_TENDER_STATES,
    Amendment,
    Award,
    Bid,
    BidStatus,
    Community,
    Contract,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    ProcurementMethod,
    Tender,
    TenderDocument,
)

OCDS_VERSION = "1.1"
# The bids extension (bid statistics and details) at the release that matches OCDS 1.1.5.
BIDS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_bid_extension/v1.1.5/extension.json"
)
# org-id.guide's list code for the Unified Social Credit Code (统一社会信用代码): "CN-USCI".
USCI_SCHEME = "CN-USCI"
CURRENCY = "CNY"
# The data is in the language of record (settings.LANGUAGE_CODE, zh-hans: the texts the
# office writes are Chinese); English goes in the *_en keys OCDS allows.
RECORD_LANGUAGE = settings.LANGUAGE_CODE
LANGUAGE = RECORD_LANGUAGE.split("-")[0]
BATCH_SIZE = 500

# Both methods are announced publicly and open to every eligible organization on this
# portal (a consultation may be announced, 财库〔2014〕214号 Art. 6), so both are OCDS "open";
# which of the two it is goes in procurementMethodDetails.
METHODS: dict[str, str] = {
    ProcurementMethod.PUBLIC_TENDER.value: "open",
    ProcurementMethod.COMPETITIVE_CONSULTATION.value: "open",
}

# Event kinds: their order when two happen in the same second, and their release tag.
_KINDS = {
    "tender": "tender",
    "amendment": "tenderAmendment",
    "opening": "tenderUpdate",
    "review": "tenderUpdate",
    "failure": "tenderUpdate",
    "award": "award",
    "award-withdrawn": "awardCancellation",
    "contract": "contract",
    "milestone": "implementation",
    "payment": "implementation",
    "contract-end": "contractTermination",
    "cancellation": "tenderCancellation",
}
_RANK = {kind: rank for rank, kind in enumerate(_KINDS)}
_VALID_BIDS = frozenset({BidStatus.QUALIFIED, BidStatus.RANKED, BidStatus.WON, BidStatus.LOST})

_TENDER_FIELDS = (
    "id",
    "reference",
    "title",
    "description",
    "category_id",
    "method",
    "budget",
    "service_start",
    "service_end",
    "eligibility_notes",
    "question_deadline",
    "bid_deadline",
    "published_at",
    "opened_at",
    "failed_at",
    "failed_reason",
    "cancelled_at",
    "cancel_reason",
)
# The amendable fields whose earlier values an amendment keeps (tenders.services).
_AMENDED = (
    "description",
    "eligibility_notes",
    "budget",
    "bid_deadline",
    "question_deadline",
    "service_start",
    "service_end",
)


# --- Which tenders -------------------------------------------------------------------------------


def published_tenders(queryset: QuerySet[Tender] | None = None) -> QuerySet[Tender]:
    """The tenders of ``queryset`` (all by default) the public has seen: published or later.
    Drafts, tenders waiting for approval or returned to their drafter, and drafts cancelled
    before publication are not."""
    base = Tender.objects.all() if queryset is None else queryset
    return base.filter(status__in=sorted(PUBLIC_TENDER_STATES), published_at__isnull=False).exclude(
        reference=""
    )


def ocid(tender: Tender | Mapping[str, Any]) -> str:
    reference = tender["reference"] if isinstance(tender, Mapping) else tender.reference
    return f"{settings.OCDS_OCID_PREFIX}-{reference}"


# --- Reading, one batch at a time ----------------------------------------------------------------


def _grouped(rows: Iterable[Any], key: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


@dataclass
class Batch:
    """Up to ``BATCH_SIZE`` tenders and every row their releases read, as plain dicts.

    Bids are read without their sealed content and only once opened: the unopened ones are
    not even loaded.
    """

    tenders: list[dict[str, Any]]
    communities: dict[int, list[int]] = field(default_factory=dict)
    amendments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    documents: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    bids: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    awards: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    contracts: dict[int, dict[str, Any]] = field(default_factory=dict)
    milestones: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    payments: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def read(cls, tenders: list[dict[str, Any]]) -> Batch:
        # The batch's primary-key range: one cheap condition instead of a list of 500 ids.
        # Rows of tenders in the range that are not in the batch (unpublished ones have
        # no opened bids, awards or contracts anyway) are read and never looked at.
        first, last = tenders[0]["id"], tenders[-1]["id"]
        ids = {"tender_id__gte": first, "tender_id__lte": last}
        batch = cls(tenders=tenders)
        communities: dict[int, list[int]] = defaultdict(list)
        for tender_id, community_id in (
            Tender.communities.through.objects.filter(**ids)
            .order_by("community__sort_order", "community__code")
            .values_list("tender_id", "community_id")
        ):
            communities[tender_id].append(community_id)
        batch.communities = communities
        batch.amendments = _grouped(
            Amendment.objects.filter(**ids)
            .order_by("tender_id", "number")
            .values(
                "id",
                "tender_id",
                "number",
                "summary",
                "changes",
                "bid_deadline_before",
                "bid_deadline_after",
                "published_at",
            ),
            "tender_id",
        )
        batch.documents = _grouped(
            TenderDocument.objects.filter(**ids)
            .order_by("tender_id", "uploaded_at", "pk")
            .values("id", "tender_id", "title", "content_type", "uploaded_at", "amendment_id"),
            "tender_id",
        )
        batch.bids = _grouped(
            Bid.objects.filter(**ids, opened_at__isnull=False)
            .order_by("tender_id", "submitted_at", "pk")
            .values(
                "id",
                "tender_id",
                "organization__name",
                "organization__uscc",
                "price",
                "status",
                "submitted_at",
                "reviewed_at",
            ),
            "tender_id",
        )
        batch.awards = _grouped(
            Award.objects.filter(**ids)
            .order_by("tender_id", "notice_published_at", "pk")
            .values(
                "id",
                "tender_id",
                "notice_published_at",
                "withdrawn_at",
                "bid__price",
                "bid__organization__name",
                "bid__organization__uscc",
            ),
            "tender_id",
        )
        contracts = Contract.objects.filter(
            **ids,
            status__in=sorted(PUBLIC_CONTRACT_STATES),
            published_at__isnull=False,
        ).values(
            "id",
            "tender_id",
            "award_id",
            "reference",
            "title",
            "deliverables",
            "price",
            "service_start",
            "service_end",
            "published_at",
            "purchaser_signed_at",
            "supplier_signed_at",
            "completed_at",
            "terminated_at",
            "termination_reason",
            "organization__name",
            "organization__uscc",
        )
        batch.contracts = {row["tender_id"]: row for row in contracts}
        if batch.contracts:
            batch.milestones = _grouped(
                Milestone.objects.filter(
                    contract__tender_id__gte=first, contract__tender_id__lte=last
                )
                .order_by("contract_id", "sequence")
                .values(
                    "id",
                    "contract_id",
                    "sequence",
                    "title",
                    "title_en",
                    "kind",
                    "evaluation_kind",
                    "share",
                    "amount",
                    "due_date",
                    "status",
                    "released_amount",
                    "settled_at",
                    "paid_on",
                    "payment_reference",
                ),
                "contract_id",
            )
            paid = [
                str(row["id"])
                for rows in batch.milestones.values()
                for row in rows
                if row["paid_on"] is not None
            ]
            if paid:
                # When each payment was recorded (and so became public): the audit log.
                batch.payments = {
                    int(object_id): created_at
                    for object_id, created_at in AuditEvent.objects.filter(
                        action=AuditAction.MILESTONE_PAYMENT_RECORDED,
                        object_type=Milestone._meta.label_lower,
                        object_id__in=paid,
                    ).values_list("object_id", "created_at")
                }
        return batch


def batches(queryset: QuerySet[Tender], size: int | None = None) -> Iterator[Batch]:
    """The published tenders of ``queryset`` in primary-key order, ``size`` at a time, each
    batch read with its related rows (keyset pagination: every batch costs the same, however
    far in)."""
    size = size or BATCH_SIZE
    rows = published_tenders(queryset).order_by("pk").values(*_TENDER_FIELDS)
    last = 0
    while True:
        tenders = list(rows.filter(pk__gt=last)[:size])
        if not tenders:
            return
        yield Batch.read(tenders)
        last = tenders[-1]["id"]
        if len(tenders) < size:
            return


# --- Formatting ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _when(moment: datetime) -> str:
    """ISO 8601 with the office's offset (+08:00), to the second. Cached: a process repeats
    its dates (a small cache, so memory stays flat)."""
    return moment.astimezone(timezone.get_default_timezone()).isoformat(timespec="seconds")


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@functools.lru_cache(maxsize=4096)
def _day_start_text(day: date) -> str:
    return _when(_day_start(day))


@functools.lru_cache(maxsize=4096)
def _day_end_text(day: date) -> str:
    end = datetime.combine(day, time(23, 59, 59))
    return _when(timezone.make_aware(end, timezone.get_default_timezone()))


def _number(amount: Decimal) -> int | float:
    """A JSON number for a money amount. Amounts have at most 14 digits and 2 decimals,
    so the float's shortest representation is the exact decimal."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _value(amount: Decimal) -> dict[str, Any]:
    return {"amount": _number(amount), "currency": CURRENCY}


def _in(language: str, text: Any) -> str:
    with translation.override(language):
        return str(text)


def _bilingual(key: str, zh: str, en: str) -> dict[str, str]:
    """``{key: zh, key_en: en}``; the English variant only when there is one."""
    return {key: zh, f"{key}_en": en} if en and en != zh else {key: zh}


def _period(start: date | None, end: date | None) -> dict[str, str]:
    period = {}
    if start is not None:
        period["startDate"] = _day_start_text(start)
    if end is not None:
        period["endDate"] = _day_end_text(end)
    return period


def _identified(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and "id" in item for item in items)


def merged(earlier: Any, later: Any) -> Any:
    """``later`` merged onto ``earlier`` by the OCDS rules: objects field by field, arrays
    of objects by ``id``, anything else replaced. Neither argument is changed."""
    if isinstance(earlier, dict) and isinstance(later, dict):
        out = dict(earlier)
        for key, value in later.items():
            out[key] = merged(earlier[key], value) if key in earlier else value
        return out
    if (
        isinstance(earlier, list)
        and isinstance(later, list)
        and _identified(earlier)
        and _identified(later)
    ):
        items = list(earlier)
        positions = {item["id"]: index for index, item in enumerate(items)}
        for item in later:
            if item["id"] in positions:
                index = positions[item["id"]]
                items[index] = merged(items[index], item)
            else:
                positions[item["id"]] = len(items)
                items.append(item)
        return items
    return later


# --- Constants of one export ---------------------------------------------------------------------


@dataclass
class Publication:
    """What every release of one export shares: the buyer, the catalogue, labels in both
    languages, the base of absolute links. Built once per export."""

    base_url: str = ""

    def __post_init__(self) -> None:
        self.base_url = (self.base_url or settings.OCDS_SITE_URL).rstrip("/")

    @cached_property
    def buyer_uscc(self) -> str:
        return str(settings.STREET_OFFICE.get("uscc", "") or "")

    @cached_property
    def buyer_id(self) -> str:
        if self.buyer_uscc:
            return f"{USCI_SCHEME}-{self.buyer_uscc}"
        # No registered code configured: a stable identifier of this publisher's own.
        return f"{settings.OCDS_OCID_PREFIX}-street-office-{settings.STREET_OFFICE['region_code']}"

    @cached_property
    def buyer_name(self) -> str:
        return _in(RECORD_LANGUAGE, settings.STREET_OFFICE["name"])

    @cached_property
    def buyer_name_en(self) -> str:
        return _in("en", settings.STREET_OFFICE["name"])

    @cached_property
    def buyer_ref(self) -> dict[str, Any]:
        return {"id": self.buyer_id, "name": self.buyer_name}

    def buyer_party(self, roles: list[str]) -> dict[str, Any]:
        party: dict[str, Any] = {
            "id": self.buyer_id,
            **_bilingual("name", self.buyer_name, self.buyer_name_en),
        }
        if self.buyer_uscc:
            party["identifier"] = {
                "scheme": USCI_SCHEME,
                "id": self.buyer_uscc,
                **_bilingual("legalName", self.buyer_name, self.buyer_name_en),
            }
        party["address"] = {"countryName": "中国", "countryName_en": "China"}
        party["roles"] = roles
        return party

    @cached_property
    def categories(self) -> dict[int, dict[str, Any]]:
        prefix = settings.TENDER_REFERENCE_PREFIX
        return {
            category.pk: {
                "scheme": f"X-{prefix}-SERVICE-CATEGORY",
                "id": category.code,
                **_bilingual("description", category.name_zh, category.name_en),
            }
            for category in ServiceCategory.objects.all()
        }

    @cached_property
    def communities(self) -> dict[int, dict[str, Any]]:
        prefix = settings.TENDER_REFERENCE_PREFIX
        return {
            community.pk: {
                "scheme": f"X-{prefix}-COMMUNITY",
                "id": community.code,
                **_bilingual("description", community.name_zh, community.name_en),
            }
            for community in Community.objects.all()
        }

    @cached_property
    def methods(self) -> dict[str, dict[str, str]]:
        return {
            method.value: _bilingual(
                "procurementMethodDetails",
                _in(RECORD_LANGUAGE, method.label),
                _in("en", method.label),
            )
            for method in ProcurementMethod
        }

    @cached_property
    def award_criteria(self) -> dict[str, str]:
        label = _("Weighted scoring")
        return _bilingual("awardCriteriaDetails", _in(RECORD_LANGUAGE, label), _in("en", label))

    @cached_property
    def field_labels(self) -> dict[str, str]:
        """Labels of the amendable tender fields in the language of record."""
        with translation.override(RECORD_LANGUAGE):
            labels = {f.name: str(f.verbose_name) for f in Tender._meta.get_fields() if f.concrete}
            labels["criteria"] = gettext("scoring criteria")
        return labels

    @cached_property
    def texts(self) -> dict[str, tuple[str, str]]:
        """Fixed titles, in the language of record and in English."""
        messages = {
            "cancellation": _("Cancellation notice"),
            "failure": _("Failed tender notice"),
            "termination": _("Contract termination"),
            "changed": _("changed"),
            "report": _("Paid on an accepted delivery report"),
            "mid_term": _("Paid on the mid-term performance evaluation"),
            "final": _("Paid on the final performance evaluation"),
            "share": _("%(share)s%% of the contract price"),
        }
        return {
            key: (_in(RECORD_LANGUAGE, text), _in("en", text)) for key, text in messages.items()
        }

    @cached_property
    def document_url(self) -> str:
        """The download address of tender document 0, to be completed with a document id."""
        return self.base_url + reverse("tenders:document", args=[0]).replace("/0/", "/{}/")

    def url(self, name: str, *args: Any) -> str:
        return self.base_url + reverse(name, args=args)


# --- Amendments ----------------------------------------------------------------------------------

_DATETIME_FIELDS = frozenset({"bid_deadline", "question_deadline"})
_DATE_FIELDS = frozenset({"service_start", "service_end"})


def _parse_change(name: str, value: Any) -> Any:
    """A value as ``Amendment.changes`` stored it (DjangoJSONEncoder) back to its type."""
    if value is None or value == "":
        return None if name in _DATETIME_FIELDS | _DATE_FIELDS | {"budget"} else ""
    if name == "budget":
        return Decimal(str(value))
    if name in _DATETIME_FIELDS:
        return datetime.fromisoformat(str(value))
    if name in _DATE_FIELDS:
        return date.fromisoformat(str(value))
    return str(value)


def _values_at(
    tender: dict[str, Any], amendments: list[dict[str, Any]], moment: datetime
) -> dict[str, Any]:
    """The amendable fields as they were at ``moment``: today's values with every later
    amendment undone, newest first."""
    values = {name: tender[name] for name in _AMENDED}
    for amendment in reversed(amendments):
        if amendment["published_at"] <= moment:
            break
        for name, change in (amendment["changes"] or {}).items():
            if name in values and isinstance(change, Mapping) and "before" in change:
                values[name] = _parse_change(name, change["before"])
        # The deadline may move without being asked for (87号令 Art. 27: 15 days must remain).
        values["bid_deadline"] = amendment["bid_deadline_before"]
    return values


def _display(name: str, value: Any) -> str:
    parsed = value if isinstance(value, datetime) else _parse_change(name, value)
    if isinstance(parsed, datetime):
        return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    if parsed is None:
        return "—"
    return str(parsed)


def _change_text(publication: Publication, amendment: dict[str, Any]) -> str:
    labels = publication.field_labels
    changes = amendment["changes"] or {}
    parts = []
    for name, change in changes.items():
        label = labels.get(name, name)
        if isinstance(change, Mapping) and "before" in change:
            before = _display(name, change.get("before"))
            after = _display(name, change.get("after"))
            parts.append(f"{label}：{before} → {after}")
        else:
            parts.append(f"{label}：{publication.texts['changed'][0]}")
    before, after = amendment["bid_deadline_before"], amendment["bid_deadline_after"]
    if before != after and "bid_deadline" not in changes:
        moved = f"{_display('bid_deadline', before)} → {_display('bid_deadline', after)}"
        parts.append(f"{labels['bid_deadline']}：{moved}")
    return "；".join(parts)


# --- One contracting process ---------------------------------------------------------------------


@dataclass(order=True)
class _Event:
    at: datetime
    rank: int
    key: str = field(compare=False)
    kind: str = field(compare=False)
    row: dict[str, Any] = field(compare=False, default_factory=dict)


def _org_id(uscc: str) -> str:
    return f"{USCI_SCHEME}-{uscc}"


def _org_ref(name: str, uscc: str) -> dict[str, str]:
    return {"id": _org_id(uscc), "name": name}


def _org_party(name: str, uscc: str, roles: list[str]) -> dict[str, Any]:
    return {
        "id": _org_id(uscc),
        "name": name,
        "identifier": {"scheme": USCI_SCHEME, "id": uscc, "legalName": name},
        "roles": roles,
    }


class _Process:
    """The releases of one tender."""

    def __init__(self, tender: dict[str, Any], batch: Batch, publication: Publication) -> None:
        self.tender = tender
        self.publication = publication
        self.ocid = ocid(tender)
        pk = tender["id"]
        self.community_ids = batch.communities.get(pk, [])
        self.amendments = batch.amendments.get(pk, [])
        self.documents = batch.documents.get(pk, [])
        self.bids = batch.bids.get(pk, [])
        self.awards = batch.awards.get(pk, [])
        self.contract = batch.contracts.get(pk)
        self.milestones = (
            batch.milestones.get(self.contract["id"], []) if self.contract is not None else []
        )
        # When each paid milestone's payment became public: the audit log's record of it,
        # or, for rows written outside the services, the day paid (not before the release).
        self.paid: list[tuple[datetime, dict[str, Any]]] = []
        for milestone in self.milestones:
            if milestone["paid_on"] is None or milestone["status"] != MilestoneStatus.PAID:
                continue
            moment = batch.payments.get(milestone["id"])
            if moment is None:
                moment = _day_start(milestone["paid_on"])
                settled = milestone["settled_at"]
                if settled is not None and moment < settled:
                    moment = settled
            self.paid.append((moment, milestone))
        self.release_ids: dict[str, str] = {}

    # Events ------------------------------------------------------------------------------------

    def events(self) -> list[_Event]:
        tender = self.tender
        events = [_Event(tender["published_at"], _RANK["tender"], "tender", "tender")]
        for amendment in self.amendments:
            key = f"amendment-{amendment['number']}"
            events.append(
                _Event(amendment["published_at"], _RANK["amendment"], key, "amendment", amendment)
            )
        if tender["opened_at"] is not None:
            events.append(_Event(tender["opened_at"], _RANK["opening"], "opening", "opening"))
            reviewed = [bid["reviewed_at"] for bid in self.bids]
            if reviewed and None not in reviewed:
                events.append(_Event(max(reviewed), _RANK["review"], "review", "review"))
        if tender["failed_at"] is not None:
            events.append(_Event(tender["failed_at"], _RANK["failure"], "failure", "failure"))
        for award in self.awards:
            key = f"award-{award['id']}"
            events.append(_Event(award["notice_published_at"], _RANK["award"], key, "award", award))
            if award["withdrawn_at"] is not None:
                events.append(
                    _Event(
                        award["withdrawn_at"],
                        _RANK["award-withdrawn"],
                        f"{key}-withdrawn",
                        "award-withdrawn",
                        award,
                    )
                )
        contract = self.contract
        if contract is not None:
            events.append(
                _Event(contract["published_at"], _RANK["contract"], "contract", "contract")
            )
            for milestone in self.milestones:
                if milestone["settled_at"] is not None:
                    events.append(
                        _Event(
                            milestone["settled_at"],
                            _RANK["milestone"],
                            f"milestone-{milestone['sequence']}",
                            "milestone",
                            milestone,
                        )
                    )
            for moment, milestone in self.paid:
                events.append(
                    _Event(
                        moment,
                        _RANK["payment"],
                        f"payment-{milestone['sequence']}",
                        "payment",
                        milestone,
                    )
                )
            ended = contract["completed_at"] or contract["terminated_at"]
            if ended is not None:
                events.append(_Event(ended, _RANK["contract-end"], "contract-end", "contract-end"))
        if tender["cancelled_at"] is not None:
            events.append(
                _Event(
                    tender["cancelled_at"], _RANK["cancellation"], "cancellation", "cancellation"
                )
            )
        events.sort()
        return events

    def releases(self) -> Iterator[dict[str, Any]]:
        # Events in the same second are one release, named after its first event.
        groups: list[list[_Event]] = []
        second = None
        for event in self.events():
            at = _second(event.at)
            if groups and at == second:
                groups[-1].append(event)
            else:
                groups.append([event])
                second = at
        previous = ""
        for group in groups:
            release_id = f"{self.ocid}-{group[0].key}"
            for event in group:
                self.release_ids[event.key] = release_id
                if previous:
                    self.release_ids[f"before:{event.key}"] = previous
            moment = group[-1].at
            content: dict[str, Any] = {}
            for event in group:
                delta = getattr(self, "_" + event.kind.replace("-", "_"))(event, moment)
                content = merged(content, delta) if content else delta
            tags = list(dict.fromkeys(_KINDS[event.kind] for event in group))
            yield {
                "ocid": self.ocid,
                "id": release_id,
                "date": _when(moment),
                "tag": tags,
                "initiationType": "tender",
                "language": LANGUAGE,
                **content,
            }
            previous = release_id

    # Parties -------------------------------------------------------------------------------------

    def _roles(self, uscc: str, moment: datetime) -> list[str]:
        """Every role the organization ``uscc`` has in the process at ``moment``."""
        roles = []
        # Every bid is opened with its tender (tenders.services._open_bids).
        opened = self.tender["opened_at"]
        if (
            opened is not None
            and opened <= moment
            and any(bid["organization__uscc"] == uscc for bid in self.bids)
        ):
            roles.append("tenderer")
        if any(
            award["bid__organization__uscc"] == uscc and award["notice_published_at"] <= moment
            for award in self.awards
        ):
            roles.append("supplier")
        contract = self.contract
        if (
            contract is not None
            and contract["organization__uscc"] == uscc
            and any(paid <= moment for paid, _milestone in self.paid)
        ):
            roles.append("payee")
        return roles

    def _party(self, name: str, uscc: str, moment: datetime) -> dict[str, Any]:
        return _org_party(name, uscc, self._roles(uscc, moment))

    def _buyer_roles(self, moment: datetime) -> list[str]:
        paid = any(when <= moment for when, _milestone in self.paid)
        return ["buyer", "procuringEntity"] + (["payer"] if paid else [])

    # The tender --------------------------------------------------------------------------------

    @cached_property
    def _items(self) -> list[dict[str, Any]]:
        tender = self.tender
        item: dict[str, Any] = {
            "id": "1",
            "description": tender["title"],
            "classification": self.publication.categories[tender["category_id"]],
        }
        if self.community_ids:
            # The service area (社区) as further classifications: core OCDS 1.1 has no
            # delivery place for an item, and this keeps both names.
            communities = self.publication.communities
            item["additionalClassifications"] = [communities[pk] for pk in self.community_ids]
        return [item]

    def _documents(self, moment: datetime) -> list[dict[str, Any]]:
        published_at = self.tender["published_at"]
        url = self.publication.document_url
        # A document added by an amendment is published with it (it is stored a moment
        # after the amendment's row); the others with the tender.
        amended = {row["id"]: row["published_at"] for row in self.amendments}
        documents = []
        for document in self.documents:
            published = amended.get(document["amendment_id"]) or max(
                document["uploaded_at"], published_at
            )
            if published > moment:
                continue
            documents.append(
                {
                    "id": str(document["id"]),
                    "documentType": "biddingDocuments",
                    "title": document["title"],
                    "url": url.format(document["id"]),
                    "datePublished": _when(published),
                    "format": document["content_type"],
                    "language": LANGUAGE,
                }
            )
        return documents

    def _amendments(self, moment: datetime) -> list[dict[str, Any]]:
        listed = []
        for amendment in self.amendments:
            if amendment["published_at"] > moment:
                break
            key = f"amendment-{amendment['number']}"
            entry: dict[str, Any] = {
                "id": str(amendment["number"]),
                "date": _when(amendment["published_at"]),
                "rationale": amendment["summary"],
                "description": _change_text(self.publication, amendment),
            }
            before = self.release_ids.get(f"before:{key}")
            if before:
                entry["amendsReleaseID"] = before
            entry["releaseID"] = self.release_ids.get(key, f"{self.ocid}-{key}")
            listed.append(entry)
        return listed

    def _tender_section(self, moment: datetime) -> dict[str, Any]:
        tender = self.tender
        values = _values_at(tender, self.amendments, moment)
        published = _when(tender["published_at"])
        section: dict[str, Any] = {
            "id": tender["reference"],
            "title": tender["title"],
            "description": values["description"],
            "status": "active",
            "procuringEntity": self.publication.buyer_ref,
            "items": self._items,
            "value": _value(values["budget"]),
            "procurementMethod": METHODS.get(tender["method"], "open"),
            **self.publication.methods.get(tender["method"], {}),
            "mainProcurementCategory": "services",
            "awardCriteria": "ratedCriteria",
            **self.publication.award_criteria,
            "submissionMethod": ["electronicSubmission"],
            "tenderPeriod": {"startDate": published, "endDate": _when(values["bid_deadline"])},
            "enquiryPeriod": {
                "startDate": published,
                "endDate": _when(values["question_deadline"]),
            },
        }
        if values["eligibility_notes"]:
            section["eligibilityCriteria"] = values["eligibility_notes"]
        contract_period = _period(values["service_start"], values["service_end"])
        if contract_period:
            section["contractPeriod"] = contract_period
        documents = self._documents(moment)
        if documents:
            section["documents"] = documents
        amendments = self._amendments(moment)
        if amendments:
            section["amendments"] = amendments
        return section

    def _tender(self, event: _Event, moment: datetime) -> dict[str, Any]:
        return {
            "parties": [self.publication.buyer_party(self._buyer_roles(moment))],
            "buyer": self.publication.buyer_ref,
            "tender": self._tender_section(moment),
        }

    def _amendment(self, event: _Event, moment: datetime) -> dict[str, Any]:
        return {"tender": self._tender_section(moment)}

    def _cancellation(self, event: _Event, moment: datetime) -> dict[str, Any]:
        tender = self.tender
        title = _bilingual("title", *self.publication.texts["cancellation"])
        document = {
            "id": "cancellation",
            "documentType": "cancellationDetails",
            **title,
            "description": tender["cancel_reason"],
            "datePublished": _when(tender["cancelled_at"]),
            "language": LANGUAGE,
        }
        return {
            "tender": {"id": tender["reference"], "status": "cancelled", "documents": [document]}
        }

    def _failure(self, event: _Event, moment: datetime) -> dict[str, Any]:
        tender = self.tender
        section: dict[str, Any] = {"id": tender["reference"], "status": "unsuccessful"}
        if tender["failed_reason"]:
            section["documents"] = [
                {
                    "id": "failure",
                    # The closest code: the reasons a process ended without a contract.
                    "documentType": "cancellationDetails",
                    **_bilingual("title", *self.publication.texts["failure"]),
                    "description": tender["failed_reason"],
                    "datePublished": _when(tender["failed_at"]),
                    "language": LANGUAGE,
                }
            ]
        return {"tender": section}

    # Bids ----------------------------------------------------------------------------------------

    def _opening(self, event: _Event, moment: datetime) -> dict[str, Any]:
        tender = self.tender
        opened_on = _when(tender["opened_at"])
        bidders: dict[str, str] = {}
        details = []
        for bid in self.bids:
            name, uscc = bid["organization__name"], bid["organization__uscc"]
            bidders.setdefault(uscc, name)
            detail: dict[str, Any] = {"id": str(bid["id"])}
            if bid["submitted_at"] is not None:
                detail["date"] = _when(bid["submitted_at"])
            detail["status"] = "pending"
            detail["tenderers"] = [_org_ref(name, uscc)]
            if bid["price"] is not None:
                detail["value"] = _value(bid["price"])
            details.append(detail)
        return {
            "parties": [self._party(name, uscc, moment) for uscc, name in bidders.items()],
            "tender": {
                "id": tender["reference"],
                "numberOfTenderers": len(bidders),
                "tenderers": [_org_ref(name, uscc) for uscc, name in bidders.items()],
            },
            "bids": {
                "statistics": [
                    {"id": "bids", "measure": "bids", "value": len(self.bids), "date": opened_on},
                    {
                        "id": "bidders",
                        "measure": "bidders",
                        "value": len(bidders),
                        "date": opened_on,
                    },
                ],
                "details": details,
            },
        }

    def _review(self, event: _Event, moment: datetime) -> dict[str, Any]:
        reviewed_on = _when(event.at)
        valid = [bid for bid in self.bids if bid["status"] in _VALID_BIDS]
        statistics: list[dict[str, Any]] = [
            {"id": "validBids", "measure": "validBids", "value": len(valid), "date": reviewed_on},
            {
                "id": "qualifiedBidders",
                "measure": "qualifiedBidders",
                "value": len({bid["organization__uscc"] for bid in valid}),
                "date": reviewed_on,
            },
            {
                "id": "disqualifiedBidders",
                "measure": "disqualifiedBidders",
                "value": len(self.bids) - len(valid),
                "date": reviewed_on,
            },
        ]
        prices = [bid["price"] for bid in valid if bid["price"] is not None]
        if prices:
            for code, price in (
                ("lowestValidBidValue", min(prices)),
                ("highestValidBidValue", max(prices)),
            ):
                statistics.append(
                    {
                        "id": code,
                        "measure": code,
                        "value": _number(price),
                        "currency": CURRENCY,
                        "date": reviewed_on,
                    }
                )
        details = [
            {
                "id": str(bid["id"]),
                "status": "valid" if bid["status"] in _VALID_BIDS else "disqualified",
            }
            for bid in self.bids
        ]
        return {"bids": {"statistics": statistics, "details": details}}

    # Award ---------------------------------------------------------------------------------------

    def _award(self, event: _Event, moment: datetime) -> dict[str, Any]:
        award = event.row
        tender = self.tender
        name, uscc = award["bid__organization__name"], award["bid__organization__uscc"]
        entry: dict[str, Any] = {
            "id": str(award["id"]),
            "title": tender["title"],
            "status": "active",
            "date": _when(award["notice_published_at"]),
        }
        if award["bid__price"] is not None:
            entry["value"] = _value(award["bid__price"])
        entry["suppliers"] = [_org_ref(name, uscc)]
        contract_period = _period(tender["service_start"], tender["service_end"])
        if contract_period:
            entry["contractPeriod"] = contract_period
        return {
            "parties": [self._party(name, uscc, moment)],
            "tender": {"id": tender["reference"], "status": "complete"},
            "awards": [entry],
        }

    def _award_withdrawn(self, event: _Event, moment: datetime) -> dict[str, Any]:
        return {
            "tender": {"id": self.tender["reference"], "status": "active"},
            "awards": [{"id": str(event.row["id"]), "status": "cancelled"}],
        }

    # Contract ------------------------------------------------------------------------------------

    def _contract_ref(self) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101 (contract events exist only with a contract)
        return {"id": contract["reference"], "awardID": str(contract["award_id"])}

    def _milestone_entry(self, milestone: dict[str, Any]) -> dict[str, Any]:
        texts = self.publication.texts
        condition = milestone["evaluation_kind"] or "report"
        share = {"share": f"{milestone['share'].normalize():f}"}
        zh = f"{texts['share'][0] % share}，{texts[condition][0]}"
        en = f"{texts['share'][1] % share}; {texts[condition][1].lower()}"
        kind = milestone["kind"]
        return {
            "id": str(milestone["sequence"]),
            **_bilingual("title", milestone["title"], milestone["title_en"]),
            "type": "payment",
            **_bilingual("description", zh, en),
            "code": kind
            if kind == MilestoneKind.REPORT
            else f"{kind}-{milestone['evaluation_kind']}",
            "dueDate": _day_end_text(milestone["due_date"]),
        }

    def _contract(self, event: _Event, moment: datetime) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101
        signatures = [
            signed
            for signed in (contract["purchaser_signed_at"], contract["supplier_signed_at"])
            if signed is not None
        ]
        entry: dict[str, Any] = {
            **self._contract_ref(),
            "title": contract["title"],
            "description": contract["deliverables"],
            "status": "active",
            "period": _period(contract["service_start"], contract["service_end"]),
            "value": _value(contract["price"]),
            "dateSigned": _when(max(signatures) if signatures else contract["published_at"]),
            "milestones": [
                {**self._milestone_entry(milestone), "status": "scheduled"}
                for milestone in self.milestones
            ],
        }
        return {"contracts": [entry]}

    def _milestone(self, event: _Event, moment: datetime) -> dict[str, Any]:
        milestone = event.row
        settled = _when(milestone["settled_at"])
        # What it is and when it was due are in contract.milestones already.
        entry: dict[str, Any] = {
            "id": str(milestone["sequence"]),
            **_bilingual("title", milestone["title"], milestone["title_en"]),
            "type": "payment",
        }
        if milestone["status"] == MilestoneStatus.PAID:
            entry.update(status="met", dateMet=settled, dateModified=settled)
        else:
            entry.update(status="notMet", dateModified=settled)
        return {"contracts": [{**self._contract_ref(), "implementation": {"milestones": [entry]}}]}

    def _payment(self, event: _Event, moment: datetime) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101
        milestone = event.row
        name, uscc = contract["organization__name"], contract["organization__uscc"]
        transaction = {
            # The bank or treasury reference, unique with the milestone's number.
            "id": f"{milestone['sequence']}-{milestone['payment_reference']}",
            "date": _day_start_text(milestone["paid_on"]),
            "value": _value(milestone["released_amount"] or milestone["amount"]),
            "payer": self.publication.buyer_ref,
            "payee": _org_ref(name, uscc),
        }
        return {
            "parties": [
                self.publication.buyer_party(self._buyer_roles(moment)),
                self._party(name, uscc, moment),
            ],
            "contracts": [
                {**self._contract_ref(), "implementation": {"transactions": [transaction]}}
            ],
        }

    def _contract_end(self, event: _Event, moment: datetime) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101
        entry: dict[str, Any] = {**self._contract_ref(), "status": "terminated"}
        if contract["termination_reason"]:
            entry["documents"] = [
                {
                    "id": "termination",
                    "documentType": "contractArrangements",
                    **_bilingual("title", *self.publication.texts["termination"]),
                    "description": contract["termination_reason"],
                    "datePublished": _when(event.at),
                    "language": LANGUAGE,
                }
            ]
        return {"contracts": [entry]}


def _tender_releases(batch: Batch, publication: Publication) -> Iterator[list[dict[str, Any]]]:
    for tender in batch.tenders:
        yield list(_Process(tender, batch, publication).releases())


def releases_for(
    tenders: QuerySet[Tender] | Iterable[Tender], *, base_url: str = ""
) -> Iterator[dict[str, Any]]:
    """The releases of the published ``tenders`` (a queryset or tender objects), tender by
    tender in primary-key order, each tender's in date order."""
    queryset = (
        tenders
        if isinstance(tenders, QuerySet)
        else Tender.objects.filter(pk__in=[tender.pk for tender in tenders])
    )
    publication = Publication(base_url)
    for batch in batches(queryset):
        for releases in _tender_releases(batch, publication):
            yield from releases


def record(releases: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The compiled release of one process: its releases merged in date order."""
    compiled: dict[str, Any] = {}
    for release in sorted(releases, key=lambda release: release["date"]):
        compiled = merged(compiled, dict(release))
    return compiled


# --- The release package -------------------------------------------------------------------------


@dataclass
class ExportStats:
    tenders: int = 0
    releases: int = 0


def package_metadata(*, base_url: str = "", uri: str = "") -> dict[str, Any]:
    """Everything of the release package but its releases."""
    publication = Publication(base_url)
    policy = settings.OCDS_PUBLICATION_POLICY_URL or publication.url("reports:data")
    publisher: dict[str, Any] = {"name": publication.buyer_name}
    if publication.buyer_uscc:
        publisher["scheme"] = USCI_SCHEME
        publisher["uid"] = publication.buyer_uscc
    publisher["uri"] = publication.base_url + "/"
    return {
        "uri": uri or publication.url("reports:ocds_bulk"),
        "version": OCDS_VERSION,
        "extensions": [BIDS_EXTENSION],
        "publishedDate": _when(timezone.now()),
        "publisher": publisher,
        "license": settings.OCDS_LICENSE_URL,
        "publicationPolicy": policy,
    }


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def package_chunks(
    queryset: QuerySet[Tender],
    *,
    base_url: str = "",
    uri: str = "",
    stats: ExportStats | None = None,
) -> Iterator[str]:
    """A release package of the published tenders of ``queryset`` as JSON text, in pieces
    (one per tender), so that it can be written to a file or a response as it is made."""
    head = _encode(package_metadata(base_url=base_url, uri=uri))
    yield head[:-1] + ',"releases":['
    publication = Publication(base_url)
    first = True
    for batch in batches(queryset):
        for releases in _tender_releases(batch, publication):
            if not releases:
                continue
            text = ",".join(map(_encode, releases))
            yield text if first else "," + text
            first = False
            if stats is not None:
                stats.tenders += 1
                stats.releases += len(releases)
    yield "]}"
