"""Link health: do the URLs of sources, and their archive copies, still answer?

`check_sources` requests every URL of a queryset of sources from a small pool of threads
(at most `concurrency` requests in flight) and records each result on its source from the
calling thread, so database writes stay in one thread and one connection. Each request is
HEAD, then GET (headers only) when a server refuses HEAD; transient failures (timeouts,
dropped or refused connections, 5xx, 429) are retried with exponential backoff. Every
request goes through sources.fetching, which refuses addresses outside the public internet
(recorded as "blocked address") and follows redirects itself, checking every hop.

`next_link_state` is the one decision on what a result means for a source: a link becomes
dead only after `dead_after` failed checks in a row; a success resets the count and brings a
dead link back to live; unfit and usurped, which curators set by hand, are never changed.
"""

from __future__ import annotations

import datetime
import enum
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import httpx
from django.contrib.sites.models import Site
from django.db import transaction
from django.utils import timezone

from sources import fetching
from sources.models import Source

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 1.0
DEFAULT_DEAD_AFTER = 3

# HEAD refused: 405 and 501 say so; many CDNs answer 403 to HEAD and 200 to GET.
HEAD_REFUSED = frozenset({403, 405, 501})
# The site turned the checker away (login, bot wall, rate limit): it says nothing about
# whether the page is there, so it neither counts as a failure nor resets the count.
INCONCLUSIVE_STATUSES = frozenset({401, 403, 429})
# Worth asking again after a pause.
TRANSIENT_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_ERROR_LENGTH = Source._meta.get_field("link_error").max_length
_URL_LENGTH = Source._meta.get_field("link_final_url").max_length


def user_agent() -> str:
    """Who we are, and where to read about us, for the sites we check."""
    try:
        domain = Site.objects.get_current().domain
    except Exception:  # No sites table or no current site: still identify ourselves.
        domain = "localhost"
    return f"FactuallyLinkChecker/1.0 (+https://{domain}/)"


class Outcome(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CheckResult:
    """What one URL answered: its final status code and URL after redirects, or an error."""

    url: str
    checked_at: datetime.datetime
    status_code: int | None = None
    final_url: str = ""
    error: str = ""

    @property
    def outcome(self) -> Outcome:
        if self.status_code is not None and 200 <= self.status_code < 300:
            return Outcome.OK
        if self.status_code in INCONCLUSIVE_STATUSES:
            return Outcome.INCONCLUSIVE
        return Outcome.FAILED


@dataclass(frozen=True)
class LinkState:
    url_status: str
    link_failures: int


def next_link_state(
    url_status: str, link_failures: int, result: CheckResult, *, dead_after: int
) -> LinkState:
    """The URL status and failure count of a source after `result`. Pure: no I/O."""
    outcome = result.outcome
    if outcome is Outcome.INCONCLUSIVE:
        return LinkState(url_status, link_failures)
    if outcome is Outcome.OK:
        if url_status == Source.UrlStatus.DEAD:
            url_status = Source.UrlStatus.LIVE
        return LinkState(url_status, 0)
    failures = min(link_failures + 1, 32767)  # PositiveSmallIntegerField
    if url_status == Source.UrlStatus.LIVE and failures >= dead_after:
        url_status = Source.UrlStatus.DEAD
    return LinkState(url_status, failures)


@dataclass
class Summary:
    """Sources checked and what their own URL turned out to be; archives counted apart."""

    checked: int = 0
    live: int = 0
    dead: int = 0
    errors: int = 0
    archives_checked: int = 0
    archive_errors: int = 0

    def __str__(self) -> str:
        return f"{self.checked} checked, {self.live} live, {self.dead} dead, {self.errors} errors"


def check_url(
    client: httpx.Client,
    url: str,
    *,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
) -> CheckResult:
    """Request `url`, retrying transient failures; never raises."""
    attempt = 0
    while True:
        try:
            response = _request(client, url)
        except fetching.RefusedURL as exc:  # Asking again will not change the answer.
            return _failed(url, exc)
        except TRANSIENT_EXCEPTIONS as exc:
            if attempt < retries:
                time.sleep(backoff * 2**attempt)
                attempt += 1
                continue
            return _failed(url, exc)
        except Exception as exc:  # An invalid URL, too many redirects, anything: recorded.
            return _failed(url, exc)
        code = response.status_code
        if (code >= 500 or code == 429) and attempt < retries:
            time.sleep(backoff * 2**attempt)
            attempt += 1
            continue
        error = ""
        if not 200 <= code < 300:
            error = f"HTTP {code} {response.reason_phrase}".strip()
            if code in INCONCLUSIVE_STATUSES:
                error += " (the site turned the checker away; not counted as a failure)"
        return CheckResult(
            url=url,
            checked_at=timezone.now(),
            status_code=code,
            final_url=str(response.url),
            error=error,
        )


def _request(client: httpx.Client, url: str) -> httpx.Response:
    with fetching.fetch(client, "HEAD", url) as response:
        if response.status_code not in HEAD_REFUSED:
            return response
    # Headers are enough: the body (a large PDF, a video) is never downloaded.
    with fetching.fetch(client, "GET", url) as response:
        return response


def _failed(url: str, exc: Exception) -> CheckResult:
    if isinstance(exc, fetching.RefusedURL):
        return CheckResult(url=url, checked_at=timezone.now(), error=str(exc))
    message = str(exc).strip()
    error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return CheckResult(url=url, checked_at=timezone.now(), error=error)


def check_sources(
    queryset,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    dead_after: int = DEFAULT_DEAD_AFTER,
    progress: Callable | None = None,
) -> Summary:
    """Check the URL and archive URL of every source in `queryset` and record the results.

    `progress`, if given, is called as `progress(total=n)` and must return an object with
    `update(1)` and `close()` (a tqdm bar, say). Never raises for one URL or one source.
    """
    if concurrency < 1 or timeout <= 0 or dead_after < 1 or retries < 0:
        raise ValueError(
            "concurrency and dead_after must be at least 1, timeout above 0, retries at least 0."
        )
    jobs = []  # (source pk, "url" or "archive", the URL)
    rows = queryset.order_by("pk").values_list("pk", "url", "archive_url")
    for pk, url, archive_url in rows:
        if url:  # a source without a URL (a book, an interview) has no link to check
            jobs.append((pk, "url", url))
        if archive_url:
            jobs.append((pk, "archive", archive_url))
    summary = Summary()
    client = fetching.guarded_client(
        timeout=timeout,
        headers={"User-Agent": user_agent(), "Accept": "*/*"},
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="linkcheck")
    bar = progress(total=len(jobs)) if progress else None
    try:
        futures = {
            pool.submit(check_url, client, url, retries=retries, backoff=backoff): (pk, kind)
            for pk, kind, url in jobs
        }
        for future in as_completed(futures):
            pk, kind = futures[future]
            try:
                if kind == "url":
                    _count(summary, _record_link(pk, future.result(), dead_after))
                else:
                    summary.archive_errors += not _record_archive(pk, future.result())
                    summary.archives_checked += 1
            except Exception:
                logger.exception("Could not record the %s check of source %s", kind, pk)
                if kind == "url":
                    summary.checked += 1
                    summary.errors += 1
            if bar is not None:
                bar.update(1)
    finally:
        # Interrupted (Ctrl-C): drop the URLs not started rather than wait for them all.
        pool.shutdown(wait=True, cancel_futures=True)
        client.close()
        if bar is not None:
            bar.close()
    return summary


def _count(summary: Summary, category: str | None) -> None:
    if category is not None:
        summary.checked += 1
        setattr(summary, category, getattr(summary, category) + 1)


def _record_link(pk: int, result: CheckResult, dead_after: int) -> str | None:
    """Save `result` on source `pk`; its category in the summary, or None if it went away."""
    with transaction.atomic():
        # Locked, so a curator's edit in between is neither lost nor overwritten.
        row = (
            Source.objects.select_for_update()
            .filter(pk=pk)
            .values("url", "url_status", "link_failures")
            .first()
        )
        if row is None or row["url"] != result.url:
            return None  # Deleted, or its URL was changed while we checked the old one.
        state = next_link_state(
            row["url_status"], row["link_failures"], result, dead_after=dead_after
        )
        Source.objects.filter(pk=pk).update(
            url_status=state.url_status,
            link_failures=state.link_failures,
            link_checked_at=result.checked_at,
            link_status_code=result.status_code,
            link_final_url=_fits(result.final_url),
            link_error=result.error[:_ERROR_LENGTH],
        )
    if result.outcome is Outcome.OK:
        return "live"
    return "dead" if state.url_status == Source.UrlStatus.DEAD else "errors"


def _record_archive(pk: int, result: CheckResult) -> bool:
    """Save `result` as the archive check of source `pk`; whether the archive answered."""
    Source.objects.filter(pk=pk, archive_url=result.url).update(
        archive_checked_at=result.checked_at,
        archive_status_code=result.status_code,
        archive_error=result.error[:_ERROR_LENGTH],
    )
    return result.outcome is Outcome.OK


def _fits(url: str) -> str:
    return url if len(url) <= _URL_LENGTH else ""
