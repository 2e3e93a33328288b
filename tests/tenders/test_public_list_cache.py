"""The anonymous-only cache of the public tender pages (tenders.page_cache).

The suite runs with the cache off (PUBLIC_PAGE_CACHE_SECONDS=0, pyproject.toml); these
tests turn it on. They check what it must never do: serve a signed-in user's page, a
draft or a sealed value, keep a page after its tender changed, or hand every visitor the
same CSRF token.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tenders import services
from tenders.page_cache import CSRF_PLACEHOLDER
from tests.tenders.conftest import make_bidder

LIST = reverse("tenders:list")
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def detail(tender) -> str:
    return reverse("tenders:detail", args=[tender.pk])


def served_from_cache(client: Client, url: str, django_assert_num_queries) -> bytes:
    """The page, asserting that it cost no query (the stored copy)."""
    with django_assert_num_queries(0):
        response = client.get(url)
    assert response.status_code == 200
    return response.content


def test_an_anonymous_visitor_gets_the_stored_list_without_a_query(
    client, make_tender, django_assert_num_queries
):
    tender = make_tender(title="社区助餐服务项目")
    first = client.get(LIST)
    assert tender.title in first.content.decode()

    again = served_from_cache(Client(), LIST, django_assert_num_queries)

    assert tender.title in again.decode()


def test_a_tender_page_is_stored_too(client, make_tender, django_assert_num_queries):
    tender = make_tender(title="高龄老人探访项目")
    client.get(detail(tender))

    page = served_from_cache(Client(), detail(tender), django_assert_num_queries)

    assert tender.title in page.decode()


def test_a_new_tender_shows_in_the_list_at_once(client, make_tender):
    make_tender(title="第一个项目")
    client.get(LIST)

    make_tender(title="第二个项目")

    assert "第二个项目" in client.get(LIST).content.decode()


def test_an_answer_to_a_question_shows_on_the_tender_page_at_once(
    client, make_tender, official, bidders
):
    tender = make_tender()
    question = services.question_ask(tender=tender, actor=bidders[0].admin, text="是否含节假日？")
    assert "是否含节假日" not in client.get(detail(tender)).content.decode()

    services.question_answer(question=question, actor=official, answer="含法定节假日。")

    assert "含法定节假日。" in client.get(detail(tender)).content.decode()


def test_a_signed_in_users_page_is_neither_served_from_the_cache_nor_stored(
    client, client_for, make_tender, official
):
    make_tender(title="已发布的项目")
    draft = make_tender(published=False, title="尚未发布的草稿项目")
    client.get(LIST)  # the public's list, stored

    officials_list = client_for(official).get(LIST).content.decode()
    public_list = client.get(LIST).content.decode()

    # The official sees the draft and their own header; the public sees neither.
    assert draft.title in officials_list
    assert official.get_full_name() in officials_list
    assert draft.title not in public_list
    assert official.get_full_name() not in public_list
    assert client.get(detail(draft)).status_code == 404


def test_a_bidders_own_bid_never_reaches_the_public_page(
    client, client_for, make_tender, django_assert_num_queries
):
    """That an organization has a bid is sealed: its page says so, the public's never."""
    tender = make_tender()
    bidder = make_bidder("缓存测试机构")
    services.bid_prepare(tender=tender, actor=bidder.admin, price=Decimal("456789.00"))
    bidders_page = client_for(bidder.admin).get(detail(tender)).content.decode()
    assert 'id="org-heading"' in bidders_page
    assert "bid-status-draft" in bidders_page

    fresh = client.get(detail(tender)).content.decode()
    stored = served_from_cache(Client(), detail(tender), django_assert_num_queries).decode()

    for page in (fresh, stored):
        assert 'id="org-heading"' not in page
        assert "bid-status-" not in page
        assert bidder.admin.get_full_name() not in page


def test_a_sealed_submission_does_not_empty_the_cache(
    client, make_tender, django_assert_num_queries
):
    """Nothing about a bid is public before the opening, so a rush of submissions leaves
    the stored pages in place."""
    tender = make_tender()
    bidder = make_bidder("冲刺测试机构")
    bid = services.bid_prepare(tender=tender, actor=bidder.admin, price=Decimal("400000.00"))
    client.get(LIST)

    services.bid_submit(bid=bid, actor=bidder.admin)

    served_from_cache(Client(), LIST, django_assert_num_queries)


def test_every_visitor_gets_a_csrf_token_of_their_own(client, make_tender):
    make_tender()
    client.get(LIST)
    visitor = Client(enforce_csrf_checks=True)

    page = visitor.get(LIST).content  # the stored copy
    tokens = TOKEN.findall(page)

    assert CSRF_PLACEHOLDER.encode() not in page
    assert len(tokens) == 1
    # The token belongs to this visitor's cookie: the language switch accepts it.
    switched = visitor.post(
        reverse("set_language"),
        {"language": "en", "next": LIST, "csrfmiddlewaretoken": tokens[0].decode()},
    )
    assert switched.status_code == 302


def test_languages_and_htmx_requests_are_stored_apart(client, make_tender):
    make_tender()
    client.get(LIST)
    english = Client()
    english.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    page = english.get(LIST).content.decode()
    partial = Client().get(LIST, headers={"HX-Request": "true"}).content.decode()

    assert "Tenders" in page
    assert "<html" not in partial
    assert "<html" in Client().get(LIST).content.decode()


def test_a_page_is_not_stored_past_a_deadline_it_shows(client, make_tender, clock):
    tender = make_tender()
    clock.set(tender.bid_deadline - timedelta(milliseconds=500))
    client.get(detail(tender))

    clock.set(tender.bid_deadline + timedelta(seconds=1))
    page = client.get(detail(tender)).content.decode()

    # Rendered again after the deadline: bids are no longer accepted.
    assert "tender-status-closed" in page


API_LIST = "/api/v1/tenders/"


def test_the_api_directory_is_stored_for_anonymous_callers(
    client, make_tender, django_assert_max_num_queries
):
    tender = make_tender(title="接口缓存项目")
    client.get(API_LIST)

    # The stored answer: not one query.
    with django_assert_max_num_queries(0):
        again = Client().get(API_LIST)

    assert [row["title"] for row in again.json()["results"]] == [tender.title]


def test_the_api_directory_shows_a_new_tender_at_once(client, make_tender):
    make_tender(title="第一个接口项目")
    client.get(API_LIST)

    make_tender(title="第二个接口项目")

    titles = [row["title"] for row in client.get(API_LIST).json()["results"]]
    assert "第二个接口项目" in titles


def test_a_token_callers_directory_is_neither_served_from_the_cache_nor_stored(
    client, make_tender, official
):
    from rest_framework.authtoken.models import Token

    make_tender(title="公开的接口项目")
    draft = make_tender(published=False, title="接口里的草稿")
    client.get(API_LIST)
    token = Token.objects.create(user=official)

    officials = Client().get(API_LIST, headers={"Authorization": f"Token {token.key}"}).json()
    public = client.get(API_LIST).json()

    assert draft.title in [row["title"] for row in officials["results"]]
    assert draft.title not in [row["title"] for row in public["results"]]
