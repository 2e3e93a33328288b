"""Credit proposals: raised by other parts of the system, decided only by the registry."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry import selectors, services
from orgs_registry.models import CreditEntry, CreditList, CreditProposal, Organization
from orgs_registry.selectors import org_eligibility

SOURCE = "绩效评价 PE-12（终期，差）"


def propose(organization, actor, **extra) -> CreditProposal:
    return services.credit_proposal_create(
        organization=organization,
        credit_list=extra.pop("credit_list", CreditList.ABNORMAL),
        reason=extra.pop("reason", "终期绩效评价等级为差"),
        source=extra.pop("source", SOURCE),
        actor=actor,
        **extra,
    )


def test_an_assessor_proposes_a_credit_entry_and_the_registry_is_told(
    organization, assessor, registry_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = propose(organization, assessor, source_url="/evaluation/performance/12/")
    assert (proposal.status, proposal.credit_list, proposal.proposed_by) == (
        "proposed",
        "abnormal",
        assessor,
    )
    assert proposal.source_url == "/evaluation/performance/12/"
    [event] = AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSED)
    assert event.object_id == str(proposal.pk)
    assert event.details["source"] == SOURCE
    assert [message.to for message in mail.outbox] == [[registry_admin.email]]
    assert organization.name in mail.outbox[0].subject


def test_a_second_proposal_from_the_same_source_returns_the_open_one(organization, assessor):
    first = propose(organization, assessor)
    again = propose(organization, assessor, reason="另一个理由")
    assert again.pk == first.pk
    assert CreditProposal.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSED).count() == 1


def test_another_source_makes_another_proposal(organization, assessor):
    first = propose(organization, assessor)
    second = propose(organization, assessor, source="绩效评价 PE-13（终期，差）")
    assert first.pk != second.pk


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("credit_list", {"credit_list": "blacklist"}),
        ("reason", {"reason": "  "}),
        ("source", {"source": ""}),
    ],
)
def test_a_proposal_without_list_reason_or_source_is_refused(organization, assessor, field, extra):
    with pytest.raises(ValidationError) as caught:
        propose(organization, assessor, **extra)
    assert field in caught.value.message_dict
    assert not CreditProposal.objects.exists()


@pytest.mark.parametrize("persona", ["org_admin", "org_member", "auditor", "outsider"])
def test_an_organization_user_or_auditor_cannot_propose(organization, request, persona):
    with pytest.raises(PermissionDenied):
        propose(organization, request.getfixturevalue(persona))
    assert not CreditProposal.objects.exists()


# --- Deciding ----------------------------------------------------------------------------------


@pytest.fixture
def proposal(organization, assessor) -> CreditProposal:
    return propose(organization, assessor)


@pytest.fixture
def serious_proposal(organization, assessor) -> CreditProposal:
    return propose(organization, assessor, credit_list=CreditList.SERIOUS, source="诚信核查 2026-7")


def test_confirming_lists_the_organization_through_the_credit_service(proposal, registry_admin):
    decided = services.credit_proposal_decide(
        proposal=proposal, actor=registry_admin, confirm=True, note="核实无误"
    )
    assert (decided.status, decided.decided_by, decided.decision_note) == (
        "confirmed",
        registry_admin,
        "核实无误",
    )
    entry = CreditEntry.objects.get(organization=proposal.organization)
    assert decided.entry == entry
    assert (entry.credit_list, entry.reason, entry.source, entry.is_active) == (
        "abnormal",
        proposal.reason,
        SOURCE,
        True,
    )
    [event] = AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSAL_CONFIRMED)
    assert (event.object_id, event.state_before, event.state_after) == (
        str(proposal.pk),
        "proposed",
        "confirmed",
    )
    assert AuditEvent.objects.filter(action=AuditAction.CREDIT_ENTRY_ADDED).count() == 1


def test_a_confirmed_abnormal_entry_makes_the_organization_abnormal_and_warns_panels(
    proposal, registry_admin
):
    services.credit_proposal_decide(proposal=proposal, actor=registry_admin, confirm=True)
    organization = Organization.objects.get(pk=proposal.organization_id)
    assert organization.status == "abnormal"
    eligibility = org_eligibility(organization)
    assert eligibility.eligible
    assert [issue.code for issue in eligibility.warnings] == ["abnormal_activity"]


def test_a_confirmed_serious_entry_bars_the_organization_from_bidding(
    serious_proposal, registry_admin
):
    assert org_eligibility(serious_proposal.organization).eligible
    services.credit_proposal_decide(proposal=serious_proposal, actor=registry_admin, confirm=True)
    eligibility = org_eligibility(Organization.objects.get(pk=serious_proposal.organization_id))
    assert not eligibility.eligible
    assert [issue.code for issue in eligibility.failures] == ["serious_dishonesty"]


def test_rejecting_needs_a_note_and_lists_nobody(proposal, registry_admin):
    with pytest.raises(ValidationError) as caught:
        services.credit_proposal_decide(proposal=proposal, actor=registry_admin, confirm=False)
    assert "note" in caught.value.message_dict
    decided = services.credit_proposal_decide(
        proposal=proposal, actor=registry_admin, confirm=False, note="评价结论有误，已复核"
    )
    assert (decided.status, decided.entry) == ("rejected", None)
    assert not CreditEntry.objects.exists()
    [event] = AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSAL_REJECTED)
    assert event.details["note"] == "评价结论有误，已复核"


def test_a_decided_proposal_cannot_be_decided_again(proposal, registry_admin):
    services.credit_proposal_decide(proposal=proposal, actor=registry_admin, confirm=True)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        services.credit_proposal_decide(proposal=proposal, actor=registry_admin, confirm=True)
    assert "Confirmed" in caught.value.messages[0]
    assert CreditEntry.objects.count() == 1


def test_after_a_decision_the_same_source_may_propose_again(proposal, registry_admin, assessor):
    services.credit_proposal_decide(
        proposal=proposal, actor=registry_admin, confirm=False, note="不予列入"
    )
    again = propose(proposal.organization, assessor)
    assert again.pk != proposal.pk
    assert again.status == "proposed"


@pytest.mark.parametrize(
    "persona", ["official", "assessor", "auditor", "org_admin", "other_org_admin"]
)
def test_only_the_registry_decides(proposal, request, persona):
    with pytest.raises(PermissionDenied):
        services.credit_proposal_decide(
            proposal=proposal, actor=request.getfixturevalue(persona), confirm=True
        )
    assert CreditProposal.objects.get(pk=proposal.pk).status == "proposed"
    assert not CreditEntry.objects.exists()


# --- Reads -------------------------------------------------------------------------------------


def test_the_registry_and_auditors_read_every_proposal_an_org_admin_only_its_own(
    proposal,
    other_organization,
    assessor,
    registry_admin,
    auditor,
    org_admin,
    other_org_admin,
    org_member,
    official,
):
    theirs = propose(other_organization, assessor)
    assert set(selectors.credit_proposal_list_for_user(registry_admin)) == {proposal, theirs}
    assert set(selectors.credit_proposal_list_for_user(auditor)) == {proposal, theirs}
    assert list(selectors.credit_proposal_list_for_user(org_admin)) == [proposal]
    assert list(selectors.credit_proposal_list_for_user(other_org_admin)) == [theirs]
    for user in (org_member, official, assessor, AnonymousUser()):
        assert not selectors.credit_proposal_list_for_user(user).exists()
    with pytest.raises(Http404):
        selectors.credit_proposal_get_for_user(other_org_admin, proposal.pk)


# --- Pages -------------------------------------------------------------------------------------


def test_the_registry_sees_the_waiting_proposals(client_for, registry_admin, proposal):
    response = client_for(registry_admin).get(reverse("orgs_registry:credit_proposals"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [proposal]
    assert proposal.organization.name in response.content.decode()


def test_the_registry_dashboard_and_queue_count_the_waiting_proposals(
    client_for, registry_admin, proposal
):
    client = client_for(registry_admin)
    assert (
        client.get(reverse("orgs_registry:registry_home")).context["credit_proposals_waiting"] == 1
    )
    assert (
        reverse("orgs_registry:credit_proposals")
        in client.get(reverse("dashboard")).content.decode()
    )


def test_an_auditor_reads_the_proposals_without_a_decision_form(client_for, auditor, proposal):
    client = client_for(auditor)
    assert client.get(reverse("orgs_registry:credit_proposals")).status_code == 200
    response = client.get(reverse("orgs_registry:credit_proposal_detail", args=[proposal.pk]))
    assert response.status_code == 200
    assert not response.context["can_decide"]
    assert reverse("orgs_registry:credit_proposal_decide", args=[proposal.pk]) not in (
        response.content.decode()
    )


@pytest.mark.parametrize("persona", ["org_admin", "org_member", "official", "assessor"])
def test_only_the_registry_and_auditors_open_the_proposal_queue(request, client_for, persona):
    response = client_for(request.getfixturevalue(persona)).get(
        reverse("orgs_registry:credit_proposals")
    )
    assert response.status_code == 403


def test_the_proposal_pages_need_a_sign_in(client, proposal):
    for url in (
        reverse("orgs_registry:credit_proposals"),
        reverse("orgs_registry:credit_proposal_detail", args=[proposal.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_organization_admin_sees_its_proposal_on_its_own_pages(client_for, org_admin, proposal):
    client = client_for(org_admin)
    overview = client.get(reverse("orgs_registry:manage", args=[proposal.organization_id]))
    assert list(overview.context["credit_proposals"]) == [proposal]
    detail = client.get(reverse("orgs_registry:credit_proposal_detail", args=[proposal.pk]))
    assert detail.status_code == 200
    assert not detail.context["can_decide"]


@pytest.mark.parametrize("persona", ["other_org_admin", "org_member", "official", "assessor"])
def test_someone_elses_proposal_is_not_found(request, client_for, persona, proposal):
    client = client_for(request.getfixturevalue(persona))
    url = reverse("orgs_registry:credit_proposal_detail", args=[proposal.pk])
    assert client.get(url).status_code == 404
    decide = reverse("orgs_registry:credit_proposal_decide", args=[proposal.pk])
    assert client.post(decide, {"decision": "confirm"}).status_code == 404
    assert CreditProposal.objects.get(pk=proposal.pk).status == "proposed"


def test_the_public_profile_never_shows_a_proposal(client, proposal):
    response = client.get(reverse("orgs_registry:profile", args=[proposal.organization_id]))
    assert response.status_code == 200
    assert proposal.reason not in response.content.decode()


def test_the_registry_confirms_a_proposal_on_its_page(client_for, registry_admin, proposal):
    client = client_for(registry_admin)
    url = reverse("orgs_registry:credit_proposal_decide", args=[proposal.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"decision": "confirm", "note": ""})
    assert response.status_code == 302
    assert response.url == reverse("orgs_registry:credit_proposals")
    proposal.refresh_from_db()
    assert proposal.status == "confirmed"
    assert proposal.entry is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.CREDIT_PROPOSAL_CONFIRMED, object_id=str(proposal.pk)
    ).exists()


def test_rejecting_on_the_page_without_a_note_shows_the_error(client_for, registry_admin, proposal):
    client = client_for(registry_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("orgs_registry:credit_proposal_decide", args=[proposal.pk])
    response = client.post(url, {"decision": "reject", "note": " "})
    assert response.status_code == 200
    assert "Say why the proposal is rejected." in response.content.decode()
    assert CreditProposal.objects.get(pk=proposal.pk).status == "proposed"


@pytest.mark.parametrize("persona", ["auditor", "org_admin"])
def test_readers_of_a_proposal_cannot_decide_it_on_the_page(request, client_for, persona, proposal):
    client = client_for(request.getfixturevalue(persona))
    url = reverse("orgs_registry:credit_proposal_decide", args=[proposal.pk])
    assert client.post(url, {"decision": "confirm"}).status_code == 403
    assert CreditProposal.objects.get(pk=proposal.pk).status == "proposed"


def test_the_proposal_queue_takes_a_constant_number_of_queries(
    client_for, registry_admin, assessor, organization, django_assert_max_num_queries
):
    client = client_for(registry_admin)
    for number in range(3):
        propose(organization, assessor, source=f"来源 {number}")
    url = reverse("orgs_registry:credit_proposals") + "?status=all"
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for number in range(3, 12):
        propose(organization, assessor, source=f"来源 {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 12


# --- API ---------------------------------------------------------------------------------------

API = "/api/v1/credit-proposals/"


def api_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def test_the_api_lists_proposals_scoped_to_the_caller(
    proposal, other_organization, assessor, registry_admin, org_admin, auditor
):
    theirs = propose(other_organization, assessor)
    body = api_client(registry_admin).get(API).json()
    assert {row["id"] for row in body["results"]} == {proposal.pk, theirs.pk}
    assert {row["id"] for row in api_client(auditor).get(API).json()["results"]} == {
        proposal.pk,
        theirs.pk,
    }
    [row] = api_client(org_admin).get(API).json()["results"]
    assert (row["id"], row["status"], row["credit_list"]) == (proposal.pk, "proposed", "abnormal")
    assert api_client(org_admin).get(f"{API}{theirs.pk}/").status_code == 404


def test_the_api_needs_a_sign_in(proposal):
    assert Client().get(API).status_code in (401, 403)
    assert api_post(Client(), f"{API}{proposal.pk}/confirm/").status_code in (401, 403)


def test_the_registry_confirms_through_the_api(proposal, registry_admin):
    client = api_client(registry_admin)
    url = f"{API}{proposal.pk}/confirm/"
    assert client.get(url).status_code == 405
    response = api_post(client, url, {"note": "核实无误"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["entry"] == CreditEntry.objects.get().pk
    assert AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSAL_CONFIRMED).count() == 1
    again = api_post(client, url)
    assert again.status_code == 400
    assert set(again.json()) >= {"error", "detail"}


def test_rejecting_through_the_api_needs_a_note(proposal, registry_admin):
    client = api_client(registry_admin)
    url = f"{API}{proposal.pk}/reject/"
    response = api_post(client, url)
    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    response = api_post(client, url, {"note": "不予列入"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert AuditEvent.objects.filter(action=AuditAction.CREDIT_PROPOSAL_REJECTED).count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("auditor", 403), ("org_admin", 403), ("other_org_admin", 404), ("official", 404)],
)
def test_only_the_registry_decides_through_the_api(request, persona, status, proposal):
    client = api_client(request.getfixturevalue(persona))
    for verb in ("confirm", "reject"):
        response = api_post(client, f"{API}{proposal.pk}/{verb}/", {"note": "x"})
        assert response.status_code == status, (verb, response.content)
    assert CreditProposal.objects.get(pk=proposal.pk).status == "proposed"


def test_the_proposal_api_takes_a_constant_number_of_queries(
    registry_admin, assessor, organization, django_assert_max_num_queries
):
    client = api_client(registry_admin)
    propose(organization, assessor, source="来源 0")
    client.get(API)
    with django_assert_max_num_queries(12) as few:
        client.get(API)
    for number in range(1, 10):
        propose(organization, assessor, source=f"来源 {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(API)
    assert response.json()["count"] == 10


def test_the_organization_admins_are_told_of_the_decision(
    proposal, registry_admin, org_admin, org_member, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.credit_proposal_decide(
            proposal=proposal, actor=registry_admin, confirm=False, note="不予列入"
        )
    assert [message.to for message in mail.outbox] == [[org_admin.email]]
    assert "不予列入" in mail.outbox[0].body


def test_the_organization_admins_are_told_when_it_is_listed(
    proposal, registry_admin, org_admin, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.credit_proposal_decide(proposal=proposal, actor=registry_admin, confirm=True)
    [message] = mail.outbox
    assert message.to == [org_admin.email]
    assert proposal.organization.name in message.body
    assert proposal.reason in message.body
