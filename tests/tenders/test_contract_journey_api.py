"""Acceptance journey of issue 6 through the API v1: a contract runs from the award to its
final evaluation and last payment, payments follow the evaluated results, and the next
tender's past-performance score comes from the final evaluation.

One test walks the whole story as its users would (the official, the supplier's
administrator and member, the public answering the survey, an independent assessor, the
registry admin) with a patched clock; the state before the contract (the awarded tender)
and the next tender's bidding and panel are built with the real services.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from evaluation.models import ObjectiveScore, PerformanceEvaluation
from marketplace.audit import audit_verify
from marketplace.models import AuditAction, Role, User
from orgs_registry.models import Employment, ServiceCategory
from tenders import services as tender_services
from tenders.models import Contract, PerformanceGrade, Tender, TenderCriterion
from tenders.services import contracts as contract_services
from tests import contract_support
from tests.conftest import Clock, persona
from tests.contract_support import ACTIVE_DAY, supplier_admin, supplier_member
from tests.evaluation.conftest import form_panel, make_assessor
from tests.evaluation.performance_support import CONCLUSION, make_assessors, scores_at
from tests.evaluation.test_api_support import (
    anonymous,
    api,
    events,
    get,
    is_error,
    patch,
    post,
    put,
)
from tests.tenders.conftest import Bidder, make_bidder, publish_tender, submit_bid
from tests.tenders.test_award import local

CONTRACTS = "/api/v1/contracts/"
EVALUATIONS = "/api/v1/performance-evaluations/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
NEXT_CRITERIA = [
    {"code": "price", "name": "价格", "kind": "price", "points": "30"},
    {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "60"},
    {"code": "performance", "name": "以往绩效", "kind": "objective", "points": "10"},
]


def contract_url(pk: int, action: str = "") -> str:
    return f"{CONTRACTS}{pk}/" + (f"{action}/" if action else "")


def evaluation_url(pk: int, action: str = "") -> str:
    return f"{EVALUATIONS}{pk}/" + (f"{action}/" if action else "")


def milestones(client: Client, contract_pk: int) -> dict[int, dict]:
    response = client.get(contract_url(contract_pk, "milestones"))
    assert response.status_code == 200, response.content
    return {row["sequence"]: row for row in response.json()["results"]}


def in_language_of_record(label) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def answer_survey(token: str, clock: Clock, phone: str, rating: int) -> dict:
    """One person answers at the site: reads the form, takes half a minute, sends it."""
    client = anonymous()
    form = client.get(f"/api/v1/surveys/{token}/")
    assert form.status_code == 200
    assert form.json()["is_open"] is True
    clock.advance(seconds=30)
    response = post(
        client,
        f"/api/v1/surveys/{token}/",
        {
            "phone": phone,
            "overall": rating,
            "quality": rating,
            "attitude": rating,
            "timeliness": rating,
            "comment": "服务很贴心",
            "started": form.json()["started"],
        },
    )
    return {"status": response.status_code, **response.json()}


def evaluate(
    clock: Clock,
    contract_pk: int,
    kind: str,
    assessor: User,
    fraction: str,
    sending: Callable[[], AbstractContextManager] = nullcontext,
) -> dict:
    """The official assigns, the assessor declares, scores and submits through the API."""
    assigned = post(
        api(contract_support.official()),
        EVALUATIONS,
        {
            "contract": contract_pk,
            "kind": kind,
            "assessor": assessor.pk,
            "due_date": (clock.current.date() + timedelta(days=20)).isoformat(),
        },
    )
    assert assigned.status_code == 201, assigned.content
    pk = assigned.json()["id"]
    assert assigned.json()["status"] == "assigned"
    desk = api(assessor)
    assert pk in {r["id"] for r in get(desk, EVALUATIONS).json()["results"]}  # in the workspace
    declared = post(desk, evaluation_url(pk, "declare"))
    assert declared.status_code == 200, declared.content
    evaluation = PerformanceEvaluation.objects.get(pk=pk)
    sheet = {
        code: {"score": str(score), "evidence": evidence}
        for code, (score, evidence) in scores_at(
            evaluation, fraction, skip_satisfaction=True
        ).items()
    }
    saved = put(desk, evaluation_url(pk, "scores"), {"scores": sheet, "conclusion": CONCLUSION})
    assert saved.status_code == 200, saved.content
    with sending():
        submitted = post(desk, evaluation_url(pk, "submit"))
    assert submitted.status_code == 200, submitted.content
    return submitted.json()


def next_tender_bidder(contract: Contract) -> Bidder:
    """The supplier bids again in the next tender, with its roster as staff."""
    people = list(
        Employment.objects.filter(organization=contract.organization)
        .order_by("pk")
        .values_list("person_id", flat=True)
    )
    admin = supplier_admin(contract)
    return Bidder(
        organization=contract.organization, admin=admin, member=admin, staff_ids=people[:2]
    )


def test_a_contract_runs_from_the_award_to_the_last_payment_and_feeds_the_next_tender(
    clock, registry_admin, other_org_admin, mailoutbox, django_capture_on_commit_callbacks
):
    official = contract_support.official()
    tender = contract_support.awarded_ready_tender(clock)  # the challenge window is over

    # --- Drawing up, changing and signing ------------------------------------------------
    drawn = post(api(official), CONTRACTS, {"tender": tender.pk})
    assert drawn.status_code == 201, drawn.content
    contract_pk = drawn.json()["id"]
    assert drawn.json()["status"] == "draft"
    assert drawn.json()["payment_split"] == "30/40/30"
    contract = Contract.objects.get(pk=contract_pk)
    admin, member = supplier_admin(contract), supplier_member(contract)
    assert [m["amount"] for m in drawn.json()["milestones"]] == [
        "144000.00",
        "192000.00",
        "144000.00",
    ]
    assert is_error(post(api(official), CONTRACTS, {"tender": tender.pk}), 400)  # one per award
    assert is_error(patch(api(admin), contract_url(contract_pk), {"deliverables": "少"}), 403)
    changed = patch(
        api(official),
        contract_url(contract_pk),
        {"deliverables": "每周上门探访高龄独居老人两次，全年助餐不少于 5000 人次。"},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["deliverables"].startswith("每周上门探访")
    assert is_error(anonymous().get(contract_url(contract_pk)), 404)  # a draft is private
    assert is_error(post(api(member), contract_url(contract_pk, "sign")), 403)
    assert post(api(official), contract_url(contract_pk, "sign")).json()["status"] == "draft"
    signed = post(api(admin), contract_url(contract_pk, "sign"))
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "signed"
    public = anonymous().get(contract_url(contract_pk)).json()
    assert public["status"] == "signed"
    assert all(m["name"].endswith("*") for m in public["team"])  # names masked
    assert "id_number" not in str(public)
    assert Tender.objects.get(pk=tender.pk).status == "contracted"

    # --- The service starts -----------------------------------------------------------------
    clock.set(ACTIVE_DAY)
    assert contract_services.contracts_start_due() == 1
    assert api(official).get(contract_url(contract_pk)).json()["status"] == "active"
    assert Tender.objects.get(pk=tender.pk).status == "in_delivery"

    # --- The first report, accepted and paid ---------------------------------------------
    clock.set(local(2027, 1, 25, 10, 0))
    first = milestones(api(member), contract_pk)[1]
    assert (first["kind"], first["status"]) == ("report", "planned")
    filed = api(member).post(
        contract_url(contract_pk, "reports"),
        {
            "milestone": first["id"],
            "period_start": "2027-01-04",
            "period_end": "2027-01-24",
            "activities": "上门探访独居老人 120 人次，助餐 860 人次。",
            "people_served": "86",
            "service_sessions": "12",
            "spending": '[{"item": "人员经费", "budget": "30000", "spent": "28000"}]',
            "uploads": [SimpleUploadedFile("活动照片.png", PNG)],
        },
    )
    assert filed.status_code == 201, filed.content
    report = filed.json()
    assert (report["status"], report["milestone_status"]) == ("submitted", "reported")
    assert [d["kind"] for d in report["documents"]] == ["photo"]
    assert is_error(post(api(admin), f"/api/v1/delivery-reports/{report['id']}/accept/"), 403)
    accepted = post(
        api(official), f"/api/v1/delivery-reports/{report['id']}/accept/", {"comment": "好"}
    )
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["milestone_status"]) == ("accepted", "paid")
    first = milestones(api(admin), contract_pk)[1]
    assert (first["status"], first["released_amount"]) == ("paid", "144000.00")

    # --- The beneficiaries answer the survey ----------------------------------------------
    site = post(
        api(official), contract_url(contract_pk, "survey-sites"), {"name": "解放碑社区服务站"}
    )
    assert site.status_code == 201, site.content
    token = site.json()["link"].rstrip("/").rsplit("/", 1)[1]
    for number, rating in enumerate([5, 5, 4, 5]):
        answered = answer_survey(token, clock, f"1380000{number:04d}", rating)
        assert answered["status"] == 201, answered
        assert answered["period"] == "2027-01"
    again = answer_survey(token, clock, "138 0000 0000", 1)  # the same phone this month
    assert (again["status"], again["error"]) == (409, "already_answered")
    satisfaction = api(official).get(contract_url(contract_pk, "satisfaction")).json()
    assert satisfaction["total"]["answers"] == 4
    assert satisfaction["total"]["rate"] == "100.0"

    # --- Mid-term evaluation by an independent assessor: released ------------------------
    clock.set(local(2027, 6, 20, 10, 0))
    assessors = {name: User.objects.get(pk=pk) for name, pk in make_assessors(contract).items()}
    conflicted = post(
        api(official),
        EVALUATIONS,
        {
            "contract": contract_pk,
            "kind": "mid_term",
            "assessor": assessors["employed"].pk,
            "due_date": "2027-07-10",
        },
    )
    assert is_error(conflicted, 400, "assessor")
    assert "employed by the supplier" in conflicted.json()["fields"]["assessor"][0]
    mid_term = evaluate(clock, contract_pk, "mid_term", assessors["independent"], "0.85")
    assert mid_term["grade"] in {"good", "excellent"}
    assert mid_term["satisfaction_rate"] == "100.0"
    assert mid_term["milestone"]["status"] == "paid"
    second = milestones(api(admin), contract_pk)[2]
    assert (second["status"], second["released_amount"]) == ("paid", "192000.00")

    # --- Final evaluation graded poor: withheld, the contract and the tender complete -----
    clock.set(local(2027, 12, 20, 10, 0))
    final = evaluate(
        clock,
        contract_pk,
        "final",
        assessors["second"],
        "0.4",
        sending=lambda: django_capture_on_commit_callbacks(execute=True),
    )
    assert final["grade"] == "poor", final["total_score"]
    assert Decimal(final["total_score"]) < 60
    assert final["milestone"]["status"] == "withheld"
    settled = milestones(api(member), contract_pk)
    third = settled[3]
    assert (third["status"], third["released_amount"], third["withheld_amount"]) == (
        "withheld",
        "0.00",
        "144000.00",
    )
    assert in_language_of_record(PerformanceGrade.POOR.label) in third["decision_reason"]
    assert final["total_score"] in third["decision_reason"]
    whole = api(admin).get(contract_url(contract_pk)).json()
    assert whole["status"] == "completed"
    assert whole["payments"] == {
        "price": "480000.00",
        "released": "336000.00",
        "withheld": "144000.00",
        "outstanding": "0.00",
    }
    assert Tender.objects.get(pk=tender.pk).status == "completed"
    # The supplier's administrator is told of the withholding (why), the completion and the
    # result; the official of the result; the registry admin of the credit proposal.
    to_admin = [m for m in mailoutbox if m.to == [admin.email]]
    assert len(to_admin) == 3
    assert any(third["decision_reason"] in m.body for m in to_admin)
    assert sorted(m.to[0] for m in mailoutbox if m not in to_admin) == [
        official.email,
        registry_admin.email,
    ]
    assert len(events(AuditAction.MILESTONE_WITHHELD)) == 1
    assert len(events(AuditAction.CONTRACT_COMPLETED)) == 1

    # --- The organization replies; the registry sees the credit proposal -----------------
    assert is_error(post(api(member), evaluation_url(final["id"], "reply"), {"reply": "x"}), 403)
    replied = post(api(admin), evaluation_url(final["id"], "reply"), {"reply": "我们将整改。"})
    assert replied.status_code == 200, replied.content
    assert replied.json()["reply"] == "我们将整改。"
    proposals = api(registry_admin).get("/api/v1/credit-proposals/").json()["results"]
    assert [(p["organization"], p["status"], p["credit_list"]) for p in proposals] == [
        (contract.organization_id, "proposed", "abnormal")
    ]
    assert contract.reference in proposals[0]["reason"]
    assert api(other_org_admin).get("/api/v1/credit-proposals/").json()["results"] == []

    # --- The public performance record shows the final result, not the mid-term -----------
    record = anonymous().get(f"/api/v1/organizations/{contract.organization_id}/performance/")
    assert record.status_code == 200
    assert record.json()["count"] == 1
    (result,) = record.json()["results"]
    assert (result["id"], result["kind"], result["grade"]) == (final["id"], "final", "poor")
    assert result["total_score"] == final["total_score"]
    assert result["reply"] == "我们将整改。"

    # --- The next tender's past-performance score comes from the final evaluation ---------
    clock.set(local(2028, 1, 10, 9, 0))
    category = ServiceCategory.objects.get(code="elderly_care")
    next_tender = publish_tender(
        official=official,
        approver=persona("approver", Role.APPROVER),
        category=category,
        criteria=NEXT_CRITERIA,
        service_start=date(2028, 4, 1),
        service_end=date(2029, 3, 31),
        title="解放碑街道居家养老服务项目（2028）",
    )
    TenderCriterion.objects.filter(tender=next_tender, code="performance").update(
        rule={"type": "past_performance", "none": "0.5"}
    )
    bids = [
        submit_bid(next_tender, bidder, price)[0]
        for bidder, price in [
            (next_tender_bidder(contract), "470000"),
            (make_bidder("新成立的服务社"), "465000"),
            (make_bidder("另一家新服务社"), "468000"),
        ]
    ]
    clock.set(next_tender.bid_deadline + timedelta(minutes=1))
    tender_services.tender_open(tender=next_tender, actor=official)
    tender_services.tender_open(tender=next_tender, actor=persona("second_official", Role.OFFICIAL))
    for bid in bids:
        bid.refresh_from_db()
        tender_services.bid_review(bid=bid, actor=official, qualified=True)
    for i in range(5):
        make_assessor(f"journey_pool{i}", agency=f"旅程第{i}评估所", categories=[category])
    form_panel(next_tender, official)
    scores = {
        s.bid.organization_id: s
        for s in ObjectiveScore.objects.filter(
            criterion__tender=next_tender, criterion__code="performance"
        ).select_related("bid")
    }
    supplier_score = scores.pop(contract.organization_id)
    assert Decimal(supplier_score.basis["mean"]) == Decimal(final["total_score"])
    assert supplier_score.score == Decimal("0")  # a poor mean earns no points
    assert [(s.basis["mean"], s.score) for s in scores.values()] == [(None, Decimal("5"))] * 2
    # (newcomers without a record: half the points)

    # --- Every step left one link of an intact audit chain ----------------------------------
    for action in (
        AuditAction.CONTRACT_DRAFTED,
        AuditAction.CONTRACT_UPDATED,
        AuditAction.DELIVERY_REPORT_FILED,
        AuditAction.DELIVERY_REPORT_ACCEPTED,
        AuditAction.SURVEY_SITE_ADDED,
        AuditAction.PERFORMANCE_REPLIED,
    ):
        assert len(events(action)) == 1, action
    assert len(events(AuditAction.PERFORMANCE_SUBMITTED)) == 2
    assert len(events(AuditAction.MILESTONE_RELEASED)) == 2
    verification = audit_verify()
    assert verification.ok, verification.problem
