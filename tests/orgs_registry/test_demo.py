"""The registry demo: ~30 valid organizations of every kind and state, built by the services."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings
from django.utils import timezone

from marketplace.audit import audit_verify
from marketplace.demo import seed_demo
from marketplace.models import AuditAction, AuditEvent, User
from orgs_registry.demo import ORGANIZATIONS, SHARED_PEOPLE, demo_counts, demo_organizations
from orgs_registry.identifiers import validate_id_number, validate_uscc
from orgs_registry.models import (
    EXCLUDED_FUNDING_TYPES,
    CreditEntry,
    CreditList,
    CreditMeasure,
    CreditMeasureKind,
    Employment,
    FundingType,
    GradeAssessment,
    GradeAssessmentStatus,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Person,
    Qualification,
    QualificationLevel,
)
from orgs_registry.selectors import grade_current, org_eligibility


def snapshot() -> dict[str, int]:
    return {
        **demo_counts(),
        "qualifications": Qualification.objects.count(),
        "users": User.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, int]]:
    """One demo for the whole module (seeding takes seconds), rolled back at its end.

    Each test still runs in its own savepoint inside this transaction (the ``db``
    fixture), so what a test adds on top is undone before the next one.
    """
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        # The demo uploads documents: they go to a folder of this module only.
        override_settings(PASSWORD_HASHERS=hashers, MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        seed_demo()
        yield snapshot()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db) -> dict[str, int]:
    return seeded


def test_seeding_again_changes_nothing(demo):
    assert snapshot() == demo
    seed_demo()
    assert snapshot() == demo
    assert audit_verify().ok


def test_every_code_and_id_number_is_valid(demo):
    assert Organization.objects.count() >= 30
    for uscc in Organization.objects.values_list("uscc", flat=True):
        assert validate_uscc(uscc) == uscc
        assert uscc[2:8] == "500103"
    for number in Person.objects.values_list("id_number", flat=True):
        assert validate_id_number(number) == number
    regions = Counter(number[:4] for number in Person.objects.values_list("id_number", flat=True))
    assert regions["5001"] > 0
    assert regions["5002"] > 0
    assert sum(n for prefix, n in regions.items() if not prefix.startswith("50")) > 0
    assert set(Person.objects.values_list("sex", flat=True)) == {"male", "female"}
    birth_years = {day.year for day in Person.objects.values_list("birth_date", flat=True)}
    assert max(birth_years) - min(birth_years) >= 20


def test_every_kind_funding_type_and_status_is_there(demo):
    organizations = Organization.objects.all()
    assert set(organizations.values_list("kind", flat=True)) == set(OrganizationKind.values)
    assert set(organizations.values_list("funding_type", flat=True)) == set(FundingType.values)
    statuses = Counter(organizations.values_list("status", flat=True))
    assert statuses[OrganizationStatus.ACTIVE] > 20
    assert statuses[OrganizationStatus.PENDING] >= 2
    for status in (
        OrganizationStatus.REJECTED,
        OrganizationStatus.ABNORMAL,
        OrganizationStatus.DEREGISTERED,
    ):
        assert statuses[status] == 1, status
    deregistering = [o for o in organizations if o.is_deregistering]
    assert len(deregistering) == 1
    on_serious_list = organizations.filter(
        credit_entries__credit_list=CreditList.SERIOUS, credit_entries__removed_on__isnull=True
    )
    assert on_serious_list.count() == 1
    years = {o.registration_date.year for o in organizations}
    assert min(years) == 2012
    assert max(years) == 2025
    assert all(o.legal_representative and o.address and o.phone for o in organizations)
    assert all(o.categories.exists() for o in organizations)


def test_excluded_organizations_fail_the_bidding_gate(demo):
    excluded = Organization.objects.filter(funding_type__in=list(EXCLUDED_FUNDING_TYPES))
    assert excluded.count() == 2
    for organization in excluded:
        codes = {issue.code for issue in org_eligibility(organization).failures}
        assert codes == {"excluded_funding"}
    serious = Organization.objects.get(credit_entries__credit_list=CreditList.SERIOUS)
    assert "serious_dishonesty" in {i.code for i in org_eligibility(serious).failures}
    abnormal = Organization.objects.get(status=OrganizationStatus.ABNORMAL)
    assert org_eligibility(abnormal).eligible
    assert {i.code for i in org_eligibility(abnormal).warnings} == {"abnormal_activity"}
    class_two = Organization.objects.get(funding_type=FundingType.PUBLIC_INSTITUTION_2)
    assert org_eligibility(class_two).eligible


def test_grades_in_every_state_went_through_the_services(demo):
    today = timezone.localdate()
    states = Counter(GradeAssessment.objects.values_list("status", flat=True))
    for state in (
        GradeAssessmentStatus.CONFIRMED,
        GradeAssessmentStatus.EXPIRED,
        GradeAssessmentStatus.DOWNGRADED,
        GradeAssessmentStatus.PUBLICIZED,
        GradeAssessmentStatus.ASSESSING,
        GradeAssessmentStatus.REQUESTED,
    ):
        assert states[state] >= 1, state
    current = {
        grade_current(o, on=today).grade
        for o in Organization.objects.all()
        if grade_current(o, on=today) is not None
    }
    assert {"5A", "4A", "3A"} <= current
    for assessment in GradeAssessment.objects.filter(status=GradeAssessmentStatus.EXPIRED):
        assert assessment.valid_until < today
    downgraded = GradeAssessment.objects.get(status=GradeAssessmentStatus.DOWNGRADED)
    assert downgraded.in_force_on(today)
    assessing = GradeAssessment.objects.get(status=GradeAssessmentStatus.ASSESSING)
    assert assessing.assessor.username == "assessor"
    publicized = GradeAssessment.objects.get(status=GradeAssessmentStatus.PUBLICIZED)
    assert publicized.notice_ends > today
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions[AuditAction.GRADE_CONFIRMED] == states[GradeAssessmentStatus.CONFIRMED] + (
        states[GradeAssessmentStatus.EXPIRED] + states[GradeAssessmentStatus.DOWNGRADED]
    )
    assert actions[AuditAction.GRADE_DOWNGRADED] == 1
    assert actions[AuditAction.GRADE_EXPIRED] == states[GradeAssessmentStatus.EXPIRED]


def test_credit_records_rewards_and_penalties(demo):
    assert CreditEntry.objects.filter(credit_list=CreditList.ABNORMAL).count() == 2
    assert CreditEntry.objects.filter(removed_on__isnull=False).count() == 1
    kinds = Counter(CreditMeasure.objects.values_list("kind", flat=True))
    assert kinds[CreditMeasureKind.REWARD] >= 1
    assert kinds[CreditMeasureKind.PENALTY] >= 1
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions[AuditAction.CREDIT_ENTRY_ADDED] == CreditEntry.objects.count()
    assert actions[AuditAction.CREDIT_MEASURE_ADDED] == CreditMeasure.objects.count()


def test_rosters_are_realistic(demo):
    sizes = Organization.objects.annotate(n=Count("employments")).values_list("n", flat=True)
    assert min(sizes) >= 3
    assert max(sizes) <= 12
    employments = Employment.objects.all()
    assert employments.filter(end_date__isnull=False).exists()
    assert employments.filter(weekly_hours__lt=40).exists()
    assert Qualification.objects.exclude(certificate_number="").count() == (
        Qualification.objects.count()
    )
    assert set(Qualification.objects.values_list("level", flat=True)) == set(
        QualificationLevel.values
    )
    roles = set(employments.values_list("role", flat=True))
    assert {"项目主管", "社工", "心理咨询师", "护理员", "财务"} <= roles
    # People on two or more rosters at once: the over-commitment screen's cases.
    busy = Person.objects.annotate(
        open=Count("employments", filter=Q(employments__end_date__isnull=True))
    ).filter(open__gt=1)
    assert set(busy.values_list("id_number", flat=True)) == {p.id_number for p in SHARED_PEOPLE}
    deregistered = Organization.objects.get(status=OrganizationStatus.DEREGISTERED)
    assert not deregistered.employments.filter(end_date__isnull=True).exists()
    assert AuditEvent.objects.filter(action=AuditAction.STAFF_ADDED).count() == (
        employments.count()
    )


def test_the_readme_accounts_keep_their_organizations(demo):
    assert User.objects.get(username="org_admin").organization.name == (
        "渝中区解放碑阳光社会工作服务中心"
    )
    assert User.objects.get(username="org_admin2").organization.name == (
        "渝中区夕阳红居家养老服务中心"
    )
    pending = User.objects.get(username="org_pending").organization
    assert pending.status == OrganizationStatus.PENDING
    # Every organization has an administrator who can sign in and keep its roster.
    assert not Organization.objects.exclude(members__role="org_admin").exists()


def test_scale_multiplies_organizations_and_rosters(demo):
    base = demo_counts()
    seed_demo(scale=2)
    scaled = demo_counts()
    assert scaled["organizations"] == 2 * base["organizations"] == 2 * len(ORGANIZATIONS)
    # A copy's roster has as many people, generated ones instead of the shared people.
    assert scaled["employments"] == 2 * base["employments"]
    assert scaled["grade assessments"] == 2 * base["grade assessments"]
    assert len(demo_organizations(3)) == 3 * len(ORGANIZATIONS)
