"""A real Varnish (Debian's, with the repository's deploy/varnish.vcl) in front of the live
server: pages come from its cache, and what the workflow publishes or takes down is purged
from it at once, by surrogate key, after the commit (factually/frontcache.py,
reports/caching.py).

Varnish keeps pages for their s-maxage (300 s): everything seen fresh here was purged, not
expired. `make test` installs varnish and varnish-modules (the Makefile's `browser` target).
"""

from __future__ import annotations

import os
import subprocess
from io import StringIO

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from bench.varnish import VARNISHD, VCL, Varnish, available, free_port
from factually import frontcache
from reports import workflow
from reports.models import ChangeKind, PendingPurge, PublishedVersion, Verdict
from sources import merging
from tests.conftest import make_report, make_source, make_topic, publish_now

# The live server on IPv4 loopback, where the VCL's backend points (as for browser tests).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

SECRET = "test-purge-secret-" + "v" * 20

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def varnish(live_server, django_db_blocker):
    """One varnishd for the module, in front of the live server."""
    why = available()
    if why:
        pytest.fail(f"Front cache tests need Varnish: {why}.", pytrace=False)
    port = int(live_server.url.rsplit(":", 1)[1])
    # The health probe (/healthz, which asks the database) runs between tests too, when
    # pytest-django blocks database access: two refused probes in a row (a slow test set-up)
    # made Varnish call the app sick and answer 503 to the next tests. Every test here is
    # transactional, so the probe's SELECT between them touches nothing a test sees.
    # And between tests only Django's "testserver" host is allowed.
    with (
        django_db_blocker.unblock(),
        Varnish(port, secret=SECRET, host_header="testserver", storage="malloc,64m") as running,
    ):
        yield running


@pytest.fixture
def front(varnish, settings):
    """The app purging that Varnish; it starts each test empty (the database was flushed)."""
    settings.FACTUALLY_FRONT_CACHE_BACKEND = "varnish"
    settings.FACTUALLY_FRONT_CACHE_URLS = [varnish.url]
    settings.FACTUALLY_FRONT_CACHE_SECRET = SECRET
    frontcache.purge([frontcache.SITE_KEY])
    with httpx.Client(base_url=varnish.url, timeout=10, trust_env=False) as client:
        yield client


@pytest.fixture
def live(db):
    report = make_report(slug="sugar-tax", claim="A sugar tax ends obesity.")
    publish_now(report)
    return report


def page_url(report) -> str:
    return reverse("reports:detail", kwargs={"slug": report.slug})


def cached(front, url: str) -> httpx.Response:
    """`url` through Varnish until it comes from Varnish's cache."""
    first = front.get(url)
    assert first.status_code == 200, url
    second = front.get(url)
    assert second.headers["X-Cache"] == "HIT", url
    return second


def test_the_vcl_compiles_as_shipped(tmp_path):
    why = available()
    if why:
        pytest.fail(f"Front cache tests need Varnish: {why}.", pytrace=False)
    command = [VARNISHD, "-C", "-f", str(VCL), "-n", str(tmp_path / "instance")]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_public_page_is_served_from_varnish_the_second_time(front, live):
    first = front.get(page_url(live))
    assert first.headers["X-Cache"] == "MISS"
    second = front.get(page_url(live))
    assert second.headers["X-Cache"] == "HIT"
    assert "Age" in second.headers
    assert second.text == first.text
    assert "s-maxage=300" in second.headers["Cache-Control"]
    # The keys are Varnish's business, not the reader's.
    assert "xkey" not in second.headers


def test_a_correction_published_through_the_workflow_shows_through_varnish_at_once(front, live):
    other = make_report(slug="bread-price", claim="Bread costs more.")
    publish_now(other)
    for url in (page_url(live), page_url(other), reverse("reports:home")):
        cached(front, url)

    live.summary = "The tax cut consumption by a tenth [1] [2]."
    live.save()
    publish_now(live, note="The figure for 2024 was wrong.", kind=ChangeKind.CORRECTION)

    corrected = front.get(page_url(live))
    assert corrected.headers["X-Cache"] == "MISS"
    assert "The tax cut consumption by a tenth" in corrected.text
    assert "The figure for 2024 was wrong." in corrected.text
    assert front.get(reverse("reports:home")).headers["X-Cache"] == "MISS"
    # Exactly the keys it affects: another report's page stays in the cache.
    assert front.get(page_url(other)).headers["X-Cache"] == "HIT"
    assert not PendingPurge.objects.exists()


def test_an_unpublished_report_answers_404_through_varnish_at_once(front, live):
    cached(front, page_url(live))
    cached(front, reverse("reports:list"))

    workflow.unpublish(live, by=None, comment="Published by mistake.")

    assert front.get(page_url(live)).status_code == 404
    assert front.get(page_url(live)).status_code == 404  # a 404 is never kept
    assert "sugar tax" not in front.get(reverse("reports:list")).text


def test_a_withdrawn_report_answers_410_through_varnish_at_once(front, live):
    cached(front, page_url(live))
    workflow.withdraw(live, by=None, reason="A source was fabricated.")
    assert front.get(page_url(live)).status_code == 410


def topic_url(topic) -> str:
    return reverse("reports:topic", kwargs={"slug": topic.slug})


def source_url(source) -> str:
    return reverse("sources:detail", kwargs={"pk": source.pk})


def test_publishing_in_one_topic_leaves_another_topics_page_in_varnish(front, live):
    health, housing = make_topic(slug="health"), make_topic(slug="housing")
    live.topics.add(health)
    live.save()
    publish_now(live, note="Tagged.", kind=ChangeKind.UPDATE)
    other = make_report(slug="rent-cap", claim="A rent cap cuts rents.")
    other.topics.add(housing)
    publish_now(other)
    for url in (topic_url(health), topic_url(housing), page_url(live)):
        cached(front, url)

    new = make_report(slug="soda-ban", claim="A soda ban ends obesity.")
    new.topics.add(health)
    publish_now(new)

    fresh = front.get(topic_url(health))
    assert fresh.headers["X-Cache"] == "MISS"
    assert "A soda ban ends obesity." in fresh.text
    assert front.get(topic_url(housing)).headers["X-Cache"] == "HIT"
    assert front.get(page_url(live)).headers["X-Cache"] == "HIT"


def test_a_correction_moving_topic_and_verdict_shows_on_all_four_lists_through_varnish(front, live):
    health, housing = make_topic(slug="health"), make_topic(slug="housing")
    live.topics.add(health)
    live.save()
    publish_now(live, note="Tagged.", kind=ChangeKind.UPDATE)
    for slug, topic in (("rent-cap", housing), ("soda-ban", health)):
        other = make_report(slug=slug, claim=f"Claim {slug}.")
        other.topics.add(topic)
        publish_now(other)
    lists = {
        "old topic": topic_url(health),
        "new topic": topic_url(housing),
        "old verdict": reverse("reports:verdict", kwargs={"slug": "false"}),
        "new verdict": reverse("reports:verdict", kwargs={"slug": "mostly-true"}),
    }
    untouched = reverse("reports:verdict", kwargs={"slug": "true"})
    for url in [*lists.values(), untouched]:
        cached(front, url)

    live.topics.set([housing])
    live.verdict = Verdict.objects.get(slug="mostly-true")
    live.save()
    publish_now(live, note="Misfiled and misrated.", kind=ChangeKind.CORRECTION)

    for name, url in lists.items():
        response = front.get(url)
        assert response.headers["X-Cache"] == "MISS", name
        assert ("A sugar tax ends obesity." in response.text) == name.startswith("new"), name
    assert front.get(untouched).headers["X-Cache"] == "HIT"


def test_a_source_merge_purges_its_pages_and_the_citing_reports_through_varnish(
    front, live, curator
):
    kept, duplicate = live.references.first().source, make_source(title="Entered twice")
    citing = make_report(slug="bread-price", claim="Bread costs more.", references=1)
    citing.references.update(source=duplicate)
    publish_now(citing)
    unrelated = make_report(slug="rent-cap", claim="A rent cap cuts rents.")
    publish_now(unrelated)
    for url in (page_url(live), page_url(citing), page_url(unrelated)):
        cached(front, url)
    for url in (source_url(kept), source_url(duplicate)):
        cached(front, url)

    merging.merge(kept, duplicate, by=curator)

    for url in (page_url(live), page_url(citing), source_url(kept)):
        assert front.get(url).headers["X-Cache"] == "MISS", url
    moved = front.get(source_url(duplicate), follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(source_url(kept))
    assert front.get(page_url(unrelated)).headers["X-Cache"] == "HIT"


def test_signed_in_editors_bypass_varnish(front, live, editor):
    cached(front, page_url(live))
    # Changed behind the workflow's back (no purge): readers keep Varnish's copy.
    PublishedVersion.objects.filter(report=live).update(claim="A sugar tax ends all obesity.")
    assert "ends all obesity" not in front.get(page_url(live)).text
    session = Client()
    session.force_login(User.objects.get(pk=editor.pk))
    cookie = f"sessionid={session.cookies['sessionid'].value}"

    for _ in range(2):
        response = front.get(page_url(live), headers={"Cookie": cookie})
        assert response.headers["X-Cache"] == "PASS"
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert "ends all obesity" in response.text
    # What they were shown never became the readers' copy.
    assert "ends all obesity" not in front.get(page_url(live)).text


def test_readers_cookies_neither_bypass_nor_split_the_cache(front, live):
    cached(front, page_url(live))
    response = front.get(page_url(live), headers={"Cookie": "csrftoken=abc; _ga=GA1.2.3"})
    assert response.headers["X-Cache"] == "HIT"


def test_a_reader_who_just_sent_a_form_gets_the_page_from_the_app(front, live):
    cached(front, page_url(live))
    for cookie in ("messages=abc", "factually_wrote=1", "csrftoken=x; messages=abc"):
        response = front.get(page_url(live), headers={"Cookie": cookie})
        assert response.headers["X-Cache"] == "PASS", cookie


def test_form_pages_are_never_kept_by_varnish(front, live):
    url = reverse("reports:suggest_claim")
    for _ in range(2):
        response = front.get(url)
        assert response.headers["X-Cache"] == "MISS"
        assert "csrftoken" in response.headers.get("Set-Cookie", "")


def test_a_purge_without_the_secret_is_refused(front, live):
    cached(front, page_url(live))
    for headers in ({}, {frontcache.SECRET_HEADER: "guess"}):
        refused = front.request(
            "PURGE", "/", headers={frontcache.PURGE_KEYS_HEADER: "site", **headers}
        )
        assert refused.status_code == 403
    assert front.get(page_url(live)).headers["X-Cache"] == "HIT"


def test_a_purge_varnish_missed_is_retried_until_it_confirms(front, live, settings, varnish):
    cached(front, page_url(live))
    settings.FACTUALLY_FRONT_CACHE_URLS = [f"http://127.0.0.1:{free_port()}/"]  # nobody there

    workflow.unpublish(live, by=None, comment="Published by mistake.")
    assert {"list", "page-sugar-tax", "verdict-false"} <= set(PendingPurge.objects.get().keys)
    assert front.get(page_url(live)).status_code == 200  # Varnish was never told

    call_command("publish_scheduled", stdout=StringIO())  # cron: still unreachable
    assert PendingPurge.objects.count() == 1

    settings.FACTUALLY_FRONT_CACHE_URLS = [varnish.url]
    output = StringIO()
    call_command("publish_scheduled", stdout=output)  # a minute later
    assert "purge" not in output.getvalue()
    assert not PendingPurge.objects.exists()
    assert front.get(page_url(live)).status_code == 404
