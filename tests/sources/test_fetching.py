"""The guard on fetching user-given URLs (sources.fetching), tried as an attacker would.

A curator (or anyone who can edit a source) types a URL that points into the server's own
network; the link checker must not request it. Every request goes to a server started here
on 127.0.0.1. Host names resolve through a stub of socket.getaddrinfo (the resolver
boundary) where a test needs a name to answer with given addresses; nothing else is faked.

With `FACTUALLY_ALLOW_PRIVATE_FETCH` off nothing on loopback may be reached, so the tests of
what happens after a first hop (redirects, rebinding) let exactly 127.0.0.1 count as public
(`loopback_stands_in_for_the_internet`): the test server plays a public site, and every
other address still goes through the real rule.
"""

from __future__ import annotations

import collections
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from reports import roles
from sources import fetching, linkcheck
from sources.models import Source
from tests.conftest import make_source, make_user, serving

BLOCKED = "blocked address"
UNSUPPORTED = "only http and https URLs without a user name or password are fetched"


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: collections.Counter = collections.Counter()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def handle_error(self, request, client_address):
        pass


class Handler(BaseHTTPRequestHandler):
    """/to?location=X redirects (302) to X; /loop redirects to itself; anything else is 200."""

    server: Site

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        parts = urlsplit(self.path)
        self.server.hits[parts.path] += 1
        location = {"/to": parse_qs(parts.query).get("location", [""])[0], "/loop": "/loop"}
        self.send_response(302 if parts.path in location else 200)
        if parts.path in location:
            self.send_header("Location", location[parts.path])
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD


@pytest.fixture
def site():
    with serving(Site()) as server:
        yield server


@pytest.fixture(autouse=True)
def production_rule(settings):
    """The production setting, whatever the environment of the test run says."""
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = False


class Resolver(dict):
    """Host name → the addresses it resolves to (or a function of the lookup's number)."""

    def __init__(self):
        super().__init__()
        self.lookups: collections.Counter = collections.Counter()


@pytest.fixture
def resolver(monkeypatch) -> Resolver:
    """Make names resolve to given addresses: `resolver["name"] = ["10.0.0.1", ...]`.

    Lookups of names not given (IP literals among them) go to the real resolver.
    """
    answers = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        answers.lookups[host] += 1
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        addresses = answers[host]
        if callable(addresses):
            addresses = addresses(answers.lookups[host] - 1)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def loopback_stands_in_for_the_internet(monkeypatch):
    real = fetching.is_public_address
    monkeypatch.setattr(
        fetching, "is_public_address", lambda address: address == "127.0.0.1" or real(address)
    )


def check(*urls: str) -> list[Source]:
    sources = [make_source(url=url) for url in urls]
    linkcheck.check_sources(
        Source.objects.filter(pk__in=[s.pk for s in sources]), timeout=0.5, retries=0
    )
    for source in sources:
        source.refresh_from_db()
    return sources


def get(url: str) -> int:
    """GET `url` through the guard; the status code."""
    with fetching.guarded_client(timeout=1) as client, fetching.fetch(client, "GET", url) as r:
        return r.status_code


# The rule on addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "192.0.2.1",  # documentation
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2001:db8::1",
        "not an address",
    ],
)
def test_addresses_outside_the_public_internet_are_refused(address):
    assert not fetching.is_public_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address):
    assert fetching.is_public_address(address)


# Attacks through the link checker


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1:{port}/ok", BLOCKED),
        ("http://localhost:{port}/ok", BLOCKED),
        ("http://[::1]:{port}/ok", BLOCKED),
        ("http://[::ffff:127.0.0.1]:{port}/ok", BLOCKED),
        ("http://2130706433:{port}/ok", BLOCKED),  # 127.0.0.1 as one decimal number
        ("http://0x7f.1:{port}/ok", BLOCKED),
        ("http://127.1:{port}/ok", BLOCKED),
        ("http://0177.0.0.1:{port}/ok", UNSUPPORTED),  # octal: not a URL httpx accepts
        # Saving a source drops credentials; the host left is still checked.
        ("http://user:secret@127.0.0.1:{port}/ok", BLOCKED),
        ("http://public.example@127.0.0.1:{port}/ok", BLOCKED),
        ("file:///etc/passwd", UNSUPPORTED),
        ("ftp://127.0.0.1:{port}/ok", UNSUPPORTED),
        ("gopher://127.0.0.1:{port}/_GET%20/ok", UNSUPPORTED),
    ],
)
def test_the_link_checker_never_requests_the_servers_own_network(site, url, error):
    (source,) = check(url.format(port=site.port))

    assert site.hits == {}
    assert (source.link_error, source.link_status_code, source.link_final_url) == (error, None, "")
    assert source.link_failures == 1


@pytest.mark.django_db
def test_a_public_looking_name_that_resolves_to_loopback_is_refused(site, resolver):
    resolver["news.example"] = ["127.0.0.1"]

    (source,) = check(site.url("/ok", host="news.example"))

    assert site.hits == {}
    assert source.link_error == BLOCKED


@pytest.mark.django_db
def test_every_address_a_name_resolves_to_is_checked(site, resolver):
    resolver["mixed.example"] = ["93.184.215.14", "10.0.0.1"]

    (source,) = check("http://mixed.example/")

    assert source.link_error == BLOCKED  # refused before connecting to either


@pytest.mark.django_db
def test_the_archive_url_goes_through_the_same_guard(site):
    source = make_source(url="https://example.org/", archive_url=site.url("/archived"))
    source.url = site.url("/ok", host="localhost")
    source.save()

    check_all = Source.objects.filter(pk=source.pk)
    linkcheck.check_sources(check_all, timeout=0.5, retries=0)

    source.refresh_from_db()
    assert site.hits == {}
    assert (source.link_error, source.archive_error) == (BLOCKED, BLOCKED)


# Redirects: every hop is checked


@pytest.mark.django_db
def test_a_redirect_from_a_public_site_into_the_private_network_is_not_followed(
    site, resolver, loopback_stands_in_for_the_internet
):
    # Connecting would reach the test server through 127.0.0.1, but the name also answers
    # with a private address: the hop is refused before any connection.
    resolver["intranet.example"] = ["127.0.0.1", "10.0.0.5"]
    private = site.url("/secret", host="intranet.example")

    (source,) = check(site.url(f"/to?location={private}"))

    assert site.hits == {"/to": 1}
    assert "/secret" not in site.hits
    assert source.link_error == BLOCKED


@pytest.mark.django_db
@pytest.mark.parametrize(
    "location",
    ["ftp://127.0.0.1:{port}/ok", "file:///etc/passwd", "http://user:pw@127.0.0.1:{port}/ok"],
)
def test_a_redirect_to_another_scheme_or_with_credentials_is_not_followed(
    site, location, loopback_stands_in_for_the_internet
):
    (source,) = check(site.url("/to?location=" + location.format(port=site.port)))

    assert site.hits == {"/to": 1}
    assert source.link_error == UNSUPPORTED


@pytest.mark.django_db
def test_redirects_are_followed_hop_by_hop_to_the_end(site, resolver, settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = True
    resolver["second.example"] = ["127.0.0.1"]
    second = site.url("/to?location=/ok", host="second.example")

    (source,) = check(site.url(f"/to?location={second}"))

    assert source.link_status_code == 200
    assert source.link_final_url == site.url("/ok", host="second.example")
    assert site.hits == {"/to": 2, "/ok": 1}
    # The new host was resolved (and vetted) for each of its two connections (HTTP/1.0).
    assert resolver.lookups["second.example"] == 2


@pytest.mark.django_db
def test_redirects_stop_after_the_hop_limit(site, settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = True

    (source,) = check(site.url("/loop"))

    assert source.link_error.startswith("TooManyRedirects")
    assert site.hits["/loop"] == fetching.MAX_REDIRECTS + 1


# DNS rebinding


@pytest.mark.django_db
def test_the_address_checked_is_the_address_connected_to(
    site, resolver, loopback_stands_in_for_the_internet
):
    # Public-looking to the first lookup, private to any later one: a guard that checks the
    # name and then lets the connection resolve it again would connect to 10.0.0.9.
    resolver["rebind.example"] = lambda n: ["127.0.0.1"] if n == 0 else ["10.0.0.9"]

    (source,) = check(site.url("/ok", host="rebind.example"))

    assert resolver.lookups["rebind.example"] == 1
    assert (source.link_status_code, source.link_error) == (200, "")
    assert site.hits == {"/ok": 1}


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@127.0.0.1/",
        "http://public.example@127.0.0.1/",
        "https://:pw@example.org/",
        "file:///etc/passwd",
        "ftp://example.org/",
        "gopher://example.org/",
        "javascript:alert(1)",
        "//example.org/",
        "http:///nohost",
    ],
)
def test_urls_other_than_plain_http_and_https_are_refused_before_any_lookup(url, resolver):
    with pytest.raises(fetching.UnsupportedURL):
        get(url)

    assert not resolver.lookups


def test_the_setting_lifts_the_address_rule_only(site, settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = True
    with fetching.guarded_client(timeout=1) as client:
        with fetching.fetch(client, "GET", site.url("/ok")) as response:
            assert response.status_code == 200
        with (
            pytest.raises(fetching.UnsupportedURL),
            fetching.fetch(client, "GET", f"ftp://127.0.0.1:{site.port}/ok"),
        ):
            pass


def test_the_guard_ignores_proxies_from_the_environment(site, monkeypatch):
    # A proxy would be the address connected to, and the URL's host never checked.
    monkeypatch.setenv("HTTP_PROXY", site.url("/"))
    monkeypatch.setenv("ALL_PROXY", site.url("/"))
    with pytest.raises(fetching.BlockedAddress):
        get("http://[::1]:9/")
    assert site.hits == {}


# What curators see


@pytest.mark.django_db
def test_curators_see_blocked_address_and_nothing_about_what_the_name_resolved_to(
    client, site, resolver
):
    make_user("curator", roles.SOURCE_CURATOR)
    resolver["intranet.example"] = ["10.20.30.40"]
    source = make_source(
        title="Internal",
        url="http://intranet.example/admin",
        archive_url=site.url("/archive", host="localhost"),
    )
    login = client.post(
        "/admin/login/?next=/admin/",
        {"username": "curator", "password": "correct horse battery", "next": "/admin/"},
    )
    assert login.status_code == 302

    response = client.post(
        reverse("admin:sources_source_changelist"),
        {"action": "check_links_now", "_selected_action": [source.pk]},
        follow=True,
    )
    page = client.get(reverse("admin:sources_source_change", args=[source.pk]))

    assert [str(m) for m in response.context["messages"]] == [
        "Links checked: 1 checked, 0 live, 0 dead, 1 errors."
    ]
    content = page.content.decode()
    assert content.count(BLOCKED) == 2  # the link's and the archive's error
    for detail in ("10.20.30.40", "127.0.0.1", "::1", "Errno", "Traceback"):
        assert detail not in content.replace(source.archive_url, "")
    assert site.hits == {}
