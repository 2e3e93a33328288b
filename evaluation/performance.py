"""Third-party performance evaluation arithmetic (pure; no database; DESIGN 4.5).

An indicator set has four groups, 决策 (decision), 过程 (process), 产出 (output) and 效益
(benefit), worth 100 points together, of which output and benefit carry at least 60
(财政部《项目支出绩效评价管理办法》财预〔2020〕10号: 产出、效益 不低于 60%). One benefit
indicator is the beneficiaries' satisfaction, scored from the survey. Grades: ≥ 90 优,
≥ 80 良, ≥ 60 中, < 60 差.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GROUPS = ("decision", "process", "output", "benefit")
OUTCOME_GROUPS = ("output", "benefit")
TOTAL_POINTS = Decimal(100)
MIN_OUTCOME_POINTS = Decimal(60)
# (grade, lowest total) from the best down.
GRADE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("excellent", Decimal(90)),
    ("good", Decimal(80)),
    ("fair", Decimal(60)),
    ("poor", Decimal(0)),
)
GRADE_ORDER = ("poor", "fair", "good", "excellent")
# The grade a milestone tied to an evaluation needs to be paid [cfg per programme].
DEFAULT_PASS_GRADE = "fair"  # noqa: S105 (a grade, not a password)
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    group: str
    max_points: Decimal
    is_satisfaction: bool = False


def set_problems(indicators: Sequence[IndicatorSpec]) -> list[str]:
    """What makes an indicator set unusable; an empty list when it is sound."""
    problems: list[str] = []
    if not indicators:
        return ["the set has no indicators"]
    unknown = sorted({i.group for i in indicators} - set(GROUPS))
    if unknown:
        problems.append(f"unknown groups: {', '.join(unknown)}")
    missing = [group for group in GROUPS if not any(i.group == group for i in indicators)]
    if missing:
        problems.append(f"groups without indicators: {', '.join(missing)}")
    if any(i.max_points <= 0 for i in indicators):
        problems.append("every indicator must be worth more than 0 points")
    total = sum((i.max_points for i in indicators), Decimal(0))
    if total != TOTAL_POINTS:
        problems.append(f"the indicators add up to {total} points, not 100")
    outcome = sum((i.max_points for i in indicators if i.group in OUTCOME_GROUPS), Decimal(0))
    if outcome < MIN_OUTCOME_POINTS:
        problems.append(f"output and benefit carry {outcome} points; at least 60 are required")
    satisfaction = [i for i in indicators if i.is_satisfaction]
    if len(satisfaction) != 1:
        problems.append("the set needs exactly one satisfaction indicator")
    elif satisfaction[0].group != "benefit":
        problems.append("the satisfaction indicator belongs to the benefit group")
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        problems.append("indicator codes repeat")
    return problems


def grade_for(total: Decimal) -> str:
    for grade, lowest in GRADE_BANDS:
        if total >= lowest:
            return grade
    return "poor"


def meets(grade: str, threshold: str) -> bool:
    """Whether ``grade`` is at least ``threshold`` (both from GRADE_ORDER)."""
    return GRADE_ORDER.index(grade) >= GRADE_ORDER.index(threshold)


def satisfaction_points(max_points: Decimal, rate: Decimal | None) -> Decimal | None:
    """The satisfaction indicator's score: its points times the satisfied share, to 0.1;
    None without survey answers (the assessor then scores it from other evidence)."""
    if rate is None:
        return None
    return (max_points * rate / 100).quantize(TENTH, rounding=ROUND_HALF_UP)


def score_problems(
    indicators: Sequence[IndicatorSpec], scores: Mapping[str, Decimal]
) -> dict[str, str]:
    """Per indicator code, what is wrong with its score (missing, negative, above the maximum)."""
    problems: dict[str, str] = {}
    for indicator in indicators:
        score = scores.get(indicator.code)
        if score is None:
            problems[indicator.code] = "missing"
        elif not score.is_finite() or score < 0:
            problems[indicator.code] = "negative"
        elif score > indicator.max_points:
            problems[indicator.code] = "above_maximum"
    return problems


def total(scores: Mapping[str, Decimal]) -> Decimal:
    return sum(scores.values(), Decimal(0)).quantize(TENTH, rounding=ROUND_HALF_UP)


def group_totals(
    indicators: Sequence[IndicatorSpec], scores: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    totals = dict.fromkeys(GROUPS, Decimal(0))
    for indicator in indicators:
        totals[indicator.group] += scores.get(indicator.code, Decimal(0))
    return totals
