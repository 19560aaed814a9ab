"""Review support: uncited sentences, changes since the live version, similar claims, drafting."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import citations
from reports.models import FollowUpQuestion, Reference, Report, Section, Verdict
from reports.newsroom import drafting, review
from tests.conftest import make_report, make_source, publish_now

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares with pg_trgm itself"
)


def highlighted(text: str, known=(1, 2, 3)) -> str:
    return review.highlight_uncited(citations.render(text, known=set(known))).html


def marked(text: str) -> list[str]:
    """The text of each <mark class="uncited"> in the highlighted rendering of `text`."""
    parser = _Structure()
    parser.feed(highlighted(text))
    return parser.marks


# Sentences


@pytest.mark.parametrize(
    "text",
    [
        "Khrushchev spoke in 1956 [3].",
        "Khrushchev spoke in 1956. [3]",
        "Khrushchev spoke in 1956.[3]",
        "Khrushchev [1] spoke in 1956.",
        "[2] Khrushchev spoke in 1956.",
    ],
)
def test_a_sentence_with_a_marker_anywhere_in_it_or_right_after_it_is_cited(text):
    assert marked(text) == []


def test_each_sentence_of_a_paragraph_is_judged_on_its_own():
    text = "He spoke in 1956 [3]. Nobody recorded it. The text leaked [1]! Was it true?"

    assert marked(text) == ["Nobody recorded it.", "Was it true?"]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Dr. Smith met J. F. Kennedy in the U.S. in 1961 [1]. Mr. Jones did not."

    assert marked(text) == ["Mr. Jones did not."]


def test_a_marker_after_the_full_stop_cites_the_sentence_before_not_after():
    assert marked("First one. [1] Second one.") == ["Second one."]


def test_a_sentence_across_emphasis_is_marked_in_pieces_that_nest_correctly():
    html = highlighted("It was *very. Much* so [1].")

    assert html.startswith(
        '<p><mark class="uncited">It was </mark><em><mark class="uncited">very.</mark>'
        " Much</em> so "
    )


def test_list_items_are_judged_separately_and_headings_never():
    body = review.highlight_uncited(
        "<h2>An uncited heading.</h2>" + str(citations.render("- one [1]\n- two", known={1}))
    )

    assert body.uncited == 1
    assert "<h2>An uncited heading.</h2>" in body.html
    assert '<li><mark class="uncited">two</mark></li>' in body.html


def test_an_unresolved_marker_still_counts_as_a_citation():
    assert marked("Cites a missing reference [9].") == []


# Nothing executable can come in through the highlighting


class _Structure(HTMLParser):
    """Records the tags, attributes and text of HTML, separating our marks from the rest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.marks, self.mark_attrs = [], [], [], []
        self._in_mark = False

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self.mark_attrs.append(attrs)
            self._in_mark = True
            self.marks.append("")
        else:
            self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark = False
        else:
            self.tags.append(("/" + tag, []))

    def handle_data(self, data):
        self.text.append(data)
        if self._in_mark:
            self.marks[-1] += data


def structure(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser


hostile = st.lists(
    st.sampled_from(
        list("ab Z.!?[]()*_`>#-\n\"'&;:/=<")
        + ["<script>", "</p>", "<img src=x onerror=alert(1)>", "javascript:", "[1]", "[2]"]
        + ["<mark>", "</mark>", "&lt;", "<!--", "-->", "](", "\u00a0", "…", "Dr.", "\n\n- "]
    ),
    max_size=40,
).map("".join)


@given(text=hostile)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_highlighting_adds_only_marks_and_keeps_everything_else_as_the_sanitiser_wrote_it(text):
    sanitised = str(citations.render(text, known={1}))
    result = review.highlight_uncited(sanitised)

    before, after = structure(sanitised), structure(result.html)
    assert after.tags == before.tags
    assert "".join(after.text) == "".join(before.text)
    assert all(attrs == [("class", "uncited")] for attrs in after.mark_attrs)
    assert len(after.mark_attrs) >= result.uncited
    assert "<script" not in result.html.lower()
    assert "<img" not in result.html.lower()


def test_hostile_text_stays_text_when_highlighted():
    html = highlighted(
        '<script>alert(1)</script> "><img src=x onerror=alert(1)> [x](javascript:alert(1)). '
        "</mark><mark onclick=alert(1)>Still text."
    )

    assert "<script" not in html
    assert "<img" not in html
    assert "onclick=" not in html.replace("&lt;mark onclick=alert(1)&gt;", "")
    assert 'href="javascript' not in html
    assert "&lt;/mark&gt;&lt;mark onclick=alert(1)&gt;" in html


# Changes since the live version


def test_word_diff_marks_removed_and_added_words_and_escapes_them():
    diff = review.diff_words("He spoke in 1956 <b>.", "He spoke in 1957 <b>.")

    assert diff == "He spoke in <del>1956</del><ins>1957</ins> &lt;b&gt;."


def test_a_rewritten_phrase_reads_as_one_deletion_and_one_insertion():
    diff = review.diff_words("The big red car, in 1956.", "A small blue car, in 1957.")

    assert diff == (
        "<del>The big red</del><ins>A small blue</ins> car, in <del>1956</del><ins>1957</ins>."
    )


def test_text_diff_keeps_unchanged_paragraphs_and_shows_added_ones_whole():
    diff = review.diff_text("One [1].\n\nTwo [1].", "One [1].\n\nTwo [2].\n\nThree <i> [1].")

    assert diff.startswith("One [1].\n\n")
    assert "<del>1</del><ins>2</ins>" in diff
    assert "<ins>Three &lt;i&gt; [1].</ins>" in diff


def parts_by_label(changes) -> dict:
    return {part.label: part for part in changes.parts}


def test_a_report_that_is_not_live_has_no_changes_to_show(report):
    assert review.changes_since_live(report) is None


def test_changes_since_live_compare_every_part_and_leave_the_rest_unchanged(report):
    publish_now(report)
    Section.objects.filter(report=report, position=1).update(body="Body of section one [1] [2].")
    report.verdict = Verdict.objects.get(slug="mostly-false")
    report.save()

    changes = review.changes_since_live(report)

    parts = parts_by_label(changes)
    assert changes.version.number == 1
    assert parts["Section 1"].status == review.CHANGED
    assert "<del>1</del><ins>one</ins>" in parts["Section 1"].html
    assert parts["Verdict"].status == review.CHANGED
    assert "<del>False</del> → <ins>Mostly false</ins>" in parts["Verdict"].html
    for label in ["Claim", "Checked on", "Executive summary", "Section 2", "Conclusion"]:
        assert parts[label].status == review.UNCHANGED, label
    assert {p.label for p in changes.changed} == {"Section 1", "Verdict"}


def test_added_and_removed_sections_references_and_questions_are_shown(report):
    publish_now(report)
    Section.objects.filter(report=report, position=2).delete()
    Section.objects.create(report=report, position=3, heading="A new angle", body="New [1].")
    Reference.objects.filter(report=report, number=2).update(source=make_source(title="Better"))
    Reference.objects.create(report=report, number=3, source=make_source(title="Third"))
    FollowUpQuestion.objects.create(report=report, position=2, question="And <why>?")

    parts = parts_by_label(review.changes_since_live(report))

    assert parts["Section 2 (new)"].status == review.ADDED
    assert "<ins>A new angle</ins>" in parts["Section 2 (new)"].html
    assert parts["Section 2 (live)"].status == review.REMOVED
    assert "<del>Heading 2</del>" in parts["Section 2 (live)"].html
    assert parts["Reference [1]"].status == review.UNCHANGED
    assert parts["Reference [2]"].status == review.CHANGED
    assert "<ins>Better</ins>" in parts["Reference [2]"].html
    assert parts["Reference [3]"].status == review.ADDED
    assert parts["Follow-up questions"].status == review.CHANGED
    assert "<li><ins>And &lt;why&gt;?</ins></li>" in parts["Follow-up questions"].html


def test_a_rewritten_section_in_place_pairs_with_the_live_one(report):
    publish_now(report)
    Section.objects.filter(report=report, position=2).update(
        heading="Heading two", body="Body of the section 2 [1] [2]."
    )

    parts = parts_by_label(review.changes_since_live(report))

    assert parts["Section 2"].status == review.CHANGED
    assert "<del>2</del><ins>two</ins>" in parts["Section 2"].html
    assert "Section 2 (new)" not in parts


def test_section_text_with_markup_is_escaped_in_the_diff(report):
    publish_now(report)
    Section.objects.filter(report=report, position=1).update(
        body="<script>alert(1)</script> [1] [2]."
    )

    html = parts_by_label(review.changes_since_live(report))["Section 1"].html

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# Similar claims


def published(claim: str, verdict: str = "false") -> Report:
    report = make_report(claim=claim, verdict=Verdict.objects.get(slug=verdict))
    publish_now(report)
    return report


def test_similar_claims_finds_live_reports_most_similar_first(db):
    wall = published("The Great Wall of China is visible from the Moon.")
    published("Napoleon was short.")
    close = published("The Great Wall is visible from the Moon.")

    found = review.similar_claims("The Great Wall of China can be seen from the Moon.")

    assert [item.version.report_id for item in found] == [wall.pk, close.pk]
    assert found[0].similarity > found[1].similarity >= review.SIMILARITY_THRESHOLD


def test_similar_claims_leave_out_the_report_itself_and_what_is_not_live(db):
    own = published("The Great Wall of China is visible from the Moon.")
    make_report(claim="The Great Wall of China is visible from the Moon, a draft.")

    found = review.similar_claims(own.claim, exclude_report_id=own.pk)

    assert found == []


def test_the_python_fallback_finds_the_same_claims_as_the_database(db, monkeypatch):
    published("The Great Wall of China is visible from the Moon.")
    published("Humans use only ten percent of their brain.")
    query = "Is the Great Wall visible from the Moon?"

    in_database = review.similar_claims(query)
    monkeypatch.setattr(review.connection, "vendor", "sqlite")
    in_python = review.similar_claims(query)

    assert [i.version.pk for i in in_python] == [i.version.pk for i in in_database]


@on_postgresql
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Great Wall of China is visible from the Moon.", "Great Wall visible from space?"),
        ("Humans use only ten percent of their brain.", "We only use 10 percent of our brains"),
        ("Napoleon was short.", "napoleon WAS short!!"),
        ("", "Anything"),
    ],
)
def test_the_python_trigram_similarity_matches_pg_trgm(db, a, b):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [a, b])
        expected = cursor.fetchone()[0]

    assert review.trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "opposite"),
    [
        ("true", "false", True),
        ("mostly-true", "mostly-false", True),
        ("mostly-true", "true", False),
        ("false", "mostly-false", False),
        ("mixed", "misleading", False),  # 4 and 3: both inside the neutral band
        ("mostly-true", "misleading", False),
        ("unproven", "false", False),
        ("unproven", "true", False),
    ],
)
def test_opposite_verdicts_sit_either_side_of_a_neutral_middle(db, a, b, opposite):
    scale = review.rating_scale()

    assert scale.midpoint == 3.5
    assert (
        review.are_opposite(Verdict.objects.get(slug=a), Verdict.objects.get(slug=b), scale=scale)
        is opposite
    )


def test_without_ratings_opposites_fall_back_to_the_verdict_slugs(db):
    Verdict.objects.update(rating=None)
    true, false, mixed = (Verdict.objects.get(slug=s) for s in ("mostly-true", "false", "mixed"))

    assert review.are_opposite(true, false, scale=review.rating_scale())
    assert not review.are_opposite(true, mixed, scale=None)


def test_a_similar_claim_with_the_opposite_verdict_is_flagged(db):
    published("The Great Wall of China is visible from the Moon.", verdict="false")
    published("The Great Wall of China can be seen from the Moon.", verdict="mostly-false")

    found = review.similar_claims(
        "The Great Wall of China is visible from the Moon!",
        verdict=Verdict.objects.get(slug="true"),
    )

    assert [item.opposite for item in found] == [True, True]
    same_side = review.similar_claims(
        "The Great Wall of China is visible from the Moon!",
        verdict=Verdict.objects.get(slug="false"),
    )
    assert [item.opposite for item in same_side] == [False, False]


# Drafting from a follow-up question


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
