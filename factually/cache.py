"""A Redis cache that an outage cannot take the site down with: unreachable means empty.

Django's `RedisCache` raises as soon as Redis cannot be reached, which would turn every
page that reads the cache into an error. `TolerantRedisCache` (used whenever `CACHE_URL`
is ``redis://…``, see settings) treats a connection error or timeout as a miss: reads give
the default, writes do nothing, `incr` raises `ValueError` as for a missing key. The site
keeps serving from the database, slower. One warning is logged per outage, and for a few
seconds after a failure Redis is not tried at all, so a dead or hung server costs each
request nothing rather than a timeout per call. `/healthz` reports the cache as down then.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# How long Redis is left alone after it failed, in seconds.
RETRY_AFTER = 5.0
# Defaults for the connection, so a hung server fails fast (OPTIONS in CACHES override them).
CONNECTION_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# When each Redis location may be tried again; shared by every thread's backend instance.
_down_until: dict[str, float] = {}
_lock = threading.Lock()
# Outages seen by this process: factually/pagecache.py compares it to retry what the cache missed.
_outages = 0


def outages() -> int:
    """How many times this process found Redis unreachable (after having reached it)."""
    return _outages


def _tolerant(on_failure):
    """Run the wrapped method, or answer as an empty cache would if Redis is unreachable."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < _down_until.get(self.location, 0.0):
                return on_failure(*args, **kwargs)  # it failed moments ago: not tried
            try:
                result = method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self._failed(error)
                return on_failure(*args, **kwargs)
            if self.location in _down_until:
                self._recovered()
            return result

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _missing(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found (the cache is unreachable).")


def _constant(value):
    return lambda *args, **kwargs: value


class ReusedClients(RedisCacheClient):
    """Django's Redis client, keeping one `redis.Redis` per connection pool.

    Django builds a new `redis.Redis` for every call, which costs more CPU than the GET of
    a cached page itself (redis-py 8 fills a table of ~170 response callbacks each time).
    A `redis.Redis` holds no connection of its own, so one per pool is safe to reuse.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TolerantRedisCache(RedisCache):
    """`RedisCache`, except that an unreachable Redis behaves as an empty cache."""

    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**CONNECTION_OPTIONS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self._class = ReusedClients
        self.location = ",".join(self._servers)

    def _failed(self, error: Exception) -> None:
        global _outages
        with _lock:
            first = self.location not in _down_until
            _outages += first
            _down_until[self.location] = time.monotonic() + RETRY_AFTER
        if first:
            logger.warning(
                "The cache at %s is unreachable (%s): serving without it.", self.location, error
            )

    def _recovered(self) -> None:
        with _lock:
            if _down_until.pop(self.location, None) is not None:
                logger.warning("The cache at %s is reachable again.", self.location)

    add = _tolerant(_constant(False))(RedisCache.add)
    get = _tolerant(_default)(RedisCache.get)
    set = _tolerant(_constant(None))(RedisCache.set)
    touch = _tolerant(_constant(False))(RedisCache.touch)
    delete = _tolerant(_constant(False))(RedisCache.delete)
    get_many = _tolerant(lambda *args, **kwargs: {})(RedisCache.get_many)
    has_key = _tolerant(_constant(False))(RedisCache.has_key)
    incr = _tolerant(_missing)(RedisCache.incr)
    set_many = _tolerant(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    delete_many = _tolerant(_constant(None))(RedisCache.delete_many)
    clear = _tolerant(_constant(False))(RedisCache.clear)
