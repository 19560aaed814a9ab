"""The one way the server fetches a URL that a user gave: refuse anything but the public web.

A source's URL is typed by whoever edits it, so fetching it from the server could reach
the server's own network (the database, a cloud metadata service, an admin console on
loopback). Every such fetch goes through `guarded_client` and `fetch`:

- only http and https URLs, without credentials, are requested, on every hop;
- redirects are followed here, one hop at a time, at most `MAX_REDIRECTS`;
- every connection resolves its host once, refuses it unless EVERY address it resolves to is
  public (`is_public_address`), and then connects to one of those vetted addresses. The
  address checked is the address connected to, so a name that answers with a public
  address to the check and a private one to the connection (DNS rebinding) gets nowhere.

`settings.FACTUALLY_ALLOW_PRIVATE_FETCH` lifts the address rule (never the scheme rule) for
tests and local demos, whose servers listen on loopback. Refusals say only "blocked
address" or which schemes are allowed: never the addresses a name resolved to.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator

import httpcore
import httpx
from django.conf import settings

MAX_REDIRECTS = 10
SCHEMES = frozenset({"http", "https"})

# IPv6 prefixes that carry an IPv4 address a gateway may forward to: NAT64's well-known one.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_LIMITS = httpx.Limits()


class RefusedURL(Exception):
    """A URL the server will not fetch; its message is safe to show to anyone."""


class BlockedAddress(RefusedURL):
    def __init__(self):
        super().__init__("blocked address")


class UnsupportedURL(RefusedURL):
    def __init__(self):
        super().__init__("only http and https URLs without a user name or password are fetched")


def is_public_address(address: str) -> bool:
    """Whether `address` (an IP literal, as a resolver returns it) is on the public internet.

    Public means `is_global` and not multicast, for the address and for any IPv4 address
    embedded in it (IPv4-mapped, 6to4, Teredo, NAT64), which a host or gateway would reach.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        candidates += [e for e in embedded if e is not None]
    return all(c.is_global and not c.is_multicast for c in candidates)


def vetted_addresses(host: str, port: int) -> list[tuple]:
    """Resolve `host` once; its addresses (getaddrinfo tuples) if all may be fetched.

    Raises BlockedAddress if any of them is not public (unless the setting allows it).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"could not resolve the host: {exc}") from None
    if not infos:
        raise httpcore.ConnectError("could not resolve the host")
    if not settings.FACTUALLY_ALLOW_PRIVATE_FETCH and not all(
        is_public_address(info[4][0]) for info in infos
    ):
        raise BlockedAddress()
    return infos


def fetchable_url(url: httpx.URL | str) -> httpx.URL:
    """`url` parsed, if its form may be fetched (scheme, no credentials, a host)."""
    try:
        url = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UnsupportedURL() from None
    if url.scheme not in SCHEMES or url.userinfo or not url.host:
        raise UnsupportedURL()
    return url


class _VettingBackend(httpcore.SyncBackend):
    """Connects only to addresses that `vetted_addresses` passed, resolving each host once."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        error: Exception | None = None
        for *_, sockaddr in vetted_addresses(host, port):
            try:
                # A literal address: create_connection resolves nothing more.
                return super().connect_tcp(
                    sockaddr[0],
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:  # Try the next address, as browsers do.
                error = exc
        raise error


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through `_VettingBackend`."""

    def __init__(self, *, limits: httpx.Limits = _DEFAULT_LIMITS):
        super().__init__(limits=limits)
        # httpx offers no public way to pass a network backend; httpcore does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_VettingBackend(),
        )


def guarded_client(
    *, timeout: float, headers: dict | None = None, limits: httpx.Limits = _DEFAULT_LIMITS
) -> httpx.Client:
    """A client for user-given URLs; use it through `fetch`, which follows redirects."""
    return httpx.Client(
        transport=GuardedTransport(limits=limits),
        timeout=timeout,
        headers=headers,
        follow_redirects=False,
        # No proxy from the environment: the address vetted must be the one connected to.
        trust_env=False,
    )


@contextlib.contextmanager
def fetch(client: httpx.Client, method: str, url: str) -> Iterator[httpx.Response]:
    """`method` on `url` with a `guarded_client`, following redirects hop by hop.

    Every hop is checked (`fetchable_url`) and connected to through the vetting backend. The
    response is streamed: the body is read only if the caller reads it, and closed on exit.
    Raises RefusedURL, httpx.TooManyRedirects, or httpx's errors.
    """
    request = client.build_request(method, fetchable_url(url))
    for _ in range(MAX_REDIRECTS + 1):
        response = client.send(request, stream=True)
        if response.next_request is None:
            try:
                yield response
            finally:
                response.close()
            return
        response.close()
        request = response.next_request
        fetchable_url(request.url)
    raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)
