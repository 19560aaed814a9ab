"""Fast public pages: validators, CDN headers and a shared page cache, stale on demand.

Site infrastructure that knows no domain: the apps say which views are public pages and
when what they show changes. Every public view is wrapped in `public_page`. For an
anonymous GET it

- answers `If-None-Match` / `If-Modified-Since` with 304 before the view runs: the validators
  come from *generations*, counters in the shared cache (one cache lookup);
- serves the page from the shared cache (`FACTUALLY_PAGE_CACHE`, `CACHE_URL`), or renders it
  and keeps it there for `FACTUALLY_PAGE_CACHE_SECONDS`;
- sends `Cache-Control: public, max-age=60, s-maxage=300, …` for browsers and a front cache,
  and the surrogate keys (`xkey`) a front cache purges it by (factually/frontcache.py).

The counters: the general generation (`GENERATION_KEY`), which most pages keep to, and for
pages with an `own_counter` (one report's pages) that page's own counter plus the site
counter (`SITE_KEY`: data every page shows). `mark_stale` increments them; a stored page
remembers the counters it was rendered under and ETags contain them, so every app server
sharing the cache stops using old pages at once (they expire on their own). When and what
to mark stale is the apps' business (reports/caching.py).

Requests with a session cookie (staff) never see or fill the cache: they get the page from
the database with `Cache-Control: private, no-cache`. A response that turns out personal
(it used the session or a CSRF token, or sets a cookie) is marked private and never stored,
so no token or per-user text reaches the shared cache. `Vary: Cookie` is never relied on: a
CDN must bypass its cache for requests carrying the session cookie (README: "Caching").

When the cache fails (Redis down) pages are served from the database, without validators,
and the cache is left alone for a few seconds before it is tried again. An increment the
cache missed is the app's to retry (`catch_up_with`): until it is applied, this process
serves the pages it covers from the database.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import condition

from factually import cache as tolerant_cache
from factually import frontcache
from factually.routers import has_replica

logger = logging.getLogger(__name__)

# The general generation: every change increments it (lists, feeds, search keep to it).
GENERATION_KEY = "factually:publication:generation"
# Pages with an own counter (a report's pages) are not kept by GENERATION_KEY: they keep to
# SITE_KEY (data every page shows: verdicts, topics, sources, flat pages) and their own
# counter, so a change elsewhere leaves them cached.
SITE_KEY = "factually:publication:site"
COUNTER_KEY_PREFIX = "factually:publication:report"
CHANGED_AT_KEY = "factually:publication:changed-at"
PAGE_KEY_PREFIX = "factually:page"
KEPT_KEY_PREFIX = "factually:kept"

PUBLIC_CACHE_CONTROL = (
    "public, max-age=60, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
)
PRIVATE_CACHE_CONTROL = "private, no-cache"
# Just after a publication a read replica may still show the old data: pages rendered then
# are neither kept nor given validators, and a CDN must ask again.
SETTLING_CACHE_CONTROL = "public, no-cache"
# Responses worth keeping; anything else (404 is raised, 405, 500) is rendered every time.
STORED_STATUSES = {200, 301, 302, 410}
# Headers the wrapper sets itself, or that must never be replayed to another reader.
UNSTORED_HEADERS = {
    "cache-control",
    "etag",
    "last-modified",
    "set-cookie",
    "x-factually-cache",
    frontcache.KEYS_HEADER,
}
# After a cache error, the seconds during which the cache is not tried again.
CACHE_RETRY_SECONDS = 5
# The response header telling how a page was served (for benchmarks and debugging).
STATUS_HEADER = "X-Factually-Cache"

_unavailable_until = 0.0


def _page_cache():
    return caches[settings.FACTUALLY_PAGE_CACHE]


def _keeps_nothing() -> bool:
    """A page cache that keeps nothing (dummycache://): no counters to read, no page to
    key, so no validators either; the wrapper only adds its headers."""
    return isinstance(_page_cache(), DummyCache)


def _page_seconds() -> int:
    return settings.FACTUALLY_PAGE_CACHE_SECONDS


def _settle_seconds() -> float:
    return settings.FACTUALLY_REPLICA_LAG_SECONDS if has_replica() else 0


def _cache_call(action: str, call: Callable, default=None):
    """`call()`, or `default` with a warning when the cache fails (and for a few seconds
    after, so a dead Redis costs one failed connection, not one per request)."""
    global _unavailable_until
    if time.monotonic() < _unavailable_until:
        return default
    try:
        return call()
    except Exception:
        _unavailable_until = time.monotonic() + CACHE_RETRY_SECONDS
        suspect()
        logger.warning(
            "Page cache unavailable (%s); serving from the database for %ss.",
            action,
            CACHE_RETRY_SECONDS,
            exc_info=True,
        )
        return default


# Increments the cache missed ---------------------------------------------------------------

# This process saw the cache fail (an increment refused, Redis unreachable): before it serves
# pages from the cache again it catches up with what is pending, and until then it serves the
# pages those increments cover from the database. Processes that saw no failure rely on the
# app's retries (reports: the next publication, and `publish_scheduled`, every minute).
_suspicious = False
_seen_outages = 0
_next_retry = 0.0
_pending_keys: frozenset[str] = frozenset()


def _nothing_pending() -> int:
    return 0


# Applies the increments the cache missed; returns how many changes remain pending.
_catch_up: Callable[[], int] = _nothing_pending


def catch_up_with(apply_pending: Callable[[], int]) -> None:
    """Use `apply_pending()` to apply the increments the cache missed, once it answers again.

    It returns how many changes remain pending, and calls `mark_stale` for them, then
    `caught_up` or `missed`. Run in a transaction, every few seconds while this process
    distrusts the cache (the app registers it once, when it is ready).
    """
    global _catch_up
    _catch_up = apply_pending


def suspect() -> None:
    """The cache failed: catch up with what is pending before it is trusted again."""
    global _suspicious, _next_retry
    _suspicious = True
    _next_retry = 0.0


def missed(*, everything: bool = False, names: Iterable[str] = ()) -> None:
    """The cache did not take these increments (`mark_stale`'s arguments): pages keeping to
    them come from the database until they are applied."""
    global _pending_keys
    _pending_keys = frozenset(_counters(everything=everything, names=names))
    suspect()


def caught_up() -> None:
    """Nothing the cache missed is pending any more."""
    global _pending_keys
    _pending_keys = frozenset()


def forget_failures() -> None:
    """Trust the cache as a process that never saw it fail (tests start this way)."""
    global _suspicious, _seen_outages, _next_retry, _pending_keys
    _suspicious, _seen_outages, _next_retry = False, tolerant_cache.outages(), 0.0
    _pending_keys = frozenset()


def _trust_the_cache(counters: tuple[str, ...]) -> bool:
    """Whether pages keeping to `counters` may come from the cache. Costs nothing unless this
    process saw the cache fail: then one query (every few seconds) for what is pending."""
    global _suspicious, _seen_outages, _next_retry

    if tolerant_cache.outages() != _seen_outages:
        _seen_outages = tolerant_cache.outages()
        suspect()
    if not _suspicious:
        return True
    if time.monotonic() >= _next_retry:
        _next_retry = time.monotonic() + CACHE_RETRY_SECONDS
        try:
            with transaction.atomic():
                remaining = _catch_up()
        except DatabaseError:
            # The database is down: the cache is all there is (pages stay up).
            logger.warning("Could not read pending cache invalidations.", exc_info=True)
            return True
        if not remaining:
            _suspicious = False
            return True
    return not _pending_keys.intersection(counters)


# The counters -------------------------------------------------------------------------------


def mark_stale(*, everything: bool = False, names: Iterable[str] = ()) -> bool:
    """Make stale the pages keeping to the general generation, those with the own counters
    `names`, and with `everything` every page; whether the cache took every increment.

    Call it once the change is committed (an app server rendering before the commit would
    store the old page under the new counters).
    """
    cache = _page_cache()

    def bump(key: str) -> bool:
        try:
            cache.incr(key)
        except ValueError:  # never set, or evicted: start afresh, above any old value
            # (A cache that swallows its errors, factually.cache, also lands here.)
            if not cache.add(key, _fresh_generation(), timeout=None):
                return cache.get(key) is not None
        return True

    def bump_all() -> bool:
        # The time first: a reader between the two sees a newer Last-Modified, never older.
        # A whole second later than the last change at least: HTTP dates count seconds, and
        # a reader who fetched a page between two changes in one second must not get a 304.
        previous = cache.get(CHANGED_AT_KEY) or 0
        cache.set(CHANGED_AT_KEY, max(time.time(), math.floor(previous) + 1), timeout=None)
        # The general generation last (`_counters`): a report's pages are fresh before the
        # lists link to them. Every key is tried, even after one failed.
        bumped = [bump(key) for key in _counters(everything=everything, names=names)]
        return all(bumped)

    # Not `_cache_call`: a publication must try the cache even while readers skip it.
    try:
        bumped = bump_all()
    except Exception:
        logger.exception("Marking cached pages stale failed.")
        bumped = False
    if not bumped:
        logger.warning(
            "Could not mark cached pages stale after a publication: pages cached before it "
            "may be served for up to %ss.",
            _page_seconds(),
        )
    return bumped


def _counters(*, everything: bool, names: Iterable[str]) -> list[str]:
    """The keys `mark_stale` increments, in order: own counters, site, general."""
    keys = [counter_key(name) for name in sorted(set(names))]
    if everything:
        keys.append(SITE_KEY)
    return [*keys, GENERATION_KEY]


def counter_key(name: str) -> str:
    """The key of the own counter `name` (a report's: its slug)."""
    # Hashed: a slug may be longer than some caches allow in a key.
    return f"{COUNTER_KEY_PREFIX}:{hashlib.sha256(name.encode()).hexdigest()[:24]}"


def _fresh_generation() -> int:
    """A starting value larger than any generation used before: microseconds since 1970.

    If the counter is lost (evicted, flushed) while old pages remain, restarting from a small
    number could bring them back; the clock only moves forward.
    """
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Generation:
    numbers: tuple[int, ...]  # the counters a page keeps to; any change makes it stale
    changed_at: float | None  # when published data last changed: the pages' Last-Modified

    @property
    def number(self) -> int:
        return self.numbers[0]


def current_generation() -> Generation | None:
    """The general generation, from the shared cache; None when the cache is unavailable."""
    return _lookup()[0]


def _lookup(
    page_key: str | None = None, counters: tuple[str, ...] = (GENERATION_KEY,)
) -> tuple[Generation | None, tuple | None]:
    """The `counters` a page keeps to and the page stored at `page_key`, in one cache round
    trip: a cache hit is the commonest request of all, so it costs a single MGET."""
    if not _trust_the_cache(counters):
        return None, None  # an invalidation the cache missed covers these pages
    cache = _page_cache()

    def read():
        found = cache.get_many([*counters, CHANGED_AT_KEY, *([page_key] if page_key else [])])
        missing = [key for key in counters if key not in found]
        if not missing:
            numbers = tuple(found[key] for key in counters)
            return Generation(numbers, found.get(CHANGED_AT_KEY)), found.get(page_key)
        # Never set, or evicted: started afresh (no page can be stored under a new counter).
        cache.add(CHANGED_AT_KEY, time.time(), timeout=None)
        for key in missing:
            cache.add(key, _fresh_generation(), timeout=None)
        found = cache.get_many([*counters, CHANGED_AT_KEY])
        if any(found.get(key) is None for key in counters):
            return None, None  # a cache that keeps nothing (dummycache://)
        return Generation(tuple(found[key] for key in counters), found.get(CHANGED_AT_KEY)), None

    generation, entry = _cache_call("reading the page cache", read, default=(None, None))
    if generation is None:
        return None, None
    return generation, _fresh(entry, generation)


def _fresh(entry: tuple | None, generation: Generation) -> tuple | None:
    """`entry` if it was stored under the current counters; a page stored under others is
    stale: it is rendered again and replaced."""
    return entry if entry is not None and entry[0] == generation.numbers else None


def kept_until_published(name: str, compute: Callable[[], object]):
    """`compute()`, kept in the shared cache until published data next changes.

    For what many pages need and only publishing changes (the filter choices of every list
    and search): one cache round trip instead of its queries. Computed afresh when the
    cache is off or unavailable.
    """
    if _page_seconds() <= 0:
        return compute()
    key = f"{KEPT_KEY_PREFIX}:{name}"
    generation, entry = _lookup(key)
    if entry is not None:
        return entry[1]
    value = compute()
    if generation is not None:
        _cache_call(
            "storing a value",
            lambda: _page_cache().set(key, (generation.numbers, value), timeout=_page_seconds()),
        )
    return value


# The decorator ---------------------------------------------------------------------------


def public_page(
    view=None,
    *,
    vary: Iterable[str] = (),
    own_counter: str | None = None,
    shows: Iterable[str] | Callable[[dict], Iterable[str]] | None = None,
):
    """Serve `view` as a public page: validators, CDN headers and the shared page cache.

    `vary`: request headers the response depends on (such as HX-Request for htmx partials);
    they go into the cache key and the `Vary` header. `own_counter`: the URL argument whose
    value names the page's own counter (a report's pages: "slug"); the page then goes stale
    only when that counter changes, or data every page shows (`mark_stale`). `shows`: the
    front cache keys of what the page shows (factually/frontcache.py), or a function of the
    URL arguments giving them; by default a page without an own counter shows the lists.
    Use as `@public_page` or `@public_page(vary=…, own_counter=…, shows=…)`.
    """
    vary = tuple(vary)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in {"GET", "HEAD"} or not is_anonymous(request):
                return _private(view(request, *args, **kwargs), vary)
            # From the address alone: a 304 names them too, without running the view.
            keys = frontcache.page_keys(
                own_counter=kwargs[own_counter] if own_counter else None,
                shows=shows(kwargs) if callable(shows) else shows,
            )
            generation = None
            if request.method == "GET" and not _keeps_nothing():
                key = _page_key(request, vary)
                counters = (
                    (SITE_KEY, counter_key(kwargs[own_counter]))
                    if own_counter
                    else (GENERATION_KEY,)
                )
                # A conditional request is mostly answered 304: the page is fetched only
                # if it is not (a second round trip, the rare case).
                fetch = _page_seconds() > 0 and "if-none-match" not in request.headers
                generation, entry = _lookup(key if fetch else None, counters)
            if generation is None:  # HEAD (never served from a GET's page), or no cache
                response = view(request, *args, **kwargs)
                if request.method == "GET":
                    response[STATUS_HEADER] = "unavailable"
                return _public(request, response, vary, keys)
            page = _Page(key, generation, entry, fetched=fetch)
            conditional = condition(
                etag_func=lambda *args, **kwargs: page.etag,
                last_modified_func=lambda *args, **kwargs: page.last_modified,
            )(page.cached(view))
            return _public(request, conditional(request, *args, **kwargs), vary, keys)

        return wrapper

    return decorator(view) if view is not None else decorator


def is_anonymous(request) -> bool:
    """No session cookie (staff have one) nor credentials of any kind: a reader.

    Decided from the request alone: looking at `request.user` would read the session.
    """
    return (
        settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "authorization" not in request.headers
    )


def _page_key(request, vary: tuple[str, ...]) -> str:
    """Where the page for this URL (and these request headers) is kept, in any generation."""
    variant = "\n".join(
        [request.build_absolute_uri(), *(request.headers.get(name, "") for name in vary)]
    )
    return f"{PAGE_KEY_PREFIX}:{hashlib.sha256(variant.encode()).hexdigest()[:32]}"


class _Page:
    """One public page in one generation: its cache entry (if fresh) and validators."""

    def __init__(self, key: str, generation: Generation, entry: tuple | None, *, fetched: bool):
        self.key = key
        self.generation = generation
        self.entry = entry
        self.fetched = fetched  # whether `entry` was looked for
        digest = key.rpartition(":")[2]
        changed_at = generation.changed_at
        settle = _settle_seconds()
        self.settling = bool(settle and changed_at and time.time() - changed_at < settle)
        if self.settling:
            self.etag = self.last_modified = None
        else:
            # Weak: equal pages, not equal bytes (a CSP nonce differs from render to render).
            numbers = ".".join(f"{number:x}" for number in generation.numbers)
            self.etag = f'W/"{numbers}-{digest[:16]}"'
            self.last_modified = (
                datetime.datetime.fromtimestamp(changed_at, tz=datetime.UTC)
                if changed_at is not None
                else None
            )

    def cached(self, view):
        """`view` behind the page cache: the stored page, or a new one, stored if it may be."""

        @wraps(view)
        def serve(request, *args, **kwargs):
            if not self.fetched and _page_seconds() > 0:
                entry = _cache_call("reading a page", lambda: _page_cache().get(self.key))
                self.entry = _fresh(entry, self.generation)
            if self.entry is not None:
                return _rebuild(self.entry)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            if self.settling:
                response[STATUS_HEADER] = "settling"
                return response
            reason = _why_not_stored(request, response)
            if reason is None and _page_seconds() > 0:
                entry = (
                    self.generation.numbers,
                    response.status_code,
                    [(k, v) for k, v in response.items() if k.lower() not in UNSTORED_HEADERS],
                    response.content,
                )
                _cache_call(
                    "storing a page",
                    lambda: _page_cache().set(self.key, entry, timeout=_page_seconds()),
                )
            response[STATUS_HEADER] = "miss" if reason is None else reason
            # The wrapper's validators, not the view's (a feed sets its own Last-Modified).
            del response["Last-Modified"]
            return response

        return serve


def _why_not_stored(request, response) -> str | None:
    """None if `response` may go to the shared cache; else "personal" or "not-stored"."""
    if _is_personal(request, response):
        return "personal"
    if (
        response.status_code not in STORED_STATUSES
        or response.streaming
        or "no-store" in response.get("Cache-Control", "")
        or "private" in response.get("Cache-Control", "")
    ):
        return "not-stored"
    return None


def _is_personal(request, response) -> bool:
    """Whether the response depends on who asked: session, CSRF token, cookies, messages."""
    session = getattr(request, "session", None)
    return bool(
        (session is not None and session.accessed)
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or response.cookies
        or "cookie" in response.get("Vary", "").lower()
        or _used_messages(request)
    )


def _used_messages(request) -> bool:
    storage = getattr(request, "_messages", None)
    return bool(storage is not None and getattr(storage, "used", False))


def _rebuild(entry) -> HttpResponse:
    _generation, status, headers, content = entry
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response[STATUS_HEADER] = "hit"
    return response


def _public(request, response, vary: tuple[str, ...], keys: str):
    """CDN headers on a public page, and the surrogate `keys` a front cache purges it by
    (factually/frontcache.py), unless it turned out personal."""
    if vary:
        patch_vary_headers(response, vary)
    if response.status_code == 304:
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL
        response[frontcache.KEYS_HEADER] = keys
        response[STATUS_HEADER] = "not-modified"
    elif _is_personal(request, response):
        response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        _drop_validators(response)
    elif response.get(STATUS_HEADER) == "settling":
        response["Cache-Control"] = SETTLING_CACHE_CONTROL
    elif response.status_code in STORED_STATUSES:
        response["Cache-Control"] = PUBLIC_CACHE_CONTROL
        response[frontcache.KEYS_HEADER] = keys
    else:  # an error of some kind: whatever the view said, and no validators
        _drop_validators(response)
    return response


def _drop_validators(response) -> None:
    del response["ETag"]
    del response["Last-Modified"]


def _private(response, vary: tuple[str, ...]):
    """Staff (signed in) and anything but GET or HEAD: rendered afresh, kept by no shared
    cache, checked with the server before a browser shows its own copy again."""
    if vary:
        patch_vary_headers(response, vary)
    if "no-store" not in response.get("Cache-Control", ""):
        response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    response[STATUS_HEADER] = "private"
    return response
