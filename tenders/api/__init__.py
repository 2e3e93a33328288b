"""Tenders API v1: tenders, questions, amendments, sealed bids, receipts and the opening.

Views parse input with serializers, call one service or selector, and answer with what
it returns; the rules live once in ``services``, ``selectors`` and ``permissions`` and
are shared with the pages.

The seal (DESIGN.md section 6): bids are reached only through ``tenders.selectors``.
Before the opening a bid is its organization's alone: a bid that is not the caller's is a
404 exactly like a missing one, a tender's bid list holds the caller's own bid and no
other, and the street office asking for the list is told that the bids are sealed (403).
Nothing about a tender says how many bids it has until the opening record is published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    attachment,
    enum_field,
    error_responses,
    parse_input,
)
from marketplace.permissions import is_official, is_org_user
from orgs_registry.selectors import service_category_list
from tenders import permissions, selectors, services
from tenders.filters import TenderFilter
from tenders.models import (
    Amendment,
    Award,
    AwardStatus,
    Bid,
    BidDocumentKind,
    BidReceipt,
    BidStatus,
    Challenge,
    ChallengeDocument,
    ChallengeRemedy,
    ChallengeStatus,
    CriterionKind,
    ProcurementMethod,
    PurchaseNature,
    Question,
    QuestionStatus,
    Tender,
    TenderCriterion,
    TenderDocument,
    TenderStatus,
    TieRule,
)
from tenders.page_cache import cached_public_data
from tenders.selectors import (
    AwardNotice,
    BidContent,
    BidResult,
    ChallengeSummary,
    DocumentLine,
    OpeningRecord,
)

# --- Fields -----------------------------------------------------------------------------------


TenderStatusField = enum_field(TenderStatus, "TenderStatusEnum")
ProcurementMethodField = enum_field(ProcurementMethod, "ProcurementMethodEnum")
PurchaseNatureField = enum_field(PurchaseNature, "PurchaseNatureEnum")
CriterionKindField = enum_field(CriterionKind, "CriterionKindEnum")
TieRuleField = enum_field(TieRule, "TieRuleEnum")
QuestionStatusField = enum_field(QuestionStatus, "QuestionStatusEnum")
BidStatusField = enum_field(BidStatus, "BidStatusEnum")
BidDocumentKindField = enum_field(BidDocumentKind, "BidDocumentKindEnum")


class ReceiptTimeField(serializers.DateTimeField):
    """The server time of a receipt: ISO 8601 in UTC, always with microseconds (DESIGN 6)."""

    def to_representation(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class BandSerializer(serializers.Serializer):
    """A score range of a criterion and what it means."""

    low = serializers.DecimalField(max_digits=5, decimal_places=2)
    high = serializers.DecimalField(max_digits=5, decimal_places=2)
    text = serializers.CharField()


class CriterionInputSerializer(serializers.Serializer):
    """One criterion of the weighted scoring scheme (DESIGN.md 4.4); points sum to 100."""

    code = serializers.CharField()
    name = serializers.CharField()
    kind = CriterionKindField()
    points = serializers.DecimalField(max_digits=5, decimal_places=2)
    description = serializers.CharField(required=False, allow_blank=True)
    bands = BandSerializer(
        many=True,
        required=False,
        help_text=gettext_lazy("What each score range means (subjective and objective criteria)."),
    )
    rule = serializers.DictField(
        required=False,
        help_text=gettext_lazy(
            'Objective criteria: {"type": "grade" | "social_workers" | "past_performance", ...}. '
            "Codes grade, social_workers and past_performance get a default rule."
        ),
    )


class StaffInputSerializer(serializers.Serializer):
    """One person of a bid's staffing plan."""

    person = serializers.IntegerField(
        help_text=gettext_lazy("The person's id on the organization's staff roster.")
    )
    role = serializers.CharField()
    fte = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        help_text=gettext_lazy("Full-time equivalent, more than 0 and at most 1."),
    )


class _RowsField(serializers.ListField):
    """A list of JSON objects handed to the service as they are.

    The service checks the rows (a scoring scheme, a staffing plan) and names each
    problem by its row, so the answer has one message per problem under the field.
    """

    child = serializers.DictField()


@extend_schema_field(CriterionInputSerializer(many=True))
class CriteriaField(_RowsField):
    pass


@extend_schema_field(StaffInputSerializer(many=True))
class StaffPlanField(_RowsField):
    pass


def _communities(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=selectors.community_list(),
        help_text=gettext_lazy("Community codes; none for the whole street office."),
        **kwargs,
    )


def _category(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=service_category_list(),
        help_text=gettext_lazy("A service category code, e.g. elderly_care."),
        **kwargs,
    )


# --- Tenders: answers -------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    kind = CriterionKindField(read_only=True)

    class Meta:
        model = TenderCriterion
        fields = ["code", "name", "kind", "points", "description", "bands", "rule"]
        read_only_fields = fields


class TenderDocumentSerializer(serializers.ModelSerializer):
    """A public tender document; ``download`` serves it as an attachment."""

    name = serializers.CharField(source="original_name", read_only=True)
    amendment = serializers.IntegerField(source="amendment_id", read_only=True, allow_null=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = TenderDocument
        fields = [
            "id",
            "title",
            "name",
            "content_type",
            "size",
            "sha256",
            "amendment",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, document: TenderDocument) -> str:
        return reverse(
            "api:tender-document-download", args=[document.pk], request=self.context["request"]
        )


class AmendmentSerializer(serializers.ModelSerializer):
    """A published amendment (更正公告): what changed, and whether the deadline moved."""

    changes = serializers.SerializerMethodField()
    deadline_moved = serializers.BooleanField(read_only=True)
    documents = TenderDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = Amendment
        fields = [
            "number",
            "summary",
            "changes",
            "affects_preparation",
            "bid_deadline_before",
            "bid_deadline_after",
            "deadline_moved",
            "published_at",
            "documents",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, amendment: Amendment) -> Any:
        """``{field: {before, after}}`` as stored: amounts and times as strings."""
        return json.loads(json.dumps(amendment.changes, cls=DjangoJSONEncoder))


class OpeningRowSerializer(serializers.Serializer):
    organization_name = serializers.CharField()
    uscc = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    received_at = ReceiptTimeField(allow_null=True)
    sha256 = serializers.CharField()
    status = BidStatusField()
    status_label = serializers.CharField()
    warnings = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class OpeningRecordSerializer(serializers.Serializer):
    """开标记录: who bid, at what price, with which receipt hash, opened when and by whom."""

    opened_at = serializers.DateTimeField()
    officials = serializers.ListField(child=serializers.CharField())
    rows = OpeningRowSerializer(many=True)
    not_confirmed = serializers.IntegerField(
        help_text=gettext_lazy("Bids left unconfirmed after an amendment: not opened.")
    )


class TenderSummarySerializer(serializers.ModelSerializer):
    """A tender as the directory lists it. Nothing here depends on bids."""

    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    category_name = serializers.CharField(source="category.name", read_only=True)
    method = ProcurementMethodField(read_only=True)
    method_label = serializers.CharField(source="get_method_display", read_only=True)
    purchase_nature = PurchaseNatureField(read_only=True)
    status = TenderStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    display_status = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy(
            "The status as the public reads it: closed once the deadline passed."
        ),
    )
    communities: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Tender
        fields = [
            "id",
            "reference",
            "title",
            "category",
            "category_name",
            "method",
            "method_label",
            "purchase_nature",
            "budget",
            "status",
            "status_label",
            "display_status",
            "question_deadline",
            "bid_deadline",
            "service_start",
            "service_end",
            "communities",
            "published_at",
        ]
        read_only_fields = fields


class TenderSerializer(TenderSummarySerializer):
    """One tender with its scheme, documents, amendments and, once opened, the opening record."""

    criteria = CriterionSerializer(many=True, read_only=True)
    tie_rule = TieRuleField(read_only=True)
    documents = TenderDocumentSerializer(many=True, read_only=True)
    amendments = serializers.SerializerMethodField()
    answered_questions = serializers.SerializerMethodField()
    opening_confirmations = serializers.SerializerMethodField()
    opening = serializers.SerializerMethodField()

    class Meta(TenderSummarySerializer.Meta):
        fields = [
            *TenderSummarySerializer.Meta.fields,
            "description",
            "eligibility_notes",
            "documents_until",
            "submitted_at",
            "return_note",
            "closed_at",
            "opened_at",
            "cancel_reason",
            "cancelled_at",
            "failed_reason",
            "failed_at",
            "created_at",
            "updated_at",
            "scheme_template",
            "tie_rule",
            "trim_extremes",
            "criteria",
            "documents",
            "amendments",
            "answered_questions",
            "opening_confirmations",
            "opening",
        ]
        read_only_fields = fields

    @extend_schema_field(AmendmentSerializer(many=True))
    def get_amendments(self, tender: Tender) -> Any:
        return AmendmentSerializer(self.context["amendments"], many=True, context=self.context).data

    @extend_schema_field(OpenApiTypes.INT)
    def get_answered_questions(self, tender: Tender) -> int:
        return int(self.context["answered_questions"])

    @extend_schema_field(OpenApiTypes.INT)
    def get_opening_confirmations(self, tender: Tender) -> int:
        """Officials who confirmed the opening so far (two distinct ones open the bids)."""
        return int(self.context["opening_confirmations"])

    @extend_schema_field(OpeningRecordSerializer(allow_null=True))
    def get_opening(self, tender: Tender) -> Any:
        record = self.context["opening"]
        return None if record is None else OpeningRecordSerializer(record).data


class OpeningResultSerializer(serializers.Serializer):
    """One official's confirmation of the opening; ``opened`` once a second official confirmed."""

    id = serializers.IntegerField(source="tender.pk")
    status = TenderStatusField(source="tender.status")
    status_label = serializers.CharField(source="tender.get_status_display")
    opened = serializers.BooleanField()
    confirmations = serializers.IntegerField()


class FollowingSerializer(serializers.Serializer):
    following = serializers.BooleanField()


# --- Tenders: input ---------------------------------------------------------------------------


class TenderCreateSerializer(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField()
    category = _category()
    method = ProcurementMethodField()
    budget = serializers.DecimalField(max_digits=14, decimal_places=2)
    bid_deadline = serializers.DateTimeField()
    question_deadline = serializers.DateTimeField()
    criteria = CriteriaField(allow_empty=True)
    scheme_template = serializers.PrimaryKeyRelatedField(
        queryset=selectors.scheme_template_list(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy(
            "A scoring scheme template of the tender's category; its criteria are copied "
            "when no criteria are given."
        ),
    )
    tie_rule = TieRuleField(required=False, default=TieRule.DRAW)
    trim_extremes = serializers.BooleanField(required=False, default=False)
    purchase_nature = PurchaseNatureField(required=False, default=PurchaseNature.SERVICE)
    service_start = serializers.DateField(required=False, allow_null=True)
    service_end = serializers.DateField(required=False, allow_null=True)
    communities = _communities(required=False)
    eligibility_notes = serializers.CharField(required=False, allow_blank=True)


class TenderUpdateSerializer(OnlyKnownFields):
    """Changes to a draft; only the fields given change."""

    unknown_message = gettext_lazy("This field cannot be changed.")

    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    category = _category(required=False)
    method = ProcurementMethodField(required=False)
    purchase_nature = PurchaseNatureField(required=False)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    bid_deadline = serializers.DateTimeField(required=False)
    question_deadline = serializers.DateTimeField(required=False)
    service_start = serializers.DateField(required=False, allow_null=True)
    service_end = serializers.DateField(required=False, allow_null=True)
    eligibility_notes = serializers.CharField(required=False, allow_blank=True)
    criteria = CriteriaField(required=False, allow_empty=True)
    communities = _communities(required=False)
    tie_rule = TieRuleField(required=False)
    trim_extremes = serializers.BooleanField(required=False)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CancelReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class AmendmentChangesSerializer(OnlyKnownFields):
    """The fields an amendment may change after publication, with their new values."""

    unknown_message = gettext_lazy("An amendment cannot change this field.")

    description = serializers.CharField(required=False)
    eligibility_notes = serializers.CharField(required=False, allow_blank=True)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    bid_deadline = serializers.DateTimeField(required=False)
    question_deadline = serializers.DateTimeField(required=False)
    service_start = serializers.DateField(required=False, allow_null=True)
    service_end = serializers.DateField(required=False, allow_null=True)


class TenderAmendSerializer(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True)
    changes = AmendmentChangesSerializer(required=False)
    affects_preparation = serializers.BooleanField(required=False, default=False)
    criteria = CriteriaField(
        required=False,
        allow_empty=True,
        help_text=gettext_lazy("A new scoring scheme (it affects bid preparation)."),
    )


class TenderAmendUploadSerializer(serializers.Serializer):
    """The multipart form of an amendment: ``changes`` and ``criteria`` as JSON text."""

    summary = serializers.CharField(allow_blank=True)
    changes = serializers.CharField(
        required=False, help_text=gettext_lazy("The changes as a JSON object.")
    )
    affects_preparation = serializers.BooleanField(required=False, default=False)
    criteria = serializers.CharField(
        required=False, help_text=gettext_lazy("A new scoring scheme as a JSON list.")
    )
    documents = serializers.ListField(child=serializers.FileField(), required=False)


class TenderDocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=gettext_lazy("PDF, Word .docx, Excel .xlsx, PNG or JPEG; decided by content.")
    )
    title = serializers.CharField(required=False, allow_blank=True, default="")


# --- Questions --------------------------------------------------------------------------------

_ASKER_HELP = gettext_lazy("Only for the street office and auditors; absent for everyone else.")
_ASKER_FIELDS = ("organization", "organization_name", "asked_by")


class QuestionSerializer(serializers.ModelSerializer):
    """A question and, once answered, its public answer; the asker only for the street office."""

    tender = serializers.IntegerField(source="tender_id", read_only=True)
    status = QuestionStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    # Not read-only, so that the schema lists them as optional: most callers never get them.
    organization = serializers.IntegerField(
        source="organization_id", required=False, help_text=_ASKER_HELP
    )
    organization_name = serializers.CharField(
        source="organization.name", required=False, help_text=_ASKER_HELP
    )
    asked_by = serializers.IntegerField(source="asked_by_id", required=False, help_text=_ASKER_HELP)

    class Meta:
        model = Question
        fields = [
            "id",
            "tender",
            "text",
            "status",
            "status_label",
            "asked_at",
            "answer",
            "answered_at",
            "organization",
            "organization_name",
            "asked_by",
        ]
        read_only_fields = ["id", "text", "asked_at", "answer", "answered_at"]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if not self.context.get("show_askers"):
            for name in _ASKER_FIELDS:
                data.pop(name, None)
        return data


class QuestionAskSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True)


# --- Bids -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidView:
    """A bid with the content its reader may see (from ``selectors.bid_content_for_user``)."""

    bid: Bid
    content: BidContent
    receipt: BidReceipt | None = None


class StaffLineSerializer(serializers.Serializer):
    person = serializers.IntegerField(source="person_id")
    name = serializers.CharField()
    id_number_masked = serializers.CharField()
    id_number = serializers.CharField(
        required=False,
        help_text="The full number, only for the organization's administrator and auditors.",
    )
    role = serializers.CharField()
    fte = serializers.DecimalField(max_digits=3, decimal_places=2)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not data.get("id_number"):
            data.pop("id_number", None)
        return data


class BidDocumentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = BidDocumentKindField()
    kind_label = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    download = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, line: DocumentLine) -> str:
        return reverse("api:bid-document-download", args=[line.id], request=self.context["request"])


class ReceiptDocumentSerializer(serializers.Serializer):
    id = serializers.CharField()
    sha256 = serializers.CharField()
    kind = BidDocumentKindField()


class ReceiptSerializer(serializers.ModelSerializer):
    """投标回执: server time (UTC, microseconds), SHA-256 of the bid and its documents, and the
    audit sequence number."""

    received_at = ReceiptTimeField(read_only=True)
    documents = ReceiptDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = BidReceipt
        fields = ["received_at", "sha256", "sequence", "kind", "documents"]
        read_only_fields = fields


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class BidSerializer(serializers.Serializer):
    """A bid as its reader sees it: decrypted for its organization before the opening, plain
    for the street office, auditors and assessors after it."""

    id = serializers.UUIDField(source="bid.pk")
    tender = serializers.IntegerField(source="bid.tender_id")
    organization = serializers.IntegerField(source="bid.organization_id")
    organization_name = serializers.CharField(source="bid.organization.name")
    status = BidStatusField(source="bid.status")
    status_label = serializers.CharField(source="bid.get_status_display")
    sealed = serializers.BooleanField(
        source="content.sealed",
        help_text=gettext_lazy("Whether the bid is still sealed (before the opening)."),
    )
    price = serializers.DecimalField(
        source="content.price", max_digits=14, decimal_places=2, allow_null=True
    )
    staff = StaffLineSerializer(source="content.staff", many=True)
    proposal = serializers.CharField(source="content.proposal")
    documents = BidDocumentSerializer(source="content.documents", many=True)
    submitted_at = serializers.DateTimeField(source="bid.submitted_at", allow_null=True)
    sha256 = serializers.CharField(
        source="bid.content_sha256",
        help_text=gettext_lazy("SHA-256 of the content as last submitted."),
    )
    warnings = WarningSerializer(source="bid.warnings", many=True)
    opened_at = serializers.DateTimeField(source="bid.opened_at", allow_null=True)
    review_reason = serializers.CharField(source="bid.review_reason")


class BidDetailSerializer(BidSerializer):
    receipt = ReceiptSerializer(
        allow_null=True,
        help_text=gettext_lazy("The latest receipt; null before the first submission."),
    )


class BidSummarySerializer(serializers.ModelSerializer):
    """One of the organization's own bids (the organization's workspace)."""

    tender_title = serializers.CharField(source="tender.title", read_only=True)
    status = BidStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    sha256 = serializers.CharField(source="content_sha256", read_only=True)

    class Meta:
        model = Bid
        fields = [
            "id",
            "tender",
            "tender_title",
            "status",
            "status_label",
            "submitted_at",
            "sha256",
        ]
        read_only_fields = fields


class BidInputSerializer(OnlyKnownFields):
    """A draft bid's content; only the fields given change."""

    price = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    staff = StaffPlanField(required=False, allow_empty=True)
    proposal = serializers.CharField(required=False, allow_blank=True)


class BidDocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=gettext_lazy("PDF, Word .docx, Excel .xlsx, PNG or JPEG; decided by content.")
    )
    kind = BidDocumentKindField(required=False, default=BidDocumentKind.OTHER)


class ReviewSerializer(serializers.Serializer):
    qualified = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Helpers ----------------------------------------------------------------------------------


_DOWNLOAD = {(200, "application/octet-stream"): OpenApiTypes.BINARY}


class _TendersViewSet(ApiViewSet):
    """Tender and bid resources."""

    def _tender_answer(self, tender: Tender, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (scheme, documents) as a GET.
        user = self.request.user
        tender = selectors.tender_get_for_user(user, tender.pk)
        record: OpeningRecord | None = (
            selectors.opening_record(tender) if tender.opened_at is not None else None
        )
        return self._answer(
            TenderSerializer,
            tender,
            status=status,
            amendments=selectors.amendment_list(tender),
            answered_questions=selectors.question_list_for_user(user, tender)
            .filter(status=QuestionStatus.ANSWERED)
            .count(),
            opening_confirmations=selectors.opening_confirmations(tender).count(),
            opening=record,
        )

    def _bid_answer(
        self,
        bid: Bid,
        *,
        receipt: BidReceipt | None = None,
        status: int = 200,
        fresh: bool = False,
    ) -> Response:
        """The bid as the caller may read it, with the given or else the latest receipt.

        ``fresh``: the bid is the copy a service has just saved under its locks, with its
        tender and organization (a receipt's bid), and is answered without reading it back.
        """
        user = self.request.user
        if not fresh:
            bid = selectors.bid_get_for_user(user, bid.pk)
        if receipt is None:
            receipt = selectors.receipt_list_for_user(user, bid).first()
        view = BidView(bid=bid, content=selectors.bid_content_for_user(user, bid), receipt=receipt)
        return self._answer(BidDetailSerializer, view, status=status)


class _TenderChildViewSet(_TendersViewSet):
    """Resources under ``tenders/{tender_pk}/``."""

    def _tender(self) -> Tender:
        return selectors.tender_get_for_user(self.request.user, self.kwargs["tender_pk"])


class _BidChildViewSet(_TendersViewSet):
    """Resources under ``bids/{bid_pk}/``: 404 for anyone who may not read the bid."""

    def _bid(self) -> Bid:
        return selectors.bid_get_for_user(self.request.user, self.kwargs["bid_pk"])


# --- Tenders ----------------------------------------------------------------------------------


class TenderViewSet(_TendersViewSet):
    """Service projects from draft to opening: the public directory and the office's work."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    # The filter backend only describes the query parameters in the schema; the list runs
    # the same TenderFilter inside ``selectors.tender_directory``.
    filter_backends = [DjangoFilterBackend]
    filterset_class = TenderFilter
    serializer_class = TenderSummarySerializer

    def get_queryset(self) -> Any:
        return selectors.tender_list_for_user(self.request.user)

    def _tender(self) -> Tender:
        return selectors.tender_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="List tenders",
        description="Published tenders for everyone; drafts and approvals too for the office.",
        auth=[],
        responses={200: TenderSummarySerializer(many=True), **error_responses(400)},
    )
    def list(self, request: Request) -> Response:
        def directory_page() -> tuple[dict[str, Any], list[Any]]:
            tenders, filterset = selectors.tender_directory(
                request.user, filters=request.query_params or None
            )
            if filterset.is_bound and not filterset.is_valid():
                raise exceptions.ValidationError(filterset.errors)
            page = self.paginate_queryset(tenders) or []
            rows = TenderSummarySerializer(page, many=True, context=self.get_serializer_context())
            data = self.get_paginated_response(list(rows.data)).data
            # A row's display status turns to closed at its deadline.
            return dict(data), [t.bid_deadline for t in page]

        # The public directory is the same for every anonymous caller (tenders.page_cache).
        return Response(cached_public_data(request, directory_page))

    @extend_schema(
        summary="Draft a tender",
        description=(
            "By an official. Problems with the scoring scheme are listed under "
            "`fields.criteria`; a service on the negative list under `fields.purchase_nature`."
        ),
        request=TenderCreateSerializer,
        responses={201: TenderSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        allow(permissions.can_create_tender(self.user))
        data = parse_input(TenderCreateSerializer, request)
        tender = services.tender_create(actor=self.user, **data)
        return self._tender_answer(tender, status=201)

    @extend_schema(
        summary="One tender",
        auth=[],
        responses={200: TenderSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._tender_answer(self._tender())

    @extend_schema(
        summary="Change a draft (its drafter)",
        request=TenderUpdateSerializer,
        responses={200: TenderSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(permissions.can_edit_tender(self.user, tender))
        data = parse_input(TenderUpdateSerializer, request)
        tender = services.tender_update(
            tender=tender,
            actor=self.user,
            criteria=data.pop("criteria", None),
            communities=data.pop("communities", None),
            **data,
        )
        return self._tender_answer(tender)

    @extend_schema(
        summary="Send for approval, or approve and publish",
        description=(
            "Called by the drafting official, the draft goes to `pending_approval`; called "
            "then by an approver who did not draft it, the tender is `published`."
        ),
        request=None,
        responses={200: TenderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: int) -> Response:
        tender = services.tender_publish(tender=self._tender(), actor=self.user)
        return self._tender_answer(tender)

    @extend_schema(
        summary="Return to draft",
        description="The approver returns the tender with a note; the drafter may take it back.",
        request=NoteSerializer,
        responses={200: TenderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_draft(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(permissions.can_return_tender(self.user, tender))
        data = parse_input(NoteSerializer, request)
        tender = services.tender_return(tender=tender, actor=self.user, note=data["note"])
        return self._tender_answer(tender)

    @extend_schema(
        summary="Publish an amendment",
        description=(
            "One that affects bid preparation (a new scheme or budget included) moves the "
            "deadline so that at least 15 days remain and sends every submitted bid back "
            "for confirmation. As multipart, `changes` and `criteria` are JSON text and "
            "`documents` are files."
        ),
        request={
            "application/json": TenderAmendSerializer,
            "multipart/form-data": TenderAmendUploadSerializer,
        },
        responses={201: AmendmentSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def amend(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(permissions.can_amend_tender(self.user, tender))
        documents: list[Any] = []
        data: Any = None
        if request.content_type.startswith("multipart/"):
            data = _json_form(request, ("changes", "criteria"))
            documents = request.FILES.getlist("documents")
        parsed = parse_input(TenderAmendSerializer, request, data)
        amendment = services.tender_amend(
            tender=tender,
            actor=self.user,
            summary=parsed["summary"],
            changes=parsed.get("changes"),
            affects_preparation=parsed["affects_preparation"],
            criteria=parsed.get("criteria"),
            uploads=[(upload, "") for upload in documents],
        )
        return self._answer(AmendmentSerializer, amendment, status=201)

    @extend_schema(
        summary="Cancel the tender, with a public reason",
        request=CancelReasonSerializer,
        responses={200: TenderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(permissions.can_cancel_tender(self.user, tender))
        data = parse_input(CancelReasonSerializer, request)
        tender = services.tender_cancel(tender=tender, actor=self.user, reason=data["reason"])
        return self._tender_answer(tender)

    @extend_schema(
        summary="Confirm the opening (two distinct officials open the bids)",
        description=(
            "After the deadline, by an official. The first call records a confirmation "
            "(`opened: false`); the second distinct official's call opens the bids."
        ),
        request=None,
        responses={200: OpeningResultSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: int) -> Response:
        result = services.tender_open(tender=self._tender(), actor=self.user)
        return self._answer(OpeningResultSerializer, result)

    @extend_schema(
        summary="Follow the tender (e-mail about answers, amendments and the outcome)",
        request=None,
        responses={200: FollowingSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def follow(self, request: Request, pk: int) -> Response:
        services.tender_follow(tender=self._tender(), user=self.user)
        return Response({"following": True})

    @extend_schema(
        summary="The opening record (public once the bids are opened)",
        auth=[],
        responses={200: OpeningRecordSerializer, **error_responses(404)},
    )
    @action(detail=True, methods=["get"], url_path="opening-record", url_name="opening-record")
    def opening_record(self, request: Request, pk: int) -> Response:
        return self._answer(OpeningRecordSerializer, selectors.opening_record(self._tender()))


def _json_form(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    """A multipart form as plain data, with the named fields read as JSON text."""
    form = cast("Mapping[str, Any]", request.data)
    data: dict[str, Any] = {key: form.get(key) for key in form if key not in names}
    problems: dict[str, list[str]] = {}
    for name in names:
        raw = form.get(name)
        if raw in (None, ""):
            continue
        try:
            data[name] = json.loads(raw)
        except (TypeError, ValueError):
            problems[name] = [_("Not valid JSON.")]
    if problems:
        raise exceptions.ValidationError(problems)
    return data


class TenderDocumentListViewSet(_TenderChildViewSet):
    """A tender's public documents; the drafter attaches them to the draft."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    # Uploads are multipart; a JSON body without a file is still answered field by field.
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    serializer_class = TenderDocumentSerializer

    @extend_schema(
        summary="The tender's documents",
        auth=[],
        responses={200: TenderDocumentSerializer(many=True), **error_responses(404)},
    )
    def list(self, request: Request, tender_pk: int) -> Response:
        return self._page(TenderDocumentSerializer, selectors.tender_documents(self._tender()))

    @extend_schema(
        summary="Attach a document to a draft",
        request={"multipart/form-data": TenderDocumentUploadSerializer},
        responses={201: TenderDocumentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, tender_pk: int) -> Response:
        tender = self._tender()
        allow(permissions.can_edit_tender(self.user, tender))
        data = parse_input(TenderDocumentUploadSerializer, request)
        document = services.tender_document_add(
            tender=tender, actor=self.user, upload=data["file"], title=data["title"]
        )
        return self._answer(TenderDocumentSerializer, document, status=201)


class TenderDocumentViewSet(_TendersViewSet):
    """One tender document: downloaded as an attachment; removed from a draft by its drafter."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = TenderDocumentSerializer

    def _document(self) -> TenderDocument:
        return selectors.tender_document_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="Remove a document from a draft",
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def destroy(self, request: Request, pk: int) -> Response:
        services.tender_document_remove(document=self._document(), actor=self.user)
        return Response(status=204)

    @extend_schema(
        summary="Download a tender document",
        auth=[],
        responses={**_DOWNLOAD, **error_responses(404)},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: int) -> FileResponse:
        document = self._document()
        with document.file.open("rb") as handle:
            data = handle.read()
        return attachment(data, name=document.original_name, content_type=document.content_type)


# --- Questions --------------------------------------------------------------------------------


class TenderQuestionViewSet(_TenderChildViewSet):
    """Questions on a tender (澄清): answers are public, askers known only to the office."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = QuestionSerializer
    action_throttle_scopes = {"create": "question"}

    def _show_askers(self) -> bool:
        return permissions.can_see_asker(self.request.user)

    @extend_schema(
        summary="Questions and answers",
        description=(
            "The answered questions, and the caller's organization's own; the street office "
            "and auditors see every question and who asked it."
        ),
        auth=[],
        responses={200: QuestionSerializer(many=True), **error_responses(404)},
    )
    def list(self, request: Request, tender_pk: int) -> Response:
        questions = selectors.question_list_for_user(request.user, self._tender())
        return self._page(QuestionSerializer, questions, show_askers=self._show_askers())

    @extend_schema(
        summary="Ask a question (an organization, until the question deadline)",
        request=QuestionAskSerializer,
        responses={201: QuestionSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, tender_pk: int) -> Response:
        tender = self._tender()
        allow(is_org_user(self.user))
        data = parse_input(QuestionAskSerializer, request)
        question = services.question_ask(tender=tender, actor=self.user, text=data["text"])
        return self._answer(
            QuestionSerializer, question, status=201, show_askers=self._show_askers()
        )


class QuestionViewSet(_TendersViewSet):
    """One question; an official answers it and the answer is published to everyone."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = QuestionSerializer

    def _question(self) -> Question:
        return selectors.question_get_for_user(self.request.user, self.kwargs["pk"])

    def _done(self, question: Question, *, status: int = 200) -> Response:
        return self._answer(
            QuestionSerializer,
            question,
            status=status,
            show_askers=permissions.can_see_asker(self.request.user),
        )

    @extend_schema(
        summary="One question", auth=[], responses={200: QuestionSerializer, **error_responses(404)}
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._done(self._question())

    @extend_schema(
        summary="Answer a question (an official); published to everyone",
        request=AnswerSerializer,
        responses={200: QuestionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        question = self._question()
        allow(permissions.can_answer_question(self.user, question))
        data = parse_input(AnswerSerializer, request)
        question = services.question_answer(
            question=question, actor=self.user, answer=data["answer"]
        )
        return self._done(question)


# --- Bids -------------------------------------------------------------------------------------


class TenderBidViewSet(_TenderChildViewSet):
    """A tender's bids: before the opening, the caller's own bid only."""

    permission_classes = [IsAuthenticated]
    serializer_class = BidSerializer

    @extend_schema(
        summary="The tender's bids the caller may read",
        description=(
            "Before the opening: the caller's organization's own bid and nothing else; the "
            "street office, auditors and assessors are refused (403, the bids are sealed). "
            "After the opening: every opened bid for them, with masked ID numbers."
        ),
        responses={200: BidSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def list(self, request: Request, tender_pk: int) -> Response:
        tender = self._tender()
        try:
            bids = selectors.bid_list_for_user(self.user, tender)
        except PermissionDenied as exc:
            # The refusal says why ("sealed until the opening"), never how many.
            raise exceptions.PermissionDenied(str(exc) or None) from exc
        page = cast("list[Bid]", self.paginate_queryset(bids))
        contents = selectors.bid_content_list_for_user(self.user, page)
        views = [BidView(bid=bid, content=contents[bid.pk]) for bid in page]
        serializer = BidSerializer(views, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="Prepare the organization's bid (a draft)",
        description=(
            "Creates the organization's draft (201); calling it again changes the same "
            "draft (200), never a second bid. `staff[].person` is a person id from the "
            "organization's `staff/` roster."
        ),
        request=BidInputSerializer,
        responses={
            201: BidDetailSerializer,
            200: OpenApiResponse(BidDetailSerializer, description="The existing draft, changed."),
            **error_responses(400, 401, 403, 404),
        },
    )
    def create(self, request: Request, tender_pk: int) -> Response:
        tender = self._tender()
        allow(is_org_user(self.user))
        data = parse_input(BidInputSerializer, request)
        prepared = services.bid_prepare_draft(tender=tender, actor=self.user, **data)
        return self._bid_answer(prepared.bid, status=201 if prepared.created else 200)


class BidViewSet(_TendersViewSet):
    """One bid: read by its organization (and after the opening by the street office),
    submitted with a receipt, withdrawn, reopened, confirmed, reviewed."""

    lookup_value_converter = "uuid"

    permission_classes = [IsAuthenticated]
    serializer_class = BidDetailSerializer

    def _bid(self, *, related: bool = True) -> Bid:
        return selectors.bid_get_for_user(self.request.user, self.kwargs["pk"], related=related)

    @extend_schema(
        summary="The organization's own bids",
        responses={200: BidSummarySerializer(many=True), **error_responses(401)},
    )
    def list(self, request: Request) -> Response:
        return self._page(BidSummarySerializer, selectors.own_bid_list(request.user))

    @extend_schema(
        summary="One bid with its content and latest receipt",
        responses={200: BidDetailSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: UUID) -> Response:
        return self._bid_answer(self._bid())

    @extend_schema(
        summary="Change the draft",
        request=BidInputSerializer,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request: Request, pk: UUID) -> Response:
        bid = self._bid()
        allow(permissions.is_bid_owner(self.user, bid))
        data = parse_input(BidInputSerializer, request)
        bid = services.bid_prepare(tender=bid.tender, actor=self.user, **data)
        return self._bid_answer(bid)

    @extend_schema(
        summary="Submit (seal) the bid and get the receipt",
        description=(
            "By the organization's administrator, before the deadline as read by the server "
            "under the tender's lock. Submitting again returns the same receipt. Late: 400, "
            "the message names the server time."
        ),
        request=None,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: UUID) -> Response:
        receipt = services.bid_submit(bid=self._bid(related=False), actor=self.user)
        return self._bid_answer(receipt.bid, receipt=receipt, fresh=True)

    @extend_schema(
        summary="Withdraw the submitted bid (before the deadline)",
        request=None,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: UUID) -> Response:
        return self._bid_answer(services.bid_withdraw(bid=self._bid(), actor=self.user))

    @extend_schema(
        summary="Back to a draft (a withdrawn bid, or one to change after an amendment)",
        request=None,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: UUID) -> Response:
        return self._bid_answer(services.bid_reopen(bid=self._bid(), actor=self.user))

    @extend_schema(
        summary="Confirm the bid as it is after an amendment (a new receipt)",
        request=None,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: UUID) -> Response:
        receipt = services.bid_confirm(bid=self._bid(related=False), actor=self.user)
        return self._bid_answer(receipt.bid, receipt=receipt, fresh=True)

    @extend_schema(
        summary="The latest receipt",
        responses={200: ReceiptSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"])
    def receipt(self, request: Request, pk: UUID) -> Response:
        receipt = selectors.receipt_list_for_user(request.user, self._bid()).first()
        if receipt is None:
            raise exceptions.NotFound(_("The bid has no receipt yet: it was never submitted."))
        return self._answer(ReceiptSerializer, receipt)

    @extend_schema(
        summary="Qualification review (an official, after the opening)",
        description="`{qualified: true}`, or `{qualified: false, reason}`.",
        request=ReviewSerializer,
        responses={200: BidDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def qualify(self, request: Request, pk: UUID) -> Response:
        bid = self._bid()
        allow(permissions.can_review_bids(self.user, bid.tender))
        data = parse_input(ReviewSerializer, request)
        bid = services.bid_review(
            bid=bid, actor=self.user, qualified=data["qualified"], reason=data["reason"]
        )
        return self._bid_answer(bid)


class BidReceiptViewSet(_BidChildViewSet):
    """Every receipt of a bid, newest first."""

    serializer_class = ReceiptSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The bid's receipts",
        responses={200: ReceiptSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, bid_pk: UUID) -> Response:
        receipts = selectors.receipt_list_for_user(request.user, self._bid())
        return self._page(ReceiptSerializer, receipts)


class BidDocumentListViewSet(_BidChildViewSet):
    """A bid's documents, stored encrypted; their names are sealed too."""

    serializer_class = BidDocumentSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="The bid's documents",
        responses={200: BidDocumentSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, bid_pk: UUID) -> Response:
        content = selectors.bid_content_for_user(request.user, self._bid())
        return self._page(BidDocumentSerializer, content.documents)

    @extend_schema(
        summary="Attach a document to the draft",
        description="The type is decided by the content, not the name; 20 MB at most.",
        request={"multipart/form-data": BidDocumentUploadSerializer},
        responses={201: BidDocumentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, bid_pk: UUID) -> Response:
        bid = self._bid()
        allow(permissions.can_edit_bid(self.user, bid))
        data = parse_input(BidDocumentUploadSerializer, request)
        document = services.bid_document_add(
            bid=bid, actor=self.user, upload=data["file"], kind=data["kind"]
        )
        content = selectors.bid_content_for_user(self.user, bid)
        [line] = [line for line in content.documents if line.id == document.pk]
        return self._answer(BidDocumentSerializer, line, status=201)


class BidDocumentViewSet(_TendersViewSet):
    """One bid document: decrypted for a reader of its bid, removed from a draft."""

    lookup_value_converter = "uuid"

    serializer_class = BidDocumentSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Remove a document from the draft",
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def destroy(self, request: Request, pk: UUID) -> Response:
        document = selectors.bid_document_get_for_user(self.request.user, pk)
        services.bid_document_remove(document=document, actor=self.user)
        return Response(status=204)

    @extend_schema(
        summary="Download a bid document", responses={**_DOWNLOAD, **error_responses(401, 404)}
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: UUID) -> FileResponse:
        document, name, data = selectors.bid_document_for_download(self.request.user, pk)
        return attachment(data, name=name, content_type=document.content_type)


# --- Award and challenges ---------------------------------------------------------------------
# The award (中标) and challenges (质疑): an approver confirms the winner from the frozen
# ranking, the award notice is public, each bidder reads its own result, and bidders challenge
# the award within 7 working days. The rules are ``services.award_confirm`` and
# ``services.challenge_*``; reads go through the award and challenge selectors.


AwardStatusField = enum_field(AwardStatus, "AwardStatusEnum")
ChallengeStatusField = enum_field(ChallengeStatus, "ChallengeStatusEnum")
ChallengeRemedyField = enum_field(ChallengeRemedy, "ChallengeRemedyEnum")


class BidField(serializers.UUIDField):
    """The id of a bid the caller may read; parsed into the bid."""

    default_error_messages = {"does_not_exist": gettext_lazy("There is no such bid.")}

    def to_internal_value(self, data: Any) -> Bid:  # type: ignore[override]
        pk = super().to_internal_value(data)
        try:
            return selectors.bid_get_for_user(self.context["request"].user, pk)
        except Http404:
            self.fail("does_not_exist")

    def to_representation(self, value: Any) -> str:
        return str(value.pk if isinstance(value, Bid) else value)


class TenderField(serializers.IntegerField):
    """The id of a tender the caller may see; parsed into the tender."""

    default_error_messages = {"does_not_exist": gettext_lazy("There is no such tender.")}

    def to_internal_value(self, data: Any) -> Tender:  # type: ignore[override]
        pk = super().to_internal_value(data)
        try:
            return selectors.tender_get_for_user(self.context["request"].user, pk)
        except Http404:
            self.fail("does_not_exist")

    def to_representation(self, value: Any) -> int:
        return int(value.pk if isinstance(value, Tender) else value)


# --- Award: answers and input -----------------------------------------------------------------


class AwardSerializer(serializers.ModelSerializer):
    """The approver's confirmation of the winner."""

    bid = serializers.UUIDField(source="bid_id", read_only=True)
    organization = serializers.CharField(source="bid.organization.name", read_only=True)
    uscc = serializers.CharField(source="bid.organization.uscc", read_only=True)
    price = serializers.DecimalField(
        source="bid.price", max_digits=14, decimal_places=2, read_only=True
    )
    status = AwardStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Award
        fields = [
            "id",
            "tender",
            "bid",
            "organization",
            "uscc",
            "price",
            "position",
            "reason",
            "status",
            "status_label",
            "confirmed_at",
            "notice_published_at",
            "notice_until",
            "challenge_deadline",
        ]
        read_only_fields = fields


@dataclass(frozen=True)
class AwardResult:
    tender: Tender
    award: Award


class AwardResultSerializer(serializers.Serializer):
    """The tender, now ``awarded``, and its award."""

    id = serializers.IntegerField(source="tender.pk")
    status = TenderStatusField(source="tender.status")
    status_label = serializers.CharField(source="tender.get_status_display")
    award = AwardSerializer()


class AwardInputSerializer(OnlyKnownFields):
    bid = BidField(help_text=gettext_lazy("The winning bid: normally the first position."))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Required when the bid is not in the first position."),
    )


class AwardWinnerSerializer(serializers.Serializer):
    name = serializers.CharField(source="winner_name")
    uscc = serializers.CharField(source="winner_uscc")


class AwardNoticeRowSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    organization = serializers.CharField(source="organization_name")
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=7, decimal_places=2)
    rank = serializers.IntegerField()
    tied = serializers.BooleanField()
    won = serializers.BooleanField()


class AwardNoticeSerializer(serializers.Serializer):
    """中标公告: the winner, its price, the dates and the ranking's summary (public)."""

    tender = serializers.IntegerField(source="tender.pk")
    reference = serializers.CharField(source="tender.reference")
    title = serializers.CharField(source="tender.title")
    winner = AwardWinnerSerializer(source="*")
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    position = serializers.IntegerField()
    reason = serializers.CharField()
    published_at = serializers.DateTimeField()
    notice_until = serializers.DateField()
    challenge_deadline = serializers.DateField(
        help_text=gettext_lazy("Challenges (质疑) are filed until this day, inclusive.")
    )
    ranking = AwardNoticeRowSerializer(source="rows", many=True)


class CriterionResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = CriterionKindField()
    points = serializers.DecimalField(max_digits=5, decimal_places=2)
    score = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)


class BidResultSerializer(serializers.Serializer):
    """A bidder's own result after the award; other bidders' scores are never in it."""

    tender = serializers.IntegerField(source="tender.pk")
    bid = serializers.UUIDField(source="bid.pk")
    won = serializers.BooleanField()
    position = serializers.IntegerField()
    rank = serializers.IntegerField()
    tied = serializers.BooleanField()
    ranked = serializers.IntegerField(help_text=gettext_lazy("How many bids were ranked."))
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    price_score = serializers.DecimalField(max_digits=7, decimal_places=2)
    total = serializers.DecimalField(max_digits=7, decimal_places=2)
    criteria = CriterionResultSerializer(many=True)


# --- Challenges: answers and input ------------------------------------------------------------


class ChallengeSummarySerializer(serializers.Serializer):
    """A challenge as the caller may read it: other bidders get the subject, the answer and
    the outcome, without the challenger or the grounds (null and empty)."""

    id = serializers.IntegerField()
    tender = serializers.IntegerField(source="tender_id")
    tender_title = serializers.CharField()
    subject = serializers.CharField()
    text = serializers.CharField()
    status = ChallengeStatusField()
    status_label = serializers.CharField()
    filed_at = serializers.DateTimeField()
    answer_due = serializers.DateField()
    answer = serializers.CharField()
    upheld = serializers.BooleanField(allow_null=True)
    remedy = ChallengeRemedyField(allow_null=True)
    remedy_label = serializers.CharField()
    decision_note = serializers.CharField()
    organization_name = serializers.CharField(allow_null=True)
    own = serializers.BooleanField()
    overdue = serializers.BooleanField()


class ChallengeDocumentSerializer(serializers.ModelSerializer):
    """Evidence attached to a challenge; ``download`` serves it as an attachment."""

    name = serializers.CharField(source="original_name", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = ChallengeDocument
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "download"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, document: ChallengeDocument) -> str:
        return reverse(
            "api:challenge-document-detail", args=[document.pk], request=self.context["request"]
        )


class ChallengeSerializer(serializers.ModelSerializer):
    """The whole challenge: for the street office, auditors and the challenger."""

    tender_title = serializers.CharField(source="tender.title", read_only=True)
    bid = serializers.UUIDField(source="bid_id", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    status = ChallengeStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    remedy = ChallengeRemedyField(read_only=True, allow_null=True)
    remedy_label = serializers.CharField(source="get_remedy_display", read_only=True)
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = [
            "id",
            "tender",
            "tender_title",
            "bid",
            "organization",
            "organization_name",
            "subject",
            "text",
            "status",
            "status_label",
            "filed_at",
            "answer_due",
            "answer",
            "upheld",
            "remedy",
            "remedy_label",
            "answered_at",
            "decided_at",
            "decision_note",
            "closed_at",
            "documents",
        ]
        read_only_fields = fields

    @extend_schema_field(ChallengeDocumentSerializer(many=True))
    def get_documents(self, challenge: Challenge) -> Any:
        return ChallengeDocumentSerializer(
            self.context["documents"], many=True, context=self.context
        ).data


class ChallengeQuerySerializer(serializers.Serializer):
    tender = serializers.IntegerField(min_value=1, required=False)


class ChallengeCreateSerializer(serializers.Serializer):
    tender = TenderField(help_text=gettext_lazy("The awarded tender's id."))
    subject = serializers.CharField(allow_blank=True)
    text = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("The grounds of the challenge.")
    )


class ChallengeUploadSerializer(ChallengeCreateSerializer):
    """The multipart form of a challenge, with its evidence."""

    documents = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=gettext_lazy("At most 10 files: PDF, Word, Excel, PNG or JPEG, 20 MB each."),
    )


class ChallengeAnswerSerializer(OnlyKnownFields):
    answer = serializers.CharField(allow_blank=True)
    upheld = serializers.BooleanField()
    remedy = ChallengeRemedyField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy(
            "An upheld challenge's remedy: reopen_evaluation (the panel evaluates again) or "
            "reopen_award (the award is decided again)."
        ),
    )


class ChallengeDecideSerializer(OnlyKnownFields):
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Award: views -----------------------------------------------------------------------------


class TenderAwardViewSet(_TendersViewSet):
    """A tender's award: confirmed by an approver, its notice public, each bidder's result."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    serializer_class = AwardNoticeSerializer

    def _tender(self) -> Tender:
        return selectors.tender_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="The award notice (中标公告)",
        description="Public once the award is confirmed; 404 before it and after a withdrawal.",
        auth=[],
        responses={200: AwardNoticeSerializer, **error_responses(404)},
    )
    @action(detail=True, methods=["get"])
    def award(self, request: Request, pk: int) -> Response:
        notice: AwardNotice | None = selectors.award_notice(self._tender())
        if notice is None:
            raise exceptions.NotFound(_("The tender has no award in force."))
        return self._answer(AwardNoticeSerializer, notice)

    @extend_schema(
        summary="Confirm the award (an approver who did not draft the tender)",
        description=(
            "`{bid}`: a ranked bid, normally the first position; any other needs a "
            "`reason`. The award notice is published with it and challenges run for 7 working "
            "days."
        ),
        request=AwardInputSerializer,
        responses={201: AwardResultSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @award.mapping.post
    def award_confirm(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(permissions.is_approver(self.user))
        data = parse_input(AwardInputSerializer, request)
        award = services.award_confirm(
            tender=tender, actor=self.user, bid=data["bid"], reason=data["reason"]
        )
        tender = selectors.tender_get_for_user(self.user, tender.pk)
        return self._answer(
            AwardResultSerializer, AwardResult(tender=tender, award=award), status=201
        )

    @extend_schema(
        summary="The caller's own result (a bidder, after the award)",
        description="Its scores, rank and position; never another bidder's scores.",
        responses={200: BidResultSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], permission_classes=[IsAuthenticated])
    def result(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(is_org_user(self.user))
        result: BidResult | None = selectors.bid_result_for_user(self.user, tender)
        if result is None:
            raise exceptions.NotFound(_("There is no result of your organization to show yet."))
        return self._answer(BidResultSerializer, result)


# --- Challenges: views ------------------------------------------------------------------------


class ChallengeViewSet(_TendersViewSet):
    """Challenges (质疑) of an award: filed by bidders, answered by an official, decided by an
    approver (four eyes), closed once the remedy is done."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = ChallengeSerializer

    def _challenge(self) -> Challenge:
        return selectors.challenge_get_for_user(self.request.user, self.kwargs["pk"])

    def _challenge_answer(self, challenge: Challenge, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (documents) as a GET.
        challenge = selectors.challenge_get_for_user(self.request.user, challenge.pk)
        return self._answer(
            ChallengeSerializer,
            challenge,
            status=status,
            documents=selectors.challenge_documents(challenge),
        )

    @extend_schema(
        summary="Challenges the caller may read",
        description=(
            "All of them for the street office and auditors; for an organization, its own "
            "and the answered ones of tenders it bid in (without the challenger)."
        ),
        parameters=[ChallengeQuerySerializer],
        responses={200: ChallengeSummarySerializer(many=True), **error_responses(400, 401, 404)},
    )
    def list(self, request: Request) -> Response:
        query = parse_input(ChallengeQuerySerializer, request, request.query_params)
        tender = (
            selectors.tender_get_for_user(request.user, query["tender"])
            if "tender" in query
            else None
        )
        summaries: list[ChallengeSummary] = selectors.challenge_list_for_user(request.user, tender)
        return self._page(ChallengeSummarySerializer, summaries)

    @extend_schema(
        summary="Challenge an award (a bidder, within 7 working days of the award notice)",
        description=(
            "As JSON `{tender, subject, text}`, or multipart with the same fields and the "
            "evidence as `documents` files. A refused file leaves nothing stored."
        ),
        request={
            "application/json": ChallengeCreateSerializer,
            "multipart/form-data": ChallengeUploadSerializer,
        },
        responses={201: ChallengeSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        allow(is_org_user(self.user))
        data = parse_input(ChallengeCreateSerializer, request)
        uploads = (
            request.FILES.getlist("documents")
            if request.content_type.startswith("multipart/")
            else []
        )
        challenge = services.challenge_file(
            tender=data["tender"],
            actor=self.user,
            subject=data["subject"],
            text=data["text"],
            uploads=uploads,
        )
        return self._challenge_answer(challenge, status=201)

    @extend_schema(
        summary="One challenge, in full",
        description="For the street office, auditors and the challenging organization.",
        responses={200: ChallengeSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._challenge_answer(self._challenge())

    @extend_schema(
        summary="Answer the challenge in writing (an official)",
        description=(
            "`{answer, upheld, remedy}`: an upheld challenge names its remedy, "
            "`reopen_evaluation` or `reopen_award`. An approver decides afterwards."
        ),
        request=ChallengeAnswerSerializer,
        responses={200: ChallengeSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        challenge = self._challenge()
        allow(is_official(self.user))
        data = parse_input(ChallengeAnswerSerializer, request)
        challenge = services.challenge_answer(
            challenge=challenge,
            actor=self.user,
            answer=data["answer"],
            upheld=data["upheld"],
            remedy=data["remedy"],
        )
        return self._challenge_answer(challenge)

    @extend_schema(
        summary="Decide the answered challenge (an approver who did not answer it)",
        description=(
            "Upheld: the remedy is applied at once (the award withdrawn; with "
            "`reopen_evaluation` the panel scores again). Not upheld: the award stands."
        ),
        request=ChallengeDecideSerializer,
        responses={200: ChallengeSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: int) -> Response:
        challenge = self._challenge()
        allow(permissions.is_approver(self.user))
        data = parse_input(ChallengeDecideSerializer, request)
        challenge = services.challenge_decide(
            challenge=challenge, actor=self.user, note=data["note"]
        )
        return self._challenge_answer(challenge)

    @extend_schema(
        summary="Close a decided challenge (an official)",
        request=None,
        responses={200: ChallengeSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: int) -> Response:
        challenge = self._challenge()
        allow(is_official(self.user))
        return self._challenge_answer(
            services.challenge_close(challenge=challenge, actor=self.user)
        )


class ChallengeDocumentViewSet(_TendersViewSet):
    """A challenge's evidence: for readers of the whole challenge, as an attachment."""

    permission_classes = [IsAuthenticated]
    serializer_class = ChallengeDocumentSerializer

    @extend_schema(
        summary="Download a challenge document (an attachment)",
        responses={**_DOWNLOAD, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> FileResponse:
        document, name, data = selectors.challenge_document_for_download(self.request.user, pk)
        return attachment(data, name=name, content_type=document.content_type)
