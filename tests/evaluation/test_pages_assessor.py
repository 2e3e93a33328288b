"""The assessor's pages: my assessments, the declaration, the score sheets and the deviation
flags; who may open them, what they save, and independence (DESIGN 4.4): nobody reads
another member's scores before every sheet is submitted, nor any bid before declaring.

The module builds its two tenders once (each test rolls back to them): "declaring", whose
panel of five was drawn from the elderly-care pool and has not declared yet, and
"flagged", a child-and-youth tender with a pool of its own (no expert sits on both panels)
whose every sheet is submitted and whose fifth seat's score on bid A is flagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from evaluation.models import (
    DeviationFlag,
    DeviationStatus,
    MemberStatus,
    Panel,
    PanelMember,
    Score,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services.panels import panel_declare
from evaluation.services.sheets import scoresheet_save
from marketplace.models import AuditAction, Role, User
from orgs_registry.models import ServiceCategory
from tenders.models import Tender
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import (
    POOL_SIZE,
    active_members,
    declare_all,
    form_panel,
    make_assessor,
)
from tests.evaluation.test_pages_support import (
    BUILT_AT,
    Evaluated,
    Shared,
    build_opened,
    build_personas,
    build_pool,
    chinese_outside_data,
    english,
    text_of,
)
from tests.evaluation.test_sheets_support import score_everything, sheet, with_bid_a

REASON = "方案细致，措施可行。"
# Member B's draft: values no page may show to anyone else before every sheet is submitted.
SECRET_SCORE = "47.25"
SECRET_REASON = "独立性标记ZQ7：服务流程过于理想化"


def client_of(client_for, user) -> Client:
    return english(client_for(user))


def scores_on(tender: Tender) -> int:
    """The scores saved on the sheets of ``tender``."""
    return Score.objects.filter(sheet__bid__tender=tender).count()


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the "declaring" and
    "flagged" tenders (see the module's docstring)."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        official = persona("official", Role.OFFICIAL)
        shared = Shared(pool=build_pool())
        shared.opened["declaring"] = build_opened(clock)
        shared.panels["declaring"] = form_panel(shared.opened["declaring"].tender, official)

        youth = ServiceCategory.objects.get(code="child_youth")
        for i in range(POOL_SIZE):
            make_assessor(f"youth{i:02d}", agency=f"青少年第{i}评估所", categories=[youth])
        flagged = build_opened(clock, category=youth)
        panel = declare_all(form_panel(flagged.tender, official))
        members = score_everything(panel, flagged.bids, with_bid_a(["41", "44", "40", "45", "10"]))
        flag = DeviationFlag.objects.get()
        assert flag.sheet.member == members[4]
        shared.opened["flagged"] = flagged
        shared.panels["flagged"] = Panel.objects.get(pk=panel.pk)
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared elderly-care pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def opened(_built, db, clock) -> Evaluated:
    """The "declaring" tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("declaring")


@pytest.fixture
def panel(opened) -> Panel:
    """The opened tender's panel: five members drawn from the pool, nobody declared."""
    assert opened.panel is not None
    return opened.panel


@pytest.fixture
def member(panel) -> PanelMember:
    """An undeclared member of the opened tender's panel."""
    return active_members(panel)[0]


@pytest.fixture
def declared(scoring_panel) -> PanelMember:
    """A member of a panel whose every member declared: scoring started."""
    return active_members(scoring_panel)[0]


def not_seated(panel, pool):
    seated = {m.user_id for m in panel.members.all()}
    return next(user for user in pool if user.pk not in seated)


# --- My assessments ------------------------------------------------------------------------------


def test_my_assessments_lists_the_seat_with_what_to_do_next(client_for, member, opened):
    html = text_of(client_of(client_for, member.user).get(reverse("evaluation:assignments")))
    assert opened.tender.title in html
    assert opened.tender.reference in html
    assert "Sign the conflict-of-interest declaration" in html
    assert reverse("evaluation:declaration", args=[member.pk]) in html
    assert "Waiting for the declaration: 4" in html


def test_my_assessments_says_what_to_do_after_the_declaration(client_for, declared):
    html = text_of(client_of(client_for, declared.user).get(reverse("evaluation:assignments")))
    assert "Score the bids and submit each sheet." in html
    assert reverse("evaluation:sheets", args=[declared.pk]) in html
    assert "Ready to score: 4" in html


def test_an_assessor_without_a_seat_is_told_how_seats_come(client_for, assessor):
    html = text_of(client_of(client_for, assessor).get(reverse("evaluation:assignments")))
    assert "You have no panel seat yet." in html
    assert reverse("evaluation:profile") in html


@pytest.mark.parametrize("persona", ["org_admin", "registry_admin", "auditor", "outsider"])
def test_my_assessments_is_refused_to_other_roles(client_for, request, persona):
    response = client_for(request.getfixturevalue(persona)).get(reverse("evaluation:assignments"))
    assert response.status_code == 403


def test_my_assessments_needs_a_sign_in(client):
    response = client.get(reverse("evaluation:assignments"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_navigation_offers_my_assessments_to_assessors_only(client_for, assessor, official):
    url = reverse("evaluation:assignments")
    assert url in text_of(client_for(assessor).get(reverse("dashboard")))
    assert f'href="{url}"' not in text_of(client_for(official).get(reverse("dashboard")))


def test_the_dashboard_counts_the_declarations_to_sign(client_for, member):
    html = text_of(client_of(client_for, member.user).get(reverse("dashboard")))
    assert "Declarations to sign" in html
    assert "Score sheets to complete" in html
    assert "Flagged scores to answer" in html


# --- The declaration -----------------------------------------------------------------------------


def test_the_declaration_page_lists_the_bidders_and_no_bid_content(client_for, member, opened):
    html = text_of(
        client_of(client_for, member.user).get(reverse("evaluation:declaration", args=[member.pk]))
    )
    for bidder in opened.bidders:
        assert bidder.organization.name in html
        assert bidder.organization.uscc in html
    for bid in opened.bids:
        assert bid.proposal not in html
        assert f"{bid.price:,.2f}" not in html
    assert 'name="decision" value="no_conflict"' in html
    assert 'name="decision" value="conflict"' in html
    assert "csrfmiddlewaretoken" in html


def test_another_members_declaration_is_not_found(client_for, panel, member):
    other = active_members(panel)[1]
    url = reverse("evaluation:declaration", args=[member.pk])
    assert client_for(other.user).get(url).status_code == 404
    assert client_for(other.user).post(url, {"decision": "no_conflict"}).status_code == 404
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED


@pytest.mark.parametrize("persona", ["org_admin", "outsider", "assessor", "registry_admin"])
def test_a_seat_is_not_found_for_others(client_for, member, request, persona):
    url = reverse("evaluation:declaration", args=[member.pk])
    assert client_for(request.getfixturevalue(persona)).get(url).status_code == 404


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_the_office_may_not_declare_for_a_member(client_for, member, request, persona):
    url = reverse("evaluation:declaration", args=[member.pk])
    client = client_for(request.getfixturevalue(persona))
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "no_conflict"}).status_code == 403
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED


def test_no_conflict_signs_the_declaration_and_opens_the_sheets(client_for, member, opened):
    client = client_of(client_for, member.user)
    response = client.post(
        reverse("evaluation:declaration", args=[member.pk]),
        {"decision": "no_conflict", "statement": "与各投标人无利害关系。"},
    )
    assert response.status_code == 302
    assert response.url == reverse("evaluation:sheets", args=[member.pk])
    member.refresh_from_db()
    assert member.status == MemberStatus.DECLARED
    assert member.statement == "与各投标人无利害关系。"
    (event,) = opened.events(AuditAction.PANEL_DECLARED)
    assert event.actor == member.user
    assert set(ScoreSheet.objects.filter(member=member).values_list("status", flat=True)) == {
        SheetStatus.DECLARED
    }


def test_a_conflict_without_a_statement_is_refused_on_the_field(client_for, member, opened):
    client = client_of(client_for, member.user)
    response = client.post(
        reverse("evaluation:declaration", args=[member.pk]), {"decision": "conflict"}
    )
    html = text_of(response)
    assert "Say what the conflict of interest is." in html
    assert 'id="id_statement_error"' in html
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED
    assert opened.events(AuditAction.PANEL_CONFLICT_DECLARED) == []


def test_a_declared_conflict_replaces_the_member(client_for, member, panel):
    client = client_of(client_for, member.user)
    response = client.post(
        reverse("evaluation:declaration", args=[member.pk]),
        {"decision": "conflict", "statement": "配偶在投标机构任职。"},
    )
    assert response.status_code == 302
    assert response.url == reverse("evaluation:assignments")
    member.refresh_from_db()
    assert member.status == MemberStatus.REPLACED
    assert member.replaced_by is not None
    html = text_of(client.get(reverse("evaluation:assignments")))
    assert "You declared a conflict; another assessor took your seat." in html
    # The replaced member's seat opens nothing of the bids.
    sheets = client.get(reverse("evaluation:sheets", args=[member.pk]))
    assert sheets.status_code == 302
    assert sheets.url == reverse("evaluation:declaration", args=[member.pk])


def test_a_declaration_is_signed_once(client_for, declared):
    url = reverse("evaluation:declaration", args=[declared.pk])
    client = client_of(client_for, declared.user)
    html = text_of(client.get(url))
    assert 'name="decision"' not in html
    assert "Declared no conflict" in html
    assert client.post(url, {"decision": "conflict", "statement": "x"}).status_code == 403


def test_the_declaration_needs_the_csrf_token(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    url = reverse("evaluation:declaration", args=[member.pk])
    assert client.post(url, {"decision": "no_conflict"}).status_code == 403
    member.refresh_from_db()
    assert member.status == MemberStatus.ASSIGNED


# --- Before the declaration: no bid ------------------------------------------------------------


def test_an_undeclared_member_reads_no_bid(client_for, member, opened):
    client = client_of(client_for, member.user)
    listing = client.get(reverse("evaluation:sheets", args=[member.pk]))
    assert listing.status_code == 302
    assert listing.url == reverse("evaluation:declaration", args=[member.pk])
    own = ScoreSheet.objects.get(member=member, bid=opened.bids[0])
    assert client.get(reverse("evaluation:sheet", args=[own.pk])).status_code == 404
    pages = [
        client.get(reverse("evaluation:assignments")),
        client.get(reverse("evaluation:declaration", args=[member.pk])),
        client.get(reverse("evaluation:panel", args=[opened.tender.pk])),
    ]
    for response in pages:
        html = text_of(response)
        for bid in opened.bids:
            assert bid.proposal not in html
            assert f"{bid.price:,.2f}" not in html


# --- Score sheets --------------------------------------------------------------------------------


def test_the_sheet_list_shows_the_bids_to_score(client_for, declared, opened):
    html = text_of(
        client_of(client_for, declared.user).get(reverse("evaluation:sheets", args=[declared.pk]))
    )
    for bid in opened.bids:
        assert bid.organization.name in html
        own = ScoreSheet.objects.get(member=declared, bid=bid)
        assert reverse("evaluation:sheet", args=[own.pk]) in html
    assert "Ready to score" in html


def test_the_sheet_shows_the_bid_the_bands_and_the_inputs(client_for, declared, opened):
    plan = opened.tender.criteria.get(code="plan")
    plan.description = "服务方案的完整性与可行性。"
    plan.bands = [
        {"low": "0", "high": "20", "text": "方案不完整"},
        {"low": "20", "high": "50", "text": "方案完整可行"},
    ]
    plan.save()
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    html = text_of(
        client_of(client_for, declared.user).get(reverse("evaluation:sheet", args=[own.pk]))
    )
    assert "方案完整可行" in html
    assert "20–50" in html
    assert "服务方案的完整性与可行性。" in html
    assert 'name="score_plan"' in html
    assert 'step="0.01"' in html
    assert 'max="50"' in html
    assert 'name="reason_plan"' in html
    assert opened.bids[0].proposal in html
    assert "480,000.00" in html
    # The objective criterion, read-only with its basis.
    assert "No grade in force" in html
    assert 'name="score_grade"' not in html
    assert "csrfmiddlewaretoken" in html


def test_saving_a_draft_keeps_the_scores_with_their_reasons(client_for, declared, opened):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    client = client_of(client_for, declared.user)
    url = reverse("evaluation:sheet", args=[own.pk])
    response = client.post(url, {"action": "save", "score_plan": "41.5", "reason_plan": REASON})
    assert response.status_code == 302
    assert response.url == url
    own.refresh_from_db()
    assert own.status == SheetStatus.DRAFT
    score = Score.objects.get(sheet=own)
    assert (score.score, score.reason) == (Decimal("41.50"), REASON)
    (event,) = opened.events(AuditAction.SCORESHEET_SAVED)
    assert event.actor == declared.user
    html = text_of(client.get(url))
    assert 'value="41.5"' in html
    assert REASON in html


@pytest.mark.parametrize(
    ("score", "reason", "message"),
    [
        ("51", REASON, "plan: the score must be between 0 and 50"),
        ("-1", REASON, "plan: the score must be between 0 and 50"),
        ("40.125", REASON, "plan: the score has at most 2 decimal places"),
        ("40", "", "plan: give a short reason for the score"),
        ("很好", REASON, "Enter a number."),
    ],
)
def test_a_bad_score_is_shown_on_its_criterion_and_nothing_is_saved(
    client_for, declared, opened, score, reason, message
):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    response = client_of(client_for, declared.user).post(
        reverse("evaluation:sheet", args=[own.pk]),
        {"action": "save", "score_plan": score, "reason_plan": reason},
    )
    html = text_of(response)
    assert message in html
    assert 'id="id_score_plan_error"' in html
    assert Score.objects.filter(sheet=own).count() == 0
    own.refresh_from_db()
    assert own.status == SheetStatus.DECLARED
    assert opened.events(AuditAction.SCORESHEET_SAVED) == []


def test_submitting_an_incomplete_sheet_saves_nothing(client_for, declared, opened):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    response = client_of(client_for, declared.user).post(
        reverse("evaluation:sheet", args=[own.pk]), {"action": "submit"}
    )
    html = text_of(response)
    assert "plan: the score is missing" in html
    own.refresh_from_db()
    assert own.status == SheetStatus.DECLARED
    assert opened.events(AuditAction.SCORESHEET_SAVED) == []
    assert opened.events(AuditAction.SCORESHEET_SUBMITTED) == []


def test_submit_saves_and_submits_the_sheet(client_for, declared, opened):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    client = client_of(client_for, declared.user)
    response = client.post(
        reverse("evaluation:sheet", args=[own.pk]),
        {"action": "submit", "score_plan": "42", "reason_plan": REASON},
    )
    assert response.status_code == 302
    assert response.url == reverse("evaluation:sheets", args=[declared.pk])
    own.refresh_from_db()
    assert own.status == SheetStatus.SUBMITTED
    assert Score.objects.get(sheet=own).score == Decimal("42")
    assert len(opened.events(AuditAction.SCORESHEET_SUBMITTED)) == 1
    # Submitted: read only.
    html = text_of(client.get(reverse("evaluation:sheet", args=[own.pk])))
    assert 'name="score_plan"' not in html
    assert REASON in html


def test_scores_wait_for_every_declaration_and_the_page_says_why(client_for, member, opened):
    panel_declare(member=member, actor=member.user, conflict=False, statement="")
    own = ScoreSheet.objects.get(member=member, bid=opened.bids[0])
    client = client_of(client_for, member.user)
    url = reverse("evaluation:sheet", args=[own.pk])
    html = text_of(client.get(url))
    assert "Scoring starts when every member has signed the declaration." in html
    assert opened.bids[0].proposal in html
    assert 'name="score_plan"' not in html
    response = client.post(url, {"action": "save", "score_plan": "40", "reason_plan": REASON})
    assert "The panel is not scoring now" in text_of(response)
    assert scores_on(opened.tender) == 0


def test_another_members_sheet_list_is_refused(client_for, scoring_panel, official):
    a, b = active_members(scoring_panel)[:2]
    url = reverse("evaluation:sheets", args=[a.pk])
    assert client_for(b.user).get(url).status_code == 404
    assert client_for(official).get(url).status_code == 403


def test_the_sheet_form_needs_the_csrf_token(declared, opened):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(declared.user)
    response = client.post(
        reverse("evaluation:sheet", args=[own.pk]),
        {"action": "save", "score_plan": "40", "reason_plan": REASON},
    )
    assert response.status_code == 403
    assert scores_on(opened.tender) == 0


@pytest.mark.parametrize("persona", ["official", "auditor", "org_admin", "assessor"])
def test_nobody_else_reads_or_scores_a_sheet_before_every_sheet_is_in(
    client_for, declared, opened, request, persona
):
    own = ScoreSheet.objects.get(member=declared, bid=opened.bids[0])
    client = client_for(request.getfixturevalue(persona))
    url = reverse("evaluation:sheet", args=[own.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"action": "save", "score_plan": "1", "reason_plan": "x"})
    assert response.status_code == 404
    assert scores_on(opened.tender) == 0


# --- Independence ------------------------------------------------------------------------------


@pytest.fixture
def b_has_saved(scoring_panel, opened):
    """Member B (seat 2) saved a draft on bid A with a distinctive score and reason."""
    b = active_members(scoring_panel)[1]
    scoresheet_save(
        sheet=sheet(b, opened.bids[0]),
        actor=b.user,
        scores=[{"criterion": "plan", "score": SECRET_SCORE, "reason": SECRET_REASON}],
    )
    return b


def test_no_page_shows_another_members_draft(client_for, scoring_panel, opened, b_has_saved):
    a = active_members(scoring_panel)[0]
    own = sheet(a, opened.bids[0])
    other = sheet(b_has_saved, opened.bids[0])
    client = client_of(client_for, a.user)
    pages = [
        reverse("evaluation:assignments"),
        reverse("evaluation:sheets", args=[a.pk]),
        reverse("evaluation:sheet", args=[own.pk]),
        reverse("evaluation:panel", args=[opened.tender.pk]),
        reverse("tenders:detail", args=[opened.tender.pk]),
    ]
    for url in pages:
        html = text_of(client.get(url))
        assert SECRET_REASON not in html, url
        assert SECRET_SCORE not in html, url
    assert client.get(reverse("evaluation:sheet", args=[other.pk])).status_code == 404
    assert client.get(reverse("evaluation:ranking", args=[opened.tender.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["official", "auditor"])
def test_the_office_sees_progress_but_no_score_before_every_sheet_is_in(
    client_for, opened, b_has_saved, request, persona
):
    client = english(client_for(request.getfixturevalue(persona)))
    html = text_of(client.get(reverse("evaluation:panel", args=[opened.tender.pk])))
    assert "Progress" in html
    assert SECRET_REASON not in html
    assert SECRET_SCORE not in html


# --- Deviation flags -----------------------------------------------------------------------------


@pytest.fixture
def flagged_tender(_built, db, clock) -> Evaluated:
    """The "flagged" tender re-read for this test; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("flagged")


@pytest.fixture
def flagged(flagged_tender) -> DeviationFlag:
    """Every sheet submitted; seat 5 scored bid A 10 where the others gave 40-45: flagged."""
    return DeviationFlag.objects.get(sheet__bid__tender=flagged_tender.tender)


def test_the_flagged_sheet_offers_confirm_and_revise(client_for, flagged):
    member = flagged.sheet.member
    html = text_of(
        client_of(client_for, member.user).get(reverse("evaluation:sheet", args=[flagged.sheet.pk]))
    )
    assert "Abnormal deviations" in html
    assert reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk]) in html
    assert reverse("evaluation:flag_revise", args=[flagged.sheet.pk, flagged.pk]) in html
    assert "Panel mean" in html
    assessments = text_of(client_of(client_for, member.user).get(reverse("evaluation:assignments")))
    assert "Answer the flags" in assessments


def test_a_confirmation_needs_a_written_reason(client_for, flagged, flagged_tender):
    member = flagged.sheet.member
    response = client_of(client_for, member.user).post(
        reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk]),
        {f"confirm-{flagged.pk}-note": "  "},
    )
    html = text_of(response)
    assert "Explain in writing why the score stands." in html
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN
    assert flagged_tender.events(AuditAction.DEVIATION_CONFIRMED) == []


def test_a_confirmed_flag_locks_the_sheet(client_for, flagged, flagged_tender):
    member = flagged.sheet.member
    response = client_of(client_for, member.user).post(
        reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk]),
        {f"confirm-{flagged.pk}-note": "该机构方案存在明显缺陷，维持原分。"},
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.CONFIRMED
    assert flagged.sheet.status == SheetStatus.LOCKED
    assert len(flagged_tender.events(AuditAction.DEVIATION_CONFIRMED)) == 1


def test_a_flag_answered_twice_says_why_on_the_page(client_for, flagged):
    member = flagged.sheet.member
    client = client_of(client_for, member.user)
    url = reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk])
    client.post(url, {f"confirm-{flagged.pk}-note": "维持原分。"})
    response = client.post(url, {f"confirm-{flagged.pk}-note": "再次确认。"})
    html = text_of(response)
    # The first answer locked the last sheet: the ranking is computed, the panel moved on.
    assert "This could not be done:" in html
    assert "The panel is not scoring now (it is “Ranked”)." in html
    flagged.refresh_from_db()
    assert flagged.note == "维持原分。"


def test_a_revision_out_of_range_is_refused_on_the_field(client_for, flagged):
    member = flagged.sheet.member
    response = client_of(client_for, member.user).post(
        reverse("evaluation:flag_revise", args=[flagged.sheet.pk, flagged.pk]),
        {f"revise-{flagged.pk}-score": "60", f"revise-{flagged.pk}-reason": "复核后调整。"},
    )
    html = text_of(response)
    assert "the score must be between 0 and 50" in html
    assert f'id="id_revise-{flagged.pk}-score_error"' in html
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN
    assert Score.objects.get(sheet=flagged.sheet).score == Decimal("10")


def test_a_revision_changes_the_score(client_for, flagged, flagged_tender):
    member = flagged.sheet.member
    response = client_of(client_for, member.user).post(
        reverse("evaluation:flag_revise", args=[flagged.sheet.pk, flagged.pk]),
        {f"revise-{flagged.pk}-score": "38", f"revise-{flagged.pk}-reason": "复核后调整。"},
    )
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.REVISED
    assert Score.objects.get(sheet=flagged.sheet).score == Decimal("38")
    assert len(flagged_tender.events(AuditAction.DEVIATION_REVISED)) == 1


def test_another_member_may_not_answer_a_flag(client_for, flagged_tender, flagged):
    other = flagged_tender.members[0]
    # Every sheet is in: the other member may read the sheet, not answer for its member.
    url = reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk])
    response = client_for(other.user).post(url, {f"confirm-{flagged.pk}-note": "代为确认"})
    assert response.status_code == 403
    flagged.refresh_from_db()
    assert flagged.status == DeviationStatus.OPEN


def test_a_flag_of_another_sheet_is_not_found(client_for, flagged, flagged_tender):
    member = flagged.sheet.member
    elsewhere = sheet(member, flagged_tender.bids[1])
    url = reverse("evaluation:flag_confirm", args=[elsewhere.pk, flagged.pk])
    response = client_for(member.user).post(url, {f"confirm-{flagged.pk}-note": "理由"})
    assert response.status_code == 404


def test_flag_answers_are_posts_only(client_for, flagged):
    member = flagged.sheet.member
    url = reverse("evaluation:flag_confirm", args=[flagged.sheet.pk, flagged.pk])
    assert client_for(member.user).get(url).status_code == 405


# --- English -------------------------------------------------------------------------------------


def test_the_assessor_pages_in_english_have_no_chinese_outside_the_data(
    client_for, scoring_panel, opened
):
    member = active_members(scoring_panel)[0]
    scoresheet_save(
        sheet=sheet(member, opened.bids[0]),
        actor=member.user,
        scores=[{"criterion": "plan", "score": "40", "reason": REASON}],
    )
    client = client_of(client_for, member.user)
    for url in (
        reverse("evaluation:assignments"),
        reverse("evaluation:declaration", args=[member.pk]),
        reverse("evaluation:sheets", args=[member.pk]),
        reverse("evaluation:sheet", args=[sheet(member, opened.bids[0]).pk]),
        reverse("dashboard"),
    ):
        assert chinese_outside_data(text_of(client.get(url))) == [], url


def test_the_declaration_page_in_english_has_no_chinese_outside_the_data(client_for, member):
    html = text_of(
        client_of(client_for, member.user).get(reverse("evaluation:declaration", args=[member.pk]))
    )
    assert chinese_outside_data(html) == []


def test_the_flag_page_in_english_has_no_chinese_outside_the_data(client_for, flagged):
    member = flagged.sheet.member
    html = text_of(
        client_of(client_for, member.user).get(reverse("evaluation:sheet", args=[flagged.sheet.pk]))
    )
    assert chinese_outside_data(html) == []
