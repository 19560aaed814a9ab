"""Link checking (sources.linkcheck, manage.py check_source_links, the admin's link health).

Every request goes to a server started here on 127.0.0.1; `only_local_network` fails any
test that tries to reach anything else. The guard that keeps the checker off private
addresses (tests/sources/test_fetching.py) is lifted here, as for a local demo.
"""

from __future__ import annotations

import collections
import datetime
import io
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from reports import roles
from sources import fetching, linkcheck
from sources.linkcheck import CheckResult, next_link_state
from sources.models import Source
from tests.conftest import make_report, make_source, make_user, publish_now, serving

LIVE, DEAD, UNFIT, USURPED = (
    Source.UrlStatus.LIVE,
    Source.UrlStatus.DEAD,
    Source.UrlStatus.UNFIT,
    Source.UrlStatus.USURPED,
)
# Fast settings for tests: a short timeout and almost no pause between retries.
FAST = {"timeout": 0.5, "retries": 1, "backoff": 0.01}


# The test server


class LinkServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.hits: collections.Counter = collections.Counter()  # (method, path) -> count
        self.in_flight = 0
        self.max_in_flight = 0
        self.user_agents: list[str] = []
        self.overrides: dict[str, int] = {}  # path -> status code, set by a test

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def hits_on(self, path: str) -> int:
        return sum(n for (_, p), n in self.hits.items() if p == path)

    def handle_error(self, request, client_address):
        pass  # A client that gave up (timeout) leaves a broken pipe: expected here.


class Handler(BaseHTTPRequestHandler):
    """Routes: /ok, /redirect (301 → /ok), /missing (404), /error (500), /flaky (503 once,
    then 200), /slow (answers after 2 s), /reset (drops the connection), /no-head (HEAD 405,
    GET 200), /forbidden (403), /hold (200 after 0.15 s); any path in `overrides`."""

    server: LinkServer

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        self._handle()

    def do_GET(self):
        self._handle()

    def _handle(self):
        server, path = self.server, urlsplit(self.path).path
        with server.lock:
            server.hits[(self.command, path)] += 1
            hits = server.hits_on(path)
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            server.user_agents.append(self.headers.get("User-Agent", ""))
        released = False

        def release():
            # Before the client can see an answer, so its next request never overlaps this one.
            nonlocal released
            if not released:
                released = True
                with server.lock:
                    server.in_flight -= 1

        try:
            if path in server.overrides:
                return self._answer(server.overrides[path], release)
            if path == "/reset":
                release()
                # Linger 0: closing sends a TCP reset, not a polite end of stream.
                self.request.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.request.close()
                self.close_connection = True
                return None
            if path == "/slow":
                server.stopping.wait(2)
            if path == "/hold":
                server.stopping.wait(0.15)
            if path == "/redirect":
                return self._answer(301, release, location="/ok")
            if path == "/no-head" and self.command == "HEAD":
                return self._answer(405, release)
            if path == "/flaky" and hits == 1:
                return self._answer(503, release)
            code = {"/missing": 404, "/error": 500, "/forbidden": 403}.get(path, 200)
            return self._answer(code, release)
        finally:
            release()

    def _answer(self, code, release, location=None):
        body = b"" if self.command == "HEAD" else f"status {code}".encode()
        release()
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(f"status {code}")))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    with serving(LinkServer()) as server:
        yield server


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.FACTUALLY_ALLOW_PRIVATE_FETCH = True


@pytest.fixture(autouse=True)
def only_local_network(monkeypatch):
    """Refuse, and fail the test on, any request to anywhere but 127.0.0.1."""
    elsewhere = []
    handle_request = httpx.HTTPTransport.handle_request

    def guarded(self, request):
        if request.url.host not in {"127.0.0.1", ""}:  # no host: httpx refuses it itself
            elsewhere.append(str(request.url))
            raise httpx.ConnectError("tests reach 127.0.0.1 only", request=request)
        return handle_request(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded)
    yield
    assert not elsewhere, f"tests tried to reach {elsewhere}"


def refused_url() -> str:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def check(*sources, **options):
    queryset = Source.objects.filter(pk__in=[s.pk for s in sources])
    summary = linkcheck.check_sources(queryset, **{**FAST, **options})
    for source in sources:
        source.refresh_from_db()
    return summary


# The decision: a pure function of the current state and one result


def result(status_code=None, error=""):
    return CheckResult(
        url="https://example.org/", checked_at=timezone.now(), status_code=status_code, error=error
    )


@pytest.mark.parametrize(
    ("status", "failures", "outcome", "expected"),
    [
        (LIVE, 0, result(404), (LIVE, 1)),
        (LIVE, 1, result(error="ReadTimeout"), (LIVE, 2)),
        (LIVE, 2, result(500), (DEAD, 3)),
        (DEAD, 3, result(404), (DEAD, 4)),
        (DEAD, 7, result(200), (LIVE, 0)),
        (LIVE, 2, result(204), (LIVE, 0)),
        # Set by hand by curators: never changed, though failures are still counted.
        (UNFIT, 5, result(404), (UNFIT, 6)),
        (USURPED, 2, result(200), (USURPED, 0)),
        # The site turned the checker away: nothing learnt about the page.
        (LIVE, 2, result(403), (LIVE, 2)),
        (DEAD, 4, result(429), (DEAD, 4)),
    ],
)
def test_next_link_state(status, failures, outcome, expected):
    state = next_link_state(status, failures, outcome, dead_after=3)

    assert (state.url_status, state.link_failures) == expected


# Checking against the local server


@pytest.mark.django_db
def test_each_answer_is_recorded(server):
    paths = ["/ok", "/redirect", "/missing", "/error", "/no-head", "/reset", "/slow", "/forbidden"]
    sources = {path: make_source(url=server.url(path)) for path in paths}
    before = timezone.now()

    summary = check(*sources.values())

    recorded = {
        path: (s.link_status_code, s.link_final_url, s.link_error, s.link_failures)
        for path, s in sources.items()
    }
    assert recorded["/ok"] == (200, server.url("/ok"), "", 0)
    assert recorded["/redirect"] == (200, server.url("/ok"), "", 0)
    assert recorded["/missing"] == (404, server.url("/missing"), "HTTP 404 Not Found", 1)
    assert recorded["/error"] == (500, server.url("/error"), "HTTP 500 Internal Server Error", 1)
    assert recorded["/no-head"] == (200, server.url("/no-head"), "", 0)
    assert recorded["/reset"][:2] == (None, "")
    assert recorded["/reset"][2].startswith(("ReadError", "RemoteProtocolError"))
    assert recorded["/slow"][:2] == (None, "")
    assert recorded["/slow"][2].startswith("ReadTimeout")
    assert recorded["/forbidden"][0] == 403
    assert recorded["/forbidden"][3] == 0  # not counted
    assert all(s.link_checked_at >= before for s in sources.values())
    assert all(s.url_status == LIVE for s in sources.values())  # one failure is not death
    # Transient failures are retried (retries=1: two attempts); a 404 is not.
    assert server.hits_on("/error") == 2
    assert server.hits_on("/reset") == 2
    assert server.hits_on("/slow") == 2
    assert server.hits_on("/missing") == 1
    # HEAD refused: asked again with GET.
    assert server.hits[("HEAD", "/no-head")] == 1
    assert server.hits[("GET", "/no-head")] == 1
    assert str(summary) == "8 checked, 3 live, 0 dead, 5 errors"
    assert {ua.split(" ")[0] for ua in server.user_agents} == {"FactuallyLinkChecker/1.0"}
    assert re.fullmatch(r"FactuallyLinkChecker/1\.0 \(\+https://[^ ]+/\)", server.user_agents[0])


@pytest.mark.django_db
def test_a_transient_failure_that_recovers_on_retry_is_a_success(server):
    source = make_source(url=server.url("/flaky"))

    check(source)

    assert (source.link_status_code, source.link_error, source.link_failures) == (200, "", 0)
    assert server.hits_on("/flaky") == 2


@pytest.mark.django_db
def test_a_link_is_dead_only_after_failing_several_checks_in_a_row_and_live_again_on_success(
    server,
):
    source = make_source(url=server.url("/page"))
    server.overrides["/page"] = 404

    states = []
    for _ in range(3):
        check(source, dead_after=3)
        states.append((source.url_status, source.link_failures))
    server.overrides["/page"] = 200
    check(source, dead_after=3)
    states.append((source.url_status, source.link_failures))

    assert states == [(LIVE, 1), (LIVE, 2), (DEAD, 3), (LIVE, 0)]
    assert (source.link_status_code, source.link_error) == (200, "")


@pytest.mark.django_db
def test_a_success_resets_the_count_of_failures(server):
    source = make_source(url=server.url("/page"))
    for code in (404, 404, 200, 404, 404):
        server.overrides["/page"] = code
        check(source, dead_after=3)

    assert (source.url_status, source.link_failures) == (LIVE, 2)


@pytest.mark.django_db
def test_unfit_and_usurped_are_never_changed(server):
    unfit = make_source(url=server.url("/missing"), url_status=UNFIT)
    usurped = make_source(url=server.url("/ok"), url_status=USURPED)

    check(unfit, usurped, dead_after=1)

    assert (unfit.url_status, unfit.link_failures, unfit.link_status_code) == (UNFIT, 1, 404)
    assert (usurped.url_status, usurped.link_status_code) == (USURPED, 200)


@pytest.mark.django_db
def test_the_archive_url_is_checked_and_recorded_apart(server):
    source = make_source(url=server.url("/missing"), archive_url=server.url("/redirect"))
    broken = make_source(url=server.url("/ok"), archive_url=server.url("/error"))

    summary = check(source, broken, dead_after=1)

    assert (source.archive_status_code, source.archive_error) == (200, "")
    assert source.archive_checked_at is not None
    assert (source.url_status, source.link_status_code) == (DEAD, 404)
    assert not source.needs_attention  # readers still have the archive
    assert (broken.archive_status_code, broken.url_status) == (500, LIVE)
    assert (summary.archives_checked, summary.archive_errors) == (2, 1)
    assert str(summary) == "2 checked, 1 live, 1 dead, 0 errors"


@pytest.mark.django_db
def test_no_url_stops_the_run(server, monkeypatch):
    sources = [
        make_source(url="not a url"),
        make_source(url="ftp://127.0.0.1/file.pdf"),
        make_source(url=refused_url()),
        make_source(url=server.url("/boom")),
        make_source(url=server.url("/ok")),
    ]
    request = linkcheck._request

    def failing(client, url):
        if url.endswith("/boom"):
            raise RuntimeError("something nobody expected")
        return request(client, url)

    monkeypatch.setattr(linkcheck, "_request", failing)

    summary = check(*sources)

    invalid, ftp, refused, boom, ok = sources
    assert invalid.link_error == ftp.link_error == fetching.UnsupportedURL().args[0]
    assert refused.link_error.startswith("ConnectError")
    assert boom.link_error == "RuntimeError: something nobody expected"
    assert all(s.link_failures == 1 and s.link_checked_at for s in sources[:4])
    assert ok.link_status_code == 200
    assert str(summary) == "5 checked, 1 live, 0 dead, 4 errors"


@pytest.mark.django_db
def test_a_result_for_a_url_changed_during_the_check_is_not_recorded(server, monkeypatch):
    source = make_source(url=server.url("/missing"))
    record_link = linkcheck._record_link

    def edited_meanwhile(pk, checked, dead_after):
        Source.objects.filter(pk=pk).update(url=server.url("/moved"))
        return record_link(pk, checked, dead_after)

    monkeypatch.setattr(linkcheck, "_record_link", edited_meanwhile)

    summary = check(source, dead_after=1)

    assert (source.url, source.link_checked_at, source.url_status) == (
        server.url("/moved"),
        None,
        LIVE,
    )
    assert summary.checked == 0


@pytest.mark.django_db
@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_is_bounded(server, concurrency):
    sources = [
        make_source(url=server.url(f"/hold?n={n}"), archive_url=server.url(f"/hold?a={n}"))
        for n in range(3 * concurrency)
    ]

    started = time.monotonic()
    check(*sources, concurrency=concurrency)
    elapsed = time.monotonic() - started

    assert server.hits_on("/hold") == 6 * concurrency
    assert server.max_in_flight == concurrency  # never more; and with more than 1, overlapping
    assert elapsed < 6 * 0.15 + 1  # 6 rounds of 0.15 s, whatever the concurrency


# The command


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("check_source_links", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_the_command_checks_every_source_and_ends_with_a_summary(server):
    make_source(url=server.url("/ok"))
    make_source(url=server.url("/redirect"), archive_url=server.url("/ok"))
    make_source(url=server.url("/missing"))
    make_source(url=server.url("/error"))
    make_source(url=server.url("/dead-already"), url_status=DEAD, link_failures=3)
    server.overrides["/dead-already"] = 404

    lines = run("--timeout", "0.5", "--retries", "1", "--backoff", "0.01")

    assert lines[-1] == "5 checked, 2 live, 1 dead, 2 errors"
    assert lines[-2] == "Archive URLs: 1 checked, 0 not answering."
    assert Source.objects.filter(link_checked_at__isnull=True).count() == 0
    assert server.hits_on("/error") == 2


@pytest.mark.django_db
def test_the_command_marks_dead_after_the_given_number_of_failures(server):
    source = make_source(url=server.url("/missing"))

    run("--dead-after", "2", "--retries", "0")
    run("--dead-after", "2", "--retries", "0")

    source.refresh_from_db()
    assert (source.url_status, source.link_failures) == (DEAD, 2)


@pytest.mark.django_db
def test_the_command_checks_only_the_sources_asked_for(server):
    first, second, third = (make_source(url=server.url(f"/ok?{n}")) for n in range(3))
    recent = make_source(url=server.url("/ok?recent"), link_checked_at=timezone.now())
    stale = make_source(
        url=server.url("/ok?stale"), link_checked_at=timezone.now() - datetime.timedelta(days=8)
    )

    assert run("--source", str(first.pk), "--source", str(third.pk))[-1] == (
        "2 checked, 2 live, 0 dead, 0 errors"
    )
    second.refresh_from_db()
    assert second.link_checked_at is None

    # Not checked for 7 days: the stale one and the one never checked, not the recent one.
    assert run("--older-than", "7")[-1] == "2 checked, 2 live, 0 dead, 0 errors"
    for source in (recent, stale, second):
        source.refresh_from_db()
    assert recent.link_status_code is None
    assert stale.link_status_code == second.link_status_code == 200


@pytest.mark.django_db
def test_the_command_refuses_nonsense_options():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="concurrency"):
        run("--concurrency", "0")


# The admin


CHANGELIST = "admin:sources_source_changelist"


def listed(client, **params) -> set[str]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {source.title for source in response.context["cl"].result_list}


@pytest.mark.django_db
def test_the_admin_action_checks_the_selected_sources_and_reports_the_summary(
    server, editor_client
):
    ok = make_source(title="Fine", url=server.url("/ok"))
    missing = make_source(title="Gone", url=server.url("/missing"), link_failures=2)
    untouched = make_source(title="Not selected", url=server.url("/error"))

    response = editor_client.post(
        reverse(CHANGELIST),
        {"action": "check_links_now", "_selected_action": [ok.pk, missing.pk]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Links checked: 2 checked, 1 live, 1 dead, 0 errors."]
    for source in (ok, missing, untouched):
        source.refresh_from_db()
    assert ok.link_status_code == 200
    assert (missing.url_status, missing.link_status_code) == (DEAD, 404)
    assert untouched.link_checked_at is None


@pytest.mark.django_db
def test_the_admin_action_is_refused_without_the_change_permission(server, client):
    viewer = make_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(viewer)
    source = make_source(url=server.url("/ok"))

    page = client.get(reverse(CHANGELIST))
    response = client.post(
        reverse(CHANGELIST), {"action": "check_links_now", "_selected_action": [source.pk]}
    )

    assert page.status_code == 200
    assert "check_links_now" not in page.content.decode()
    assert response.status_code in {200, 302}
    source.refresh_from_db()
    assert source.link_checked_at is None
    assert server.hits_on("/ok") == 0


@pytest.mark.django_db
def test_source_curators_may_check_links(server, client):
    client.force_login(make_user("curator", roles.SOURCE_CURATOR))
    source = make_source(url=server.url("/ok"))

    client.post(reverse(CHANGELIST), {"action": "check_links_now", "_selected_action": [source.pk]})

    source.refresh_from_db()
    assert source.link_status_code == 200


@pytest.mark.django_db
def test_the_link_health_filters(editor_client):
    now = timezone.now()
    make_source(title="Healthy", link_checked_at=now - datetime.timedelta(days=1))
    make_source(title="Never checked")
    make_source(title="Failing", link_failures=1, link_checked_at=now)
    make_source(title="Dead, archived", url_status=DEAD, archive_url="https://archive.example/1")
    make_source(title="Dead", url_status=DEAD, link_checked_at=now - datetime.timedelta(days=40))
    make_source(title="Unfit", url_status=UNFIT, link_failures=4, link_checked_at=now)
    make_source(title="Old", link_checked_at=now - datetime.timedelta(days=100))

    assert listed(editor_client, link_health="dead") == {"Dead, archived", "Dead"}
    assert listed(editor_client, link_health="failing") == {"Failing"}
    assert listed(editor_client, link_health="never") == {"Never checked", "Dead, archived"}
    assert listed(editor_client, link_health="30") == {"Dead", "Old"}
    assert listed(editor_client, link_health="90") == {"Old"}
    assert listed(editor_client, needs_attention="yes") == {"Dead"}
    assert "Dead" not in listed(editor_client, needs_attention="no")
    assert len(listed(editor_client, needs_attention="no")) == 6


@pytest.mark.django_db
def test_the_list_flags_sources_needing_attention(editor_client):
    make_source(title="Dead", url_status=DEAD)

    response = editor_client.get(reverse(CHANGELIST))

    content = response.content.decode()
    assert "needs attention" in content.lower()
    assert 'alt="True"' in content  # the boolean icon in the Dead source's row


@pytest.mark.django_db
def test_the_change_page_shows_link_health_and_the_published_reports_citing_a_dead_source(
    editor_client,
):
    source = make_source(
        title="Dead and unarchived",
        url_status=DEAD,
        link_failures=3,
        link_status_code=404,
        link_error="HTTP 404 Not Found",
        link_checked_at=timezone.now(),
    )
    live, draft = make_report(claim="The live one"), make_report(claim="The draft")
    for report in (live, draft):
        report.references.filter(number=1).update(source=source)
    publish_now(live)

    response = editor_client.get(reverse("admin:sources_source_change", args=[source.pk]))

    content = response.content.decode()
    assert "Link health" in content
    assert "HTTP 404 Not Found" in content
    assert "Published reports citing this source" in content
    live_link = reverse("admin:reports_report_change", args=[live.pk])
    assert f'<a href="{live_link}">The live one</a>' in content
    assert "The draft" not in content


@pytest.mark.django_db
def test_curators_see_citing_reports_without_links_they_cannot_open(client):
    client.force_login(make_user("curator", roles.SOURCE_CURATOR))
    source = make_source(url_status=DEAD)
    live = make_report(claim="The live one")
    live.references.filter(number=1).update(source=source)
    publish_now(live)

    content = client.get(reverse("admin:sources_source_change", args=[source.pk])).content
    content = content.decode()

    assert "The live one" in content
    assert reverse("admin:reports_report_change", args=[live.pk]) not in content


@pytest.mark.django_db
def test_sources_without_a_url_are_skipped(server):
    book = make_source(url="", title="A book", isbn="9780306406157")
    page = make_source(url=server.url("/ok"))

    summary = check(book, page)

    assert str(summary) == "1 checked, 1 live, 0 dead, 0 errors"
    assert book.link_checked_at is None
    assert book.link_error == ""
    assert (book.link_status, page.link_status) == ("no URL", "Live")
    assert set(server.hits) == {("HEAD", "/ok")}
