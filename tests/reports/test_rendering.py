"""Stored pages (reports/rendering.py): the live report's whole page is rendered once, from
the published version alone, and a reader gets exactly what a full render would give."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from reports import rendering, workflow
from reports.models import FollowUpQuestion, PublishedVersion, Report, StoredArticle, Verdict
from reports.public import views
from tests.conftest import make_report, make_topic, make_user, publish_now

pytestmark = pytest.mark.django_db


def get(client, report: Report, **extra):
    response = client.get(f"/reports/{report.slug}/", **extra)
    assert response.status_code == 200
    return response


def page(client, report: Report, **extra) -> str:
    return get(client, report, **extra).content.decode()


def full_render(request, report: Report) -> bytes:
    """The page as rendered from the versions, for `request`: what the stored page must be."""
    slug = report.versions.get(is_live=True).slug
    versions = views._versions_of_live_report(slug, show=Q(is_live=True))
    context = rendering.version_context(request, versions[0], versions)
    return render(request, "reports/detail.html", context).content


def stored(report: Report) -> StoredArticle:
    return StoredArticle.objects.get(version__report=report, version__is_live=True)


def corrected_report_with_everything(**fields) -> Report:
    """A report on its second version, with references, topics, a question answered by a
    live report, one answered by a report taken down, and one unanswered."""
    answering = make_report(claim="The answer is live.", slug="the-answer-is-live")
    publish_now(answering)
    gone = make_report(claim="This answer was taken down.", slug="taken-down")
    publish_now(gone)
    report = make_report(questions=3, references=3, **fields)
    report.topics.add(make_topic(name="Health"), make_topic(name="Money"))
    FollowUpQuestion.objects.filter(report=report, position=1).update(answered_by=answering)
    FollowUpQuestion.objects.filter(report=report, position=2).update(answered_by=gone)
    publish_now(report)
    report.summary = "A corrected summary [1] [2]."
    report.save()
    publish_now(report, note="The summary said otherwise.", kind="correction")
    workflow.unpublish(gone, by=None, comment="Taken down.")
    return report


@pytest.mark.parametrize("checked_on", [datetime.date(2026, 1, 27), datetime.date(2020, 5, 4)])
@pytest.mark.parametrize(("host", "secure"), [("testserver", False), ("fact.example:8443", True)])
def test_a_reader_gets_the_stored_page_byte_for_byte_as_a_full_render(
    client, settings, checked_on, host, secure
):
    settings.ALLOWED_HOSTS = ["testserver", "fact.example"]
    report = corrected_report_with_everything(checked_on=checked_on)
    assert stored(report).page  # rendered at publishing

    response = get(client, report, HTTP_HOST=host, secure=secure)

    assert response.content == full_render(response.wsgi_request, report)
    content = response.content.decode()
    origin = f"{'https' if secure else 'http'}://{host}"
    assert f'<link rel="canonical" href="{origin}/reports/{report.slug}/">' in content
    card = f"{origin}/reports/{report.slug}/versions/2/card.png"
    assert f'<meta property="og:image" content="{card}">' in content
    assert f'"url": "{origin}/reports/{report.slug}/"' in content
    assert ("This fact-check may be outdated." in content) == (checked_on.year == 2020)
    for shown in (
        "Health",
        "Money",
        "Corrected on",
        "The summary said otherwise.",
        "A corrected summary",
        '<a href="/reports/the-answer-is-live/">What about question 1?</a>',
        "<li>What about question 2?</li>",
        "<li>What about question 3?</li>",
        'id="ref-3"',
        '"@type": "ClaimReview"',
    ):
        assert shown in content
    assert "<!--" not in content.split("</head>")[1]  # every mark filled
    assert ".invalid" not in content


def test_the_outdated_notice_follows_the_day_without_rendering_the_page_again(
    client, settings, monkeypatch
):
    today = timezone.localdate()
    days = settings.FACTUALLY_RECHECK_AFTER_DAYS
    report = make_report(checked_on=today - datetime.timedelta(days=days))
    publish_now(report)
    row = stored(report)

    response = get(client, report)
    assert "may be outdated" not in response.content.decode()
    assert response.content == full_render(response.wsgi_request, report)

    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    response = get(client, report)

    assert "This fact-check may be outdated." in response.content.decode()
    assert response.content == full_render(response.wsgi_request, report)
    assert stored(report).page == row.page
    assert stored(report).epoch == row.epoch


def test_a_stored_page_is_one_query(client, django_assert_max_num_queries):
    report = make_report(questions=2)
    report.topics.add(make_topic(), make_topic())
    publish_now(report)
    assert stored(report).page

    with django_assert_max_num_queries(1):
        content = page(client, report)

    assert "What about question 2?" in content


def test_a_corrected_page_with_answered_questions_is_two_queries(
    client, django_assert_max_num_queries
):
    report = corrected_report_with_everything()

    with django_assert_max_num_queries(2):
        content = page(client, report)

    assert "Corrected on" in content
    assert '<a href="/reports/the-answer-is-live/">' in content


def test_no_csrf_token_nonce_or_cookie_reaches_a_stored_page(client):
    report = corrected_report_with_everything()

    response = get(client, report)

    assert not response.cookies
    assert response["Cache-Control"].startswith("public")
    assert "csrf" not in stored(report).page.lower()
    assert "nonce" not in stored(report).page
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_a_page_that_uses_a_csrf_token_is_never_stored(client, settings, tmp_path):
    # As if a template of the page gained a form: the page is the reader's own, so it is
    # rendered for each request and kept by no shared cache.
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "_meta.html").write_text('<form method="post">{% csrf_token %}</form>')
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    report = make_report()
    publish_now(report)

    response = get(client, report)

    assert stored(report).page == ""
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert response["Cache-Control"] == "private, no-cache"


def test_signed_in_staff_get_the_page_rendered_afresh(client):
    report = corrected_report_with_everything()
    client.force_login(make_user("editor", "Editor"))
    StoredArticle.objects.update(page="<p>a stored page</p>")

    response = get(client, report)

    assert b"a stored page" not in response.content
    assert response["X-Factually-Cache"] == "private"
    assert "Corrected on" in response.content.decode()


def test_a_page_taken_down_answers_at_once_though_its_page_is_stored(client):
    report, other = make_report(), make_report()
    publish_now(report)
    publish_now(other)
    pages = list(StoredArticle.objects.all())

    workflow.unpublish(report, by=None, comment="A mistake.")
    workflow.withdraw(other, by=None, reason="The claim was misquoted.")
    # Taken down, their pages are deleted; stored again here (a page written by a view that
    # began before the take-down), the live version's join still keeps them from readers.
    assert not StoredArticle.objects.exists()
    StoredArticle.objects.bulk_create(pages)

    assert StoredArticle.objects.filter(page__contains="<html").count() == 2
    assert client.get(f"/reports/{report.slug}/").status_code == 404
    withdrawn = client.get(f"/reports/{other.slug}/")
    assert withdrawn.status_code == 410
    assert "misquoted" in withdrawn.content.decode()


def test_a_correction_stores_a_new_page(client):
    report = make_report()
    publish_now(report)
    first = stored(report)
    report.summary = "Now with the right figure [1] [2]."
    report.save()

    publish_now(report, note="The figure was wrong.", kind="correction")

    second = stored(report)
    assert second.pk != first.pk
    assert "Now with the right figure" in second.page
    assert "The figure was wrong." in second.page
    content = page(client, report)
    assert "Now with the right figure" in content
    assert "Corrected on" in content


def test_a_correction_deletes_the_page_of_the_version_it_replaces():
    report, other = make_report(), make_report()
    publish_now(report)
    publish_now(other)
    first = stored(report)
    report.summary = "Now with the right figure [1] [2]."
    report.save()

    publish_now(report, note="The figure was wrong.", kind="correction")

    kept = set(StoredArticle.objects.values_list("version_id", flat=True))
    assert kept == {stored(report).version_id, stored(other).version_id}
    assert first.version_id not in kept


def test_draft_changes_never_reach_the_stored_page(client):
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
    assert page(client, report) == before

    publish_now(report, note="Redrafted.", kind="update")
    assert "A drafted claim." in page(client, report)


def test_a_live_version_without_a_stored_page_gets_one_at_its_first_view(client):
    report = make_report()
    publish_now(report)
    expected = page(client, report)
    StoredArticle.objects.all().delete()

    assert page(client, report) == expected
    assert stored(report).page.startswith("<!doctype html>")


def test_a_page_stored_by_another_build_is_rendered_again(client):
    report = make_report()
    publish_now(report)
    expected = page(client, report)
    StoredArticle.objects.update(page="<p>rendered by the old templates</p>", build="old")

    assert page(client, report) == expected
    assert stored(report).build == rendering.build_fingerprint()


def test_the_build_fingerprint_follows_the_static_files_manifest(settings, tmp_path):
    manifest = tmp_path / "staticfiles.json"
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    paths = {"css/site.css": "css/site.0123abcd.css"}
    manifest.write_text(json.dumps({"paths": paths, "version": "1.1"}))
    before = rendering.build_fingerprint()

    paths["css/site.css"] = "css/site.4567ef01.css"  # a deploy changed the stylesheet
    manifest.write_text(json.dumps({"paths": paths, "version": "1.1"}))
    rendering.build_fingerprint.cache_clear()  # a new process

    assert rendering.build_fingerprint() != before


def test_saving_a_topic_renders_the_pages_showing_it_again(client):
    topic = make_topic(name="Helth")
    report, other = make_report(), make_report()
    report.topics.add(topic)
    publish_now(report)
    publish_now(other)
    other_page = stored(other).page

    topic.name = "Health"
    topic.save()

    assert stored(report).page == ""
    assert stored(other).page == other_page
    content = page(client, report)
    assert ">Health</a>" in content
    assert "Helth" not in content


def test_saving_a_verdict_renders_every_page_again(client):
    report = make_report()
    publish_now(report)
    verdict = Verdict.objects.get(slug="false")

    verdict.name = "Wrong"
    verdict.save()

    assert stored(report).page == ""
    assert "Wrong" in page(client, report)


def test_a_render_begun_before_a_change_is_not_stored(client, monkeypatch):
    report = make_report()
    publish_now(report)
    rendering.forget_articles()
    render_page = rendering.render_page

    def render_while_a_topic_is_renamed(version):
        result = render_page(version)
        rendering.forget_articles()  # what saving a topic does, between read and store
        return result

    monkeypatch.setattr(rendering, "render_page", render_while_a_topic_is_renamed)
    page(client, report)

    assert stored(report).page == ""


def test_question_links_follow_the_answering_report_going_live_and_down(client):
    answering = make_report(claim="The answer.", slug="the-answer")
    report = make_report(questions=1)
    FollowUpQuestion.objects.filter(report=report).update(answered_by=answering)
    publish_now(report)
    stored_page = stored(report).page
    assert "<li>What about question 1?</li>" in page(client, report)

    publish_now(answering)
    assert '<a href="/reports/the-answer/">What about question 1?</a>' in page(client, report)

    answering.slug = "the-answer-moved"
    answering.summary += " Moved."
    answering.save()
    publish_now(answering, note="A better address.", kind="update")
    assert '<a href="/reports/the-answer-moved/">' in page(client, report)

    workflow.unpublish(answering, by=None, comment="Taken down.")
    content = page(client, report)
    assert "<li>What about question 1?</li>" in content
    assert "the-answer" not in content
    assert stored(report).page == stored_page  # the links are filled in, never stored


def test_render_articles_renders_every_live_page_again():
    reports = [make_report() for _ in range(3)]
    for report in reports:
        publish_now(report)
    StoredArticle.objects.update(page="stale")

    call_command("render_articles", stdout=None)

    assert not StoredArticle.objects.filter(page="stale").exists()
    assert StoredArticle.objects.filter(page__startswith="<!doctype html>").count() == 3


def test_render_articles_lazy_only_empties_them():
    report = make_report()
    publish_now(report)

    call_command("render_articles", "--lazy", stdout=None)

    assert stored(report).page == ""
    assert PublishedVersion.objects.live().count() == 1
