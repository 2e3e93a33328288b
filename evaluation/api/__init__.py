"""Evaluation API v1: panels and declarations, score sheets and deviations, corrections, the
ranking, abnormally low prices and assessor profiles (DESIGN.md 4.4 and 7).

Views parse input, call one service or selector, and answer with what it returns; the rules
live once in ``evaluation.services``, ``evaluation.selectors`` and ``evaluation.permissions``
and are shared with the pages.

Independence and the seal carry on here: every sheet, flag, bid and score is reached through
the scoped selectors. Until every sheet is submitted a member reaches only their own sheets;
someone else's is a 404 exactly like a missing one, and so is anything of a panel the caller
does not sit on. Bid content is shown to a member only after the declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from evaluation import permissions, selectors
from evaluation import services as pool_services
from evaluation.models import (
    AssessorEmployment,
    AssessorProfile,
    AssessorRelation,
    CorrectionReason,
    DeviationFlag,
    DeviationStatus,
    JustificationStatus,
    MemberKind,
    MemberStatus,
    ObjectiveScore,
    PanelDrawKind,
    PanelMember,
    PanelStatus,
    PriceJustification,
    RankingCorrection,
    ScoreSheet,
    SheetStatus,
    TieBreak,
)
from evaluation.selectors import MemberProgress, PanelDetail, RankingView
from evaluation.services import panels as panel_services
from evaluation.services import sheets as sheet_services
from marketplace.api_base import (
    ApiViewSet,
    OnlyKnownFields,
    allow,
    attachment,
    enum_field,
    error_responses,
    parse_input,
)
from marketplace.models import Role, User
from marketplace.permissions import has_role, is_official
from marketplace.uploads import DOCUMENT_CONTENT_TYPES, DOCUMENT_EXTENSIONS
from orgs_registry.selectors import service_category_list
from tenders import selectors as tender_selectors
from tenders.api import BidSerializer, BidView
from tenders.models import Bid, Tender

# --- Fields -----------------------------------------------------------------------------------


PanelStatusField = enum_field(PanelStatus, "PanelStatusEnum")
PanelDrawKindField = enum_field(PanelDrawKind, "PanelDrawKindEnum")
MemberKindField = enum_field(MemberKind, "PanelMemberKindEnum")
MemberStatusField = enum_field(MemberStatus, "PanelMemberStatusEnum")
SheetStatusField = enum_field(SheetStatus, "ScoreSheetStatusEnum")
DeviationStatusField = enum_field(DeviationStatus, "DeviationStatusEnum")
JustificationStatusField = enum_field(JustificationStatus, "PriceJustificationStatusEnum")
CorrectionReasonField = enum_field(CorrectionReason, "CorrectionReasonEnum")
TieBreakField = enum_field(TieBreak, "RankingTieBreakEnum")

_DOWNLOAD = {(200, "application/octet-stream"): OpenApiTypes.BINARY}
_TENDER_PARAMETER = OpenApiParameter(
    "tender", OpenApiTypes.INT, description="The tender's id.", required=True
)


def _accounts() -> Any:
    # Ids are only turned into accounts here; the panel service checks each one's role, pool
    # membership and conflicts and names every problem under its field.
    return User.objects.all()


class TenderQuerySerializer(serializers.Serializer):
    tender = serializers.IntegerField(min_value=1)


class OptionalTenderQuerySerializer(serializers.Serializer):
    tender = serializers.IntegerField(min_value=1, required=False)


def _renamed(exc: ValidationError, names: Mapping[str, str]) -> ValidationError:
    """The service's field errors under the names the request used (a new error, so that
    it can be raised from the service's)."""
    if not hasattr(exc, "error_dict"):
        return ValidationError(exc.error_list)
    return ValidationError(
        {names.get(field, field): messages for field, messages in exc.message_dict.items()}
    )


# --- Panels: answers --------------------------------------------------------------------------


class PanelMemberSerializer(serializers.Serializer):
    """A seat on the panel (a member replaced after declaring a conflict is listed too)."""

    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField()
    kind = MemberKindField()
    kind_label = serializers.CharField()
    seat = serializers.IntegerField()
    status = MemberStatusField()
    status_label = serializers.CharField()
    is_chair = serializers.BooleanField()
    declared_at = serializers.DateTimeField(allow_null=True)
    replaced_by = serializers.IntegerField(allow_null=True)
    conflict = serializers.BooleanField()


class PanelExclusionSerializer(serializers.Serializer):
    """An assessor passed over by a draw, and why (conflict of interest, DESIGN 4.4)."""

    user = serializers.IntegerField()
    name = serializers.CharField(required=False)
    reason = serializers.CharField(
        help_text=gettext_lazy(
            "inactive, employed_by_bidder, relation_with_bidder, purchasing_unit or same_agency"
        )
    )
    detail = serializers.CharField(required=False)


class PanelDrawSerializer(serializers.Serializer):
    """One random draw: reproducible from its seed and the pool (sorted user ids)."""

    id = serializers.IntegerField()
    kind = PanelDrawKindField()
    kind_label = serializers.CharField()
    seed = serializers.CharField()
    requested = serializers.IntegerField()
    pool_size = serializers.IntegerField()
    drawn = serializers.ListField(child=serializers.IntegerField())
    drawn_at = serializers.DateTimeField()
    excluded = PanelExclusionSerializer(
        many=True,
        help_text=gettext_lazy("Only for the street office and auditors; empty for others."),
    )
    excluded_count = serializers.IntegerField()


class PanelProgressSerializer(serializers.Serializer):
    """How far one member is: sheets counted by status, open deviation flags; no scores."""

    seat = serializers.IntegerField()
    member = serializers.CharField()
    declared = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    open_flags = serializers.IntegerField()


@dataclass(frozen=True)
class PanelView:
    detail: PanelDetail
    progress: list[MemberProgress] | None


class PanelSerializer(serializers.Serializer):
    """The panel (评标委员会): members, draws with their seeds and, for the street office and
    auditors, who was excluded and why, and each member's progress."""

    id = serializers.IntegerField(source="detail.panel.pk")
    tender = serializers.IntegerField(source="detail.panel.tender_id")
    status = PanelStatusField(source="detail.panel.status")
    status_label = serializers.CharField(source="detail.panel.get_status_display")
    size = serializers.IntegerField(source="detail.panel.size")
    chair = serializers.IntegerField(source="detail.panel.chair_id", allow_null=True)
    formed_at = serializers.DateTimeField(source="detail.panel.formed_at")
    scoring_started_at = serializers.DateTimeField(
        source="detail.panel.scoring_started_at", allow_null=True
    )
    ranked_at = serializers.DateTimeField(source="detail.panel.ranked_at", allow_null=True)
    members = PanelMemberSerializer(source="detail.members", many=True)
    seed = serializers.SerializerMethodField()
    excluded = serializers.SerializerMethodField()
    exclusions_visible = serializers.BooleanField(source="detail.exclusions_visible")
    draws = PanelDrawSerializer(source="detail.draws", many=True)
    progress = PanelProgressSerializer(
        many=True,
        allow_null=True,
        help_text=gettext_lazy("Only for the street office and auditors; null for others."),
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_seed(self, view: PanelView) -> str | None:
        """The seed of the initial draw (null when every expert was named)."""
        initial = [d for d in view.detail.draws if d.kind == PanelDrawKind.INITIAL]
        return initial[0].seed if initial else None

    @extend_schema_field(PanelExclusionSerializer(many=True))
    def get_excluded(self, view: PanelView) -> Any:
        """Every draw's exclusions, in the order of the draws."""
        rows = [row for draw in view.detail.draws for row in draw.excluded]
        return PanelExclusionSerializer(rows, many=True).data


# --- Panels: input ----------------------------------------------------------------------------


class PanelFormSerializer(OnlyKnownFields):
    """``{draw: N}`` (N seats, drawn at random) or ``{members: [user ids]}`` (named experts,
    the rest of the seats drawn), with optional representatives and chair."""

    draw = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=gettext_lazy(
            "The panel's size; the seats not taken by named members or representatives are "
            "drawn at random. Default: the smallest lawful size for the method and budget."
        ),
    )
    members = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=_accounts(),
        help_text=gettext_lazy("Experts from the pool named by the street office (user ids)."),
    )
    representatives = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=_accounts(),
        help_text=gettext_lazy("The purchaser's representatives (officials' user ids)."),
    )
    chair = serializers.PrimaryKeyRelatedField(
        required=False,
        allow_null=True,
        queryset=_accounts(),
        help_text=gettext_lazy("A member's user id; default: the first expert."),
    )


class PanelDeclarationSerializer(OnlyKnownFields):
    conflict = serializers.BooleanField()
    statement = serializers.CharField(required=False, allow_blank=True, default="")


class PanelReplacementSerializer(serializers.Serializer):
    """The seat's new member, by seat only: who it is stays with the panel."""

    id = serializers.IntegerField(source="pk")
    seat = serializers.IntegerField()
    kind = MemberKindField()
    status = MemberStatusField()


class PanelDeclarationResultSerializer(serializers.Serializer):
    """``declared``; or ``replaced``, with the seat's new member drawn from the pool."""

    id = serializers.IntegerField(source="pk")
    seat = serializers.IntegerField()
    status = MemberStatusField()
    status_label = serializers.CharField(source="get_status_display")
    conflict = serializers.BooleanField()
    declared_at = serializers.DateTimeField(allow_null=True)
    panel_status = PanelStatusField(source="panel.status")
    replacement = PanelReplacementSerializer(source="replaced_by", allow_null=True)


# --- Score sheets -----------------------------------------------------------------------------


class SheetScoreSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.code")
    criterion_name = serializers.CharField(source="criterion.name")
    points = serializers.DecimalField(source="criterion.points", max_digits=5, decimal_places=2)
    score = serializers.DecimalField(max_digits=5, decimal_places=2)
    reason = serializers.CharField()


class DeviationFlagSerializer(serializers.ModelSerializer):
    """An abnormal deviation (畸高畸低): confirm the score in writing or revise it."""

    criterion = serializers.CharField(source="criterion.code", read_only=True)
    status = DeviationStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DeviationFlag
        fields = [
            "id",
            "criterion",
            "score",
            "panel_mean",
            "deviation",
            "threshold",
            "status",
            "status_label",
            "note",
            "revised_score",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class ScoreSheetSerializer(serializers.ModelSerializer):
    """One member's scores of one bid on the subjective criteria, with their deviation flags."""

    tender = serializers.IntegerField(source="member.panel.tender_id", read_only=True)
    bid = serializers.UUIDField(source="bid_id", read_only=True)
    organization = serializers.CharField(source="bid.organization.name", read_only=True)
    seat = serializers.IntegerField(source="member.seat", read_only=True)
    status = SheetStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    scores = SheetScoreSerializer(source="scores.all", many=True, read_only=True)
    flags = DeviationFlagSerializer(source="flags.all", many=True, read_only=True)

    class Meta:
        model = ScoreSheet
        fields = [
            "id",
            "tender",
            "bid",
            "organization",
            "seat",
            "status",
            "status_label",
            "scores",
            "flags",
            "submitted_at",
            "locked_at",
            "updated_at",
        ]
        read_only_fields = fields


class SheetScoreInputSerializer(serializers.Serializer):
    criterion = serializers.CharField(help_text=gettext_lazy("A subjective criterion's code."))
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=gettext_lazy("Within [0, the criterion's points], at most 2 decimals."),
    )
    reason = serializers.CharField(
        required=False,
        help_text=gettext_lazy("A short reason; needed for every score, at most 500 characters."),
    )


@extend_schema_field(SheetScoreInputSerializer(many=True))
class ScoresField(serializers.ListField):
    """The scores as given: the service checks every item before saving any and names each
    problem by its criterion under ``scores``."""

    child = serializers.DictField()


class ScoreSheetInputSerializer(OnlyKnownFields):
    scores = ScoresField()


class ScoreSheetReopenSerializer(OnlyKnownFields):
    reason = CorrectionReasonField(
        help_text=gettext_lazy(
            "arithmetic_error, out_of_range or abnormal_score (an inconsistent objective "
            "score is corrected on the score itself)."
        )
    )
    explanation = serializers.CharField(allow_blank=True)


class RankingCorrectionSerializer(serializers.ModelSerializer):
    """A recorded correction after aggregation: the reason, the sheet, totals before and after."""

    reason = CorrectionReasonField(read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    sheet = serializers.IntegerField(source="sheet_id", read_only=True, allow_null=True)

    class Meta:
        model = RankingCorrection
        fields = [
            "id",
            "reason",
            "reason_label",
            "explanation",
            "sheet",
            "requested_at",
            "before",
            "after",
            "applied_at",
        ]
        read_only_fields = fields


class DeviationConfirmSerializer(OnlyKnownFields):
    note = serializers.CharField(allow_blank=True)


class DeviationReviseSerializer(OnlyKnownFields):
    # Checked by the service against the criterion (range, places), named under "score".
    score = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class ObjectiveScoreSerializer(serializers.ModelSerializer):
    """A score the system computed from registry facts, identical for every member."""

    bid = serializers.UUIDField(source="bid_id", read_only=True)
    organization = serializers.CharField(source="bid.organization.name", read_only=True)
    criterion = serializers.CharField(source="criterion.code", read_only=True)
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    points = serializers.DecimalField(
        source="criterion.points", max_digits=5, decimal_places=2, read_only=True
    )

    class Meta:
        model = ObjectiveScore
        fields = [
            "id",
            "bid",
            "organization",
            "criterion",
            "criterion_name",
            "points",
            "score",
            "basis",
            "computed_at",
        ]
        read_only_fields = fields


class ObjectiveCorrectSerializer(OnlyKnownFields):
    value = serializers.CharField(
        help_text=gettext_lazy("The corrected score, within [0, the criterion's points].")
    )
    explanation = serializers.CharField(allow_blank=True)


# --- The ranking --------------------------------------------------------------------------------


class PanelMemberScoreSerializer(serializers.Serializer):
    seat = serializers.IntegerField()
    member = serializers.CharField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2)
    reason = serializers.CharField()
    flag = serializers.CharField(
        help_text=gettext_lazy('The latest deviation flag: "", open, confirmed or revised.')
    )


class RankingRowSerializer(serializers.Serializer):
    """One ranked bid; ``price_score``, ``criterion_scores`` and ``member_scores`` are null
    where the caller may not see them (the public summary after the award)."""

    position = serializers.IntegerField(
        help_text=gettext_lazy("The order after ties are broken; 1 is recommended.")
    )
    bid = serializers.UUIDField(source="bid_id")
    organization = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    price_score = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)
    criterion_scores = serializers.DictField(
        child=serializers.DecimalField(max_digits=7, decimal_places=2), allow_null=True
    )
    member_scores = serializers.DictField(
        child=serializers.ListField(child=PanelMemberScoreSerializer()),
        allow_null=True,
        help_text=gettext_lazy("Each member's scores per subjective criterion code."),
    )
    total = serializers.DecimalField(max_digits=7, decimal_places=2)
    rank = serializers.IntegerField()
    tied = serializers.BooleanField()
    own = serializers.BooleanField(help_text=gettext_lazy("The caller's organization's bid."))


class RankingSerializer(serializers.Serializer):
    """The frozen ranking (综合评分法): in full for the street office, auditors and the
    panel; after the award a public summary, the bidder's own row in full."""

    tender = serializers.IntegerField(source="ranking.tender_id")
    version = serializers.IntegerField(source="ranking.version")
    base_price = serializers.DecimalField(
        source="ranking.base_price", max_digits=14, decimal_places=2
    )
    trim_extremes = serializers.BooleanField(source="ranking.trim_extremes")
    places = serializers.IntegerField(source="ranking.places")
    tie_break = TieBreakField(source="ranking.tie_break", allow_null=True)
    tie_seed = serializers.CharField(source="ranking.tie_seed")
    computed_at = serializers.DateTimeField(source="ranking.computed_at")
    full = serializers.BooleanField()
    rows = RankingRowSerializer(many=True)
    corrections = RankingCorrectionSerializer(many=True)


# --- Price justifications ---------------------------------------------------------------------


class PriceJustificationSerializer(serializers.ModelSerializer):
    """An abnormally low price (87号令 Art. 60): the bidder's written justification and the
    panel's decision."""

    tender = serializers.IntegerField(source="bid.tender_id", read_only=True)
    bid = serializers.UUIDField(source="bid_id", read_only=True)
    organization = serializers.CharField(source="bid.organization.name", read_only=True)
    status = JustificationStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    document = serializers.SerializerMethodField()

    class Meta:
        model = PriceJustification
        fields = [
            "id",
            "tender",
            "bid",
            "organization",
            "price",
            "others_mean",
            "ratio",
            "status",
            "status_label",
            "requested_at",
            "due_at",
            "text",
            "document",
            "submitted_at",
            "decision_note",
            "decided_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(
            allow_null=True,
            help_text=gettext_lazy("{name, sha256, download} or null without a document."),
        )
    )
    def get_document(self, justification: PriceJustification) -> dict[str, str] | None:
        if not justification.document:
            return None
        return {
            "name": justification.document_name,
            "sha256": justification.document_sha256,
            "download": reverse(
                "api:price-justification-document",
                args=[justification.pk],
                request=self.context["request"],
            ),
        }


class PriceJustificationSubmitSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True,
        help_text=gettext_lazy("How the service can be delivered at this price."),
    )
    document = serializers.FileField(
        required=False,
        help_text=gettext_lazy("PDF, Word .docx, Excel .xlsx, PNG or JPEG; decided by content."),
    )


class PriceJustificationDecideSerializer(OnlyKnownFields):
    accept = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True, required=False, default="")


# --- Assessor profiles ------------------------------------------------------------------------


class AssessorEmploymentSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(
        source="organization_id", read_only=True, allow_null=True
    )

    class Meta:
        model = AssessorEmployment
        fields = [
            "id",
            "employer_name",
            "employer_uscc",
            "organization",
            "is_purchasing_unit",
            "position",
            "start_date",
            "end_date",
        ]
        read_only_fields = fields


class AssessorRelationSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(
        source="organization_id", read_only=True, allow_null=True
    )

    class Meta:
        model = AssessorRelation
        fields = [
            "id",
            "organization_name",
            "organization_uscc",
            "organization",
            "relation",
            "declared_at",
        ]
        read_only_fields = fields


class AssessorProfileSerializer(serializers.ModelSerializer):
    """An assessor in the pool: agency, categories, employment history and declared
    relations (the facts the panel draw checks for conflicts)."""

    user = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    categories: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    employments = AssessorEmploymentSerializer(many=True, read_only=True)
    relations = AssessorRelationSerializer(many=True, read_only=True)

    class Meta:
        model = AssessorProfile
        fields = [
            "id",
            "user",
            "name",
            "agency",
            "categories",
            "joined_at",
            "employments",
            "relations",
        ]
        read_only_fields = fields


class AssessorProfileUpdateSerializer(OnlyKnownFields):
    """Only the fields given change."""

    agency = serializers.CharField(required=False, allow_blank=True)
    categories = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=service_category_list(),
        help_text=gettext_lazy("Service category codes, e.g. elderly_care."),
    )


class AssessorEmploymentCreateSerializer(OnlyKnownFields):
    employer_name = serializers.CharField(required=False, allow_blank=True, default="")
    employer_uscc = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("Matched to the registry: a bidder is a conflict for 3 years."),
    )
    is_purchasing_unit = serializers.BooleanField(required=False, default=False)
    position = serializers.CharField(required=False, allow_blank=True, default="")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class AssessorEmploymentEndSerializer(OnlyKnownFields):
    end_date = serializers.DateField()


class AssessorRelationCreateSerializer(OnlyKnownFields):
    organization_name = serializers.CharField(required=False, allow_blank=True, default="")
    organization_uscc = serializers.CharField(required=False, allow_blank=True, default="")
    relation = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("Family, a board seat, funding...")
    )


# --- Helpers ------------------------------------------------------------------------------------


def _may_sit_on_panels(user: Any) -> bool:
    """Experts from the pool and the purchaser's representatives (officials) sit on panels."""
    return has_role(user, Role.ASSESSOR) or is_official(user)


class _EvaluationViewSet(ApiViewSet):
    permission_classes = [IsAuthenticated]

    def _tender_by_id(self, pk: Any) -> Tender:
        return tender_selectors.tender_get_for_user(self.request.user, pk)

    def _query_tender(self, *, required: bool = True) -> Tender | None:
        """The tender named by ``?tender=`` (400 when malformed, 404 when not visible)."""
        serializer = TenderQuerySerializer if required else OptionalTenderQuerySerializer
        data = parse_input(serializer, self.request, self.request.query_params)
        if "tender" not in data:
            return None
        return self._tender_by_id(data["tender"])

    def _sheet_answer(self, sheet: ScoreSheet, *, status: int = 200) -> Response:
        # Read back through the selector: the same shape (scores, flags) as a GET.
        sheet = selectors.scoresheet_get_for_user(self.request.user, sheet.pk)
        return self._answer(ScoreSheetSerializer, sheet, status=status)


# --- Tender-level resources: the panel, the declaration, the bids, the ranking --------------------


class TenderEvaluationViewSet(_EvaluationViewSet):
    """A tender's evaluation: its panel, the members' declarations, the bids for the panel and
    the frozen ranking."""

    serializer_class = PanelSerializer

    def _tender(self) -> Tender:
        return self._tender_by_id(self.kwargs["pk"])

    def _panel_answer(self, tender: Tender, *, status: int = 200) -> Response:
        user = self.request.user
        panel = selectors.panel_get_for_user(user, tender)
        progress = (
            selectors.panel_progress(panel)
            if permissions.can_view_panel_progress(user, panel)
            else None
        )
        view = PanelView(detail=selectors.panel_detail(panel, user=user), progress=progress)
        return self._answer(PanelSerializer, view, status=status)

    @extend_schema(
        summary="The panel",
        description=(
            "For the street office, auditors and the panel's members: members with their "
            "status, the draws with their seeds; exclusions and each member's progress (counts, "
            "no scores) for the street office and auditors only. 404 for anyone else."
        ),
        responses={200: PanelSerializer, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"])
    def panel(self, request: Request, pk: int) -> Response:
        return self._panel_answer(self._tender())

    @extend_schema(
        summary="Form the panel (an official, once every opened bid is reviewed)",
        description=(
            "`{draw: N}`: N seats drawn at random from the pool, excluding conflicts. "
            "`{members: [user ids]}`: named experts, each checked like a drawn one; the seats "
            "left are drawn. Optional `representatives` (officials, at most a third) and "
            "`chair`. The draw's seed and every exclusion with its reason are recorded."
        ),
        request=PanelFormSerializer,
        responses={201: PanelSerializer, **error_responses(400, 401, 403, 404)},
    )
    @panel.mapping.post
    def panel_form(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(is_official(self.user))
        data = parse_input(PanelFormSerializer, request)
        try:
            panel_services.panel_form(
                tender=tender,
                actor=self.user,
                size=data.get("draw"),
                members=data.get("members", []),
                representatives=data.get("representatives", []),
                chair=data.get("chair"),
            )
        except ValidationError as exc:
            raise _renamed(exc, {"size": "draw"}) from exc
        return self._panel_answer(tender, status=201)

    @extend_schema(
        summary="Sign the conflict-of-interest declaration (a panel member)",
        description=(
            '`{conflict: false, statement}` → `{status: "declared"}`: the member\'s sheets '
            "open, and the last declaration starts scoring. `{conflict: true, statement}` → "
            '`{status: "replaced", replacement}`: the member leaves and a new draw fills the '
            "seat. Bid content is shown only after declaring no conflict."
        ),
        request=PanelDeclarationSerializer,
        responses={200: PanelDeclarationResultSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def declaration(self, request: Request, pk: int) -> Response:
        tender = self._tender()
        allow(_may_sit_on_panels(self.user))
        seat = next(
            (
                assignment.member
                for assignment in selectors.my_assignments(self.user)
                if assignment.tender.pk == tender.pk and assignment.member.is_active
            ),
            None,
        )
        if seat is None:
            raise Http404
        data = parse_input(PanelDeclarationSerializer, request)
        member = panel_services.panel_declare(
            member=seat, actor=self.user, conflict=data["conflict"], statement=data["statement"]
        )
        return self._answer(PanelDeclarationResultSerializer, member)

    @extend_schema(
        summary="The bids under evaluation, with their content",
        description=(
            "For the panel's members after signing the declaration, and for the street office "
            "and auditors after the opening; 404 for anyone else (an undeclared member too)."
        ),
        responses={200: BidSerializer(many=True), **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"], url_path="panel/bids", url_name="panel-bids")
    def panel_bids(self, request: Request, pk: int) -> Response:
        user = self.request.user
        bids = selectors.panel_bid_list_for_user(user, self._tender())
        page = cast("list[Bid]", self.paginate_queryset(bids))
        views = [
            BidView(bid=bid, content=selectors.panel_bid_content_for_user(user, bid))
            for bid in page
        ]
        serializer = BidSerializer(views, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="The frozen ranking",
        description=(
            "After aggregation: in full, with each member's scores, for the street office, "
            "auditors and the panel's declared members. After the award, a public summary "
            "(organization, price, total, rank), a bidder seeing its own row in full. 404 "
            "before the ranking and for anyone else."
        ),
        auth=[],
        responses={200: RankingSerializer, **error_responses(404)},
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[IsAuthenticatedOrReadOnly],
    )
    def ranking(self, request: Request, pk: int) -> Response:
        view: RankingView = selectors.ranking_for_user(request.user, self._tender())
        return self._answer(RankingSerializer, view)


# --- Score sheets ---------------------------------------------------------------------------------


class ScoreSheetViewSet(_EvaluationViewSet):
    """A member's score sheets: one per bid, scored independently (DESIGN 4.4)."""

    serializer_class = ScoreSheetSerializer

    def _sheet(self) -> ScoreSheet:
        return selectors.scoresheet_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="The caller's own score sheets",
        description=(
            "Only the caller's own sheets, once the declaration is signed; never anyone "
            "else's, whoever asks. `?tender=` narrows them to one tender."
        ),
        parameters=[OpenApiParameter("tender", OpenApiTypes.INT, description="The tender's id.")],
        responses={200: ScoreSheetSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def list(self, request: Request) -> Response:
        tender = self._query_tender(required=False)
        return self._page(
            ScoreSheetSerializer, selectors.scoresheet_list_for_user(self.user, tender)
        )

    @extend_schema(
        summary="One score sheet",
        description=(
            "The caller's own; someone else's only once every sheet of the panel is "
            "submitted, for the panel's declared members, the street office and auditors. "
            "404 otherwise, exactly like a missing sheet."
        ),
        responses={200: ScoreSheetSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(ScoreSheetSerializer, self._sheet())

    @extend_schema(
        summary="Save scores (a draft)",
        description=(
            "`{scores: [{criterion, score, reason}]}` on some or all subjective criteria, each "
            "within [0, its points] with a short reason. A problem with any item saves nothing; "
            "each is named by its criterion under `fields.scores`."
        ),
        request=ScoreSheetInputSerializer,
        responses={200: ScoreSheetSerializer, **error_responses(400, 401, 403, 404)},
    )
    def update(self, request: Request, pk: int) -> Response:
        sheet = self._sheet()
        allow(permissions.can_score_sheet(self.user, sheet))
        data = parse_input(ScoreSheetInputSerializer, request)
        sheet = sheet_services.scoresheet_save(sheet=sheet, actor=self.user, scores=data["scores"])
        return self._sheet_answer(sheet)

    @extend_schema(
        summary="Submit the sheet",
        description=(
            "Every subjective criterion scored. The last sheet of the panel runs the "
            "deviation check (畸高畸低): sheets without a flag lock, flagged scores wait for "
            "their member; once everything is locked the ranking is computed."
        ),
        request=None,
        responses={200: ScoreSheetSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: int) -> Response:
        sheet = self._sheet()
        allow(permissions.can_score_sheet(self.user, sheet))
        return self._sheet_answer(sheet_services.scoresheet_submit(sheet=sheet, actor=self.user))

    @extend_schema(
        summary="Reopen a locked sheet for a correction (the chair)",
        description=(
            "After aggregation, for an arithmetic error, a score out of range or an abnormally "
            "high or low score; the ranking's totals before are recorded and the sheet's member "
            "saves and submits again."
        ),
        request=ScoreSheetReopenSerializer,
        responses={201: RankingCorrectionSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: int) -> Response:
        sheet = self._sheet()
        allow(permissions.can_reopen_sheet(self.user, sheet))
        data = parse_input(ScoreSheetReopenSerializer, request)
        correction = sheet_services.scoresheet_reopen(
            sheet=sheet, actor=self.user, reason=data["reason"], explanation=data["explanation"]
        )
        return self._answer(RankingCorrectionSerializer, correction, status=201)


# --- Deviations --------------------------------------------------------------------------------


class DeviationViewSet(_EvaluationViewSet):
    """Abnormal deviations (畸高畸低) on the caller's own sheets, listed in the sheet answers."""

    serializer_class = ScoreSheetSerializer

    def _flag(self) -> DeviationFlag:
        """A flag on one of the caller's own sheets; 404 for anyone else's, like a missing one.

        The street office and auditors read every sheet (flags exist only once every sheet
        is in) but never answer a flag: they are refused (403).
        """
        user = self.user
        allow(_may_sit_on_panels(user))
        try:
            return selectors.deviation_get_for_user(user, self.kwargs["pk"])
        except Http404:
            allow(not permissions.is_office_or_auditor(user))
            raise

    @extend_schema(
        summary="Keep the flagged score, with a written reason",
        description="The answer is the sheet, with its flags; it locks once none is open.",
        request=DeviationConfirmSerializer,
        responses={200: ScoreSheetSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        flag = self._flag()
        data = parse_input(DeviationConfirmSerializer, request)
        flag = sheet_services.deviation_confirm(flag=flag, actor=self.user, note=data["note"])
        return self._sheet_answer(flag.sheet)

    @extend_schema(
        summary="Revise the flagged score",
        description=(
            "The new score is checked against the panel mean computed with it; still beyond "
            "the threshold, the sheet shows a new open flag."
        ),
        request=DeviationReviseSerializer,
        responses={200: ScoreSheetSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: int) -> Response:
        flag = self._flag()
        data = parse_input(DeviationReviseSerializer, request)
        flag = sheet_services.deviation_revise(
            flag=flag, actor=self.user, score=data["score"], reason=data["reason"]
        )
        return self._sheet_answer(flag.sheet)


# --- Objective scores ----------------------------------------------------------------------------


class ObjectiveScoreViewSet(_EvaluationViewSet):
    """The system's objective scores (grade, certified social workers, past performance)."""

    serializer_class = ObjectiveScoreSerializer

    def _chaired_score(self) -> tuple[ObjectiveScore, PanelMember]:
        """An objective score of a panel the caller chairs; 404 for other assessors.

        The street office and auditors read every objective score but correct none: they
        are refused (403).
        """
        user = self.user
        allow(_may_sit_on_panels(user))
        try:
            return selectors.objective_score_get_for_chair(user, self.kwargs["pk"])
        except Http404:
            allow(not permissions.is_office_or_auditor(user))
            raise

    @extend_schema(
        summary="A tender's objective scores, with what each was computed from",
        description="For those who may read the bids under evaluation; 404 for anyone else.",
        parameters=[_TENDER_PARAMETER],
        responses={200: ObjectiveScoreSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def list(self, request: Request) -> Response:
        tender = cast("Tender", self._query_tender())
        scores = selectors.objective_scores_for_user(self.user, tender)
        return self._page(ObjectiveScoreSerializer, scores)

    @extend_schema(
        summary="Correct an inconsistent objective score (the chair, on a ranked panel)",
        description="The ranking is recomputed at once; the correction records the totals.",
        request=ObjectiveCorrectSerializer,
        responses={201: RankingCorrectionSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: int) -> Response:
        score, member = self._chaired_score()
        allow(permissions.can_correct_objective_score(self.user, member.panel))
        data = parse_input(ObjectiveCorrectSerializer, request)
        correction = sheet_services.objective_score_correct(
            score=score, actor=self.user, value=data["value"], explanation=data["explanation"]
        )
        return self._answer(RankingCorrectionSerializer, correction, status=201)


# --- Price justifications -----------------------------------------------------------------------


def _content_type(name: str) -> str:
    """The stored name's extension was set from the content (``safe_filename``)."""
    kinds = {extension: kind for kind, extension in DOCUMENT_EXTENSIONS.items()}
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = kinds.get(extension)
    return DOCUMENT_CONTENT_TYPES[kind] if kind else "application/octet-stream"


class PriceJustificationViewSet(_EvaluationViewSet):
    """Abnormally low prices (87号令 Art. 60): the bidder justifies, the panel decides."""

    serializer_class = PriceJustificationSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _justification(self) -> PriceJustification:
        return selectors.justification_get_for_user(self.request.user, self.kwargs["pk"])

    def _done(self, justification: PriceJustification) -> Response:
        return self._answer(
            PriceJustificationSerializer,
            selectors.justification_get_for_user(self.request.user, justification.pk),
        )

    @extend_schema(
        summary="A tender's price justifications",
        description=(
            "All of them for the street office, auditors and the panel's declared members; a "
            "bidder's own only for its organization."
        ),
        parameters=[_TENDER_PARAMETER],
        responses={200: PriceJustificationSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def list(self, request: Request) -> Response:
        tender = cast("Tender", self._query_tender())
        return self._page(
            PriceJustificationSerializer, selectors.justification_list_for_user(self.user, tender)
        )

    @extend_schema(
        summary="One price justification",
        responses={200: PriceJustificationSerializer, **error_responses(401, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return self._answer(PriceJustificationSerializer, self._justification())

    @extend_schema(
        summary="Submit the written justification (the bidder's administrator, by its due time)",
        description=(
            "As JSON `{text}` or multipart with `text` and an optional `document` (PDF, Word, "
            "Excel, PNG or JPEG, decided by content; 20 MB at most)."
        ),
        request={
            "application/json": PriceJustificationSubmitSerializer,
            "multipart/form-data": PriceJustificationSubmitSerializer,
        },
        responses={200: PriceJustificationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: int) -> Response:
        justification = self._justification()
        allow(permissions.can_submit_justification(self.user, justification))
        data = parse_input(PriceJustificationSubmitSerializer, request)
        try:
            justification = panel_services.justification_submit(
                justification=justification,
                actor=self.user,
                text=data["text"],
                upload=data.get("document"),
            )
        except ValidationError as exc:
            # The upload checks name the form's "file"; here it is "document".
            raise _renamed(exc, {"file": "document"}) from exc
        return self._done(justification)

    @extend_schema(
        summary="The panel's decision (its chair, with reasons)",
        description="`{accept: false}` makes the bid invalid; the ranking is then tried.",
        request=PriceJustificationDecideSerializer,
        responses={200: PriceJustificationSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: int) -> Response:
        justification = self._justification()
        try:
            panel = selectors.panel_get_for_user(self.user, justification.bid.tender)
        except Http404 as exc:
            # The justification is readable (the bidder, say); deciding it is the panel's.
            raise PermissionDenied from exc
        allow(permissions.can_decide_justification(self.user, justification, panel))
        data = parse_input(PriceJustificationDecideSerializer, request)
        justification = panel_services.justification_decide(
            justification=justification, actor=self.user, accept=data["accept"], note=data["note"]
        )
        return self._done(justification)

    @extend_schema(
        summary="Download the justification's document (an attachment)",
        responses={**_DOWNLOAD, **error_responses(401, 404)},
    )
    @action(detail=True, methods=["get"])
    def document(self, request: Request, pk: int) -> FileResponse:
        justification, data = selectors.justification_document_for_download(self.user, pk)
        name = justification.document_name or "document"
        return attachment(data, name=name, content_type=_content_type(name))


# --- Assessor profiles ---------------------------------------------------------------------------


class AssessorViewSet(_EvaluationViewSet):
    """Assessors' profiles: the assessor keeps their own; the street office reads any."""

    serializer_class = AssessorProfileSerializer

    @extend_schema(
        summary="An assessor's profile",
        description="For the street office, auditors and the assessor themself.",
        responses={200: AssessorProfileSerializer, **error_responses(401, 403, 404)},
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        user = self.user
        allow(has_role(user, Role.ASSESSOR) or permissions.is_office_or_auditor(user))
        return self._answer(
            AssessorProfileSerializer, selectors.assessor_profile_get_for_user(user, pk)
        )

    @extend_schema(
        summary="The caller's own assessor profile",
        responses={200: AssessorProfileSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        allow(has_role(self.user, Role.ASSESSOR))
        return self._answer(
            AssessorProfileSerializer, selectors.assessor_profile_for_user(self.user)
        )

    @extend_schema(
        summary="Change the caller's agency and service categories",
        request=AssessorProfileUpdateSerializer,
        responses={200: AssessorProfileSerializer, **error_responses(400, 401, 403, 404)},
    )
    @me.mapping.patch
    def me_update(self, request: Request) -> Response:
        allow(has_role(self.user, Role.ASSESSOR))
        profile = selectors.assessor_profile_for_user(self.user)
        data = parse_input(AssessorProfileUpdateSerializer, request)
        pool_services.assessor_profile_update(
            profile=profile,
            actor=self.user,
            agency=data.get("agency"),
            categories=data.get("categories"),
        )
        return self._answer(
            AssessorProfileSerializer, selectors.assessor_profile_for_user(self.user)
        )


class _OwnProfileViewSet(_EvaluationViewSet):
    """Resources under ``assessors/me/``: the caller's own profile only."""

    def _profile(self) -> AssessorProfile:
        allow(has_role(self.user, Role.ASSESSOR))
        return selectors.assessor_profile_for_user(self.user)


class EmploymentViewSet(_OwnProfileViewSet):
    """The caller's employment history: a bidder within 3 years is a conflict."""

    serializer_class = AssessorEmploymentSerializer

    @extend_schema(
        summary="Record a period of employment",
        request=AssessorEmploymentCreateSerializer,
        responses={201: AssessorEmploymentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request) -> Response:
        profile = self._profile()
        data = parse_input(AssessorEmploymentCreateSerializer, request)
        employment = pool_services.assessor_employment_add(profile=profile, actor=self.user, **data)
        return self._answer(AssessorEmploymentSerializer, employment, status=201)

    @extend_schema(
        summary="End a period of employment",
        request=AssessorEmploymentEndSerializer,
        responses={200: AssessorEmploymentSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: int) -> Response:
        profile = self._profile()
        employment = next((e for e in profile.employments.all() if e.pk == pk), None)
        if employment is None:
            raise Http404
        data = parse_input(AssessorEmploymentEndSerializer, request)
        employment = pool_services.assessor_employment_end(
            employment=employment, actor=self.user, end_date=data["end_date"]
        )
        return self._answer(AssessorEmploymentSerializer, employment)


class RelationViewSet(_OwnProfileViewSet):
    """Relations the caller declared with organizations (family, a board seat, funding)."""

    serializer_class = AssessorRelationSerializer

    @extend_schema(
        summary="Declare a relation with an organization",
        request=AssessorRelationCreateSerializer,
        responses={201: AssessorRelationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request: Request) -> Response:
        profile = self._profile()
        data = parse_input(AssessorRelationCreateSerializer, request)
        relation = pool_services.assessor_relation_add(profile=profile, actor=self.user, **data)
        return self._answer(AssessorRelationSerializer, relation, status=201)

    @extend_schema(
        summary="Withdraw a relation that no longer holds (the audit log keeps it)",
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def destroy(self, request: Request, pk: int) -> Response:
        profile = self._profile()
        relation = next((r for r in profile.relations.all() if r.pk == pk), None)
        if relation is None:
            raise Http404
        pool_services.assessor_relation_end(relation=relation, actor=self.user)
        return Response(status=204)


__all__ = [
    "AssessorViewSet",
    "DeviationViewSet",
    "EmploymentViewSet",
    "ObjectiveScoreViewSet",
    "PriceJustificationViewSet",
    "RelationViewSet",
    "ScoreSheetViewSet",
    "TenderEvaluationViewSet",
]
