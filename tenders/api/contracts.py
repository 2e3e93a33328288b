"""Contracts API v1: ``contracts`` (+ ``sign``, ``terminate``), ``contracts/{id}/milestones``
(+ ``payment``), ``contracts/{id}/team-changes`` and ``team-changes/{id}/approve|reject``.

Each view parses the input, calls one service or selector and answers with one
serializer; errors are ``{"error", "detail", "fields"}`` with a 4xx status. Team names are
masked for the public; no ID number or phone is ever part of an answer.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
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
from marketplace.permissions import is_official
from tenders.api import TenderField
from tenders.models import (
    Contract,
    ContractStatus,
    EvaluationKind,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    PerformanceGrade,
    TeamChange,
    TeamChangeKind,
    TeamChangeStatus,
)
from tenders.permissions import contracts as permissions
from tenders.selectors import contracts as selectors
from tenders.selectors.contracts import ContractFilter
from tenders.services import contracts as services

ContractStatusField = enum_field(ContractStatus, "ContractStatusEnum")
ContractPassGradeField = enum_field(PerformanceGrade, "ContractPassGradeEnum")
MilestoneStatusField = enum_field(MilestoneStatus, "MilestoneStatusEnum")
MilestoneKindField = enum_field(MilestoneKind, "MilestoneKindEnum")
MilestoneEvaluationField = enum_field(EvaluationKind, "MilestoneEvaluationEnum")
TeamChangeKindField = enum_field(TeamChangeKind, "TeamChangeKindEnum")
TeamChangeStatusField = enum_field(TeamChangeStatus, "TeamChangeStatusEnum")


# --- Answers -------------------------------------------------------------------------------------


class ContractSummarySerializer(serializers.ModelSerializer):
    """A contract in a list."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    organization_uscc = serializers.CharField(source="organization.uscc", read_only=True)
    status = ContractStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    signature_overdue = serializers.SerializerMethodField()
    released_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    withheld_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "reference",
            "title",
            "tender",
            "organization",
            "organization_name",
            "organization_uscc",
            "price",
            "service_start",
            "service_end",
            "status",
            "status_label",
            "sign_due",
            "signature_overdue",
            "published_at",
            "released_total",
            "withheld_total",
        ]
        read_only_fields = fields

    def get_signature_overdue(self, contract: Contract) -> bool:
        """Still a draft after the 30 days from the award notice."""
        return contract.status == ContractStatus.DRAFT and timezone.localdate() > contract.sign_due


class MilestoneSerializer(serializers.ModelSerializer):
    """One step of the payment plan with its settlement; the payment reference only for the
    parties and auditors."""

    name = serializers.CharField(
        source="label",
        read_only=True,
        help_text=gettext_lazy("The title in the caller's language."),
    )
    kind = MilestoneKindField(read_only=True)
    evaluation_kind = MilestoneEvaluationField(read_only=True, allow_null=True)
    status = MilestoneStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    payment_reference = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            "contract",
            "sequence",
            "title",
            "title_en",
            "name",
            "kind",
            "evaluation_kind",
            "share",
            "amount",
            "due_date",
            "status",
            "status_label",
            "released_amount",
            "withheld_amount",
            "decision_reason",
            "checked_at",
            "settled_at",
            "paid_on",
            "payment_reference",
        ]
        read_only_fields = fields

    def get_payment_reference(self, milestone: Milestone) -> str | None:
        if not self.context.get("see_payments"):
            return None
        return milestone.payment_reference or None


class ContractTeamMemberSerializer(serializers.Serializer):
    """A member of the service team; the name is masked for the public."""

    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    name = serializers.CharField()
    role = serializers.CharField()
    fte = serializers.DecimalField(max_digits=3, decimal_places=2)
    from_bid = serializers.BooleanField()
    joined_on = serializers.DateField()
    left_on = serializers.DateField(allow_null=True)


class ContractPaymentsSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    released = serializers.DecimalField(max_digits=14, decimal_places=2)
    withheld = serializers.DecimalField(max_digits=14, decimal_places=2)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2)


class ContractSerializer(ContractSummarySerializer):
    """The whole contract: terms, signatures, the team, milestones and payments."""

    programme = serializers.CharField(source="programme.code", read_only=True)
    payment_split = serializers.CharField(source="programme.split_label", read_only=True)
    pass_grade = ContractPassGradeField(read_only=True)
    team = serializers.SerializerMethodField()
    milestones = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    class Meta(ContractSummarySerializer.Meta):
        fields = [
            *ContractSummarySerializer.Meta.fields,
            "award",
            "programme",
            "payment_split",
            "pass_grade",
            "long_term_reason",
            "deliverables",
            "purchaser_signed_at",
            "supplier_signed_at",
            "started_at",
            "completed_at",
            "terminated_at",
            "termination_reason",
            "team",
            "milestones",
            "payments",
        ]
        read_only_fields = fields

    @extend_schema_field(ContractTeamMemberSerializer(many=True))
    def get_team(self, contract: Contract) -> list[dict[str, Any]]:
        return ContractTeamMemberSerializer(self.context["team"], many=True).data  # type: ignore[return-value]

    @extend_schema_field(MilestoneSerializer(many=True))
    def get_milestones(self, contract: Contract) -> list[dict[str, Any]]:
        return MilestoneSerializer(  # type: ignore[return-value]
            self.context["milestones"], many=True, context=self.context
        ).data

    @extend_schema_field(ContractPaymentsSerializer)
    def get_payments(self, contract: Contract) -> dict[str, Any]:
        summary = selectors.payment_summary(contract, self.context["milestones"])
        return ContractPaymentsSerializer(summary).data


class TeamChangeSerializer(serializers.ModelSerializer):
    kind = TeamChangeKindField(read_only=True)
    status = TeamChangeStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    leaving_name = serializers.CharField(source="leaving.person.name", read_only=True, default=None)
    joining_name = serializers.CharField(source="joining.name", read_only=True, default=None)

    class Meta:
        model = TeamChange
        fields = [
            "id",
            "contract",
            "kind",
            "leaving",
            "leaving_name",
            "joining",
            "joining_name",
            "role",
            "fte",
            "reason",
            "status",
            "status_label",
            "requested_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


# --- Input ---------------------------------------------------------------------------------------


class ContractCreateSerializer(OnlyKnownFields):
    tender = TenderField(help_text=gettext_lazy("The awarded tender's id."))
    service_start = serializers.DateField(required=False, allow_null=True, default=None)
    service_end = serializers.DateField(required=False, allow_null=True, default=None)
    long_term_reason = serializers.CharField(required=False, allow_blank=True, default="")
    deliverables = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("The tender's description when empty."),
    )


class ContractMilestoneInputSerializer(OnlyKnownFields):
    sequence = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    due_date = serializers.DateField(required=False)


class ContractUpdateSerializer(OnlyKnownFields):
    service_start = serializers.DateField(required=False)
    service_end = serializers.DateField(required=False)
    long_term_reason = serializers.CharField(required=False, allow_blank=True)
    deliverables = serializers.CharField(required=False, allow_blank=True)
    milestones = ContractMilestoneInputSerializer(
        many=True,
        required=False,
        help_text=gettext_lazy(
            "Amounts and due dates by sequence; the amounts must add up to the price."
        ),
    )


class ContractTerminateSerializer(OnlyKnownFields):
    reason = serializers.CharField(allow_blank=True)


class TeamChangeCreateSerializer(OnlyKnownFields):
    kind = TeamChangeKindField()
    leaving = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("The team member leaving (remove, replace)."),
    )
    joining = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("The person joining, an employee of the supplier (add, replace)."),
    )
    role = serializers.CharField(required=False, allow_blank=True, default="")
    fte = serializers.DecimalField(
        max_digits=3, decimal_places=2, required=False, allow_null=True, default=None
    )
    reason = serializers.CharField(allow_blank=True)


class TeamChangeDecisionSerializer(OnlyKnownFields):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MilestonePaymentSerializer(OnlyKnownFields):
    paid_on = serializers.DateField()
    reference = serializers.CharField(allow_blank=True)


# --- Views -------------------------------------------------------------------------------------


class _ContractsViewSet(ApiViewSet):
    def _contract(self, pk: Any) -> Contract:
        return selectors.contract_get_for_user(self.request.user, pk)

    def _contract_answer(self, contract: Contract, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (totals, team) as a GET.
        user = self.request.user
        contract = self._contract(contract.pk)
        return self._answer(
            ContractSerializer,
            contract,
            status=status,
            team=selectors.contract_team_for_user(user, contract),
            milestones=list(selectors.milestone_list_for_user(user, contract)),
            see_payments=permissions.can_see_payments(user, contract),
        )


class ContractViewSet(_ContractsViewSet):
    """Contracts drawn up from awards: public once signed, drafts for the two parties."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    # The filter backend only describes the query parameters in the schema; the list runs
    # the same ContractFilter inside ``selectors.contract_directory``.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContractFilter
    serializer_class = ContractSummarySerializer

    def get_queryset(self) -> Any:
        return selectors.contract_list_for_user(self.request.user)

    @extend_schema(
        summary="List contracts",
        description="Signed contracts for everyone; drafts too for the two parties and auditors.",
        auth=[],
        responses={200: ContractSummarySerializer(many=True), **error_responses(400)},
    )
    def list(self, request: Request) -> Response:
        contracts, filterset = selectors.contract_directory(
            request.user, filters=request.query_params or None
        )
        if filterset.is_bound and not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return self._page(ContractSummarySerializer, contracts)

    @extend_schema(
        summary="Draw up the contract of an awarded tender (an official)",
        description=(
            "Once the challenge window is over. Parties, price and team come from the award; "
            "the milestones from the programme's payment plan. A term over one year needs "
            "`long_term_reason`; three years or more is refused."
        ),
        request=ContractCreateSerializer,
        responses={201: ContractSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        allow(is_official(self.user))
        data = parse_input(ContractCreateSerializer, request)
        contract = services.contract_draft(actor=self.user, **data)
        return self._contract_answer(contract, status=201)

    @extend_schema(
        summary="One contract",
        auth=[],
        responses={200: ContractSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._contract_answer(self._contract(pk))

    @extend_schema(
        summary="Change the draft (an official, before any signature)",
        request=ContractUpdateSerializer,
        responses={200: ContractSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        contract = self._contract(pk)
        allow(permissions.can_edit_contract(self.user, contract))
        data = parse_input(ContractUpdateSerializer, request)
        milestones = data.pop("milestones", None)
        contract = services.contract_update(
            contract=contract,
            actor=self.user,
            milestones=[dict(m) for m in milestones] if milestones is not None else None,
            **data,
        )
        return self._contract_answer(contract)

    @extend_schema(
        summary="Sign for your side (an official for the office, an admin of the supplier)",
        description=(
            "The second signature makes the contract binding and public; delivery starts when "
            "the service period has begun. A late signature is accepted and recorded as late."
        ),
        request=None,
        responses={200: ContractSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def sign(self, request: Request, pk: int) -> Response:
        contract = self._contract(pk)
        allow(permissions.signs_for_a_side(self.user, contract))
        return self._contract_answer(services.contract_sign(contract=contract, actor=self.user))

    @extend_schema(
        summary="Terminate the contract (an official, with a public reason)",
        description="Every milestone not yet settled is withheld with the termination as reason.",
        request=ContractTerminateSerializer,
        responses={200: ContractSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def terminate(self, request: Request, pk: int) -> Response:
        contract = self._contract(pk)
        allow(permissions.can_terminate_contract(self.user, contract))
        data = parse_input(ContractTerminateSerializer, request)
        contract = services.contract_terminate(
            contract=contract, actor=self.user, reason=data["reason"]
        )
        return self._contract_answer(contract)


class ContractMilestoneViewSet(_ContractsViewSet):
    """A contract's milestones: amounts, due dates, released and withheld money, reasons."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = MilestoneSerializer

    def _context(self, contract: Contract) -> dict[str, Any]:
        return {"see_payments": permissions.can_see_payments(self.request.user, contract)}

    @extend_schema(
        summary="The contract's milestones",
        auth=[],
        responses={200: MilestoneSerializer(many=True), **error_responses(404)},
    )
    def list(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract(contract_pk)
        milestones = selectors.milestone_list_for_user(request.user, contract)
        return self._page(MilestoneSerializer, milestones, **self._context(contract))

    @extend_schema(
        summary="One milestone",
        auth=[],
        responses={200: MilestoneSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, contract_pk: int, pk: int) -> Response:
        contract = self._contract(contract_pk)
        milestone = selectors.milestone_get_for_user(request.user, contract, pk)
        return self._answer(MilestoneSerializer, milestone, **self._context(contract))

    @extend_schema(
        summary="Record the transfer of a released milestone (an official)",
        request=MilestonePaymentSerializer,
        responses={200: MilestoneSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def payment(self, request: Request, contract_pk: int, pk: int) -> Response:
        contract = self._contract(contract_pk)
        milestone = selectors.milestone_get_for_user(request.user, contract, pk)
        allow(is_official(self.user))
        data = parse_input(MilestonePaymentSerializer, request)
        milestone = services.milestone_payment_record(
            milestone=milestone,
            actor=self.user,
            paid_on=data["paid_on"],
            reference=data["reference"],
        )
        return self._answer(MilestoneSerializer, milestone, **self._context(contract))


class ContractTeamChangeViewSet(_ContractsViewSet):
    """Changes of a contract's service team: asked by the supplier's admin."""

    permission_classes = [IsAuthenticated]
    serializer_class = TeamChangeSerializer

    @extend_schema(
        summary="The contract's team changes (the parties and auditors)",
        responses={200: TeamChangeSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract(contract_pk)
        # Team changes name people: the public and other organizations do not learn of them.
        if not permissions.can_view_team_changes(request.user, contract):
            raise Http404
        return self._page(
            TeamChangeSerializer, selectors.team_change_list_for_user(request.user, contract)
        )

    @extend_schema(
        summary="Ask for a team change (an admin of the supplier)",
        description=(
            "`kind` add (joining, role, fte), remove (leaving) or replace (leaving, joining; "
            "the role and fte of the member leaving unless given). The person joining must "
            "be a current employee of the supplier."
        ),
        request=TeamChangeCreateSerializer,
        responses={201: TeamChangeSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract(contract_pk)
        allow(permissions.can_request_team_change(self.user, contract))
        data = parse_input(TeamChangeCreateSerializer, request)
        change = services.team_change_request(contract=contract, actor=self.user, **data)
        change = selectors.team_change_get_for_user(self.user, change.pk)
        return self._answer(TeamChangeSerializer, change, status=201)


class TeamChangeViewSet(_ContractsViewSet):
    """One team change, and an official's decision on it."""

    permission_classes = [IsAuthenticated]
    serializer_class = TeamChangeSerializer

    def _change(self, pk: Any) -> TeamChange:
        return selectors.team_change_get_for_user(self.request.user, pk)

    def _decide(self, request: Request, pk: int, *, approve: bool) -> Response:
        change = self._change(pk)
        allow(is_official(self.user))
        data = parse_input(TeamChangeDecisionSerializer, request)
        services.team_change_decide(
            change=change, actor=self.user, approve=approve, note=data["note"]
        )
        return self._answer(TeamChangeSerializer, self._change(pk))

    @extend_schema(
        summary="One team change (the parties and auditors)",
        responses={200: TeamChangeSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(TeamChangeSerializer, self._change(pk))

    @extend_schema(
        summary="Approve a team change (an official): the team changes from today",
        request=TeamChangeDecisionSerializer,
        responses={200: TeamChangeSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        return self._decide(request, pk, approve=True)

    @extend_schema(
        summary="Reject a team change (an official, with a note)",
        request=TeamChangeDecisionSerializer,
        responses={200: TeamChangeSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._decide(request, pk, approve=False)
