"""Contracts built with the real services, for tests in any folder.

Each helper takes the ``Clock`` of ``tests.conftest.patch_clock`` (the ``clock`` fixture of
``tests/tenders/conftest.py``, or the one ``tests.conftest.building`` yields for a module's
shared state) and leaves it at the moment the contract reached its state:

- ``make_draft_contract``: the tender of ``tests.tenders.test_award.awarded_tender`` (award
  notice 2026-09-30, winner at 480000.00, two team members), drawn up on ``DRAFT_DAY``
  (2026-10-16, the day after the challenge window) by the ``official`` persona;
- ``make_signed_contract``: signed by the ``official`` and the winner's administrator the
  same day (on time: due 2026-10-30); the service starts 2027-01-01, so it stays signed;
- ``make_active_contract``: started by the scheduler on ``ACTIVE_DAY`` (2027-01-04).

The contract's default milestones (programme 30/40/30): 1 report (144000.00, due
2027-01-31), 2 mid-term evaluation (192000.00, due 2027-07-01), 3 final evaluation
(144000.00, due 2027-12-31).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from marketplace.models import Role, User
from tenders.models import Contract, Tender
from tenders.services import contracts as contract_services
from tests.conftest import Clock, persona

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DRAFT_DAY = datetime(2026, 10, 16, 10, 0, tzinfo=SHANGHAI)
ACTIVE_DAY = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)


def official() -> User:
    return persona("official", Role.OFFICIAL)


def supplier_admin(contract: Contract) -> User:
    """An administrator of the contract's supplier (the winning bidder's)."""
    return (
        User.objects.filter(organization_id=contract.organization_id, role=Role.ORG_ADMIN)
        .order_by("pk")
        .first()
    )


def supplier_member(contract: Contract) -> User:
    return (
        User.objects.filter(organization_id=contract.organization_id, role=Role.ORG_MEMBER)
        .order_by("pk")
        .first()
    )


def awarded_ready_tender(clock: Clock) -> Tender:
    """The awarded tender of ``awarded_tender`` with the clock past its challenge window."""
    from tests.tenders.test_award import awarded_tender

    ranked = awarded_tender(clock)
    clock.set(DRAFT_DAY)
    return Tender.objects.get(pk=ranked.tender.pk)


def make_draft_contract(clock: Clock, **overrides) -> Contract:
    tender = awarded_ready_tender(clock)
    return contract_services.contract_draft(tender=tender, actor=official(), **overrides)


def make_signed_contract(clock: Clock) -> Contract:
    contract = make_draft_contract(clock)
    contract_services.contract_sign(contract=contract, actor=official())
    contract_services.contract_sign(contract=contract, actor=supplier_admin(contract))
    return Contract.objects.get(pk=contract.pk)


def make_active_contract(clock: Clock) -> Contract:
    contract = make_signed_contract(clock)
    clock.set(ACTIVE_DAY)
    contract_services.contracts_start_due()
    return Contract.objects.get(pk=contract.pk)
