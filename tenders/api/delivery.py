"""API v1 of delivery: a contract's delivery reports (filed by the supplier, accepted or
returned by an official), their photos and documents (attachments only), the survey sites,
the satisfaction result, and the public survey (no sign-in, throttled).

Views parse input, call one service or selector, and answer; the rules are in
``tenders.services.delivery`` and ``tenders.services.surveys``, shared with the pages.
The public survey answers a repeated answer with 409 and the per-address limit with 429.
"""

from __future__ import annotations

import json
from typing import Any

from axes.helpers import get_client_ip_address
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    attachment,
    enum_field,
    error_responses,
    parse_input,
)
from marketplace.permissions import is_official
from orgs_registry.permissions import is_member_of
from tenders.models import (
    Contract,
    DeliveryDocument,
    DeliveryDocumentKind,
    DeliveryReport,
    DeliveryReportStatus,
    SurveyResponse,
    SurveySite,
)
from tenders.permissions import delivery as permissions
from tenders.selectors import delivery as selectors
from tenders.services import delivery as services
from tenders.services import surveys as survey_services

DeliveryReportStatusField = enum_field(DeliveryReportStatus, "DeliveryReportStatusEnum")
DeliveryDocumentKindField = enum_field(DeliveryDocumentKind, "DeliveryDocumentKindEnum")
_DOWNLOAD = {(200, "application/octet-stream"): OpenApiTypes.BINARY}


# --- Reports: answers ------------------------------------------------------------------------


class DeliveryDocumentSerializer(serializers.ModelSerializer):
    """A photo or document of a report; ``download`` serves it as an attachment."""

    name = serializers.CharField(source="original_name", read_only=True)
    kind = DeliveryDocumentKindField(read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = DeliveryDocument
        fields = ["id", "kind", "name", "content_type", "size", "sha256", "uploaded_at", "download"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, document: DeliveryDocument) -> str:
        return reverse(
            "api:delivery-document-detail", args=[document.pk], request=self.context["request"]
        )


class SpendingLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    budget = serializers.DecimalField(max_digits=14, decimal_places=2)
    spent = serializers.DecimalField(max_digits=14, decimal_places=2)


class DeliveryReportSerializer(serializers.ModelSerializer):
    """A delivery report with its milestone's state, spending and files."""

    milestone_sequence = serializers.IntegerField(source="milestone.sequence", read_only=True)
    milestone_status = serializers.CharField(source="milestone.status", read_only=True)
    spending = SpendingLineSerializer(many=True, read_only=True)
    budget_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    spent_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    status = DeliveryReportStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    submitted_by_name = serializers.CharField(source="submitted_by.get_full_name", read_only=True)
    reviewed_by_name = serializers.SerializerMethodField()
    documents = DeliveryDocumentSerializer(many=True, read_only=True)

    class Meta:
        model = DeliveryReport
        fields = [
            "id",
            "contract",
            "milestone",
            "milestone_sequence",
            "milestone_status",
            "period_start",
            "period_end",
            "activities",
            "people_served",
            "service_sessions",
            "spending",
            "budget_total",
            "spent_total",
            "status",
            "status_label",
            "submitted_at",
            "submitted_by_name",
            "reviewed_at",
            "reviewed_by_name",
            "review_comment",
            "documents",
        ]
        read_only_fields = fields

    def get_reviewed_by_name(self, report: DeliveryReport) -> str | None:
        return report.reviewed_by.get_full_name() if report.reviewed_by else None


# --- Reports: input --------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "item": {"type": "string"},
                "budget": {"type": "string", "format": "decimal"},
                "spent": {"type": "string", "format": "decimal"},
            },
        },
    }
)
class SpendingField(serializers.Field):
    """Spending rows as a list, or (in a multipart form) as a JSON text of the list; each row
    is checked by the service, which names the row and the column of every problem."""

    default_error_messages = {"invalid": gettext_lazy("Give the spending as a JSON list of rows.")}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            if not data.strip():
                return []
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, list):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ReportCreateSerializer(OnlyKnownFields):
    milestone = serializers.IntegerField(
        min_value=1, help_text=gettext_lazy("The id of a planned milestone of this contract.")
    )
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    activities = serializers.CharField(allow_blank=True)
    people_served = serializers.IntegerField(min_value=0)
    service_sessions = serializers.IntegerField(min_value=0, required=False, default=0)
    spending = SpendingField(
        required=False,
        default=list,
        help_text=gettext_lazy(
            'Rows [{"item", "budget", "spent"}]; in a multipart form, the same list as JSON text.'
        ),
    )
    uploads = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=gettext_lazy(
            "At most 20 files: photos (PNG, JPEG; 10 MB) and documents (PDF, Word, Excel; 20 MB)."
        ),
    )


class DeliveryReviewSerializer(OnlyKnownFields):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


# --- Survey sites and satisfaction -----------------------------------------------------------


class SurveySiteSerializer(serializers.ModelSerializer):
    """A service site with its public survey link and its QR code."""

    answers = serializers.IntegerField(read_only=True, default=0)
    link = serializers.SerializerMethodField()
    qr = serializers.SerializerMethodField()

    class Meta:
        model = SurveySite
        fields = ["id", "name", "community", "is_open", "answers", "link", "qr", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_link(self, site: SurveySite) -> str:
        return self.context["request"].build_absolute_uri(site.get_absolute_url())

    @extend_schema_field(OpenApiTypes.URI)
    def get_qr(self, site: SurveySite) -> str:
        return reverse("tenders:survey_qr", args=[site.pk], request=self.context["request"])


class SurveySiteInputSerializer(OnlyKnownFields):
    name = serializers.CharField(allow_blank=True)


class FiguresSerializer(serializers.Serializer):
    answers = serializers.IntegerField()
    mean = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text=gettext_lazy("Satisfied, %.")
    )


class PeriodSerializer(serializers.Serializer):
    period = serializers.CharField()
    satisfaction = FiguresSerializer()
    means = serializers.DictField(
        child=serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    )


class BarSerializer(serializers.Serializer):
    rating = serializers.IntegerField()
    count = serializers.IntegerField()
    share = serializers.DecimalField(max_digits=4, decimal_places=1)


# One object, not a page of them, though its view is a router's "list" action.
@extend_schema_serializer(many=False)
class SatisfactionSerializer(serializers.Serializer):
    """The contract's survey result (the figures the satisfaction indicator takes), per
    period, and the distribution of overall ratings. No respondent is identified."""

    total = FiguresSerializer()
    periods = PeriodSerializer(many=True)
    bars = BarSerializer(many=True)


# --- Views: reports ----------------------------------------------------------------------------


class _DeliveryViewSet(ApiViewSet):
    permission_classes = [IsAuthenticated]

    def _contract(self) -> Contract:
        return selectors.delivery_contract_get_for_user(
            self.request.user, self.kwargs["contract_pk"]
        )

    def _report_answer(self, report: DeliveryReport, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (documents) as a GET.
        report = selectors.report_get_for_user(self.request.user, report.pk)
        return self._answer(DeliveryReportSerializer, report, status=status)


class ContractReportViewSet(_DeliveryViewSet):
    """A contract's delivery reports: the parties, auditors and its assessors read them;
    the supplier's people file them."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = DeliveryReportSerializer

    @extend_schema(
        summary="The contract's delivery reports, newest first",
        responses={200: DeliveryReportSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract()
        return self._page(
            DeliveryReportSerializer, selectors.report_list_for_user(request.user, contract)
        )

    @extend_schema(
        summary="File a delivery report for a planned milestone (the supplier)",
        description=(
            "As JSON, or multipart with the photos and documents as `uploads` files (the "
            "spending rows then as JSON text). Each spending problem names its row and column; "
            "a refused file leaves nothing stored."
        ),
        request={
            "application/json": ReportCreateSerializer,
            "multipart/form-data": ReportCreateSerializer,
        },
        responses={201: DeliveryReportSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def create(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract()
        allow(is_member_of(self.user, contract))
        data = parse_input(ReportCreateSerializer, request)
        try:
            milestone = selectors.milestone_get_for_user(self.user, data["milestone"])
        except Http404:
            milestone = None
        if milestone is None or milestone.contract_id != contract.pk:
            raise exceptions.ValidationError(
                {"milestone": [_("This contract has no such milestone.")]}
            )
        uploads = (
            request.FILES.getlist("uploads")
            if request.content_type.startswith("multipart/")
            else []
        )
        report = services.delivery_report_file(
            milestone=milestone,
            actor=self.user,
            period_start=data["period_start"],
            period_end=data["period_end"],
            activities=data["activities"],
            people_served=data["people_served"],
            service_sessions=data["service_sessions"],
            spending=data["spending"],
            uploads=uploads,
        )
        return self._report_answer(report, status=201)


class DeliveryReportViewSet(_DeliveryViewSet):
    """One delivery report; an official accepts it (a report milestone's payment is then
    released) or returns it with comments (the milestone is planned again)."""

    serializer_class = DeliveryReportSerializer

    def _report(self) -> DeliveryReport:
        return selectors.report_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="One delivery report",
        responses={200: DeliveryReportSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._report_answer(self._report())

    @extend_schema(
        summary="Accept the report (an official)",
        description=(
            "For a milestone paid on its report the payment is released at once; an "
            "evaluation milestone waits for its performance evaluation."
        ),
        request=DeliveryReviewSerializer,
        responses={200: DeliveryReportSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: int) -> Response:
        report = self._report()
        allow(is_official(self.user))
        data = parse_input(DeliveryReviewSerializer, request)
        return self._report_answer(
            services.delivery_report_accept(report=report, actor=self.user, comment=data["comment"])
        )

    @extend_schema(
        summary="Return the report with comments (an official)",
        description="`comment` is required; the supplier files a corrected report.",
        request=DeliveryReviewSerializer,
        responses={200: DeliveryReportSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_report(self, request: Request, pk: int) -> Response:
        report = self._report()
        allow(is_official(self.user))
        data = parse_input(DeliveryReviewSerializer, request)
        return self._report_answer(
            services.delivery_report_return(report=report, actor=self.user, comment=data["comment"])
        )


class DeliveryDocumentViewSet(_DeliveryViewSet):
    """A report's photo or document, for readers of the delivery file, as an attachment."""

    serializer_class = DeliveryDocumentSerializer

    @extend_schema(
        summary="Download a report's photo or document (an attachment)",
        responses={**_DOWNLOAD, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> FileResponse:
        document, name, data = selectors.delivery_document_for_download(request.user, pk)
        return attachment(data, name=name, content_type=document.content_type)


# --- Views: survey sites and satisfaction ------------------------------------------------------


class ContractSurveySiteViewSet(_DeliveryViewSet):
    """A contract's survey sites; an official or the supplier's administrator adds one."""

    serializer_class = SurveySiteSerializer

    @extend_schema(
        summary="The contract's survey sites with their links and QR codes",
        responses={200: SurveySiteSerializer(many=True), **error_responses(401, 404)},
    )
    def list(self, request: Request, contract_pk: int) -> Response:
        return self._page(SurveySiteSerializer, selectors.survey_site_list(self._contract()))

    @extend_schema(
        summary="Add a survey site (an official or the supplier's administrator)",
        request=SurveySiteInputSerializer,
        responses={201: SurveySiteSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request, contract_pk: int) -> Response:
        contract = self._contract()
        allow(permissions.can_manage_survey_sites(self.user, contract))
        data = parse_input(SurveySiteInputSerializer, request)
        site = survey_services.survey_site_add(
            contract=contract, actor=self.user, name=data["name"]
        )
        return self._answer(SurveySiteSerializer, site, status=201)


class ContractSatisfactionViewSet(_DeliveryViewSet):
    """The contract's beneficiary satisfaction result."""

    serializer_class = SatisfactionSerializer

    @extend_schema(
        summary="The satisfaction result (overall, per period, distribution)",
        responses={200: SatisfactionSerializer, **error_responses(401, 404)},
    )
    def list(self, request: Request, contract_pk: int) -> Response:
        results = selectors.satisfaction_results(request.user, self._contract())
        return self._answer(SatisfactionSerializer, results)


# --- The public survey -------------------------------------------------------------------------


class SurveyThrottle(AnonRateThrottle):
    """Anonymous callers of the public survey, per network address [cfg]."""

    scope = "survey"
    rate = "30/minute"


class AlreadyAnswered(exceptions.APIException):
    status_code = 409
    default_detail = gettext_lazy("You have answered this survey this month already.")
    default_code = "already_answered"


class TooManyAnswers(exceptions.APIException):
    status_code = 429
    default_detail = gettext_lazy("Too many answers from your network; try again later.")
    default_code = "rate_limited"


class SurveyClosed(exceptions.APIException):
    status_code = 403
    default_detail = gettext_lazy("This survey is not taking answers at the moment.")
    default_code = "closed"


_REFUSALS: dict[str, type[exceptions.APIException]] = {
    "already_answered": AlreadyAnswered,
    "rate_limited": TooManyAnswers,
    "closed": SurveyClosed,
}


class SurveyQuestionSerializer(serializers.Serializer):
    name = serializers.CharField()
    text = serializers.CharField()
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()


class SurveySerializer(serializers.Serializer):
    """The survey of a site: what it is about, the questions, and the signed start token
    to send back with the answer."""

    site = serializers.CharField()
    contract = serializers.CharField()
    organization = serializers.CharField()
    is_open = serializers.BooleanField()
    questions = SurveyQuestionSerializer(many=True)
    started = serializers.CharField(
        help_text=gettext_lazy("Send it back unchanged; answers sent within 3 seconds are refused.")
    )


class SurveyAnswerSerializer(OnlyKnownFields):
    phone = serializers.CharField(
        allow_blank=True,
        help_text=gettext_lazy("An 11-digit mainland mobile number; never stored."),
    )
    overall = serializers.IntegerField()
    quality = serializers.IntegerField()
    attitude = serializers.IntegerField()
    timeliness = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    started = serializers.CharField()
    website = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Leave empty (a field only scripts fill in)."),
    )


def _question(name: str) -> str:
    field = SurveyResponse._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


class SurveyView(APIView):
    """The public survey of a service site: no sign-in, throttled, one answer per person and
    month."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [SurveyThrottle]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="survey_retrieve",
        summary="The survey of a site (public)",
        auth=[],
        responses={200: SurveySerializer, **error_responses(404, 429)},
    )
    def get(self, request: Request, token: str) -> Response:
        site = selectors.survey_site_for_answer(token)
        questions = [
            {
                "name": name,
                "text": _question(name),
                "minimum": 1,
                "maximum": 5,
            }
            for name in survey_services.RATINGS
        ]
        body = {
            "site": site.name,
            "contract": site.contract.title,
            "organization": site.contract.organization.name,
            "is_open": permissions.survey_accepts_answers(site),
            "questions": questions,
            "started": survey_services.survey_form_token(site),
        }
        return Response(SurveySerializer(body).data)

    @extend_schema(
        operation_id="survey_answer",
        summary="Answer the survey (public)",
        description=(
            "One answer per mobile number, contract and month (409 when repeated); at most "
            "20 answers per network address, site and hour (429)."
        ),
        auth=[],
        request=SurveyAnswerSerializer,
        responses={
            201: inline_serializer(
                "SurveyAnswered",
                fields={"period": serializers.CharField(), "detail": serializers.CharField()},
            ),
            **error_responses(400, 403, 404, 409, 429),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        site = selectors.survey_site_for_answer(token)
        data = parse_input(SurveyAnswerSerializer, request)
        try:
            response = survey_services.survey_answer(
                site=site,
                phone=data["phone"],
                overall=data["overall"],
                quality=data["quality"],
                attitude=data["attitude"],
                timeliness=data["timeliness"],
                comment=data["comment"],
                address=get_client_ip_address(request) or "",
                started_at=data["started"],
                honeypot=data["website"],
            )
        except ValidationError as exc:
            refusal = _REFUSALS.get(str(getattr(exc, "code", "") or ""))
            if refusal is not None:
                raise refusal(detail=exc.messages[0]) from exc
            raise
        return Response(
            {"period": response.period, "detail": _("Thank you! Your answer is recorded.")},
            status=201,
        )
