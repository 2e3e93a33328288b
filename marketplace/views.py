"""Portal pages: home, dashboards, account pages, the audit log and error pages."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address, get_client_username
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketplace import permissions
from marketplace.dashboard import cards_for
from marketplace.forms import LoginForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from marketplace.pagination import paginate
from marketplace.selectors import (
    audit_event_get_for_user,
    audit_event_list_for_user,
    lockout_retry_at,
)
from marketplace.services import user_language_set

AUDIT_PAGE_SIZE = 50


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    # Rendered exactly as DRF renders its errors (compact, UTF-8), so that a URL that does
    # not exist and an object that is not yours give the same bytes.
    return JsonResponse(
        {"error": code, "detail": detail, "fields": {}},
        status=status,
        json_dumps_params={"separators": (",", ":"), "ensure_ascii": False},
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public landing page."""
    return render(request, "marketplace/home.html")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The signed-in user's dashboard: cards built by every app for the user's role."""
    if not permissions.can_view_dashboard(request.user):
        raise PermissionDenied
    return render(request, "marketplace/dashboard.html", {"cards": cards_for(request.user)})


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    """Auditors browse and filter the audit log; htmx swaps only the results."""
    events, filterset = audit_event_list_for_user(request.user, filters=request.GET.dict())
    page, query = paginate(request, events, AUDIT_PAGE_SIZE)
    context = {"filter": filterset, "page": page, "query": query}
    template = (
        "marketplace/audit/_results.html"
        if request.headers.get("HX-Request")
        else "marketplace/audit/list.html"
    )
    response = render(request, template, context)
    # The same URL answers a whole page or, for htmx, only the results.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def audit_event_detail(request: HttpRequest, sequence: int) -> HttpResponse:
    event, has_next = audit_event_get_for_user(request.user, sequence)
    return render(request, "marketplace/audit/detail.html", {"event": event, "has_next": has_next})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the account for e-mail too."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in {code for code, _name in settings.LANGUAGES}:
        return response
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    translation.activate(language)
    _set_language_cookie(response, language)
    return response


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]  # "Lax"
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The account's language wins over whatever the browser last used.
        language = form.get_user().language
        if language:
            _set_language_cookie(response, language)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict | None = None
) -> HttpResponse:
    """Refuse a locked-out sign-in and say when to try again (AXES_LOCKOUT_CALLABLE)."""
    retry_at = lockout_retry_at(
        username=get_client_username(request, credentials) or "",
        ip_address=get_client_ip_address(request),
    )
    minutes = max(1, int((retry_at - timezone.now()).total_seconds() // 60) + 1)
    detail = _(
        "Too many failed sign-ins: after %(limit)s failed attempts this account is locked "
        "for sign-ins from your address. Try again after %(time)s (in about %(minutes)s "
        "minutes), or reset your password by e-mail."
    ) % {
        "limit": settings.AXES_FAILURE_LIMIT,
        "time": timezone.localtime(retry_at).strftime("%H:%M"),
        "minutes": minutes,
    }
    if _is_api(request):
        response: HttpResponse = _api_error("locked_out", detail, 429)
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"detail": detail, "retry_at": retry_at},
            status=429,
        )
    response["Retry-After"] = str(max(0, int((retry_at - timezone.now()).total_seconds())))
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    detail = _(
        "The form expired or was sent from another site. Go back, reload the page and try again."
    )
    if _is_api(request):
        return _api_error("csrf_failed", detail, 403)
    return render(request, "403.html", {"detail": detail}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error("bad_request", _("The request could not be understood."), 400)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(
            "permission_denied", _("You do not have permission to perform this action."), 403
        )
    return render(request, "403.html", status=403)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A post refused by a page's rate limit (``marketplace.ratelimits``): nothing was saved."""
    if _is_api(request):
        return _api_error("rate_limited", _("Too many requests: try again later."), 429)
    return render(request, "429.html", status=429)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error("not_found", _("Not found."), 404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error("server_error", _("Something went wrong on our side."), 500)
    # Rendered without context processors: the failure may lie in one of them.
    template = loader.get_template("500.html")
    return HttpResponse(template.render({"LANGUAGE_CODE": translation.get_language()}), status=500)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin site)."""
    return HttpResponsePermanentRedirect(static("marketplace/img/favicon.svg"))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
