"""The procurement rules a tender is checked against (pure; no database).

财政部令第87号 (public tender), 财库〔2014〕214号 (competitive consultation), 财库〔2015〕124号
(consultation on purchased services), 财政部令第102号 (what may be bought). Values marked
[cfg] in DESIGN.md 4.3-4.4 are module constants here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evaluation.objective import validate_rule

PUBLIC_TENDER = "public_tender"
COMPETITIVE_CONSULTATION = "competitive_consultation"

# Publication to bid deadline, in calendar days (87号令 Art. 18; 214号 Art. 10).
MIN_BID_PERIOD_DAYS = {PUBLIC_TENDER: 20, COMPETITIVE_CONSULTATION: 10}
# A clarification or amendment that affects preparation needs this many days before the
# deadline, or the deadline moves (87号令 Art. 27).
CLARIFICATION_MIN_DAYS = 15
# Tender documents are available for at least five working days (87号令 Art. 19).
DOCUMENT_PERIOD_WORKING_DAYS = 5
# Price points: at least 10 for services in a public tender (87号令 Art. 55); 10 to 30 in a
# competitive consultation (214号 Art. 24).
PRICE_POINTS_BOUNDS: dict[str, tuple[Decimal, Decimal | None]] = {
    PUBLIC_TENDER: (Decimal("10"), None),
    COMPETITIVE_CONSULTATION: (Decimal("10"), Decimal("30")),
}
TOTAL_POINTS = Decimal("100")
# A purchased service runs at most one year, or three for a stable recurring one (102号令 Art. 24).
MAX_SERVICE_DAYS = 3 * 366

NEGATIVE_LIST_REASONS: dict[str, Promise] = {
    "outside_government_duties": _(
        "A matter outside the government's responsibilities is not bought as a service "
        "(Ministry of Finance Order No. 102, Art. 10(1))."
    ),
    "direct_government_duties": _(
        "A duty the government must perform itself is not bought as a service "
        "(Ministry of Finance Order No. 102, Art. 10(2))."
    ),
    "goods_or_works": _(
        "Goods and construction works are bought under the procurement rules for goods and "
        "works, not as services (Ministry of Finance Order No. 102, Art. 10(3))."
    ),
    "financing": _(
        "Financing and borrowing may not be bought as services "
        "(Ministry of Finance Order No. 102, Art. 10(4))."
    ),
    "staff_hiring": _(
        "Hiring staff for the purchasing unit is not a purchased service "
        "(Ministry of Finance Order No. 102, Art. 10(5))."
    ),
    "labour_dispatch": _(
        "Labour dispatch is on the negative list of purchased services "
        "(Ministry of Finance Order No. 102, Art. 10(5))."
    ),
    "public_welfare_posts": _(
        "Public-welfare posts are funded by employment programmes, not bought as services "
        "(Ministry of Finance Order No. 102, Art. 10(5))."
    ),
}

# Words that suggest the negative list even when the form says "service": the approver
# sees them as a warning (they may be harmless, e.g. "no labour dispatch").
NEGATIVE_LIST_HINTS = (
    "劳务派遣",
    "派遣",
    "公益性岗位",
    "招聘",
    "聘用",
    "融资",
    "借款",
    "采购设备",
    "工程施工",
)


def negative_list_reason(nature: str) -> str | None:
    """Why ``nature`` may not be bought as a service, or ``None`` when it may."""
    reason = NEGATIVE_LIST_REASONS.get(nature)
    return str(reason) if reason is not None else None


def negative_list_hints(*texts: str) -> list[str]:
    """Negative-list words found in the texts (for the approver's attention)."""
    joined = " ".join(texts)
    return [word for word in NEGATIVE_LIST_HINTS if word in joined]


@dataclass(frozen=True)
class CriterionInput:
    code: str
    name: str
    kind: str
    points: Decimal
    description: str = ""
    # [{"low", "high", "text"}]: what each score range of the criterion means.
    bands: tuple[Mapping[str, Any], ...] = ()
    # Objective criteria: which registry data scores them (evaluation.objective).
    rule: Mapping[str, Any] = field(default_factory=dict)


# Objective criteria whose code says what they measure get that rule when none is given.
DEFAULT_OBJECTIVE_RULES: dict[str, dict[str, Any]] = {
    "grade": {"type": "grade"},
    "social_workers": {"type": "social_workers", "per_person": "2"},
    "past_performance": {"type": "past_performance"},
    "performance": {"type": "past_performance"},
}


def default_rule(kind: str, code: str) -> dict[str, Any]:
    """The rule an objective criterion gets when none is given (empty when unknown)."""
    if kind != "objective":
        return {}
    return dict(DEFAULT_OBJECTIVE_RULES.get(code, {}))


def parse_criteria(raw: Iterable[Mapping[str, Any]]) -> tuple[list[CriterionInput], list[str]]:
    """Read criteria rows; return them and one message per row that cannot be read."""
    rows: list[CriterionInput] = []
    problems: list[str] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            problems.append(str(_("criterion %(n)s: expected an object") % {"n": number}))
            continue
        try:
            points = Decimal(str(item.get("points", "")))
        except (InvalidOperation, ValueError):
            problems.append(str(_("criterion %(n)s: points must be a number") % {"n": number}))
            continue
        bands = item.get("bands") or []
        rule = item.get("rule") or {}
        if not isinstance(bands, list | tuple) or not all(isinstance(b, Mapping) for b in bands):
            problems.append(
                str(_("criterion %(n)s: bands must be a list of {low, high, text}") % {"n": number})
            )
            continue
        if not isinstance(rule, Mapping):
            problems.append(str(_("criterion %(n)s: the rule must be an object") % {"n": number}))
            continue
        kind = str(item.get("kind", "")).strip()
        code = str(item.get("code", "")).strip()
        rows.append(
            CriterionInput(
                code=code,
                name=str(item.get("name", "")).strip(),
                kind=kind,
                points=points,
                description=str(item.get("description", "") or "").strip(),
                bands=tuple(dict(b) for b in bands),
                rule=dict(rule) or default_rule(kind, code),
            )
        )
    return rows, problems


def _band_problems(criterion: CriterionInput, label: str) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[Decimal, Decimal]] = []
    for number, band in enumerate(criterion.bands, start=1):
        where = {"code": label, "n": number}
        try:
            low = Decimal(str(band.get("low", "")))
            high = Decimal(str(band.get("high", "")))
        except (InvalidOperation, ValueError):
            problems.append(
                str(_("criterion %(code)s, band %(n)s: low and high must be numbers") % where)
            )
            continue
        if not (Decimal(0) <= low <= high <= criterion.points):
            problems.append(
                str(
                    _(
                        "criterion %(code)s, band %(n)s: the range must lie within 0 and the "
                        "criterion's points, low before high"
                    )
                    % where
                )
            )
        if not str(band.get("text", "")).strip():
            problems.append(
                str(_("criterion %(code)s, band %(n)s: say what the range means") % where)
            )
        spans.append((low, high))
    spans.sort()
    for (_low1, high1), (low2, _high2) in itertools.pairwise(spans):
        if low2 < high1:
            problems.append(str(_("criterion %(code)s: the bands overlap") % {"code": label}))
            break
    return problems


def objective_rule_problems(points: Decimal, rule: Mapping[str, Any]) -> list[str]:
    """What is wrong with an objective criterion's rule (empty when it can be scored)."""
    return [str(problem) for problem in validate_rule("objective", points, rule)]


# The columns of TenderCriterion: rows arrive as plain JSON and are saved in bulk, so the
# limits are checked here (the database would refuse longer text with an error).
CRITERION_CODE_MAX = 40
CRITERION_NAME_MAX = 120
CRITERION_DESCRIPTION_MAX = 4000


def _length_problems(label: str, criterion: CriterionInput) -> list[str]:
    limits = [
        (
            criterion.code,
            CRITERION_CODE_MAX,
            _("criterion %(code)s: the code is longer than %(max)d characters"),
        ),
        (
            criterion.name,
            CRITERION_NAME_MAX,
            _("criterion %(code)s: the name is longer than %(max)d characters"),
        ),
        (
            criterion.description,
            CRITERION_DESCRIPTION_MAX,
            _("criterion %(code)s: the description is longer than %(max)d characters"),
        ),
    ]
    return [
        str(message % {"code": label, "max": limit})
        for value, limit, message in limits
        if len(value) > limit
    ]


def criteria_problems(method: str, criteria: list[CriterionInput]) -> list[str]:
    """Everything wrong with a weighted-scoring scheme (DESIGN.md 4.4); empty when valid."""
    problems: list[str] = []
    if not criteria:
        return [str(_("The scheme needs criteria: a price criterion and at least one other."))]
    seen: set[str] = set()
    for number, criterion in enumerate(criteria, start=1):
        label = criterion.code[:CRITERION_CODE_MAX] or str(number)
        problems += _length_problems(label, criterion)
        if not criterion.code:
            problems.append(str(_("criterion %(n)s: the code is missing") % {"n": number}))
        elif criterion.code in seen:
            problems.append(str(_("criterion %(code)s: the code is used twice") % {"code": label}))
        seen.add(criterion.code)
        if not criterion.name:
            problems.append(str(_("criterion %(code)s: the name is missing") % {"code": label}))
        if criterion.kind not in ("price", "objective", "subjective"):
            problems.append(
                str(
                    _("criterion %(code)s: the kind must be price, objective or subjective")
                    % {"code": label}
                )
            )
        if criterion.points <= 0:
            problems.append(
                str(_("criterion %(code)s: points must be more than 0") % {"code": label})
            )
            continue
        if criterion.bands and criterion.kind == "price":
            problems.append(
                str(
                    _("criterion %(code)s: the price is scored by formula, not bands")
                    % {"code": label}
                )
            )
        problems.extend(_band_problems(criterion, label))
        if criterion.kind == "objective":
            problems.extend(
                str(_("criterion %(code)s: %(problem)s") % {"code": label, "problem": problem})
                for problem in objective_rule_problems(criterion.points, criterion.rule)
            )
        elif criterion.rule:
            problems.append(
                str(_("criterion %(code)s: only objective criteria have a rule") % {"code": label})
            )
    prices = [c for c in criteria if c.kind == "price"]
    if len(prices) != 1:
        problems.append(
            str(
                _("The scheme needs exactly one price criterion, not %(count)s.")
                % {"count": len(prices)}
            )
        )
    else:
        low, high = PRICE_POINTS_BOUNDS.get(method, (Decimal("10"), None))
        points = prices[0].points
        if points < low or (high is not None and points > high):
            bounds = (
                _("between %(low)s and %(high)s") % {"low": low, "high": high}
                if high is not None
                else _("at least %(low)s") % {"low": low}
            )
            problems.append(
                str(
                    _("Price points are %(points)s; this procurement method needs %(bounds)s.")
                    % {"points": points, "bounds": bounds}
                )
            )
    if len(criteria) < 2:
        problems.append(str(_("The scheme needs at least one criterion besides the price.")))
    total = sum((c.points for c in criteria), Decimal("0"))
    if total != TOTAL_POINTS:
        problems.append(
            str(_("The criteria add up to %(total)s points, not 100.") % {"total": total})
        )
    return problems


def earliest_bid_deadline(method: str, published_at: datetime) -> datetime:
    """The earliest deadline the method allows for a tender published at ``published_at``."""
    return published_at + timedelta(days=MIN_BID_PERIOD_DAYS[method])
