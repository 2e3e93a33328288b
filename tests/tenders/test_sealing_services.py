"""The seal at the level of reads: selectors, the audit log, the admin site."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse

from marketplace.models import AuditEvent, Role, User
from marketplace.selectors import audit_event_get_for_user, audit_event_list_for_user
from tenders import selectors, services
from tests.conftest import make_user
from tests.tenders.conftest import submit_bid


@pytest.fixture
def tender(make_tender):
    return make_tender()


def bid_events(user):
    events, _filter = audit_event_list_for_user(user, filters={})
    return [e for e in events if e.action.startswith("bid.")]


@pytest.mark.parametrize(
    "persona", ["official", "approver", "assessor", "auditor", "registry_admin"]
)
def test_nobody_lists_or_reads_sealed_bids(request, tender, bidders, persona):
    bid, _receipt = submit_bid(tender, bidders[0], "480000")
    user = request.getfixturevalue(persona)
    if persona in {"official", "approver", "assessor", "auditor"}:
        with pytest.raises(PermissionDenied):
            selectors.bid_list_for_user(user, tender)
    else:
        assert list(selectors.bid_list_for_user(user, tender)) == []
    with pytest.raises(Http404):
        selectors.bid_get_for_user(user, bid.pk)
    with pytest.raises(Http404):
        selectors.bid_content_for_user(user, bid)
    with pytest.raises(Http404):
        selectors.receipt_list_for_user(user, bid)


def test_other_organizations_see_only_their_own_bid(tender, bidders):
    mine, _r = submit_bid(tender, bidders[0], "480000")
    theirs, _r = submit_bid(tender, bidders[1], "470000")
    assert list(selectors.bid_list_for_user(bidders[0].member, tender)) == [mine]
    assert list(selectors.bid_list_for_user(bidders[1].admin, tender)) == [theirs]


def test_the_audit_log_hides_bid_events_until_the_opening(
    clock, tender, bidders, official, auditor
):
    bids = [submit_bid(tender, b, p)[0] for b, p in zip(bidders, ["1", "2", "3"], strict=True)]
    assert bid_events(auditor) == []
    hidden = AuditEvent.objects.filter(action="bid.submitted").first()
    with pytest.raises(Http404):
        audit_event_get_for_user(auditor, hidden.sequence)

    second = make_user("official_two", Role.OFFICIAL)
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=second)
    shown = bid_events(auditor)
    assert {e.action for e in shown} >= {"bid.prepared", "bid.submitted", "bid.opened"}
    assert audit_event_get_for_user(auditor, hidden.sequence)[0] == hidden
    assert len(bids) == 3


def test_the_admin_site_hides_bid_events_and_bids_too(tender, bidders):
    submit_bid(tender, bidders[0], "480000")
    root = User.objects.create_superuser("root", "root@example.cn", "a-Strong-passw0rd")
    client = Client()
    client.force_login(root)
    html = client.get("/admin/marketplace/auditevent/").content.decode()
    assert "bid.submitted" not in html
    assert client.get("/admin/tenders/bid/").status_code == 404
    assert reverse("admin:index")


def test_keys_rotate_and_old_ones_still_decrypt(settings, tender, bidders):
    from cryptography.fernet import Fernet
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from tenders import sealing
    from tenders.models import Bid, BidDocument

    old = Fernet.generate_key().decode()
    settings.BID_ENCRYPTION_KEYS = [old]
    bid = services.bid_prepare(tender=tender, actor=bidders[0].admin, price=480000)
    services.bid_document_add(
        bid=bid,
        actor=bidders[0].admin,
        upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    new = Fernet.generate_key().decode()
    settings.BID_ENCRYPTION_KEYS = [new, old]
    assert selectors.bid_content_for_user(bidders[0].admin, bid).price == 480000
    call_command("rotate_bid_keys", stdout=io.StringIO())
    settings.BID_ENCRYPTION_KEYS = [new]
    bid = Bid.objects.get(pk=bid.pk)
    assert selectors.bid_content_for_user(bidders[0].admin, bid).price == 480000
    document = BidDocument.objects.get()
    assert selectors.bid_document_for_download(bidders[0].admin, document.pk)[2].startswith(b"%PDF")
    settings.BID_ENCRYPTION_KEYS = [old]
    with pytest.raises(sealing.SealError):
        sealing.unseal_json(bid.sealed)


def test_the_embargo_hides_bid_events_only(tender, bidders, auditor):
    before = {e.sequence for e in audit_event_list_for_user(auditor, filters={})[0]}
    submit_bid(tender, bidders[0], "480000")
    after, _filter = audit_event_list_for_user(auditor, filters={})
    visible = {e.sequence for e in after}
    assert before <= visible, "events about other things stay visible"
    assert not [e for e in after if e.action.startswith("bid.")]
