"""Grade assessments (民政部令第39号): eligibility, lifecycle, cut-offs, expiry and downgrades."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone, translation

from marketplace.models import AuditAction, AuditEvent
from orgs_registry import services
from orgs_registry.identifiers import make_uscc
from orgs_registry.models import (
    DEFAULT_CUTOFFS,
    CreditList,
    GradeAssessment,
    GradeAssessmentStatus,
    IndicatorSet,
    Organization,
)
from orgs_registry.selectors import grade_current, grade_eligibility, with_current_grade

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' messages in English (the site default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def today(monkeypatch):
    """Control the registry's calendar: the services read timezone.localdate()."""
    state = {"day": TODAY}
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: state["day"])

    def move(day: date) -> date:
        state["day"] = day
        return day

    return move


@pytest.fixture
def graded_org(registry_admin) -> Organization:
    return services.organization_create(
        name="渝中区阳光社工服务中心",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="80000001"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2018, 6, 1),
    )


@pytest.fixture
def graded_admin(graded_org):
    from marketplace.models import Role
    from tests.conftest import make_user

    return make_user("graded_admin", Role.ORG_ADMIN, graded_org)


def full_scores(assessment: GradeAssessment, fraction: Decimal) -> dict:
    return {
        i.code: ((Decimal(i.max_points) * fraction).quantize(Decimal("0.1")), "")
        for i in assessment.indicator_set.indicators.all()
    }


def run_to_publicized(org, admin, registry_admin, assessor, fraction=Decimal("0.86")):
    assessment = services.grade_request(organization=org, actor=admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    assessment.refresh_from_db()
    services.grade_scores_save(
        assessment=assessment,
        actor=assessor,
        scores=full_scores(assessment, fraction),
        comment="制度健全，服务规范",
    )
    services.grade_propose(assessment=assessment, actor=assessor)
    return services.grade_publicize(assessment=assessment, actor=registry_admin, days=7)


def test_the_shipped_indicator_sets_are_complete(db):
    sets = IndicatorSet.objects.filter(is_current=True)
    assert {s.kind for s in sets} == {"social_group", "social_service_agency", "foundation"}
    for indicator_set in sets:
        assert indicator_set.problems() == []
        assert indicator_set.cutoff_table() == DEFAULT_CUTOFFS


def test_a_set_that_does_not_add_up_reports_it(db):
    indicator_set = IndicatorSet.objects.get(kind="foundation", is_current=True)
    indicator_set.indicators.filter(code="B1").update(max_points=25)
    indicator_set.cutoffs = {"4A": 950}
    assert indicator_set.problems() == [
        "indicators add up to 1005 points, not 1000",
        "grade cut-offs must rise strictly from 1A to 5A",
    ]


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (1000, "5A"),
        (900, "5A"),
        (899.9, "4A"),
        (800, "4A"),
        (700, "3A"),
        (600, "2A"),
        (500, "1A"),
        (499.9, ""),
    ],
)
def test_cutoffs_map_totals_to_grades(total, grade):
    assert services.grade_for_score(Decimal(str(total)), DEFAULT_CUTOFFS) == grade


def test_configurable_cutoffs_are_used(db):
    cutoffs = {**DEFAULT_CUTOFFS, "5A": 950}
    assert services.grade_for_score(Decimal("920"), cutoffs) == "4A"


def test_the_full_lifecycle_with_a_review(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(graded_org, graded_admin, registry_admin, assessor)
    assert assessment.status == GradeAssessmentStatus.PUBLICIZED
    assert assessment.total_score == Decimal("860.0")
    assert assessment.proposed_grade == "4A"
    assert assessment.notice_ends == TODAY + timedelta(days=7)

    today(TODAY + timedelta(days=3))
    services.grade_review_request(
        assessment=assessment, actor=graded_admin, reason="财务指标漏计审计报告"
    )
    corrected = {"G4": (Decimal("160"), "审计报告已补充")}
    assessment = services.grade_review_conclude(
        assessment=assessment,
        actor=registry_admin,
        conclusion="补计审计报告，财务资产管理满分",
        scores=corrected,
    )
    assert assessment.status == GradeAssessmentStatus.REVIEWED
    assert assessment.total_score > Decimal("860")

    assessment = services.grade_confirm(assessment=assessment, actor=registry_admin)
    assert assessment.status == GradeAssessmentStatus.CONFIRMED
    assert assessment.grade == "4A"
    assert assessment.valid_from == TODAY + timedelta(days=3)
    assert assessment.valid_until == date(2031, 11, 27)
    assert grade_current(graded_org, on=TODAY + timedelta(days=3)) == assessment

    actions = list(
        AuditEvent.objects.filter(object_type="orgs_registry.gradeassessment")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        AuditAction.GRADE_REQUESTED,
        AuditAction.GRADE_ASSIGNED,
        AuditAction.GRADE_SCORED,
        AuditAction.GRADE_PROPOSED,
        AuditAction.GRADE_PUBLICIZED,
        AuditAction.GRADE_REVIEW_REQUESTED,
        AuditAction.GRADE_REVIEWED,
        AuditAction.GRADE_CONFIRMED,
    ]


def test_confirmation_waits_for_the_end_of_the_notice(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(graded_org, graded_admin, registry_admin, assessor)
    with pytest.raises(ValidationError, match="public notice runs until"):
        services.grade_confirm(assessment=assessment, actor=registry_admin)
    today(TODAY + timedelta(days=8))
    assert services.grade_confirm(assessment=assessment, actor=registry_admin).grade == "4A"


def test_no_review_after_the_notice_period(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(graded_org, graded_admin, registry_admin, assessor)
    today(TODAY + timedelta(days=8))
    with pytest.raises(ValidationError, match="notice period ended"):
        services.grade_review_request(assessment=assessment, actor=graded_admin, reason="x")


def test_a_result_below_1a_confirms_without_a_grade(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(
        graded_org, graded_admin, registry_admin, assessor, fraction=Decimal("0.4")
    )
    assert assessment.proposed_grade == ""
    today(TODAY + timedelta(days=8))
    services.grade_confirm(assessment=assessment, actor=registry_admin)
    assert grade_current(graded_org, on=TODAY + timedelta(days=8)) is None


def test_proposing_needs_every_indicator(today, graded_org, graded_admin, registry_admin, assessor):
    assessment = services.grade_request(organization=graded_org, actor=graded_admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    services.grade_scores_save(
        assessment=assessment, actor=assessor, scores={"B1": (Decimal("20"), "")}
    )
    with pytest.raises(ValidationError, match="Score every indicator first"):
        services.grade_propose(assessment=assessment, actor=assessor)


def test_scores_stay_within_their_indicator(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = services.grade_request(organization=graded_org, actor=graded_admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    with pytest.raises(ValidationError) as error:
        services.grade_scores_save(
            assessment=assessment,
            actor=assessor,
            scores={"B1": (Decimal("21"), ""), "ZZ": (Decimal("1"), "")},
        )
    assert set(error.value.message_dict) == {"B1", "ZZ"}
    assert not assessment.scores.exists()


def test_only_the_assigned_assessor_scores(
    today, graded_org, graded_admin, registry_admin, assessor
):
    from marketplace.models import Role
    from tests.conftest import make_user

    other = make_user("assessor2", Role.ASSESSOR)
    assessment = services.grade_request(organization=graded_org, actor=graded_admin)
    services.grade_assign(assessment=assessment, actor=registry_admin, assessor=assessor)
    for actor in (other, graded_admin, registry_admin):
        with pytest.raises(PermissionDenied):
            services.grade_scores_save(
                assessment=assessment, actor=actor, scores={"B1": (Decimal("20"), "")}
            )


def test_only_an_assessor_can_be_assigned(graded_org, graded_admin, registry_admin, official):
    assessment = services.grade_request(organization=graded_org, actor=graded_admin)
    with pytest.raises(ValidationError) as error:
        services.grade_assign(assessment=assessment, actor=registry_admin, assessor=official)
    assert "assessor" in error.value.message_dict


# --- Eligibility ---------------------------------------------------------------------------------


def test_two_full_years_of_registration_are_needed(today, registry_admin):
    young = services.organization_create(
        name="新成立机构",
        uscc=make_uscc(authority="5", category="2", region="500103", org_body="80000002"),
        actor=registry_admin,
        verified=True,
        registration_date=date(2025, 1, 10),
    )
    problems = [str(p) for p in grade_eligibility(young, on=TODAY)]
    assert problems == [
        "Organizations are graded after two full years of registration (from 2027-01-10)."
    ]
    assert grade_eligibility(young, on=date(2027, 1, 10)) == []


def test_a_credit_list_entry_prevents_grading(today, graded_org, graded_admin, registry_admin):
    services.credit_entry_add(
        organization=graded_org,
        actor=registry_admin,
        credit_list=CreditList.ABNORMAL,
        reason="未年检",
        source="渝中区民政局",
        listed_on=TODAY,
    )
    graded_org.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.grade_request(organization=graded_org, actor=graded_admin)
    assert "The organization is on a credit list." in error.value.messages


def test_one_assessment_at_a_time_and_not_while_a_grade_holds(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(graded_org, graded_admin, registry_admin, assessor)
    with pytest.raises(ValidationError, match="already in progress"):
        services.grade_request(organization=graded_org, actor=graded_admin)
    today(TODAY + timedelta(days=8))
    services.grade_confirm(assessment=assessment, actor=registry_admin)
    with pytest.raises(ValidationError, match="valid until"):
        services.grade_request(organization=graded_org, actor=graded_admin)


def test_other_orgs_cannot_request_a_grade_for_you(graded_org, other_org_admin):
    with pytest.raises(PermissionDenied):
        services.grade_request(organization=graded_org, actor=other_org_admin)


# --- Expiry, replacement, downgrade, cancellation -------------------------------------------------


@pytest.fixture
def confirmed(today, graded_org, graded_admin, registry_admin, assessor) -> GradeAssessment:
    assessment = run_to_publicized(
        graded_org, graded_admin, registry_admin, assessor, fraction=Decimal("0.92")
    )
    today(TODAY + timedelta(days=8))
    return services.grade_confirm(assessment=assessment, actor=registry_admin)


def test_grades_expire_after_five_years(today, confirmed, graded_org):
    assert confirmed.grade == "5A"
    last_day = confirmed.valid_until
    today(last_day)
    assert services.grades_expire() == 0
    assert grade_current(graded_org, on=last_day) == confirmed

    today(last_day + timedelta(days=1))
    out = io.StringIO()
    call_command("expire_grades", stdout=out)
    assert "1 grade(s) expired" in out.getvalue()
    confirmed.refresh_from_db()
    assert confirmed.status == GradeAssessmentStatus.EXPIRED
    assert grade_current(graded_org, on=last_day + timedelta(days=1)) is None
    assert grade_eligibility(graded_org, on=last_day + timedelta(days=1)) == []


def test_the_current_grade_is_read_by_date_even_before_the_expiry_job(confirmed, graded_org):
    assert grade_current(graded_org, on=confirmed.valid_until + timedelta(days=1)) is None
    annotated = with_current_grade(Organization.objects.filter(pk=graded_org.pk), on=TODAY)
    assert annotated.get().current_grade is None  # before valid_from
    later = with_current_grade(
        Organization.objects.filter(pk=graded_org.pk), on=confirmed.valid_from
    )
    assert later.get().current_grade == "5A"


def test_a_new_grade_replaces_the_old_one(
    today, confirmed, graded_org, graded_admin, registry_admin, assessor
):
    # The old grade expired by date; the organization is assessed again.
    today(confirmed.valid_until + timedelta(days=1))
    services.grades_expire()
    second = run_to_publicized(graded_org, graded_admin, registry_admin, assessor)
    today(confirmed.valid_until + timedelta(days=10))
    second = services.grade_confirm(assessment=second, actor=registry_admin)
    assert grade_current(graded_org) == second


def test_a_downgrade_drops_one_level_each_time(today, confirmed, graded_org, registry_admin):
    first = services.grade_downgrade(
        assessment=confirmed, actor=registry_admin, reason="年度检查不合格"
    )
    assert (first.status, first.grade) == (GradeAssessmentStatus.DOWNGRADED, "4A")
    second = services.grade_downgrade(assessment=first, actor=registry_admin, reason="受到行政处罚")
    assert second.grade == "3A"
    event = AuditEvent.objects.filter(action=AuditAction.GRADE_DOWNGRADED).latest("sequence")
    assert event.details == {"from": "4A", "to": "3A", "reason": "受到行政处罚"}


def test_a_penalty_can_lower_the_grade(today, confirmed, graded_org, registry_admin):
    services.credit_measure_add(
        organization=graded_org,
        actor=registry_admin,
        kind="penalty",
        title="违规收取费用",
        authority="渝中区民政局",
        decided_on=TODAY,
        downgrade_grade=True,
    )
    assert grade_current(graded_org).grade == "4A"


def test_a_reward_never_lowers_the_grade(confirmed, graded_org, registry_admin):
    with pytest.raises(ValidationError) as error:
        services.credit_measure_add(
            organization=graded_org,
            actor=registry_admin,
            kind="reward",
            title="优秀社会组织",
            authority="渝中区民政局",
            decided_on=TODAY,
            downgrade_grade=True,
        )
    assert "downgrade_grade" in error.value.message_dict


def test_downgrading_1a_cancels_the_grade(
    today, graded_org, graded_admin, registry_admin, assessor
):
    assessment = run_to_publicized(
        graded_org, graded_admin, registry_admin, assessor, fraction=Decimal("0.55")
    )
    today(TODAY + timedelta(days=8))
    assessment = services.grade_confirm(assessment=assessment, actor=registry_admin)
    assert assessment.grade == "1A"
    result = services.grade_downgrade(assessment=assessment, actor=registry_admin, reason="处罚")
    assert result.status == GradeAssessmentStatus.CANCELLED
    assert grade_current(graded_org) is None


def test_cancellation_needs_a_reason_and_ends_the_grade(confirmed, graded_org, registry_admin):
    with pytest.raises(ValidationError):
        services.grade_cancel(assessment=confirmed, actor=registry_admin, reason="")
    services.grade_cancel(assessment=confirmed, actor=registry_admin, reason="列入严重违法失信名单")
    assert grade_current(graded_org) is None


def test_only_the_registry_administers_grades(confirmed, official, assessor, graded_admin):
    for actor in (official, assessor, graded_admin):
        with pytest.raises(PermissionDenied):
            services.grade_downgrade(assessment=confirmed, actor=actor, reason="x")


def test_the_registry_changes_cutoffs_and_it_is_audited(registry_admin):
    indicator_set = IndicatorSet.objects.get(kind="social_group", is_current=True)
    services.indicator_set_cutoffs_set(
        indicator_set=indicator_set, actor=registry_admin, cutoffs={"5A": 920}
    )
    indicator_set.refresh_from_db()
    assert indicator_set.cutoff_table()["5A"] == 920
    assert services.grade_for_score(Decimal("910"), indicator_set.cutoff_table()) == "4A"
    event = AuditEvent.objects.get(action=AuditAction.GRADE_CUTOFFS_CHANGED)
    assert event.details["before"]["5A"] == 900


@pytest.mark.parametrize("cutoffs", [{"5A": 790}, {"1A": 1200}, {"6A": 950}, {"3A": 600}])
def test_cutoffs_that_do_not_rise_are_refused(registry_admin, cutoffs):
    indicator_set = IndicatorSet.objects.get(kind="social_group", is_current=True)
    with pytest.raises(ValidationError):
        services.indicator_set_cutoffs_set(
            indicator_set=indicator_set, actor=registry_admin, cutoffs=cutoffs
        )
    indicator_set.refresh_from_db()
    assert indicator_set.cutoff_table() == DEFAULT_CUTOFFS


def test_only_the_registry_changes_cutoffs(official):
    indicator_set = IndicatorSet.objects.get(kind="social_group", is_current=True)
    with pytest.raises(PermissionDenied):
        services.indicator_set_cutoffs_set(
            indicator_set=indicator_set, actor=official, cutoffs={"5A": 950}
        )
