"""The objective criteria's rules (pure; no database): registry facts → points.

DESIGN 4.4: objective criteria are scored by the system from registry data, identically for
every assessor. Each ``TenderCriterion.rule`` (and template criterion rule) is a JSON object
whose ``type`` says which fact it reads:

- ``{"type": "grade", "fractions": {"5A": "1", "4A": "0.8", "3A": "0.6"}, "none": "0"}``:
  the share of the points a grade in force earns (defaults 5A full, 4A 80%, 3A 60%, 2A and
  1A and no grade 0 [cfg]).
- ``{"type": "social_workers", "per_person": "2", "cap": "6"}``: points per certified social
  worker on the bid's staffing plan, up to the cap (default: the criterion's points) [cfg].
- ``{"type": "past_performance", "years": 3, "bands": [{"min": "90", "fraction": "1"}, ...],
  "none": "0"}``: the mean of the organization's final performance evaluations in the last
  ``years`` years mapped to a share of the points by the first band whose ``min`` it reaches
  (defaults ≥ 90 full, ≥ 80 80%, ≥ 60 60%, below 0; no evaluation: ``none``) [cfg].

Numbers in rules may be strings, integers or ``Decimal`` (never floats' binary noise: a float
is read through its shortest ``repr``). Scores are exact products, rounded half-up to
``PLACES`` decimal places (the precision ``ObjectiveScore.score`` stores); with the shares
and points a scheme uses they are exact anyway.

``validate_rule`` lists a rule's problems (tender and template validation use it); the score
functions assume a valid rule and raise ``ValueError`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

GRADE = "grade"
SOCIAL_WORKERS = "social_workers"
PAST_PERFORMANCE = "past_performance"
RULE_TYPES = (GRADE, SOCIAL_WORKERS, PAST_PERFORMANCE)

GRADES = ("5A", "4A", "3A", "2A", "1A")
# DESIGN 4.4: "5A = full, 4A = 80%, 3A = 60%, none = 0" [cfg]; 2A and 1A earn nothing.
DEFAULT_GRADE_FRACTIONS: dict[str, Decimal] = {
    "5A": Decimal("1"),
    "4A": Decimal("0.8"),
    "3A": Decimal("0.6"),
    "2A": Decimal("0"),
    "1A": Decimal("0"),
}
# Performance score bands of DESIGN 4.5 (优 ≥ 90, 良 ≥ 80, 中 ≥ 60) as shares [cfg].
DEFAULT_PERFORMANCE_BANDS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("90"), Decimal("1")),
    (Decimal("80"), Decimal("0.8")),
    (Decimal("60"), Decimal("0.6")),
)
# Past performance looks back this many years (DESIGN 4.4) [cfg].
DEFAULT_PERFORMANCE_YEARS = 3
PLACES = 4
_QUANTUM = Decimal(1).scaleb(-PLACES)

_KEYS: dict[str, frozenset[str]] = {
    GRADE: frozenset({"type", "fractions", "none"}),
    SOCIAL_WORKERS: frozenset({"type", "per_person", "cap"}),
    PAST_PERFORMANCE: frozenset({"type", "years", "bands", "none"}),
}


# --- Reading numbers ----------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _number(value: Any, label: str) -> Decimal:
    number = _decimal(value)
    if number is None:
        raise ValueError(f"{label} must be a number, not {value!r}")
    return number


def _share(value: Any, label: str) -> Decimal:
    number = _number(value, label)
    if not 0 <= number <= 1:
        raise ValueError(f"{label} must be between 0 and 1, not {number}")
    return number


def _points(points: Any) -> Decimal:
    number = _number(points, "the points")
    if number < 0:
        raise ValueError(f"the points must not be negative, not {number}")
    return number


def _round(value: Decimal) -> Decimal:
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def rule_type(rule: Mapping[str, Any] | None) -> str:
    """The rule's type ("" when the rule is empty or has none)."""
    if not isinstance(rule, Mapping):
        return ""
    return str(rule.get("type") or "")


# --- Scores -------------------------------------------------------------------------------------


def grade_fractions(rule: Mapping[str, Any]) -> dict[str, Decimal]:
    """The share of the points each grade earns: the defaults overridden by the rule's."""
    fractions = dict(DEFAULT_GRADE_FRACTIONS)
    given = rule.get("fractions") or {}
    if not isinstance(given, Mapping):
        raise ValueError('the grade fractions must be an object such as {"5A": "1"}')
    for grade, value in given.items():
        key = str(grade).strip().upper()
        if key not in DEFAULT_GRADE_FRACTIONS:
            raise ValueError(f"unknown grade {grade!r}: 5A, 4A, 3A, 2A or 1A")
        fractions[key] = _share(value, f"the fraction of {key}")
    return fractions


def grade_score(points: Any, grade: str | None, rule: Mapping[str, Any]) -> Decimal:
    """Points for an organization whose grade in force is ``grade`` (None: no grade)."""
    total = _points(points)
    if grade:
        key = str(grade).strip().upper()
        fractions = grade_fractions(rule)
        if key not in fractions:
            raise ValueError(f"unknown grade {grade!r}: 5A, 4A, 3A, 2A or 1A")
        fraction = fractions[key]
    else:
        fraction = _share(rule.get("none", 0), "the share without a grade")
    return _round(total * fraction)


def social_worker_score(points: Any, count: int, rule: Mapping[str, Any]) -> Decimal:
    """Points for ``count`` certified social workers: ``min(count × per_person, cap, points)``."""
    total = _points(points)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"the number of social workers must be a whole number ≥ 0, not {count!r}")
    per_person = _number(rule.get("per_person"), "the points per person")
    if per_person < 0:
        raise ValueError(f"the points per person must not be negative, not {per_person}")
    cap = _number(rule.get("cap", total), "the cap")
    if cap < 0:
        raise ValueError(f"the cap must not be negative, not {cap}")
    return _round(min(count * per_person, cap, total))


def performance_bands(rule: Mapping[str, Any]) -> list[tuple[Decimal, Decimal]]:
    """The rule's bands as (minimum mean, share), highest minimum first."""
    raw = rule.get("bands")
    if raw is None:
        return list(DEFAULT_PERFORMANCE_BANDS)
    if not isinstance(raw, list | tuple):
        raise ValueError('the bands must be a list of {"min", "fraction"}')
    bands = []
    for index, band in enumerate(raw, start=1):
        if not isinstance(band, Mapping):
            raise ValueError(f"band {index} must be an object with min and fraction")
        low = _number(band.get("min"), f"the minimum of band {index}")
        if not 0 <= low <= 100:
            raise ValueError(f"the minimum of band {index} must be between 0 and 100, not {low}")
        bands.append((low, _share(band.get("fraction"), f"the fraction of band {index}")))
    return sorted(bands, key=lambda band: band[0], reverse=True)


def past_performance_score(points: Any, mean: Decimal | None, rule: Mapping[str, Any]) -> Decimal:
    """Points for a mean final performance score of ``mean`` (None: no evaluation yet)."""
    total = _points(points)
    if mean is None:
        fraction = _share(rule.get("none", 0), "the share without an evaluation")
    else:
        value = _number(mean, "the mean performance score")
        fraction = next(
            (share for low, share in performance_bands(rule) if value >= low), Decimal(0)
        )
    return _round(total * fraction)


def performance_years(rule: Mapping[str, Any]) -> int:
    """How many years back past performance is read (default 3)."""
    years = rule.get("years", DEFAULT_PERFORMANCE_YEARS)
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise ValueError(f"the years must be a whole number ≥ 1, not {years!r}")
    return years


# --- Validation ---------------------------------------------------------------------------------


def _check(problems: list[str], check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def validate_rule(kind: str, points: Any, rule: Any) -> list[str]:
    """Everything wrong with a criterion's rule; empty when it can be scored.

    ``kind`` is the criterion's kind: only objective criteria carry a rule (an empty rule
    on another kind is fine). The messages name the setting and the rule it breaks.
    """
    problems: list[str] = []
    if kind != "objective":
        if rule:
            problems.append(_("only objective criteria have a rule"))
        return problems
    if not isinstance(rule, Mapping) or not rule:
        return [
            _(
                "the rule must say which registry data scores it: type grade, "
                "social_workers or past_performance"
            )
        ]
    kind_of_rule = rule_type(rule)
    if kind_of_rule not in RULE_TYPES:
        return [
            _("unknown rule type “%(type)s”: grade, social_workers or past_performance")
            % {"type": kind_of_rule}
        ]
    total = _decimal(points)
    if total is None or total < 0:
        problems.append(_("the points must be a number ≥ 0"))
        total = None
    unknown = sorted(set(map(str, rule)) - _KEYS[kind_of_rule])
    if unknown:
        problems.append(
            _("unknown settings for a %(type)s rule: %(keys)s")
            % {"type": kind_of_rule, "keys": ", ".join(unknown)}
        )
    if kind_of_rule == GRADE:
        problems.extend(_grade_problems(rule))
    elif kind_of_rule == SOCIAL_WORKERS:
        problems.extend(_workers_problems(rule, total))
    else:
        problems.extend(_performance_problems(rule))
    return problems


def _share_problem(value: Any, label: str) -> str | None:
    number = _decimal(value)
    if number is None:
        return _("%(label)s must be a number") % {"label": label}
    if not 0 <= number <= 1:
        return _("%(label)s must be between 0 and 1, not %(value)s") % {
            "label": label,
            "value": number,
        }
    return None


def _grade_problems(rule: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    fractions = rule.get("fractions", {})
    if not isinstance(fractions, Mapping):
        problems.append(_("the grade fractions must map grades (5A…1A) to shares"))
    else:
        for grade, value in fractions.items():
            if str(grade).strip().upper() not in GRADES:
                problems.append(
                    _("unknown grade “%(grade)s”: 5A, 4A, 3A, 2A or 1A") % {"grade": grade}
                )
                continue
            problem = _share_problem(value, _("the fraction of %(grade)s") % {"grade": grade})
            if problem:
                problems.append(problem)
    if "none" in rule:
        problem = _share_problem(rule["none"], _("the share without a grade"))
        if problem:
            problems.append(problem)
    return problems


def _workers_problems(rule: Mapping[str, Any], total: Decimal | None) -> list[str]:
    problems: list[str] = []
    per_person = _decimal(rule.get("per_person"))
    if per_person is None:
        problems.append(_("the points per certified social worker (per_person) must be a number"))
    elif per_person < 0:
        problems.append(
            _("the points per certified social worker must not be negative, not %(value)s")
            % {"value": per_person}
        )
    if "cap" in rule:
        cap = _decimal(rule["cap"])
        if cap is None:
            problems.append(_("the cap must be a number"))
        elif cap < 0:
            problems.append(_("the cap must not be negative, not %(value)s") % {"value": cap})
        elif total is not None and cap > total:
            problems.append(
                _("the cap (%(cap)s) is more than the criterion's %(points)s points")
                % {"cap": cap, "points": total}
            )
    return problems


def _performance_problems(rule: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if "years" in rule:
        years = rule["years"]
        if isinstance(years, bool) or not isinstance(years, int) or years < 1:
            problems.append(_("the years must be a whole number of at least 1"))
    if "none" in rule:
        problem = _share_problem(rule["none"], _("the share without an evaluation"))
        if problem:
            problems.append(problem)
    bands = rule.get("bands")
    if bands is None:
        return problems
    if not isinstance(bands, list | tuple) or not bands:
        problems.append(_("the bands must be a non-empty list of {min, fraction}"))
        return problems
    seen: set[Decimal] = set()
    for index, band in enumerate(bands, start=1):
        if not isinstance(band, Mapping):
            problems.append(_("band %(n)s must have a min and a fraction") % {"n": index})
            continue
        low = _decimal(band.get("min"))
        if low is None or not 0 <= low <= 100:
            problems.append(
                _("band %(n)s: the minimum mean score must be between 0 and 100") % {"n": index}
            )
        elif low in seen:
            problems.append(_("band %(n)s repeats the minimum %(min)s") % {"n": index, "min": low})
        else:
            seen.add(low)
        problem = _share_problem(
            band.get("fraction"), _("the fraction of band %(n)s") % {"n": index}
        )
        if problem:
            problems.append(problem)
    return problems


def score(points: Any, rule: Mapping[str, Any], facts: Mapping[str, Any]) -> Decimal:
    """Score one criterion from the registry ``facts`` its rule reads.

    ``facts``: ``grade`` (str or None), ``social_workers`` (int), ``performance_mean``
    (Decimal or None).
    """
    kind = rule_type(rule)
    if kind == GRADE:
        return grade_score(points, facts.get("grade"), rule)
    if kind == SOCIAL_WORKERS:
        return social_worker_score(points, int(facts.get("social_workers", 0)), rule)
    if kind == PAST_PERFORMANCE:
        return past_performance_score(points, facts.get("performance_mean"), rule)
    raise ValueError(f"unknown rule type {kind!r}: grade, social_workers or past_performance")


__all__ = [
    "DEFAULT_GRADE_FRACTIONS",
    "DEFAULT_PERFORMANCE_BANDS",
    "GRADE",
    "PAST_PERFORMANCE",
    "RULE_TYPES",
    "SOCIAL_WORKERS",
    "grade_score",
    "past_performance_score",
    "performance_years",
    "rule_type",
    "score",
    "social_worker_score",
    "validate_rule",
]
