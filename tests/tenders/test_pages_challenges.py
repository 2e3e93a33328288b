"""The challenge pages (质疑): filing with documents in the window, the list with its filter,
the challenge page with the answer, decision and close forms, document downloads, and the
challenges in the official's workspace and on the dashboards.

State is built with the real services (tests/tenders/test_challenges.py builds the same):
the awarded tender is built once for the module, each test rolls back to it. A session
lasts 8 hours: after the clock moves by days, tests sign in again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from tenders import services
from tenders.models import (
    Award,
    AwardStatus,
    Challenge,
    ChallengeDocument,
    ChallengeStatus,
    Tender,
    TenderStatus,
)
from tests.tenders import test_award as _award
from tests.tenders import test_challenges as _challenges
from tests.tenders.test_award import Ranked, local
from tests.tenders.test_challenges import EXECUTABLE, PDF, answered, loser, pdf

# The award and challenge tests' fixtures (assigned, not imported, as
# tests/evaluation/conftest.py does); the module builds its own awarded tender once.
_awarded_once = _challenges._awarded_once
awarded = _challenges.awarded
build_ranked = _award.build_ranked
second_official = _award.second_official
second_approver = _challenges.second_approver
filed = _challenges.filed

CJK = re.compile(r"[\u3400-\u9fff]")
IN_THE_WINDOW = local(2026, 10, 9, 9, 0)  # a Friday; the window runs until 10-15
AFTER_THE_WINDOW = local(2026, 10, 16, 9, 0)
PAST_THE_ANSWER_DATE = local(2026, 10, 20, 9, 0)  # filed 10-09, answer due 10-19


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def new_url(tender: Tender) -> str:
    return reverse("tenders:challenge_file", args=[tender.pk])


def page_url(challenge: Challenge) -> str:
    return reverse("tenders:challenge", args=[challenge.pk])


def list_url(**query: str) -> str:
    url = reverse("tenders:challenges")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def without_data(html: str, data: list[str]) -> str:
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    for value in sorted((d for d in data if d), key=len, reverse=True):
        html = html.replace(value, "")
    return html


def data_of(awarded: Ranked) -> list[str]:
    tender = Tender.objects.get(pk=awarded.tender.pk)
    data = [tender.title, *(b.organization.name for b in awarded.bidders)]
    for challenge in Challenge.objects.all():
        data += [challenge.subject, challenge.text, challenge.answer, challenge.decision_note]
    data += list(ChallengeDocument.objects.values_list("original_name", flat=True))
    data += list(Award.objects.values_list("withdrawn_reason", flat=True))
    return data


def nothing_filed(settings) -> bool:
    media = Path(settings.MEDIA_ROOT) / "challenges"
    return (
        not Challenge.objects.exists()
        and not ChallengeDocument.objects.exists()
        and not AuditEvent.objects.filter(action=AuditAction.CHALLENGE_FILED).exists()
        and (not media.exists() or not any(media.rglob("*")))
    )


# --- Filing ------------------------------------------------------------------------------------


def test_a_bidder_files_a_challenge_with_documents(client_for, awarded, clock, official):
    clock.set(IN_THE_WINDOW)
    bidder = loser(awarded)
    client = english(client_for(bidder.member))
    form_page = client.get(new_url(awarded.tender))
    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="documents"' in html
    assert "multiple" in html
    assert "may be challenged until 2026-10-15" in html

    response = client.post(
        new_url(awarded.tender),
        {
            "subject": "价格分计算有误",
            "text": "第一名的价格分应按评标基准价重新计算。",
            "documents": [pdf(), pdf("附件二.pdf", b"%2")],
        },
    )
    challenge = Challenge.objects.get()
    assert response.status_code == 302
    assert response.url == page_url(challenge)
    assert challenge.status == ChallengeStatus.FILED
    assert challenge.filed_by == bidder.member
    assert challenge.organization == bidder.organization
    assert sorted(ChallengeDocument.objects.values_list("original_name", flat=True)) == [
        "评分记录.pdf",
        "附件二.pdf",
    ]
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_FILED)
    assert event.actor == bidder.member
    assert event.object_id == str(challenge.pk)

    page = client.get(response.url).content.decode()
    assert "the street office answers it in writing by 2026-10-19" in page
    assert "第一名的价格分应按评标基准价重新计算。" in page


def test_a_challenge_without_subject_or_grounds_is_refused_on_the_fields(
    client_for, awarded, clock, settings
):
    clock.set(IN_THE_WINDOW)
    client = english(client_for(loser(awarded).admin))
    response = client.post(new_url(awarded.tender), {"subject": "  ", "text": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"subject", "text"}
    assert "Please correct the problems below." in response.content.decode()
    assert nothing_filed(settings)


def test_a_challenge_after_the_window_is_refused_with_the_message(
    client_for, awarded, clock, settings
):
    clock.set(AFTER_THE_WINDOW)
    client = english(client_for(loser(awarded).member))
    page = client.get(new_url(awarded.tender))
    assert page.status_code == 200
    assert "Challenges were accepted until 2026-10-15; the window is closed." in (
        page.content.decode()
    )
    assert 'name="subject"' not in page.content.decode()

    response = client.post(
        new_url(awarded.tender),
        {"subject": "评分不公", "text": "评分有误。", "documents": [pdf()]},
    )
    assert response.status_code == 200
    assert (
        "Challenges were accepted until 2026-10-15, 7 working days after the award notice."
        in response.content.decode()
    )
    assert nothing_filed(settings)


def test_a_renamed_executable_is_refused_on_the_documents_field(
    client_for, awarded, clock, settings
):
    clock.set(IN_THE_WINDOW)
    fake = SimpleUploadedFile("证据.pdf", EXECUTABLE, content_type="application/pdf")
    response = english(client_for(loser(awarded).member)).post(
        new_url(awarded.tender),
        {"subject": "评分不公", "text": "评分有误。", "documents": [pdf(), fake]},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["documents"]
    assert len(errors["documents"]) == 1
    assert errors["documents"][0].startswith("证据.pdf: ")
    assert nothing_filed(settings)


def test_more_than_ten_documents_are_refused_on_the_field(client_for, awarded, clock, settings):
    clock.set(IN_THE_WINDOW)
    uploads = [pdf(f"f{i}.pdf", str(i).encode()) for i in range(11)]
    response = english(client_for(loser(awarded).member)).post(
        new_url(awarded.tender), {"subject": "评分不公", "text": "评分有误。", "documents": uploads}
    )
    assert response.status_code == 200
    assert "at most 10" in response.context["form"].errors["documents"][0]
    assert nothing_filed(settings)


def test_only_the_bidders_file_challenges(request, client_for, awarded, clock, outsider, settings):
    clock.set(IN_THE_WINDOW)
    data = {"subject": "不公平", "text": "理由。"}
    for persona in ("official", "approver", "auditor", "assessor", "registry_admin"):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(new_url(awarded.tender)).status_code == 403, persona
        assert client.post(new_url(awarded.tender), data).status_code == 403, persona
    # An organization that did not bid: not its tender to challenge.
    client = client_for(outsider)
    assert client.get(new_url(awarded.tender)).status_code == 404
    assert client.post(new_url(awarded.tender), data).status_code == 404
    assert nothing_filed(settings)


def test_filing_needs_a_sign_in(client, awarded):
    response = client.get(new_url(awarded.tender))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_before_the_award_there_is_nothing_to_challenge(client_for, build_ranked):
    ranked = build_ranked()  # a tender of its own: the module's shared one is awarded
    bidder = ranked.bidder_of(ranked.bid_at(2))
    html = english(client_for(bidder.admin)).get(new_url(ranked.tender)).content.decode()
    assert "This tender has no award in force: there is nothing to challenge." in html
    assert 'name="subject"' not in html


# --- The list -------------------------------------------------------------------------------------


def test_the_street_office_lists_every_challenge_with_the_challenger(request, client_for, filed):
    for persona in ("official", "approver", "auditor"):
        response = english(client_for(request.getfixturevalue(persona))).get(list_url())
        assert response.status_code == 200
        html = response.content.decode()
        assert filed.subject in html
        assert filed.organization.name in html
        assert page_url(filed) in html


def test_the_list_filters_by_status_and_overdue(client_for, filed, clock, official):
    def subjects(**query: str) -> list[str]:
        response = client_for(official).get(list_url(**query))
        assert response.status_code == 200
        return [c.subject for c in response.context["page"].object_list]

    assert subjects(status="filed") == [filed.subject]
    assert subjects(status="answered") == []
    assert subjects(status="overdue") == []
    assert subjects(status="no-such-status") == [filed.subject]  # an invalid filter: all
    clock.set(PAST_THE_ANSWER_DATE)
    assert subjects(status="overdue") == [filed.subject]
    html = english(client_for(official)).get(list_url()).content.decode()
    assert "Overdue" in html


def test_the_challenger_lists_its_own_and_other_bidders_the_answered_ones_anonymously(
    client_for, awarded, filed, official
):
    challenger = english(client_for(filed.filed_by))
    html = challenger.get(list_url()).content.decode()
    assert filed.subject in html
    assert page_url(filed) in html

    other = loser(awarded, position=4)
    response = english(client_for(other.admin)).get(list_url())
    assert list(response.context["page"].object_list) == []  # not answered yet

    answered(filed, official, upheld=False)
    response = english(client_for(other.admin)).get(list_url())
    html = response.content.decode()
    assert filed.subject in html
    assert "经复核，评分无误。" in html  # the answer
    assert "Another bidder" in html
    assert filed.organization.name not in html
    assert page_url(filed) not in html


def test_the_list_is_refused_to_roles_without_challenges(request, client_for, filed):
    for persona in ("assessor", "registry_admin"):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(list_url()).status_code == 403, persona


def test_an_unrelated_organization_lists_nothing(client_for, filed, outsider):
    response = client_for(outsider).get(list_url())
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert filed.subject not in response.content.decode()


# --- The challenge page and its documents ---------------------------------------------------------


def test_an_official_reads_the_challenge_with_the_answer_form(client_for, filed, official):
    response = english(client_for(official)).get(page_url(filed))
    assert response.status_code == 200
    html = response.content.decode()
    assert filed.text in html
    assert filed.organization.name in html
    document = ChallengeDocument.objects.get(challenge=filed)
    assert reverse("tenders:challenge_document", args=[document.pk]) in html
    assert "Answer the challenge" in html
    assert "Decide the challenge" not in html


def test_the_challenger_reads_its_challenge_without_forms(client_for, filed):
    for user in filed.organization.members.all():
        response = english(client_for(user)).get(page_url(filed))
        assert response.status_code == 200
        html = response.content.decode()
        assert filed.text in html
        assert "Answer the challenge" not in html
        assert "Close the challenge" not in html


def test_an_auditor_reads_the_challenge_without_forms(client_for, filed, auditor):
    response = english(client_for(auditor)).get(page_url(filed))
    assert response.status_code == 200
    assert "Answer the challenge" not in response.content.decode()


def test_nobody_else_opens_the_challenge(request, client_for, awarded, filed):
    other = loser(awarded, position=3)
    users = [other.admin, other.member]
    users += [request.getfixturevalue(p) for p in ("outsider", "assessor", "registry_admin")]
    for user in users:
        assert client_for(user).get(page_url(filed)).status_code == 404, user.username
    assert client_for(users[0]).get(reverse("tenders:challenge", args=[999_999])).status_code == (
        404
    )


def test_a_document_downloads_as_an_attachment_for_the_readers_only(
    client_for, awarded, filed, official
):
    document = ChallengeDocument.objects.get(challenge=filed)
    url = reverse("tenders:challenge_document", args=[document.pk])
    for user in (filed.filed_by, official):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.content == PDF
    other = loser(awarded, position=3)
    assert client_for(other.admin).get(url).status_code == 404


def test_the_challenge_pages_need_a_sign_in(client, filed):
    document = ChallengeDocument.objects.get(challenge=filed)
    for url in (
        list_url(),
        page_url(filed),
        reverse("tenders:challenge_document", args=[document.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_actions_answer_only_post(client_for, filed, official):
    client = client_for(official)
    for name in ("challenge_answer", "challenge_decide", "challenge_close"):
        assert client.get(reverse(f"tenders:{name}", args=[filed.pk])).status_code == 405


# --- Answering ------------------------------------------------------------------------------------


def answer_url(challenge: Challenge) -> str:
    return reverse("tenders:challenge_answer", args=[challenge.pk])


def decide_url(challenge: Challenge) -> str:
    return reverse("tenders:challenge_decide", args=[challenge.pk])


def close_url(challenge: Challenge) -> str:
    return reverse("tenders:challenge_close", args=[challenge.pk])


def answer_data(answer: str = "经复核，评分无误。", upheld: str = "no", remedy: str = ""):
    return {"answer-answer": answer, "answer-upheld": upheld, "answer-remedy": remedy}


def test_an_official_answers_the_challenge(client_for, filed, official):
    client = english(client_for(official))
    response = client.post(answer_url(filed), answer_data())
    assert response.status_code == 302
    assert response.url == page_url(filed)
    challenge = Challenge.objects.get(pk=filed.pk)
    assert challenge.status == ChallengeStatus.ANSWERED
    assert challenge.answered_by == official
    assert challenge.upheld is False
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_ANSWERED)
    assert event.actor == official
    html = client.get(response.url).content.decode()
    assert "The answer is sent to the challenger" in html
    assert "经复核，评分无误。" in html
    assert "Answer the challenge" not in html


def test_an_upheld_answer_without_a_remedy_is_refused_on_the_field(client_for, filed, official):
    client = english(client_for(official))
    response = client.post(answer_url(filed), answer_data(upheld="yes"))
    assert response.status_code == 200
    assert list(response.context["answer_form"].errors) == ["remedy"]
    response = client.post(answer_url(filed), answer_data(remedy="reopen_award"))
    assert list(response.context["answer_form"].errors) == ["remedy"]
    response = client.post(answer_url(filed), answer_data(answer=" "))
    assert list(response.context["answer_form"].errors) == ["answer"]
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.FILED
    assert not AuditEvent.objects.filter(action=AuditAction.CHALLENGE_ANSWERED).exists()


def test_only_officials_answer(client_for, awarded, filed, auditor):
    assert client_for(filed.filed_by).post(answer_url(filed), answer_data()).status_code == 403
    assert client_for(auditor).post(answer_url(filed), answer_data()).status_code == 403
    other = loser(awarded, position=3)
    assert client_for(other.admin).post(answer_url(filed), answer_data()).status_code == 404
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.FILED


def test_a_second_answer_is_refused_with_the_reason(client_for, filed, official):
    answered(filed, official, upheld=False)
    response = english(client_for(official)).post(
        answer_url(filed), answer_data(upheld="yes", remedy="reopen_award")
    )
    assert response.status_code == 200
    assert "This challenge is answered already." in response.content.decode()
    assert Challenge.objects.get(pk=filed.pk).upheld is False


# --- Deciding and closing -------------------------------------------------------------------------


def test_an_approver_decides_a_challenge_not_upheld(client_for, awarded, filed, official, approver):
    answered(filed, official, upheld=False)
    client = english(client_for(approver))
    page = client.get(page_url(filed)).content.decode()
    assert "Decide the challenge" in page
    response = client.post(decide_url(filed), {"decision-note": "维持原评审结果。"})
    assert response.status_code == 302
    challenge = Challenge.objects.get(pk=filed.pk)
    assert challenge.status == ChallengeStatus.REJECTED
    assert challenge.decided_by == approver
    assert challenge.decision_note == "维持原评审结果。"
    assert AuditEvent.objects.get(action=AuditAction.CHALLENGE_REJECTED).actor == approver
    assert "the award stands" in client.get(response.url).content.decode()
    assert Award.objects.get(tender=awarded.tender).status == AwardStatus.ACTIVE


def test_the_approver_who_answered_does_not_decide(client_for, filed, approver, second_approver):
    answered(filed, approver, upheld=False)
    client = english(client_for(approver))
    page = client.get(page_url(filed)).content.decode()
    assert "Decide the challenge" not in page
    assert "You answered this challenge: a different approver decides it." in page
    response = client.post(decide_url(filed), {"decision-note": ""})
    assert response.status_code == 200
    assert "A different approver must decide a challenge you answered." in (
        response.content.decode()
    )
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.ANSWERED
    assert client_for(second_approver).post(decide_url(filed), {}).status_code == 302
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.REJECTED


def test_only_approvers_decide(client_for, filed, official):
    answered(filed, official, upheld=False)
    assert client_for(official).post(decide_url(filed), {}).status_code == 403
    assert client_for(filed.filed_by).post(decide_url(filed), {}).status_code == 403
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.ANSWERED


def test_an_upheld_challenge_withdraws_the_award_and_the_approver_awards_again(
    client, client_for, awarded, filed, official, approver, clock
):
    answered(filed, official, upheld=True, remedy="reopen_award")
    clock.set(local(2026, 10, 13, 15, 0))
    approver_client = english(client_for(approver))
    response = approver_client.post(decide_url(filed), {"decision-note": "质疑成立。"})
    assert response.status_code == 302
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.ACCEPTED
    tender = Tender.objects.get(pk=awarded.tender.pk)
    assert tender.status == TenderStatus.EVALUATING
    assert AuditEvent.objects.filter(action=AuditAction.CHALLENGE_UPHELD).count() == 1
    assert "The challenge is upheld" in approver_client.get(response.url).content.decode()

    public = english(client).get(reverse("tenders:detail", args=[tender.pk])).content.decode()
    assert "was withdrawn" in public
    award_page = approver_client.get(reverse("tenders:award", args=[tender.pk]))
    assert award_page.context["form"] is not None  # the approver confirms again
    workspace = approver_client.get(reverse("tenders:workspace")).context["workspace"]
    assert [t.pk for t in workspace.to_award] == [tender.pk]


def test_an_official_closes_a_decided_challenge(client_for, filed, official, approver):
    client = english(client_for(official))
    response = client.post(close_url(filed))
    assert response.status_code == 200
    assert "Only a decided challenge can be closed" in response.content.decode()
    answered(filed, official, upheld=False)
    services.challenge_decide(challenge=filed, actor=approver)
    assert client_for(filed.filed_by).post(close_url(filed)).status_code == 403
    assert "Close the challenge" in client.get(page_url(filed)).content.decode()
    response = client.post(close_url(filed))
    assert response.status_code == 302
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.CLOSED
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_CLOSED)
    assert event.actor == official
    assert event.details["automatic"] is False


# --- Workspace, dashboards and the tender page -------------------------------------------------


def cards_of(client) -> dict[str, object]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    with translation.override("en"):
        return {
            str(card.title): (card.value, str(card.description))
            for card in response.context["cards"]
        }


def test_the_workspace_shows_overdue_challenges(client_for, filed, clock, official):
    response = english(client_for(official)).get(reverse("tenders:workspace"))
    html = response.content.decode()
    assert [c.id for c in response.context["workspace"].challenges_to_answer] == [filed.pk]
    assert filed.subject in html
    assert "2026-10-19" in html
    assert "Overdue" not in html
    assert cards_of(client_for(official))["Challenges to answer"] == (1, "")

    clock.set(PAST_THE_ANSWER_DATE)
    client = english(client_for(official))
    response = client.get(reverse("tenders:workspace"))
    html = response.content.decode()
    assert response.context["workspace"].challenges_overdue == 1
    assert "1 challenge is past its answer date." in html
    assert "Overdue" in html
    assert cards_of(client)["Challenges to answer"] == (1, "1 past the answer date")

    answered(filed, official, upheld=False)
    response = client.get(reverse("tenders:workspace"))
    assert response.context["workspace"].challenges_to_answer == []
    assert "Overdue" not in response.content.decode()


def test_answered_challenges_wait_for_another_approvers_decision(
    client_for, filed, approver, second_approver
):
    answered(filed, approver, upheld=False)
    mine = client_for(approver).get(reverse("tenders:workspace")).context["workspace"]
    assert mine.challenges_to_decide == []
    response = english(client_for(second_approver)).get(reverse("tenders:workspace"))
    assert [c.id for c in response.context["workspace"].challenges_to_decide] == [filed.pk]
    assert "Challenges waiting for my decision" in response.content.decode()
    assert cards_of(client_for(second_approver))["Challenges waiting for my decision"][0] == 1


def test_other_bidders_see_the_answered_challenge_on_the_tender_page_anonymously(
    client, client_for, awarded, filed, official
):
    url = reverse("tenders:detail", args=[awarded.tender.pk])
    other = loser(awarded, position=4)
    assert filed.subject not in client_for(other.admin).get(url).content.decode()
    answered(filed, official, upheld=False)
    html = english(client_for(other.admin)).get(url).content.decode()
    assert filed.subject in html
    assert "经复核，评分无误。" in html
    assert filed.organization.name not in html.split('id="challenges"')[1].split("</section>")[0]
    assert filed.subject not in english(client).get(url).content.decode()  # not public


@pytest.mark.parametrize("page", ["form", "list", "challenge", "workspace"])
def test_english_challenge_pages_contain_no_chinese_outside_data(
    client_for, awarded, filed, official, page
):
    if page == "form":
        client, url = english(client_for(loser(awarded, position=3).admin)), new_url(awarded.tender)
    else:
        client = english(client_for(official))
        url = {
            "list": list_url(),
            "challenge": page_url(filed),
            "workspace": reverse("tenders:workspace"),
        }[page]
    response = client.get(url)
    assert response.status_code == 200
    html = without_data(response.content.decode(), data_of(awarded))
    assert CJK.findall(html) == []
