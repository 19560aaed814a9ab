"""Read replicas: anonymous public reads may go to a replica; everything else uses the primary.

The replica is used only inside a request that `PublicReadsMiddleware` marked as a public
read, so the admin, previews, forms, commands and every request soon after a write see the
primary (a replica may lag behind it).
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
# Set for a short while after a reader or editor writes, so they read their own write.
RECENT_WRITE_COOKIE = "factually_wrote"
RECENT_WRITE_SECONDS = 30

_public_read: ContextVar[bool] = ContextVar("factually_public_read", default=False)


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Send reads to the replica during public reads, when one is configured."""

    def db_for_read(self, model, **hints):
        if _public_read.get() and has_replica():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: same objects

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def is_public_read(request) -> bool:
    """A GET or HEAD from someone without a session, nowhere near the admin, not just after
    a write of theirs."""
    return (
        request.method in {"GET", "HEAD"}
        and not request.path.startswith("/admin/")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and RECENT_WRITE_COOKIE not in request.COOKIES
    )


class PublicReadsMiddleware:
    """Mark public reads for the router; after any write, keep this browser on the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _public_read.set(is_public_read(request))
        try:
            response = self.get_response(request)
        finally:
            _public_read.reset(token)
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            response.set_cookie(
                RECENT_WRITE_COOKIE,
                "1",
                max_age=RECENT_WRITE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
