"""When what the site depends on goes away: the database (503 page, /healthz) and Redis.

Most tests simulate the outage in-process: every new cursor fails as a refused connection
does, so anything that touches the database while the 503 page is made would fail too.
`test_the_site_survives_postgresql_going_away_and_recovers_by_itself` does it for real:
its own PostgreSQL cluster, an app server in a subprocess, the cluster stopped and started.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import httpx
import psycopg
import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from factually import cache as tolerant_cache
from factually import health
from reports.models import ReaderMessage
from tests.conftest import make_report, make_user, publish_now

FRIENDLY = "We’ll be back in a moment"
BASE_DIR = Path(__file__).resolve().parent.parent
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
DEAD_CACHE = {"default": {"BACKEND": "factually.cache.TolerantRedisCache", "LOCATION": DEAD_REDIS}}


# Views and a middleware that fail, for the tests that need them (@pytest.mark.urls).


def _raises(error):
    def view(request):
        raise error

    return view


urlpatterns = [
    path("fail/psycopg/", _raises(psycopg.OperationalError("server closed the connection"))),
    path("fail/interface/", _raises(InterfaceError("connection already closed"))),
    path("fail/other/", _raises(ValueError("a bug, not an outage"))),
    path("fine/", lambda request: HttpResponse("fine")),
    path("", include("factually.urls")),
]


class FailingAfterTheViewMiddleware:
    """A middleware whose own database access fails (as the session's save would)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.get_response(request)
        raise OperationalError("terminating connection due to administrator command")


@pytest.fixture(autouse=True)
def empty_page_cache():
    """Pages cached by earlier tests would be served instead of reaching the database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def redis_never_failed():
    """`factually.cache` remembers a failed Redis for a few seconds: forget it."""
    tolerant_cache._down_until.clear()
    yield
    tolerant_cache._down_until.clear()


@contextlib.contextmanager
def database_down():
    """Every new cursor fails, as with a PostgreSQL server that was stopped."""
    default = connections[DEFAULT_DB_ALIAS]
    error = default.Database.OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    )
    with mock.patch.object(default, "create_cursor", side_effect=error):
        yield


def assert_friendly_503(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Retry-After"] == str(health.RETRY_AFTER)
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert FRIENDLY in text
    assert "try again in a minute" in text
    # The headers of the middleware outside it still apply.
    assert response["X-Frame-Options"] == "DENY"


@pytest.fixture
def live(db):
    report = make_report()
    publish_now(report)
    return report


# /healthz


@pytest.mark.django_db
def test_healthz_says_everything_is_up_without_a_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "status": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_named_answers_head_and_refuses_writes(client):
    from django.urls import reverse

    assert reverse("healthz") == "/healthz"
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client):
    with database_down():
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "down", "cache": "ok", "status": "degraded"}
    assert response["Retry-After"] == str(health.RETRY_AFTER)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@override_settings(CACHES=DEAD_CACHE)
def test_healthz_says_degraded_but_answers_200_when_only_the_cache_is_down(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "down", "status": "degraded"}


@pytest.mark.django_db
def test_healthz_checks_the_replica_when_there_is_one(client, monkeypatch):
    monkeypatch.setattr(health, "has_replica", lambda: True)
    monkeypatch.setattr(health, "REPLICA", "default")  # the test database stands in for it

    assert client.get("/healthz").json() == {
        "database": "ok",
        "cache": "ok",
        "replica": "ok",
        "status": "ok",
    }


# The 503 page


def test_the_public_pages_answer_503_with_the_friendly_page_while_the_database_is_down(
    client, live
):
    with database_down():
        for url in ["/", "/reports/", live.get_absolute_url(), "/rating-scale/", "/about/"]:
            assert_friendly_503(client.get(url))

    # Back: the same client, nothing restarted.
    assert client.get(live.get_absolute_url()).status_code == 200


def test_the_admin_answers_503_too(editor_client):
    with database_down():
        assert_friendly_503(editor_client.get("/admin/"))

    assert editor_client.get("/admin/").status_code == 200


def test_the_503_page_needs_no_database():
    # No `db` mark: pytest-django refuses any query this would make.
    response = health.unavailable_response()

    assert response.status_code == 503
    assert FRIENDLY in response.content.decode()
    assert 'lang="en"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/fail/psycopg/", "/fail/interface/"])
def test_psycopg_errors_and_interface_errors_give_the_503_page(client, url):
    assert_friendly_503(client.get(url))


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_other_errors_are_not_passed_off_as_an_outage():
    client = Client(raise_request_exception=False)

    assert client.get("/fail/other/").status_code == 500


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_database_error_in_a_middleware_gives_the_503_page_too(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.FailingAfterTheViewMiddleware"]
    client = Client(raise_request_exception=False)

    assert_friendly_503(client.get("/fine/"))


def test_an_outage_is_logged_once_per_request_without_a_traceback(client, live, caplog):
    with database_down(), caplog.at_level(logging.ERROR, logger="factually.health"):
        client.get(live.get_absolute_url())

    [record] = [r for r in caplog.records if r.name == "factually.health"]
    assert "Database unavailable" in record.getMessage()
    assert "Connection refused" in record.getMessage()
    assert record.exc_info is None


def test_cached_public_pages_are_still_served_while_the_database_is_down(client, live, settings):
    settings.FACTUALLY_PAGE_CACHE_SECONDS = 300  # as in production (tests keep none)
    url = live.get_absolute_url()
    assert client.get(url).status_code == 200  # rendered, and kept in the page cache

    with database_down():
        cached = client.get(url)
        uncached = client.get(url + "?not-cached-yet=1")

    assert cached.status_code == 200
    assert cached["X-Factually-Cache"] == "hit"
    assert live.claim in cached.content.decode()
    assert_friendly_503(uncached)


# Redis going away


def test_a_redis_cache_url_gets_the_tolerant_backend():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "CACHE_URL": DEAD_REDIS},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "factually.cache.TolerantRedisCache"


@override_settings(CACHES=DEAD_CACHE)
def test_the_site_works_from_the_database_while_redis_is_down(client, live, caplog):
    source = live.references.first().source
    make_user("ana", is_superuser=True)

    with caplog.at_level(logging.WARNING):
        pages = [
            "/",
            "/reports/",
            "/reports/?q=claim",
            live.get_absolute_url(),
            f"/reports/{live.slug}.json",
            "/rating-scale/",
            source.get_absolute_url(),
            "/feeds/latest/rss/",
            "/sitemap.xml",
            "/methodology/",
        ]
        for url in pages:
            assert client.get(url).status_code == 200, url
        # Reader forms: the rate limit fails open.
        response = client.post(
            "/suggest/",
            {"claim": "The moon is made of cheese.", "claim_url": "", "message": "", "email": ""}
            | {"leave_empty": ""},
        )
        assert response.status_code == 302
        assert ReaderMessage.objects.filter(claim="The moon is made of cheese.").exists()
        # Staff log in: sessions live in the database.
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": "ana", "password": "correct horse battery"},
        )
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200

    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # One warning for the outage, not one per cache call.
    warnings = [r for r in caplog.records if r.name == "factually.cache"]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()


@pytest.fixture
def dead_redis():
    return tolerant_cache.TolerantRedisCache(DEAD_REDIS, {})


def test_an_unreachable_redis_is_an_empty_cache(dead_redis):
    assert dead_redis.get("key") is None
    assert dead_redis.get("key", "default") == "default"
    assert dead_redis.set("key", 1) is None
    assert dead_redis.add("key", 1) is False
    assert dead_redis.get_many(["a", "b"]) == {}
    assert dead_redis.has_key("key") is False
    assert dead_redis.delete("key") is False
    assert dead_redis.get_or_set("key", 5) == 5
    with pytest.raises(ValueError, match="not found"):
        dead_redis.incr("key")


def test_a_failed_redis_is_left_alone_for_a_few_seconds_then_tried_again(dead_redis):
    tries = []
    real_get = RedisCacheClient.get

    def counted(client, key, default):
        tries.append(key)
        return real_get(client, key, default)

    with mock.patch.object(RedisCacheClient, "get", counted):
        dead_redis.get("a")
        dead_redis.get("b")
        assert len(tries) == 1  # "b" did not wait for a connection to fail again
        tolerant_cache._down_until[DEAD_REDIS] = time.monotonic() - 1  # the seconds passed
        dead_redis.get("c")
        assert len(tries) == 2


def test_the_tolerant_backend_is_a_plain_redis_cache_while_redis_is_up():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    backend = tolerant_cache.TolerantRedisCache(
        "redis://127.0.0.1:6379/15", {"KEY_PREFIX": f"factually-test-{os.getpid()}"}
    )
    try:
        backend.set("key", {"a": 1}, 30)
        assert backend.get("key") == {"a": 1}
        assert backend.add("counter", 1) is True
        assert backend.incr("counter") == 2
    finally:
        backend.delete_many(["key", "counter"])


# The real thing: a PostgreSQL cluster of the test's own, stopped and started under the app.


def _postgres_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda folder: (
            int(Path(folder).parent.name) if Path(folder).parent.name.isdigit() else 0
        ),
    )
    for folder in reversed(folders):
        if os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    return None


INITDB, PG_CTL = _postgres_tool("initdb"), _postgres_tool("pg_ctl")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, on a free port, run as `postgres` if root."""

    def __init__(self):
        self.as_postgres: list[str] = []
        self.owner = None
        if os.geteuid() == 0:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("PostgreSQL refuses to run as root, and there is no postgres user")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        # Short: the socket's path must fit in 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="factually-pg-", dir="/tmp"))
        self.data, self.sockets = self.folder / "data", self.folder / "sock"
        self.sockets.mkdir()
        self.log = self.folder / "postgres.log"
        if self.owner is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, *args], check=True, capture_output=True, text=True, timeout=60
        )

    def create(self) -> None:
        self._run(INITDB, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(PG_CTL, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_CTL, "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# The app's settings: production ones, with static files unhashed (no collectstatic needed)
# and the page cache on, as in production.
APP_SETTINGS = """from tests.settings import *  # noqa: F403

FACTUALLY_PAGE_CACHE_SECONDS = 300
"""


def _app_environment(database_url: str, settings_folder: Path) -> dict:
    (settings_folder / "throwaway_settings.py").write_text(APP_SETTINGS)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_REPLICA_URL", "DEBUG", "CACHE_URL"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="throwaway_settings",
        PYTHONPATH=os.pathsep.join([str(settings_folder), str(BASE_DIR)]),
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="throwaway-cluster-test-" + "k" * 40,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        CONN_MAX_AGE="60",
        PYTHONUNBUFFERED="1",
    )
    return environment


def _start_app(environment: dict, port: int, log) -> subprocess.Popen:
    """gunicorn, one synchronous worker: one persistent connection, reused across requests."""
    if _has("gunicorn"):
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "factually.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--no-control-socket",
        ]
    else:
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=log, stderr=log)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _children(pid: int) -> str:
    """The processes `pid` started (gunicorn's worker): the same after recovery, no restart."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().strip()
    return ""


def _wait_for(check, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


@pytest.mark.skipif(
    INITDB is None or PG_CTL is None,
    reason="needs PostgreSQL's initdb and pg_ctl (a PostgreSQL machine) to start a cluster",
)
def test_the_site_survives_postgresql_going_away_and_recovers_by_itself():
    started = time.monotonic()
    cluster = ThrowawayCluster()
    app = None
    app_log = open(cluster.folder / "app.log", "w")  # noqa: SIM115 - closed in finally
    try:
        cluster.create()
        cluster.start()
        environment = _app_environment(cluster.url, cluster.folder)
        for command in (["migrate", "--no-input"], ["load_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env=environment,
                check=True,
                capture_output=True,
                timeout=90,
            )
        port = _free_port()
        app = _start_app(environment, port, app_log)
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        requests = iter(range(1_000_000))

        def page():
            # A new address each time: never served from the page cache, always the database.
            return http.get(f"/reports/?q=brain&n={next(requests)}")

        health_ok = _wait_for(
            lambda: (r := http.get("/healthz")).status_code == 200 and r,
            seconds=20,
            what="the app to start",
        )
        assert health_ok.json() == {"database": "ok", "cache": "ok", "status": "ok"}
        assert page().status_code == 200
        assert http.get("/").status_code == 200  # now in the page cache
        worker = _children(app.pid)

        # 1. The database restarts between two requests: the persistent connection is stale,
        # and CONN_HEALTH_CHECKS replaces it before use. Readers see nothing.
        cluster.stop()
        cluster.start()
        assert page().status_code == 200

        # 2. The database goes away: the friendly 503, and /healthz says what is down.
        cluster.stop()
        down = page()
        assert down.status_code == 503
        assert FRIENDLY in down.text
        assert down.headers["Retry-After"] == str(health.RETRY_AFTER)
        health_down = http.get("/healthz")
        assert health_down.status_code == 503
        assert health_down.json() == {"database": "down", "cache": "ok", "status": "degraded"}
        # A page already in the page cache is still served.
        cached = http.get("/")
        assert cached.status_code == 200
        assert cached.headers.get("X-Factually-Cache") == "hit"

        # 3. It comes back: pages again within a few seconds, the app untouched.
        cluster.start()
        back_at = time.monotonic()
        _wait_for(lambda: page().status_code == 200, seconds=5, what="pages after recovery")
        recovery = time.monotonic() - back_at
        assert http.get("/healthz").json() == {"database": "ok", "cache": "ok", "status": "ok"}
        assert app.poll() is None, "the app server stopped"
        assert _children(app.pid) == worker, "the app's worker was restarted"
        print(
            f"\nthrowaway cluster: recovered {recovery:.2f} s after the database came back; "
            f"test took {time.monotonic() - started:.1f} s"
        )
    finally:
        if app is not None:
            app.terminate()
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
        app_log.close()
        if sys.exc_info()[0] is not None:
            for name in ("app.log", "postgres.log"):
                with contextlib.suppress(OSError):
                    print(f"--- {name}\n" + (cluster.folder / name).read_text()[-3000:])
        cluster.remove()
