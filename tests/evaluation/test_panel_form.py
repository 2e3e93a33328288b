"""Forming the panel: sizes and expert share (87号令 Art. 47), the reproducible random draw,
conflict exclusions recorded with their reasons, named members, refusals.

The module builds once (each test rolls back to it) the opened tender with four qualified
bids and no panel. The pool is each test's own: the conflict and pool-size tests count on
an empty one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from evaluation import rules
from evaluation.models import (
    AssessorProfile,
    MemberKind,
    Panel,
    PanelDraw,
    PanelDrawKind,
    PanelMember,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services import assessor_employment_add, assessor_relation_add
from evaluation.services.panels import (
    EMPLOYED_BY_BIDDER,
    INACTIVE,
    PURCHASING_UNIT,
    RELATION_WITH_BIDDER,
    SAME_AGENCY,
    conflict_of,
    panel_form,
    shuffled,
)
from marketplace.models import AuditAction, AuditEvent
from marketplace.services import user_set_active
from tenders import services as tender_services
from tenders.models import TenderStatus
from tests.conftest import building, module_database
from tests.evaluation.conftest import form_panel, make_assessor, open_tender
from tests.evaluation.test_api_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
)

PANEL_EVENTS = (
    AuditAction.PANEL_FORMED,
    AuditAction.PANEL_DRAWN,
    AuditAction.TENDER_EVALUATION_STARTED,
)


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module: the opened tender, no pool, no panel."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared()
        shared.opened["opened"] = build_opened(clock)
        yield shared.done(clock)


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The shared tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("opened")


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def seats(panel):
    return list(panel.members.select_related("user").order_by("seat"))


# --- The default panel -------------------------------------------------------------------------


def test_a_panel_of_five_experts_is_drawn_from_the_pool_and_evaluation_starts(
    opened, official, pool
):
    panel = form_panel(opened.tender, official)

    members = seats(panel)
    assert panel.size == 5
    assert [m.seat for m in members] == [1, 2, 3, 4, 5]
    assert {m.kind for m in members} == {MemberKind.EXPERT}
    assert {m.user_id for m in members} <= {u.pk for u in pool}
    assert panel.chair_id == members[0].user_id
    assert all(m.draw is not None and m.draw.kind == PanelDrawKind.INITIAL for m in members)
    opened.tender.refresh_from_db()
    assert opened.tender.status == TenderStatus.EVALUATING
    # One assigned sheet per member and qualified bid.
    sheets = ScoreSheet.objects.filter(member__panel=panel)
    assert sheets.count() == 5 * 4
    assert set(sheets.values_list("status", flat=True)) == {SheetStatus.ASSIGNED}
    for action in PANEL_EVENTS:
        assert len(events(action)) == 1, action
    formed = events(AuditAction.PANEL_FORMED)[0]
    assert formed.details["size"] == 5
    assert [m["user"] for m in formed.details["members"]] == [m.user_id for m in members]


def test_the_draw_is_reproducible_from_its_recorded_seed_and_pool(opened, official, pool):
    panel = form_panel(opened.tender, official)

    draw = PanelDraw.objects.get(panel=panel)
    event = events(AuditAction.PANEL_DRAWN)[0]
    assert event.details["seed"] == draw.seed
    assert len(draw.seed) == 32
    assert event.details["pool"] == sorted(u.pk for u in pool)
    assert draw.pool_size == len(pool)
    # Nobody in this pool is in conflict: the first five of the seeded shuffle sit.
    order = shuffled(event.details["pool"], event.details["seed"])
    assert draw.drawn == order[:5] == event.details["drawn"]
    assert [m.user_id for m in seats(panel)] == order[:5]
    assert draw.excluded == event.details["excluded"] == []


def test_two_draws_use_different_seeds(make_tender, clock, official, second_official, pool):
    first = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    second = open_tender(
        make_tender=make_tender, clock=clock, official=official, second_official=second_official
    )
    seeds = {form_panel(t.tender, official).draws.get().seed for t in (first, second)}
    assert len(seeds) == 2


# --- Sizes and the expert share ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "fragment"),
    [(3, "at least 5"), (4, "at least 5"), (6, "odd"), (True, "whole number")],
)
def test_unlawful_panel_sizes_are_refused_on_size(opened, official, pool, size, fragment):
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, size=size)
    assert fragment in " ".join(caught.value.message_dict["size"])
    assert not Panel.objects.exists()


def test_a_larger_odd_panel_is_allowed(opened, official, pool):
    assert form_panel(opened.tender, official, size=7).members.count() == 7


def test_a_budget_of_ten_million_needs_seven_members(
    make_tender, clock, official, second_official, pool
):
    big = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        budget=Decimal("12000000.00"),
    )
    with pytest.raises(ValidationError) as caught:
        form_panel(big.tender, official, size=5)
    assert "at least 7" in caught.value.message_dict["size"][0]
    assert form_panel(big.tender, official).size == 7


def test_a_consultation_panel_may_have_three_members_but_not_four(
    make_tender, clock, official, second_official, pool
):
    consultation = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        method="competitive_consultation",
        bid_deadline=timezone.now() + timedelta(days=12),
        question_deadline=timezone.now() + timedelta(days=5),
    )
    with pytest.raises(ValidationError) as caught:
        form_panel(consultation.tender, official, size=4)
    assert "odd" in caught.value.message_dict["size"][0]
    assert form_panel(consultation.tender, official).size == 3


def test_a_representative_takes_a_seat_and_experts_keep_two_thirds(
    opened, official, approver, pool
):
    panel = form_panel(opened.tender, official, representatives=[approver])

    members = seats(panel)
    assert [m.kind for m in members].count(MemberKind.REPRESENTATIVE) == 1
    assert [m.kind for m in members].count(MemberKind.EXPERT) == 4
    representative = next(m for m in members if m.kind == MemberKind.REPRESENTATIVE)
    assert representative.user == approver
    assert representative.draw is None
    assert PanelDraw.objects.get(panel=panel).requested == 4


def test_more_representatives_than_a_third_are_refused(
    opened, official, approver, second_official, pool
):
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, representatives=[approver, second_official])
    assert "at most 1" in caught.value.message_dict["representatives"][0]
    # Seven seats allow two (experts ≥ 5 = ⌈14/3⌉).
    panel = form_panel(opened.tender, official, size=7, representatives=[approver, official])
    assert panel.members.filter(kind=MemberKind.REPRESENTATIVE).count() == 2
    assert rules.minimum_experts(7) == 5


def test_a_representative_must_be_an_official(opened, official, pool, org_admin):
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, representatives=[pool[0]])
    assert "not an active official" in caught.value.message_dict["representatives"][0]


# --- Conflicts ------------------------------------------------------------------------------


@pytest.fixture
def conflicted_pool(opened, official, category):
    """Four plain assessors, a pair from one agency, and one assessor per other conflict."""
    bidder = opened.bidders[0].organization
    plain = [
        make_assessor(f"plain{i}", agency=f"独立评估所{i}", categories=[category]) for i in range(4)
    ]
    pair = [
        make_assessor("pair_a", agency="同一评估所", categories=[category]),
        make_assessor("pair_b", agency=" 同一 评估所 ", categories=[category]),
    ]
    inactive = make_assessor("inactive", agency="停用评估所", categories=[category])
    user_set_active(user=inactive, active=False, actor=None)
    employed = make_assessor("employed", agency="前雇员评估所", categories=[category])
    assessor_employment_add(
        profile=employed.assessor_profile,
        actor=official,
        employer_name="",
        organization=bidder,
        start_date=date(2019, 1, 1),
        end_date=timezone.localdate() - timedelta(days=400),
    )
    related = make_assessor("related", agency="亲属评估所", categories=[category])
    assessor_relation_add(
        profile=related.assessor_profile,
        actor=related,
        organization_name="",
        organization_uscc=opened.bidders[1].organization.uscc,
        relation="配偶任理事",
    )
    purchaser = make_assessor("purchaser", agency="采购人评估所", categories=[category])
    assessor_employment_add(
        profile=purchaser.assessor_profile,
        actor=official,
        employer_name="解放碑街道办事处",
        is_purchasing_unit=True,
        start_date=date(2015, 1, 1),
    )
    return {
        "plain": plain,
        "pair": pair,
        INACTIVE: inactive,
        EMPLOYED_BY_BIDDER: employed,
        RELATION_WITH_BIDDER: related,
        PURCHASING_UNIT: purchaser,
    }


def _seed_walking_everyone(pool_ids, last_ids):
    """A seed whose shuffle puts one of ``last_ids`` last, so that the walk passes everyone."""
    for n in range(10_000):
        seed = f"{n:032x}"
        if shuffled(pool_ids, seed)[-1] in last_ids:
            return seed
    raise AssertionError("no seed found")


def test_every_kind_of_conflict_is_excluded_with_its_reason_and_recorded(
    opened, official, conflicted_pool, monkeypatch
):
    pool_ids = sorted(AssessorProfile.objects.values_list("user_id", flat=True))
    plain_ids = {u.pk for u in conflicted_pool["plain"]}
    seed = _seed_walking_everyone(pool_ids, plain_ids)
    monkeypatch.setattr("evaluation.services.panels.secrets.token_hex", lambda n: seed)

    panel = form_panel(opened.tender, official)

    draw = PanelDraw.objects.get(panel=panel)
    assert draw.seed == seed
    reasons = {row["reason"]: row for row in draw.excluded}
    assert set(reasons) == {
        INACTIVE,
        EMPLOYED_BY_BIDDER,
        RELATION_WITH_BIDDER,
        PURCHASING_UNIT,
        SAME_AGENCY,
    }
    for code in (INACTIVE, EMPLOYED_BY_BIDDER, RELATION_WITH_BIDDER, PURCHASING_UNIT):
        assert reasons[code]["user"] == conflicted_pool[code].pk
        assert reasons[code]["name"] == conflicted_pool[code].get_full_name()
        assert reasons[code]["detail"]
    assert opened.bidders[0].organization.name in reasons[EMPLOYED_BY_BIDDER]["detail"]
    assert opened.bidders[1].organization.name in reasons[RELATION_WITH_BIDDER]["detail"]
    pair_ids = [u.pk for u in conflicted_pool["pair"]]
    # Of the pair from one agency, the first in the shuffle sits and the other is excluded.
    order = shuffled(pool_ids, seed)
    first, second = sorted(pair_ids, key=order.index)
    assert reasons[SAME_AGENCY]["user"] == second
    seated = {m.user_id for m in panel.members.all()}
    assert seated == plain_ids | {first}
    # The audit event carries the seed and every exclusion.
    event = events(AuditAction.PANEL_DRAWN)[0]
    assert event.details["seed"] == seed
    assert event.details["excluded"] == draw.excluded
    assert event.details["pool"] == pool_ids


def test_employment_by_a_bidder_longer_ago_than_the_conflict_window_is_no_conflict(
    opened, official, category
):
    assessor = make_assessor("veteran", agency="老评估所", categories=[category])
    profile = assessor.assessor_profile
    assessor_employment_add(
        profile=profile,
        actor=official,
        employer_name="",
        organization=opened.bidders[0].organization,
        start_date=date(2010, 1, 1),
        end_date=timezone.localdate() - timedelta(days=365 * rules.CONFLICT_YEARS + 30),
    )
    from evaluation.services.panels import _bidders

    profile = AssessorProfile.objects.prefetch_related("employments", "relations").get(
        pk=profile.pk
    )
    bidders = _bidders(opened.tender)
    assert (
        conflict_of(profile, bidders=bidders, today=timezone.localdate(), panel_agencies=set())
        is None
    )


def test_a_disqualified_bidder_is_still_a_bidder_for_conflicts(
    make_tender, clock, official, second_official, category
):
    five = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        prices=["480000", "450000", "430000", "470000", "460000"],
        review=False,
    )
    for bid in five.bids[:4]:
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    tender_services.bid_review(bid=five.bids[4], actor=official, qualified=False, reason="缺资质")
    employed = make_assessor("employed", agency="甲所", categories=[category])
    assessor_employment_add(
        profile=employed.assessor_profile,
        actor=official,
        employer_name="",
        organization=five.bidders[4].organization,
        start_date=date(2020, 1, 1),
    )
    with pytest.raises(ValidationError) as caught:
        form_panel(five.tender, official, members=[employed])
    assert "employed by a bidder" in caught.value.message_dict["members"][0]


def test_a_pool_too_small_is_refused_with_the_numbers_and_nothing_is_saved(
    opened, official, category
):
    for i in range(3):
        make_assessor(f"few{i}", agency=f"所{i}", categories=[category])
    make_assessor("twin_a", agency="同所", categories=[category])
    make_assessor("twin_b", agency="同所", categories=[category])
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official)

    message = caught.value.message_dict["size"][0]
    assert "Only 4 eligible" in message
    assert "5 are needed" in message
    assert not Panel.objects.exists()
    assert not PanelDraw.objects.exists()
    assert not ScoreSheet.objects.exists()
    assert AuditEvent.objects.count() == before
    opened.tender.refresh_from_db()
    assert opened.tender.status == TenderStatus.OPENED


def test_assessors_of_another_category_are_not_drawn(opened, official):
    from orgs_registry.models import ServiceCategory

    other = ServiceCategory.objects.exclude(code="elderly_care").first()
    for i in range(6):
        make_assessor(f"other{i}", agency=f"别所{i}", categories=[other])
    with pytest.raises(ValidationError, match="Only 0 eligible"):
        form_panel(opened.tender, official)


# --- Named members -----------------------------------------------------------------------------


def test_named_experts_sit_first_and_the_rest_is_drawn(opened, official, pool):
    named = pool[:2]
    panel = form_panel(opened.tender, official, members=named, chair=named[1])

    members = seats(panel)
    assert [m.user for m in members[:2]] == named
    assert all(m.draw is None for m in members[:2])
    assert all(m.draw is not None for m in members[2:])
    assert panel.chair == named[1]
    draw = PanelDraw.objects.get(panel=panel)
    assert draw.requested == 3
    assert not set(draw.drawn) & {u.pk for u in named}


def test_without_a_named_chair_the_first_drawn_expert_chairs(opened, official, pool):
    panel = form_panel(opened.tender, official, members=pool[:2])
    draw = PanelDraw.objects.get(panel=panel)
    assert panel.chair_id == draw.drawn[0] == seats(panel)[2].user_id


def test_a_named_member_in_conflict_is_refused_with_the_reason(opened, official, pool):
    assessor_relation_add(
        profile=pool[0].assessor_profile,
        actor=pool[0],
        organization_name="",
        organization=opened.bidders[2].organization,
        relation="曾任监事",
    )
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, members=[pool[0]])
    message = caught.value.message_dict["members"][0]
    assert pool[0].get_full_name() in message
    assert "declared relation" in message
    assert not Panel.objects.exists()


def test_named_members_from_one_agency_are_refused(opened, official, pool):
    profile = pool[1].assessor_profile
    profile.agency = pool[0].assessor_profile.agency
    profile.save()
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, members=[pool[0], pool[1]])
    assert "same agency" in caught.value.message_dict["members"][0]


def test_a_named_member_outside_the_pool_is_refused(opened, official, pool, auditor):
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, members=[auditor])
    assert "not in the assessor pool" in caught.value.message_dict["members"][0]


def test_too_many_named_members_or_a_member_named_twice_are_refused(opened, official, pool):
    with pytest.raises(ValidationError, match="room for 5"):
        form_panel(opened.tender, official, members=pool[:6])
    with pytest.raises(ValidationError, match="named twice"):
        form_panel(opened.tender, official, members=[pool[0], pool[0]])


def test_the_chair_must_sit_on_the_panel(opened, official, pool, approver):
    with pytest.raises(ValidationError) as caught:
        form_panel(opened.tender, official, chair=approver)
    assert caught.value.message_dict["chair"]
    assert not Panel.objects.exists()


def test_a_representative_may_chair(opened, official, pool, approver):
    panel = form_panel(opened.tender, official, representatives=[approver], chair=approver)
    assert panel.chair == approver


# --- States and roles --------------------------------------------------------------------------


def test_a_panel_waits_until_every_opened_bid_is_reviewed(
    make_tender, clock, official, second_official, pool
):
    pending = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        review=False,
    )
    tender_services.bid_review(bid=pending.bids[0], actor=official, qualified=True)
    with pytest.raises(ValidationError) as caught:
        form_panel(pending.tender, official)
    assert "3 opened bid(s) still wait" in caught.value.message_dict["tender"][0]


def test_a_panel_is_formed_only_once(opened, official, pool):
    form_panel(opened.tender, official)
    with pytest.raises(ValidationError, match="only once"):
        form_panel(opened.tender, official)
    assert Panel.objects.count() == 1


def test_no_panel_for_a_failed_tender(make_tender, clock, official, second_official, pool):
    failing = open_tender(
        make_tender=make_tender,
        clock=clock,
        official=official,
        second_official=second_official,
        review=False,
    )
    for bid in failing.bids[:2]:
        tender_services.bid_review(bid=bid, actor=official, qualified=False, reason="不符合")
    for bid in failing.bids[2:]:
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    failing.tender.refresh_from_db()
    assert failing.tender.status == TenderStatus.FAILED
    with pytest.raises(ValidationError):
        form_panel(failing.tender, official)


def test_no_panel_before_the_opening(make_tender, official, pool):
    tender = make_tender()
    with pytest.raises(ValidationError):
        panel_form(tender=tender, actor=official)


def test_an_approver_may_form_the_panel(opened, approver, pool):
    assert form_panel(opened.tender, approver).formed_by == approver


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "auditor", "registry_admin"])
def test_only_officials_form_a_panel(opened, pool, persona, request):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        form_panel(opened.tender, user)
    assert not Panel.objects.exists()


def test_a_bidders_admin_cannot_form_the_panel(opened, pool):
    with pytest.raises(PermissionDenied):
        form_panel(opened.tender, opened.bidders[0].admin)


def test_every_member_is_emailed_their_seat(
    opened, official, pool, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        panel = form_panel(opened.tender, official)
    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted(m.user.email for m in panel.members.all())
    assert opened.tender.reference in mailoutbox[0].subject


def test_members_are_unique_per_panel(opened, official, pool):
    panel = form_panel(opened.tender, official)
    users = list(PanelMember.objects.filter(panel=panel).values_list("user_id", flat=True))
    assert len(users) == len(set(users))
