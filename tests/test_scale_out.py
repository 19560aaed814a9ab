"""Several app servers: two gunicorn processes on one PostgreSQL database and one Redis.

Each test talks to both servers over real HTTP (httpx), as readers and staff would through a
load balancer that sends requests anywhere: what one server did, the other must know at once.

- A correction published through server A's admin is what server B shows next, even though
  B had the old page in the shared page cache.
- A session begun on A is valid on B (sessions live in the database, signed with the one
  SECRET_KEY).
- The reader-form rate limit counts across both (it lives in Redis): 5 submissions spread
  over A and B, and the 6th is refused on either.

The servers run `tests.scale_out_settings` against the pytest test database, with
CACHE_URL=redis://127.0.0.1:6379/13 under a key prefix of the module's own (its keys deleted
before and after each test; other suites and xdist workers keep theirs). Requests carry
`X-Forwarded-Proto: https`, as from the TLS-terminating load balancer of README "Deployment",
so the production cookie and CSRF rules apply. SQLite cannot be shared by two servers: the
tests are skipped on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection

from reports import roles, workflow
from reports.public import feedback
from tests.conftest import (
    delete_redis_keys,
    make_report,
    make_user,
    publish_now,
    redis_test_prefix,
    shown_approval,
)

PROJECT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/13"
# The servers' cache key prefix (tests/scale_out_settings.py), one per test process.
CACHE_PREFIX = redis_test_prefix()
PASSWORD = "correct horse battery"
START_TIMEOUT = 40  # seconds for a server to answer, on a busy machine

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# The servers ------------------------------------------------------------------------------


class AppServer:
    """gunicorn serving the project on a free loopback port; its output kept in a file."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        # The socket is bound here and handed to gunicorn: no race for the port.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.set_inheritable(True)
        self.port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        try:
            with log_path.open("wb") as output:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "factually.wsgi:application",
                        f"--bind=fd://{listener.fileno()}",
                        "--workers=1",
                        "--timeout=30",
                        "--graceful-timeout=2",
                        # The default control socket is one path for every gunicorn on the machine.
                        "--no-control-socket",
                    ],
                    cwd=PROJECT,
                    env=env,
                    pass_fds=[listener.fileno()],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        finally:
            listener.close()

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Server {self.name} exited.\n{self.log()}", pytrace=False)
            try:
                # 200 once the app answers and reaches the database (factually.health).
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"Server {self.name} did not start in {START_TIMEOUT} s.\n{self.log()}")

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return f"--- output of server {self.name} ({self.url}) ---\n{text[-6000:]}"

    def stop(self) -> None:
        """Stop gunicorn and its worker; whatever is left of the process group is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _database_url() -> str:
    """The pytest test database, as DATABASE_URL for the servers."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"


def _delete_cache_keys() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        delete_redis_keys(REDIS_URL, CACHE_PREFIX)
    except redis.RedisError as error:
        pytest.fail(f"These tests need Redis at {REDIS_URL}: {error}", pytrace=False)


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """Servers A and B on the test database and one Redis, stopped after the module."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "Two app servers need a database server to share: SQLite (the embedded default) "
            "is a file inside one server. Run with DATABASE_URL=postgres://…"
        )
    _delete_cache_keys()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.scale_out_settings",
        DEBUG="0",
        # One key for every server: it signs sessions and password-reset links.
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=_database_url(),
        CONN_MAX_AGE="0",
        CACHE_URL=REDIS_URL,
        FACTUALLY_TEST_CACHE_PREFIX=CACHE_PREFIX,
        FACTUALLY_TRUSTED_PROXY_COUNT="0",
        LOG_LEVEL="WARNING",
    )
    started = []
    try:
        for name in "AB":
            log_path = tmp_path_factory.mktemp("scale-out") / f"server-{name}.log"
            started.append(AppServer(name, env, log_path))
        for server in started:
            server.wait_until_ready()
        yield tuple(started)
    finally:
        for server in started:
            server.stop()
        _delete_cache_keys()


@pytest.fixture(autouse=True)
def _fresh_cache(servers):
    _delete_cache_keys()


def _failure_logs(servers) -> str:
    return "\n".join(server.log() for server in servers)


# Clients ----------------------------------------------------------------------------------


def browser(server: AppServer, cookies: dict[str, str] | None = None) -> httpx.Client:
    """A client for `server` as a browser behind the HTTPS load balancer would reach it.

    Production cookies are `Secure`, which httpx never sends over plain HTTP, so this client
    keeps its own: `client.cookie_store`, a name → value dict (pass one to share it).
    """
    store = {} if cookies is None else cookies

    def send(request: httpx.Request) -> None:
        if store:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in store.items())

    def keep(response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower().replace(" ", ""):
                store.pop(name, None)
            else:
                store[name] = value

    client = httpx.Client(
        base_url=server.url,
        headers={"X-Forwarded-Proto": "https"},
        event_hooks={"request": [send], "response": [keep]},
        timeout=30,
    )
    client.cookie_store = store
    return client


def _origin(server: AppServer) -> dict[str, str]:
    # Over HTTPS Django's CSRF check wants the form's origin, as browsers send it.
    return {"Origin": f"https://127.0.0.1:{server.port}"}


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def log_in(client: httpx.Client, server: AppServer, username: str) -> None:
    """Log in through the admin's login form, as a person would."""
    form = client.get("/admin/login/", params={"next": "/admin/"})
    assert form.status_code == 200, form.text[:500]
    response = client.post(
        "/admin/login/?next=/admin/",
        data={
            "username": username,
            "password": PASSWORD,
            "next": "/admin/",
            "csrfmiddlewaretoken": _csrf_token(form.text),
        },
        headers=_origin(server),
    )
    assert response.status_code == 302, f"{response.text[:2000]}\n{server.log()}"
    assert response.headers["Location"] == "/admin/"


# The tests --------------------------------------------------------------------------------


def test_a_correction_published_on_one_server_is_read_on_the_other_at_once(servers):
    server_a, server_b = servers
    reviewer = make_user("scale-reviewer", roles.REVIEWER)
    report = make_report(summary="The figure was quoted as twelve originalwording [1] [2].")
    publish_now(report)
    slug = report.versions.get(is_live=True).slug
    # Readers on B see the first version, which is now in the shared page cache.
    with browser(server_b) as reader:
        before = reader.get(f"/reports/{slug}/")
        assert before.status_code == 200, _failure_logs(servers)
        assert "originalwording" in before.text
        again = reader.get(f"/reports/{slug}/")
        assert again.headers.get("X-Factually-Cache", "hit") == "hit"
    # The editor's correction, in review.
    report.refresh_from_db()
    report.summary = "The figure was quoted as eleven correctedwording [1] [2]."
    report.save()
    workflow.submit(report, by=None)

    with browser(server_a) as staff:
        log_in(staff, server_a, reviewer.username)
        path = f"/admin/reports/report/{report.pk}/transition/publish/"
        form = staff.get(path)
        assert form.status_code == 200, form.text[:2000]
        published = staff.post(
            path,
            data={
                "note": "Corrected the figure: eleven, not twelve.",
                "kind": "correction",
                "csrfmiddlewaretoken": _csrf_token(form.text),
                **shown_approval(form.text),
            },
            headers=_origin(server_a),
        )
        assert published.status_code == 302, published.text[:3000] + _failure_logs(servers)
        assert published.headers["Location"] == f"/admin/reports/report/{report.pk}/change/"
        assert "Published version 2" in staff.get(published.headers["Location"]).text

    with browser(server_b) as reader:
        after = reader.get(f"/reports/{slug}/")
    assert after.status_code == 200, _failure_logs(servers)
    assert "correctedwording" in after.text
    assert "originalwording" not in after.text
    assert "Corrected the figure: eleven, not twelve." in after.text


def test_a_session_begun_on_one_server_is_valid_on_the_other(servers):
    server_a, server_b = servers
    reviewer = make_user("scale-session", roles.REVIEWER)
    with browser(server_a) as on_a:
        log_in(on_a, server_a, reviewer.username)
        session = on_a.cookie_store.get("sessionid")
    assert session
    # Only the session cookie goes to B: no CSRF cookie, nothing else from A.
    with browser(server_b, {"sessionid": session}) as on_b:
        response = on_b.get("/admin/")
        assert response.status_code == 200, response.headers.get("Location", "")
        assert "scale-session" in response.text  # "Welcome, scale-session."
    # Without the cookie B sends the visitor to its login page.
    with browser(server_b) as stranger:
        assert stranger.get("/admin/").status_code == 302


def _window() -> int:
    """The rate limit's current window (reports.public.feedback counts in fixed windows)."""
    return int(time.time() // feedback.RATE_WINDOW)


def _suggest(client: httpx.Client, server: AppServer, n: int) -> httpx.Response:
    """Suggest a claim through the form on `server`, every field sent as the page sends it."""
    form = client.get("/suggest/")
    assert form.status_code == 200, form.text[:500]
    return client.post(
        "/suggest/",
        data={
            "claim": f"Claim number {n} seen online.",
            "claim_url": "",
            "message": "",
            "email": "",
            "leave_empty": "",
            "csrfmiddlewaretoken": _csrf_token(form.text),
        },
        headers=_origin(server),
    )


def test_the_reader_form_rate_limit_counts_across_servers(servers):
    server_a, server_b = servers
    for _attempt in range(2):  # again if the test straddled the end of a counting window
        _delete_cache_keys()
        window = _window()
        # One reader's browser (one cookie jar) sent anywhere by the load balancer.
        jar: dict[str, str] = {}
        with browser(server_a, jar) as on_a, browser(server_b, jar) as on_b:
            answers = [
                _suggest(on_a if n % 2 else on_b, server_a if n % 2 else server_b, n).status_code
                for n in range(1, feedback.RATE_LIMIT + 1)
            ]
            sixth_on_b = _suggest(on_b, server_b, 6)
            sixth_on_a = _suggest(on_a, server_a, 7)
        if _window() == window:
            break
    assert answers == [302] * feedback.RATE_LIMIT, _failure_logs(servers)
    assert sixth_on_b.status_code == 429
    assert int(sixth_on_b.headers["Retry-After"]) > 0
    assert sixth_on_a.status_code == 429
