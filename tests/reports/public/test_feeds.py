"""RSS and Atom feeds, the ClaimReview JSON feed, the sitemap and robots.txt."""

from __future__ import annotations

import calendar
import datetime
import html
import json
import xml.etree.ElementTree as ET

import feedparser
import pytest

from reports import workflow
from reports.models import ClaimantType, Verdict
from reports.public import feeds
from tests.conftest import make_report, make_topic, publish_now

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def published(topics=(), **fields):
    fields.setdefault("sections", 1)
    fields.setdefault("references", 1)
    fields.setdefault("questions", 0)
    report = make_report(**fields)
    report.topics.set(topics)
    publish_now(report)
    return report


def republished(report, **changes):
    for name, value in changes.items():
        setattr(report, name, value)
    report.save()
    publish_now(report, note="Updated.", kind="update")
    return report


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return feedparser.parse(response.content)


def moment(parsed: tuple) -> datetime.datetime:
    """A feedparser time (UTC struct_time) as an aware datetime, to the second."""
    return datetime.datetime.fromtimestamp(calendar.timegm(parsed), tz=datetime.UTC)


def to_second(value: datetime.datetime) -> datetime.datetime:
    return value.replace(microsecond=0)


# RSS and Atom


def test_rss_feed_lists_live_reports_with_claim_link_verdict_summary_and_dates(client):
    report = published(
        claim="The Great Wall is visible from the Moon.",
        slug="great-wall",
        verdict=Verdict.objects.get(slug="false"),
        summary="It is far too narrow [1].",
    )
    first = report.versions.get()
    republished(report, summary="It is far too narrow to see [1].")
    live = report.versions.get(is_live=True)

    feed = parse(client, "/feeds/latest/rss/")

    assert feed.bozo == 0
    assert feed.feed.title == "Factually: latest fact-checks"
    assert feed.feed.link == "http://testserver/"
    [entry] = feed.entries
    assert entry.title == "The Great Wall is visible from the Moon."
    assert entry.link == "http://testserver/reports/great-wall/"
    assert entry.summary == "Verdict: False. It is far too narrow to see."
    assert moment(entry.published_parsed) == to_second(first.published_at)
    assert live.published_at > first.published_at


def test_atom_feed_gives_first_publication_and_last_update(client):
    report = published(slug="atom-report", verdict=Verdict.objects.get(slug="mostly-true"))
    first = report.versions.get()
    republished(report, summary="Corrected summary [1].")
    live = report.versions.get(is_live=True)

    feed = parse(client, "/feeds/latest/atom/")

    assert feed.bozo == 0
    assert feed.version == "atom10"
    [entry] = feed.entries
    assert entry.link == "http://testserver/reports/atom-report/"
    assert entry.id == "http://testserver/reports/atom-report/"
    assert entry.summary == "Verdict: Mostly true. Corrected summary."
    assert moment(entry.published_parsed) == to_second(first.published_at)
    assert moment(entry.updated_parsed) == to_second(live.published_at)


def test_feeds_keep_markup_in_claims_as_text(client):
    claim = "Salt & <b>pepper</b> cure colds"
    published(claim=claim)

    rss = parse(client, "/feeds/latest/rss/").entries[0]
    atom = parse(client, "/feeds/latest/atom/").entries[0]

    # RSS titles are read as HTML, so the claim's markup arrives escaped; Atom's as text.
    assert html.unescape(rss.title) == claim
    assert atom.title == claim
    assert "<b>" not in rss.title


def test_feeds_leave_out_drafts_withdrawn_and_unpublished_reports(client):
    published(claim="Live claim.")
    make_report(claim="Draft claim.")
    withdrawn = published(claim="Withdrawn claim.")
    workflow.withdraw(withdrawn, by=None, reason="We could not stand behind it.")
    unpublished = published(claim="Unpublished claim.")
    workflow.unpublish(unpublished, by=None, comment="Published by mistake.")
    in_review = published(claim="Live text of an edited claim.")
    republish_pending = in_review
    republish_pending.claim = "Edited but not republished."
    republish_pending.save()

    for url in ("/feeds/latest/rss/", "/feeds/latest/atom/"):
        titles = {entry.title for entry in parse(client, url).entries}
        assert titles == {"Live claim.", "Live text of an edited claim."}


def test_feeds_carry_the_latest_thirty_most_recently_published_first(client):
    reports = [published(claim=f"Claim {n:02d}.") for n in range(32)]
    republished(reports[0], summary="Updated summary [1].")

    entries = parse(client, "/feeds/latest/rss/").entries

    assert len(entries) == feeds.FEED_ITEMS == 30
    assert [entry.title for entry in entries[:3]] == ["Claim 00.", "Claim 31.", "Claim 30."]


def test_feed_items_are_tagged_with_their_topics(client):
    health = make_topic(name="Health")
    published(claim="Tagged.", topics=[health, make_topic(name="Science")])

    entry = parse(client, "/feeds/latest/rss/").entries[0]

    assert sorted(tag.term for tag in entry.tags) == ["Health", "Science"]


def test_topic_feed_lists_the_live_reports_of_that_topic_only(client):
    health = make_topic(name="Health", slug="health")
    space = make_topic(name="Space", slug="space")
    published(claim="Health claim.", topics=[health])
    published(claim="Space claim.", topics=[space])
    published(claim="Both.", topics=[health, space])
    make_report(claim="Draft health claim.").topics.add(health)
    # Tagged on the working copy only: the live version was published without the topic.
    later = published(claim="Tagged after publishing.")
    later.topics.add(health)

    rss = parse(client, "/topics/health/feed/")
    atom = parse(client, "/topics/health/feed/atom/")

    assert rss.feed.title == "Factually: fact-checks on Health"
    assert {entry.title for entry in rss.entries} == {"Health claim.", "Both."}
    assert {entry.title for entry in atom.entries} == {"Health claim.", "Both."}
    assert all(entry.link.startswith("http://testserver/reports/") for entry in rss.entries)


def test_verdict_feed_lists_the_live_reports_with_that_verdict_only(client):
    published(claim="False one.", verdict=Verdict.objects.get(slug="false"))
    published(claim="True one.", verdict=Verdict.objects.get(slug="true"))
    changed = published(claim="Was false.", verdict=Verdict.objects.get(slug="false"))
    republished(changed, verdict=Verdict.objects.get(slug="mixed"))

    rss = parse(client, "/verdicts/false/feed/")
    atom = parse(client, "/verdicts/false/feed/atom/")

    assert rss.feed.title == "Factually: fact-checks rated “False”"
    assert [entry.title for entry in rss.entries] == ["False one."]
    assert [entry.title for entry in atom.entries] == ["False one."]
    assert [e.title for e in parse(client, "/verdicts/mixed/feed/").entries] == ["Was false."]


@pytest.mark.urls("tests.reports.public.listing_urls")
def test_topic_and_verdict_feeds_link_to_their_pages_once_these_exist(client):
    published(topics=[make_topic(name="Health", slug="health")])

    assert parse(client, "/topics/health/feed/").feed.link == "http://testserver/topics/health/"
    assert parse(client, "/verdicts/false/feed/").feed.link == "http://testserver/verdicts/false/"


@pytest.mark.urls("tests.reports.public.no_listing_urls")
def test_topic_and_verdict_feeds_link_home_and_to_the_scale_while_they_have_no_page(client):
    published(topics=[make_topic(name="Health", slug="health")])

    assert parse(client, "/topics/health/feed/").feed.link == "http://testserver/"
    assert parse(client, "/verdicts/false/feed/").feed.link == "http://testserver/rating-scale/"


@pytest.mark.parametrize(
    "url", ["/topics/nothing/feed/", "/verdicts/nothing/feed/", "/topics/nothing/feed/atom/"]
)
def test_feeds_of_unknown_topics_and_verdicts_are_not_found(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/topics/quiet/feed/", "/topics/quiet/feed/atom/"])
def test_a_topic_without_live_reports_has_no_feed_as_it_has_no_page(client, url):
    topic = make_topic(name="Quiet", slug="quiet", description="Only drafts so far.")
    make_report().topics.add(topic)

    response = client.get(url)

    assert response.status_code == 404
    assert "Only drafts so far." not in response.content.decode()


def test_an_empty_verdict_feed_is_a_valid_feed(client):
    feed = parse(client, "/verdicts/false/feed/")

    assert feed.bozo == 0
    assert feed.entries == []


@pytest.mark.parametrize("url", ["/", "/about/", "/rating-scale/"])
def test_every_page_advertises_the_feeds(client, url):
    report = published()

    for page in (url, f"/reports/{report.slug}/"):
        content = client.get(page).content.decode()
        assert (
            '<link rel="alternate" type="application/rss+xml" '
            'title="Latest fact-checks (RSS)" href="/feeds/latest/rss/">'
        ) in content
        assert (
            '<link rel="alternate" type="application/atom+xml" '
            'title="Latest fact-checks (Atom)" href="/feeds/latest/atom/">'
        ) in content


@pytest.mark.parametrize("count", [3, 35])
@pytest.mark.parametrize(
    "url",
    ["/feeds/latest/rss/", "/feeds/latest/atom/", "/topics/health/feed/", "/verdicts/false/feed/"],
)
def test_feeds_run_a_fixed_number_of_queries(client, django_assert_max_num_queries, count, url):
    health = make_topic(name="Health", slug="health")
    for _ in range(count):
        published(topics=[health, make_topic()])

    with django_assert_max_num_queries(4):
        response = client.get(url)

    assert len(feedparser.parse(response.content).entries) == min(count, feeds.FEED_ITEMS)


# ClaimReview JSON feed


def test_claimreview_json_feed_has_a_json_feed_shape_with_claim_reviews(client):
    report = published(
        claim="Humans use 10% of their brain.",
        slug="ten-percent",
        verdict=Verdict.objects.get(slug="false"),
        summary="Scans show activity everywhere [1].",
        claimant="Popular myth website",
        claimant_type=ClaimantType.ORGANISATION,
        topics=[make_topic(name="Health")],
    )
    first = report.versions.get()

    response = client.get("/feeds/claimreview.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/feed+json"
    feed = json.loads(response.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["home_page_url"] == "http://testserver/"
    assert feed["feed_url"] == "http://testserver/feeds/claimreview.json"
    assert "next_url" not in feed
    assert feed["_claim_review"]["total"] == 1
    [item] = feed["items"]
    assert item["id"] == item["url"] == "http://testserver/reports/ten-percent/"
    assert item["title"] == "Humans use 10% of their brain."
    assert item["content_text"] == "Scans show activity everywhere."
    assert item["tags"] == ["Health"]
    assert datetime.datetime.fromisoformat(item["date_published"]) == first.published_at
    review = item["_claim_review"]
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == "Humans use 10% of their brain."
    assert review["url"] == item["url"]
    assert review["reviewRating"]["alternateName"] == "False"
    assert review["reviewRating"]["ratingValue"] == 1
    assert review["itemReviewed"]["author"] == {
        "@type": "Organization",
        "name": "Popular myth website",
    }


def test_claimreview_json_feed_is_paginated(client, monkeypatch):
    monkeypatch.setattr(feeds, "JSON_FEED_PAGE_SIZE", 2)
    for n in range(5):
        published(claim=f"Claim {n}.")

    first = json.loads(client.get("/feeds/claimreview.json").content)
    third = json.loads(client.get("/feeds/claimreview.json", {"page": 3}).content)

    assert [item["title"] for item in first["items"]] == ["Claim 4.", "Claim 3."]
    assert first["next_url"] == "http://testserver/feeds/claimreview.json?page=2"
    assert first["_claim_review"]["pages"] == 3
    assert [item["title"] for item in third["items"]] == ["Claim 0."]
    assert "next_url" not in third
    assert client.get("/feeds/claimreview.json", {"page": 4}).status_code == 404
    assert client.get("/feeds/claimreview.json", {"page": "x"}).status_code == 404


def test_claimreview_json_feed_leaves_out_drafts_and_withdrawn_reports(client):
    published(claim="Live.")
    make_report(claim="Draft.")
    withdrawn = published(claim="Withdrawn.")
    workflow.withdraw(withdrawn, by=None, reason="Wrong.")

    feed = json.loads(client.get("/feeds/claimreview.json").content)

    assert [item["title"] for item in feed["items"]] == ["Live."]


def test_claimreview_json_feed_of_nothing_is_an_empty_feed(client):
    feed = json.loads(client.get("/feeds/claimreview.json").content)

    assert feed["items"] == []


@pytest.mark.parametrize("count", [3, 60])
def test_claimreview_json_feed_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, count
):
    for _ in range(count):
        published(topics=[make_topic()], claimant="Jane Doe")

    with django_assert_max_num_queries(3):
        response = client.get("/feeds/claimreview.json")

    items = json.loads(response.content)["items"]
    assert len(items) == min(count, feeds.JSON_FEED_PAGE_SIZE)


# Sitemap and robots.txt


def sitemap(client) -> dict[str, str | None]:
    """Each URL of the sitemap with its lastmod (None when it has none)."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    return {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }


def test_sitemap_lists_live_reports_with_their_last_publication(client):
    report = published(slug="in-sitemap")
    republished(report, summary="Updated [1].")
    live = report.versions.get(is_live=True)
    make_report(slug="draft-report")
    withdrawn = published(slug="withdrawn-report")
    workflow.withdraw(withdrawn, by=None, reason="Wrong.")

    urls = sitemap(client)

    assert urls["http://testserver/reports/in-sitemap/"] == live.published_at.date().isoformat()
    assert "http://testserver/reports/draft-report/" not in urls
    assert "http://testserver/reports/withdrawn-report/" not in urls
    assert not any("/versions/" in url or "/history/" in url for url in urls)


def test_sitemap_lists_home_rating_scale_and_flat_pages(client):
    urls = sitemap(client)

    for path in ("/", "/rating-scale/", "/methodology/", "/about/", "/corrections/", "/contact/"):
        assert f"http://testserver{path}" in urls


@pytest.mark.urls("tests.reports.public.listing_urls")
def test_sitemap_lists_topic_and_verdict_pages_with_live_reports_once_they_exist(client):
    health = make_topic(name="Health", slug="health")
    make_topic(name="Empty", slug="empty")
    older = published(topics=[health], verdict=Verdict.objects.get(slug="false"))
    newer = published(topics=[health], verdict=Verdict.objects.get(slug="false"))
    latest = newer.versions.get().published_at
    assert latest >= older.versions.get().published_at

    urls = sitemap(client)

    assert urls["http://testserver/topics/health/"] == latest.date().isoformat()
    assert urls["http://testserver/verdicts/false/"] == latest.date().isoformat()
    assert "http://testserver/topics/empty/" not in urls
    assert "http://testserver/verdicts/true/" not in urls


@pytest.mark.urls("tests.reports.public.no_listing_urls")
def test_sitemap_leaves_out_topic_and_verdict_pages_while_they_do_not_exist(client):
    published(topics=[make_topic(slug="health")])

    urls = sitemap(client)

    assert not any("/topics/" in url or "/verdicts/" in url for url in urls)


def test_sitemap_uses_the_host_of_the_request(client, settings):
    settings.ALLOWED_HOSTS = ["factually.example"]
    published(slug="on-host")

    response = client.get("/sitemap.xml", headers={"host": "factually.example"})

    assert b"<loc>http://factually.example/reports/on-host/</loc>" in response.content


@pytest.mark.parametrize("count", [3, 40])
def test_sitemap_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, count):
    for _ in range(count):
        published(topics=[make_topic()])

    with django_assert_max_num_queries(6):
        urls = sitemap(client)

    assert sum("/reports/" in url for url in urls) == count


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /" not in lines
