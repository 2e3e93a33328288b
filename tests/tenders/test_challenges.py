"""Challenges (质疑) of an award: filing in the window, answering, deciding, remedies, closing.

The module builds its awarded tender once (tests/tenders/test_award.py's ranked tender awarded
to position 1 on 2026-09-30); each test rolls back to it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import Http404
from django.utils import translation

from evaluation.models import Panel, PanelStatus, Ranking, RankingRow, ScoreSheet, SheetStatus
from evaluation.services.sheets import scoresheet_save, scoresheet_submit
from marketplace.models import AuditAction, AuditEvent, Role
from tenders import permissions, selectors, services
from tenders.models import (
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    Challenge,
    ChallengeDocument,
    ChallengeStatus,
    Tender,
    TenderStatus,
)
from tests.conftest import building, make_user, module_database
from tests.tenders import test_award as _award
from tests.tenders.conftest import make_bidder
from tests.tenders.test_award import RANKED_AT, Ranked, awarded_tender, local

# The award tests' fixtures (assigned, not imported, as tests/evaluation/conftest.py does).
build_ranked = _award.build_ranked
second_official = _award.second_official

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def pdf(name: str = "评分记录.pdf", extra: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


@pytest.fixture(scope="module")
def _awarded_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Ranked]:
    """The ranked tender of tests/tenders/test_award.py awarded to position 1 on 2026-09-30,
    built once for the module (tests roll back to it)."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield awarded_tender(clock)


@pytest.fixture
def awarded(_awarded_once, db, clock) -> Ranked:
    """The shared awarded tender, re-read for this test; the clock on the award day."""
    clock.set(_awarded_once.built_until)
    return _awarded_once.copy()


@pytest.fixture
def second_approver(db):
    return make_user("second_approver", Role.APPROVER)


def loser(awarded: Ranked, position: int = 2):
    return awarded.bidder_of(awarded.bid_at(position))


def file_challenge(awarded: Ranked, position: int = 2, **extra):
    bidder = loser(awarded, position)
    return services.challenge_file(
        tender=awarded.tender,
        actor=extra.pop("actor", bidder.member),
        subject=extra.pop("subject", "价格分计算有误"),
        text=extra.pop("text", "第一名的价格分应按评标基准价重新计算。"),
        **extra,
    )


def answered(challenge, official, *, upheld: bool, remedy: str = ""):
    return services.challenge_answer(
        challenge=challenge,
        actor=official,
        answer="经复核，质疑事项属实。" if upheld else "经复核，评分无误。",
        upheld=upheld,
        remedy=remedy,
    )


# --- Filing -------------------------------------------------------------------------------------


def test_a_bidder_files_a_challenge_on_the_last_day_with_documents(
    awarded, clock, official, django_capture_on_commit_callbacks
):
    clock.set(local(2026, 10, 15, 16, 30))  # the 7th working day after the notice
    mail.outbox.clear()  # the award notices
    with django_capture_on_commit_callbacks(execute=True):
        challenge = file_challenge(awarded, uploads=[pdf(), pdf("附件.PDF", b"%2")])

    bidder = loser(awarded)
    assert challenge.status == ChallengeStatus.FILED
    assert challenge.organization == bidder.organization
    assert challenge.bid.pk == awarded.bid_at(2).pk
    assert challenge.filed_by == bidder.member
    # 7 working days after Thursday 10-15: 10-16, 19, 20, 21, 22, 23, 26.
    assert challenge.answer_due == date(2026, 10, 26)
    documents = list(ChallengeDocument.objects.filter(challenge=challenge).order_by("pk"))
    assert [d.original_name for d in documents] == ["评分记录.pdf", "附件.pdf"]
    assert {d.content_type for d in documents} == {"application/pdf"}
    assert Path(documents[0].file.path).read_bytes() == PDF

    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_FILED)
    assert event.object_id == str(challenge.pk)
    assert event.actor == bidder.member
    assert event.details["organization"] == bidder.organization.uscc
    assert [d["sha256"] for d in event.details["documents"]] == [d.sha256 for d in documents]
    # The drafting official is told.
    assert [m.to for m in mail.outbox] == [[official.email]]
    assert "价格分计算有误" in mail.outbox[0].body


def test_a_challenge_the_day_after_the_window_is_refused(awarded, clock):
    clock.set(local(2026, 10, 16, 0, 0))
    with pytest.raises(ValidationError, match="2026-10-15") as refused:
        file_challenge(awarded, uploads=[pdf()])
    assert refused.value.code == "late"
    assert not Challenge.objects.exists()
    assert not ChallengeDocument.objects.exists()


def test_a_challenge_during_national_day_is_still_in_time(awarded, clock):
    clock.set(local(2026, 10, 5, 11, 0))  # a holiday, inside the window
    challenge = file_challenge(awarded)
    # Answer due 7 working days from a holiday: 10-08, 09, 10 (Sat), 12, 13, 14, 15.
    assert challenge.answer_due == date(2026, 10, 15)


def test_an_organization_that_did_not_bid_cannot_challenge(awarded, clock, outsider):
    clock.set(local(2026, 10, 9, 9, 0))
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="bid was opened") as refused,
    ):
        services.challenge_file(
            tender=awarded.tender, actor=outsider, subject="不公平", text="我们没来得及投标。"
        )
    assert refused.value.code == "not_a_bidder"
    assert not Challenge.objects.exists()


@pytest.mark.parametrize(
    "persona", ["official", "approver", "assessor", "auditor", "registry_admin"]
)
def test_only_organizations_file_challenges(request, awarded, clock, persona):
    clock.set(local(2026, 10, 9, 9, 0))
    with pytest.raises(PermissionDenied):
        services.challenge_file(
            tender=awarded.tender,
            actor=request.getfixturevalue(persona),
            subject="x",
            text="y",
        )


def test_a_tender_without_an_award_cannot_be_challenged(build_ranked, clock):
    ranked = build_ranked()  # a tender of its own: the module's shared one is awarded
    bidder = ranked.bidder_of(ranked.bid_at(2))
    with translation.override("en"), pytest.raises(ValidationError, match="award in force"):
        services.challenge_file(
            tender=ranked.tender, actor=bidder.admin, subject="提前质疑", text="尚未定标。"
        )
    assert not Challenge.objects.exists()


def test_a_renamed_executable_is_refused_and_nothing_is_saved(awarded, clock, settings):
    clock.set(local(2026, 10, 9, 9, 0))
    fake = SimpleUploadedFile("证据.pdf", EXECUTABLE, content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        file_challenge(awarded, uploads=[pdf(), fake])
    messages = refused.value.message_dict["documents"]
    assert len(messages) == 1
    assert messages[0].startswith("证据.pdf: ")
    assert "program" in messages[0] or "程序" in messages[0]
    assert not Challenge.objects.exists()
    assert not ChallengeDocument.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CHALLENGE_FILED).exists()
    media = Path(settings.MEDIA_ROOT) / "challenges"
    assert not media.exists() or not any(media.rglob("*"))


def test_more_than_ten_documents_are_refused(awarded, clock):
    clock.set(local(2026, 10, 9, 9, 0))
    uploads = [pdf(f"f{i}.pdf", str(i).encode()) for i in range(11)]
    with translation.override("en"), pytest.raises(ValidationError, match="at most 10"):
        file_challenge(awarded, uploads=uploads)
    assert not Challenge.objects.exists()


def test_a_challenge_needs_a_subject_and_grounds(awarded, clock):
    clock.set(local(2026, 10, 9, 9, 0))
    with pytest.raises(ValidationError) as refused:
        file_challenge(awarded, subject=" ", text="")
    assert set(refused.value.message_dict) == {"subject", "text"}


# --- Answering and deciding --------------------------------------------------------------------


@pytest.fixture
def filed(awarded, clock):
    clock.set(local(2026, 10, 9, 9, 0))
    return file_challenge(awarded, uploads=[pdf()])


def test_an_official_answers_and_the_challenger_is_told(
    filed, official, clock, django_capture_on_commit_callbacks
):
    clock.set(local(2026, 10, 12, 10, 0))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        challenge = answered(filed, official, upheld=False)
    assert challenge.status == ChallengeStatus.ANSWERED
    assert challenge.answered_by == official
    assert challenge.upheld is False
    assert challenge.remedy == ""
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_ANSWERED)
    assert (event.state_before, event.state_after) == ("filed", "answered")
    assert event.details["late"] is False
    # The member who filed it and the organization's admin.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [filed.filed_by.email, filed.organization.members.get(role="org_admin").email]
    )
    assert "经复核，评分无误。" in mail.outbox[0].body


def test_an_answer_needs_text_and_an_upheld_one_a_remedy(filed, official):
    with pytest.raises(ValidationError) as refused:
        services.challenge_answer(challenge=filed, actor=official, answer="", upheld=True)
    assert set(refused.value.message_dict) == {"answer", "remedy"}
    with pytest.raises(ValidationError) as refused:
        services.challenge_answer(
            challenge=filed, actor=official, answer="不成立。", upheld=False, remedy="reopen_award"
        )
    assert "remedy" in refused.value.message_dict
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.FILED


@pytest.mark.parametrize("persona", ["org_admin", "assessor", "auditor", "registry_admin"])
def test_only_officials_answer(request, filed, persona):
    with pytest.raises(PermissionDenied):
        answered(filed, request.getfixturevalue(persona), upheld=False)


def test_a_challenge_is_answered_once(filed, official):
    answered(filed, official, upheld=False)
    with translation.override("en"), pytest.raises(ValidationError, match="answered already"):
        answered(filed, official, upheld=True, remedy="reopen_award")


def test_the_approver_who_answered_does_not_decide(filed, approver, second_approver):
    answered(filed, approver, upheld=False)
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="different approver") as refused,
    ):
        services.challenge_decide(challenge=filed, actor=approver)
    assert refused.value.code == "four_eyes"
    services.challenge_decide(challenge=filed, actor=second_approver)
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.REJECTED


@pytest.mark.parametrize("persona", ["official", "org_admin", "auditor"])
def test_only_an_approver_decides(request, filed, official, persona):
    answered(filed, official, upheld=False)
    with pytest.raises(PermissionDenied):
        services.challenge_decide(challenge=filed, actor=request.getfixturevalue(persona))


def test_a_challenge_is_decided_only_after_its_answer(filed, approver):
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="Only an answered challenge"),
    ):
        services.challenge_decide(challenge=filed, actor=approver)


def test_a_rejected_challenge_leaves_the_award_standing(
    awarded, filed, official, approver, django_capture_on_commit_callbacks
):
    answered(filed, official, upheld=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        challenge = services.challenge_decide(
            challenge=filed, actor=approver, note="维持原评审结果。"
        )
    assert challenge.status == ChallengeStatus.REJECTED
    assert challenge.decided_by == approver
    assert challenge.decision_note == "维持原评审结果。"
    assert Tender.objects.get(pk=awarded.tender.pk).status == TenderStatus.AWARDED
    assert Award.objects.get(tender=awarded.tender).status == AwardStatus.ACTIVE
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_REJECTED)
    assert (event.state_before, event.state_after) == ("answered", "rejected")
    assert not AuditEvent.objects.filter(action=AuditAction.TENDER_AWARD_WITHDRAWN).exists()
    assert len(mail.outbox) == 2  # the challenger's member and admin; nobody else


def test_an_upheld_challenge_reopens_the_award_for_a_new_confirmation(
    awarded, filed, official, approver, clock, django_capture_on_commit_callbacks
):
    first, second = awarded.bid_at(1), awarded.bid_at(2)
    answered(filed, official, upheld=True, remedy="reopen_award")
    clock.set(local(2026, 10, 13, 15, 0))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        challenge = services.challenge_decide(challenge=filed, actor=approver)

    assert challenge.status == ChallengeStatus.ACCEPTED
    tender = Tender.objects.get(pk=awarded.tender.pk)
    assert tender.status == TenderStatus.EVALUATING
    old = Award.objects.get(tender=tender)
    assert old.status == AwardStatus.WITHDRAWN
    assert old.withdrawn_at == local(2026, 10, 13, 15, 0)
    assert old.withdrawn_reason
    assert set(Bid.objects.filter(tender=tender).values_list("status", flat=True)) == {
        BidStatus.RANKED
    }
    # The ranking and the panel stay as they were.
    assert RankingRow.objects.filter(ranking__tender=tender).count() == 4
    assert Panel.objects.get(tender=tender).status == PanelStatus.RANKED
    assert selectors.award_notice(tender) is None

    withdrawn = AuditEvent.objects.get(action=AuditAction.TENDER_AWARD_WITHDRAWN)
    assert (withdrawn.state_before, withdrawn.state_after) == ("awarded", "evaluating")
    assert withdrawn.details["award_withdrawn"] == old.pk
    assert len(withdrawn.details["bids_reset"]) == 4
    upheld = AuditEvent.objects.get(action=AuditAction.CHALLENGE_UPHELD)
    assert upheld.details["remedy"] == "reopen_award"
    assert upheld.details["tender_status"] == "evaluating"
    # The challenger's two users, and both users of each of the three other bidders.
    assert len(mail.outbox) == 8
    others = [m for m in mail.outbox if m.to[0] not in {u.email for u in _users(filed)}]
    assert all(filed.organization.name not in m.body for m in others)

    # An approver confirms again: another bid, with its reason.
    with pytest.raises(ValidationError):
        services.award_confirm(tender=tender, actor=approver, bid=second)
    award = services.award_confirm(
        tender=tender, actor=approver, bid=second, reason="质疑成立，第一名的报价文件不符合要求。"
    )
    assert award.position == 2
    assert Bid.objects.get(pk=second.pk).status == BidStatus.WON
    assert Bid.objects.get(pk=first.pk).status == BidStatus.LOST
    # A new notice and a new window from the new confirmation (Tuesday 10-13).
    assert award.challenge_deadline == date(2026, 10, 22)
    notice = selectors.award_notice(Tender.objects.get(pk=tender.pk))
    assert notice is not None
    assert notice.winner_name == second.organization.name
    assert Award.objects.filter(tender=tender).count() == 2


def _users(challenge):
    return challenge.organization.members.all()


def test_an_upheld_challenge_reopens_the_evaluation(
    awarded, filed, official, approver, django_capture_on_commit_callbacks
):
    third = loser(awarded, position=3)
    answered(filed, official, upheld=True, remedy="reopen_evaluation")
    with django_capture_on_commit_callbacks(execute=True):
        services.challenge_decide(challenge=filed, actor=approver, note="重新评审。")

    tender = Tender.objects.get(pk=awarded.tender.pk)
    assert tender.status == TenderStatus.EVALUATING
    assert set(Bid.objects.filter(tender=tender).values_list("status", flat=True)) == {
        BidStatus.QUALIFIED
    }
    panel = Panel.objects.get(tender=tender)
    assert panel.status == PanelStatus.SCORING
    assert set(ScoreSheet.objects.filter(member__panel=panel).values_list("status", flat=True)) == {
        SheetStatus.REOPENED
    }
    assert not Ranking.objects.filter(tender=tender).exists()
    assert not RankingRow.objects.exists()
    assert Award.objects.get(tender=tender).status == AwardStatus.WITHDRAWN
    assert selectors.award_notice(tender) is None
    assert selectors.bid_result_for_user(third.admin, tender) is None

    # The frozen ranking is kept in the audit log, every row with its scores.
    reopened = AuditEvent.objects.get(action=AuditAction.TENDER_EVALUATION_REOPENED)
    frozen = reopened.details["ranking"]["rows"]
    assert [row["position"] for row in frozen] == [1, 2, 3, 4]
    assert {k: Decimal(v) for k, v in frozen[0]["criterion_scores"].items()} == {
        "plan": Decimal("45"),
        "grade": Decimal("16"),
    }
    assert Decimal(frozen[0]["total"]) == Decimal("87.88")
    assert reopened.details["panel"] == {"state_before": "ranked", "state_after": "scoring"}
    assert len(reopened.details["sheets_reopened"]) == 20
    assert AuditEvent.objects.filter(action=AuditAction.SCORESHEET_REOPENED).count() == 20
    assert AuditEvent.objects.filter(action=AuditAction.CHALLENGE_UPHELD).count() == 1
    # Nothing to award until the panel ranks again.
    with translation.override("en"), pytest.raises(ValidationError, match="no frozen ranking"):
        services.award_confirm(tender=tender, actor=approver, bid=awarded.bids[0])


def test_a_cancelled_tender_cannot_take_a_remedy(awarded, filed, official, approver):
    answered(filed, official, upheld=True, remedy="reopen_award")
    services.tender_cancel(tender=awarded.tender, actor=official, reason="项目取消。")
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="remedy cannot be applied"),
    ):
        services.challenge_decide(challenge=filed, actor=approver)
    assert Challenge.objects.get(pk=filed.pk).status == ChallengeStatus.ANSWERED


def test_no_new_award_while_a_challenge_of_the_old_one_is_pending(
    awarded, clock, official, approver
):
    clock.set(local(2026, 10, 9, 9, 0))
    first = file_challenge(awarded, position=2)
    second = file_challenge(awarded, position=3, subject="评分不公")
    answered(first, official, upheld=True, remedy="reopen_award")
    services.challenge_decide(challenge=first, actor=approver)
    with translation.override("en"), pytest.raises(ValidationError, match="waits for its answer"):
        services.award_confirm(
            tender=awarded.tender, actor=approver, bid=awarded.bid_at(1), reason="再次确认。"
        )
    answered(second, official, upheld=False)
    services.challenge_decide(challenge=second, actor=approver)
    services.award_confirm(tender=awarded.tender, actor=approver, bid=awarded.bid_at(1))


# --- Closing and the challenge window ------------------------------------------------------------


def test_an_official_closes_a_decided_challenge(filed, official, approver):
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="Only a decided challenge"),
    ):
        services.challenge_close(challenge=filed, actor=official)
    answered(filed, official, upheld=False)
    services.challenge_decide(challenge=filed, actor=approver)
    with pytest.raises(PermissionDenied):
        services.challenge_close(challenge=filed, actor=filed.filed_by)
    challenge = services.challenge_close(challenge=filed, actor=official)
    assert challenge.status == ChallengeStatus.CLOSED
    assert challenge.closed_at is not None
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_CLOSED)
    assert event.actor == official
    assert event.details["automatic"] is False


def test_the_periodic_task_closes_decided_challenges_after_the_window(
    awarded, clock, official, approver
):
    clock.set(local(2026, 10, 9, 9, 0))
    decided = file_challenge(awarded, position=2)
    pending = file_challenge(awarded, position=3, subject="评分不公")
    answered(decided, official, upheld=False)
    services.challenge_decide(challenge=decided, actor=approver)

    clock.set(local(2026, 10, 15, 12, 0))  # the window is still open
    assert services.challenges_close_due() == 0
    clock.set(local(2026, 10, 16, 1, 0))  # over, but one challenge is pending
    assert services.challenges_close_due() == 0
    assert not services.tender_ready_for_contract(awarded.tender)

    answered(pending, official, upheld=False)
    services.challenge_decide(challenge=pending, actor=approver)
    out = io.StringIO()
    call_command("close_challenge_windows", stdout=out)
    assert "2 challenge(s) closed" in out.getvalue()
    assert set(Challenge.objects.values_list("status", flat=True)) == {ChallengeStatus.CLOSED}
    events = AuditEvent.objects.filter(action=AuditAction.CHALLENGE_CLOSED)
    assert events.count() == 2
    assert all(e.actor is None and e.details["automatic"] for e in events)
    assert services.tender_ready_for_contract(Tender.objects.get(pk=awarded.tender.pk))
    assert services.challenges_close_due() == 0


def test_an_overdue_answer_shows_in_the_official_workspace(filed, clock, official):
    # Filed on Friday 10-09; 7 working days: 10-10 (an adjusted working Saturday), 10-12,
    # 13, 14, 15, 16, 19.
    assert filed.answer_due == date(2026, 10, 19)
    clock.set(local(2026, 10, 19, 17, 0))
    assert list(selectors.challenges_overdue()) == []
    clock.set(local(2026, 10, 20, 9, 0))
    assert list(selectors.challenges_overdue()) == [filed]
    summary = selectors.challenge_list_for_user(official)[0]
    assert summary.overdue
    challenge = answered(filed, official, upheld=False)
    assert list(selectors.challenges_overdue()) == []
    event = AuditEvent.objects.get(action=AuditAction.CHALLENGE_ANSWERED)
    assert event.details["late"] is True
    assert challenge.status == ChallengeStatus.ANSWERED


# --- Who reads challenges -------------------------------------------------------------------------


def test_the_street_office_and_auditors_read_every_challenge(filed, official, auditor, approver):
    for user in (official, approver, auditor):
        [summary] = selectors.challenge_list_for_user(user)
        assert summary.organization_name == filed.organization.name
        assert summary.text == filed.text
        assert selectors.challenge_get_for_user(user, filed.pk) == filed


def test_the_challenger_reads_its_own_challenge_and_documents(filed):
    member = filed.filed_by
    [summary] = selectors.challenge_list_for_user(member, filed.tender)
    assert summary.own
    assert summary.organization_name == filed.organization.name
    assert selectors.challenge_get_for_user(member, filed.pk) == filed
    document = ChallengeDocument.objects.get(challenge=filed)
    _doc, name, data = selectors.challenge_document_for_download(member, document.pk)
    assert name == "评分记录.pdf"
    assert data == PDF


def test_other_bidders_see_answered_challenges_without_the_challenger(awarded, filed, official):
    other = loser(awarded, position=4)
    assert selectors.challenge_list_for_user(other.admin) == []  # not answered yet
    answered(filed, official, upheld=False)
    [summary] = selectors.challenge_list_for_user(other.admin, awarded.tender)
    assert summary.subject == filed.subject
    assert summary.answer == "经复核，评分无误。"
    assert summary.upheld is False
    assert summary.organization_name is None
    assert summary.text == ""
    assert not summary.own
    with pytest.raises(Http404):
        selectors.challenge_get_for_user(other.admin, filed.pk)
    document = ChallengeDocument.objects.get(challenge=filed)
    with pytest.raises(Http404):
        selectors.challenge_document_for_download(other.admin, document.pk)


@pytest.mark.parametrize("persona", ["outsider", "assessor", "registry_admin"])
def test_nobody_else_reads_challenges(request, filed, official, persona):
    answered(filed, official, upheld=False)
    user = request.getfixturevalue(persona)
    assert selectors.challenge_list_for_user(user) == []
    with pytest.raises(Http404):
        selectors.challenge_get_for_user(user, filed.pk)
    with pytest.raises(Http404):
        selectors.challenge_document_for_download(
            user, ChallengeDocument.objects.get(challenge=filed).pk
        )


def test_an_organization_that_did_not_bid_elsewhere_sees_nothing(filed, official, clock):
    answered(filed, official, upheld=False)
    stranger = make_bidder("另一家机构")
    assert selectors.challenge_list_for_user(stranger.admin) == []


# --- The predicates ---------------------------------------------------------------------------


def test_the_challenge_predicates_follow_state_and_four_eyes(
    filed, official, approver, second_approver, auditor
):
    member = filed.filed_by
    assert permissions.can_view_challenge(member, filed)
    assert permissions.can_view_challenge(auditor, filed)
    assert permissions.can_answer_challenge(official, filed)
    assert permissions.can_answer_challenge(approver, filed)
    assert not permissions.can_answer_challenge(member, filed)
    assert not permissions.can_decide_challenge(approver, filed)  # not answered yet
    assert not permissions.can_close_challenge(official, filed)
    answered(filed, approver, upheld=False)
    filed = Challenge.objects.get(pk=filed.pk)
    assert not permissions.can_decide_challenge(approver, filed)  # answered it
    assert permissions.can_decide_challenge(second_approver, filed)
    assert not permissions.can_decide_challenge(official, filed)
    assert permissions.can_file_challenge(member, filed.tender)
    assert not permissions.can_file_challenge(official, filed.tender)


def test_after_a_reopened_evaluation_the_panel_ranks_again_and_a_new_award_follows(
    awarded, filed, official, approver, clock
):
    """The whole way back: the panel scores the reopened sheets again (the fourth bid's
    plan now best), the ranking is computed afresh and an approver awards its new first."""
    fourth = awarded.bid_at(4)
    answered(filed, official, upheld=True, remedy="reopen_evaluation")
    services.challenge_decide(challenge=filed, actor=approver)
    clock.set(local(2026, 10, 19, 9, 0))
    panel = Panel.objects.get(tender=awarded.tender)
    for sheet in ScoreSheet.objects.filter(member__panel=panel).select_related("member__user"):
        score = "50" if sheet.bid_id == fourth.pk else "30"
        scoresheet_save(
            sheet=sheet,
            actor=sheet.member.user,
            scores=[{"criterion": "plan", "score": score, "reason": "重新评审"}],
        )
        scoresheet_submit(sheet=sheet, actor=sheet.member.user)

    assert Panel.objects.get(pk=panel.pk).status == PanelStatus.RANKED
    ranking = Ranking.objects.get(tender=awarded.tender)
    assert ranking.version == 1  # computed afresh, not a correction of the old one
    assert RankingRow.objects.get(ranking=ranking, position=1).bid_id == fourth.pk
    award = services.award_confirm(tender=awarded.tender, actor=approver, bid=fourth)
    assert award.position == 1
    assert award.challenge_deadline == date(2026, 10, 28)  # Mon 10-19 + 7 working days
    assert Tender.objects.get(pk=awarded.tender.pk).status == TenderStatus.AWARDED
    assert Bid.objects.get(pk=fourth.pk).status == BidStatus.WON
