"""The integrity demo: the roster and subsidies imported through the import service, a flag of
every kind on its planted case, the near-miss namesake not flagged, a price screen that flags
the cartel and few others, a flag in every review state, and a second run adding nothing.
Built once for the module (seeding takes a while)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from evaluation.demo import LENIENT
from evaluation.demo_integrity import (
    FILLER_POSTS,
    SHARED_PHONE,
    SHORT_PERIOD_DAYS,
    STAFFING_FILE,
    SUBSIDY_FILE,
    homophone,
    legacy_id,
    one_digit_wrong,
    planted_people,
    staffing_rows,
    subsidy_rows,
)
from evaluation.models import FlagKind, FlagStatus, IntegrityFlag, IntegrityRun, RunStatus
from evaluation.screens import (
    AFFINITY_MIN_TENDERS,
    BIAS_MIN_SCORES,
    PRICE_SCREEN_MIN_BIDS,
    PRICE_SCREEN_MIN_PROBABILITY,
)
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.demo import ORGANIZATIONS
from orgs_registry.identifiers import id_check_char
from orgs_registry.models import (
    FundingImport,
    FundingImportKind,
    FundingImportStatus,
    Organization,
    StaffingRecord,
    Subsidy,
)
from tenders.models import Tender
from tests.conftest import building, module_database

# The integrity demo's planted collusion tenders (evaluation.demo_integrity).
SINGLE = "低保边缘家庭帮扶延伸服务项目"
IDENTICAL = "社区失能老人照护技能培训服务项目"
CARTEL = "社区老年人居家安全改造评估服务项目"
AFFINITY = "社区老年人健康档案管理服务项目"
FAR_BELOW = "青少年暑期托管服务项目"
# The catalogue tenders with four valid bids or more, which the model also scores above the
# review threshold (see evaluation.screens.PRICE_SCREEN_MIN_PROBABILITY): at most these.
PRICE_SCREEN_OTHERS = 3


def organization(key: str) -> Organization:
    name = next(demo.name for demo in ORGANIZATIONS if demo.key == key)
    return Organization.objects.get(name=name)


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


@pytest.mark.parametrize("kind", list(FlagKind))
def test_every_screen_finds_its_planted_case(demo, kind):
    assert flags(kind), f"no {kind} flag in the demo"


def test_every_flag_kind_of_design_5_has_a_flag(demo):
    found = set(IntegrityFlag.objects.values_list("kind", flat=True))
    missing = sorted(kind.value for kind in FlagKind if kind not in found)
    assert not missing, f"no flag of {missing}"


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

    assert SINGLE in titles(FlagKind.R018_SINGLE_BID)
    assert titles(FlagKind.R003_SHORT_PERIOD) == {SINGLE}
    assert IDENTICAL in titles(FlagKind.R028_IDENTICAL_PRICES)
    assert IDENTICAL in titles(FlagKind.R024_CLOSE_SECOND)
    assert FAR_BELOW in titles(FlagKind.R058_WINNER_FAR_BELOW)
    assert CARTEL not in titles(FlagKind.R024_CLOSE_SECOND) | titles(FlagKind.R058_WINNER_FAR_BELOW)


def test_short_period_is_the_single_bid_tenders_notice(demo):
    (flag,) = flags(FlagKind.R003_SHORT_PERIOD)
    assert flag.evidence["days"] == SHORT_PERIOD_DAYS < flag.evidence["minimum_days"] == 20


def test_price_screen_flags_the_cartel_and_few_others(demo):
    found = flags(FlagKind.PRICE_SCREEN)
    assert CARTEL in {flag.tender.title for flag in found}
    assert len(found) <= 1 + PRICE_SCREEN_OTHERS
    for flag in found:
        # Too few bids are never read, and only a high probability is a flag.
        assert flag.evidence["screens"]["n_bids"] >= PRICE_SCREEN_MIN_BIDS
        assert flag.evidence["probability"] >= PRICE_SCREEN_MIN_PROBABILITY
        assert flag.evidence["threshold"] >= PRICE_SCREEN_MIN_PROBABILITY


def test_cartel_bidders_with_one_phone_written_two_ways_are_linked(demo):
    found = [
        flag
        for flag in flags(FlagKind.SHARED_BIDDER_LINK)
        if flag.evidence["screen"] == "shared_phone"
    ]
    assert len(found) == 1
    flag = found[0]
    assert flag.tender.title == CARTEL
    sharing = [organization(key) for key, _phone in SHARED_PHONE]
    assert set(flag.evidence["orgs"]) == {org.pk for org in sharing}
    assert {org.phone for org in sharing} == {phone for _key, phone in SHARED_PHONE}
    assert flag.evidence["values"] == [{"phone": "13983652417"}]


def test_assessor_affinity_is_the_demo_assessor_favouring_the_cartels_winner(demo):
    (flag,) = flags(FlagKind.ASSESSOR_AFFINITY)
    assert flag.assessor.username == "assessor"
    assert flag.organization == organization("elder_fund")
    tenders = set(
        Tender.objects.filter(pk__in=flag.evidence["tenders"]).values_list("title", flat=True)
    )
    assert {IDENTICAL, CARTEL, AFFINITY} <= tenders
    assert len(tenders) >= AFFINITY_MIN_TENDERS
    assert flag.evidence["above_share"] == 1.0


def test_assessor_deviation_is_the_assessor_who_scores_every_bid_higher(demo):
    (flag,) = [f for f in flags(FlagKind.ASSESSOR_DEVIATION) if f.assessor.username == LENIENT]
    assert flag.evidence["direction"] == "lenient"
    assert flag.evidence["scores"] >= BIAS_MIN_SCORES


def test_a_cover_bidder_that_never_wins_is_a_frequent_loser(demo):
    (flag,) = flags(FlagKind.R025_FREQUENT_LOSER)
    assert flag.organization == organization("seniors")
    assert flag.evidence["wins"] == 0
    assert CARTEL in set(
        Tender.objects.filter(pk__in=flag.evidence["tenders"]).values_list("title", flat=True)
    )


def test_scale_multiplies_the_filler_posts_and_the_subsidy_near_misses(demo):
    organizations = {plan.key: organization(plan.key) for plan in ORGANIZATIONS}
    # The second copy's organizations (seed_demo --scale 2), standing in for themselves.
    copies = organizations | {f"{key}~1": org for key, org in organizations.items()}
    assert len(staffing_rows(copies, scale=2)) == len(staffing_rows(organizations)) + FILLER_POSTS
    once = subsidy_rows(organizations)
    twice = subsidy_rows(copies, scale=2)
    assert len(twice) == 2 * len(once) - 1  # the planted grant once, the near misses twice


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
