"""The printable contract (合同): parties, price, period, deliverables, the service team,
milestones with the payment plan, and the signatures with their dates.

A contract is found for a user exactly as its page shows it
(``tenders.selectors.contracts.contract_get_for_user``: a draft is the two parties' and the
auditors'; a signed contract is public). The team's names are whole only for the parties
and auditors, masked (张**) for everyone else and for the command; the signers' names
likewise. No ID number or phone is read.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from reports.documents import Document, register
from tenders.models import Contract, Milestone
from tenders.permissions import contracts as permissions
from tenders.selectors import contracts as selectors

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _four_digits(value: int) -> str:
    """0 < value < 10000 in capital numerals, zeros inside said once (1005: 壹仟零伍)."""
    text = ""
    zero = False
    for position in (3, 2, 1, 0):
        digit = value // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _UNITS[position]
    return text


def _integer(value: int) -> str:
    groups = []
    while value:
        value, group = divmod(value, 10000)
        groups.append(group)
    if len(groups) > len(_GROUPS):
        raise ValueError("amount too large")
    text = ""
    gap = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            gap = bool(text)
            continue
        if text and (gap or group < 1000):
            text += "零"
        text += _four_digits(group) + _GROUPS[index]
        gap = False
    return text


def amount_in_capitals(amount: Decimal) -> str:
    """An amount of money as Chinese contracts write it beside the figures (大写金额):
    480000.00 is 人民币肆拾捌万元整, 1005.50 人民币壹仟零伍元伍角."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("a negative amount has no capital form")
    yuan = int(amount)
    jiao, fen = divmod(int((amount - yuan) * 100), 10)
    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    if not jiao and not fen:
        text = (text or "零元") + "整"
    return "人民币" + text


def _contracts() -> QuerySet[Contract]:
    return Contract.objects.select_related(
        "organization",
        "tender__category",
        "programme",
        "award",
        "purchaser_signed_by",
        "supplier_signed_by",
    )


def contract_for_user(user: Any, pk: int) -> Contract:
    return selectors.contract_get_for_user(user, pk)


def contract_by_id(pk: int) -> Contract:
    contract = _contracts().filter(pk=pk).first()
    if contract is None:
        raise LookupError("no such contract")
    return contract


def contract_latest() -> Contract | None:
    return _contracts().order_by("-created_at", "-pk").first()


def contract_context(contract: Contract, user: Any) -> dict[str, Any]:
    """The contract as ``user`` may read it (``None``, the command, reads it as the public
    does: names masked)."""
    milestones = list(Milestone.objects.filter(contract=contract).order_by("sequence"))
    parties = user is not None and permissions.can_see_team_names(user, contract)
    return {
        "contract": contract,
        "tender": contract.tender,
        "number": contract.reference,
        "price_in_capitals": amount_in_capitals(contract.price),
        "team": selectors.contract_team(contract, full_names=parties),
        "milestones": milestones,
        "payments": selectors.payment_summary(contract, milestones),
        # Who signed for each side: the parties and auditors (the page shows the dates only
        # to everyone else).
        "show_signers": user is not None and permissions.can_see_payments(user, contract),
    }


register(
    Document(
        kind="contract",
        label=gettext_lazy("Contract"),
        template="reports/documents/contract.html",
        for_user=contract_for_user,
        by_id=contract_by_id,
        latest=contract_latest,
        context=contract_context,
        filename=lambda contract: f"contract-{contract.reference}",
    )
)
