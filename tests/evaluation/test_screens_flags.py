"""OCDS red flags and links between competing bidders (evaluation/screens.py): pure data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evaluation.screens import (
    FLAG_COLUMNS,
    R003_MIN_DAYS,
    bidder_links,
    close_second_price,
    frequent_losing_bidder,
    identical_prices,
    red_flags,
    short_submission_period,
    single_valid_bid,
    winner_far_below,
)


def bids(*rows: tuple) -> pd.DataFrame:
    """Rows of (tender, bid, org, price, valid, winner)."""
    return pd.DataFrame(rows, columns=["tender", "bid", "org", "price", "valid", "winner"])


def flagged(frame: pd.DataFrame, column: str = "tender") -> set:
    return set(frame[column])


def test_single_valid_bid_is_flagged_even_when_others_were_disqualified():
    data = bids(
        (1, "a", "A", 100.0, True, 1),
        (1, "b", "B", 90.0, False, 0),
        (2, "c", "A", 100.0, True, 1),
        (2, "d", "B", 110.0, True, 0),
    )
    result = single_valid_bid(data)
    assert flagged(result) == {1}
    assert result.iloc[0]["evidence"] == {"bid": "a", "price": 100.0, "bids_received": 2}


def test_identical_prices_within_one_fen_are_flagged_and_near_misses_are_not():
    data = bids(
        (1, "a", "A", 1000.00, True, 1),
        (1, "b", "B", 1000.004, True, 0),
        (1, "c", "C", 1200.00, True, 0),
        (2, "d", "A", 1000.00, True, 1),
        (2, "e", "B", 1000.02, True, 0),
        # A disqualified bid at the same price does not count.
        (3, "f", "A", 500.0, True, 1),
        (3, "g", "B", 500.0, False, 0),
    )
    result = identical_prices(data)
    assert flagged(result) == {1}
    assert result.iloc[0]["evidence"]["bids"] == ["a", "b"]
    assert result.iloc[0]["evidence"]["orgs"] == ["A", "B"]


def test_second_price_within_one_percent_of_the_winner_is_flagged():
    data = bids(
        (1, "a", "A", 1000.0, True, 1),
        (1, "b", "B", 1009.0, True, 0),
        (2, "c", "A", 1000.0, True, 1),
        (2, "d", "B", 1011.0, True, 0),
    )
    result = close_second_price(data)
    assert flagged(result) == {1}
    evidence = result.iloc[0]["evidence"]
    assert evidence["gap"] == pytest.approx(0.009)
    assert evidence["next_price"] == 1009.0
    assert evidence["threshold"] == 0.01


def test_winner_is_the_lowest_price_when_no_winner_is_recorded():
    data = pd.DataFrame(
        {"tender": [1, 1, 1], "bid": ["a", "b", "c"], "price": [1005.0, 1000.0, 1300.0]}
    )
    result = close_second_price(data)
    assert result.iloc[0]["evidence"]["bid"] == "b"


def test_a_tender_not_yet_awarded_is_screened_beside_awarded_ones():
    data = bids(
        (1, "a", "A", 1000.0, True, 1),
        (1, "b", "B", 1500.0, True, 0),
        (2, "c", "A", 1000.0, True, 0),
        (2, "d", "B", 1005.0, True, 0),
    )
    result = close_second_price(data)
    assert flagged(result) == {2}
    assert result.iloc[0]["evidence"]["bid"] == "c"


def test_winner_far_below_the_rest_is_flagged_and_a_smaller_discount_is_not():
    data = bids(
        (1, "a", "A", 70.0, True, 1),
        (1, "b", "B", 98.0, True, 0),
        (1, "c", "C", 102.0, True, 0),
        (2, "d", "A", 76.0, True, 1),
        (2, "e", "B", 98.0, True, 0),
        (2, "f", "C", 102.0, True, 0),
    )
    result = winner_far_below(data)
    assert flagged(result) == {1}
    assert result.iloc[0]["evidence"]["discount"] == pytest.approx(0.30)
    assert result.iloc[0]["evidence"]["other_bids"] == 2


def test_frequent_losing_bidder_needs_many_bids_and_almost_no_wins():
    rows = []
    for t in range(6):
        rows.append((t, f"w{t}", "WIN", 100.0, True, 1))
        rows.append((t, f"l{t}", "LOSER", 105.0, True, 0))
        # Lost 4 of 5: below the 90 % share.
        if t < 5:
            rows.append((t, f"s{t}", "SOMETIMES", 103.0 if t else 90.0, True, int(t == 0)))
    data = bids(*rows)
    # Tender 0 has two recorded winners now: keep only the lower one.
    data.loc[(data["tender"] == 0) & (data["org"] == "WIN"), "winner"] = 0
    result = frequent_losing_bidder(data)
    assert flagged(result, "org") == {"LOSER"}
    evidence = result.iloc[0]["evidence"]
    assert evidence["bids"] == 6
    assert evidence["wins"] == 0
    assert evidence["tenders"] == [0, 1, 2, 3, 4, 5]
    assert result.iloc[0]["tender"] is None


def test_a_bidder_with_few_bids_is_not_a_frequent_loser():
    data = bids(*[(t, f"l{t}", "NEW", 105.0, True, 0) for t in range(4)])
    data = pd.concat([data, bids(*[(t, f"w{t}", "W", 100.0, True, 1) for t in range(4)])])
    assert frequent_losing_bidder(data).empty


def test_short_submission_period_depends_on_the_method():
    tenders = pd.DataFrame(
        {
            "tender": [1, 2, 3, 4],
            "published": pd.to_datetime(
                ["2026-03-01 09:00", "2026-03-01", "2026-03-01", "2026-03-01"],
                utc=True,
                format="ISO8601",
            ),
            "deadline": pd.to_datetime(
                ["2026-03-20 17:00", "2026-03-21", "2026-03-05", "2026-03-03"],
                utc=True,
                format="ISO8601",
            ),
            "method": ["open", "open", "negotiation", "negotiation"],
        }
    )
    result = short_submission_period(tenders)
    assert flagged(result) == {1, 4}
    first = result[result["tender"] == 1].iloc[0]["evidence"]
    assert first == {"days": 19, "minimum_days": R003_MIN_DAYS["open"], "method": "open"}


def test_red_flags_combine_every_flag_with_json_evidence():
    data = bids(
        (1, "a", "A", 100.0, True, 1),
        (2, "b", "A", 100.0, True, 1),
        (2, "c", "B", 100.0, True, 0),
    )
    tenders = pd.DataFrame(
        {"tender": [1], "published": ["2026-03-01"], "deadline": ["2026-03-02"], "method": [None]}
    )
    result = red_flags(data, tenders)
    assert list(result.columns) == FLAG_COLUMNS
    assert {"R018", "R028", "R024", "R003"} <= set(result["flag"])
    json.dumps(result["evidence"].tolist())


def test_red_flags_of_clean_tenders_are_empty():
    data = bids((1, "a", "A", 100.0, True, 1), (1, "b", "B", 120.0, True, 0))
    result = red_flags(data)
    assert result.empty
    assert list(result.columns) == FLAG_COLUMNS


def competing(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_competing_bids_sharing_a_person_phone_address_rep_or_document_are_linked():
    data = competing(
        {
            "tender": 1,
            "bid": "a",
            "org": "A",
            "people": [11, 12],
            "phones": ["+86 138-0013-8000"],
            "addresses": ["解放碑街道 民族路 88号"],
            "legal_rep": "张伟",
            "doc_hashes": ["ABC123"],
        },
        {
            "tender": 1,
            "bid": "b",
            "org": "B",
            "people": [12, 13],
            "phones": ["13800138000"],
            "addresses": ["解放碑街道民族路88号"],
            "legal_rep": "张 伟",
            "doc_hashes": ["abc123"],
        },
    )
    result = bidder_links(data)
    assert set(result["flag"]) == {
        "shared_person",
        "shared_phone",
        "shared_address",
        "shared_legal_representative",
        "identical_document",
    }
    person = result[result["flag"] == "shared_person"].iloc[0]
    assert person["evidence"]["people"] == [{"a": 12, "b": 12, "probability": 1.0, "fields": {}}]
    assert person["evidence"]["probability"] == 1.0
    phone = result[result["flag"] == "shared_phone"].iloc[0]
    # Under the key "phone", which the flag pages mask for all but auditors.
    assert phone["evidence"]["values"] == [{"phone": "13800138000"}]
    assert person["evidence"]["bids"] == ["a", "b"]
    assert person["evidence"]["orgs"] == ["A", "B"]
    assert person["tender"] == 1


def test_links_need_different_orgs_in_the_same_tender():
    data = competing(
        {"tender": 1, "bid": "a", "org": "A", "phones": ["13800138000"]},
        # Another tender: competitors there, not here.
        {"tender": 2, "bid": "b", "org": "B", "phones": ["13800138000"]},
        # The same organization's other bid is not a link between competitors.
        {"tender": 1, "bid": "c", "org": "A", "phones": ["13800138000"]},
        # A near miss: one digit differs.
        {"tender": 1, "bid": "d", "org": "D", "phones": ["13800138001"]},
    )
    assert bidder_links(data).empty


def test_links_tolerate_missing_columns_and_values():
    data = competing(
        {"tender": 1, "bid": "a", "org": "A", "people": None},
        {"tender": 1, "bid": "b", "org": "B", "people": []},
    )
    assert bidder_links(data).empty
    assert bidder_links(data.drop(columns=["people"])).empty


def linked(*pairs: tuple[int, int, float]) -> pd.DataFrame:
    """Record pairs as evaluation.linkage.link returns them."""
    return pd.DataFrame(
        [
            {"left_id": a, "right_id": b, "probability": p, "evidence": {"id_number": "one_digit"}}
            for a, b, p in pairs
        ]
    )


def test_two_records_that_linkage_takes_for_one_person_are_a_shared_person():
    data = competing(
        {"tender": 1, "bid": "a", "org": "A", "people": [1, 4]},
        {"tender": 1, "bid": "b", "org": "B", "people": [2]},
        {"tender": 1, "bid": "c", "org": "C", "people": [3]},  # a namesake: not linked
    )
    # Linked either way round; a link below the caller's cut-off never reaches here.
    for links in (linked((1, 2, 0.93)), linked((2, 1, 0.93))):
        result = bidder_links(data, person_links=links)
        assert list(result["flag"]) == ["shared_person"]
        evidence = result.iloc[0]["evidence"]
        assert evidence["bids"] == ["a", "b"]
        assert evidence["probability"] == 0.93
        (person,) = evidence["people"]
        assert {person["a"], person["b"]} == {1, 2}
        assert person["fields"] == {"id_number": "one_digit"}
    assert bidder_links(data).empty  # without linkage, three different records


def test_a_link_between_records_of_one_organization_is_not_a_shared_person():
    data = competing(
        {"tender": 1, "bid": "a", "org": "A", "people": [1, 2]},
        {"tender": 1, "bid": "b", "org": "B", "people": [3]},
        {"tender": 2, "bid": "c", "org": "C", "people": [2]},  # another tender
    )
    assert bidder_links(data, person_links=linked((1, 2, 0.99))).empty


def test_staff_phones_are_compared_with_the_organizations_phones():
    data = competing(
        {"tender": 1, "bid": "a", "org": "A", "phones": ["023-63821568"]},
        {"tender": 1, "bid": "b", "org": "B", "people_phones": [(5, "02363821568")]},
        {"tender": 1, "bid": "c", "org": "C", "people_phones": [(6, "13800138001")]},
    )
    result = bidder_links(data)
    assert list(result["flag"]) == ["shared_phone"]
    assert result.iloc[0]["evidence"]["bids"] == ["a", "b"]
    assert result.iloc[0]["evidence"]["values"] == [{"phone": "02363821568"}]


def test_a_phone_only_carried_by_a_shared_person_is_not_a_second_link():
    data = competing(
        {
            "tender": 1,
            "bid": "a",
            "org": "A",
            "people": [7, 8],
            "people_phones": [(7, "13800138000"), (8, "13900139000")],
        },
        {
            "tender": 1,
            "bid": "b",
            "org": "B",
            "people": [7, 9],
            "people_phones": [(7, "+86 138 0013 8000"), (9, "139 0013 9000")],
        },
    )
    # 7 is on both bids (its phone comes with it); 8 and 9 are two records of one person.
    result = bidder_links(data, person_links=linked((8, 9, 0.9)))
    assert list(result["flag"]) == ["shared_person"]
    assert len(result.iloc[0]["evidence"]["people"]) == 2
    # Different people with one phone are a link of their own.
    result = bidder_links(data)
    phones = result[result["flag"] == "shared_phone"].iloc[0]["evidence"]["values"]
    assert phones == [{"phone": "13900139000"}]
