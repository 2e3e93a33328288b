"""API v1 challenges (质疑): a bidder files one within 7 working days of the award notice (as
JSON or multipart with evidence), an official answers it, an approver who did not answer it
decides (four eyes), an official closes it; documents are served only as attachments.

The awarded tender (tests/tenders/test_challenges.py's) is built once for the module; each
test rolls back to it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import AuditAction
from tenders import services
from tenders.models import (
    Award,
    AwardStatus,
    Challenge,
    ChallengeDocument,
    ChallengeStatus,
    TenderStatus,
)
from tests.evaluation.test_api_support import (
    ERROR_KEYS,
    PDF,
    anonymous,
    api,
    delete,
    events,
    is_error,
    patch,
    post,
    put,
)
from tests.tenders import test_award as _award
from tests.tenders import test_challenges as _challenges
from tests.tenders.test_award import local

# The award and challenge tests' fixtures (assigned, not imported, as
# tests/evaluation/conftest.py does); the module builds its own awarded tender once.
_awarded_once = _challenges._awarded_once
awarded = _challenges.awarded
build_ranked = _award.build_ranked
second_official = _award.second_official

CHALLENGES = "/api/v1/challenges/"
MISSING = 999_999
SUBJECT = "价格分计算有误"
GROUNDS = "第一名的价格分应按评标基准价重新计算。"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def url(challenge: Challenge | int, action: str = "") -> str:
    pk = challenge if isinstance(challenge, int) else challenge.pk
    return f"{CHALLENGES}{pk}/" + (f"{action}/" if action else "")


def pdf(name: str = "评分记录.pdf", extra: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


def loser(awarded, position: int = 2):
    return awarded.bidder_of(awarded.bid_at(position))


@pytest.fixture
def in_window(awarded, clock):
    clock.set(local(2026, 10, 9, 9, 0))
    return awarded


@pytest.fixture
def filed(in_window) -> Challenge:
    bidder = loser(in_window)
    return services.challenge_file(
        tender=in_window.tender,
        actor=bidder.member,
        subject=SUBJECT,
        text=GROUNDS,
        uploads=[pdf()],
    )


@pytest.fixture
def answered(filed, official) -> Challenge:
    return services.challenge_answer(
        challenge=filed, actor=official, answer="经复核，评分无误。", upheld=False
    )


def json_body(tender, **extra) -> dict:
    return {"tender": tender.pk, "subject": SUBJECT, "text": GROUNDS, **extra}


# --- Filing -------------------------------------------------------------------------------------


def test_a_bidder_files_a_challenge_as_json_in_the_contract_shape(in_window):
    bidder = loser(in_window)

    response = post(api(bidder.member), CHALLENGES, json_body(in_window.tender))

    assert response.status_code == 201, response.content
    body = response.json()
    challenge = Challenge.objects.get()
    assert (body["id"], body["status"], body["status_label"]) == (
        challenge.pk,
        "filed",
        "Filed, waiting for the answer",
    )
    assert (body["tender"], body["subject"], body["text"]) == (
        in_window.tender.pk,
        SUBJECT,
        GROUNDS,
    )
    assert body["organization_name"] == bidder.organization.name
    assert body["answer_due"] == challenge.answer_due.isoformat()
    assert body["documents"] == []
    assert body["remedy"] is None
    (event,) = events(AuditAction.CHALLENGE_FILED)
    assert event.actor_id == bidder.member.pk


def test_a_challenge_with_evidence_is_filed_as_multipart(in_window, official):
    bidder = loser(in_window)

    response = api(bidder.admin).post(
        CHALLENGES,
        {**json_body(in_window.tender), "documents": [pdf(), pdf("附件.pdf", b"%2")]},
    )

    assert response.status_code == 201, response.content
    documents = response.json()["documents"]
    assert [d["name"] for d in documents] == ["评分记录.pdf", "附件.pdf"]
    download = api(official).get(documents[0]["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": " "}, "subject"),
        ({"text": ""}, "text"),
        ({"tender": MISSING}, "tender"),
        ({"tender": "abc"}, "tender"),
        ({"documents": "exe"}, "documents"),
    ],
)
def test_a_bad_challenge_names_the_field_and_saves_nothing(in_window, change, field):
    bidder = loser(in_window)
    data = {**json_body(in_window.tender), **change}
    if change.get("documents") == "exe":
        data["documents"] = [pdf(), SimpleUploadedFile("证据.pdf", EXECUTABLE)]
        response = api(bidder.member).post(CHALLENGES, data)
    else:
        response = post(api(bidder.member), CHALLENGES, data)

    assert is_error(response, 400, field), response.content
    assert not Challenge.objects.exists()
    assert not ChallengeDocument.objects.exists()
    assert events(AuditAction.CHALLENGE_FILED) == []


def test_a_missing_field_is_named(in_window):
    response = post(api(loser(in_window).member), CHALLENGES, {"tender": in_window.tender.pk})
    assert is_error(response, 400, "subject", "text")


def test_a_challenge_after_the_window_is_refused(awarded, clock):
    clock.set(local(2026, 10, 16, 0, 0))
    response = post(api(loser(awarded).member), CHALLENGES, json_body(awarded.tender))
    assert is_error(response, 400)
    assert "2026-10-15" in response.json()["detail"]
    assert not Challenge.objects.exists()


def test_an_organization_that_did_not_bid_cannot_challenge(in_window, outsider):
    response = post(api(outsider), CHALLENGES, json_body(in_window.tender))
    assert is_error(response, 400)
    assert not Challenge.objects.exists()


@pytest.mark.parametrize("persona", ["official", "approver", "assessor", "auditor"])
def test_only_bidders_file_challenges(request, in_window, persona):
    response = post(api(request.getfixturevalue(persona)), CHALLENGES, json_body(in_window.tender))
    assert is_error(response, 403)
    assert not Challenge.objects.exists()


def test_filing_needs_a_signed_in_caller(in_window):
    assert is_error(post(anonymous(), CHALLENGES, json_body(in_window.tender)), 401)
    assert not Challenge.objects.exists()


# --- Reading ------------------------------------------------------------------------------------


def test_the_office_lists_every_challenge_and_the_challenger_its_own(filed, official, in_window):
    office = api(official).get(CHALLENGES).json()
    assert [row["id"] for row in office["results"]] == [filed.pk]
    assert office["results"][0]["organization_name"] == filed.organization.name

    own = api(loser(in_window).admin).get(CHALLENGES, {"tender": in_window.tender.pk}).json()
    (row,) = own["results"]
    assert (row["own"], row["text"], row["status"]) == (True, GROUNDS, "filed")


def test_other_bidders_read_answered_challenges_without_the_challenger(
    filed, answered, in_window, outsider
):
    other = loser(in_window, 3)

    body = api(other.member).get(CHALLENGES).json()

    (row,) = body["results"]
    assert (row["subject"], row["status"], row["own"]) == (SUBJECT, "answered", False)
    assert row["organization_name"] is None
    assert row["text"] == ""
    assert row["answer"] == "经复核，评分无误。"
    assert api(outsider).get(CHALLENGES).json()["count"] == 0


def test_a_filed_challenge_is_not_shown_to_other_bidders(filed, in_window):
    assert api(loser(in_window, 3).member).get(CHALLENGES).json()["count"] == 0


def test_the_list_filter_is_checked_and_the_list_needs_a_signed_in_caller(filed, official):
    assert is_error(api(official).get(CHALLENGES, {"tender": "abc"}), 400, "tender")
    assert is_error(anonymous().get(CHALLENGES), 401)


def test_the_whole_challenge_is_for_the_office_and_the_challenger(filed, official, in_window):
    for user in (official, loser(in_window).member):
        response = api(user).get(url(filed))
        assert response.status_code == 200, response.content
        assert response.json()["text"] == GROUNDS


def test_another_bidders_challenge_is_a_404_like_a_missing_one(filed, answered, in_window):
    client = api(loser(in_window, 3).admin)
    response = client.get(url(filed))
    missing = client.get(url(MISSING))
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    document = ChallengeDocument.objects.get()
    refused = client.get(f"/api/v1/challenge-documents/{document.pk}/")
    missing = client.get(f"/api/v1/challenge-documents/{MISSING}/")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()


def test_challenges_are_not_changed_in_place(filed, official):
    client = api(official)
    assert put(client, url(filed), {"subject": "改"}).status_code == 405
    assert patch(client, url(filed), {"subject": "改"}).status_code == 405
    response = delete(client, url(filed))
    assert response.status_code == 405
    assert set(response.json()) == ERROR_KEYS
    assert Challenge.objects.get().subject == SUBJECT


# --- Answering ----------------------------------------------------------------------------------


def test_an_official_answers_a_challenge(filed, official):
    response = post(
        api(official),
        url(filed, "answer"),
        {"answer": "经复核，价格分计算有误。", "upheld": True, "remedy": "reopen_award"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["upheld"], body["remedy"]) == (
        "answered",
        True,
        "reopen_award",
    )
    assert body["remedy_label"] == "The award is decided again"
    (event,) = events(AuditAction.CHALLENGE_ANSWERED)
    assert event.actor_id == official.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"answer": "", "upheld": False}, "answer"),
        ({"answer": "属实", "upheld": True}, "remedy"),
        ({"answer": "属实", "upheld": True, "remedy": "refund"}, "remedy"),
        ({"answer": "无误", "upheld": False, "remedy": "reopen_award"}, "remedy"),
        ({"answer": "无误"}, "upheld"),
        ({"answer": "无误", "upheld": False, "verdict": "x"}, "verdict"),
    ],
)
def test_a_bad_answer_names_the_field_and_changes_nothing(filed, official, data, field):
    response = post(api(official), url(filed, "answer"), data)

    assert is_error(response, 400, field), response.content
    filed.refresh_from_db()
    assert (filed.status, filed.answer) == (ChallengeStatus.FILED, "")
    assert events(AuditAction.CHALLENGE_ANSWERED) == []


def test_the_challenger_does_not_answer_its_own_challenge(filed, in_window):
    response = post(
        api(loser(in_window).admin), url(filed, "answer"), {"answer": "我说了算", "upheld": True}
    )
    assert is_error(response, 403)
    filed.refresh_from_db()
    assert filed.status == ChallengeStatus.FILED


def test_others_answer_nothing_a_404_like_a_missing_challenge(filed, in_window, assessor):
    for user in (loser(in_window, 3).admin, assessor):
        client = api(user)
        data = {"answer": "无误", "upheld": False}
        response = post(client, url(filed, "answer"), data)
        missing = post(client, url(MISSING, "answer"), data)
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
    assert events(AuditAction.CHALLENGE_ANSWERED) == []


def test_a_challenge_is_answered_once(answered, official):
    response = post(api(official), url(answered, "answer"), {"answer": "再答", "upheld": False})
    assert is_error(response, 400)
    assert len(events(AuditAction.CHALLENGE_ANSWERED)) == 1


def test_answering_needs_a_signed_in_caller_and_a_post(filed, official):
    assert is_error(post(anonymous(), url(filed, "answer"), {}), 401)
    assert api(official).get(url(filed, "answer")).status_code == 405


# --- Deciding and closing ---------------------------------------------------------------------


def test_an_approver_rejects_a_challenge_not_upheld_and_the_award_stands(answered, approver):
    response = post(api(approver), url(answered, "decide"), {"note": "同意答复。"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decision_note"]) == ("rejected", "同意答复。")
    (event,) = events(AuditAction.CHALLENGE_REJECTED)
    assert event.actor_id == approver.pk
    assert Award.objects.get().status == AwardStatus.ACTIVE


def test_an_upheld_challenge_withdraws_the_award(filed, official, approver, in_window):
    services.challenge_answer(
        challenge=filed, actor=official, answer="属实。", upheld=True, remedy="reopen_award"
    )

    response = post(api(approver), url(filed, "decide"), {})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert len(events(AuditAction.CHALLENGE_UPHELD)) == 1
    assert len(events(AuditAction.TENDER_AWARD_WITHDRAWN)) == 1
    assert Award.objects.get().status == AwardStatus.WITHDRAWN
    in_window.refresh()
    assert in_window.tender.status == TenderStatus.EVALUATING
    # The notice is gone with the award.
    assert is_error(anonymous().get(f"/api/v1/tenders/{in_window.tender.pk}/award/"), 404)


def test_a_filed_challenge_is_not_decided_before_its_answer(filed, approver):
    response = post(api(approver), url(filed, "decide"), {"note": "x"})
    assert is_error(response, 400)
    filed.refresh_from_db()
    assert filed.status == ChallengeStatus.FILED


def test_an_unknown_decision_field_is_named(answered, approver):
    assert is_error(post(api(approver), url(answered, "decide"), {"upheld": True}), 400, "upheld")
    answered.refresh_from_db()
    assert answered.status == ChallengeStatus.ANSWERED


@pytest.mark.parametrize("who", ["official", "challenger"])
def test_only_an_approver_decides(request, answered, in_window, who):
    user = request.getfixturevalue("official") if who == "official" else loser(in_window).admin
    assert is_error(post(api(user), url(answered, "decide"), {"note": "x"}), 403)
    answered.refresh_from_db()
    assert answered.status == ChallengeStatus.ANSWERED
    assert events(AuditAction.CHALLENGE_REJECTED) == []


def test_deciding_needs_a_signed_in_caller_and_a_post(answered, approver):
    assert is_error(post(anonymous(), url(answered, "decide"), {}), 401)
    assert api(approver).get(url(answered, "decide")).status_code == 405


def test_an_official_closes_a_decided_challenge(answered, approver, official):
    post(api(approver), url(answered, "decide"), {"note": "同意答复。"})

    response = post(api(official), url(answered, "close"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    (event,) = events(AuditAction.CHALLENGE_CLOSED)
    assert event.actor_id == official.pk


def test_an_undecided_challenge_is_not_closed(answered, official):
    assert is_error(post(api(official), url(answered, "close")), 400)
    answered.refresh_from_db()
    assert answered.status == ChallengeStatus.ANSWERED


def test_only_officials_close_challenges(answered, approver, in_window):
    post(api(approver), url(answered, "decide"), {"note": "同意答复。"})
    assert is_error(post(api(loser(in_window).admin), url(answered, "close")), 403)
    assert is_error(post(anonymous(), url(answered, "close")), 401)
    assert api(approver).get(url(answered, "close")).status_code == 405
    assert events(AuditAction.CHALLENGE_CLOSED) == []


def test_challenge_documents_are_downloaded_only(filed, official):
    document = ChallengeDocument.objects.get()
    address = f"/api/v1/challenge-documents/{document.pk}/"
    assert delete(api(official), address).status_code == 405
    assert is_error(anonymous().get(address), 401)
    assert ChallengeDocument.objects.count() == 1
