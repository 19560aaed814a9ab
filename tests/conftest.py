"""Shared fixtures and small factories for building reports and sources in tests."""

from __future__ import annotations

import contextlib
import datetime
import itertools
import os
import pickle
import threading
import uuid

import hypothesis
import pytest
from django.core.cache import caches
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

from factually import pagecache
from reports import roles, workflow
from reports.models import ChangeKind, FollowUpQuestion, Reference, Report, Section, Topic, Verdict
from sources.models import Publisher, Source

# The suite draws the same hypothesis examples on every run, so CI passes or fails on the
# code, not on luck. To hunt for new failures: HYPOTHESIS_PROFILE=explore (random examples).
hypothesis.settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

_sequence = itertools.count(1)

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


# Live servers on SQLite: the in-memory test database is one connection, which Django hands
# to every request thread of the live server. Two requests at once (htmx asking the source
# finder while the editor types) used it together and SQLite answered "bad parameter or other
# API misuse" (a 503 in a browser test, seen in CI). Requests, not connections (a browser
# keeps several open), take turns on it; the wait is bounded, so a request that calls the
# live server itself is slowed, never deadlocked.
SQLITE_TURN_SECONDS = 10


class _TakingTurnsOnSQLite(ThreadedWSGIServer):
    turn = threading.Lock()

    def set_app(self, application):
        if not self.connections_override:  # a database server: one connection per thread
            return super().set_app(application)

        def taking_turns(environ, start_response):
            took = self.turn.acquire(timeout=SQLITE_TURN_SECONDS)
            try:
                return application(environ, start_response)
            finally:
                if took:
                    self.turn.release()

        return super().set_app(taking_turns)


LiveServerThread.server_class = _TakingTurnsOnSQLite


def redis_test_prefix() -> str:
    """A cache key prefix of one test's own: tests on the shared Redis (other xdist workers,
    other suites on the machine) never see, or clear, each other's keys."""
    return f"factually-test-{uuid.uuid4().hex}"


def delete_redis_keys(url: str, prefix: str) -> None:
    """Delete the keys under `prefix` in the Redis database at `url` (a clear() would flush
    the whole database, other runs' keys with it)."""
    import redis

    raw = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        for key in raw.scan_iter(f"{prefix}:*"):
            raw.delete(key)
    finally:
        raw.close()


@pytest.fixture(autouse=True)
def _page_cache_never_failed():
    """A cache failure seen by an earlier test makes the next page lookup check for pending
    invalidations (factually/pagecache.py): each test starts as a process that saw none."""
    pagecache.forget_failures()
    yield
    pagecache.forget_failures()


@pytest.fixture
def page_cache(settings):
    """The page cache on (tests/settings.py turns it off), in a local memory of its own."""
    settings.CACHES = {"default": {"BACKEND": LOCMEM, "LOCATION": "test-caching"}}
    settings.FACTUALLY_PAGE_CACHE_SECONDS = 300
    pagecache._unavailable_until = 0.0
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()
    pagecache._unavailable_until = 0.0


def stored_pages(cache) -> list[bytes]:
    """The content of every page in the local-memory `page_cache`."""
    pages = []
    for key, value in cache._cache.items():
        if pagecache.PAGE_KEY_PREFIX in key:
            pages.append(pickle.loads(value)[-1])
    return pages


def make_publisher(**fields) -> Publisher:
    n = next(_sequence)
    fields.setdefault("name", f"Publisher {n}")
    fields.setdefault("domain", f"publisher{n}.example")
    return Publisher.objects.create(**fields)


def make_source(**fields) -> Source:
    n = next(_sequence)
    fields.setdefault("title", f"Source {n}")
    fields.setdefault("url", f"https://news{n}.example/articles/{n}")
    return Source.objects.create(**fields)


def make_report(
    *,
    sections: int = 2,
    references: int = 2,
    questions: int = 1,
    linked: bool = True,
    **fields,
) -> Report:
    """A report that passes every publish check unless told otherwise.

    Every paragraph cites all `references`; with `linked=False` they point at no source.
    """
    n = next(_sequence)
    markers = " ".join(f"[{i}]" for i in range(1, references + 1))
    fields.setdefault("claim", f"Claim number {n} is true.")
    fields.setdefault("slug", f"claim-{n}")
    fields.setdefault("verdict", Verdict.objects.get(slug="false"))
    fields.setdefault("checked_on", datetime.date(2026, 1, 27))
    fields.setdefault("summary", f"The summary of claim {n} {markers}.")
    fields.setdefault("conclusion_heading", "Conclusion: it is false")
    fields.setdefault("conclusion", f"So the claim is false {markers}.")
    report = Report.objects.create(**fields)
    for position in range(1, sections + 1):
        Section.objects.create(
            report=report,
            position=position,
            heading=f"Heading {position}",
            body=f"Body of section {position} {markers}.",
        )
    for number in range(1, references + 1):
        Reference.objects.create(
            report=report, number=number, source=make_source() if linked else None
        )
    for position in range(1, questions + 1):
        FollowUpQuestion.objects.create(
            report=report, position=position, question=f"What about question {position}?"
        )
    return report


def publish_now(report: Report, *, by=None, note: str = "", kind: str = ""):
    """Take `report` through review and publish it, as the system unless `by` is given.

    A report published before needs a change, a note and a kind, as in the newsroom.
    """
    if report.status != Report.Status.IN_REVIEW:
        workflow.submit(report, by=None)
    if report.versions.exists():
        note, kind = note or "Updated.", kind or ChangeKind.UPDATE
    return workflow.publish(report, by=by, note=note, kind=kind)


def make_topic(**fields) -> Topic:
    n = next(_sequence)
    fields.setdefault("name", f"Topic {n}")
    fields.setdefault("slug", f"topic-{n}")
    return Topic.objects.create(**fields)


def make_user(username: str, *roles: str, **fields):
    """A staff member holding the given newsroom roles (group names from reports.roles)."""
    from django.contrib.auth.models import Group, User

    fields.setdefault("is_staff", True)
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password="correct horse battery",
        **fields,
    )
    user.groups.set(Group.objects.filter(name__in=roles))
    return user


@pytest.fixture
def writer(db):
    """A member of the Editor group: drafts and submits, never publishes."""
    return make_user("writer", roles.EDITOR)


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", roles.REVIEWER)


@pytest.fixture
def second_reviewer(db):
    return make_user("second-reviewer", roles.REVIEWER)


@pytest.fixture
def curator(db):
    return make_user("curator", roles.SOURCE_CURATOR)


@pytest.fixture
def report(db) -> Report:
    return make_report()


@pytest.fixture
def editor(db, django_user_model):
    """A staff user with every permission: the newsroom before roles exist."""
    return django_user_model.objects.create_superuser(
        username="editor", email="editor@example.com", password="correct horse battery"
    )


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def shown_approval(response) -> dict:
    """The hidden fields of a publish or schedule page: what the reviewer was shown."""
    import re

    html = response.content.decode() if hasattr(response, "content") else response
    return {
        name: value.replace("&quot;", '"').replace("&amp;", "&")
        for name, value in re.findall(
            r'<input type="hidden" name="(seen_\w+)" value="([^"]*)"', html
        )
    }


@pytest.fixture
def no_internet(monkeypatch):
    """Requests to anywhere but 127.0.0.1 fail as an unreachable site would (pasted links
    are fetched: sources.pagemeta), so a test never depends on the internet."""
    import httpx

    handle_request = httpx.HTTPTransport.handle_request

    def local_only(self, request):
        if request.url.host != "127.0.0.1":
            raise httpx.ConnectError("tests reach 127.0.0.1 only", request=request)
        return handle_request(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", local_only)


def change_form_data(report: Report) -> dict:
    """Every field of the report change form, as the admin would post it back unchanged."""
    data = {
        "claim": report.claim,
        "slug": report.slug,
        "verdict": report.verdict_id or "",
        "checked_on": report.checked_on.isoformat() if report.checked_on else "",
        "topics": [t.pk for t in report.topics.all()],
        "author": report.author_id or "",
        "claimant": report.claimant,
        "claimant_type": report.claimant_type,
        "claim_date": report.claim_date.isoformat() if report.claim_date else "",
        "claim_url": report.claim_url,
        "summary": report.summary,
        "conclusion_heading": report.conclusion_heading,
        "conclusion": report.conclusion,
        "seen_version": report.edit_version,
    }
    if report.is_demo:
        data["is_demo"] = "on"
    for prefix, rows, fields in [
        ("sections", report.sections.all(), ["position", "heading", "body"]),
        ("references", report.references.all(), ["number", "source", "pinpoint"]),
        ("questions", report.questions.all(), ["position", "question", "answered_by"]),
    ]:
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = str(len(rows))
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-report"] = report.pk
            for name in fields:
                value = (
                    getattr(row, f"{name}_id", None)
                    if name in {"source", "answered_by"}
                    else getattr(row, name)
                )
                data[f"{prefix}-{i}-{name}"] = "" if value is None else value
    return data


@contextlib.contextmanager
def serving(server):
    """Serve `server` (an http.server server on loopback) from a thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        # Handlers that stream (a huge page, a slow reply) watch this to give up early.
        stopping = getattr(server, "stopping", None)
        if stopping is not None:
            stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


# Transactional tests and pytest-xdist ------------------------------------------------------


def _empties_the_database(item) -> bool:
    """Whether `item` runs as a TransactionTestCase, which empties every table as it ends."""
    if item is None:
        return False
    from pytest_django.plugin import validate_django_db

    marker = item.get_closest_marker("django_db")
    transactional, reset_sequences, *_ = validate_django_db(marker) if marker else (False, False)
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        transactional or reset_sequences or {"transactional_db", "live_server"} & set(fixtures)
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the migrations' data (verdicts, groups, content types, ...) back after a
    transactional test that an ordinary test follows.

    A transactional test ends with every table emptied; the next transactional test loads the
    data back as it starts, and pytest-django runs those tests after all others for that
    reason. pytest-xdist's --dist loadfile hands a worker whole files in its own order, so an
    ordinary test may come next: without this, it met empty tables (content type ids in
    Django's cache that no longer exist, no verdicts).
    """
    result = yield
    if _empties_the_database(item) and nextitem and not _empties_the_database(nextitem):
        _reload_migrated_data(item.config)
    return result


def _reload_migrated_data(config) -> None:
    from django.core.management import call_command
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with config.stash[blocking_manager_key].unblock():
        for alias in connections:
            connection = connections[alias]
            contents = getattr(connection, "_test_serialized_contents", None)
            if connection.settings_dict.get("TEST", {}).get("MIRROR") or contents is None:
                continue
            # As TransactionTestCase's own teardown and set-up do.
            call_command(
                "flush",
                database=alias,
                interactive=False,
                verbosity=0,
                reset_sequences=False,
                inhibit_post_migrate=True,
            )
            connection.creation.deserialize_db_from_string(contents)
