"""Every write of contracts, their service team, milestones and payments (DESIGN 3, 4.3, 4.5).

Like the rest of ``tenders.services``: one transaction per service, the rows it changes
locked (tender, then contract, then milestone or team change), the permission predicate
checked, the django-fsm transition fired, one audit event per state change and e-mail
queued for after the commit.

The delivery-report services (``tenders.services.delivery``) and the performance
evaluation services (``evaluation.services``) call ``milestone_mark_reported``,
``milestone_return_report`` and ``milestone_settle`` inside their own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, AuditEvent, User
from marketplace.permissions import is_official
from orgs_registry.models import Employment, Person
from tenders import contracting, notifications
from tenders.models import (
    SETTLED_MILESTONE_STATES,
    Award,
    AwardStatus,
    BidStaff,
    Contract,
    ContractStatus,
    ContractTeamMember,
    Milestone,
    MilestoneStatus,
    Programme,
    TeamChange,
    TeamChangeKind,
    TeamChangeStatus,
    Tender,
    TenderStatus,
)
from tenders.permissions import contracts as permissions
from tenders.services import _lock, _require, tender_ready_for_contract

# The messages of ``contracting.term_problem``, each on the field it is about.
TERM_MESSAGES = {
    "end_before_start": ("service_end", gettext_noop("The service cannot end before it starts.")),
    "longer_than_three_years": (
        "service_end",
        gettext_noop(
            "A purchased service runs at most three years (Ministry of Finance Order No. 102, "
            "Art. 24)."
        ),
    ),
    "long_term_needs_reason": (
        "long_term_reason",
        gettext_noop(
            "A term over one year is allowed only for a stable, recurring service: give the "
            "reason (Ministry of Finance Order No. 102, Art. 24)."
        ),
    ),
}


def _term_errors(start: Any, end: Any, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(start, date):
        errors["service_start"] = [_("Give the day the service starts.")]
    if not isinstance(end, date):
        errors["service_end"] = [_("Give the day the service ends.")]
    if errors:
        return errors
    problem = contracting.term_problem(start, end, long_term_reason=reason)
    if problem:
        field, message = TERM_MESSAGES[problem]
        errors[field] = [_(message)]
    return errors


def _default_programme() -> Programme:
    programme = Programme.objects.filter(is_default=True).first()
    if programme is None:  # the data migration makes one; a deleted default is a setup error
        raise ValidationError(_("No default programme is set up."), code="no_programme")
    return programme


def _notice_day(award: Award) -> date:
    return timezone.localdate(award.notice_published_at)


def _reference(tender: Tender) -> str:
    base = tender.reference or f"T{tender.pk}"
    return f"{base}-HT"


def _milestone_summary(milestone: Milestone) -> dict[str, Any]:
    return {
        "sequence": milestone.sequence,
        "kind": milestone.kind,
        "evaluation": milestone.evaluation_kind,
        "share": milestone.share,
        "amount": milestone.amount,
        "due_date": milestone.due_date,
    }


# --- Drawing up and editing the contract -------------------------------------------------------


def contract_draft(
    *,
    tender: Tender,
    actor: User,
    service_start: date | None = None,
    service_end: date | None = None,
    long_term_reason: str = "",
    deliverables: str = "",
) -> Contract:
    """An official draws up the contract of an awarded tender once the challenge window is
    over: parties and price from the award, the team from the winning bid's staffing plan,
    milestones from the programme's payment plan (30/40/30 by default)."""
    long_term_reason = (long_term_reason or "").strip()
    deliverables = (deliverables or "").strip()
    with transaction.atomic():
        tender = _lock(tender)
        # An official is told why a tender is not ready; anyone else is simply refused.
        _require(is_official(actor))
        if Contract.objects.filter(tender=tender).exists():
            raise ValidationError(_("This tender already has a contract."), code="contract_exists")
        if not tender_ready_for_contract(tender):
            raise ValidationError(
                _(
                    "The contract is drawn up once the challenge window is over and no "
                    "challenge waits for its answer or decision."
                ),
                code="not_ready",
            )
        award = (
            Award.objects.select_related("bid__organization")
            .filter(tender=tender, status=AwardStatus.ACTIVE)
            .get()
        )
        start = service_start or tender.service_start
        end = service_end or tender.service_end
        errors = _term_errors(start, end, long_term_reason)
        if errors:
            raise ValidationError(errors)
        assert isinstance(start, date)  # noqa: S101 (checked above)
        assert isinstance(end, date)  # noqa: S101
        programme = tender.programme or _default_programme()
        contract = Contract(
            reference=_reference(tender),
            tender=tender,
            award=award,
            organization=award.bid.organization,
            programme=programme,
            title=tender.title,
            price=award.bid.price,
            service_start=start,
            service_end=end,
            long_term_reason=long_term_reason,
            deliverables=deliverables or tender.description,
            pass_grade=programme.pass_grade,
            sign_due=contracting.sign_due(_notice_day(award)),
            created_by=actor,
        )
        contract.full_clean(
            exclude=["tender", "award", "organization", "programme", "created_by", "status"],
            validate_constraints=False,
        )
        contract.save()
        team = [
            ContractTeamMember(
                contract=contract,
                person_id=entry.person_id,
                role=entry.role,
                fte=entry.fte,
                from_bid=True,
                joined_on=start,
            )
            for entry in BidStaff.objects.filter(bid=award.bid).order_by("pk")
        ]
        ContractTeamMember.objects.bulk_create(team)
        milestones = [
            Milestone(
                contract=contract,
                sequence=planned.sequence,
                title=planned.title,
                title_en=planned.title_en,
                kind=planned.kind,
                evaluation_kind=planned.evaluation,
                share=planned.share,
                amount=planned.amount,
                due_date=planned.due_date,
            )
            for planned in contracting.plan_milestones(
                price=contract.price, start=start, end=end, plan=programme.payment_plan
            )
        ]
        Milestone.objects.bulk_create(milestones)
        audit_record(
            action=AuditAction.CONTRACT_DRAFTED,
            actor=actor,
            obj=contract,
            state_after=contract.status,
            details={
                "tender": tender.pk,
                "award": award.pk,
                "reference": contract.reference,
                "organization": award.bid.organization.uscc,
                "price": contract.price,
                "service_start": start,
                "service_end": end,
                "programme": programme.code,
                "pass_grade": contract.pass_grade,
                "sign_due": contract.sign_due,
                "team": len(team),
                "milestones": [_milestone_summary(m) for m in milestones],
            },
        )
        notifications.contract_drafted(contract)
    return contract


def _parse_amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _parse_day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def contract_update(
    *,
    contract: Contract,
    actor: User,
    service_start: date | None = None,
    service_end: date | None = None,
    long_term_reason: str | None = None,
    deliverables: str | None = None,
    milestones: Iterable[Mapping[str, Any]] | None = None,
) -> Contract:
    """An official changes the draft before anyone signed it: the period, the reason for a
    long term, the deliverables, and the milestones' amounts and due dates (by sequence:
    ``[{"sequence": 1, "amount": "150000.00", "due_date": "2027-02-01"}, ...]``); the
    amounts must stay positive and add up to the price."""
    with transaction.atomic():
        _lock(contract.tender)
        contract = _lock(contract)
        _require(permissions.can_edit_contract(actor, contract))
        changed: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        start = service_start or contract.service_start
        end = service_end or contract.service_end
        reason = contract.long_term_reason if long_term_reason is None else long_term_reason.strip()
        errors.update(_term_errors(start, end, reason))
        if deliverables is not None and not deliverables.strip():
            errors["deliverables"] = [_("Describe what the supplier delivers.")]
        rows = {
            m.sequence: m for m in Milestone.objects.select_for_update().filter(contract=contract)
        }
        updates: dict[int, tuple[Decimal, date]] = {}
        if milestones is not None:
            problems: list[str] = []
            for item in milestones:
                sequence = item.get("sequence")
                row = rows.get(sequence) if isinstance(sequence, int) else None
                if row is None:
                    problems.append(
                        _("There is no milestone %(sequence)s.") % {"sequence": sequence}
                    )
                    continue
                amount = _parse_amount(item.get("amount", row.amount))
                due = _parse_day(item.get("due_date", row.due_date))
                if amount is None:
                    problems.append(
                        _("Milestone %(sequence)s: the amount is not a number.")
                        % {"sequence": sequence}
                    )
                elif amount <= 0:
                    problems.append(
                        _("Milestone %(sequence)s: the amount must be more than 0.")
                        % {"sequence": sequence}
                    )
                elif amount != amount.quantize(contracting.CENT):
                    problems.append(
                        _("Milestone %(sequence)s: the amount has more than two decimals.")
                        % {"sequence": sequence}
                    )
                if due is None:
                    problems.append(
                        _("Milestone %(sequence)s: the due date is not a date.")
                        % {"sequence": sequence}
                    )
                elif isinstance(start, date) and isinstance(end, date) and not start <= due <= end:
                    problems.append(
                        _("Milestone %(sequence)s: the due date is outside the service period.")
                        % {"sequence": sequence}
                    )
                if amount is not None and amount > 0 and due is not None:
                    updates[row.sequence] = (amount, due)
            if problems:
                errors["milestones"] = problems
            else:
                totals = [
                    updates.get(sequence, (row.amount, row.due_date))[0]
                    for sequence, row in sorted(rows.items())
                ]
                if contracting.amounts_problem(contract.price, totals):
                    errors["milestones"] = [
                        _(
                            "The milestone amounts add up to %(total)s, not the contract price "
                            "%(price)s."
                        )
                        % {"total": sum(totals, Decimal(0)), "price": contract.price}
                    ]
        if errors:
            raise ValidationError(errors)
        for field, value in (
            ("service_start", start),
            ("service_end", end),
            ("long_term_reason", reason),
            ("deliverables", (deliverables or "").strip() or contract.deliverables),
        ):
            if getattr(contract, field) != value:
                changed[field] = value
                setattr(contract, field, value)
        if "service_start" in changed:
            ContractTeamMember.objects.filter(contract=contract, from_bid=True).update(
                joined_on=start
            )
        changed_milestones = []
        for sequence, (amount, due) in sorted(updates.items()):
            row = rows[sequence]
            if (row.amount, row.due_date) == (amount, due):
                continue
            row.amount, row.due_date = amount, due
            row.share = (amount * 100 / contract.price).quantize(contracting.CENT)
            row.save(update_fields=["amount", "due_date", "share"])
            changed_milestones.append(_milestone_summary(row))
        if changed_milestones:
            changed["milestones"] = changed_milestones
        contract.full_clean(
            exclude=["tender", "award", "organization", "programme", "created_by", "status"],
            validate_constraints=False,
        )
        contract.save()
        if changed:
            audit_record(
                action=AuditAction.CONTRACT_UPDATED,
                actor=actor,
                obj=contract,
                details={"changed": changed},
            )
    return contract


# --- Signing, starting, terminating ----------------------------------------------------------


def _start(contract: Contract, tender: Tender, *, actor: User | None, now: datetime) -> None:
    before = contract.status
    fire(contract, "start")
    contract.started_at = now
    contract.save()
    fire(tender, "start_delivery")
    tender.save()
    audit_record(
        action=AuditAction.CONTRACT_STARTED,
        actor=actor,
        obj=contract,
        state_before=before,
        state_after=contract.status,
        details={"tender": tender.pk, "service_start": contract.service_start},
    )


def contract_sign(*, contract: Contract, actor: User) -> Contract:
    """Each side signs once: an official or approver for the street office, an
    administrator of the supplier for the supplier. The second signature makes the
    contract binding and public; if the service period has begun, delivery starts.

    A signature after ``sign_due`` (30 days after the award notice, 87号令 Art. 71) is
    still accepted: the event records it as late and the pages show the contract overdue.
    """
    with transaction.atomic():
        tender = _lock(contract.tender)
        contract = _lock(contract)
        _require(permissions.signs_for_a_side(actor, contract))
        if contract.status != ContractStatus.DRAFT:
            raise ValidationError(_("This contract is signed already."), code="invalid_state")
        if not permissions.can_sign_contract(actor, contract):
            raise ValidationError(_("Your side has signed already."), code="signed_already")
        now = timezone.now()
        today = timezone.localdate(now)
        side = "purchaser" if permissions.signs_for_purchaser(actor) else "supplier"
        setattr(contract, f"{side}_signed_by", actor)
        setattr(contract, f"{side}_signed_at", now)
        late = today > contract.sign_due
        details = {
            "side": side,
            "tender": tender.pk,
            "sign_due": contract.sign_due,
            "late": late,
        }
        both = contract.purchaser_signed_at is not None and contract.supplier_signed_at is not None
        if not both:
            contract.save()
            audit_record(
                action=AuditAction.CONTRACT_SIGNATURE,
                actor=actor,
                obj=contract,
                state_before=contract.status,
                state_after=contract.status,
                details=details,
            )
            notifications.contract_signature(contract, side=side)
            return contract
        before = contract.status
        fire(contract, "sign")
        contract.published_at = now
        contract.save()
        fire(tender, "contract_signed")
        tender.save()
        audit_record(
            action=AuditAction.CONTRACT_SIGNED,
            actor=actor,
            obj=contract,
            state_before=before,
            state_after=contract.status,
            details={**details, "price": contract.price, "published_at": now},
        )
        if contract.service_start <= today:
            _start(contract, tender, actor=actor, now=now)
        notifications.contract_signed(contract)
    return contract


def contracts_start_due(today: date | None = None) -> int:
    """For the scheduler: signed contracts whose service period began are in delivery."""
    today = today or timezone.localdate()
    started = 0
    due = Contract.objects.filter(
        status=ContractStatus.SIGNED, service_start__lte=today
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            contract = Contract.objects.select_related("tender").get(pk=pk)
            tender = _lock(contract.tender)
            contract = _lock(contract)
            # Another worker may have started it meanwhile.
            if contract.status != ContractStatus.SIGNED:
                continue
            _start(contract, tender, actor=None, now=timezone.now())
            started += 1
    return started


# Signature reminders: this many days before the signing day, and the day after it.
SIGNATURE_REMINDER_DAYS = (7, 1, -1)


def contracts_remind_signatures(today: date | None = None) -> int:
    """For the scheduler: remind the side(s) that have not signed a draft 7 days and 1 day
    before its signing day (30 days after the award notice) and the day after it is
    missed. Each reminder is sent once: its audit event is the record that it went out."""
    today = today or timezone.localdate()
    days = {today + timedelta(days=ahead): ahead for ahead in SIGNATURE_REMINDER_DAYS}
    sent = 0
    drafts = Contract.objects.filter(status=ContractStatus.DRAFT, sign_due__in=list(days))
    for pk in list(drafts.values_list("pk", flat=True)):
        with transaction.atomic():
            contract = Contract.objects.select_for_update().get(pk=pk)
            ahead = days.get(contract.sign_due)
            if contract.status != ContractStatus.DRAFT or ahead is None:
                continue
            reminded = AuditEvent.objects.filter(
                action=AuditAction.CONTRACT_SIGNATURE_REMINDED,
                object_type="tenders.contract",
                object_id=str(contract.pk),
                details__days_before=ahead,
            )
            if reminded.exists():
                continue
            sides = [
                side
                for side, signed_at in (
                    ("purchaser", contract.purchaser_signed_at),
                    ("supplier", contract.supplier_signed_at),
                )
                if signed_at is None
            ]
            audit_record(
                action=AuditAction.CONTRACT_SIGNATURE_REMINDED,
                obj=contract,
                state_before=contract.status,
                state_after=contract.status,
                details={"days_before": ahead, "sign_due": contract.sign_due, "sides": sides},
            )
            notifications.contract_sign_reminder(contract, sides=sides, days_before=ahead)
            sent += 1
    return sent


def _withhold_for_termination(
    milestone: Milestone, *, actor: User, reason: str, now: datetime
) -> None:
    before = milestone.status
    fire(milestone, "withhold")
    milestone.released_amount = Decimal(0)
    milestone.withheld_amount = milestone.amount
    milestone.decision_reason = reason
    milestone.settled_at = now
    milestone.settled_by = actor
    milestone.save()
    audit_record(
        action=AuditAction.MILESTONE_WITHHELD,
        actor=actor,
        obj=milestone,
        state_before=before,
        state_after=milestone.status,
        details={
            "contract": milestone.contract_id,
            "sequence": milestone.sequence,
            "released": milestone.released_amount,
            "withheld": milestone.withheld_amount,
            "reason": reason,
            "termination": True,
        },
    )


def contract_terminate(*, contract: Contract, actor: User, reason: str) -> Contract:
    """An official ends the contract early with a public reason. Unsettled milestones are
    withheld with the termination as their reason; the tender is over (completed, or
    cancelled when the contract was never signed)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the termination.")]})
    with transaction.atomic():
        tender = _lock(contract.tender)
        contract = _lock(contract)
        _require(permissions.can_terminate_contract(actor, contract))
        now = timezone.now()
        before = contract.status
        open_milestones = list(
            Milestone.objects.select_for_update()
            .filter(contract=contract)
            .exclude(status__in=sorted(SETTLED_MILESTONE_STATES))
            .order_by("sequence")
        )
        fire(contract, "terminate")
        contract.terminated_at = now
        contract.terminated_by = actor
        contract.termination_reason = reason
        contract.save()
        tender_before = tender.status
        if tender.status == TenderStatus.AWARDED:
            # A draft never bound anyone: the project is cancelled, not completed.
            fire(tender, "cancel")
            tender.cancel_reason = reason
            tender.cancelled_at = now
        else:
            fire(tender, "complete")
        tender.save()
        audit_record(
            action=AuditAction.CONTRACT_TERMINATED,
            actor=actor,
            obj=contract,
            state_before=before,
            state_after=contract.status,
            details={
                "tender": tender.pk,
                "tender_state_before": tender_before,
                "tender_state_after": tender.status,
                "reason": reason,
                "withheld_milestones": [m.sequence for m in open_milestones],
            },
        )
        # Milestones of a draft were never owed: they are withheld all the same, so that
        # every milestone of a finished contract is settled and the totals add up.
        with translation.override(settings.LANGUAGE_CODE):
            milestone_reason = _("The contract was terminated: %(reason)s") % {"reason": reason}
        for milestone in open_milestones:
            _withhold_for_termination(milestone, actor=actor, reason=milestone_reason, now=now)
        notifications.contract_terminated(contract)
    return contract


# --- Milestones and payments -------------------------------------------------------------------


def _active_contract(milestone: Milestone) -> None:
    if milestone.contract.status != ContractStatus.ACTIVE:
        raise ValidationError(
            _("Only a contract in delivery has milestones to report or settle."),
            code="invalid_state",
        )


def milestone_mark_reported(*, milestone: Milestone, actor: User) -> Milestone:
    """planned → reported, when the supplier files the milestone's delivery report.

    Called inside the delivery-report service's transaction; it writes no audit event of its
    own (the report's "filed" event records the change) and sends no e-mail.
    """
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("contract").get(pk=milestone.pk)
        )
        _require(permissions.can_report_milestone(actor, milestone))
        _active_contract(milestone)
        fire(milestone, "report")
        milestone.save()
    return milestone


def milestone_return_report(*, milestone: Milestone, actor: User) -> Milestone:
    """reported → planned, when an official returns the milestone's report with comments.

    Called inside the delivery-report service's transaction; its "returned" event records
    the change (no audit event or e-mail here).
    """
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("contract").get(pk=milestone.pk)
        )
        _require(permissions.can_return_milestone_report(actor, milestone))
        _active_contract(milestone)
        fire(milestone, "return_report")
        milestone.save()
    return milestone


def _complete(contract: Contract, tender: Tender, *, actor: User | None, now: datetime) -> None:
    before = contract.status
    fire(contract, "complete")
    contract.completed_at = now
    contract.save()
    fire(tender, "complete")
    tender.save()
    totals = Milestone.objects.filter(contract=contract).values_list(
        "released_amount", "withheld_amount"
    )
    audit_record(
        action=AuditAction.CONTRACT_COMPLETED,
        actor=actor,
        obj=contract,
        state_before=before,
        state_after=contract.status,
        details={
            "tender": tender.pk,
            "released": sum((r or Decimal(0) for r, _w in totals), Decimal(0)),
            "withheld": sum((w or Decimal(0) for _r, w in totals), Decimal(0)),
        },
    )
    notifications.contract_completed(contract)


def _release_guard(contract: Contract) -> None:
    """Confirmed double funding about the contract or its tender stops the release of its
    payments until resolved (DESIGN 5); withholding stays possible."""
    from evaluation.selectors.integrity import blocking_flags

    flags = list(blocking_flags(contract=contract))
    if flags:
        raise ValidationError(
            [
                _(
                    "A confirmed double-funding flag blocks the payment until it is resolved: "
                    "%(kind)s, %(subject)s."
                )
                % {"kind": flag.get_kind_display(), "subject": flag.subject_label}
                for flag in flags
            ],
            code="blocked",
        )


def milestone_settle(*, milestone: Milestone, release: bool, reason: str, actor: User) -> Milestone:
    """Release or withhold a milestone's payment: a report milestone when its report is
    accepted, an evaluation milestone by its evaluation's grade against the contract's pass
    grade (DESIGN 4.5). Withholding needs the reason. When the last milestone is settled
    the contract (and the tender) is completed.

    Works inside the caller's transaction (the report or evaluation service), which checked
    that the actor may accept the report or file the evaluation.
    """
    reason = (reason or "").strip()
    if not release and not reason:
        raise ValidationError({"reason": [_("Give the reason the payment is withheld.")]})
    with transaction.atomic():
        contract = Contract.objects.select_related("tender").get(pk=milestone.contract_id)
        tender = _lock(contract.tender)
        contract = _lock(contract)
        milestone = _lock(milestone)
        milestone.contract = contract
        _require(permissions.can_settle_milestone(actor, milestone))
        _active_contract(milestone)
        if milestone.is_settled:
            raise ValidationError(_("This milestone is settled already."), code="invalid_state")
        if release:
            _release_guard(contract)
        now = timezone.now()
        before = milestone.status
        if milestone.status != MilestoneStatus.EVALUATED:
            fire(milestone, "mark_checked")
            milestone.checked_at = now
        if release:
            fire(milestone, "release")
            milestone.released_amount = milestone.amount
            milestone.withheld_amount = Decimal(0)
        else:
            fire(milestone, "withhold")
            milestone.released_amount = Decimal(0)
            milestone.withheld_amount = milestone.amount
        milestone.decision_reason = reason
        milestone.settled_at = now
        milestone.settled_by = actor
        milestone.save()
        audit_record(
            action=AuditAction.MILESTONE_RELEASED if release else AuditAction.MILESTONE_WITHHELD,
            actor=actor,
            obj=milestone,
            state_before=before,
            state_after=milestone.status,
            details={
                "contract": contract.pk,
                "sequence": milestone.sequence,
                "kind": milestone.kind,
                "evaluation": milestone.evaluation_kind,
                "amount": milestone.amount,
                "released": milestone.released_amount,
                "withheld": milestone.withheld_amount,
                "reason": reason,
            },
        )
        notifications.milestone_settled(milestone)
        unsettled = (
            Milestone.objects.filter(contract=contract)
            .exclude(status__in=sorted(SETTLED_MILESTONE_STATES))
            .exists()
        )
        if not unsettled:
            _complete(contract, tender, actor=actor, now=now)
    return milestone


def milestone_payment_record(
    *, milestone: Milestone, actor: User, paid_on: date, reference: str
) -> Milestone:
    """An official records the actual transfer of a released milestone (day and bank or
    treasury reference), once."""
    reference = (reference or "").strip()
    errors: dict[str, list[str]] = {}
    day = _parse_day(paid_on) if paid_on else None
    if day is None:
        errors["paid_on"] = [_("Give the day the payment was made.")]
    if not reference:
        errors["reference"] = [_("Give the payment's reference.")]
    elif len(reference) > 60:
        errors["reference"] = [_("The reference has at most 60 characters.")]
    with transaction.atomic():
        milestone = (
            Milestone.objects.select_for_update().select_related("contract").get(pk=milestone.pk)
        )
        if milestone.status != MilestoneStatus.PAID or milestone.paid_on is not None:
            raise ValidationError(
                _("Only a released milestone whose payment is not recorded yet can be recorded."),
                code="invalid_state",
            )
        _require(permissions.can_record_payment(actor, milestone))
        if day is not None and milestone.settled_at is not None:
            if day < timezone.localdate(milestone.settled_at):
                errors["paid_on"] = [_("The payment cannot be made before it was released.")]
            elif day > timezone.localdate():
                errors["paid_on"] = [_("The payment day cannot be in the future.")]
        if errors:
            raise ValidationError(errors)
        milestone.paid_on = day
        milestone.payment_reference = reference
        milestone.save(update_fields=["paid_on", "payment_reference"])
        audit_record(
            action=AuditAction.MILESTONE_PAYMENT_RECORDED,
            actor=actor,
            obj=milestone,
            state_before=milestone.status,
            state_after=milestone.status,
            details={
                "contract": milestone.contract_id,
                "sequence": milestone.sequence,
                "amount": milestone.released_amount,
                "paid_on": day,
                "reference": reference,
            },
        )
        notifications.milestone_paid(milestone)
    return milestone


# --- The service team ----------------------------------------------------------------------------


def _current_member(contract: Contract, leaving: Any) -> ContractTeamMember | None:
    pk = leaving.pk if isinstance(leaving, ContractTeamMember) else leaving
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return ContractTeamMember.objects.filter(contract=contract, pk=pk, left_on__isnull=True).first()


def _employee(contract: Contract, joining: Any, today: date) -> Person | None:
    pk = joining.pk if isinstance(joining, Person) else joining
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    employed = Employment.objects.filter(
        organization_id=contract.organization_id, person_id=pk, start_date__lte=today
    ).exclude(end_date__lt=today)
    if not employed.exists():
        return None
    return Person.objects.get(pk=pk)


def team_change_request(
    *,
    contract: Contract,
    actor: User,
    kind: str,
    leaving: ContractTeamMember | int | None = None,
    joining: Person | int | None = None,
    role: str = "",
    fte: Decimal | str | None = None,
    reason: str,
) -> TeamChange:
    """The supplier's administrator asks to add, remove or replace a team member; the
    person joining must be a current employee of the supplier in the registry."""
    reason, role = (reason or "").strip(), (role or "").strip()
    with transaction.atomic():
        contract = _lock(contract)
        _require(permissions.can_request_team_change(actor, contract))
        today = timezone.localdate()
        errors: dict[str, list[str]] = {}
        if kind not in TeamChangeKind.values:
            raise ValidationError({"kind": [_("Choose add, remove or replace.")]})
        leaver = joiner = None
        share: Decimal | None = None
        if kind in (TeamChangeKind.REMOVE, TeamChangeKind.REPLACE):
            leaver = _current_member(contract, leaving)
            if leaver is None:
                errors["leaving"] = [_("Choose a current member of the team.")]
        if kind in (TeamChangeKind.ADD, TeamChangeKind.REPLACE):
            joiner = _employee(contract, joining, today)
            if joiner is None:
                errors["joining"] = [
                    _("Choose a person employed by the organization now (see its staff roster).")
                ]
            elif ContractTeamMember.objects.filter(
                contract=contract, person=joiner, left_on__isnull=True
            ).exists():
                errors["joining"] = [_("This person is on the team already.")]
            if not role:
                if leaver is not None:
                    role = leaver.role
                else:
                    errors["role"] = [_("Give the person's role in the team.")]
            share = _parse_amount(fte) if fte not in (None, "") else None
            if share is None and leaver is not None and fte in (None, ""):
                share = leaver.fte
            if share is None or not Decimal(0) < share <= 1:
                errors["fte"] = [_("Give the full-time equivalent, more than 0 and at most 1.")]
        if len(role) > 60:
            errors["role"] = [_("The role has at most 60 characters.")]
        if not reason:
            errors["reason"] = [_("Give the reason for the change.")]
        if errors:
            raise ValidationError(errors)
        if (
            TeamChange.objects.filter(
                contract=contract,
                status=TeamChangeStatus.REQUESTED,
                leaving=leaver,
            ).exists()
            and leaver is not None
        ):
            raise ValidationError(
                {"leaving": [_("A change for this member already waits for a decision.")]}
            )
        change = TeamChange(
            contract=contract,
            kind=kind,
            leaving=leaver,
            joining=joiner,
            role=role if joiner is not None else "",
            fte=share if joiner is not None else None,
            reason=reason,
            requested_by=actor,
            requested_at=timezone.now(),
        )
        change.full_clean(
            exclude=["contract", "leaving", "joining", "requested_by", "status"],
            validate_constraints=False,
        )
        change.save()
        audit_record(
            action=AuditAction.TEAM_CHANGE_REQUESTED,
            actor=actor,
            obj=change,
            state_after=change.status,
            details={
                "contract": contract.pk,
                "kind": kind,
                "leaving": leaver.person_id if leaver else None,
                "joining": joiner.pk if joiner else None,
                "role": change.role,
                "fte": change.fte,
                "reason": reason,
            },
        )
        notifications.team_change_requested(change)
    return change


def team_change_decide(
    *, change: TeamChange, actor: User, approve: bool, note: str = ""
) -> TeamChange:
    """An official approves (the team changes from today) or rejects (with a note) a
    requested team change."""
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the change is rejected.")]})
    with transaction.atomic():
        contract = _lock(change.contract)
        change = _lock(change)
        change.contract = contract
        _require(permissions.can_decide_team_change(actor, change))
        now = timezone.now()
        today = timezone.localdate(now)
        before = change.status
        joined: ContractTeamMember | None = None
        if approve:
            fire(change, "approve")
            if change.leaving_id is not None:
                leaver = ContractTeamMember.objects.select_for_update().get(pk=change.leaving_id)
                if leaver.left_on is not None:
                    raise ValidationError(
                        _("The member leaving has left the team already."), code="stale"
                    )
                leaver.left_on = today
                leaver.save(update_fields=["left_on"])
            if change.joining_id is not None:
                if ContractTeamMember.objects.filter(
                    contract=contract, person_id=change.joining_id, left_on__isnull=True
                ).exists():
                    raise ValidationError(
                        _("The person joining is on the team already."), code="stale"
                    )
                joined = ContractTeamMember.objects.create(
                    contract=contract,
                    person_id=change.joining_id,
                    role=change.role,
                    fte=change.fte or Decimal("1"),
                    from_bid=False,
                    joined_on=today,
                )
        else:
            fire(change, "reject")
        change.decided_by = actor
        change.decided_at = now
        change.decision_note = note
        change.save()
        audit_record(
            action=(
                AuditAction.TEAM_CHANGE_APPROVED if approve else AuditAction.TEAM_CHANGE_REJECTED
            ),
            actor=actor,
            obj=change,
            state_before=before,
            state_after=change.status,
            details={
                "contract": contract.pk,
                "kind": change.kind,
                "note": note,
                "member": joined.pk if joined else None,
                "on": today,
            },
        )
        notifications.team_change_decided(change)
    return change
