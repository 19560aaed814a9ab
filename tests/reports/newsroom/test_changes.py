"""Changes since the live version: word and paragraph diffs, part by part, escaped."""

from __future__ import annotations

import pytest
from django.db import connection

from reports.models import FollowUpQuestion, Reference, Section, Verdict
from reports.newsroom import changes
from tests.conftest import make_source, publish_now

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares with pg_trgm itself"
)


def test_word_diff_marks_removed_and_added_words_and_escapes_them():
    diff = changes.diff_words("He spoke in 1956 <b>.", "He spoke in 1957 <b>.")

    assert diff == "He spoke in <del>1956</del><ins>1957</ins> &lt;b&gt;."


def test_a_rewritten_phrase_reads_as_one_deletion_and_one_insertion():
    diff = changes.diff_words("The big red car, in 1956.", "A small blue car, in 1957.")

    assert diff == (
        "<del>The big red</del><ins>A small blue</ins> car, in <del>1956</del><ins>1957</ins>."
    )


def test_text_diff_keeps_unchanged_paragraphs_and_shows_added_ones_whole():
    diff = changes.diff_text("One [1].\n\nTwo [1].", "One [1].\n\nTwo [2].\n\nThree <i> [1].")

    assert diff.startswith("One [1].\n\n")
    assert "<del>1</del><ins>2</ins>" in diff
    assert "<ins>Three &lt;i&gt; [1].</ins>" in diff


def parts_by_label(found) -> dict:
    return {part.label: part for part in found.parts}


def test_a_report_that_is_not_live_has_no_changes_to_show(report):
    assert changes.changes_since_live(report) is None


def test_changes_since_live_compare_every_part_and_leave_the_rest_unchanged(report):
    publish_now(report)
    Section.objects.filter(report=report, position=1).update(body="Body of section one [1] [2].")
    report.verdict = Verdict.objects.get(slug="mostly-false")
    report.save()

    found = changes.changes_since_live(report)

    parts = parts_by_label(found)
    assert found.version.number == 1
    assert parts["Section 1"].status == changes.CHANGED
    assert "<del>1</del><ins>one</ins>" in parts["Section 1"].html
    assert parts["Verdict"].status == changes.CHANGED
    assert "<del>False</del> → <ins>Mostly false</ins>" in parts["Verdict"].html
    for label in ["Claim", "Checked on", "Executive summary", "Section 2", "Conclusion"]:
        assert parts[label].status == changes.UNCHANGED, label
    assert {p.label for p in found.changed} == {"Section 1", "Verdict"}


def test_added_and_removed_sections_references_and_questions_are_shown(report):
    publish_now(report)
    Section.objects.filter(report=report, position=2).delete()
    Section.objects.create(report=report, position=3, heading="A new angle", body="New [1].")
    Reference.objects.filter(report=report, number=2).update(source=make_source(title="Better"))
    Reference.objects.create(report=report, number=3, source=make_source(title="Third"))
    FollowUpQuestion.objects.create(report=report, position=2, question="And <why>?")

    parts = parts_by_label(changes.changes_since_live(report))

    assert parts["Section 2 (new)"].status == changes.ADDED
    assert "<ins>A new angle</ins>" in parts["Section 2 (new)"].html
    assert parts["Section 2 (live)"].status == changes.REMOVED
    assert "<del>Heading 2</del>" in parts["Section 2 (live)"].html
    assert parts["Reference [1]"].status == changes.UNCHANGED
    assert parts["Reference [2]"].status == changes.CHANGED
    assert "<ins>Better</ins>" in parts["Reference [2]"].html
    assert parts["Reference [3]"].status == changes.ADDED
    assert parts["Follow-up questions"].status == changes.CHANGED
    assert "<li><ins>And &lt;why&gt;?</ins></li>" in parts["Follow-up questions"].html


def test_a_rewritten_section_in_place_pairs_with_the_live_one(report):
    publish_now(report)
    Section.objects.filter(report=report, position=2).update(
        heading="Heading two", body="Body of the section 2 [1] [2]."
    )

    parts = parts_by_label(changes.changes_since_live(report))

    assert parts["Section 2"].status == changes.CHANGED
    assert "<del>2</del><ins>two</ins>" in parts["Section 2"].html
    assert "Section 2 (new)" not in parts


def test_section_text_with_markup_is_escaped_in_the_diff(report):
    publish_now(report)
    Section.objects.filter(report=report, position=1).update(
        body="<script>alert(1)</script> [1] [2]."
    )

    html = parts_by_label(changes.changes_since_live(report))["Section 1"].html

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_url_less_source_edited_since_live_shows_its_identifiers_and_note(report):
    book = make_source(url="", title="A book", isbn="9780306406157", where_to_find="Library")
    Reference.objects.filter(report=report, number=2).update(source=book)
    publish_now(report)
    book.where_to_find = "Newsroom archive, box 3"
    book.save()

    html = parts_by_label(changes.changes_since_live(report))["Reference [2]"].html

    assert (
        "Source details changed: <del>A book, ISBN 9780306406157, Library</del> → "
        "<ins>A book, ISBN 9780306406157, Newsroom archive, box 3</ins>"
    ) in html
