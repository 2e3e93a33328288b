"""Score sheets, abnormal deviations (畸高畸低), locking, the frozen ranking and corrections.

DESIGN.md 3 (score sheet lifecycle) and 4.4; 财政部令第87号 Art. 55 (综合评分法) and Art. 64
(when scores may change after aggregation). The arithmetic is ``evaluation.scoring``; this
module feeds it from the database and keeps what it answered.

The life of a sheet (one member × one valid bid):

1. ``assigned → declared`` when the member signs the declaration (``services.panels``).
2. ``scoresheet_save`` (``→ draft``, any number of times, partial saves allowed) and
   ``scoresheet_submit`` (``→ submitted``, every subjective criterion scored).
3. When every sheet of the panel's active members on valid bids is submitted, the panel
   check runs once: every member's score on every (bid, subjective criterion) is compared
   with the panel's plain mean; a score further than ``rules.DEVIATION_THRESHOLD`` × the
   criterion maximum gets a ``DeviationFlag``. Sheets without an open flag lock at once.
4. A flagged member confirms the score with a written reason (``deviation_confirm``) or
   revises it (``deviation_revise``). A revision re-checks **only the revising member's
   score** against the panel mean computed with the new value; still beyond the threshold,
   it is flagged again. Other members' scores are not re-checked after a revision, and
   sheets that already locked stay locked. A sheet locks when its last open flag is resolved.
5. When every sheet is locked and no price justification (87号令 Art. 60) is pending, the
   ranking is computed by ``scoring.rank`` and frozen (``ranking_try_compute``). Ties the
   arithmetic leaves are broken by the tender's rule or a random draw whose seed is stored
   on the ranking and in the audit log.

Corrections (DESIGN 4.4: arithmetic error, a score out of range, inconsistent objective
scores, an abnormally high or low score): the chair reopens one locked sheet with one of
the four reasons (``scoresheet_reopen``); the ranking's totals before are recorded, the
panel goes back to scoring and the ranked bids are unranked. The member saves and submits
again; a corrected sheet locks as soon as it is submitted, **without a new deviation
check** (the correction itself is the chair's answer to the abnormal score, and the
change is recorded with its values). The ranking is then recomputed as the next version
of the same ``Ranking``, and each correction gets the totals after. An inconsistent
objective score is corrected by the chair directly (``objective_score_correct``), which
recomputes at once. After an upheld challenge (``tenders.services``) every sheet is reopened
and the ranking removed: that round goes through the panel check again and its ranking is
computed afresh.

Only bids in ``QUALIFIED`` (or, once ranked, ``RANKED``/``WON``/``LOST``) state count;
sheets of bids invalidated on the way (a rejected price justification) are ignored, as
are the sheets of replaced members.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation import notifications, permissions, rules, scoring
from evaluation.models import (
    CorrectionReason,
    DeviationFlag,
    DeviationStatus,
    JustificationStatus,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelStatus,
    PriceJustification,
    Ranking,
    RankingCorrection,
    RankingRow,
    Score,
    ScoreSheet,
    SheetStatus,
    TieBreak,
)
from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, User
from tenders.models import (
    Bid,
    BidStatus,
    CriterionKind,
    Tender,
    TenderCriterion,
    TenderStatus,
    TieRule,
)

# Bids that count: qualified, or ranked (and after an award, won or lost). A bid invalidated
# by a rejected price justification (87号令 Art. 60) is disqualified and its sheets ignored.
VALID_BID_STATES = (BidStatus.QUALIFIED, BidStatus.RANKED, BidStatus.WON, BidStatus.LOST)
# Sheet states in which the member may save scores.
EDITABLE_SHEET_STATES = (SheetStatus.DECLARED, SheetStatus.DRAFT, SheetStatus.REOPENED)
# A member's reason for a score is short ("with a short reason"; Score.reason).
REASON_MAX = 500
# A written confirmation of an abnormal score (DeviationFlag.note).
NOTE_MAX = 2000
EXPLANATION_MAX = 4000
# Decimal places of the displayed and compared totals (DESIGN 4.4 [cfg]: places).
RANKING_PLACES = 2
# DeviationFlag stores the mean, the deviation and the threshold to 4 places.
FLAG_QUANTUM = Decimal("0.0001")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock_tender(tender_id: int) -> Tender:
    return Tender.objects.select_for_update().get(pk=tender_id)


def _lock_panel(panel_id: int) -> Panel:
    return Panel.objects.select_for_update(of=("self",)).select_related("tender").get(pk=panel_id)


def _lock_sheet(sheet_id: int) -> ScoreSheet:
    return (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("member__user", "member__panel", "bid__organization")
        .get(pk=sheet_id)
    )


def counted_sheets(panel: Panel) -> QuerySet[ScoreSheet]:
    """The sheets that count: active (not replaced) members' sheets on valid bids."""
    return (
        ScoreSheet.objects.filter(member__panel=panel, bid__status__in=VALID_BID_STATES)
        .exclude(member__status=MemberStatus.REPLACED)
        .select_related("member__user", "bid__organization")
        .order_by("member__seat", "bid__pk")
    )


def _subjective_criteria(tender: Tender) -> list[TenderCriterion]:
    return list(
        TenderCriterion.objects.filter(tender=tender, kind=CriterionKind.SUBJECTIVE).order_by(
            "sort_order", "pk"
        )
    )


def _points(value: Decimal) -> str:
    """``50.00`` as ``50``, ``12.50`` as ``12.5``: points as people write them."""
    return f"{Decimal(value).normalize():f}"


def _parse_score(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _score_problem(
    criterion: TenderCriterion, value: Any, *, places: int = 2
) -> tuple[Decimal | None, str | None]:
    """The score as a Decimal, or the problem with it (naming the criterion)."""
    code = criterion.code
    number = _parse_score(value)
    if number is None:
        return None, _("%(code)s: the score must be a number") % {"code": code}
    if not Decimal(0) <= number <= criterion.points:
        return None, _("%(code)s: the score must be between 0 and %(points)s") % {
            "code": code,
            "points": _points(criterion.points),
        }
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum):
        return None, _("%(code)s: the score has at most %(places)s decimal places") % {
            "code": code,
            "places": places,
        }
    return number.quantize(quantum), None


def _reason_problem(criterion: TenderCriterion, value: Any) -> tuple[str, str | None]:
    reason = str(value or "").strip()
    if not reason:
        return "", _("%(code)s: give a short reason for the score") % {"code": criterion.code}
    if len(reason) > REASON_MAX:
        return "", _("%(code)s: the reason is longer than %(max)s characters") % {
            "code": criterion.code,
            "max": REASON_MAX,
        }
    return reason, None


@dataclass(frozen=True)
class _Entry:
    criterion: TenderCriterion
    score: Decimal
    reason: str


def _parse_scores(tender: Tender, items: Iterable[Mapping[str, Any]]) -> list[_Entry]:
    """Check every item before anything is saved; raise one error naming each problem."""
    criteria = list(TenderCriterion.objects.filter(tender=tender).order_by("sort_order", "pk"))
    by_code = {c.code: c for c in criteria}
    by_id = {str(c.pk): c for c in criteria}
    problems: list[str] = []
    entries: list[_Entry] = []
    seen: set[int] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            problems.append(_("item %(n)s: expected criterion, score and reason") % {"n": number})
            continue
        key = item.get("criterion")
        if key is None or str(key).strip() == "":
            problems.append(_("item %(n)s: the criterion is missing") % {"n": number})
            continue
        text = str(key).strip()
        criterion = by_code.get(text) or by_id.get(text)
        if criterion is None:
            problems.append(_("%(code)s: not a criterion of this tender") % {"code": text[:40]})
            continue
        if criterion.kind != CriterionKind.SUBJECTIVE:
            problems.append(
                _("%(code)s: this criterion is scored by the system, not by the panel")
                % {"code": criterion.code}
            )
            continue
        if criterion.pk in seen:
            problems.append(_("%(code)s: the criterion is scored twice") % {"code": criterion.code})
            continue
        seen.add(criterion.pk)
        score, score_problem = _score_problem(criterion, item.get("score"))
        reason, reason_problem = _reason_problem(criterion, item.get("reason"))
        problems.extend(p for p in (score_problem, reason_problem) if p)
        if score is not None and not reason_problem:
            entries.append(_Entry(criterion=criterion, score=score, reason=reason))
    if problems:
        raise ValidationError({"scores": problems})
    return entries


def _pending_correction(sheet: ScoreSheet) -> RankingCorrection | None:
    return (
        RankingCorrection.objects.select_for_update()
        .filter(sheet=sheet, applied_at__isnull=True)
        .order_by("requested_at", "pk")
        .first()
    )


def _check_sheet_bid(sheet: ScoreSheet) -> None:
    if sheet.bid.status not in VALID_BID_STATES:
        raise ValidationError(
            _("The bid is no longer valid; its sheet is not scored."), code="invalid_bid"
        )


def _check_scoring(panel: Panel) -> None:
    if panel.status != PanelStatus.SCORING:
        raise ValidationError(
            _("The panel is not scoring now (it is “%(state)s”).")
            % {"state": panel.get_status_display()},
            code="invalid_state",
        )


# --- Saving and submitting ---------------------------------------------------------------------


def scoresheet_save(
    *, sheet: ScoreSheet, actor: User, scores: Iterable[Mapping[str, Any]]
) -> ScoreSheet:
    """Save the member's scores on some or all subjective criteria (a draft).

    ``scores`` is ``[{criterion: code or id, score, reason}]``. Every score is within
    [0, the criterion's points] with at most 2 decimals and has a short reason; a problem
    with any item saves nothing. In a reopened sheet (a correction) each change is
    recorded with its value before and after.
    """
    items = list(scores)
    with transaction.atomic():
        panel_ref = Panel.objects.only("pk", "tender_id").get(pk=sheet.member.panel_id)
        tender = _lock_tender(panel_ref.tender_id)
        panel = _lock_panel(panel_ref.pk)
        sheet = _lock_sheet(sheet.pk)
        _require(permissions.can_score_sheet(actor, sheet))
        _check_scoring(panel)
        _check_sheet_bid(sheet)
        if sheet.status not in EDITABLE_SHEET_STATES:
            raise ValidationError(
                _("This sheet is “%(state)s”; its scores cannot be changed.")
                % {"state": sheet.get_status_display()},
                code="invalid_state",
            )
        entries = _parse_scores(tender, items)
        # A sheet reopened by the chair (and saved since) belongs to a pending correction.
        correction = _pending_correction(sheet)
        existing = {s.criterion_id: s for s in Score.objects.filter(sheet=sheet)}
        changes: dict[str, dict[str, Any]] = {}
        for entry in entries:
            current = existing.get(entry.criterion.pk)
            if current is None:
                Score.objects.create(
                    sheet=sheet,
                    criterion=entry.criterion,
                    score=entry.score,
                    reason=entry.reason,
                )
                changes[entry.criterion.code] = {"before": None, "after": entry.score}
            elif current.score != entry.score or current.reason != entry.reason:
                changes[entry.criterion.code] = {"before": current.score, "after": entry.score}
                current.score = entry.score
                current.reason = entry.reason
                current.save(update_fields=["score", "reason"])
        before = sheet.status
        fire(sheet, "edit")
        sheet.save()
        details: dict[str, Any] = {
            "tender": tender.pk,
            "bid": str(sheet.bid_id),
            "seat": sheet.member.seat,
            "criteria": sorted(changes),
        }
        if correction is not None:
            # After aggregation the values are no secret; the correction's record needs them.
            details["correction"] = correction.pk
            details["changes"] = changes
        audit_record(
            action=AuditAction.SCORESHEET_SAVED,
            actor=actor,
            obj=sheet,
            state_before=before,
            state_after=sheet.status,
            details=details,
        )
    return sheet


def scoresheet_save_and_submit(
    *, sheet: ScoreSheet, actor: User, scores: Iterable[Mapping[str, Any]]
) -> ScoreSheet:
    """Save ``scores`` and submit the sheet in one transaction (the page's "submit" button):
    an incomplete sheet saves nothing."""
    with transaction.atomic():
        saved = scoresheet_save(sheet=sheet, actor=actor, scores=scores)
        return scoresheet_submit(sheet=saved, actor=actor)


def scoresheet_submit(*, sheet: ScoreSheet, actor: User) -> ScoreSheet:
    """Submit a draft with every subjective criterion scored.

    The last sheet of the panel runs the deviation check (畸高畸低) and locks the sheets
    without a flag; a corrected sheet locks at once. Then the ranking is computed if
    everything is locked.
    """
    with transaction.atomic():
        panel_ref = Panel.objects.only("pk", "tender_id").get(pk=sheet.member.panel_id)
        tender = _lock_tender(panel_ref.tender_id)
        panel = _lock_panel(panel_ref.pk)
        sheet = _lock_sheet(sheet.pk)
        _require(permissions.can_score_sheet(actor, sheet))
        _check_scoring(panel)
        _check_sheet_bid(sheet)
        if sheet.status != SheetStatus.DRAFT:
            raise ValidationError(
                _("Only a draft sheet can be submitted (this one is “%(state)s”).")
                % {"state": sheet.get_status_display()},
                code="invalid_state",
            )
        scored = set(Score.objects.filter(sheet=sheet).values_list("criterion_id", flat=True))
        missing = [c.code for c in _subjective_criteria(tender) if c.pk not in scored]
        if missing:
            raise ValidationError(
                {"scores": [_("%(code)s: the score is missing") % {"code": c} for c in missing]}
            )
        before = sheet.status
        fire(sheet, "submit")
        sheet.submitted_at = timezone.now()
        sheet.save()
        correction = _pending_correction(sheet)
        audit_record(
            action=AuditAction.SCORESHEET_SUBMITTED,
            actor=actor,
            obj=sheet,
            state_before=before,
            state_after=sheet.status,
            details={
                "tender": tender.pk,
                "bid": str(sheet.bid_id),
                "seat": sheet.member.seat,
                "correction": correction.pk if correction else None,
            },
        )
        if correction is not None:
            # A correction is the chair's answer already: no new deviation cycle.
            _lock_sheets([sheet], actor=actor, why="correction")
        _settle(tender, panel, actor=actor)
    sheet.refresh_from_db()
    return sheet


def _lock_sheets(sheets: Iterable[ScoreSheet], *, actor: User | None, why: str) -> None:
    now = timezone.now()
    for sheet in sheets:
        before = sheet.status
        fire(sheet, "lock")
        sheet.locked_at = now
        sheet.save()
        audit_record(
            action=AuditAction.SCORESHEET_LOCKED,
            actor=actor,
            obj=sheet,
            state_before=before,
            state_after=sheet.status,
            details={"bid": str(sheet.bid_id), "seat": sheet.member.seat, "why": why},
        )


# --- The deviation check (畸高畸低) --------------------------------------------------------------


def _member_key(sheet: ScoreSheet) -> str:
    return str(sheet.member_id)


def _flag_values(
    criterion: TenderCriterion, score: Decimal, scores: Mapping[str, Decimal], deviation: Decimal
) -> dict[str, Any]:
    mean = scoring.aggregate(list(scores.values()), trim_extremes=False)
    return {
        "score": score,
        "panel_mean": mean.quantize(FLAG_QUANTUM),
        "deviation": deviation.quantize(FLAG_QUANTUM),
        "threshold": (rules.DEVIATION_THRESHOLD * criterion.points).quantize(FLAG_QUANTUM),
    }


def _scores_by_cell(
    sheets: list[ScoreSheet],
) -> dict[tuple[Any, int], dict[str, Decimal]]:
    """{(bid id, criterion id): {member key: score}} over ``sheets``."""
    cells: dict[tuple[Any, int], dict[str, Decimal]] = defaultdict(dict)
    by_id = {s.pk: s for s in sheets}
    for score in Score.objects.filter(sheet_id__in=list(by_id)).order_by("pk"):
        sheet = by_id[score.sheet_id]
        cells[(sheet.bid_id, score.criterion_id)][_member_key(sheet)] = Decimal(score.score)
    return cells


def _deviation_check(
    tender: Tender,
    panel: Panel,
    sheets: list[ScoreSheet],
    unchecked: list[ScoreSheet],
    actor: User | None,
) -> None:
    """Flag abnormal scores of the ``unchecked`` sheets; lock those left without a flag."""
    criteria = {c.pk: c for c in _subjective_criteria(tender)}
    cells = _scores_by_cell(sheets)
    targets = {(s.bid_id, _member_key(s)): s for s in unchecked}
    now = timezone.now()
    created: list[DeviationFlag] = []
    for (bid_id, criterion_id), scores in sorted(
        cells.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
    ):
        criterion = criteria.get(criterion_id)
        if criterion is None:
            continue
        flagged = scoring.deviations(scores, criterion.points, threshold=rules.DEVIATION_THRESHOLD)
        for member, deviation in sorted(flagged.items()):
            sheet = targets.get((bid_id, member))
            if sheet is None:
                continue
            created.append(
                DeviationFlag.objects.create(
                    sheet=sheet,
                    criterion=criterion,
                    created_at=now,
                    **_flag_values(criterion, scores[member], scores, deviation),
                )
            )
    if created:
        audit_record(
            action=AuditAction.DEVIATION_FLAGGED,
            actor=actor,
            obj=panel,
            details={"tender": tender.pk, "flags": [_flag_details(f) for f in created]},
        )
        by_user: dict[int, list[DeviationFlag]] = defaultdict(list)
        for flag in created:
            by_user[flag.sheet.member.user_id].append(flag)
        for flags in by_user.values():
            notifications.deviations_flagged(flags)
    flagged_sheets = {f.sheet_id for f in created}
    _lock_sheets(
        [s for s in unchecked if s.pk not in flagged_sheets], actor=actor, why="panel_check"
    )


def _flag_details(flag: DeviationFlag) -> dict[str, Any]:
    return {
        "flag": flag.pk,
        "sheet": flag.sheet_id,
        "seat": flag.sheet.member.seat,
        "bid": str(flag.sheet.bid_id),
        "criterion": flag.criterion.code,
        "score": flag.score,
        "panel_mean": flag.panel_mean,
        "deviation": flag.deviation,
        "threshold": flag.threshold,
    }


def _lock_flag(flag: DeviationFlag) -> tuple[Tender, Panel, ScoreSheet, DeviationFlag]:
    """Lock the tender, the panel, the sheet and the flag, in that order."""
    sheet_ref = ScoreSheet.objects.select_related("member__panel").get(pk=flag.sheet_id)
    tender = _lock_tender(sheet_ref.member.panel.tender_id)
    panel = _lock_panel(sheet_ref.member.panel_id)
    sheet = _lock_sheet(sheet_ref.pk)
    flag = (
        DeviationFlag.objects.select_for_update(of=("self",))
        .select_related("criterion", "sheet__member")
        .get(pk=flag.pk)
    )
    return tender, panel, sheet, flag


def _check_flag(actor: User, panel: Panel, sheet: ScoreSheet, flag: DeviationFlag) -> None:
    _require(permissions.can_confirm_deviation(actor, flag))
    _check_scoring(panel)
    if flag.status != DeviationStatus.OPEN:
        raise ValidationError(
            _("This deviation was already %(state)s.") % {"state": flag.get_status_display()},
            code="invalid_state",
        )
    if sheet.status != SheetStatus.SUBMITTED:
        raise ValidationError(
            _("This sheet is “%(state)s”.") % {"state": sheet.get_status_display()},
            code="invalid_state",
        )


def _after_flag(tender: Tender, panel: Panel, sheet: ScoreSheet, actor: User) -> None:
    if not DeviationFlag.objects.filter(sheet=sheet, status=DeviationStatus.OPEN).exists():
        _lock_sheets([sheet], actor=actor, why="deviations_resolved")
    _settle(tender, panel, actor=actor)


def deviation_confirm(*, flag: DeviationFlag, actor: User, note: str) -> DeviationFlag:
    """The member keeps the flagged score and says why in writing (DESIGN 4.4)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Explain in writing why the score stands.")]})
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": [_("The reason is longer than %(max)s characters.") % {"max": NOTE_MAX}]}
        )
    with transaction.atomic():
        tender, panel, sheet, flag = _lock_flag(flag)
        _check_flag(actor, panel, sheet, flag)
        flag.status = DeviationStatus.CONFIRMED
        flag.note = note
        flag.resolved_at = timezone.now()
        flag.save(update_fields=["status", "note", "resolved_at"])
        audit_record(
            action=AuditAction.DEVIATION_CONFIRMED,
            actor=actor,
            obj=flag,
            state_before=DeviationStatus.OPEN,
            state_after=flag.status,
            details={**_flag_details(flag), "note": note},
        )
        _after_flag(tender, panel, sheet, actor)
    return flag


def deviation_revise(*, flag: DeviationFlag, actor: User, score: Any, reason: str) -> DeviationFlag:
    """The member changes the flagged score (with its reason).

    The new score is checked again against the panel mean computed with it: still beyond
    the threshold, a new open flag waits for the member (returned instead of ``flag``).
    Only this member's score is re-checked.
    """
    with transaction.atomic():
        tender, panel, sheet, flag = _lock_flag(flag)
        _check_flag(actor, panel, sheet, flag)
        criterion = flag.criterion
        value, score_problem = _score_problem(criterion, score)
        text, reason_problem = _reason_problem(criterion, reason)
        problems = {
            name: [problem]
            for name, problem in (("score", score_problem), ("reason", reason_problem))
            if problem
        }
        if problems or value is None:
            raise ValidationError(problems)
        row = Score.objects.select_for_update().get(sheet=sheet, criterion=criterion)
        old = Decimal(row.score)
        row.score = value
        row.reason = text
        row.save(update_fields=["score", "reason"])
        now = timezone.now()
        flag.status = DeviationStatus.REVISED
        flag.revised_score = value
        flag.note = text
        flag.resolved_at = now
        flag.save(update_fields=["status", "revised_score", "note", "resolved_at"])

        sheets = list(counted_sheets(panel).filter(bid_id=sheet.bid_id))
        scores = _scores_by_cell(sheets).get((sheet.bid_id, criterion.pk), {})
        flagged = scoring.deviations(scores, criterion.points, threshold=rules.DEVIATION_THRESHOLD)
        again = None
        member = _member_key(sheet)
        if member in flagged:
            again = DeviationFlag.objects.create(
                sheet=sheet,
                criterion=criterion,
                created_at=now,
                **_flag_values(criterion, value, scores, flagged[member]),
            )
        audit_record(
            action=AuditAction.DEVIATION_REVISED,
            actor=actor,
            obj=flag,
            state_before=DeviationStatus.OPEN,
            state_after=flag.status,
            details={
                **_flag_details(flag),
                "before": old,
                "after": value,
                "reason": text,
                "flagged_again": _flag_details(again) if again else None,
            },
        )
        if again is not None:
            notifications.deviations_flagged([again])
        _after_flag(tender, panel, sheet, actor)
    return again or flag


# --- The ranking -------------------------------------------------------------------------------


def _settle(tender: Tender, panel: Panel, *, actor: User | None) -> Ranking | None:
    """Move the panel on as far as it can go: the deviation check once every sheet is in,
    then the ranking once every sheet is locked. Tender and panel rows are locked."""
    if panel.status == PanelStatus.RANKED:
        return Ranking.objects.filter(tender=tender).first()
    if panel.status != PanelStatus.SCORING or tender.status != TenderStatus.EVALUATING:
        return None
    sheets = list(counted_sheets(panel).select_for_update(of=("self",)))
    if not sheets:
        return None
    if any(s.status not in (SheetStatus.SUBMITTED, SheetStatus.LOCKED) for s in sheets):
        return None
    # A submitted sheet without an open flag has not been through the panel check yet: once
    # checked, a sheet either waits on an open flag or is locked. (After an upheld challenge
    # every sheet is reopened and the next round is checked afresh.)
    waiting = set(
        DeviationFlag.objects.filter(sheet__in=sheets, status=DeviationStatus.OPEN).values_list(
            "sheet_id", flat=True
        )
    )
    unchecked = [s for s in sheets if s.status == SheetStatus.SUBMITTED and s.pk not in waiting]
    if unchecked:
        _deviation_check(tender, panel, sheets, unchecked, actor)
        sheets = list(counted_sheets(panel))
    if any(s.status != SheetStatus.LOCKED for s in sheets):
        return None
    pending = PriceJustification.objects.filter(
        bid__tender=tender,
        status__in=[JustificationStatus.REQUESTED, JustificationStatus.SUBMITTED],
    )
    if pending.exists():
        return None
    return _compute(tender, panel, sheets, actor=actor)


def ranking_try_compute(*, panel: Panel, actor: User | None) -> Ranking | None:
    """Compute and freeze the ranking when everything is ready, else ``None``.

    Ready: every counted sheet locked (the deviation check runs first if every sheet is
    in but not yet checked), no price justification pending (87号令 Art. 60), every
    objective score computed. A ranked panel returns its frozen ranking unchanged.
    ``actor`` None is the system (a scheduled task).
    """
    with transaction.atomic():
        tender = _lock_tender(panel.tender_id)
        panel = _lock_panel(panel.pk)
        _require(actor is None or permissions.can_compute_ranking(actor, panel))
        return _settle(tender, panel, actor=actor)


@dataclass(frozen=True)
class _Inputs:
    criteria: list[scoring.Criterion]
    bids: list[scoring.BidInput]
    by_key: dict[str, Bid]
    prices: dict[str, Decimal]
    technical: dict[str, Decimal]


def _inputs(tender: Tender, sheets: list[ScoreSheet], *, trim: bool) -> _Inputs | None:
    """What ``scoring.rank`` is fed; ``None`` while an objective score is missing."""
    criteria_rows = list(TenderCriterion.objects.filter(tender=tender).order_by("sort_order", "pk"))
    criteria = [scoring.Criterion(code=c.code, kind=c.kind, points=c.points) for c in criteria_rows]
    objective = [c for c in criteria_rows if c.kind == CriterionKind.OBJECTIVE]
    subjective = [c for c in criteria_rows if c.kind == CriterionKind.SUBJECTIVE]
    bids = list(
        Bid.objects.filter(tender=tender, status__in=VALID_BID_STATES)
        .select_related("organization")
        .order_by("pk")
    )
    values = {
        (o.bid_id, o.criterion_id): Decimal(o.score)
        for o in ObjectiveScore.objects.filter(bid__in=bids)
    }
    scores: dict[tuple[Any, int, int], Decimal] = {}
    for row in Score.objects.filter(sheet__in=sheets).select_related("sheet"):
        scores[(row.sheet.bid_id, row.criterion_id, row.sheet.member_id)] = Decimal(row.score)
    members = sorted({(s.member.seat, s.member_id) for s in sheets})
    inputs: list[scoring.BidInput] = []
    technical: dict[str, Decimal] = {}
    for bid in bids:
        if any((bid.pk, c.pk) not in values for c in objective):
            return None
        key = str(bid.pk)
        obj = {c.code: values[(bid.pk, c.pk)] for c in objective}
        subj = {
            c.code: [scores[(bid.pk, c.pk, member)] for _seat, member in members]
            for c in subjective
        }
        inputs.append(
            scoring.BidInput(key=key, price=bid.price, valid=True, objective=obj, subjective=subj)
        )
        # The tie rule "technical" compares the exact (unrounded) non-price score.
        with localcontext() as context:
            context.prec = 80
            technical[key] = sum(obj.values(), Decimal(0)) + sum(
                (scoring.aggregate(v, trim_extremes=trim) for v in subj.values()), Decimal(0)
            )
    return _Inputs(
        criteria=criteria,
        bids=inputs,
        by_key={str(b.pk): b for b in bids},
        prices={str(b.pk): Decimal(b.price or 0) for b in bids},
        technical=technical,
    )


@dataclass(frozen=True)
class _Order:
    rows: list[scoring.RankedBid]
    tie_break: str
    seed: str
    draws: list[dict[str, Any]]


def _break_ties(
    ranked: list[scoring.RankedBid], *, rule: str, technical: Mapping[str, Decimal]
) -> _Order:
    """The final order: ``ranked`` with each group of tied bids ordered by the tender's
    rule (technical: higher non-price score first) and what is still tied by a draw.

    One seed per ranking: ``random.Random(seed)`` shuffles each still-tied group (its keys
    sorted) in rank order, so the seed alone reproduces the whole order.
    """
    groups: list[list[scoring.RankedBid]] = []
    for row in ranked:
        if groups and row.tied and groups[-1][0].tied and groups[-1][0].rank == row.rank:
            groups[-1].append(row)
        else:
            groups.append([row])
    if all(len(group) == 1 for group in groups):
        return _Order(rows=list(ranked), tie_break=TieBreak.NONE, seed="", draws=[])
    seed = ""
    rng: random.Random | None = None
    draws: list[dict[str, Any]] = []
    final: list[scoring.RankedBid] = []
    for group in groups:
        if len(group) == 1:
            final.extend(group)
            continue
        # Sub-groups of the same standing under the rule, best first.
        if rule == TieRule.TECHNICAL:
            levels = sorted({technical[r.key] for r in group}, reverse=True)
            parts = [
                sorted((r for r in group if technical[r.key] == lv), key=lambda r: r.key)
                for lv in levels
            ]
        else:
            parts = [sorted(group, key=lambda r: r.key)]
        for part in parts:
            if len(part) == 1:
                final.extend(part)
                continue
            if rng is None:
                seed = secrets.token_hex(16)
                rng = random.Random(seed)  # noqa: S311 - a recorded, reproducible draw
            keys = [r.key for r in part]
            rng.shuffle(keys)
            lookup = {r.key: r for r in part}
            final.extend(lookup[k] for k in keys)
            draws.append({"rank": part[0].rank, "tied": sorted(lookup), "order": keys})
    return _Order(
        rows=final, tie_break=TieBreak.DRAW if draws else TieBreak.RULE, seed=seed, draws=draws
    )


def draw_order(seed: str, groups: Iterable[Iterable[str]]) -> list[list[str]]:
    """Replay a recorded draw: the order each group of tied keys got from ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - reproducing a recorded draw
    result = []
    for group in groups:
        keys = sorted(group)
        rng.shuffle(keys)
        result.append(keys)
    return result


def _totals(ranking: Ranking) -> dict[str, str]:
    return {str(row.bid_id): str(row.total) for row in ranking.rows.order_by("position")}


def _row_details(rows: Iterable[RankingRow]) -> list[dict[str, Any]]:
    return [
        {
            "position": row.position,
            "bid": str(row.bid_id),
            "rank": row.rank,
            "tied": row.tied,
            "price": row.price,
            "price_score": row.price_score,
            "criterion_scores": row.criterion_scores,
            "total": row.total,
        }
        for row in rows
    ]


def _compute(
    tender: Tender,
    panel: Panel,
    sheets: list[ScoreSheet],
    *,
    actor: User | None,
    extra: Mapping[str, Any] | None = None,
) -> Ranking | None:
    """Rank, store the rows, rank the bids and the panel; a second version for corrections."""
    trim = rules.trims(panel.size, tender.trim_extremes)
    inputs = _inputs(tender, sheets, trim=trim)
    if inputs is None or not inputs.bids:
        return None
    try:
        ranked = scoring.rank(
            inputs.criteria, inputs.bids, trim_extremes=trim, places=RANKING_PLACES
        )
    except ValueError as exc:  # the inputs were checked when saved: this is a bad scheme
        raise ValidationError(
            _("The ranking cannot be computed: %(problem)s") % {"problem": exc}
        ) from exc
    order = _break_ties(ranked, rule=tender.tie_rule, technical=inputs.technical)
    now = timezone.now()
    base_price = min(inputs.prices.values())
    ranking = Ranking.objects.select_for_update().filter(tender=tender).first()
    corrections: list[RankingCorrection] = []
    if ranking is None:
        ranking = Ranking(tender=tender, version=1)
    else:
        ranking.version += 1
        corrections = list(
            RankingCorrection.objects.select_for_update()
            .filter(ranking=ranking, applied_at__isnull=True)
            .order_by("requested_at", "pk")
        )
        ranking.rows.all().delete()
    ranking.base_price = base_price
    ranking.trim_extremes = trim
    ranking.places = RANKING_PLACES
    ranking.tie_break = order.tie_break
    ranking.tie_seed = order.seed
    ranking.computed_at = now
    ranking.save()
    rows = RankingRow.objects.bulk_create(
        RankingRow(
            ranking=ranking,
            bid=inputs.by_key[row.key],
            price=inputs.prices[row.key],
            price_score=row.price_score,
            criterion_scores={code: str(value) for code, value in row.criterion_scores.items()},
            total=row.total,
            rank=row.rank,
            tied=row.tied,
            position=position,
        )
        for position, row in enumerate(order.rows, start=1)
    )
    ranked_now = []
    for bid in Bid.objects.select_for_update().filter(pk__in=[r.bid_id for r in rows]):
        if bid.status == BidStatus.QUALIFIED:
            fire(bid, "rank")
            bid.save()
            ranked_now.append(str(bid.pk))
    panel_before = panel.status
    if panel.status == PanelStatus.SCORING:
        fire(panel, "rank")
        panel.ranked_at = now
        panel.save()
    after = {str(row.bid_id): str(row.total) for row in rows}
    for correction in corrections:
        correction.after = after
        correction.applied_at = now
        correction.save(update_fields=["after", "applied_at"])
    details = {
        "tender": tender.pk,
        "version": ranking.version,
        "base_price": base_price,
        "trim_extremes": trim,
        "places": RANKING_PLACES,
        "tie_break": order.tie_break,
        "rows": _row_details(rows),
        "bids_ranked": ranked_now,
        "panel": {"before": panel_before, "after": panel.status},
        **(extra or {}),
    }
    if ranking.version == 1:
        audit_record(action=AuditAction.RANKING_COMPUTED, actor=actor, obj=ranking, details=details)
    else:
        audit_record(
            action=AuditAction.RANKING_CORRECTED,
            actor=actor,
            obj=ranking,
            details={
                **details,
                "corrections": [
                    {
                        "correction": c.pk,
                        "reason": c.reason,
                        "sheet": c.sheet_id,
                        "before": c.before,
                        "after": c.after,
                    }
                    for c in corrections
                ],
            },
        )
    if order.draws:
        audit_record(
            action=AuditAction.RANKING_TIE_DRAWN,
            actor=actor,
            obj=ranking,
            details={
                "tender": tender.pk,
                "version": ranking.version,
                "rule": tender.tie_rule,
                "seed": order.seed,
                "draws": order.draws,
            },
        )
    notifications.ranking_ready(ranking, corrected=ranking.version > 1)
    return ranking


# --- Corrections -------------------------------------------------------------------------------


def _correction_input(reason: Any, explanation: str) -> tuple[CorrectionReason, str]:
    errors: dict[str, list[str]] = {}
    try:
        chosen = CorrectionReason(reason)
    except ValueError:
        chosen = None
        errors["reason"] = [
            _(
                "Scores change after aggregation only for an arithmetic error, a score out "
                "of range, inconsistent objective scores or an abnormally high or low score."
            )
        ]
    text = (explanation or "").strip()
    if not text:
        errors["explanation"] = [_("Explain what is corrected and why.")]
    elif len(text) > EXPLANATION_MAX:
        errors["explanation"] = [
            _("The explanation is longer than %(max)s characters.") % {"max": EXPLANATION_MAX}
        ]
    if errors or chosen is None:
        raise ValidationError(errors)
    return chosen, text


def scoresheet_reopen(
    *, sheet: ScoreSheet, actor: User, reason: Any, explanation: str
) -> RankingCorrection:
    """The chair reopens a locked sheet of a ranked panel for one of the four reasons.

    The ranking's totals before are recorded; the panel goes back to scoring and every
    ranked bid is unranked until the corrected sheet locks and the ranking is recomputed.
    """
    chosen, text = _correction_input(reason, explanation)
    if chosen == CorrectionReason.INCONSISTENT_OBJECTIVE:
        raise ValidationError(
            {
                "reason": [
                    _(
                        "Objective scores are not on a member's sheet: correct the objective "
                        "score itself."
                    )
                ]
            }
        )
    with transaction.atomic():
        panel_ref = Panel.objects.only("pk", "tender_id").get(pk=sheet.member.panel_id)
        tender = _lock_tender(panel_ref.tender_id)
        panel = _lock_panel(panel_ref.pk)
        sheet = _lock_sheet(sheet.pk)
        _require(permissions.can_reopen_sheet(actor, sheet))
        _check_sheet_bid(sheet)
        ranking = Ranking.objects.select_for_update().filter(tender=tender).first()
        if ranking is None:
            raise ValidationError(
                _("There is no ranking yet: nothing was aggregated to correct."),
                code="invalid_state",
            )
        if sheet.status != SheetStatus.LOCKED:
            raise ValidationError(
                _("Only a locked sheet can be reopened (this one is “%(state)s”).")
                % {"state": sheet.get_status_display()},
                code="invalid_state",
            )
        now = timezone.now()
        correction = RankingCorrection.objects.create(
            ranking=ranking,
            reason=chosen,
            explanation=text,
            sheet=sheet,
            requested_by=actor,
            requested_at=now,
            before=_totals(ranking),
        )
        before = sheet.status
        fire(sheet, "reopen")
        sheet.locked_at = None
        sheet.save()
        panel_before = panel.status
        unranked = _reopen_panel(panel)
        audit_record(
            action=AuditAction.SCORESHEET_REOPENED,
            actor=actor,
            obj=sheet,
            state_before=before,
            state_after=sheet.status,
            details={
                "tender": tender.pk,
                "bid": str(sheet.bid_id),
                "seat": sheet.member.seat,
                "correction": correction.pk,
                "reason": chosen.value,
                "explanation": text,
                "before": correction.before,
                "panel": {"before": panel_before, "after": panel.status},
                "bids_unranked": unranked,
            },
        )
        notifications.sheet_reopened(sheet, correction)
    return correction


def _reopen_panel(panel: Panel) -> list[str]:
    """A ranked panel goes back to scoring and its ranked bids are unranked."""
    if panel.status != PanelStatus.RANKED:
        return []
    fire(panel, "reopen")
    panel.save()
    unranked = []
    for bid in Bid.objects.select_for_update().filter(
        tender_id=panel.tender_id, status=BidStatus.RANKED
    ):
        fire(bid, "unrank")
        bid.save()
        unranked.append(str(bid.pk))
    return unranked


def objective_score_correct(
    *, score: ObjectiveScore, actor: User, value: Any, explanation: str
) -> RankingCorrection:
    """The chair corrects an inconsistent objective score; the ranking is recomputed at once.

    Refused while a reopened sheet is being corrected: the two corrections would otherwise
    be applied by different computations.
    """
    chosen, text = _correction_input(CorrectionReason.INCONSISTENT_OBJECTIVE, explanation)
    with transaction.atomic():
        bid_ref = Bid.objects.only("pk", "tender_id").get(pk=score.bid_id)
        tender = _lock_tender(bid_ref.tender_id)
        panel = Panel.objects.select_for_update().get(tender=tender)
        score = (
            ObjectiveScore.objects.select_for_update(of=("self",))
            .select_related("criterion", "bid")
            .get(pk=score.pk)
        )
        _require(permissions.can_correct_objective_score(actor, panel))
        ranking = Ranking.objects.select_for_update().filter(tender=tender).first()
        if ranking is None or panel.status != PanelStatus.RANKED:
            raise ValidationError(
                _(
                    "An objective score is corrected on a ranked panel, with no sheet "
                    "reopened for correction."
                ),
                code="invalid_state",
            )
        if score.bid.status not in VALID_BID_STATES:
            raise ValidationError(
                _("The bid is no longer valid; its sheet is not scored."), code="invalid_bid"
            )
        # ObjectiveScore keeps 4 places (a grade share of odd points, say 80% of 12.5).
        number, problem = _score_problem(score.criterion, value, places=4)
        if problem or number is None:
            raise ValidationError({"value": [problem]})
        old = Decimal(score.score)
        correction = RankingCorrection.objects.create(
            ranking=ranking,
            reason=chosen,
            explanation=text,
            sheet=None,
            requested_by=actor,
            requested_at=timezone.now(),
            before=_totals(ranking),
        )
        score.score = number
        score.basis = {
            **score.basis,
            "corrections": [
                *score.basis.get("corrections", []),
                {"before": str(old), "after": str(number), "correction": correction.pk},
            ],
        }
        score.save(update_fields=["score", "basis"])
        sheets = list(counted_sheets(panel))
        _compute(
            tender,
            panel,
            sheets,
            actor=actor,
            extra={
                "objective_score": {
                    "bid": str(score.bid_id),
                    "criterion": score.criterion.code,
                    "before": old,
                    "after": number,
                    "explanation": text,
                }
            },
        )
        correction.refresh_from_db()
    return correction


__all__ = [
    "VALID_BID_STATES",
    "counted_sheets",
    "deviation_confirm",
    "deviation_revise",
    "draw_order",
    "objective_score_correct",
    "ranking_try_compute",
    "scoresheet_reopen",
    "scoresheet_save",
    "scoresheet_submit",
]
