"""API v1: ``GET /api/v1/exports/{list}.{csv|xlsx}?<filters>`` (and
``/api/v1/exports/{list}/{id}.{csv|xlsx}`` for one object's rows, the bids of a tender): the
same downloads as the list pages' export buttons, for token clients.

The rows, masking and errors are the page download's (``reports.views_exports``); a list that
needs an account answers 401 to an anonymous caller instead of the sign-in redirect.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from marketplace.api_base import error_responses
from reports import exports
from reports.views_exports import CONTENT_TYPES, export_response


class ExportView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="export_list",
        summary="A list as CSV or XLSX, filtered like its page",
        description=(
            "The list's page filters apply as query parameters; every page of the list is "
            "exported (CSV up to 100,000 rows, XLSX up to 25,000). Personal data is masked "
            "unless the caller's role needs it."
        ),
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(
        self, request: Request, list_name: str, fmt: str, pk: str | None = None
    ) -> HttpResponse:
        number = int(pk) if pk is not None else None
        try:
            spec = exports.export_list(list_name)
        except LookupError:
            raise Http404 from None
        if fmt not in CONTENT_TYPES or spec.scoped != (number is not None):
            raise Http404
        if spec.login_required and not request.user.is_authenticated:
            raise NotAuthenticated
        return export_response(request.user, spec, list_name, fmt, request.query_params, number)


class ExportOfView(ExportView):
    """One object's rows (the bids of a tender, after its opening)."""

    @extend_schema(
        operation_id="export_list_of_object",
        summary="One object's rows as CSV or XLSX (the bids of a tender, once opened)",
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(
        self, request: Request, list_name: str, fmt: str, pk: str | None = None
    ) -> HttpResponse:
        return super().get(request, list_name, fmt, pk)
