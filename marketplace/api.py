"""API v1 foundations: the error format, tokens, the caller's identity and the root."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_fsm import ConcurrentTransition
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from marketplace.models import AuditAction, User
from marketplace.services import session_event_record
from marketplace.two_factor import needs_two_factor
from marketplace.two_factor_services import Refusal, two_factor_verify
from marketplace.views import lockout_response


class VerifiedSessionScheme(SessionScheme):
    """Documents ``VerifiedSessionAuthentication`` as the session (cookie) scheme it is."""

    target_class = "marketplace.api_auth.VerifiedSessionAuthentication"


# --- Error format: {"error": code, "detail": text, "fields": {...}} ---------------------------

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(),
        "detail": serializers.CharField(),
        "fields": serializers.DictField(),
    },
)


class Conflict(exceptions.APIException):
    """Someone else changed the object's state between reading and writing it."""

    status_code = 409
    default_detail = _lazy("The object changed meanwhile; reload it and try again.")
    default_code = "conflict"


def _error_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    if isinstance(codes, str):
        return codes
    return str(exc.default_code)


def _flatten_detail(detail: Any) -> Any:
    """Turn DRF's ErrorDetail structures into plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten_detail(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten_detail(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error in the CONTRACTS format with its 4xx status.

    Django's own ``ValidationError`` (raised by services and ``full_clean``) becomes a
    400 with the field messages; ``PermissionDenied`` a 403; ``Http404`` a 404.
    Anything else is left to Django and is a bug (500).
    """
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(detail=exc.message_dict)
        else:
            exc = exceptions.ValidationError(detail={"non_field_errors": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, ConcurrentTransition):
        exc = Conflict()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    fields: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        flat = _flatten_detail(exc.detail)
        fields = flat if isinstance(flat, dict) else {"non_field_errors": flat}
        non_field = fields.get("non_field_errors")
        detail = (
            "; ".join(non_field)
            if isinstance(non_field, list) and non_field
            else _("The request has invalid fields; see fields for each problem.")
        )
    else:
        detail = str(_flatten_detail(exc.detail))
    response.data = {"error": _error_code(exc), "detail": detail, "fields": fields}
    return response


# --- Tokens ---------------------------------------------------------------------------------


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Username"))
    password = serializers.CharField(
        label=_("Password"), style={"input_type": "password"}, trim_whitespace=False
    )
    otp_token = serializers.CharField(
        label=_("Two-factor code"),
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_lazy(
            "Required for staff accounts (official, approver, assessor, registry_admin, "
            "auditor, administrators): the current code of the account's authenticator app "
            "or an unused backup code. Organization accounts leave it out."
        ),
    )


class TokenView(APIView):
    """Exchange a username and password (and, for staff, a two-factor code) for the
    account's API token.

    Failed attempts count towards the same lock-out as the sign-in page; wrong codes
    towards the same code throttling as the two-factor page. A token, once issued,
    authenticates without a second factor: it is the secret the second factor guarded.
    """

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials are a 401 with a challenge, not a 403.
        return "Token"

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: inline_serializer(name="Token", fields={"token": serializers.CharField()}),
            400: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "A field is missing or invalid; for staff accounts also when otp_token "
                    'is missing or wrong (fields: {"otp_token": [...]}).'
                ),
            ),
            401: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
            429: ErrorSerializer,
        },
        auth=[],
    )
    def post(self, request: Request) -> HttpResponseBase:
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # django-axes marks the Django request (not DRF's wrapper) when it locks out.
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request, None, serializer.validated_data)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("The username or password is wrong."))
        if needs_two_factor(user):
            self._check_second_factor(user, serializer.validated_data.get("otp_token", ""))
        with transaction.atomic():
            token, created = Token.objects.get_or_create(user=user)
            if created:
                session_event_record(action=AuditAction.AUTH_TOKEN_ISSUED, user=user)
        return Response({"token": token.key})

    @staticmethod
    def _check_second_factor(user: User, otp_token: str) -> None:
        """Raise a 400 on ``otp_token`` unless it is a valid code of the user's devices."""
        if not otp_token:
            raise exceptions.ValidationError(
                {
                    "otp_token": [
                        _(
                            "Staff accounts need a two-factor code: the current code of the "
                            "authenticator app, or an unused backup code. Set the app up on "
                            "the two-factor page after signing in on the website."
                        )
                    ]
                }
            )
        outcome = two_factor_verify(user=user, token=otp_token)
        if isinstance(outcome, Refusal):
            message = (
                _("Too many wrong codes: wait a while, then send the code the app shows then.")
                if outcome.throttled
                else _("The two-factor code is wrong or already used.")
            )
            raise exceptions.ValidationError({"otp_token": [message]})


# --- Who am I -------------------------------------------------------------------------------


class MeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    organization = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "role", "role_label", "organization"]

    def get_organization(self, user: User) -> dict[str, Any] | None:
        organization = user.organization
        if organization is None:
            return None
        return {"id": organization.pk, "name": organization.name, "uscc": organization.uscc}


class MeView(APIView):
    """The signed-in caller: username, role and organization."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: MeSerializer, 401: OpenApiResponse(ErrorSerializer)})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class ApiRootView(APIView):
    """Entry points of API v1."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "auth/token": reverse("api:token", request=request),
                "me": reverse("api:me", request=request),
                "organizations": reverse("api:organization-list", request=request),
                "change-requests": reverse("api:change-request-list", request=request),
                "grades": reverse("api:grade-list", request=request),
                "credit-records": reverse("api:credit-record-list", request=request),
                "tenders": reverse("api:tender-list", request=request),
                "bids": reverse("api:bid-list", request=request),
                "scoresheets": reverse("api:scoresheet-list", request=request),
                "price-justifications": reverse("api:price-justification-list", request=request),
                "challenges": reverse("api:challenge-list", request=request),
                "ocds-releases": reverse("api:ocds-releases", request=request),
                "statistics": reverse("api:statistics", request=request),
                "documents": request.build_absolute_uri("/api/v1/documents/{kind}/{id}/"),
                "exports": request.build_absolute_uri("/api/v1/exports/{list}.{csv|xlsx}"),
                "schema": reverse("api_schema", request=request),
                "docs": reverse("api_docs", request=request),
            }
        )
