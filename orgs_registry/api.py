"""Registry API v1: organizations, staff rosters, change requests, grades and credit.

Views parse input with serializers, call one service or selector, and answer with what
it returns. The rules live once in ``services``, ``selectors`` and ``permissions`` and
are shared with the pages. An organization's own records (roster, change requests,
grade assessments, exit) that are not the caller's are a 404, like what does not exist.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    enum_field,
    error_responses,
    parse_input,
)
from marketplace.api_schema import NULLABLE_RESPONSE
from orgs_registry import permissions, selectors, services
from orgs_registry import roster_import as roster
from orgs_registry.filters import CreditEntryFilter, OrganizationFilter
from orgs_registry.models import (
    ChangeRequest,
    ChangeRequestStatus,
    CreditEntry,
    CreditList,
    CreditMeasure,
    CreditMeasureKind,
    CreditProposal,
    CreditProposalStatus,
    DeregistrationInitiator,
    Employment,
    FundingType,
    Grade,
    GradeAssessment,
    GradeAssessmentStatus,
    Indicator,
    IndicatorScore,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Person,
    Qualification,
    QualificationLevel,
)
from orgs_registry.selectors import EligibilityIssue

# --- Fields -----------------------------------------------------------------------------------


OrganizationKindField = enum_field(OrganizationKind, "OrganizationKindEnum")
OrganizationStatusField = enum_field(OrganizationStatus, "OrganizationStatusEnum")
FundingTypeField = enum_field(FundingType, "FundingTypeEnum")
DeregistrationInitiatorField = enum_field(DeregistrationInitiator, "DeregistrationInitiatorEnum")
ChangeRequestStatusField = enum_field(ChangeRequestStatus, "ChangeRequestStatusEnum")
QualificationLevelField = enum_field(QualificationLevel, "QualificationLevelEnum")
GradeField = enum_field(Grade, "GradeEnum")
GradeAssessmentStatusField = enum_field(GradeAssessmentStatus, "GradeAssessmentStatusEnum")
CreditListField = enum_field(CreditList, "CreditListEnum")
CreditMeasureKindField = enum_field(CreditMeasureKind, "CreditMeasureKindEnum")


class OrganizationField(serializers.IntegerField):
    """The id of an organization the caller can see; parsed into the organization."""

    default_error_messages = {"does_not_exist": gettext_lazy("There is no such organization.")}

    def to_internal_value(self, data: Any) -> Organization:  # type: ignore[override]
        pk = super().to_internal_value(data)
        try:
            return selectors.organization_get_for_user(self.context["request"].user, pk)
        except Http404:
            self.fail("does_not_exist")

    def to_representation(self, value: Any) -> int:
        return int(value.pk if isinstance(value, Organization) else value)


def _service_categories() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=selectors.service_category_list(),
        help_text=gettext_lazy("Service category codes, e.g. elderly_care."),
    )


# --- Organizations: answers -------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization as the registry publishes it (the same shape in lists and details)."""

    kind = OrganizationKindField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status = OrganizationStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    current_grade = GradeField(read_only=True, allow_null=True)
    categories: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    funding_type = FundingTypeField(read_only=True)
    on_serious_list = serializers.BooleanField(read_only=True)
    phone = serializers.SerializerMethodField()
    # Optional: "" when the organization gave none, so not documented as an e-mail format.
    email = serializers.CharField(read_only=True)
    is_deregistering = serializers.BooleanField(read_only=True)
    deregistration_initiator = DeregistrationInitiatorField(read_only=True, allow_null=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "uscc",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "current_grade",
            "categories",
            "legal_representative",
            "address",
            "registration_date",
            "registration_authority",
            "funding_type",
            "on_serious_list",
            "phone",
            "email",
            "description",
            "verified_at",
            "rejection_reason",
            "is_deregistering",
            "deregistration_initiator",
            "deregistration_reason",
            "deregistered_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_phone(self, organization: Organization) -> str:
        """Masked for the public; whole for the organization's people and the registry."""
        if permissions.can_manage_organization(self.context["request"].user, organization):
            return organization.phone
        return organization.masked_phone


class IssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.SerializerMethodField()

    def get_message(self, issue: EligibilityIssue) -> str:
        return str(issue.message)


class EligibilitySerializer(serializers.Serializer):
    """May the organization bid (DESIGN.md 4.2): hard-gate failures and warnings."""

    eligible = serializers.BooleanField()
    failures = IssueSerializer(many=True)
    warnings = IssueSerializer(many=True)


# --- Organizations: input ---------------------------------------------------------------------


class OrganizationFactsSerializer(serializers.Serializer):
    """Registered and contact facts; the services validate them against the model."""

    legal_representative = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    registration_date = serializers.DateField(required=False, allow_null=True)
    registration_authority = serializers.CharField(required=False, allow_blank=True)
    funding_type = FundingTypeField(required=False)
    phone = serializers.CharField(required=False, allow_blank=True)
    email = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    categories = _service_categories()


class OrganizationCreateSerializer(OrganizationFactsSerializer):
    name = serializers.CharField()
    uscc = serializers.CharField(
        help_text=gettext_lazy("Unified Social Credit Code (GB 32100-2015), 18 characters.")
    )


class OrganizationResubmitSerializer(OrganizationFactsSerializer):
    name = serializers.CharField(required=False)
    uscc = serializers.CharField(required=False)


class OrganizationProfileSerializer(OnlyKnownFields):
    """What the organization keeps itself, without a registry decision."""

    phone = serializers.CharField(required=False, allow_blank=True)
    email = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    categories = _service_categories()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


# --- Staff ------------------------------------------------------------------------------------


class QualificationSerializer(serializers.ModelSerializer):
    level = QualificationLevelField(read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Qualification
        fields = ["level", "level_label", "certificate_number", "certified_on"]
        read_only_fields = fields


_PERSONAL_FIELDS = ("id_number", "phone")
_PERSONAL_HELP = gettext_lazy(
    "Only for the organization's administrators and auditors; absent for everyone else."
)


class _PersonalDataMixin:
    """Drops the whole ID number and phone unless the caller may see them (DESIGN.md 4.1)."""

    context: dict[str, Any]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)  # type: ignore[misc]
        if not self.context.get("show_id_numbers"):
            for field in _PERSONAL_FIELDS:
                data.pop(field, None)
        return data


class RosterEntrySerializer(_PersonalDataMixin, serializers.Serializer):
    """One employment on the roster; ``id`` is the person's (bids name people by it)."""

    id = serializers.IntegerField(source="person.id", read_only=True)
    employment = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.CharField(source="person.id_number_masked", read_only=True)
    # Not read-only, so that the schema lists them as optional: they are often absent.
    id_number = serializers.CharField(
        source="person.id_number", required=False, help_text=_PERSONAL_HELP
    )
    phone_masked = serializers.CharField(source="person.phone_masked", read_only=True)
    phone = serializers.CharField(source="person.phone", required=False, help_text=_PERSONAL_HELP)
    role = serializers.CharField(read_only=True)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True)
    start_date = serializers.DateField(read_only=True)
    end_date = serializers.DateField(read_only=True, allow_null=True)
    current = serializers.SerializerMethodField()
    qualifications = QualificationSerializer(
        source="person.qualifications", many=True, read_only=True
    )

    def get_current(self, employment: Employment) -> bool:
        return employment.is_current(timezone.localdate())


class EmploymentSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Employment
        fields = ["id", "role", "weekly_hours", "start_date", "end_date", "current"]
        read_only_fields = fields

    def get_current(self, employment: Employment) -> bool:
        return employment.is_current(timezone.localdate())


class StaffMemberSerializer(_PersonalDataMixin, serializers.ModelSerializer):
    """A person on the roster with every employment in this organization."""

    id_number = serializers.CharField(required=False, help_text=_PERSONAL_HELP)
    phone = serializers.CharField(required=False, help_text=_PERSONAL_HELP)
    qualifications = QualificationSerializer(many=True, read_only=True)
    employments = EmploymentSerializer(source="employments_here", many=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_number_masked",
            "id_number",
            "phone_masked",
            "phone",
            "qualifications",
            "employments",
        ]
        read_only_fields = ["id", "name", "id_number_masked", "phone_masked"]


class StaffCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    id_number = serializers.CharField(
        help_text=gettext_lazy(
            "National ID number (GB 11643-1999); 15-digit numbers are converted."
        )
    )
    qualification = QualificationLevelField(required=False)
    certificate_number = serializers.CharField(required=False, allow_blank=True)
    certified_on = serializers.DateField(required=False, allow_null=True)
    role = serializers.CharField(required=False, default="staff")
    weekly_hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, default=Decimal("40")
    )
    # A lambda, so that the date is read at each request (and tests can move the clock).
    start_date = serializers.DateField(required=False, default=lambda: timezone.localdate())
    end_date = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True)


class StaffUpdateSerializer(OnlyKnownFields):
    """Changes to the person's current employment here; ``end_date: null`` reopens it."""

    role = serializers.CharField(required=False)
    weekly_hours = serializers.DecimalField(max_digits=4, decimal_places=1, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)


class QualificationCreateSerializer(serializers.Serializer):
    level = QualificationLevelField()
    certificate_number = serializers.CharField(required=False, allow_blank=True)
    certified_on = serializers.DateField(required=False, allow_null=True)


class RosterUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("A CSV or XLSX roster."))


class RosterImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    people_created = serializers.IntegerField()


# --- Change requests --------------------------------------------------------------------------


class ChangeRequestSerializer(serializers.ModelSerializer):
    status = ChangeRequestStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    changes = serializers.DictField(read_only=True)
    previous = serializers.DictField(read_only=True)
    requested_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        read_only=True
    )
    decided_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "organization",
            "organization_name",
            "changes",
            "previous",
            "reason",
            "status",
            "status_label",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class ChangeRequestCreateSerializer(serializers.Serializer):
    changes = serializers.DictField(
        help_text=gettext_lazy(
            "Registered facts and their new values: name, legal_representative, address, "
            "registration_date, registration_authority, funding_type."
        )
    )
    reason = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Grades -----------------------------------------------------------------------------------


class IndicatorSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group_label", read_only=True)
    name = serializers.CharField(source="label", read_only=True)

    class Meta:
        model = Indicator
        fields = ["code", "group", "name", "max_points"]
        read_only_fields = fields


class IndicatorScoreSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = IndicatorScore
        fields = ["indicator", "score", "note"]
        read_only_fields = fields


class GradeAssessmentSerializer(serializers.ModelSerializer):
    status = GradeAssessmentStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    indicator_set_name = serializers.CharField(source="indicator_set", read_only=True)
    assessor_name: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        source="assessor", read_only=True
    )
    proposed_grade = GradeField(read_only=True, allow_null=True)
    grade = GradeField(read_only=True, allow_null=True)

    class Meta:
        model = GradeAssessment
        fields = [
            "id",
            "organization",
            "organization_name",
            "indicator_set",
            "indicator_set_name",
            "status",
            "status_label",
            "requested_at",
            "assessor",
            "assessor_name",
            "total_score",
            "proposed_grade",
            "assessor_comment",
            "notice_starts",
            "notice_ends",
            "review_reason",
            "review_conclusion",
            "grade",
            "valid_from",
            "valid_until",
            "change_reason",
        ]
        read_only_fields = fields


class GradeAssessmentDetailSerializer(GradeAssessmentSerializer):
    """An assessment with its indicator set and the scores saved so far.

    The organization sees the scores once a result is proposed (``can_view_grade_scores``);
    before that the list is empty for it.
    """

    indicators = IndicatorSerializer(source="indicator_set.indicators", many=True, read_only=True)
    scores = serializers.SerializerMethodField()

    @extend_schema_field(IndicatorScoreSerializer(many=True))
    def get_scores(self, assessment: GradeAssessment) -> list[dict[str, Any]]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not permissions.can_view_grade_scores(user, assessment):
            return []
        return IndicatorScoreSerializer(assessment.scores.all(), many=True).data  # type: ignore[return-value]

    class Meta(GradeAssessmentSerializer.Meta):
        fields = [*GradeAssessmentSerializer.Meta.fields, "indicators", "scores"]
        read_only_fields = fields


class GradeSummarySerializer(serializers.ModelSerializer):
    """The grade in force: what the public and the tenders read."""

    grade = GradeField(read_only=True)
    status = GradeAssessmentStatusField(read_only=True)

    class Meta:
        model = GradeAssessment
        fields = [
            "id",
            "organization",
            "grade",
            "status",
            "total_score",
            "valid_from",
            "valid_until",
        ]
        read_only_fields = fields


class GradeRequestSerializer(serializers.Serializer):
    organization = OrganizationField()


class GradeAssignSerializer(serializers.Serializer):
    assessor = serializers.PrimaryKeyRelatedField(
        queryset=selectors.grade_assessor_choice_list(),
        error_messages={"does_not_exist": gettext_lazy("Choose an active assessor.")},
        help_text=gettext_lazy("The user id of an active assessor."),
    )


class ScoreInputSerializer(serializers.Serializer):
    indicator = serializers.CharField(help_text=gettext_lazy("The indicator's code, e.g. G1."))
    score = serializers.DecimalField(max_digits=5, decimal_places=1)
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _scores(items: list[dict[str, Any]]) -> dict[str, tuple[Decimal, str]]:
    """Scores as the services take them: indicator code -> (score, note)."""
    return {item["indicator"]: (item["score"], item["note"]) for item in items}


class _ScoreListField(serializers.ListField):
    child = ScoreInputSerializer()

    def to_internal_value(self, data: Any) -> Any:
        items = super().to_internal_value(data)
        codes = [item["indicator"] for item in items]
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError(_("Score each indicator once."))
        return items


class GradeScoresSerializer(serializers.Serializer):
    scores = _ScoreListField()
    comment = serializers.CharField(required=False, allow_blank=True)


class GradePublicizeSerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False,
        default=services.NOTICE_DAYS,
        help_text=gettext_lazy("Length of the public notice in calendar days."),
    )


class GradeReviewSerializer(serializers.Serializer):
    conclusion = serializers.CharField()
    scores = _ScoreListField(required=False)


# --- Credit -----------------------------------------------------------------------------------


class CreditEntrySerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    organization_uscc = serializers.CharField(source="organization.uscc", read_only=True)
    credit_list = CreditListField(read_only=True)
    credit_list_label = serializers.CharField(source="get_credit_list_display", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = CreditEntry
        fields = [
            "id",
            "organization",
            "organization_name",
            "organization_uscc",
            "credit_list",
            "credit_list_label",
            "reason",
            "source",
            "listed_on",
            "removal_due",
            "removed_on",
            "removal_reason",
            "is_active",
        ]
        read_only_fields = fields


class CreditEntryCreateSerializer(serializers.Serializer):
    organization = OrganizationField()
    credit_list = CreditListField()
    reason = serializers.CharField()
    # Declared fields leave the class namespace; "source" does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text=gettext_lazy("The deciding authority and document number.")
    )
    listed_on = serializers.DateField()
    removal_due = serializers.DateField(required=False, allow_null=True)


class CreditEntryRemoveSerializer(serializers.Serializer):
    reason = serializers.CharField()
    removed_on = serializers.DateField(required=False, allow_null=True)


class CreditMeasureSerializer(serializers.ModelSerializer):
    kind = CreditMeasureKindField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CreditMeasure
        fields = [
            "id",
            "organization",
            "kind",
            "kind_label",
            "title",
            "description",
            "authority",
            "decided_on",
            "document_number",
        ]
        read_only_fields = fields


class CreditMeasureCreateSerializer(serializers.Serializer):
    kind = CreditMeasureKindField()
    title = serializers.CharField()
    authority = serializers.CharField()
    decided_on = serializers.DateField()
    description = serializers.CharField(required=False, allow_blank=True)
    document_number = serializers.CharField(required=False, allow_blank=True)
    downgrade_grade = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("A penalty that also lowers the current grade one level."),
    )


# --- Helpers ----------------------------------------------------------------------------------


# --- Organizations ----------------------------------------------------------------------------


class OrganizationViewSet(ApiViewSet):
    """The register of social organizations: public reads, registry decisions, exit."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    action_throttle_scopes = {"create": "register"}

    def get_queryset(self) -> Any:
        return selectors.organization_list_for_user(self.request.user)

    def _organization(self) -> Organization:
        return selectors.organization_get_for_user(self.request.user, self.kwargs["pk"])

    def _managed(self) -> Organization:
        """The organization's own records (exit): 404 for everyone else."""
        return selectors.organization_get_managed(self.request.user, self.kwargs["pk"])

    def _organization_answer(self, organization: Organization, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (current grade, credit) as a GET.
        organization = selectors.organization_get_for_user(self.request.user, organization.pk)
        return self._answer(OrganizationSerializer, organization, status=status)

    @extend_schema(
        summary="List organizations",
        auth=[],
        responses={200: OrganizationSerializer, **error_responses(400)},
    )
    def list(self, request: Request) -> Response:
        return self._page(OrganizationSerializer, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="Register an organization",
        description=(
            "By a registry administrator: created verified (`active`). By a signed-in "
            "account without a role: self-registration, `pending` until verified; the caller "
            "becomes the organization's administrator."
        ),
        request=OrganizationCreateSerializer,
        responses={201: OrganizationSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        user = self.user
        verified = permissions.can_create_verified_organization(user)
        allow(verified or permissions.can_register_organization(user))
        facts = parse_input(OrganizationCreateSerializer, request)
        if verified:
            organization = services.organization_create(actor=user, verified=True, **facts)
        else:
            organization = services.organization_register(user=user, **facts)
        return self._organization_answer(organization, status=201)

    @extend_schema(
        summary="One organization",
        auth=[],
        responses={200: OrganizationSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(OrganizationSerializer, self._organization())

    @extend_schema(
        summary="Update the contact profile",
        request=OrganizationProfileSerializer,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        organization = self._organization()
        allow(permissions.can_edit_organization_profile(self.user, organization))
        profile = parse_input(OrganizationProfileSerializer, request)
        organization = services.organization_profile_update(
            organization=organization, actor=self.user, **profile
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="Verify a registration",
        request=None,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: int) -> Response:
        organization = self._organization()
        allow(permissions.can_verify_organization(self.user, organization))
        organization = services.organization_verify(organization=organization, actor=self.user)
        return self._organization_answer(organization)

    @extend_schema(
        summary="Reject a registration",
        request=ReasonSerializer,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        organization = self._organization()
        allow(permissions.can_verify_organization(self.user, organization))
        data = parse_input(ReasonSerializer, request)
        organization = services.organization_reject(
            organization=organization, actor=self.user, reason=data["reason"]
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="Correct and resubmit a rejected registration",
        request=OrganizationResubmitSerializer,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request: Request, pk: int) -> Response:
        organization = self._managed()
        allow(permissions.can_resubmit_organization(self.user, organization))
        facts = parse_input(OrganizationResubmitSerializer, request)
        organization = services.organization_resubmit(
            organization=organization, actor=self.user, **facts
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="Start deregistration",
        description=(
            "Requested by the organization's administrator or ordered by a registry "
            "administrator; from then on the organization may not bid."
        ),
        request=ReasonSerializer,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def deregistration(self, request: Request, pk: int) -> Response:
        organization = self._managed()
        allow(
            permissions.can_order_deregistration(self.user, organization)
            or permissions.can_request_deregistration(self.user, organization)
        )
        data = parse_input(ReasonSerializer, request)
        organization = services.organization_deregistration_start(
            organization=organization, actor=self.user, reason=data["reason"]
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="Withdraw deregistration",
        request=None,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="deregistration/withdraw")
    def deregistration_withdraw(self, request: Request, pk: int) -> Response:
        organization = services.organization_deregistration_withdraw(
            organization=self._managed(), actor=self.user
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="Complete deregistration",
        description="Refused (400) while bids or contracts are open; the answer lists them.",
        request=None,
        responses={200: OrganizationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="deregistration/complete")
    def deregistration_complete(self, request: Request, pk: int) -> Response:
        organization = services.organization_deregistration_complete(
            organization=self._managed(), actor=self.user
        )
        return self._organization_answer(organization)

    @extend_schema(
        summary="May the organization bid?",
        auth=[],
        responses={200: EligibilitySerializer, **error_responses(404)},
    )
    @action(detail=True, methods=["get"])
    def eligibility(self, request: Request, pk: int) -> Response:
        return self._answer(EligibilitySerializer, selectors.org_eligibility(self._organization()))

    @extend_schema(
        summary="The grade in force",
        auth=[],
        extensions={NULLABLE_RESPONSE: True},
        responses={
            200: OpenApiResponse(
                GradeSummarySerializer,
                description="The grade in force, or null when the organization has none.",
            ),
            **error_responses(404),
        },
    )
    @action(detail=True, methods=["get"])
    def grade(self, request: Request, pk: int) -> HttpResponseBase:
        current = selectors.grade_current(self._organization())
        if current is None:
            # DRF renders None as an empty body; the answer is the JSON value null.
            return JsonResponse(None, safe=False)
        return self._answer(GradeSummarySerializer, current)


class _OrganizationChildViewSet(ApiViewSet):
    """Resources under ``organizations/{organization_pk}/``."""

    def _organization(self) -> Organization:
        return selectors.organization_get_for_user(
            self.request.user, self.kwargs["organization_pk"]
        )

    def _managed(self) -> Organization:
        """The organization's own records: 404 for everyone else, as if missing."""
        return selectors.organization_get_managed(self.request.user, self.kwargs["organization_pk"])


# --- Staff ------------------------------------------------------------------------------------


class StaffViewSet(_OrganizationChildViewSet):
    """An organization's staff roster; the people are addressed by their person id."""

    lookup_url_kwarg = "person_id"
    serializer_class = RosterEntrySerializer

    def _show_id_numbers(self, organization: Organization) -> bool:
        return permissions.can_view_id_number(self.request.user, organization)

    def _person(self, organization: Organization) -> Person:
        return selectors.staff_get_for_user(
            self.request.user, organization, self.kwargs["person_id"]
        )

    @extend_schema(
        summary="The roster",
        responses={200: RosterEntrySerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, organization_pk: int) -> Response:
        organization = self._managed()
        return self._page(
            RosterEntrySerializer,
            selectors.staff_list_for_user(self.user, organization),
            show_id_numbers=self._show_id_numbers(organization),
        )

    @extend_schema(
        summary="Put a person on the roster",
        request=StaffCreateSerializer,
        responses={201: RosterEntrySerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, organization_pk: int) -> Response:
        organization = self._managed()
        allow(permissions.can_manage_roster(self.user, organization))
        data = parse_input(StaffCreateSerializer, request)
        employment = services.staff_add(
            organization=organization,
            actor=self.user,
            data=services.StaffInput(**data),
        )
        return self._answer(
            RosterEntrySerializer,
            employment,
            status=201,
            show_id_numbers=self._show_id_numbers(organization),
        )

    @extend_schema(
        summary="One person on the roster",
        responses={200: StaffMemberSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, organization_pk: int, person_id: int) -> Response:
        organization = self._managed()
        return self._answer(
            StaffMemberSerializer,
            self._person(organization),
            show_id_numbers=self._show_id_numbers(organization),
        )

    @extend_schema(
        summary="Change the person's current employment here",
        request=StaffUpdateSerializer,
        responses={200: StaffMemberSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, organization_pk: int, person_id: int) -> Response:
        organization = self._managed()
        person = self._person(organization)
        allow(permissions.can_manage_roster(self.user, organization))
        changes = parse_input(StaffUpdateSerializer, request)
        reopen = "end_date" in changes and changes["end_date"] is None
        if reopen:
            del changes["end_date"]
        services.staff_update(
            employment=_current_employment(person),
            actor=self.user,
            clear_end_date=reopen,
            **changes,
        )
        return self._answer(
            StaffMemberSerializer,
            self._person(organization),
            show_id_numbers=self._show_id_numbers(organization),
        )

    @extend_schema(
        summary="Record a qualification",
        request=QualificationCreateSerializer,
        responses={201: QualificationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def qualifications(self, request: Request, organization_pk: int, person_id: int) -> Response:
        organization = self._managed()
        person = self._person(organization)
        allow(permissions.can_manage_roster(self.user, organization))
        data = parse_input(QualificationCreateSerializer, request)
        qualification = services.staff_qualification_record(
            organization=organization, person=person, actor=self.user, **data
        )
        return self._answer(QualificationSerializer, qualification, status=201)

    @extend_schema(
        summary="Import a roster (CSV or XLSX), all or nothing",
        description=(
            'Bad rows are a 400 whose `fields.rows` lists `"row N: column: problem"` for '
            "every bad row; nothing is saved then."
        ),
        request={"multipart/form-data": RosterUploadSerializer},
        responses={201: RosterImportResultSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_roster(self, request: Request, organization_pk: int) -> Response:
        organization = self._managed()
        allow(permissions.can_manage_roster(self.user, organization))
        data = parse_input(RosterUploadSerializer, request)
        try:
            result = roster.roster_import(
                organization=organization, actor=self.user, upload=data["file"]
            )
        except roster.RosterImportError as exc:
            rows = [str(problem) for problem in exc.problems]
            summary = ngettext(
                "%(count)d problem in the file; nothing was imported.",
                "%(count)d problems in the file; nothing was imported.",
                len(rows),
            ) % {"count": len(rows)}
            raise exceptions.ValidationError({"non_field_errors": [summary], "rows": rows}) from exc
        return self._answer(RosterImportResultSerializer, result, status=201)


def _current_employment(person: Person) -> Employment:
    """The open employment here, or else the latest one (from ``staff_get_for_user``)."""
    employments: list[Employment] = person.employments_here  # type: ignore[attr-defined]
    open_ones = [e for e in employments if e.end_date is None]
    if open_ones:
        return open_ones[0]
    return max(employments, key=lambda e: (e.start_date, e.pk))


# --- Change requests --------------------------------------------------------------------------


class OrganizationChangeRequestViewSet(_OrganizationChildViewSet):
    """Requests to change an organization's registered facts, decided by the registry."""

    serializer_class = ChangeRequestSerializer

    @extend_schema(
        summary="The organization's change requests",
        responses={200: ChangeRequestSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, organization_pk: int) -> Response:
        organization = self._managed()
        requests = selectors.change_request_list_for_user(self.user, organization=organization)
        return self._page(ChangeRequestSerializer, requests)

    @extend_schema(
        summary="Ask the registry to change registered facts",
        request=ChangeRequestCreateSerializer,
        responses={201: ChangeRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, organization_pk: int) -> Response:
        organization = self._managed()
        allow(permissions.can_request_change(self.user, organization))
        data = parse_input(ChangeRequestCreateSerializer, request)
        change_request = services.change_request_create(
            organization=organization, actor=self.user, **data
        )
        return self._answer(ChangeRequestSerializer, change_request, status=201)


class ChangeRequestViewSet(ApiViewSet):
    """Every change request the caller may read; the registry decides them."""

    filter_backends = [DjangoFilterBackend]
    serializer_class = ChangeRequestSerializer
    filterset_fields = ["status", "organization"]

    def get_queryset(self) -> Any:
        return selectors.change_request_list_for_user(self.request.user)

    def _change_request(self) -> ChangeRequest:
        return selectors.change_request_get_for_user(self.request.user, self.kwargs["pk"])

    def _decide(self, request: Request, *, approve: bool) -> Response:
        change_request = self._change_request()
        allow(permissions.can_decide_change_request(self.user, change_request))
        data = parse_input(DecisionSerializer, request)
        change_request = services.change_request_decide(
            change_request=change_request, actor=self.user, approve=approve, note=data["note"]
        )
        return self._answer(ChangeRequestSerializer, change_request)

    @extend_schema(
        summary="Change requests",
        responses={200: ChangeRequestSerializer, **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(ChangeRequestSerializer, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="One change request",
        responses={200: ChangeRequestSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(ChangeRequestSerializer, self._change_request())

    @extend_schema(
        summary="Approve and apply a change request",
        request=DecisionSerializer,
        responses={200: ChangeRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        summary="Reject a change request (with a note)",
        request=DecisionSerializer,
        responses={200: ChangeRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._decide(request, approve=False)


# --- Grades -----------------------------------------------------------------------------------


class GradeViewSet(ApiViewSet):
    """Grade assessments (民政部令第39号), from request to confirmation, downgrade or cancel."""

    filter_backends = [DjangoFilterBackend]
    serializer_class = GradeAssessmentSerializer
    filterset_fields = ["organization", "status"]

    def get_queryset(self) -> Any:
        return selectors.grade_assessment_list_for_user(self.request.user)

    def _assessment(self) -> GradeAssessment:
        return selectors.grade_assessment_get_for_user(self.request.user, self.kwargs["pk"])

    def _done(self, assessment: GradeAssessment) -> Response:
        return self._answer(GradeAssessmentDetailSerializer, assessment)

    @extend_schema(
        summary="Grade assessments",
        responses={200: GradeAssessmentSerializer, **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(GradeAssessmentSerializer, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="Request a grade assessment",
        description="Refused (400) with the reasons when the organization is not eligible.",
        request=GradeRequestSerializer,
        responses={201: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        data = parse_input(GradeRequestSerializer, request)
        allow(permissions.can_request_grade(self.user, data["organization"]))
        assessment = services.grade_request(organization=data["organization"], actor=self.user)
        return self._answer(GradeAssessmentDetailSerializer, assessment, status=201)

    @extend_schema(
        summary="One grade assessment with its indicators and scores",
        responses={200: GradeAssessmentDetailSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._done(self._assessment())

    @extend_schema(
        summary="Assign an assessor",
        request=GradeAssignSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_administer_grades(self.user, assessment))
        data = parse_input(GradeAssignSerializer, request)
        return self._done(
            services.grade_assign(assessment=assessment, actor=self.user, assessor=data["assessor"])
        )

    @extend_schema(
        summary="Save scores (the assigned assessor)",
        request=GradeScoresSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["put"])
    def scores(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_score_grade(self.user, assessment))
        data = parse_input(GradeScoresSerializer, request)
        return self._done(
            services.grade_scores_save(
                assessment=assessment,
                actor=self.user,
                scores=_scores(data["scores"]),
                comment=data.get("comment"),
            )
        )

    @extend_schema(
        summary="Submit the scores and the proposed grade",
        request=None,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def propose(self, request: Request, pk: int) -> Response:
        return self._done(services.grade_propose(assessment=self._assessment(), actor=self.user))

    @extend_schema(
        summary="Put the result on public notice",
        request=GradePublicizeSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def publicize(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_administer_grades(self.user, assessment))
        data = parse_input(GradePublicizeSerializer, request)
        return self._done(
            services.grade_publicize(assessment=assessment, actor=self.user, days=data["days"])
        )

    @extend_schema(
        summary="Ask for a review during the public notice",
        request=ReasonSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="review-request")
    def review_request(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_request_grade_review(self.user, assessment))
        data = parse_input(ReasonSerializer, request)
        return self._done(
            services.grade_review_request(
                assessment=assessment, actor=self.user, reason=data["reason"]
            )
        )

    @extend_schema(
        summary="Answer a review request",
        request=GradeReviewSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_administer_grades(self.user, assessment))
        data = parse_input(GradeReviewSerializer, request)
        return self._done(
            services.grade_review_conclude(
                assessment=assessment,
                actor=self.user,
                conclusion=data["conclusion"],
                scores=_scores(data.get("scores") or []) or None,
            )
        )

    @extend_schema(
        summary="Confirm the grade after the public notice",
        request=None,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        return self._done(services.grade_confirm(assessment=self._assessment(), actor=self.user))

    @extend_schema(
        summary="Lower the grade one level",
        request=ReasonSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def downgrade(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_administer_grades(self.user, assessment))
        data = parse_input(ReasonSerializer, request)
        return self._done(
            services.grade_downgrade(assessment=assessment, actor=self.user, reason=data["reason"])
        )

    @extend_schema(
        summary="Cancel the assessment or the grade",
        request=ReasonSerializer,
        responses={200: GradeAssessmentDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        assessment = self._assessment()
        allow(permissions.can_administer_grades(self.user, assessment))
        data = parse_input(ReasonSerializer, request)
        return self._done(
            services.grade_cancel(assessment=assessment, actor=self.user, reason=data["reason"])
        )


# --- Credit -----------------------------------------------------------------------------------


class CreditRecordViewSet(ApiViewSet):
    """The abnormal-activity and serious-dishonesty lists (public, 民政部令第60号)."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    filter_backends = [DjangoFilterBackend]
    serializer_class = CreditEntrySerializer
    filterset_class = CreditEntryFilter

    def get_queryset(self) -> Any:
        return selectors.credit_entry_list()

    @extend_schema(
        summary="Credit list entries",
        auth=[],
        responses={200: CreditEntrySerializer, **error_responses(400)},
    )
    def list(self, request: Request) -> Response:
        return self._page(CreditEntrySerializer, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="Put an organization on a credit list",
        request=CreditEntryCreateSerializer,
        responses={201: CreditEntrySerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        allow(permissions.can_manage_credit(self.user))
        data = parse_input(CreditEntryCreateSerializer, request)
        entry = services.credit_entry_add(actor=self.user, **data)
        return self._answer(CreditEntrySerializer, entry, status=201)

    @extend_schema(
        summary="One credit list entry",
        auth=[],
        responses={200: CreditEntrySerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(CreditEntrySerializer, selectors.credit_entry_get(pk))

    @extend_schema(
        summary="Remove an organization from a credit list",
        request=CreditEntryRemoveSerializer,
        responses={200: CreditEntrySerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: int) -> Response:
        entry = selectors.credit_entry_get(pk)
        allow(permissions.can_manage_credit(self.user, entry.organization))
        data = parse_input(CreditEntryRemoveSerializer, request)
        entry = services.credit_entry_remove(entry=entry, actor=self.user, **data)
        return self._answer(CreditEntrySerializer, entry)


class CreditMeasureViewSet(_OrganizationChildViewSet):
    """Rewards and penalties on an organization's credit record (public)."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = CreditMeasureSerializer

    @extend_schema(
        summary="Rewards and penalties",
        auth=[],
        responses={200: CreditMeasureSerializer(many=True), **error_responses(404)},
    )
    def list(self, request: Request, organization_pk: int) -> Response:
        organization = self._organization()
        return self._page(
            CreditMeasureSerializer, selectors.credit_measure_list(organization=organization)
        )

    @extend_schema(
        summary="Record a reward or a penalty",
        request=CreditMeasureCreateSerializer,
        responses={201: CreditMeasureSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, organization_pk: int) -> Response:
        organization = self._organization()
        allow(permissions.can_manage_credit(self.user, organization))
        data = parse_input(CreditMeasureCreateSerializer, request)
        measure = services.credit_measure_add(organization=organization, actor=self.user, **data)
        return self._answer(CreditMeasureSerializer, measure, status=201)


# --- Credit proposals -------------------------------------------------------------------------


CreditProposalStatusField = enum_field(CreditProposalStatus, "CreditProposalStatusEnum")


class CreditProposalSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    credit_list = CreditListField(read_only=True)
    credit_list_label = serializers.CharField(source="get_credit_list_display", read_only=True)
    status = CreditProposalStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    proposed_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        read_only=True
    )
    decided_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = CreditProposal
        fields = [
            "id",
            "organization",
            "organization_name",
            "credit_list",
            "credit_list_label",
            "reason",
            "source",
            "source_url",
            "status",
            "status_label",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "entry",
        ]
        read_only_fields = fields


class CreditProposalViewSet(ApiViewSet):
    """Proposed credit list entries: the registry confirms or rejects them; auditors read
    them; an organization's admins see their own. Not public until confirmed."""

    filter_backends = [DjangoFilterBackend]
    serializer_class = CreditProposalSerializer
    filterset_fields = ["status", "organization"]

    def get_queryset(self) -> Any:
        return selectors.credit_proposal_list_for_user(self.request.user)

    def _proposal(self) -> CreditProposal:
        return selectors.credit_proposal_get_for_user(self.request.user, self.kwargs["pk"])

    def _decide(self, request: Request, *, confirm: bool) -> Response:
        proposal = self._proposal()
        allow(permissions.is_registry_admin(self.user))
        data = parse_input(DecisionSerializer, request)
        proposal = services.credit_proposal_decide(
            proposal=proposal, actor=self.user, confirm=confirm, note=data["note"]
        )
        return self._answer(CreditProposalSerializer, proposal)

    @extend_schema(
        summary="Credit list proposals",
        responses={200: CreditProposalSerializer, **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(CreditProposalSerializer, self.filter_queryset(self.get_queryset()))

    @extend_schema(
        summary="One credit list proposal",
        responses={200: CreditProposalSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(CreditProposalSerializer, self._proposal())

    @extend_schema(
        summary="Confirm a proposal: the organization goes on the list",
        request=DecisionSerializer,
        responses={200: CreditProposalSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        return self._decide(request, confirm=True)

    @extend_schema(
        summary="Reject a proposal (with a note)",
        request=DecisionSerializer,
        responses={200: CreditProposalSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._decide(request, confirm=False)


# --- The public performance record ------------------------------------------------------------


class OrganizationPerformanceResultSerializer(serializers.Serializer):
    """A final performance evaluation as the organization's public record shows it."""

    id = serializers.IntegerField(read_only=True)
    contract = serializers.IntegerField(source="contract_id", read_only=True)
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    contract_title = serializers.CharField(source="contract.title", read_only=True)
    kind = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    total_score = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    grade = serializers.CharField(read_only=True)
    grade_label = serializers.CharField(source="get_grade_display", read_only=True)
    conclusion = serializers.CharField(read_only=True)
    reply = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    replied_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PerformanceGradeCountSerializer(serializers.Serializer):
    grade = serializers.CharField(read_only=True)
    # Declared fields leave the class namespace; "label" does not shadow Field.label.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    count = serializers.IntegerField(read_only=True)


class OrganizationPerformanceRecordSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    mean_score = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    grades = PerformanceGradeCountSerializer(many=True, read_only=True)
    results = OrganizationPerformanceResultSerializer(
        source="evaluations", many=True, read_only=True
    )


class OrganizationPerformanceViewSet(_OrganizationChildViewSet):
    """The organization's public performance record: its final evaluations with a result."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = OrganizationPerformanceRecordSerializer

    @extend_schema(
        summary="Performance record (final evaluations)",
        auth=[],
        responses={200: OrganizationPerformanceRecordSerializer, **error_responses(404)},
    )
    def list(self, request: Request, organization_pk: int) -> Response:
        record = selectors.organization_performance_record(self._organization())
        return self._answer(OrganizationPerformanceRecordSerializer, record)
