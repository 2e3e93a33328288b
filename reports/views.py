"""Downloads of the printable documents: ``/reports/<kind>/<id>.pdf?lang=en``.

The object is found through the document's ``for_user`` (the same scoping as its page: a
404 for anyone who may not read it) and always sent as an attachment.
"""

from __future__ import annotations

import io

from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from reports import documents


@require_GET
def document_pdf(request: HttpRequest, kind: str, pk: int) -> FileResponse:
    try:
        document = documents.document_for(kind)
    except LookupError:
        raise Http404 from None
    obj = document.for_user(request.user, pk)
    language = documents.language_of(request.GET.get("lang"))
    pdf = documents.render_document(kind, obj, user=request.user, language=language)
    response = FileResponse(
        io.BytesIO(pdf),
        as_attachment=True,
        filename=documents.file_name(kind, obj, language),
        content_type="application/pdf",
    )
    # Documents carry what the reader's role may see: never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response
