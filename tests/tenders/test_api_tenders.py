"""API v1 tenders: drafting, the directory and its filters, four-eyes publication, return,
amendments, cancellation, documents, following, and query counts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry.models import ServiceCategory
from tenders import services
from tenders.models import Amendment, Tender, TenderCriterion, TenderDocument, TenderStatus
from tests.conftest import PASSWORD, make_user
from tests.tenders.conftest import CRITERIA, submit_bid, tender_data

ERROR_KEYS = {"error", "detail", "fields"}
# The API answers in the language the caller asks for (Chinese by default).
ENGLISH = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={**ENGLISH, "Authorization": f"Token {response.json()['token']}"})


@pytest.fixture
def client() -> Client:
    """An anonymous caller reading the API in English."""
    return Client(headers=ENGLISH)


@pytest.fixture
def client_for(db):
    """A caller signed in with a session, reading the API in English."""

    def build(user: User) -> Client:
        signed_in = Client(headers=ENGLISH)
        signed_in.force_login(user)
        return signed_in

    return build


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client: Client, url: str, data: dict):
    return client.patch(url, data, content_type="application/json")


def tender_url(tender: Tender | int | None = None, action: str = "") -> str:
    if tender is None:
        return "/api/v1/tenders/"
    pk = tender if isinstance(tender, int) else tender.pk
    return f"/api/v1/tenders/{pk}/" + (f"{action}/" if action else "")


def payload(**overrides) -> dict:
    now = timezone.now()
    data = {
        "title": "解放碑街道居家养老服务项目",
        "description": "为辖区高龄、独居老人提供上门助餐、助洁和探访服务。",
        "category": "elderly_care",
        "method": "public_tender",
        "budget": "500000.00",
        "bid_deadline": (now + timedelta(days=25)).isoformat(),
        "question_deadline": (now + timedelta(days=12)).isoformat(),
        "criteria": CRITERIA,
    }
    data.update(overrides)
    return data


def events(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


@pytest.fixture
def second_official(db) -> User:
    return make_user("official_two", Role.OFFICIAL)


@pytest.fixture
def draft(make_tender) -> Tender:
    return make_tender(published=False)


@pytest.fixture
def tender(make_tender) -> Tender:
    return make_tender()


# --- Drafting (CONTRACTS section 3) ------------------------------------------------------------


def test_an_official_drafts_a_tender_and_gets_the_contract_shape(official):
    response = post(token_client(official), tender_url(), payload())
    assert response.status_code == 201, response.content
    body = response.json()
    tender = Tender.objects.get()
    assert body["id"] == tender.pk
    assert body["status"] == "draft"
    assert (body["title"], body["category"], body["method"], body["budget"]) == (
        "解放碑街道居家养老服务项目",
        "elderly_care",
        "public_tender",
        "500000.00",
    )
    assert body["purchase_nature"] == "service"
    assert [(c["code"], c["kind"], c["points"]) for c in body["criteria"]] == [
        ("price", "price", "30.00"),
        ("plan", "subjective", "50.00"),
        ("grade", "objective", "20.00"),
    ]
    assert body["documents"] == []
    assert body["amendments"] == []
    assert body["answered_questions"] == 0
    assert body["opening"] is None
    assert body["display_status"] == "Draft"
    [event] = events(AuditAction.TENDER_CREATED)
    assert (event.object_id, event.actor_id) == (str(tender.pk), official.pk)


def test_optional_facts_are_stored(client_for, official):
    response = post(
        client_for(official),
        tender_url(),
        payload(
            purchase_nature="service",
            service_start="2027-01-01",
            service_end="2027-12-31",
            communities=["minzu_road", "jiaochangkou"],
            eligibility_notes="须具备养老服务经验。",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["service_start"], body["service_end"]) == ("2027-01-01", "2027-12-31")
    assert sorted(body["communities"]) == ["jiaochangkou", "minzu_road"]
    assert body["eligibility_notes"] == "须具备养老服务经验。"
    tender = Tender.objects.get()
    assert sorted(tender.communities.values_list("code", flat=True)) == [
        "jiaochangkou",
        "minzu_road",
    ]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "30"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "60"},
            ],
            "add up to 90",
        ),
        (
            [
                {"code": "price", "name": "价格", "kind": "price", "points": "5"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "95"},
            ],
            "Price points are 5",
        ),
        ([{"code": "price", "name": "价格", "kind": "price", "points": "thirty"}], "a number"),
        ([], "The scheme needs criteria"),
    ],
)
def test_a_bad_scheme_is_a_400_under_criteria_and_saves_nothing(
    client_for, official, criteria, expected
):
    response = post(client_for(official), tender_url(), payload(criteria=criteria))
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["error"] == "invalid"
    assert list(body["fields"]) == ["criteria"]
    assert any(expected in message for message in body["fields"]["criteria"])
    assert (Tender.objects.count(), TenderCriterion.objects.count()) == (0, 0)
    assert events(AuditAction.TENDER_CREATED) == []


@pytest.mark.parametrize(
    "nature",
    ["staff_hiring", "labour_dispatch", "public_welfare_posts", "financing", "goods_or_works"],
)
def test_the_negative_list_is_a_400_under_purchase_nature(client_for, official, nature):
    response = post(client_for(official), tender_url(), payload(purchase_nature=nature))
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert list(fields) == ["purchase_nature"]
    assert "Order No. 102, Art. 10" in fields["purchase_nature"][0]
    assert Tender.objects.count() == 0


def test_missing_and_malformed_fields_are_named(client_for, official):
    response = post(client_for(official), tender_url(), {})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "title",
        "description",
        "category",
        "method",
        "budget",
        "bid_deadline",
        "question_deadline",
        "criteria",
    }
    response = post(
        client_for(official),
        tender_url(),
        payload(category="no_such_category", method="auction", budget="lots"),
    )
    assert set(response.json()["fields"]) == {"category", "method", "budget"}
    assert Tender.objects.count() == 0


def test_rules_of_the_model_land_on_their_fields(client_for, official):
    now = timezone.now()
    response = post(
        client_for(official),
        tender_url(),
        payload(
            budget="0",
            question_deadline=(now + timedelta(days=30)).isoformat(),
            bid_deadline=(now + timedelta(days=25)).isoformat(),
        ),
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"budget", "question_deadline"}
    assert Tender.objects.count() == 0


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "registry_admin", "auditor"])
def test_only_officials_draft_tenders(request, client_for, persona):
    response = post(client_for(request.getfixturevalue(persona)), tender_url(), payload())
    assert response.status_code == 403
    assert set(response.json()) == ERROR_KEYS
    assert Tender.objects.count() == 0


def test_anonymous_callers_cannot_draft(client, db):
    assert post(client, tender_url(), payload()).status_code == 401


def test_tenders_are_not_replaced_or_deleted(client_for, official, draft):
    client = client_for(official)
    assert (
        client.put(tender_url(draft), payload(), content_type="application/json").status_code == 405
    )
    assert client.delete(tender_url(draft)).status_code == 405
    assert client.get(tender_url(draft, "publish")).status_code == 405
    assert Tender.objects.filter(pk=draft.pk).exists()


# --- The directory -----------------------------------------------------------------------------


def test_the_public_lists_published_tenders_only(client, make_tender, draft):
    published = make_tender(title="社区矫正帮教服务")
    response = client.get(tender_url())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [published.pk]
    assert body["results"][0]["reference"].startswith("JFB-")
    assert client.get(tender_url(draft)).status_code == 404


def test_the_office_and_auditors_also_list_drafts(client_for, official, auditor, draft, tender):
    for user in (official, auditor):
        ids = {row["id"] for row in client_for(user).get(tender_url()).json()["results"]}
        assert ids == {draft.pk, tender.pk}


def test_the_directory_filters(client, clock, make_tender, official, approver):
    now = timezone.now()
    care = make_tender(title="居家养老助餐服务", budget=Decimal("300000"))
    youth = services.tender_create(
        actor=official,
        **tender_data(
            ServiceCategory.objects.get(code="child_youth"),
            now,
            title="青少年四点半课堂",
            method="competitive_consultation",
            budget=Decimal("120000"),
            bid_deadline=now + timedelta(days=40),
            criteria=[
                {"code": "price", "name": "价格", "kind": "price", "points": "20"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "80"},
            ],
        ),
    )
    services.tender_publish(tender=youth, actor=official)
    youth = services.tender_publish(tender=youth, actor=approver)

    def ids(**query) -> set[int]:
        response = client.get(tender_url(), query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(category="child_youth") == {youth.pk}
    assert ids(method="public_tender") == {care.pk}
    assert ids(budget_min="200000") == {care.pk}
    assert ids(budget_max="200000") == {youth.pk}
    assert ids(q="助餐服务") == {care.pk}
    assert ids(q="四点半") == {youth.pk}
    assert ids(q=youth.reference) == {youth.pk}
    # (The clock fixture makes timezone.localdate() ignore its argument.)
    later = timezone.localtime(now + timedelta(days=30)).date().isoformat()
    assert ids(deadline_from=later) == {youth.pk}
    assert ids(deadline_to=later) == {care.pk}
    assert ids(status="published") == {care.pk, youth.pk}
    clock.set(care.bid_deadline)
    # Past its deadline a published tender is closed for bidders.
    assert ids(status="closed") == {care.pk}
    assert ids(status="published") == {youth.pk}


def test_a_bad_filter_is_a_400_naming_it(client, db):
    response = client.get(tender_url(), {"status": "sideways", "budget_min": "lots"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "budget_min"}


def test_the_directory_costs_the_same_queries_for_3_or_15_tenders(client, make_tender):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(tender_url()).status_code == 200
        return len(captured)

    for _n in range(3):
        make_tender().communities.set([])
    few = queries()
    for _n in range(12):
        make_tender()
    assert queries() == few
    assert client.get(tender_url()).json()["count"] == 15


def test_the_detail_costs_the_same_queries_with_more_documents_and_amendments(
    client, official, tender
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(tender_url(tender)).status_code == 200
        return len(captured)

    services.tender_amend(
        tender=tender,
        actor=official,
        summary="补充说明",
        uploads=[(SimpleUploadedFile("补充.pdf", PDF), "")],
    )
    few = queries()
    for n in range(4):
        services.tender_amend(
            tender=tender,
            actor=official,
            summary=f"补充说明{n}",
            uploads=[(SimpleUploadedFile(f"补充{n}.pdf", PDF + bytes([n])), "")],
        )
    assert queries() == few


# --- Changing a draft --------------------------------------------------------------------------


def test_the_drafter_changes_a_draft(client_for, official, draft):
    response = patch(
        client_for(official),
        tender_url(draft),
        {
            "title": "居家养老服务（调整）",
            "budget": "450000",
            "communities": ["xiaoshizi"],
            "criteria": [
                {"code": "price", "name": "价格", "kind": "price", "points": "40"},
                {"code": "plan", "name": "方案", "kind": "subjective", "points": "60"},
            ],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["budget"], body["communities"]) == (
        "居家养老服务（调整）",
        "450000.00",
        ["xiaoshizi"],
    )
    assert [c["code"] for c in body["criteria"]] == ["price", "plan"]
    [event] = events(AuditAction.TENDER_UPDATED)
    assert event.details["changed"] == ["budget", "title", "criteria"]


def test_a_bad_change_is_a_400_and_changes_nothing(client_for, official, draft):
    client = client_for(official)
    response = patch(
        client,
        tender_url(draft),
        {"title": "新标题", "criteria": [{"code": "price", "kind": "price", "points": "100"}]},
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["criteria"]
    response = patch(client, tender_url(draft), {"status": "published", "reference": "X"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "reference"}
    draft.refresh_from_db()
    assert draft.title == "解放碑街道居家养老服务项目"
    assert draft.status == TenderStatus.DRAFT
    assert draft.criteria.count() == 3
    assert events(AuditAction.TENDER_UPDATED) == []


def test_only_the_drafter_changes_a_draft(client_for, second_official, approver, org_admin, draft):
    for user in (second_official, approver):
        assert patch(client_for(user), tender_url(draft), {"title": "x"}).status_code == 403
    # A draft is the street office's: to an organization it does not exist.
    assert patch(client_for(org_admin), tender_url(draft), {"title": "x"}).status_code == 404
    draft.refresh_from_db()
    assert draft.title != "x"


def test_a_published_tender_changes_only_by_amendment(client_for, official, tender):
    assert patch(client_for(official), tender_url(tender), {"title": "x"}).status_code == 403


# --- Four-eyes publication ---------------------------------------------------------------------


def test_the_drafter_sends_for_approval_and_an_approver_publishes(
    official, approver, second_official, org_admin, draft
):
    drafter = token_client(official)
    response = post(drafter, tender_url(draft, "publish"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending_approval"

    # The drafter cannot approve their own tender; a plain official cannot approve at all.
    response = post(drafter, tender_url(draft, "publish"))
    assert response.status_code == 400
    assert "different person" in response.json()["detail"]
    assert post(token_client(second_official), tender_url(draft, "publish")).status_code == 403
    assert post(token_client(org_admin), tender_url(draft, "publish")).status_code == 404

    response = post(token_client(approver), tender_url(draft, "publish"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "published"
    assert body["reference"].startswith(f"JFB-{timezone.localdate().year}-")
    assert body["published_at"] is not None
    submitted, published = (
        events(AuditAction.TENDER_SUBMITTED)[0],
        events(AuditAction.TENDER_PUBLISHED)[0],
    )
    assert (submitted.actor_id, submitted.state_after) == (official.pk, "pending_approval")
    assert (published.actor_id, published.state_after) == (approver.pk, "published")
    # Published: an organization now reads it; publishing again is refused.
    assert Client(headers=ENGLISH).get(tender_url(draft)).status_code == 200
    assert post(token_client(approver), tender_url(draft, "publish")).status_code == 403


def test_a_deadline_too_close_is_refused_at_publication(client_for, official, make_tender):
    now = timezone.now()
    draft = make_tender(
        published=False,
        bid_deadline=now + timedelta(days=19),
        question_deadline=now + timedelta(days=5),
    )
    response = post(client_for(official), tender_url(draft, "publish"))
    assert response.status_code == 400
    assert "at least 20 days" in response.json()["fields"]["bid_deadline"][0]
    draft.refresh_from_db()
    assert draft.status == TenderStatus.DRAFT


def test_the_approver_returns_a_tender_with_a_note(
    client_for, official, approver, org_admin, draft
):
    services.tender_publish(tender=draft, actor=official)
    url = tender_url(draft, "return")
    response = post(client_for(approver), url, {})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["note"]
    assert post(client_for(org_admin), url, {"note": "x"}).status_code == 404

    response = post(client_for(approver), url, {"note": "预算依据不足"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["return_note"]) == ("draft", "预算依据不足")
    [event] = events(AuditAction.TENDER_RETURNED)
    assert event.details["note"] == "预算依据不足"
    # Back in draft: nothing to return.
    assert post(client_for(approver), url, {"note": "again"}).status_code == 403


# --- Amendments --------------------------------------------------------------------------------


def test_an_amendment_that_affects_preparation_moves_the_deadline(
    clock, client_for, official, tender
):
    clock.advance(days=15)  # ten days remain
    response = post(
        client_for(official),
        tender_url(tender, "amend"),
        {"summary": "预算调整", "changes": {"budget": "550000"}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1
    assert body["affects_preparation"] is True
    assert body["deadline_moved"] is True
    assert body["changes"]["budget"] == {"before": "500000.00", "after": "550000.00"}
    tender.refresh_from_db()
    assert tender.budget == Decimal("550000.00")
    assert tender.bid_deadline >= timezone.now() + timedelta(days=15)
    [event] = events(AuditAction.TENDER_AMENDED)
    assert event.details["amendment"] == 1
    detail = Client(headers=ENGLISH).get(tender_url(tender)).json()
    assert [a["summary"] for a in detail["amendments"]] == ["预算调整"]


def test_an_amendment_with_documents_as_multipart(client_for, official, tender):
    response = client_for(official).post(
        tender_url(tender, "amend"),
        {
            "summary": "补充服务对象名单说明",
            "changes": json.dumps({"eligibility_notes": "须提供近三年服务业绩。"}),
            "documents": [SimpleUploadedFile("服务对象说明.pdf", PDF)],
        },
    )
    assert response.status_code == 201, response.content
    [document] = response.json()["documents"]
    assert (document["name"], document["content_type"]) == ("服务对象说明.pdf", "application/pdf")
    assert TenderDocument.objects.get().amendment == Amendment.objects.get()
    tender.refresh_from_db()
    assert tender.eligibility_notes == "须提供近三年服务业绩。"


def test_bad_amendments_are_400s_that_change_nothing(client_for, official, tender):
    client = client_for(official)
    url = tender_url(tender, "amend")
    response = post(client, url, {"summary": "改标题", "changes": {"title": "新标题"}})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "changes": {"title": ["An amendment cannot change this field."]}
    }
    response = post(client, url, {"summary": "", "changes": {"budget": "1"}})
    assert list(response.json()["fields"]) == ["summary"]
    response = post(client, url, {"summary": "没有改动"})
    assert response.status_code == 400
    assert "changes nothing" in response.json()["detail"]
    response = post(
        client,
        url,
        {"summary": "新方案", "criteria": [{"code": "price", "kind": "price", "points": "10"}]},
    )
    assert list(response.json()["fields"]) == ["criteria"]
    response = client.post(url, {"summary": "坏的", "changes": "{not json"})
    assert response.json()["fields"] == {"changes": ["Not valid JSON."]}
    assert Amendment.objects.count() == 0
    tender.refresh_from_db()
    assert tender.title == "解放碑街道居家养老服务项目"


@pytest.mark.parametrize(("persona", "status"), [("org_admin", 403), ("auditor", 403)])
def test_only_officials_amend(request, client_for, tender, persona, status):
    response = post(
        client_for(request.getfixturevalue(persona)),
        tender_url(tender, "amend"),
        {"summary": "x", "changes": {"budget": "1000"}},
    )
    assert response.status_code == status
    assert Amendment.objects.count() == 0


def test_a_draft_is_not_amended(client_for, official, draft):
    response = post(
        client_for(official), tender_url(draft, "amend"), {"summary": "x", "changes": {}}
    )
    assert response.status_code == 403


# --- Cancellation ------------------------------------------------------------------------------


def test_an_official_cancels_with_a_public_reason(client_for, official, org_admin, tender):
    url = tender_url(tender, "cancel")
    assert post(client_for(org_admin), url, {"reason": "x"}).status_code == 403
    response = post(client_for(official), url, {"reason": ""})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    response = post(client_for(official), url, {"reason": "需求变更，重新立项"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "需求变更，重新立项")
    [event] = events(AuditAction.TENDER_CANCELLED)
    assert event.state_before == "published"
    # Cancelled for good.
    assert post(client_for(official), url, {"reason": "again"}).status_code == 403


def test_a_draft_of_the_office_is_not_found_by_organizations(client_for, org_admin, draft):
    response = post(client_for(org_admin), tender_url(draft, "cancel"), {"reason": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- Documents ---------------------------------------------------------------------------------


def documents_url(tender: Tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/documents/"


def test_the_drafter_attaches_documents_that_everyone_downloads_once_published(
    client_for, official, approver, draft
):
    response = client_for(official).post(
        documents_url(draft),
        {"file": SimpleUploadedFile("招标文件.pdf", PDF), "title": "招标文件"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    document = TenderDocument.objects.get()
    assert body["id"] == document.pk
    assert (body["title"], body["name"], body["content_type"], body["size"]) == (
        "招标文件",
        "招标文件.pdf",
        "application/pdf",
        len(PDF),
    )
    assert len(body["sha256"]) == 64
    [event] = events(AuditAction.TENDER_DOCUMENT_ADDED)
    assert event.details["sha256"] == body["sha256"]
    assert Client(headers=ENGLISH).get(body["download"]).status_code == 404  # still a draft

    services.tender_publish(tender=draft, actor=official)
    services.tender_publish(tender=draft, actor=approver)
    listed = Client(headers=ENGLISH).get(documents_url(draft)).json()
    assert [row["id"] for row in listed["results"]] == [document.pk]
    download = Client(headers=ENGLISH).get(f"/api/v1/tender-documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF


def test_a_file_that_is_not_a_document_by_content_is_a_400(client_for, official, draft):
    response = client_for(official).post(
        documents_url(draft), {"file": SimpleUploadedFile("合同.pdf", b"MZ\x90\x00\x03\x00\x00")}
    )
    assert response.status_code == 400
    assert "by its content it is a program" in response.json()["fields"]["file"][0]
    response = client_for(official).post(documents_url(draft), {})
    assert list(response.json()["fields"]) == ["file"]
    assert TenderDocument.objects.count() == 0
    assert events(AuditAction.TENDER_DOCUMENT_ADDED) == []


def test_only_the_drafter_attaches_and_removes_documents(
    client_for, official, second_official, org_admin, draft
):
    upload = {"file": SimpleUploadedFile("a.pdf", PDF)}
    assert client_for(second_official).post(documents_url(draft), upload).status_code == 403
    upload = {"file": SimpleUploadedFile("a.pdf", PDF)}
    assert client_for(org_admin).post(documents_url(draft), upload).status_code == 404
    document = services.tender_document_add(
        tender=draft, actor=official, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    url = f"/api/v1/tender-documents/{document.pk}/"
    assert client_for(second_official).delete(url).status_code == 403
    assert client_for(org_admin).delete(url).status_code == 404
    assert client_for(official).get(url).status_code == 405
    assert client_for(official).delete(url).status_code == 204
    assert TenderDocument.objects.count() == 0
    [event] = events(AuditAction.TENDER_DOCUMENT_REMOVED)
    assert event.details["sha256"] == document.sha256


# --- Following, the opening record -------------------------------------------------------------


def test_an_organization_follows_a_tender(client_for, client, org_admin, tender):
    url = tender_url(tender, "follow")
    assert post(client, url).status_code == 401
    response = post(client_for(org_admin), url)
    assert response.status_code == 200
    assert response.json() == {"following": True}
    # Following twice is following.
    assert post(client_for(org_admin), url).status_code == 200
    assert len(events(AuditAction.TENDER_FOLLOWED)) == 1
    assert client_for(org_admin).get(url).status_code == 405


def test_the_opening_record_is_not_found_before_the_opening(client, client_for, official, tender):
    assert client.get(tender_url(tender, "opening-record")).status_code == 404
    assert client_for(official).get(tender_url(tender, "opening-record")).status_code == 404


def test_the_opening_record_is_public_after_the_opening(
    clock, client, official, second_official, tender, bidders
):
    for bidder, price in zip(bidders, ["480000", "455000.50", "499000"], strict=True):
        submit_bid(tender, bidder, price)
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second_official)
    record = client.get(tender_url(tender, "opening-record")).json()
    assert [row["price"] for row in record["rows"]] == ["455000.50", "480000.00", "499000.00"]
    assert {row["uscc"] for row in record["rows"]} == {b.organization.uscc for b in bidders}
    assert all(row["received_at"].endswith("Z") for row in record["rows"])
    assert record["officials"] == [official.get_full_name(), second_official.get_full_name()]
    detail = client.get(tender_url(tender)).json()
    assert detail["status"] == "opened"
    assert detail["opening"] == record


def test_the_service_period_is_checked(client_for, official):
    response = post(
        client_for(official),
        tender_url(),
        payload(service_start=date(2027, 1, 1).isoformat(), service_end="2026-01-01"),
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["service_end"]


# --- Methods and visibility of every action ------------------------------------------------------

ACTIONS = ["publish", "return", "amend", "cancel", "open", "follow"]


@pytest.mark.parametrize("action", ACTIONS)
def test_tender_actions_are_post_only(client_for, official, tender, action):
    client = client_for(official)
    assert client.get(tender_url(tender, action)).status_code == 405
    assert client.delete(tender_url(tender, action)).status_code == 405
    assert client.put(tender_url(tender, action), {}).status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_tender_actions_on_a_draft_are_not_found_by_organizations(
    client_for, org_admin, draft, action
):
    response = post(
        client_for(org_admin),
        tender_url(draft, action),
        {"note": "x", "reason": "x", "summary": "x", "changes": {"budget": "1"}},
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    draft.refresh_from_db()
    assert draft.status == TenderStatus.DRAFT
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {a for a in actions if a.startswith("tender.")} == {AuditAction.TENDER_CREATED}


def test_collections_refuse_the_methods_they_do_not_have(client_for, official, tender):
    client = client_for(official)
    assert client.delete(tender_url()).status_code == 405
    assert client.put(tender_url(), {}).status_code == 405
    for collection in ("documents", "questions", "bids"):
        assert client.delete(f"/api/v1/tenders/{tender.pk}/{collection}/").status_code == 405
        assert client.put(f"/api/v1/tenders/{tender.pk}/{collection}/", {}).status_code == 405


def test_a_draft_is_not_followed(client_for, official, draft):
    # The office reads its drafts but follows only what the public can see.
    assert post(client_for(official), tender_url(draft, "follow")).status_code == 403
    assert events(AuditAction.TENDER_FOLLOWED) == []


def test_the_opening_is_not_found_by_organizations_on_a_draft_and_refused_to_them_later(
    clock, client_for, org_admin, tender
):
    clock.set(tender.bid_deadline)
    assert post(client_for(org_admin), tender_url(tender, "open")).status_code == 403
    tender.refresh_from_db()
    assert tender.opened_at is None
