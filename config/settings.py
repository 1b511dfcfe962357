"""Settings, all from the environment; the defaults serve a single machine (README: Configuration)."""

import os
from pathlib import Path

import dj_database_url

from streaming import conf as streaming_conf
from studios import conf as studios_conf

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key only suits a single development machine; set DJANGO_SECRET_KEY anywhere else.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "insecure-development-key-set-DJANGO_SECRET_KEY"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

INSTALLED_APPS = [
    "daphne",
    "config.admin.AdminSiteConfig",  # django.contrib.admin, with the site of config/admin.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "streaming",
    "studios",
]
# The offline demo (fake studio websites, their loader command, an LLM stand-in): on for `make run`
# and the tests, off elsewhere so a deployment neither routes nor offers it.
DEMO = env_bool("DEMO", False)
if DEMO:
    INSTALLED_APPS.append("studios.demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each app owns its templates; the project has none of its own (docs/architecture.md).
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Each thread that queries (the one stream requests share, the run workers, the feeds'
        # readers: a bounded few) keeps its connection for a while instead of opening one per
        # request: a start request spent a fifth of its time connecting.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the stream readers and the run worker use the file at the same time;
    # IMMEDIATE transactions take the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests share their database with a daphne server in another process, so it must be a file.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_SQLITE_PATH", str(BASE_DIR / ".test-db.sqlite3"))}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer (a dropped route, a hung server) fails a connection
    # after this long instead of holding the request, /readyz included, for minutes.
    # `?connect_timeout=` in DATABASE_URL wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # date-times shown with their zone

STATIC_URL = "static/"
# daphne serves no static files itself; WhiteNoise serves them from the apps, or from STATIC_ROOT
# after `manage.py collectstatic`, so admin styles and the live panel need no separate web server.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The REST API (docs/api.md): JSON in and out, errors in the streaming endpoints' shape.
    "DEFAULT_PARSER_CLASSES": ["config.rest.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
}

# The OpenAPI schema at /api/schema/ and its browsable reference at /api/docs/ (assets from the sidecar).
SPECTACULAR_SETTINGS = {
    "TITLE": "Studio workshops API",
    "DESCRIPTION": "The catalogue (studios, artists, workshops) and its processing runs, with their live "
    "Server-Sent Events streams. Authenticate with `Authorization: Token <key>` or a staff session. "
    'Errors are JSON: `{"error": {"code", "message"}}`. See docs/api.md.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["config.schema.add_plain_views_to_schema"],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "streaming.models.RunStatus",
        "FinishedRunStatusEnum": ["succeeded", "failed", "cancelled"],
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Cross-site requests: no origins are trusted unless configured.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS

# --- background jobs (Django's Tasks API through django-tasks) ---
# Unset values take the apps' own defaults (streaming/conf.py, studios/conf.py); `manage.py check` names values
# that cannot work, such as an unknown TASKS_BACKEND.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", streaming_conf.DEFAULTS["TASKS_BACKEND"])
TASKS_MAX_WORKERS = int(os.environ.get("TASKS_MAX_WORKERS", streaming_conf.DEFAULTS["TASKS_MAX_WORKERS"]))
TASKS = {
    "default": {
        "BACKEND": "streaming.backends.ThreadPoolBackend",
        "OPTIONS": {"MAX_WORKERS": TASKS_MAX_WORKERS},
    }
}

# --- at scale: runs in RQ workers (django-tasks-rq), health and metrics (README: Running at scale) ---
if TASKS_BACKEND == "rq":
    # daphne processes only serve; `python manage.py rqworker` (streaming.workers.RunWorker) executes.
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # A run takes as long as its studio's pages do: RQ must not time it out (-1: no limit).
    # (Without REDIS_URL, `manage.py check` says so: streaming.E004.)
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": -1}}
    RQ = {"WORKER_CLASS": "streaming.workers.RunWorker", "JOB_CLASS": "django_tasks_rq.backend.Job"}
# Where an RQ worker serves its own /metrics (0: not served); `make stack` gives each worker one.
WORKER_METRICS_PORT = int(os.environ.get("WORKER_METRICS_PORT", "0"))
# Addresses (or networks, e.g. 10.0.0.0/8) whose scrapers read /metrics without a token.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")

# --- live events (django-eventstream) ---
EVENTSTREAM_STORAGE_CLASS = "streaming.storage.RunEventStorage"
EVENTSTREAM_CHANNELMANAGER_CLASS = "streaming.channels.RunChannelManager"
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    from urllib.parse import urlparse

    _redis = urlparse(REDIS_URL)
    # Publishing through Redis lets a worker in another process reach the server's stream listeners.
    EVENTSTREAM_REDIS = {
        "host": _redis.hostname or "127.0.0.1",
        "port": _redis.port or 6379,
        "db": int((_redis.path or "/0").lstrip("/") or 0),
        **({"password": _redis.password} if _redis.password else {}),
    }
# Pushpin (or another GRIP proxy) in front: its publish endpoint, with the key it signs requests with,
# e.g. http://127.0.0.1:5561?key=changeme. Streams that come through it are held there, and every
# event is published to it once (README: Pushpin in front). Unset: the app holds every stream.
GRIP_URL = os.environ.get("GRIP_URL", streaming_conf.DEFAULTS["GRIP_URL"])
if GRIP_URL:
    MIDDLEWARE.insert(0, "django_grip.GripMiddleware")
STREAM_TIMEOUT = float(os.environ.get("STREAM_TIMEOUT", streaming_conf.DEFAULTS["STREAM_TIMEOUT"]))
STREAM_MAX_PER_USER = int(os.environ.get("STREAM_MAX_PER_USER", streaming_conf.DEFAULTS["STREAM_MAX_PER_USER"]))
RUN_HEARTBEAT_INTERVAL = float(
    os.environ.get("RUN_HEARTBEAT_INTERVAL", streaming_conf.DEFAULTS["RUN_HEARTBEAT_INTERVAL"])
)
RUN_HEARTBEAT_STALE_SECONDS = float(
    os.environ.get("RUN_HEARTBEAT_STALE_SECONDS", streaming_conf.DEFAULTS["RUN_HEARTBEAT_STALE_SECONDS"])
)

# --- the pipeline ---
FETCH_ALLOW_PRIVATE = env_bool("FETCH_ALLOW_PRIVATE", studios_conf.DEFAULTS["FETCH_ALLOW_PRIVATE"])
FETCH_TIMEOUT = float(os.environ.get("FETCH_TIMEOUT", studios_conf.DEFAULTS["FETCH_TIMEOUT"]))
FETCH_MAX_BYTES = int(os.environ.get("FETCH_MAX_BYTES", studios_conf.DEFAULTS["FETCH_MAX_BYTES"]))
FETCH_MAX_REDIRECTS = int(os.environ.get("FETCH_MAX_REDIRECTS", studios_conf.DEFAULTS["FETCH_MAX_REDIRECTS"]))
FETCH_RETRIES = int(os.environ.get("FETCH_RETRIES", studios_conf.DEFAULTS["FETCH_RETRIES"]))
FETCH_RETRY_BACKOFF = float(os.environ.get("FETCH_RETRY_BACKOFF", studios_conf.DEFAULTS["FETCH_RETRY_BACKOFF"]))
DISCOVERY_MAX_PAGES = int(os.environ.get("DISCOVERY_MAX_PAGES", studios_conf.DEFAULTS["DISCOVERY_MAX_PAGES"]))
# Seconds one link may take in all: retries, redirects and the body (or the rendering) included.
FETCH_DEADLINE = float(os.environ.get("FETCH_DEADLINE", studios_conf.DEFAULTS["FETCH_DEADLINE"]))
# Per studio: an all-studios run caps each studio it processes, not the run as a whole.
MAX_LINKS_PER_RUN = int(os.environ.get("MAX_LINKS_PER_RUN", studios_conf.DEFAULTS["MAX_LINKS_PER_RUN"]))
ARTIST_MATCH_THRESHOLD = float(
    os.environ.get("ARTIST_MATCH_THRESHOLD", studios_conf.DEFAULTS["ARTIST_MATCH_THRESHOLD"])
)
# Polite crawling: the User-Agent pages and robots.txt see, requests at once per host (all runs of
# a process), and the longest Retry-After (429/503) a fetch waits out before the link fails.
FETCH_USER_AGENT = os.environ.get("FETCH_USER_AGENT", studios_conf.DEFAULTS["FETCH_USER_AGENT"])
FETCH_PER_HOST_CONCURRENCY = int(
    os.environ.get("FETCH_PER_HOST_CONCURRENCY", studios_conf.DEFAULTS["FETCH_PER_HOST_CONCURRENCY"])
)
FETCH_MAX_RETRY_AFTER = float(os.environ.get("FETCH_MAX_RETRY_AFTER", studios_conf.DEFAULTS["FETCH_MAX_RETRY_AFTER"]))

# Webhooks: attempts per delivery in all, seconds before the first retry (doubling after each),
# seconds one attempt may take, and the threads that send them (apart from the runs').
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", studios_conf.DEFAULTS["WEBHOOK_MAX_ATTEMPTS"]))
WEBHOOK_RETRY_BACKOFF = float(os.environ.get("WEBHOOK_RETRY_BACKOFF", studios_conf.DEFAULTS["WEBHOOK_RETRY_BACKOFF"]))
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", studios_conf.DEFAULTS["WEBHOOK_TIMEOUT"]))
WEBHOOK_WORKERS = int(os.environ.get("WEBHOOK_WORKERS", studios_conf.DEFAULTS["WEBHOOK_WORKERS"]))

# Refresh schedules: hours between refreshes for new studios (0: off), and the scheduler that starts
# due studios, inside each server process unless SCHEDULER_IN_PROCESS=0 (then `manage.py run_scheduler`).
REFRESH_DEFAULT_INTERVAL = int(
    os.environ.get("REFRESH_DEFAULT_INTERVAL") or studios_conf.DEFAULTS["REFRESH_DEFAULT_INTERVAL"]
)
SCHEDULER_IN_PROCESS = env_bool("SCHEDULER_IN_PROCESS", studios_conf.DEFAULTS["SCHEDULER_IN_PROCESS"])
SCHEDULER_INTERVAL = float(os.environ.get("SCHEDULER_INTERVAL", studios_conf.DEFAULTS["SCHEDULER_INTERVAL"]))
# Run history kept: finished runs older than this (e.g. 90d) are pruned daily by the scheduler; empty keeps all.
RUN_RETENTION = os.environ.get("RUN_RETENTION", streaming_conf.DEFAULTS["RUN_RETENTION"])

# JavaScript rendering (studios with render_js): headless Chromium through Playwright.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", studios_conf.DEFAULTS["CHROMIUM_PATH"])
RENDER_TIMEOUT = float(os.environ.get("RENDER_TIMEOUT", studios_conf.DEFAULTS["RENDER_TIMEOUT"]))

# LLM extraction through any OpenAI-compatible chat-completions endpoint; off until LLM_MODEL and
# LLM_BASE_URL or LLM_API_KEY are set (README: LLM extraction and JavaScript rendering).
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", studios_conf.DEFAULTS["LLM_BASE_URL"])
LLM_API_KEY = os.environ.get("LLM_API_KEY", studios_conf.DEFAULTS["LLM_API_KEY"])
LLM_MODEL = os.environ.get("LLM_MODEL", studios_conf.DEFAULTS["LLM_MODEL"])
LLM_TIMEOUT = float(os.environ.get("LLM_TIMEOUT", studios_conf.DEFAULTS["LLM_TIMEOUT"]))
LLM_MAX_RETRIES = int(os.environ.get("LLM_MAX_RETRIES", studios_conf.DEFAULTS["LLM_MAX_RETRIES"]))
LLM_RETRY_BACKOFF = float(os.environ.get("LLM_RETRY_BACKOFF", studios_conf.DEFAULTS["LLM_RETRY_BACKOFF"]))
LLM_TEXT_BUDGET = int(os.environ.get("LLM_TEXT_BUDGET", studios_conf.DEFAULTS["LLM_TEXT_BUDGET"]))
LLM_SCREENSHOTS = env_bool("LLM_SCREENSHOTS", studios_conf.DEFAULTS["LLM_SCREENSHOTS"])
# Estimated cost: US dollars per million input (prompt) and output (completion) tokens; 0 shows none.
LLM_PRICE_INPUT_PER_MTOK = float(
    os.environ.get("LLM_PRICE_INPUT_PER_MTOK", studios_conf.DEFAULTS["LLM_PRICE_INPUT_PER_MTOK"])
)
LLM_PRICE_OUTPUT_PER_MTOK = float(
    os.environ.get("LLM_PRICE_OUTPUT_PER_MTOK", studios_conf.DEFAULTS["LLM_PRICE_OUTPUT_PER_MTOK"])
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django_eventstream": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
