"""Browser journeys of bidding (Chinese interface): an organization from its registration to
its result, and the street office from the draft to the award and a challenge.

Each journey goes through the pages as its people would and asserts what they see. What the
other side does (the officials in the organization's journey, the other bidders and the
assessors in the office's) is set up through the real services, as the page tests do.

Time: the services and the live server read ``timezone.now()``, which the journeys move with
the test suite's clock (``patch_clock``), as tests/tenders move a tender past its deadline:
the live server runs in this process, so it sees the same clock. The browser actions
themselves are real. Sessions last longer than the journey's jumps (``SESSION_COOKIE_AGE``)
so that each person signs in once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from evaluation.models import Panel, ScoreSheet
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.models import Role, User
from orgs_registry.identifiers import make_id_number, make_uscc
from orgs_registry.models import Organization, OrganizationStatus, ServiceCategory
from tenders import services as tender_services
from tenders.models import Bid, BidReceipt, Question, Tender
from tests.conftest import make_user, patch_clock
from tests.e2e.support import (
    assert_clean,
    expect_message,
    fill_by_name,
    pdf_file,
    problems_of,
    screenshot_dir,
    shot,
    sign_in,
    sign_out,
    submit_form,
    t,
)
from tests.evaluation.conftest import OpenedTender, active_members, declare_all, make_assessor
from tests.tenders.conftest import make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import AWARD_DAY, RANKED_AT, rank_with_services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "解放碑街道独居老人关爱服务项目"
BIDDERS = ["夕阳红养老服务中心", "心语社会工作服务社", "同心社区服务中心", "康乐为老服务中心"]
ASSESSORS = ["孙立", "吴敏", "郑华", "王磊", "冯雪", "陈晨", "褚涛"]


def street_office() -> tuple[User, User, User]:
    """The official who drafts, the approver, and a second official for the opening."""
    return (
        make_user("official", Role.OFFICIAL, full_name="赵强"),
        make_user("approver", Role.APPROVER, full_name="陈静"),
        make_user("official_two", Role.OFFICIAL, full_name="刘洋"),
    )


@pytest.fixture
def clock(monkeypatch, settings):
    """The journeys' clock, starting on a working day as the award tests' does.

    Background tasks are queued in the database, as in production, instead of running
    inside the request that queues them: the integrity screens that the opening triggers
    would otherwise hold the second official's page for half a minute.
    """
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 120
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return patch_clock(monkeypatch, RANKED_AT)


def test_the_home_page_loads_in_chinese_and_the_watch_catches_asset_and_csp_failures(browse):
    """The smoke test of the foundation: the page is Chinese and styled, a screenshot is
    written, and what ``assert_clean`` watches for does fail a journey."""
    page = browse()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".brand-title")).to_have_text("政府购买社区服务平台")
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    assert_clean(page)
    path = shot(page, "home")
    assert path.parent == screenshot_dir()
    assert path.read_bytes().startswith(b"\x89PNG")

    # A stylesheet that 404s.
    with page.expect_response(lambda response: response.url.endswith("/missing.css")):
        page.evaluate(
            """() => {
                const link = document.createElement("link");
                link.rel = "stylesheet";
                link.href = "/static/marketplace/css/missing.css";
                document.head.append(link);
            }"""
        )
    with pytest.raises(AssertionError, match=r"HTTP 404: GET .*/missing\.css"):
        assert_clean(page)
    problems_of(page).entries.clear()

    # An inline script, which the Content-Security-Policy refuses.
    with page.expect_event("console", lambda message: message.type == "error"):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "document.title = 'injected';";
                document.body.append(script);
            }"""
        )
    with pytest.raises(AssertionError, match="Content Security Policy"):
        assert_clean(page)
    assert page.title() != "injected"
    problems_of(page).entries.clear()


# --- 1. An organization: registration, verification, staff, question, bid, result ---------------


def register_organization(page: Page, uscc: str) -> None:
    """A visitor registers the organization and its administrator's account."""
    page.goto("/")
    page.goto("/organizations/register/")
    expect(page.locator("h1")).to_have_text(t("Register a social organization"))
    fill_by_name(
        page,
        {
            "username": "yangguang_admin",
            "full_name": "李敏",
            "account_email": "limin@yangguang.example.cn",
            "password1": "Yangguang-2026-secret",
            "password2": "Yangguang-2026-secret",
            "name": "渝中区阳光社会工作服务中心",
            "uscc": uscc,
            "legal_representative": "李敏",
            "address": "重庆市渝中区解放碑民族路88号",
            "registration_date": "2019-05-06",
            "registration_authority": "渝中区民政局",
            "phone": "023-63801234",
            "email": "office@yangguang.example.cn",
            "description": "专业社会工作服务机构，长期服务独居老人。",
        },
    )
    page.get_by_label("养老服务", exact=False).first.check()
    shot(page, "organization-registration")
    submit_form(page.locator("main form"))
    expect_message(
        page,
        t(
            "Your organization is registered and waiting for verification"
            " by the civil affairs registry. You can bid once it is verified."
        ),
    )
    assert_clean(page)


def verify_registration(page: Page, registry_admin, name: str) -> None:
    sign_in(page, registry_admin)
    page.goto("/registry/")
    row = page.locator("tr").filter(has_text=name)
    expect(row).to_be_visible()
    shot(page, "registry-queue")
    with page.expect_navigation():
        row.get_by_role("button", name=t("Verify")).click()
    expect_message(page, t("%(name)s is verified and active."))
    expect(page.locator("tr").filter(has_text=name)).to_have_count(0)
    assert_clean(page)


def add_staff(page: Page, number: str, name: str, born: date) -> None:
    page.get_by_role("link", name=t("Add a staff member")).click()
    fill_by_name(
        page,
        {
            "name": name,
            "id_number": number,
            "role": "社工",
            "weekly_hours": "40",
            "start_date": "2023-03-01",
        },
    )
    submit_form(page.locator("main form"))
    expect_message(page, t("%(name)s is on the roster."))
    expect(page.locator("main table")).to_contain_text(name)


def test_an_organization_registers_bids_and_reads_its_result(browse, clock):
    official, approver, second_official = street_office()
    registry_admin = make_user("registry_admin", Role.REGISTRY_ADMIN, full_name="周红")
    category = ServiceCategory.objects.get(code="elderly_care")
    tender = publish_tender(official=official, approver=approver, category=category, title=TITLE)
    uscc = make_uscc(authority="5", category="2", region="500103", org_body="71234567")

    # A visitor registers the organization; the registry verifies it.
    visitor = browse()
    register_organization(visitor, uscc)
    organization = Organization.objects.get(uscc=uscc)
    assert organization.status == OrganizationStatus.PENDING
    verify_registration(browse(), registry_admin, organization.name)

    # The administrator signs in and puts two social workers on the roster.
    admin = visitor
    sign_out(admin)
    sign_in(admin, User.objects.get(username="yangguang_admin"), password="Yangguang-2026-secret")
    admin.goto("/organizations/mine/")
    expect(admin.locator("main")).to_contain_text(organization.name)
    admin.get_by_role("link", name=t("Staff roster")).first.click()
    add_staff(
        admin,
        make_id_number(region="500103", born=date(1988, 3, 9), sequence=101, male=False),
        "王芳",
        date(1988, 3, 9),
    )
    add_staff(
        admin,
        make_id_number(region="500103", born=date(1991, 7, 21), sequence=102, male=True),
        "张伟",
        date(1991, 7, 21),
    )
    shot(admin, "staff-roster")
    assert_clean(admin)

    # It finds the tender in the list and asks a question.
    admin.goto("/tenders/")
    admin.get_by_role("link", name=TITLE).click()
    expect(admin.locator("main")).to_contain_text(t("Your organization may bid on this tender."))
    admin.locator("[name='question-text']").fill("探访记录需要每周报送吗？")
    submit_form(admin.locator("form").filter(has=admin.locator("[name='question-text']")))
    expect_message(admin, t("Your question was sent; the answer will be published on this page."))
    # The street office answers it (its pages are the other journey's); everyone reads it.
    tender_services.question_answer(
        question=Question.objects.get(tender=tender),
        actor=official,
        answer="需要，每周一前报送上周探访记录。",
    )
    admin.reload()
    answered = admin.locator("section[aria-labelledby='questions-heading']")
    expect(answered).to_contain_text("探访记录需要每周报送吗？")
    expect(answered).to_contain_text("需要，每周一前报送上周探访记录。")

    # It prepares the bid: price, staffing plan, proposal, then two documents; and submits it.
    admin.get_by_role("link", name=t("Prepare a bid")).click()
    staff_option = admin.locator("[name='staff-0-person'] option").nth(1).get_attribute("value")
    fill_by_name(
        admin,
        {
            "price": "480000",
            "staff-0-person": staff_option,
            "staff-0-role": "项目主管",
            "staff-0-fte": "1",
            "proposal": "每周两次上门探访，配备紧急呼叫设备，社工24小时响应。",
        },
    )
    submit_form(admin.locator("form").filter(has=admin.locator("[name='price']")))
    expect_message(admin, t("The draft is saved, sealed: only your organization can read it."))
    for filename, kind in (("服务方案.pdf", "technical"), ("资格证明.pdf", "qualification")):
        form = admin.locator("form").filter(has=admin.locator("[name='document-file']"))
        form.locator("[name='document-file']").set_input_files(
            pdf_file(filename, filename.encode())
        )
        form.locator("[name='document-kind']").select_option(kind)
        submit_form(form)
        expect_message(admin, t("The document was added to your bid, sealed."))
        expect(admin.locator("main")).to_contain_text(filename)
    shot(admin, "bid-draft")
    with admin.expect_navigation():
        admin.get_by_role("button", name=t("Submit the bid")).click()
    expect_message(admin, t("Your bid was received at %(time)s. Keep the receipt."))
    receipt = BidReceipt.objects.get(bid__organization=organization)
    expect(admin.locator("h1")).to_have_text(t("Bid receipt"))
    expect(admin.locator("main")).to_contain_text(receipt.sha256)
    expect(admin.locator("main")).to_contain_text(str(receipt.sequence))
    shot(admin, "bid-receipt")
    assert_clean(admin)

    # Three other organizations bid; the deadline passes and two officials open the bids.
    bids = [Bid.objects.get(organization=organization)]
    rivals = [make_bidder(name) for name in BIDDERS[:3]]
    for rival, price in zip(rivals, ["450000", "430000", "470000"], strict=True):
        bids.append(submit_bid(tender, rival, price)[0])
    tender = Tender.objects.get(pk=tender.pk)
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    tender_services.tender_open(tender=tender, actor=second_official)

    # The organization reads the opening record on the tender's page.
    admin.goto(f"/tenders/{tender.pk}/")
    record = admin.locator("section[aria-labelledby='opening-heading']")
    expect(record).to_contain_text(organization.name)
    expect(record).to_contain_text("480000.00")
    expect(record).to_contain_text(receipt.sha256)
    shot(admin, "opening-record-as-bidder")
    assert_clean(admin)

    # Review, panel, scores and the award happen at the street office (services).
    for bid in bids:
        bid.refresh_from_db()
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    ranked = rank_with_services(
        OpenedTender(tender=tender, bidders=[None, *rivals], bids=bids),  # type: ignore[list-item]
        official,
    )
    clock.set(AWARD_DAY)
    tender_services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))

    # Its result: it won, with its scores and rank.
    admin.goto(f"/tenders/{tender.pk}/")
    admin.get_by_role("link", name=t("Your result: scores, rank and position")).click()
    expect(admin.locator("main")).to_contain_text(t("Your organization's bid won this tender."))
    expect(admin.locator("main")).to_contain_text("87.88")
    shot(admin, "bid-result")
    assert_clean(admin)


# --- 2. The street office: draft, approval, answers, opening, panel, award, a challenge ---------

PRICES = ["480000", "450000", "430000", "470000"]
# Plan scores (of 70) every member gives the bids in PRICES order: position 1 is the first
# bid, position 2 the second (totals 71.88, 68.67, 68.00, 57.45 with 30 price points).
PLAN_SCORES = [Decimal("45"), Decimal("40"), Decimal("38"), Decimal("30")]


def draft_tender(page: Page, category: ServiceCategory) -> Tender:
    """The official drafts the tender with its scheme and attaches the tender document."""
    page.goto("/tenders/workspace/")
    expect(page.locator("h1")).to_have_text(t("Tender workspace"))
    shot(page, "tender-workspace")
    page.get_by_role("link", name=t("Draft a tender")).click()
    fill_by_name(
        page,
        {
            "title": TITLE,
            "description": "为辖区独居老人提供每周探访、紧急呼叫响应和心理慰藉服务。",
            "category": str(category.pk),
            "method": "public_tender",
            "purchase_nature": "service",
            "budget": "500000",
            "service_start": "2027-01-01",
            "service_end": "2027-12-31",
            "question_deadline": "2026-09-01T17:00",
            "bid_deadline": "2026-09-14T09:00",
            "criteria-0-code": "price",
            "criteria-0-name": "价格",
            "criteria-0-kind": "price",
            "criteria-0-points": "30",
            "criteria-1-code": "plan",
            "criteria-1-name": "服务方案",
            "criteria-1-kind": "subjective",
            "criteria-1-points": "70",
        },
    )
    shot(page, "tender-draft-form")
    submit_form(page.locator("main form[method=post]"))
    expect_message(
        page, t("The draft is saved. Add the tender documents, then send it for approval.")
    )
    tender = Tender.objects.get(title=TITLE)
    page.goto(f"/tenders/{tender.pk}/documents/")
    form = page.locator("main form[enctype='multipart/form-data']")
    form.locator("[name='file']").set_input_files(pdf_file("采购需求.pdf", b"requirements"))
    form.locator("[name='title']").fill("采购需求书")
    submit_form(form)
    expect_message(page, t("“%(title)s” was added."))
    page.goto(f"/tenders/{tender.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name=t("Send for approval")).click()
    expect_message(page, t("The tender was sent for approval; an approver publishes it."))
    assert_clean(page)
    return tender


def approve(page: Page, tender: Tender) -> None:
    page.goto("/tenders/workspace/")
    waiting = page.locator("section[aria-labelledby='approval-heading']")
    waiting.get_by_role("link", name=TITLE).click()
    with page.expect_navigation():
        page.get_by_role("button", name=t("Approve and publish")).click()
    expect_message(
        page, t("The tender is published as %(reference)s; bids are accepted until %(deadline)s.")
    )
    tender.refresh_from_db()
    expect(page.locator("main")).to_contain_text(tender.reference)
    shot(page, "tender-published")
    assert_clean(page)


def confirm_opening(page: Page, message: str) -> None:
    page.goto("/tenders/workspace/")
    to_open = page.locator("section[aria-labelledby='open-heading']")
    expect(to_open).to_contain_text(TITLE)
    with page.expect_navigation():
        to_open.get_by_role("button", name=t("Confirm the opening")).click()
    expect_message(page, message)


def score_with_services(tender: Tender, bids: list[Bid]) -> None:
    """Every member declares no conflict and scores each bid (the assessors' pages are the
    assessor journey's, tests/e2e/test_journey_assessor.py)."""
    panel = declare_all(Panel.objects.get(tender=tender))
    plan = dict(zip((bid.pk for bid in bids), PLAN_SCORES, strict=True))
    for member in active_members(panel):
        for sheet in ScoreSheet.objects.filter(member=member).order_by("pk"):
            scoresheet_save(
                sheet=sheet,
                actor=member.user,
                scores=[{"criterion": "plan", "score": plan[sheet.bid_id], "reason": "方案完整"}],
            )
            scoresheet_submit(sheet=sheet, actor=member.user)


def test_the_street_office_runs_a_tender_to_its_award_and_a_challenge(browse, clock):
    category = ServiceCategory.objects.get(code="elderly_care")
    official, approver, second_official = street_office()
    bidders = [make_bidder(name) for name in BIDDERS]
    for index, name in enumerate(ASSESSORS):
        make_assessor(
            f"expert{index}", agency=f"第{index + 1}评估所", categories=[category], full_name=name
        )

    # The official drafts; an approver (not the drafter) approves, which publishes it.
    office = browse()
    sign_in(office, official)
    tender = draft_tender(office, category)
    checker = browse()
    sign_in(checker, approver)
    approve(checker, tender)

    # Organizations bid (services); one asks a question, which the official answers.
    tender = Tender.objects.get(pk=tender.pk)
    bids = [
        submit_bid(tender, bidder, price)[0] for bidder, price in zip(bidders, PRICES, strict=True)
    ]
    tender_services.question_ask(
        tender=tender, actor=bidders[2].member, text="紧急呼叫需要24小时值守吗？"
    )
    office.goto("/tenders/workspace/")
    questions = office.locator("section[aria-labelledby='questions-heading']")
    expect(questions).to_contain_text("紧急呼叫需要24小时值守吗？")
    questions.locator("textarea").first.fill("需要，可与社区网格员轮值。")
    submit_form(questions.locator("form").first)
    expect_message(office, t("The answer is published on the tender's page."))
    office.goto(f"/tenders/{tender.pk}/")
    expect(office.locator("main")).to_contain_text("需要，可与社区网格员轮值。")

    # The deadline passes: two officials confirm the opening; the record is public.
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    confirm_opening(
        office,
        t(
            "Your confirmation is recorded. The bids open when a second, different official "
            "confirms."
        ),
    )
    second = browse()
    sign_in(second, second_official)
    confirm_opening(second, t("The bids are opened; the opening record is public on this page."))
    record = second.locator("section[aria-labelledby='opening-heading']")
    for bidder, price in zip(bidders, PRICES, strict=True):
        row = record.locator("tr").filter(has_text=bidder.organization.name)
        expect(row).to_contain_text(f"{Decimal(price):.2f}")
    shot(second, "opening-record")
    assert_clean(second)

    # The official reviews every bid and forms the panel (a random draw from the pool).
    office.goto(f"/tenders/{tender.pk}/review/")
    shot(office, "qualification-review")
    for bid in bids:
        form = office.locator(f"form[action$='/bids/{bid.pk}/review/']")
        form.locator("input[value='qualified']").check()
        submit_form(form)
        expect_message(office, t("%(name)s is qualified."))
    office.goto(f"/evaluation/tenders/{tender.pk}/panel/")
    with office.expect_navigation():
        office.get_by_role("button", name=t("Form the panel and draw the experts")).click()
    expect_message(
        office,
        t(
            "The panel is formed and its members were e-mailed. Each signs the "
            "conflict-of-interest declaration before reading any bid."
        ),
    )
    members = office.locator("section[aria-labelledby='members-heading'] tbody tr")
    expect(members).to_have_count(Panel.objects.get(tender=tender).size)
    shot(office, "panel")
    assert_clean(office)

    # The members score (services); the official reads the frozen ranking.
    score_with_services(tender, bids)
    office.goto(f"/evaluation/tenders/{tender.pk}/ranking/")
    ranking = office.locator("section[aria-labelledby='ranking-heading']")
    expect(ranking.locator("tbody tr").first).to_contain_text(bidders[0].organization.name)
    expect(ranking).to_contain_text("71.88")
    shot(office, "ranking")
    assert_clean(office)

    # The approver confirms position 1; the award notice is public.
    clock.set(AWARD_DAY)
    checker.goto("/tenders/workspace/")
    checker.locator("section[aria-labelledby='award-heading']").get_by_role(
        "link", name=t("Confirm the award")
    ).click()
    with checker.expect_navigation():
        checker.get_by_role("button", name=t("Confirm the award and publish the notice")).click()
    expect_message(
        checker,
        t(
            "The award is confirmed and the award notice is published; "
            "challenges are accepted until %(day)s."
        ),
    )
    expect(checker.locator("main")).to_contain_text(bidders[0].organization.name)
    checker.goto(f"/tenders/{tender.pk}/#award")
    notice = checker.locator("section#award")
    expect(notice).to_contain_text(bidders[0].organization.name)
    expect(notice).to_contain_text("480000.00")
    shot(checker, "award-notice")
    assert_clean(checker)

    # The second-placed bidder challenges the award with a document.
    loser = browse()
    sign_in(loser, bidders[1].admin)
    loser.goto(f"/tenders/{tender.pk}/")
    loser.get_by_role("link", name=t("File a challenge")).first.click()
    fill_by_name(
        loser,
        {
            "subject": "对服务方案评分的质疑",
            "text": "我方服务方案包含24小时应急响应，评分未体现。请复核评分记录。",
        },
    )
    loser.locator("[name='documents']").set_input_files(pdf_file("评分复核申请.pdf", b"review"))
    submit_form(loser.locator("main form[enctype='multipart/form-data']"))
    expect_message(
        loser, t("Your challenge is filed; the street office answers it in writing by %(day)s.")
    )
    expect(loser.locator("main")).to_contain_text("对服务方案评分的质疑")
    expect(loser.locator("main")).to_contain_text("评分复核申请.pdf")
    shot(loser, "challenge")
    assert_clean(loser)

    # The official answers it (not upheld); the approver decides; the award stands.
    office.goto("/tenders/workspace/")
    office.locator("section[aria-labelledby='challenges-heading']").get_by_role(
        "link", name="对服务方案评分的质疑"
    ).click()
    office.locator("[name='answer-answer']").fill("经复核，评分记录与评分标准一致，质疑不成立。")
    office.locator("input[name='answer-upheld'][value='no']").check()
    submit_form(office.locator("form[action$='/answer/']"))
    expect_message(
        office, t("The answer is sent to the challenger; an approver decides the challenge.")
    )
    checker.goto("/tenders/workspace/")
    checker.locator("section[aria-labelledby='decide-heading']").get_by_role(
        "link", name="对服务方案评分的质疑"
    ).click()
    with checker.expect_navigation():
        checker.get_by_role("button", name=t("Confirm: not upheld")).click()
    expect_message(checker, t("The challenge is not upheld; the award stands."))
    shot(checker, "challenge-decided")
    assert_clean(checker)

    # The challenger reads the answer and the decision.
    loser.reload()
    expect(loser.locator("main")).to_contain_text("经复核，评分记录与评分标准一致，质疑不成立。")
    expect(loser.locator("main")).to_contain_text(
        t("The challenge is not upheld; the award stands.")
    )
    assert_clean(loser)
