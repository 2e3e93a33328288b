"""Views that raise each kind of error, to test the API error format end to end."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class Sample(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class Raising(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind):
        if kind == "django-validation":
            raise ValidationError({"uscc": ["USCC must have 18 characters, not 3"]})
        if kind == "django-validation-plain":
            raise ValidationError("The deadline has passed.")
        if kind == "denied":
            raise PermissionDenied
        if kind == "missing":
            raise Http404
        if kind == "bug":
            raise RuntimeError("a bug")
        if kind == "conflict":
            from django_fsm import ConcurrentTransition

            raise ConcurrentTransition("changed meanwhile")
        return Response({"ok": True})

    def post(self, request, kind):
        serializer = Sample(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


handler400 = "marketplace.views.bad_request"
handler403 = "marketplace.views.permission_denied"
handler404 = "marketplace.views.page_not_found"
handler500 = "marketplace.views.server_error"


def boom(request):
    raise RuntimeError("a bug in a page")


urlpatterns = [
    path("boom/", boom),
    path("api/v1/test/<str:kind>/", Raising.as_view()),
    path("", include("marketplace.urls")),
]
