"""Tender cards on the dashboards and the tender entries in the navigation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tenders import services
from tests.tenders.conftest import make_bidder, submit_bid


def cards_of(client) -> dict[str, object]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    with translation.override("en"):
        return {str(card.title): card.value for card in response.context["cards"]}


def test_an_officials_cards_count_what_waits(client_for, clock, make_tender, official, bidders):
    make_tender(published=False)
    tender = make_tender()
    services.question_ask(tender=tender, actor=bidders[0].admin, text="问题？")
    cards = cards_of(client_for(official))
    assert cards["My draft tenders"] == 1
    assert cards["Questions to answer"] == 1
    assert cards["Tenders waiting for their opening"] == 0
    assert "Tenders waiting for my approval" not in cards
    clock.set(tender.bid_deadline)
    assert cards_of(client_for(official))["Tenders waiting for their opening"] == 1


def test_an_approver_sees_what_waits_for_approval(client_for, make_tender, official, approver):
    pending = make_tender(published=False)
    services.tender_publish(tender=pending, actor=official)
    assert cards_of(client_for(approver))["Tenders waiting for my approval"] == 1


def test_official_cards_do_not_move_with_sealed_bids(client_for, make_tender, official, approver):
    tender = make_tender()
    bidders = [make_bidder(f"投标{i}") for i in range(3)]
    before = cards_of(client_for(approver))
    for bidder in bidders:
        submit_bid(tender, bidder, "400000")
    assert cards_of(client_for(approver)) == before


def test_bids_to_review_are_counted_after_the_opening(
    client_for, clock, make_tender, official, approver, bidders
):
    tender = make_tender()
    for bidder in bidders:
        submit_bid(tender, bidder, "400000")
    clock.set(tender.bid_deadline)
    services.tender_open(tender=tender, actor=official)
    services.tender_open(tender=tender, actor=approver)
    assert cards_of(client_for(official))["Opened tenders with bids to review"] == 1


def test_an_organizations_cards_count_its_own_bids(client_for, make_tender, bidders):
    first, second = make_tender(), make_tender(title="第二个项目")
    submit_bid(first, bidders[0], "400000")
    cards = cards_of(client_for(bidders[0].member))
    assert cards["Tenders you can bid on"] == 2
    assert cards["Your bids in progress"] == 1
    # Another organization's bid is not counted.
    submit_bid(second, bidders[1], "400000")
    assert cards_of(client_for(bidders[0].member))["Your bids in progress"] == 1


@pytest.mark.parametrize("persona", ["assessor", "registry_admin", "auditor"])
def test_other_roles_get_no_tender_cards(request, client_for, make_tender, persona):
    make_tender()
    cards = cards_of(client_for(request.getfixturevalue(persona)))
    assert "Tenders you can bid on" not in cards
    assert "My draft tenders" not in cards


@pytest.mark.parametrize(
    ("persona", "visible", "hidden"),
    [
        ("official", ["tenders:list", "tenders:workspace"], ["tenders:my_bids"]),
        ("org_admin", ["tenders:list", "tenders:my_bids"], ["tenders:workspace"]),
        ("auditor", ["tenders:list"], ["tenders:workspace", "tenders:my_bids"]),
    ],
)
def test_the_navigation_follows_the_role(request, client_for, persona, visible, hidden):
    html = client_for(request.getfixturevalue(persona)).get("/").content.decode()
    nav = html[html.index('id="site-nav"') :]
    for name in visible:
        assert f'href="{reverse(name)}"' in nav, name
    for name in hidden:
        assert f'href="{reverse(name)}"' not in nav, name


def test_the_public_sees_the_tenders_entry(client, db):
    html = client.get("/").content.decode()
    assert f'href="{reverse("tenders:list")}"' in html
    assert f'href="{reverse("tenders:workspace")}"' not in html


def test_the_dashboard_costs_the_same_queries_for_more_tenders(
    client_for, make_tender, official, bidders, django_assert_max_num_queries
):
    client = client_for(official)
    make_tender()
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("dashboard"))
    for i in range(5):
        tender = make_tender(title=f"项目{i}")
        services.question_ask(tender=tender, actor=bidders[0].admin, text=f"问题{i}")
        make_tender(published=False, title=f"草稿{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("dashboard"))
