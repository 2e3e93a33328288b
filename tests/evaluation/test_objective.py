"""The objective criteria's rules (evaluation.objective): pure, Decimal, configurable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from evaluation.objective import (
    grade_score,
    past_performance_score,
    performance_years,
    score,
    social_worker_score,
    validate_rule,
)

D = Decimal

# --- Grade ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "expected"),
    [("5A", "20"), ("4A", "16"), ("3A", "12"), ("2A", "0"), ("1A", "0"), (None, "0"), ("", "0")],
)
def test_the_default_grade_fractions_follow_the_design(grade, expected):
    assert grade_score(D("20"), grade, {"type": "grade"}) == D(expected)


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


def test_a_rule_overrides_some_grade_fractions_and_keeps_the_rest():
    rule = {"type": "grade", "fractions": {"4A": "0.9", "2A": "0.25"}}
    assert grade_score(D("20"), "4A", rule) == D("18")
    assert grade_score(D("20"), "2A", rule) == D("5")
    assert grade_score(D("20"), "5A", rule) == D("20")
    assert grade_score(D("20"), "3A", rule) == D("12")


def test_no_grade_earns_the_configured_share():
    assert grade_score(D("10"), None, {"type": "grade", "none": "0.1"}) == D("1")


def test_grade_scores_are_rounded_half_up_to_four_places():
    rule = {"type": "grade", "fractions": {"5A": "0.33335"}}
    assert grade_score(D("1"), "5A", rule) == D("0.3334")


def test_grades_are_read_in_any_case_and_unknown_grades_are_refused():
    assert grade_score(D("20"), "4a", {"type": "grade"}) == D("16")
    with pytest.raises(ValueError, match="unknown grade"):
        grade_score(D("20"), "6A", {"type": "grade"})


def test_a_grade_fraction_outside_zero_to_one_is_refused_by_the_score():
    with pytest.raises(ValueError, match="between 0 and 1"):
        grade_score(D("20"), "5A", {"type": "grade", "fractions": {"5A": "1.2"}})


# --- Certified social workers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0"), (1, "2"), (2, "4"), (3, "6"), (4, "6"), (50, "6")],
)
def test_social_workers_earn_points_per_person_up_to_the_cap(count, expected):
    rule = {"type": "social_workers", "per_person": "2", "cap": "6"}
    assert social_worker_score(D("10"), count, rule) == D(expected)


def test_without_a_cap_the_social_worker_points_stop_at_the_criterion_points():
    rule = {"type": "social_workers", "per_person": "3"}
    assert social_worker_score(D("10"), 5, rule) == D("10")


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="whole number"):
        social_worker_score(D("10"), -1, {"type": "social_workers", "per_person": "2"})


# --- Past performance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean", "expected"),
    [("100", "10"), ("90", "10"), ("89.99", "8"), ("80", "8"), ("60", "6"), ("59.9", "0")],
)
def test_the_mean_performance_maps_to_the_default_bands(mean, expected):
    assert past_performance_score(D("10"), D(mean), {"type": "past_performance"}) == D(expected)


def test_no_past_evaluation_earns_the_rules_none_share():
    assert past_performance_score(D("10"), None, {"type": "past_performance"}) == D("0")
    rule = {"type": "past_performance", "none": "0.5"}
    assert past_performance_score(D("10"), None, rule) == D("5")


def test_bands_given_in_any_order_are_read_highest_first():
    rule = {
        "type": "past_performance",
        "bands": [{"min": "60", "fraction": "0.5"}, {"min": "85", "fraction": "1"}],
    }
    assert past_performance_score(D("8"), D("86"), rule) == D("8")
    assert past_performance_score(D("8"), D("70"), rule) == D("4")
    assert past_performance_score(D("8"), D("10"), rule) == D("0")


def test_the_look_back_defaults_to_three_years():
    assert performance_years({"type": "past_performance"}) == 3
    assert performance_years({"type": "past_performance", "years": 5}) == 5


def test_score_dispatches_on_the_rule_type():
    facts = {"grade": "4A", "social_workers": 2, "performance_mean": D("81")}
    assert score(D("20"), {"type": "grade"}, facts) == D("16")
    assert score(D("10"), {"type": "social_workers", "per_person": "2"}, facts) == D("4")
    assert score(D("10"), {"type": "past_performance"}, facts) == D("8")
    with pytest.raises(ValueError, match="unknown rule type"):
        score(D("10"), {"type": "mystery"}, facts)


# --- Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "grade"},
        {"type": "grade", "fractions": {"5A": "1", "4A": "0.8", "3A": "0.6"}},
        {"type": "grade", "fractions": {"5A": 1, "4A": "0.8"}, "none": "0"},
        {"type": "social_workers", "per_person": "2", "cap": "6"},
        {"type": "social_workers", "per_person": 1},
        {
            "type": "past_performance",
            "years": 3,
            "bands": [{"min": "90", "fraction": "1"}, {"min": "60", "fraction": "0.6"}],
            "none": "0.5",
        },
        {"type": "past_performance"},
    ],
)
def test_valid_rules_have_no_problems(rule):
    assert validate_rule("objective", D("10"), rule) == []


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({}, "which registry data"),
        ({"type": "mystery"}, "unknown rule type"),
        ({"kind": "grade"}, "unknown rule type"),
        ({"type": "grade", "fractions": {"5A": "1.5"}}, "between 0 and 1"),
        ({"type": "grade", "fractions": {"5A": "-0.1"}}, "between 0 and 1"),
        ({"type": "grade", "fractions": {"6A": "1"}}, "unknown grade"),
        ({"type": "grade", "fractions": ["5A"]}, "map grades"),
        ({"type": "grade", "none": "2"}, "between 0 and 1"),
        ({"type": "grade", "bonus": "1"}, "unknown settings"),
        ({"type": "social_workers"}, "per_person"),
        ({"type": "social_workers", "per_person": "-1"}, "negative"),
        ({"type": "social_workers", "per_person": "2", "cap": "-1"}, "negative"),
        ({"type": "social_workers", "per_person": "2", "cap": "12"}, "cap (12)"),
        ({"type": "social_workers", "per_person": "x"}, "must be a number"),
        ({"type": "past_performance", "bands": []}, "non-empty"),
        ({"type": "past_performance", "bands": [{"min": "120", "fraction": "1"}]}, "0 and 100"),
        ({"type": "past_performance", "bands": [{"min": "90", "fraction": "2"}]}, "0 and 1"),
        (
            {
                "type": "past_performance",
                "bands": [{"min": "90", "fraction": "1"}, {"min": "90", "fraction": "0.5"}],
            },
            "repeats",
        ),
        ({"type": "past_performance", "years": 0}, "years"),
        ({"type": "past_performance", "none": "-1"}, "0 and 1"),
    ],
)
def test_bad_rules_are_listed_with_what_is_wrong(rule, fragment):
    problems = validate_rule("objective", D("10"), rule)
    assert problems
    assert any(fragment in problem for problem in problems), problems


def test_negative_points_are_a_problem():
    assert any("points" in p for p in validate_rule("objective", D("-1"), {"type": "grade"}))


def test_only_objective_criteria_carry_a_rule():
    assert validate_rule("subjective", D("10"), {}) == []
    assert validate_rule("price", D("30"), {"type": "grade"}) == [
        "only objective criteria have a rule"
    ]


def test_every_validated_rule_can_be_scored():
    """What validate_rule accepts, the score functions compute without error."""
    rules = [
        {"type": "grade", "fractions": {"4A": "0.75"}, "none": "0.1"},
        {"type": "social_workers", "per_person": "1.5", "cap": "4.5"},
        {"type": "past_performance", "bands": [{"min": "75", "fraction": "0.9"}], "none": "0"},
    ]
    facts = {"grade": None, "social_workers": 7, "performance_mean": D("76")}
    for rule in rules:
        assert validate_rule("objective", D("10"), rule) == []
        assert D("0") <= score(D("10"), rule, facts) <= D("10")
