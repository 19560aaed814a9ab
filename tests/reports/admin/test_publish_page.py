"""The reviewer's publish and schedule pages: what the editor said on submitting, and no
Publish button the four-eyes rule would refuse."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from reports import workflow
from reports.models import Report
from tests.conftest import make_report

pytestmark = pytest.mark.django_db


def transition_url(report: Report, name: str = "publish") -> str:
    return reverse("admin:reports_report_transition", args=[report.pk, name])


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    """The page as read: tags dropped, spaces collapsed, none before punctuation."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r" ([,.:;])", r"\1", text)


def submitted(report: Report, *, by, comment: str, at: datetime.datetime) -> None:
    workflow.submit(report, by=by, comment=comment)
    report.transitions.filter(to_status=Report.Status.IN_REVIEW).update(at=at)


AT = datetime.datetime(2026, 2, 12, 14, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize("name", ["publish", "schedule"])
def test_the_reviewer_sees_the_editors_submit_comment_who_and_when(writer, reviewer, name):
    report = make_report()
    submitted(report, by=writer, comment="Ready.\nSection 2 rewritten after the call.", at=AT)

    response = logged_in(reviewer).get(transition_url(report, name))

    assert response.status_code == 200
    text = page_text(response)
    assert "Submitted for review By writer on February 12, 2026, 14:30:" in text
    assert "Ready. Section 2 rewritten after the call." in text
    assert '<blockquote class="submission__comment">Ready.<br>Section 2' in (
        response.content.decode()
    )


def test_the_latest_submission_is_shown_after_a_return(writer, reviewer):
    report = make_report()
    submitted(report, by=writer, comment="First try.", at=AT)
    workflow.return_to_editor(report, by=reviewer, comment="Cite the minutes.")
    workflow.submit(report, by=writer, comment="Minutes cited.")

    text = page_text(logged_in(reviewer).get(transition_url(report)))

    assert "Minutes cited." in text
    assert "First try." not in text


def test_a_submission_without_a_comment_says_so(writer, reviewer):
    report = make_report()
    submitted(report, by=writer, comment="", at=AT)

    text = page_text(logged_in(reviewer).get(transition_url(report)))

    assert "By writer on February 12, 2026, 14:30, with no comment." in text


def test_the_four_eyes_refusal_page_offers_no_publish_button(writer, reviewer):
    report = make_report(author=reviewer)
    submitted(report, by=writer, comment="Over to you.", at=AT)

    response = logged_in(reviewer).get(transition_url(report))

    assert response.status_code == 200
    content = response.content.decode()
    main = content[content.index('<div id="content-main">') :]
    assert "Four-eyes rule: reviewer is named as its author" in main
    assert 'type="submit"' not in main
    assert "<form" not in main
    assert "Publishing replaces what readers see" not in main
    assert "Back to the report" in main


def test_another_reviewer_gets_the_publish_button(writer, reviewer, second_reviewer):
    report = make_report(author=reviewer)
    submitted(report, by=writer, comment="Over to you.", at=AT)

    content = logged_in(second_reviewer).get(transition_url(report)).content.decode()

    assert "Four-eyes rule" not in content
    assert '<input type="submit" class="default" value="Publish">' in content
