"""A light state for the integrity pages and API: two published tenders (elderly care and
child and youth services) and a roster whose street-office posts in both categories give
one ``unit_keeps_staff_for_function`` flag per tender, built with the real services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from evaluation.models import IntegrityFlag
from evaluation.services import integrity as services
from marketplace.models import Role
from orgs_registry.identifiers import make_id_number
from orgs_registry.models import ServiceCategory
from tenders.models import Tender
from tests.conftest import persona
from tests.evaluation.integrity_support import import_staffing, post

UNIT = "解放碑街道社区事务服务中心"


@dataclass
class Light:
    elderly: Tender
    youth: Tender
    id_number: str

    def flag(self, tender: Tender) -> IntegrityFlag:
        return IntegrityFlag.objects.get(tender=tender)


def build_light(tmp: Path) -> Light:
    from tests.tenders.conftest import publish_tender

    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    elderly = publish_tender(
        official=official,
        approver=approver,
        category=ServiceCategory.objects.get(code="elderly_care"),
    )
    youth = publish_tender(
        official=official,
        approver=approver,
        category=ServiceCategory.objects.get(code="child_youth"),
        title="青少年课后服务",
        description="课后托管与学业辅导。",
    )
    number = make_id_number(region="500103", born=date(1970, 3, 4), sequence=11, male=False)
    second = make_id_number(region="500103", born=date(1972, 5, 6), sequence=13, male=True)
    import_staffing(
        tmp,
        [
            post(name="王敏", id_number=number, unit=UNIT),
            post(name="李强", id_number=second, unit=UNIT, function="child_youth"),
        ],
    )
    services.screens_run()
    return Light(elderly=elderly, youth=youth, id_number=number)
