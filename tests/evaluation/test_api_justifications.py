"""API v1 price justifications (87号令 Art. 60): the bidder with an abnormally low price
explains it in writing (with an optional document, served only as an attachment), the
panel's chair decides."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation.models import JustificationStatus, PriceJustification
from marketplace.models import AuditAction, Role, User
from tenders.models import BidStatus
from tests.conftest import building, module_database, persona
from tests.evaluation.conftest import active_members, declare_all, form_panel
from tests.evaluation.test_api_support import (
    BUILT_AT,
    PDF,
    Evaluated,
    Shared,
    anonymous,
    api,
    build_opened,
    build_personas,
    build_pool,
    events,
    is_error,
    post,
)

LOW_PRICES = ["480000", "450000", "470000", "300000"]
LIST = "/api/v1/price-justifications/"
MISSING = 999_999
TEXT = "人员由志愿者补充，场地由社区免费提供。"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def url(target: PriceJustification | int, action: str = "") -> str:
    pk = target if isinstance(target, int) else target.pk
    return f"{LIST}{pk}/" + (f"{action}/" if action else "")


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Shared]:
    """Built once for the module (each test rolls back to it): the pool of twelve experts
    and an opened tender whose fourth bid (300000) is below 80% of the others' mean, its
    panel formed (the low price flagged, its justification requested) and every member
    declared."""
    with (
        module_database(django_db_blocker),
        building(
            django_db_blocker, start=BUILT_AT, media=tmp_path_factory.mktemp("media")
        ) as clock,
    ):
        build_personas()
        shared = Shared(pool=build_pool())
        shared.opened["low"] = build_opened(clock, prices=LOW_PRICES)
        official = persona("official", Role.OFFICIAL)
        shared.panels["low"] = declare_all(form_panel(shared.opened["low"].tender, official))
        yield shared.done(clock)


@pytest.fixture
def pool(_built, db) -> list[User]:
    """The shared pool, re-read for this test."""
    return _built.fresh_pool()


@pytest.fixture
def low(_built, db, clock) -> Evaluated:
    """The tender with the low price, re-read; the clock where the build left it."""
    clock.set(_built.built_until)
    return _built.evaluated("low")


@pytest.fixture
def low_panel(low):
    """The panel formed (the low price flagged) and every member declared: scoring."""
    return low.panel


@pytest.fixture
def justification(low) -> PriceJustification:
    return PriceJustification.objects.get(bid__tender=low.tender)


@pytest.fixture
def cheap(low):
    """The bidder with the abnormally low price."""
    return low.bidders[3]


def chair_of(panel):
    return next(m.user for m in active_members(panel) if m.user_id == panel.chair_id)


def submitted(justification, cheap) -> PriceJustification:
    response = post(api(cheap.admin), url(justification, "submit"), {"text": TEXT})
    assert response.status_code == 200, response.content
    justification.refresh_from_db()
    return justification


def pdf(name: str = "成本测算说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- Reading ----------------------------------------------------------------------------------


def test_the_office_lists_the_tenders_justifications(low, justification, official):
    response = api(official).get(LIST, {"tender": low.tender.pk})

    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    assert row["id"] == justification.pk
    assert row["bid"] == str(low.bids[3].pk)
    assert (row["status"], row["status_label"]) == ("requested", "Justification requested")
    assert (row["price"], row["others_mean"], row["ratio"]) == ("300000.00", "466666.6667", "0.80")
    assert row["document"] is None


def test_a_bidder_lists_its_own_justification_only(low, justification, cheap, low_panel):
    assert api(cheap.member).get(LIST, {"tender": low.tender.pk}).json()["count"] == 1
    assert api(low.bidders[0].admin).get(LIST, {"tender": low.tender.pk}).json()["count"] == 0
    member = active_members(low_panel)[0].user
    assert api(member).get(LIST, {"tender": low.tender.pk}).json()["count"] == 1


def test_the_list_needs_a_tender_and_a_signed_in_caller(justification, official):
    assert is_error(api(official).get(LIST), 400, "tender")
    assert is_error(anonymous().get(LIST), 401)


def test_another_bidder_reads_no_justification_a_404_like_a_missing_one(low, justification):
    client = api(low.bidders[0].admin)
    response = client.get(url(justification))
    missing = client.get(url(MISSING))
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


# --- Submitting -------------------------------------------------------------------------------


def test_the_bidders_admin_submits_a_written_justification(justification, cheap):
    response = post(api(cheap.admin), url(justification, "submit"), {"text": TEXT})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["text"], body["document"]) == ("submitted", TEXT, None)
    (event,) = events(AuditAction.LOW_PRICE_JUSTIFIED)
    assert event.actor_id == cheap.admin.pk


def test_a_justification_with_a_document_is_downloaded_as_an_attachment(
    justification, cheap, official, low
):
    response = api(cheap.admin).post(
        url(justification, "submit"), {"text": TEXT, "document": pdf()}
    )

    assert response.status_code == 200, response.content
    document = response.json()["document"]
    assert document["name"] == "成本测算说明.pdf"
    assert len(document["sha256"]) == 64
    download = api(official).get(document["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    # Another bidder: a 404 like a missing document.
    client = api(low.bidders[0].admin)
    refused = client.get(document["download"])
    missing = client.get(url(MISSING, "document"))
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()


def test_without_a_document_there_is_nothing_to_download(justification, official):
    assert is_error(api(official).get(url(justification, "document")), 404)
    assert post(api(official), url(justification, "document"), {}).status_code == 405


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text": ""}, "text"),
        ({}, "text"),
        ({"text": TEXT, "document": "exe"}, "document"),
    ],
    ids=["blank", "missing", "executable"],
)
def test_a_bad_justification_names_the_field_and_saves_nothing(justification, cheap, data, field):
    if data.get("document") == "exe":
        data = {**data, "document": SimpleUploadedFile("说明.pdf", EXECUTABLE)}
        response = api(cheap.admin).post(url(justification, "submit"), data)
    else:
        response = post(api(cheap.admin), url(justification, "submit"), data)

    assert is_error(response, 400, field), response.content
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED
    assert (justification.text, justification.document.name) == ("", "")
    assert events(AuditAction.LOW_PRICE_JUSTIFIED) == []


@pytest.mark.parametrize("who", ["member", "official"])
def test_only_the_bidders_admin_submits(request, justification, cheap, who):
    user = cheap.member if who == "member" else request.getfixturevalue("official")

    response = post(api(user), url(justification, "submit"), {"text": TEXT})

    assert is_error(response, 403)
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.REQUESTED


def test_another_bidder_submits_nothing_a_404_like_a_missing_one(low, justification):
    client = api(low.bidders[1].admin)
    response = post(client, url(justification, "submit"), {"text": TEXT})
    missing = post(client, url(MISSING, "submit"), {"text": TEXT})
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    assert events(AuditAction.LOW_PRICE_JUSTIFIED) == []


def test_submitting_needs_a_signed_in_caller_and_a_post(justification, cheap):
    assert is_error(post(anonymous(), url(justification, "submit"), {"text": TEXT}), 401)
    assert api(cheap.admin).get(url(justification, "submit")).status_code == 405


# --- The panel's decision ---------------------------------------------------------------------


def test_the_chair_accepts_a_justification(justification, cheap, low_panel):
    submitted(justification, cheap)

    response = post(
        api(chair_of(low_panel)),
        url(justification, "decide"),
        {"accept": True, "note": "成本测算合理。"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decision_note"]) == ("accepted", "成本测算合理。")
    (decided,) = events(AuditAction.LOW_PRICE_DECIDED)
    assert decided.actor_id == low_panel.chair_id
    justification.bid.refresh_from_db()
    assert justification.bid.status == BidStatus.QUALIFIED


def test_a_rejected_justification_makes_the_bid_invalid(justification, cheap, low_panel):
    submitted(justification, cheap)

    response = post(
        api(chair_of(low_panel)),
        url(justification, "decide"),
        {"accept": False, "note": "无法保证服务质量。"},
    )

    assert response.json()["status"] == "rejected"
    assert len(events(AuditAction.BID_INVALIDATED)) == 1
    justification.bid.refresh_from_db()
    assert justification.bid.status == BidStatus.DISQUALIFIED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"accept": True, "note": ""}, "note"),
        ({"note": "理由"}, "accept"),
        ({"accept": "ja"}, "accept"),
    ],
)
def test_a_bad_decision_names_the_field_and_changes_nothing(
    justification, cheap, low_panel, data, field
):
    submitted(justification, cheap)

    response = post(api(chair_of(low_panel)), url(justification, "decide"), data)

    assert is_error(response, 400, field), response.content
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.SUBMITTED
    assert events(AuditAction.LOW_PRICE_DECIDED) == []


def test_only_the_chair_decides(request, justification, cheap, low_panel):
    submitted(justification, cheap)
    member = next(m.user for m in active_members(low_panel) if m.user_id != low_panel.chair_id)
    for user in (member, cheap.admin, request.getfixturevalue("official")):
        response = post(api(user), url(justification, "decide"), {"accept": True, "note": "可"})
        assert is_error(response, 403), user
    justification.refresh_from_db()
    assert justification.status == JustificationStatus.SUBMITTED


def test_an_assessor_off_the_panel_decides_nothing_a_404_like_a_missing_one(
    justification, low_panel, pool
):
    seated = set(low_panel.members.values_list("user_id", flat=True))
    stranger = next(user for user in pool if user.pk not in seated)
    client = api(stranger)
    response = post(client, url(justification, "decide"), {"accept": True, "note": "可"})
    missing = post(client, url(MISSING, "decide"), {"accept": True, "note": "可"})
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_deciding_needs_a_signed_in_caller_and_a_post(justification, low_panel):
    assert is_error(post(anonymous(), url(justification, "decide"), {"accept": True}), 401)
    assert api(chair_of(low_panel)).get(url(justification, "decide")).status_code == 405
