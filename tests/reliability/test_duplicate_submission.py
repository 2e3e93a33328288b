"""One bid submitted 200 times at once by its organization (double clicks, retries, a
client that resends on a timeout), through the bid page and the API, on PostgreSQL: 16
threads start on a barrier and send the 200 requests between them (the database's 100
connections are shared by everything running).

``bid_submit`` locks the tender and then the bid; a bid already submitted answers with the
receipt it has (DESIGN.md section 6). Exactly one submission, receipt and audit event may
come out of it, and every request gets a clean answer naming that one receipt. The first
save of the draft is raced first: one organization, one bid, and one caller told it made
it (201).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlparse

import pytest
from django.contrib.messages import get_messages
from django.urls import resolve, reverse

from marketplace.models import AuditAction, AuditEvent
from tenders.models import Bid, BidReceipt, BidStatus
from tests.reliability.support import (
    bulk_bidders,
    client_as,
    session_keys,
    together,
    warm_handler,
)

pytestmark = pytest.mark.postgresql

SUBMITS = 200
# First saves of one draft: only the first wave races to create it, the rest change it.
FIRST_SAVES = 48


def _page_receipt(response) -> str:
    """The receipt a page submission redirected to, with the success message it left."""
    assert response.status_code == 302, response.status_code
    match = resolve(urlparse(response["Location"]).path)
    assert match.url_name == "receipt"
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
    return str(match.kwargs["receipt_pk"])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_draft_saved_and_submitted_many_times_at_once_is_one_bid_and_one_submission(
    make_tender,
):
    tender = make_tender()
    (admin,) = bulk_bidders(1, body_prefix="62")
    session = session_keys([admin])[admin.pk]
    handler = warm_handler()

    # The first save, many times at once through the API.
    def prepare(i: int):
        return client_as(handler, session).post(
            f"/api/v1/tenders/{tender.pk}/bids/",
            {"price": f"{400000 + i}.00", "proposal": "服务方案：每周上门两次。"},
            content_type="application/json",
        )

    race = together([lambda i=i: prepare(i) for i in range(FIRST_SAVES)])

    assert race.errors() == []
    answers = Counter(response.status_code for response in race.values)
    # One draft made (201), every other call changed that same draft (200).
    assert answers == {201: 1, 200: FIRST_SAVES - 1}
    bid = Bid.objects.get(tender=tender, organization=admin.organization)
    assert {response.json()["id"] for response in race.values} == {str(bid.pk)}
    prepared = AuditEvent.objects.filter(action=AuditAction.BID_PREPARED, object_id=str(bid.pk))
    assert prepared.count() == FIRST_SAVES

    # The submission, SUBMITS times at once, half through the page and half the API.
    page = reverse("tenders:bid_submit", args=[bid.pk])
    api = f"/api/v1/bids/{bid.pk}/submit/"

    def submit(through_api: bool):
        client = client_as(handler, session)
        return through_api, client.post(api if through_api else page)

    race = together([lambda i=i: submit(bool(i % 2)) for i in range(SUBMITS)])

    assert race.errors() == []  # no exception escaped a request (a 500 would raise)
    receipt = BidReceipt.objects.get(bid=bid)
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.SUBMITTED
    events = AuditEvent.objects.filter(action=AuditAction.BID_SUBMITTED, object_id=str(bid.pk))
    assert list(events.values_list("sequence", flat=True)) == [receipt.sequence]
    # Every request, first or not, is told about the one receipt.
    pages = [response for through_api, response in race.values if not through_api]
    apis = [response for through_api, response in race.values if through_api]
    assert len(pages) + len(apis) == SUBMITS
    assert {_page_receipt(response) for response in pages} == {str(receipt.pk)}
    assert Counter(response.status_code for response in apis) == {200: len(apis)}
    assert {response.json()["receipt"]["sequence"] for response in apis} == {receipt.sequence}
