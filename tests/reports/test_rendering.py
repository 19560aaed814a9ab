"""Stored articles (reports/rendering.py): the live report page's article is rendered once,
from the published version alone, and shows exactly what was published."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.shortcuts import render

from reports import rendering, workflow
from reports.models import FollowUpQuestion, PublishedVersion, Report, StoredArticle, Verdict
from reports.public import views
from tests.conftest import make_report, make_topic, publish_now

pytestmark = pytest.mark.django_db


def page(client, report: Report) -> str:
    response = client.get(f"/reports/{report.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def squeezed(html: str) -> str:
    """`html` with each run of whitespace made one space (templates indent differently)."""
    return re.sub(r"\s+", " ", html)


def stored(report: Report) -> StoredArticle:
    return StoredArticle.objects.get(version__report=report, version__is_live=True)


def corrected_report_with_everything() -> Report:
    """A report on its second version, with topics and an answered follow-up question."""
    answering = make_report(claim="The answer is live.", slug="the-answer-is-live")
    publish_now(answering)
    report = make_report(questions=2)
    report.topics.add(make_topic(name="Health"), make_topic(name="Money"))
    FollowUpQuestion.objects.filter(report=report, position=1).update(answered_by=answering)
    publish_now(report)
    report.summary = "A corrected summary [1] [2]."
    report.save()
    publish_now(report, note="The summary said otherwise.", kind="correction")
    return report


def test_the_page_from_the_stored_article_is_the_page_rendered_from_the_version(client):
    report = corrected_report_with_everything()

    response = client.get(f"/reports/{report.slug}/")

    # The report page as it was rendered before articles were stored: from the version.
    live = report.versions.get(is_live=True)
    versions = views._versions_of_live_report(live.slug, show=Q(number=live.number))
    context = views._version_context(response.wsgi_request, versions[0], versions)
    before = render(response.wsgi_request, "reports/detail.html", context).content.decode()
    assert squeezed(response.content.decode()) == squeezed(before)
    for shown in (
        "Health",
        "Money",
        "Corrected on",
        "The summary said otherwise.",
        "A corrected summary",
        'href="/reports/the-answer-is-live/"',
        "What about question 2?",
        '"@type": "ClaimReview"',
    ):
        assert shown in before


def test_publishing_stores_the_article_so_the_page_is_one_query(
    client, django_assert_max_num_queries
):
    report = make_report(questions=1)
    report.topics.add(make_topic(), make_topic())
    publish_now(report)

    assert "<article" in stored(report).html
    assert rendering.QUESTIONS_MARK in stored(report).html
    with django_assert_max_num_queries(1):
        content = page(client, report)
    assert "What about question 1?" in content
    assert rendering.QUESTIONS_MARK not in content


def test_a_corrected_report_is_still_one_query_and_an_answered_question_one_more(
    client, django_assert_max_num_queries
):
    report = corrected_report_with_everything()

    with django_assert_max_num_queries(2):
        content = page(client, report)

    assert "Corrected on" in content


def test_a_correction_renders_the_stored_article_again(client):
    report = make_report()
    publish_now(report)
    first = stored(report)
    report.summary = "Now with the right figure [1] [2]."
    report.save()

    publish_now(report, note="The figure was wrong.", kind="correction")

    second = stored(report)
    assert second.pk != first.pk
    assert "Now with the right figure" in second.html
    assert "The figure was wrong." in second.html
    content = page(client, report)
    assert "Now with the right figure" in content
    assert "Corrected on" in content


def test_draft_changes_never_reach_the_stored_article(client):
    report = make_report(claim="The published claim.")
    publish_now(report)
    before = page(client, report)

    # The working copy changes after publication, as an editor drafts a correction.
    report.claim = "A drafted claim."
    report.summary = "A drafted summary [1] [2]."
    report.verdict = Verdict.objects.get(slug="true")
    report.save()
    report.sections.update(heading="A drafted heading")
    report.topics.add(make_topic(name="Drafted topic"))
    FollowUpQuestion.objects.filter(report=report).update(question="A drafted question?")

    assert page(client, report) == before
    # Even rendered again (after a template change, say), it comes from the version.
    call_command("render_articles", stdout=None)
    again = page(client, report)
    assert squeezed(again) == squeezed(before)
    for drafted in ("drafted", "Drafted"):
        assert drafted not in again

    publish_now(report, note="Redrafted.", kind="update")
    assert "A drafted claim." in page(client, report)


def test_a_live_version_without_a_stored_article_gets_one_at_its_first_view(client):
    report = make_report()
    publish_now(report)
    expected = page(client, report)
    StoredArticle.objects.all().delete()

    assert page(client, report) == expected
    assert "<article" in stored(report).html


def test_saving_a_topic_renders_the_articles_showing_it_again(client):
    topic = make_topic(name="Helth")
    report, other = make_report(), make_report()
    report.topics.add(topic)
    publish_now(report)
    publish_now(other)
    other_html = stored(other).html

    topic.name = "Health"
    topic.save()

    assert stored(report).html == ""
    assert stored(other).html == other_html
    content = page(client, report)
    assert ">Health</a>" in content
    assert "Helth" not in content


def test_saving_a_verdict_renders_every_article_again(client):
    report = make_report()
    publish_now(report)
    verdict = Verdict.objects.get(slug="false")

    verdict.name = "Wrong"
    verdict.save()

    assert stored(report).html == ""
    assert "Wrong" in page(client, report)


def test_a_render_begun_before_a_change_is_not_stored(client, monkeypatch):
    report = make_report()
    publish_now(report)
    rendering.forget_articles()
    render_article = rendering.render_article

    def render_while_a_topic_is_renamed(version):
        result = render_article(version)
        rendering.forget_articles()  # what saving a topic does, between read and store
        return result

    monkeypatch.setattr(rendering, "render_article", render_while_a_topic_is_renamed)
    page(client, report)

    assert stored(report).html == ""


def test_a_question_stops_linking_to_a_report_taken_down(client):
    answering = make_report(claim="The answer.")
    publish_now(answering)
    report = make_report(questions=1)
    FollowUpQuestion.objects.filter(report=report).update(answered_by=answering)
    publish_now(report)
    assert f'href="/reports/{answering.slug}/"' in page(client, report)

    workflow.unpublish(answering, by=None, comment="Taken down.")

    content = page(client, report)
    assert f'href="/reports/{answering.slug}/"' not in content
    assert "What about question 1?" in content


def test_render_articles_renders_every_live_article_again():
    reports = [make_report() for _ in range(3)]
    for report in reports:
        publish_now(report)
    StoredArticle.objects.update(html="stale")

    call_command("render_articles", stdout=None)

    assert not StoredArticle.objects.filter(html="stale").exists()
    assert StoredArticle.objects.filter(html__contains="<article").count() == 3


def test_render_articles_lazy_only_empties_them():
    report = make_report()
    publish_now(report)

    call_command("render_articles", "--lazy", stdout=None)

    assert stored(report).html == ""
    assert PublishedVersion.objects.live().count() == 1
