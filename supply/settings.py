"""Settings for the supply service, all from the environment (12-factor), with defaults that let a
newcomer run it with no setup: SQLite and a generated secret key in the data directory.

Environment:
    SUPPLY_DATA_DIR        data directory (default ~/.local/share/tactical-edge/supply)
    DATABASE_URL           default sqlite:///$SUPPLY_DATA_DIR/supply.sqlite3
    SUPPLY_SECRET_KEY      default: generated once, kept 0600 in $SUPPLY_DATA_DIR/secret-key
    SUPPLY_DEBUG           "1" turns debug on (off by default)
    SUPPLY_ALLOWED_HOSTS   comma-separated, added to localhost/127.0.0.1/[::1] and the names of
                           the server certificates in $PKI_HOME/servers/ (supply/identity/hosts.py)
    SUPPLY_TRUSTED_ORIGINS comma-separated origins (https://host:port) allowed for unsafe requests
    PKI_HOME               where the trusted CA, CRL and proxy secret are found
    SUPPLY_TRUSTED_CA      PEM file of trusted CA certificates: the fleet root and the CAs below
                           it (default $PKI_HOME/ca/trust.pem; ca/cert.pem in a home made before it)
    SUPPLY_CRL             PEM file of CRLs, one for every CA (default $PKI_HOME/ca/crls.pem;
                           ca/crl.pem in a home made before it)
    SUPPLY_PROXY_SECRET_FILE  default $PKI_HOME/proxy-secret
    SUPPLY_TRUST_ANCHORS   the other trusted PKIs' list, written by `pki trust add` (default
                           $PKI_HOME/trust/anchors.json; each anchor's CAs and CRLs beside it)
    SUPPLY_IDENTITY_CACHE_SECONDS  how long a certificate -> user lookup may be cached (300)
    SUPPLY_IDEMPOTENCY_DAYS   how long an Idempotency-Key response is kept (default 7)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

from pki.files import atomic_write
from pki.home import PkiHome, default_home
from pki.secrets import secret_from_env
from supply.identity.hosts import server_host_names


def _env_list(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


DATA_DIR = Path(
    os.environ.get("SUPPLY_DATA_DIR", "~/.local/share/tactical-edge/supply")
).expanduser()


def _secret_key() -> str:
    from_env = secret_from_env("SUPPLY_SECRET_KEY")
    if from_env is not None:
        return from_env.decode()
    path = DATA_DIR / "secret-key"
    if not path.exists():
        # An exclusive atomic write (0600): when two processes start at once, exactly one key
        # wins, neither reads a half-written file, and both use the winner's key.
        with contextlib.suppress(FileExistsError):
            atomic_write(path, secrets.token_urlsafe(50).encode(), exclusive=True)
    key = path.read_text().strip()
    if not key:
        raise SystemExit(f"{path}: the secret key file is empty; delete it to generate a new one.")
    return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("SUPPLY_DEBUG", "") == "1"
PKI_HOME = Path(os.environ.get("PKI_HOME") or default_home()).expanduser()
ALLOWED_HOSTS = [
    "localhost",
    "127.0.0.1",
    "[::1]",
    *server_host_names(PKI_HOME),
    *_env_list("SUPPLY_ALLOWED_HOSTS"),
]
CSRF_TRUSTED_ORIGINS = _env_list("SUPPLY_TRUSTED_ORIGINS")


def _bundle(bundle: Path, single: Path) -> Path:
    # A home made before the bundles existed has only its root's files; `pki crl` or
    # `pki nginx-config` writes the bundles, which hold the same for such a home.
    return bundle if bundle.exists() or not single.exists() else single


_PKI = PkiHome(PKI_HOME)
SUPPLY_TRUSTED_CA = Path(
    os.environ.get("SUPPLY_TRUSTED_CA") or _bundle(_PKI.trust_bundle, _PKI.ca_cert)
)
SUPPLY_CRL = Path(os.environ.get("SUPPLY_CRL") or _bundle(_PKI.crl_bundle, _PKI.crl))
SUPPLY_PROXY_SECRET_FILE = Path(
    os.environ.get("SUPPLY_PROXY_SECRET_FILE") or PKI_HOME / "proxy-secret"
)
# The other trust anchors (`pki trust add`): their list; each one's files sit beside it.
SUPPLY_TRUST_ANCHORS = Path(
    os.environ.get("SUPPLY_TRUST_ANCHORS") or PKI_HOME / "trust" / "anchors.json"
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "supply.identity",
    "supply.catalog",
    "supply.inventory",
    "supply.idempotency",
    "supply.serving",
    "supply.backup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Certificate login for the admin and HTML pages (the API uses DRF's authentication class).
    "supply.identity.middleware.CertificateLoginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "supply.urls"
WSGI_APPLICATION = "supply.wsgi.application"
APPEND_SLASH = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'supply.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so concurrent writers wait instead of failing with "database is locked";
    # IMMEDIATE so a write transaction takes the lock at BEGIN (no upgrade deadlocks).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

FORCE_SCRIPT_NAME = None
STATIC_URL = "/supply/static/"
STATIC_ROOT = Path(os.environ.get("SUPPLY_STATIC_ROOT") or DATA_DIR / "static")

# Behind nginx, which terminates TLS and always overwrites this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Certificate -> user lookups (supply/identity/lookup.py), cached by fingerprint in files every
# worker and management command on the host shares, so a grant or revocation reaches all at once.
SUPPLY_IDENTITY_CACHE_DIR = Path(
    os.environ.get("SUPPLY_IDENTITY_CACHE_DIR") or DATA_DIR / "identity-cache"
)
SUPPLY_IDENTITY_CACHE_SECONDS = int(os.environ.get("SUPPLY_IDENTITY_CACHE_SECONDS") or 300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "supply.identity.authentication.ClientCertificateAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "supply.api.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "supply.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "supply.api.pagination.CappedPageNumberPagination",
}

# Sites reconnect late: a retried POST must still find its first response days later.
_idempotency_days = os.environ.get("SUPPLY_IDEMPOTENCY_DAYS", "").strip() or "7"
if not _idempotency_days.isdigit() or int(_idempotency_days) < 1:
    raise SystemExit(
        f"SUPPLY_IDEMPOTENCY_DAYS: {_idempotency_days!r} is not a whole number of days."
    )
SUPPLY_IDEMPOTENCY_TTL = timedelta(days=int(_idempotency_days))

SPECTACULAR_SETTINGS = {
    "TITLE": "tactical-edge supply API",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Bundled Swagger UI / Redoc assets: sites have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # 3.1: the version that can say "log in with a TLS client certificate" (mutualTLS).
    "OAS_VERSION": "3.1.0",
    # Request bodies get components of their own (no read-only fields; unknown keys refused).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "supply.api.schema.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LocationKindEnum": "supply.catalog.models.Location.Kind",
        "LedgerKindEnum": "supply.inventory.models.LedgerEntry.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SUPPLY_LOG_LEVEL", "INFO")},
}
