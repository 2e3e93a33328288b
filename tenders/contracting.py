"""The rules of contracts, milestones and beneficiary surveys (pure; no database).

DESIGN.md 3 (contract, milestone), 4.3 (contract within 30 days of the award notice; a term
of at most 1 year, 3 years for stable recurring services: 财政部令第102号 Art. 24) and 4.5
(payments follow the evaluated results). Values marked [cfg] are defaults a programme may
change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Both sides sign within 30 days of the award notice (87号令 Art. 71).
SIGN_WITHIN_DAYS = 30
# 102号令 Art. 24: a contract runs at most one year; stable recurring services up to three.
MAX_TERM_YEARS = 1
MAX_LONG_TERM_YEARS = 3
# Reminders go out this many days before a milestone's due date [cfg].
REMINDER_DAYS = (7, 1)
# A survey period is a calendar month: one answer per person per month [cfg].
SURVEY_PERIOD_FORMAT = "%Y-%m"
# At most this many answers per network address per site and hour (abuse limit) [cfg].
SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR = 20
# A form filled in faster than this is a script, not a person [cfg].
SURVEY_MIN_SECONDS = 3
# Answers of 4 or 5 on the 1–5 scale count as satisfied.
SATISFIED_FROM = 4
# The default payment plan: 30 % on the first accepted report, 40 % after the mid-term
# evaluation, 30 % after the final evaluation [cfg per programme].
DEFAULT_PAYMENT_PLAN: list[dict[str, Any]] = [
    {"share": "30", "kind": "report", "title": "启动与首期服务报告", "title_en": "Start-up report"},
    {
        "share": "40",
        "kind": "evaluation",
        "evaluation": "mid_term",
        "title": "中期绩效评价",
        "title_en": "Mid-term evaluation",
    },
    {
        "share": "30",
        "kind": "evaluation",
        "evaluation": "final",
        "title": "终期绩效评价",
        "title_en": "Final evaluation",
    },
]
MILESTONE_KINDS = ("report", "evaluation")
EVALUATION_KINDS = ("mid_term", "final")
CENT = Decimal("0.01")


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def sign_due(notice_published: date) -> date:
    return notice_published + timedelta(days=SIGN_WITHIN_DAYS)


def term_problem(start: date, end: date, *, long_term_reason: str) -> str | None:
    """Why the service period is not allowed, or None (102号令 Art. 24)."""
    if end < start:
        return "end_before_start"
    # The last day is inclusive: a one-year term starting 1 January ends 31 December.
    if end < add_years(start, MAX_TERM_YEARS):
        return None
    if end >= add_years(start, MAX_LONG_TERM_YEARS):
        return "longer_than_three_years"
    if not long_term_reason.strip():
        return "long_term_needs_reason"
    return None


@dataclass(frozen=True)
class PlannedMilestone:
    sequence: int
    kind: str
    evaluation: str
    share: Decimal
    amount: Decimal
    due_date: date
    title: str
    title_en: str


def plan_problems(plan: Sequence[dict[str, Any]]) -> list[str]:
    """What is wrong with a payment plan: shares must be positive and add up to 100, each
    step tied to a report or an evaluation, at most one mid-term and exactly one final
    evaluation, the final evaluation last."""
    problems: list[str] = []
    if not plan:
        return ["the plan has no milestones"]
    total = Decimal(0)
    finals = mid_terms = 0
    for number, step in enumerate(plan, start=1):
        try:
            share = Decimal(str(step.get("share")))
        except ArithmeticError:
            problems.append(f"milestone {number}: the share is not a number")
            continue
        if not share.is_finite() or share <= 0:
            problems.append(f"milestone {number}: the share must be more than 0")
            continue
        total += share
        kind = step.get("kind")
        if kind not in MILESTONE_KINDS:
            problems.append(f"milestone {number}: kind must be 'report' or 'evaluation'")
        elif kind == "evaluation":
            evaluation = step.get("evaluation")
            if evaluation not in EVALUATION_KINDS:
                problems.append(f"milestone {number}: evaluation must be 'mid_term' or 'final'")
            finals += evaluation == "final"
            mid_terms += evaluation == "mid_term"
    if total != 100:
        problems.append(f"the shares add up to {total}, not 100")
    if finals != 1:
        problems.append("the plan needs exactly one final evaluation")
    elif plan[-1].get("evaluation") != "final":
        problems.append("the final evaluation must be the last milestone")
    if mid_terms > 1:
        problems.append("the plan has more than one mid-term evaluation")
    return problems


def split_amounts(price: Decimal, shares: Iterable[Decimal]) -> list[Decimal]:
    """Each share of the price in cents; the last takes the rounding remainder, so the
    amounts always add up to the price exactly."""
    shares = list(shares)
    amounts = [(price * share / 100).quantize(CENT, rounding=ROUND_HALF_UP) for share in shares]
    if amounts:
        amounts[-1] = price - sum(amounts[:-1], Decimal(0))
    return amounts


def due_dates(start: date, end: date, plan: Sequence[dict[str, Any]]) -> list[date]:
    """Spread the milestones over the service period: a report step is due a month after the
    start (or after the previous step), a mid-term evaluation at the middle of the period
    and the final evaluation at its end."""
    days = (end - start).days
    dates: list[date] = []
    previous = start
    for step in plan:
        if step.get("evaluation") == "final":
            due = end
        elif step.get("evaluation") == "mid_term":
            due = start + timedelta(days=days // 2)
        else:
            due = min(previous + timedelta(days=30), end)
        due = max(due, previous)
        dates.append(due)
        previous = due
    return dates


def plan_milestones(
    *, price: Decimal, start: date, end: date, plan: Sequence[dict[str, Any]]
) -> list[PlannedMilestone]:
    """The milestones of a contract from its programme's payment plan (which must be valid)."""
    shares = [Decimal(str(step["share"])) for step in plan]
    amounts = split_amounts(price, shares)
    dues = due_dates(start, end, plan)
    return [
        PlannedMilestone(
            sequence=number,
            kind=step["kind"],
            evaluation=step.get("evaluation", "") if step["kind"] == "evaluation" else "",
            share=share,
            amount=amount,
            due_date=due,
            title=str(step.get("title") or ""),
            title_en=str(step.get("title_en") or ""),
        )
        for number, (step, share, amount, due) in enumerate(
            zip(plan, shares, amounts, dues, strict=True), start=1
        )
    ]


def amounts_problem(price: Decimal, amounts: Iterable[Decimal]) -> str | None:
    """The milestone amounts must be positive and add up to the contract price."""
    amounts = list(amounts)
    if any(amount <= 0 for amount in amounts):
        return "every milestone amount must be more than 0"
    total = sum(amounts, Decimal(0))
    if total != price:
        return f"the milestone amounts add up to {total}, not the price {price}"
    return None


def survey_period(day: date) -> str:
    return day.strftime(SURVEY_PERIOD_FORMAT)


@dataclass(frozen=True)
class Satisfaction:
    """The survey result for a contract: answers, the mean (1–5) and the satisfied share (%)."""

    answers: int
    mean: Decimal | None
    rate: Decimal | None


def satisfaction(ratings: Sequence[int]) -> Satisfaction:
    """The share of answers that are satisfied (4 or 5 of 5), in percent to one decimal."""
    if not ratings:
        return Satisfaction(answers=0, mean=None, rate=None)
    count = len(ratings)
    mean = (Decimal(sum(ratings)) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    satisfied = sum(1 for rating in ratings if rating >= SATISFIED_FROM)
    rate = (Decimal(satisfied) * 100 / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Satisfaction(answers=count, mean=mean, rate=rate)
