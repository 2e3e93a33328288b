"""Registry services: registration, verification, change requests, rosters, credit and exit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry import exit as registry_exit
from orgs_registry import services
from orgs_registry.identifiers import make_id_number, make_uscc
from orgs_registry.models import (
    ChangeRequestStatus,
    CreditEntry,
    CreditList,
    Employment,
    FundingType,
    Organization,
    OrganizationStatus,
    Person,
    Qualification,
)
from orgs_registry.selectors import org_eligibility
from orgs_registry.services import StaffInput
from tests.conftest import make_organization, make_user


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


def uscc(body: str, category: str = "2") -> str:
    return make_uscc(authority="5", category=category, region="500103", org_body=body)


def events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def staff(name: str = "张三", number: str | None = None, **extra) -> StaffInput:
    number = number or make_id_number(region="500103", born=date(1988, 5, 6), sequence=1, male=True)
    return StaffInput(
        name=name, id_number=number, role="社工", start_date=date(2025, 3, 1), **extra
    )


@pytest.fixture
def roleless(db) -> User:
    return User.objects.create_user("newcomer", "newcomer@example.cn", "a-Strong-passw0rd")


# --- Registration and verification ------------------------------------------------------------


def test_registry_admins_create_active_organizations(registry_admin):
    org = services.organization_create(
        name="渝中区助老服务中心",
        uscc=uscc("70000001"),
        actor=registry_admin,
        verified=True,
        legal_representative="李四",
        registration_date=date(2019, 4, 1),
    )
    assert org.status == OrganizationStatus.ACTIVE
    assert org.kind == "social_service_agency"
    assert org.verified_by == registry_admin
    assert events(AuditAction.ORG_CREATED) == 1


def test_only_registry_admins_create_verified_organizations(official):
    with pytest.raises(PermissionDenied):
        services.organization_create(name="x", uscc=uscc("70000002"), actor=official, verified=True)
    assert not Organization.objects.filter(uscc=uscc("70000002")).exists()


def test_a_bad_code_is_refused_on_its_field_with_the_rule(registry_admin):
    with pytest.raises(ValidationError) as error:
        services.organization_create(
            name="x", uscc="53100000500019795B", actor=registry_admin, verified=True
        )
    assert "check character (position 18)" in error.value.message_dict["uscc"][0]


def test_self_registration_makes_the_caller_org_admin_of_a_pending_org(roleless):
    org = services.organization_register(user=roleless, name="新组织", uscc=uscc("70000003"))
    roleless.refresh_from_db()
    assert org.status == OrganizationStatus.PENDING
    assert (roleless.role, roleless.organization) == (Role.ORG_ADMIN, org)
    assert events(AuditAction.ORG_REGISTERED) == 1
    assert events(AuditAction.USER_ROLE_ASSIGNED) == 1


def test_people_with_a_role_cannot_self_register(official):
    with pytest.raises(PermissionDenied):
        services.organization_register(user=official, name="x", uscc=uscc("70000004"))


def test_registering_with_an_account_saves_both_or_neither(official):
    org, user = services.organization_register_with_account(
        username="founder",
        password="a-Strong-passw0rd",
        account_email="f@example.cn",
        full_name="赵一",
        name="社区志愿者协会",
        uscc=uscc("70000005", "1"),
    )
    assert user.organization == org
    assert user.role == Role.ORG_ADMIN

    with pytest.raises(ValidationError) as error:
        services.organization_register_with_account(
            username="official",  # taken
            password="a-Strong-passw0rd",
            account_email="g@example.cn",
            full_name="钱二",
            name="另一个组织",
            uscc=uscc("70000006"),
        )
    assert "username" in error.value.message_dict
    assert not Organization.objects.filter(uscc=uscc("70000006")).exists()


def test_verify_reject_and_resubmit(registry_admin, roleless):
    org = services.organization_register(user=roleless, name="待审组织", uscc=uscc("70000007"))
    roleless.refresh_from_db()

    with pytest.raises(ValidationError):
        services.organization_reject(organization=org, actor=registry_admin, reason=" ")
    org = services.organization_reject(
        organization=org, actor=registry_admin, reason="登记证书与名称不符"
    )
    assert org.status == OrganizationStatus.REJECTED

    with pytest.raises(PermissionDenied):
        services.organization_verify(organization=org, actor=registry_admin)

    org = services.organization_resubmit(organization=org, actor=roleless, name="待审组织（更正）")
    assert (org.status, org.name) == (OrganizationStatus.PENDING, "待审组织（更正）")

    org = services.organization_verify(organization=org, actor=registry_admin)
    assert org.status == OrganizationStatus.ACTIVE
    assert org.verified_at is not None
    assert org.rejection_reason == ""


def test_an_org_admin_cannot_verify_their_own_registration(roleless):
    org = services.organization_register(user=roleless, name="自我核实", uscc=uscc("70000008"))
    roleless.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.organization_verify(organization=org, actor=roleless)


# --- Profile and change requests --------------------------------------------------------------


def test_contact_details_change_directly_and_are_audited(org_admin, organization):
    services.organization_profile_update(
        organization=organization, actor=org_admin, phone="023-63891234", email="a@b.cn"
    )
    organization.refresh_from_db()
    assert organization.phone == "023-63891234"
    event = AuditEvent.objects.get(action=AuditAction.ORG_PROFILE_UPDATED)
    assert set(event.details["changed"]) == {"phone", "email"}


def test_registered_facts_cannot_change_without_the_registry(org_admin, organization):
    with pytest.raises(ValidationError) as error:
        services.organization_profile_update(
            organization=organization, actor=org_admin, name="改名"
        )
    assert "name" in error.value.message_dict


def test_another_orgs_admin_cannot_touch_the_profile(other_org_admin, organization):
    with pytest.raises(PermissionDenied):
        services.organization_profile_update(
            organization=organization, actor=other_org_admin, phone="13800138000"
        )


def test_a_change_request_is_approved_and_applied(org_admin, registry_admin, organization):
    request = services.change_request_create(
        organization=organization,
        actor=org_admin,
        changes={"legal_representative": "王五", "address": "民族路1号"},
        reason="换届",
    )
    assert request.previous["legal_representative"] == ""
    organization.refresh_from_db()
    assert organization.legal_representative == ""  # not yet

    services.change_request_decide(change_request=request, actor=registry_admin, approve=True)
    organization.refresh_from_db()
    assert organization.legal_representative == "王五"
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED
    assert events(AuditAction.ORG_CHANGE_APPROVED) == 1


def test_a_change_request_rejection_needs_a_note_and_changes_nothing(
    org_admin, registry_admin, organization
):
    request = services.change_request_create(
        organization=organization, actor=org_admin, changes={"name": "新名称"}, reason="更名"
    )
    with pytest.raises(ValidationError):
        services.change_request_decide(change_request=request, actor=registry_admin, approve=False)
    services.change_request_decide(
        change_request=request, actor=registry_admin, approve=False, note="缺少核准文件"
    )
    organization.refresh_from_db()
    assert organization.name == "阳光社会工作服务中心"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"uscc": "53100000500019795A"}, "uscc"),
        ({"phone": "13800138000"}, "phone"),
        ({"funding_type": "nonsense"}, "funding_type"),
        ({"registration_date": "not a date"}, "registration_date"),
    ],
)
def test_bad_change_requests_are_refused_on_the_field(org_admin, organization, changes, field):
    with pytest.raises(ValidationError) as error:
        services.change_request_create(
            organization=organization, actor=org_admin, changes=changes, reason="x"
        )
    assert field in error.value.message_dict


def test_a_change_to_the_same_values_is_refused(org_admin, organization):
    with pytest.raises(ValidationError, match="same as the registered"):
        services.change_request_create(
            organization=organization,
            actor=org_admin,
            changes={"name": organization.name},
            reason="x",
        )


def test_members_and_other_orgs_cannot_request_changes(org_member, other_org_admin, organization):
    for actor in (org_member, other_org_admin):
        with pytest.raises(PermissionDenied):
            services.change_request_create(
                organization=organization, actor=actor, changes={"name": "y"}, reason="x"
            )


# --- Rosters ----------------------------------------------------------------------------------


def test_a_person_is_recorded_once_and_linked_by_employment(
    org_admin, other_org_admin, organization, other_organization
):
    first = services.staff_add(organization=organization, actor=org_admin, data=staff())
    second = services.staff_add(
        organization=other_organization, actor=other_org_admin, data=staff(name="张 三")
    )
    assert first.person == second.person
    assert Person.objects.count() == 1
    person = first.person
    assert person.birth_date == date(1988, 5, 6)
    assert person.sex == "male"
    assert events(AuditAction.STAFF_ADDED) == 2


def test_a_name_that_does_not_match_the_id_number_is_refused(
    org_admin, other_org_admin, organization, other_organization
):
    services.staff_add(organization=organization, actor=org_admin, data=staff())
    with pytest.raises(ValidationError) as error:
        services.staff_add(
            organization=other_organization, actor=other_org_admin, data=staff(name="李四")
        )
    assert "name" in error.value.message_dict
    assert Employment.objects.count() == 1


def test_a_bad_id_number_is_refused_with_its_rule(org_admin, organization):
    with pytest.raises(ValidationError) as error:
        services.staff_add(
            organization=organization, actor=org_admin, data=staff(number="110105194912310021")
        )
    assert "check character" in error.value.message_dict["id_number"][0]
    assert Person.objects.count() == 0


def test_a_legacy_number_is_stored_in_18_digits(org_admin, organization):
    employment = services.staff_add(
        organization=organization, actor=org_admin, data=staff(number="110105491231002")
    )
    assert employment.person.id_number == "11010519491231002X"


def test_the_same_person_cannot_be_employed_twice_at_once(org_admin, organization):
    services.staff_add(organization=organization, actor=org_admin, data=staff())
    with pytest.raises(ValidationError, match="already works"):
        services.staff_add(organization=organization, actor=org_admin, data=staff())


def test_only_the_orgs_admin_manages_its_roster(
    org_member, other_org_admin, registry_admin, auditor, organization
):
    for actor in (org_member, other_org_admin, registry_admin, auditor):
        with pytest.raises(PermissionDenied):
            services.staff_add(organization=organization, actor=actor, data=staff())
    assert Employment.objects.count() == 0


def test_ending_an_employment_and_bad_dates(org_admin, organization):
    employment = services.staff_add(organization=organization, actor=org_admin, data=staff())
    with pytest.raises(ValidationError):
        services.staff_update(employment=employment, actor=org_admin, end_date=date(2024, 1, 1))
    services.staff_update(
        employment=employment,
        actor=org_admin,
        end_date=date(2025, 12, 31),
        weekly_hours=Decimal(20),
    )
    employment.refresh_from_db()
    assert employment.end_date == date(2025, 12, 31)
    event = AuditEvent.objects.get(action=AuditAction.STAFF_UPDATED)
    assert set(event.details["changed"]) == {"end_date", "weekly_hours"}


def test_qualifications_are_recorded_once_per_level(org_admin, organization):
    employment = services.staff_add(
        organization=organization,
        actor=org_admin,
        data=staff(qualification="social_worker", certificate_number="SW2019001"),
    )
    services.staff_qualification_record(
        organization=organization,
        person=employment.person,
        actor=org_admin,
        level="social_worker",
        certificate_number="SW2019002",
    )
    assert Qualification.objects.get().certificate_number == "SW2019002"


def test_qualifications_only_for_people_on_your_roster(
    org_admin, other_org_admin, organization, other_organization
):
    employment = services.staff_add(organization=organization, actor=org_admin, data=staff())
    with pytest.raises(PermissionDenied):
        services.staff_qualification_record(
            organization=other_organization,
            person=employment.person,
            actor=other_org_admin,
            level="social_worker",
        )


# --- Credit and eligibility -------------------------------------------------------------------


def test_the_abnormal_list_flips_the_status_both_ways(registry_admin, organization):
    first = services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="未按时年检",
        source="渝中区民政局",
        listed_on=date(2026, 1, 5),
    )
    second = services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="通讯地址无法联系",
        source="渝中区民政局",
        listed_on=date(2026, 2, 5),
    )
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.ABNORMAL
    eligibility = org_eligibility(organization)
    assert eligibility.eligible
    assert [w.code for w in eligibility.warnings] == ["abnormal_activity"]

    services.credit_entry_remove(entry=first, actor=registry_admin, reason="已整改")
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.ABNORMAL  # one entry remains
    services.credit_entry_remove(entry=second, actor=registry_admin, reason="已整改")
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.ACTIVE
    assert events(AuditAction.ORG_STATUS_CHANGED) == 2


def test_the_serious_list_blocks_bidding(registry_admin, organization):
    services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.SERIOUS,
        reason="弄虚作假骗取登记",
        source="渝中区民政局 渝中民发〔2026〕12号",
        listed_on=date(2026, 3, 1),
    )
    eligibility = org_eligibility(organization)
    assert not eligibility.eligible
    assert [f.code for f in eligibility.failures] == ["serious_dishonesty"]


def test_only_the_registry_keeps_the_credit_lists(official, org_admin, organization):
    for actor in (official, org_admin):
        with pytest.raises(PermissionDenied):
            services.credit_entry_add(
                organization=organization,
                actor=actor,
                credit_list=CreditList.SERIOUS,
                reason="x",
                source="y",
                listed_on=date(2026, 1, 1),
            )
    assert CreditEntry.objects.count() == 0


def test_removing_an_entry_twice_is_refused(registry_admin, organization):
    entry = services.credit_entry_add(
        organization=organization,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="x",
        source="y",
        listed_on=date(2026, 1, 1),
    )
    services.credit_entry_remove(entry=entry, actor=registry_admin, reason="整改完成")
    with pytest.raises(ValidationError, match="already removed"):
        services.credit_entry_remove(entry=entry, actor=registry_admin, reason="again")


@pytest.mark.parametrize(
    ("funding_type", "eligible"),
    [
        (FundingType.INDEPENDENT, True),
        (FundingType.PUBLIC_INSTITUTION_2, True),
        (FundingType.PUBLIC_INSTITUTION_1, False),
        (FundingType.FISCAL_MASS_ORGANIZATION, False),
    ],
)
def test_excluded_funding_types_may_not_bid(registry_admin, funding_type, eligible):
    org = services.organization_create(
        name="事业单位",
        uscc=uscc("70000010", "2"),
        actor=registry_admin,
        verified=True,
        funding_type=funding_type,
    )
    result = org_eligibility(org)
    assert result.eligible is eligible
    if not eligible:
        assert result.failures[0].code == "excluded_funding"
        assert "Art. 8" in str(result.failures[0])


def test_pending_rejected_and_deregistered_organizations_may_not_bid(db):
    pending = make_organization("待核实", "70000011", verified=False)
    assert [f.code for f in org_eligibility(pending).failures] == ["not_verified"]


def test_eligibility_of_a_verified_active_org_is_clean(organization):
    result = org_eligibility(organization)
    assert result.eligible
    assert result.failures == []
    assert result.warnings == []


def test_a_tender_can_add_its_own_gates(organization):
    class Tender:
        def eligibility_issues(self, org):
            from orgs_registry.selectors import EligibilityIssue

            return [EligibilityIssue("negative_list", "labour dispatch")], []

    result = org_eligibility(organization, Tender())
    assert [f.code for f in result.failures] == ["negative_list"]


# --- Exit -------------------------------------------------------------------------------------


def test_deregistration_blocks_bidding_and_waits_for_commitments(
    org_admin, registry_admin, organization, monkeypatch
):
    services.organization_deregistration_start(
        organization=organization, actor=org_admin, reason="业务终止"
    )
    organization.refresh_from_db()
    assert organization.deregistration_initiator == "organization"
    assert "deregistering" in [f.code for f in org_eligibility(organization).failures]

    open_items = [registry_exit.Commitment("bid", "投标：居家养老服务项目")]
    monkeypatch.setattr(registry_exit, "_sources", [lambda org: open_items])
    with pytest.raises(ValidationError, match="居家养老服务项目"):
        services.organization_deregistration_complete(
            organization=organization, actor=registry_admin
        )
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.ACTIVE

    open_items.clear()
    services.organization_deregistration_complete(organization=organization, actor=registry_admin)
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.DEREGISTERED
    assert [f.code for f in org_eligibility(organization).failures] == ["deregistered"]


def test_the_registry_orders_deregistration_and_only_it_withdraws(
    org_admin, registry_admin, organization
):
    services.organization_deregistration_start(
        organization=organization, actor=registry_admin, reason="连续两年未年检"
    )
    organization.refresh_from_db()
    assert organization.deregistration_initiator == "registry"
    with pytest.raises(PermissionDenied):
        services.organization_deregistration_withdraw(organization=organization, actor=org_admin)
    services.organization_deregistration_withdraw(organization=organization, actor=registry_admin)
    organization.refresh_from_db()
    assert not organization.is_deregistering


def test_members_cannot_start_deregistration(org_member, organization):
    with pytest.raises(PermissionDenied):
        services.organization_deregistration_start(
            organization=organization, actor=org_member, reason="x"
        )


def test_a_roleless_user_joins_nothing_by_accident(db):
    user = make_user("someone", Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.organization_register(user=user, name="x", uscc=uscc("70000012"))


def test_a_registration_date_in_the_future_is_refused(registry_admin):
    with pytest.raises(ValidationError) as error:
        services.organization_create(
            name="未来机构",
            uscc=uscc("70000013"),
            actor=registry_admin,
            verified=True,
            registration_date=date(2999, 1, 1),
        )
    assert "registration_date" in error.value.message_dict


def test_a_transition_out_of_order_is_a_readable_refusal(org_admin, registry_admin, organization):
    request = services.change_request_create(
        organization=organization, actor=org_admin, changes={"address": "新华路3号"}, reason="搬迁"
    )
    services.change_request_decide(change_request=request, actor=registry_admin, approve=True)
    with pytest.raises(ValidationError, match="not possible while the status is") as error:
        services.change_request_decide(
            change_request=request, actor=registry_admin, approve=False, note="晚了"
        )
    assert error.value.code == "invalid_state"


def test_a_phone_is_normalized_and_fills_a_gap_but_never_overwrites(
    org_admin, other_org_admin, organization, other_organization
):
    first = services.staff_add(
        organization=organization, actor=org_admin, data=staff(phone="138 0013 8000")
    )
    assert first.person.phone == "13800138000"
    services.staff_add(
        organization=other_organization, actor=other_org_admin, data=staff(phone="13900139000")
    )
    first.person.refresh_from_db()
    assert first.person.phone == "13800138000"


def test_a_bad_phone_is_refused_on_its_field(org_admin, organization):
    with pytest.raises(ValidationError) as error:
        services.staff_add(organization=organization, actor=org_admin, data=staff(phone="12345"))
    assert "phone" in error.value.message_dict


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": date(2024, 1, 1)}, "end_date"),
        ({"weekly_hours": Decimal("90")}, "weekly_hours"),
        ({"weekly_hours": Decimal("0")}, "weekly_hours"),
    ],
)
def test_employment_limits_are_reported_on_their_field(org_admin, organization, changes, field):
    employment = services.staff_add(organization=organization, actor=org_admin, data=staff())
    with pytest.raises(ValidationError) as error:
        services.staff_update(employment=employment, actor=org_admin, **changes)
    assert field in error.value.message_dict
