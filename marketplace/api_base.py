"""Building blocks every app's API shares: named enum fields, strict input, the base viewset.

One copy here, so that the registry's and the tenders' APIs answer, refuse and document
themselves the same way.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django.core.exceptions import PermissionDenied
from django.db.models import Choices
from django.http import FileResponse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from marketplace.api import ErrorSerializer
from marketplace.models import User


class EnumField(serializers.ChoiceField):
    """A choice field over one ``TextChoices`` enum (see ``enum_field``)."""

    enum: type[Choices]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=self.enum.choices, **kwargs)

    def to_representation(self, value: Any) -> Any:
        # An unset choice is stored as "" and answered as null.
        if value in ("", None):
            return None
        return super().to_representation(value)


def enum_field(choices: type[Choices], name: str) -> type[EnumField]:
    """A choice field whose values are one named schema component.

    Several models have a ``status`` or a ``kind`` with different values; naming each set
    once keeps the OpenAPI enum names stable and the schema free of naming collisions.
    """
    field = type(f"{name}Field", (EnumField,), {"enum": choices, "__module__": __name__})
    schema = serializers.ChoiceField(choices=choices.choices)
    return cast("type[EnumField]", extend_schema_field(schema, component_name=name)(field))


class OnlyKnownFields(serializers.Serializer):
    """Refuses fields it does not know, so that a change it cannot make is not silently lost
    (a PATCH of a registered fact must not answer 200).

    Checked in ``to_internal_value`` (not ``validate``) so that unknown fields are reported
    together with the other field errors, and nested serializers check too.
    """

    unknown_message = gettext_lazy("This field cannot be set here.")

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors: dict[str, Any] = {field: [str(self.unknown_message)] for field in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The CONTRACTS error body for each status, for ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorSerializer) for code in codes}


def allow(allowed: bool) -> None:
    """Refuse before reading the input; the service checks again under its row lock."""
    if not allowed:
        raise PermissionDenied


def parse_input(
    serializer_class: type[serializers.Serializer], request: Request, data: Any = None
) -> dict[str, Any]:
    """Validate the request body (or ``data``) with ``serializer_class``; 400 when invalid."""
    serializer = serializer_class(
        data=request.data if data is None else data, context={"request": request}
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# NUL (PostgreSQL refuses it in text) and unpaired surrogates (no database can encode them):
# JSON can carry both, as \u0000 and \ud800, into nested rows no serializer field checks.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> bool:
    """Whether ``value`` holds text no database column can store, at any depth; a string
    that is itself JSON (a multipart field the view decodes later) is looked into too."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            return True
        if value[:1] in ("[", "{") and "\\u" in value:
            try:
                return _unstorable(json.loads(value))
            except ValueError:
                return False
        return False
    if isinstance(value, Mapping):
        return any(_unstorable(key) or _unstorable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(item) for item in value)
    return False


def refuse_unstorable_text(data: Any) -> None:
    """400 naming the first field whose text (at any depth) cannot be stored."""
    items = (
        data.lists()
        if hasattr(data, "lists")
        else data.items()
        if isinstance(data, Mapping)
        else []
    )
    for name, value in items:
        if _unstorable(value):
            raise serializers.ValidationError(
                {
                    str(name): [
                        gettext(
                            "The text contains a NUL character or an invalid character "
                            "(an unpaired surrogate); remove it and send it again."
                        )
                    ]
                },
                code="invalid_characters",
            )
    if not isinstance(data, Mapping) and _unstorable(data):
        raise serializers.ValidationError(
            gettext("The body contains a NUL character or an invalid character."),
            code="invalid_characters",
        )


def attachment(data: bytes, *, name: str, content_type: str) -> FileResponse:
    """A download, never shown inline (an uploaded file is not trusted to render)."""
    return FileResponse(
        io.BytesIO(data), as_attachment=True, filename=name, content_type=content_type
    )


class ApiViewSet(viewsets.GenericViewSet):
    """Views that call one service or selector and answer with one serializer."""

    lookup_value_converter = "int"
    # Only the lists that declare a filter set use one.
    filter_backends: list[type] = []
    #: Actions with a rate of their own (a scope of ``DEFAULT_THROTTLE_RATES``), on top of
    #: the anonymous and user rates: e.g. ``{"create": "register"}``.
    action_throttle_scopes: ClassVar[dict[str, str]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, permissions and throttles: refuse a body whose text no
        database can store, before any serializer or service sees it (nested rows and JSON
        held in form fields reach the services unchecked by field validators)."""
        super().initial(request, *args, **kwargs)
        method = (request.method or "").lower()
        # A method the view does not take answers 405 the usual way, before any parsing.
        if method in ("post", "put", "patch") and hasattr(self, method):
            refuse_unstorable_text(request.data)

    def get_throttles(self) -> list[Any]:
        throttles = list(super().get_throttles())
        scope = self.action_throttle_scopes.get(self.action or "")
        if scope:
            self.throttle_scope = scope  # read by ScopedRateThrottle
            throttles.append(ScopedRateThrottle())
        return throttles

    @property
    def user(self) -> User:
        """The caller. Every write requires a signed-in user; reads pass anonymous callers
        on to selectors, which accept any user."""
        return cast("User", self.request.user)

    def _answer(
        self,
        serializer_class: type[serializers.BaseSerializer],
        instance: Any,
        *,
        status: int = 200,
        **context: Any,
    ) -> Response:
        serializer = serializer_class(
            instance, context={**self.get_serializer_context(), **context}
        )
        return Response(serializer.data, status=status)

    def _page(
        self, serializer_class: type[serializers.BaseSerializer], queryset: Any, **context: Any
    ) -> Response:
        page = self.paginate_queryset(queryset)
        serializer = serializer_class(
            page, many=True, context={**self.get_serializer_context(), **context}
        )
        return self.get_paginated_response(serializer.data)
