"""The award pages: the approver's award page, the public award notice on the tender page,
the bidder's own result page, the organization's results and the award cards (DESIGN 3, 4.3).

State is built with the real services (the frozen ranking as tests/tenders/test_award.py
builds it): the ranked tender is built once for the module, each test rolls back to it."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from tenders import services
from tenders.models import Award, AwardStatus, Bid, BidStatus, Tender, TenderStatus
from tests.tenders import test_award as _award
from tests.tenders.conftest import make_bidder, submit_bid
from tests.tenders.test_award import AWARD_DAY, Ranked, local

# The award tests' fixtures (assigned, not imported, as tests/evaluation/conftest.py does);
# the module builds its own ranked tender once.
_ranked_once = _award._ranked_once
ranked = _award.ranked
awarded = _award.awarded
build_ranked = _award.build_ranked
second_official = _award.second_official

OTHER_ROLES = ["org_admin", "assessor", "registry_admin", "outsider"]
CJK = re.compile(r"[\u3400-\u9fff]")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def award_url(tender: Tender) -> str:
    return reverse("tenders:award", args=[tender.pk])


def result_url(tender: Tender) -> str:
    return reverse("tenders:result", args=[tender.pk])


def detail_url(tender: Tender) -> str:
    return reverse("tenders:detail", args=[tender.pk])


def without_data(html: str, data: list[str]) -> str:
    """The page without the data it shows (names, titles, texts keep their language)."""
    html = re.sub(r'<option[^>]*lang="zh-Hans"[^>]*>.*?</option>', "", html)
    for value in sorted(data, key=len, reverse=True):
        html = html.replace(value, "")
    return html


def data_of(ranked: Ranked) -> list[str]:
    tender = Tender.objects.get(pk=ranked.tender.pk)
    return [
        tender.title,
        *(bidder.organization.name for bidder in ranked.bidders),
        *tender.criteria.values_list("name", flat=True),
        *Award.objects.filter(tender=tender).values_list("reason", flat=True),
        *Award.objects.filter(tender=tender).values_list("withdrawn_reason", flat=True),
    ]


# --- The award page ------------------------------------------------------------------------------


def test_the_approver_sees_the_frozen_ranking_with_position_one_chosen(
    client_for, ranked, approver
):
    response = english(client_for(approver)).get(award_url(ranked.tender))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Frozen ranking" in html
    for bidder in ranked.bidders:
        assert bidder.organization.name in html
    for total in ("87.88", "84.67", "84.00", "73.45"):
        assert total in html
    form = response.context["form"]
    first = ranked.bid_at(1)
    assert form.initial["bid"] == str(first.pk)
    assert re.search(rf'value="{first.pk}"[^>]*checked', html)
    assert "Confirm the award and publish the notice" in html


def test_the_office_and_auditors_read_the_ranking_without_the_form(request, client_for, ranked):
    for persona in ("official", "auditor"):
        client = english(client_for(request.getfixturevalue(persona)))
        response = client.get(award_url(ranked.tender))
        assert response.status_code == 200
        assert response.context["form"] is None
        html = response.content.decode()
        assert "87.88" in html
        assert "Confirm the award and publish the notice" not in html


def test_nobody_else_opens_the_award_page(request, client_for, ranked):
    for persona in OTHER_ROLES:
        client = client_for(request.getfixturevalue(persona))
        assert client.get(award_url(ranked.tender)).status_code == 403, persona
        posted = client.post(award_url(ranked.tender), {"bid": str(ranked.bid_at(1).pk)})
        assert posted.status_code == 403, persona
    assert not Award.objects.exists()


def test_a_bidder_does_not_open_the_award_page(client_for, ranked):
    bidder = ranked.bidder_of(ranked.bid_at(2))
    assert client_for(bidder.admin).get(award_url(ranked.tender)).status_code == 403


def test_the_award_page_needs_a_sign_in(client, ranked):
    response = client.get(award_url(ranked.tender))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_award_page_of_a_missing_tender_is_404(client_for, approver, db):
    assert client_for(approver).get(reverse("tenders:award", args=[999_999])).status_code == 404


def test_the_award_page_answers_only_get_and_post(client_for, ranked, approver):
    client = client_for(approver)
    assert client.put(award_url(ranked.tender)).status_code == 405
    assert client.delete(award_url(ranked.tender)).status_code == 405


def test_the_approver_confirms_position_one(client_for, ranked, approver, clock):
    clock.set(AWARD_DAY)
    first = ranked.bid_at(1)
    client = english(client_for(approver))
    response = client.post(award_url(ranked.tender), {"bid": str(first.pk), "reason": ""})
    assert response.status_code == 302
    assert response.url == award_url(ranked.tender)

    award = Award.objects.get(tender=ranked.tender)
    assert (award.bid_id, award.position, award.confirmed_by) == (first.pk, 1, approver)
    assert Tender.objects.get(pk=ranked.tender.pk).status == TenderStatus.AWARDED
    event = AuditEvent.objects.get(action=AuditAction.TENDER_AWARDED)
    assert event.actor == approver
    assert event.details["bid"] == str(first.pk)

    page = client.get(response.url)
    html = page.content.decode()
    assert "challenges are accepted until 2026-10-15" in html  # the message
    assert "Award record" in html
    assert approver.get_full_name() in html
    assert "2026-09-30 10:00" in html  # confirmed and published
    assert "2026-10-08" in html  # public notice until
    assert "2026-10-15" in html  # challenges until
    assert page.context["form"] is None


def test_another_choice_without_a_reason_is_refused_on_the_field(
    client_for, ranked, approver, clock
):
    clock.set(AWARD_DAY)
    second = ranked.bid_at(2)
    response = english(client_for(approver)).post(
        award_url(ranked.tender), {"bid": str(second.pk), "reason": "  "}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["reason"]
    assert "position 2" in errors["reason"][0]
    assert "say why the first-ranked bid is not chosen" in response.content.decode()
    assert not Award.objects.exists()
    assert Tender.objects.get(pk=ranked.tender.pk).status == TenderStatus.EVALUATING
    assert not AuditEvent.objects.filter(action=AuditAction.TENDER_AWARDED).exists()


def test_another_choice_with_a_reason_is_awarded(client_for, ranked, approver, clock):
    clock.set(AWARD_DAY)
    second = ranked.bid_at(2)
    reason = "第一名放弃中标资格（书面声明附后）。"
    response = client_for(approver).post(
        award_url(ranked.tender), {"bid": str(second.pk), "reason": reason}
    )
    assert response.status_code == 302
    award = Award.objects.get(tender=ranked.tender)
    assert (award.bid_id, award.position, award.reason) == (second.pk, 2, reason)
    assert Bid.objects.get(pk=second.pk).status == BidStatus.WON
    # The reason is published with the notice.
    assert reason in english(client_for(approver)).get(detail_url(ranked.tender)).content.decode()


def test_a_bid_outside_the_ranking_is_refused_on_the_field(
    client_for, ranked, approver, make_tender, clock
):
    stranger, _receipt = submit_bid(make_tender(), make_bidder("别处的投标人"), "400000")
    clock.set(AWARD_DAY)
    client = client_for(approver)
    for value in (str(stranger.pk), "not-a-bid", ""):
        response = client.post(award_url(ranked.tender), {"bid": value})
        assert response.status_code == 200
        assert list(response.context["form"].errors) == ["bid"]
    assert not Award.objects.exists()


def test_an_official_who_is_not_an_approver_cannot_award(client_for, ranked, official, clock):
    clock.set(AWARD_DAY)
    response = client_for(official).post(
        award_url(ranked.tender), {"bid": str(ranked.bid_at(1).pk)}
    )
    assert response.status_code == 403
    assert not Award.objects.exists()


def test_a_second_award_is_refused_with_the_reason(client_for, awarded, approver):
    response = english(client_for(approver)).post(
        award_url(awarded.tender), {"bid": str(awarded.bid_at(2).pk), "reason": "再次定标。"}
    )
    assert response.status_code == 200
    assert "Only a tender under evaluation can be awarded" in response.content.decode()
    assert Award.objects.count() == 1


def test_before_the_ranking_the_page_says_so_and_keeps_the_seal(client_for, make_tender, approver):
    tender = make_tender()
    bidder = make_bidder("封存中的投标人")
    submit_bid(tender, bidder, "412345.67")
    response = english(client_for(approver)).get(award_url(tender))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no frozen ranking yet." in html
    assert bidder.organization.name not in html
    assert "412,345.67" not in html
    assert "412345.67" not in html
    assert response.context["form"] is None


def test_a_pending_correction_holds_the_award(client_for, ranked, approver, official):
    from django.utils import timezone

    from evaluation.models import RankingCorrection

    RankingCorrection.objects.create(
        ranking=ranked.tender.ranking,
        reason="arithmetic_error",
        explanation="合计有误。",
        requested_by=official,
        requested_at=timezone.now(),
    )
    response = english(client_for(approver)).get(award_url(ranked.tender))
    assert response.context["form"] is None
    assert "A correction of the ranking is pending" in response.content.decode()


def test_english_award_page_contains_no_chinese_outside_data(client_for, awarded, approver):
    html = english(client_for(approver)).get(award_url(awarded.tender)).content.decode()
    assert CJK.findall(without_data(html, data_of(awarded))) == []


def test_english_award_form_contains_no_chinese_outside_data(client_for, ranked, approver):
    html = english(client_for(approver)).get(award_url(ranked.tender)).content.decode()
    assert CJK.findall(without_data(html, data_of(ranked))) == []


# --- The public award notice ------------------------------------------------------------------


def test_the_award_notice_is_public_after_the_award_and_absent_before(
    client, ranked, approver, clock
):
    english(client)
    before = client.get(detail_url(ranked.tender))
    assert before.status_code == 200
    assert "Award notice" not in before.content.decode()
    assert before.context["award_notice"] is None

    clock.set(AWARD_DAY)
    winner = ranked.bid_at(1)
    services.award_confirm(tender=ranked.tender, actor=approver, bid=winner)
    after = client.get(detail_url(ranked.tender))
    html = after.content.decode()
    assert "Award notice" in html
    assert winner.organization.name in html
    assert winner.organization.uscc in html
    assert "480,000.00" in html  # the winning price
    assert "2026-09-30 10:00" in html  # published
    assert "2026-10-15" in html  # challenges until
    assert "Ranking summary" in html
    for bidder in ranked.bidders:
        assert bidder.organization.name in html
    for total in ("87.88", "84.67", "84.00", "73.45"):
        assert total in html
    # The summary: organization, price, total, rank; nothing about criteria or members.
    for price_score in ("26.88", "28.67", "27.45"):
        assert price_score not in html


def test_a_withdrawn_award_shows_as_withdrawn_with_its_reason(
    client, awarded, clock, official, approver
):
    clock.set(local(2026, 10, 9, 9, 0))
    loser = awarded.bidder_of(awarded.bid_at(2))
    challenge = services.challenge_file(
        tender=awarded.tender, actor=loser.admin, subject="价格分有误", text="应重新计算。"
    )
    services.challenge_answer(
        challenge=challenge,
        actor=official,
        answer="质疑成立。",
        upheld=True,
        remedy="reopen_award",
    )
    services.challenge_decide(challenge=challenge, actor=approver)
    award = Award.objects.get(tender=awarded.tender)
    assert award.status == AwardStatus.WITHDRAWN

    html = english(client).get(detail_url(awarded.tender)).content.decode()
    winner = awarded.bid_at(1).organization.name
    assert f"The award to {winner} published on 2026-09-30 10:00 was withdrawn." in html
    assert award.withdrawn_reason in html
    assert "Ranking summary" not in html  # no award in force, no notice


def test_english_tender_page_with_the_notice_contains_no_chinese_outside_data(client, awarded):
    html = english(client).get(detail_url(awarded.tender)).content.decode()
    tender = Tender.objects.get(pk=awarded.tender.pk)
    data = [*data_of(awarded), tender.description, tender.eligibility_notes]
    data += [c.name for c in tender.communities.all()]
    assert CJK.findall(without_data(html, [d for d in data if d])) == []


# --- The bidder's result ------------------------------------------------------------------------


def test_a_bidder_reads_its_own_scores_and_rank(client_for, awarded):
    third = awarded.bid_at(3)
    bidder = awarded.bidder_of(third)
    for user in (bidder.admin, bidder.member):
        response = english(client_for(user)).get(result_url(awarded.tender))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Your organization's bid was not chosen." in html
        assert "3 of 4" in html
        assert "84.00" in html  # own total
        assert "30.00" in html  # own price score (the lowest price)
        assert "38.00" in html  # own plan score
        assert "16.00" in html  # own grade score
        # Other bidders' criterion scores are not shown, only the public summary's totals.
        for other in ("26.88", "28.67", "27.45", "45.00", "40.00"):
            assert other not in html
        assert "87.88" in html  # the winner's total, from the public summary
        assert "File a challenge" in html  # the window is open


def test_the_winner_reads_that_it_won(client_for, awarded):
    winner = awarded.bidder_of(awarded.bid_at(1))
    html = english(client_for(winner.admin)).get(result_url(awarded.tender)).content.decode()
    assert "Your organization's bid won this tender." in html
    assert "1 of 4" in html


def test_no_result_before_the_award(client_for, ranked):
    bidder = ranked.bidder_of(ranked.bid_at(2))
    assert client_for(bidder.admin).get(result_url(ranked.tender)).status_code == 404


def test_nobody_but_bidders_has_a_result_page(request, client_for, awarded):
    for persona in ("official", "approver", "auditor", "assessor", "registry_admin"):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(result_url(awarded.tender)).status_code == 403, persona


def test_an_organization_that_did_not_bid_has_no_result(client_for, awarded, outsider):
    assert client_for(outsider).get(result_url(awarded.tender)).status_code == 404


def test_the_result_page_needs_a_sign_in_and_get(client, client_for, awarded):
    response = client.get(result_url(awarded.tender))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    bidder = awarded.bidder_of(awarded.bid_at(2))
    assert client_for(bidder.admin).post(result_url(awarded.tender)).status_code == 405


def test_english_result_page_contains_no_chinese_outside_data(client_for, awarded):
    bidder = awarded.bidder_of(awarded.bid_at(3))
    html = english(client_for(bidder.member)).get(result_url(awarded.tender)).content.decode()
    assert CJK.findall(without_data(html, data_of(awarded))) == []


def test_the_tender_page_links_a_bidder_to_its_result_and_the_challenge(client_for, awarded, clock):
    bidder = awarded.bidder_of(awarded.bid_at(2))
    client = english(client_for(bidder.member))
    html = client.get(detail_url(awarded.tender)).content.decode()
    assert result_url(awarded.tender) in html
    assert reverse("tenders:challenge_file", args=[awarded.tender.pk]) in html
    clock.set(local(2026, 10, 16, 9, 0))  # the window is over
    # A new sign-in: the session of two weeks ago has expired meanwhile.
    html = english(client_for(bidder.member)).get(detail_url(awarded.tender)).content.decode()
    assert result_url(awarded.tender) in html
    assert reverse("tenders:challenge_file", args=[awarded.tender.pk]) not in html


def test_the_tender_page_links_the_approver_to_the_award(client_for, ranked, approver, official):
    url = award_url(ranked.tender)
    assert url in client_for(approver).get(detail_url(ranked.tender)).content.decode()
    assert url not in client_for(official).get(detail_url(ranked.tender)).content.decode()


# --- The organization's results and the cards -------------------------------------------------


def test_my_bids_lists_the_results_with_the_challenge_window(client_for, awarded, clock):
    bidder = awarded.bidder_of(awarded.bid_at(2))
    client = english(client_for(bidder.admin))
    response = client.get(reverse("tenders:my_bids"))
    html = response.content.decode()
    [entry] = response.context["results"]
    assert entry.window_open
    assert not entry.won
    assert "Results" in html
    assert result_url(awarded.tender) in html
    assert reverse("tenders:challenge_file", args=[awarded.tender.pk]) in html
    assert awarded.bid_at(1).organization.name in html  # the winner
    clock.set(local(2026, 10, 16, 9, 0))
    client = english(client_for(bidder.admin))  # a new sign-in, the old session expired
    html = client.get(reverse("tenders:my_bids")).content.decode()
    assert "(closed)" in html
    assert reverse("tenders:challenge_file", args=[awarded.tender.pk]) not in html


def test_another_organization_has_no_results(client_for, awarded, outsider):
    response = client_for(outsider).get(reverse("tenders:my_bids"))
    assert response.context["results"] == []
    assert result_url(awarded.tender) not in response.content.decode()


def cards_of(client) -> dict[str, object]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    with translation.override("en"):
        return {str(card.title): card.value for card in response.context["cards"]}


def test_the_approvers_card_counts_rankings_to_award(client_for, ranked, approver, official, clock):
    assert cards_of(client_for(approver))["Rankings waiting for my award"] == 1
    assert "Rankings waiting for my award" not in cards_of(client_for(official))
    clock.set(AWARD_DAY)
    services.award_confirm(tender=ranked.tender, actor=approver, bid=ranked.bid_at(1))
    assert cards_of(client_for(approver))["Rankings waiting for my award"] == 0


def test_the_workspace_lists_rankings_to_award_for_approvers(
    client_for, ranked, approver, official
):
    response = english(client_for(approver)).get(reverse("tenders:workspace"))
    assert [t.pk for t in response.context["workspace"].to_award] == [ranked.tender.pk]
    html = response.content.decode()
    assert "Rankings waiting for my award" in html
    assert award_url(ranked.tender) in html
    plain = english(client_for(official)).get(reverse("tenders:workspace")).content.decode()
    assert "Rankings waiting for my award" not in plain


def test_the_organizations_cards_count_results_and_open_windows(client_for, awarded, clock):
    loser = awarded.bidder_of(awarded.bid_at(2))
    winner = awarded.bidder_of(awarded.bid_at(1))
    cards = cards_of(client_for(loser.admin))
    assert cards["Results of your bids"] == 1
    assert cards["Challenge windows open"] == 1
    assert "Challenge windows open" not in cards_of(client_for(winner.admin))
    clock.set(local(2026, 10, 16, 9, 0))
    cards = cards_of(client_for(loser.admin))
    assert cards["Results of your bids"] == 1
    assert "Challenge windows open" not in cards


def test_prices_in_the_award_notice_are_the_frozen_ones(client, awarded):
    notice = english(client).get(detail_url(awarded.tender)).context["award_notice"]
    assert [row.price for row in notice.rows] == [
        Decimal("480000.00"),
        Decimal("450000.00"),
        Decimal("430000.00"),
        Decimal("470000.00"),
    ]
