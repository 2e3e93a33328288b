"""Downloads of the list pages as CSV or XLSX: ``/exports/<list>.<csv|xlsx>?<the list's
filters>`` and, for the rows of one object (the bids of a tender),
``/exports/<list>/<pk>.<csv|xlsx>``.

The rows are the list's own (``reports.exports``): the page's selector and filters, every
page. Anonymous visitors of a list that needs an account are sent to sign in; a list the
user may not read answers 403 or 404 exactly as its page does; bad filter values and
exports beyond the row limit answer 400 with a JSON body
``{"error": code, "detail": text, "fields": {parameter: [messages]}}``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from reports import exports

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require_GET
def export(
    request: HttpRequest, list_name: str, fmt: str, pk: str | None = None
) -> HttpResponseBase:
    """The list ``list_name`` as filtered by the query string, as an attachment."""
    number = int(pk) if pk is not None else None
    try:
        spec = exports.export_list(list_name)
    except LookupError:
        raise Http404 from None
    if fmt not in CONTENT_TYPES or spec.scoped != (number is not None):
        raise Http404
    if spec.login_required and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return export_response(request.user, spec, list_name, fmt, request.GET, number)


def export_response(
    user: Any, spec: Any, list_name: str, fmt: str, params: Any, number: int | None
) -> HttpResponse:
    """The attachment of the list, or the 400 naming the bad filter (the page's download and
    the API's share it)."""
    try:
        frame = exports.export_frame(list_name, user=user, params=params, pk=number, fmt=fmt)
    except exports.ExportError as exc:
        return JsonResponse(
            {"error": exc.code, "detail": exc.detail, "fields": exc.fields},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    if fmt == "csv":
        body = exports.to_csv_bytes(frame)
    else:
        body = exports.to_xlsx_bytes(frame, title=str(spec.title))
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    filename = f"{spec.file_stem(number)}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # An export carries what the reader's role may see: never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response
