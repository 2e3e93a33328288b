"""The street office's pages: the workspace, drafting, documents, approval, amendments,
cancellation, answers, the opening by two officials and the qualification review."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role
from tenders import services
from tenders.models import (
    Amendment,
    Bid,
    BidStatus,
    OpeningConfirmation,
    Question,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderStatus,
)
from tenders.selectors import community_list
from tests.conftest import make_user
from tests.tenders.conftest import make_bidder, submit_bid

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
LOCAL = "%Y-%m-%dT%H:%M"


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def local(moment) -> str:
    return timezone.localtime(moment).strftime(LOCAL)


def rows(prefix: str, items: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    """A formset's management form and rows, as a browser posts them."""
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(total if total is not None else len(items)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        for key, value in item.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


CRITERIA = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50"},
    {"code": "grade", "name": "机构等级", "kind": "objective", "points": "20"},
]


def tender_data(category, **overrides) -> dict[str, Any]:
    now = timezone.now()
    data: dict[str, Any] = {
        "title": "解放碑街道社区助餐服务项目",
        "description": "为辖区老人提供助餐服务。",
        "category": str(category.pk),
        "method": "public_tender",
        "purchase_nature": "service",
        "budget": "300000",
        "service_start": "2027-01-01",
        "service_end": "2027-12-31",
        "communities": [str(c.pk) for c in community_list()[:2]],
        "eligibility_notes": "",
        "question_deadline": local(now + timedelta(days=12)),
        "bid_deadline": local(now + timedelta(days=25)),
    }
    criteria = overrides.pop("criteria", CRITERIA)
    data.update(overrides)
    data.update(rows("criteria", criteria, total=max(len(criteria), 5)))
    return data


@pytest.fixture
def second_official(db):
    return make_user("official_two", Role.OFFICIAL)


@pytest.fixture
def tender(make_tender):
    return make_tender()


# --- The workspace ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["official", "approver"])
def test_officials_have_a_workspace(request, client_for, persona):
    response = english(client_for(request.getfixturevalue(persona))).get(
        reverse("tenders:workspace")
    )
    assert response.status_code == 200
    assert "Tender workspace" in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["org_admin", "org_member", "assessor", "registry_admin", "auditor"]
)
def test_nobody_else_has_one(request, client_for, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("tenders:workspace")).status_code == 403


def test_the_workspace_needs_a_sign_in(client, db):
    response = client.get(reverse("tenders:workspace"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_workspace_lists_what_waits(
    client_for, make_tender, official, approver, org_admin, clock
):
    draft = make_tender(published=False, title="我的草稿项目")
    pending = make_tender(published=False, title="待审批项目")
    services.tender_publish(tender=pending, actor=official)
    tender = make_tender(title="待开标项目")
    services.question_ask(tender=tender, actor=org_admin, text="服务时间如何安排？")

    mine = client_for(official).get(reverse("tenders:workspace")).context["workspace"]
    assert mine.drafts == [draft]
    assert mine.awaiting_approval == [pending]
    assert [q.text for q in mine.questions] == ["服务时间如何安排？"]

    html = client_for(approver).get(reverse("tenders:workspace")).content.decode()
    assert "待审批项目" in html
    assert "服务时间如何安排？" in html

    clock.set(tender.bid_deadline)
    response = english(client_for(official)).get(reverse("tenders:workspace"))
    assert [t.pk for t in response.context["workspace"].to_open] == [tender.pk]
    assert "0 of 2" in response.content.decode()


def test_the_workspace_costs_the_same_queries_for_more_work(
    client_for, make_tender, official, approver, bidders, clock, django_assert_max_num_queries
):
    client = client_for(approver)
    make_tender(published=False)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("tenders:workspace"))
    for i in range(4):
        pending = make_tender(published=False, title=f"待审批{i}")
        services.tender_publish(tender=pending, actor=official)
        open_tender = make_tender(title=f"开放{i}")
        services.question_ask(tender=open_tender, actor=bidders[0].admin, text=f"问题{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("tenders:workspace"))
    assert len(response.context["workspace"].awaiting_my_approval) == 4
    assert len(response.context["questions"]) == 4


# --- Drafting ----------------------------------------------------------------------------------


def test_an_official_drafts_a_tender(client_for, official, category):
    client = client_for(official)
    assert client.get(reverse("tenders:create")).status_code == 200

    response = client.post(reverse("tenders:create"), tender_data(category))

    assert response.status_code == 302
    tender = Tender.objects.get()
    assert response.url == tender.get_absolute_url()
    assert tender.status == TenderStatus.DRAFT
    assert tender.created_by == official
    assert [c.code for c in tender.criteria.all()] == ["price", "plan", "grade"]
    assert tender.communities.count() == 2
    # Typed in Beijing time.
    assert (
        timezone.localtime(tender.bid_deadline).strftime(LOCAL)
        == tender_data(category)["bid_deadline"]
    )
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_CREATED).count() == 1


def test_the_draft_form_offers_empty_criteria_rows(client_for, official):
    response = client_for(official).get(reverse("tenders:create"))
    criteria = response.context["criteria"]
    assert len(criteria.forms) >= 3
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert 'name="criteria-2-points"' in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget": "0"}, "budget"),
        ({"purchase_nature": "labour_dispatch"}, "purchase_nature"),
        ({"service_start": "2027-12-31", "service_end": "2027-01-01"}, "service_end"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_draft_is_refused_on_its_field(client_for, official, category, overrides, field):
    response = client_for(official).post(
        reverse("tenders:create"), tender_data(category, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Tender.objects.exists()


def test_a_scheme_not_adding_up_to_100_is_refused_on_the_criteria(client_for, official, category):
    criteria = [dict(CRITERIA[0]), dict(CRITERIA[1])]
    response = english(client_for(official)).post(
        reverse("tenders:create"), tender_data(category, criteria=criteria)
    )
    assert response.status_code == 200
    errors = response.context["criteria"].service_errors
    assert any("add up to 80" in error for error in errors)
    assert "add up to 80" in response.content.decode()
    assert not Tender.objects.exists()
    assert not TenderCriterion.objects.exists()


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "auditor", "registry_admin"])
def test_only_officials_draft(request, client_for, category, persona):
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("tenders:create")).status_code == 403
    assert client.post(reverse("tenders:create"), tender_data(category)).status_code == 403
    assert not Tender.objects.exists()


def test_the_drafter_edits_the_draft(client_for, make_tender, official, category):
    draft = make_tender(published=False)
    client = client_for(official)
    url = reverse("tenders:edit", args=[draft.pk])
    form = client.get(url).context["form"]
    assert form.initial["title"] == draft.title

    data = tender_data(category, title="修改后的标题", budget="450000")
    response = client.post(url, data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "修改后的标题"
    event = AuditEvent.objects.filter(action=AuditAction.TENDER_UPDATED).get()
    assert "title" in event.details["changed"]
    assert "budget" in event.details["changed"]


def test_another_official_cannot_edit_a_draft(client_for, make_tender, second_official, category):
    draft = make_tender(published=False)
    client = client_for(second_official)
    url = reverse("tenders:edit", args=[draft.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, tender_data(category, title="他人修改")).status_code == 403
    draft.refresh_from_db()
    assert draft.title != "他人修改"


def test_documents_are_added_to_and_removed_from_the_draft(client_for, make_tender, official):
    draft = make_tender(published=False)
    client = client_for(official)
    url = reverse("tenders:documents", args=[draft.pk])

    response = client.post(
        url, {"file": SimpleUploadedFile("需求书.pdf", PDF), "title": "采购需求书"}
    )

    assert response.status_code == 302
    document = TenderDocument.objects.get()
    assert document.title == "采购需求书"
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_DOCUMENT_ADDED).count() == 1
    remove = reverse("tenders:document_remove", args=[document.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    assert not TenderDocument.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_DOCUMENT_REMOVED).count() == 1


def test_a_program_renamed_pdf_is_refused(client_for, make_tender, official):
    draft = make_tender(published=False)
    response = english(client_for(official)).post(
        reverse("tenders:documents", args=[draft.pk]),
        {"file": SimpleUploadedFile("需求书.pdf", EXE), "title": ""},
    )
    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert "a program (executable file)" in response.content.decode()
    assert not TenderDocument.objects.exists()


# --- Approval ----------------------------------------------------------------------------------


def test_the_drafter_sends_it_and_an_approver_publishes_it(
    client_for, make_tender, official, approver
):
    draft = make_tender(published=False)
    url = reverse("tenders:publish", args=[draft.pk])
    drafter = english(client_for(official))
    assert "Send for approval" in drafter.get(draft.get_absolute_url()).content.decode()

    assert drafter.post(url).status_code == 302
    draft.refresh_from_db()
    assert draft.status == TenderStatus.PENDING_APPROVAL
    assert "Approve and publish" not in drafter.get(draft.get_absolute_url()).content.decode()

    # The drafter may not publish it: four eyes.
    response = drafter.post(url)
    assert response.status_code == 200
    assert "A different person, an approver" in response.content.decode()

    checker = english(client_for(approver))
    assert "Approve and publish" in checker.get(draft.get_absolute_url()).content.decode()
    assert checker.post(url).status_code == 302
    draft.refresh_from_db()
    assert draft.status == TenderStatus.PUBLISHED
    assert draft.reference
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_SUBMITTED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_PUBLISHED).count() == 1


def test_a_draft_that_cannot_be_published_says_why(client_for, make_tender, official):
    draft = make_tender(published=False, bid_deadline=timezone.now() + timedelta(days=15))
    response = english(client_for(official)).post(reverse("tenders:publish", args=[draft.pk]))
    assert response.status_code == 200
    assert "at least 20 days later" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == TenderStatus.DRAFT


def test_the_approver_returns_it_with_a_note(client_for, make_tender, official, approver):
    draft = make_tender(published=False)
    services.tender_publish(tender=draft, actor=official)
    client = client_for(approver)
    url = reverse("tenders:return", args=[draft.pk])

    response = client.post(url, {"return-note": ""})
    assert response.status_code == 200
    assert "note" in response.context["return_form"].errors
    draft.refresh_from_db()
    assert draft.status == TenderStatus.PENDING_APPROVAL

    assert client.post(url, {"return-note": "请补充服务标准。"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == TenderStatus.DRAFT
    assert draft.return_note == "请补充服务标准。"
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_RETURNED).count() == 1
    assert "请补充服务标准。" in client_for(official).get(draft.get_absolute_url()).content.decode()


@pytest.mark.parametrize("name", ["publish", "return", "open", "follow", "question_ask"])
def test_state_changes_refuse_get(client_for, tender, official, name):
    response = client_for(official).get(reverse(f"tenders:{name}", args=[tender.pk]))
    assert response.status_code == 405


# --- Amendments and cancellation -----------------------------------------------------------------


def amendment_data(tender, **overrides) -> dict[str, Any]:
    data: dict[str, Any] = {
        "summary": "",
        "description": tender.description,
        "eligibility_notes": tender.eligibility_notes,
        "budget": str(tender.budget),
        "question_deadline": local(tender.question_deadline),
        "bid_deadline": local(tender.bid_deadline),
        "service_start": tender.service_start.isoformat(),
        "service_end": tender.service_end.isoformat(),
    }
    data.update(
        rows(
            "criteria",
            [
                {"code": c.code, "name": c.name, "kind": c.kind, "points": str(c.points)}
                for c in tender.criteria.all()
            ],
        )
    )
    data.update(rows("documents", [], total=2))
    data.update(overrides)
    return data


def test_an_amendment_prefills_the_tender_and_changes_only_what_changed(
    client_for, clock, tender, official, bidders
):
    bid, _receipt = submit_bid(tender, bidders[0], "450000")
    clock.advance(days=15)
    client = client_for(official)
    url = reverse("tenders:amend", args=[tender.pk])
    form = client.get(url).context["form"]
    assert form.initial["budget"] == tender.budget

    response = client.post(
        url,
        amendment_data(
            tender,
            summary="预算调整为48万元。",
            budget="480000",
            **{
                "documents-0-file": SimpleUploadedFile("更正.pdf", PDF),
                "documents-0-title": "更正",
            },
        ),
    )

    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert set(amendment.changes) == {"budget"}
    assert amendment.affects_preparation
    assert amendment.deadline_moved
    assert amendment.documents.count() == 1
    bid.refresh_from_db()
    assert bid.status == BidStatus.NEEDS_CONFIRMATION
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_AMENDED).count() == 1


def test_an_amendment_without_a_summary_or_a_change_is_refused(client_for, tender, official):
    client = english(client_for(official))
    url = reverse("tenders:amend", args=[tender.pk])
    response = client.post(url, amendment_data(tender, summary="", budget="480000"))
    assert response.status_code == 200
    assert "summary" in response.context["form"].errors
    response = client.post(url, amendment_data(tender, summary="没有变化"))
    assert response.status_code == 200
    assert "The amendment changes nothing." in response.content.decode()
    assert not Amendment.objects.exists()


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "auditor"])
def test_only_officials_amend_and_cancel(request, client_for, tender, persona):
    client = client_for(request.getfixturevalue(persona))
    for name in ["amend", "cancel"]:
        url = reverse(f"tenders:{name}", args=[tender.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"summary": "x", "reason": "x"}).status_code == 403
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED


def test_a_tender_is_cancelled_with_a_public_reason(client_for, tender, official):
    client = client_for(official)
    url = reverse("tenders:cancel", args=[tender.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors

    assert client.post(url, {"reason": "服务需求变更。"}).status_code == 302
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CANCELLED
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_CANCELLED).count() == 1


# --- Answers -----------------------------------------------------------------------------------


def test_an_official_answers_a_question_in_the_workspace(client_for, tender, official, org_admin):
    question = services.question_ask(tender=tender, actor=org_admin, text="可以联合投标吗？")
    client = client_for(official)
    url = reverse("tenders:question_answer", args=[question.pk])
    assert client.get(url).status_code == 405

    response = client.post(url, {f"answer-{question.pk}-answer": ""})
    assert response.status_code == 200
    form = dict(response.context["questions"])[question]
    assert "answer" in form.errors

    assert client.post(url, {f"answer-{question.pk}-answer": "不接受联合投标。"}).status_code == 302
    question.refresh_from_db()
    assert question.answer == "不接受联合投标。"
    assert AuditEvent.objects.filter(action=AuditAction.QUESTION_ANSWERED).count() == 1


def test_an_organization_cannot_answer(client_for, tender, org_admin):
    question = services.question_ask(tender=tender, actor=org_admin, text="问题？")
    response = client_for(org_admin).post(
        reverse("tenders:question_answer", args=[question.pk]),
        {f"answer-{question.pk}-answer": "自问自答"},
    )
    assert response.status_code == 403
    assert Question.objects.get().answer == ""


# --- The opening -------------------------------------------------------------------------------


def test_two_officials_open_the_bids(client_for, clock, tender, bidders, official, second_official):
    for bidder, price in zip(bidders, ["480000", "455000", "499000"], strict=True):
        submit_bid(tender, bidder, price)
    url = reverse("tenders:open", args=[tender.pk])

    response = english(client_for(official)).post(url)
    assert response.status_code == 200
    assert "not before" in response.content.decode()
    assert not OpeningConfirmation.objects.exists()

    clock.set(tender.bid_deadline)
    first = english(client_for(official))
    response = first.post(url, follow=True)
    assert "a second, different official" in response.content.decode()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.CLOSED
    response = first.post(url)
    assert "You have confirmed the opening already" in response.content.decode()
    workspace = first.get(reverse("tenders:workspace")).content.decode()
    assert "confirmed by you" in workspace

    response = english(client_for(second_official)).post(url, follow=True)
    assert "the opening record is public" in response.content.decode()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.OPENED
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_OPENING_CONFIRMED).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_OPENED).count() == 1


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "auditor"])
def test_only_officials_open(request, client_for, clock, tender, persona):
    clock.set(tender.bid_deadline)
    client = client_for(request.getfixturevalue(persona))
    assert client.post(reverse("tenders:open", args=[tender.pk])).status_code == 403
    assert not OpeningConfirmation.objects.exists()


def test_too_few_bids_fail_the_tender_at_the_opening(
    client_for, clock, tender, bidders, official, second_official
):
    submit_bid(tender, bidders[0], "480000")
    clock.set(tender.bid_deadline)
    client_for(official).post(reverse("tenders:open", args=[tender.pk]))
    response = english(client_for(second_official)).post(
        reverse("tenders:open", args=[tender.pk]), follow=True
    )
    assert "the tender failed" in response.content.decode()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.FAILED


# --- The qualification review ------------------------------------------------------------------


@pytest.fixture
def opened(clock, tender, bidders, official, second_official):
    bids = [
        submit_bid(tender, bidder, price)[0]
        for bidder, price in zip(bidders, ["480000", "455000", "499000"], strict=True)
    ]
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    return bids


def test_the_review_page_shows_the_opened_bids(client_for, tender, opened, bidders, official):
    response = english(client_for(official)).get(reverse("tenders:review", args=[tender.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for bidder in bidders:
        assert bidder.organization.name in html
    assert "455,000.00" in html
    assert "服务方案：每周上门两次。" in html
    assert "Record the decision" in html
    # ID numbers are masked for the street office.
    person = Bid.objects.get(pk=opened[0].pk).staff.first().person
    assert person.id_number not in html
    assert person.id_number_masked in html


def test_auditors_read_but_do_not_review(client_for, tender, opened, auditor):
    response = english(client_for(auditor)).get(reverse("tenders:review", args=[tender.pk]))
    assert response.status_code == 200
    assert "Record the decision" not in response.content.decode()
    bid = opened[0]
    response = client_for(auditor).post(
        reverse("tenders:bid_review", args=[bid.pk]), {f"review-{bid.pk}-decision": "qualified"}
    )
    assert response.status_code == 403


def test_an_assessor_off_the_panel_neither_reads_nor_reviews(client_for, tender, opened, assessor):
    """The review is the office's; an assessor reads bids only as a declared panel member."""
    client = client_for(assessor)
    page = client.get(reverse("tenders:review", args=[tender.pk]))
    bid = opened[0]
    bid.refresh_from_db()
    html = page.content.decode()
    assert bid.organization.name not in html
    assert f"{bid.price:,.2f}" not in html
    assert str(bid.price) not in html
    response = client.post(
        reverse("tenders:bid_review", args=[bid.pk]), {f"review-{bid.pk}-decision": "qualified"}
    )
    assert response.status_code in (403, 404)


def test_organizations_have_no_review_page(client_for, tender, opened, bidders, other_org_admin):
    url = reverse("tenders:review", args=[tender.pk])
    assert client_for(bidders[0].admin).get(url).status_code == 403
    assert client_for(other_org_admin).get(url).status_code == 403


def test_bids_are_qualified_or_disqualified_with_a_reason(client_for, tender, opened, official):
    client = client_for(official)
    first, second, _third = opened
    url = reverse("tenders:bid_review", args=[first.pk])
    assert client.get(url).status_code == 405

    response = client.post(url, {f"review-{first.pk}-decision": "disqualified"})
    assert response.status_code == 200
    form = next(row["form"] for row in response.context["rows"] if row["bid"].pk == first.pk)
    assert "reason" in form.errors
    first.refresh_from_db()
    assert first.status == BidStatus.OPENED

    response = client.post(
        url,
        {f"review-{first.pk}-decision": "disqualified", f"review-{first.pk}-reason": "缺营业执照"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == BidStatus.DISQUALIFIED
    assert first.review_reason == "缺营业执照"
    client.post(
        reverse("tenders:bid_review", args=[second.pk]),
        {f"review-{second.pk}-decision": "qualified"},
    )
    second.refresh_from_db()
    assert second.status == BidStatus.QUALIFIED
    assert AuditEvent.objects.filter(action=AuditAction.BID_DISQUALIFIED).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.BID_QUALIFIED).count() == 1


def test_the_review_page_costs_the_same_queries_for_more_bids(
    client_for, clock, make_tender, official, second_official, django_assert_max_num_queries
):
    def opened_with(count: int):
        tender = make_tender()
        for i in range(count):
            submit_bid(tender, make_bidder(f"机构{count}-{i}"), str(400000 + i))
        clock.advance(days=26)
        services.tender_open(tender=tender, actor=official)
        services.tender_open(tender=tender, actor=second_official)
        return reverse("tenders:review", args=[tender.pk])

    client = client_for(official)
    small = opened_with(3)
    with django_assert_max_num_queries(30) as few:
        client.get(small)
    large = opened_with(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(large)


# --- Every page needs a sign-in where it should; English pages carry no untranslated text -------


@pytest.mark.parametrize(
    "name", ["workspace", "create", "edit", "documents", "amend", "cancel", "review"]
)
def test_office_pages_need_a_sign_in(client, tender, name):
    url = reverse(f"tenders:{name}", args=[] if name in ("workspace", "create") else [tender.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["workspace", "create", "list"])
def test_english_office_pages_contain_no_chinese(client_for, official, name):
    html = english(client_for(official)).get(reverse(f"tenders:{name}")).content.decode()
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    assert re.findall(r"[\u3400-\u9fff]", html) == []
