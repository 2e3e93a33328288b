"""API v1 questions (澄清): asked by organizations, answered in public, askers hidden."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import AuditAction, AuditEvent, User
from tenders import services
from tenders.models import Question, Tender
from tests.conftest import PASSWORD
from tests.tenders.conftest import make_bidder

ERROR_KEYS = {"error", "detail", "fields"}
ENGLISH = {"Accept-Language": "en"}
ASKER_FIELDS = {"organization", "organization_name", "asked_by"}


def token_client(user: User) -> Client:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    return Client(headers={**ENGLISH, "Authorization": f"Token {response.json()['token']}"})


@pytest.fixture
def client() -> Client:
    return Client(headers=ENGLISH)


@pytest.fixture
def client_for(db):
    def build(user: User) -> Client:
        signed_in = Client(headers=ENGLISH)
        signed_in.force_login(user)
        return signed_in

    return build


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def questions_url(tender: Tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/questions/"


def answer_url(question: Question | int) -> str:
    pk = question if isinstance(question, int) else question.pk
    return f"/api/v1/questions/{pk}/answer/"


@pytest.fixture
def tender(make_tender) -> Tender:
    return make_tender()


@pytest.fixture
def asker(db):
    return make_bidder("提问机构")


@pytest.fixture
def question(tender, asker) -> Question:
    return services.question_ask(tender=tender, actor=asker.member, text="服务对象人数是多少？")


def test_an_organization_member_asks_and_gets_the_contract_shape(tender, asker):
    response = post(
        token_client(asker.member), questions_url(tender), {"text": "服务时段如何安排？"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    question = Question.objects.get()
    assert (body["id"], body["text"], body["status"]) == (question.pk, "服务时段如何安排？", "open")
    assert body["answer"] == ""
    # Not even the asker's own answer names the asker: askers are the office's business.
    assert not ASKER_FIELDS & set(body)
    event = AuditEvent.objects.get(action=AuditAction.QUESTION_ASKED)
    assert (event.object_id, event.actor_id) == (str(question.pk), asker.member.pk)


def test_an_empty_question_is_a_400_and_saves_nothing(client_for, tender, asker):
    response = post(client_for(asker.member), questions_url(tender), {"text": "  "})
    assert response.status_code == 400
    assert set(response.json()) == ERROR_KEYS
    assert list(response.json()["fields"]) == ["text"]
    response = post(client_for(asker.member), questions_url(tender), {})
    assert list(response.json()["fields"]) == ["text"]
    assert Question.objects.count() == 0


def test_questions_close_at_the_question_deadline(clock, client_for, tender, asker):
    clock.set(tender.question_deadline)
    response = post(client_for(asker.member), questions_url(tender), {"text": "还能提问吗？"})
    assert response.status_code == 400
    assert "Questions closed" in response.json()["detail"]
    assert Question.objects.count() == 0


@pytest.mark.parametrize("persona", ["official", "assessor", "registry_admin", "auditor"])
def test_only_organizations_ask(request, client_for, tender, persona):
    user = request.getfixturevalue(persona)
    assert post(client_for(user), questions_url(tender), {"text": "?"}).status_code == 403
    assert Question.objects.count() == 0


def test_anonymous_callers_cannot_ask(client, tender):
    assert post(client, questions_url(tender), {"text": "?"}).status_code == 401


def test_questions_on_a_draft_are_not_found(client_for, make_tender, asker):
    draft = make_tender(published=False)
    assert post(client_for(asker.admin), questions_url(draft), {"text": "?"}).status_code == 404
    assert client_for(asker.admin).get(questions_url(draft)).status_code == 404


def test_an_official_answers_and_everyone_reads_it_without_the_asker(
    client, client_for, official, auditor, tender, asker, question
):
    other = make_bidder("另一家机构")
    # Unanswered: the asker's organization and the street office see it; nobody else.
    assert [
        q["id"] for q in client_for(asker.admin).get(questions_url(tender)).json()["results"]
    ] == [question.pk]
    assert client_for(other.admin).get(questions_url(tender)).json()["count"] == 0
    assert client.get(questions_url(tender)).json()["count"] == 0
    [seen] = client_for(official).get(questions_url(tender)).json()["results"]
    assert (seen["organization"], seen["organization_name"], seen["asked_by"]) == (
        asker.organization.pk,
        asker.organization.name,
        asker.member.pk,
    )

    response = post(token_client(official), answer_url(question), {"answer": "约200名高龄老人。"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["text"], body["answer"], body["status"]) == (
        question.pk,
        "服务对象人数是多少？",
        "约200名高龄老人。",
        "answered",
    )
    event = AuditEvent.objects.get(action=AuditAction.QUESTION_ANSWERED)
    assert (event.object_id, event.actor_id) == (str(question.pk), official.pk)

    for reader in (client, client_for(other.admin), client_for(asker.admin)):
        [row] = reader.get(questions_url(tender)).json()["results"]
        assert row["answer"] == "约200名高龄老人。"
        assert not ASKER_FIELDS & set(row)
        assert asker.organization.name not in str(row)
        detail = reader.get(f"/api/v1/questions/{question.pk}/").json()
        assert not ASKER_FIELDS & set(detail)
    [row] = client_for(auditor).get(questions_url(tender)).json()["results"]
    assert row["organization_name"] == asker.organization.name
    assert client.get(f"/api/v1/tenders/{tender.pk}/").json()["answered_questions"] == 1


def test_an_empty_answer_is_a_400_and_changes_nothing(client_for, official, question):
    response = post(client_for(official), answer_url(question), {"answer": ""})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["answer"]
    question.refresh_from_db()
    assert (question.status, question.answer) == ("open", "")


def test_a_question_is_answered_once(client_for, official, question):
    assert post(client_for(official), answer_url(question), {"answer": "是"}).status_code == 200
    response = post(client_for(official), answer_url(question), {"answer": "否"})
    assert response.status_code == 400
    question.refresh_from_db()
    assert question.answer == "是"


@pytest.mark.parametrize(
    ("persona", "status"), [("assessor", 404), ("registry_admin", 404), ("auditor", 403)]
)
def test_only_officials_answer(request, client_for, question, persona, status):
    # An open question is the asker's and the office's (and auditors', who read everything
    # but change nothing); to everyone else it does not exist.
    user = request.getfixturevalue(persona)
    response = post(client_for(user), answer_url(question), {"answer": "x"})
    assert response.status_code == status
    question.refresh_from_db()
    assert question.answer == ""


def test_someone_elses_open_question_is_not_found(client_for, question, asker):
    other = make_bidder("另一家机构")
    assert client_for(other.admin).get(f"/api/v1/questions/{question.pk}/").status_code == 404
    response = post(client_for(other.admin), answer_url(question), {"answer": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    # The asker's own organization asks; it does not answer.
    assert post(client_for(asker.admin), answer_url(question), {"answer": "x"}).status_code == 403


def test_answers_are_posted_not_read_or_deleted(client_for, official, question):
    client = client_for(official)
    assert client.get(answer_url(question)).status_code == 405
    assert client.delete(f"/api/v1/questions/{question.pk}/").status_code == 405
    assert client.put(questions_url(question.tender), {}).status_code == 405


def test_the_questions_cost_the_same_queries_for_3_or_20(client_for, official, tender):
    bidders = [make_bidder(f"提问机构{n}", staff=0) for n in range(4)]
    reader = client_for(official)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reader.get(questions_url(tender)).status_code == 200
        return len(captured)

    def ask(n: int) -> None:
        question = services.question_ask(
            tender=tender, actor=bidders[n % 4].member, text=f"问题{n}"
        )
        if n % 2:
            services.question_answer(question=question, actor=official, answer=f"答复{n}")

    for n in range(3):
        ask(n)
    few = queries()
    for n in range(3, 20):
        ask(n)
    assert queries() == few
    assert reader.get(questions_url(tender)).json()["count"] == 20
