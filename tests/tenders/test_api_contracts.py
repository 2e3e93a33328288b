"""API v1 contracts: drawing up from an award, draft changes, signatures, termination,
milestones and payment records, team changes; the public reads (team names masked), the
error shape and every role's refusal. The awarded tender past its challenge window is
built once for the module; each test rolls back to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from marketplace.models import AuditAction, Role, User
from orgs_registry.identifiers import make_id_number
from orgs_registry.services import StaffInput, staff_add
from tenders.models import (
    Contract,
    ContractStatus,
    ContractTeamMember,
    Milestone,
    TeamChange,
    Tender,
)
from tenders.services import contracts as services
from tests import contract_support
from tests.conftest import Clock, building, module_database, persona
from tests.contract_support import ACTIVE_DAY, DRAFT_DAY, supplier_admin, supplier_member
from tests.evaluation.test_api_support import anonymous, api, events, is_error, patch, post
from tests.tenders.test_award import AWARD_DAY, local

CONTRACTS = "/api/v1/contracts/"
MISSING = 999_999


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


@pytest.fixture
def signed(draft) -> Contract:
    services.contract_sign(contract=draft, actor=contract_support.official())
    services.contract_sign(contract=draft, actor=supplier_admin(draft))
    return Contract.objects.get(pk=draft.pk)


@pytest.fixture
def active(signed, clock) -> Contract:
    clock.set(ACTIVE_DAY)
    services.contracts_start_due()
    return Contract.objects.get(pk=signed.pk)


def url(contract: Contract | int, action: str = "") -> str:
    pk = contract.pk if isinstance(contract, Contract) else contract
    return f"{CONTRACTS}{pk}/" + (f"{action}/" if action else "")


def milestones_url(contract: Contract, pk: int | None = None, action: str = "") -> str:
    base = f"{CONTRACTS}{contract.pk}/milestones/"
    if pk is not None:
        base += f"{pk}/"
    return base + (f"{action}/" if action else "")


def official() -> User:
    return contract_support.official()


# --- Drawing up and changing the draft -------------------------------------------------------


def test_an_official_draws_up_the_contract_from_the_tender(tender):
    response = post(api(official()), CONTRACTS, {"tender": tender.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    contract = Contract.objects.get(tender=tender)
    assert body["id"] == contract.pk
    assert body["status"] == "draft"
    assert body["price"] == "480000.00"
    assert body["payment_split"] == "30/40/30"
    assert [m["amount"] for m in body["milestones"]] == ["144000.00", "192000.00", "144000.00"]
    assert body["payments"]["outstanding"] == "480000.00"
    assert len(body["team"]) == 2
    assert len(events(AuditAction.CONTRACT_DRAFTED)) == 1


def test_drawing_up_names_the_bad_fields(tender):
    response = post(
        api(official()),
        CONTRACTS,
        {"tender": tender.pk, "service_start": "2027-01-01", "service_end": "2028-06-30"},
    )
    assert is_error(response, 400, "long_term_reason")
    response = post(api(official()), CONTRACTS, {"tender": MISSING, "colour": "red"})
    assert is_error(response, 400, "tender", "colour")
    assert not Contract.objects.exists()


def test_only_an_official_draws_up_a_contract(tender, org_admin, assessor, auditor):
    for user in (org_admin, assessor, auditor, supplier_admin_of(tender)):
        assert is_error(post(api(user), CONTRACTS, {"tender": tender.pk}), 403)
    assert is_error(post(anonymous(), CONTRACTS, {"tender": tender.pk}), 401) or is_error(
        post(anonymous(), CONTRACTS, {"tender": tender.pk}), 403
    )
    assert not Contract.objects.exists()


def supplier_admin_of(tender: Tender) -> User:
    award = tender.awards.get()
    return User.objects.filter(
        organization_id=award.bid.organization_id, role=Role.ORG_ADMIN
    ).first()


def test_the_official_changes_the_milestone_amounts(draft):
    response = patch(
        api(official()),
        url(draft),
        {
            "milestones": [
                {"sequence": 1, "amount": "100000.00"},
                {"sequence": 3, "amount": "188000.00", "due_date": "2027-12-30"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    amounts = [m["amount"] for m in response.json()["milestones"]]
    assert amounts == ["100000.00", "192000.00", "188000.00"]
    assert len(events(AuditAction.CONTRACT_UPDATED)) == 1


def test_amounts_that_miss_the_price_are_refused(draft):
    response = patch(api(official()), url(draft), {"milestones": [{"sequence": 1, "amount": "1"}]})
    assert is_error(response, 400, "milestones")
    assert "not the contract price 480000.00" in response.json()["fields"]["milestones"][0]
    assert Milestone.objects.get(contract=draft, sequence=1).amount == 144000


def test_the_supplier_cannot_change_the_draft(draft):
    response = patch(api(supplier_admin(draft)), url(draft), {"deliverables": "少做一点"})
    assert is_error(response, 403)


# --- Reading -------------------------------------------------------------------------------------


def test_the_public_reads_signed_contracts_with_masked_team_names(signed, draft):
    listing = anonymous().get(CONTRACTS)
    assert listing.status_code == 200
    assert [c["id"] for c in listing.json()["results"]] == [signed.pk]
    body = anonymous().get(url(signed)).json()
    names = {m.person.name for m in ContractTeamMember.objects.filter(contract=signed)}
    assert {member["name"] for member in body["team"]}.isdisjoint(names)
    assert all(member["name"].endswith("*") for member in body["team"])
    assert "id_number" not in str(body)
    party = api(supplier_member(signed)).get(url(signed)).json()
    assert {member["name"] for member in party["team"]} == names


def test_a_draft_is_not_found_for_the_public_and_other_organizations(draft, other_org_admin):
    assert is_error(anonymous().get(url(draft)), 404)
    assert is_error(api(other_org_admin).get(url(draft)), 404)
    assert api(supplier_member(draft)).get(url(draft)).status_code == 200
    assert is_error(anonymous().get(url(MISSING)), 404)
    assert api(other_org_admin).get(CONTRACTS).json()["results"] == []


def test_the_list_filters_and_refuses_a_bad_filter(signed):
    assert len(anonymous().get(CONTRACTS, {"status": "signed"}).json()["results"]) == 1
    assert anonymous().get(CONTRACTS, {"status": "active"}).json()["results"] == []
    assert len(anonymous().get(CONTRACTS, {"q": signed.reference}).json()["results"]) == 1
    assert is_error(anonymous().get(CONTRACTS, {"status": "lost"}), 400, "status")


def test_the_list_needs_the_same_queries_for_more_contracts(signed, django_assert_max_num_queries):
    from tests.tenders.test_pages_contracts import _more_contracts

    client = anonymous()
    client.get(CONTRACTS)
    with django_assert_max_num_queries(6):
        assert client.get(CONTRACTS).status_code == 200
    _more_contracts(signed, 12)
    with django_assert_max_num_queries(6):
        assert len(client.get(CONTRACTS).json()["results"]) == 13


def test_the_milestones_are_listed_and_read(signed):
    listing = anonymous().get(milestones_url(signed))
    assert listing.status_code == 200
    rows = listing.json()["results"]
    assert [row["sequence"] for row in rows] == [1, 2, 3]
    assert rows[1]["evaluation_kind"] == "mid_term"
    one = anonymous().get(milestones_url(signed, rows[0]["id"]))
    assert one.json()["amount"] == "144000.00"
    assert is_error(anonymous().get(milestones_url(signed, MISSING)), 404)


def test_the_milestones_of_a_draft_are_not_found_for_the_public(draft):
    assert is_error(anonymous().get(milestones_url(draft)), 404)


# --- Signing and terminating ---------------------------------------------------------------------


def test_both_sides_sign_through_the_api(draft):
    first = post(api(official()), url(draft, "sign"))
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "draft"
    second = post(api(supplier_admin(draft)), url(draft, "sign"))
    assert second.json()["status"] == "signed"
    assert second.json()["published_at"] is not None
    assert len(events(AuditAction.CONTRACT_SIGNATURE)) == 1
    assert len(events(AuditAction.CONTRACT_SIGNED)) == 1
    assert is_error(post(api(official()), url(draft, "sign")), 400)


def test_signing_refuses_the_wrong_method_and_the_wrong_people(draft, other_org_admin):
    assert api(official()).get(url(draft, "sign")).status_code == 405
    assert is_error(post(api(supplier_member(draft)), url(draft, "sign")), 403)
    assert is_error(post(api(other_org_admin), url(draft, "sign")), 404)
    assert is_error(post(api(official()), url(MISSING, "sign")), 404)
    assert Contract.objects.get(pk=draft.pk).purchaser_signed_at is None


def test_an_official_terminates_with_a_reason(active):
    assert is_error(post(api(official()), url(active, "terminate"), {"reason": ""}), 400, "reason")
    assert is_error(
        post(api(supplier_admin(active)), url(active, "terminate"), {"reason": "不干了"}), 403
    )
    response = post(api(official()), url(active, "terminate"), {"reason": "严重违约。"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "terminated"
    assert body["termination_reason"] == "严重违约。"
    assert body["payments"]["withheld"] == "480000.00"
    assert len(events(AuditAction.CONTRACT_TERMINATED)) == 1
    assert api(official()).get(url(active, "terminate")).status_code == 405


# --- Payments ------------------------------------------------------------------------------------


def test_an_official_records_the_payment_of_a_released_milestone(active, clock):
    first = Milestone.objects.get(contract=active, sequence=1)
    services.milestone_settle(milestone=first, release=True, reason="", actor=official())
    clock.set(local(2027, 1, 6, 9, 0))
    payment = milestones_url(active, first.pk, "payment")
    assert is_error(
        post(api(official()), payment, {"paid_on": "2027-01-05", "reference": ""}), 400, "reference"
    )
    assert is_error(
        post(api(supplier_admin(active)), payment, {"paid_on": "2027-01-05", "reference": "X"}), 403
    )
    response = post(api(official()), payment, {"paid_on": "2027-01-05", "reference": "GK-7"})
    assert response.status_code == 200, response.content
    assert response.json()["paid_on"] == "2027-01-05"
    assert response.json()["payment_reference"] == "GK-7"
    assert anonymous().get(milestones_url(active, first.pk)).json()["payment_reference"] is None
    assert len(events(AuditAction.MILESTONE_PAYMENT_RECORDED)) == 1
    assert api(official()).get(payment).status_code == 405


def test_a_payment_of_an_unreleased_milestone_is_refused(active):
    first = Milestone.objects.get(contract=active, sequence=1)
    response = post(
        api(official()),
        milestones_url(active, first.pk, "payment"),
        {"paid_on": "2027-01-04", "reference": "X"},
    )
    assert is_error(response, 400)


# --- Team changes --------------------------------------------------------------------------------


def newcomer(contract: Contract) -> int:
    employment = staff_add(
        organization=contract.organization,
        actor=supplier_admin(contract),
        data=StaffInput(
            name="新社工",
            id_number=make_id_number(
                region="500103", born=date(1992, 2, 2), sequence=66, male=True
            ),
            role="社工",
            start_date=date(2026, 12, 1),
        ),
    )
    return employment.person_id


def test_a_team_change_is_asked_and_approved_through_the_api(active, other_org_admin):
    person = newcomer(active)
    changes = f"{url(active)}team-changes/"
    body = {"kind": "add", "joining": person, "role": "督导", "fte": "0.50", "reason": "扩大服务。"}
    assert is_error(post(api(supplier_member(active)), changes, body), 403)
    assert is_error(post(api(other_org_admin), changes, body), 403)  # public, not theirs
    response = post(api(supplier_admin(active)), changes, body)
    assert response.status_code == 201, response.content
    change_id = response.json()["id"]
    assert response.json()["joining_name"] == "新社工"
    assert [c["id"] for c in api(official()).get(changes).json()["results"]] == [change_id]
    assert is_error(api(other_org_admin).get(changes), 404)
    approve = f"/api/v1/team-changes/{change_id}/approve/"
    assert is_error(post(api(supplier_admin(active)), approve), 403)
    assert is_error(post(api(other_org_admin), approve), 404)
    response = post(api(official()), approve)
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert ContractTeamMember.objects.filter(contract=active, person_id=person).exists()
    assert len(events(AuditAction.TEAM_CHANGE_APPROVED)) == 1
    assert is_error(post(api(official()), approve), 403)


def test_a_rejection_needs_a_note(active):
    person = newcomer(active)
    change = services.team_change_request(
        contract=active,
        actor=supplier_admin(active),
        kind="add",
        joining=person,
        role="社工",
        fte="0.5",
        reason="x",
    )
    reject = f"/api/v1/team-changes/{change.pk}/reject/"
    assert is_error(post(api(official()), reject, {}), 400, "note")
    assert post(api(official()), reject, {"note": "不同意"}).json()["status"] == "rejected"
    assert TeamChange.objects.get(pk=change.pk).status == "rejected"


def test_a_team_change_names_its_bad_fields(active):
    changes = f"{url(active)}team-changes/"
    response = post(api(supplier_admin(active)), changes, {"kind": "replace", "reason": ""})
    assert is_error(response, 400, "leaving", "joining", "reason")
    response = post(api(supplier_admin(active)), changes, {"kind": "swap", "reason": "x"})
    assert is_error(response, 400, "kind")


# --- Every role on every write route -----------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    ["official", "approver", "org_member", "assessor", "registry_admin", "auditor", "outsider"],
)
def test_every_role_is_refused_where_it_has_no_business(draft, role, outsider):
    users = {"org_member": supplier_member(draft), "outsider": outsider}
    user = users.get(role) or persona(role, Role(role))
    client = api(user)
    sees_draft = role in ("official", "approver", "org_member", "auditor")
    not_theirs = 403 if sees_draft else 404
    team = post(client, f"{url(draft)}team-changes/", {"kind": "add", "reason": "x"})
    assert is_error(team, not_theirs)
    if role not in ("official", "approver"):
        assert is_error(post(client, url(draft, "terminate"), {"reason": "x"}), not_theirs)
        assert is_error(patch(client, url(draft), {"deliverables": "x"}), not_theirs)
        assert is_error(post(client, url(draft, "sign")), not_theirs)
        assert is_error(post(client, CONTRACTS, {"tender": draft.tender_id}), 403)
    assert Contract.objects.get(pk=draft.pk).status == ContractStatus.DRAFT


# --- The schema --------------------------------------------------------------------------------

CONTRACT_PATHS = [
    "/api/v1/contracts/",
    "/api/v1/contracts/{id}/",
    "/api/v1/contracts/{id}/sign/",
    "/api/v1/contracts/{id}/terminate/",
    "/api/v1/contracts/{contract_pk}/milestones/",
    "/api/v1/contracts/{contract_pk}/milestones/{id}/",
    "/api/v1/contracts/{contract_pk}/milestones/{id}/payment/",
    "/api/v1/contracts/{contract_pk}/team-changes/",
    "/api/v1/team-changes/{id}/",
    "/api/v1/team-changes/{id}/approve/",
    "/api/v1/team-changes/{id}/reject/",
]


def test_every_contracts_resource_is_described(client, db):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    paths = response.json()["paths"]
    assert [path for path in CONTRACT_PATHS if path not in paths] == []
    assert "post" in paths["/api/v1/contracts/{id}/sign/"]
    assert "patch" in paths["/api/v1/contracts/{id}/"]
    assert set(paths["/api/v1/contracts/{contract_pk}/team-changes/"]) >= {"get", "post"}


def test_a_tender_not_awarded_is_refused_with_the_reason(signed):
    response = post(api(official()), CONTRACTS, {"tender": signed.tender_id})
    assert is_error(response, 400)
    assert "contract" in response.json()["detail"]
