"""API v1 of third-party performance evaluation (DESIGN 4.5 and 7): ``performance-evaluations``
(scoped reads, assignment), their ``declare``, ``scores``, ``submit``, ``reply`` and
``withdraw`` sub-resources, and the ``performance-indicator-sets``.

Views parse input, call one service or selector and answer; the rules are the services'
(``evaluation.services.performance``), shared with the pages. A draft's scores are the
assessor's only: ``scores`` answers 404 to anyone else until the submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation.models import (
    PerformanceEvaluation,
    PerformanceEvaluationStatus,
    PerformanceGroup,
    PerformanceIndicator,
    PerformanceIndicatorSet,
)
from evaluation.permissions import is_office_or_auditor
from evaluation.permissions import performance as permissions
from evaluation.selectors import performance as selectors
from evaluation.services import performance as services
from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    enum_field,
    error_responses,
    parse_input,
)
from marketplace.models import Role
from marketplace.permissions import has_role, is_official
from tenders.models import EvaluationKind, MilestoneStatus, PerformanceGrade

EvaluationKindField = enum_field(EvaluationKind, "PerformanceEvaluationKindEnum")
EvaluationStatusField = enum_field(PerformanceEvaluationStatus, "PerformanceEvaluationStatusEnum")
GradeField = enum_field(PerformanceGrade, "PerformanceGradeEnum")
GroupField = enum_field(PerformanceGroup, "PerformanceGroupEnum")
MilestoneStatusField = enum_field(MilestoneStatus, "PerformanceMilestoneStatusEnum")


# --- Answers -------------------------------------------------------------------------------------


class PerformanceContractSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    title = serializers.CharField()
    organization = serializers.IntegerField(source="organization_id")
    organization_name = serializers.CharField(source="organization.name")
    pass_grade = GradeField()


class PerformanceMilestoneSerializer(serializers.Serializer):
    """The payment tied to the evaluation: amounts are public with the contract."""

    id = serializers.IntegerField(source="pk")
    sequence = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = MilestoneStatusField()
    released_amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    withheld_amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    reason = serializers.CharField(source="decision_reason")


class PerformanceEvaluationSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    contract = PerformanceContractSerializer()
    kind = EvaluationKindField()
    status = EvaluationStatusField()
    due_date = serializers.DateField()
    assigned_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    total_score = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    grade = GradeField(allow_null=True)


class PerformanceScoreLineSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code")
    name = serializers.CharField(source="indicator.label")
    group = GroupField(source="indicator.group")
    max_points = serializers.DecimalField(
        source="indicator.max_points", max_digits=5, decimal_places=1
    )
    from_survey = serializers.BooleanField(source="indicator.is_satisfaction")
    score = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    evidence = serializers.CharField()


class PerformanceGroupTotalSerializer(serializers.Serializer):
    group = GroupField(source="code")
    weight = serializers.DecimalField(max_digits=5, decimal_places=1)
    total = serializers.DecimalField(max_digits=5, decimal_places=1)


@dataclass(frozen=True)
class PerformanceView:
    evaluation: PerformanceEvaluation
    sheet: selectors.ScoreSheetView
    show_assessor: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.evaluation, name)


class PerformanceEvaluationSerializer(PerformanceEvaluationSummarySerializer):
    """One evaluation: after the submission with its scores by indicator and group, the
    conclusion and the reply; the assessor for the street office, auditors and themself."""

    assessor = serializers.SerializerMethodField()
    declared_at = serializers.DateTimeField(allow_null=True)
    satisfaction_answers = serializers.IntegerField()
    satisfaction_rate = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    conclusion = serializers.SerializerMethodField()
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    withdrawn_reason = serializers.CharField()
    milestone = PerformanceMilestoneSerializer(allow_null=True)
    scores = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    def get_assessor(self, view: PerformanceView) -> str | None:
        return view.evaluation.assessor.get_full_name() if view.show_assessor else None

    def get_conclusion(self, view: PerformanceView) -> str:
        return view.evaluation.conclusion if view.sheet.scores_visible else ""

    def get_scores(self, view: PerformanceView) -> list[dict[str, Any]]:
        if not view.sheet.scores_visible:
            return []
        return list(PerformanceScoreLineSerializer(view.sheet.lines, many=True).data)

    def get_groups(self, view: PerformanceView) -> list[dict[str, Any]]:
        if not view.sheet.scores_visible:
            return []
        return list(PerformanceGroupTotalSerializer(view.sheet.groups, many=True).data)


class PerformanceDraftScoresSerializer(serializers.Serializer):
    """The assessor's draft: every indicator with its score (null when not scored yet), the
    running total and the grade it would give."""

    scores = PerformanceScoreLineSerializer(source="sheet.lines", many=True)
    groups = PerformanceGroupTotalSerializer(source="sheet.groups", many=True)
    total = serializers.DecimalField(source="sheet.total", max_digits=4, decimal_places=1)
    grade = GradeField(source="sheet.grade")
    conclusion = serializers.CharField(source="evaluation.conclusion")
    survey_answers = serializers.IntegerField(source="survey.answers")
    survey_rate = serializers.DecimalField(
        source="survey.rate", max_digits=4, decimal_places=1, allow_null=True
    )


@dataclass(frozen=True)
class DraftView:
    evaluation: PerformanceEvaluation
    sheet: selectors.ScoreSheetView
    survey: Any


class PerformanceIndicatorSerializer(serializers.ModelSerializer):
    group = GroupField()

    class Meta:
        model = PerformanceIndicator
        fields = ["code", "group", "name", "name_en", "guidance", "max_points", "is_satisfaction"]


class PerformanceIndicatorSetSerializer(serializers.ModelSerializer):
    indicators = PerformanceIndicatorSerializer(many=True)
    weights = serializers.SerializerMethodField()

    class Meta:
        model = PerformanceIndicatorSet
        fields = ["id", "name", "name_en", "version", "is_current", "weights", "indicators"]

    def get_weights(self, obj: PerformanceIndicatorSet) -> dict[str, Decimal]:
        return {line.code: line.weight for line in selectors.indicator_set_groups(obj)}


# --- Input ---------------------------------------------------------------------------------------


class PerformanceQuerySerializer(serializers.Serializer):
    kind = EvaluationKindField(required=False)
    status = EvaluationStatusField(required=False)
    grade = GradeField(required=False)
    organization = serializers.IntegerField(min_value=1, required=False)


class PerformanceAssignSerializer(OnlyKnownFields):
    contract = serializers.IntegerField(min_value=1)
    kind = EvaluationKindField()
    assessor = serializers.PrimaryKeyRelatedField(
        queryset=selectors.assessor_choices(),
        help_text=gettext_lazy("An active assessor of the pool, independent of the supplier."),
    )
    due_date = serializers.DateField()


class PerformanceScoreItemSerializer(OnlyKnownFields):
    score = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    evidence = serializers.CharField(allow_blank=True, required=False, default="")


class PerformanceScoresInputSerializer(OnlyKnownFields):
    scores = serializers.DictField(
        child=PerformanceScoreItemSerializer(),
        help_text=gettext_lazy(
            "Indicator code → {score, evidence}; a null or empty score clears it. Problems "
            "are named by indicator code under fields."
        ),
    )
    conclusion = serializers.CharField(
        allow_blank=True, required=False, max_length=8000, allow_null=True, default=None
    )


class PerformanceWithdrawSerializer(OnlyKnownFields):
    reason = serializers.CharField(allow_blank=True)


class PerformanceReplySerializer(OnlyKnownFields):
    reply = serializers.CharField(allow_blank=True)


# --- Views ---------------------------------------------------------------------------------------


class PerformanceEvaluationViewSet(ApiViewSet):
    """Third-party performance evaluations of contracts (第三方绩效评价)."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = PerformanceEvaluationSerializer

    def _evaluation(self) -> PerformanceEvaluation:
        return selectors.performance_evaluation_get_for_user(self.request.user, self.kwargs["pk"])

    def _view(self, evaluation: PerformanceEvaluation) -> PerformanceView:
        user = self.request.user
        return PerformanceView(
            evaluation=evaluation,
            sheet=selectors.performance_score_sheet(user, evaluation),
            show_assessor=is_office_or_auditor(user)
            or permissions.is_evaluation_assessor(user, evaluation),
        )

    def _full(self, evaluation: PerformanceEvaluation, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape as a GET.
        evaluation = selectors.performance_evaluation_get_for_user(self.request.user, evaluation.pk)
        return self._answer(PerformanceEvaluationSerializer, self._view(evaluation), status=status)

    @extend_schema(
        summary="Performance evaluations the caller may read",
        description=(
            "All for the street office and auditors; an assessor's own; an organization's "
            "own contracts' once submitted; for everyone, final evaluations with a result. "
            "Filters: kind, status, grade, organization (id)."
        ),
        auth=[],
        parameters=[PerformanceQuerySerializer],
        responses={
            200: PerformanceEvaluationSummarySerializer(many=True),
            **error_responses(400),
        },
    )
    def list(self, request: Request) -> Response:
        parse_input(PerformanceQuerySerializer, request, request.query_params)
        evaluations, filterset = selectors.performance_evaluation_directory(
            request.user, filters=request.query_params
        )
        if filterset.is_bound and not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return self._page(PerformanceEvaluationSummarySerializer, evaluations)

    @extend_schema(
        summary="One performance evaluation",
        description=(
            "Scores, group totals and the conclusion once submitted (a draft's are the "
            "assessor's only, see scores); the tied milestone's outcome; the reply."
        ),
        auth=[],
        responses={200: PerformanceEvaluationSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(PerformanceEvaluationSerializer, self._view(self._evaluation()))

    @extend_schema(
        summary="Assign an evaluation of a contract in delivery (an official)",
        description=(
            "`{contract, kind, assessor, due_date}`: the milestone paid on this kind of "
            "evaluation is tied to it. An assessor in conflict with the supplier (employed "
            "by it within 3 years, a declared relation, staff of the purchasing unit) is "
            "refused under fields.assessor, naming the conflict."
        ),
        request=PerformanceAssignSerializer,
        responses={201: PerformanceEvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request) -> Response:
        allow(is_official(self.user))
        data = parse_input(PerformanceAssignSerializer, request)
        contract = selectors.contract_for_assignment(self.user, data["contract"])
        evaluation = services.performance_evaluation_assign(
            contract=contract,
            kind=data["kind"],
            assessor=data["assessor"],
            due_date=data["due_date"],
            actor=self.user,
        )
        return self._full(evaluation, status=201)

    @extend_schema(
        summary="Declare independence from the supplier (the assessor, before scoring)",
        description="The conflict rules are checked again at this moment.",
        request=None,
        responses={200: PerformanceEvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def declare(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        allow(has_role(self.user, Role.ASSESSOR))
        return self._full(services.performance_declare(evaluation=evaluation, actor=self.user))

    def _draft(self, evaluation: PerformanceEvaluation) -> Response:
        view = DraftView(
            evaluation=evaluation,
            sheet=selectors.performance_score_sheet(self.user, evaluation),
            survey=selectors.contract_survey_result(evaluation.contract),
        )
        return self._answer(PerformanceDraftScoresSerializer, view)

    @extend_schema(
        summary="The draft scores (the assessor)",
        description="Every indicator with the saved score and evidence, the running total.",
        responses={200: PerformanceDraftScoresSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"], permission_classes=[IsAuthenticated])
    def scores(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        selectors.performance_scores_for_user(self.user, evaluation)  # 404 unless allowed
        return self._draft(evaluation)

    @extend_schema(
        summary="Save draft scores (the assessor, after the declaration)",
        description=(
            "`{scores: {code: {score, evidence}}, conclusion}`: some or all indicators; each "
            "score within [0, the indicator's points], one decimal. The satisfaction indicator "
            "is scored from the survey when it has answers. A problem saves nothing."
        ),
        request=PerformanceScoresInputSerializer,
        responses={200: PerformanceDraftScoresSerializer, **error_responses(400, 401, 403, 404)},
    )
    @scores.mapping.put
    def scores_save(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        allow(permissions.can_score_performance(self.user, evaluation))
        data = parse_input(PerformanceScoresInputSerializer, request)
        evaluation = services.performance_scores_save(
            evaluation=evaluation,
            actor=self.user,
            scores=data["scores"],
            conclusion=data.get("conclusion"),
        )
        return self._draft(evaluation)

    @extend_schema(
        summary="Submit the evaluation (the assessor)",
        description=(
            "Every indicator scored, evidence for a score below its maximum, a conclusion. "
            "The grade releases or withholds the tied milestone; a poor final result proposes "
            "an abnormal-activity list entry for the registry."
        ),
        request=None,
        responses={200: PerformanceEvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def submit(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        allow(permissions.can_submit_performance_evaluation(self.user, evaluation))
        return self._full(
            services.performance_evaluation_submit(evaluation=evaluation, actor=self.user)
        )

    @extend_schema(
        summary="Reply to the conclusion (the organization's administrator, once)",
        request=PerformanceReplySerializer,
        responses={200: PerformanceEvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def reply(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        allow(permissions.is_admin_of_supplier(self.user, evaluation))
        data = parse_input(PerformanceReplySerializer, request)
        return self._full(
            services.performance_reply(evaluation=evaluation, actor=self.user, reply=data["reply"])
        )

    @extend_schema(
        summary="Withdraw the evaluation before its submission (an official)",
        request=PerformanceWithdrawSerializer,
        responses={200: PerformanceEvaluationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def withdraw(self, request: Request, pk: int) -> Response:
        evaluation = self._evaluation()
        allow(is_official(self.user))
        data = parse_input(PerformanceWithdrawSerializer, request)
        return self._full(
            services.performance_evaluation_withdraw(
                evaluation=evaluation, actor=self.user, reason=data["reason"]
            )
        )


class PerformanceIndicatorSetViewSet(ApiViewSet):
    """The indicator sets of performance evaluation, with their group weights (public)."""

    permission_classes = [AllowAny]
    serializer_class = PerformanceIndicatorSetSerializer

    @extend_schema(
        summary="Performance indicator sets (the one in use first)",
        auth=[],
        responses={200: PerformanceIndicatorSetSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        return self._page(PerformanceIndicatorSetSerializer, selectors.indicator_set_list())

    @extend_schema(
        summary="One performance indicator set",
        auth=[],
        responses={200: PerformanceIndicatorSetSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(PerformanceIndicatorSetSerializer, selectors.indicator_set_get(pk))
