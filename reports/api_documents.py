"""API v1: ``GET /api/v1/documents/{kind}/{id}/?lang=en``, a printable document as a PDF.

The same documents as the pages' downloads (``reports.documents``): found through the
document's ``for_user`` with the caller (token or session), so a caller who may not read the
object's page gets the same 404; anonymous callers get the public documents.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from marketplace.api_base import attachment, error_responses
from reports import documents


class DocumentView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="document_pdf",
        summary="A printable document as a PDF",
        description=(
            "kind is one of: "
            + ", ".join(documents.KINDS)
            + ". The id is the object's (a tender, contract, evaluation, grade assessment or "
            "screens run) or, for annual_statistics, the year."
        ),
        parameters=[
            OpenApiParameter(
                "lang",
                str,
                enum=list(documents.LANGUAGES),
                required=False,
                description="The document's language (default: the request's).",
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            **error_responses(404),
        },
    )
    def get(self, request: Request, kind: str, pk: int) -> FileResponse:
        try:
            document = documents.document_for(kind)
        except LookupError:
            raise Http404 from None
        obj = document.for_user(request.user, pk)
        language = documents.language_of(request.query_params.get("lang"))
        pdf = documents.render_document(kind, obj, user=request.user, language=language)
        response = attachment(
            pdf, name=documents.file_name(kind, obj, language), content_type="application/pdf"
        )
        patch_cache_control(response, private=True, no_store=True)
        return response
