"""API v1 award: an approver confirms the winner from the frozen ranking, the award notice is
public, each bidder reads its own result, and after the award the ranking's summary is public
(the bidder's own row in full).

The ranked tender (tests/tenders/test_award.py's) is built once for the module; each test
rolls back to it and the awarded tests award it themselves."""

from __future__ import annotations

import uuid

import pytest

from marketplace.models import AuditAction
from tenders.models import Award, BidStatus, TenderStatus
from tests.evaluation.test_api_support import (
    ERROR_KEYS,
    anonymous,
    api,
    delete,
    events,
    is_error,
    post,
    put,
)
from tests.tenders import test_award as _award
from tests.tenders.test_award import AWARD_DAY, TOTALS

# The award tests' fixtures (assigned, not imported, as tests/evaluation/conftest.py does);
# the module builds its own ranked tender once.
_ranked_once = _award._ranked_once
ranked = _award.ranked
awarded = _award.awarded
build_ranked = _award.build_ranked
second_official = _award.second_official

MISSING = 999_999


def award_url(tender) -> str:
    pk = tender if isinstance(tender, int) else tender.pk
    return f"/api/v1/tenders/{pk}/award/"


def result_url(tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/result/"


def ranking_url(tender) -> str:
    return f"/api/v1/tenders/{tender.pk}/ranking/"


@pytest.fixture
def award_day(ranked, clock):
    clock.set(AWARD_DAY)
    return ranked


# --- Confirming the award ---------------------------------------------------------------------


def test_the_approver_awards_the_first_ranked_bid_in_the_contract_shape(award_day, approver):
    winner = award_day.bid_at(1)

    response = post(api(approver), award_url(award_day.tender), {"bid": str(winner.pk)})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["id"], body["status"]) == (award_day.tender.pk, "awarded")
    award = body["award"]
    stored = Award.objects.get()
    assert award["id"] == stored.pk
    assert (award["bid"], award["position"], award["status"]) == (str(winner.pk), 1, "active")
    assert award["organization"] == award_day.bidder_of(winner).organization.name
    assert award["price"] == "480000.00"
    assert award["challenge_deadline"] == stored.challenge_deadline.isoformat()
    (event,) = events(AuditAction.TENDER_AWARDED)
    assert event.actor_id == approver.pk
    award_day.refresh()
    assert award_day.tender.status == TenderStatus.AWARDED
    assert award_day.bid_at(1).status == BidStatus.WON


def test_another_ranked_bid_wins_only_with_a_reason(award_day, approver):
    second = award_day.bid_at(2)

    response = post(
        api(approver),
        award_url(award_day.tender),
        {"bid": str(second.pk), "reason": "第一名放弃中标。"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["award"]["position"] == 2
    assert Award.objects.get().reason == "第一名放弃中标。"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"bid": "second"}, "reason"),
        ({}, "bid"),
        ({"bid": "not-a-uuid"}, "bid"),
        ({"bid": str(uuid.UUID(int=7))}, "bid"),
        ({"bid": "first", "winner": True}, "winner"),
    ],
)
def test_bad_award_input_names_the_field_and_awards_nothing(award_day, approver, data, field):
    if data.get("bid") in ("first", "second"):
        data = {**data, "bid": str(award_day.bid_at(1 if data["bid"] == "first" else 2).pk)}

    response = post(api(approver), award_url(award_day.tender), data)

    assert is_error(response, 400, field), response.content
    assert not Award.objects.exists()
    award_day.refresh()
    assert award_day.tender.status == TenderStatus.EVALUATING
    assert events(AuditAction.TENDER_AWARDED) == []


def test_a_bid_of_another_tender_does_not_win(award_day, approver, build_ranked):
    other = build_ranked()

    response = post(api(approver), award_url(award_day.tender), {"bid": str(other.bid_at(1).pk)})

    assert is_error(response, 400, "bid")
    assert not Award.objects.exists()


@pytest.mark.parametrize("persona", ["official", "assessor", "auditor", "org_admin"])
def test_only_an_approver_confirms_the_award(request, award_day, persona):
    response = post(
        api(request.getfixturevalue(persona)),
        award_url(award_day.tender),
        {"bid": str(award_day.bid_at(1).pk)},
    )

    assert is_error(response, 403)
    assert not Award.objects.exists()


def test_a_bidder_does_not_award_itself(award_day):
    winner = award_day.bid_at(1)
    client = api(award_day.bidder_of(winner).admin)

    assert is_error(post(client, award_url(award_day.tender), {"bid": str(winner.pk)}), 403)
    assert not Award.objects.exists()


def test_an_award_needs_a_signed_in_approver(award_day):
    response = post(anonymous(), award_url(award_day.tender), {"bid": str(award_day.bid_at(1).pk)})
    assert is_error(response, 401)
    assert not Award.objects.exists()


def test_a_second_award_is_refused(awarded, approver):
    response = post(api(approver), award_url(awarded.tender), {"bid": str(awarded.bid_at(2).pk)})

    assert is_error(response, 400)
    assert Award.objects.count() == 1


def test_a_missing_tender_is_a_404(approver, db):
    response = post(api(approver), award_url(MISSING), {"bid": str(uuid.uuid4())})
    assert is_error(response, 404)


@pytest.mark.parametrize("method", [put, delete])
def test_the_award_is_not_replaced_or_deleted(awarded, approver, method):
    args = (award_url(awarded.tender), {}) if method is put else (award_url(awarded.tender),)
    response = method(api(approver), *args)
    assert response.status_code == 405
    assert set(response.json()) == ERROR_KEYS
    assert Award.objects.count() == 1


# --- The award notice -------------------------------------------------------------------------


def test_the_award_notice_is_public(awarded):
    response = anonymous().get(award_url(awarded.tender))

    assert response.status_code == 200, response.content
    body = response.json()
    winner = awarded.bidder_of(awarded.bid_at(1)).organization
    assert body["winner"] == {"name": winner.name, "uscc": winner.uscc}
    assert (body["price"], body["position"]) == ("480000.00", 1)
    assert [row["total"] for row in body["ranking"]] == [str(total) for total in TOTALS]
    assert [row["won"] for row in body["ranking"]] == [True, False, False, False]
    assert set(body["ranking"][0]) == {
        "position",
        "organization",
        "price",
        "total",
        "rank",
        "tied",
        "won",
    }
    assert body["challenge_deadline"] == Award.objects.get().challenge_deadline.isoformat()


def test_there_is_no_notice_before_the_award(ranked, official):
    for client in (anonymous(), api(official)):
        assert is_error(client.get(award_url(ranked.tender)), 404)


def test_the_notice_of_a_hidden_or_missing_tender_is_the_same_404(make_tender, db):
    draft = make_tender(published=False)
    hidden = anonymous().get(award_url(draft))
    missing = anonymous().get(award_url(MISSING))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# --- The bidder's own result and the public ranking ---------------------------------------------


def test_the_winner_reads_its_own_result(awarded):
    winner = awarded.bid_at(1)

    response = api(awarded.bidder_of(winner).member).get(result_url(awarded.tender))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["bid"], body["won"], body["position"], body["rank"]) == (
        str(winner.pk),
        True,
        1,
        1,
    )
    assert (body["total"], body["ranked"]) == (str(TOTALS[0]), 4)
    assert {line["code"]: line["score"] for line in body["criteria"]} == {
        "price": "26.88",
        "plan": "45.00",
        "grade": "16.00",
    }


def test_a_loser_reads_its_own_result_and_nobody_elses(awarded):
    loser = awarded.bid_at(3)

    body = api(awarded.bidder_of(loser).admin).get(result_url(awarded.tender)).json()

    assert (body["bid"], body["won"], body["position"]) == (str(loser.pk), False, 3)


def test_an_organization_that_did_not_bid_has_no_result(awarded, outsider):
    assert is_error(api(outsider).get(result_url(awarded.tender)), 404)


def test_no_result_before_the_award(ranked):
    bidder = ranked.bidder_of(ranked.bid_at(1))
    assert is_error(api(bidder.admin).get(result_url(ranked.tender)), 404)


@pytest.mark.parametrize("persona", ["official", "auditor", "assessor"])
def test_the_result_is_for_bidders_only(request, awarded, persona):
    assert is_error(api(request.getfixturevalue(persona)).get(result_url(awarded.tender)), 403)


def test_the_result_needs_a_signed_in_caller_and_is_read_only(awarded):
    assert is_error(anonymous().get(result_url(awarded.tender)), 401)
    bidder = awarded.bidder_of(awarded.bid_at(1))
    assert post(api(bidder.admin), result_url(awarded.tender), {}).status_code == 405


def test_after_the_award_the_public_reads_the_rankings_summary(awarded):
    response = anonymous().get(ranking_url(awarded.tender))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["full"] is False
    for row in body["rows"]:
        assert {"bid", "organization", "price", "total", "rank", "tied"} <= set(row)
        assert row["price_score"] is None
        assert row["criterion_scores"] is None
        assert row["member_scores"] is None
    assert body["corrections"] == []


def test_after_the_award_a_bidder_reads_its_own_row_in_full(awarded):
    loser = awarded.bid_at(2)

    body = api(awarded.bidder_of(loser).member).get(ranking_url(awarded.tender)).json()

    own = [row for row in body["rows"] if row["own"]]
    assert [row["bid"] for row in own] == [str(loser.pk)]
    assert own[0]["criterion_scores"] == {"plan": "40.00", "grade": "16.00"}
    assert all(row["price_score"] is None for row in body["rows"] if not row["own"])
