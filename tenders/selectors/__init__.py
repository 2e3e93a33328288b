"""Reads of tenders and bids, scoped to the user, with the seal enforced.

A bid is reached only through ``bid_get_for_user`` and ``bid_list_for_user``: before the
opening they return the bidding organization's own bid and nothing else, to anyone; a
bid that is not yours is a 404, exactly like one that does not exist. Sealed content is
decrypted only in ``bid_content_for_user``, for the owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation import models as evaluation_models
from evaluation.models import SchemeTemplate
from marketplace.models import Role
from marketplace.permissions import has_role, is_official, is_org_user
from orgs_registry.models import Person
from orgs_registry.permissions import can_view_id_number
from orgs_registry.selectors import org_eligibility
from tenders import permissions, sealing
from tenders.filters import TenderFilter
from tenders.models import (
    PUBLIC_TENDER_STATES,
    Amendment,
    Award,
    AwardStatus,
    Bid,
    BidDocument,
    BidReceipt,
    BidStaff,
    BidStatus,
    Challenge,
    ChallengeDocument,
    ChallengeStatus,
    Community,
    OpeningConfirmation,
    Question,
    QuestionStatus,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderInterest,
    TenderStatus,
)

# --- Tenders ----------------------------------------------------------------------------------


def tender_list_for_user(user: Any) -> QuerySet[Tender]:
    """Published tenders for everyone; drafts and approvals too for the street office."""
    queryset = Tender.objects.select_related("category", "created_by").prefetch_related(
        "communities"
    )
    if is_official(user) or has_role(user, Role.AUDITOR):
        return queryset
    return queryset.filter(status__in=list(PUBLIC_TENDER_STATES))


# Long texts no list shows (the page, the API's summaries, the portal's search).
LIST_DEFERRED_FIELDS = (
    "description",
    "eligibility_notes",
    "return_note",
    "cancel_reason",
    "failed_reason",
)


def tender_directory(
    user: Any, *, filters: Mapping[str, Any] | None
) -> tuple[QuerySet[Tender], TenderFilter]:
    """Tenders the user may see, filtered; unbound: all, invalid: none (with the errors).

    The rows are what lists show: the long texts stay in the database (a description may
    run to 20,000 characters, 30 of them per page) and nobody's drafter is joined. The
    order is the one ``tender_deadline_order_idx`` holds, so a page reads 30 index entries
    instead of sorting every tender.
    """
    queryset = (
        tender_list_for_user(user)
        .select_related(None)
        .select_related("category")
        .defer(*LIST_DEFERRED_FIELDS)
    )
    filterset = TenderFilter(data=filters or None, queryset=queryset)
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none(), filterset
    return filterset.qs.order_by("-bid_deadline", "-pk"), filterset


def tender_get_for_user(user: Any, pk: Any) -> Tender:
    try:
        return tender_list_for_user(user).prefetch_related("criteria", "documents").get(pk=pk)
    except (Tender.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def tender_documents(tender: Tender) -> QuerySet[TenderDocument]:
    return TenderDocument.objects.filter(tender=tender).order_by("uploaded_at", "pk")


def tender_document_get_for_user(user: Any, pk: Any) -> TenderDocument:
    """A tender document, public once its tender is; 404 otherwise."""
    try:
        document = TenderDocument.objects.select_related("tender").get(pk=pk)
    except (TenderDocument.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_tender(user, document.tender):
        raise Http404
    return document


def amendment_list(tender: Tender) -> QuerySet[Amendment]:
    return Amendment.objects.filter(tender=tender).prefetch_related("documents").order_by("number")


def is_following(user: Any, tender: Tender) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return TenderInterest.objects.filter(tender=tender, user=user).exists()


# --- Questions --------------------------------------------------------------------------------


def question_list_for_user(user: Any, tender: Tender) -> QuerySet[Question]:
    """Answered questions for everyone; a bidder also sees its own unanswered ones; the
    street office and auditors see every question. Askers are shown only to the latter
    (``permissions.can_see_asker``)."""
    queryset = Question.objects.filter(tender=tender).select_related("organization")
    if is_official(user) or has_role(user, Role.AUDITOR):
        return queryset
    visible = Q(status=QuestionStatus.ANSWERED)
    if is_org_user(user):
        visible |= Q(organization_id=user.organization_id)
    return queryset.filter(visible)


def question_get_for_user(user: Any, pk: Any) -> Question:
    try:
        question = Question.objects.select_related("tender", "organization").get(pk=pk)
    except (Question.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_tender(user, question.tender):
        raise Http404
    if not question_list_for_user(user, question.tender).filter(pk=question.pk).exists():
        raise Http404
    return question


def open_question_list_for_official(user: Any) -> QuerySet[Question]:
    """Questions waiting for an answer on tenders still open (the official's workspace)."""
    if not is_official(user):
        return Question.objects.none()
    return (
        Question.objects.filter(status=QuestionStatus.OPEN, tender__status=TenderStatus.PUBLISHED)
        .select_related("tender")
        .order_by("asked_at")
    )


# --- Bids -------------------------------------------------------------------------------------


def _bids() -> QuerySet[Bid]:
    return Bid.objects.select_related("tender", "organization")


def bid_list_for_user(user: Any, tender: Tender) -> QuerySet[Bid]:
    """The bids of ``tender`` the user may see.

    Before the opening: the user's own organization's bid, and nothing else for anybody;
    asking as the street office raises ``PermissionDenied`` (the seal says so). After the
    opening: every opened bid for the street office, auditors and assessors.
    """
    own = Q(organization_id=getattr(user, "organization_id", None)) if is_org_user(user) else None
    if permissions.can_see_bids_of(user, tender):
        return _bids().filter(tender=tender, opened_at__isnull=False).order_by("price", "pk")
    if own is not None:
        return _bids().filter(own, tender=tender)
    if is_official(user) or has_role(user, Role.AUDITOR) or has_role(user, Role.ASSESSOR):
        raise PermissionDenied(_("The bids are sealed until the opening."))
    return Bid.objects.none()


def bid_get_for_user(user: Any, pk: Any, *, related: bool = True) -> Bid:
    """One bid the user may read (the owner; after the opening the street office), or 404.

    ``related=False`` reads the bid's row alone (its tender and organization load when
    used): for a service that reads the bid again under its locks.
    """
    try:
        bid = (_bids() if related else Bid.objects.all()).get(pk=pk)
    except (Bid.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc
    if not permissions.can_read_bid(user, bid):
        raise Http404
    return bid


def own_bid(user: Any, tender: Tender) -> Bid | None:
    """The user's organization's bid for ``tender``, if it has one."""
    if not is_org_user(user):
        return None
    return _bids().filter(tender=tender, organization_id=user.organization_id).first()


def own_bid_list(user: Any) -> QuerySet[Bid]:
    """Every bid of the user's organization, newest first (the organization's workspace)."""
    if not is_org_user(user):
        return Bid.objects.none()
    return (
        _bids()
        .filter(organization_id=user.organization_id)
        .prefetch_related(
            Prefetch("receipts", queryset=BidReceipt.objects.order_by("-received_at"))
        )
        .order_by("-tender__bid_deadline", "-pk")
    )


@dataclass(frozen=True)
class StaffLine:
    person_id: int
    name: str
    id_number_masked: str
    id_number: str  # the full number for those who may see it, else ""
    role: str
    fte: Decimal


@dataclass(frozen=True)
class DocumentLine:
    id: UUID
    name: str
    kind: str
    kind_label: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BidContent:
    """A bid's content as its reader sees it (decrypted for the owner before the opening)."""

    price: Decimal | None
    staff: list[StaffLine]
    proposal: str
    documents: list[DocumentLine]
    sealed: bool = field(default=True)


def _document_line(document: BidDocument) -> DocumentLine:
    return DocumentLine(
        id=document.pk,
        name=str(sealing.unseal_json(document.sealed_name)),
        kind=document.kind,
        kind_label=str(document.get_kind_display()),
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
    )


def bid_content_for_user(user: Any, bid: Bid) -> BidContent:
    """The content the user may read: 404 for anyone who may not read the bid."""
    return bid_content_list_for_user(user, [bid])[bid.pk]


def bid_document_for_download(user: Any, pk: Any) -> tuple[BidDocument, str, bytes]:
    """A bid document decrypted for a reader of its bid: (document, file name, bytes); 404
    for everyone else."""
    try:
        document = BidDocument.objects.select_related("bid__tender", "bid__organization").get(pk=pk)
    except (BidDocument.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc
    if not permissions.can_read_bid(user, document.bid):
        raise Http404
    with document.file.open("rb") as handle:
        data = sealing.unseal_bytes(handle.read())
    return document, str(sealing.unseal_json(document.sealed_name)), data


def bid_document_get_for_user(user: Any, pk: Any) -> BidDocument:
    try:
        document = BidDocument.objects.select_related("bid__tender", "bid__organization").get(pk=pk)
    except (BidDocument.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc
    if not permissions.can_read_bid(user, document.bid):
        raise Http404
    return document


def receipt_list_for_user(user: Any, bid: Bid) -> QuerySet[BidReceipt]:
    """A bid's receipts: its organization's; after the opening, the readers of the bid."""
    if not permissions.can_read_bid(user, bid):
        raise Http404
    return BidReceipt.objects.filter(bid=bid).order_by("-received_at")


def latest_receipt(bid: Bid) -> BidReceipt | None:
    return BidReceipt.objects.filter(bid=bid).order_by("-received_at").first()


# --- Opening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpeningRow:
    organization_name: str
    uscc: str
    price: Decimal
    received_at: datetime | None
    sha256: str
    status: str
    status_label: str
    warnings: list[dict[str, str]]


@dataclass(frozen=True)
class OpeningRecord:
    """开标记录: who bid, at what price, with which receipt hash, opened when and by whom."""

    tender: Tender
    opened_at: datetime
    officials: list[str]
    rows: list[OpeningRow]
    not_confirmed: int


def opening_record(tender: Tender) -> OpeningRecord:
    """The opening record, once the tender is opened (404 before: there is none)."""
    if not permissions.can_see_opening_record(None, tender) or tender.opened_at is None:
        raise Http404
    bids = (
        Bid.objects.filter(tender=tender, opened_at__isnull=False)
        .select_related("organization")
        .prefetch_related(
            Prefetch("receipts", queryset=BidReceipt.objects.order_by("-received_at"))
        )
        .order_by("price", "submitted_at", "pk")
    )
    rows = []
    for bid in bids:
        receipt = next(iter(bid.receipts.all()), None)
        rows.append(
            OpeningRow(
                organization_name=bid.organization.name,
                uscc=bid.organization.uscc,
                price=bid.price or Decimal("0"),
                received_at=receipt.received_at if receipt else bid.submitted_at,
                sha256=receipt.sha256 if receipt else bid.content_sha256,
                status=bid.status,
                status_label=str(bid.get_status_display()),
                warnings=list(bid.warnings or []),
            )
        )
    officials = [
        c.official.get_full_name()
        for c in OpeningConfirmation.objects.filter(tender=tender).select_related("official")
    ]
    not_confirmed = Bid.objects.filter(tender=tender, status=BidStatus.NEEDS_CONFIRMATION).count()
    return OpeningRecord(
        tender=tender,
        opened_at=tender.opened_at,
        officials=officials,
        rows=rows,
        not_confirmed=not_confirmed,
    )


def opening_confirmations(tender: Tender) -> QuerySet[OpeningConfirmation]:
    return OpeningConfirmation.objects.filter(tender=tender).select_related("official")


# --- Workspaces -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialWorkspace:
    drafts: list[Tender]
    awaiting_my_approval: list[Tender]
    awaiting_approval: list[Tender]
    questions: list[Question]
    to_open: list[Tender]
    to_review: list[Tender]
    # Award and challenges: frozen rankings waiting for this approver's award, filed
    # challenges by answer due date (``overdue`` marks the late ones), answered ones
    # waiting for this approver's decision.
    to_award: list[Tender] = field(default_factory=list)
    challenges_to_answer: list[ChallengeSummary] = field(default_factory=list)
    challenges_to_decide: list[ChallengeSummary] = field(default_factory=list)

    @property
    def challenges_overdue(self) -> int:
        return sum(1 for challenge in self.challenges_to_answer if challenge.overdue)


def official_workspace(user: Any) -> OfficialWorkspace:
    """What waits for a street-office official: drafts, approvals, questions, openings,
    awards and challenges."""
    if not is_official(user):
        raise PermissionDenied
    now = timezone.now()
    tenders = Tender.objects.select_related("category", "created_by")
    pending = tenders.filter(status=TenderStatus.PENDING_APPROVAL).order_by("submitted_at")
    return OfficialWorkspace(
        drafts=list(
            tenders.filter(status=TenderStatus.DRAFT, created_by=user).order_by("-updated_at")
        ),
        awaiting_my_approval=list(pending.exclude(created_by=user))
        if has_role(user, Role.APPROVER)
        else [],
        awaiting_approval=list(pending.filter(created_by=user)),
        questions=list(open_question_list_for_official(user)[:50]),
        to_open=list(
            tenders.filter(
                Q(status=TenderStatus.CLOSED)
                | Q(status=TenderStatus.PUBLISHED, bid_deadline__lte=now)
            )
            .annotate(
                confirmed_by_me=Exists(
                    OpeningConfirmation.objects.filter(tender=OuterRef("pk"), official=user)
                ),
                confirmations=Count("opening_confirmations", distinct=True),
            )
            .order_by("bid_deadline")
        ),
        to_review=list(
            tenders.filter(status=TenderStatus.OPENED)
            .annotate(
                unreviewed=Count("bids", filter=Q(bids__status=BidStatus.OPENED), distinct=True)
            )
            .filter(unreviewed__gt=0)
            .order_by("opened_at")
        ),
        **_award_workspace(user),
    )


@dataclass(frozen=True)
class OpenTender:
    tender: Tender
    bid: Bid | None
    eligible: bool
    problems: list[str]
    warnings: list[str]


def organization_open_tenders(user: Any) -> list[OpenTender]:
    """Tenders accepting bids, with the user's organization's bid and eligibility."""
    if not is_org_user(user):
        return []
    organization = user.organization
    eligibility = org_eligibility(organization)
    tenders = (
        Tender.objects.filter(status=TenderStatus.PUBLISHED, bid_deadline__gt=timezone.now())
        .select_related("category")
        .order_by("bid_deadline")
    )
    bids = {
        bid.tender_id: bid
        for bid in Bid.objects.filter(organization=organization, tender__in=tenders)
    }
    return [
        OpenTender(
            tender=tender,
            bid=bids.get(tender.pk),
            eligible=eligibility.eligible,
            problems=[str(issue) for issue in eligibility.failures],
            warnings=[str(issue) for issue in eligibility.warnings],
        )
        for tender in tenders
    ]


# --- API lists ----------------------------------------------------------------------------------


def scheme_template_list(category: Any = None) -> QuerySet[SchemeTemplate]:
    """Scoring scheme templates in use (those of ``category`` when given), with criteria."""
    templates = SchemeTemplate.objects.filter(is_active=True).select_related("category")
    if category is not None:
        templates = templates.filter(category=category)
    return templates.prefetch_related("criteria")


def community_list() -> QuerySet[Community]:
    """The street office's communities in display order (a tender's service area)."""
    return Community.objects.all()


def _staff_line(
    person: Person | None, *, person_id: int, role: str, fte: Decimal, full: bool
) -> StaffLine:
    return StaffLine(
        person_id=person_id,
        name=person.name if person else "?",
        id_number_masked=person.id_number_masked if person else "",
        id_number=(person.id_number if person and full else ""),
        role=role,
        fte=fte,
    )


def bid_content_list_for_user(user: Any, bids: list[Bid]) -> dict[UUID, BidContent]:
    """The content of bids the user may read, in a constant number of queries.

    Each bid must be readable by the user (404 otherwise). Opened bids read their plain
    columns; a sealed bid (its owner's) is decrypted. Full ID numbers are given to those
    who may see them (the organization's administrator, auditors: DESIGN 4.1).
    """
    for bid in bids:
        if not permissions.can_read_bid(user, bid):
            raise Http404
    full = {bid.pk: can_view_id_number(user, bid.organization) for bid in bids}
    opened = [bid.pk for bid in bids if bid.opened_at is not None]
    plain: dict[UUID, list[StaffLine]] = {pk: [] for pk in opened}
    for row in BidStaff.objects.filter(bid_id__in=opened).select_related("person").order_by("pk"):
        plain[row.bid_id].append(
            _staff_line(
                row.person,
                person_id=row.person_id,
                role=row.role,
                fte=row.fte,
                full=full[row.bid_id],
            )
        )
    sealed = {
        bid.pk: sealing.unseal_json(bid.sealed) if bid.sealed else {}
        for bid in bids
        if bid.opened_at is None
    }
    people = Person.objects.in_bulk(
        [row["person"] for content in sealed.values() for row in content.get("staff", [])]
    )
    documents: dict[UUID, list[DocumentLine]] = {bid.pk: [] for bid in bids}
    for d in BidDocument.objects.filter(bid_id__in=list(documents)).order_by("uploaded_at", "pk"):
        documents[d.bid_id].append(_document_line(d))
    result: dict[UUID, BidContent] = {}
    for bid in bids:
        if bid.pk in plain:
            result[bid.pk] = BidContent(
                price=bid.price,
                staff=plain[bid.pk],
                proposal=bid.proposal,
                documents=documents[bid.pk],
                sealed=False,
            )
            continue
        content = sealed[bid.pk]
        result[bid.pk] = BidContent(
            price=Decimal(content["price"]) if content.get("price") else None,
            staff=[
                _staff_line(
                    people.get(row["person"]),
                    person_id=row["person"],
                    role=row["role"],
                    fte=Decimal(row["fte"]),
                    full=full[bid.pk],
                )
                for row in content.get("staff", [])
            ],
            proposal=content.get("proposal", ""),
            documents=documents[bid.pk],
            sealed=True,
        )
    return result


# --- Award and challenges ----------------------------------------------------------------------


def active_award(tender: Tender) -> Award | None:
    """The award in force of ``tender`` (none before the award or after a withdrawal)."""
    return (
        Award.objects.filter(tender=tender, status=AwardStatus.ACTIVE)
        .select_related("bid__organization", "confirmed_by")
        .first()
    )


@dataclass(frozen=True)
class AwardNoticeRow:
    position: int
    organization_name: str
    price: Decimal
    total: Decimal
    rank: int
    tied: bool
    won: bool


@dataclass(frozen=True)
class AwardNotice:
    """中标公告: the winner, its price, the dates and the ranking summary (public)."""

    tender: Tender
    winner_name: str
    winner_uscc: str
    price: Decimal
    position: int
    reason: str
    published_at: datetime
    notice_until: date
    challenge_deadline: date
    rows: list[AwardNoticeRow]


def award_notice(tender: Tender) -> AwardNotice | None:
    """The public award notice of a tender with an award in force; ``None`` for any other
    (not awarded yet, the award withdrawn after a challenge, failed or cancelled)."""
    if tender.status in (TenderStatus.FAILED, TenderStatus.CANCELLED):
        return None
    award = active_award(tender)
    if award is None:
        return None
    rows = (
        evaluation_models.RankingRow.objects.filter(ranking__tender=tender)
        .select_related("bid__organization")
        .order_by("position")
    )
    winner = award.bid.organization
    return AwardNotice(
        tender=tender,
        winner_name=winner.name,
        winner_uscc=winner.uscc,
        price=award.bid.price or Decimal("0"),
        position=award.position,
        reason=award.reason,
        published_at=award.notice_published_at,
        notice_until=award.notice_until,
        challenge_deadline=award.challenge_deadline,
        rows=[
            AwardNoticeRow(
                position=row.position,
                organization_name=row.bid.organization.name,
                price=row.price,
                total=row.total,
                rank=row.rank,
                tied=row.tied,
                won=row.bid_id == award.bid_id,
            )
            for row in rows
        ],
    )


@dataclass(frozen=True)
class CriterionResult:
    code: str
    name: str
    kind: str
    points: Decimal
    score: Decimal | None


@dataclass(frozen=True)
class BidResult:
    """A bidder's own result after the award: its scores, rank and position."""

    tender: Tender
    bid: Bid
    won: bool
    position: int
    rank: int
    tied: bool
    price: Decimal
    price_score: Decimal
    total: Decimal
    criteria: list[CriterionResult]
    ranked: int


def bid_result_for_user(user: Any, tender: Tender) -> BidResult | None:
    """The user's organization's own result in ``tender`` once the award is in force; other
    bidders' scores are never in it. ``None`` before the award, for a bid that was not
    ranked and for anyone but the bidding organization's users."""
    if not is_org_user(user) or active_award(tender) is None:
        return None
    bid = _bids().filter(tender=tender, organization_id=user.organization_id).first()
    if bid is None or not permissions.is_bid_owner(user, bid):
        return None
    row = (
        evaluation_models.RankingRow.objects.filter(bid=bid, ranking__tender=tender)
        .select_related("ranking")
        .first()
    )
    if row is None:
        return None
    scores = row.criterion_scores or {}
    criteria = []
    for criterion in TenderCriterion.objects.filter(tender=tender).order_by("sort_order", "pk"):
        if criterion.kind == "price":
            score: Decimal | None = row.price_score
        else:
            raw = scores.get(criterion.code)
            score = Decimal(str(raw)) if raw is not None else None
        criteria.append(
            CriterionResult(
                code=criterion.code,
                name=criterion.name,
                kind=criterion.kind,
                points=criterion.points,
                score=score,
            )
        )
    return BidResult(
        tender=tender,
        bid=bid,
        won=bid.status == BidStatus.WON,
        position=row.position,
        rank=row.rank,
        tied=row.tied,
        price=row.price,
        price_score=row.price_score,
        total=row.total,
        criteria=criteria,
        ranked=evaluation_models.RankingRow.objects.filter(ranking=row.ranking).count(),
    )


# Challenges other bidders of the tender may read (without the challenger's identity).
ANSWERED_CHALLENGE_STATES = (
    ChallengeStatus.ANSWERED,
    ChallengeStatus.ACCEPTED,
    ChallengeStatus.REJECTED,
    ChallengeStatus.CLOSED,
)


@dataclass(frozen=True)
class ChallengeSummary:
    """A challenge as its reader may see it: ``organization_name`` and ``text`` (the
    grounds) are empty for other bidders, who learn the subject, answer and outcome."""

    id: int
    tender_id: int
    tender_title: str
    subject: str
    text: str
    status: str
    status_label: str
    filed_at: datetime
    answer_due: date
    answer: str
    upheld: bool | None
    remedy: str
    remedy_label: str
    decision_note: str
    organization_name: str | None
    own: bool
    overdue: bool


def _challenge_summary(user: Any, challenge: Challenge, today: date) -> ChallengeSummary:
    full = permissions.can_see_challenger(user, challenge)
    return ChallengeSummary(
        id=challenge.pk,
        tender_id=challenge.tender_id,
        tender_title=challenge.tender.title,
        subject=challenge.subject,
        text=challenge.text if full else "",
        status=challenge.status,
        status_label=str(challenge.get_status_display()),
        filed_at=challenge.filed_at,
        answer_due=challenge.answer_due,
        answer=challenge.answer,
        upheld=challenge.upheld,
        remedy=challenge.remedy,
        remedy_label=str(challenge.get_remedy_display()) if challenge.remedy else "",
        decision_note=challenge.decision_note,
        organization_name=challenge.organization.name if full else None,
        own=is_org_user(user) and challenge.organization_id == user.organization_id,
        overdue=challenge.status == ChallengeStatus.FILED and challenge.answer_due < today,
    )


def challenge_list_for_user(user: Any, tender: Tender | None = None) -> list[ChallengeSummary]:
    """Challenges the user may read, newest first (of ``tender`` when given).

    The street office and auditors: all. An organization's users: its own, and the
    answered ones of tenders it bid in, without the challenger (质疑答复 go to the
    challenger and the other suppliers concerned, not to the public). Others: none.
    """
    challenges = Challenge.objects.select_related("tender", "organization").order_by(
        "-filed_at", "-pk"
    )
    if tender is not None:
        challenges = challenges.filter(tender=tender)
    if is_official(user) or has_role(user, Role.AUDITOR):
        pass
    elif is_org_user(user):
        bid_in = Bid.objects.filter(
            organization_id=user.organization_id, opened_at__isnull=False
        ).values("tender_id")
        challenges = challenges.filter(
            Q(organization_id=user.organization_id)
            | Q(tender_id__in=bid_in, status__in=ANSWERED_CHALLENGE_STATES)
        )
    else:
        return []
    today = timezone.localdate()
    return [_challenge_summary(user, challenge, today) for challenge in challenges]


def challenge_get_for_user(user: Any, pk: Any) -> Challenge:
    """The whole challenge for the street office, auditors and the challenger; 404 for
    everyone else (other bidders read it through ``challenge_list_for_user``)."""
    try:
        challenge = Challenge.objects.select_related(
            "tender", "bid", "organization", "filed_by", "answered_by", "decided_by"
        ).get(pk=pk)
    except (Challenge.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_challenge(user, challenge):
        raise Http404
    return challenge


def challenge_documents(challenge: Challenge) -> QuerySet[ChallengeDocument]:
    return ChallengeDocument.objects.filter(challenge=challenge).order_by("uploaded_at", "pk")


def challenge_document_for_download(user: Any, pk: Any) -> tuple[ChallengeDocument, str, bytes]:
    """A challenge document for a reader of the whole challenge: (document, file name,
    bytes), to be served as an attachment; 404 for everyone else."""
    try:
        document = ChallengeDocument.objects.select_related("challenge").get(pk=pk)
    except (ChallengeDocument.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not permissions.can_view_challenge(user, document.challenge):
        raise Http404
    with document.file.open("rb") as handle:
        data = handle.read()
    return document, document.original_name, data


def challenges_overdue(today: date | None = None) -> QuerySet[Challenge]:
    """Filed challenges whose answer is overdue (7 working days passed), oldest first:
    for the official's workspace."""
    today = today or timezone.localdate()
    return (
        Challenge.objects.filter(status=ChallengeStatus.FILED, answer_due__lt=today)
        .select_related("tender", "organization")
        .order_by("answer_due", "filed_at", "pk")
    )


# --- Award and challenge pages ------------------------------------------------------------------


def _award_workspace(user: Any) -> dict[str, Any]:
    """The award and challenge parts of an official's workspace (``official_workspace``)."""
    today = timezone.localdate()
    approver = has_role(user, Role.APPROVER)
    to_award: list[Tender] = []
    if approver:
        pending_correction = evaluation_models.RankingCorrection.objects.filter(
            ranking__tender=OuterRef("pk"), applied_at__isnull=True
        )
        # After an upheld challenge the award waits until every challenge is decided.
        pending_challenge = Challenge.objects.filter(
            tender=OuterRef("pk"), status__in=[ChallengeStatus.FILED, ChallengeStatus.ANSWERED]
        )
        to_award = list(
            Tender.objects.filter(
                status=TenderStatus.EVALUATING,
                panel__status=evaluation_models.PanelStatus.RANKED,
                ranking__isnull=False,
            )
            # Four eyes: the approver who drafted the tender does not award it.
            .exclude(created_by=user)
            .annotate(
                correction_pending=Exists(pending_correction),
                challenge_pending=Exists(pending_challenge),
                ranked_bids=Count("ranking__rows", distinct=True),
            )
            .filter(correction_pending=False, challenge_pending=False)
            .select_related("category", "panel")
            .order_by("panel__ranked_at", "pk")
        )
    challenges = Challenge.objects.select_related("tender", "organization")
    to_answer = challenges.filter(status=ChallengeStatus.FILED).order_by(
        "answer_due", "filed_at", "pk"
    )
    to_decide = (
        challenges.filter(status=ChallengeStatus.ANSWERED)
        .exclude(answered_by=user)  # four eyes: not the approver who answered
        .order_by("answered_at", "pk")
        if approver
        else Challenge.objects.none()
    )
    return {
        "to_award": to_award,
        "challenges_to_answer": [_challenge_summary(user, c, today) for c in to_answer],
        "challenges_to_decide": [_challenge_summary(user, c, today) for c in to_decide],
    }


@dataclass(frozen=True)
class WithdrawnAward:
    """An award notice withdrawn after an upheld challenge (public, like the notice)."""

    winner_name: str
    winner_uscc: str
    confirmed_at: datetime
    withdrawn_at: datetime | None
    reason: str


def withdrawn_awards(tender: Tender) -> list[WithdrawnAward]:
    """The tender's withdrawn award notices, newest first; none for a tender the user may
    not see (the caller reached it through ``tender_get_for_user``)."""
    awards = (
        Award.objects.filter(tender=tender, status=AwardStatus.WITHDRAWN)
        .select_related("bid__organization")
        .order_by("-withdrawn_at", "-pk")
    )
    return [
        WithdrawnAward(
            winner_name=award.bid.organization.name,
            winner_uscc=award.bid.organization.uscc,
            confirmed_at=award.confirmed_at,
            withdrawn_at=award.withdrawn_at,
            reason=award.withdrawn_reason,
        )
        for award in awards
    ]


@dataclass(frozen=True)
class OrganizationResult:
    """One of the organization's bids with an award in force: won or not, and whether
    the challenge window is still open."""

    tender: Tender
    bid: Bid
    won: bool
    winner_name: str
    challenge_deadline: date
    window_open: bool


def organization_results(user: Any) -> list[OrganizationResult]:
    """The user's organization's results (its bids in tenders with an award in force),
    newest award first; empty for anyone but an organization's users."""
    if not is_org_user(user):
        return []
    bids = {
        bid.tender_id: bid
        for bid in _bids().filter(
            organization_id=user.organization_id, status__in=[BidStatus.WON, BidStatus.LOST]
        )
    }
    awards = (
        Award.objects.filter(status=AwardStatus.ACTIVE, tender_id__in=list(bids))
        .select_related("tender", "bid__organization")
        .order_by("-confirmed_at", "-pk")
    )
    today = timezone.localdate()
    return [
        OrganizationResult(
            tender=award.tender,
            bid=bids[award.tender_id],
            won=bids[award.tender_id].status == BidStatus.WON,
            winner_name=award.bid.organization.name,
            challenge_deadline=award.challenge_deadline,
            window_open=award.tender.status == TenderStatus.AWARDED
            and today <= award.challenge_deadline,
        )
        for award in awards
    ]
