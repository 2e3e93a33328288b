"""API v1 of the integrity screens (DESIGN 5 and 7; CONTRACTS 3): ``integrity/flags`` (the
review queue, filters kind, tender, severity, status, organization) with ``confirm``,
``dismiss`` and ``resolve``, and ``integrity/screens`` (POST queues a run; GET its progress).

Only officials and auditors reach them; to anyone else a flag is a 404. ID numbers and
phones in the evidence are masked except for auditors. The rules are the services'
(``evaluation.services.integrity``), shared with the pages.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evaluation.models import (
    FlagKind,
    FlagSeverity,
    FlagStatus,
    IntegrityFlag,
    IntegrityRun,
    RunStatus,
    RunTrigger,
)
from evaluation.permissions import integrity as permissions
from evaluation.selectors import integrity as selectors
from evaluation.services import integrity as services
from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    enum_field,
    error_responses,
    parse_input,
)

FlagKindField = enum_field(FlagKind, "IntegrityFlagKindEnum")
FlagSeverityField = enum_field(FlagSeverity, "IntegrityFlagSeverityEnum")
FlagStatusField = enum_field(FlagStatus, "IntegrityFlagStatusEnum")
RunStatusField = enum_field(RunStatus, "IntegrityRunStatusEnum")
RunTriggerField = enum_field(RunTrigger, "IntegrityRunTriggerEnum")


# --- Answers -------------------------------------------------------------------------------------


class FlagSubjectSerializer(serializers.Serializer):
    """What the flag is about: its name and whichever ids apply (null otherwise)."""

    name = serializers.CharField(source="subject_label")
    tender = serializers.IntegerField(source="tender_id", allow_null=True)
    bid = serializers.UUIDField(source="bid_id", allow_null=True)
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    person = serializers.IntegerField(source="person_id", allow_null=True)
    assessor = serializers.IntegerField(source="assessor_id", allow_null=True)


class IntegrityFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = FlagKindField()
    severity = FlagSeverityField()
    subject = FlagSubjectSerializer(source="*")
    evidence = serializers.SerializerMethodField()
    status = FlagStatusField()
    score = serializers.DecimalField(max_digits=6, decimal_places=4)
    double_funding = serializers.BooleanField(source="is_double_funding")
    blocks = serializers.BooleanField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    gone_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()

    def get_evidence(self, flag: IntegrityFlag) -> dict[str, Any]:
        """Structured: which fields matched, the probability, the overlapping period, the
        posts or subsidies involved; ID numbers masked except for auditors."""
        result: dict[str, Any] = selectors.masked_evidence(
            self.context["request"].user, flag.evidence
        )
        return result


class IntegrityRunSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    trigger = RunTriggerField()
    tender = serializers.IntegerField(source="tender_id", allow_null=True)
    status = RunStatusField()
    progress = serializers.IntegerField()
    step = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    new_flags = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()


# --- Input ---------------------------------------------------------------------------------------


class FlagQuerySerializer(serializers.Serializer):
    kind = FlagKindField(required=False)
    severity = FlagSeverityField(required=False)
    status = FlagStatusField(required=False)
    tender = serializers.IntegerField(min_value=1, required=False)
    organization = serializers.IntegerField(min_value=1, required=False)
    page = serializers.IntegerField(min_value=1, required=False)


class FlagConfirmSerializer(OnlyKnownFields):
    note = serializers.CharField(allow_blank=True, required=False, default="", max_length=4000)


class FlagDismissSerializer(OnlyKnownFields):
    reason = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("Required: why the flag is dismissed.")
    )


class FlagResolveSerializer(OnlyKnownFields):
    resolution = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("Required: how the problem was resolved.")
    )


class ScreensRunInputSerializer(OnlyKnownFields):
    tender = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


# --- Views ---------------------------------------------------------------------------------------


class IntegrityFlagViewSet(ApiViewSet):
    """Integrity flags (DESIGN 5): the review queue of officials and auditors."""

    serializer_class = IntegrityFlagSerializer

    def _flag(self) -> IntegrityFlag:
        return selectors.flag_get_for_user(self.request.user, self.kwargs["pk"])

    def _full(self, flag: IntegrityFlag) -> Response:
        flag = selectors.flag_get_for_user(self.request.user, flag.pk)
        return self._answer(IntegrityFlagSerializer, flag)

    @extend_schema(
        summary="The integrity flags (officials and auditors)",
        description=(
            "Open flags first, then by severity. Filters: kind, severity, status, tender and "
            "organization (ids)."
        ),
        parameters=[FlagQuerySerializer],
        responses={
            200: IntegrityFlagSerializer(many=True),
            **error_responses(400, 401, 403),
        },
    )
    def list(self, request: Request) -> Response:
        allow(permissions.can_view_integrity_flags(self.user))
        parse_input(FlagQuerySerializer, request, request.query_params)
        flags, filterset = selectors.flag_queue(self.user, filters=request.query_params)
        if filterset.is_bound and not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return self._page(IntegrityFlagSerializer, flags)

    @extend_schema(
        summary="One integrity flag with its evidence",
        responses={200: IntegrityFlagSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(IntegrityFlagSerializer, self._flag())

    @extend_schema(
        summary="Confirm a flag (an official or an auditor)",
        description=(
            "Confirmed double funding blocks the award of the bid, or the release of the "
            "contract's payments, it concerns until the flag is resolved."
        ),
        request=FlagConfirmSerializer,
        responses={200: IntegrityFlagSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        flag = self._flag()
        data = parse_input(FlagConfirmSerializer, request)
        return self._full(services.flag_confirm(flag=flag, actor=self.user, note=data["note"]))

    @extend_schema(
        summary="Dismiss a flag with the reason (an official or an auditor)",
        request=FlagDismissSerializer,
        responses={200: IntegrityFlagSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: int) -> Response:
        flag = self._flag()
        data = parse_input(FlagDismissSerializer, request)
        return self._full(services.flag_dismiss(flag=flag, actor=self.user, reason=data["reason"]))

    @extend_schema(
        summary="Resolve a confirmed flag, saying how (an official or an auditor)",
        request=FlagResolveSerializer,
        responses={200: IntegrityFlagSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: int) -> Response:
        flag = self._flag()
        data = parse_input(FlagResolveSerializer, request)
        return self._full(
            services.flag_resolve(flag=flag, actor=self.user, resolution=data["resolution"])
        )


class IntegrityScreensViewSet(ApiViewSet):
    """Runs of the integrity screens: queue one, follow its progress."""

    serializer_class = IntegrityRunSerializer

    @extend_schema(
        summary="Runs of the integrity screens, newest first (officials and auditors)",
        responses={200: IntegrityRunSerializer(many=True), **error_responses(401, 403)},
    )
    def list(self, request: Request) -> Response:
        allow(permissions.can_run_integrity_screens(self.user))
        return self._page(IntegrityRunSerializer, selectors.run_list_for_user(self.user))

    @extend_schema(
        summary="One run with its progress and counts per flag kind",
        responses={200: IntegrityRunSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(
            IntegrityRunSerializer, selectors.run_get_for_user(self.user, self.kwargs["pk"])
        )

    @extend_schema(
        summary="Run every screen (over one tender, or everything)",
        description=(
            "`{tender?}`: the run is queued for a worker; follow `progress` (0-100) on "
            "GET integrity/screens/{id}/. The flags are the same as the command's."
        ),
        request=ScreensRunInputSerializer,
        responses={202: IntegrityRunSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request) -> Response:
        allow(permissions.can_run_integrity_screens(self.user))
        data = parse_input(ScreensRunInputSerializer, request)
        tender = selectors.tender_for_screens(self.user, data["tender"])
        run: IntegrityRun = services.screens_request(actor=self.user, tender=tender)
        run = selectors.run_get_for_user(self.user, run.pk)
        return self._answer(IntegrityRunSerializer, run, status=202)
