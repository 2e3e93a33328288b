"""Root URLs: the portal, accounts, the audit log, the admin site and API v1."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from marketplace import api, views

api_v1 = (
    [
        path("", api.ApiRootView.as_view(), name="root"),
        path("auth/token/", api.TokenView.as_view(), name="token"),
        path("me/", api.MeView.as_view(), name="me"),
        path("", include("orgs_registry.api_urls")),
        path("", include("tenders.api_urls")),
        path("", include("evaluation.api_urls")),
        path("", include("reports.api_urls")),
    ],
    "api",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("language/", views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin site).
    path("favicon.ico", views.favicon),
    # Accounts
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.two_factor, name="two_factor"),
    path("accounts/two-factor/reset/<int:pk>/", views.two_factor_reset, name="two_factor_reset"),
    path("accounts/staff/", views.staff_accounts, name="staff_accounts"),
    path(
        "accounts/password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Audit log
    path("audit/", views.audit_log, name="audit_log"),
    path("audit/<int:sequence>/", views.audit_event_detail, name="audit_event"),
    path("", include("orgs_registry.urls")),
    path("", include("tenders.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("", include("reports.urls")),
    # API
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        # Swagger UI injects one <style> element at run time; its scripts stay external.
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api_schema")
        ),
        name="api_docs",
    ),
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(views.admin_view_on_site),
    ),
    path("admin/", admin.site.urls),
]

handler400 = "marketplace.views.bad_request"
handler403 = "marketplace.views.permission_denied"
handler404 = "marketplace.views.page_not_found"
handler500 = "marketplace.views.server_error"
