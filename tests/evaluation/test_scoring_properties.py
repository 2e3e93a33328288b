"""Properties of weighted scoring that hold for any scheme and any bids (hypothesis).

An independent reference computes every value with exact fractions; ``rank`` must agree with
it to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.scoring import BidInput, Criterion, RankedBid, rank

# The autouse settings fixture of tests/conftest.py is function-scoped; these tests do not use it.
PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


@st.composite
def schemes(draw: st.DrawFn) -> list[Criterion]:
    """A price criterion and 1-4 others, points in cents summing to exactly 100."""
    price_cents = draw(st.integers(1_000, 9_000))
    others = draw(st.integers(1, 4))
    rest = 10_000 - price_cents
    cuts = sorted(draw(st.sets(st.integers(1, rest - 1), min_size=others - 1, max_size=others - 1)))
    bounds = [0, *cuts, rest]
    criteria = [Criterion(code="price", kind="price", points=cents(price_cents))]
    for i in range(others):
        kind = draw(st.sampled_from(["objective", "subjective"]))
        criteria.append(Criterion(code=f"c{i}", kind=kind, points=cents(bounds[i + 1] - bounds[i])))
    order = draw(st.permutations(criteria))
    return list(order)


@st.composite
def tenders(draw: st.DrawFn) -> tuple[list[Criterion], list[BidInput], bool]:
    """A scheme, 1-6 bids (some perhaps invalid) with one panel size, and the trim setting."""
    criteria = draw(schemes())
    panel = draw(st.integers(1, 9))
    # Few distinct prices, so that equal prices (and ties) are common.
    price_pool = draw(st.lists(st.integers(1, 100_000_000), min_size=1, max_size=4))
    # Strategies are built once per example: building them per bid dominates the runtime.
    objective = {}
    subjective = {}
    for criterion in criteria:
        score = st.integers(0, int(Decimal(criterion.points) * 100)).map(cents)
        if criterion.kind == "objective":
            objective[criterion.code] = score
        elif criterion.kind == "subjective":
            subjective[criterion.code] = st.lists(score, min_size=panel, max_size=panel)
    one_bid = st.tuples(
        st.sampled_from(price_pool).map(cents),
        st.booleans(),
        st.fixed_dictionaries(objective),
        st.fixed_dictionaries(subjective),
    )
    drawn = draw(st.lists(one_bid, min_size=1, max_size=6))
    bids = [
        BidInput(
            key=f"b{i}",
            price=price,
            valid=valid or i == 0,  # at least one valid bid
            objective=objective_scores,
            subjective=subjective_scores,
        )
        for i, (price, valid, objective_scores, subjective_scores) in enumerate(drawn)
    ]
    return criteria, bids, draw(st.booleans())


def half_up(value: Fraction) -> Decimal:
    """Round a non-negative fraction half-up to cents, exactly."""
    whole, remainder = divmod(value * 100, 1)
    return cents(int(whole) + (1 if remainder >= Fraction(1, 2) else 0))


def reference(criteria: list[Criterion], bids: list[BidInput], trim: bool) -> list[RankedBid]:
    """DESIGN.md 4.4 written plainly with fractions: the oracle for ``rank``."""
    valid = [b for b in bids if b.valid]
    if not valid:
        return []
    price = next(c for c in criteria if c.kind == "price")
    base = min(Fraction(b.price) for b in valid)  # type: ignore[arg-type]
    rows = []
    for b in valid:
        price_score = base / Fraction(b.price) * Fraction(price.points)  # type: ignore[arg-type]
        scores: dict[str, Fraction] = {}
        for c in criteria:
            if c.kind == "objective":
                scores[c.code] = Fraction(b.objective[c.code])
            elif c.kind == "subjective":
                members = sorted(Fraction(s) for s in b.subjective[c.code])
                if trim and len(members) >= 7:
                    members = members[1:-1]
                scores[c.code] = sum(members, Fraction(0)) / len(members)
        total = price_score + sum(scores.values(), Fraction(0))
        rows.append(
            (b, half_up(price_score), {k: half_up(v) for k, v in scores.items()}, half_up(total))
        )
    result = []
    for b, price_shown, shown, total in rows:
        better = sum(1 for o in rows if o[3] > total or (o[3] == total and o[0].price < b.price))
        tied = any(o[0] is not b and o[3] == total and o[0].price == b.price for o in rows)
        result.append(RankedBid(b.key, price_shown, shown, total, better + 1, tied))
    prices = {b.key: b.price for b in valid}
    result.sort(key=lambda r: (-r.total, prices[r.key], r.key))
    return result


@PROPERTIES
@given(tenders())
def test_rank_agrees_with_an_exact_fraction_reference_to_the_cent(tender):
    criteria, bids, trim = tender
    assert rank(criteria, bids, trim_extremes=trim) == reference(criteria, bids, trim)


@PROPERTIES
@given(tenders())
def test_every_score_stays_within_its_points_and_the_total_within_100(tender):
    criteria, bids, trim = tender
    points = {c.code: Decimal(c.points) for c in criteria}
    for row in rank(criteria, bids, trim_extremes=trim):
        assert 0 <= row.price_score <= points["price"]
        assert set(row.criterion_scores) == set(points) - {"price"}
        for code, score in row.criterion_scores.items():
            assert 0 <= score <= points[code]
        assert 0 <= row.total <= 100
        # Every returned value has exactly two decimals ("80.00", never "8E+1" or "80").
        for value in (row.price_score, row.total, *row.criterion_scores.values()):
            assert value.as_tuple().exponent == -2


@PROPERTIES
@given(tenders())
def test_lowest_valid_price_gets_full_price_points(tender):
    criteria, bids, trim = tender
    full = next(Decimal(c.points) for c in criteria if c.kind == "price")
    lowest = min(b.price for b in bids if b.valid)  # type: ignore[type-var]
    rows = {row.key: row for row in rank(criteria, bids, trim_extremes=trim)}
    for b in bids:
        if b.valid and b.price == lowest:
            assert rows[b.key].price_score == full
        elif b.valid:
            # A dearer price may still round to the full points (29.996 → 30.00), never above.
            assert rows[b.key].price_score <= full


@PROPERTIES
@given(
    tenders(),
    st.one_of(st.none(), st.integers(-5, 10**12).map(cents), st.just(Decimal("NaN"))),
    st.booleans(),
)
def test_adding_an_invalid_bid_changes_nothing(tender, price, with_scores):
    criteria, bids, trim = tender
    before = rank(criteria, bids, trim_extremes=trim)
    # Cheaper than everyone, perfect scores, or no scores and a nonsensical price: all ignored.
    intruder = replace(bids[0], key="intruder", price=price, valid=False)
    if not with_scores:
        intruder = replace(intruder, objective={}, subjective={})
    assert rank(criteria, [*bids, intruder], trim_extremes=trim) == before
    assert rank(criteria, [intruder, *bids], trim_extremes=trim) == before


@PROPERTIES
@given(tenders(), st.randoms(use_true_random=False))
def test_the_order_of_bids_and_of_member_scores_never_changes_the_result(tender, random):
    criteria, bids, trim = tender
    before = rank(criteria, bids, trim_extremes=trim)
    shuffled = []
    for b in random.sample(bids, len(bids)):
        members = {code: random.sample(list(s), len(s)) for code, s in b.subjective.items()}
        shuffled.append(replace(b, subjective=members))
    assert rank(criteria, shuffled, trim_extremes=trim) == before


@PROPERTIES
@given(tenders())
def test_ranks_follow_rounded_totals_then_price(tender):
    criteria, bids, trim = tender
    prices = {b.key: b.price for b in bids}
    rows = rank(criteria, bids, trim_extremes=trim)
    assert len(rows) == sum(1 for b in bids if b.valid)
    for i, row in enumerate(rows):
        standing = (row.total, prices[row.key])
        # Competition ranking: one more than the number of rows strictly ahead.
        ahead = sum(
            1
            for other in rows
            if other.total > row.total
            or (other.total == row.total and prices[other.key] < prices[row.key])  # type: ignore[operator]
        )
        assert row.rank == ahead + 1
        assert row.tied == any(
            other is not row and (other.total, prices[other.key]) == standing for other in rows
        )
        if i:
            previous = rows[i - 1]
            assert previous.total >= row.total
            if previous.total == row.total:
                assert prices[previous.key] <= prices[row.key]  # type: ignore[operator]
                if prices[previous.key] == prices[row.key]:
                    assert previous.key < row.key
                    assert previous.rank == row.rank
            assert previous.rank <= row.rank
