"""Public tender pages: the list with its filters, the tender page, documents, following,
questions, amendments, cancellation and the opening record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from marketplace.models import AuditAction, AuditEvent, Role
from tenders import services
from tenders.models import Question, TenderInterest
from tests.conftest import make_user
from tests.tenders.conftest import submit_bid

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def english(client):
    """Pages in English whatever the catalogue holds, so that tests read English text."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def detail_url(tender) -> str:
    return reverse("tenders:detail", args=[tender.pk])


@pytest.fixture
def tender(make_tender):
    return make_tender()


# --- The list -------------------------------------------------------------------------------


def test_the_list_is_public_and_shows_published_tenders_only(client, make_tender):
    published = make_tender(title="社区助餐服务项目")
    make_tender(title="尚在起草的项目", published=False)

    response = english(client).get(reverse("tenders:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "社区助餐服务项目" in html
    assert published.reference in html
    assert "尚在起草的项目" not in html
    assert "500,000.00" in html
    assert "Open tender" in html
    assert "Open for bids" in html
    assert detail_url(published) in html


def test_the_list_filters_by_status_method_budget_and_text(client, make_tender, clock):
    cheap = make_tender(
        title="心理咨询服务",
        budget="80000",
        method="competitive_consultation",
        bid_deadline=timezone.now() + timedelta(days=40),
    )
    dear = make_tender(title="居家养老服务", budget="900000")
    url = reverse("tenders:list")

    def found(**params):
        return [t.pk for t in client.get(url, params).context["page"].object_list]

    assert found(method="competitive_consultation") == [cheap.pk]
    assert found(budget_min="100000") == [dear.pk]
    assert found(budget_max="100000") == [cheap.pk]
    assert found(q="养老") == [dear.pk]
    assert found(q=cheap.reference) == [cheap.pk]
    assert sorted(found(status="published")) == sorted([cheap.pk, dear.pk])
    clock.set(dear.bid_deadline)
    assert found(status="closed") == [dear.pk]


def test_a_bad_filter_is_reported_and_lists_nothing(client, tender):
    response = client.get(reverse("tenders:list"), {"budget_min": "lots"})
    assert response.status_code == 200
    assert "budget_min" in response.context["filter"].form.errors
    assert list(response.context["page"].object_list) == []


def test_htmx_gets_only_the_results(client, tender):
    response = client.get(reverse("tenders:list"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert tender.title in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_the_list_shows_the_time_left(client, tender, clock):
    html = english(client).get(reverse("tenders:list")).content.decode()
    assert "3\xa0weeks" in html
    clock.set(tender.bid_deadline)
    html = english(client).get(reverse("tenders:list")).content.decode()
    assert "Closed, waiting for the opening" in html


def test_the_list_costs_the_same_queries_for_more_tenders(
    client, make_tender, django_assert_max_num_queries
):
    make_tender()
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("tenders:list"))
    for i in range(12):
        make_tender(title=f"服务项目{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("tenders:list"))
    assert len(response.context["page"].object_list) == 13


# --- The tender page ------------------------------------------------------------------------


def test_the_tender_page_shows_every_public_fact(client, make_tender, category):
    from tenders.selectors import community_list

    communities = list(community_list()[:2])
    tender = make_tender(eligibility_notes="须具备居家养老服务经验。", communities=communities)

    response = english(client).get(detail_url(tender))

    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        tender.title,
        tender.description,
        tender.reference,
        "须具备居家养老服务经验。",
        "500,000.00 yuan",
        "2027-01-01",
        "2027-12-31",
        communities[0].name,
        timezone.localtime(tender.bid_deadline).strftime("%Y-%m-%d %H:%M"),
        timezone.localtime(tender.question_deadline).strftime("%Y-%m-%d %H:%M"),
        tender.documents_until.isoformat(),
        timezone.localtime(tender.published_at).strftime("%Y-%m-%d %H:%M"),
        "A public service delivered by the supplier",
        "服务方案",
        "Scoring criteria",
    ]:
        assert text in html, text
    # No sign of bids: the page says nothing about them before the opening.
    assert "Opening record" not in html


def test_drafts_are_not_public(client, make_tender, outsider, client_for):
    draft = make_tender(published=False)
    assert client.get(detail_url(draft)).status_code == 404
    assert client_for(outsider).get(detail_url(draft)).status_code == 404


def test_officials_read_each_others_drafts_without_editing(make_tender, client_for, approver):
    draft = make_tender(published=False)
    response = english(client_for(approver)).get(detail_url(draft))
    assert response.status_code == 200
    html = response.content.decode()
    assert draft.title in html
    assert reverse("tenders:edit", args=[draft.pk]) not in html
    assert "only the drafter changes it" in html
    assert client_for(approver).get(reverse("tenders:edit", args=[draft.pk])).status_code == 403


def test_tender_documents_download_as_attachments(client, make_tender, official, approver):
    draft = make_tender(published=False)
    document = services.tender_document_add(
        tender=draft,
        actor=official,
        upload=SimpleUploadedFile("招标文件.pdf", PDF),
        title="招标文件",
    )
    url = reverse("tenders:document", args=[document.pk])
    # Not public before publication.
    assert client.get(url).status_code == 404
    services.tender_publish(tender=draft, actor=official)
    services.tender_publish(tender=draft, actor=approver)

    assert url in client.get(detail_url(draft)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6.pdf" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_cancelled_tender_shows_its_public_reason(client, tender, official):
    services.tender_cancel(tender=tender, actor=official, reason="预算调整，项目取消。")
    html = english(client).get(detail_url(tender)).content.decode()
    assert "Cancelled" in html
    assert "预算调整，项目取消。" in html


def test_amendments_say_what_changed_and_whether_the_deadline_moved(
    client, clock, tender, official
):
    clock.advance(days=15)
    services.tender_amend(
        tender=tender,
        actor=official,
        summary="预算调整为48万元。",
        changes={"budget": "480000.00"},
    )
    html = english(client).get(detail_url(tender)).content.decode()
    assert "Amendment 1" in html
    assert "预算调整为48万元。" in html
    assert "500000.00" in html
    assert "480000.00" in html
    assert "It affects bid preparation" in html
    assert "The deadline moved from" in html


# --- Following ------------------------------------------------------------------------------


def test_a_signed_in_user_follows_a_tender(client_for, tender, outsider):
    client = client_for(outsider)
    response = client.post(reverse("tenders:follow", args=[tender.pk]))
    assert response.status_code == 302
    assert TenderInterest.objects.filter(tender=tender, user=outsider).exists()
    assert AuditEvent.objects.filter(action=AuditAction.TENDER_FOLLOWED, actor=outsider).exists()
    assert "You follow this tender" in english(client).get(detail_url(tender)).content.decode()


def test_following_needs_a_sign_in_and_a_post(client, client_for, tender, outsider):
    url = reverse("tenders:follow", args=[tender.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client_for(outsider).get(url).status_code == 405
    assert not TenderInterest.objects.exists()


def test_the_public_is_invited_to_sign_in(client, tender):
    html = english(client).get(detail_url(tender)).content.decode()
    assert "Sign in</a> to follow this tender" in html


# --- Questions --------------------------------------------------------------------------------


def test_an_organization_asks_a_question(client_for, tender, org_member):
    client = client_for(org_member)
    response = client.post(
        reverse("tenders:question_ask", args=[tender.pk]),
        {"question-text": "服务对象有多少人？"},
    )
    assert response.status_code == 302
    question = Question.objects.get()
    assert question.organization == org_member.organization
    assert AuditEvent.objects.filter(action=AuditAction.QUESTION_ASKED).count() == 1
    # The asker sees its unanswered question; nobody else outside the office does.
    assert "服务对象有多少人？" in client.get(detail_url(tender)).content.decode()


def test_an_empty_question_is_refused_on_its_field(client_for, tender, org_admin):
    response = client_for(org_admin).post(
        reverse("tenders:question_ask", args=[tender.pk]), {"question-text": "  "}
    )
    assert response.status_code == 200
    assert "text" in response.context["question_form"].errors
    assert not Question.objects.exists()


def test_questions_close_at_their_deadline(client_for, clock, tender, org_admin):
    clock.set(tender.question_deadline)
    client = english(client_for(org_admin))
    assert "Ask a question" not in client.get(detail_url(tender)).content.decode()
    response = client.post(
        reverse("tenders:question_ask", args=[tender.pk]), {"question-text": "还能提问吗？"}
    )
    assert response.status_code == 200
    assert "Questions closed on" in response.content.decode()
    assert not Question.objects.exists()


@pytest.mark.parametrize("persona", ["official", "assessor", "auditor"])
def test_only_organizations_ask(request, client_for, tender, persona):
    client = client_for(request.getfixturevalue(persona))
    response = client.post(
        reverse("tenders:question_ask", args=[tender.pk]), {"question-text": "问题"}
    )
    assert response.status_code == 403
    assert not Question.objects.exists()


def test_answers_are_public_and_the_asker_is_not(client, client_for, tender, org_admin, official):
    question = services.question_ask(tender=tender, actor=org_admin, text="是否需要持证社工？")
    html = client.get(detail_url(tender)).content.decode()
    assert "是否需要持证社工？" not in html  # unanswered: not public yet

    services.question_answer(question=question, actor=official, answer="至少两名持证社工。")
    html = client.get(detail_url(tender)).content.decode()
    assert "是否需要持证社工？" in html
    assert "至少两名持证社工。" in html
    assert org_admin.organization.name not in html
    # The street office knows who asked.
    assert (
        org_admin.organization.name in client_for(official).get(detail_url(tender)).content.decode()
    )


# --- The opening record -----------------------------------------------------------------------


def test_the_opening_record_is_public_once_opened(client, clock, tender, bidders, official):
    prices = ["483210.55", "455000.00", "499000.00"]
    receipts = [submit_bid(tender, b, p)[1] for b, p in zip(bidders, prices, strict=True)]
    second = make_user("official_two", Role.OFFICIAL)
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second)

    html = english(client).get(detail_url(tender)).content.decode()

    assert "Opening record" in html
    for bidder in bidders:
        assert bidder.organization.name in html
    assert "483,210.55" in html
    for receipt in receipts:
        assert receipt.sha256 in html
    assert official.get_full_name() in html
    assert second.get_full_name() in html


def test_a_public_page_has_no_inline_script_or_style(client, tender):
    html = client.get(detail_url(tender)).content.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assert "tenders/css/tenders.css" in html


def test_the_deadline_is_shown_in_beijing_time(client, make_tender):
    deadline = timezone.now().replace(hour=2, minute=30, second=0, microsecond=0) + timedelta(
        days=30
    )
    tender = make_tender(bid_deadline=deadline)
    html = client.get(detail_url(tender)).content.decode()
    assert timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") in html
    assert timezone.localtime(deadline).strftime("%H:%M") == "10:30"
