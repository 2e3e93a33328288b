"""Settings for the marketplace, read from the environment.

Every value that differs between a laptop and a production host comes from an
environment variable (CONTRACTS.md section 0); a ``.env`` file in the repository
root is read for local runs, and real environment variables win over it.
Without ``DEBUG`` the settings are production settings: they must pass
``manage.py check --deploy --fail-level WARNING``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables take precedence over the file (read_env uses setdefault).
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (at least 50 random characters), "
            "or set DEBUG=true for a local development run."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105  (DEBUG only)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "marketplace",
    "orgs_registry",
    "tenders",
    "evaluation",
    "reports",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "marketplace.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks the session's user as verified once a second factor was entered; then staff
    # sessions without one reach only the two-factor page and public pages.
    "django_otp.middleware.OTPMiddleware",
    "marketplace.middleware.TwoFactorMiddleware",
    "marketplace.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A post refused by a page's rate limit becomes the 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, so that it sees the outcome of authentication in the views.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.portal",
                # After the built-in csrf processor: a page rendered for the public page
                # cache holds a placeholder instead of the visitor's token.
                "tenders.page_cache.csrf_placeholder",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so the web process and the
    # task worker queue for it instead of failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# How long the anonymous view of the public tender list and tender pages is served from the
# cache (tenders/page_cache.py); 0 turns that cache off. Any change to a tender's public
# data replaces it at once in a shared cache (CACHE_URL); a per-process cache keeps it at
# most this long in the processes that did not make the change.
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=30)

# --- Accounts -------------------------------------------------------------------------------

AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# Lock-out after 10 failed logins for the same account from the same address (django-axes).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lock lasts a fixed time from the failure that reached the limit, so the page can
# say when to try again; attempts during the lock do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "marketplace.views.lockout_response"
AXES_VERBOSE = False
# Number of reverse proxies (nginx, a load balancer) in front of the app whose
# X-Forwarded-For entries are trusted to name the client's address.
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
# Sessions also end when the browser closes: staff and organizations' people often sign in
# on shared computers (community centres, the office's service hall). SESSION_COOKIE_AGE
# still ends a session on the server after eight hours, whatever the browser keeps.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Posts per client address (registration, sign-in, the public survey) and per account
# (questions, two-factor codes); marketplace.ratelimits.
RATE_REGISTER = env.str("RATE_REGISTER", default="10/h")
RATE_QUESTION = env.str("RATE_QUESTION", default="30/h")
RATE_LOGIN = env.str("RATE_LOGIN", default="30/m")
RATE_TWO_FACTOR = env.str("RATE_TWO_FACTOR", default="10/m")
RATE_SURVEY = env.str("RATE_SURVEY", default="30/m")
RATELIMIT_VIEW = "marketplace.views.rate_limited"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Two-factor sign-in for staff (marketplace.two_factor). Each wrong code doubles the wait
# before the next one is checked (1 s, 2 s, 4 s, ... up to an hour): ten wrong codes in a
# row lock the account's codes for about eight minutes.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="JFB services")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# The admin site never shows a device's secret or QR code: a superuser could otherwise sign
# in as anyone's second factor. It also answers 403 for a device id that does not exist,
# where django-otp's config and QR code views fail with a 500.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
CSRF_FAILURE_VIEW = "marketplace.views.csrf_failure"

# --- Security (production defaults; each can be relaxed by the environment) -------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto, enable this so that Django
# knows the original request was HTTPS (and does not redirect forever).
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# No inline scripts or styles anywhere: every script and stylesheet is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Internationalization -----------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through views that check access
# Production serves collected, hashed and compressed files; a local run and the tests
# serve the apps' static folders directly.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG

# --- E-mail -------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@jiefangbei.example.cn")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL_IS_SET = bool(env.str("EMAIL_URL", default=""))

# --- Background tasks (django-tasks; Django 6's django.tasks API) ---------------------------

_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[env.str("TASKS_BACKEND", default="database")]}}
# (task, seconds between runs) for manage.py scheduler.
PERIODIC_TASKS = [
    ("tenders.tasks.close_due_tenders", 60),
    ("tenders.tasks.close_challenge_windows", 60 * 60),
    ("tenders.tasks.start_contracts", 60 * 60),
    ("tenders.tasks_delivery.remind_milestones", 24 * 60 * 60),
    ("orgs_registry.tasks.expire_grades", 24 * 60 * 60),
    ("orgs_registry.tasks_funding.fail_stale_funding_imports", 60 * 60),
]

# --- API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # A session of staff who have not entered their second factor is refused (403).
        "marketplace.api_auth.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/minute"),
        "user": env.str("THROTTLE_USER", default="1200/minute"),
        "auth": env.str("THROTTLE_AUTH", default="20/minute"),
        "register": env.str("THROTTLE_REGISTER", default="10/hour"),
        "question": env.str("THROTTLE_QUESTION", default="30/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Street Office Service Marketplace API",
    "DESCRIPTION": (
        "政府购买服务平台 — tenders, sealed bids, evaluation, contracts and open data. "
        'Errors are JSON objects {"error": code, "detail": text, "fields": {...}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "marketplace.api_schema.document_framework_errors",
    ],
}

# --- The product ----------------------------------------------------------------------------

# Fernet keys that seal bid content at rest, newest first (tenders/sealing.py explains the
# rotation). Required in production; development derives one from SECRET_KEY.
BID_ENCRYPTION_KEYS = env.list("BID_ENCRYPTION_KEYS", default=[])
# Tender references: <prefix>-<year>-<number>, e.g. JFB-2026-007.
TENDER_REFERENCE_PREFIX = env.str("TENDER_REFERENCE_PREFIX", default="JFB")

STREET_OFFICE = {
    "name": _("Jiefangbei Sub-district Office, Yuzhong District, Chongqing"),
    "region_code": "500103",
}

# Open data (OCDS 1.1, reports/ocds.py). Each tender's ocid is this prefix, "-" and the
# tender's reference. The default only has the registered form: a real publisher registers
# its own prefix with the OCDS Data Support Team (data@open-contracting.org) and sets it here.
OCDS_OCID_PREFIX = env.str("OCDS_OCID_PREFIX", default="ocds-jfbjd0")
# The portal's public address, for the absolute links in the data written outside a request
# (manage.py export_ocds); the API and the bulk download use the address they were asked on.
OCDS_SITE_URL = env.str("OCDS_SITE_URL", default="https://services.jiefangbei.example.cn")
OCDS_LICENSE_URL = env.str(
    "OCDS_LICENSE_URL", default="https://creativecommons.org/licenses/by/4.0/"
)
# The page saying what is published, when and how; empty: the portal's data page (/public/data/).
OCDS_PUBLICATION_POLICY_URL = env.str("OCDS_PUBLICATION_POLICY_URL", default="")

# --- Logging --------------------------------------------------------------------------------

# LOG_FORMAT=json writes one JSON object per line (time, level, logger, message and any extra
# fields) for a log collector; the default is plain text for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
