"""The library shows only what was published: source and topic pages of unpublished work 404.

An anonymous visitor walks source IDs and topic slugs. A source page names the source and a
topic page names the topic (and its description) even with no report listed, so a page for
a source that only a draft cites, or a topic only drafts carry, tells the world what the
newsroom is working on. Such pages do not exist (404), and the sitemap lists none of them.
"""

from __future__ import annotations

import re

import pytest

from reports import workflow
from reports.models import Report
from sources import merging
from sources.models import Source
from tests.conftest import make_report, make_source, make_topic, make_user, publish_now

pytestmark = pytest.mark.django_db

# Every 404 costs two queries of its own: the flat-page fallback looks the address up.
FLATPAGE_FALLBACK = 2
WORKING_TITLE = "Leaked working title of an unpublished investigation"
SECRET_TOPIC = "Zeppelinquartz investigation"


def citing(source: Source, topic=None) -> Report:
    """A report whose one reference cites `source`, unpublished, tagged with `topic`."""
    report = make_report(references=1, questions=0)
    report.references.update(source=source)
    if topic is not None:
        report.topics.add(topic)
    return report


def taken_down(report: Report, how: str) -> Report:
    publish_now(report)
    reviewer = make_user(f"reviewer-{report.pk}", is_superuser=True)
    if how == "withdrawn":
        workflow.withdraw(report, by=reviewer, reason="The evidence was wrong.")
    else:
        workflow.unpublish(report, by=reviewer, comment="Published by mistake.")
    return report


def assert_not_found(client, url: str, *secrets: str) -> None:
    response = client.get(url)
    assert response.status_code == 404, url
    for secret in secrets:
        assert secret not in response.content.decode()


def test_a_source_only_a_draft_cites_has_no_page(client, django_assert_max_num_queries):
    source = make_source(title=WORKING_TITLE)
    citing(source)

    with django_assert_max_num_queries(2 + FLATPAGE_FALLBACK):
        assert_not_found(client, source.get_absolute_url(), WORKING_TITLE)


@pytest.mark.parametrize("how", ["withdrawn", "unpublished"])
def test_a_source_only_a_taken_down_report_cites_has_no_page(client, how):
    source = make_source(title=WORKING_TITLE)
    taken_down(citing(source), how)

    assert_not_found(client, source.get_absolute_url(), WORKING_TITLE)


def test_a_source_only_an_old_version_cited_has_no_page(client):
    dropped, replacement = make_source(title=WORKING_TITLE), make_source()
    report = citing(dropped)
    publish_now(report)
    report.references.update(source=replacement)
    report.summary += " Corrected."
    report.save()
    publish_now(report)

    assert_not_found(client, dropped.get_absolute_url(), WORKING_TITLE)
    assert client.get(replacement.get_absolute_url()).status_code == 200


def test_a_source_a_live_version_cites_has_its_page(client, django_assert_max_num_queries):
    source = make_source(title="A published source")
    report = citing(source)
    publish_now(report)

    with django_assert_max_num_queries(3):
        response = client.get(source.get_absolute_url())

    assert response.status_code == 200
    assert "A published source" in response.content.decode()
    assert report.claim in response.content.decode()


def test_a_merged_id_does_not_redirect_to_a_source_without_a_page(client, curator):
    kept, duplicate = make_source(title=WORKING_TITLE), make_source()
    citing(kept)
    merged_id = duplicate.pk
    merging.merge(kept, duplicate, by=curator)

    response = client.get(f"/sources/{merged_id}/")

    assert response.status_code == 404
    assert str(kept.pk) not in response.get("Location", "")


@pytest.mark.parametrize(
    "url", ["/topics/{slug}/", "/topics/{slug}/feed/", "/topics/{slug}/feed/atom/"]
)
def test_a_topic_only_drafts_carry_has_no_page_or_feed(client, url, django_assert_max_num_queries):
    topic = make_topic(name=SECRET_TOPIC, description="What we are looking into.")
    citing(make_source(), topic)

    with django_assert_max_num_queries(1 + FLATPAGE_FALLBACK):
        assert_not_found(client, url.format(slug=topic.slug), SECRET_TOPIC, "looking into")


@pytest.mark.parametrize("how", ["withdrawn", "unpublished"])
def test_a_topic_only_taken_down_reports_carry_has_no_page(client, how):
    topic = make_topic(name=SECRET_TOPIC)
    taken_down(citing(make_source(), topic), how)

    assert_not_found(client, f"/topics/{topic.slug}/", SECRET_TOPIC)


def test_a_topic_a_live_report_carries_has_its_page(client, django_assert_max_num_queries):
    topic = make_topic(name="Published topic")
    report = citing(make_source(), topic)
    publish_now(report)

    with django_assert_max_num_queries(8):
        response = client.get(f"/topics/{topic.slug}/")

    assert response.status_code == 200
    assert report.claim in response.content.decode()


def sitemap_locations(client) -> list[str]:
    index = client.get("/sitemap.xml").content.decode()
    locations = re.findall(r"<loc>http://testserver(/[^<]*)</loc>", index)
    pages = []
    for location in locations:
        if "sitemap" in location:
            section = client.get(location).content.decode()
            pages += re.findall(r"<loc>http://testserver(/[^<]*)</loc>", section)
        else:
            pages.append(location)
    return pages


def test_the_sitemap_lists_only_pages_that_exist(client):
    hidden_topic, live_topic = make_topic(name=SECRET_TOPIC), make_topic(name="Published")
    citing(make_source(title=WORKING_TITLE), hidden_topic)
    publish_now(citing(make_source(), live_topic))
    taken_down(citing(make_source(), hidden_topic), "withdrawn")

    locations = sitemap_locations(client)

    assert f"/topics/{live_topic.slug}/" in locations
    assert f"/topics/{hidden_topic.slug}/" not in locations
    for location in locations:
        assert client.get(location).status_code == 200, location
