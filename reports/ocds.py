"""Open Contracting Data Standard (OCDS 1.1) publication of the published tenders.

Every published tender is one contracting process (``ocid`` = ``OCDS_OCID_PREFIX`` + "-" +
the tender's reference) with one release per public event, in time order:

====================  ========================  =========================================
event                 tags                      what becomes public
====================  ========================  =========================================
publication           tender                    the tender notice (values at publication)
each amendment        tenderAmendment           the amended tender, ``tender.amendments``
opening               tenderUpdate              the bids: statistics and details
failure (流标)         tenderUpdate              ``tender.status`` "unsuccessful"
award notice          award                     the award and its supplier
award withdrawn       awardCancellation         the award "cancelled"
contract signed       contract                  the contract and its payment milestones
milestone settled     implementation            ``implementation.milestones`` met/notMet
payment recorded      implementation            ``implementation.transactions``
contract ended        contractTermination       the contract "terminated"
cancellation          tenderCancellation        ``tender.status`` "cancelled", the reason
====================  ========================  =========================================

Each release is a snapshot of what was public at its date, so a release never shows what
was learnt later (the tender release carries the values before any amendment) and its
content does not change once published; ids are ``{ocid}-{event}`` and stay stable.
Events at the same instant (a termination and the milestones it withholds) are one
release with several tags.

Sealed bids (DESIGN.md 6): nothing about bids, not even their number, appears before
the opening; afterwards the opened bids (the opening record is public) are published
through the bids extension. No personal data: organizations only, never people, users or
ID numbers.

Reading is batched: ``releases_for`` and ``package_chunks`` walk the tenders by primary
key in batches of ``BATCH_SIZE`` with a fixed number of queries per batch, and the package
is written release by release, so memory stays flat however many tenders there are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.models import AuditAction, AuditEvent
from tenders.models import (
    PUBLIC_CONTRACT_STATES,
    PUBLIC_TENDER_STATES,
    Amendment,
    Award,
    Bid,
    BidStatus,
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
# The language of record (settings.LANGUAGE_CODE is zh-hans); English goes in *_en keys.
LANGUAGE = "zh"
RECORD_LANGUAGE = "zh-hans"
BATCH_SIZE = 500

# Both methods are announced publicly and open to every eligible organization on this
# portal (a consultation may be announced, 财库〔2014〕214号 Art. 6), so both are OCDS "open";
# which of the two it is goes in procurementMethodDetails.
METHODS: dict[str, str] = {
    ProcurementMethod.PUBLIC_TENDER.value: "open",
    ProcurementMethod.COMPETITIVE_CONSULTATION.value: "open",
}

# Event kinds in the order they are listed when two happen at the same instant.
_RANK = {
    "tender": 0,
    "amendment": 1,
    "opening": 2,
    "failure": 3,
    "award": 4,
    "award-withdrawn": 5,
    "contract": 6,
    "milestone-settled": 7,
    "milestone-paid": 8,
    "contract-end": 9,
    "cancellation": 10,
}
_TAGS = {
    "tender": "tender",
    "amendment": "tenderAmendment",
    "opening": "tenderUpdate",
    "failure": "tenderUpdate",
    "award": "award",
    "award-withdrawn": "awardCancellation",
    "contract": "contract",
    "milestone-settled": "implementation",
    "milestone-paid": "implementation",
    "contract-end": "contractTermination",
    "cancellation": "tenderCancellation",
}
_REVIEWED_VALID = frozenset({BidStatus.QUALIFIED, BidStatus.RANKED, BidStatus.WON, BidStatus.LOST})
# django-fsm reads every state field when a model is loaded: the statuses are always read.
_BID_FIELDS = (
    "id",
    "tender_id",
    "organization__name",
    "organization__uscc",
    "organization__status",
    "price",
    "status",
    "submitted_at",
    "opened_at",
    "reviewed_at",
)


# --- Which tenders, read how --------------------------------------------------------------------


def published_tenders(queryset: QuerySet[Tender] | None = None) -> QuerySet[Tender]:
    """The tenders of ``queryset`` (all by default) the public has seen: published or later.
    Drafts, tenders waiting for approval or returned to their drafter, and drafts cancelled
    before publication are not."""
    base = Tender.objects.all() if queryset is None else queryset
    return base.filter(status__in=sorted(PUBLIC_TENDER_STATES), published_at__isnull=False).exclude(
        reference=""
    )


def with_related(queryset: QuerySet[Tender]) -> QuerySet[Tender]:
    """``queryset`` with everything a release reads, in a fixed number of queries per batch.

    Bids are read without their sealed content and only once opened: the unopened ones are
    not even loaded.
    """
    return queryset.select_related("category", "contract__organization").prefetch_related(
        "communities",
        Prefetch("amendments", queryset=Amendment.objects.order_by("number")),
        Prefetch("documents", queryset=TenderDocument.objects.order_by("uploaded_at", "pk")),
        Prefetch(
            "bids",
            queryset=Bid.objects.filter(opened_at__isnull=False)
            .select_related("organization")
            .only(*_BID_FIELDS)
            .order_by("submitted_at", "pk"),
            to_attr="opened_bids",
        ),
        Prefetch(
            "awards",
            queryset=Award.objects.select_related("bid__organization")
            .only(
                "id",
                "tender_id",
                "bid_id",
                "status",
                "notice_published_at",
                "withdrawn_at",
                "bid__price",
                "bid__status",
                "bid__organization__name",
                "bid__organization__uscc",
                "bid__organization__status",
            )
            .order_by("notice_published_at", "pk"),
            to_attr="award_list",
        ),
        Prefetch("contract__milestones", queryset=Milestone.objects.order_by("sequence")),
    )


def batches(queryset: QuerySet[Tender], size: int = BATCH_SIZE) -> Iterator[list[Tender]]:
    """``queryset`` in primary-key order, ``size`` tenders at a time, each batch read with
    its related rows (keyset pagination: every batch costs the same, however far in)."""
    base = with_related(queryset.order_by("pk"))
    last = 0
    while True:
        batch = list(base.filter(pk__gt=last)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk
        if len(batch) < size:
            return


def ocid(tender: Tender) -> str:
    return f"{settings.OCDS_OCID_PREFIX}-{tender.reference}"


# --- Formatting ---------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    """ISO 8601 with the office's offset (+08:00), to the second."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


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


# --- Constants of one export ---------------------------------------------------------------------


@dataclass
class Publication:
    """What every release of one export shares: the buyer, labels in both languages, the
    base of absolute links. Built once per export (labels come from the catalogue)."""

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
    def methods(self) -> dict[str, tuple[str, str]]:
        return {
            method.value: (_in(RECORD_LANGUAGE, method.label), _in("en", method.label))
            for method in ProcurementMethod
        }

    @cached_property
    def award_criteria(self) -> tuple[str, str]:
        label = _("Weighted scoring")
        return _in(RECORD_LANGUAGE, label), _in("en", label)

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

    def url(self, name: str, *args: Any) -> str:
        return self.base_url + reverse(name, args=args)


# --- Events --------------------------------------------------------------------------------------


@dataclass(order=True)
class _Event:
    at: datetime
    rank: int
    key: str = field(compare=False)
    kind: str = field(compare=False)


def _contract_of(tender: Tender) -> Contract | None:
    try:
        contract = tender.contract
    except ObjectDoesNotExist:
        return None
    if contract.status not in PUBLIC_CONTRACT_STATES or contract.published_at is None:
        return None
    return contract


def _payment_moment(milestone: Milestone, recorded: Mapping[int, datetime]) -> datetime | None:
    """When the payment of ``milestone`` became public: the audit log's record of it, or,
    for rows written outside the services, the day it was paid (not before its release)."""
    if milestone.paid_on is None or milestone.status != MilestoneStatus.PAID:
        return None
    moment = recorded.get(milestone.pk)
    if moment is None:
        moment = _day_start(milestone.paid_on)
        if milestone.settled_at is not None and moment < milestone.settled_at:
            moment = milestone.settled_at
    return moment


def _events(tender: Tender, recorded: Mapping[int, datetime]) -> list[_Event]:
    assert tender.published_at is not None  # noqa: S101 (published_tenders() guarantees it)
    events = [_Event(tender.published_at, _RANK["tender"], "tender", "tender")]
    for amendment in tender.amendments.all():
        events.append(
            _Event(
                amendment.published_at,
                _RANK["amendment"],
                f"amendment-{amendment.number}",
                "amendment",
            )
        )
    if tender.opened_at is not None:
        events.append(_Event(tender.opened_at, _RANK["opening"], "opening", "opening"))
    if tender.failed_at is not None:
        events.append(_Event(tender.failed_at, _RANK["failure"], "failure", "failure"))
    for award in tender.award_list:  # type: ignore[attr-defined]
        events.append(
            _Event(award.notice_published_at, _RANK["award"], f"award-{award.pk}", "award")
        )
        if award.withdrawn_at is not None:
            events.append(
                _Event(
                    award.withdrawn_at,
                    _RANK["award-withdrawn"],
                    f"award-{award.pk}-withdrawn",
                    "award-withdrawn",
                )
            )
    contract = _contract_of(tender)
    if contract is not None:
        assert contract.published_at is not None  # noqa: S101 (_contract_of checks it)
        events.append(_Event(contract.published_at, _RANK["contract"], "contract", "contract"))
        for milestone in contract.milestones.all():
            if milestone.settled_at is not None:
                events.append(
                    _Event(
                        milestone.settled_at,
                        _RANK["milestone-settled"],
                        f"milestone-{milestone.sequence}",
                        "milestone-settled",
                    )
                )
            paid = _payment_moment(milestone, recorded)
            if paid is not None:
                events.append(
                    _Event(
                        paid,
                        _RANK["milestone-paid"],
                        f"payment-{milestone.sequence}",
                        "milestone-paid",
                    )
                )
        ended = contract.completed_at or contract.terminated_at
        if ended is not None:
            events.append(_Event(ended, _RANK["contract-end"], "contract-end", "contract-end"))
    if tender.cancelled_at is not None:
        events.append(
            _Event(tender.cancelled_at, _RANK["cancellation"], "cancellation", "cancellation")
        )
    events.sort()
    return events


# --- The tender as it stood at a moment ----------------------------------------------------------

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


_AMENDED = (
    "description",
    "eligibility_notes",
    "budget",
    "bid_deadline",
    "question_deadline",
    "service_start",
    "service_end",
)


def _values_at(tender: Tender, amendments: list[Amendment], moment: datetime) -> dict[str, Any]:
    """The amendable fields as they were at ``moment``: today's values with every later
    amendment undone, newest first."""
    values = {name: getattr(tender, name) for name in _AMENDED}
    for amendment in reversed(amendments):
        if amendment.published_at <= moment:
            break
        for name, change in (amendment.changes or {}).items():
            if name in values and isinstance(change, Mapping) and "before" in change:
                values[name] = _parse_change(name, change["before"])
        # The deadline may move without being asked for (87号令 Art. 27: 15 days must remain).
        values["bid_deadline"] = amendment.bid_deadline_before
    return values


def _change_text(publication: Publication, amendment: Amendment) -> str:
    labels = publication.field_labels
    changed = publication.texts["changed"][0]
    parts = []
    for name, change in (amendment.changes or {}).items():
        label = labels.get(name, name)
        if isinstance(change, Mapping) and "before" in change:
            before = _display(name, change.get("before"))
            after = _display(name, change.get("after"))
            parts.append(f"{label}：{before} → {after}")
        else:
            parts.append(f"{label}：{changed}")
    if amendment.deadline_moved and "bid_deadline" not in (amendment.changes or {}):
        before = _display("bid_deadline", amendment.bid_deadline_before)
        after = _display("bid_deadline", amendment.bid_deadline_after)
        parts.append(f"{labels['bid_deadline']}：{before} → {after}")
    return "；".join(parts)


def _display(name: str, value: Any) -> str:
    parsed = _parse_change(name, value) if not isinstance(value, datetime) else value
    if isinstance(parsed, datetime):
        return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    if parsed is None:
        return "—"
    return str(parsed)


# --- Releases ------------------------------------------------------------------------------------


class _TenderReleases:
    """The releases of one tender. What does not change between its releases (items, the
    parties' names, documents' links) is built once and shared."""

    def __init__(
        self, tender: Tender, publication: Publication, recorded: Mapping[int, datetime]
    ) -> None:
        self.tender = tender
        self.publication = publication
        self.recorded = recorded
        self.ocid = ocid(tender)
        self.amendments: list[Amendment] = list(tender.amendments.all())
        self.bids: list[Bid] = list(tender.opened_bids)  # type: ignore[attr-defined]
        self.awards: list[Award] = list(tender.award_list)  # type: ignore[attr-defined]
        self.contract = _contract_of(tender)
        self.milestones: list[Milestone] = (
            list(self.contract.milestones.all()) if self.contract is not None else []
        )
        self.release_ids: dict[str, str] = {}

    # Organizations ---------------------------------------------------------------------------

    @staticmethod
    def _org_id(uscc: str) -> str:
        return f"{USCI_SCHEME}-{uscc}"

    def _org_ref(self, name: str, uscc: str) -> dict[str, str]:
        return {"id": self._org_id(uscc), "name": name}

    def _org_party(self, name: str, uscc: str, roles: list[str]) -> dict[str, Any]:
        return {
            "id": self._org_id(uscc),
            "name": name,
            "identifier": {"scheme": USCI_SCHEME, "id": uscc, "legalName": name},
            "roles": roles,
        }

    # Static parts ----------------------------------------------------------------------------

    def _items(self) -> list[dict[str, Any]]:
        tender = self.tender
        category = tender.category
        prefix = settings.TENDER_REFERENCE_PREFIX
        item: dict[str, Any] = {
            "id": "1",
            "description": tender.title,
            "classification": {
                "scheme": f"X-{prefix}-SERVICE-CATEGORY",
                "id": category.code,
                **_bilingual("description", category.name_zh, category.name_en),
            },
        }
        communities = list(tender.communities.all())
        if communities:
            # The service area (社区) as further classifications: core OCDS 1.1 has no
            # delivery place for an item, and this keeps both names.
            item["additionalClassifications"] = [
                {
                    "scheme": f"X-{prefix}-COMMUNITY",
                    "id": community.code,
                    **_bilingual("description", community.name_zh, community.name_en),
                }
                for community in communities
            ]
        return [item]

    # Snapshot parts ----------------------------------------------------------------------------

    def _tender_status(self, moment: datetime) -> str:
        tender = self.tender
        if tender.cancelled_at is not None and tender.cancelled_at <= moment:
            return "cancelled"
        if tender.failed_at is not None and tender.failed_at <= moment:
            return "unsuccessful"
        for award in self.awards:
            if award.notice_published_at <= moment and not (
                award.withdrawn_at is not None and award.withdrawn_at <= moment
            ):
                return "complete"
        return "active"

    def _documents(self, moment: datetime) -> list[dict[str, Any]]:
        tender = self.tender
        assert tender.published_at is not None  # noqa: S101
        documents = []
        for document in tender.documents.all():
            published = max(document.uploaded_at, tender.published_at)
            if published > moment:
                continue
            documents.append(
                {
                    "id": str(document.pk),
                    "documentType": "biddingDocuments",
                    "title": document.title,
                    "url": self.publication.url("tenders:document", document.pk),
                    "datePublished": _when(published),
                    "format": document.content_type,
                    "language": LANGUAGE,
                }
            )
        texts = self.publication.texts
        if tender.failed_at is not None and tender.failed_at <= moment and tender.failed_reason:
            documents.append(
                {
                    "id": "failure",
                    # The closest code: the reasons a process ended without a contract.
                    "documentType": "cancellationDetails",
                    **_bilingual("title", *texts["failure"]),
                    "description": tender.failed_reason,
                    "datePublished": _when(tender.failed_at),
                    "language": LANGUAGE,
                }
            )
        if tender.cancelled_at is not None and tender.cancelled_at <= moment:
            documents.append(
                {
                    "id": "cancellation",
                    "documentType": "cancellationDetails",
                    **_bilingual("title", *texts["cancellation"]),
                    "description": tender.cancel_reason,
                    "datePublished": _when(tender.cancelled_at),
                    "language": LANGUAGE,
                }
            )
        return documents

    def _amendments(self, moment: datetime) -> list[dict[str, Any]]:
        listed = []
        for amendment in self.amendments:
            if amendment.published_at > moment:
                break
            key = f"amendment-{amendment.number}"
            entry: dict[str, Any] = {
                "id": str(amendment.number),
                "date": _when(amendment.published_at),
                "rationale": amendment.summary,
                "description": _change_text(self.publication, amendment),
            }
            before = self.release_ids.get(f"before:{key}")
            if before:
                entry["amendsReleaseID"] = before
            entry["releaseID"] = self.release_ids.get(key, f"{self.ocid}-{key}")
            listed.append(entry)
        return listed

    def _opened(self, moment: datetime) -> list[Bid]:
        opened_at = self.tender.opened_at
        if opened_at is None or opened_at > moment:
            return []
        return [bid for bid in self.bids if bid.opened_at is not None and bid.opened_at <= moment]

    @staticmethod
    def _bid_status(bid: Bid, moment: datetime) -> str:
        if bid.reviewed_at is None or bid.reviewed_at > moment:
            return "pending"
        return "disqualified" if bid.status == BidStatus.DISQUALIFIED else "valid"

    def _bids(self, opened: list[Bid], moment: datetime) -> dict[str, Any]:
        """Statistics and details of the opened bids (the bids extension)."""
        tender = self.tender
        assert tender.opened_at is not None  # noqa: S101 (called only once opened)
        opened_on = _when(tender.opened_at)
        statuses = [self._bid_status(bid, moment) for bid in opened]
        bidders = {bid.organization.uscc for bid in opened}
        statistics: list[dict[str, Any]] = [
            {"id": "bids", "measure": "bids", "value": len(opened), "date": opened_on},
            {"id": "bidders", "measure": "bidders", "value": len(bidders), "date": opened_on},
        ]
        if opened and "pending" not in statuses:
            reviewed = max(bid.reviewed_at for bid in opened if bid.reviewed_at is not None)
            reviewed_on = _when(reviewed)
            valid = [bid for bid, status in zip(opened, statuses, strict=True) if status == "valid"]
            statistics += [
                {
                    "id": "validBids",
                    "measure": "validBids",
                    "value": len(valid),
                    "date": reviewed_on,
                },
                {
                    "id": "qualifiedBidders",
                    "measure": "qualifiedBidders",
                    "value": len({bid.organization.uscc for bid in valid}),
                    "date": reviewed_on,
                },
                {
                    "id": "disqualifiedBidders",
                    "measure": "disqualifiedBidders",
                    "value": len(opened) - len(valid),
                    "date": reviewed_on,
                },
            ]
            prices = [bid.price for bid in valid if bid.price is not None]
            if prices:
                statistics += [
                    {
                        "id": "lowestValidBidValue",
                        "measure": "lowestValidBidValue",
                        "value": _number(min(prices)),
                        "currency": CURRENCY,
                        "date": reviewed_on,
                    },
                    {
                        "id": "highestValidBidValue",
                        "measure": "highestValidBidValue",
                        "value": _number(max(prices)),
                        "currency": CURRENCY,
                        "date": reviewed_on,
                    },
                ]
        details = []
        for bid, status in zip(opened, statuses, strict=True):
            detail: dict[str, Any] = {"id": str(bid.pk)}
            if bid.submitted_at is not None:
                detail["date"] = _when(bid.submitted_at)
            detail["status"] = status
            detail["tenderers"] = [self._org_ref(bid.organization.name, bid.organization.uscc)]
            if bid.price is not None:
                detail["value"] = _value(bid.price)
            details.append(detail)
        return {"statistics": statistics, "details": details}

    def _awards(self, moment: datetime) -> list[dict[str, Any]]:
        tender = self.tender
        listed = []
        for award in self.awards:
            if award.notice_published_at > moment:
                continue
            withdrawn = award.withdrawn_at is not None and award.withdrawn_at <= moment
            organization = award.bid.organization
            entry: dict[str, Any] = {
                "id": str(award.pk),
                "title": tender.title,
                "status": "cancelled" if withdrawn else "active",
                "date": _when(award.notice_published_at),
            }
            if award.bid.price is not None:
                entry["value"] = _value(award.bid.price)
            entry["suppliers"] = [self._org_ref(organization.name, organization.uscc)]
            period = self._period(tender.service_start, tender.service_end)
            if period:
                entry["contractPeriod"] = period
            listed.append(entry)
        return listed

    @staticmethod
    def _period(start: date | None, end: date | None) -> dict[str, str]:
        period = {}
        if start is not None:
            period["startDate"] = _when(_day_start(start))
        if end is not None:
            period["endDate"] = _when(_day_end(end))
        return period

    def _milestone(self, milestone: Milestone) -> dict[str, Any]:
        texts = self.publication.texts
        condition = milestone.evaluation_kind or "report"
        share = {"share": f"{milestone.share.normalize():f}"}
        zh = f"{texts['share'][0] % share}，{texts[condition][0]}"
        en = f"{texts['share'][1] % share}; {texts[condition][1].lower()}"
        return {
            "id": str(milestone.sequence),
            **_bilingual("title", milestone.title, milestone.title_en),
            "type": "payment",
            **_bilingual("description", zh, en),
            "code": milestone.kind
            if milestone.kind == MilestoneKind.REPORT
            else f"{milestone.kind}-{milestone.evaluation_kind}",
            "dueDate": _when(_day_end(milestone.due_date)),
        }

    def _contract(self, moment: datetime) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101
        published = contract.published_at
        assert published is not None  # noqa: S101 (_contract_of checks it)
        ended = contract.completed_at or contract.terminated_at
        terminated = ended is not None and ended <= moment
        signatures = [
            signed
            for signed in (contract.purchaser_signed_at, contract.supplier_signed_at)
            if signed is not None
        ]
        entry: dict[str, Any] = {
            "id": contract.reference,
            "awardID": str(contract.award_id),
            "title": contract.title,
            "description": contract.deliverables,
            "status": "terminated" if terminated else "active",
            "period": self._period(contract.service_start, contract.service_end),
            "value": _value(contract.price),
            "dateSigned": _when(max(signatures) if signatures else published),
            "milestones": [
                {**self._milestone(milestone), "status": "scheduled"}
                for milestone in self.milestones
            ],
        }
        implementation = self._implementation(moment)
        if implementation:
            entry["implementation"] = implementation
        if terminated and contract.termination_reason:
            assert ended is not None  # noqa: S101
            entry["documents"] = [
                {
                    "id": "termination",
                    "documentType": "contractArrangements",
                    **_bilingual("title", *self.publication.texts["termination"]),
                    "description": contract.termination_reason,
                    "datePublished": _when(ended),
                    "language": LANGUAGE,
                }
            ]
        return entry

    def _paid_by(self, moment: datetime) -> list[Milestone]:
        return [
            milestone
            for milestone in self.milestones
            if (paid := _payment_moment(milestone, self.recorded)) is not None and paid <= moment
        ]

    def _implementation(self, moment: datetime) -> dict[str, Any]:
        contract = self.contract
        assert contract is not None  # noqa: S101
        settled = [
            m for m in self.milestones if m.settled_at is not None and m.settled_at <= moment
        ]
        if not settled:
            return {}
        milestones = []
        for milestone in self.milestones:
            entry = self._milestone(milestone)
            if milestone in settled:
                assert milestone.settled_at is not None  # noqa: S101
                met = milestone.status == MilestoneStatus.PAID
                entry["status"] = "met" if met else "notMet"
                if met:
                    entry["dateMet"] = _when(milestone.settled_at)
                entry["dateModified"] = _when(milestone.settled_at)
            else:
                entry["status"] = "scheduled"
            milestones.append(entry)
        implementation: dict[str, Any] = {"milestones": milestones}
        transactions = []
        seen: set[str] = set()
        supplier = contract.organization
        for milestone in self._paid_by(moment):
            assert milestone.paid_on is not None  # noqa: S101
            identifier = milestone.payment_reference or f"{contract.reference}-{milestone.sequence}"
            if identifier in seen:
                identifier = f"{identifier}-{milestone.sequence}"
            seen.add(identifier)
            transactions.append(
                {
                    "id": identifier,
                    "date": _when(_day_start(milestone.paid_on)),
                    "value": _value(milestone.released_amount or milestone.amount),
                    "payer": self.publication.buyer_ref,
                    "payee": self._org_ref(supplier.name, supplier.uscc),
                }
            )
        if transactions:
            implementation["transactions"] = transactions
        return implementation

    def _parties(self, moment: datetime, opened: list[Bid], paid: bool) -> list[dict[str, Any]]:
        buyer_roles = ["buyer", "procuringEntity"] + (["payer"] if paid else [])
        parties = [self.publication.buyer_party(buyer_roles)]
        roles: dict[str, tuple[str, list[str]]] = {}
        for bid in opened:
            roles.setdefault(bid.organization.uscc, (bid.organization.name, []))[1].append(
                "tenderer"
            )
        for award in self.awards:
            if award.notice_published_at <= moment:
                organization = award.bid.organization
                names = roles.setdefault(organization.uscc, (organization.name, []))[1]
                if "supplier" not in names:
                    names.append("supplier")
        if paid and self.contract is not None:
            supplier = self.contract.organization
            roles.setdefault(supplier.uscc, (supplier.name, []))[1].append("payee")
        for uscc, (name, names) in roles.items():
            parties.append(self._org_party(name, uscc, names))
        return parties

    def _tender(self, moment: datetime, opened: list[Bid]) -> dict[str, Any]:
        tender = self.tender
        assert tender.published_at is not None  # noqa: S101
        values = _values_at(tender, self.amendments, moment)
        method_zh, method_en = self.publication.methods[tender.method]
        criteria_zh, criteria_en = self.publication.award_criteria
        section: dict[str, Any] = {
            "id": tender.reference,
            "title": tender.title,
            "description": values["description"],
            "status": self._tender_status(moment),
            "procuringEntity": self.publication.buyer_ref,
            "items": self.items,
            "value": _value(values["budget"]),
            "procurementMethod": METHODS.get(tender.method, "open"),
            **_bilingual("procurementMethodDetails", method_zh, method_en),
            "mainProcurementCategory": "services",
            "awardCriteria": "ratedCriteria",
            **_bilingual("awardCriteriaDetails", criteria_zh, criteria_en),
            "submissionMethod": ["electronicSubmission"],
            "tenderPeriod": {
                "startDate": _when(tender.published_at),
                "endDate": _when(values["bid_deadline"]),
            },
            "enquiryPeriod": {
                "startDate": _when(tender.published_at),
                "endDate": _when(values["question_deadline"]),
            },
        }
        if values["eligibility_notes"]:
            section["eligibilityCriteria"] = values["eligibility_notes"]
        contract_period = self._period(values["service_start"], values["service_end"])
        if contract_period:
            section["contractPeriod"] = contract_period
        if opened:
            uscc_seen: dict[str, str] = {}
            for bid in opened:
                uscc_seen.setdefault(bid.organization.uscc, bid.organization.name)
            section["numberOfTenderers"] = len(uscc_seen)
            section["tenderers"] = [self._org_ref(name, uscc) for uscc, name in uscc_seen.items()]
        documents = self._documents(moment)
        if documents:
            section["documents"] = documents
        amendments = self._amendments(moment)
        if amendments:
            section["amendments"] = amendments
        return section

    @cached_property
    def items(self) -> list[dict[str, Any]]:
        return self._items()

    def release(self, moment: datetime, release_id: str, tags: list[str]) -> dict[str, Any]:
        opened = self._opened(moment)
        paid = bool(self.contract is not None and self._paid_by(moment))
        contract_public = (
            self.contract is not None
            and self.contract.published_at is not None
            and self.contract.published_at <= moment
        )
        release: dict[str, Any] = {
            "ocid": self.ocid,
            "id": release_id,
            "date": _when(moment),
            "tag": tags,
            "initiationType": "tender",
            "language": LANGUAGE,
            "parties": self._parties(moment, opened, paid),
            "buyer": self.publication.buyer_ref,
            "tender": self._tender(moment, opened),
        }
        awards = self._awards(moment)
        if awards:
            release["awards"] = awards
        if contract_public:
            release["contracts"] = [self._contract(moment)]
        if opened:
            release["bids"] = self._bids(opened, moment)
        return release

    def releases(self) -> Iterator[dict[str, Any]]:
        events = _events(self.tender, self.recorded)
        # Events in the same second (an opening and the failure it causes, a termination
        # and the milestones it withholds) are one release, named after its first event and
        # showing the state after the last.
        groups: list[list[_Event]] = []
        for event in events:
            if groups and _second(groups[-1][0].at) == _second(event.at):
                groups[-1].append(event)
            else:
                groups.append([event])
        previous = ""
        for group in groups:
            release_id = f"{self.ocid}-{group[0].key}"
            for event in group:
                self.release_ids[event.key] = release_id
                if previous:
                    self.release_ids[f"before:{event.key}"] = previous
            tags = list(dict.fromkeys(_TAGS[event.kind] for event in group))
            yield self.release(group[-1].at, release_id, tags)
            previous = release_id


def _payments_recorded(tenders: list[Tender]) -> dict[int, datetime]:
    """When each paid milestone's payment was recorded, from the audit log (one query)."""
    ids = []
    for tender in tenders:
        contract = _contract_of(tender)
        if contract is None:
            continue
        ids += [str(m.pk) for m in contract.milestones.all() if m.paid_on is not None]
    if not ids:
        return {}
    rows = AuditEvent.objects.filter(
        action=AuditAction.MILESTONE_PAYMENT_RECORDED,
        object_type=Milestone._meta.label_lower,
        object_id__in=ids,
    ).values_list("object_id", "created_at")
    return {int(object_id): created_at for object_id, created_at in rows}


def _batch_releases(
    batch: list[Tender], publication: Publication
) -> Iterator[tuple[Tender, list[dict[str, Any]]]]:
    recorded = _payments_recorded(batch)
    for tender in batch:
        yield tender, list(_TenderReleases(tender, publication, recorded).releases())


def releases_for(
    tenders: QuerySet[Tender] | Iterable[Tender], *, base_url: str = ""
) -> Iterator[dict[str, Any]]:
    """The releases of ``tenders``, tender by tender, each in time order.

    A queryset is read in batches (``batches``); other iterables must hold tenders read
    through ``with_related``. Tenders that are not published yield nothing.
    """
    publication = Publication(base_url)
    groups: Iterable[list[Tender]]
    if isinstance(tenders, QuerySet):
        groups = batches(published_tenders(tenders))
    else:
        groups = [[t for t in tenders if t.published_at is not None and t.reference]]
    for batch in groups:
        for _tender, releases in _batch_releases(batch, publication):
            yield from releases


# --- The release package ----------------------------------------------------------------------


@dataclass
class ExportStats:
    tenders: int = 0
    releases: int = 0


def package_metadata(*, base_url: str = "", uri: str = "") -> dict[str, Any]:
    """Everything of the release package but its releases."""
    publication = Publication(base_url)
    policy = settings.OCDS_PUBLICATION_POLICY_URL or f"{publication.base_url}/data/"
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


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def package_chunks(
    queryset: QuerySet[Tender],
    *,
    base_url: str = "",
    uri: str = "",
    stats: ExportStats | None = None,
) -> Iterator[str]:
    """A release package of the published tenders of ``queryset`` as JSON text, in pieces
    (one per tender), so that it can be written to a file or a response as it is made."""
    metadata = package_metadata(base_url=base_url, uri=uri)
    head = _dumps(metadata)
    yield head[:-1] + ',"releases":['
    publication = Publication(base_url)
    first = True
    for batch in batches(published_tenders(queryset)):
        for _tender, releases in _batch_releases(batch, publication):
            if not releases:
                continue
            text = ",".join(_dumps(release) for release in releases)
            yield text if first else "," + text
            first = False
            if stats is not None:
                stats.tenders += 1
                stats.releases += len(releases)
    yield "]}"
