"""Portal pages: home, dashboards, account pages, the audit log and error pages."""

from __future__ import annotations

import base64
import io
from typing import Any
from urllib.parse import urlencode

import segno
from axes.helpers import get_client_ip_address, get_client_username
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes import views as contenttype_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace import permissions, two_factor_services
from marketplace.dashboard import cards_for
from marketplace.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    TwoFactorForm,
)
from marketplace.models import User
from marketplace.pagination import paginate
from marketplace.ratelimits import limit_logins, limit_two_factor
from marketplace.selectors import (
    audit_event_get_for_user,
    audit_event_list_for_user,
    lockout_retry_at,
    staff_account_list,
)
from marketplace.services import user_language_set
from marketplace.two_factor import (
    can_reset_two_factor,
    has_confirmed_device,
    is_two_factor_verified,
    lacks_second_factor,
    needs_two_factor,
)

AUDIT_PAGE_SIZE = 50
STAFF_PAGE_SIZE = 50


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


@method_decorator(limit_logins, name="dispatch")
class LoginView(auth_views.LoginView):
    """Username and password; staff then go on to the two-factor page (``two_factor``)."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The account's language wins over whatever the browser last used.
        language = form.get_user().language
        if language:
            _set_language_cookie(response, language)
        return response

    def get_success_url(self) -> str:
        target = super().get_success_url()
        if lacks_second_factor(self.request.user):
            return _two_factor_url(target)
        return target


def _two_factor_url(next_url: str) -> str:
    return f"{reverse('two_factor')}?{urlencode({'next': next_url})}"


def _safe_next(request: HttpRequest) -> str:
    """Where to go after the second factor: ``next`` when it is on this site."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _refusal_message(refusal: two_factor_services.Refusal) -> str:
    if refusal.throttled and refusal.retry_at is not None:
        return _(
            "Too many wrong codes. Wait %(seconds)s seconds (until %(time)s) and enter the "
            "code your app shows then; each wrong code doubles the wait."
        ) % {
            "seconds": two_factor_services.seconds_until(refusal.retry_at),
            "time": timezone.localtime(refusal.retry_at).strftime("%H:%M:%S"),
        }
    return _(
        "This code is wrong or already used. Enter the code your app shows now (they change "
        "every 30 seconds), or an unused backup code."
    )


def _qr_svg(text: str) -> str:
    # Plain SVG without style attributes: the CSP allows no inline styles.
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, svgclass="qr-code"
    )
    return buffer.getvalue().decode()


def _enrolment_context(device: TOTPDevice) -> dict[str, Any]:
    key = base64.b32encode(device.bin_key).decode()
    return {
        # segno draws the modules from the otpauth URL; nothing user-typed reaches the markup.
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308
        "secret": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
    }


@login_required
@require_http_methods(["GET", "POST"])
@limit_two_factor
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second step of a staff sign-in: verify a code, or enrol an authenticator first.

    An account with a confirmed device enters its current code or a backup code. One
    without enrols: it scans the QR code (or types the key), confirms with a first code,
    and is shown its ten backup codes once.
    """
    user = request.user
    next_url = _safe_next(request)
    if not needs_two_factor(user) or is_two_factor_verified(user):
        return redirect(next_url)
    assert isinstance(user, User)  # noqa: S101  (login_required: a real account)
    enrolled = has_confirmed_device(user)
    form = TwoFactorForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "next": next_url, "enrolled": enrolled}
    if not enrolled:
        context.update(_enrolment_context(two_factor_services.two_factor_device_pending(user=user)))
    template = (
        "registration/two_factor_verify.html" if enrolled else "registration/two_factor_enrol.html"
    )
    if request.method != "POST":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    token = form.cleaned_data["otp_token"]
    if enrolled:
        outcome = two_factor_services.two_factor_verify(user=user, token=token)
    else:
        outcome = two_factor_services.two_factor_enrol(user=user, token=token)
    if isinstance(outcome, two_factor_services.Refusal):
        form.add_error("otp_token", _refusal_message(outcome))
        return render(request, template, context, status=400)
    device, codes = outcome if isinstance(outcome, tuple) else (outcome, [])
    # A new session key for the raised privilege, as for a sign-in.
    request.session.cycle_key()
    otp_login(request, device)
    if codes:
        return render(
            request, "registration/two_factor_backup_codes.html", {"codes": codes, "next": next_url}
        )
    return redirect(next_url)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A registry administrator or superuser removes someone's devices (a lost phone); the
    person enrols again at the next sign-in."""
    user = get_object_or_404(User, pk=pk)
    if not can_reset_two_factor(request.user, user):
        raise PermissionDenied
    if request.method == "POST":
        two_factor_services.two_factor_reset(user=user, actor=request.user)  # type: ignore[arg-type]
        messages.success(
            request,
            _(
                "The two-factor devices of %(user)s were removed; they enrol again at their next "
                "sign-in."
            )
            % {"user": user},
        )
        return redirect("staff_accounts")
    return render(
        request,
        "registration/two_factor_reset.html",
        {"subject": user, "enrolled": has_confirmed_device(user)},
    )


@login_required
@require_GET
def staff_accounts(request: HttpRequest) -> HttpResponse:
    """The accounts that sign in with a second factor, whether each has set up its
    authenticator and how many backup codes are left, with the reset for a lost phone."""
    accounts = staff_account_list(request.user)
    page, query = paginate(request, accounts, STAFF_PAGE_SIZE)
    # Whether each may be reset is the permission's to say (nobody resets their own).
    page.object_list = list(page.object_list)
    for account in page.object_list:
        account.can_reset = can_reset_two_factor(request.user, account)
    return render(request, "marketplace/staff_accounts.html", {"page": page, "query": query})


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


def admin_view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    """The admin site's "view on site" redirect (``admin/r/<type>/<id>/``). Django's view
    turns an id that is not of the model's key type (``1`` for a UUID key) into a server
    error; it is a 404 like any other object that does not exist."""
    try:
        return contenttype_views.shortcut(request, content_type_id, object_id)
    except ValidationError as exc:
        raise Http404 from exc
