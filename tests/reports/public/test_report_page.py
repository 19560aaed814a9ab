"""The report page's small courtesies: the verdict explains itself, topics lead on, and the
reference list punctuates titles as written."""

from __future__ import annotations

import datetime
import re
import urllib.request

import lxml.html
import pytest

from reports.models import Reference, Report
from tests.conftest import make_publisher, make_report, make_source, make_topic, publish_now

pytestmark = pytest.mark.django_db


def page(client, report: Report) -> str:
    response = client.get(f"/reports/{report.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def reference_text(content: str, number: int) -> str:
    """Reference `number` of the list as a reader reads it: tags dropped, spaces collapsed."""
    item = re.search(rf'<li id="ref-{number}"[^>]*>(.*?)</li>', content, re.S)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()


# The verdict


def test_the_verdict_badge_links_to_its_place_on_the_rating_scale(client):
    report = make_report()
    publish_now(report)

    content = page(client, report)

    badge = re.search(r'<p class="report__verdict">(.*?)</p>', content, re.S)[1]
    assert badge.startswith('<a class="report__verdict-link" href="/rating-scale/#verdict-false">')
    assert "Verdict: </span>False" in badge
    assert 'id="verdict-false"' in client.get("/rating-scale/").content.decode()


# Topics


def test_the_report_page_lists_its_topics_linking_to_their_pages(client):
    report = make_report()
    report.topics.add(make_topic(name="Science", slug="science"), make_topic(name="Paris"))
    publish_now(report)

    content = page(client, report)

    topics = re.search(r'<ul class="report__topics" aria-label="Topics">(.*?)</ul>', content, re.S)
    assert topics, "no topic list"
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', topics[1])
    assert [name for _, name in links] == ["Paris", "Science"]
    assert ("/topics/science/", "Science") in links
    for href, _ in links:
        assert client.get(href).status_code == 200


def test_a_report_without_topics_shows_no_topic_list(client):
    report = make_report()
    publish_now(report)

    assert 'class="report__topics"' not in page(client, report)


def test_an_old_version_lists_the_topics_it_was_published_with(client):
    report = make_report()
    report.topics.add(make_topic(name="Health"))
    publish_now(report)
    report.topics.set([make_topic(name="Money")])
    report.summary += " Revised."
    report.save()
    publish_now(report)

    old = client.get(f"/reports/{report.slug}/versions/1/").content.decode()
    current = page(client, report)

    # "Health" is on no live version now: its page would be a 404, so it is not linked.
    assert ">Health</a>" not in old
    assert ">Money</a>" not in old
    assert ">Money</a>" in current


def test_topics_keep_the_report_page_to_its_queries(client, django_assert_max_num_queries):
    report = make_report(questions=0)
    report.topics.add(*(make_topic() for _ in range(6)))
    publish_now(report)

    with django_assert_max_num_queries(1):
        content = page(client, report)

    assert content.count('<a href="/topics/') == 6


def test_the_staff_preview_lists_the_working_copys_topics(client, django_user_model):
    report = make_report()
    report.topics.add(make_topic(name="Transport"))
    client.force_login(django_user_model.objects.create_superuser("boss", password="x" * 12))

    content = client.get(f"/admin/reports/report/{report.pk}/preview/").content.decode()

    assert re.search(
        r'<ul class="report__topics"[^>]*>\s*<li><a href="/topics/[^"]+">Transport<', content
    )


# Reference punctuation


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Can You See the Great Wall from Space?", "Can You See the Great Wall from Space?"),
        ("Stop the press!", "Stop the press!"),
        ("And then…", "And then…"),
        ("Ends with a stop.", "Ends with a stop."),
        ("“Is it true?”", "“Is it true?”"),
        ("A plain title", "A plain title."),
        ("Figures (2020)", "Figures (2020)."),
    ],
)
def test_a_reference_title_gets_a_full_stop_only_if_it_has_no_ending_of_its_own(
    client, title, shown
):
    report = make_report(references=1)
    Reference.objects.filter(report=report).update(source=make_source(title=title))
    publish_now(report)

    text = reference_text(page(client, report), 1)

    assert text.startswith(f"{shown} ")
    assert "?." not in text
    assert "!." not in text
    assert "…." not in text


def test_authors_and_publisher_are_not_stopped_twice_either(client):
    report = make_report(references=1)
    source = make_source(
        title="Was Napoleon short?",
        authors="Smith J.",
        publisher=make_publisher(name="Acme Inc."),
    )
    Reference.objects.filter(report=report).update(source=source)
    publish_now(report)

    text = reference_text(page(client, report), 1)

    assert text.startswith("Was Napoleon short? Smith J. Acme Inc. Source details")


def test_a_dated_reference_ends_its_publisher_line_with_one_stop(client):
    report = make_report(references=1)
    source = make_source(
        title="Tall tales",
        publisher=make_publisher(name="Britannica"),
        published_on=datetime.date(2019, 6, 1),
    )
    Reference.objects.filter(report=report).update(source=source)
    publish_now(report)

    text = reference_text(page(client, report), 1)

    assert text.startswith("Tall tales. Britannica, June 1, 2019. Source details")


# Markers as people write them, over real HTTP


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_published_report_links_every_number_of_its_lists_and_ranges(live_server):
    report = make_report(
        references=7,
        summary="Two sources agree [3, 4], three more [5–7], and the first two [1][2].",
        conclusion="So it is false [1,2] [3-4] [5 – 7].",
        sections=1,
    )
    report.sections.update(body="The figures [1–7].")
    publish_now(report)

    with urllib.request.urlopen(f"{live_server.url}/reports/{report.slug}/") as response:
        page = lxml.html.fromstring(response.read())

    groups = page.find_class("citations")
    for hidden in page.find_class("visually-hidden"):
        hidden.drop_tree()
    shown = [group.text_content() for group in groups]
    assert shown[:3] == ["[3, 4]", "[5–7]", "[1] [2]"]
    assert shown[3:] == ["[1–7]", "[1,2] [3-4] [5 – 7]"]
    links = [[a.get("href")[len("#ref-") :] for a in group.iter("a")] for group in groups]
    assert links == [["3", "4"], ["5", "7"], ["1", "2"], ["1", "7"], ["1", "2", "3", "4", "5", "7"]]
    # Every back-link leads to a place on the page; 6's lead to the dashes of its ranges.
    ids = set(page.xpath("//@id"))
    backlinks = {
        int(item.get("id").removeprefix("ref-")): [
            a.get("href") for a in item.find_class("backlink")
        ]
        for item in page.xpath('//li[starts-with(@id, "ref-")]')
    }
    assert all(href[1:] in ids for hrefs in backlinks.values() for href in hrefs)
    assert [len(backlinks[n]) for n in range(1, 8)] == [3, 3, 3, 3, 3, 3, 3]
    for href in backlinks[6]:  # cited only inside ranges: [5–7], [1–7], [5 – 7]
        assert page.get_element_by_id(href[1:]).get("class") == "citation-range"
