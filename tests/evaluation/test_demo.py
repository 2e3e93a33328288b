"""The evaluation demo: an assessor pool with planted conflicts, panels in every state, rankings
that recompute from their sheets, an award with a decided challenge and one ready for contract."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from evaluation import rules, scoring
from evaluation.demo import ASSESSORS, EVALUATIONS, demo_evaluation_counts
from evaluation.demo_integrity import integrity_titles
from evaluation.models import (
    AssessorProfile,
    DeviationFlag,
    DeviationStatus,
    JustificationStatus,
    MemberKind,
    MemberStatus,
    ObjectiveScore,
    Panel,
    PanelDraw,
    PanelDrawKind,
    PanelStatus,
    PriceJustification,
    Ranking,
    Score,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services.panels import (
    EMPLOYED_BY_BIDDER,
    PURCHASING_UNIT,
    RELATION_WITH_BIDDER,
    Bidders,
    agencies_of,
    conflict_of,
)
from marketplace.audit import audit_verify
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent, Role, User
from marketplace.permissions import is_official
from orgs_registry.models import Organization
from tenders.calendar import add_working_days, is_working_day
from tenders.demo import TENDERS
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Challenge,
    ChallengeStatus,
    CriterionKind,
    Tender,
    TenderCriterion,
    TenderStatus,
)
from tenders.services import tender_ready_for_contract

# The demo's evaluated tenders by how far their evaluation goes.
TITLES = {plan.evaluation: plan.title for plan in TENDERS if plan.evaluation}


def snapshot() -> dict[str, object]:
    return {
        **demo_evaluation_counts(),
        "audit events": AuditEvent.objects.count(),
        "tender states": Counter(Tender.objects.values_list("status", flat=True)),
        "sheet states": Counter(ScoreSheet.objects.values_list("status", flat=True)),
        "scores": sorted(Score.objects.values_list("sheet_id", "criterion_id", "score")),
    }


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    """The module's folder for uploaded files: the demo's documents live there."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, media_root) -> Iterator[dict[str, object]]:
    """One demo for the whole module (seeding takes seconds), rolled back at its end.

    Each test still runs in its own savepoint inside this transaction (the ``db``
    fixture), so what a test adds on top is undone before the next one.
    """
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=hashers, MEDIA_ROOT=media_root),
        transaction.atomic(),
    ):
        seed_demo()
        yield snapshot()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db, settings, media_root) -> dict[str, object]:
    # The seeded documents live in the module's media folder, not the test's own.
    settings.MEDIA_ROOT = media_root
    return seeded


def tender(evaluation: str) -> Tender:
    return Tender.objects.get(title=TITLES[evaluation])


def bidders_of(tender: Tender) -> Bidders:
    rows = list(
        Bid.objects.filter(tender=tender, opened_at__isnull=False).values_list(
            "organization_id", "organization__uscc", "organization__name"
        )
    )
    return Bidders(
        ids=frozenset(row[0] for row in rows),
        names={row[0]: row[2] for row in rows},
        by_uscc={row[1]: row[2] for row in rows},
    )


def active(panel: Panel):
    return panel.members.exclude(status=MemberStatus.REPLACED).select_related("user")


# --- Seeding ----------------------------------------------------------------------------------


def test_seeding_again_changes_nothing(demo):
    assert snapshot() == demo
    seed_demo()
    assert snapshot() == demo
    assert audit_verify().ok


def test_verify_audit_passes_after_seeding(demo):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_every_evaluation_state_is_there(demo):
    assert set(TITLES) == {"scoring", "ranked", "challenged", "ready"}
    assert set(EVALUATIONS) == {plan.key for plan in TENDERS if plan.evaluation}
    states = {key: tender(key).status for key in TITLES}
    assert states == {
        "scoring": TenderStatus.EVALUATING,
        "ranked": TenderStatus.EVALUATING,
        "challenged": TenderStatus.AWARDED,
        "ready": TenderStatus.AWARDED,
    }
    panels = {key: tender(key).panel.status for key in TITLES}
    assert panels == {
        "scoring": PanelStatus.SCORING,
        "ranked": PanelStatus.RANKED,
        "challenged": PanelStatus.RANKED,
        "ready": PanelStatus.RANKED,
    }
    # The tenders demo's own states are untouched: three tenders stay opened (the integrity
    # demo's tenders aside).
    opened = Tender.objects.filter(status=TenderStatus.OPENED)
    assert opened.exclude(title__in=integrity_titles()).count() == 3


def test_printed_accounts_include_the_pool_and_the_readme_lists_them(demo):
    out = io.StringIO()
    call_command("seed_demo", "--allow-production", stdout=out)
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    for plan in ASSESSORS:
        user = User.objects.get(username=plan.username)
        assert user.role == Role.ASSESSOR
        assert user.check_password("jfb-demo-2026")
        assert plan.username in out.getvalue()
        assert f"| `{plan.username}` | `assessor` | {plan.full_name}, " in readme


# --- The pool ---------------------------------------------------------------------------------


def test_the_pool_spans_agencies_categories_and_employment_histories(demo):
    profiles = AssessorProfile.objects.filter(user__username__startswith="assessor_")
    assert profiles.count() == len(ASSESSORS) == 15
    assert len({rules.normalize_agency(p.agency) for p in profiles}) >= 12
    for profile in profiles.prefetch_related("categories", "employments"):
        assert profile.categories.exists(), profile
        assert profile.employments.exists(), profile
        current = [e for e in profile.employments.all() if e.end_date is None]
        assert len(current) == 1, profile
    assert AuditEvent.objects.filter(action=AuditAction.ASSESSOR_PROFILE_UPDATED).count() >= 18


def test_the_planted_conflicts_are_recorded_on_the_profiles(demo):
    today = timezone.localdate()
    former = AssessorProfile.objects.get(user__username="assessor_11")
    eldercare = Organization.objects.get(name="渝中区夕阳红居家养老服务中心")
    employment = former.employments.get(organization=eldercare)
    assert employment.end_date < today
    assert rules.employed_within([rules.Period(employment.start_date, employment.end_date)], today)

    related = AssessorProfile.objects.get(user__username="assessor_12")
    relation = related.relations.get()
    assert relation.organization.name == "渝中区社会工作者协会"
    assert relation.organization_uscc == relation.organization.uscc

    office = AssessorProfile.objects.get(user__username="assessor_13")
    assert office.employments.get(end_date__isnull=True).is_purchasing_unit

    same = AssessorProfile.objects.filter(user__username__in=["assessor_01", "assessor_10"])
    assert len({rules.normalize_agency(p.agency) for p in same}) == 1


def test_each_kind_of_conflict_is_excluded_in_a_draw(demo):
    excluded: dict[str, set[str]] = defaultdict(set)
    for draw in PanelDraw.objects.filter(panel__tender__title__in=TITLES.values()):
        users = {u.pk: u.username for u in User.objects.filter(role=Role.ASSESSOR)}
        for row in draw.excluded:
            excluded[row["reason"]].add(users[row["user"]])
            assert row["detail"]
    assert "assessor_11" in excluded[EMPLOYED_BY_BIDDER]
    assert "assessor_12" in excluded[RELATION_WITH_BIDDER]
    assert "assessor_13" in excluded[PURCHASING_UNIT]
    drawn = PanelDraw.objects.filter(kind=PanelDrawKind.INITIAL)
    assert all(draw.seed and draw.pool_size >= draw.requested for draw in drawn)


def test_every_panel_follows_the_rules(demo):
    panels = Panel.objects.select_related("tender").all()
    # The contracts demo (tenders.demo_contracts) forms panels of its own, checked here too.
    assert panels.filter(tender__title__in=TITLES.values()).count() == len(TITLES)
    for panel in panels:
        tender = panel.tender
        members = list(active(panel))
        assert len(members) == panel.size
        assert rules.panel_size_problem(tender.method, tender.budget, panel.size) is None
        assert panel.size % 2 == 1
        experts = [m for m in members if m.kind == MemberKind.EXPERT]
        assert len(experts) >= rules.minimum_experts(panel.size), tender
        for member in members:
            assert member.status == MemberStatus.DECLARED
            if member.kind == MemberKind.REPRESENTATIVE:
                assert is_official(member.user)
        assert panel.chair_id in {m.user_id for m in members}
        # Nobody on the panel is in conflict with a bidder of this tender (nor shares an
        # agency with another expert), as of the day the panel was formed.
        day = timezone.localdate(panel.formed_at)
        bidders = bidders_of(tender)
        profiles = {
            p.user_id: p
            for p in AssessorProfile.objects.filter(
                user__in=[m.user_id for m in experts]
            ).prefetch_related("employments", "relations")
        }
        for member in experts:
            others: set[str] = set()
            for other in experts:
                if other.pk != member.pk:
                    others |= agencies_of(profiles[other.user_id], day)
            conflict = conflict_of(
                profiles[member.user_id], bidders=bidders, today=day, panel_agencies=others
            )
            assert conflict is None, (tender, member.user.username, conflict)
        assert ScoreSheet.objects.filter(member__in=members).count() == panel.size * len(
            bidders.ids
        )


# --- The panel still scoring ------------------------------------------------------------------


def test_a_panel_still_scores_with_a_member_replaced_after_declaring_a_conflict(demo):
    panel = tender("scoring").panel
    replaced = panel.members.get(status=MemberStatus.REPLACED)
    assert replaced.conflict
    assert "利害关系" in replaced.statement
    assert replaced.replaced_by.seat == replaced.seat
    assert replaced.replaced_by.draw.kind == PanelDrawKind.REPLACEMENT
    assert not ScoreSheet.objects.filter(member=replaced).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.PANEL_CONFLICT_DECLARED, object_id=str(replaced.pk)
    ).exists()
    states = Counter(
        ScoreSheet.objects.filter(member__panel=panel).values_list("status", flat=True)
    )
    assert states[SheetStatus.SUBMITTED] >= 3
    assert states[SheetStatus.DRAFT] >= 3
    assert states[SheetStatus.DECLARED] >= 1
    assert states[SheetStatus.LOCKED] == 0
    assert not Ranking.objects.filter(tender=panel.tender).exists()
    # The demo's own assessor chairs it and has a complete draft to submit.
    assert panel.chair.username == "assessor"
    draft = ScoreSheet.objects.get(member__user=panel.chair, status=SheetStatus.DRAFT)
    subjective = TenderCriterion.objects.filter(
        tender=panel.tender, kind=CriterionKind.SUBJECTIVE
    ).count()
    assert draft.scores.count() == subjective
    assert all(score.reason for score in draft.scores.all())


# --- The frozen ranking --------------------------------------------------------------------------


def test_a_frozen_ranking_waits_for_the_award(demo):
    waiting = tender("ranked")
    assert not Award.objects.filter(tender=waiting).exists()
    sheets = ScoreSheet.objects.filter(member__panel=waiting.panel)
    assert set(sheets.values_list("status", flat=True)) == {SheetStatus.LOCKED}
    ranking = waiting.ranking
    assert ranking.version == 1
    assert set(waiting.bids.values_list("status", flat=True)) == {BidStatus.RANKED}
    assert ranking.rows.count() == 4
    totals = list(ranking.rows.order_by("position").values_list("total", flat=True))
    assert totals == sorted(totals, reverse=True)
    assert len(set(totals)) == len(totals)


def test_one_abnormal_score_was_confirmed_and_one_revised(demo):
    panel = tender("ranked").panel
    flags = DeviationFlag.objects.filter(sheet__member__panel=panel)
    assert Counter(flags.values_list("status", flat=True)) == {
        DeviationStatus.CONFIRMED: 1,
        DeviationStatus.REVISED: 1,
    }
    confirmed = flags.get(status=DeviationStatus.CONFIRMED)
    assert len(confirmed.note) > 20
    assert abs(confirmed.score - confirmed.panel_mean) > confirmed.threshold
    kept = Score.objects.get(sheet=confirmed.sheet, criterion=confirmed.criterion)
    assert kept.score == confirmed.score
    revised = flags.get(status=DeviationStatus.REVISED)
    assert revised.note
    now = Score.objects.get(sheet=revised.sheet, criterion=revised.criterion)
    assert now.score == revised.revised_score != revised.score
    cell = Score.objects.filter(
        sheet__member__panel=panel, sheet__bid=revised.sheet.bid, criterion=revised.criterion
    ).values_list("score", flat=True)
    assert len(cell) == panel.size
    assert not scoring.deviations(
        {str(i): value for i, value in enumerate(cell)}, revised.criterion.points
    )
    for action in (
        AuditAction.DEVIATION_FLAGGED,
        AuditAction.DEVIATION_CONFIRMED,
        AuditAction.DEVIATION_REVISED,
    ):
        assert AuditEvent.objects.filter(action=action).exists(), action
    # No other score anywhere in the demo was flagged.
    assert (
        DeviationFlag.objects.exclude(sheet__bid__tender__title__in=integrity_titles()).count() == 2
    )


def test_the_abnormally_low_price_was_justified_and_stays_in_the_ranking(demo):
    waiting = tender("ranked")
    justification = PriceJustification.objects.get(bid__tender=waiting)
    assert justification.status == JustificationStatus.ACCEPTED
    assert justification.price < rules.LOW_PRICE_RATIO * justification.others_mean
    assert justification.text
    assert justification.document_sha256
    assert justification.submitted_by.organization == justification.bid.organization
    assert justification.decided_by == waiting.panel.chair
    assert justification.decision_note
    assert justification.bid.status == BidStatus.RANKED
    assert waiting.ranking.rows.filter(bid=justification.bid).exists()
    # The integrity demo's own low price (R058) has its own.
    assert (
        PriceJustification.objects.exclude(bid__tender__title__in=integrity_titles()).count() == 1
    )
    for action in (
        AuditAction.LOW_PRICE_FLAGGED,
        AuditAction.LOW_PRICE_JUSTIFIED,
        AuditAction.LOW_PRICE_DECIDED,
    ):
        events = AuditEvent.objects.filter(action=action)
        assert events.filter(object_id=str(justification.pk)).count() == 1, action
        # The other one is the integrity demo's planted low price (R058).
        assert events.count() == 2, action


def test_every_frozen_ranking_equals_scoring_rank_of_its_locked_sheets(demo):
    rankings = Ranking.objects.select_related("tender__panel")
    assert rankings.filter(tender__title__in=TITLES.values()).count() == 3
    for ranking in rankings:
        tender = ranking.tender
        panel = tender.panel
        criteria = list(TenderCriterion.objects.filter(tender=tender).order_by("sort_order"))
        members = list(active(panel).order_by("seat"))
        rows = {str(row.bid_id): row for row in ranking.rows.all()}
        inputs = []
        for bid in Bid.objects.filter(pk__in=[r.bid_id for r in rows.values()]):
            objective = {
                o.criterion.code: o.score
                for o in ObjectiveScore.objects.filter(bid=bid).select_related("criterion")
            }
            subjective = {}
            for criterion in criteria:
                if criterion.kind != CriterionKind.SUBJECTIVE:
                    continue
                subjective[criterion.code] = [
                    Score.objects.get(
                        sheet__member=member,
                        sheet__bid=bid,
                        sheet__status=SheetStatus.LOCKED,
                        criterion=criterion,
                    ).score
                    for member in members
                ]
            inputs.append(
                scoring.BidInput(
                    key=str(bid.pk),
                    price=bid.price,
                    objective=objective,
                    subjective=subjective,
                )
            )
        recomputed = scoring.rank(
            [scoring.Criterion(code=c.code, kind=c.kind, points=c.points) for c in criteria],
            inputs,
            trim_extremes=rules.trims(panel.size, tender.trim_extremes),
        )
        assert len(recomputed) == len(rows)
        for expected in recomputed:
            row = rows[expected.key]
            assert row.total == expected.total.quantize(Decimal("0.01"))
            assert row.price_score == expected.price_score.quantize(Decimal("0.01"))
            assert row.rank == expected.rank
            assert row.tied == expected.tied
            assert {code: Decimal(v) for code, v in row.criterion_scores.items()} == (
                expected.criterion_scores
            )
        assert ranking.base_price == min(row.price for row in rows.values())
        assert [r.rank for r in ranking.rows.order_by("position")] == sorted(
            r.rank for r in rows.values()
        )


def test_members_score_close_to_each_other_but_not_identically(demo):
    cells = _cells()
    assert all(len(members) in (3, 5) for members in cells.values())
    spread = [max(members.values()) - min(members.values()) for members in cells.values()]
    assert sum(1 for s in spread if s > 0) > len(spread) // 2
    for ranking in Ranking.objects.all():
        totals = list(ranking.rows.values_list("total", flat=True))
        assert len(set(totals)) == len(totals)


def _cells() -> dict[tuple[object, int], dict[int, Decimal]]:
    cells: dict[tuple[object, int], dict[int, Decimal]] = defaultdict(dict)
    for score in Score.objects.filter(sheet__status=SheetStatus.LOCKED).select_related("sheet"):
        cells[(score.sheet.bid_id, score.criterion_id)][score.sheet.member_id] = score.score
    return cells


# --- Awards -----------------------------------------------------------------------------------


def _award_in_order(awarded: Tender) -> Award:
    award = Award.objects.get(tender=awarded, status=AwardStatus.ACTIVE)
    assert award.position == 1
    assert award.bid.status == BidStatus.WON
    assert set(awarded.bids.exclude(pk=award.bid_id).values_list("status", flat=True)) == {
        BidStatus.LOST
    }
    assert award.confirmed_by.username == "approver"
    notice_day = timezone.localdate(award.notice_published_at)
    assert is_working_day(notice_day)
    assert award.notice_until == add_working_days(notice_day, rules.AWARD_NOTICE_WORKING_DAYS)
    assert award.challenge_deadline == add_working_days(notice_day, rules.CHALLENGE_WORKING_DAYS)
    # The whole story in the order the services made it, however far it was moved back.
    panel = awarded.panel
    ranking = awarded.ranking
    assert awarded.published_at < awarded.bid_deadline <= awarded.opened_at
    assert awarded.opened_at <= panel.formed_at <= panel.scoring_started_at <= panel.ranked_at
    assert panel.ranked_at <= ranking.computed_at <= award.confirmed_at == awarded.awarded_at
    for bid in awarded.bids.all():
        assert bid.receipts.exists()
        assert all(r.received_at < awarded.bid_deadline for r in bid.receipts.all())
    for sheet in ScoreSheet.objects.filter(member__panel=panel):
        assert panel.scoring_started_at <= sheet.submitted_at <= sheet.locked_at
        assert sheet.locked_at <= ranking.computed_at
    return award


def test_an_award_inside_its_window_has_a_challenge_answered_and_not_upheld(demo):
    awarded = tender("challenged")
    award = _award_in_order(awarded)
    today = timezone.localdate()
    assert timezone.localdate(award.confirmed_at) < today <= award.challenge_deadline
    assert not tender_ready_for_contract(awarded)
    challenge = Challenge.objects.get(tender=awarded)
    assert challenge.status == ChallengeStatus.REJECTED
    assert challenge.upheld is False
    assert challenge.answer
    assert challenge.answered_by.username == "official"
    assert challenge.decided_by.username == "approver"
    assert challenge.decision_note
    assert challenge.filed_at > award.confirmed_at
    assert challenge.bid == awarded.ranking.rows.get(position=2).bid
    assert challenge.filed_by.organization == challenge.organization
    assert challenge.documents.count() == 1
    assert Challenge.objects.count() == 1
    for action in (
        AuditAction.TENDER_AWARDED,
        AuditAction.CHALLENGE_FILED,
        AuditAction.CHALLENGE_ANSWERED,
        AuditAction.CHALLENGE_REJECTED,
    ):
        assert AuditEvent.objects.filter(action=action).exists(), action


def test_an_award_past_its_window_is_ready_for_the_contract(demo):
    awarded = tender("ready")
    award = _award_in_order(awarded)
    assert award.challenge_deadline < timezone.localdate()
    assert tender_ready_for_contract(awarded)
    assert not Challenge.objects.filter(tender=awarded).exists()
    # A consultation panel of three with the purchaser's representative (two experts).
    members = list(active(awarded.panel))
    assert awarded.method == "competitive_consultation"
    assert Counter(m.kind for m in members) == {
        MemberKind.EXPERT: 2,
        MemberKind.REPRESENTATIVE: 1,
    }
    assert [m.user.username for m in members if m.kind == MemberKind.REPRESENTATIVE] == ["official"]
