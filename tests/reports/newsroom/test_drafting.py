"""Drafting a report from a follow-up question: the link to its answer and a free slug."""

from __future__ import annotations

import pytest
from django.db import connection

from reports.models import Report
from reports.newsroom import drafting
from tests.conftest import make_report, publish_now

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares with pg_trgm itself"
)


def test_a_question_becomes_a_draft_linked_as_its_answer(report, writer):
    question = report.questions.get()
    seen = report.edit_version

    draft = drafting.draft_from_question(question, by=writer)

    assert draft.claim == question.question
    assert draft.slug == "what-about-question-1"
    assert draft.status == Report.Status.DRAFT
    assert (draft.author, draft.last_edited_by) == (writer, writer)
    assert not draft.transitions.exists()
    question.refresh_from_db()
    assert question.answered_by == draft
    report.refresh_from_db()
    assert report.edit_version == seen + 1  # a form opened before sees a conflict


def test_an_answered_question_is_refused(report, writer):
    question = report.questions.get()
    first = drafting.draft_from_question(question, by=writer)

    with pytest.raises(drafting.AlreadyAnswered) as refusal:
        drafting.draft_from_question(question, by=writer)

    assert refusal.value.report == first
    assert Report.objects.count() == 2


def test_drafts_get_slugs_no_report_or_live_page_uses(db, writer):
    live = make_report(slug="what-about-question-1")
    publish_now(live)
    live.slug = "renamed"
    live.save()
    make_report(slug="what-about-question-1-2")
    parent = make_report(questions=1)

    draft = drafting.draft_from_question(parent.questions.get(), by=writer)

    assert draft.slug == "what-about-question-1-3"


def test_a_question_without_letters_gets_a_plain_slug(report, writer):
    question = report.questions.get()
    question.question = "???"
    question.save()

    assert drafting.draft_from_question(question, by=writer).slug == "draft"
