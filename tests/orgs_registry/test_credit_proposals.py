"""Credit proposals: raised by other parts of the system, decided only by the registry."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from marketplace.models import AuditAction, AuditEvent
from orgs_registry import services
from orgs_registry.models import CreditList, CreditProposal

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
