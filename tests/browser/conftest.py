"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Fixtures, for tests under tests/browser:

- `page`: a fresh Playwright page (own context: no cookies shared between tests) whose
  `base_url` is the live server, so `page.goto("/admin/")` works; actions and `expect`
  wait at most 10 s. Requesting it starts the live server and gives the test a
  transactional database, as the server's thread must see what the test creates.
- `page_errors`: everything the page complained about (console errors, uncaught
  exceptions, Content-Security-Policy violations), as strings; assert it is empty.
  The 404 for /favicon.ico, which Chromium asks every site for, is left out.
- `browser`: the Chromium instance, for tests that need several contexts (two users).
- `serve_pages`: serves given HTML pages on loopback from a thread, as publishers would
  (tests that fetch them enable FACTUALLY_ALLOW_PRIVATE_FETCH).

Helpers for the report editor's source finder: `source_finder(page)`, `search_and_pick(...)`.

Every test here is marked `browser` (skip them with `-m "not browser"`) and runs with
`django_db(transaction=True, serialized_rollback=True)`: the live server needs committed
data, and serialized rollback puts back what the migrations seeded (verdicts, groups, the
methodology page) after each test's flush.
"""

from __future__ import annotations

import contextlib
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

# The live server listens on IPv4 loopback, not whatever "localhost" resolves to.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

_HERE = Path(__file__).parent

# Reports every Content-Security-Policy violation to the console, where `page_errors`
# reads it. Playwright injects init scripts past the page's CSP.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if item.get_closest_marker("django_db") is None:
                item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for all browser tests, stopped once they are done.

    While Playwright's sync API is started it keeps an asyncio loop running in this thread.
    Django then sees "async" code: its ORM raises SynchronousOnlyOperation (allowed here,
    for as long as Playwright runs), and it looks database connections up per async
    context rather than per thread, which would give the tests fresh connections that
    lack what the test database set-up left on the thread's own (the data serialized
    rollback restores). So the thread's connections are handed on. Package scope stops
    Playwright before the rest of the suite runs.
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}: `make test` installs it "
            "(apt-get install chromium), or skip them with -m 'not browser'.",
            pytrace=False,
        )
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    thread_connections = {alias: connections[alias] for alias in connections}
    allowed_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        for alias, connection in thread_connections.items():
            connections[alias] = connection
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if allowed_before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser, live_server, page_errors):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda m: _is_error(m) and page_errors.append(_describe(m)))
    page.on("pageerror", lambda error: page_errors.append(f"uncaught: {error}"))
    yield page
    context.close()


def _is_error(message) -> bool:
    # Chromium asks every site for /favicon.ico, which this one does not have (yet).
    location = message.location or {}
    return message.type == "error" and not location.get("url", "").endswith("/favicon.ico")


def _describe(message) -> str:
    location = message.location or {}
    where = location.get("url", "")
    return f"{message.text} ({where})" if where else message.text


@pytest.fixture
def serve_pages():
    """`serve_pages({"/path": b"<html>..."})` returns the base URL of a loopback server.

    `host` may be another loopback address (127.0.0.2) for a second publisher's site.
    """
    with contextlib.ExitStack() as servers:

        def serve(pages: dict[str, bytes], host: str = "127.0.0.1") -> str:
            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):  # noqa: N802 - the http.server API
                    body = pages.get(self.path)
                    self.send_response(200 if body is not None else 404)
                    body = body if body is not None else b"Not found"
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args):
                    pass

            server = servers.enter_context(serving(ThreadingHTTPServer((host, 0), Handler)))
            return f"http://{host}:{server.server_address[1]}"

        yield serve


def source_finder(page):
    """The report editor's source finder dialog."""
    return page.get_by_role("dialog", name="Cite a source")


def search_and_pick(page, words: str, title: str) -> None:
    """Type `words` in the open finder and cite the source titled `title`."""
    from playwright.sync_api import expect

    dialog = source_finder(page)
    dialog.get_by_label("Find a source").fill(words)
    dialog.get_by_role("button", name=f"Cite “{title}”").click()
    expect(dialog).to_be_hidden()
