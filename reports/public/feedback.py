"""Readers talking back: error reports and claim suggestions, and the limits on sending them.

Submissions land in the admin queue (`ReaderMessage`, status "new") through `submit_error`
and `submit_suggestion`. Abuse is kept out without third-party services:

- Django's CSRF protection on both forms;
- a honeypot field: a bot that fills it is told "thank you" like anyone else (a refusal
  would teach it which field to leave alone) and its message is discarded;
- a per-address limit of `RATE_LIMIT` submissions per `RATE_WINDOW` seconds and form,
  counted in the Django cache (Redis in production), so every app server shares it and no
  process keeps state; the address is `factually.clients.client_address` (`REMOTE_ADDR`,
  or the client's entry in X-Forwarded-For when `FACTUALLY_TRUSTED_PROXY_COUNT` proxies
  stand in front);
- length limits on every field and on the request body (`MAX_BODY_BYTES`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from reports.models import PublishedVersion, ReaderMessage

logger = logging.getLogger(__name__)

RATE_LIMIT = 5
RATE_WINDOW = 10 * 60  # seconds
# Far above what the longest answers need, even in four-byte UTF-8, percent-encoded.
MAX_BODY_BYTES = 64 * 1024

ERROR_FORM = "error"
SUGGESTION_FORM = "suggestion"


# Submitting ---------------------------------------------------------------------------------


@transaction.atomic
def submit_error(
    *, version: PublishedVersion, message: str, location: str = "", email: str = ""
) -> ReaderMessage:
    """Queue a reader's report of an error in `version` (the version they were shown)."""
    return ReaderMessage.objects.create(
        kind=ReaderMessage.Kind.ERROR,
        report_id=version.report_id,
        version_number=version.number,
        message=message,
        location=location,
        email=email,
    )


@transaction.atomic
def submit_suggestion(
    *, claim: str, claim_url: str = "", message: str = "", email: str = ""
) -> ReaderMessage:
    """Queue a claim a reader would like checked."""
    return ReaderMessage.objects.create(
        kind=ReaderMessage.Kind.SUGGESTION,
        claim=claim,
        claim_url=claim_url,
        message=message,
        email=email,
    )


# Rate limiting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limited:
    """A refusal: the address sent too many; it may try again after `retry_after` seconds."""

    retry_after: int


def _now() -> float:
    return time.time()


def _window(form: str, address: str) -> tuple[str, int]:
    """The cache key counting `address` on `form` in the current fixed window, and the
    seconds left in that window."""
    now = _now()
    start = int(now // RATE_WINDOW) * RATE_WINDOW
    remaining = max(1, math.ceil(start + RATE_WINDOW - now))
    return f"feedback:{form}:{address}:{start}", remaining


def check_limit(form: str, address: str) -> Limited | None:
    """Whether `address` has used up its submissions on `form`, without counting one."""
    key, remaining = _window(form, address)
    try:
        used = cache.get(key, 0)
    except Exception:  # A cache outage must not take the forms down with it.
        logger.warning("Feedback rate limit not checked: the cache is unreachable.", exc_info=True)
        return None
    return Limited(remaining) if used >= RATE_LIMIT else None


def count_submission(form: str, address: str) -> Limited | None:
    """Count one submission by `address` on `form`; a `Limited` if it is one too many.

    The increment is atomic in the cache, so two app servers taking submissions from the
    same address at once cannot both let the last one through.
    """
    key, remaining = _window(form, address)
    try:
        # The key lives exactly as long as its window; `add` leaves a running count alone.
        cache.add(key, 0, timeout=remaining + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # The window ended between the two calls.
            cache.add(key, 1, timeout=remaining + 1)
            used = 1
    except Exception:
        logger.warning("Feedback submission not counted: the cache is unreachable.", exc_info=True)
        return None
    return Limited(remaining) if used > RATE_LIMIT else None
