"""The rules of panels and evaluation (pure; no database).

财政部令第87号 Art. 47-48 (panel size and experts), Art. 55 (综合评分法), Art. 60 (abnormally
low price), Art. 64 (corrections); 财库〔2014〕214号 Art. 14 (consultation panels). Values
marked [cfg] in DESIGN.md 4.4 are module constants here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

PUBLIC_TENDER = "public_tender"
COMPETITIVE_CONSULTATION = "competitive_consultation"

# A public tender panel has at least 5 members and an odd number; 7 when the budget is
# ¥10M or more (87号令 Art. 47). A consultation panel: at least 3, odd (214号 Art. 14).
LARGE_BUDGET = Decimal("10000000")
# Experts drawn from the pool are at least two thirds of the panel (87号令 Art. 47).
EXPERT_SHARE = Fraction(2, 3)
# Employment by a bidder within this many years is a conflict [cfg].
CONFLICT_YEARS = 3
# Members from the same employer or agency may not sit together [cfg].
EXCLUDE_SAME_AGENCY = True
# A member's score more than this share of the criterion maximum away from the panel mean
# is flagged (畸高畸低) [cfg].
DEVIATION_THRESHOLD = Decimal("0.30")
# A price below this share of the mean of the other valid prices is abnormally low (87号令
# Art. 60) [cfg].
LOW_PRICE_RATIO = Decimal("0.80")
# Days the bidder has to justify an abnormally low price [cfg].
JUSTIFICATION_DAYS = 2
# Drop one highest and one lowest member score when the panel has at least this many [cfg].
TRIM_MIN_PANEL = 7
# Award: published within 2 working days of the confirmation, public for 1 working day;
# challenges within 7 working days of the notice, answered within 7 working days
# (87号令 Art. 69; 政府采购质疑和投诉办法 Art. 10, 13).
AWARD_NOTICE_WORKING_DAYS = 1
CHALLENGE_WORKING_DAYS = 7
CHALLENGE_ANSWER_WORKING_DAYS = 7


def minimum_panel_size(method: str, budget: Decimal) -> int:
    """The smallest panel the method and budget allow."""
    if method == COMPETITIVE_CONSULTATION:
        return 3
    return 7 if budget >= LARGE_BUDGET else 5


def panel_size_problem(method: str, budget: Decimal, size: int) -> str | None:
    """Why ``size`` members is not a lawful panel, or ``None``; English, for the caller to
    translate (services wrap it)."""
    minimum = minimum_panel_size(method, budget)
    if size < minimum:
        return f"at least {minimum}"
    if size % 2 == 0:
        return "odd"
    return None


def minimum_experts(size: int) -> int:
    """Experts needed on a panel of ``size`` (at least two thirds, rounded up)."""
    needed = EXPERT_SHARE * size
    return int(needed) if needed.denominator == 1 else int(needed) + 1


def trims(size: int, trim_extremes: bool) -> bool:
    """Whether the highest and lowest scores are dropped for a panel of ``size``."""
    return trim_extremes and size >= TRIM_MIN_PANEL


@dataclass(frozen=True)
class Period:
    """A period of employment; ``end`` None means it goes on."""

    start: date
    end: date | None


def employed_within(periods: list[Period], today: date, years: int = CONFLICT_YEARS) -> bool:
    """Whether any period overlaps the last ``years`` years up to ``today``."""
    since = today - timedelta(days=365 * years + years // 4)
    return any(p.start <= today and (p.end is None or p.end >= since) for p in periods)


def normalize_agency(name: str) -> str:
    """A comparable form of an employer or agency name (spaces, full-width, case)."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()
