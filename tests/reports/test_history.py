"""Corrections and public history: change notes, version pages, withdrawal notices."""

from __future__ import annotations

import datetime
import re

import pytest

from reports import rendering, workflow
from reports.models import FollowUpQuestion, PublishedVersion, Report, Verdict
from tests.conftest import make_report, publish_now

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", "", response.content.decode())
    return re.sub(r"\s+", " ", text)


def dated(report, number: int, day: datetime.date) -> None:
    """Pretend version `number` of `report` was published at noon on `day`."""
    at = datetime.datetime.combine(day, datetime.time(12), tzinfo=UTC)
    versions = PublishedVersion.objects.filter(report=report)
    versions.filter(number=number).update(published_at=at)
    # The live page's stored article shows publication dates: render it again from the data.
    rendering.forget_articles(versions)


def republish(report, *, note: str, kind: str = "update", verdict: str | None = None, **edits):
    """Edit the working copy (claim, summary, verdict…) and publish it again with a note."""
    for name, value in edits.items():
        setattr(report, name, value)
    if verdict:
        report.verdict = Verdict.objects.get(slug=verdict)
    report.summary = f"{report.summary} Revised."
    report.save()
    return publish_now(report, note=note, kind=kind)


def report_with_versions(count: int, **fields):
    """A live report published `count` times, version n on March 1, 2026 + n days."""
    report = make_report(**fields)
    publish_now(report)
    for number in range(2, count + 1):
        republish(report, note=f"Change number {number}.", kind="update")
    for number in range(1, count + 1):
        dated(report, number, datetime.date(2026, 3, number))
    return report


# Change notes on the report page


def test_change_notes_are_listed_newest_first_with_kind_wording_and_dates(client):
    report = make_report(summary="Original text [1] [2].")
    publish_now(report)
    republish(report, note="Added the 2025 figures.", kind="update")
    republish(report, note="The date of the speech was wrong.", kind="correction")
    republish(report, note="Explained what “net” means.", kind="clarification")
    for number, day in [(1, 1), (2, 3), (3, 10), (4, 21)]:
        dated(report, number, datetime.date(2026, 3, day))

    text = text_of(client.get(f"/reports/{report.slug}/"))

    expected = [
        "Corrections and updates",
        "Clarified on March 21, 2026: Explained what “net” means.",
        "Corrected on March 10, 2026: The date of the speech was wrong.",
        "Updated on March 3, 2026: Added the 2025 figures.",
    ]
    positions = [text.index(part) for part in expected]
    assert positions == sorted(positions)
    assert "on March 1, 2026" not in text  # the first publication has no note


def test_a_report_published_once_has_no_corrections_box(client):
    report = make_report()
    publish_now(report)

    content = client.get(f"/reports/{report.slug}/").content.decode()

    assert "Corrections and updates" not in content
    assert 'class="report__changes"' not in content


def test_the_header_says_when_a_report_last_changed(client):
    report = report_with_versions(3)

    text = text_of(client.get(f"/reports/{report.slug}/"))

    assert "Updated on March 3, 2026. See corrections and updates." in text


def test_a_correction_that_changed_the_verdict_says_from_what_to_what(client):
    report = make_report(verdict=Verdict.objects.get(slug="mostly-false"))
    publish_now(report)
    republish(report, note="A new study settles it.", kind="correction", verdict="false")
    republish(report, note="Added a link.", kind="update")

    text = text_of(client.get(f"/reports/{report.slug}/"))

    assert text.count("The verdict changed") == 1
    assert "The verdict changed from Mostly false to False." in text
    assert text.index("Added a link.") < text.index("A new study settles it.")
    assert text.index("A new study settles it.") < text.index("The verdict changed")


def test_change_notes_are_shown_as_text_never_as_html(client):
    report = make_report()
    publish_now(report)
    republish(report, note="<script>alert('note')</script> <b>bold</b>", kind="correction")

    content = client.get(f"/reports/{report.slug}/").content.decode()
    history = client.get(f"/reports/{report.slug}/history/").content.decode()

    for page in (content, history):
        assert "<script>" not in page
        assert "<b>bold</b>" not in page
        assert "&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;" in page


def test_report_page_links_to_its_version_history(client):
    report = make_report(slug="linked")
    publish_now(report)

    content = client.get("/reports/linked/").content.decode()

    assert '<a href="/reports/linked/history/">Version history</a>' in content
    assert '<link rel="canonical" href="http://testserver/reports/linked/">' in content
    assert 'name="robots"' not in content


# Version history page


def test_history_page_lists_every_version_newest_first(client):
    report = make_report(slug="history", verdict=Verdict.objects.get(slug="mostly-false"))
    publish_now(report)
    republish(report, note="Added the 2025 figures.", kind="update")
    republish(report, note="Wrong source.", kind="correction", verdict="false")
    for number in (1, 2, 3):
        dated(report, number, datetime.date(2026, 3, number))

    response = client.get("/reports/history/history/")

    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r"<h1[^>]*>Version history</h1>", content)
    text = text_of(response)
    expected = [
        "Version 3 (current)",
        "Corrected on March 3, 2026",
        "Verdict: False",
        "Wrong source.",
        "The verdict changed from Mostly false to False.",
        "Version 2",
        "Updated on March 2, 2026",
        "Verdict: Mostly false",
        "Added the 2025 figures.",
        "Version 1",
        "Published on March 1, 2026",
    ]
    positions = [text.index(part) for part in expected]
    assert positions == sorted(positions)
    assert '<a href="/reports/history/versions/2/">Version 2</a>' in content
    assert '<a href="/reports/history/versions/1/">Version 1</a>' in content
    assert '<a href="/reports/history/">Version 3</a>' in content
    assert '<time datetime="2026-03-03T12:00:00+00:00">March 3, 2026</time>' in content


def test_history_of_an_unknown_report_is_not_found(client):
    assert client.get("/reports/no-such-report/history/").status_code == 404


# Earlier versions


def test_an_old_version_is_readable_marked_superseded_and_not_indexed(client):
    report = make_report(slug="versions", summary="First wording [1] [2].")
    publish_now(report)
    republish(report, note="Second.", summary="Second wording [1] [2].")
    republish(report, note="Third.", summary="Third wording [1] [2].")
    republish(report, note="Fourth.", summary="Fourth wording [1] [2].")
    for number, day in [(1, 1), (2, 5), (3, 9), (4, 12)]:
        dated(report, number, datetime.date(2026, 3, day))

    response = client.get("/reports/versions/versions/2/")

    assert response.status_code == 200
    content = response.content.decode()
    text = text_of(response)
    assert "Second wording" in text
    assert "Third wording" not in text
    assert (
        "This is version 2 of 4, published on March 5, 2026, superseded on March 9, 2026. "
        "Read the current version." in text
    )
    assert '<a href="/reports/versions/">Read the current version</a>' in content
    assert '<meta name="robots" content="noindex">' in content
    assert '<link rel="canonical" href="http://testserver/reports/versions/">' in content
    # The notes a reader of version 2 saw: its own, not the later ones.
    assert "Updated on March 5, 2026: Second." in text
    assert "Third." not in text


def test_old_versions_are_found_under_the_current_slug(client):
    report = make_report(slug="first-slug", summary="Under the first slug [1] [2].")
    publish_now(report)
    republish(report, note="Renamed.", slug="second-slug")

    old_version = client.get("/reports/second-slug/versions/1/")

    assert old_version.status_code == 200
    assert "Under the first slug" in text_of(old_version)
    assert client.get("/reports/first-slug/versions/1/").status_code == 404
    assert client.get("/reports/first-slug/history/").status_code == 404


def test_the_current_version_number_redirects_to_the_report_page(client):
    report_with_versions(2, slug="current")

    response = client.get("/reports/current/versions/2/")

    assert response.status_code == 302
    assert response["Location"] == "/reports/current/"


@pytest.mark.parametrize("number", [0, 3, 99])
def test_an_unknown_version_is_not_found(client, number):
    report_with_versions(2, slug="two-versions")

    assert client.get(f"/reports/two-versions/versions/{number}/").status_code == 404


def test_a_draft_has_no_public_history_or_versions(client):
    make_report(slug="draft")

    assert client.get("/reports/draft/").status_code == 404
    assert client.get("/reports/draft/history/").status_code == 404
    assert client.get("/reports/draft/versions/1/").status_code == 404


def test_an_unpublished_report_is_plainly_not_found_with_its_history(client):
    report = report_with_versions(2, slug="mistake")
    workflow.unpublish(report, by=None, comment="Published by mistake.")

    page = client.get("/reports/mistake/")

    assert page.status_code == 404
    assert "Published by mistake." not in page.content.decode()
    assert client.get("/reports/mistake/history/").status_code == 404
    assert client.get("/reports/mistake/versions/1/").status_code == 404


# Withdrawal


def test_a_withdrawn_report_answers_410_with_the_reason_and_no_body(client):
    report = make_report(
        slug="withdrawn", claim="Bananas are radioactive.", summary="Secret body text [1] [2]."
    )
    publish_now(report)
    workflow.withdraw(report, by=None, reason="Our main source was fabricated.")
    Report.objects.filter(pk=report.pk).update(
        withdrawn_at=datetime.datetime(2026, 3, 14, 9, tzinfo=UTC)
    )

    response = client.get("/reports/withdrawn/")

    assert response.status_code == 410
    content = response.content.decode()
    text = text_of(response)
    assert re.search(r"<h1[^>]*>Bananas are radioactive.</h1>", content)
    assert "This fact-check was withdrawn on March 14, 2026." in text
    assert '<time datetime="2026-03-14T09:00:00+00:00">' in content
    assert "Our main source was fabricated." in text
    assert '<a href="/methodology/">corrections policy and methodology</a>' in content
    assert "Secret body text" not in text
    assert 'id="ref-1"' not in content


def test_a_withdrawn_report_keeps_its_notice_at_its_last_slug(client):
    report = make_report(slug="before")
    publish_now(report)
    republish(report, note="Renamed.", slug="after")
    workflow.withdraw(report, by=None, reason="Withdrawn.")

    assert client.get("/reports/after/").status_code == 410
    assert client.get("/reports/before/").status_code == 404


def test_a_withdrawal_reason_is_shown_as_text(client):
    report = make_report(slug="escaped")
    publish_now(report)
    workflow.withdraw(report, by=None, reason="<script>alert('reason')</script>")

    content = client.get("/reports/escaped/").content.decode()

    assert "<script>" not in content
    assert "&lt;script&gt;alert(&#x27;reason&#x27;)&lt;/script&gt;" in content


def test_a_withdrawn_report_has_no_public_history_or_versions(client):
    report = report_with_versions(2, slug="gone")
    workflow.withdraw(report, by=None, reason="Withdrawn.")

    assert client.get("/reports/gone/history/").status_code == 404
    assert client.get("/reports/gone/versions/1/").status_code == 404
    assert client.get("/reports/gone/versions/2/").status_code == 404


def test_a_withdrawn_report_published_again_is_live_without_the_notice(client):
    report = make_report(slug="back")
    publish_now(report)
    workflow.withdraw(report, by=None, reason="Checking a source.")
    republish(report, note="Source confirmed; republished.", kind="clarification")

    response = client.get("/reports/back/")

    assert response.status_code == 200
    assert "withdrawn" not in text_of(response).lower()
    assert "Source confirmed; republished." in text_of(response)


# Query counts


@pytest.mark.parametrize("count", [1, 5])
def test_report_page_runs_a_fixed_number_of_queries_whatever_its_versions(
    client, django_assert_max_num_queries, count
):
    answer = make_report(questions=0)
    publish_now(answer)
    report = make_report(questions=0)
    FollowUpQuestion.objects.create(report=report, question="Why?", answered_by=answer)
    publish_now(report)
    for number in range(2, count + 1):
        republish(report, note=f"Change {number}.", kind="correction")

    # The live version, the answers' addresses, and the earlier versions' notes if any.
    with django_assert_max_num_queries(2 if count == 1 else 3):
        response = client.get(f"/reports/{report.slug}/")

    assert response.status_code == 200
    assert response.content.decode().count('<li class="change ') == count - 1


@pytest.mark.parametrize("count", [1, 5])
def test_history_page_runs_one_query_whatever_its_versions(
    client, django_assert_max_num_queries, count
):
    report = report_with_versions(count)

    with django_assert_max_num_queries(1):
        response = client.get(f"/reports/{report.slug}/history/")

    assert response.status_code == 200
    assert response.content.decode().count('class="history__version"') == count


@pytest.mark.parametrize("count", [2, 5])
def test_version_page_runs_a_fixed_number_of_queries_whatever_its_versions(
    client, django_assert_max_num_queries, count
):
    report = report_with_versions(count, questions=0)

    with django_assert_max_num_queries(1):
        response = client.get(f"/reports/{report.slug}/versions/1/")

    assert response.status_code == 200


def test_withdrawal_notice_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    report = report_with_versions(3, slug="counted")
    workflow.withdraw(report, by=None, reason="Withdrawn.")

    with django_assert_max_num_queries(2):
        response = client.get("/reports/counted/")

    assert response.status_code == 410
