"""Scoring scheme templates and the bands and rules of a tender's criteria (issue 5, point 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from evaluation.models import SchemeTemplate
from orgs_registry.models import ServiceCategory
from tenders import rules, services
from tenders.models import Tender
from tests.tenders.conftest import CRITERIA, tender_data
from tests.tenders.test_pages_workspace import english
from tests.tenders.test_pages_workspace import tender_data as page_data


@pytest.fixture
def template(category) -> SchemeTemplate:
    return SchemeTemplate.objects.get(category=category)


def _inputs(template: SchemeTemplate) -> list[rules.CriterionInput]:
    rows, problems = rules.parse_criteria(services.template_criteria(template))
    assert problems == []
    return rows


# --- The templates -------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_service_category_has_a_template_valid_for_both_methods():
    categories = set(ServiceCategory.objects.values_list("code", flat=True))
    templates = SchemeTemplate.objects.filter(is_active=True)
    assert {t.category.code for t in templates} == categories
    for template in templates:
        for method in (rules.PUBLIC_TENDER, rules.COMPETITIVE_CONSULTATION):
            assert rules.criteria_problems(method, _inputs(template)) == [], template


@pytest.mark.django_db
def test_template_subjective_criteria_describe_their_score_ranges(template):
    for criterion in template.criteria.filter(kind="subjective"):
        assert criterion.bands, criterion.code
        assert all(band["text"] for band in criterion.bands)
    objective = {c.code: c.rule["type"] for c in template.criteria.filter(kind="objective")}
    assert objective == {
        "grade": "grade",
        "social_workers": "social_workers",
        "past_performance": "past_performance",
    }


# --- Tenders from a template ---------------------------------------------------------------


def test_a_tender_drafted_from_a_template_copies_its_criteria_bands_and_rules(
    official, category, template
):
    tender = services.tender_create(
        actor=official,
        scheme_template=template,
        **tender_data(category, timezone.now(), criteria=[]),
    )
    copied = list(tender.criteria.all())
    assert [c.code for c in copied] == [c.code for c in template.criteria.all()]
    plan = next(c for c in copied if c.code == "plan")
    assert plan.bands == template.criteria.get(code="plan").bands
    assert next(c for c in copied if c.code == "grade").rule["type"] == "grade"
    assert tender.scheme_template == template.name
    assert sum(c.points for c in copied) == Decimal("100")


def test_criteria_given_with_a_template_are_adjusted_ones_and_win(official, category, template):
    tender = services.tender_create(
        actor=official, scheme_template=template, **tender_data(category, timezone.now())
    )
    assert [c.code for c in tender.criteria.all()] == [c["code"] for c in CRITERIA]


def test_a_template_of_another_category_is_refused(official, category):
    other = SchemeTemplate.objects.exclude(category=category).first()
    with pytest.raises(ValidationError) as caught:
        services.tender_create(
            actor=official, scheme_template=other, **tender_data(category, timezone.now())
        )
    assert "scheme_template" in caught.value.message_dict
    assert not Tender.objects.exists()


# --- Bands and rules are validated -----------------------------------------------------------


def _scheme(**plan_extra) -> list[dict]:
    return [
        {"code": "price", "name": "价格", "kind": "price", "points": "30"},
        {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50", **plan_extra},
        {"code": "grade", "name": "等级", "kind": "objective", "points": "20"},
    ]


def _problems(raw: list[dict]) -> list[str]:
    rows, problems = rules.parse_criteria(raw)
    with translation.override("en"):
        return problems + rules.criteria_problems(rules.PUBLIC_TENDER, rows)


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        ([{"low": "0", "high": "60", "text": "x"}], "within 0 and the criterion's points"),
        ([{"low": "30", "high": "10", "text": "x"}], "low before high"),
        ([{"low": "0", "high": "10", "text": ""}], "say what the range means"),
        (
            [{"low": "0", "high": "30", "text": "a"}, {"low": "20", "high": "50", "text": "b"}],
            "the bands overlap",
        ),
        ([{"low": "a", "high": "10", "text": "x"}], "must be numbers"),
    ],
)
def test_bad_bands_are_refused_naming_the_criterion_and_band(bands, expected):
    problems = _problems(_scheme(bands=bands))
    assert any(expected in p and "plan" in p for p in problems), problems


def test_adjacent_bands_are_accepted():
    bands = [
        {"low": "0", "high": "29.99", "text": "一般"},
        {"low": "30", "high": "50", "text": "好"},
    ]
    assert _problems(_scheme(bands=bands)) == []


def test_an_objective_criterion_takes_a_default_rule_from_its_code():
    rows, unreadable = rules.parse_criteria(_scheme())
    assert unreadable == []
    assert rows[2].rule == {"type": "grade"}


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (
            {"code": "team", "name": "团队", "kind": "objective", "points": "20"},
            "which registry data scores it",
        ),
        (
            {
                "code": "x",
                "name": "x",
                "kind": "objective",
                "points": "20",
                "rule": {"type": "age"},
            },
            "unknown rule type",
        ),
        (
            {
                "code": "sw",
                "name": "社工",
                "kind": "objective",
                "points": "20",
                "rule": {"type": "social_workers", "per_person": "2", "cap": "25"},
            },
            "the cap (25) is more than",
        ),
    ],
)
def test_an_objective_criterion_needs_a_rule_that_can_score_it(criterion, expected):
    scheme = [*_scheme()[:2], criterion]
    problems = _problems(scheme)
    assert any(expected in p for p in problems), problems


def test_only_objective_criteria_carry_a_rule():
    problems = _problems(_scheme(rule={"type": "grade"}))
    assert any("only objective criteria have a rule" in p for p in problems), problems


def test_a_bad_rule_is_refused_by_the_service_with_nothing_saved(official, category):
    team = {"code": "team", "name": "团队", "kind": "objective", "points": "20"}
    scheme = [*_scheme()[:2], team]
    with pytest.raises(ValidationError) as caught:
        services.tender_create(
            actor=official, **tender_data(category, timezone.now(), criteria=scheme)
        )
    assert "criteria" in caught.value.message_dict
    assert not Tender.objects.exists()


# --- The API -------------------------------------------------------------------------------


def test_the_api_drafts_from_a_template_and_shows_bands_and_rules(
    client_for, official, category, template
):
    data = tender_data(category, timezone.now(), criteria=[])
    body = {
        **{k: v for k, v in data.items() if k not in ("category", "budget")},
        "category": category.code,
        "budget": str(data["budget"]),
        "bid_deadline": data["bid_deadline"].isoformat(),
        "question_deadline": data["question_deadline"].isoformat(),
        "service_start": data["service_start"].isoformat(),
        "service_end": data["service_end"].isoformat(),
        "scheme_template": template.pk,
        "tie_rule": "technical",
    }
    response = client_for(official).post(
        "/api/v1/tenders/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["tie_rule"] == "technical"
    assert answer["scheme_template"] == template.name
    plan = next(c for c in answer["criteria"] if c["code"] == "plan")
    assert plan["bands"]
    assert plan["bands"][0]["text"]
    grade = next(c for c in answer["criteria"] if c["code"] == "grade")
    assert grade["rule"]["type"] == "grade"


def test_the_api_names_a_bad_band_under_criteria(client_for, official, category):
    data = tender_data(category, timezone.now())
    body = {
        "title": data["title"],
        "description": data["description"],
        "category": category.code,
        "method": "public_tender",
        "budget": "500000",
        "bid_deadline": data["bid_deadline"].isoformat(),
        "question_deadline": data["question_deadline"].isoformat(),
        "criteria": _scheme(bands=[{"low": "0", "high": "80", "text": "x"}]),
    }
    response = english(client_for(official)).post(
        "/api/v1/tenders/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert any("band 1" in p for p in response.json()["fields"]["criteria"])


# --- Pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_templates_are_listed_and_shown_with_bands(client, template):
    listing = english(client).get(reverse("evaluation:scheme_list"))
    assert listing.status_code == 200
    assert template.display_name in listing.content.decode()
    detail = client.get(reverse("evaluation:scheme_detail", args=[template.pk]))
    html = detail.content.decode()
    band_text = template.criteria.get(code="plan").bands[0]["text"]
    assert band_text in html
    assert client.get(reverse("evaluation:scheme_detail", args=[99999])).status_code == 404


def test_the_draft_page_prefills_a_templates_criteria(client_for, official, template):
    response = client_for(official).get(reverse("tenders:create") + f"?template={template.pk}")
    assert response.status_code == 200
    rows = response.context["criteria"]
    assert [f.initial["code"] for f in rows.forms if f.initial] == [
        c.code for c in template.criteria.all()
    ]
    assert response.context["form"].initial["scheme_template"] == template.pk


def test_a_draft_posted_from_a_template_keeps_bands_and_rules(client_for, official, template):
    rows = [
        {
            "code": c.code,
            "name": c.name,
            "kind": c.kind,
            "points": str(c.points),
            "rule_type": (c.rule or {}).get("type", ""),
            "description": c.description,
            "bands": json.dumps(c.bands),
            "rule": json.dumps(c.rule),
        }
        for c in template.criteria.all()
    ]
    data = page_data(template.category, criteria=rows, scheme_template=str(template.pk))
    response = client_for(official).post(reverse("tenders:create"), data)
    assert response.status_code == 302
    tender = Tender.objects.get()
    assert tender.scheme_template == template.name
    workers = tender.criteria.get(code="social_workers")
    assert workers.rule == template.criteria.get(code="social_workers").rule
    assert tender.criteria.get(code="team").bands == template.criteria.get(code="team").bands


def test_choosing_another_rule_type_on_the_page_takes_its_defaults(client_for, official, category):
    scheme = [
        {"code": "price", "name": "价格", "kind": "price", "points": "30"},
        {"code": "plan", "name": "服务方案", "kind": "subjective", "points": "50"},
        {
            "code": "staff",
            "name": "持证社工",
            "kind": "objective",
            "points": "20",
            "rule_type": "social_workers",
        },
    ]
    response = client_for(official).post(
        reverse("tenders:create"), page_data(category, criteria=scheme)
    )
    assert response.status_code == 302
    assert Tender.objects.get().criteria.get(code="staff").rule == {
        "type": "social_workers",
        "per_person": "2",
    }
