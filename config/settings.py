"""Clip Sequencer settings.

Embedded mode (no environment variables): SQLite and media under var/, the in-memory channel
layer, Dramatiq's stub broker. Production mode: every service comes from the environment
(DATABASE_URL, REDIS_URL, DRAMATIQ_BROKER_URL, AWS_*); see the README's configuration table.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from tempfile import gettempdir
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)
# Embedded mode is a developer's machine: it must start with no configuration at all.
EMBEDDED = not env_str("DATABASE_URL")
if DEBUG or EMBEDDED:
    SECRET_KEY = env_str("SECRET_KEY", "embedded-insecure-key-change-me-in-production-0123456789")
else:
    SECRET_KEY = env_required("SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "channels",
    "django_dramatiq",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.discord",
    "allauth.headless",
    "accounts",
    "projects",
    "clips",
    "timeline",
    "processing",
    "collaboration",
    "backups",
    "realtime",
    "exports",
    "config.apps.SiteConfig",
]

MIDDLEWARE = [
    # Request id and latency first, then /healthz and /metrics before host checks and redirects.
    "config.middleware.RequestContextMiddleware",
    "config.middleware.OperationalEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ProviderNotConfiguredMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.ServiceUnavailableMiddleware",
    "config.middleware.RateLimitedMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # Worker threads share the file with the web server; wait instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests get a file of their own per process, not shared-cache memory: concurrency
            # specs need SQLite's busy timeout, which in-memory shared cache never applies.
            "TEST": {"NAME": str(Path(gettempdir()) / f"clipseq-test-{os.getpid()}.sqlite3")},
        }
    }
else:
    _database: dict[str, Any] = dict(
        dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    )
    _database["CONN_HEALTH_CHECKS"] = True
    if str(_database["ENGINE"]).endswith("postgresql"):
        # An unreachable database answers an error in seconds instead of hanging requests.
        _database.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
    DATABASES = {"default": _database}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Redis: cache and channel layer ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "clipseq"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "clipseq")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Dramatiq -------------------------------------------------------------------------------
# A running job writes a heartbeat this often; one silent for PROCESSING_STALE_AFTER_SECONDS
# belongs to a dead worker and may be claimed again (processing/engine.py).
PROCESSING_HEARTBEAT_SECONDS = env_int("PROCESSING_HEARTBEAT_SECONDS", 10)
PROCESSING_STALE_AFTER_SECONDS = env_int("PROCESSING_STALE_AFTER_SECONDS", 60)
# One user runs at most this many jobs at once (0: no limit); the rest wait, re-sent every
# JOB_USER_WAIT_SECONDS, so one user's batch cannot occupy every worker.
JOB_MAX_RUNNING_PER_USER = env_int("JOB_MAX_RUNNING_PER_USER", 2)
JOB_USER_WAIT_SECONDS = env_int("JOB_USER_WAIT_SECONDS", 5)
DRAMATIQ_BROKER_URL = env_str("DRAMATIQ_BROKER_URL", REDIS_URL)
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    "config.worker.WorkerContext",
]
if DRAMATIQ_BROKER_URL.startswith("amqp"):
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
        "OPTIONS": {"url": DRAMATIQ_BROKER_URL},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
elif DRAMATIQ_BROKER_URL:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {
            "url": DRAMATIQ_BROKER_URL,
            "namespace": env_str("DRAMATIQ_NAMESPACE", "clipseq"),
            # A dead worker's messages are requeued once its heartbeat is this old. Longer than
            # the job runner's stale-heartbeat limit, so the redelivered job can be claimed at
            # once: with the defaults a killed worker's job restarts after about 85 s on average.
            "heartbeat_timeout": env_int(
                "DRAMATIQ_HEARTBEAT_TIMEOUT_MS", (PROCESSING_STALE_AFTER_SECONDS + 15) * 1000
            ),
            # Requeueing runs during a random "maintenance" pass, and only for the queue of the
            # command that triggers it: this many commands out of a million trigger one. An idle
            # consumer fetches about once a second, so on a quiet `export` queue 100000 (10 %)
            # gives a pass every ~10 s on average (Dramatiq's default, 1000, means ~15 minutes).
            "maintenance_chance": env_int("DRAMATIQ_MAINTENANCE_CHANCE", 100_000),
            "dead_message_ttl": 7 * 24 * 3600 * 1000,
        },
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.stub.StubBroker",
        "OPTIONS": {},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# Embedded mode runs worker threads inside the web process (manage.py serve).
DRAMATIQ_EMBEDDED_WORKERS = env_int("DRAMATIQ_EMBEDDED_WORKERS", 2)

# --- Storage --------------------------------------------------------------------------------
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
USE_S3 = bool(AWS_STORAGE_BUCKET_NAME)
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

if USE_S3:
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")
    AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
    AWS_S3_CUSTOM_DOMAIN = env_str("AWS_S3_CUSTOM_DOMAIN") or None
    AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "path")
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = True
    # Behind a CDN, media links are signed CloudFront URLs (a trusted key group's key pair; the
    # PEM may be given on one line with "\n" for its line breaks, as env files need).
    AWS_CLOUDFRONT_KEY_ID = env_str("AWS_CLOUDFRONT_KEY_ID")
    AWS_CLOUDFRONT_KEY = env_str("AWS_CLOUDFRONT_KEY").replace("\\n", "\n")
    if AWS_S3_CUSTOM_DOMAIN and not (AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY):
        # django-storages would hand out unsigned, permanent CDN URLs.
        raise ImproperlyConfigured(
            "AWS_S3_CUSTOM_DOMAIN needs AWS_CLOUDFRONT_KEY_ID and AWS_CLOUDFRONT_KEY: media "
            "links must be signed and expire."
        )
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"location": env_str("AWS_LOCATION", "media")},
    }
else:
    _media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Every media URL the API hands out works for at most this many seconds (clips/media_links.py).
MEDIA_URL_TTL = env_int("MEDIA_URL_TTL", 3600)
if USE_S3:
    AWS_QUERYSTRING_EXPIRE = MEDIA_URL_TTL
# Local-disk media behind nginx: the app checks the link, nginx sends the file from this
# `internal` location (deploy/nginx.conf). Empty: the app streams the file itself.
MEDIA_X_ACCEL_REDIRECT_PREFIX = env_str("MEDIA_X_ACCEL_REDIRECT_PREFIX")

# Where FFmpeg works: always a local folder, cleaned after each job.
PROCESSING_TMP_DIR = Path(env_str("PROCESSING_TMP_DIR", str(VAR_DIR / "tmp")))

# --- Product limits -------------------------------------------------------------------------
DEFAULT_STORAGE_LIMIT = env_int("DEFAULT_STORAGE_LIMIT", 10 * 1024**3)
UPLOAD_CHUNK_SIZE = env_int("UPLOAD_CHUNK_SIZE", 8 * 1024**2)
UPLOAD_MAX_FILE_SIZE = env_int("UPLOAD_MAX_FILE_SIZE", 10 * 1024**3)
UPLOAD_SINGLE_REQUEST_MAX = env_int("UPLOAD_SINGLE_REQUEST_MAX", 100 * 1024**2)
UPLOAD_SESSION_TTL = timedelta(hours=env_int("UPLOAD_SESSION_TTL_HOURS", 24))
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_CHUNK_SIZE + 1024**2
# An upload chunk's request body stays in memory (one chunk per request) instead of being
# spooled to a temporary file first and read back: that disk round trip halved throughput.
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_CHUNK_SIZE + 1024**2
FILE_UPLOAD_TEMP_DIR = None
# A timeline longer than this (seconds) or with more segments is refused (timeline/limits.py).
TIMELINE_MAX_DURATION = env_int("TIMELINE_MAX_DURATION", 12 * 3600)
TIMELINE_MAX_SEGMENTS = env_int("TIMELINE_MAX_SEGMENTS", 2000)
LOCAL_REGISTRATION_ENABLED = env_bool("LOCAL_REGISTRATION_ENABLED", default=True)
LOUDNESS_TARGET_LUFS = env_float("LOUDNESS_TARGET_LUFS", -14.0)
LOUDNESS_TRUE_PEAK_DBTP = env_float("LOUDNESS_TRUE_PEAK_DBTP", -1.5)
# Export encoders: x264 speed preset and quality (CRF); VP9 quality for WebM.
EXPORT_X264_PRESET = env_str("EXPORT_X264_PRESET", "veryfast")
EXPORT_X264_CRF = env_int("EXPORT_X264_CRF", 20)
EXPORT_VP9_CRF = env_int("EXPORT_VP9_CRF", 32)
# Copy the video instead of re-encoding when the timeline allows it (off: always re-encode).
EXPORT_SMART_PATH = env_bool("EXPORT_SMART_PATH", default=True)
# An export is rendered in chunks of about this many seconds (each its own FFmpeg, on any
# export worker), with at most this many segments, so memory never grows with the timeline.
EXPORT_CHUNK_SECONDS = env_float("EXPORT_CHUNK_SECONDS", 6.0)
EXPORT_CHUNK_MAX_PIECES = env_int("EXPORT_CHUNK_MAX_PIECES", 6)
FFMPEG_BINARY = env_str("FFMPEG_BINARY", "ffmpeg")
FFPROBE_BINARY = env_str("FFPROBE_BINARY", "ffprobe")
FFMPEG_TIMEOUT_SECONDS = env_int("FFMPEG_TIMEOUT_SECONDS", 6 * 3600)
FFMPEG_MEMORY_LIMIT_BYTES = env_int("FFMPEG_MEMORY_LIMIT_BYTES", 4 * 1024**3)
FFMPEG_THREADS = env_int("FFMPEG_THREADS", 0)
FFMPEG_NICENESS = env_int("FFMPEG_NICENESS", 10)
MEDIA_MAX_DURATION_SECONDS = env_int("MEDIA_MAX_DURATION_SECONDS", 4 * 3600)
CLAMD_SOCKET = env_str("CLAMD_SOCKET")
CLAMD_HOST = env_str("CLAMD_HOST")
CLAMD_PORT = env_int("CLAMD_PORT", 3310)
CLAMD_TIMEOUT_SECONDS = env_float("CLAMD_TIMEOUT_SECONDS", 120.0)
# While clamd is unreachable a clip waits ("scan pending") and its scan is retried this often.
CLAMD_RETRY_SECONDS = env_int("CLAMD_RETRY_SECONDS", 60)

# --- Backups (backups/services.py) ----------------------------------------------------------
# Nightly pg_dump to the default storage under BACKUP_PREFIX/, and a nightly restore check.
BACKUP_ENABLED = env_bool("BACKUP_ENABLED", default=not EMBEDDED)
BACKUP_PREFIX = env_str("BACKUP_PREFIX", "backups")
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# /healthz and /metrics call the newest backup stale past this age.
BACKUP_MAX_AGE_HOURS = env_int("BACKUP_MAX_AGE_HOURS", 26)
BACKUP_TIMEOUT_SECONDS = env_int("BACKUP_TIMEOUT_SECONDS", 3 * 3600)
# The scratch database a verification restores into (default: <database name>_restore_check);
# the database user needs CREATEDB.
BACKUP_VERIFY_DATABASE = env_str("BACKUP_VERIFY_DATABASE")
PG_DUMP_BINARY = env_str("PG_DUMP_BINARY", "pg_dump")
PG_RESTORE_BINARY = env_str("PG_RESTORE_BINARY", "pg_restore")

# --- Django REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a size and nesting limit (config/parsers.py); forms as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_THROTTLE_CLASSES": [
        "common.ratelimit.IPRateThrottle",
        "common.ratelimit.UserRateThrottle",
        "common.ratelimit.AuthRateThrottle",
        "common.ratelimit.UploadRateThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clip Sequencer API",
    "DESCRIPTION": "Upload clips, arrange a timeline and export one finished video.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.document_response_headers",
    ],
    # Several models have a `status` field with its own choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "projects.models.Project.Status",
        "ClipStatusEnum": "clips.models.Clip.Status",
        "UploadStatusEnum": "clips.models.UploadSession.Status",
        "JobStatusEnum": "processing.models.ProcessingJob.Status",
        "ErrorCodeEnum": "common.api.ERROR_CODES",
        "RoleEnum": "projects.models.Role",
        "MemberRoleEnum": "projects.models.MEMBER_ROLE_CHOICES",
        "InvitationStatusEnum": "collaboration.models.Invitation.Status",
    },
}

# --- Accounts: allauth, JWT, Discord --------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# allauth's failed-login limit (per e-mail address, from anywhere) let anyone lock anyone out;
# accounts/signin_limits.py replaces it on every sign-in form.
# Sign-ups and sign-in page requests per address keep allauth's own limits, adjustable (e.g. for
# many people behind one office address).
ACCOUNT_RATE_LIMITS = {
    "login_failed": None,
    "signup": env_str("ACCOUNT_SIGNUP_RATE_LIMIT", "20/m/ip"),
    "login": env_str("ACCOUNT_LOGIN_RATE_LIMIT", "30/m/ip"),
}
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "discord": {
        "APPS": [
            {
                "client_id": env_str("DISCORD_CLIENT_ID"),
                "secret": env_str("DISCORD_CLIENT_SECRET"),
                "key": "",
            }
        ]
        if env_str("DISCORD_CLIENT_ID")
        else [],
        "SCOPE": ["identify", "email"],
        "VERIFIED_EMAIL": False,
    }
}
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

# --- E-mail (invitations, mentions, allauth's messages) ------------------------------------
# Embedded mode writes each message to a file under var/mail/ (open it to follow a link);
# production sends through SMTP with the EMAIL_* variables.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clip Sequencer <noreply@localhost>")
# The site's address in links sent by e-mail (the mail worker has no request to ask).
SITE_URL = env_str(
    "SITE_URL", CSRF_TRUSTED_ORIGINS[0] if CSRF_TRUSTED_ORIGINS else "http://127.0.0.1:8000"
)
# How long an invitation link works.
INVITATION_TTL = timedelta(days=env_int("INVITATION_TTL_DAYS", 7))

HEADLESS_ONLY = False
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"
HEADLESS_JWT_ALGORITHM = env_str("JWT_ALGORITHM", "HS256")
HEADLESS_JWT_PRIVATE_KEY = env_str("JWT_PRIVATE_KEY")
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env_int("JWT_ACCESS_TOKEN_SECONDS", 15 * 60)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env_int("JWT_REFRESH_TOKEN_SECONDS", 7 * 24 * 3600)
# Access tokens die with their session: logout revokes them, not only the refresh token.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
SESSION_COOKIE_AGE = HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not EMBEDDED:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# JSON lines with the request id and job id in production; readable lines on a developer's machine.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if EMBEDDED or DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logging.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s req=%(request_id)s job=%(job_id)s "
            "%(message)s"
        },
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Rate limits (config/ratelimit.py) --------------------------------------------------------
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMITS = {
    "user": env_str("RATE_LIMIT_USER", "1200/min"),
    "ip": env_str("RATE_LIMIT_IP", "3000/min"),
    "auth": env_str("RATE_LIMIT_AUTH", "30/min"),
    # A 10 GiB upload is 1280 chunks of 8 MiB: 600/min is 80 MiB/s per user.
    "upload": env_str("RATE_LIMIT_UPLOAD", "600/min"),
}
RATE_LIMIT_NAMESPACE = env_str("RATE_LIMIT_NAMESPACE", "rl")
# Failed passwords on every sign-in form (accounts/signin_limits.py explains the three).
SIGNIN_LIMITS = {
    "account_address": env_str("SIGNIN_LIMIT_ACCOUNT_ADDRESS", "5/15min"),
    "address": env_str("SIGNIN_LIMIT_ADDRESS", "30/15min"),
    "account": env_str("SIGNIN_LIMIT_ACCOUNT", "50/15min"),
}
# Who may set X-Forwarded-For: the number of proxies in front (nginx: 1), or their addresses.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# --- CORS and Content-Security-Policy -------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOW_CREDENTIALS = env_bool("CORS_ALLOW_CREDENTIALS", default=False)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-csrftoken",
    "x-requested-with",
    "x-chunk-sha256",
    "x-request-id",
)


def _media_origins() -> list[str]:
    """Where the browser fetches media from: the CDN domain and the S3 endpoint."""
    from urllib.parse import urlsplit

    origins = []
    if USE_S3:
        if AWS_S3_CUSTOM_DOMAIN:
            origins.append(f"https://{AWS_S3_CUSTOM_DOMAIN}")
        if AWS_S3_ENDPOINT_URL:
            parts = urlsplit(AWS_S3_ENDPOINT_URL)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        else:
            origins += [
                f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com",
                f"https://s3.{AWS_S3_REGION_NAME}.amazonaws.com",
            ]
    return origins


CSP_MEDIA_ORIGINS = _media_origins()
CONTENT_SECURITY_POLICY = {
    # Every page, the API docs included (their Swagger UI comes from our static files).
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *CSP_MEDIA_ORIGINS],
        # 'self' covers same-origin ws:/wss: in CSP Level 3 browsers.
        "connect-src": ["'self'", *CSP_MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Observability --------------------------------------------------------------------------
# /metrics answers a Bearer METRICS_TOKEN, or callers from METRICS_ALLOWED_IPS.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
HEALTHZ_TIMEOUT_SECONDS = env_float("HEALTHZ_TIMEOUT_SECONDS", 3.0)
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from config.logging import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
