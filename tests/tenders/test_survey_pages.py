"""The public survey page: no sign-in, CSRF on, usable without script, Chinese first; each
refusal has its own page and status (answered this month 409, address limit 429, closed
403, too fast and honeypot refused).

The active contract of ``tests.contract_support`` is built once for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tenders import contracting
from tenders.models import Contract, SurveyResponse, SurveySite
from tenders.services import contracts as contract_services
from tenders.services import surveys as survey_services
from tests import contract_support
from tests.conftest import Clock, building, module_database
from tests.tenders.test_award import AWARD_DAY, local

SURVEY_DAY = local(2027, 1, 20, 10, 0)


@pytest.fixture(scope="module")
def _active_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.make_active_contract(clock).pk


@pytest.fixture
def site(_active_once, db, clock: Clock) -> SurveySite:
    clock.set(SURVEY_DAY)
    contract = Contract.objects.get(pk=_active_once)
    return survey_services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="解放碑社区日间照料中心"
    )


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(site: SurveySite) -> str:
    return reverse("tenders:survey", args=[site.token])


def started(html: str) -> str:
    match = re.search(r'name="started" value="([^"]+)"', html)
    assert match, "the form carries its signed start"
    return match.group(1)


def answer(client: Client, site: SurveySite, clock: Clock, **overrides):
    token = started(client.get(url(site)).content.decode())
    clock.advance(seconds=20)
    data = {
        "overall": "5",
        "quality": "4",
        "attitude": "5",
        "timeliness": "4",
        "comment": "服务很好",
        "phone": "13812345678",
        "website": "",
        "started": token,
    }
    data.update(overrides)
    return client.post(url(site), data)


def test_the_survey_opens_without_signing_in_in_chinese_first(site):
    response = Client().get(url(site))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert "解放碑社区日间照料中心" in html
    assert 'type="radio"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'aria-hidden="true"' in html  # the honeypot is hidden from people
    assert "<script" not in html.split("<main", 1)[1]


def test_an_answer_is_thanked_and_stored_without_the_phone(site, clock):
    client = english(Client())
    response = answer(client, site, clock)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Thank you!" in html
    stored = SurveyResponse.objects.get()
    assert stored.overall == 5
    assert "13812345678" not in str(SurveyResponse.objects.values().get())


def test_the_same_person_this_month_gets_the_friendly_page(site, clock):
    client = english(Client())
    answer(client, site, clock)
    response = answer(client, site, clock, phone="+86 138 1234 5678")
    assert response.status_code == 409
    assert "answered this survey this month already" in response.content.decode()
    assert SurveyResponse.objects.count() == 1


def test_next_month_the_same_person_answers_again(site, clock):
    client = Client()
    answer(client, site, clock)
    clock.set(local(2027, 2, 1, 9, 0))
    assert answer(client, site, clock).status_code == 200
    assert SurveyResponse.objects.count() == 2


def test_a_form_sent_too_fast_is_shown_again_with_the_reason(site, clock):
    client = english(Client())
    token = started(client.get(url(site)).content.decode())
    clock.advance(seconds=1)
    response = client.post(
        url(site),
        {
            "overall": "5",
            "quality": "5",
            "attitude": "5",
            "timeliness": "5",
            "phone": "13812345678",
            "started": token,
        },
    )
    assert response.status_code == 400
    assert "sent too quickly" in response.content.decode()
    assert started(response.content.decode()) != token  # a fresh start for the retry
    assert not SurveyResponse.objects.exists()


def test_the_honeypot_refuses_scripts(site, clock):
    response = answer(english(Client()), site, clock, website="http://spam.example")
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_address_limit_gets_its_page(site, clock, monkeypatch):
    monkeypatch.setattr(contracting, "SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR", 1)
    client = english(Client())
    answer(client, site, clock, phone="13800000001")
    response = answer(client, site, clock, phone="13800000002")
    assert response.status_code == 429
    assert "Too many answers" in response.content.decode()


def test_field_problems_are_shown_on_the_form(site, clock):
    client = english(Client())
    response = answer(client, site, clock, phone="12345")
    assert response.status_code == 400
    assert "11-digit mainland mobile number" in response.content.decode()
    unrated = answer(client, site, clock, overall="")
    assert unrated.status_code == 400
    assert "This field is required." in unrated.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_closed_site_says_so(site, clock):
    survey_services.survey_site_close(site=site, actor=contract_support.official())
    client = english(Client())
    response = client.get(url(site))
    assert response.status_code == 403
    assert "not taking answers" in response.content.decode()
    assert client.post(url(site), {}).status_code == 403


def test_a_contract_out_of_delivery_takes_no_answers(site):
    contract_services.contract_terminate(
        contract=site.contract, actor=contract_support.official(), reason="违约"
    )
    assert Client().get(url(site)).status_code == 403


def test_an_unknown_link_is_404(db):
    assert Client().get(reverse("tenders:survey", args=["no-such-link"])).status_code == 404


def test_csrf_is_checked(site, clock):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url(site), {"overall": "5"}).status_code == 403


def test_only_get_and_post(site):
    assert Client().put(url(site)).status_code == 405
