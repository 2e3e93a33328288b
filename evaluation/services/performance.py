"""Third-party performance evaluation (第三方绩效评价, DESIGN 4.5): assignment, the assessor's
independence declaration, scores with evidence, the submission that grades the contract and
settles the milestone tied to it, and the organization's reply.

An official assigns an active assessor independent of the supplier (the panel rules of
DESIGN 4.4: employed by it within 3 years, a declared relation, staff of the purchasing
unit). The assessor declares independence (checked again at that moment), scores every
indicator of the current set with evidence, and submits: the total gives the grade
(≥ 90 优, ≥ 80 良, ≥ 60 中, < 60 差), and a milestone tied to the evaluation is paid when the
grade reaches the contract's pass grade, withheld otherwise. A poor final result proposes an
abnormal-activity list entry for the registry admin to confirm.

Each service follows STYLE.md: keyword-only, one transaction, the contract row locked before
the evaluation, the permission predicate checked, the django-fsm transition fired, one audit
event, e-mail on commit. Nothing is saved when a service raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evaluation import notifications, performance, rules
from evaluation.models import (
    AssessorProfile,
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
    PerformanceIndicator,
    PerformanceIndicatorSet,
    PerformanceScore,
)
from evaluation.permissions import performance as permissions
from evaluation.services.panels import (
    EMPLOYED_BY_BIDDER,
    INACTIVE,
    PURCHASING_UNIT,
    RELATION_WITH_BIDDER,
    Bidders,
    Conflict,
    conflict_of,
)
from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, Role, User
from marketplace.permissions import has_role, is_official
from marketplace.record_language import record_text
from orgs_registry.models import CreditList
from tenders.contracting import Satisfaction
from tenders.models import (
    Contract,
    ContractStatus,
    EvaluationKind,
    Milestone,
    MilestoneKind,
    PerformanceGrade,
    Tender,
)
from tenders.selectors.delivery import contract_satisfaction

M = TypeVar("M", bound=models.Model)

EVIDENCE_MAX = 4000
CONCLUSION_MAX = 8000
REPLY_MAX = 8000
REASON_MAX = 2000
TENTH = Decimal("0.1")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: M) -> M:
    model: Any = type(obj)
    locked: M = model.objects.select_for_update().get(pk=obj.pk)
    return locked


def _field_error(field: str, message: str, code: str) -> ValidationError:
    """A field's error that keeps its code (a dict of plain strings would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


def _points(value: Decimal) -> str:
    """``15.0`` as ``15``, ``7.50`` as ``7.5``: points as people write them."""
    return f"{Decimal(value).normalize():f}"


# --- The indicator set ---------------------------------------------------------------------------


def indicator_specs(indicators: list[PerformanceIndicator]) -> list[performance.IndicatorSpec]:
    return [
        performance.IndicatorSpec(
            code=i.code, group=i.group, max_points=i.max_points, is_satisfaction=i.is_satisfaction
        )
        for i in indicators
    ]


def _indicators(indicator_set_id: int) -> list[PerformanceIndicator]:
    return list(
        PerformanceIndicator.objects.filter(set_id=indicator_set_id).order_by("sort_order", "code")
    )


def _current_set() -> PerformanceIndicatorSet:
    """The indicator set in use; refused when there is none or it breaks the set rules."""
    current = PerformanceIndicatorSet.objects.filter(is_current=True).first()
    if current is None:
        raise ValidationError(
            _("No performance indicator set is in use; the registry must set one up first."),
            code="no_indicator_set",
        )
    problems = performance.set_problems(indicator_specs(_indicators(current.pk)))
    if problems:
        raise ValidationError(
            _("The indicator set in use cannot be used: %(problems)s.")
            % {"problems": "; ".join(problems)},
            code="invalid_indicator_set",
        )
    return current


# --- Independence --------------------------------------------------------------------------------


def supplier_as_bidders(contract: Contract) -> Bidders:
    """The supplier in the shape the panel conflict rules read (the one "bidder")."""
    organization = contract.organization
    return Bidders(
        ids=frozenset({organization.pk}),
        names={organization.pk: organization.name},
        by_uscc={organization.uscc: organization.name} if organization.uscc else {},
    )


def independence_conflict(assessor: User, contract: Contract, today: date) -> Conflict | None:
    """Why ``assessor`` may not evaluate the contract, or None (the panel rules of DESIGN 4.4
    applied to the supplier; no same-agency rule: an evaluation has one assessor)."""
    profile = (
        AssessorProfile.objects.select_related("user")
        .prefetch_related("employments", "relations")
        .filter(user_id=assessor.pk)
        .first()
    )
    if profile is None:
        return Conflict(
            INACTIVE, record_text(gettext_noop("The account is not in the assessor pool."))
        )
    return conflict_of(
        profile, bidders=supplier_as_bidders(contract), today=today, panel_agencies=set()
    )


def conflict_text(conflict: Conflict) -> str:
    """The conflict in the actor's language (the detail stays in the language of record)."""
    labels = {
        INACTIVE: _("not an active assessor"),
        EMPLOYED_BY_BIDDER: _("employed by the supplier within the last %(years)s years")
        % {"years": rules.CONFLICT_YEARS},
        RELATION_WITH_BIDDER: _("a declared relation with the supplier"),
        PURCHASING_UNIT: _("staff of the purchasing unit within the last %(years)s years")
        % {"years": rules.CONFLICT_YEARS},
    }
    label = labels.get(conflict.reason, conflict.reason)
    return f"{label} ({conflict.detail})"


# --- Assignment ----------------------------------------------------------------------------------


def performance_evaluation_assign(
    *, contract: Contract, kind: str, assessor: User, actor: User, due_date: date
) -> PerformanceEvaluation:
    """An official asks an independent assessor for the contract's mid-term or final
    evaluation, due on ``due_date``. The milestone paid on this kind of evaluation (if the
    payment plan has one) is tied to it; the indicator set in use is the one scored."""
    errors: dict[str, list[str]] = {}
    if kind not in EvaluationKind.values:
        errors["kind"] = [_("Choose a mid-term or a final evaluation.")]
    if not isinstance(due_date, date):
        errors["due_date"] = [_("Give the date the evaluation is due.")]
    elif due_date < timezone.localdate():
        errors["due_date"] = [_("The due date is in the past.")]
    if not isinstance(assessor, User):
        errors["assessor"] = [_("Choose the assessor.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        contract = _lock_contract(contract.pk, contract.tender_id)
        if is_official(actor) and contract.status != ContractStatus.ACTIVE:
            raise ValidationError(
                _("Only a contract in delivery is evaluated; this one is “%(state)s”.")
                % {"state": contract.get_status_display()},
                code="invalid_state",
            )
        _require(permissions.can_assign_performance_evaluation(actor, contract))
        standing = (
            PerformanceEvaluation.objects.filter(contract=contract, kind=kind)
            .exclude(status=PerformanceEvaluationStatus.WITHDRAWN)
            .exists()
        )
        if standing:
            raise _field_error(
                "kind",
                _("The contract already has a %(kind)s; withdraw it before assigning another.")
                % {"kind": EvaluationKind(kind).label},
                "duplicate",
            )
        milestone = (
            Milestone.objects.select_for_update()
            .filter(contract=contract, kind=MilestoneKind.EVALUATION, evaluation_kind=kind)
            .order_by("sequence")
            .first()
        )
        if milestone is not None and milestone.is_settled:
            raise _field_error(
                "kind", _("The milestone paid on this evaluation is settled already."), "settled"
            )
        indicator_set = _current_set()
        if not has_role(assessor, Role.ASSESSOR):
            raise _field_error(
                "assessor", _("Choose an active assessor from the pool."), "inactive"
            )
        now = timezone.now()
        conflict = independence_conflict(assessor, contract, timezone.localdate(now))
        if conflict is not None:
            raise _field_error(
                "assessor",
                _("%(name)s cannot evaluate this contract: %(conflict)s.")
                % {"name": assessor.get_full_name(), "conflict": conflict_text(conflict)},
                "conflict",
            )
        evaluation = PerformanceEvaluation(
            contract=contract,
            milestone=milestone,
            kind=kind,
            indicator_set=indicator_set,
            assessor=assessor,
            assigned_by=actor,
            assigned_at=now,
            due_date=due_date,
        )
        evaluation.save()
        audit_record(
            action=AuditAction.PERFORMANCE_ASSIGNED,
            actor=actor,
            obj=evaluation,
            state_after=evaluation.status,
            details={
                "contract": contract.pk,
                "reference": contract.reference,
                "organization": contract.organization.uscc,
                "kind": kind,
                "assessor": assessor.pk,
                "milestone": milestone.pk if milestone else None,
                "indicator_set": indicator_set.pk,
                "due_date": due_date,
            },
        )
        notifications.performance_assigned(evaluation)
    return evaluation


def _lock_contract(contract_id: int, tender_id: int) -> Contract:
    """Lock the tender, then the contract (the order of the contract services)."""
    list(Tender.objects.select_for_update().filter(pk=tender_id).values_list("pk", flat=True))
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=contract_id)
    )


def _lock_evaluation(evaluation: PerformanceEvaluation) -> tuple[Contract, PerformanceEvaluation]:
    """Lock the tender, the contract, then the evaluation: the order of the contract
    services (``milestone_settle`` locks the tender and the contract again)."""
    contract_id, tender_id = (
        PerformanceEvaluation.objects.filter(pk=evaluation.pk)
        .values_list("contract_id", "contract__tender_id")
        .get()
    )
    contract = _lock_contract(contract_id, tender_id)
    locked = PerformanceEvaluation.objects.select_for_update().get(pk=evaluation.pk)
    locked.contract = contract
    return contract, locked


def performance_evaluation_withdraw(
    *, evaluation: PerformanceEvaluation, actor: User, reason: str
) -> PerformanceEvaluation:
    """An official takes the evaluation back from the assessor before submission (a conflict
    came to light, or another assessor takes over), with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the evaluation is withdrawn.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": [_("The reason is longer than %(max)s characters.") % {"max": REASON_MAX}]}
        )
    with transaction.atomic():
        contract, evaluation = _lock_evaluation(evaluation)
        if is_official(actor) and evaluation.status != PerformanceEvaluationStatus.ASSIGNED:
            raise ValidationError(
                _("Only an evaluation not yet submitted can be withdrawn."), code="invalid_state"
            )
        _require(permissions.can_withdraw_performance_evaluation(actor, evaluation))
        before = evaluation.status
        fire(evaluation, "withdraw")
        evaluation.withdrawn_reason = reason
        evaluation.save()
        audit_record(
            action=AuditAction.PERFORMANCE_WITHDRAWN,
            actor=actor,
            obj=evaluation,
            state_before=before,
            state_after=evaluation.status,
            details={"contract": contract.pk, "kind": evaluation.kind, "reason": reason},
        )
        notifications.performance_withdrawn(evaluation)
    return evaluation


# --- The assessor's work -------------------------------------------------------------------------


def performance_declare(*, evaluation: PerformanceEvaluation, actor: User) -> PerformanceEvaluation:
    """The assessor declares independence from the supplier before scoring; the conflict
    rules are checked again now (an employment or relation may have been recorded since the
    assignment)."""
    with transaction.atomic():
        contract, evaluation = _lock_evaluation(evaluation)
        if (
            permissions.is_evaluation_assessor(actor, evaluation)
            and evaluation.declared_at is not None
        ):
            raise ValidationError(_("You have declared already."), code="invalid_state")
        _require(permissions.can_declare_performance(actor, evaluation))
        now = timezone.now()
        conflict = independence_conflict(actor, contract, timezone.localdate(now))
        if conflict is not None:
            raise ValidationError(
                _(
                    "You cannot declare independence: %(conflict)s. Ask the street office to "
                    "withdraw the evaluation and assign another assessor."
                )
                % {"conflict": conflict_text(conflict)},
                code="conflict",
            )
        evaluation.declared_at = now
        evaluation.save(update_fields=["declared_at"])
        audit_record(
            action=AuditAction.PERFORMANCE_DECLARED,
            actor=actor,
            obj=evaluation,
            state_before=evaluation.status,
            state_after=evaluation.status,
            details={"contract": contract.pk, "kind": evaluation.kind},
        )
    return evaluation


@dataclass(frozen=True)
class ScoreInput:
    score: Decimal | None
    evidence: str


def _parse_score(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError from exc
    if not number.is_finite():
        raise ValueError
    return number


def _parse_scores(
    indicators: list[PerformanceIndicator],
    scores: Mapping[str, Any],
    survey_points: Decimal | None,
) -> dict[str, ScoreInput]:
    """Every item checked before anything is saved; one error per indicator code."""
    by_code = {i.code: i for i in indicators}
    errors: dict[str, list[str]] = {}
    parsed: dict[str, ScoreInput] = {}
    for code, item in scores.items():
        indicator = by_code.get(str(code))
        if indicator is None:
            errors[str(code)[:40]] = [_("Not an indicator of this evaluation's set.")]
            continue
        if isinstance(item, Mapping):
            raw_score, raw_evidence = item.get("score"), item.get("evidence", "")
        elif isinstance(item, list | tuple) and len(item) == 2:
            raw_score, raw_evidence = item
        else:
            errors[indicator.code] = [_("Expected a score and its evidence.")]
            continue
        problems = []
        try:
            score = _parse_score(raw_score)
        except ValueError:
            score = None
            problems.append(_("The score must be a number."))
        else:
            if score is not None and not Decimal(0) <= score <= indicator.max_points:
                problems.append(
                    _("The score must be between 0 and %(points)s.")
                    % {"points": _points(indicator.max_points)}
                )
            elif score is not None and score != score.quantize(TENTH):
                problems.append(_("The score has at most one decimal place."))
        evidence = str(raw_evidence or "").strip()
        if len(evidence) > EVIDENCE_MAX:
            problems.append(
                _("The evidence is longer than %(max)s characters.") % {"max": EVIDENCE_MAX}
            )
        if (
            indicator.is_satisfaction
            and survey_points is not None
            and score is not None
            and score != survey_points
        ):
            problems.append(
                _(
                    "This indicator is scored from the satisfaction survey (%(points)s); "
                    "leave it empty."
                )
                % {"points": _points(survey_points)}
            )
        if problems:
            errors[indicator.code] = problems
            continue
        parsed[indicator.code] = ScoreInput(
            score=score.quantize(TENTH) if score is not None else None, evidence=evidence
        )
    if errors:
        raise ValidationError(errors)
    return parsed


def survey_result(contract: Contract) -> Satisfaction:
    """The beneficiary survey's result so far (answers, mean, satisfied share)."""
    return contract_satisfaction(contract)


def _survey_points(
    indicators: list[PerformanceIndicator], result: Satisfaction
) -> tuple[PerformanceIndicator | None, Decimal | None]:
    indicator = next((i for i in indicators if i.is_satisfaction), None)
    if indicator is None or not result.answers:
        return indicator, None
    return indicator, performance.satisfaction_points(indicator.max_points, result.rate)


def _survey_evidence(result: Satisfaction) -> str:
    return record_text(
        gettext_noop(
            "Beneficiary satisfaction survey: %(answers)s answers, %(rate)s%% satisfied "
            "(mean %(mean)s of 5)."
        ),
        answers=result.answers,
        rate=result.rate,
        mean=result.mean,
    )


def _store_survey_score(
    evaluation: PerformanceEvaluation,
    indicator: PerformanceIndicator | None,
    points: Decimal | None,
    result: Satisfaction,
) -> None:
    if indicator is None or points is None:
        return
    PerformanceScore.objects.update_or_create(
        evaluation=evaluation,
        indicator=indicator,
        defaults={"score": points, "evidence": _survey_evidence(result)},
    )


def _check_conclusion(conclusion: str) -> None:
    if len(conclusion) > CONCLUSION_MAX:
        raise ValidationError(
            {
                "conclusion": [
                    _("The conclusion is longer than %(max)s characters.") % {"max": CONCLUSION_MAX}
                ]
            }
        )


def performance_scores_save(
    *,
    evaluation: PerformanceEvaluation,
    actor: User,
    scores: Mapping[str, Any],
    conclusion: str | None = None,
) -> PerformanceEvaluation:
    """Save the assessor's draft: ``scores`` maps indicator codes to ``(score, evidence)``
    (or ``{"score", "evidence"}``); some indicators may stay empty, an empty score clears
    one. ``conclusion`` None keeps the saved one. The satisfaction indicator comes from the
    survey when it has answers."""
    if conclusion is not None:
        conclusion = conclusion.strip()
        _check_conclusion(conclusion)
    with transaction.atomic():
        contract, evaluation = _lock_evaluation(evaluation)
        _require(permissions.can_score_performance(actor, evaluation))
        indicators = _indicators(evaluation.indicator_set_id)
        result = survey_result(contract)
        survey_indicator, survey_points = _survey_points(indicators, result)
        parsed = _parse_scores(indicators, scores, survey_points)
        by_code = {i.code: i for i in indicators}
        existing = {
            s.indicator_id: s for s in PerformanceScore.objects.filter(evaluation=evaluation)
        }
        changed = []
        for code, item in parsed.items():
            indicator = by_code[code]
            if survey_points is not None and indicator.is_satisfaction:
                continue
            current = existing.get(indicator.pk)
            if item.score is None:
                if current is not None:
                    current.delete()
                    changed.append(code)
                continue
            if current is None:
                PerformanceScore.objects.create(
                    evaluation=evaluation,
                    indicator=indicator,
                    score=item.score,
                    evidence=item.evidence,
                )
                changed.append(code)
            elif current.score != item.score or current.evidence != item.evidence:
                current.score, current.evidence = item.score, item.evidence
                current.save(update_fields=["score", "evidence"])
                changed.append(code)
        _store_survey_score(evaluation, survey_indicator, survey_points, result)
        if conclusion is not None:
            evaluation.conclusion = conclusion
        evaluation.satisfaction_answers = result.answers
        evaluation.satisfaction_rate = result.rate
        evaluation.save(update_fields=["conclusion", "satisfaction_answers", "satisfaction_rate"])
        # The values of a draft stay out of the log: they are the assessor's own until submitted.
        audit_record(
            action=AuditAction.PERFORMANCE_SCORES_SAVED,
            actor=actor,
            obj=evaluation,
            state_before=evaluation.status,
            state_after=evaluation.status,
            details={
                "contract": contract.pk,
                "indicators": sorted(changed),
                "conclusion": conclusion is not None,
            },
        )
    return evaluation


def _settle_reason(
    evaluation: PerformanceEvaluation, grade: str, threshold: str, *, release: bool
) -> str:
    with_labels = {
        "kind": record_text(str(EvaluationKind(evaluation.kind).label)),
        "grade": record_text(str(PerformanceGrade(grade).label)),
        "threshold": record_text(str(PerformanceGrade(threshold).label)),
        "total": _points(evaluation.total_score or Decimal(0)),
    }
    if release:
        message = gettext_noop(
            "The %(kind)s graded %(grade)s (%(total)s points), which meets the grade needed "
            "for payment (%(threshold)s): the payment is released."
        )
    else:
        message = gettext_noop(
            "The %(kind)s graded %(grade)s (%(total)s points), below the grade needed for "
            "payment (%(threshold)s): the payment is withheld."
        )
    return record_text(message, **with_labels)


def _settle_milestone(
    evaluation: PerformanceEvaluation, contract: Contract, *, actor: User
) -> dict[str, Any] | None:
    if evaluation.milestone_id is None:
        return None
    from tenders.services.contracts import milestone_settle

    release = performance.meets(evaluation.grade, contract.pass_grade)
    reason = _settle_reason(evaluation, evaluation.grade, contract.pass_grade, release=release)
    milestone = Milestone.objects.get(pk=evaluation.milestone_id)
    milestone = milestone_settle(milestone=milestone, release=release, reason=reason, actor=actor)
    return {
        "milestone": milestone.pk,
        "released": release,
        "status": milestone.status,
        "amount": milestone.amount,
        "reason": reason,
    }


def _propose_credit_entry(
    evaluation: PerformanceEvaluation, contract: Contract, actor: User
) -> Any:
    """A poor final result proposes an abnormal-activity list entry; the registry admin
    decides (民政部令第60号: only the registration authority lists an organization)."""
    from orgs_registry.services import credit_proposal_create

    source = record_text(
        gettext_noop("Final performance evaluation #%(pk)s of contract %(reference)s"),
        pk=evaluation.pk,
        reference=contract.reference,
    )
    reason = record_text(
        gettext_noop(
            "The final third-party performance evaluation of contract %(reference)s graded "
            "the service Poor (%(total)s points)."
        ),
        reference=contract.reference,
        total=_points(evaluation.total_score or Decimal(0)),
    )
    return credit_proposal_create(
        organization=contract.organization,
        credit_list=CreditList.ABNORMAL,
        reason=reason,
        source=source[:200],
        source_url=reverse("evaluation:performance_detail", args=[evaluation.pk]),
        actor=actor,
    )


def performance_evaluation_submit(
    *, evaluation: PerformanceEvaluation, actor: User
) -> PerformanceEvaluation:
    """The assessor submits: every indicator scored, evidence for every score below its
    maximum, a written conclusion. The total and grade are stored with the survey result,
    the tied milestone is paid or withheld, and a poor final result proposes a credit
    entry."""
    with transaction.atomic():
        contract, evaluation = _lock_evaluation(evaluation)
        _require(permissions.can_submit_performance_evaluation(actor, evaluation))
        if evaluation.milestone_id is not None and contract.status != ContractStatus.ACTIVE:
            raise ValidationError(
                _(
                    "The contract is “%(state)s”: its payments are no longer decided by this "
                    "evaluation. Ask the street office to withdraw it."
                )
                % {"state": contract.get_status_display()},
                code="invalid_state",
            )
        indicators = _indicators(evaluation.indicator_set_id)
        result = survey_result(contract)
        survey_indicator, survey_points = _survey_points(indicators, result)
        _store_survey_score(evaluation, survey_indicator, survey_points, result)
        stored = {s.indicator_id: s for s in PerformanceScore.objects.filter(evaluation=evaluation)}
        values = {i.code: stored[i.pk].score for i in indicators if i.pk in stored}
        errors: dict[str, list[str]] = {}
        for code, problem in performance.score_problems(
            indicator_specs(indicators), values
        ).items():
            if problem == "missing":
                errors[code] = [_("Score this indicator.")]
            else:
                errors[code] = [_("The score is out of range; save it again.")]
        for indicator in indicators:
            score = stored.get(indicator.pk)
            if (
                score is not None
                and score.score < indicator.max_points
                and not score.evidence.strip()
            ):
                errors.setdefault(indicator.code, []).append(
                    _("Give the evidence for a score below the maximum (%(points)s).")
                    % {"points": _points(indicator.max_points)}
                )
        if not evaluation.conclusion.strip():
            errors["conclusion"] = [_("Write the conclusion of the evaluation.")]
        if errors:
            raise ValidationError(errors)
        before = evaluation.status
        total = performance.total(values)
        grade = performance.grade_for(total)
        fire(evaluation, "submit")
        evaluation.total_score = total
        evaluation.grade = grade
        evaluation.satisfaction_answers = result.answers
        evaluation.satisfaction_rate = result.rate
        evaluation.submitted_at = timezone.now()
        evaluation.save()
        payment = _settle_milestone(evaluation, contract, actor=actor)
        proposal = None
        if evaluation.kind == EvaluationKind.FINAL and grade == PerformanceGrade.POOR:
            proposal = _propose_credit_entry(evaluation, contract, actor)
        groups = performance.group_totals(indicator_specs(indicators), values)
        audit_record(
            action=AuditAction.PERFORMANCE_SUBMITTED,
            actor=actor,
            obj=evaluation,
            state_before=before,
            state_after=evaluation.status,
            details={
                "contract": contract.pk,
                "organization": contract.organization.uscc,
                "kind": evaluation.kind,
                "total": total,
                "grade": grade,
                "groups": groups,
                "scores": values,
                "satisfaction": {"answers": result.answers, "rate": result.rate},
                "pass_grade": contract.pass_grade,
                "payment": payment,
                "credit_proposal": getattr(proposal, "pk", None),
            },
        )
        notifications.performance_submitted(evaluation)
    return evaluation


def performance_reply(
    *, evaluation: PerformanceEvaluation, actor: User, reply: str
) -> PerformanceEvaluation:
    """The supplier's administrator answers the conclusion, once; the reply is published
    with the evaluation."""
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": [_("Write the organization's reply.")]})
    if len(reply) > REPLY_MAX:
        raise ValidationError(
            {"reply": [_("The reply is longer than %(max)s characters.") % {"max": REPLY_MAX}]}
        )
    with transaction.atomic():
        contract, evaluation = _lock_evaluation(evaluation)
        if (
            evaluation.status == PerformanceEvaluationStatus.REPLIED
            and permissions.is_admin_of_supplier(actor, evaluation)
        ):
            raise ValidationError(
                _("The organization has replied already; a reply is given once."),
                code="invalid_state",
            )
        _require(permissions.can_reply_performance_evaluation(actor, evaluation))
        before = evaluation.status
        fire(evaluation, "record_reply")
        evaluation.reply = reply
        evaluation.replied_by = actor
        evaluation.replied_at = timezone.now()
        evaluation.save()
        audit_record(
            action=AuditAction.PERFORMANCE_REPLIED,
            actor=actor,
            obj=evaluation,
            state_before=before,
            state_after=evaluation.status,
            details={"contract": contract.pk, "kind": evaluation.kind},
        )
        notifications.performance_replied(evaluation)
    return evaluation


def performance_scores_save_and_submit(
    *,
    evaluation: PerformanceEvaluation,
    actor: User,
    scores: Mapping[str, Any],
    conclusion: str | None = None,
) -> PerformanceEvaluation:
    """Save the scores and submit in one transaction (the page's "submit" button): an
    incomplete evaluation saves nothing."""
    with transaction.atomic():
        performance_scores_save(
            evaluation=evaluation, actor=actor, scores=scores, conclusion=conclusion
        )
        return performance_evaluation_submit(evaluation=evaluation, actor=actor)
