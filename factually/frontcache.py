"""The front cache (Varnish, a CDN) in front of the app: the keys pages carry, and purging.

Site infrastructure that knows no domain, like factually/pagecache.py: every public page
carries the surrogate key `site` (data every page shows); a page with an own counter (a
report's pages) carries `page-<name>`; and each page names what else it shows, as `list`
(the general lists) or keys of objects (`<kind>-<id>`: a topic, a verdict, a source), so
that a change purges exactly the pages showing what it changed. They travel in the `xkey`
response header, which deploy/varnish.vcl indexes (vmod xkey) and hides from readers.

`purge(keys)` asks the configured backend to drop every page carrying any of the keys and
raises `PurgeFailed` unless every front cache confirmed. Which keys a change purges, and
the retries until a purge is confirmed, are the apps' business (reports/caching.py).

Backends, chosen by `FACTUALLY_FRONT_CACHE_BACKEND` (settings): "none" (no front cache:
nothing to purge) and "varnish" (an HTTP PURGE with the keys in `xkey-purge` and the shared
secret in `X-Purge-Secret`, to each of `FACTUALLY_FRONT_CACHE_URLS`). A CDN's API would be
one more class with a `purge(keys)` method.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

# The response header carrying a page's keys, and the request header of a purge.
KEYS_HEADER = "xkey"
PURGE_KEYS_HEADER = "xkey-purge"
SECRET_HEADER = "X-Purge-Secret"
# Keys of pages that keep to the general generation, and of every public page.
LIST_KEY = "list"
SITE_KEY = "site"
# Keys in one PURGE request: a header of a few kilobytes at most (proxies limit them).
KEYS_PER_REQUEST = 100
# A purge is part of a publication: a front cache that does not answer soon is retried
# later (reports/caching.py), not waited for.
TIMEOUT_SECONDS = 3.0

BACKENDS = {
    "none": "factually.frontcache.NoFrontCache",
    "varnish": "factually.frontcache.VarnishBackend",
}


class PurgeFailed(Exception):
    """A front cache did not confirm a purge: its pages may still be served."""


def page_key(name: str) -> str:
    """The key of the pages with the own counter `name` (a report's: its slug)."""
    return f"page-{name}"


def object_key(kind: str, ident) -> str:
    """The key of the pages showing one object: `object_key("topic", "health")`."""
    return f"{kind}-{ident}"


def page_keys(*, own_counter: str | None, shows: Iterable[str] | None = None) -> str:
    """The `xkey` header value of a public page: `site`, `page-<own_counter>` if it has
    one, and the keys of what it `shows` (by default, without an own counter: the lists)."""
    keys = [SITE_KEY]
    if own_counter is not None:
        keys.append(page_key(own_counter))
    if shows is None:
        shows = [] if own_counter is not None else [LIST_KEY]
    keys.extend(shows)
    return " ".join(dict.fromkeys(keys))


class NoFrontCache:
    """No front cache: pages are served by the app alone; nothing to purge."""

    enabled = False

    def purge(self, keys: Iterable[str]) -> None:
        return None


class VarnishBackend:
    """Varnish with deploy/varnish.vcl: PURGE by surrogate key to every configured URL."""

    enabled = True

    def __init__(self, urls: Iterable[str], secret: str):
        self.urls = list(urls)
        self.secret = secret

    def purge(self, keys: Iterable[str]) -> None:
        keys = sorted(set(keys))
        failures = []
        with httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False) as client:
            for url in self.urls:  # every front cache is tried, even after one failed
                for start in range(0, len(keys), KEYS_PER_REQUEST):
                    batch = " ".join(keys[start : start + KEYS_PER_REQUEST])
                    headers = {PURGE_KEYS_HEADER: batch, SECRET_HEADER: self.secret}
                    try:
                        response = client.request("PURGE", url, headers=headers)
                    except httpx.HTTPError as error:
                        failures.append(f"{url}: {error.__class__.__name__}: {error}")
                        continue
                    if response.status_code != 200:
                        failures.append(f"{url}: answered {response.status_code}")
        if failures:
            raise PurgeFailed("; ".join(failures))


def backend():
    """The configured purge backend."""
    name = settings.FACTUALLY_FRONT_CACHE_BACKEND
    if name == "none":
        return NoFrontCache()
    cls = import_string(BACKENDS.get(name, name))
    return cls(settings.FACTUALLY_FRONT_CACHE_URLS, settings.FACTUALLY_FRONT_CACHE_SECRET)


def enabled() -> bool:
    """Whether a front cache is configured (purges are recorded and sent)."""
    return backend().enabled


def purge(keys: Iterable[str]) -> None:
    """Drop from the front cache every page carrying any of `keys`; `PurgeFailed` unless
    every front cache confirmed."""
    keys = list(keys)
    if keys:
        backend().purge(keys)
