"""The public pages of reports in the page cache: what a publication makes stale, at once
and on every server, and the record that keeps a missed invalidation (reports/caching.py).

The page cache itself, on pages that know no reports: tests/factually/test_pagecache.py."""

from __future__ import annotations

import contextlib
import datetime
from contextlib import contextmanager
from io import StringIO
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from factually import pagecache
from reports import caching, workflow
from reports.models import ChangeKind, FollowUpQuestion, Report, Topic, Verdict
from sources import merging, retiring
from tests.conftest import (
    delete_redis_keys,
    make_report,
    make_source,
    make_topic,
    publish_now,
    redis_test_prefix,
    stored_pages,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
TOLERANT = "factually.cache.TolerantRedisCache"  # what settings make of a redis:// CACHE_URL

pytestmark = pytest.mark.usefixtures("page_cache")  # tests/conftest.py: the cache on


# Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """The block as a transaction of its own: what came before commits first, then the block
    does and runs what it left for after its commit (tests never commit otherwise)."""

    @contextmanager
    def committed():
        commit_earlier_changes()
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return committed


def commit_earlier_changes() -> None:
    """Run the increment that test setup (factories saving sources…) left pending."""
    for _, callback, _ in list(connection.run_on_commit):
        if isinstance(callback, caching._AfterCommit) and not callback.done:
            callback()


@pytest.fixture
def live(db, commit) -> Report:
    report = make_report(slug="sugar-tax", claim="A sugar tax ends obesity.")
    report.topics.add(make_topic(slug="health", name="Health"))
    with commit():
        publish_now(report)
    return report


def correct(report: Report, commit, *, note: str = "The figure for 2024 was wrong.") -> None:
    report.summary = f"{report.summary} Corrected."
    report.save()
    with commit():
        publish_now(report, note=note, kind=ChangeKind.CORRECTION)


def public_urls(report: Report) -> list[str]:
    source = report.references.first().source
    return [
        reverse("reports:home"),
        reverse("reports:list"),
        reverse("reports:list") + "?q=sugar",
        reverse("reports:topic", kwargs={"slug": "health"}),
        reverse("reports:verdict", kwargs={"slug": "false"}),
        reverse("reports:detail", kwargs={"slug": report.slug}),
        reverse("reports:detail_json", kwargs={"slug": report.slug}),
        reverse("reports:history", kwargs={"slug": report.slug}),
        reverse("reports:rating_scale"),
        reverse("reports:verdict_styles"),
        reverse("reports:feed_rss"),
        reverse("reports:feed_atom"),
        reverse("reports:topic_feed", kwargs={"slug": "health"}),
        reverse("reports:verdict_feed_atom", kwargs={"slug": "false"}),
        reverse("reports:claimreview_feed"),
        reverse("sitemap"),
        reverse("robots_txt"),
        reverse("sources:detail", kwargs={"pk": source.pk}),
    ]


# Headers ---------------------------------------------------------------------------------


def test_public_pages_carry_validators_and_cdn_headers(client, live):
    for url in public_urls(live):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["ETag"].startswith('W/"'), url
        assert response["Last-Modified"], url
        assert response["Cache-Control"] == pagecache.PUBLIC_CACHE_CONTROL, url
        assert "cookie" not in response.get("Vary", "").lower(), url
        assert not response.cookies, url


def test_lists_vary_on_htmx_but_not_on_cookies(client, live):
    response = client.get(reverse("reports:list"))
    vary = [v.strip() for v in response["Vary"].split(",")]
    assert "HX-Request" in vary
    assert "Cookie" not in vary


# Conditional requests --------------------------------------------------------------------


@pytest.mark.parametrize("stored_seconds", [300, 0])
def test_a_matching_etag_gets_304_without_rendering(
    client, live, settings, django_assert_max_num_queries, stored_seconds
):
    settings.FACTUALLY_PAGE_CACHE_SECONDS = stored_seconds  # 0: even with no page kept
    url = live.versions.get().get_absolute_url()
    etag = client.get(url)["ETag"]
    with django_assert_max_num_queries(1):
        response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.templates == []
    assert response["ETag"] == etag
    assert response["Cache-Control"] == pagecache.PUBLIC_CACHE_CONTROL


def test_if_modified_since_gets_304_until_the_next_publication(client, live, commit):
    url = live.versions.get().get_absolute_url()
    last_modified = client.get(url)["Last-Modified"]
    response = client.get(url, headers={"if-modified-since": last_modified})
    assert response.status_code == 304
    assert response.templates == []

    correct(make_report(), commit)  # any publication: the page may show it (a new note…)
    response = client.get(url, headers={"if-modified-since": last_modified})
    assert response.status_code == 200


def test_an_etag_from_before_a_correction_gets_the_corrected_page(client, live, commit):
    url = live.versions.get().get_absolute_url()
    before = client.get(url)
    correct(live, commit, note="The figure for 2024 was wrong.")

    after = client.get(url, headers={"if-none-match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert "The figure for 2024 was wrong." in after.content.decode()


# The shared page cache -------------------------------------------------------------------


def test_a_cached_page_is_served_without_queries_or_rendering(
    client, live, django_assert_num_queries
):
    url = live.versions.get().get_absolute_url()
    first = client.get(url)
    assert first["X-Factually-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second["X-Factually-Cache"] == "hit"
    assert second.templates == []
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]


def test_every_public_page_is_served_from_the_cache_the_second_time(client, live):
    for url in public_urls(live):
        assert client.get(url)["X-Factually-Cache"] == "miss", url
        response = client.get(url)
        assert response["X-Factually-Cache"] == "hit", url
        assert response["Cache-Control"] == pagecache.PUBLIC_CACHE_CONTROL, url


def test_a_correction_reaches_every_server_at_once(live, commit):
    """Two clients stand for two app servers sharing the cache."""
    first_server, second_server = Client(), Client()
    url = live.versions.get().get_absolute_url()
    assert first_server.get(url)["X-Factually-Cache"] == "miss"
    stale = second_server.get(url)
    assert stale["X-Factually-Cache"] == "hit"

    correct(live, commit, note="The figure for 2024 was wrong.")

    for server in (second_server, first_server):
        response = server.get(url)
        assert "The figure for 2024 was wrong." in response.content.decode()
        assert response["ETag"] != stale["ETag"]
    assert second_server.get(url)["X-Factually-Cache"] == "hit"


def test_a_correction_leaves_other_reports_pages_cached(client, live, commit):
    other = make_report(slug="bread-price", claim="Bread costs more.")
    with commit():
        publish_now(other)
    other_urls = [
        other.versions.get().get_absolute_url(),
        reverse("reports:history", kwargs={"slug": "bread-price"}),
    ]
    for url in [*other_urls, "/reports/"]:
        client.get(url)

    correct(live, commit)

    for url in other_urls:
        assert client.get(url)["X-Factually-Cache"] == "hit", url
    assert client.get("/reports/")["X-Factually-Cache"] == "miss"
    assert (
        "Corrected."
        in client.get(live.versions.get(is_live=True).get_absolute_url()).content.decode()
    )


def test_a_report_answering_a_question_refreshes_the_page_that_asks_it(client, live, commit):
    asking = make_report(slug="asks", claim="Sugar is addictive.", questions=0)
    FollowUpQuestion.objects.create(report=asking, question="Does a tax help?", answered_by=live)
    with commit():
        publish_now(asking)
    url = asking.versions.get().get_absolute_url()
    assert 'href="/reports/sugar-tax/"' in client.get(url).content.decode()

    live.slug = "sugar-tax-evidence"
    live.save()
    with commit():
        publish_now(live, note="Renamed.", kind=ChangeKind.UPDATE)

    response = client.get(url)
    assert response["X-Factually-Cache"] == "miss"
    assert 'href="/reports/sugar-tax-evidence/"' in response.content.decode()
    # The old address no longer serves the report from the cache.
    assert client.get("/reports/sugar-tax/").status_code != 200


def test_a_withdrawal_refreshes_the_report_page_at_once_but_not_the_others(
    client, live, commit, reviewer
):
    other = make_report(slug="bread-price", claim="Bread costs more.")
    with commit():
        publish_now(other)
    other_url = other.versions.get().get_absolute_url()
    client.get(other_url)
    client.get("/reports/sugar-tax/")

    with commit():
        workflow.withdraw(live, by=reviewer, reason="A source was fabricated.")

    assert client.get("/reports/sugar-tax/").status_code == 410
    assert client.get(other_url)["X-Factually-Cache"] == "hit"


def test_a_correction_updates_lists_feeds_and_history(client, live, commit):
    urls = [
        reverse("reports:history", kwargs={"slug": live.slug}),
        reverse("reports:feed_rss"),
        reverse("reports:home"),
    ]
    for url in urls:
        client.get(url)
    live.claim = "A sugar tax ends obesity, says the minister."
    live.save()
    with commit():
        publish_now(live, note="Claim quoted in full.", kind=ChangeKind.CLARIFICATION)
    for url in urls:
        response = client.get(url)
        assert response["X-Factually-Cache"] == "miss", url
        assert "says the minister" in response.content.decode(), url


def test_withdrawal_makes_the_page_410_at_once(client, live, reviewer, commit):
    url = live.versions.get().get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Factually-Cache"] == "hit"

    with commit():
        workflow.withdraw(live, by=None, reason="The source was forged.")

    response = client.get(url)
    assert response.status_code == 410
    assert "The source was forged." in response.content.decode()
    assert client.get(url).status_code == 410
    assert client.get(reverse("reports:detail_json", kwargs={"slug": live.slug})).status_code == 404


def test_unpublishing_takes_the_page_down_at_once(client, live, commit):
    url = live.versions.get().get_absolute_url()
    client.get(url)
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert client.get(url).status_code == 404


def test_the_generation_changes_only_once_the_transaction_commits(
    live, django_capture_on_commit_callbacks
):
    commit_earlier_changes()
    before = pagecache.current_generation().number
    live.summary += " Corrected."
    live.save()
    with django_capture_on_commit_callbacks() as callbacks:
        publish_now(live, note="Corrected.", kind=ChangeKind.CORRECTION)
        caching.publication_changed()
        assert pagecache.current_generation().number == before
    # One increment for the whole transaction, however many changes it made.
    assert len(callbacks) == 1
    callbacks[0]()
    assert pagecache.current_generation().number == before + 1


@pytest.mark.parametrize("change", ["verdict", "topic", "retire", "merge", "source"])
def test_edits_shown_on_public_pages_mark_them_stale(live, commit, curator, change):
    source = live.references.first().source
    before = pagecache.current_generation().number
    with commit():
        if change == "verdict":
            verdict = Verdict.objects.get(slug="false")
            verdict.name = "Wrong"
            verdict.save()
        elif change == "topic":
            Topic.objects.filter(slug="health").get().delete()
        elif change == "retire":
            retiring.retire(source, by=curator, reason="Found to be fabricated.")
        elif change == "merge":
            merging.merge(source, make_source(), by=curator)
        else:
            source.title = "A better title"
            source.save()
    assert pagecache.current_generation().number > before


def test_a_renamed_verdict_shows_at_once(client, live, commit):
    url = live.versions.get().get_absolute_url()
    client.get(url)
    client.get(reverse("reports:rating_scale"))
    with commit():
        Verdict.objects.filter(slug="false").update(name="Wrong")  # no signal: no change…
    assert client.get(url)["X-Factually-Cache"] == "hit"
    with commit():
        verdict = Verdict.objects.get(slug="false")
        verdict.save()  # …a save, as in the admin, is one
    assert "Wrong" in client.get(url).content.decode()
    assert "Wrong" in client.get(reverse("reports:rating_scale")).content.decode()


# htmx -------------------------------------------------------------------------------------


def test_htmx_partials_and_full_pages_are_cached_apart(client, live):
    url = reverse("reports:list")
    htmx = {"HX-Request": "true"}
    full = client.get(url)
    partial = client.get(url, headers=htmx)
    assert partial["X-Factually-Cache"] == "miss"
    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert partial["ETag"] != full["ETag"]

    again_full, again_partial = client.get(url), client.get(url, headers=htmx)
    assert (again_full["X-Factually-Cache"], again_partial["X-Factually-Cache"]) == ("hit", "hit")
    assert again_full.content == full.content
    assert again_partial.content == partial.content
    assert again_partial["HX-Push-Url"] == partial["HX-Push-Url"]
    # A browser's ETag for one is not taken for the other.
    response = client.get(url, headers={**htmx, "if-none-match": full["ETag"]})
    assert response.status_code == 200


# Staff and personal pages -------------------------------------------------------------------


def test_staff_never_get_cached_pages_and_their_pages_are_private(editor_client, live):
    url = live.versions.get().get_absolute_url()
    etag = Client().get(url)["ETag"]  # an anonymous reader filled the cache

    staff = editor_client.get(url, headers={"if-none-match": etag})
    assert staff.status_code == 200
    assert "reports/detail.html" in [t.name for t in staff.templates]
    assert staff["Cache-Control"] == pagecache.PRIVATE_CACHE_CONTROL
    assert staff["X-Factually-Cache"] == "private"
    assert "ETag" not in staff


def test_staff_pages_are_not_stored_for_readers(editor_client, live):
    url = live.versions.get().get_absolute_url()
    editor_client.get(url)
    assert Client().get(url)["X-Factually-Cache"] == "miss"


def test_staff_lists_are_private_too(editor_client, live):
    for url in public_urls(live):
        response = editor_client.get(url)
        assert response["Cache-Control"] == pagecache.PRIVATE_CACHE_CONTROL, url


def test_no_csrf_token_or_session_reaches_the_shared_cache(editor_client, live, page_cache):
    reader = Client()
    for url in public_urls(live):
        reader.get(url)
        editor_client.get(url)
    reader.get(reverse("reports:report_error", kwargs={"slug": live.slug}))
    assert reader.cookies["csrftoken"]
    pages = stored_pages(page_cache)
    assert len(pages) == len(public_urls(live))
    for content in pages:
        assert b"csrfmiddlewaretoken" not in content
        assert reader.cookies["csrftoken"].value.encode() not in content
        assert editor_client.cookies["sessionid"].value.encode() not in content


def test_form_pages_are_never_cached(client, live, page_cache):
    for url in [
        reverse("reports:report_error", kwargs={"slug": live.slug}),
        reverse("reports:suggest_claim"),
    ]:
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert "public" not in response["Cache-Control"], url
    assert stored_pages(page_cache) == []


def test_admin_responses_are_never_cacheable(editor_client, live):
    anonymous = Client().get(reverse("admin:login"))
    staff = [
        editor_client.get(reverse("admin:index")),
        editor_client.get(reverse("admin:reports_report_changelist")),
        editor_client.get(reverse("admin:reports_report_change", args=[live.pk])),
    ]
    for response in [anonymous, *staff]:
        assert response.status_code == 200
        directives = response["Cache-Control"]
        assert "no-store" in directives
        assert "private" in directives
        assert "public" not in directives
        assert "X-Factually-Cache" not in response


# The cache failing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.redis.RedisCache", "factually.cache.TolerantRedisCache"],
)
def test_with_the_cache_down_pages_come_from_the_database(
    client, live, settings, caplog, commit, backend
):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:1/0"}}
    pagecache._unavailable_until = 0.0
    for url in public_urls(live):
        response = client.get(url, headers={"if-none-match": '"anything"'})
        assert response.status_code == 200, url
        assert "ETag" not in response
    with commit():  # a publication with nowhere to say so still publishes
        correct(live, commit)
    response = client.get(live.versions.get(is_live=True).get_absolute_url())
    assert "Corrected on" in response.content.decode()
    assert any("unavailable" in r.message or "stale" in r.message for r in caplog.records)


# Redis, shared by two servers -------------------------------------------------------------


@pytest.fixture
def two_servers_on_redis(settings):
    """Two aliases for the same Redis database: two connection pools, as on two servers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}): start it to run this.")
    prefix = redis_test_prefix()
    backend = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
    }
    settings.CACHES = {"default": backend, "first": dict(backend), "second": dict(backend)}
    yield settings
    delete_redis_keys(REDIS_URL, prefix)


def test_on_redis_a_publication_on_one_server_reaches_the_other(two_servers_on_redis, live, commit):
    settings = two_servers_on_redis
    assert caches["first"] is not caches["second"]
    url = live.versions.get().get_absolute_url()

    settings.FACTUALLY_PAGE_CACHE = "first"
    first = Client().get(url)
    assert first["X-Factually-Cache"] == "miss"
    settings.FACTUALLY_PAGE_CACHE = "second"
    second = Client().get(url)
    assert second["X-Factually-Cache"] == "hit"  # the first server's page
    assert second["ETag"] == first["ETag"]

    settings.FACTUALLY_PAGE_CACHE = "first"  # the first server publishes
    generation = pagecache.current_generation().number
    correct(live, commit, note="Fixed on the first server.")
    settings.FACTUALLY_PAGE_CACHE = "second"
    assert pagecache.current_generation().number == generation + 1
    response = Client().get(url, headers={"if-none-match": first["ETag"]})
    assert response.status_code == 200
    assert response["X-Factually-Cache"] == "miss"
    assert "Fixed on the first server." in response.content.decode()


# Read replicas -----------------------------------------------------------------------------


def test_just_after_a_publication_pages_from_a_replica_are_not_kept(
    client, live, settings, monkeypatch, commit
):
    monkeypatch.setattr(pagecache, "has_replica", lambda: True)
    settings.FACTUALLY_REPLICA_LAG_SECONDS = 60
    correct(live, commit)
    url = live.versions.get(is_live=True).get_absolute_url()
    response = client.get(url)
    assert response["X-Factually-Cache"] == "settling"
    assert response["Cache-Control"] == pagecache.SETTLING_CACHE_CONTROL
    assert "ETag" not in response
    assert client.get(url)["X-Factually-Cache"] == "settling"

    settings.FACTUALLY_REPLICA_LAG_SECONDS = 0
    assert client.get(url)["X-Factually-Cache"] == "miss"
    assert client.get(url)["X-Factually-Cache"] == "hit"


def test_head_requests_get_public_headers_but_never_a_stored_page(live, page_cache):
    response = Client().head(reverse("sitemap"))
    assert response.status_code == 200
    assert response["Cache-Control"] == pagecache.PUBLIC_CACHE_CONTROL
    assert stored_pages(page_cache) == []
    assert Client().get(reverse("sitemap"))["X-Factually-Cache"] == "miss"


def test_on_redis_a_cached_page_costs_one_round_trip(two_servers_on_redis, client, live):
    """The hit is the commonest request of all: generation and page come in one MGET,
    through one reused client (a new `redis.Redis` per call costs more than the GET)."""
    import redis

    settings = two_servers_on_redis
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "BACKEND": TOLERANT},
    }
    url = live.versions.get().get_absolute_url()
    assert client.get(url)["X-Factually-Cache"] == "miss"
    sent, clients = [], []
    real_send, real_init = redis.Connection.send_packed_command, redis.Redis.__init__

    def send(connection, command, *args, **kwargs):
        sent.append(command)
        return real_send(connection, command, *args, **kwargs)

    def init(client, *args, **kwargs):
        clients.append(client)
        return real_init(client, *args, **kwargs)

    with (
        mock.patch.object(redis.Connection, "send_packed_command", send),
        mock.patch.object(redis.Redis, "__init__", init),
    ):
        for _ in range(3):
            assert client.get(url)["X-Factually-Cache"] == "hit"

    assert len(sent) == 3
    assert all(b"MGET" in b"".join(command) for command in sent)
    assert clients == []


def test_a_conditional_request_that_does_not_match_still_gets_the_cached_page(client, live):
    url = live.versions.get().get_absolute_url()
    assert client.get(url)["X-Factually-Cache"] == "miss"

    response = client.get(url, headers={"if-none-match": 'W/"1-0000000000000000"'})

    assert response.status_code == 200
    assert response["X-Factually-Cache"] == "hit"
    assert live.claim in response.content.decode()


# A take-down whose invalidation the cache missed ------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:1/14"  # nothing listens on port 1: refused at once


@pytest.fixture
def redis_that_fails_on_demand(two_servers_on_redis):
    """The page cache on the tests' Redis database, and `failing()`: the cache refuses every
    command in the block, as when Redis is down or unreachable from this server at that moment."""
    settings = two_servers_on_redis
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["first"], "BACKEND": TOLERANT},
        "dead": {"BACKEND": TOLERANT, "LOCATION": DEAD_REDIS},
    }

    @contextmanager
    def failing():
        settings.FACTUALLY_PAGE_CACHE = "dead"
        try:
            yield
        finally:
            settings.FACTUALLY_PAGE_CACHE = "default"

    return failing


def cached_twice(client, url: str) -> None:
    client.get(url)
    assert client.get(url)["X-Factually-Cache"] == "hit"


def test_a_take_down_the_cache_missed_is_retried_and_kept_until_the_cache_has_it(
    redis_that_fails_on_demand, live, client, commit
):
    from reports.models import PendingInvalidation

    failing = redis_that_fails_on_demand
    url = live.versions.get().get_absolute_url()
    cached_twice(client, url)

    with failing(), commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert PendingInvalidation.objects.filter(report=live).count() == 1

    # Another server, which saw no failure: until a retry runs, it still has the old page.
    pagecache.forget_failures()
    assert client.get(url)["X-Factually-Cache"] == "hit"

    with failing():  # the cache still refuses: the record stays
        call_command("publish_scheduled", stdout=StringIO())
    assert PendingInvalidation.objects.filter(report=live).count() == 1

    call_command("publish_scheduled", stdout=StringIO())  # cron, a minute later
    assert not PendingInvalidation.objects.exists()
    assert client.get(url).status_code == 404


def test_the_server_that_saw_the_cache_fail_never_serves_the_page_taken_down(
    redis_that_fails_on_demand, live, client, commit, reviewer
):
    from reports.models import PendingInvalidation

    failing = redis_that_fails_on_demand
    url = live.versions.get().get_absolute_url()
    cached_twice(client, url)

    with failing(), commit():
        workflow.withdraw(live, by=None, reason="A source was fabricated.")

    response = client.get(url)  # the cache answers again: the retry comes first
    assert response.status_code == 410
    assert not PendingInvalidation.objects.exists()


def test_the_next_publication_applies_a_take_down_the_cache_missed(
    redis_that_fails_on_demand, live, client, commit
):
    from reports.models import PendingInvalidation

    failing = redis_that_fails_on_demand
    other = make_report(slug="bread-price", claim="Bread costs more.")
    url = live.versions.get().get_absolute_url()
    with commit():
        cached_twice(client, url)
    with failing(), commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    pagecache.forget_failures()  # on another server

    with commit():
        publish_now(other)

    assert not PendingInvalidation.objects.exists()
    assert client.get(url).status_code == 404


def test_catching_up_with_a_change_the_cache_missed_is_logged_as_a_failure(
    redis_that_fails_on_demand, live, client, commit, caplog
):
    from reports.models import PendingInvalidation

    with redis_that_fails_on_demand(), commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    PendingInvalidation.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    pagecache.forget_failures()

    call_command("publish_scheduled", stdout=StringIO())

    assert not PendingInvalidation.objects.exists()
    assert [r.message for r in caplog.records if "earlier failure" in r.message]


def test_another_transactions_change_applied_in_passing_is_not_called_a_failure(
    redis_that_fails_on_demand, live, client, commit, caplog
):
    from reports.models import PendingInvalidation

    # Committed a moment ago by another editor's publication, whose callback has yet to run.
    PendingInvalidation.objects.create(report=live, slugs=[live.slug])

    with commit():
        publish_now(make_report(slug="bread-price", claim="Bread costs more."))

    assert not PendingInvalidation.objects.exists()
    assert not [r.message for r in caplog.records if "earlier failure" in r.message]


@contextmanager
def refusing_increments():
    """Redis answers reads but refuses to count (out of memory, as with maxmemory reached)."""
    import redis

    error = redis.exceptions.ResponseError("OOM command not allowed when used memory > 'maxmemory'")
    with mock.patch("factually.cache.TolerantRedisCache.incr", side_effect=error):
        yield


def test_while_a_take_down_is_pending_its_pages_come_from_the_database(
    redis_that_fails_on_demand, live, client, commit
):
    from reports.models import PendingInvalidation

    url = live.versions.get().get_absolute_url()
    cached_twice(client, url)
    with refusing_increments():
        with commit():
            workflow.unpublish(live, by=None, comment="Published by mistake.")
        response = client.get(url)  # the retry fails too, and the page is not trusted
        assert response.status_code == 404
        assert PendingInvalidation.objects.filter(report=live).exists()


def test_cache_hits_stay_one_round_trip_once_pending_invalidations_are_applied(
    redis_that_fails_on_demand, live, client, commit, django_assert_num_queries
):
    failing = redis_that_fails_on_demand
    url = live.versions.get().get_absolute_url()
    with failing(), commit():
        publish_now(make_report(slug="bread-price", claim="Bread costs more."))
    client.get(url)  # the retry, then the page is rendered and kept

    with django_assert_num_queries(0):
        assert client.get(url)["X-Factually-Cache"] == "hit"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("cache_fails", [False, True])
def test_the_admin_says_when_a_take_down_may_still_be_cached(
    redis_that_fails_on_demand, editor, client, cache_fails
):
    failing = redis_that_fails_on_demand
    report = make_report(slug="sugar-tax", claim="A sugar tax ends obesity.")
    publish_now(report)  # committed: these tests run outside a transaction
    client.force_login(editor)
    take_down = reverse("admin:reports_report_transition", args=[report.pk, "unpublish"])

    with failing() if cache_fails else contextlib.nullcontext():
        response = client.post(take_down, {"comment": "Published by mistake."}, follow=True)

    text = response.content.decode()
    assert "Unpublished" in text or "unpublished" in text
    assert ("may still be cached on some servers; retrying" in text) is cache_fails
    assert ("Cache invalidation pending" in text) is cache_fails
    if cache_fails:
        call_command("publish_scheduled", stdout=StringIO())
        change = client.get(reverse("admin:reports_report_change", args=[report.pk]))
        assert "Cache invalidation pending" not in change.content.decode()
