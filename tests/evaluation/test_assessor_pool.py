"""The assessor pool the panels will be drawn from."""

from __future__ import annotations

import pytest

from evaluation.models import AssessorProfile
from evaluation.services import assessor_pool_join
from marketplace.models import AuditAction, AuditEvent
from orgs_registry.models import ServiceCategory


def test_joining_with_categories_records_them_and_an_audit_event(assessor):
    category = ServiceCategory.objects.get(code="elderly_care")
    profile = assessor_pool_join(user=assessor, categories=[category], actor=None)
    assert profile.categories.filter(code="elderly_care").exists()
    event = AuditEvent.objects.filter(action=AuditAction.ASSESSOR_POOL_JOINED).latest("sequence")
    assert event.details["user"] == "assessor"


def test_only_assessors_join_the_pool(official):
    with pytest.raises(ValueError, match="not an assessor"):
        assessor_pool_join(user=official, categories=[], actor=None)
    assert not AssessorProfile.objects.filter(user=official).exists()
