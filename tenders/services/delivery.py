"""Delivery reports (履约报告) and the reminders before a milestone falls due.

The supplier files a periodic report per milestone (activities, people served, photos and
documents, spending against the budget); an official accepts it or returns it with
comments. Accepting the report of a ``report`` milestone releases its payment; the report
of an ``evaluation`` milestone is accepted and the milestone waits for the third-party
evaluation, whose grade settles it. A returned report stays on record and the supplier
files a corrected one.

Each service runs in one transaction, locks the contract, then the milestone, then the
report, checks the permission predicate, fires the transition and writes one audit event;
the milestone's own transitions are the contracts part's services
(``tenders.services.contracts``). Uploads are read and checked before any lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, User
from marketplace.permissions import is_official
from marketplace.record_language import record_text
from marketplace.uploads import (
    DOCUMENT_CONTENT_TYPES,
    DOCUMENT_MAX_BYTES,
    check_size,
    read_upload,
    safe_filename,
    sha256_hex,
    sniff_document,
)
from orgs_registry.permissions import is_member_of
from tenders import contracting
from tenders import notifications_delivery as notifications
from tenders.models import (
    Contract,
    ContractStatus,
    DeliveryDocument,
    DeliveryDocumentKind,
    DeliveryReport,
    DeliveryReportStatus,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
)
from tenders.permissions import delivery as permissions
from tenders.services.contracts import (
    milestone_mark_reported,
    milestone_return_report,
    milestone_settle,
)

# What one report may carry [cfg]: enough for a month of activity photos and the
# sign-in sheets, small enough to review.
REPORT_MAX_FILES = 20
PHOTO_MAX_BYTES = 10 * 1024 * 1024
SPENDING_MAX_ROWS = 50
SPENDING_MAX_AMOUNT = Decimal("999999999999.99")
PHOTO_TYPES = frozenset({"png", "jpeg"})
# ``Milestone.reminded_days`` holds the reminders sent (days before the due date); the
# overdue notice is recorded as this value.
OVERDUE_MARK = -1


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: Any) -> Any:
    return type(obj).objects.select_for_update().get(pk=obj.pk)


# --- Checking the input --------------------------------------------------------------------


@dataclass(frozen=True)
class ReportUpload:
    name: str
    kind: str  # DeliveryDocumentKind
    file_type: str  # marketplace.uploads.DocumentKind
    data: bytes
    sha256: str


def read_report_uploads(uploads: Iterable[Any]) -> list[ReportUpload]:
    """Check every file by its content before anything is stored: photos are PNG or JPEG
    (at most 10 MB), documents PDF, Word or Excel (at most 20 MB). All problems are
    reported together, each with its file's name; the same file twice is kept once."""
    files = [upload for upload in uploads if upload]
    if len(files) > REPORT_MAX_FILES:
        raise ValidationError(
            {
                "uploads": [
                    _("Attach at most %(max)s photos and documents to a report.")
                    % {"max": REPORT_MAX_FILES}
                ]
            }
        )
    problems: list[str] = []
    found: list[ReportUpload] = []
    seen: set[str] = set()
    for upload in files:
        given = str(getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
        try:
            data = read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
            file_type = sniff_document(data)
            if file_type in PHOTO_TYPES:
                check_size(len(data), max_bytes=PHOTO_MAX_BYTES)
        except ValidationError as exc:
            messages = (
                exc.message_dict.get("file", exc.messages)
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            problems.extend(f"{given or _('file')}: {message}" for message in messages)
            continue
        digest = sha256_hex(data)
        if digest in seen:
            continue
        seen.add(digest)
        kind = (
            DeliveryDocumentKind.PHOTO
            if file_type in PHOTO_TYPES
            else DeliveryDocumentKind.DOCUMENT
        )
        found.append(
            ReportUpload(
                name=safe_filename(given, file_type),
                kind=kind,
                file_type=file_type,
                data=data,
                sha256=digest,
            )
        )
    if problems:
        raise ValidationError({"uploads": problems})
    return found


def _spending_labels() -> dict[str, str]:
    return {
        "item": pgettext("spending", "item"),
        "budget": pgettext("spending", "budget"),
        "spent": pgettext("spending", "spent"),
    }


def _amount(value: Any) -> tuple[Decimal | None, str | None]:
    """A money amount of a spending row, or the problem with it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, pgettext("spending", "required")
    if isinstance(value, bool):
        return None, pgettext("spending", "not a number")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None, pgettext("spending", "not a number")
    if not amount.is_finite():
        return None, pgettext("spending", "not a number")
    if amount < 0:
        return None, _("must not be negative")
    if amount != amount.quantize(contracting.CENT):
        return None, _("at most two decimal places")
    if amount > SPENDING_MAX_AMOUNT:
        return None, pgettext("spending", "too large")
    return amount.quantize(contracting.CENT), None


def _blank(row: Mapping[str, Any]) -> bool:
    return all(str(row.get(key) if row.get(key) is not None else "").strip() == "" for key in row)


def clean_spending(rows: Any) -> list[dict[str, str]]:
    """Spending lines ``[{"item", "budget", "spent"}]`` with amounts as strings of cents.

    Every problem names its row (counted as given, blank rows included) and its column:
    "spending row 2: spent: not a number". Blank rows are left out.
    """
    if rows in (None, ""):
        return []
    if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
        raise ValidationError({"spending": [_("Give the spending as a list of rows.")]})
    labels = _spending_labels()
    problems: list[str] = []
    clean: list[dict[str, str]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append(
                _("spending row %(n)s: not a row with item, budget and spent") % {"n": number}
            )
            continue
        unknown = sorted(set(row) - set(labels))
        for key in unknown:
            problems.append(
                _("spending row %(n)s: %(field)s: unknown column")
                % {"n": number, "field": str(key)[:40]}
            )
        if _blank(row):
            continue
        errors: dict[str, str] = {}
        item = str(row.get("item") or "").strip()
        if not item:
            errors["item"] = pgettext("spending", "required")
        elif len(item) > 120:
            errors["item"] = _("at most 120 characters")
        budget, budget_error = _amount(row.get("budget"))
        spent, spent_error = _amount(row.get("spent"))
        if budget_error:
            errors["budget"] = budget_error
        if spent_error:
            errors["spent"] = spent_error
        for key in ("item", "budget", "spent"):
            if key in errors:
                problems.append(
                    _("spending row %(n)s: %(field)s: %(error)s")
                    % {"n": number, "field": labels[key], "error": errors[key]}
                )
        if not errors and not unknown and budget is not None and spent is not None:
            clean.append({"item": item, "budget": str(budget), "spent": str(spent)})
    if len(clean) > SPENDING_MAX_ROWS:
        problems.append(_("At most %(max)s spending rows.") % {"max": SPENDING_MAX_ROWS})
    if problems:
        raise ValidationError({"spending": problems})
    return clean


def _count(value: Any, field: str, errors: dict[str, list[str]]) -> int:
    if isinstance(value, bool):
        errors[field] = [_("Give a whole number, 0 or more.")]
        return 0
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        number = None
    if number is None or number < 0:
        errors[field] = [_("Give a whole number, 0 or more.")]
        return 0
    if number > 10_000_000:
        errors[field] = [_("This number is too large.")]
    return number


def _check_period(
    contract: Contract, start: Any, end: Any, errors: dict[str, list[str]], today: date
) -> None:
    if not isinstance(start, date):
        errors["period_start"] = [_("Give the first day of the period.")]
    if not isinstance(end, date):
        errors["period_end"] = [_("Give the last day of the period.")]
    if not isinstance(start, date) or not isinstance(end, date):
        return
    if end < start:
        errors["period_end"] = [_("The period cannot end before it starts.")]
        return
    if start < contract.service_start:
        errors["period_start"] = [
            _("The period starts before the service period (from %(day)s).")
            % {"day": contract.service_start.isoformat()}
        ]
    if end > contract.service_end:
        errors["period_end"] = [
            _("The period ends after the service period (until %(day)s).")
            % {"day": contract.service_end.isoformat()}
        ]
    elif end > today:
        errors["period_end"] = [
            _("A report covers days that are over: the period ends today at the latest.")
        ]


def _state_error(milestone: Milestone) -> ValidationError:
    if milestone.status == MilestoneStatus.REPORTED:
        message = _("A report for this milestone is filed already and waits for review.")
    else:
        message = _("This milestone takes no more reports: it is “%(state)s”.") % {
            "state": milestone.get_status_display()
        }
    return ValidationError(message, code="invalid_state")


# --- Filing and reviewing ------------------------------------------------------------------


def delivery_report_file(
    *,
    milestone: Milestone,
    actor: User,
    period_start: date | None,
    period_end: date | None,
    activities: str,
    people_served: Any,
    service_sessions: Any = 0,
    spending: Any = (),
    uploads: Iterable[Any] = (),
) -> DeliveryReport:
    """The supplier's administrator or member files the delivery report of a planned
    milestone of a contract in delivery; the milestone becomes "report filed"."""
    _require(is_member_of(actor, milestone.contract))
    activities = (activities or "").strip()
    errors: dict[str, list[str]] = {}
    if not activities:
        errors["activities"] = [_("Describe the activities of the period.")]
    served = _count(people_served, "people_served", errors)
    sessions = _count(service_sessions, "service_sessions", errors)
    try:
        lines = clean_spending(list(spending) if isinstance(spending, tuple) else spending)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        lines = []
    _check_period(milestone.contract, period_start, period_end, errors, timezone.localdate())
    if errors:
        raise ValidationError(errors)
    # Files are read and checked before the lock: slow work stays outside it.
    files = read_report_uploads(uploads)
    with transaction.atomic():
        # Lock order: the tender, the contract, then the milestone (as settling does).
        contract = Contract.objects.select_related("tender").get(pk=milestone.contract_id)
        _lock(contract.tender)
        contract = _lock(contract)
        milestone = _lock(milestone)
        if contract.status != ContractStatus.ACTIVE:
            raise ValidationError(
                _("The contract is “%(state)s”: it takes no delivery reports.")
                % {"state": contract.get_status_display()},
                code="invalid_state",
            )
        _require(permissions.can_file_report(actor, contract))
        if milestone.status != MilestoneStatus.PLANNED:
            raise _state_error(milestone)
        now = timezone.now()
        report = DeliveryReport(
            milestone=milestone,
            contract=contract,
            period_start=period_start,
            period_end=period_end,
            activities=activities,
            people_served=served,
            service_sessions=sessions,
            spending=lines,
            submitted_by=actor,
            submitted_at=now,
        )
        report.full_clean(
            exclude=["status", "milestone", "contract", "submitted_by", "reviewed_by"],
            validate_constraints=False,
        )
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError as exc:  # one report under review per milestone
            raise _state_error(milestone) from exc
        for upload in files:
            document = DeliveryDocument(
                report=report,
                kind=upload.kind,
                original_name=upload.name,
                content_type=DOCUMENT_CONTENT_TYPES[upload.file_type],
                size=len(upload.data),
                sha256=upload.sha256,
            )
            document.file.save(upload.sha256, ContentFile(upload.data), save=False)
            document.save()
        milestone_before = milestone.status
        milestone_mark_reported(milestone=milestone, actor=actor)
        audit_record(
            action=AuditAction.DELIVERY_REPORT_FILED,
            actor=actor,
            obj=report,
            state_after=report.status,
            details={
                "contract": contract.pk,
                "milestone": milestone.pk,
                "milestone_state_before": milestone_before,
                "period": [period_start, period_end],
                "people_served": served,
                "service_sessions": sessions,
                "budget": str(report.budget_total),
                "spent": str(report.spent_total),
                "documents": [{"name": f.name, "kind": f.kind, "sha256": f.sha256} for f in files],
            },
        )
        notifications.delivery_report_filed(report)
    return report


def _review_state_check(actor: User, report: DeliveryReport, contract: Contract) -> None:
    """A readable refusal when an official acts on a report that moved on."""
    if not is_official(actor):
        return
    if report.status != DeliveryReportStatus.SUBMITTED:
        raise ValidationError(
            _("This report is reviewed already: it is “%(state)s”.")
            % {"state": report.get_status_display()},
            code="invalid_state",
        )
    if contract.status != ContractStatus.ACTIVE:
        raise ValidationError(
            _("The contract is “%(state)s”: its reports are no longer reviewed.")
            % {"state": contract.get_status_display()},
            code="invalid_state",
        )


def _lock_report(report: DeliveryReport) -> tuple[Contract, Milestone, DeliveryReport]:
    # Lock order: the tender, the contract, the milestone, then the report (as filing and
    # ``milestone_settle`` do).
    contract = Contract.objects.select_related("tender").get(pk=report.contract_id)
    _lock(contract.tender)
    contract = Contract.objects.select_for_update().get(pk=report.contract_id)
    milestone = Milestone.objects.select_for_update().get(pk=report.milestone_id)
    locked = DeliveryReport.objects.select_for_update().get(pk=report.pk)
    return contract, milestone, locked


def delivery_report_accept(
    *, report: DeliveryReport, actor: User, comment: str = ""
) -> DeliveryReport:
    """An official accepts a report. For a milestone paid on its report this releases the
    payment (``milestone_settle``); an evaluation milestone then waits for its evaluation."""
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationError({"comment": [_("At most 4000 characters.")]})
    with transaction.atomic():
        contract, milestone, report = _lock_report(report)
        _review_state_check(actor, report, contract)
        _require(permissions.can_review_report(actor, report))
        _require(contract.status == ContractStatus.ACTIVE)
        if milestone.status != MilestoneStatus.REPORTED:
            raise _state_error(milestone)
        before = report.status
        fire(report, "accept")
        report.reviewed_by = actor
        report.reviewed_at = timezone.now()
        report.review_comment = comment
        report.save()
        released = milestone.kind == MilestoneKind.REPORT
        if released:
            milestone_settle(
                milestone=milestone,
                release=True,
                reason=record_text(
                    gettext_noop("The delivery report for %(start)s to %(end)s was accepted."),
                    start=report.period_start.isoformat(),
                    end=report.period_end.isoformat(),
                ),
                actor=actor,
            )
        audit_record(
            action=AuditAction.DELIVERY_REPORT_ACCEPTED,
            actor=actor,
            obj=report,
            state_before=before,
            state_after=report.status,
            details={
                "contract": contract.pk,
                "milestone": milestone.pk,
                "milestone_kind": milestone.kind,
                "payment_released": released,
                "comment": comment,
            },
        )
        notifications.delivery_report_reviewed(report)
    return report


def delivery_report_return(*, report: DeliveryReport, actor: User, comment: str) -> DeliveryReport:
    """An official returns a report with comments; the milestone is planned again and the
    supplier files a corrected report."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": [_("Say what must be corrected.")]})
    if len(comment) > 4000:
        raise ValidationError({"comment": [_("At most 4000 characters.")]})
    with transaction.atomic():
        contract, milestone, report = _lock_report(report)
        _review_state_check(actor, report, contract)
        _require(permissions.can_review_report(actor, report))
        _require(contract.status == ContractStatus.ACTIVE)
        if milestone.status != MilestoneStatus.REPORTED:
            raise _state_error(milestone)
        before = report.status
        fire(report, "send_back")
        report.reviewed_by = actor
        report.reviewed_at = timezone.now()
        report.review_comment = comment
        report.save()
        milestone_return_report(milestone=milestone, actor=actor)
        audit_record(
            action=AuditAction.DELIVERY_REPORT_RETURNED,
            actor=actor,
            obj=report,
            state_before=before,
            state_after=report.status,
            details={"contract": contract.pk, "milestone": milestone.pk, "comment": comment},
        )
        notifications.delivery_report_reviewed(report)
    return report


# --- Reminders -----------------------------------------------------------------------------


def _reminder_due(milestone: Milestone, today: date) -> tuple[int | None, list[int]]:
    """The reminder to send now (days left, or ``OVERDUE_MARK``) and the marks to record.

    Each threshold of ``contracting.REMINDER_DAYS`` is reminded once; when several were
    missed (the task did not run), one message covers them. The overdue notice goes once.
    """
    sent = set(milestone.reminded_days or [])
    left = (milestone.due_date - today).days
    if left < 0:
        return (None, []) if OVERDUE_MARK in sent else (OVERDUE_MARK, [OVERDUE_MARK])
    reached = [days for days in contracting.REMINDER_DAYS if left <= days and days not in sent]
    if not reached:
        return None, []
    return left, reached


def milestones_remind(*, today: date | None = None) -> int:
    """Remind the supplier's administrators of planned milestones of contracts in delivery,
    ``contracting.REMINDER_DAYS`` days before the due date, and tell them once when the
    report is overdue. Returns the number of milestones reminded.

    Not an audited change of state: only ``Milestone.reminded_days`` is written, so that
    each reminder goes once.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(contracting.REMINDER_DAYS))
    count = 0
    with transaction.atomic():
        # Locked so that two runs at once do not both send.
        milestones = list(
            Milestone.objects.select_for_update(of=("self",))
            .filter(
                status=MilestoneStatus.PLANNED,
                contract__status=ContractStatus.ACTIVE,
                due_date__lte=horizon,
            )
            .select_related("contract__organization", "contract__tender")
            .order_by("due_date", "pk")
        )
        due = [(m, *_reminder_due(m, today)) for m in milestones]
        due = [(m, left, marks) for m, left, marks in due if left is not None]
        admins = notifications.organization_admins(
            {m.contract.organization_id for m, _l, _k in due}
        )
        for milestone, left, marks in due:
            Milestone.objects.filter(pk=milestone.pk).update(
                reminded_days=sorted({*(milestone.reminded_days or []), *marks})
            )
            notifications.milestone_reminder(
                milestone,
                admins.get(milestone.contract.organization_id, []),
                days_left=None if left == OVERDUE_MARK else left,
            )
            count += 1
    return count
