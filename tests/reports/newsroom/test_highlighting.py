"""Uncited-sentence highlighting: which sentences are marked, and that nothing else changes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import citations
from reports.newsroom import highlighting

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares with pg_trgm itself"
)


def highlighted(text: str, known=(1, 2, 3)) -> str:
    return highlighting.highlight_uncited(citations.render(text, known=set(known))).html


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
    body = highlighting.highlight_uncited(
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
    result = highlighting.highlight_uncited(sanitised)

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
