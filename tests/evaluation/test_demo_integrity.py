"""The integrity demo: the roster and subsidies imported through the import service, a flag of
every screen on its planted case, the near-miss namesake not flagged, a flag in every review
state, and a second run adding nothing. Built once for the module (seeding takes a while)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from evaluation.demo_integrity import (
    FILLER_POSTS,
    STAFFING_FILE,
    SUBSIDY_FILE,
    homophone,
    legacy_id,
    one_digit_wrong,
    planted_people,
)
from evaluation.models import FlagKind, FlagStatus, IntegrityFlag, IntegrityRun, RunStatus
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.identifiers import id_check_char
from orgs_registry.models import (
    FundingImport,
    FundingImportKind,
    FundingImportStatus,
    StaffingRecord,
    Subsidy,
)
from tenders.models import Tender
from tests.conftest import building, module_database

DOUBLE_FUNDING = [
    FlagKind.STAFF_ON_PUBLIC_PAYROLL,
    FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION,
    FlagKind.SUBSIDY_OVERLAP,
    FlagKind.STAFF_OVERCOMMITTED,
    FlagKind.DUPLICATE_PROJECT,
    FlagKind.EXCLUDED_PROVIDER,
]
COLLUSION = [
    FlagKind.R018_SINGLE_BID,
    FlagKind.R028_IDENTICAL_PRICES,
    FlagKind.R024_CLOSE_SECOND,
    FlagKind.R058_WINNER_FAR_BELOW,
    FlagKind.SHARED_BIDDER_LINK,
    FlagKind.ASSESSOR_DEVIATION,
]


def snapshot() -> dict[str, object]:
    return {
        "flags": IntegrityFlag.objects.count(),
        "flag states": Counter(IntegrityFlag.objects.values_list("status", flat=True)),
        "runs": IntegrityRun.objects.count(),
        "imports": FundingImport.objects.count(),
        "posts": StaffingRecord.objects.count(),
        "subsidies": Subsidy.objects.count(),
        "tenders": Tender.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


@pytest.fixture(scope="module")
def media_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, media_root) -> Iterator[dict[str, object]]:
    """One demo for the whole module, rolled back at its end; each test runs in a savepoint."""
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=timezone.now(), media=media_root),
    ):
        seed_demo()
        yield snapshot()


@pytest.fixture
def demo(seeded, db, settings, media_root) -> dict[str, object]:
    settings.MEDIA_ROOT = media_root
    return seeded


def flags(kind: str) -> list[IntegrityFlag]:
    return list(IntegrityFlag.objects.filter(kind=kind).order_by("pk"))


# --- The registries -----------------------------------------------------------------------------


def test_roster_and_ledger_are_current_imports_made_by_the_auditor(demo):
    staffing = FundingImport.objects.get(kind=FundingImportKind.STAFFING)
    subsidy = FundingImport.objects.get(kind=FundingImportKind.SUBSIDY)
    assert staffing.is_current
    assert subsidy.is_current
    assert staffing.status == subsidy.status == FundingImportStatus.DONE
    assert (staffing.file_name, subsidy.file_name) == (STAFFING_FILE, SUBSIDY_FILE)
    assert staffing.imported_by.username == subsidy.imported_by.username == "auditor"
    assert staffing.row_count > FILLER_POSTS
    assert staffing.row_count == StaffingRecord.objects.filter(funding_import=staffing).count()
    assert Subsidy.objects.filter(funding_import=subsidy, organization__isnull=False).count() >= 1


def test_roster_units_are_of_the_district_and_filler_ids_are_valid(demo):
    units = set(StaffingRecord.objects.values_list("employing_unit", flat=True))
    assert any("街道办事处" in unit for unit in units)
    assert any("社区居委会" in unit for unit in units)
    assert any("社区卫生服务中心" in unit for unit in units)
    assert any("学校" in unit for unit in units)
    valid = StaffingRecord.objects.exclude(id_number_normalized="").count()
    assert valid >= FILLER_POSTS


# --- Error helpers --------------------------------------------------------------------------------


def test_one_digit_wrong_breaks_the_check_digit():
    number = "11010519821227701X"
    wrong = one_digit_wrong(number)
    assert len(wrong) == 18
    assert sum(a != b for a, b in zip(wrong, number, strict=True)) == 1
    assert id_check_char(wrong[:17]) != wrong[17]


def test_legacy_id_drops_century_and_check_digit():
    assert legacy_id("11010519821227701X") == "110105821227701"


def test_homophone_changes_one_character():
    assert homophone("苏娟瑶") == "苏娟遥"
    assert homophone("李") == "李"


# --- Planted cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DOUBLE_FUNDING + COLLUSION)
def test_every_screen_finds_its_planted_case(demo, kind):
    assert flags(kind), f"no {kind} flag in the demo"


def test_payroll_cases_are_found_through_the_roster_errors(demo):
    people = planted_people()
    found = {
        flag.evidence["person"]["name"]: flag.evidence["matched_fields"]
        for flag in flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)
    }
    homophone_name = people["payroll_homophone"][0]
    legacy_name = people["payroll_legacy"][0]
    assert found[homophone_name]["name"] == "homophone"
    assert found[legacy_name]["id_number"] == "legacy_15"
    assert found[people["payroll_typo"][0]]["id_number"] == "one_digit"


def test_namesake_with_another_birth_date_is_not_flagged(demo):
    name, id_number, _born = planted_people()["namesake"]
    on_roster = StaffingRecord.objects.get(person_name=name, employing_unit__contains="沙坪坝")
    assert on_roster.id_number != id_number
    assert not [
        flag
        for flag in flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)
        if flag.evidence["person"]["name"] == name
    ]


def test_unit_case_is_the_street_offices_own_centre(demo):
    units = {
        unit
        for flag in flags(FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION)
        for unit in flag.evidence["units"]
    }
    assert units == {"重庆市渝中区解放碑街道社区养老服务中心"}


def test_subsidy_case_is_the_winner_and_near_misses_are_not_flagged(demo):
    found = flags(FlagKind.SUBSIDY_OVERLAP)
    assert len(found) == 1
    assert found[0].organization.name == "渝中区解放碑阳光社会工作服务中心"


def test_excluded_provider_is_the_college_funded_like_a_class_one_unit(demo):
    (flag,) = flags(FlagKind.EXCLUDED_PROVIDER)
    assert flag.organization.name == "重庆市渝中区老年大学"
    assert flag.evidence["fully_funded_posts"] == 3
    assert flag.evidence["declared_excluded"] is False


def test_collusion_cases_are_on_the_integrity_tenders(demo):
    def titles(kind: str) -> set[str]:
        return {flag.tender.title for flag in flags(kind)}

    assert "低保边缘家庭帮扶延伸服务项目" in titles(FlagKind.R018_SINGLE_BID)
    assert "社区失能老人照护技能培训服务项目" in titles(FlagKind.R028_IDENTICAL_PRICES)
    assert "社区失能老人照护技能培训服务项目" in titles(FlagKind.R024_CLOSE_SECOND)
    assert "青少年暑期托管服务项目" in titles(FlagKind.R058_WINNER_FAR_BELOW)


# --- Reviews and idempotence ------------------------------------------------------------------


def test_screens_ran_once_and_the_queue_shows_every_review_state(demo):
    assert IntegrityRun.objects.filter(status=RunStatus.FINISHED, trigger="request").count() == 1
    states = demo["flag states"]
    for status in FlagStatus:
        assert states.get(status, 0) >= 1, status
    confirmed = IntegrityFlag.objects.get(status=FlagStatus.CONFIRMED)
    assert confirmed.kind == FlagKind.STAFF_ON_PUBLIC_PAYROLL
    resolved = IntegrityFlag.objects.get(status=FlagStatus.RESOLVED)
    assert resolved.kind == FlagKind.SUBSIDY_OVERLAP
    dismissed = IntegrityFlag.objects.get(status=FlagStatus.DISMISSED)
    assert AuditEvent.objects.filter(
        action=AuditAction.INTEGRITY_FLAG_DISMISSED, object_id=str(dismissed.pk)
    ).exists()


def test_second_run_adds_nothing(demo):
    seed_demo()
    assert snapshot() == demo
