"""The front cache without Varnish: the surrogate keys public pages carry, the Varnish purge
backend against a stand-in on loopback, and the purges recorded in the transaction of a
change and retried until confirmed (factually/frontcache.py, reports/caching.py).

With a real Varnish: tests/factually/test_frontcache_varnish.py.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from bench.varnish import free_port
from factually import frontcache
from reports import caching, workflow
from reports.models import ChangeKind, PendingInvalidation, PendingPurge, Verdict
from sources import merging, retiring
from tests.conftest import make_report, make_source, make_topic, publish_now, serving

SECRET = "stand-in-secret"


class StandIn(ThreadingHTTPServer):
    """Answers PURGE as deploy/varnish.vcl does (200 with the secret, else 403), or with
    `status` when set; keeps the purges it accepted."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _PurgeHandler)
        self.purged: list[list[str]] = []
        self.status: int | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _PurgeHandler(BaseHTTPRequestHandler):
    def do_PURGE(self):
        server = self.server
        status = server.status or (
            200 if self.headers.get(frontcache.SECRET_HEADER) == SECRET else 403
        )
        if status == 200:
            with server.lock:
                server.purged.append(self.headers[frontcache.PURGE_KEYS_HEADER].split())
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in(settings):
    with serving(StandIn()) as server:
        settings.FACTUALLY_FRONT_CACHE_BACKEND = "varnish"
        settings.FACTUALLY_FRONT_CACHE_URLS = [server.url]
        settings.FACTUALLY_FRONT_CACHE_SECRET = SECRET
        yield server


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """The block as a transaction whose after-commit callbacks run (tests never commit)."""

    @contextmanager
    def committed():
        for _, callback, _ in list(connection.run_on_commit):  # what setup left pending
            if isinstance(callback, caching._AfterCommit) and not callback.done:
                callback()
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return committed


@pytest.fixture
def health(db):
    return make_topic(name="Health", slug="health")


@pytest.fixture
def live(db, commit, health):
    report = make_report(slug="sugar-tax", claim="A sugar tax ends obesity.")
    report.topics.add(health)
    with commit():
        publish_now(report)
    return report


def source_keys(report) -> set[str]:
    return {f"source-{reference.source_id}" for reference in report.references.all()}


def shown_keys(report, *topics: str, verdict: str = "false") -> set[str]:
    """What a publication of `report` purges when it stays in the same lists: the lists,
    its pages, its topics', its verdict's and its sources' pages."""
    return {
        "list",
        f"page-{report.slug}",
        f"verdict-{verdict}",
        *(f"topic-{slug}" for slug in topics),
        *source_keys(report),
    }


# The keys on pages -------------------------------------------------------------------------


def test_each_page_names_what_it_shows(client, live):
    report_pages = [
        reverse("reports:detail", kwargs={"slug": "sugar-tax"}),
        reverse("reports:history", kwargs={"slug": "sugar-tax"}),
        reverse("reports:detail_json", kwargs={"slug": "sugar-tax"}),
    ]
    for url in report_pages:
        assert client.get(url)[frontcache.KEYS_HEADER] == "site page-sugar-tax", url
    lists = [
        reverse("reports:home"),
        reverse("reports:list") + "?q=sugar",
        reverse("reports:list") + "?topic=health",
        reverse("reports:feed_rss"),
        reverse("reports:claimreview_feed"),
        "/sitemap.xml",
    ]
    for url in lists:
        assert client.get(url)[frontcache.KEYS_HEADER] == "site list", url
    source = live.references.first().source_id
    shows = {
        reverse("reports:topic", kwargs={"slug": "health"}): "site topic-health filters",
        reverse("reports:topic_feed", kwargs={"slug": "health"}): "site topic-health",
        reverse("reports:verdict", kwargs={"slug": "false"}): "site verdict-false filters",
        reverse("reports:verdict_feed_atom", kwargs={"slug": "false"}): "site verdict-false",
        reverse("sources:detail", kwargs={"pk": source}): f"site source-{source}",
        reverse("reports:rating_scale"): "site",
        reverse("reports:verdict_styles"): "site",
    }
    for url, keys in shows.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response[frontcache.KEYS_HEADER] == keys, url


def test_a_not_modified_answer_carries_the_keys_too(client, live):
    url = reverse("reports:detail", kwargs={"slug": "sugar-tax"})
    etag = client.get(url)["ETag"]
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response[frontcache.KEYS_HEADER] == "site page-sugar-tax"


def test_staff_pages_forms_and_errors_carry_no_keys_and_are_never_shared(
    client, editor_client, live
):
    url = reverse("reports:detail", kwargs={"slug": "sugar-tax"})
    staff = editor_client.get(url)
    assert frontcache.KEYS_HEADER not in staff
    assert staff["Cache-Control"] == "private, no-cache"
    client.logout()
    form = client.get(reverse("reports:suggest_claim"))
    assert frontcache.KEYS_HEADER not in form
    assert "private" in form["Cache-Control"]
    assert "no-store" in form["Cache-Control"]
    missing = client.get(reverse("reports:detail", kwargs={"slug": "no-such-report"}))
    assert missing.status_code == 404
    assert frontcache.KEYS_HEADER not in missing
    assert "public" not in missing.get("Cache-Control", "")


# The Varnish backend -----------------------------------------------------------------------


def test_a_purge_sends_the_keys_and_the_secret(stand_in):
    frontcache.purge(["page-b", "list", "page-a"])
    assert stand_in.purged == [["list", "page-a", "page-b"]]


def test_many_keys_go_in_several_requests(stand_in):
    frontcache.purge([f"page-{n}" for n in range(250)])
    assert [len(keys) for keys in stand_in.purged] == [100, 100, 50]


@pytest.mark.parametrize("status", [403, 405, 503])
def test_a_purge_not_confirmed_raises(stand_in, status):
    stand_in.status = status
    with pytest.raises(frontcache.PurgeFailed, match=str(status)):
        frontcache.purge(["list"])


def test_every_front_cache_is_purged_even_after_one_failed(stand_in, settings):
    nobody = f"http://127.0.0.1:{free_port()}/"
    settings.FACTUALLY_FRONT_CACHE_URLS = [nobody, stand_in.url]
    with pytest.raises(frontcache.PurgeFailed, match=nobody):
        frontcache.purge(["list"])
    assert stand_in.purged == [["list"]]


def test_without_a_front_cache_nothing_is_sent_or_recorded(live, commit):
    assert not frontcache.enabled()
    frontcache.purge(["list"])  # nothing to do, nothing raised
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert not PendingPurge.objects.exists()


# Purges recorded with the change, and retried ----------------------------------------------


def test_a_correction_purges_its_pages_and_the_lists_after_the_commit(live, commit, stand_in):
    live.summary += " Corrected."
    live.save()
    with commit():
        publish_now(live, note="Corrected.", kind=ChangeKind.CORRECTION)
        # Recorded in the transaction; nothing sent before the commit.
        assert PendingPurge.objects.get().keys == sorted(shown_keys(live, "health"))
        assert stand_in.purged == []
    assert stand_in.purged == [sorted(shown_keys(live, "health"))]
    assert not PendingPurge.objects.exists()


def test_a_renamed_slug_purges_the_old_address_too(live, commit, stand_in):
    live.slug = "sugar-levy"
    live.save()
    with commit():
        publish_now(live, note="Renamed.", kind=ChangeKind.UPDATE)
    assert stand_in.purged == [sorted({*shown_keys(live, "health"), "page-sugar-tax"})]


def test_curated_data_shown_on_every_page_purges_every_page(live, commit, stand_in, health):
    with commit():
        health.name = "Public health"
        health.save()
    assert stand_in.purged == [["site"]]


def test_a_rolled_back_change_records_and_purges_nothing(live, stand_in):
    def unpublish_then_fail():
        with transaction.atomic():
            workflow.unpublish(live, by=None, comment="Published by mistake.")
            raise RuntimeError("something later failed")

    with pytest.raises(RuntimeError):
        unpublish_then_fail()
    assert not PendingPurge.objects.exists()
    assert stand_in.purged == []


def test_a_purge_not_confirmed_is_kept_and_retried_by_publish_scheduled(live, commit, stand_in):
    stand_in.status = 503
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert PendingPurge.objects.get().report == live
    assert caching.invalidation_pending(live)  # the admin says so

    output = StringIO()
    call_command("publish_scheduled", stdout=output)
    assert "1 front cache purge(s) still pending" in output.getvalue()

    stand_in.status = None
    call_command("publish_scheduled", stdout=StringIO())
    # Its topic and year lose their last live report: the filter choices change too.
    assert stand_in.purged == [sorted({*shown_keys(live, "health"), "filters"})]
    assert not PendingPurge.objects.exists()
    assert not caching.invalidation_pending(live)


def test_the_next_publication_sends_what_an_earlier_one_could_not(live, commit, stand_in):
    other = make_report(slug="bread-price", claim="Bread costs more.")
    with commit():  # its new sources purge their pages (none yet)
        pass
    stand_in.purged.clear()
    stand_in.status = 503
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    stand_in.status = None
    with commit():
        publish_now(other)
    expected = {*shown_keys(live, "health"), *shown_keys(other), "filters"}
    assert stand_in.purged == [sorted(expected)]
    assert not PendingPurge.objects.exists()


def test_no_purge_while_the_apps_own_cache_misses_a_change(live, commit, stand_in):
    """Purged then, Varnish would refill from the app's stale pages and keep them."""
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    stand_in.purged.clear()
    PendingPurge.objects.create(report=live, keys=["list", "page-sugar-tax"])
    PendingInvalidation.objects.create(report=live, slugs=["sugar-tax"])

    assert caching.apply_pending_purges() == 1
    assert stand_in.purged == []
    PendingInvalidation.objects.all().delete()
    assert caching.apply_pending_purges() == 0
    assert stand_in.purged == [["list", "page-sugar-tax"]]


def test_pending_purges_of_every_page_go_as_one_key(db, stand_in):
    PendingPurge.objects.create(keys=["list", "page-a"])
    PendingPurge.objects.create(keys=["site"])
    assert caching.apply_pending_purges() == 0
    assert stand_in.purged == [["site"]]


# Exactly the pages a change affects ----------------------------------------------------------


def published(commit, *, topics=(), verdict: str = "false", **fields):
    with commit():  # its new sources' keys go with the publication's
        report = make_report(verdict=Verdict.objects.get(slug=verdict), **fields)
        report.topics.add(*topics)
        publish_now(report)
    return report


def test_publishing_in_one_topic_purges_that_topics_pages_not_another_topics(
    live, commit, stand_in, health
):
    published(commit, topics=[make_topic(slug="housing")], slug="rent-cap")
    stand_in.purged.clear()
    report = published(commit, topics=[health], slug="soda-ban")
    assert stand_in.purged == [sorted(shown_keys(report, "health"))]
    assert "topic-housing" not in stand_in.purged[0]
    assert "page-sugar-tax" not in stand_in.purged[0]  # another report in the same topic
    assert "filters" not in stand_in.purged[0]  # no topic or year is new


def test_a_correction_moving_a_report_to_another_topic_purges_both(live, commit, stand_in, health):
    published(commit, topics=[health], slug="soda-ban")
    with commit():  # a new topic: curated data, `site`
        housing = make_topic(slug="housing")
    stand_in.purged.clear()
    live.topics.set([housing])
    live.save()
    with commit():
        publish_now(live, note="Filed under the wrong topic.", kind=ChangeKind.CORRECTION)
    # Housing gains its first live report: its name joins the verdict pages' filters.
    assert stand_in.purged == [sorted({*shown_keys(live, "health", "housing"), "filters"})]


def test_a_verdict_change_purges_both_verdict_lists(live, commit, stand_in):
    published(commit, verdict="false", slug="soda-ban")
    stand_in.purged.clear()
    live.verdict = Verdict.objects.get(slug="mostly-true")
    live.save()
    with commit():
        publish_now(live, note="New figures.", kind=ChangeKind.CORRECTION)
    keys = stand_in.purged[0]
    assert {"verdict-false", "verdict-mostly-true"} <= set(keys)
    assert "filters" not in keys  # verdict pages' choices are topics and years
    assert not any(
        key.startswith("verdict-") for key in set(keys) - {"verdict-false", "verdict-mostly-true"}
    )


def test_a_new_year_of_checks_purges_the_filter_choices(live, commit, stand_in, health):
    import datetime

    report = published(
        commit, topics=[health], slug="old-claim", checked_on=datetime.date(2019, 5, 1)
    )
    assert stand_in.purged == [sorted({*shown_keys(report, "health"), "filters"})]


def test_taking_a_report_down_purges_every_list_it_was_in(live, commit, stand_in, health):
    published(commit, topics=[health], slug="soda-ban")  # health and 2026 keep a report
    stand_in.purged.clear()
    with commit():
        workflow.withdraw(live, by=None, reason="A source was fabricated.")
    assert stand_in.purged == [sorted(shown_keys(live, "health"))]


def test_a_merge_purges_both_source_pages_and_the_reports_citing_them_only(
    live, commit, stand_in, curator
):
    duplicate = make_source(title="The same study, entered twice")
    citing = published(commit, slug="bread-price", references=1)
    citing.references.update(source=duplicate)
    citing.save()
    with commit():
        publish_now(citing, note="Cites the study.", kind=ChangeKind.UPDATE)
    unrelated = published(commit, slug="rent-cap")
    stand_in.purged.clear()
    kept = live.references.first().source
    with commit():
        merging.merge(kept, duplicate, by=curator)
    keys = {key for batch in stand_in.purged for key in batch}
    assert keys == {
        f"source-{kept.pk}",
        f"source-{duplicate.pk}",
        "page-sugar-tax",
        "page-bread-price",
    }
    assert f"page-{unrelated.slug}" not in keys


def test_a_merge_purges_the_addresses_merged_earlier(live, commit, stand_in, curator):
    kept = live.references.first().source
    first, second = make_source(), make_source()
    with commit():
        merging.merge(second, first, by=curator)  # /sources/<first>/ redirects to second
    stand_in.purged.clear()
    with commit():
        merging.merge(kept, second, by=curator)  # ... and now to kept
    keys = {key for batch in stand_in.purged for key in batch}
    assert {f"source-{first.pk}", f"source-{second.pk}", f"source-{kept.pk}"} <= keys


def test_a_retirement_purges_the_source_page_and_the_reports_citing_it(
    live, commit, stand_in, curator
):
    other = published(commit, slug="rent-cap")
    stand_in.purged.clear()
    source = live.references.first().source
    with commit():
        retiring.retire(source, by=curator, reason="The journal retracted it.")
    assert stand_in.purged == [sorted([f"source-{source.pk}", "page-sugar-tax"])]
    assert f"source-{other.references.first().source_id}" not in stand_in.purged[0]


def test_a_source_losing_its_last_live_citation_purges_the_addresses_merged_into_it(
    live, commit, stand_in, curator
):
    kept, duplicate = live.references.first().source, make_source()
    with commit():
        merging.merge(kept, duplicate, by=curator)  # /sources/<duplicate>/ redirects
    stand_in.purged.clear()
    with commit():  # the kept source has no page now: neither has the redirect
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert f"source-{duplicate.pk}" in stand_in.purged[0]
