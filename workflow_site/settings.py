"""Settings, read from environment variables (12-factor) with safe defaults for a first run.

See README.md, "Configuration", for every variable.
"""

import contextlib
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    # One spelling each, as healthchecks does: "DEBUG=0" or "DEBUG=no" must not be read
    # either way by guesswork, and the README can name the two values that work.
    value = os.environ.get(name, default)
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name} must be True or False (exactly so spelled), got {value!r}")
    return value == "True"


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envmap(name: str, default: str) -> dict[str, str]:
    # "a=URL,b=URL": a comma inside a URL is written %2C, as URLs allow.
    pairs = {}
    for item in envlist(name, default):
        key, sep, value = item.partition("=")
        if not (sep and key.strip() and value.strip()):
            raise ImproperlyConfigured(f"{name} must be name=value pairs separated by commas, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _local_secret_key() -> str:
    # A first run needs no configuration: keep a generated key in a git-ignored file so
    # sessions survive restarts. Production sets SECRET_KEY (and DEBUG=False).
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _create_private_file(name: str) -> None:
    # SQLite creates a missing database readable by everyone under the usual umask, and its
    # -wal and -shm files take the database's mode: create it first, for the owner only.
    if name in ("", ":memory:") or name.startswith("file:"):
        return
    # When it exists it keeps its mode; when it cannot be created SQLite reports the path.
    with contextlib.suppress(OSError):
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
# DEBUG pages show code, settings and every URL, so they are for this machine only: a site
# that answers any other host name is a deployment, and a deployment runs with DEBUG off.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
if DEBUG and (remote := [host for host in ALLOWED_HOSTS if host not in LOCAL_HOSTS]):
    raise ImproperlyConfigured(
        f"DEBUG=True is for the development server on this machine, but ALLOWED_HOSTS names {remote}: "
        "set DEBUG=False (and SECRET_KEY) to serve other hosts (README.md, 'Running in production')."
    )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Before django_tasks_db: runner's db_worker command replaces the library's.
    "runner",
    "django_tasks_db",
    "flows",
    "schedules",
    "alerts",
    "api",
    "vault",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "workflow_site.urls"
WSGI_APPLICATION = "workflow_site.wsgi.application"

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
                "django.template.context_processors.csp",
                "flows.context_processors.liveness_warnings",
            ],
        },
    },
]


def _database() -> dict:
    config = dj_database_url.parse(
        # Empty (a bare "DATABASE_URL=" in an env file) means the default too.
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 0),
    )
    if config["ENGINE"] == "django.db.backends.mysql":
        config["OPTIONS"] = {
            "charset": "utf8mb4",
            # Strict mode: MySQL must reject data it would otherwise silently truncate.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'",
            **config.get("OPTIONS", {}),
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # Several processes (web, workers, runflow) and the log writer thread share the
        # file: WAL lets readers run beside a writer, IMMEDIATE avoids lock-upgrade deadlocks.
        config["OPTIONS"] = {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            **config.get("OPTIONS", {}),
        }
        # A file, not memory: workers and live servers in other processes share it.
        config["TEST"] = {"NAME": str(Path(config["NAME"]).with_suffix(".test.sqlite3"))}
        _create_private_file(str(config["NAME"]))
    # Legacy wf_ tables may hold local times rather than UTC (see README).
    if os.environ.get("DATABASE_TIME_ZONE"):
        config["TIME_ZONE"] = os.environ["DATABASE_TIME_ZONE"]
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's ModelBackend, with a user's permissions read in one query instead of two.
AUTHENTICATION_BACKENDS = ["workflow_site.auth.PermissionsInOneQuery"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))

# A flow definition may be up to 5 MB (the engine's limit); leave room for the form around it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

# Content-Security-Policy: pages run and style themselves only from this site's files, so
# text that escaped escaping still could not run. The dashboard has no inline script, style
# or event handler (htmx is told not to add its indicator style); the admin's few inline
# <style> elements carry the per-request nonce. Django's debug pages opt out by themselves.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Deployment behind TLS: secure cookies, HSTS and HTTPS redirects whenever DEBUG is off.
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    # Load balancers and Prometheus often probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "False")
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False")
    # Whether HSTS covers every subdomain, or goes on the browsers' preload list, is a
    # decision about the whole domain, not this app: the variables above opt in.
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
    if envbool("SECURE_PROXY_SSL_HEADER", "True"):
        # The TLS-terminating proxy tells us the original scheme.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The workflow engine.
WORKFLOW_PROCEDURE_PACKAGES = envlist("WORKFLOW_PROCEDURE_PACKAGES", "mod,builtin")
# Built-in procedures (docs/builtin.md). http.Http.request reads at most this much of a body.
WORKFLOW_HTTP_MAX_RESPONSE_BYTES = envint("WORKFLOW_HTTP_MAX_RESPONSE_BYTES", 1024 * 1024)
# sql.Sql: connections by name beside the DATABASES aliases, "name=URL,name=URL" (dj-database-url).
WORKFLOW_SQL_CONNECTIONS = envmap("WORKFLOW_SQL_CONNECTIONS", "")
# sql.Sql may use these DATABASES aliases (the app's own databases): none unless listed, as a
# flow on `default` could change any table of the app, users included.
WORKFLOW_SQL_DATABASES = envlist("WORKFLOW_SQL_DATABASES", "")
# sql.Sql.query returns at most this many rows (a step's max_rows may ask for fewer).
WORKFLOW_SQL_MAX_ROWS = envint("WORKFLOW_SQL_MAX_ROWS", 1000)
# wait.Wait.sleep waits at most this many seconds.
WORKFLOW_WAIT_MAX_SECONDS = envint("WORKFLOW_WAIT_MAX_SECONDS", 24 * 3600)
# The email.Email.send procedure sends through Django's default mailer: SMTP, set from the
# environment (Django's tests swap in the in-memory backend).
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": envint("EMAIL_PORT", 25),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": envbool("EMAIL_USE_TLS", "False"),
            "timeout": envint("EMAIL_TIMEOUT", 30),
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "workflow@localhost")
# flow.Flow.run: how deep sub-flows may nest (a run started by a run started by a run...).
WORKFLOW_SUBFLOW_MAX_DEPTH = envint("WORKFLOW_SUBFLOW_MAX_DEPTH", 5)
# A step whose result holds more values, or takes more bytes as JSON, fails: a result that
# embeds earlier ones counts them in full, as JSON would write them.
WORKFLOW_MAX_RESULT_NODES = envint("WORKFLOW_MAX_RESULT_NODES", 1_000_000)
WORKFLOW_MAX_RESULT_BYTES = envint("WORKFLOW_MAX_RESULT_BYTES", 16 * 1024 * 1024)
WORKFLOW_LOG_FILE = os.environ.get("WORKFLOW_LOG_FILE", str(BASE_DIR / "logs" / "workflow.log"))
WORKFLOW_LOG_LEVEL = os.environ.get("WORKFLOW_LOG_LEVEL", "DEBUG")
WORKFLOW_LOG_MAX_BYTES = envint("WORKFLOW_LOG_MAX_BYTES", 10 * 1024 * 1024)
WORKFLOW_LOG_BACKUP_COUNT = envint("WORKFLOW_LOG_BACKUP_COUNT", 5)
# A longer log message (or traceback) keeps its head and says how much was cut.
WORKFLOW_LOG_MAX_MESSAGE_CHARS = envint("WORKFLOW_LOG_MAX_MESSAGE_CHARS", 10_000)
# A running run stamps its heartbeat this often; one silent for WORKFLOW_WORKER_LOST_SECONDS
# is marked failed ("worker lost").
WORKFLOW_HEARTBEAT_SECONDS = envint("WORKFLOW_HEARTBEAT_SECONDS", 5)
WORKFLOW_WORKER_LOST_SECONDS = envint("WORKFLOW_WORKER_LOST_SECONDS", 30)
# How long a worker keeps trying to record a run's outcome while the database is unreachable
# (reconnecting with backoff); the outcome lands as soon as it is back within that time.
WORKFLOW_RECORD_RETRY_SECONDS = envint("WORKFLOW_RECORD_RETRY_SECONDS", 600)
# A step stopped by its timeout or a forced cancel gets this long after SIGTERM (its
# `finally` blocks, its log lines) before SIGKILL; a cancel waits this long for the
# running step to return by itself (docs/runs.md, "Timeouts and cancel").
WORKFLOW_KILL_GRACE_SECONDS = envint("WORKFLOW_KILL_GRACE_SECONDS", 5)
# Where runs are queued: "db" (Django tasks in this database, `manage.py db_worker`) or
# "celery" (`celery -A workflow_site worker`, broker CELERY_BROKER_URL).
WORKFLOW_QUEUE = os.environ.get("WORKFLOW_QUEUE", "db")
if WORKFLOW_QUEUE not in ("db", "celery"):
    raise ImproperlyConfigured(f"WORKFLOW_QUEUE must be db or celery, got {WORKFLOW_QUEUE!r}")
# Flows that must not overlap: a run request while one is queued or running is skipped.
WORKFLOW_SKIP_IF_RUNNING = envlist("WORKFLOW_SKIP_IF_RUNNING", "")
# Schedules: a tick handled later than this after its due time was missed (downtime) and
# follows its schedule's catch-up policy. The scheduler sleeps at most WAKE seconds, so
# edits are seen within that time, and reaps lost runs every REAP seconds.
WORKFLOW_SCHEDULE_GRACE_SECONDS = envint("WORKFLOW_SCHEDULE_GRACE_SECONDS", 60)
WORKFLOW_SCHEDULER_WAKE_SECONDS = envint("WORKFLOW_SCHEDULER_WAKE_SECONDS", 10)
WORKFLOW_SCHEDULER_REAP_SECONDS = envint("WORKFLOW_SCHEDULER_REAP_SECONDS", 5)
# Where the dashboard is reached: notifications link to a run as WORKFLOW_BASE_URL/runs/<id>/.
WORKFLOW_BASE_URL = os.environ.get("WORKFLOW_BASE_URL", "http://127.0.0.1:8000")
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "workflow")
CELERY_TASK_ACKS_LATE = True  # a message whose worker died is delivered again; the claim dedups
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Records waiting for the wf_syslog writer; beyond this they are dropped and counted.
WORKFLOW_LOG_QUEUE_SIZE = envint("WORKFLOW_LOG_QUEUE_SIZE", 100_000)
# /metrics wants "Authorization: Bearer <this>"; unset, it answers only requests from this machine.
WORKFLOW_METRICS_TOKEN = os.environ.get("WORKFLOW_METRICS_TOKEN", "")
# The HTTP API (/api/v1/) and inbound webhooks (/hooks/<secret>).
# A request body larger than this is refused with 413 before it is parsed.
WORKFLOW_API_MAX_BODY_BYTES = envint("WORKFLOW_API_MAX_BODY_BYTES", 6 * 1024 * 1024)
# GET /api/v1/runs/<id>?wait=N holds the request at most this many seconds.
WORKFLOW_API_MAX_WAIT_SECONDS = envint("WORKFLOW_API_MAX_WAIT_SECONDS", 60)
# Each flow's webhook accepts this many requests per minute; more get 429.
WORKFLOW_HOOK_RATE_PER_MINUTE = envint("WORKFLOW_HOOK_RATE_PER_MINUTE", 60)
# Retention: runs and log lines older than this many days are deleted daily by the scheduler
# (and by `manage.py prune`); unset keeps them forever. Each flow's last success and last
# failure are kept whatever their age.
WORKFLOW_KEEP_RUNS_DAYS = envint("WORKFLOW_KEEP_RUNS_DAYS", 0) or None
WORKFLOW_KEEP_LOGS_DAYS = envint("WORKFLOW_KEEP_LOGS_DAYS", 0) or None
# Secrets (docs/secrets.md): comma-separated Fernet keys for the secrets kept in the database.
# The first encrypts, every one decrypts: to rotate, put a new key first, run
# `manage.py secrets rotate`, then drop the old one. Unset, only WORKFLOW_SECRET_<NAME>
# environment variables give secrets. Checked when used, so a bad key is a clear error on
# the Secrets page and in the runs that need it, never a site that does not start.
WORKFLOW_SECRETS_KEY = os.environ.get("WORKFLOW_SECRETS_KEY", "")
