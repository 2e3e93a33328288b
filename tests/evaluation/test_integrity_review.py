"""Reviewing integrity flags (DESIGN 3: open → confirmed | dismissed (reason) → resolved) and
what confirmed double funding blocks: the award of the bid it concerns, any award when it
is about the tender itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from evaluation.models import FlagKind, FlagStatus, IntegrityFlag
from evaluation.services import integrity as services
from marketplace.models import AuditAction, AuditEvent, Role
from orgs_registry.identifiers import make_id_number
from tenders import services as tender_services
from tenders.models import Award
from tests.conftest import building, module_database, persona
from tests.evaluation.integrity_support import World, build_world, import_staffing, post
from tests.tenders.test_award import RANKED_AT


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=RANKED_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        world = build_world(clock)
        first = world.ranked.bidder_of(world.ranked.bid_at(1))
        import_staffing(
            tmp_path_factory.mktemp("roster"),
            [
                post(world_person(first.staff_ids[0])),
                post(
                    name="王敏",
                    id_number=make_id_number(
                        region="500103", born=date(1970, 1, 1), sequence=11, male=False
                    ),
                    unit="解放碑街道社区事务服务中心",
                ),
            ],
        )
        services.screens_run()
        yield world


def world_person(pk: int):
    from orgs_registry.models import Person

    return Person.objects.get(pk=pk)


@pytest.fixture
def world(_world_once, db, clock) -> World:
    clock.set(_world_once.built_until)
    return _world_once.copy()


def payroll_flag(world: World) -> IntegrityFlag:
    return IntegrityFlag.objects.get(
        kind=FlagKind.STAFF_ON_PUBLIC_PAYROLL, bid=world.ranked.bid_at(1)
    )


def unit_flag(world: World) -> IntegrityFlag:
    return IntegrityFlag.objects.get(
        kind=FlagKind.UNIT_KEEPS_STAFF_FOR_FUNCTION, tender=world.ranked.tender
    )


# --- Who reviews ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.APPROVER, Role.AUDITOR])
def test_officials_and_auditors_confirm_a_flag_with_an_audit_event(world, role):
    reviewer = persona(f"reviewer_{role}", role)
    flag = services.flag_confirm(flag=payroll_flag(world), actor=reviewer, note="已核实在编。")
    assert flag.status == FlagStatus.CONFIRMED
    assert flag.reviewed_by == reviewer
    assert flag.review_note == "已核实在编。"
    event = AuditEvent.objects.get(action=AuditAction.INTEGRITY_FLAG_CONFIRMED)
    assert event.object_id == str(flag.pk)
    assert event.state_before == FlagStatus.OPEN
    assert event.details["blocks"] is True


@pytest.mark.parametrize(
    "role", [Role.ORG_ADMIN, Role.ORG_MEMBER, Role.ASSESSOR, Role.REGISTRY_ADMIN]
)
def test_nobody_else_reviews_a_flag(world, role):
    organization = (
        world.ranked.bidders[0].organization if role in (Role.ORG_ADMIN, Role.ORG_MEMBER) else None
    )
    someone = persona(f"someone_{role}", role, organization)
    flag = payroll_flag(world)
    for review in (
        lambda: services.flag_confirm(flag=flag, actor=someone),
        lambda: services.flag_dismiss(flag=flag, actor=someone, reason="不是"),
        lambda: services.flag_resolve(flag=flag, actor=someone, resolution="已处理"),
    ):
        with pytest.raises(PermissionDenied):
            review()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert not AuditEvent.objects.filter(action__startswith="integrity.flag").exists()


def test_a_dismissal_needs_a_reason_and_is_final(world, official):
    flag = payroll_flag(world)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.flag_dismiss(flag=flag, actor=official, reason="  ")
    assert "reason" in error.value.message_dict
    flag = services.flag_dismiss(flag=flag, actor=official, reason="同名不同人。")
    assert flag.status == FlagStatus.DISMISSED
    assert (
        AuditEvent.objects.get(action=AuditAction.INTEGRITY_FLAG_DISMISSED).details["reason"]
        == "同名不同人。"
    )
    with pytest.raises(ValidationError):
        services.flag_confirm(flag=flag, actor=official)
    with pytest.raises(ValidationError):
        services.flag_resolve(flag=flag, actor=official, resolution="x")


def test_only_a_confirmed_flag_is_resolved_and_the_resolution_is_required(world, official, auditor):
    flag = payroll_flag(world)
    with pytest.raises(ValidationError):
        services.flag_resolve(flag=flag, actor=official, resolution="已调离")
    services.flag_confirm(flag=flag, actor=auditor)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.flag_resolve(flag=flag, actor=official, resolution="")
    assert "resolution" in error.value.message_dict
    flag = services.flag_resolve(flag=flag, actor=official, resolution="该人员已退出服务团队。")
    assert flag.status == FlagStatus.RESOLVED
    assert flag.resolved_by == official
    assert AuditEvent.objects.filter(action=AuditAction.INTEGRITY_FLAG_RESOLVED).count() == 1
    with pytest.raises(ValidationError):
        services.flag_confirm(flag=flag, actor=official)


def test_confirming_twice_is_refused(world, official):
    flag = services.flag_confirm(flag=payroll_flag(world), actor=official)
    with pytest.raises(ValidationError):
        services.flag_confirm(flag=flag, actor=official)


def test_the_tenders_drafter_is_mailed_when_a_flag_is_confirmed(
    world, auditor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.flag_confirm(flag=payroll_flag(world), actor=auditor)
    assert [mail.to for mail in mailoutbox] == [[world.ranked.tender.created_by.email]]


# --- Blocking the award ---------------------------------------------------------------------------


def test_an_open_or_dismissed_flag_blocks_nothing(world, approver, official):
    services.flag_dismiss(flag=unit_flag(world), actor=official, reason="岗位已撤销。")
    award = tender_services.award_confirm(
        tender=world.ranked.tender, actor=approver, bid=world.ranked.bid_at(1)
    )
    assert award.bid_id == world.ranked.bid_at(1).pk


def test_confirmed_double_funding_on_a_bid_blocks_its_award_until_resolved(
    world, approver, official
):
    services.flag_dismiss(flag=unit_flag(world), actor=official, reason="岗位已撤销。")
    flag = services.flag_confirm(flag=payroll_flag(world), actor=official)
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="double-funding") as error,
    ):
        tender_services.award_confirm(
            tender=world.ranked.tender, actor=approver, bid=world.ranked.bid_at(1)
        )
    assert "bid" in error.value.message_dict
    assert not Award.objects.exists()
    services.flag_resolve(flag=flag, actor=official, resolution="该人员已离开事业编岗位。")
    award = tender_services.award_confirm(
        tender=world.ranked.tender, actor=approver, bid=world.ranked.bid_at(1)
    )
    assert award.position == 1


def test_a_blocked_bid_does_not_stop_another_bid_from_winning(world, approver, official):
    services.flag_dismiss(flag=unit_flag(world), actor=official, reason="岗位已撤销。")
    services.flag_confirm(flag=payroll_flag(world), actor=official)
    award = tender_services.award_confirm(
        tender=world.ranked.tender,
        actor=approver,
        bid=world.ranked.bid_at(2),
        reason="第一名存在重复供养问题。",
    )
    assert award.position == 2


def test_confirmed_double_funding_about_the_tender_blocks_every_award(world, approver, official):
    services.flag_confirm(flag=unit_flag(world), actor=official)
    for position, reason in ((1, ""), (2, "理由")):
        with (
            translation.override("en"),
            pytest.raises(ValidationError, match="Purchasing unit keeps staff"),
        ):
            tender_services.award_confirm(
                tender=world.ranked.tender,
                actor=approver,
                bid=world.ranked.bid_at(position),
                reason=reason,
            )
    assert not Award.objects.exists()


def test_the_flag_page_puts_the_bid_person_beside_the_roster_post(
    world, client_for, official, auditor
):
    from django.conf import settings
    from django.urls import reverse

    from orgs_registry.identifiers import mask_id_number

    flag = payroll_flag(world)
    person = flag.person
    client = client_for(official)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("evaluation:integrity_flag", args=[flag.pk])).content.decode()
    assert "Side by side" in html
    assert "Bid staffing plan" in html
    assert "Staffing roster" in html
    assert mask_id_number(person.id_number) in html
    assert person.id_number not in html
    whole = client_for(auditor).get(reverse("evaluation:integrity_flag", args=[flag.pk]))
    assert person.id_number in whole.content.decode()
