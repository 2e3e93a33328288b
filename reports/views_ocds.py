"""The bulk OCDS file of the portal's data page: every published tender's releases in one
release package, streamed as an attachment while it is written."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from reports import ocds

FILE_NAME = "releases.json"


@require_GET
def ocds_bulk(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        ocds.package_chunks(
            ocds.published_tenders(),
            base_url=request.build_absolute_uri("/"),
            uri=request.build_absolute_uri(),
        ),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, FILE_NAME)
    return response
