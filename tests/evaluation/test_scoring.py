"""Weighted scoring (综合评分法, DESIGN.md 4.4): worked examples checked by hand, to the cent.

The module is pure: these tests need no database.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.scoring import (
    BidInput,
    Criterion,
    RankedBid,
    abnormally_low,
    aggregate,
    deviations,
    price_scores,
    rank,
)


def d(*values: str | int) -> list[Decimal]:
    return [Decimal(str(value)) for value in values]


# The scheme of CONTRACTS.md section 2: price 30 + plan 50 + grade 20 = 100.
SCHEME = [
    Criterion(code="price", kind="price", points=Decimal("30")),
    Criterion(code="plan", kind="subjective", points=Decimal("50")),
    Criterion(code="grade", kind="objective", points=Decimal("20")),
]


def bid(key: str, price: str | None, plan: list[Decimal], grade: str, **extra) -> BidInput:
    return BidInput(
        key=key,
        price=None if price is None else Decimal(price),
        objective={"grade": Decimal(grade)},
        subjective={"plan": plan},
        **extra,
    )


# --- rank: worked examples ----------------------------------------------------------------------


def test_contract_example_is_scored_and_ranked_to_the_cent():
    bids = [
        bid("A", "480000", d(41, 44, 40, 45, 43), "16"),
        bid("B", "400000", d(38, 40, 36, 42, 39), "12"),
        # The lowest price, but invalid: it must not become the base.
        BidInput(key="C", price=Decimal("350000"), valid=False),
        bid("D", "450000", d(35, 37, 33, 36, 34), "20"),
    ]
    rows = rank(SCHEME, bids, trim_extremes=False)
    # base = 400000 (B, the lowest VALID price; C's 350000 is excluded).
    # A: price 400000/480000 × 30 = 25.00; plan (41+44+40+45+43)/5 = 213/5 = 42.60;
    #    grade 16.00; total 25 + 42.6 + 16 = 83.60.
    # D: price 400000/450000 × 30 = 26.666… → 26.67; plan (35+37+33+36+34)/5 = 175/5 = 35.00;
    #    grade 20.00; total 26.666… + 35 + 20 = 81.666… → 81.67.
    # B: price 400000/400000 × 30 = 30.00; plan (38+40+36+42+39)/5 = 195/5 = 39.00;
    #    grade 12.00; total 30 + 39 + 12 = 81.00.
    assert rows == [
        RankedBid(
            key="A",
            price_score=Decimal("25.00"),
            criterion_scores={"plan": Decimal("42.60"), "grade": Decimal("16.00")},
            total=Decimal("83.60"),
            rank=1,
            tied=False,
        ),
        RankedBid(
            key="D",
            price_score=Decimal("26.67"),
            criterion_scores={"plan": Decimal("35.00"), "grade": Decimal("20.00")},
            total=Decimal("81.67"),
            rank=2,
            tied=False,
        ),
        RankedBid(
            key="B",
            price_score=Decimal("30.00"),
            criterion_scores={"plan": Decimal("39.00"), "grade": Decimal("12.00")},
            total=Decimal("81.00"),
            rank=3,
            tied=False,
        ),
    ]


def test_returned_values_have_exactly_the_requested_places():
    rows = rank(SCHEME, [bid("A", "400000", d(40, 40, 40, 40, 40), "10")])
    # 30 + 40 + 10 = 80 shows as "80.00", not "80" or "8E+1".
    assert str(rows[0].total) == "80.00"
    assert str(rows[0].price_score) == "30.00"
    assert [str(v) for v in rows[0].criterion_scores.values()] == ["40.00", "10.00"]
    one_place = rank(SCHEME, [bid("A", "400000", d(40, 40, 40, 40, 40), "10")], places=1)
    assert str(one_place[0].total) == "80.0"


def test_criterion_scores_hold_every_non_price_criterion_in_scheme_order():
    scheme = [
        Criterion(code="team", kind="subjective", points=Decimal("20")),
        Criterion(code="price", kind="price", points=Decimal("30")),
        Criterion(code="grade", kind="objective", points=Decimal("20")),
        Criterion(code="plan", kind="subjective", points=Decimal("30")),
    ]
    rows = rank(
        scheme,
        [
            BidInput(
                key="A",
                price=Decimal("100"),
                objective={"grade": Decimal("12")},
                subjective={"plan": d(20, 21, 22), "team": d(10, 11, 15)},
            )
        ],
    )
    # team 36/3 = 12.00; grade 12.00; plan 63/3 = 21.00; total 30 + 12 + 12 + 21 = 75.00.
    assert list(rows[0].criterion_scores) == ["team", "grade", "plan"]
    assert rows[0].criterion_scores == {
        "team": Decimal("12.00"),
        "grade": Decimal("12.00"),
        "plan": Decimal("21.00"),
    }
    assert rows[0].total == Decimal("75.00")


def test_trimmed_mean_with_seven_members_drops_one_highest_and_one_lowest():
    plan = d(30, 42, 44, 45, 46, 47, 50)
    bids = [bid("A", "400000", plan, "10"), bid("B", "500000", d(40, 40, 40, 40, 40, 40, 40), "10")]
    trimmed = rank(SCHEME, bids, trim_extremes=True)
    # A: drop 30 and 50: (42+44+45+46+47)/5 = 224/5 = 44.80; total 30 + 44.8 + 10 = 84.80.
    # B: drop one 40 at each end: 200/5 = 40.00; price 400000/500000 × 30 = 24.00;
    #    total 24 + 40 + 10 = 74.00.
    assert [(r.key, r.criterion_scores["plan"], r.total) for r in trimmed] == [
        ("A", Decimal("44.80"), Decimal("84.80")),
        ("B", Decimal("40.00"), Decimal("74.00")),
    ]
    plain = rank(SCHEME, bids, trim_extremes=False)
    # A untrimmed: (30+42+44+45+46+47+50)/7 = 304/7 = 43.428571… → 43.43;
    #    total 30 + 43.428571… + 10 = 83.428571… → 83.43.
    assert (plain[0].criterion_scores["plan"], plain[0].total) == (
        Decimal("43.43"),
        Decimal("83.43"),
    )


def test_trim_extremes_with_fewer_than_seven_members_is_the_plain_mean():
    rows = rank(SCHEME, [bid("A", "400000", d(30, 42, 44, 45, 46, 50), "10")], trim_extremes=True)
    # Six members: no trimming. (30+42+44+45+46+50)/6 = 257/6 = 42.8333… → 42.83.
    assert rows[0].criterion_scores["plan"] == Decimal("42.83")
    # Total 30 + 42.8333… + 10 = 82.8333… → 82.83.
    assert rows[0].total == Decimal("82.83")


def test_total_is_computed_from_unrounded_components_then_rounded_once():
    scheme = [
        Criterion(code="price", kind="price", points=Decimal("30")),
        Criterion(code="plan", kind="subjective", points=Decimal("35")),
        Criterion(code="team", kind="subjective", points=Decimal("35")),
    ]
    rows = rank(
        scheme,
        [
            BidInput(
                key="base",
                price=Decimal("100"),
                subjective={"plan": d(1, 1, 1), "team": d(1, 1, 1)},
            ),
            BidInput(
                key="X",
                price=Decimal("300"),
                subjective={"plan": d(0, 0, 1), "team": d(0, 0, 1)},
            ),
        ],
    )
    x = next(row for row in rows if row.key == "X")
    # price 100/300 × 30 = 10.00; plan 1/3 = 0.333… → 0.33; team 1/3 → 0.33.
    # Displayed components add up to 10.66, but the total is 10 + 2/3 = 10.666… → 10.67.
    assert x.price_score == Decimal("10.00")
    assert x.criterion_scores == {"plan": Decimal("0.33"), "team": Decimal("0.33")}
    assert x.total == Decimal("10.67")


def test_rounding_is_half_up_not_half_even():
    rows = rank(SCHEME, [bid("A", "400000", d("41.01", "41.00"), "10")])
    # plan (41.01 + 41.00)/2 = 41.005 → 41.01 half-up (half-even would give 41.00);
    # total 30 + 41.005 + 10 = 81.005 → 81.01.
    assert rows[0].criterion_scores["plan"] == Decimal("41.01")
    assert rows[0].total == Decimal("81.01")


def test_a_total_exactly_on_the_half_cent_rounds_up_even_when_its_parts_never_terminate():
    bids = [
        bid("base", "100", d(0, 0, 0), "0"),
        # price 100/900 × 30 = 10/3 = 3.333…; plan (0.672+0.672+0.671)/3 = 2.015/3 = 0.67166…;
        # total 10/3 + 2.015/3 = 12.015/3 = 4.005 exactly → 4.01 (a truncated quotient risks 4.00).
        bid("X", "900", d("0.672", "0.672", "0.671"), "0"),
    ]
    x = next(row for row in rank(SCHEME, bids) if row.key == "X")
    assert x.price_score == Decimal("3.33")
    assert x.criterion_scores["plan"] == Decimal("0.67")
    assert x.total == Decimal("4.01")


def test_int_inputs_are_accepted_like_decimals():
    scheme = [
        Criterion(code="price", kind="price", points=30),
        Criterion(code="plan", kind="subjective", points=70),
    ]
    rows = rank(scheme, [BidInput(key="A", price=400000, subjective={"plan": [60, 62, 64]})])
    # 30 + 186/3 = 30 + 62 = 92.00.
    assert rows[0].total == Decimal("92.00")


# --- rank: ties ---------------------------------------------------------------------------------


def test_equal_totals_rank_the_lower_price_first():
    # The keys run against the prices, so an order by key cannot pass for an order by price.
    bids = [
        # A: price 400000/500000 × 30 = 24.00; plan 46.00; grade 10; total 80.00.
        bid("A", "500000", d(46, 46, 46, 46, 46), "10"),
        # B: price 30.00 (the base); plan 40.00; grade 10; total 80.00.
        bid("B", "400000", d(40, 40, 40, 40, 40), "10"),
    ]
    rows = rank(SCHEME, bids)
    assert [(r.key, r.total, r.rank, r.tied) for r in rows] == [
        ("B", Decimal("80.00"), 1, False),
        ("A", Decimal("80.00"), 2, False),
    ]


def test_totals_that_display_equal_are_equal_and_the_lower_price_ranks_first():
    bids = [
        # C: price 300000/310000 × 30 = 29.032258…; plan 204.85/5 = 40.97; grade 10;
        #    total 80.002258… → 80.00: higher unrounded, but displayed equal to D's.
        bid("C", "310000", d("41", "41", "41", "41", "40.85"), "10"),
        # D: price 30.00 (the base); plan 40.00; grade 10; total 80.00 exactly.
        bid("D", "300000", d(40, 40, 40, 40, 40), "10"),
    ]
    rows = rank(SCHEME, bids)
    assert [(r.key, r.total, r.rank, r.tied) for r in rows] == [
        ("D", Decimal("80.00"), 1, False),
        ("C", Decimal("80.00"), 2, False),
    ]


def test_equal_total_and_price_share_the_rank_and_are_tied_then_the_next_rank_is_skipped():
    bids = [
        # R: price 400000/480000 × 30 = 25.00; plan 40; grade 10; total 75.00.
        bid("R", "480000", d(40, 40, 40, 40, 40), "10"),
        # Q: price 30.00; plan 42; grade 8; total 80.00.
        bid("Q", "400000", d(42, 42, 42, 42, 42), "8"),
        # P: price 30.00; plan 40; grade 10; total 80.00: the same total and price as Q.
        bid("P", "400000", d(40, 40, 40, 40, 40), "10"),
    ]
    rows = rank(SCHEME, bids)
    # Competition ranking 1, 1, 3; the tied pair is listed by key.
    assert [(r.key, r.rank, r.tied) for r in rows] == [
        ("P", 1, True),
        ("Q", 1, True),
        ("R", 3, False),
    ]


def test_prices_equal_in_value_but_not_in_form_are_tied():
    bids = [
        bid("B", "400000.00", d(40, 40, 40, 40, 40), "10"),
        bid("A", "400000", d(40, 40, 40, 40, 40), "10"),
    ]
    assert [(r.key, r.rank, r.tied) for r in rank(SCHEME, bids)] == [("A", 1, True), ("B", 1, True)]


# --- rank: invalid bids -------------------------------------------------------------------------


def test_invalid_bid_is_excluded_from_the_base_price_and_the_ranking():
    valid = bid("A", "500000", d(40, 40, 40, 40, 40), "10")
    rows = rank(SCHEME, [valid, bid("Z", "100000", d(50, 50, 50, 50, 50), "20", valid=False)])
    # Base 500000 (A alone), not Z's 100000: A gets the full 30.00; total 30 + 40 + 10 = 80.00.
    assert [(r.key, r.price_score, r.total) for r in rows] == [
        ("A", Decimal("30.00"), Decimal("80.00"))
    ]


def test_invalid_bid_needs_no_scores_and_its_price_is_never_checked():
    valid = bid("A", "500000", d(40, 40, 40, 40, 40), "10")
    rows = rank(
        SCHEME,
        [
            valid,
            BidInput(key="no-price", valid=False),
            BidInput(key="negative", price=Decimal("-5"), valid=False),
            BidInput(key="float", price=1.5, valid=False),  # type: ignore[arg-type]
            BidInput(key="nan", price=Decimal("NaN"), valid=False, subjective={"plan": []}),
        ],
    )
    assert [r.key for r in rows] == ["A"]


def test_no_valid_bid_gives_an_empty_ranking():
    assert rank(SCHEME, [BidInput(key="A", price=Decimal("1"), valid=False)]) == []
    assert rank(SCHEME, []) == []


# --- rank: refused input ------------------------------------------------------------------------


def scheme_with(*criteria: tuple[str, str, object]) -> list[Criterion]:
    return [Criterion(code=c, kind=k, points=p) for c, k, p in criteria]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (
            scheme_with(("price", "price", Decimal(30)), ("plan", "subjective", Decimal(60))),
            r"criterion points sum to 90, not 100",
        ),
        (
            scheme_with(("price", "price", Decimal(30)), ("plan", "subjective", Decimal(80))),
            r"criterion points sum to 110, not 100",
        ),
        (
            scheme_with(("plan", "subjective", Decimal(50)), ("grade", "objective", Decimal(50))),
            r"exactly one price criterion, not 0",
        ),
        (
            scheme_with(("price", "price", Decimal(30)), ("price2", "price", Decimal(70))),
            r"exactly one price criterion, not 2",
        ),
        (
            scheme_with(("price", "price", Decimal(30)), ("plan", "opinion", Decimal(70))),
            r"criterion plan: unknown kind 'opinion'",
        ),
        (
            scheme_with(
                ("price", "price", Decimal(30)),
                ("plan", "subjective", Decimal(35)),
                ("plan", "objective", Decimal(35)),
            ),
            r"criterion plan: the code is used twice",
        ),
        (
            scheme_with(("price", "price", Decimal(30)), ("price", "objective", Decimal(70))),
            r"criterion price: the code is used twice",
        ),
        (
            scheme_with(
                ("price", "price", Decimal(30)),
                ("plan", "subjective", Decimal(70)),
                ("grade", "objective", Decimal(0)),
            ),
            r"criterion grade: points must be positive, not 0",
        ),
        (
            scheme_with(
                ("price", "price", Decimal(30)),
                ("plan", "subjective", Decimal(80)),
                ("grade", "objective", Decimal(-10)),
            ),
            r"criterion grade: points must be positive, not -10",
        ),
        (
            scheme_with(("price", "price", 30.0), ("plan", "subjective", Decimal(70))),
            r"criterion price: points: 30\.0 is a float; pass a Decimal",
        ),
        (
            scheme_with(("price", "price", Decimal("NaN")), ("plan", "subjective", Decimal(70))),
            r"criterion price: points: NaN is not a finite number",
        ),
        (
            scheme_with(("", "price", Decimal(30)), ("plan", "subjective", Decimal(70))),
            r"criterion 1: the code must be a non-empty string",
        ),
    ],
)
def test_a_bad_scheme_is_refused_with_a_message_naming_the_problem(criteria, message):
    with pytest.raises(ValueError, match=message):
        rank(criteria, [bid("A", "100", d(40), "10")])


@pytest.mark.parametrize(
    ("bids", "message"),
    [
        (
            [bid("A", "100", d(41, 44, 51, 45, 43), "16")],
            r"bid A: criterion plan: member 3: score 51 is outside \[0, 50\]",
        ),
        (
            [bid("A", "100", d(41, "-0.01", 40, 45, 43), "16")],
            r"bid A: criterion plan: member 2: score -0.01 is outside \[0, 50\]",
        ),
        (
            [bid("A", "100", d(41), "20.01")],
            r"bid A: criterion grade: score 20.01 is outside \[0, 20\]",
        ),
        ([bid("A", "100", d(41), "-1")], r"bid A: criterion grade: score -1 is outside \[0, 20\]"),
        ([bid("A", "0", d(41), "10")], r"bid A: the price must be positive, not 0"),
        ([bid("A", "-100", d(41), "10")], r"bid A: the price must be positive, not -100"),
        ([bid("A", None, d(41), "10")], r"bid A: the price is missing"),
        (
            [
                BidInput(
                    key="A", price=100.5, objective={"grade": Decimal(1)}, subjective={"plan": d(1)}
                )
            ],  # type: ignore[arg-type]
            r"bid A: price: 100\.5 is a float; pass a Decimal",
        ),
        (
            [bid("A", "100", [Decimal(40), 41.5], "10")],  # type: ignore[list-item]
            r"bid A: criterion plan: member 2: 41\.5 is a float; pass a Decimal",
        ),
        (
            [bid("A", "100", [Decimal(40), "41"], "10")],  # type: ignore[list-item]
            r"bid A: criterion plan: member 2: '41' is not a Decimal or an int",
        ),
        (
            [bid("A", "100", [Decimal(40), True], "10")],  # type: ignore[list-item]
            r"bid A: criterion plan: member 2: True is not a number",
        ),
        (
            [bid("A", "100", [Decimal(40), Decimal("NaN")], "10")],
            r"bid A: criterion plan: member 2: NaN is not a finite number",
        ),
        (
            [bid("A", "100", [Decimal(40), Decimal("Infinity")], "10")],
            r"bid A: criterion plan: member 2: Infinity is not a finite number",
        ),
        (
            [bid("A", "100", d(40, 41, 42), "10"), bid("B", "100", d(40, 41), "10")],
            (
                r"panels are of unequal size: bid B, criterion plan has 2 scores, "
                r"bid A, criterion plan has 3"
            ),
        ),
        ([bid("A", "100", [], "10")], r"bid A: criterion plan: the panel is empty"),
        (
            [BidInput(key="A", price=Decimal(100), subjective={"plan": d(40)})],
            r"bid A: criterion grade: the objective score is missing",
        ),
        (
            [BidInput(key="A", price=Decimal(100), objective={"grade": Decimal(10)})],
            r"bid A: criterion plan: the subjective score is missing",
        ),
        (
            [
                BidInput(
                    key="A",
                    price=Decimal(100),
                    objective={"grade": Decimal(10), "team": Decimal(1)},
                    subjective={"plan": d(40)},
                )
            ],
            r"bid A: 'team' is not an objective criterion of the scheme",
        ),
        (
            [
                BidInput(
                    key="A",
                    price=Decimal(100),
                    objective={"grade": Decimal(10)},
                    subjective={"plan": d(40), "grade": d(10)},
                )
            ],
            r"bid A: 'grade' is not a subjective criterion of the scheme",
        ),
        (
            [bid("A", "100", d(40), "10"), bid("A", "200", d(40), "10", valid=False)],
            r"bid key A is used twice",
        ),
    ],
)
def test_bad_bids_are_refused_with_a_message_naming_bid_criterion_and_member(bids, message):
    with pytest.raises(ValueError, match=message):
        rank(SCHEME, bids)


def test_panels_of_unequal_size_across_criteria_of_one_bid_are_refused():
    scheme = [
        Criterion(code="price", kind="price", points=Decimal("30")),
        Criterion(code="plan", kind="subjective", points=Decimal("35")),
        Criterion(code="team", kind="subjective", points=Decimal("35")),
    ]
    with pytest.raises(ValueError, match=r"panels are of unequal size: bid A, criterion team"):
        rank(
            scheme,
            [BidInput(key="A", price=Decimal(1), subjective={"plan": d(1, 2, 3), "team": d(1, 2)})],
        )


def test_invalid_bids_do_not_count_for_the_panel_size():
    rows = rank(
        SCHEME,
        [bid("A", "100", d(40, 41, 42), "10"), bid("B", "100", d(40), "10", valid=False)],
    )
    assert [r.key for r in rows] == ["A"]


@pytest.mark.parametrize("places", [-1, 21, 1.5, True])
def test_places_must_be_a_whole_number_from_0_to_20(places):
    with pytest.raises(ValueError, match=r"places must be a whole number from 0 to 20"):
        rank(SCHEME, [bid("A", "100", d(40), "10")], places=places)


def test_a_bid_key_must_be_a_string():
    with pytest.raises(ValueError, match=r"bid key 7 is not a string"):
        rank(SCHEME, [BidInput(key=7, price=Decimal(1), valid=False)])  # type: ignore[arg-type]


def test_inputs_too_long_to_score_exactly_are_refused():
    huge = Decimal("1." + "1" * 130)
    with pytest.raises(ValueError, match=r"too many digits to compute exactly"):
        rank(SCHEME, [bid("A", str(huge), d(40), "10"), bid("B", "3", d(40), "10")])


def test_helpers_refuse_inputs_too_long_to_compute_exactly():
    huge = Decimal("1." + "1" * 130)
    with pytest.raises(ValueError, match=r"too many digits to compute exactly"):
        abnormally_low({"A": huge, "B": Decimal(3)})
    with pytest.raises(ValueError, match=r"too many digits to compute exactly"):
        aggregate([huge, Decimal(3)], trim_extremes=False)


def test_the_global_decimal_context_is_neither_used_nor_changed():
    import decimal

    with decimal.localcontext() as context:
        context.prec = 3
        context.rounding = decimal.ROUND_DOWN
        rows = rank(SCHEME, [bid("A", "400000", d(40), "10"), bid("B", "450000", d(40), "10")])
        assert decimal.getcontext().prec == 3
        assert decimal.getcontext().rounding == decimal.ROUND_DOWN
    # B: 400000/450000 × 30 = 26.666… → 26.67 (a 3-digit, round-down context would say 26.6).
    assert rows[1].price_score == Decimal("26.67")
    assert rows[1].total == Decimal("76.67")


# --- helpers ------------------------------------------------------------------------------------


def test_price_scores_give_the_lowest_price_full_points():
    scores = price_scores(
        {"A": Decimal("480000"), "B": Decimal("400000"), "D": Decimal("450000")}, Decimal("30")
    )
    # 400000/480000 × 30 = 25.00; 400000/400000 × 30 = 30.00; 400000/450000 × 30 = 26.67.
    assert scores == {"A": Decimal("25.00"), "B": Decimal("30.00"), "D": Decimal("26.67")}
    assert price_scores({}, Decimal("30")) == {}
    # places=3: 26.666… → 26.667.
    assert price_scores({"B": 400000, "D": 450000}, 30, places=3)["D"] == Decimal("26.667")


def test_price_scores_refuse_bad_prices_and_points():
    with pytest.raises(ValueError, match=r"bid A: the price must be positive, not 0"):
        price_scores({"A": Decimal(0)}, Decimal(30))
    with pytest.raises(ValueError, match=r"price points must be positive, not 0"):
        price_scores({"A": Decimal(1)}, Decimal(0))
    with pytest.raises(ValueError, match=r"bid A: price: 1\.0 is a float"):
        price_scores({"A": 1.0}, Decimal(30))  # type: ignore[dict-item]


def test_aggregate_is_the_unrounded_mean_trimmed_only_for_seven_or_more():
    # (41+44+40+45+43)/5 = 42.6 exactly.
    assert aggregate(d(41, 44, 40, 45, 43), trim_extremes=False) == Decimal("42.6")
    # Five members: trim_extremes has no effect.
    assert aggregate(d(41, 44, 40, 45, 43), trim_extremes=True) == Decimal("42.6")
    # Seven members: (42+44+45+46+47)/5 = 44.8 with trimming; 304/7 = 43.4285714… without.
    seven = d(30, 42, 44, 45, 46, 47, 50)
    assert aggregate(seven, trim_extremes=True) == Decimal("44.8")
    plain = aggregate(seven, trim_extremes=False)
    assert plain.quantize(Decimal("0.000001")) == Decimal("43.428571")
    assert abs(plain * 7 - 304) < Decimal("1E-45")  # unrounded: not cut at 2 places


def test_aggregate_refuses_an_empty_panel_and_floats():
    with pytest.raises(ValueError, match=r"the panel is empty"):
        aggregate([], trim_extremes=False)
    with pytest.raises(ValueError, match=r"member 2: 4\.5 is a float"):
        aggregate([Decimal(4), 4.5], trim_extremes=False)  # type: ignore[list-item]


def test_deviations_flag_members_more_than_30_percent_of_the_maximum_from_the_mean():
    scores = {"m1": Decimal(40), "m2": Decimal(42), "m3": Decimal(44), "m4": Decimal(41)}
    scores["m5"] = Decimal(18)
    # Mean 185/5 = 37; deviations 3, 5, 7, 4, -19; 30% of 50 = 15: only m5 is flagged.
    assert deviations(scores, Decimal(50)) == {"m5": Decimal(-19)}
    # A stricter threshold (10% = 5): m3 (+7) and m5 (-19).
    assert deviations(scores, Decimal(50), threshold=Decimal("0.10")) == {
        "m3": Decimal(7),
        "m5": Decimal(-19),
    }


def test_a_deviation_exactly_at_the_threshold_is_not_flagged():
    # Mean 15; deviations -15, 0, +15; 30% of 50 = 15: not more than it.
    assert deviations({"a": Decimal(0), "b": Decimal(15), "c": Decimal(30)}, Decimal(50)) == {}
    assert deviations({}, Decimal(50)) == {}


def test_deviations_refuse_a_score_outside_the_maximum():
    with pytest.raises(ValueError, match=r"member b: score 51 is outside \[0, 50\]"):
        deviations({"a": Decimal(1), "b": Decimal(51)}, Decimal(50))


def test_abnormally_low_flags_a_price_below_80_percent_of_the_mean_of_the_others():
    prices = {"A": Decimal(100), "B": Decimal(100), "C": Decimal(100), "D": Decimal(70)}
    # D: others' mean (100+100+100)/3 = 100; 70 < 0.8 × 100 = 80: flagged, with 100.
    # A: others' mean (100+100+70)/3 = 90; 100 ≥ 72: not flagged.
    assert abnormally_low(prices) == {"D": Decimal(100)}


def test_abnormally_low_at_exactly_80_percent_is_not_flagged():
    assert abnormally_low({"A": Decimal(100), "B": Decimal(100), "D": Decimal(80)}) == {}


def test_abnormally_low_needs_two_prices():
    assert abnormally_low({"A": Decimal(100)}) == {}
    assert abnormally_low({}) == {}
    # Two prices: B 70 < 0.8 × 100; A 100 is not below 0.8 × 70 = 56.
    assert abnormally_low({"A": Decimal(100), "B": Decimal(70)}) == {"B": Decimal(100)}
    # A ratio of 0.5: 70 is not below 50.
    assert abnormally_low({"A": Decimal(100), "B": Decimal(70)}, ratio=Decimal("0.5")) == {}
