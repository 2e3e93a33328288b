"""The pure rules of performance evaluation (``evaluation.performance``, no database): grade
bands, the payment threshold, the indicator-set rules, satisfaction points, totals; and the
default indicator set the data migration made satisfies them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation import performance
from evaluation.performance import IndicatorSpec

D = Decimal


def spec(code: str, group: str, points: str, satisfaction: bool = False) -> IndicatorSpec:
    return IndicatorSpec(code=code, group=group, max_points=D(points), is_satisfaction=satisfaction)


SOUND = [
    spec("D1", "decision", "15"),
    spec("P1", "process", "20"),
    spec("O1", "output", "35"),
    spec("B1", "benefit", "18"),
    spec("B2", "benefit", "12", satisfaction=True),
]


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "excellent"),
        ("90", "excellent"),
        ("89.9", "good"),
        ("80", "good"),
        ("79.9", "fair"),
        ("60", "fair"),
        ("59.9", "poor"),
        ("0", "poor"),
    ],
)
def test_grade_bands(total, grade):
    """优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 < 60 (DESIGN 4.5)."""
    assert performance.grade_for(D(total)) == grade


@pytest.mark.parametrize(
    ("grade", "threshold", "paid"),
    [
        ("fair", "fair", True),
        ("excellent", "fair", True),
        ("poor", "fair", False),
        ("fair", "good", False),
        ("good", "good", True),
    ],
)
def test_a_grade_meets_the_threshold_at_or_above_it(grade, threshold, paid):
    assert performance.meets(grade, threshold) is paid


def test_a_sound_set_has_no_problems():
    assert performance.set_problems(SOUND) == []


def test_output_and_benefit_must_carry_at_least_sixty_points():
    unsound = [
        spec("D1", "decision", "30"),
        spec("P1", "process", "20"),
        spec("O1", "output", "30"),
        spec("B1", "benefit", "10"),
        spec("B2", "benefit", "10", satisfaction=True),
    ]

    problems = performance.set_problems(unsound)

    assert problems == ["output and benefit carry 50 points; at least 60 are required"]


@pytest.mark.parametrize(
    ("indicators", "problem"),
    [
        ([], "the set has no indicators"),
        ([*SOUND[:-1], spec("B2", "benefit", "12")], "exactly one satisfaction indicator"),
        ([*SOUND[:-1], spec("B2", "output", "12", True)], "belongs to the benefit group"),
        ([*SOUND[:-1], spec("B2", "benefit", "11", True)], "add up to 99 points, not 100"),
        ([*SOUND[1:], spec("X1", "output", "15")], "groups without indicators: decision"),
        ([*SOUND[:-1], spec("D1", "benefit", "12", True)], "indicator codes repeat"),
        ([*SOUND, spec("Z1", "impact", "0")], "unknown groups: impact"),
    ],
)
def test_an_unsound_set_is_named(indicators, problem):
    assert any(problem in found for found in performance.set_problems(indicators))


def test_satisfaction_points_are_the_points_times_the_satisfied_share():
    assert performance.satisfaction_points(D("12"), D("80.0")) == D("9.6")
    assert performance.satisfaction_points(D("12"), D("66.7")) == D("8.0")
    assert performance.satisfaction_points(D("12"), None) is None


def test_score_problems_name_each_indicator():
    problems = performance.score_problems(
        SOUND, {"D1": D("16"), "P1": D("-1"), "O1": D("35"), "B1": D("0")}
    )

    assert problems == {"D1": "above_maximum", "P1": "negative", "B2": "missing"}


def test_totals_and_group_totals():
    scores = {"D1": D("10.5"), "P1": D("18"), "O1": D("30"), "B1": D("15"), "B2": D("9.6")}

    assert performance.total(scores) == D("83.1")
    assert performance.group_totals(SOUND, scores) == {
        "decision": D("10.5"),
        "process": D("18"),
        "output": D("30"),
        "benefit": D("24.6"),
    }


def test_the_default_indicator_set_is_sound(db):
    from evaluation.models import PerformanceIndicator, PerformanceIndicatorSet
    from evaluation.services.performance import indicator_specs

    current = PerformanceIndicatorSet.objects.get(is_current=True)
    indicators = list(PerformanceIndicator.objects.filter(set=current))

    assert performance.set_problems(indicator_specs(indicators)) == []
    weights = performance.group_totals(
        indicator_specs(indicators), {i.code: i.max_points for i in indicators}
    )
    assert weights == {"decision": D(15), "process": D(20), "output": D(35), "benefit": D(30)}
