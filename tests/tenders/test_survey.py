"""The beneficiary satisfaction survey: survey sites, the answer limits (one per person and
month, too fast, stale forms, the honeypot, the per-address hourly limit, closed sites,
contracts out of delivery), the phone never stored, and the satisfaction figures.

The active contract of ``tests.contract_support`` is built once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from marketplace.models import AuditAction, AuditEvent
from tenders import contracting
from tenders.models import Contract, SurveyResponse, SurveySite
from tenders.selectors import delivery as selectors
from tenders.services import contracts as contract_services
from tenders.services import surveys as services
from tests import contract_support
from tests.conftest import Clock, building, module_database
from tests.contract_support import supplier_admin, supplier_member
from tests.tenders.test_award import AWARD_DAY, local

SURVEY_DAY = local(2027, 1, 20, 10, 0)
PHONE = "13812345678"


@pytest.fixture(scope="module")
def _active_once(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[int]:
    with (
        module_database(django_db_blocker),
        building(django_db_blocker, start=AWARD_DAY, media=tmp_path_factory.mktemp("m")) as clock,
    ):
        yield contract_support.make_active_contract(clock).pk


@pytest.fixture
def contract(_active_once, db, clock: Clock) -> Contract:
    clock.set(SURVEY_DAY)
    return Contract.objects.get(pk=_active_once)


@pytest.fixture
def site(contract) -> SurveySite:
    return services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="解放碑社区日间照料中心"
    )


def answer(site: SurveySite, clock: Clock, **overrides):
    """Open the form, wait 30 seconds, send it."""
    token = services.survey_form_token(site)
    clock.advance(seconds=30)
    data = {
        "site": SurveySite.objects.get(pk=site.pk),
        "phone": PHONE,
        "overall": 5,
        "quality": 4,
        "attitude": 5,
        "timeliness": 4,
        "comment": "服务很周到。",
        "address": "10.0.0.1",
        "started_at": token,
    }
    data.update(overrides)
    return services.survey_answer(**data)


def refusal(site: SurveySite, clock: Clock, **overrides) -> ValidationError:
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        answer(site, clock, **overrides)
    return exc.value


# --- Sites ----------------------------------------------------------------------------------


def test_an_official_adds_a_site_with_an_unguessable_link(site):
    assert site.is_open
    assert len(site.token) >= 20
    assert site.get_absolute_url() == f"/survey/{site.token}/"
    event = AuditEvent.objects.get(action=AuditAction.SURVEY_SITE_ADDED)
    assert event.object_id == str(site.pk)
    assert event.details["name"] == "解放碑社区日间照料中心"


def test_the_suppliers_admin_adds_a_site(contract):
    added = services.survey_site_add(
        contract=contract, actor=supplier_admin(contract), name="较场口社区"
    )
    assert added.contract_id == contract.pk


@pytest.mark.parametrize("who", ["other_org_admin", "outsider", "assessor", "auditor"])
def test_others_cannot_add_sites(contract, who, request):
    with pytest.raises(PermissionDenied):
        services.survey_site_add(
            contract=contract, actor=request.getfixturevalue(who), name="某社区"
        )


def test_a_member_of_the_supplier_cannot_add_sites(contract):
    with pytest.raises(PermissionDenied):
        services.survey_site_add(contract=contract, actor=supplier_member(contract), name="x")


def test_a_site_needs_a_name_unique_in_the_contract(contract, site):
    official = contract_support.official()
    with pytest.raises(ValidationError) as blank:
        services.survey_site_add(contract=contract, actor=official, name="  ")
    assert "name" in blank.value.message_dict
    with pytest.raises(ValidationError) as twice:
        services.survey_site_add(contract=contract, actor=official, name=site.name)
    assert "name" in twice.value.message_dict


def test_sites_of_a_terminated_contract_cannot_be_changed(contract, site):
    official = contract_support.official()
    contract_services.contract_terminate(contract=contract, actor=official, reason="违约")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.survey_site_add(contract=contract, actor=official, name="新站点")
    assert exc.value.code == "invalid_state"
    with pytest.raises(ValidationError):
        services.survey_site_close(site=site, actor=official)


def test_closing_and_reopening_a_site_is_audited(site, clock):
    official = contract_support.official()
    services.survey_site_close(site=site, actor=official)
    assert refusal(site, clock).code == "closed"
    with pytest.raises(ValidationError):
        services.survey_site_close(site=site, actor=official)
    services.survey_site_open(site=site, actor=official)
    assert answer(site, clock).pk
    actions = list(
        AuditEvent.objects.filter(object_type="tenders.surveysite", object_id=str(site.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.SURVEY_SITE_ADDED,
        AuditAction.SURVEY_SITE_CLOSED,
        AuditAction.SURVEY_SITE_OPENED,
    ]


# --- Answers --------------------------------------------------------------------------------


def test_an_answer_is_stored_without_the_phone_or_the_address(site, clock):
    response = answer(site, clock, phone="+86 138-1234-5678", address="203.0.113.9")

    assert response.period == "2027-01"
    assert (response.overall, response.quality, response.attitude, response.timeliness) == (
        5,
        4,
        5,
        4,
    )
    stored = SurveyResponse.objects.filter(pk=response.pk).values().get()
    flat = " ".join(str(value) for value in stored.values())
    assert PHONE not in flat
    assert "5678" not in stored["respondent"]
    assert "203.0.113.9" not in flat
    assert len(stored["respondent"]) == 64
    assert len(stored["address"]) == 64


def test_answers_are_not_in_the_audit_log(site, clock):
    answer(site, clock, address="203.0.113.9")
    assert not AuditEvent.objects.filter(object_type="tenders.surveyresponse").exists()


def test_the_same_phone_is_refused_again_in_the_same_month_even_at_another_site(
    contract, site, clock
):
    answer(site, clock)
    other = services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="较场口社区"
    )
    error = refusal(other, clock, phone="138 1234 5678", address="10.0.0.2")
    assert error.code == "already_answered"
    assert "this month" in error.messages[0]
    assert SurveyResponse.objects.count() == 1


def test_the_same_phone_answers_again_next_month(site, clock):
    answer(site, clock)
    clock.set(local(2027, 2, 3, 10, 0))
    again = answer(site, clock)
    assert again.period == "2027-02"


def test_a_form_sent_faster_than_a_person_can_is_refused(site, clock):
    token = services.survey_form_token(site)
    clock.advance(seconds=contracting.SURVEY_MIN_SECONDS - 1)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.survey_answer(
            site=site,
            phone=PHONE,
            overall=5,
            quality=5,
            attitude=5,
            timeliness=5,
            address="10.0.0.1",
            started_at=token,
        )
    assert exc.value.code == "too_fast"


def test_a_form_older_than_a_day_is_refused(site, clock):
    token = services.survey_form_token(site)
    clock.advance(days=1, seconds=1)
    assert refusal(site, clock, started_at=token).code == "stale_form"


def test_a_forged_or_foreign_form_token_is_refused(contract, site, clock):
    other = services.survey_site_add(
        contract=contract, actor=contract_support.official(), name="较场口社区"
    )
    foreign = services.survey_form_token(other, now=SURVEY_DAY - timedelta(minutes=5))
    assert refusal(site, clock, started_at=foreign).code == "stale_form"
    assert refusal(site, clock, started_at="forged").code == "stale_form"


def test_the_honeypot_refuses_scripts(site, clock):
    assert refusal(site, clock, honeypot="http://spam.example").code == "bot"
    assert not SurveyResponse.objects.exists()


def test_too_many_answers_from_one_address_in_an_hour_are_refused(site, clock, monkeypatch):
    monkeypatch.setattr(contracting, "SURVEY_ANSWERS_PER_ADDRESS_PER_HOUR", 2)
    answer(site, clock, phone="13800000001")
    answer(site, clock, phone="13800000002")
    error = refusal(site, clock, phone="13800000003")
    assert error.code == "rate_limited"
    assert answer(site, clock, phone="13800000004", address="10.9.9.9").pk
    clock.advance(hours=1)
    assert answer(site, clock, phone="13800000005").pk


def test_a_closed_site_takes_no_answers(site, clock):
    services.survey_site_close(site=site, actor=contract_support.official())
    assert refusal(site, clock).code == "closed"


def test_a_contract_out_of_delivery_takes_no_answers(contract, site, clock):
    contract_services.contract_terminate(
        contract=contract, actor=contract_support.official(), reason="违约"
    )
    assert refusal(site, clock).code == "closed"


@pytest.mark.parametrize(
    "phone", ["12812345678", "1381234567", "138123456789", "021-12345678", "", "abc"]
)
def test_only_an_eleven_digit_mainland_mobile_is_accepted(site, clock, phone):
    error = refusal(site, clock, phone=phone)
    assert "11-digit" in error.message_dict["phone"][0]


def test_full_width_digits_are_read_as_a_mobile_number():
    assert services.normalize_mobile("１３８１２３４５６７８") == PHONE
    assert services.normalize_mobile("0086 13812345678") == PHONE


def test_each_rating_is_checked_on_its_field(site, clock):
    error = refusal(site, clock, overall=0, quality=6, attitude="x", timeliness=None)
    assert set(error.message_dict) == {"overall", "quality", "attitude", "timeliness"}


def test_a_phone_number_written_in_a_comment_is_masked(site, clock):
    response = answer(site, clock, comment="有事请打我电话 139-8765-4321 或 13912345678。")
    assert response.comment == "有事请打我电话 139****4321 或 139****5678。"


def test_a_long_comment_is_refused(site, clock):
    error = refusal(site, clock, comment="好" * (services.COMMENT_MAX + 1))
    assert "comment" in error.message_dict


# --- Satisfaction ---------------------------------------------------------------------------


def fill(site: SurveySite, clock: Clock, overall_ratings: list[int]) -> None:
    for number, rating in enumerate(overall_ratings):
        answer(
            site,
            clock,
            phone=f"1390000{number:04d}",
            overall=rating,
            address=f"10.1.{number}.1",
        )


def test_the_satisfaction_figures_match_the_pure_rule(contract, site, clock):
    ratings = [5, 4, 4, 3, 2, 5, 1]
    fill(site, clock, ratings)

    result = selectors.contract_satisfaction(contract)

    assert result == contracting.satisfaction(ratings)
    assert result.answers == 7
    assert result.rate == Decimal("57.1")
    assert result.mean == Decimal("3.43")


def test_satisfaction_takes_one_query(contract, site, clock, django_assert_num_queries):
    fill(site, clock, [5, 4, 3])
    with django_assert_num_queries(1):
        selectors.contract_satisfaction(contract)


def test_no_answers_give_no_figures(contract):
    assert selectors.contract_satisfaction(contract) == contracting.Satisfaction(0, None, None)


def test_satisfaction_until_a_day_counts_that_day_whole(contract, site, clock):
    fill(site, clock, [5, 5])
    clock.set(local(2027, 2, 10, 23, 0))
    fill(site, clock, [1])

    assert selectors.contract_satisfaction(contract, until=date(2027, 1, 31)).answers == 2
    assert selectors.contract_satisfaction(contract, until=date(2027, 2, 10)).answers == 3
    assert selectors.contract_satisfaction(contract, until=date(2027, 2, 9)).answers == 2


def test_the_results_give_each_period_and_the_distribution(contract, site, clock):
    fill(site, clock, [5, 4, 2])
    clock.set(local(2027, 2, 10, 10, 0))
    fill(site, clock, [3])
    official = contract_support.official()

    results = selectors.satisfaction_results(official, contract)

    assert [p.period for p in results.periods] == ["2027-02", "2027-01"]
    assert results.periods[1].satisfaction.rate == Decimal("66.7")
    assert results.periods[1].means["quality"] == Decimal("4.00")
    assert [bar.count for bar in results.bars] == [0, 1, 1, 1, 1]
    assert results.total.answers == 4
    assert {c.comment for c in results.comments} == {"服务很周到。"}


def test_the_results_take_the_same_queries_however_many_answers(
    contract, site, clock, django_assert_max_num_queries
):
    fill(site, clock, [5, 4, 3, 2, 1, 5, 4, 3])
    official = contract_support.official()
    with django_assert_max_num_queries(4):
        selectors.satisfaction_results(official, contract)
