"""API v1 of the registries of public funding (DESIGN.md 7): ``staffing-records`` and
``subsidies`` (read, filtered; ``import`` as a POST sub-resource) and ``funding-imports``
(the versions, with the progress of a running one).

Auditors import and read everything; officials read with ID numbers masked; anyone else
gets empty lists and 404s (the reads are scoped by the selectors).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from marketplace.api_base import ApiViewSet, allow, enum_field, error_responses, parse_input
from marketplace.filters import MAX_ID
from orgs_registry import permissions_funding as permissions
from orgs_registry import selectors_funding as selectors
from orgs_registry.identifiers import mask_id_number
from orgs_registry.models import (
    FundingImport,
    FundingImportKind,
    FundingImportStatus,
    PostFunding,
    PostType,
    Sex,
    StaffingRecord,
    Subsidy,
)
from orgs_registry.services_funding import funding_import_start

FundingImportKindField = enum_field(FundingImportKind, "FundingImportKind")
FundingImportStatusField = enum_field(FundingImportStatus, "FundingImportStatus")
PostTypeField = enum_field(PostType, "PostType")
PostFundingField = enum_field(PostFunding, "PostFunding")
StaffingSexField = enum_field(Sex, "StaffingSex")


class FundingImportSerializer(serializers.ModelSerializer):
    kind = FundingImportKindField(read_only=True)
    status = FundingImportStatusField(read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent of rows written.")
    imported_by = serializers.CharField(
        source="imported_by.get_full_name", read_only=True, default=None
    )

    class Meta:
        model = FundingImport
        fields = [
            "id",
            "kind",
            "file_name",
            "sha256",
            "status",
            "row_count",
            "rows_done",
            "progress",
            "is_current",
            "errors",
            "note",
            "imported_by",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class FundingUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=gettext_lazy("A CSV (UTF-8 or GB18030) or XLSX file."), allow_empty_file=True
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StaffingRecordSerializer(serializers.ModelSerializer):
    """A roster row; the ID number and birth date in full for auditors only."""

    version = serializers.IntegerField(source="funding_import_id", read_only=True)
    id_number = serializers.SerializerMethodField()
    id_number_normalized = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    sex = StaffingSexField(read_only=True)
    post_type = PostTypeField(read_only=True)
    funding_type = PostFundingField(read_only=True)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = StaffingRecord
        fields = [
            "id",
            "version",
            "row_number",
            "person_name",
            "id_number",
            "id_number_normalized",
            "birth_date",
            "sex",
            "employing_unit",
            "unit_uscc",
            "post_type",
            "funding_type",
            "category",
            "function_text",
            "start",
            "end",
        ]
        read_only_fields = fields

    def _full(self) -> bool:
        return permissions.can_view_funding_id_numbers(self.context["request"].user)

    def get_id_number(self, record: StaffingRecord) -> str:
        return record.id_number if self._full() else mask_id_number(record.id_number)

    def get_id_number_normalized(self, record: StaffingRecord) -> str:
        number = record.id_number_normalized
        return number if self._full() else mask_id_number(number)

    def get_birth_date(self, record: StaffingRecord) -> str | None:
        if not self._full() or record.birth_date is None:
            return None
        return record.birth_date.isoformat()


class SubsidySerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="funding_import_id", read_only=True)
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Subsidy
        fields = [
            "id",
            "version",
            "row_number",
            "recipient_name",
            "recipient_uscc",
            "organization",
            "category",
            "purpose_text",
            "amount",
            "period_start",
            "period_end",
            "programme",
        ]
        read_only_fields = fields


_RECORD_FILTERS = [
    OpenApiParameter("version", int, description="An import id; default: the current version"),
    OpenApiParameter("q", str, description="Name, unit (or, for auditors, an ID number)"),
    OpenApiParameter("category", int, description="Service category id"),
    OpenApiParameter("on", str, description="A date (YYYY-MM-DD) the record covers"),
]


def _filters(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    """Query parameters for the selector; a malformed one is a 400 naming it."""
    filters: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        value = request.query_params.get(name, "").strip()
        if not value:
            continue
        if name in ("version", "category", "organization"):
            if not value.isdigit():
                errors[name] = [str(gettext_lazy("A whole number is required."))]
                continue
            if int(value) > MAX_ID:
                errors[name] = [str(gettext_lazy("No record has so large a number."))]
                continue
            filters[name] = int(value)
        elif name == "on":
            try:
                filters[name] = serializers.DateField().to_internal_value(value)
            except serializers.ValidationError as exc:
                errors[name] = [str(message) for message in exc.detail]
        else:
            filters[name] = value
    if errors:
        raise serializers.ValidationError(errors)
    return filters


class _ImportMixin(ApiViewSet):
    kind = ""

    def _import(self, request: Request) -> Response:
        allow(permissions.can_import_funding_registry(self.user))
        data = parse_input(FundingUploadSerializer, request)
        funding_import = funding_import_start(
            kind=self.kind, upload=data["file"], actor=self.user, note=data["note"]
        )
        return self._answer(FundingImportSerializer, funding_import, status=202)


_IMPORT_DESCRIPTION = (
    "The file is typed by content and queued; the answer (202) is the import, whose "
    "`status` and `progress` `GET funding-imports/{id}` follows. It ends `done` (the new "
    "current version) or `failed` with `errors` listing `row N: column: problem` for every "
    "bad row; nothing of a failed import is kept. Auditors only."
)


class StaffingRecordViewSet(_ImportMixin):
    """The staffing roster (编制): the current version unless ``version`` names another."""

    kind = FundingImportKind.STAFFING

    def get_queryset(self) -> Any:
        filters = _filters(self.request, ("version", "q", "unit", "category", "post_type", "on"))
        return selectors.staffing_record_list_for_user(self.request.user, filters=filters)

    @extend_schema(
        summary="Staffing roster records",
        parameters=[
            *_RECORD_FILTERS,
            OpenApiParameter("unit", str, description="Employing unit contains"),
            OpenApiParameter("post_type", str, enum=PostType.values),
        ],
        responses={200: StaffingRecordSerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(StaffingRecordSerializer, self.get_queryset())

    @extend_schema(
        summary="Import a staffing roster (CSV or XLSX), all or nothing",
        description=_IMPORT_DESCRIPTION,
        request={"multipart/form-data": FundingUploadSerializer},
        responses={202: FundingImportSerializer, **error_responses(400, 401, 403)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request) -> Response:
        return self._import(request)


class SubsidyViewSet(_ImportMixin):
    """The subsidy ledger: the current version unless ``version`` names another."""

    kind = FundingImportKind.SUBSIDY

    def get_queryset(self) -> Any:
        filters = _filters(self.request, ("version", "q", "category", "organization", "on"))
        return selectors.subsidy_list_for_user(self.request.user, filters=filters)

    @extend_schema(
        summary="Subsidy ledger records",
        parameters=[
            *_RECORD_FILTERS,
            OpenApiParameter("organization", int, description="Registered organization id"),
        ],
        responses={200: SubsidySerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(SubsidySerializer, self.get_queryset())

    @extend_schema(
        summary="Import a subsidy ledger (CSV or XLSX), all or nothing",
        description=_IMPORT_DESCRIPTION,
        request={"multipart/form-data": FundingUploadSerializer},
        responses={202: FundingImportSerializer, **error_responses(400, 401, 403)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request) -> Response:
        return self._import(request)


class FundingImportViewSet(ApiViewSet):
    """Every version of the roster and the ledger, newest first, with its progress."""

    def get_queryset(self) -> Any:
        kind = self.request.query_params.get("kind", "")
        if kind and kind not in FundingImportKind.values:
            raise serializers.ValidationError(
                {"kind": [str(gettext_lazy("Choose staffing or subsidy."))]}
            )
        return selectors.funding_import_list_for_user(self.request.user, kind=kind or None)

    @extend_schema(
        summary="Funding registry imports (versions)",
        parameters=[OpenApiParameter("kind", str, enum=FundingImportKind.values)],
        responses={200: FundingImportSerializer(many=True), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(FundingImportSerializer, self.get_queryset())

    @extend_schema(
        summary="One import, with its status, progress and problems",
        responses={200: FundingImportSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        funding_import = selectors.funding_import_get_for_user(self.request.user, pk)
        return self._answer(FundingImportSerializer, funding_import)
