"""One tender from draft to qualification review, entirely through the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role
from tenders.models import Bid, BidReceipt, BidStatus, Question, Tender, TenderStatus
from tests.conftest import make_user
from tests.tenders.conftest import make_bidder, submit_bid

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LOCAL = "%Y-%m-%dT%H:%M"


def browser(user) -> Client:
    """A signed-in client reading English pages (made afresh after the clock moves)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def formset(prefix: str, items: list[dict[str, Any]], total: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(items):
        data.update({f"{prefix}-{index}-{key}": value for key, value in item.items()})
    return data


def test_from_draft_to_qualification_review(clock, official, approver, category):
    second_official = make_user("official_two", Role.OFFICIAL)
    bidder = make_bidder("阳光社工服务中心")
    rivals = [make_bidder("夕阳红服务中心"), make_bidder("心语服务中心")]
    now = timezone.now()

    # 1. The official drafts the tender and attaches its document.
    drafter = browser(official)
    response = drafter.post(
        reverse("tenders:create"),
        {
            "title": "解放碑街道独居老人关爱服务项目",
            "description": "为独居老人提供每周探访和应急响应。",
            "category": str(category.pk),
            "method": "competitive_consultation",
            "purchase_nature": "service",
            "budget": "600000",
            "service_start": "2027-01-01",
            "service_end": "2027-12-31",
            "eligibility_notes": "",
            "question_deadline": timezone.localtime(now + timedelta(days=8)).strftime(LOCAL),
            "bid_deadline": timezone.localtime(now + timedelta(days=14)).strftime(LOCAL),
            **formset(
                "criteria",
                [
                    {"code": "price", "name": "价格", "kind": "price", "points": "20"},
                    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "60"},
                    {
                        "code": "team",
                        "name": "持证社工",
                        "kind": "objective",
                        "points": "20",
                        "rule_type": "social_workers",
                    },
                ],
                total=5,
            ),
        },
    )
    assert response.status_code == 302
    tender = Tender.objects.get()
    response = drafter.post(
        reverse("tenders:documents", args=[tender.pk]),
        {"file": SimpleUploadedFile("采购需求.pdf", PDF), "title": "采购需求"},
    )
    assert response.status_code == 302

    # 2. Sent for approval; the approver publishes it.
    assert drafter.post(reverse("tenders:publish", args=[tender.pk])).status_code == 302
    checker = browser(approver)
    response = checker.post(reverse("tenders:publish", args=[tender.pk]), follow=True)
    assert "The tender is published as" in response.content.decode()
    tender.refresh_from_db()
    assert tender.status == TenderStatus.PUBLISHED

    # 3. The public reads it; the bidder asks a question; the official answers it.
    public = Client()
    html = public.get(reverse("tenders:list")).content.decode()
    assert tender.reference in html
    member = browser(bidder.member)
    member.post(
        reverse("tenders:question_ask", args=[tender.pk]),
        {"question-text": "应急响应需要24小时值守吗？"},
    )
    question = Question.objects.get()
    response = drafter.post(
        reverse("tenders:question_answer", args=[question.pk]),
        {f"answer-{question.pk}-answer": "需要，可与社区网格员轮值。"},
    )
    assert response.status_code == 302
    assert "需要，可与社区网格员轮值。" in public.get(tender.get_absolute_url()).content.decode()

    # 4. A member prepares the bid with a document; the admin submits it and keeps the receipt.
    response = member.post(
        reverse("tenders:bid", args=[tender.pk]),
        {
            "price": "483210.55",
            "proposal": "每周探访两次，配备应急呼叫设备。",
            **formset(
                "staff",
                [{"person": str(bidder.staff_ids[0]), "role": "项目主管", "fte": "0.6"}],
                total=3,
            ),
        },
    )
    assert response.status_code == 302
    bid = Bid.objects.get()
    response = member.post(
        reverse("tenders:bid_document_add", args=[bid.pk]),
        {"document-file": SimpleUploadedFile("服务方案.pdf", PDF), "document-kind": "technical"},
    )
    assert response.status_code == 302
    admin = browser(bidder.admin)
    response = admin.post(reverse("tenders:bid_submit", args=[bid.pk]), follow=True)
    receipt = BidReceipt.objects.get()
    html = response.content.decode()
    assert "Bid receipt" in html
    assert receipt.sha256 in html
    assert str(receipt.sequence) in html
    for rival, price in zip(rivals, ["520000", "560000"], strict=True):
        submit_bid(tender, rival, price)

    # Sealed: the street office sees nothing of it (it knows who asked, not who bid).
    html = drafter.get(tender.get_absolute_url()).content.decode()
    assert "483210" not in html
    assert "483,210" not in html
    assert "Opening record" not in html
    response = drafter.get(reverse("tenders:review", args=[tender.pk]))
    assert response.context["sealed"] is True

    # 5. The deadline passes; two officials open the bids.
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    response = browser(official).post(reverse("tenders:open", args=[tender.pk]), follow=True)
    assert "a second, different official" in response.content.decode()
    response = browser(second_official).post(reverse("tenders:open", args=[tender.pk]), follow=True)
    assert "the opening record is public" in response.content.decode()

    # 6. The opening record is public on the tender page.
    html = Client().get(tender.get_absolute_url()).content.decode()
    assert "483210.55" in html
    assert bidder.organization.name in html
    assert receipt.sha256 in html

    # 7. The qualification review.
    reviewer = browser(official)
    html = reviewer.get(reverse("tenders:review", args=[tender.pk])).content.decode()
    assert "483,210.55" in html
    assert "每周探访两次" in html
    assert "服务方案.pdf" in html
    for each in Bid.objects.all():
        response = reviewer.post(
            reverse("tenders:bid_review", args=[each.pk]),
            {f"review-{each.pk}-decision": "qualified"},
        )
        assert response.status_code == 302
    assert set(Bid.objects.values_list("status", flat=True)) == {BidStatus.QUALIFIED}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    for action in [
        AuditAction.TENDER_CREATED,
        AuditAction.TENDER_DOCUMENT_ADDED,
        AuditAction.TENDER_SUBMITTED,
        AuditAction.TENDER_PUBLISHED,
        AuditAction.QUESTION_ASKED,
        AuditAction.QUESTION_ANSWERED,
        AuditAction.BID_PREPARED,
        AuditAction.BID_DOCUMENT_ADDED,
        AuditAction.BID_SUBMITTED,
        AuditAction.TENDER_OPENING_CONFIRMED,
        AuditAction.TENDER_OPENED,
        AuditAction.BID_QUALIFIED,
    ]:
        assert action in actions, action
