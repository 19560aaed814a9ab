"""Staying up when what the site depends on is down: the 503 page and `/healthz`.

`DatabaseUnavailableMiddleware` turns a database that cannot be reached into a friendly
503 page (``templates/503.html``, rendered without touching the database) with a
`Retry-After` header, instead of a server error. It catches the connection errors Django
raises (`OperationalError`, `InterfaceError`) and psycopg's own, whether the view raised
them or a middleware further in did. Pages served from a cache before the database is
touched keep being served. Nothing needs restarting when the database is back: with
`CONN_HEALTH_CHECKS` (settings), Django checks a persistent connection before reusing it
in a new request and reconnects when it has gone stale.

`/healthz` (`healthz`) says what is down, for load balancers and monitoring, without
authentication and never cached::

    {"database": "ok" | "down", "cache": "ok" | "down", "status": "ok" | "degraded"}

with 200 when the database answers (a dead cache only makes the site slower: "degraded")
and 503 when it does not. With a read replica configured, "replica" says how it is.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.signals import got_request_exception
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from factually.routers import REPLICA, has_replica

logger = logging.getLogger(__name__)

# What a database that cannot be reached raises: Django's wrappers, and psycopg's own
# where a call escapes Django's wrapping (a pool, a cursor read outside it).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a requirement, but SQLite needs none
    pass
else:
    DATABASE_ERRORS += (psycopg.OperationalError, psycopg.InterfaceError)

TEMPLATE = "503.html"
# Seconds a client should wait before trying again.
RETRY_AFTER = 30
OK, DOWN = "ok", "down"


def unavailable_response() -> HttpResponse:
    """The 503 page: a static template, rendered with no request and no database."""
    body = loader.render_to_string(TEMPLATE, {"site_name": settings.FACTUALLY_SITE_NAME})
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER)
    # Neither the page cache nor a CDN may keep it in place of the real page.
    add_never_cache_headers(response)
    return response


def _database_error(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS)


class DatabaseUnavailableMiddleware:
    """Answer 503 with the friendly page when the database cannot be reached.

    Place it early (outside the session and authentication middleware), so that a failure
    of theirs is caught as well as the view's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A middleware further in failed: Django already made a 500 of it (see below).
        error = getattr(request, "_factually_database_error", None)
        if error is not None and response.status_code == 500:
            return self._unavailable(request, error)
        return response

    def process_exception(self, request, exception):
        if _database_error(exception):
            return self._unavailable(request, exception)
        return None

    def _unavailable(self, request, error: BaseException) -> HttpResponse:
        logger.error(
            "Database unavailable, answering 503 to %s %s: %s",
            request.method,
            request.path,
            str(error).strip() or type(error).__name__,
        )
        return unavailable_response()


def _note_database_error(sender, request=None, **kwargs):
    """Mark a request whose uncaught exception was a database error, for the middleware.

    Django turns an exception raised in a middleware into a 500 response before the
    middleware outside it sees anything; this signal is sent while it is handled.
    """
    error = sys.exc_info()[1]
    if request is not None and _database_error(error):
        request._factually_database_error = error


got_request_exception.connect(_note_database_error, dispatch_uid="factually.health")


# The health check ---------------------------------------------------------------------------


def database_status(alias: str = DEFAULT_DB_ALIAS) -> str:
    """OK if the database answers a query now, else DOWN."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DATABASE_ERRORS as error:
        logger.warning("Health check: database %r is down: %s", alias, str(error).strip())
        return DOWN
    return OK


def cache_status() -> str:
    """OK if a value written to the cache reads back, else DOWN.

    A cache that swallows its errors (factually.cache) reads back nothing when it is down.
    """
    key, token = f"factually:healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, token, timeout=10)
        found = cache.get(key)
        cache.delete(key)
    except Exception as error:  # Any cache error means the same: it cannot be used.
        logger.warning("Health check: the cache is down: %s", error)
        return DOWN
    return OK if found == token else DOWN


@never_cache
@require_safe
def healthz(request):
    """What is up and what is down: 200 while the database answers, else 503."""
    checks = {"database": database_status(), "cache": cache_status()}
    if has_replica():
        checks["replica"] = database_status(REPLICA)
    status = "ok" if all(value == OK for value in checks.values()) else "degraded"
    response = JsonResponse(
        {**checks, "status": status}, status=200 if checks["database"] == OK else 503
    )
    if checks["database"] != OK:
        response["Retry-After"] = str(RETRY_AFTER)
    add_never_cache_headers(response)
    return response
