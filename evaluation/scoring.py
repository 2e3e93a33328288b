"""Weighted scoring (综合评分法, 财政部令第87号 Art. 55; DESIGN.md 4.4): pure, no database.

A scheme is a list of criteria whose points sum to 100: exactly one ``price`` criterion, any
number of ``objective`` criteria (one value per bid, computed by the system) and ``subjective``
criteria (one score per panel member).

- Price (low-price-first): base = the lowest price among *valid* bids;
  ``price_score = base / price × P``. No price is ever dropped.
- Objective: the given value, within [0, points].
- Subjective: every member's score is within [0, points]; the criterion score is the arithmetic
  mean of the members. With ``trim_extremes=True`` *and* a panel of at least 7 members
  (``TRIM_MIN_PANEL``), one highest and one lowest score are dropped before the mean; with
  ``trim_extremes=True`` and a smaller panel the plain mean is used (dropping two of five scores
  would leave too few to be a panel's judgement). Every subjective criterion of every valid bid
  has the same panel size.
- Total = price score + Σ criterion scores.

Rounding (``places``, default 2, half-up):

- Nothing is rounded while computing. Every value is a rational number of the inputs, and each
  returned value is that exact number rounded half-up to ``places``: quotients are never
  truncated to some working precision first, so a total that is exactly ``x.xx5`` always
  rounds up. The arithmetic runs in private decimal contexts (sums and products exact to 120
  digits, or refused); the caller's decimal context is neither used nor changed.
- ``RankedBid.price_score`` and each ``RankedBid.criterion_scores`` value are rounded for
  display only.
- ``RankedBid.total`` is computed from the *unrounded* components and then rounded once. The
  displayed components may therefore not add up exactly to the displayed total (10.00 +
  0.33 + 0.33 shown, 10 + 1/3 + 1/3 = 10.666… → 10.67 total).
- Ranking compares the *rounded* totals (two totals that display equal are equal), then the
  price (lower first). Equal rounded total and equal price is a tie: the bids share the rank
  (competition ranking, "1, 1, 3"), ``tied`` is set on each, and they are listed by key so the
  output does not depend on the input order. Breaking the tie (the tender's rule or a recorded
  draw) is the caller's business.

Invalid bids (``valid=False``: failed qualification or conformity) are dropped before anything
but their key is checked (every bid's key is a distinct string): they need no scores, their
price is not checked and does not count for the base, and they are not in the output.

Inputs are ``Decimal`` or ``int``. A ``float`` is refused: it cannot hold most cents exactly.
Every problem raises ``ValueError`` whose message names the criterion code, bid key and
(1-based) member number involved.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from itertools import chain
from typing import Final

__all__ = [
    "OBJECTIVE",
    "PRICE",
    "SUBJECTIVE",
    "TOTAL_POINTS",
    "TRIM_MIN_PANEL",
    "BidInput",
    "Criterion",
    "RankedBid",
    "abnormally_low",
    "aggregate",
    "deviations",
    "price_scores",
    "rank",
]

PRICE: Final = "price"
OBJECTIVE: Final = "objective"
SUBJECTIVE: Final = "subjective"
KINDS: Final = (PRICE, OBJECTIVE, SUBJECTIVE)

TOTAL_POINTS: Final = Decimal(100)
# DESIGN 4.4 [cfg]: the trimmed mean needs a panel of at least 7.
TRIM_MIN_PANEL: Final = 7
# DESIGN 4.4 [cfg]: a member's score further than 30% of the maximum from the panel mean (畸高畸低).
DEVIATION_THRESHOLD: Final = Decimal("0.30")
# 87号令 Art. 60, DESIGN 4.4 [cfg]: below 80% of the mean of the other valid prices.
ABNORMALLY_LOW_RATIO: Final = Decimal("0.80")

Number = Decimal | int

# Sums, products and remainders must be exact: a rounding here would be silent, so it traps.
# 120 digits hold any realistic tender many times over; beyond that the input is refused.
_EXACT: Final = Context(prec=120, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
# Unrounded quotients returned by the helpers (a mean of three scores does not terminate).
_QUOTIENT: Final = Context(prec=50, traps=[InvalidOperation, DivisionByZero, Overflow])
_MAX_PLACES: Final = 20
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)
_DECIMAL_ONLY: Final = {Decimal}


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a scheme: ``kind`` is ``"price"``, ``"objective"`` or ``"subjective"``."""

    code: str
    kind: str
    points: Number


@dataclass(frozen=True, slots=True)
class BidInput:
    """One bid to score.

    ``objective`` maps each objective criterion code to the bid's value; ``subjective`` maps each
    subjective criterion code to the panel's scores, one per member, in the same member order
    for every criterion. An invalid bid needs neither, nor a price.
    """

    key: str
    price: Number | None = None
    valid: bool = True
    objective: Mapping[str, Number] = field(default_factory=dict)
    subjective: Mapping[str, Sequence[Number]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RankedBid:
    """A valid bid's scores, rounded half-up to ``places``, and its place in the ranking.

    ``criterion_scores`` holds every non-price criterion by code, in the scheme's order.
    """

    key: str
    price_score: Decimal
    criterion_scores: dict[str, Decimal]
    total: Decimal
    rank: int
    tied: bool


def rank(
    criteria: Iterable[Criterion],
    bids: Iterable[BidInput],
    *,
    trim_extremes: bool = False,
    places: int = 2,
) -> list[RankedBid]:
    """Score and rank the valid bids; return them in rank order (empty when none is valid)."""
    _check_places(places)
    scheme = _Scheme(list(criteria))
    all_bids = list(bids)
    seen: set[str] = set()
    for bid in all_bids:
        if not isinstance(bid.key, str):
            raise ValueError(f"bid key {bid.key!r} is not a string")
        if bid.key in seen:
            raise ValueError(f"bid key {bid.key} is used twice")
        seen.add(bid.key)
    valid = [bid for bid in all_bids if bid.valid]
    if not valid:
        return []

    # A local copy of _EXACT for the operators in _rank; the caller's context is untouched.
    with _refusing_long_inputs(), localcontext(_EXACT):
        return _rank(scheme, valid, trim_extremes=trim_extremes, places=places)


def price_scores(
    prices: Mapping[str, Number], points: Number, *, places: int = 2
) -> dict[str, Decimal]:
    """Each bid's price score ``lowest / price × points``, rounded half-up to ``places``.

    ``prices`` holds the valid bids only (the lowest of them is the base).
    """
    _check_places(places)
    p = _number(points, "price points")
    if p <= 0:
        raise ValueError(f"price points must be positive, not {p}")
    checked = {key: _price(key, value) for key, value in prices.items()}
    if not checked:
        return {}
    base = min(checked.values())
    with _refusing_long_inputs():
        numerator = _EXACT.multiply(base, p)
        return {key: _round_quotient(numerator, price, places) for key, price in checked.items()}


def aggregate(scores: Sequence[Number], *, trim_extremes: bool) -> Decimal:
    """The panel's criterion score from its members' scores, unrounded.

    The arithmetic mean; with ``trim_extremes`` and at least ``TRIM_MIN_PANEL`` scores, the mean
    after dropping one highest and one lowest. A mean that does not terminate is given to 50
    significant digits.
    """
    values = [_number(value, f"member {i}") for i, value in enumerate(scores, start=1)]
    if not values:
        raise ValueError("the panel is empty: there is no score to aggregate")
    count = len(values)
    with _refusing_long_inputs():
        total = _exact_sum(values)
        if trim_extremes and count >= TRIM_MIN_PANEL:
            total = _EXACT.subtract(total, _EXACT.add(max(values), min(values)))
            count -= 2
        return _QUOTIENT.divide(total, Decimal(count))


def deviations(
    scores: Mapping[str, Number],
    maximum: Number,
    *,
    threshold: Number = DEVIATION_THRESHOLD,
) -> dict[str, Decimal]:
    """The members whose score is abnormally high or low (畸高畸低, DESIGN 4.4).

    Returns, for each member whose score differs from the panel's (plain) mean by more than
    ``threshold × maximum``, that difference (score − mean, negative when low), unrounded.
    Exactly at the threshold is not flagged.
    """
    top = _number(maximum, "the criterion maximum")
    if top <= 0:
        raise ValueError(f"the criterion maximum must be positive, not {top}")
    limit = _number(threshold, "the threshold")
    if limit < 0:
        raise ValueError(f"the threshold must not be negative, not {limit}")
    values: dict[str, Decimal] = {}
    for member, value in scores.items():
        score = _number(value, f"member {member}")
        if not 0 <= score <= top:
            raise ValueError(f"member {member}: score {score} is outside [0, {top}]")
        values[member] = score
    if not values:
        return {}
    count = Decimal(len(values))
    flagged: dict[str, Decimal] = {}
    with _refusing_long_inputs():
        total = _exact_sum(values.values())
        # |score − total/n| > limit × top  ⇔  |n·score − total| > n·limit·top: compared exactly.
        bound = _EXACT.multiply(count, _EXACT.multiply(limit, top))
        for member, score in values.items():
            gap = _EXACT.subtract(_EXACT.multiply(count, score), total)
            if _EXACT.abs(gap) > bound:
                flagged[member] = _QUOTIENT.divide(gap, count)
    return flagged


def abnormally_low(
    prices: Mapping[str, Number], *, ratio: Number = ABNORMALLY_LOW_RATIO
) -> dict[str, Decimal]:
    """The abnormally low prices (87号令 Art. 60, DESIGN 4.4).

    ``prices`` holds the valid bids only. Returns, for each bid whose price is below
    ``ratio ×`` the mean of the *other* prices, that mean (unrounded). Needs at least two
    prices; otherwise nothing is flagged.
    """
    factor = _number(ratio, "the ratio")
    if factor <= 0:
        raise ValueError(f"the ratio must be positive, not {factor}")
    checked = {key: _price(key, value) for key, value in prices.items()}
    if len(checked) < 2:
        return {}
    others = Decimal(len(checked) - 1)
    flagged: dict[str, Decimal] = {}
    with _refusing_long_inputs():
        total = _exact_sum(checked.values())
        for key, price in checked.items():
            rest = _EXACT.subtract(total, price)
            # price < factor × rest / others  ⇔  price × others < factor × rest: exactly.
            if _EXACT.multiply(price, others) < _EXACT.multiply(factor, rest):
                flagged[key] = _QUOTIENT.divide(rest, others)
    return flagged


# --- the scheme ---------------------------------------------------------------------------------


class _Scheme:
    """A checked list of criteria."""

    __slots__ = ("objective", "order", "others", "price_code", "price_points", "subjective")

    def __init__(self, criteria: list[Criterion]) -> None:
        self.order: list[str] = []
        self.objective: dict[str, Decimal] = {}
        self.subjective: dict[str, Decimal] = {}
        # The non-price criteria in scheme order: (code, is subjective, points).
        self.others: list[tuple[str, bool, Decimal]] = []
        price: list[tuple[str, Decimal]] = []
        total = Decimal(0)
        for number, criterion in enumerate(criteria, start=1):
            code = criterion.code
            if not isinstance(code, str) or not code:
                raise ValueError(f"criterion {number}: the code must be a non-empty string")
            if code in self.order or any(code == c for c, _ in price):
                raise ValueError(f"criterion {code}: the code is used twice")
            points = _number(criterion.points, f"criterion {code}: points")
            if points <= 0:
                raise ValueError(f"criterion {code}: points must be positive, not {points}")
            total = _EXACT.add(total, points)
            if criterion.kind == PRICE:
                price.append((code, points))
                continue
            if criterion.kind == OBJECTIVE:
                self.objective[code] = points
            elif criterion.kind == SUBJECTIVE:
                self.subjective[code] = points
            else:
                raise ValueError(
                    f"criterion {code}: unknown kind {criterion.kind!r}"
                    f" (expected one of {', '.join(KINDS)})"
                )
            self.order.append(code)
            self.others.append((code, criterion.kind == SUBJECTIVE, points))
        if len(price) != 1:
            raise ValueError(f"the scheme needs exactly one price criterion, not {len(price)}")
        self.price_code, self.price_points = price[0]
        if total != TOTAL_POINTS:
            raise ValueError(f"criterion points sum to {total}, not {TOTAL_POINTS}")


# --- ranking ------------------------------------------------------------------------------------


def _rank(
    scheme: _Scheme, bids: list[BidInput], *, trim_extremes: bool, places: int
) -> list[RankedBid]:
    # The arithmetic below uses plain operators: it runs inside localcontext(_EXACT) (see
    # rank), so every sum, product and integer division is exact or raises Inexact. The loop
    # is written for speed (DESIGN: 200 bids x 9 members x 20 criteria in well under 50 ms).
    prices = {bid.key: _price(bid.key, bid.price) for bid in bids}
    base = min(prices.values())
    price_numerator = base * scheme.price_points
    exponent = _ONE.scaleb(-places)
    objective_codes = scheme.objective.keys()
    subjective_codes = scheme.subjective.keys()
    others = scheme.others

    panel_size = -1  # not known until the first panel
    panel_first = ""
    trim = False
    divisor = _ONE  # of every subjective criterion's (trimmed) sum, as all panels are equal
    step = half = _ONE  # divisor·10^-places and half of it: for the exact half-up rounding
    scored: list[tuple[str, Decimal, Decimal, dict[str, Decimal]]] = []
    for bid in bids:
        key = bid.key
        given_objective, given_subjective = bid.objective, bid.subjective
        if given_objective.keys() != objective_codes:
            _codes_problem(key, given_objective, objective_codes, OBJECTIVE)
        if given_subjective.keys() != subjective_codes:
            _codes_problem(key, given_subjective, subjective_codes, SUBJECTIVE)

        shown: dict[str, Decimal] = {}
        objective_sum = _ZERO
        subjective_sum = _ZERO
        # One type check for all the bid's member scores (the fast path below needs Decimals).
        plain = set(map(type, chain.from_iterable(given_subjective.values()))) <= _DECIMAL_ONLY
        for code, subjective, points in others:
            if not subjective:
                # Exact as given; shown rounded half-up (quantize rounds exactly).
                value = _in_range(given_objective[code], points, f"bid {key}: criterion {code}")
                objective_sum += value
                shown[code] = value.quantize(exponent, ROUND_HALF_UP, _QUOTIENT)
                continue

            scores = given_subjective[code]
            size = len(scores)
            if size != panel_size:
                if size == 0:
                    raise ValueError(f"bid {key}: criterion {code}: the panel is empty")
                if panel_size > 0:
                    raise ValueError(
                        f"panels are of unequal size: bid {key}, criterion {code} has {size}"
                        f" scores, {panel_first} has {panel_size}"
                    )
                panel_size, panel_first = size, f"bid {key}, criterion {code}"
                trim = trim_extremes and size >= TRIM_MIN_PANEL
                divisor = Decimal(size - 2 if trim else size)
                step = divisor.scaleb(-places)
                half = step / 2
            # Fast path, in C: plain Decimals, all in range. A NaN makes min/max raise
            # InvalidOperation and an infinity is out of range; the slow path names the member.
            try:
                if plain:
                    decimals: Sequence[Decimal] = scores  # type: ignore[assignment]
                    low, high = min(decimals), max(decimals)
                    if low >= 0 and high <= points:
                        total = sum(decimals, _ZERO)
                    else:
                        total, low, high = _panel_checked(scores, points, key, code)
                else:
                    total, low, high = _panel_checked(scores, points, key, code)
            except InvalidOperation:
                total, low, high = _panel_checked(scores, points, key, code)
            if trim:
                total -= low + high
            subjective_sum += total
            # The criterion score total / divisor rounded half-up, exactly: whole is the integer
            # part of total·10^places / divisor, the remainder decides (as in _round_quotient).
            whole, remainder = divmod(total, step)
            if remainder >= half:
                whole += 1
            shown[code] = whole.scaleb(-places)

        price = prices[key]
        # total = base·P/price + S/d + O = (base·P·d + (S + O·d)·price) / (price·d), exactly.
        numerator = price_numerator * divisor + (subjective_sum + objective_sum * divisor) * price
        total_shown = _round_quotient(numerator, price * divisor, places)
        price_shown = _round_quotient(price_numerator, price, places)
        scored.append((key, price_shown, total_shown, shown))

    # Rounded total descending, then price ascending, then key (only to fix the order of ties):
    # two stable sorts, so no total is negated.
    scored.sort(key=lambda row: (prices[row[0]], row[0]))
    scored.sort(key=lambda row: row[2], reverse=True)
    result: list[RankedBid] = []
    for index, (key, price_shown, total_shown, shown) in enumerate(scored):
        standing = (total_shown, prices[key])
        previous = scored[index - 1] if index else None
        following = scored[index + 1] if index + 1 < len(scored) else None
        same_before = previous is not None and (previous[2], prices[previous[0]]) == standing
        same_after = following is not None and (following[2], prices[following[0]]) == standing
        position = result[-1].rank if same_before else index + 1
        result.append(
            RankedBid(
                key=key,
                price_score=price_shown,
                criterion_scores=shown,
                total=total_shown,
                rank=position,
                tied=same_before or same_after,
            )
        )
    return result


def _codes_problem(
    key: str, given: Mapping[str, object], expected: Collection[str], kind: str
) -> None:
    """Raise for the first criterion code a bid has but should not, or should have but lacks."""
    for code in given:
        if code not in expected:
            article = "an" if kind == OBJECTIVE else "a"
            raise ValueError(f"bid {key}: {code!r} is not {article} {kind} criterion of the scheme")
    for code in expected:
        if code not in given:
            raise ValueError(f"bid {key}: criterion {code}: the {kind} score is missing")


def _panel_checked(
    scores: Sequence[Number], points: Decimal, key: str, code: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(sum, lowest, highest) of one criterion's member scores, checking each one in turn."""
    label = f"bid {key}: criterion {code}"
    values = [
        _in_range(score, points, f"{label}: member {i}") for i, score in enumerate(scores, start=1)
    ]
    return _exact_sum(values), min(values), max(values)


# --- checks and exact arithmetic ----------------------------------------------------------------


def _number(value: object, label: str) -> Decimal:
    """``value`` as a finite Decimal; ints are accepted, floats and anything else refused."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{label}: {value} is not a finite number")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{label}: {value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        raise ValueError(
            f"{label}: {value!r} is a float; pass a Decimal (a float cannot hold cents exactly)"
        )
    raise ValueError(f"{label}: {value!r} is not a Decimal or an int")


def _in_range(value: object, points: Decimal, label: str) -> Decimal:
    number = _number(value, label)
    if not 0 <= number <= points:
        raise ValueError(f"{label}: score {number} is outside [0, {points}]")
    return number


def _price(key: str, value: object) -> Decimal:
    if value is None:
        raise ValueError(f"bid {key}: the price is missing")
    price = _number(value, f"bid {key}: price")
    if price <= 0:
        raise ValueError(f"bid {key}: the price must be positive, not {price}")
    return price


def _check_places(places: object) -> None:
    # 20 places is far beyond any display and keeps every result well inside the contexts.
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= _MAX_PLACES:
        raise ValueError(f"places must be a whole number from 0 to {_MAX_PLACES}, not {places!r}")


@contextmanager
def _refusing_long_inputs() -> Iterator[None]:
    """Turn the exact context's refusal (a result needing more than 120 digits) into ValueError."""
    try:
        yield
    except Inexact:
        raise ValueError(
            f"the inputs have too many digits to compute exactly (more than {_EXACT.prec})"
        ) from None


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    add = _EXACT.add
    for value in values:
        total = add(total, value)
    return total


def _round_quotient(numerator: Decimal, denominator: Decimal, places: int) -> Decimal:
    """``numerator / denominator`` (both ≥ 0) rounded half-up to ``places``, exactly.

    The quotient is never approximated: the integer part of ``numerator·10^places /
    denominator`` and its exact remainder decide the last digit.
    """
    exact = _EXACT
    whole, remainder = exact.divmod(exact.scaleb(numerator, places), denominator)
    if exact.add(remainder, remainder) >= denominator:
        whole = exact.add(whole, _ONE)
    # An integer division's quotient has exponent 0, so this has exactly ``places`` decimals
    # ("2500" -> "25.00").
    return exact.scaleb(whole, -places)
