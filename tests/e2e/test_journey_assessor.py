"""Browser journey of an assessor (Chinese interface): sign in with the second factor, sign
the conflict-of-interest declaration for a panel seat, score every bid criterion by
criterion with reasons, get a deviation flag (畸高畸低) and revise the flagged score with a
justification.

Set up through the real services, as the page tests do: the tender published, bid on by four
organizations, opened and reviewed (``tests.evaluation.conftest.open_tender``), and its panel
formed with the journey's assessor named as an expert; the four other members declare and
score through the services. Everything the assessor does goes through the pages.

Time: the services and the live server read ``timezone.now()``, which the journey moves with
the test suite's clock (``patch_clock``): the live server runs in this process.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from evaluation.models import (
    DeviationFlag,
    DeviationStatus,
    MemberStatus,
    PanelMember,
    PanelStatus,
    ScoreSheet,
    SheetStatus,
)
from evaluation.services.panels import panel_declare
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.models import Role, User
from orgs_registry.models import ServiceCategory
from tests.conftest import make_user, patch_clock
from tests.e2e.support import (
    assert_clean,
    expect_message,
    fill_by_name,
    opened_tender,
    shot,
    sign_in,
    submit_form,
    t,
)
from tests.evaluation.conftest import active_members, form_panel, make_assessor
from tests.evaluation.test_sheets_support import CRITERIA4
from tests.otp_support import confirmed_device
from tests.tenders.test_award import RANKED_AT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "解放碑街道社区助餐服务项目"
# The other four members' scores (plan out of 40, team out of 10) on bids A-D, close to
# each other; the assessor's own scores below are close too, except plan on bid A.
OTHERS = {
    0: [("34", "8"), ("36", "8.5"), ("33", "7.5"), ("35", "8")],
    1: [("30", "7"), ("31", "7.5"), ("29", "7"), ("32", "6.5")],
    2: [("28", "6"), ("27", "6.5"), ("29", "6"), ("28.5", "7")],
    3: [("25", "5"), ("26", "5.5"), ("24", "5"), ("25.5", "6")],
}
OWN = {0: ("12", "8"), 1: ("30", "7"), 2: ("28", "6.5"), 3: ("25", "5.5")}
REVISED = "33"
REASON = "方案内容与评分细则逐项对照，措施具体可行。"
JUSTIFICATION = "复核方案后发现漏看了第三章的助餐配送流程，按评分细则调整为33分。"


@pytest.fixture
def clock(monkeypatch, settings):
    """The journey's clock, on the award tests' working day; tasks are queued in the
    database instead of running inside the requests (the screens the opening triggers)."""
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 120
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return patch_clock(monkeypatch, RANKED_AT)


def seat_of_assessor(clock, assessor: User) -> PanelMember:
    """An opened tender with four reviewed bids and its panel of five, the assessor named
    as one expert; the other four members sign their declarations."""
    official = make_user("official", Role.OFFICIAL)
    approver = make_user("approver", Role.APPROVER)
    category = ServiceCategory.objects.get(code="elderly_care")
    opened = opened_tender(
        clock,
        official=official,
        approver=approver,
        category=category,
        title=TITLE,
        criteria=CRITERIA4,
    )
    for i in range(6):
        make_assessor(f"expert{i:02d}", agency=f"第{i}评估所", categories=[category])
    panel = form_panel(opened.tender, official, members=[assessor])
    for member in active_members(panel):
        if member.user_id != assessor.pk:
            panel_declare(
                member=member, actor=member.user, conflict=False, statement="无利害关系。"
            )
    return PanelMember.objects.get(panel=panel, user=assessor)


def others_score(seat: PanelMember) -> None:
    """The four other members score every bid and submit their sheets (services)."""
    others = [m for m in active_members(seat.panel) if m.pk != seat.pk]
    bids = [sheet.bid for sheet in ScoreSheet.objects.filter(member=seat).order_by("bid_id")]
    for b, bid in enumerate(bids):
        for member, (plan, team) in zip(others, OTHERS[b], strict=True):
            sheet = ScoreSheet.objects.get(member=member, bid=bid)
            scoresheet_save(
                sheet=sheet,
                actor=member.user,
                scores=[
                    {"criterion": "plan", "score": plan, "reason": "方案可行。"},
                    {"criterion": "team", "score": team, "reason": "团队稳定。"},
                ],
            )
            scoresheet_submit(sheet=sheet, actor=member.user)


def declare(page: Page, seat: PanelMember) -> None:
    """From My assessments to the declaration: the bidders are listed, no bid is shown
    before signing; the assessor signs that there is no conflict."""
    page.goto("/evaluation/assignments/")
    row = page.locator("tr").filter(has_text=TITLE)
    expect(row).to_contain_text(
        t("Sign the conflict-of-interest declaration before you can read the bids.")
    )
    shot(page, "assessor-assignments-declare")
    row.get_by_role("link", name=t("Declare")).click()
    expect(page.locator("h1")).to_have_text(t("Conflict-of-interest declaration"))
    bidders = page.locator("section[aria-labelledby='bidders-heading']")
    for sheet in ScoreSheet.objects.filter(member=seat).select_related("bid__organization"):
        expect(bidders).to_contain_text(sheet.bid.organization.name)
        expect(page.locator("main")).not_to_contain_text(f"{sheet.bid.price:,.2f}")
    fill_by_name(page, {"statement": "本人与上述投标机构均无雇佣、亲属、出资等利害关系。"})
    shot(page, "assessor-declaration")
    submit_form(page.locator("main form"), t("I have no conflict: sign the declaration"))
    expect_message(page, t("Your declaration is signed; the bids are open to you now."))
    assert_clean(page)


def score_bid(page: Page, name: str, plan: str, team: str) -> None:
    """Open one bid's sheet from the list, score both subjective criteria with reasons,
    save the draft, then submit it."""
    row = page.locator("main tbody tr").filter(has_text=name)
    row.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#criterion-plan legend")).to_contain_text("服务方案")
    expect(page.locator("#criterion-team legend")).to_contain_text("团队")
    fill_by_name(page, {"score_plan": plan, "reason_plan": REASON})
    submit_form(
        page.locator("main form").filter(has=page.locator("[name='score_plan']")),
        t("Save the draft"),
    )
    expect_message(page, t("The draft is saved; only you can read it."))
    expect(page.locator("[name='score_plan']")).to_have_value(plan)
    fill_by_name(
        page, {"score_team": team, "reason_team": "项目团队专职人员充足，持证社工占比高。"}
    )
    submit_form(
        page.locator("main form").filter(has=page.locator("[name='score_team']")),
        t("Submit the sheet"),
    )
    expect_message(page, t("The sheet for %(name)s is submitted."))


def test_an_assessor_declares_scores_and_revises_a_flagged_score(browse, clock):
    assessor = make_user("assessor", Role.ASSESSOR, full_name="周评审")
    confirmed_device(assessor)  # the authenticator app set up before (the 2FA journey enrols)
    seat = seat_of_assessor(clock, assessor)
    sheets = ScoreSheet.objects.filter(member=seat).select_related("bid__organization")
    bids = [sheet.bid for sheet in sheets.order_by("bid_id")]

    page = browse()
    sign_in(page, assessor)
    declare(page, seat)
    seat.refresh_from_db()
    assert seat.status == MemberStatus.DECLARED
    assert seat.panel.status == PanelStatus.SCORING

    # Every sheet is there to score; the other members submit theirs meanwhile.
    expect(page.locator("main tbody tr")).to_have_count(len(bids))
    shot(page, "assessor-sheets")
    others_score(seat)

    # Bid by bid, criterion by criterion, each score with its reason; bid A's plan score
    # is far below the other members' (12 against a mean of 34.5 of the others).
    for index, bid in enumerate(bids):
        plan, team = OWN[index]
        score_bid(page, bid.organization.name, plan, team)
        if index == 0:
            shot(page, "assessor-sheet-submitted")
    assert_clean(page)

    # The last sheet in, the panel's deviation check flags the outlier.
    flag = DeviationFlag.objects.get(sheet__member=seat)
    assert flag.status == DeviationStatus.OPEN
    assert flag.criterion.code == "plan"
    assert flag.sheet.bid_id == bids[0].pk
    page.goto("/evaluation/assignments/")
    row = page.locator("tr").filter(has_text=TITLE)
    expect(row).to_contain_text(t("Confirm with a written reason, or revise, your flagged scores."))
    row.get_by_role("link", name=t("Answer the flags")).click()
    flagged = page.locator("main tbody tr").filter(has_text=bids[0].organization.name)
    expect(flagged.locator(".flag-open")).to_have_text("1")
    flagged.get_by_role("link").click()
    card = page.locator(f"#flag-{flag.pk}-heading").locator("xpath=..")
    expect(card).to_contain_text(t("Panel mean"))
    expect(card).to_contain_text("12 / 40")
    expect(card).to_contain_text(f"{flag.panel_mean.normalize():f}")
    shot(page, "score-sheet-flag")

    # The assessor revises the score with a justification; the flag closes, the sheet locks.
    revise = card.locator("form").filter(has=page.locator(f"[name='revise-{flag.pk}-score']"))
    fill_by_name(
        revise, {f"revise-{flag.pk}-score": REVISED, f"revise-{flag.pk}-reason": JUSTIFICATION}
    )
    submit_form(revise)
    expect_message(page, t("The score is revised."))
    card = page.locator(f"#flag-{flag.pk}-heading").locator("xpath=..")
    expect(card).to_contain_text(t("Revised score"))
    expect(card).to_contain_text(REVISED)
    expect(card.locator("form")).to_have_count(0)
    shot(page, "score-sheet-revised")
    assert_clean(page)

    flag.refresh_from_db()
    assert flag.status == DeviationStatus.REVISED
    assert flag.revised_score == Decimal(REVISED)
    sheet = ScoreSheet.objects.get(pk=flag.sheet_id)
    assert sheet.scores.get(criterion__code="plan").score == Decimal(REVISED)
    assert sheet.status == SheetStatus.LOCKED
