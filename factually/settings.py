"""Factually settings: one module, every deployment difference read from the environment."""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (50+ random characters), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_htmx",
    "reversion",
    "axes",
    "sources",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Header middleware first, so every response gets the headers: static files, errors,
    # refusals made by the middleware below.
    "factually.security.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Request bodies over the limit are refused before anything reads them (factually.bodylimit).
    "factually.bodylimit.BodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A database that cannot be reached gives the friendly 503 page (factually.health).
    "factually.health.DatabaseUnavailableMiddleware",
    "factually.routers.PublicReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Last: turns a locked-out login into the lockout page (factually.security).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "factually.urls"
WSGI_APPLICATION = "factually.wsgi.application"
ASGI_APPLICATION = "factually.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default needs no server; production sets DATABASE_URL=postgres://...
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Optional read replica for anonymous public pages (factually.routers); tests mirror it.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        _database["CONN_HEALTH_CHECKS"] = True
        # A database host that does not answer gives the 503 page in seconds, not minutes
        # (factually.health); ?connect_timeout= in the URL overrides it.
        _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        # Searches and the filter choices are prepared once per connection
        # (factually.prepared); Django's own cursors bind on the client and never prepare.
        # Without a threshold, psycopg prepares nothing. Behind PgBouncer in transaction
        # mode, give it max_prepared_statements (1.21 and later).
        _database["OPTIONS"].setdefault("prepare_threshold", 5)
DATABASE_ROUTERS = ["factually.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every app server in production (redis://...); local memory on one machine.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# An unreachable Redis is an empty cache, not an error: pages come from the database.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "factually.cache.TolerantRedisCache"
# Anonymous public pages kept in that cache (factually/pagecache.py), in seconds; a
# publication makes them stale at once. 0 keeps none (ETag, 304 and Cache-Control still apply).
FACTUALLY_PAGE_CACHE_SECONDS = env.int("FACTUALLY_PAGE_CACHE_SECONDS", default=300)
# Which of CACHES keeps the pages and their counters: one every app server shares.
FACTUALLY_PAGE_CACHE = env.str("FACTUALLY_PAGE_CACHE", default="default")
# With a read replica, how far behind the primary it may be, in seconds: pages rendered that
# soon after a change are neither kept nor given validators (factually/pagecache.py).
FACTUALLY_REPLICA_LAG_SECONDS = env.float("FACTUALLY_REPLICA_LAG_SECONDS", default=5)
# The front cache (Varnish) in front of the app servers, purged by surrogate key when
# published data changes (factually/frontcache.py, deploy/varnish.vcl): "none" or "varnish";
# its URLs (every Varnish, e.g. http://127.0.0.1:6081/) and the secret its VCL expects.
FACTUALLY_FRONT_CACHE_URLS = env.list("FACTUALLY_FRONT_CACHE_URLS", default=[])
FACTUALLY_FRONT_CACHE_SECRET = env.str("FACTUALLY_FRONT_CACHE_SECRET", default="")
FACTUALLY_FRONT_CACHE_BACKEND = env.str(
    "FACTUALLY_FRONT_CACHE_BACKEND", default="varnish" if FACTUALLY_FRONT_CACHE_URLS else "none"
)
if FACTUALLY_FRONT_CACHE_BACKEND == "varnish" and not FACTUALLY_FRONT_CACHE_SECRET:
    raise ImproperlyConfigured(
        "FACTUALLY_FRONT_CACHE_SECRET is not set: deploy/varnish.vcl refuses purges without it."
    )
# The largest request body accepted, in bytes (factually/bodylimit.py): 256 KiB anywhere, 4 MiB
# under /admin/ (imports). deploy/nginx.conf's client_max_body_size matches the larger.
FACTUALLY_MAX_BODY_BYTES = env.int("FACTUALLY_MAX_BODY_BYTES", default=256 * 1024)
FACTUALLY_BODY_LIMITS = {
    "/admin/": env.int("FACTUALLY_MAX_ADMIN_BODY_BYTES", default=4 * 1024 * 1024)
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# One date format for readers and the newsroom alike ("February 12, 2026"): factually/formats/.
FORMAT_MODULE_PATH = ["factually.formats"]

SITE_ID = 1

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"
# Where a login lands when `next` is missing or refused (another host, `//host`): the admin
# home, not Django's default /accounts/profile/, which does not exist here.
LOGIN_REDIRECT_URL = "admin:index"

# Login throttling (django-axes): 5 failed logins for one username from one address lock
# that pair out for 15 minutes (429, admin/locked_out.html), whether the username exists or
# not. Attempts live in the database, which every app server shares.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "factually.security.login_client_address"
AXES_LOCKOUT_CALLABLE = "factually.security.lockout_response"
# No "AXES: BEGIN version …" banner on every management command; lockouts are still logged.
AXES_VERBOSE = False

# Security: strict by default; development (DEBUG) relaxes only what plain HTTP needs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Stricter than strict-origin-when-cross-origin: other sites get no Referer at all.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere, admin included: no 'unsafe-inline', no 'unsafe-eval'.
# Django's admin marks its <script src> elements with the nonce; it has no inline script, and
# its one inline <style> (on a changelist whose ModelAdmin turns off both actions_on_top and
# actions_on_bottom, which none of ours does) would be refused: a column width, nothing more.
# tests/browser/test_admin_csp.py uses the admin under this policy; tests/security/ checks
# the headers. Permissions-Policy: factually.security.PermissionsPolicyMiddleware.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

# Product settings.
FACTUALLY_SITE_NAME = env.str("FACTUALLY_SITE_NAME", default="Factually")
FACTUALLY_REPORTS_PER_PAGE = 20
# Four-eyes rule: nobody publishes a report they wrote or last edited. Off only for
# one-person newsrooms.
FACTUALLY_FOUR_EYES = env.bool("FACTUALLY_FOUR_EYES", default=True)
# Published reports checked longer ago than this are listed as due for a re-check.
FACTUALLY_RECHECK_AFTER_DAYS = env.int("FACTUALLY_RECHECK_AFTER_DAYS", default=365)
# How many reverse proxies (load balancer, CDN) stand before the app and append to
# X-Forwarded-For; 0 trusts no such header and takes the client's address from the socket.
FACTUALLY_TRUSTED_PROXY_COUNT = env.int("FACTUALLY_TRUSTED_PROXY_COUNT", default=0)
# Whether the server may fetch user-given URLs (the link checker) that resolve to loopback,
# private, link-local or other non-public addresses (sources/fetching.py). Only for tests and
# local demos whose servers listen on loopback: production never sets it.
FACTUALLY_ALLOW_PRIVATE_FETCH = env.bool("FACTUALLY_ALLOW_PRIVATE_FETCH", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
