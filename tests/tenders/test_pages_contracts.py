"""The contract pages: the public list and contract page (team names masked), drawing up
and editing the draft, signing, termination, team changes and payment records, and every
role's refusal on every route.

The awarded tender (past its challenge window) is built once for the module with the real
services; each test rolls back to it and builds its contract with the services too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from marketplace.models import AuditAction, AuditEvent, Role, User
from orgs_registry.identifiers import make_id_number
from orgs_registry.services import StaffInput, staff_add
from tenders.models import (
    Award,
    Contract,
    ContractStatus,
    ContractTeamMember,
    Milestone,
    TeamChange,
    Tender,
)
from tenders.selectors import contracts as contract_selectors
from tenders.services import contracts as services
from tests import contract_support
from tests.conftest import Clock, building, module_database, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY, supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local


@pytest.fixture(scope="module")
def _ready_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.awarded_ready_tender(clock).pk


@pytest.fixture
def tender(_ready_once, db, clock: Clock) -> Tender:
    clock.set(DRAFT_DAY)
    return Tender.objects.get(pk=_ready_once)


@pytest.fixture
def draft(tender) -> Contract:
    return services.contract_draft(tender=tender, actor=contract_support.official())


def sign_both(contract: Contract) -> Contract:
    services.contract_sign(contract=contract, actor=contract_support.official())
    services.contract_sign(contract=contract, actor=supplier_admin(contract))
    return Contract.objects.get(pk=contract.pk)


@pytest.fixture
def signed(draft) -> Contract:
    return sign_both(draft)


@pytest.fixture
def active(signed, clock) -> Contract:
    clock.set(ACTIVE_DAY)
    services.contracts_start_due()
    return Contract.objects.get(pk=signed.pk)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def detail_url(contract: Contract) -> str:
    return reverse("tenders:contract_detail", args=[contract.pk])


# --- The list and the contract page ------------------------------------------------------


def test_the_public_list_shows_signed_contracts_but_not_drafts(client, draft):
    response = client.get(reverse("tenders:contracts"))
    assert response.status_code == 200
    assert draft.reference not in response.content.decode()
    sign_both(draft)
    response = client.get(reverse("tenders:contracts"))
    assert draft.reference in response.content.decode()


def test_the_supplier_sees_its_draft_in_the_list_and_others_do_not(
    client_for, draft, other_org_admin
):
    page = client_for(supplier_member(draft)).get(reverse("tenders:contracts"))
    assert draft.reference in page.content.decode()
    page = client_for(other_org_admin).get(reverse("tenders:contracts"))
    assert draft.reference not in page.content.decode()


def test_the_list_filters_by_status_and_text(client, signed):
    html = client.get(reverse("tenders:contracts") + "?status=signed").content.decode()
    assert signed.reference in html
    html = client.get(reverse("tenders:contracts") + "?status=active").content.decode()
    assert signed.reference not in html
    html = client.get(reverse("tenders:contracts") + "?q=HT").content.decode()
    assert signed.reference in html
    uscc = signed.organization.uscc
    html = client.get(reverse("tenders:contracts") + f"?organization={uscc}").content.decode()
    assert signed.reference in html


def _more_contracts(signed: Contract, count: int) -> None:
    """Extra signed contracts for the query count (rows written directly: the count, not
    the lifecycle, is under test)."""
    award = Award.objects.get(pk=signed.award_id)
    for number in range(count):
        tender = Tender.objects.get(pk=signed.tender_id)
        tender.pk = None
        tender.reference = f"{signed.tender.reference}-{number}"
        tender.save()
        other_award = Award.objects.get(pk=award.pk)
        other_award.pk = None
        other_award.tender = tender
        other_award.save()
        contract = Contract(
            status=ContractStatus.SIGNED,
            reference=f"{tender.reference}-HT",
            tender=tender,
            award=other_award,
            organization_id=signed.organization_id,
            programme_id=signed.programme_id,
            title=f"合同{number}",
            price=Decimal("1000.00"),
            service_start=signed.service_start,
            service_end=signed.service_end,
            deliverables="x",
            pass_grade="fair",
            sign_due=signed.sign_due,
            created_by_id=signed.created_by_id,
        )
        contract.save()
        Milestone.objects.create(
            contract=contract,
            sequence=1,
            title="终期",
            kind="evaluation",
            evaluation_kind="final",
            share=Decimal("100"),
            amount=Decimal("1000.00"),
            due_date=signed.service_end,
        )


def test_the_list_needs_the_same_queries_for_more_contracts(
    client, signed, django_assert_max_num_queries
):
    client.get(reverse("tenders:contracts"))  # warm the caches (sessions, catalogue)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("tenders:contracts")).status_code == 200
    _more_contracts(signed, 12)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("tenders:contracts"))
    assert response.content.decode().count("/contracts/") >= 13


def test_the_public_contract_page_masks_the_team_names(client, signed):
    html = client.get(detail_url(signed)).content.decode()
    names = [m.person.name for m in ContractTeamMember.objects.filter(contract=signed)]
    assert names
    for name in names:
        assert name not in html
        assert name[0] + "*" * (len(name) - 1) in html
    for member in ContractTeamMember.objects.filter(contract=signed).select_related("person"):
        assert member.person.id_number not in html
        assert member.person.id_number[:4] + "*" not in html  # not even masked numbers
    assert "144,000.00" in html or "144000.00" in html


def test_the_parties_see_the_team_names(client_for, signed):
    names = [m.person.name for m in ContractTeamMember.objects.filter(contract=signed)]
    for user in (supplier_member(signed), contract_support.official()):
        html = client_for(user).get(detail_url(signed)).content.decode()
        assert all(name in html for name in names)


def test_a_draft_is_not_found_for_the_public_and_other_organizations(
    client, client_for, draft, other_org_admin, assessor
):
    assert client.get(detail_url(draft)).status_code == 404
    assert client_for(other_org_admin).get(detail_url(draft)).status_code == 404
    assert client_for(assessor).get(detail_url(draft)).status_code == 404
    assert client_for(supplier_member(draft)).get(detail_url(draft)).status_code == 200


def test_a_missing_contract_is_not_found(client, db):
    assert client.get(reverse("tenders:contract_detail", args=[999999])).status_code == 404


def test_the_contract_page_shows_released_and_withheld_amounts_with_reasons(client, active):
    official = contract_support.official()
    first, second = Milestone.objects.filter(contract=active).order_by("sequence")[:2]
    services.milestone_settle(milestone=first, release=True, reason="", actor=official)
    services.milestone_settle(
        milestone=second, release=False, reason="中期评价为差，暂停支付。", actor=official
    )
    html = english(client).get(detail_url(active)).content.decode()
    assert "中期评价为差，暂停支付。" in html
    assert "Payment withheld" in html
    assert "Released 144,000.00 yuan (30.0%)" in html
    assert "Withheld 192,000.00 yuan (40.0%)" in html
    assert "Outstanding 144,000.00 yuan (30.0%)" in html
    assert "<svg" in html


def test_an_overdue_signature_is_shown(client_for, draft, clock):
    clock.set(local(2026, 11, 2, 9, 0))
    html = english(client_for(contract_support.official())).get(detail_url(draft)).content.decode()
    assert "The signatures are overdue" in html


# --- Drawing up and editing ----------------------------------------------------------------------


def test_the_tender_page_links_to_drawing_up_the_contract(client, client_for, tender):
    url = reverse("tenders:contract_create", args=[tender.pk])
    tender_url = reverse("tenders:detail", args=[tender.pk])
    assert url in client_for(contract_support.official()).get(tender_url).content.decode()
    assert url not in client.get(tender_url).content.decode()
    contract = services.contract_draft(tender=tender, actor=contract_support.official())
    html = client_for(contract_support.official()).get(tender_url).content.decode()
    assert detail_url(contract) in html
    assert url not in html
    assert detail_url(contract) not in client.get(tender_url).content.decode()  # a draft
    sign_both(contract)
    assert detail_url(contract) in client.get(tender_url).content.decode()


def test_the_official_draws_up_the_contract(client_for, tender):
    client = client_for(contract_support.official())
    url = reverse("tenders:contract_create", args=[tender.pk])
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(
        url,
        {
            "service_start": "2027-01-01",
            "service_end": "2027-12-31",
            "long_term_reason": "",
            "deliverables": "每月上门服务800人次。",
        },
    )
    contract = Contract.objects.get(tender=tender)
    assert response.status_code == 302
    assert response["Location"] == detail_url(contract)
    assert contract.deliverables == "每月上门服务800人次。"
    assert AuditEvent.objects.filter(action=AuditAction.CONTRACT_DRAFTED).count() == 1
    # A second visit goes to the contract.
    assert client.get(url)["Location"] == detail_url(contract)


def test_a_term_over_three_years_is_refused_on_the_form(client_for, tender):
    client = english(client_for(contract_support.official()))
    response = client.post(
        reverse("tenders:contract_create", args=[tender.pk]),
        {"service_start": "2027-01-01", "service_end": "2031-01-01", "long_term_reason": "长期"},
    )
    assert response.status_code == 200
    assert "at most three years" in response.content.decode()
    assert not Contract.objects.exists()


def test_the_official_edits_the_milestones_on_the_draft_page(client_for, draft):
    client = english(client_for(contract_support.official()))
    url = reverse("tenders:contract_edit", args=[draft.pk])
    assert client.get(url).status_code == 200
    data = {
        "service_start": "2027-01-01",
        "service_end": "2027-12-31",
        "long_term_reason": "",
        "deliverables": draft.deliverables,
        "milestone_1_amount": "100000.00",
        "milestone_1_due_date": "2027-02-01",
        "milestone_2_amount": "192000.00",
        "milestone_2_due_date": "2027-07-02",
        "milestone_3_amount": "144000.00",
        "milestone_3_due_date": "2027-12-31",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "add up to 436000.00, not the contract price 480000.00" in response.content.decode()
    assert Milestone.objects.get(contract=draft, sequence=1).amount == Decimal("144000.00")
    data["milestone_3_amount"] = "188000.00"
    response = client.post(url, data)
    assert response.status_code == 302
    assert Milestone.objects.get(contract=draft, sequence=3).amount == Decimal("188000.00")
    assert AuditEvent.objects.filter(action=AuditAction.CONTRACT_UPDATED).count() == 1


# --- Signing, terminating, team changes, payments --------------------------------------------


def test_both_sides_sign_on_the_contract_page(client_for, draft):
    sign = reverse("tenders:contract_sign", args=[draft.pk])
    assert client_for(contract_support.official()).post(sign).status_code == 302
    assert client_for(supplier_admin(draft)).post(sign).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ContractStatus.SIGNED
    assert AuditEvent.objects.filter(action=AuditAction.CONTRACT_SIGNED).count() == 1


def test_signing_twice_shows_why_it_is_refused(client_for, signed):
    response = english(client_for(contract_support.official())).post(
        reverse("tenders:contract_sign", args=[signed.pk])
    )
    assert response.status_code == 400
    assert "This contract is signed already." in response.content.decode()


def test_the_official_terminates_with_a_reason(client_for, active):
    client = english(client_for(contract_support.official()))
    url = reverse("tenders:contract_terminate", args=[active.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"terminate-reason": ""})
    assert response.status_code == 200
    assert Contract.objects.get(pk=active.pk).status == ContractStatus.ACTIVE
    response = client.post(url, {"terminate-reason": "服务严重不达标。"})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == ContractStatus.TERMINATED
    assert "服务严重不达标。" in client.get(detail_url(active)).content.decode()


def test_a_team_change_is_asked_and_approved_on_the_pages(client_for, active, clock):
    admin = supplier_admin(active)
    employment = staff_add(
        organization=active.organization,
        actor=admin,
        data=StaffInput(
            name="接替社工",
            id_number=make_id_number(
                region="500103", born=date(1991, 3, 3), sequence=55, male=True
            ),
            role="社工",
            start_date=date(2026, 12, 1),
        ),
    )
    leaving = ContractTeamMember.objects.filter(contract=active).order_by("pk").first()
    url = reverse("tenders:team_change_request", args=[active.pk])
    client = client_for(admin)
    assert "接替社工" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "kind": "replace",
            "leaving": str(leaving.pk),
            "joining": str(employment.person_id),
            "role": "",
            "fte": "",
            "reason": "原社工离职。",
        },
    )
    assert response.status_code == 302
    change = TeamChange.objects.get(contract=active)
    decide = reverse("tenders:team_change_decide", args=[change.pk])
    assert client.post(decide, {"decision-decision": "approve"}).status_code == 403
    official = client_for(contract_support.official())
    assert official.post(decide, {"decision-decision": "approve"}).status_code == 302
    assert TeamChange.objects.get(pk=change.pk).status == "approved"
    assert ContractTeamMember.objects.get(pk=leaving.pk).left_on == date(2027, 1, 4)


def test_the_official_records_a_payment_on_the_contract_page(client_for, active, clock):
    first = Milestone.objects.get(contract=active, sequence=1)
    services.milestone_settle(
        milestone=first, release=True, reason="", actor=contract_support.official()
    )
    clock.set(ACTIVE_DAY + timedelta(days=2))
    client = client_for(contract_support.official())
    url = reverse("tenders:milestone_payment", args=[active.pk, first.pk])
    response = client.post(url, {"payment-paid_on": "2027-01-05", "payment-reference": "GK-1"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.paid_on == date(2027, 1, 5)
    html = client_for(supplier_member(active)).get(detail_url(active)).content.decode()
    assert "GK-1" in html  # the supplier sees its payment status
    assert (
        "GK-1"
        not in client_for(persona("assessor", Role.ASSESSOR))
        .get(detail_url(active))
        .content.decode()
    )


# --- Every role on every route -------------------------------------------------------------------

ROLES = [
    "anonymous",
    "official",
    "approver",
    "org_admin",
    "org_member",
    "other_org_admin",
    "assessor",
    "registry_admin",
    "auditor",
]


def _user(role: str, contract: Contract) -> User | None:
    if role == "anonymous":
        return None
    if role == "org_admin":
        return supplier_admin(contract)
    if role == "org_member":
        return supplier_member(contract)
    if role == "other_org_admin":
        return User.objects.get(username="other_org_admin")
    return persona(role, Role(role))


def _client(client_for, user):
    from django.test import Client

    return Client() if user is None else client_for(user)


WRITE_ROUTES = {
    # route: roles that may use it (others: 403 signed in, 302 to the login page anonymous,
    # 404 where the contract is not theirs)
    "contract_edit": {"official", "approver"},
    "contract_terminate": {"official", "approver"},
    "team_change_request": {"org_admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_on_the_draft_routes(client_for, draft, role, other_org_admin):
    user = _user(role, draft)
    client = _client(client_for, user)
    expected_view = (
        404 if role in ("anonymous", "other_org_admin", "assessor", "registry_admin") else 200
    )
    assert client.get(detail_url(draft)).status_code == expected_view
    for route, allowed in WRITE_ROUTES.items():
        url = reverse(f"tenders:{route}", args=[draft.pk])
        status = client.get(url).status_code
        if role == "anonymous":
            assert status == 302, route
        elif expected_view == 404:
            assert status == 404, route
        elif role in allowed and route != "team_change_request":
            assert status == 200, route
        else:
            assert status == 403, (route, role)
    create = reverse("tenders:contract_create", args=[draft.tender_id])
    status = client.get(create).status_code
    if role == "anonymous":
        assert status == 302
    elif role in ("official", "approver"):
        assert status == 302  # to the existing contract
    else:
        assert status == 403


@pytest.mark.parametrize("role", ROLES)
def test_every_role_on_the_action_routes_of_an_active_contract(
    client_for, active, role, other_org_admin
):
    user = _user(role, active)
    client = _client(client_for, user)
    first = Milestone.objects.get(contract=active, sequence=1)
    urls = {
        "sign": reverse("tenders:contract_sign", args=[active.pk]),
        "payment": reverse("tenders:milestone_payment", args=[active.pk, first.pk]),
    }
    for name, url in urls.items():
        get, post = client.get(url).status_code, client.post(url, {}).status_code
        if role == "anonymous":
            assert (get, post) == (302, 302), name
        elif name == "sign" and role in ("official", "approver", "org_admin"):
            assert (get, post) == (405, 400), (name, role)  # signed already
        else:
            # Nobody else signs; nothing is released yet, so nobody records a payment.
            assert (get, post) == (405, 403), (name, role)
    assert Milestone.objects.get(pk=first.pk).paid_on is None


# --- Dashboards ----------------------------------------------------------------------------------


def cards(client) -> str:
    return english(client).get(reverse("dashboard")).content.decode()


def test_the_dashboards_ask_each_side_for_its_signature(client_for, draft, clock):
    html = cards(client_for(contract_support.official()))
    assert "Contracts waiting for my signature" in html
    assert draft.reference in html
    assert draft.reference in cards(client_for(supplier_admin(draft)))
    services.contract_sign(contract=draft, actor=contract_support.official())
    assert draft.reference not in cards(client_for(contract_support.official()))
    clock.set(local(2026, 11, 2, 9, 0))
    html = cards(client_for(contract_support.official()))
    assert "Contracts past their signing day" in html


def test_the_dashboards_show_payments_to_record_and_settled(client_for, active):
    first = Milestone.objects.get(contract=active, sequence=1)
    services.milestone_settle(
        milestone=first, release=True, reason="", actor=contract_support.official()
    )
    html = cards(client_for(contract_support.official()))
    assert "Released payments to record" in html
    assert detail_url(active) in html
    html = cards(client_for(supplier_member(active)))
    assert "Milestone payments settled" in html
    assert detail_url(active) in html


def test_the_dashboard_counts_every_settled_and_withheld_payment(active):
    official = contract_support.official()
    first, second = Milestone.objects.filter(contract=active).order_by("sequence")[:2]
    services.milestone_settle(milestone=first, release=True, reason="", actor=official)
    services.milestone_settle(milestone=second, release=False, reason="差", actor=official)
    member = supplier_member(active)
    assert contract_selectors.payment_counts_for_organization(member) == (2, 1)
    assert contract_selectors.payments_due_count(official) == 1
    assert contract_selectors.payment_counts_for_organization(official) == (0, 0)


def test_the_navigation_has_the_contracts(client, db):
    assert reverse("tenders:contracts") in client.get(reverse("tenders:list")).content.decode()


def test_deciding_a_team_change_needs_a_post(client_for, active):
    official = client_for(contract_support.official())
    response = official.get(reverse("tenders:team_change_decide", args=[1]))
    assert response.status_code == 405
    assert official.get(reverse("tenders:contract_sign", args=[active.pk])).status_code == 405


def test_a_team_change_of_another_contract_is_not_found(client_for, active, other_org_admin):
    person = ContractTeamMember.objects.filter(contract=active).first()
    change = services.team_change_request(
        contract=active,
        actor=supplier_admin(active),
        kind="remove",
        leaving=person,
        reason="调岗",
    )
    url = reverse("tenders:team_change_decide", args=[change.pk])
    response = client_for(other_org_admin).post(url, {"decision-decision": "approve"})
    assert response.status_code == 404
    assert TeamChange.objects.get(pk=change.pk).status == "requested"
    assert not AuditEvent.objects.filter(action=AuditAction.TEAM_CHANGE_APPROVED).exists()
