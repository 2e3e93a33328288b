"""The double-funding screens 1-6 (DESIGN 5): planted positives and near misses, and runs that
give the same flags however often and however they run."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command

from evaluation.models import (
    DOUBLE_FUNDING_KINDS,
    FlagKind,
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
    RunStatus,
)
from evaluation.services import integrity as services
from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry.identifiers import make_id_number
from tenders import services as tender_services
from tests.conftest import building, module_database, persona
from tests.evaluation.integrity_support import (
    World,
    build_world,
    import_staffing,
    import_subsidies,
    legacy_id,
    post,
    subsidy,
)
from tests.tenders.test_award import AWARD_DAY, RANKED_AT


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        yield build_world(clock)


@pytest.fixture
def world(_world_once, db, clock) -> World:
    clock.set(_world_once.built_until)
    return _world_once.copy()


def flags(kind: str) -> list[IntegrityFlag]:
    return list(IntegrityFlag.objects.filter(kind=kind).order_by("pk"))


def award(world: World, clock) -> None:
    clock.set(AWARD_DAY.replace(year=2026, month=10, day=20))
    tender_services.award_confirm(
        tender=world.ranked.tender,
        actor=persona("approver", Role.APPROVER),
        bid=world.ranked.bid_at(1),
    )


# --- 1. Staff on the public payroll ------------------------------------------------------------


def test_a_bid_person_holding_a_funded_post_is_flagged_with_the_evidence(world, tmp_path):
    person = world.person(0, 0)
    import_staffing(tmp_path, [post(person, id_number=legacy_id(person.id_number))])
    services.screens_run()
    found = [
        f for f in flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL) if f.tender_id == world.ranked.tender.pk
    ]
    assert len(found) == 1
    flag = found[0]
    assert flag.person_id == person.pk
    assert flag.bid.organization_id == world.ranked.bidders[0].organization.pk
    assert flag.evidence["post"]["employing_unit"] == "渝中区人民医院"
    assert flag.evidence["overlap"] == {"start": "2027-01-01", "end": "2027-12-31"}
    assert flag.evidence["probability"] >= 0.8
    assert flag.evidence["matched_fields"]
    assert flag.status == FlagStatus.OPEN


def test_a_post_that_ended_before_the_service_or_another_person_is_not_flagged(world, tmp_path):
    person = world.person(1, 0)
    stranger = make_id_number(
        region="500103", born=person.birth_date.replace(year=1961), sequence=7, male=True
    )
    import_staffing(
        tmp_path,
        [
            post(person, start="2015-01-01", end="2026-06-30"),  # left before 2027
            post(name=person.name, id_number=stranger),  # same name, another person
        ],
    )
    services.screens_run()
    assert flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL) == []


# --- 2. The purchasing unit keeps staff for the function ------------------------------------------


def test_the_street_office_keeping_posts_in_the_tenders_category_is_flagged(world, tmp_path):
    import_staffing(
        tmp_path,
        [
            post(
                name="王敏",
                id_number=make_id_number(
                    region="500103",
                    born=world.person(0, 0).birth_date.replace(year=1970),
                    sequence=11,
                    male=False,
                ),
                unit="解放碑街道社区事务服务中心",
            ),
            post(
                name="李强",
                id_number=make_id_number(
                    region="500103",
                    born=world.person(0, 0).birth_date.replace(year=1971),
                    sequence=13,
                    male=True,
                ),
                unit="解放碑街道社区事务服务中心",
                function="child_youth",
            ),
            post(
                name="赵云",
                id_number=make_id_number(
                    region="500103",
                    born=world.person(0, 0).birth_date.replace(year=1972),
                    sequence=15,
                    male=True,
                ),
                unit="朝天门街道办事处",
            ),
        ],
    )
    services.screens_run()
    found = flags(FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION)
    assert {flag.tender_id for flag in found} == {world.ranked.tender.pk, world.second.pk}
    evidence = found[0].evidence
    assert evidence["posts_count"] == 1
    assert evidence["posts"][0]["name"] == "王敏"
    assert evidence["units"] == ["解放碑街道社区事务服务中心"]


# --- 3. Subsidy for the same service and period ------------------------------------------------


def test_the_first_ranked_bidders_subsidy_for_the_same_service_is_flagged(world, tmp_path):
    winner = world.ranked.bid_at(1).organization
    loser = world.ranked.bid_at(2).organization
    import_subsidies(
        tmp_path,
        [
            subsidy(winner),
            subsidy(winner, purpose="child_youth"),  # another service
            subsidy(winner, start="2025-01-01", end="2025-12-31"),  # another period
            subsidy(loser),  # not the winner
        ],
    )
    services.screens_run()
    found = flags(FlagKind.SUBSIDY_OVERLAP)
    assert len(found) == 1
    assert found[0].organization_id == winner.pk
    assert found[0].bid_id == world.ranked.bid_at(1).pk
    assert found[0].evidence["overlap"] == {"start": "2027-01-01", "end": "2027-06-30"}
    assert found[0].evidence["subsidy"]["amount"] == "80000.00"


# --- 4. People committed above full time ----------------------------------------------------------


def test_a_person_above_full_time_across_concurrent_bids_is_flagged_and_one_at_full_time_not(world):
    services.screens_run()
    found = flags(FlagKind.STAFF_OVERCOMMITTED)
    assert [flag.person_id for flag in found] == [world.person(0, 0).pk]
    assert found[0].evidence["fte"] == 1.3
    assert len(found[0].evidence["commitments"]) == 2


# --- 5. Near-identical funded projects ------------------------------------------------------------


def test_a_tender_near_identical_to_a_funded_project_in_the_same_period_is_flagged(world, clock):
    award(world, clock)
    official = persona("official", Role.OFFICIAL)
    approver = persona("approver", Role.APPROVER)
    from orgs_registry.models import ServiceCategory
    from tests.tenders.conftest import publish_tender

    category = ServiceCategory.objects.get(code="elderly_care")
    text = world.ranked.tender.description
    copy = publish_tender(
        official=official,
        approver=approver,
        category=category,
        description=text.replace("探访", "陪伴"),
    )
    later = publish_tender(
        official=official,
        approver=approver,
        category=category,
        description=text,
        service_start=__import__("datetime").date(2029, 1, 1),
        service_end=__import__("datetime").date(2029, 12, 31),
    )
    services.screens_run()
    found = flags(FlagKind.DUPLICATE_PROJECT)
    assert [flag.tender_id for flag in found] == [copy.pk]
    assert found[0].evidence["other"]["reference"] == world.ranked.tender.reference
    assert found[0].evidence["similarity"] >= 0.8
    assert later.pk not in {flag.tender_id for flag in found}


# --- 6. Providers funded like class-1 public institutions -----------------------------------------


def test_a_bidder_whose_staff_hold_fully_funded_institution_posts_is_flagged(world, tmp_path):
    funded = world.ranked.bidders[2].organization
    import_staffing(
        tmp_path,
        [
            post(
                name="孙丽",
                id_number=make_id_number(
                    region="500103",
                    born=world.person(0, 0).birth_date.replace(year=1975),
                    sequence=21,
                    male=False,
                ),
                unit=funded.name,
                unit_uscc=funded.uscc,
                function="mental_health",
            ),
            post(
                name="周杰",
                id_number=make_id_number(
                    region="500103",
                    born=world.person(0, 0).birth_date.replace(year=1976),
                    sequence=23,
                    male=True,
                ),
                unit=world.ranked.bidders[3].organization.name,
                funding="自收自支",
                function="mental_health",
            ),
        ],
    )
    services.screens_run()
    found = flags(FlagKind.EXCLUDED_PROVIDER)
    assert {flag.organization_id for flag in found} == {funded.pk}
    assert {flag.tender_id for flag in found} == {world.ranked.tender.pk, world.second.pk}
    assert found[0].evidence["fully_funded_posts"] == 1


# --- Idempotence -------------------------------------------------------------------------------


def _snapshot() -> list[tuple]:
    return sorted(
        IntegrityFlag.objects.values_list("fingerprint", "kind", "status", "evidence_digest")
    )


def test_running_twice_or_by_command_or_for_one_tender_gives_the_same_flags(world, tmp_path):
    person = world.person(0, 0)
    import_staffing(tmp_path, [post(person)])
    first = services.screens_run()
    snapshot = _snapshot()
    assert first.new_flags == len(snapshot) > 0
    second = services.screens_run()
    assert second.new_flags == 0
    assert _snapshot() == snapshot
    call_command("screen_integrity", stdout=StringIO())
    assert _snapshot() == snapshot
    services.screens_run(tender=world.ranked.tender)
    assert _snapshot() == snapshot
    assert IntegrityFlag.objects.filter(gone_at__isnull=False).count() == 0


def test_a_reimported_roster_keeps_the_flags_and_a_dismissed_flag_stays_dismissed(world, tmp_path):
    person = world.person(0, 0)
    import_staffing(tmp_path, [post(person)])
    services.screens_run()
    flag = flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)[0]
    services.flag_dismiss(
        flag=flag, actor=persona("auditor", Role.AUDITOR), reason="同名不同人，已核实。"
    )
    import_staffing(
        tmp_path,
        [
            post(person),
            post(
                name="新人",
                id_number=make_id_number(
                    region="500103",
                    born=person.birth_date.replace(year=1990),
                    sequence=5,
                    male=True,
                ),
            ),
        ],
        name="newer.csv",
    )
    services.screens_run()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED
    assert len(flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)) == 2  # the ranked and the second tender
    assert IntegrityFlag.objects.filter(status=FlagStatus.OPEN).exclude(pk=flag.pk).exists()


def test_a_dismissed_flag_is_reopened_when_its_evidence_changes(world, tmp_path):
    person = world.person(0, 0)
    import_staffing(tmp_path, [post(person, end="2027-12-31")])
    services.screens_run()
    flag = flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)[0]
    services.flag_dismiss(
        flag=flag, actor=persona("official", Role.OFFICIAL), reason="岗位年底结束。"
    )
    import_staffing(tmp_path, [post(person, end="")], name="newer.csv")
    services.screens_run()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert AuditEvent.objects.filter(action=AuditAction.INTEGRITY_FLAG_REOPENED).count() == 1


def test_a_flag_no_longer_found_is_marked_gone(world, tmp_path):
    person = world.person(0, 0)
    import_staffing(tmp_path, [post(person)])
    services.screens_run()
    import_staffing(
        tmp_path,
        [
            post(
                name="别人",
                id_number=make_id_number(
                    region="500103",
                    born=person.birth_date.replace(year=1991),
                    sequence=9,
                    male=True,
                ),
            )
        ],
        name="newer.csv",
    )
    services.screens_run()
    flag = flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)[0]
    assert flag.gone_at is not None


# --- Runs -----------------------------------------------------------------------------------------


def test_a_run_records_progress_counts_per_kind_and_one_audit_event(world):
    seen = []
    run = services.screens_run(progress=lambda percent, step: seen.append(percent))
    assert run.status == RunStatus.FINISHED
    assert run.progress == 100
    assert seen[-1] == 100
    assert seen == sorted(seen)
    assert run.counts[FlagKind.STAFF_OVERCOMMITTED] == 1
    assert set(run.counts) >= {kind.value for kind in FlagKind if kind in DOUBLE_FUNDING_KINDS}
    event = AuditEvent.objects.get(action=AuditAction.INTEGRITY_SCREENS_RUN)
    assert event.details["counts"] == run.counts


def test_only_officials_and_auditors_run_the_screens(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.screens_run(actor=persona("outsider_admin", Role.ASSESSOR))
    assert not IntegrityRun.objects.exists()
    run = services.screens_run(actor=persona("auditor", Role.AUDITOR))
    assert run.requested_by.role == Role.AUDITOR


def test_the_command_prints_counts_per_kind(world):
    out = StringIO()
    call_command("screen_integrity", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "staff_overcommitted: 1" in text
    assert "staff_on_public_payroll: 0" in text


def test_the_command_for_one_tender_and_an_unknown_tender(world):
    out = StringIO()
    call_command(
        "screen_integrity", "--tender", str(world.second.pk), stdout=out, stderr=StringIO()
    )
    run = IntegrityRun.objects.get()
    assert run.tender_id == world.second.pk
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no tender"):
        call_command("screen_integrity", "--tender", "999999", stdout=StringIO())


def test_opening_bids_queues_a_run_after_the_commit(
    world, clock, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from orgs_registry.models import ServiceCategory
    from tests.tenders.conftest import make_bidder, publish_tender

    official = persona("official", Role.OFFICIAL)
    tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="elderly_care"),
        description="新的服务项目说明，和其他项目都不一样。",
    )
    from tests.tenders.conftest import submit_bid

    for index in range(3):
        submit_bid(tender, make_bidder(f"触发机构{index}"), "300000")
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    with django_capture_on_commit_callbacks(execute=True):
        tender_services.tender_open(tender=tender, actor=persona("second_official", Role.OFFICIAL))
    run = IntegrityRun.objects.get()
    assert run.trigger == "bid_opening"
    assert run.tender_id == tender.pk
    assert run.status == RunStatus.FINISHED


# --- Collusion and bias (wired from evaluation.screens) --------------------------------------


def test_a_second_price_within_one_percent_of_the_lowest_is_flagged_r024(world):
    services.screens_run()
    found = flags(FlagKind.R024_CLOSE_SECOND)
    # 400000 and 401000 in the second tender; the ranked tender's 430000 and 450000 are not.
    assert [flag.tender_id for flag in found] == [world.second.pk]
    assert found[0].evidence["screen"] == "R024"
    assert not flags(FlagKind.R018_SINGLE_BID)
    assert not flags(FlagKind.R028_IDENTICAL_PRICES)


def test_the_collusion_flags_are_idempotent_too(world):
    services.screens_run()
    snapshot = _snapshot()
    services.screens_run(tender=world.second)
    services.screens_run()
    assert _snapshot() == snapshot


def test_a_roster_id_number_with_one_wrong_digit_still_links(world, tmp_path):
    person = world.person(0, 1)
    digits = list(person.id_number)
    digits[10] = str((int(digits[10]) + 1) % 10)  # a typing error in the birth month
    import_staffing(tmp_path, [post(person, id_number="".join(digits))])
    services.screens_run()
    found = [
        flag
        for flag in flags(FlagKind.STAFF_ON_PUBLIC_PAYROLL)
        if flag.tender_id == world.ranked.tender.pk
    ]
    assert [flag.person_id for flag in found] == [person.pk]


def test_the_background_task_gives_the_flags_of_the_command_and_runs_a_run_once(world):
    from evaluation.tasks_integrity import run_integrity_screens

    call_command("screen_integrity", stdout=StringIO())
    snapshot = _snapshot()
    queued = services.run_request(actor=persona("auditor", Role.AUDITOR))
    result = run_integrity_screens.enqueue(run_id=queued.pk)  # the immediate backend runs it
    queued.refresh_from_db()
    assert queued.status == RunStatus.FINISHED
    assert result.return_value == queued.counts
    assert _snapshot() == snapshot
    again = run_integrity_screens.enqueue(run_id=queued.pk)  # delivered twice
    assert again.return_value == queued.counts
    assert IntegrityRun.objects.filter(status=RunStatus.FINISHED).count() == 2


def test_a_screen_that_raises_fails_the_run_with_its_error(world, monkeypatch):
    def broken(tender):
        raise ValueError("roster unreadable")

    monkeypatch.setattr(
        services, "SCREENS", [services.Screen(FlagKind.EXCLUDED_PROVIDER, broken, "broken")]
    )
    with pytest.raises(ValueError, match="roster unreadable"):
        services.screens_run()
    run = IntegrityRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "roster unreadable" in run.error
    assert not AuditEvent.objects.filter(action=AuditAction.INTEGRITY_SCREENS_RUN).exists()


# --- Bidder links: one person on two records, phones of the staff and the organizations --------


def _linked_tender(clock):
    """A tender opened with three bidders: 甲's 周建军; the same man on 乙's roster under his
    number with one digit mistyped, a record carried over from before numbers were checked
    (the roster service refuses such a number now, so it is written directly); and a
    namesake at 丙, born elsewhere five years earlier, whose organization gives 甲's staff
    member's mobile as its contact phone, written another way."""
    from datetime import date, timedelta

    from orgs_registry.models import Employment, Person, ServiceCategory
    from orgs_registry.services import StaffInput, organization_profile_update, staff_add
    from tests.tenders.conftest import make_bidder, publish_tender, submit_bid

    number = make_id_number(region="500103", born=date(1984, 6, 15), sequence=31, male=True)
    namesake = make_id_number(region="500106", born=date(1979, 2, 3), sequence=57, male=True)
    official = persona("official", Role.OFFICIAL)
    tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="elderly_care"),
        description="社区老年人防跌倒评估服务，与其他项目都不一样。",
    )
    bidders = [make_bidder(f"联合{name}社会工作服务中心", staff=0) for name in "甲乙丙"]
    for bidder, id_number, phone in (
        (bidders[0], number, "13912345678"),
        (bidders[2], namesake, ""),
    ):
        employment = staff_add(
            organization=bidder.organization,
            actor=bidder.admin,
            data=StaffInput(
                name="周建军",
                id_number=id_number,
                role="社工",
                start_date=date(2024, 1, 1),
                phone=phone,
            ),
        )
        bidder.staff_ids.append(employment.person_id)
    mistyped = number[:14] + str((int(number[14]) + 1) % 10) + number[15:]
    legacy = Person.objects.create(name="周建军", id_number=mistyped)
    Employment.objects.create(
        person=legacy,
        organization=bidders[1].organization,
        role="社工",
        start_date=date(2024, 1, 1),
    )
    bidders[1].staff_ids.append(legacy.pk)
    organization_profile_update(
        organization=bidders[2].organization, actor=bidders[2].admin, phone="+86 139 1234 5678"
    )
    bids = [
        submit_bid(tender, bidder, price)[0]
        for bidder, price in zip(bidders, ("300000", "310000", "320000"), strict=True)
    ]
    clock.set(tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=tender, actor=official)
    tender_services.tender_open(tender=tender, actor=persona("second_official", Role.OFFICIAL))
    return tender, bidders, bids


def test_two_records_of_one_person_on_competing_bids_are_linked_and_a_namesake_is_not(world, clock):
    tender, bidders, bids = _linked_tender(clock)
    services.screens_run(tender=tender)
    links = {
        flag.evidence["screen"]: flag
        for flag in flags(FlagKind.SHARED_BIDDER_LINK)
        if flag.tender_id == tender.pk
    }
    assert set(links) == {"shared_person", "shared_phone"}
    person = links["shared_person"]
    assert set(person.evidence["bids"]) == {str(bids[0].pk), str(bids[1].pk)}
    (shared,) = person.evidence["people"]
    assert shared["same_record"] is False
    assert {shared["a"]["person"], shared["b"]["person"]} == {
        bidders[0].staff_ids[0],
        bidders[1].staff_ids[0],
    }
    assert shared["a"]["name"] == shared["b"]["name"] == "周建军"
    assert shared["a"]["id_number"] != shared["b"]["id_number"]
    assert shared["probability"] >= 0.8
    assert shared["probability"] == person.evidence["probability"]
    assert float(person.score) == round(shared["probability"], 4)
    assert person.severity == "high"  # a link at 0.95 or more
    assert shared["matched_fields"]["id_number"] == "one_digit"
    # The namesake at 丙 (another ID number and birth date) is not the same person ...
    assert str(bids[2].pk) not in person.evidence["bids"]
    # ... but 丙 gives 甲's staff member's mobile as its own phone.
    phone = links["shared_phone"]
    assert set(phone.evidence["bids"]) == {str(bids[0].pk), str(bids[2].pk)}
    assert phone.evidence["values"] == [{"phone": "13912345678"}]


def test_bidder_link_evidence_masks_id_numbers_and_phones_for_officials(world, clock):
    from evaluation.selectors.integrity import masked_evidence

    tender, _bidders, _bids = _linked_tender(clock)
    services.screens_run(tender=tender)
    evidence = {
        flag.evidence["screen"]: flag.evidence
        for flag in flags(FlagKind.SHARED_BIDDER_LINK)
        if flag.tender_id == tender.pk
    }
    official = masked_evidence(persona("official", Role.OFFICIAL), evidence["shared_person"])
    shown = official["people"][0]["a"]["id_number"]
    assert "*" in shown
    assert shown != evidence["shared_person"]["people"][0]["a"]["id_number"]
    phone = masked_evidence(persona("official", Role.OFFICIAL), evidence["shared_phone"])
    assert phone["values"] == [{"phone": "139****5678"}]
    auditor = masked_evidence(persona("auditor", Role.AUDITOR), evidence["shared_person"])
    assert auditor == evidence["shared_person"]
