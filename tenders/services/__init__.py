"""Every write of the tenders app: tenders, questions, amendments, sealed bids, opening.

Each service runs in one transaction, locks what it changes (the tender row first, then
the bid), checks the permission predicate, fires the django-fsm transition and writes
one audit event per change. Services raise ``ValidationError`` (with the field) or
``PermissionDenied``; nothing is saved when they raise.

Audit events about bids carry ``sealed_tender`` in their details and no sealed value:
until the tender is opened, the audit log does not show them (``tenders.apps``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evaluation import models as evaluation_models
from evaluation import rules as evaluation_rules
from evaluation.models import SchemeTemplate
from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, User
from marketplace.record_language import in_language_of_record as _in_language_of_record
from marketplace.record_language import record_text as _record_text
from marketplace.uploads import (
    DOCUMENT_CONTENT_TYPES,
    DOCUMENT_MAX_BYTES,
    read_upload,
    safe_filename,
    sha256_hex,
    sniff_document,
)
from orgs_registry.models import Employment, Organization, ServiceCategory
from orgs_registry.selectors import Eligibility, org_eligibility
from tenders import notifications, permissions, rules, sealing
from tenders.calendar import add_working_days
from tenders.models import (
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
    ChallengeRemedy,
    ChallengeStatus,
    Community,
    OpeningConfirmation,
    Question,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderInterest,
    TenderStatus,
)

# Fields an amendment may change after publication.
AMENDABLE_FIELDS = (
    "description",
    "eligibility_notes",
    "budget",
    "bid_deadline",
    "question_deadline",
    "service_start",
    "service_end",
)
EDITABLE_FIELDS = (
    "tie_rule",
    "trim_extremes",
    "title",
    "description",
    "category",
    "method",
    "purchase_nature",
    "budget",
    "service_start",
    "service_end",
    "eligibility_notes",
    "question_deadline",
    "bid_deadline",
)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: Any) -> Any:
    return type(obj).objects.select_for_update().get(pk=obj.pk)


def _sealed(bid: Bid) -> dict[str, Any]:
    """Audit details for a bid event: which tender's seal hides it, nothing sealed."""
    return {"sealed_tender": str(bid.tender_id), "bid": bid.pk}


# --- Tenders ---------------------------------------------------------------------------------


def _check_tender(tender: Tender, criteria: list[rules.CriterionInput] | None) -> None:
    """Everything a tender must satisfy whatever its state (the rest is checked at publish)."""
    errors: dict[str, list[str]] = {}
    reason = rules.negative_list_reason(tender.purchase_nature)
    if reason:
        errors["purchase_nature"] = [reason]
    if criteria is not None:
        problems = rules.criteria_problems(tender.method, criteria)
        if problems:
            errors["criteria"] = problems
    start, end = tender.service_start, tender.service_end
    if isinstance(start, date) and isinstance(end, date):
        if end < start:
            errors["service_end"] = [_("The service cannot end before it starts.")]
        elif (end - start).days > rules.MAX_SERVICE_DAYS:
            errors["service_end"] = [
                _(
                    "A purchased service runs at most three years "
                    "(Ministry of Finance Order No. 102, Art. 24)."
                )
            ]
    if errors:
        raise ValidationError(errors)


def _save_criteria(tender: Tender, criteria: list[rules.CriterionInput]) -> None:
    tender.criteria.all().delete()
    TenderCriterion.objects.bulk_create(
        TenderCriterion(
            tender=tender,
            code=c.code,
            name=c.name,
            kind=c.kind,
            points=c.points,
            description=c.description,
            bands=[dict(b) for b in c.bands],
            rule=dict(c.rule),
            sort_order=index,
        )
        for index, c in enumerate(criteria)
    )


def _criterion_input(criterion: TenderCriterion) -> rules.CriterionInput:
    return rules.CriterionInput(
        code=criterion.code,
        name=criterion.name,
        kind=criterion.kind,
        points=criterion.points,
        description=criterion.description,
        bands=tuple(criterion.bands or ()),
        rule=criterion.rule or {},
    )


def template_criteria(template: SchemeTemplate) -> list[dict[str, Any]]:
    """A scheme template's criteria as the rows a tender takes."""
    return [
        {
            "code": c.code,
            "name": c.name,
            "kind": c.kind,
            "points": c.points,
            "description": c.description,
            "bands": c.bands,
            "rule": c.rule,
        }
        for c in template.criteria.all()
    ]


def _check_template(template: SchemeTemplate, category: ServiceCategory) -> None:
    if not template.is_active:
        raise ValidationError({"scheme_template": [_("This scheme template is no longer in use.")]})
    if template.category_id != category.pk:
        raise ValidationError(
            {"scheme_template": [_("The scheme template is for another service category.")]}
        )


def _criteria(raw: Iterable[Mapping[str, Any]] | None) -> list[rules.CriterionInput] | None:
    if raw is None:
        return None
    rows, problems = rules.parse_criteria(raw)
    if problems:
        raise ValidationError({"criteria": problems})
    return rows


def tender_create(
    *,
    actor: User,
    title: str,
    description: str,
    category: ServiceCategory,
    method: str,
    budget: Decimal,
    bid_deadline: datetime,
    question_deadline: datetime,
    criteria: Iterable[Mapping[str, Any]],
    purchase_nature: str = "service",
    service_start: date | None = None,
    service_end: date | None = None,
    communities: Iterable[Community] = (),
    eligibility_notes: str = "",
    scheme_template: SchemeTemplate | None = None,
    tie_rule: str = "draw",
    trim_extremes: bool = False,
) -> Tender:
    """Draft a tender with its scoring scheme; refused on the negative list or a bad scheme.

    With ``scheme_template`` and no ``criteria`` the template's criteria (bands and rules
    included) are copied; the drafter adjusts them before publication.
    """
    _require(permissions.can_create_tender(actor))
    criteria = list(criteria or [])
    if scheme_template is not None:
        _check_template(scheme_template, category)
        if not criteria:
            criteria = template_criteria(scheme_template)
    parsed = _criteria(criteria)
    with transaction.atomic():
        tender = Tender(
            title=title.strip(),
            description=description.strip(),
            category=category,
            method=method,
            purchase_nature=purchase_nature,
            budget=budget,
            bid_deadline=bid_deadline,
            question_deadline=question_deadline,
            service_start=service_start,
            service_end=service_end,
            eligibility_notes=eligibility_notes.strip(),
            scheme_template=scheme_template.name if scheme_template is not None else "",
            tie_rule=tie_rule,
            trim_extremes=trim_extremes,
            created_by=actor,
        )
        tender.full_clean(exclude=["status", "created_by"], validate_constraints=False)
        _check_tender(tender, parsed)
        tender.save()
        tender.communities.set(list(communities))
        _save_criteria(tender, parsed or [])
        audit_record(
            action=AuditAction.TENDER_CREATED,
            actor=actor,
            obj=tender,
            state_after=tender.status,
            details={"title": tender.title, "method": method, "budget": tender.budget},
        )
    return tender


def tender_update(
    *,
    tender: Tender,
    actor: User,
    criteria: Iterable[Mapping[str, Any]] | None = None,
    communities: Iterable[Community] | None = None,
    **fields: Any,
) -> Tender:
    """Change a draft (its drafter only)."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    parsed = _criteria(criteria)
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_edit_tender(actor, tender))
        before = {name: getattr(tender, name) for name in fields}
        for name, value in fields.items():
            setattr(tender, name, value.strip() if isinstance(value, str) else value)
        tender.full_clean(exclude=["status", "created_by"], validate_constraints=False)
        current = [_criterion_input(c) for c in tender.criteria.all()]
        _check_tender(tender, parsed if parsed is not None else current)
        tender.save()
        if communities is not None:
            tender.communities.set(list(communities))
        if parsed is not None:
            _save_criteria(tender, parsed)
        changed = sorted(name for name in fields if before[name] != getattr(tender, name)) + (
            ["criteria"] if parsed is not None else []
        )
        audit_record(
            action=AuditAction.TENDER_UPDATED,
            actor=actor,
            obj=tender,
            details={"changed": changed},
        )
    return tender


def _store_tender_document(
    *, tender: Tender, actor: User, upload: Any, title: str, amendment: Amendment | None
) -> TenderDocument:
    data = read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
    kind = sniff_document(data)
    digest = sha256_hex(data)
    document = TenderDocument(
        tender=tender,
        title=(title or "").strip()[:200] or safe_filename(getattr(upload, "name", ""), kind),
        original_name=safe_filename(getattr(upload, "name", ""), kind),
        content_type=DOCUMENT_CONTENT_TYPES[kind],
        size=len(data),
        sha256=digest,
        amendment=amendment,
        uploaded_by=actor,
    )
    document.file.save(digest, ContentFile(data), save=False)
    document.save()
    audit_record(
        action=AuditAction.TENDER_DOCUMENT_ADDED,
        actor=actor,
        obj=document,
        details={"tender": tender.pk, "sha256": digest, "name": document.original_name},
    )
    return document


def tender_document_add(
    *, tender: Tender, actor: User, upload: Any, title: str = ""
) -> TenderDocument:
    """Attach a public document to a draft (after publication: through an amendment)."""
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_edit_tender(actor, tender))
        return _store_tender_document(
            tender=tender, actor=actor, upload=upload, title=title, amendment=None
        )


def tender_document_remove(*, document: TenderDocument, actor: User) -> None:
    with transaction.atomic():
        tender = _lock(document.tender)
        _require(permissions.can_edit_tender(actor, tender))
        audit_record(
            action=AuditAction.TENDER_DOCUMENT_REMOVED,
            actor=actor,
            obj=document,
            details={"tender": tender.pk, "sha256": document.sha256},
        )
        document.delete()


def _publication_problems(tender: Tender, now: datetime) -> dict[str, list[str]]:
    """What stops publication now: deadlines the method does not allow, a bad scheme."""
    errors: dict[str, list[str]] = {}
    earliest = rules.earliest_bid_deadline(tender.method, now)
    if tender.bid_deadline < earliest:
        errors["bid_deadline"] = [
            _(
                "Published now, the tender needs a bid deadline at least %(days)s days later "
                "(on or after %(earliest)s)."
            )
            % {
                "days": rules.MIN_BID_PERIOD_DAYS[tender.method],
                "earliest": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M"),
            }
        ]
    if tender.question_deadline <= now:
        errors["question_deadline"] = [_("The question deadline has already passed.")]
    current = [_criterion_input(c) for c in tender.criteria.all()]
    problems = rules.criteria_problems(tender.method, current)
    if problems:
        errors["criteria"] = problems
    reason = rules.negative_list_reason(tender.purchase_nature)
    if reason:
        errors["purchase_nature"] = [reason]
    return errors


def _next_reference(year: int) -> str:
    prefix = f"{settings.TENDER_REFERENCE_PREFIX}-{year}-"
    taken = Tender.objects.filter(reference__startswith=prefix).values_list("reference", flat=True)
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in taken if ref.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def tender_publish(*, tender: Tender, actor: User) -> Tender:
    """Two steps on one action (CONTRACTS): the drafter sends the draft for approval; an
    approver who did not draft it publishes it."""
    with transaction.atomic():
        tender = _lock(tender)
        before = tender.status
        now = timezone.now()
        if tender.status == TenderStatus.DRAFT:
            _require(permissions.can_submit_tender(actor, tender))
            # Caught here rather than at the approver's desk; checked again at publication.
            errors = _publication_problems(tender, now)
            if errors:
                raise ValidationError(errors)
            fire(tender, "submit")
            tender.submitted_at = now
            tender.return_note = ""
            tender.save()
            audit_record(
                action=AuditAction.TENDER_SUBMITTED,
                actor=actor,
                obj=tender,
                state_before=before,
                state_after=tender.status,
            )
            return tender
        if tender.status == TenderStatus.PENDING_APPROVAL and tender.created_by_id == actor.pk:
            raise ValidationError(
                _("A different person, an approver, must publish the tender you drafted."),
                code="four_eyes",
            )
        _require(permissions.can_approve_tender(actor, tender))
        errors = _publication_problems(tender, now)
        if errors:
            raise ValidationError(errors)
        fire(tender, "publish")
        tender.published_at = now
        tender.approved_by = actor
        tender.reference = _next_reference(timezone.localdate(now).year)
        tender.documents_until = min(
            add_working_days(timezone.localdate(now), rules.DOCUMENT_PERIOD_WORKING_DAYS),
            timezone.localdate(tender.bid_deadline),
        )
        tender.save()
        audit_record(
            action=AuditAction.TENDER_PUBLISHED,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={"reference": tender.reference, "bid_deadline": tender.bid_deadline},
        )
    return tender


def tender_return(*, tender: Tender, actor: User, note: str = "") -> Tender:
    """The approver returns the tender to its drafter with a note; or the drafter takes it back."""
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_return_tender(actor, tender))
        if actor.pk != tender.created_by_id and not note.strip():
            raise ValidationError({"note": _("Tell the drafter what to change.")})
        before = tender.status
        fire(tender, "return_to_draft")
        tender.return_note = note.strip()
        tender.save()
        audit_record(
            action=AuditAction.TENDER_RETURNED,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={"note": tender.return_note},
        )
    return tender


def tender_amend(
    *,
    tender: Tender,
    actor: User,
    summary: str,
    changes: Mapping[str, Any] | None = None,
    affects_preparation: bool = False,
    criteria: Iterable[Mapping[str, Any]] | None = None,
    uploads: Iterable[tuple[Any, str]] = (),
) -> Amendment:
    """Publish an amendment (更正公告) saying what changed.

    One that affects bid preparation moves the deadline so that at least 15 days remain
    (87号令 Art. 27) and sends every submitted bid back for confirmation.
    """
    changes = dict(changes or {})
    if not summary.strip():
        raise ValidationError({"summary": _("Say what changed and why.")})
    unknown = sorted(set(changes) - set(AMENDABLE_FIELDS))
    if unknown:
        raise ValidationError(
            {name: _("An amendment cannot change this field.") for name in unknown}
        )
    parsed = _criteria(criteria)
    uploads = list(uploads)
    if not changes and parsed is None and not uploads:
        raise ValidationError(_("The amendment changes nothing."), code="no_change")
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_amend_tender(actor, tender))
        now = timezone.now()
        deadline_before = tender.bid_deadline
        before = {name: getattr(tender, name) for name in changes}
        for name, value in changes.items():
            setattr(tender, name, value.strip() if isinstance(value, str) else value)
        tender.full_clean(exclude=["status", "created_by"], validate_constraints=False)
        current = [_criterion_input(c) for c in tender.criteria.all()]
        _check_tender(tender, parsed if parsed is not None else current)
        if tender.bid_deadline <= now:
            raise ValidationError({"bid_deadline": _("The new deadline has already passed.")})
        preparation = affects_preparation or parsed is not None or "budget" in changes
        if preparation:
            minimum = now + timedelta(days=rules.CLARIFICATION_MIN_DAYS)
            if tender.bid_deadline < minimum:
                tender.bid_deadline = minimum
        tender.save()
        if parsed is not None:
            _save_criteria(tender, parsed)
        number = (
            tender.amendments.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        amendment = Amendment.objects.create(
            tender=tender,
            number=number,
            summary=summary.strip(),
            changes={
                name: {"before": before[name], "after": getattr(tender, name)}
                for name in changes
                if before[name] != getattr(tender, name)
            }
            | ({"criteria": "changed"} if parsed is not None else {}),
            affects_preparation=preparation,
            bid_deadline_before=deadline_before,
            bid_deadline_after=tender.bid_deadline,
            created_by=actor,
        )
        for upload, title in uploads:
            _store_tender_document(
                tender=tender, actor=actor, upload=upload, title=title, amendment=amendment
            )
        audit_record(
            action=AuditAction.TENDER_AMENDED,
            actor=actor,
            obj=tender,
            details={
                "amendment": number,
                "changes": amendment.changes,
                "affects_preparation": preparation,
                "bid_deadline": tender.bid_deadline,
            },
        )
        if preparation:
            for bid in Bid.objects.select_for_update().filter(
                tender=tender, status=BidStatus.SUBMITTED
            ):
                fire(bid, "require_confirmation")
                bid.save()
                audit_record(
                    action=AuditAction.BID_NEEDS_CONFIRMATION,
                    actor=actor,
                    obj=bid,
                    state_before=BidStatus.SUBMITTED,
                    state_after=bid.status,
                    details=_sealed(bid),
                )
        notifications.amendment_published(amendment)
    return amendment


def tender_cancel(*, tender: Tender, actor: User, reason: str) -> Tender:
    """Cancel before the contract, with a public reason; sealed bids stay sealed."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give the public reason for the cancellation.")})
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_cancel_tender(actor, tender))
        before = tender.status
        fire(tender, "cancel")
        tender.cancel_reason = reason.strip()
        tender.cancelled_at = timezone.now()
        tender.save()
        audit_record(
            action=AuditAction.TENDER_CANCELLED,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={"reason": tender.cancel_reason},
        )
        if before not in (TenderStatus.DRAFT, TenderStatus.PENDING_APPROVAL):
            notifications.tender_cancelled(tender)
    return tender


def _close(tender: Tender, *, actor: User | None) -> None:
    before = tender.status
    fire(tender, "close")
    tender.closed_at = timezone.now()
    tender.save()
    audit_record(
        action=AuditAction.TENDER_CLOSED,
        actor=actor,
        obj=tender,
        state_before=before,
        state_after=tender.status,
    )


def tenders_close_due() -> int:
    """Close every published tender whose deadline passed (a periodic task and the opening)."""
    count = 0
    with transaction.atomic():
        for tender in Tender.objects.select_for_update().filter(
            status=TenderStatus.PUBLISHED, bid_deadline__lte=timezone.now()
        ):
            _close(tender, actor=None)
            count += 1
    return count


@dataclass(frozen=True)
class OpeningResult:
    tender: Tender
    opened: bool
    confirmations: int


def tender_open(*, tender: Tender, actor: User) -> OpeningResult:
    """An official confirms the opening; the second distinct official's confirmation opens.

    Opening copies every submitted bid's sealed content into its plain columns, marks it
    opened and produces the opening record. Fewer bids than the method's minimum: the
    tender fails (流标) and the notice is published.
    """
    with transaction.atomic():
        tender = _lock(tender)
        if not tender.deadline_passed and permissions.is_official(actor):
            raise ValidationError(
                _("The bids open at the deadline, %(deadline)s, not before.")
                % {"deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M")},
                code="too_early",
            )
        _require(permissions.can_open_tender(actor, tender))
        if tender.status == TenderStatus.PUBLISHED:
            _close(tender, actor=None)
        if OpeningConfirmation.objects.filter(tender=tender, official=actor).exists():
            raise ValidationError(
                _("You have confirmed the opening already; a second, different official must."),
                code="same_official",
            )
        OpeningConfirmation.objects.create(
            tender=tender, official=actor, confirmed_at=timezone.now()
        )
        confirmations = OpeningConfirmation.objects.filter(tender=tender).count()
        audit_record(
            action=AuditAction.TENDER_OPENING_CONFIRMED,
            actor=actor,
            obj=tender,
            details={"confirmations": confirmations},
        )
        if confirmations < 2:
            return OpeningResult(tender=tender, opened=False, confirmations=confirmations)
        _open_bids(tender, actor=actor)
    return OpeningResult(tender=tender, opened=True, confirmations=confirmations)


def _open_bids(tender: Tender, *, actor: User) -> None:
    now = timezone.now()
    bids = list(
        Bid.objects.select_for_update()
        .select_related("organization")
        .filter(tender=tender, status=BidStatus.SUBMITTED)
        .order_by("submitted_at", "pk")
    )
    for bid in bids:
        content = sealing.unseal_json(bid.sealed)
        bid.price = Decimal(content["price"])
        bid.proposal = content.get("proposal", "")
        fire(bid, "open")
        bid.opened_at = now
        bid.save()
        BidStaff.objects.bulk_create(
            BidStaff(
                bid=bid,
                person_id=row["person"],
                role=row["role"],
                fte=Decimal(row["fte"]),
            )
            for row in content.get("staff", [])
        )
        audit_record(
            action=AuditAction.BID_OPENED,
            actor=actor,
            obj=bid,
            state_before=BidStatus.SUBMITTED,
            state_after=bid.status,
            details={"sealed_tender": str(tender.pk), "bid": bid.pk, "price": bid.price},
        )
    before = tender.status
    fire(tender, "open")
    tender.opened_at = now
    tender.save()
    audit_record(
        action=AuditAction.TENDER_OPENED,
        actor=actor,
        obj=tender,
        state_before=before,
        state_after=tender.status,
        details={
            "bids": len(bids),
            "bidders": [bid.organization.uscc for bid in bids],
        },
    )
    if len(bids) < tender.minimum_bids:
        _fail(
            tender,
            actor=actor,
            reason=_record_text(
                gettext_noop(
                    "%(count)s valid bid(s) were received; this procurement method needs at "
                    "least %(minimum)s."
                ),
                count=len(bids),
                minimum=tender.minimum_bids,
            ),
        )
    notifications.tender_opened(tender)


def _fail(tender: Tender, *, actor: User, reason: str) -> None:
    before = tender.status
    fire(tender, "fail")
    tender.failed_reason = reason
    tender.failed_at = timezone.now()
    tender.save()
    audit_record(
        action=AuditAction.TENDER_FAILED,
        actor=actor,
        obj=tender,
        state_before=before,
        state_after=tender.status,
        details={"reason": reason},
    )
    notifications.tender_failed(tender)


def bid_review(*, bid: Bid, actor: User, qualified: bool, reason: str = "") -> Bid:
    """Qualification and conformity review of an opened bid, with a reason when it fails.

    Once every opened bid is reviewed, too few qualified ones fail the tender (流标).
    """
    if not qualified and not reason.strip():
        raise ValidationError({"reason": _("Say why the bid is disqualified.")})
    with transaction.atomic():
        tender = _lock(bid.tender)
        bid = _lock(bid)
        _require(permissions.can_review_bids(actor, tender))
        before = bid.status
        fire(bid, "qualify" if qualified else "disqualify")
        bid.review_reason = "" if qualified else reason.strip()
        bid.reviewed_by = actor
        bid.reviewed_at = timezone.now()
        bid.save()
        audit_record(
            action=AuditAction.BID_QUALIFIED if qualified else AuditAction.BID_DISQUALIFIED,
            actor=actor,
            obj=bid,
            state_before=before,
            state_after=bid.status,
            details={"tender": tender.pk, "reason": bid.review_reason},
        )
        pending = Bid.objects.filter(tender=tender, status=BidStatus.OPENED).exists()
        if not pending:
            qualified_count = Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED).count()
            if qualified_count < tender.minimum_bids:
                _fail(
                    tender,
                    actor=actor,
                    reason=_record_text(
                        gettext_noop(
                            "%(count)s bid(s) passed the qualification review; this "
                            "procurement method needs at least %(minimum)s."
                        ),
                        count=qualified_count,
                        minimum=tender.minimum_bids,
                    ),
                )
    return bid


# --- Questions and interest ------------------------------------------------------------------


def _follow(tender: Tender, user: User) -> bool:
    _interest, created = TenderInterest.objects.get_or_create(tender=tender, user=user)
    return created


def tender_follow(*, tender: Tender, user: User) -> None:
    """Be told by e-mail about answers, amendments and the outcome."""
    _require(permissions.can_follow_tender(user, tender))
    with transaction.atomic():
        if _follow(tender, user):
            audit_record(action=AuditAction.TENDER_FOLLOWED, actor=user, obj=tender)


def question_ask(*, tender: Tender, actor: User, text: str) -> Question:
    if not text.strip():
        raise ValidationError({"text": _("Write the question.")})
    with transaction.atomic():
        tender = _lock(tender)
        if tender.status == TenderStatus.PUBLISHED and not tender.is_accepting_questions:
            raise ValidationError(
                _("Questions closed on %(day)s.")
                % {"day": timezone.localtime(tender.question_deadline).strftime("%Y-%m-%d %H:%M")},
                code="questions_closed",
            )
        _require(permissions.can_ask_question(actor, tender))
        question = Question(
            tender=tender,
            organization=actor.organization,
            asked_by=actor,
            text=text.strip(),
        )
        question.full_clean(exclude=["status", "tender", "organization", "asked_by"])
        question.save()
        _follow(tender, actor)
        audit_record(
            action=AuditAction.QUESTION_ASKED,
            actor=actor,
            obj=question,
            state_after=question.status,
            details={"tender": tender.pk},
        )
    return question


def question_answer(*, question: Question, actor: User, answer: str) -> Question:
    """Answer a question; the answer is published to everyone without the asker's identity."""
    if not answer.strip():
        raise ValidationError({"answer": _("Write the answer.")})
    with transaction.atomic():
        question = _lock(question)
        _require(permissions.can_answer_question(actor, question))
        before = question.status
        fire(question, "publish_answer")
        question.answer = answer.strip()
        question.answered_by = actor
        question.answered_at = timezone.now()
        question.full_clean(exclude=["status", "tender", "organization", "asked_by", "answered_by"])
        question.save()
        audit_record(
            action=AuditAction.QUESTION_ANSWERED,
            actor=actor,
            obj=question,
            state_before=before,
            state_after=question.status,
            details={"tender": question.tender_id},
        )
        notifications.answer_published(question)
    return question


# --- Bids --------------------------------------------------------------------------------------


def _eligibility_errors(organization: Organization, tender: Tender) -> list[str]:
    result = org_eligibility(organization, tender)
    return [str(issue) for issue in result.failures]


def _clean_staff(
    organization: Organization, staff: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Validate a staffing plan against the organization's current roster."""
    rows = list(staff)
    problems: list[str] = []
    today = timezone.localdate()
    ids: list[int] = []
    for row in rows:
        try:
            ids.append(int(str(row.get("person"))))
        except (TypeError, ValueError):
            ids.append(-1)
    employed = set(
        Employment.objects.filter(
            organization=organization, person_id__in=ids, start_date__lte=today
        )
        .exclude(end_date__lt=today)
        .values_list("person_id", flat=True)
    )
    cleaned: list[dict[str, Any]] = []
    seen: set[int] = set()
    for number, (row, person_id) in enumerate(zip(rows, ids, strict=True), start=1):
        role = str(row.get("role", "")).strip()
        try:
            fte = Decimal(str(row.get("fte", ""))).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            fte = Decimal("-1")
        if person_id not in employed:
            problems.append(
                _("staff %(n)s: the person is not on the organization's current roster")
                % {"n": number}
            )
        elif person_id in seen:
            problems.append(_("staff %(n)s: the person is listed twice") % {"n": number})
        if not role:
            problems.append(_("staff %(n)s: the role is missing") % {"n": number})
        elif len(role) > 60:
            problems.append(_("staff %(n)s: the role is longer than 60 characters") % {"n": number})
        if not (Decimal("0") < fte <= Decimal("1")):
            problems.append(
                _("staff %(n)s: the full-time equivalent must be more than 0 and at most 1")
                % {"n": number}
            )
        seen.add(person_id)
        cleaned.append({"person": person_id, "role": role, "fte": str(fte)})
    if problems:
        raise ValidationError({"staff": problems})
    return cleaned


def _content(bid: Bid) -> dict[str, Any]:
    if not bid.sealed:
        return {"price": None, "staff": [], "proposal": ""}
    return dict(sealing.unseal_json(bid.sealed))


@dataclass(frozen=True)
class PreparedBid:
    """The draft a preparation saved, and whether that call made it (the API answers 201)."""

    bid: Bid
    created: bool


def bid_prepare(
    *,
    tender: Tender,
    actor: User,
    price: Decimal | None = None,
    staff: Iterable[Mapping[str, Any]] | None = None,
    proposal: str | None = None,
) -> Bid:
    """Create or change the organization's draft bid (one bid per organization and tender).

    Calling it again (a retry, a second click) changes the same draft; it never makes a
    second bid.
    """
    return bid_prepare_draft(
        tender=tender, actor=actor, price=price, staff=staff, proposal=proposal
    ).bid


def bid_prepare_draft(
    *,
    tender: Tender,
    actor: User,
    price: Decimal | None = None,
    staff: Iterable[Mapping[str, Any]] | None = None,
    proposal: str | None = None,
) -> PreparedBid:
    """``bid_prepare``, also telling whether this call made the draft (the API's 201).

    Decided under the tender's lock: of many concurrent first saves exactly one made it; a
    look for an existing draft before the call would let several claim it.
    """
    with transaction.atomic():
        tender = _lock(tender)
        # Read afresh, not the actor's cached one: the gate below must see the
        # organization as it is now (deregistration started, a credit listing).
        organization = Organization.objects.filter(
            pk=getattr(actor, "organization_id", None)
        ).first()
        if tender.status == TenderStatus.PUBLISHED and tender.deadline_passed:
            raise ValidationError(_("The bid deadline has passed."), code="late")
        if organization is None or not permissions.can_prepare_bid(actor, tender):
            raise PermissionDenied
        failures = _eligibility_errors(organization, tender)
        if failures:
            raise ValidationError(failures, code="not_eligible")
        bid = (
            Bid.objects.select_for_update().filter(tender=tender, organization=organization).first()
        )
        created = bid is None
        if bid is None:
            bid = Bid(tender=tender, organization=organization, created_by=actor)
        elif bid.status != BidStatus.DRAFT:
            raise ValidationError(
                _(
                    "Your organization's bid is %(status)s; withdraw it (or reopen it) before "
                    "changing it."
                )
                % {"status": bid.get_status_display()},
                code="not_draft",
            )
        content = _content(bid)
        errors: dict[str, list[str]] = {}
        if price is not None:
            try:
                price = Decimal(str(price))
            except (InvalidOperation, ValueError):
                price = Decimal("-1")
            if price <= 0:
                errors["price"] = [_("The price must be more than 0.")]
            elif price > tender.budget:
                errors["price"] = [
                    _("The price is above the budget ceiling of %(budget)s.")
                    % {"budget": tender.budget}
                ]
            else:
                content["price"] = str(price.quantize(Decimal("0.01")))
        if staff is not None:
            try:
                content["staff"] = _clean_staff(organization, staff)
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if proposal is not None:
            if len(proposal) > 50000:
                errors["proposal"] = [_("The proposal is longer than 50,000 characters.")]
            content["proposal"] = proposal.strip()
        if errors:
            raise ValidationError(errors)
        bid.sealed = sealing.seal_json(content)
        if created:
            try:
                with transaction.atomic():
                    bid.save()
            except IntegrityError:
                # A concurrent first click made it: change that one instead.
                created = False
                bid = Bid.objects.select_for_update().get(tender=tender, organization=organization)
                bid.sealed = sealing.seal_json(content)
                bid.save()
        else:
            bid.save()
        _follow(tender, actor)
        audit_record(
            action=AuditAction.BID_PREPARED,
            actor=actor,
            obj=bid,
            state_after=bid.status,
            details=_sealed(bid),
        )
    return PreparedBid(bid=bid, created=created)


def bid_document_add(*, bid: Bid, actor: User, upload: Any, kind: str = "other") -> BidDocument:
    """Attach a document to a draft bid: type by content, size limit, SHA-256, encrypted."""
    with transaction.atomic():
        tender = _lock(bid.tender)
        bid = _lock(bid)
        _require(permissions.can_edit_bid(actor, bid) and tender.is_accepting_bids)
        data = read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
        detected = sniff_document(data)
        name = safe_filename(getattr(upload, "name", ""), detected)
        document = BidDocument(
            bid=bid,
            kind=kind,
            storage_key=uuid.uuid4().hex,
            sealed_name=sealing.seal_json(name),
            content_type=DOCUMENT_CONTENT_TYPES[detected],
            size=len(data),
            sha256=sha256_hex(data),
        )
        document.full_clean(exclude=["bid", "file", "storage_key", "sealed_name"])
        document.file.save(document.storage_key, ContentFile(sealing.seal_bytes(data)), save=False)
        document.save()
        audit_record(
            action=AuditAction.BID_DOCUMENT_ADDED,
            actor=actor,
            obj=bid,
            details={**_sealed(bid), "document": document.pk, "sha256": document.sha256},
        )
    return document


def bid_document_remove(*, document: BidDocument, actor: User) -> None:
    with transaction.atomic():
        bid = _lock(document.bid)
        _require(permissions.can_edit_bid(actor, bid))
        audit_record(
            action=AuditAction.BID_DOCUMENT_REMOVED,
            actor=actor,
            obj=bid,
            details={**_sealed(bid), "document": document.pk, "sha256": document.sha256},
        )
        document.file.delete(save=False)
        document.delete()


def bid_content_hash(bid: Bid, content: Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """SHA-256 over the bid's content and its documents' hashes, and the per-document list."""
    documents = [
        {"id": str(d.pk), "sha256": d.sha256, "kind": d.kind} for d in bid.documents.order_by("pk")
    ]
    canonical = json.dumps(
        {
            "tender": bid.tender_id,
            "organization": bid.organization.uscc,
            "price": content.get("price"),
            "staff": content.get("staff", []),
            "proposal": content.get("proposal", ""),
            "documents": [d["sha256"] for d in documents],
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest(), documents


class LateSubmission(ValidationError):
    """A submission received at or after the deadline; ``received_at`` is the server time."""

    def __init__(self, message: str, *, received_at: datetime) -> None:
        super().__init__(message, code="late")
        self.received_at = received_at


def _lock_for_receipt(bid: Bid) -> tuple[Tender, Bid, datetime]:
    """Lock the tender row, then the bid, then read the server clock (DESIGN 6).

    On PostgreSQL the tender row is locked ``FOR SHARE``: submissions to one tender run
    side by side, while whatever moves or closes the deadline (amendment, cancellation,
    opening) takes the row ``FOR UPDATE`` and so waits for every submission in flight and
    is waited for by every later one. The clock is read only once both locks are held, so
    the time that decides is never computed before the lock. Receipts of simultaneous
    submissions may then take audit sequence numbers in another order than their times.
    """
    if connection.vendor == "postgresql":
        # Django's select_for_update() has no FOR SHARE: the row is read and locked in one
        # statement (a rush sends many submissions a second to one tender).
        table = connection.ops.quote_name(Tender._meta.db_table)
        tender = Tender.objects.raw(
            f"SELECT * FROM {table} WHERE id = %s FOR SHARE",  # noqa: S608 (the model's table)
            [bid.tender_id],
        )[0]
    else:
        tender = Tender.objects.select_for_update().get(pk=bid.tender_id)
    bid = Bid.objects.select_for_update().select_related("organization").get(pk=bid.pk)
    bid.tender = tender
    return tender, bid, timezone.now()


def _refuse_late(tender: Tender, now: datetime) -> None:
    if now >= tender.bid_deadline:
        raise LateSubmission(
            _("Received at %(time)s, after the deadline of %(deadline)s: not accepted.")
            % {
                "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S.%f"),
                "deadline": timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S"),
            },
            received_at=now,
        )


def _receive(
    bid: Bid,
    tender: Tender,
    *,
    actor: User,
    kind: str,
    action: AuditAction,
    now: datetime,
    eligibility: Eligibility,
) -> BidReceipt:
    """Issue the receipt: the server time read under the locks, hashes, audit sequence."""
    content = _content(bid)
    if not content.get("price"):
        raise ValidationError({"price": _("Enter the price before submitting.")})
    digest, documents = bid_content_hash(bid, content)
    before = bid.status
    fire(bid, "submit" if kind == "submitted" else "confirm")
    bid.content_sha256 = digest
    bid.submitted_at = now
    bid.warnings = [
        {"code": issue.code, "message": _in_language_of_record(issue.message)}
        for issue in eligibility.warnings
    ]
    bid.save(update_fields=["status", "content_sha256", "submitted_at", "warnings", "updated_at"])
    event = audit_record(
        action=action,
        actor=actor,
        obj=bid,
        state_before=before,
        state_after=bid.status,
        details={**_sealed(bid), "sha256": digest},
    )
    return BidReceipt.objects.create(
        bid=bid,
        received_at=now,
        sha256=digest,
        documents=documents,
        sequence=event.sequence,
        kind=kind,
    )


def bid_submit(*, bid: Bid, actor: User) -> BidReceipt:
    """Seal and submit; the deadline is enforced in this transaction, after the tender lock.

    Submitting a bid that is already submitted (a double click, a retry) returns the
    receipt it already has.
    """
    with transaction.atomic():
        tender, bid, now = _lock_for_receipt(bid)
        _require(permissions.can_submit_bid(actor, bid))
        if bid.status == BidStatus.SUBMITTED:
            receipt = bid.receipts.order_by("-received_at").first()
            if receipt is not None:
                return receipt
        _refuse_late(tender, now)
        eligibility = org_eligibility(bid.organization, tender)
        if eligibility.failures:
            raise ValidationError(
                [str(issue) for issue in eligibility.failures], code="not_eligible"
            )
        if bid.status != BidStatus.DRAFT:
            raise ValidationError(
                _("A bid that is %(status)s cannot be submitted; reopen it first.")
                % {"status": bid.get_status_display()},
                code="invalid_state",
            )
        return _receive(
            bid,
            tender,
            actor=actor,
            kind="submitted",
            action=AuditAction.BID_SUBMITTED,
            now=now,
            eligibility=eligibility,
        )


def bid_confirm(*, bid: Bid, actor: User) -> BidReceipt:
    """Confirm a bid as it is after an amendment; a new receipt is issued."""
    with transaction.atomic():
        tender, bid, now = _lock_for_receipt(bid)
        _require(permissions.can_submit_bid(actor, bid))
        if bid.status != BidStatus.NEEDS_CONFIRMATION:
            raise ValidationError(
                _("Only a bid waiting for confirmation after an amendment can be confirmed."),
                code="invalid_state",
            )
        _refuse_late(tender, now)
        return _receive(
            bid,
            tender,
            actor=actor,
            kind="confirmed",
            action=AuditAction.BID_CONFIRMED,
            now=now,
            eligibility=org_eligibility(bid.organization, tender),
        )


def _before_deadline(tender: Tender) -> None:
    if tender.deadline_passed:
        raise ValidationError(_("The bid deadline has passed."), code="late")


def bid_withdraw(*, bid: Bid, actor: User) -> Bid:
    """Take a submitted bid back before the deadline."""
    with transaction.atomic():
        tender = _lock(bid.tender)
        bid = _lock(bid)
        _require(permissions.can_withdraw_bid(actor, bid))
        _before_deadline(tender)
        before = bid.status
        fire(bid, "withdraw")
        bid.save()
        audit_record(
            action=AuditAction.BID_WITHDRAWN,
            actor=actor,
            obj=bid,
            state_before=before,
            state_after=bid.status,
            details=_sealed(bid),
        )
    return bid


def bid_reopen(*, bid: Bid, actor: User) -> Bid:
    """Back to a draft, to change a withdrawn bid or one waiting for confirmation."""
    with transaction.atomic():
        tender = _lock(bid.tender)
        bid = _lock(bid)
        _require(permissions.can_withdraw_bid(actor, bid))
        _before_deadline(tender)
        before = bid.status
        fire(bid, "reopen")
        bid.save()
        audit_record(
            action=AuditAction.BID_REOPENED,
            actor=actor,
            obj=bid,
            state_before=before,
            state_after=bid.status,
            details=_sealed(bid),
        )
    return bid


def bid_keys_rotate() -> int:
    """Re-encrypt every sealed value with the first key of BID_ENCRYPTION_KEYS."""
    count = 0
    with transaction.atomic():
        for bid in Bid.objects.select_for_update().exclude(sealed=""):
            bid.sealed = sealing.rotate(bid.sealed.encode()).decode()
            bid.save(update_fields=["sealed"])
            count += 1
        for document in BidDocument.objects.select_for_update():
            document.sealed_name = sealing.rotate(document.sealed_name.encode()).decode()
            with document.file.open("rb") as handle:
                token = sealing.rotate(handle.read())
            document.file.delete(save=False)
            document.file.save(document.storage_key, ContentFile(token), save=False)
            document.save(update_fields=["sealed_name", "file"])
            count += 1
        audit_record(action=AuditAction.BID_KEYS_ROTATED, details={"values": count})
    return count


# --- Award and challenges --------------------------------------------------------------------

# A challenge carries at most this many documents.
CHALLENGE_MAX_DOCUMENTS = 10
# Challenges that still wait for an answer or a decision.
PENDING_CHALLENGE_STATES = (ChallengeStatus.FILED, ChallengeStatus.ANSWERED)
DECIDED_CHALLENGE_STATES = (ChallengeStatus.ACCEPTED, ChallengeStatus.REJECTED)


def _flag_messages(flags: Iterable[Any]) -> list[str]:
    return [
        _(
            "A confirmed double-funding flag blocks this until it is resolved: "
            "%(kind)s, %(subject)s."
        )
        % {"kind": flag.get_kind_display(), "subject": flag.subject_label}
        for flag in flags
    ]


def _award_blockers(tender: Tender) -> list[str]:
    """Reasons, other than the ranking's state, why the award cannot be confirmed yet:
    confirmed double-funding flags about the tender itself (DESIGN 5)."""
    from evaluation.selectors.integrity import blocking_flags

    return _flag_messages(blocking_flags(tender=tender))


def _bid_award_blockers(bid: Bid) -> list[str]:
    """Confirmed double-funding flags about the chosen bid or its organization in the tender:
    that bid cannot win until they are resolved (DESIGN 5)."""
    from evaluation.selectors.integrity import blocking_flags

    return _flag_messages(blocking_flags(bid=bid))


def _active_award(tender: Tender, *, lock: bool = False) -> Award | None:
    awards = Award.objects.filter(tender=tender, status=AwardStatus.ACTIVE)
    if lock:
        awards = awards.select_for_update()
    return awards.first()


def _ranking_rows(ranking: evaluation_models.Ranking) -> list[evaluation_models.RankingRow]:
    return list(
        evaluation_models.RankingRow.objects.filter(ranking=ranking)
        .select_related("bid__organization")
        .order_by("position")
    )


def _row_summary(row: evaluation_models.RankingRow, *, scores: bool = False) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "position": row.position,
        "bid": str(row.bid_id),
        "organization": row.bid.organization.name,
        "uscc": row.bid.organization.uscc,
        "price": row.price,
        "price_score": row.price_score,
        "total": row.total,
        "rank": row.rank,
        "tied": row.tied,
    }
    if scores:
        summary["criterion_scores"] = row.criterion_scores
    return summary


def _pending_challenges(tender: Tender) -> bool:
    return Challenge.objects.filter(tender=tender, status__in=PENDING_CHALLENGE_STATES).exists()


def award_confirm(*, tender: Tender, actor: User, bid: Bid, reason: str = "") -> Award:
    """An approver confirms the winner; the award notice (中标公告) is published with it.

    Normally the first position of the frozen ranking; any other ranked bid needs a written
    reason. Publishing at the confirmation keeps the rule "within 2 working days" (87号令
    Art. 69); the notice is public for 1 working day, and challenges run for 7 working days
    from it (政府采购质疑和投诉办法 Art. 10).
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        # Lock order: the tender, then the panel and the ranked bids.
        tender = _lock(tender)
        if permissions.is_approver(actor) and tender.status != TenderStatus.EVALUATING:
            raise ValidationError(
                _("Only a tender under evaluation can be awarded; this one is “%(state)s”.")
                % {"state": tender.get_status_display()},
                code="invalid_state",
            )
        if permissions.is_approver(actor) and tender.created_by_id == actor.pk:
            raise ValidationError(
                _("A different approver must confirm the award of a tender you drafted."),
                code="four_eyes",
            )
        _require(permissions.can_confirm_award(actor, tender))
        panel = evaluation_models.Panel.objects.select_for_update().filter(tender=tender).first()
        ranking = evaluation_models.Ranking.objects.filter(tender=tender).first()
        if panel is None or panel.status != evaluation_models.PanelStatus.RANKED or ranking is None:
            raise ValidationError(
                _("The panel has not finished: there is no frozen ranking to award from."),
                code="not_ranked",
            )
        if evaluation_models.RankingCorrection.objects.filter(
            ranking=ranking, applied_at__isnull=True
        ).exists():
            raise ValidationError(
                _("A correction of the ranking is pending; apply it before the award."),
                code="correction_pending",
            )
        blockers = _award_blockers(tender)
        if blockers:
            raise ValidationError(blockers, code="blocked")
        if _pending_challenges(tender):
            raise ValidationError(
                _("A challenge of the previous award waits for its answer or decision."),
                code="challenge_pending",
            )
        rows = _ranking_rows(ranking)
        chosen = next((row for row in rows if row.bid_id == bid.pk), None)
        if chosen is None:
            raise ValidationError({"bid": [_("This bid is not in the tender's ranking.")]})
        if chosen.bid.status != BidStatus.RANKED:
            raise ValidationError(
                {
                    "bid": [
                        _("The bid is “%(state)s”; only a ranked bid can win.")
                        % {"state": chosen.bid.get_status_display()}
                    ]
                }
            )
        bid_blockers = _bid_award_blockers(chosen.bid)
        if bid_blockers:
            raise ValidationError({"bid": bid_blockers}, code="blocked")
        if chosen.position != 1 and not reason:
            raise ValidationError(
                {
                    "reason": [
                        _(
                            "The bid is in position %(position)s; say why the first-ranked "
                            "bid is not chosen."
                        )
                        % {"position": chosen.position}
                    ]
                }
            )
        ranked = list(
            Bid.objects.select_for_update()
            .filter(pk__in=[row.bid_id for row in rows])
            .order_by("pk")
        )
        now = timezone.now()
        notice_day = timezone.localdate(now)
        award = Award(
            tender=tender,
            bid_id=chosen.bid_id,
            position=chosen.position,
            reason=reason,
            confirmed_by=actor,
            confirmed_at=now,
            notice_published_at=now,
            notice_until=add_working_days(notice_day, evaluation_rules.AWARD_NOTICE_WORKING_DAYS),
            challenge_deadline=add_working_days(
                notice_day, evaluation_rules.CHALLENGE_WORKING_DAYS
            ),
        )
        award.full_clean(exclude=["tender", "bid", "confirmed_by"], validate_constraints=False)
        before = tender.status
        fire(tender, "award")
        tender.awarded_at = now
        tender.save()
        award.save()
        bid_states = []
        for other in ranked:
            state = other.status
            if other.pk != chosen.bid_id and state != BidStatus.RANKED:
                continue  # found invalid after the ranking: it neither wins nor loses
            fire(other, "win" if other.pk == chosen.bid_id else "lose")
            other.save()
            bid_states.append(
                {"bid": str(other.pk), "state_before": state, "state_after": other.status}
            )
        winner = chosen.bid.organization
        audit_record(
            action=AuditAction.TENDER_AWARDED,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={
                "award": award.pk,
                "bid": str(chosen.bid_id),
                "winner": {"name": winner.name, "uscc": winner.uscc},
                "price": chosen.price,
                "position": chosen.position,
                "reason": reason,
                "notice_until": award.notice_until,
                "challenge_deadline": award.challenge_deadline,
                "ranking": [_row_summary(row) for row in rows],
                "bids": bid_states,
            },
        )
        notifications.award_published(award, rows)
    return award


def tender_ready_for_contract(tender: Tender) -> bool:
    """Whether the tender may move on to contracting: awarded, the challenge window over,
    no challenge waiting for its answer or decision."""
    if tender.status != TenderStatus.AWARDED:
        return False
    award = _active_award(tender)
    if award is None or timezone.localdate() <= award.challenge_deadline:
        return False
    return not _pending_challenges(tender)


@dataclass(frozen=True)
class _Upload:
    name: str
    kind: str
    data: bytes
    sha256: str


def _read_challenge_uploads(uploads: list[Any]) -> list[_Upload]:
    """Check every upload like a bid document (size, type by content) before anything is
    stored; all problems are reported together, each with its file's name."""
    if len(uploads) > CHALLENGE_MAX_DOCUMENTS:
        raise ValidationError(
            {
                "documents": [
                    _("Attach at most %(max)s documents to a challenge.")
                    % {"max": CHALLENGE_MAX_DOCUMENTS}
                ]
            }
        )
    problems: list[str] = []
    files: list[_Upload] = []
    seen: set[str] = set()
    for upload in uploads:
        given = str(getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
        try:
            data = read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
            kind = sniff_document(data)
        except ValidationError as exc:
            messages = (
                exc.message_dict.get("file", exc.messages)
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            problems.extend(f"{given or _('document')}: {message}" for message in messages)
            continue
        digest = sha256_hex(data)
        if digest in seen:  # the same file twice: stored once
            continue
        seen.add(digest)
        files.append(_Upload(name=safe_filename(given, kind), kind=kind, data=data, sha256=digest))
    if problems:
        raise ValidationError({"documents": problems})
    return files


def challenge_file(
    *, tender: Tender, actor: User, subject: str, text: str, uploads: Iterable[Any] = ()
) -> Challenge:
    """A bidder challenges (质疑) the award within 7 working days of the award notice
    (政府采购质疑和投诉办法 Art. 10); the answer is due 7 working days later (Art. 13)."""
    _require(permissions.can_file_challenge(actor, tender))
    subject, text = (subject or "").strip(), (text or "").strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = [_("Give the challenge a subject.")]
    if not text:
        errors["text"] = [_("Write the grounds of the challenge.")]
    if errors:
        raise ValidationError(errors)
    # Files are read and checked before the lock: slow work stays outside it.
    files = _read_challenge_uploads(list(uploads))
    with transaction.atomic():
        tender = _lock(tender)
        _require(permissions.can_file_challenge(actor, tender))
        bid = (
            Bid.objects.filter(
                tender=tender, organization_id=actor.organization_id, opened_at__isnull=False
            )
            .select_related("organization")
            .first()
        )
        if bid is None:
            raise ValidationError(
                _("Only an organization whose bid was opened in this tender may challenge it."),
                code="not_a_bidder",
            )
        award = _active_award(tender)
        if tender.status != TenderStatus.AWARDED or award is None:
            raise ValidationError(
                _("Only an award in force can be challenged; this tender has none."),
                code="no_award",
            )
        now = timezone.now()
        today = timezone.localdate(now)
        if today > award.challenge_deadline:
            raise ValidationError(
                _("Challenges were accepted until %(day)s, 7 working days after the award notice.")
                % {"day": award.challenge_deadline.isoformat()},
                code="late",
            )
        challenge = Challenge(
            tender=tender,
            bid=bid,
            organization=bid.organization,
            filed_by=actor,
            subject=subject,
            text=text,
            filed_at=now,
            answer_due=add_working_days(today, evaluation_rules.CHALLENGE_ANSWER_WORKING_DAYS),
        )
        challenge.full_clean(
            exclude=["status", "tender", "bid", "organization", "filed_by"],
            validate_constraints=False,
        )
        challenge.save()
        for upload in files:
            document = ChallengeDocument(
                challenge=challenge,
                original_name=upload.name,
                content_type=DOCUMENT_CONTENT_TYPES[upload.kind],
                size=len(upload.data),
                sha256=upload.sha256,
            )
            document.file.save(upload.sha256, ContentFile(upload.data), save=False)
            document.save()
        audit_record(
            action=AuditAction.CHALLENGE_FILED,
            actor=actor,
            obj=challenge,
            state_after=challenge.status,
            details={
                "tender": tender.pk,
                "award": award.pk,
                "bid": str(bid.pk),
                "organization": bid.organization.uscc,
                "subject": subject,
                "answer_due": challenge.answer_due,
                "documents": [{"name": f.name, "sha256": f.sha256} for f in files],
            },
        )
        notifications.challenge_filed(challenge)
    return challenge


def challenge_answer(
    *, challenge: Challenge, actor: User, answer: str, upheld: bool, remedy: str = ""
) -> Challenge:
    """An official answers a challenge in writing and proposes whether to uphold it; an
    upheld one names its remedy. An approver decides afterwards (``challenge_decide``)."""
    answer, remedy = (answer or "").strip(), (remedy or "").strip()
    errors: dict[str, list[str]] = {}
    if not answer:
        errors["answer"] = [_("Write the answer to the challenge.")]
    remedies = (ChallengeRemedy.REOPEN_EVALUATION, ChallengeRemedy.REOPEN_AWARD)
    if upheld and remedy not in remedies:
        errors["remedy"] = [
            _(
                "An upheld challenge needs its remedy: the panel evaluates again, or the "
                "award is decided again."
            )
        ]
    if not upheld and remedy:
        errors["remedy"] = [_("Only an upheld challenge has a remedy.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock(challenge.tender)
        challenge = _lock(challenge)
        if permissions.is_official(actor) and challenge.status != ChallengeStatus.FILED:
            raise ValidationError(_("This challenge is answered already."), code="invalid_state")
        _require(permissions.can_answer_challenge(actor, challenge))
        before = challenge.status
        fire(challenge, "publish_answer")
        challenge.answer = answer
        challenge.upheld = bool(upheld)
        challenge.remedy = remedy if upheld else ChallengeRemedy.NONE
        challenge.answered_by = actor
        challenge.answered_at = timezone.now()
        challenge.full_clean(
            exclude=["status", "tender", "bid", "organization", "filed_by", "answered_by"],
            validate_constraints=False,
        )
        challenge.save()
        audit_record(
            action=AuditAction.CHALLENGE_ANSWERED,
            actor=actor,
            obj=challenge,
            state_before=before,
            state_after=challenge.status,
            details={
                "tender": challenge.tender_id,
                "upheld": challenge.upheld,
                "remedy": challenge.remedy,
                "late": timezone.localdate(challenge.answered_at) > challenge.answer_due,
            },
        )
        notifications.challenge_answered(challenge)
    return challenge


def _withdraw_award(
    tender: Tender, *, actor: User, challenge: Challenge, now: datetime
) -> dict[str, Any]:
    """Withdraw the award in force, send the tender back to evaluation and the won and
    lost bids back to ranked, so that an approver may confirm again."""
    award = _active_award(tender, lock=True)
    before = tender.status
    if tender.status == TenderStatus.AWARDED:
        fire(tender, "reopen_evaluation")
        tender.save()
    if award is not None:
        award.status = AwardStatus.WITHDRAWN
        award.withdrawn_at = now
        with translation.override(settings.LANGUAGE_CODE):
            award.withdrawn_reason = _("A challenge was upheld: %(remedy)s.") % {
                "remedy": str(ChallengeRemedy(challenge.remedy).label)
            }
        award.save()
    reset = []
    for bid in (
        Bid.objects.select_for_update()
        .filter(tender=tender, status__in=[BidStatus.WON, BidStatus.LOST])
        .order_by("pk")
    ):
        fire(bid, "reset_award")
        bid.save()
        reset.append(str(bid.pk))
    details = {"award_withdrawn": award.pk if award else None, "bids_reset": reset}
    if award is not None or reset or before != tender.status:
        audit_record(
            action=AuditAction.TENDER_AWARD_WITHDRAWN,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={
                **details,
                "challenge": challenge.pk,
                "bid": str(award.bid_id) if award else None,
                "reason": award.withdrawn_reason if award else "",
            },
        )
    return details


def _reopen_panel(tender: Tender, *, actor: User, challenge: Challenge) -> dict[str, Any]:
    """Send the evaluation back to the panel: ranked bids back to qualified, every locked
    sheet reopened, the panel scoring again and the frozen ranking removed (its rows are
    kept in the audit event) so that the panel's ranking is computed afresh."""
    panel = evaluation_models.Panel.objects.select_for_update().filter(tender=tender).first()
    ranking = evaluation_models.Ranking.objects.select_for_update().filter(tender=tender).first()
    unranked = []
    for bid in (
        Bid.objects.select_for_update()
        .filter(tender=tender, status=BidStatus.RANKED)
        .order_by("pk")
    ):
        fire(bid, "unrank")
        bid.save()
        unranked.append(str(bid.pk))
    sheets = []
    panel_before = panel.status if panel else ""
    if panel is not None:
        locked = evaluation_models.ScoreSheet.objects.select_for_update().filter(
            member__panel=panel, status=evaluation_models.SheetStatus.LOCKED
        )
        for sheet in locked.order_by("pk"):
            fire(sheet, "reopen")
            sheet.locked_at = None
            sheet.save()
            sheets.append(sheet.pk)
            audit_record(
                action=AuditAction.SCORESHEET_REOPENED,
                actor=actor,
                obj=sheet,
                state_before=evaluation_models.SheetStatus.LOCKED,
                state_after=sheet.status,
                details={"tender": tender.pk, "challenge": challenge.pk, "reason": "challenge"},
            )
        if panel.status == evaluation_models.PanelStatus.RANKED:
            fire(panel, "reopen")
            panel.save()
    frozen = None
    if ranking is not None:
        frozen = {
            "version": ranking.version,
            "base_price": ranking.base_price,
            "trim_extremes": ranking.trim_extremes,
            "tie_break": ranking.tie_break,
            "tie_seed": ranking.tie_seed,
            "computed_at": ranking.computed_at,
            "rows": [_row_summary(row, scores=True) for row in _ranking_rows(ranking)],
        }
        ranking.delete()  # its rows and corrections go with it
    details = {
        "panel": {"state_before": panel_before, "state_after": panel.status if panel else ""},
        "bids_unranked": unranked,
        "sheets_reopened": sheets,
    }
    audit_record(
        action=AuditAction.TENDER_EVALUATION_REOPENED,
        actor=actor,
        obj=tender,
        state_before=tender.status,
        state_after=tender.status,
        details={**details, "challenge": challenge.pk, "ranking": frozen},
    )
    return details


def challenge_decide(*, challenge: Challenge, actor: User, note: str = "") -> Challenge:
    """An approver who did not answer the challenge decides it (four eyes).

    Upheld: the remedy is applied at once. ``reopen_award`` withdraws the award and sends
    the tender back to evaluation with its ranking, for a new confirmation;
    ``reopen_evaluation`` also sends it back to the panel: sheets reopened, ranking
    removed, bids back to qualified. Not upheld: the award stands.
    """
    note = (note or "").strip()
    with transaction.atomic():
        # Lock order: the tender, then the challenge, the award, the bids, the panel.
        tender = _lock(challenge.tender)
        challenge = _lock(challenge)
        if permissions.is_approver(actor):
            if challenge.status != ChallengeStatus.ANSWERED:
                raise ValidationError(
                    _("Only an answered challenge can be decided; this one is “%(state)s”.")
                    % {"state": challenge.get_status_display()},
                    code="invalid_state",
                )
            if challenge.answered_by_id == actor.pk:
                raise ValidationError(
                    _("A different approver must decide a challenge you answered."),
                    code="four_eyes",
                )
        _require(permissions.can_decide_challenge(actor, challenge))
        before = challenge.status
        now = timezone.now()
        challenge.decided_by = actor
        challenge.decided_at = now
        challenge.decision_note = note
        if not challenge.upheld:
            fire(challenge, "reject")
            challenge.save()
            audit_record(
                action=AuditAction.CHALLENGE_REJECTED,
                actor=actor,
                obj=challenge,
                state_before=before,
                state_after=challenge.status,
                details={"tender": tender.pk, "note": note},
            )
            notifications.challenge_decided(challenge)
            return challenge
        if tender.status not in (TenderStatus.AWARDED, TenderStatus.EVALUATING):
            raise ValidationError(
                _("The remedy cannot be applied: the tender is “%(state)s”.")
                % {"state": tender.get_status_display()},
                code="invalid_state",
            )
        fire(challenge, "accept")
        challenge.save()
        done = _withdraw_award(tender, actor=actor, challenge=challenge, now=now)
        if challenge.remedy == ChallengeRemedy.REOPEN_EVALUATION:
            done.update(_reopen_panel(tender, actor=actor, challenge=challenge))
        audit_record(
            action=AuditAction.CHALLENGE_UPHELD,
            actor=actor,
            obj=challenge,
            state_before=before,
            state_after=challenge.status,
            details={
                "tender": tender.pk,
                "remedy": challenge.remedy,
                "note": note,
                "tender_status": tender.status,
                **done,
            },
        )
        notifications.challenge_decided(challenge)
    return challenge


def _close_challenge(challenge: Challenge, *, actor: User | None, now: datetime) -> None:
    before = challenge.status
    fire(challenge, "close")
    challenge.closed_at = now
    challenge.save()
    audit_record(
        action=AuditAction.CHALLENGE_CLOSED,
        actor=actor,
        obj=challenge,
        state_before=before,
        state_after=challenge.status,
        details={"tender": challenge.tender_id, "automatic": actor is None},
    )


def challenge_close(*, challenge: Challenge, actor: User) -> Challenge:
    """An official closes a decided challenge once its remedy is done."""
    with transaction.atomic():
        _lock(challenge.tender)
        challenge = _lock(challenge)
        if permissions.is_official(actor) and challenge.status not in DECIDED_CHALLENGE_STATES:
            raise ValidationError(
                _("Only a decided challenge can be closed; this one is “%(state)s”.")
                % {"state": challenge.get_status_display()},
                code="invalid_state",
            )
        _require(permissions.can_close_challenge(actor, challenge))
        _close_challenge(challenge, actor=actor, now=timezone.now())
    return challenge


def challenges_close_due(now: datetime | None = None) -> int:
    """Close the decided challenges of awarded tenders whose challenge window is over and
    that have no challenge pending (a periodic task); the number closed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    count = 0
    with transaction.atomic():
        due = Award.objects.filter(
            status=AwardStatus.ACTIVE,
            challenge_deadline__lt=today,
            tender__status=TenderStatus.AWARDED,
        ).values("tender_id")
        for tender in Tender.objects.select_for_update().filter(pk__in=due).order_by("pk"):
            if _pending_challenges(tender):
                continue
            for challenge in (
                Challenge.objects.select_for_update()
                .filter(tender=tender, status__in=DECIDED_CHALLENGE_STATES)
                .order_by("filed_at", "pk")
            ):
                _close_challenge(challenge, actor=None, now=now)
                count += 1
    return count
