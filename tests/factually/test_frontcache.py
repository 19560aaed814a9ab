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
from reports.models import ChangeKind, PendingInvalidation, PendingPurge
from tests.conftest import make_report, publish_now, serving

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
def live(db, commit):
    report = make_report(slug="sugar-tax", claim="A sugar tax ends obesity.")
    with commit():
        publish_now(report)
    return report


# The keys on pages -------------------------------------------------------------------------


def test_a_report_page_carries_its_own_key_and_other_pages_the_list_key(client, live):
    report_pages = [
        reverse("reports:detail", kwargs={"slug": "sugar-tax"}),
        reverse("reports:history", kwargs={"slug": "sugar-tax"}),
        reverse("reports:detail_json", kwargs={"slug": "sugar-tax"}),
    ]
    for url in report_pages:
        assert client.get(url)[frontcache.KEYS_HEADER] == "site page-sugar-tax", url
    for url in [reverse("reports:home"), reverse("reports:list") + "?q=sugar", "/sitemap.xml"]:
        assert client.get(url)[frontcache.KEYS_HEADER] == "site list", url


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
        assert PendingPurge.objects.get().keys == ["list", "page-sugar-tax"]
        assert stand_in.purged == []
    assert stand_in.purged == [["list", "page-sugar-tax"]]
    assert not PendingPurge.objects.exists()


def test_a_renamed_slug_purges_the_old_address_too(live, commit, stand_in):
    live.slug = "sugar-levy"
    live.save()
    with commit():
        publish_now(live, note="Renamed.", kind=ChangeKind.UPDATE)
    assert stand_in.purged == [["list", "page-sugar-levy", "page-sugar-tax"]]


def test_curated_data_shown_on_every_page_purges_every_page(live, commit, stand_in):
    source = live.references.first().source
    with commit():
        source.title = "A better title"
        source.save()
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
    assert stand_in.purged == [["list", "page-sugar-tax"]]
    assert not PendingPurge.objects.exists()
    assert not caching.invalidation_pending(live)


def test_the_next_publication_sends_what_an_earlier_one_could_not(live, commit, stand_in):
    other = make_report(slug="bread-price", claim="Bread costs more.")
    with commit():  # its new sources purge every page
        pass
    stand_in.purged.clear()
    stand_in.status = 503
    with commit():
        workflow.unpublish(live, by=None, comment="Published by mistake.")
    stand_in.status = None
    with commit():
        publish_now(other)
    assert stand_in.purged == [["list", "page-bread-price", "page-sugar-tax"]]
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
