"""Forming the evaluation panel: the random draw with conflict exclusions, declarations and
replacements, objective scores, abnormally low prices (DESIGN 4.4; 财政部令第87号).

The draw is reproducible: the pool (the active and inactive assessors with a profile for the
tender's category, less anyone already chosen) is sorted by user id and shuffled by
``random.Random(seed)``; the walk takes the first assessors not in conflict, recording every
one it passes over with the reason. The seed, the pool and every exclusion are on the
``PanelDraw`` and in the ``PANEL_DRAWN`` audit event, so anyone can redo the shuffle.

Each service follows STYLE.md: keyword-only, one transaction, the tender row locked first,
the permission predicate checked, django-fsm transitions fired, one audit event per change,
e-mail on commit. Nothing is saved when a service raises.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evaluation import notifications, objective, permissions, rules, scoring, selectors
from evaluation.models import (
    AssessorProfile,
    JustificationStatus,
    MemberKind,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelDrawKind,
    PanelMember,
    PriceJustification,
    ScoreSheet,
)
from marketplace.audit import audit_record
from marketplace.fsm import fire
from marketplace.models import AuditAction, Role, User
from marketplace.permissions import has_role, is_official
from marketplace.record_language import record_text as _record_text
from marketplace.uploads import (
    DOCUMENT_MAX_BYTES,
    read_upload,
    safe_filename,
    sha256_hex,
    sniff_document,
)
from orgs_registry.selectors import grade_current
from tenders.models import (
    Bid,
    BidStaff,
    BidStatus,
    CriterionKind,
    Tender,
    TenderCriterion,
    TenderStatus,
)

M = TypeVar("M", bound=models.Model)

# Reason codes of an exclusion from a draw (PanelDraw.excluded[].reason).
INACTIVE = "inactive"
EMPLOYED_BY_BIDDER = "employed_by_bidder"
RELATION_WITH_BIDDER = "relation_with_bidder"
PURCHASING_UNIT = "purchasing_unit"
SAME_AGENCY = "same_agency"
EXCLUSION_REASONS = (
    INACTIVE,
    EMPLOYED_BY_BIDDER,
    RELATION_WITH_BIDDER,
    PURCHASING_UNIT,
    SAME_AGENCY,
)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _lock(obj: M) -> M:
    model: Any = type(obj)
    locked: M = model.objects.select_for_update().get(pk=obj.pk)
    return locked


def _name(user: User) -> str:
    return user.get_full_name()


# --- Conflicts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bidders:
    """The organizations with an opened bid in the tender (whatever the review said)."""

    ids: frozenset[int]
    names: Mapping[int, str]
    by_uscc: Mapping[str, str]

    def matches(self, organization_id: int | None, uscc: str) -> bool:
        return (organization_id is not None and organization_id in self.ids) or (
            bool(uscc) and uscc in self.by_uscc
        )

    def name_of(self, organization_id: int | None, uscc: str) -> str:
        if organization_id is not None and organization_id in self.names:
            return self.names[organization_id]
        return self.by_uscc.get(uscc, uscc)


def _bidders(tender: Tender) -> Bidders:
    rows = list(
        Bid.objects.filter(tender=tender, opened_at__isnull=False).values_list(
            "organization_id", "organization__uscc", "organization__name"
        )
    )
    return Bidders(
        ids=frozenset(row[0] for row in rows),
        names={row[0]: row[2] for row in rows},
        by_uscc={row[1]: row[2] for row in rows if row[1]},
    )


def _period(employment: Any) -> rules.Period:
    return rules.Period(start=employment.start_date, end=employment.end_date)


def agencies_of(profile: AssessorProfile, today: date) -> set[str]:
    """The normalized agency and current employers of an assessor (for the same-agency rule)."""
    names = {rules.normalize_agency(profile.agency)} if profile.agency.strip() else set()
    for employment in profile.employments.all():
        current = employment.start_date <= today and (
            employment.end_date is None or employment.end_date >= today
        )
        if current and employment.employer_name.strip():
            names.add(rules.normalize_agency(employment.employer_name))
    return names


@dataclass(frozen=True)
class Conflict:
    reason: str
    detail: str


def conflict_of(
    profile: AssessorProfile,
    *,
    bidders: Bidders,
    today: date,
    panel_agencies: set[str],
) -> Conflict | None:
    """Why the assessor may not sit on this panel, or None (DESIGN 4.4, 87号令 Art. 47-48).

    (e) inactive account; (a) employed by a bidder within ``rules.CONFLICT_YEARS`` years;
    (b) a declared relation to a bidder; (c) staff of the purchasing unit, now or within the
    same years; (d) the same agency or current employer as an expert already on the panel.
    ``profile`` has its employments and relations prefetched.
    """
    user = profile.user
    if not user.is_active or user.role != Role.ASSESSOR:
        return Conflict(INACTIVE, _record_text(gettext_noop("The account is not active.")))
    for employment in profile.employments.all():
        if bidders.matches(employment.organization_id, employment.employer_uscc) and (
            rules.employed_within([_period(employment)], today, rules.CONFLICT_YEARS)
        ):
            return Conflict(
                EMPLOYED_BY_BIDDER,
                _record_text(
                    gettext_noop(
                        "Employed by the bidder %(employer)s within the last %(years)s years."
                    ),
                    employer=bidders.name_of(employment.organization_id, employment.employer_uscc),
                    years=rules.CONFLICT_YEARS,
                ),
            )
    for relation in profile.relations.all():
        if bidders.matches(relation.organization_id, relation.organization_uscc):
            return Conflict(
                RELATION_WITH_BIDDER,
                _record_text(
                    gettext_noop("Declared relation with the bidder %(organization)s: %(what)s."),
                    organization=bidders.name_of(
                        relation.organization_id, relation.organization_uscc
                    ),
                    what=relation.relation,
                ),
            )
    for employment in profile.employments.all():
        if employment.is_purchasing_unit and rules.employed_within(
            [_period(employment)], today, rules.CONFLICT_YEARS
        ):
            return Conflict(
                PURCHASING_UNIT,
                _record_text(
                    gettext_noop(
                        "Staff of the purchasing unit (%(employer)s) within the last %(years)s "
                        "years."
                    ),
                    employer=employment.employer_name,
                    years=rules.CONFLICT_YEARS,
                ),
            )
    if rules.EXCLUDE_SAME_AGENCY:
        shared = agencies_of(profile, today) & panel_agencies
        if shared:
            return Conflict(
                SAME_AGENCY,
                _record_text(
                    gettext_noop("Same agency or employer as a member already drawn: %(agency)s."),
                    agency=_agency_label(profile, today, shared),
                ),
            )
    return None


def _agency_label(profile: AssessorProfile, today: date, shared: set[str]) -> str:
    if profile.agency.strip() and rules.normalize_agency(profile.agency) in shared:
        return profile.agency.strip()
    for employment in profile.employments.all():
        if rules.normalize_agency(employment.employer_name) in shared:
            return employment.employer_name
    return sorted(shared)[0]


def _pool(tender: Tender, *, leave_out: Iterable[int] = ()) -> list[AssessorProfile]:
    """Every assessor profile for the tender's category, sorted by user id (the order the
    seed's shuffle starts from), less ``leave_out`` user ids."""
    return list(
        AssessorProfile.objects.filter(categories=tender.category)
        .exclude(user_id__in=list(leave_out))
        .select_related("user")
        .prefetch_related("employments", "relations")
        .order_by("user_id")
        .distinct()
    )


def shuffled(user_ids: Sequence[int], seed: str) -> list[int]:
    """The pool's user ids (sorted ascending) in the order ``random.Random(seed)`` gives.

    This is the whole randomness of a draw: anyone holding the seed and the pool recorded
    on the draw gets the same order.
    """
    order = sorted(user_ids)
    random.Random(seed).shuffle(order)  # noqa: S311 (reproducible by design; seed is secret-grade)
    return order


@dataclass
class DrawResult:
    seed: str
    pool: list[int]
    drawn: list[AssessorProfile] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)


def _draw(
    pool: list[AssessorProfile],
    *,
    needed: int,
    bidders: Bidders,
    today: date,
    panel_agencies: set[str],
) -> DrawResult:
    """Walk the shuffled pool, excluding conflicts, until ``needed`` experts are drawn."""
    seed = secrets.token_hex(16)
    by_user = {profile.user_id: profile for profile in pool}
    result = DrawResult(seed=seed, pool=sorted(by_user))
    agencies = set(panel_agencies)
    for user_id in shuffled(result.pool, seed):
        if len(result.drawn) >= needed:
            break
        profile = by_user[user_id]
        conflict = conflict_of(profile, bidders=bidders, today=today, panel_agencies=agencies)
        if conflict is not None:
            result.excluded.append(
                {
                    "user": user_id,
                    "name": _name(profile.user),
                    "reason": conflict.reason,
                    "detail": conflict.detail,
                }
            )
            continue
        result.drawn.append(profile)
        agencies |= agencies_of(profile, today)
    return result


def _pool_too_small(*, eligible: int, needed: int, tender: Tender) -> ValidationError:
    return ValidationError(
        {
            "size": [
                _(
                    "Only %(eligible)s eligible assessor(s) are in the pool for %(category)s "
                    "(after excluding conflicts); %(needed)s are needed."
                )
                % {"eligible": eligible, "needed": needed, "category": tender.category}
            ]
        },
        code="pool_too_small",
    )


# --- Objective scores ----------------------------------------------------------------------------


def _objective_criteria(tender: Tender) -> list[TenderCriterion]:
    """The tender's objective criteria, each with a rule that can be scored; otherwise the
    panel cannot be formed (the message names the criterion)."""
    criteria = list(
        TenderCriterion.objects.filter(tender=tender, kind=CriterionKind.OBJECTIVE).order_by(
            "sort_order", "pk"
        )
    )
    problems = []
    for criterion in criteria:
        for problem in objective.validate_rule(criterion.kind, criterion.points, criterion.rule):
            problems.append(
                _("Objective criterion “%(name)s” (%(code)s): %(problem)s")
                % {"name": criterion.name, "code": criterion.code, "problem": problem}
            )
    if problems:
        raise ValidationError({"criteria": problems}, code="objective_rule")
    return criteria


def _certified_workers(bids: list[Bid]) -> dict[Any, list[int]]:
    """Per bid, the people on its staffing plan holding a social-work qualification."""
    found: dict[Any, list[int]] = {bid.pk: [] for bid in bids}
    rows = (
        BidStaff.objects.filter(bid__in=bids, person__qualifications__isnull=False)
        .values_list("bid_id", "person_id")
        .distinct()
        .order_by("bid_id", "person_id")
    )
    for bid_id, person_id in rows:
        found[bid_id].append(person_id)
    return found


def _objective_scores(
    tender: Tender, criteria: list[TenderCriterion], bids: list[Bid], now: datetime
) -> list[ObjectiveScore]:
    """Score every qualified bid on every objective criterion from the registry."""
    today = timezone.localdate(now)
    grades = {}
    for bid in bids:
        assessment = grade_current(bid.organization, on=today)
        grades[bid.pk] = assessment.grade if assessment is not None else None
    workers = _certified_workers(bids) if bids else {}
    org_ids = [bid.organization_id for bid in bids]
    rows = []
    for criterion in criteria:
        rule = criterion.rule
        kind = objective.rule_type(rule)
        means: Mapping[int, Decimal] = {}
        since = None
        if kind == objective.PAST_PERFORMANCE:
            years = objective.performance_years(rule)
            since = today - timedelta(days=365 * years + years // 4)
            means = selectors.past_performance_means(org_ids, since)
        for bid in bids:
            basis: dict[str, Any] = {"rule": kind}
            if kind == objective.GRADE:
                basis["grade"] = grades[bid.pk]
                value = objective.grade_score(criterion.points, grades[bid.pk], rule)
            elif kind == objective.SOCIAL_WORKERS:
                people = workers.get(bid.pk, [])
                basis.update(workers=len(people), people=people)
                value = objective.social_worker_score(criterion.points, len(people), rule)
            else:
                mean = means.get(bid.organization_id)
                basis.update(mean=mean, since=since)
                value = objective.past_performance_score(criterion.points, mean, rule)
            rows.append(
                ObjectiveScore(
                    bid=bid, criterion=criterion, score=value, basis=basis, computed_at=now
                )
            )
    return rows


# --- Forming the panel ---------------------------------------------------------------------------


def _size(tender: Tender, size: int | None) -> int:
    """The panel's size: the method's minimum by default; refused when unlawful
    (87号令 Art. 47: ≥ 5 and odd, ≥ 7 from ¥10M; 214号 Art. 14: consultation ≥ 3, odd)."""
    minimum = rules.minimum_panel_size(tender.method, tender.budget)
    if size is None:
        return minimum
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValidationError({"size": [_("The panel size must be a whole number.")]})
    problem = rules.panel_size_problem(tender.method, tender.budget, size)
    if problem is None:
        return size
    if problem == "odd":
        message = _("A panel has an odd number of members; %(size)s is even.") % {"size": size}
    else:
        message = _(
            "This tender's panel needs at least %(minimum)s members (its method and budget); "
            "%(size)s is too few."
        ) % {"minimum": minimum, "size": size}
    raise ValidationError({"size": [message]}, code="panel_size")


def _distinct(users: Iterable[User], field_name: str) -> list[User]:
    chosen: list[User] = []
    for user in users:
        if any(other.pk == user.pk for other in chosen):
            raise ValidationError(
                {field_name: [_("%(name)s is named twice.") % {"name": _name(user)}]}
            )
        chosen.append(user)
    return chosen


def _check_representatives(representatives: list[User], size: int) -> None:
    errors = []
    for user in representatives:
        if not (is_official(user) and user.is_active):
            errors.append(
                _("%(name)s is not an active official of the street office.")
                % {"name": _name(user)}
            )
    allowed = size - rules.minimum_experts(size)
    if len(representatives) > allowed:
        # 87号令 Art. 47: experts are at least two thirds of the panel.
        errors.append(
            _(
                "A panel of %(size)s may have at most %(allowed)s purchaser's representative(s): "
                "experts from the pool are at least two thirds (%(experts)s)."
            )
            % {"size": size, "allowed": allowed, "experts": rules.minimum_experts(size)}
        )
    if errors:
        raise ValidationError({"representatives": errors}, code="representatives")


def _named_experts(
    tender: Tender,
    members: list[User],
    *,
    representatives: list[User],
    needed: int,
    bidders: Bidders,
    today: date,
) -> list[AssessorProfile]:
    """The experts the official named, each checked like a drawn one (refused with the
    reason); their agencies count for the rest of the draw."""
    if len(members) > needed:
        raise ValidationError(
            {
                "members": [
                    _("%(count)s experts are named; the panel has room for %(needed)s.")
                    % {"count": len(members), "needed": needed}
                ]
            }
        )
    representative_ids = {user.pk for user in representatives}
    profiles = {
        profile.user_id: profile
        for profile in AssessorProfile.objects.filter(user__in=members)
        .select_related("user")
        .prefetch_related("employments", "relations", "categories")
    }
    errors = []
    chosen: list[AssessorProfile] = []
    agencies: set[str] = set()
    for user in members:
        profile = profiles.get(user.pk)
        if user.pk in representative_ids:
            errors.append(
                _("%(name)s is named both as an expert and as a representative.")
                % {"name": _name(user)}
            )
            continue
        if (
            profile is None
            or not has_role(user, Role.ASSESSOR)
            or tender.category_id not in {c.pk for c in profile.categories.all()}
        ):
            errors.append(
                _("%(name)s is not in the assessor pool for %(category)s.")
                % {"name": _name(user), "category": tender.category}
            )
            continue
        conflict = conflict_of(profile, bidders=bidders, today=today, panel_agencies=agencies)
        if conflict is not None:
            errors.append(
                _("%(name)s cannot sit on this panel: %(detail)s")
                % {"name": _name(user), "detail": _conflict_text(conflict)}
            )
            continue
        chosen.append(profile)
        agencies |= agencies_of(profile, today)
    if errors:
        raise ValidationError({"members": errors}, code="conflict")
    return chosen


def _conflict_text(conflict: Conflict) -> str:
    """The conflict's reason in the actor's language (the stored detail is the record's)."""
    labels = {
        INACTIVE: _("the account is not active"),
        EMPLOYED_BY_BIDDER: _("employed by a bidder within the last %(years)s years")
        % {"years": rules.CONFLICT_YEARS},
        RELATION_WITH_BIDDER: _("a declared relation with a bidder"),
        PURCHASING_UNIT: _("staff of the purchasing unit"),
        SAME_AGENCY: _("the same agency or employer as another member"),
    }
    return f"{labels[conflict.reason]} ({conflict.detail})"


def _ready_for_panel(tender: Tender) -> list[Bid]:
    """The qualified bids, once every opened bid is reviewed and enough qualified."""
    pending = Bid.objects.filter(tender=tender, status=BidStatus.OPENED).count()
    if pending:
        raise ValidationError(
            {
                "tender": [
                    _("%(count)s opened bid(s) still wait for the qualification review.")
                    % {"count": pending}
                ]
            },
            code="review_pending",
        )
    bids = list(
        Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED)
        .select_related("organization")
        .order_by("price", "pk")
    )
    if len(bids) < tender.minimum_bids:
        raise ValidationError(
            {
                "tender": [
                    _("Only %(count)s bid(s) are qualified; this method needs %(minimum)s.")
                    % {"count": len(bids), "minimum": tender.minimum_bids}
                ]
            },
            code="too_few_bids",
        )
    return bids


def _create_sheets(members: Iterable[PanelMember], bids: list[Bid]) -> int:
    """One sheet, ``assigned``, for every active member and every qualified bid."""
    sheets = [ScoreSheet(member=member, bid=bid) for member in members for bid in bids]
    ScoreSheet.objects.bulk_create(sheets)
    return len(sheets)


def _member_line(member: PanelMember) -> dict[str, Any]:
    return {
        "seat": member.seat,
        "user": member.user_id,
        "name": _name(member.user),
        "kind": member.kind,
    }


def panel_form(
    *,
    tender: Tender,
    actor: User,
    size: int | None = None,
    representatives: Sequence[User] = (),
    members: Sequence[User] = (),
    chair: User | None = None,
) -> Panel:
    """Form the tender's evaluation panel and start the evaluation.

    By an official, once the tender is opened, every opened bid reviewed and at least
    ``tender.minimum_bids`` qualified. The panel has ``size`` seats (default: the minimum
    for the method and budget); ``representatives`` are the purchaser's officials (at most a
    third); the remaining seats go to the experts named in ``members`` and then to experts
    drawn at random from the pool, excluding conflicts. The chair is ``chair`` (a member) or
    the first drawn expert. Then: one ``assigned`` score sheet per member and qualified bid, the
    objective scores from the registry, and a price justification for every abnormally low
    price (87号令 Art. 60). Each member is e-mailed.
    """
    with transaction.atomic():
        tender = _lock(tender)
        if is_official(actor) and tender.status != TenderStatus.OPENED:
            raise ValidationError(
                _("A panel is formed once the bids are opened and reviewed, and only once."),
                code="invalid_state",
            )
        _require(permissions.can_form_panel(actor, tender))
        if Panel.objects.filter(tender=tender).exists():
            raise ValidationError(_("This tender has a panel already."), code="panel_exists")
        now = timezone.now()
        today = timezone.localdate(now)
        bids = _ready_for_panel(tender)
        criteria = _objective_criteria(tender)
        seats = _size(tender, size)
        representatives = _distinct(representatives, "representatives")
        members = _distinct(members, "members")
        _check_representatives(representatives, seats)
        needed = seats - len(representatives)
        bidders = _bidders(tender)
        named = _named_experts(
            tender,
            members,
            representatives=representatives,
            needed=needed,
            bidders=bidders,
            today=today,
        )
        agencies: set[str] = set()
        for profile in named:
            agencies |= agencies_of(profile, today)
        draw: DrawResult | None = None
        if len(named) < needed:
            pool = _pool(tender, leave_out=[p.user_id for p in named])
            draw = _draw(
                pool,
                needed=needed - len(named),
                bidders=bidders,
                today=today,
                panel_agencies=agencies,
            )
            if len(draw.drawn) < needed - len(named):
                raise _pool_too_small(
                    eligible=len(named) + len(draw.drawn), needed=needed, tender=tender
                )
        experts = [p.user for p in named] + ([p.user for p in draw.drawn] if draw else [])
        everyone = experts + representatives
        if chair is not None and all(user.pk != chair.pk for user in everyone):
            raise ValidationError(
                {"chair": [_("The chair must be a member of the panel.")]}, code="chair"
            )
        if chair is None:
            # The first expert the draw gave (the first named one when nobody was drawn).
            chair = draw.drawn[0].user if draw is not None and draw.drawn else experts[0]

        panel = Panel.objects.create(
            tender=tender, size=seats, chair=chair, formed_by=actor, formed_at=now
        )
        panel_draw = None
        if draw is not None:
            panel_draw = PanelDraw.objects.create(
                panel=panel,
                kind=PanelDrawKind.INITIAL,
                seed=draw.seed,
                requested=needed - len(named),
                pool_size=len(draw.pool),
                drawn=[p.user_id for p in draw.drawn],
                excluded=draw.excluded,
                drawn_by=actor,
                drawn_at=now,
            )
        drawn_ids = {p.user_id for p in draw.drawn} if draw else set()
        seated = PanelMember.objects.bulk_create(
            PanelMember(
                panel=panel,
                user=user,
                kind=MemberKind.EXPERT if user in experts else MemberKind.REPRESENTATIVE,
                draw=panel_draw if user.pk in drawn_ids else None,
                seat=seat,
            )
            for seat, user in enumerate(everyone, start=1)
        )
        sheet_count = _create_sheets(seated, bids)
        before = tender.status
        fire(tender, "start_evaluation")
        tender.save()
        audit_record(
            action=AuditAction.PANEL_FORMED,
            actor=actor,
            obj=panel,
            state_after=panel.status,
            details={
                "tender": tender.pk,
                "size": seats,
                "chair": chair.pk,
                "members": [_member_line(m) for m in seated],
                "named": [p.user_id for p in named],
                "representatives": [u.pk for u in representatives],
                "sheets": sheet_count,
            },
        )
        if panel_draw is not None and draw is not None:
            audit_record(
                action=AuditAction.PANEL_DRAWN,
                actor=actor,
                obj=panel_draw,
                details={
                    "tender": tender.pk,
                    "panel": panel.pk,
                    "kind": panel_draw.kind,
                    "seed": draw.seed,
                    "pool": draw.pool,
                    "requested": panel_draw.requested,
                    "drawn": panel_draw.drawn,
                    "excluded": draw.excluded,
                },
            )
        audit_record(
            action=AuditAction.TENDER_EVALUATION_STARTED,
            actor=actor,
            obj=tender,
            state_before=before,
            state_after=tender.status,
            details={"panel": panel.pk, "qualified_bids": len(bids)},
        )
        _store_objective_scores(tender, criteria, bids, now=now, actor=actor)
        justifications = _flag_low_prices(tender, bids, now=now, actor=actor)
        for member in seated:
            notifications.panel_member_drawn(member)
        for justification in justifications:
            notifications.justification_requested(justification)
    return panel


def _store_objective_scores(
    tender: Tender,
    criteria: list[TenderCriterion],
    bids: list[Bid],
    *,
    now: datetime,
    actor: User | None,
) -> None:
    if not criteria:
        return
    rows = ObjectiveScore.objects.bulk_create(_objective_scores(tender, criteria, bids, now))
    audit_record(
        action=AuditAction.OBJECTIVE_SCORES_COMPUTED,
        actor=actor,
        obj=tender,
        details={
            "scores": [
                {
                    "bid": str(row.bid_id),
                    "organization": row.bid.organization.uscc,
                    "criterion": row.criterion.code,
                    "score": row.score,
                    "basis": row.basis,
                }
                for row in rows
            ]
        },
    )


def _flag_low_prices(
    tender: Tender, bids: list[Bid], *, now: datetime, actor: User | None
) -> list[PriceJustification]:
    """A price justification for every abnormally low price among the qualified bids
    (87号令 Art. 60: below ``rules.LOW_PRICE_RATIO`` of the mean of the other valid prices)."""
    by_key: dict[str, Bid] = {}
    prices: dict[str, Decimal] = {}
    for bid in bids:
        if bid.price is not None:
            by_key[str(bid.pk)] = bid
            prices[str(bid.pk)] = bid.price
    flagged = scoring.abnormally_low(prices, ratio=rules.LOW_PRICE_RATIO)
    created = []
    for key in sorted(flagged, key=lambda k: (prices[k], k)):
        bid = by_key[key]
        justification = PriceJustification.objects.create(
            bid=bid,
            price=bid.price,
            others_mean=flagged[key].quantize(Decimal("0.0001")),
            ratio=rules.LOW_PRICE_RATIO,
            requested_at=now,
            # [cfg] days to justify (DESIGN 4.4).
            due_at=now + timedelta(days=rules.JUSTIFICATION_DAYS),
        )
        audit_record(
            action=AuditAction.LOW_PRICE_FLAGGED,
            actor=actor,
            obj=justification,
            state_after=justification.status,
            details={
                "tender": tender.pk,
                "bid": str(bid.pk),
                "organization": bid.organization.uscc,
                "price": bid.price,
                "others_mean": justification.others_mean,
                "ratio": rules.LOW_PRICE_RATIO,
                "due_at": justification.due_at,
            },
        )
        created.append(justification)
    return created


# --- Declarations ----------------------------------------------------------------------------


def _ever_on(panel: Panel) -> list[int]:
    return list(PanelMember.objects.filter(panel=panel).values_list("user_id", flat=True))


def _expert_agencies(panel: Panel, today: date, *, leaving: PanelMember) -> set[str]:
    """The agencies of the panel's other active members (for the same-agency rule)."""
    user_ids = (
        PanelMember.objects.filter(panel=panel)
        .exclude(status=MemberStatus.REPLACED)
        .exclude(pk=leaving.pk)
        .values_list("user_id", flat=True)
    )
    agencies: set[str] = set()
    for profile in AssessorProfile.objects.filter(user_id__in=list(user_ids)).prefetch_related(
        "employments"
    ):
        agencies |= agencies_of(profile, today)
    return agencies


def panel_declare(
    *, member: PanelMember, actor: User, conflict: bool, statement: str
) -> PanelMember:
    """The member's conflict-of-interest declaration, signed before any bid is shown.

    No conflict: the member and their sheets are declared; when every active member has
    declared, scoring starts. A conflict (a statement is then required): the member is
    replaced, their sheets deleted, and a new draw (new seed, same exclusions, nobody who was
    ever on this panel) fills the seat; the newcomer gets the sheets and an e-mail. Returns
    the member who declared.
    """
    statement = (statement or "").strip()
    if conflict and not statement:
        raise ValidationError(
            {"statement": [_("Say what the conflict of interest is.")]}, code="required"
        )
    if len(statement) > 4000:
        raise ValidationError(
            {"statement": [_("The declaration is longer than 4,000 characters.")]}
        )
    with transaction.atomic():
        panel = Panel.objects.select_related("tender").get(pk=member.panel_id)
        tender = _lock(panel.tender)
        panel = _lock(panel)
        member = PanelMember.objects.select_for_update().get(pk=member.pk)
        member.panel = panel
        panel.tender = tender
        _require(permissions.can_declare(actor, member))
        now = timezone.now()
        if not conflict:
            _declare_no_conflict(panel, member, actor=actor, statement=statement, now=now)
        else:
            _declare_conflict(tender, panel, member, actor=actor, statement=statement, now=now)
    return member


def _declare_no_conflict(
    panel: Panel, member: PanelMember, *, actor: User, statement: str, now: datetime
) -> None:
    fire(member, "declare")
    member.conflict = False
    member.statement = statement
    member.declared_at = now
    member.save()
    sheets = list(ScoreSheet.objects.select_for_update().filter(member=member))
    for sheet in sheets:
        fire(sheet, "declare")
        sheet.save()
    audit_record(
        action=AuditAction.PANEL_DECLARED,
        actor=actor,
        obj=member,
        state_before=MemberStatus.ASSIGNED,
        state_after=member.status,
        details={
            "tender": panel.tender_id,
            "panel": panel.pk,
            "seat": member.seat,
            "statement": statement,
            "sheets": len(sheets),
        },
    )
    waiting = (
        PanelMember.objects.filter(panel=panel, status=MemberStatus.ASSIGNED)
        .exclude(pk=member.pk)
        .exists()
    )
    if waiting:
        return
    declared = PanelMember.objects.filter(panel=panel, status=MemberStatus.DECLARED).count()
    before = panel.status
    fire(panel, "start_scoring")
    panel.scoring_started_at = now
    panel.save()
    audit_record(
        action=AuditAction.PANEL_SCORING_STARTED,
        actor=actor,
        obj=panel,
        state_before=before,
        state_after=panel.status,
        details={
            "tender": panel.tender_id,
            "members": declared,
        },
    )


def _declare_conflict(
    tender: Tender,
    panel: Panel,
    member: PanelMember,
    *,
    actor: User,
    statement: str,
    now: datetime,
) -> None:
    today = timezone.localdate(now)
    bidders = _bidders(tender)
    draw = _draw(
        _pool(tender, leave_out=_ever_on(panel)),
        needed=1,
        bidders=bidders,
        today=today,
        panel_agencies=_expert_agencies(panel, today, leaving=member),
    )
    if not draw.drawn:
        raise ValidationError(
            {
                "conflict": [
                    _(
                        "No eligible assessor is left in the pool to take your seat; the street "
                        "office must add assessors for %(category)s before you can step down."
                    )
                    % {"category": tender.category}
                ]
            },
            code="pool_too_small",
        )
    fire(member, "replace")
    member.conflict = True
    member.statement = statement
    member.declared_at = now
    deleted, _counts = ScoreSheet.objects.filter(member=member).delete()
    panel_draw = PanelDraw.objects.create(
        panel=panel,
        kind=PanelDrawKind.REPLACEMENT,
        seed=draw.seed,
        requested=1,
        pool_size=len(draw.pool),
        drawn=[p.user_id for p in draw.drawn],
        excluded=draw.excluded,
        drawn_by=actor,
        drawn_at=now,
    )
    newcomer = draw.drawn[0].user
    replacement = PanelMember.objects.create(
        panel=panel, user=newcomer, kind=MemberKind.EXPERT, draw=panel_draw, seat=member.seat
    )
    member.replaced_by = replacement
    member.save()
    bids = list(Bid.objects.filter(tender=tender, status=BidStatus.QUALIFIED).order_by("pk"))
    _create_sheets([replacement], bids)
    chair_changed = panel.chair_id == member.user_id
    if chair_changed:
        panel.chair = newcomer
        panel.save()
    audit_record(
        action=AuditAction.PANEL_CONFLICT_DECLARED,
        actor=actor,
        obj=member,
        state_before=MemberStatus.ASSIGNED,
        state_after=member.status,
        details={
            "tender": tender.pk,
            "panel": panel.pk,
            "seat": member.seat,
            "statement": statement,
            "sheets_deleted": deleted,
            "replacement": {"member": replacement.pk, "user": newcomer.pk, "name": _name(newcomer)},
            "chair": newcomer.pk if chair_changed else panel.chair_id,
            "draw": {
                "id": panel_draw.pk,
                "kind": panel_draw.kind,
                "seed": draw.seed,
                "pool": draw.pool,
                "drawn": panel_draw.drawn,
                "excluded": draw.excluded,
            },
        },
    )
    notifications.panel_member_replacement(replacement)


# --- Abnormally low prices ---------------------------------------------------------------------


def _lock_justification(
    justification: PriceJustification,
) -> tuple[Tender, PriceJustification, Bid]:
    bid = Bid.objects.select_related("tender").get(pk=justification.bid_id)
    tender = _lock(bid.tender)
    justification = PriceJustification.objects.select_for_update().get(pk=justification.pk)
    bid = Bid.objects.select_for_update(of=("self",)).select_related("organization").get(pk=bid.pk)
    bid.tender = tender
    justification.bid = bid
    return tender, justification, bid


def justification_submit(
    *,
    justification: PriceJustification,
    actor: User,
    text: str,
    upload: Any = None,
) -> PriceJustification:
    """The bidder's written justification of an abnormally low price, with an optional
    document (checked like bid documents: size, type by content, SHA-256), by its due time."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(
            {"text": [_("Explain in writing how the service can be delivered at this price.")]},
            code="required",
        )
    if len(text) > 8000:
        raise ValidationError({"text": [_("The justification is longer than 8,000 characters.")]})
    with transaction.atomic():
        tender, justification, bid = _lock_justification(justification)
        _require(permissions.can_submit_justification(actor, justification))
        now = timezone.now()
        if now > justification.due_at:
            raise ValidationError(
                _("The justification was due by %(due)s; the panel decides without it.")
                % {"due": timezone.localtime(justification.due_at).strftime("%Y-%m-%d %H:%M")},
                code="late",
            )
        details: dict[str, Any] = {"tender": tender.pk, "bid": str(bid.pk)}
        if upload is not None:
            data = read_upload(upload, max_bytes=DOCUMENT_MAX_BYTES)
            kind = sniff_document(data)
            digest = sha256_hex(data)
            justification.document_name = safe_filename(getattr(upload, "name", ""), kind)
            justification.document_sha256 = digest
            justification.document.save(digest, ContentFile(data), save=False)
            details.update(document=justification.document_name, sha256=digest)
        fire(justification, "submit")
        justification.text = text
        justification.submitted_by = actor
        justification.submitted_at = now
        justification.save()
        audit_record(
            action=AuditAction.LOW_PRICE_JUSTIFIED,
            actor=actor,
            obj=justification,
            state_before=JustificationStatus.REQUESTED,
            state_after=justification.status,
            details=details,
        )
        panel = Panel.objects.select_related("chair").filter(tender=tender).first()
        notifications.justification_submitted(justification, panel.chair if panel else None)
    return justification


def justification_decide(
    *,
    justification: PriceJustification,
    actor: User,
    accept: bool,
    note: str,
) -> PriceJustification:
    """The panel's decision on a price justification, recorded by its chair with reasons
    (87号令 Art. 60). Rejected (or never submitted by its due time): the bid is invalid.
    Then the ranking is tried (it waits while any justification is pending)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": [_("Give the panel's reasons for the decision.")]}, code="required"
        )
    if len(note) > 4000:
        raise ValidationError({"note": [_("The reasons are longer than 4,000 characters.")]})
    with transaction.atomic():
        tender, justification, bid = _lock_justification(justification)
        panel = Panel.objects.select_for_update().get(tender=tender)
        panel.tender = tender
        _require(permissions.can_decide_justification(actor, justification, panel))
        now = timezone.now()
        if justification.status == JustificationStatus.REQUESTED:
            if accept:
                raise ValidationError(
                    _("Nothing was submitted to accept."), code="nothing_submitted"
                )
            if now <= justification.due_at:
                raise ValidationError(
                    _("The bidder has until %(due)s to submit its justification.")
                    % {"due": timezone.localtime(justification.due_at).strftime("%Y-%m-%d %H:%M")},
                    code="not_due",
                )
        before = justification.status
        fire(justification, "accept" if accept else "reject")
        justification.decision_note = note
        justification.decided_by = actor
        justification.decided_at = now
        justification.save()
        audit_record(
            action=AuditAction.LOW_PRICE_DECIDED,
            actor=actor,
            obj=justification,
            state_before=before,
            state_after=justification.status,
            details={
                "tender": tender.pk,
                "bid": str(bid.pk),
                "accepted": accept,
                "submitted": before == JustificationStatus.SUBMITTED,
                "note": note,
            },
        )
        if not accept:
            bid_before = bid.status
            fire(bid, "invalidate")
            bid.review_reason = _record_text(
                gettext_noop(
                    "Abnormally low price (MOF Order No. 87 Art. 60): the panel rejected the "
                    "justification. %(note)s"
                ),
                note=note,
            )
            bid.save()
            audit_record(
                action=AuditAction.BID_INVALIDATED,
                actor=actor,
                obj=bid,
                state_before=bid_before,
                state_after=bid.status,
                details={
                    "tender": tender.pk,
                    "reason": bid.review_reason,
                    "justification": justification.pk,
                },
            )
        notifications.justification_decided(justification)
        from evaluation.services.sheets import ranking_try_compute

        ranking_try_compute(panel=panel, actor=actor)
    return justification


__all__ = [
    "EXCLUSION_REASONS",
    "Conflict",
    "DrawResult",
    "agencies_of",
    "conflict_of",
    "justification_decide",
    "justification_submit",
    "panel_declare",
    "panel_form",
    "shuffled",
]
