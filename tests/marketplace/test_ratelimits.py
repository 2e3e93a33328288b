"""Rate limits of the forms anyone may post to: registration per client address, questions
per account, on the pages (429 page, nothing saved) and through the API (429 in the error
format)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

from marketplace.models import Role, User
from orgs_registry.models import Organization, ServiceCategory
from tenders.models import Question
from tests.conftest import persona
from tests.tenders.conftest import make_bidder, publish_tender

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_registrations_beyond_the_rate_get_the_429_page_and_save_nothing(client, settings):
    settings.RATE_REGISTER = "2/h"
    url = reverse("orgs_registry:register")
    english(client)
    before = Organization.objects.count()
    for _ in range(2):
        assert client.post(url, {"name": "x"}).status_code != 429
    refused = client.post(url, {"name": "x"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert Organization.objects.count() == before
    assert client.get(url).status_code == 200  # reading the form is not limited


def test_another_address_is_counted_apart(client, settings):
    settings.RATE_REGISTER = "1/h"
    url = reverse("orgs_registry:register")
    assert client.post(url, {}, REMOTE_ADDR="10.0.0.1").status_code != 429
    assert client.post(url, {}, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.post(url, {}, REMOTE_ADDR="10.0.0.2").status_code != 429


def test_questions_beyond_the_rate_are_refused_per_account(client_for, settings):
    settings.RATE_QUESTION = "1/h"
    tender = publish_tender(
        official=persona("official", Role.OFFICIAL),
        approver=persona("approver", Role.APPROVER),
        category=ServiceCategory.objects.get(code="elderly_care"),
    )
    first, second = make_bidder("限流测试甲"), make_bidder("限流测试乙")
    url = reverse("tenders:question_ask", args=[tender.pk])
    asking = english(client_for(first.admin))
    assert asking.post(url, {"question-text": "服务对象的人数是多少？"}).status_code in (200, 302)
    refused = asking.post(url, {"question-text": "服务时间能否调整？"})
    assert refused.status_code == 429
    assert Question.objects.filter(tender=tender).count() == 1
    other = client_for(second.admin).post(url, {"question-text": "是否需要社工证？"})
    assert other.status_code in (200, 302)
    assert Question.objects.filter(tender=tender).count() == 2


def test_the_api_limits_self_registration_with_the_error_format(client_for, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/hour", "question": "30/hour"}
    )
    # A signed-in person without a role may register an organization (and becomes its admin).
    newcomer = User.objects.create_user(username="newcomer", password="x-long-enough-password")
    client = client_for(newcomer)
    url = reverse("api:organization-list")
    for _ in range(2):
        assert client.post(url, {}, content_type="application/json").status_code == 400
    refused = client.post(url, {}, content_type="application/json")
    assert refused.status_code == 429
    assert refused.json()["error"]
    assert client.get(url).status_code == 200  # reads are not limited by the scope
