"""API v1: the OCDS release package (CONTRACTS.md ``GET /api/v1/ocds/releases/?tender={id}``).

Open data: no sign-in. With ``?tender`` the package holds that tender's releases; without it,
every published tender's, streamed as it is written.
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from marketplace.api_base import error_responses
from reports import ocds

JSON = "application/json; charset=utf-8"
# The largest primary key the database can hold (a bigger number cannot name a tender).
MAX_ID = 2**63 - 1


def _tender_id(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 0 < value <= MAX_ID:
        raise exceptions.ValidationError({"tender": [_("Give a tender's number, such as 12.")]})
    return value


class OcdsReleasesView(APIView):
    """OCDS 1.1 release packages of the published tenders."""

    # Public data: no session or token is read.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="ocds_releases",
        summary="OCDS release package (public)",
        description=(
            "An OCDS 1.1 release package (https://standard.open-contracting.org/1.1/) with "
            "the bids extension: one release per public event of a tender (publication, "
            "amendments, opening, award, contract, milestones and payments, cancellation). "
            "With `tender`, that tender's releases; without it, every published tender's, "
            "streamed. Nothing about bids appears before the opening."
        ),
        auth=[],
        parameters=[
            OpenApiParameter(
                "tender",
                OpenApiTypes.INT,
                required=False,
                description="A published tender's id; 404 when there is none.",
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="An OCDS 1.1 release package."
            ),
            **error_responses(400, 404, 429),
        },
    )
    def get(self, request: Request) -> HttpResponse | StreamingHttpResponse:
        base_url = request.build_absolute_uri("/")
        raw = request.query_params.get("tender")
        if raw is None:
            return StreamingHttpResponse(
                ocds.package_chunks(
                    ocds.published_tenders(), base_url=base_url, uri=request.build_absolute_uri()
                ),
                content_type=JSON,
            )
        tenders = ocds.published_tenders().filter(pk=_tender_id(raw))
        if not tenders.exists():
            raise exceptions.NotFound(_("No published tender has this number."))
        body = "".join(
            ocds.package_chunks(tenders, base_url=base_url, uri=request.build_absolute_uri())
        )
        return HttpResponse(body, content_type=JSON)
