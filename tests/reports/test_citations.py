"""The citation parser and renderer: the one reading of editor text."""

import lxml.html
import pytest
from django.utils.safestring import SafeString
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import citations


def test_blocks_separated_by_blank_lines_are_separate_paragraphs_with_their_markers():
    text = "First claim [1] [2].\n\nSecond claim [3].\n\nNo citation here."

    paragraphs = citations.parse(text)

    assert [p.markers for p in paragraphs] == [(1, 2), (3,), ()]
    assert [p.line for p in paragraphs] == [1, 3, 5]
    assert [p.is_cited for p in paragraphs] == [True, True, False]


def test_a_list_and_a_quote_each_count_as_one_paragraph():
    text = "- one [1]\n- two\n\n> quoted [2]"

    paragraphs = citations.parse(text)

    assert [(p.kind, p.markers) for p in paragraphs] == [("list", (1,)), ("quote", (2,))]


def test_markers_lists_every_citation_in_order_including_repeats():
    assert citations.markers("A [2] b [1].\n\nC [2].") == [2, 1, 2]


def test_bracketed_words_and_markdown_links_are_not_markers():
    text = "See [the report](https://example.org/r) and [sic] here [4]."

    assert citations.markers(text) == [4]


def test_a_marker_renders_as_a_link_to_its_reference_and_consecutive_markers_stay_together():
    html = citations.render("Claim [1] [2].", known={1, 2})

    assert (
        '<span class="citations"><a class="citation" href="#ref-1" id="cite-1-1">[1]</a> ' in html
    )
    assert 'href="#ref-2" id="cite-2-1">[2]</a></span>' in html


def test_repeated_citations_get_distinct_anchors_across_one_document():
    document = citations.new_document({1})
    first = citations.render("A [1].", env=document)
    second = citations.render("B [1].", env=document)

    assert 'id="cite-1-1"' in first
    assert 'id="cite-1-2"' in second


def test_a_marker_without_a_reference_renders_unlinked():
    html = citations.render("Claim [7].", known={1})

    assert 'href="#ref-7"' not in html
    assert "citation--unresolved" in html


def test_raw_html_in_editor_text_is_escaped_not_passed_through():
    html = citations.render('<script>alert(1)</script> <img src=x onerror="alert(2)"> [1]')

    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_javascript_links_are_not_rendered_as_links():
    html = citations.render("[click](javascript:alert(1)) and [ok](https://example.org) [1]")

    assert "javascript:" not in html.replace("[click](javascript:alert(1))", "")
    assert 'href="https://example.org"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_the_markdown_subset_renders_emphasis_lists_and_quotes():
    html = citations.render("*em* and **strong** [1]\n\n- item\n\n> quote")

    assert "<em>em</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<li>item</li>" in html
    assert "<blockquote>" in html


def test_plain_text_drops_markup_and_markers():
    assert citations.plain_text("The *claim* is false [1] [2].\n\nMore [3].") == (
        "The claim is false. More."
    )


def test_zero_and_huge_numbers_are_parsed_but_not_valid_reference_numbers():
    assert citations.markers("Odd [0] and [99999999999].") == [0, 99999999999]
    assert not citations.is_valid_number(0)
    assert not citations.is_valid_number(99999999999)
    assert citations.is_valid_number(1)


def test_a_marker_of_thousands_of_digits_is_an_invalid_number_not_a_crash():
    (paragraph,) = citations.parse("Far too long [" + "7" * 5000 + "].")

    assert paragraph.markers == (citations.OVERSIZED,)
    assert not citations.is_valid_number(paragraph.markers[0])


# Fuzzing: whatever an editor (or an import) puts in cited text, every public function of
# `citations` answers. The module has no error of its own to raise: it reports what is
# wrong in what it returns (a number `is_valid_number` refuses, an unresolved marker
# rendered unlinked), so any exception at all is a bug. Rendered text must never carry
# executable markup.

# What editor text is made of, the awkward parts included: markers of every size, brackets
# that are not markers, the Markdown subset and what lies outside it, raw HTML and script
# URLs, line endings and invisible characters.
FRAGMENTS = [
    "[0]",
    "[1]",
    "[2] [3]",
    "[1][2]",
    "[99999999999]",
    "[[1]]",
    "[[",
    "]]",
    "[ 1 ]",
    "[-1]",
    "[1.5]",
    "[3, 4]",
    "[3,4]",
    "[5–7]",
    "[5 - 7]",
    "[1, 4–6]",
    "[7–5]",
    "[1–999]",
    "[3,]",
    "[3 and 4]",
    "[citation needed]",
    "\\[1]",
    "[sic]",
    "[link](https://example.org/a?b=[1])",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "<https://example.org>",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)" onclick="alert(2)">x</a>',
    "&lt;script&gt;",
    "&#x3C;script&#x3E;",
    "*",
    "**bold**",
    "_em_",
    "`code [1]`",
    "> ",
    "- ",
    "1. ",
    "99999999999. ",
    "# ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\u00a0",
    "\u200b",
    "\u202e",
    "\0",
    "\ufffd",
    "\ue000",
    "ﬁ",
    "😀",
]
HUGE_MARKER = st.one_of(
    st.integers(min_value=0, max_value=10**40).map(lambda n: f"[{n}]"),
    st.integers(min_value=16, max_value=6000).map(lambda length: "[" + "9" * length + "]"),
)
CITED_TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30), HUGE_MARKER), max_size=40
).map("".join)
KNOWN = st.none() | st.sets(st.integers(min_value=0, max_value=40), max_size=10)

ALLOWED_TAGS = {"p", "em", "strong", "a", "ul", "ol", "li", "blockquote", "span", "br", "code"}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "#ref-")


def assert_harmless(html: str) -> None:
    """No script, no event handler, no link anywhere but the web, mail or a reference."""
    assert "<script" not in html.lower()
    if not html.strip():
        return
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if element.tag == "div" and element.getparent() is None:
            continue
        assert element.tag in ALLOWED_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in {"href", "src"}:
                assert value.strip().lower().startswith(SAFE_SCHEMES), value


@settings(max_examples=50, deadline=None)
@given(text=CITED_TEXT, known=KNOWN)
def test_any_text_is_parsed_and_rendered_without_an_error_or_executable_markup(text, known):
    paragraphs = citations.parse(text)
    assert [p.number for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    assert all(p.line >= 1 and p.kind in {"paragraph", "list", "quote"} for p in paragraphs)
    numbers = citations.markers(text)
    assert numbers == [n for p in paragraphs for n in p.markers]
    for number in numbers:
        assert citations.is_valid_number(number) == (1 <= number <= 9999)

    groups = citations.marker_groups(text)
    assert [n for group in groups for n in group.numbers] == numbers
    for group in groups:
        assert 0 <= group.start < group.end <= len(text)
        assert citations.MARKER_GROUP_RE.fullmatch(text, group.start, group.end)
    assert isinstance(citations.replace_markers(text, lambda group: "[n]"), str)

    html = citations.render(text, known=known)
    assert isinstance(html, SafeString)
    assert_harmless(html)
    document = citations.new_document(known)
    assert_harmless(citations.render(text, env=document) + citations.render(text, env=document))

    plain = citations.plain_text(text)
    assert plain == " ".join(plain.split())


def test_renumber_keeps_the_spacing_of_groups_and_moves_a_duplicate_number_last():
    texts, numbers = citations.renumber(["See [2]  [1], [2]."], [1, 2, 2])
    assert texts == ["See [1]  [2], [1]."]
    assert numbers == [2, 1, 3]  # the second [2] can cite nothing: after all others


def test_markers_citing_names_each_paragraph_that_cites_the_number():
    texts = ["One [1].\n\nTwo.", "- a [3]\n- b [1]\n\n> quoted [1]"]
    assert citations.markers_citing(texts, 1) == [(0, 1), (1, 1), (1, 2)]
    assert citations.markers_citing(texts, 2) == []


# Markers as people write them -----------------------------------------------------------

WRITTEN_FORMS = {
    "[3, 4]": (3, 4),
    "[3,4]": (3, 4),
    "[3 ,4]": (3, 4),
    "[3; 4]": (3, 4),
    "[5–7]": (5, 6, 7),  # en dash
    "[5-7]": (5, 6, 7),
    "[5—7]": (5, 6, 7),  # em dash
    "[5 – 7]": (5, 6, 7),
    "[1, 4–6, 9]": (1, 4, 5, 6, 9),
    "[1][2]": (1, 2),
    "[1] [2]": (1, 2),
    "[1]\u00a0[2, 3]": (1, 2, 3),
    "[ 3 ]": (3,),
}


@pytest.mark.parametrize(("written", "numbers"), WRITTEN_FORMS.items(), ids=WRITTEN_FORMS.keys())
def test_every_way_people_write_markers_cites_its_numbers(written, numbers):
    (paragraph,) = citations.parse(f"The figure was revised {written}.")

    assert paragraph.markers == numbers
    assert paragraph.unclear == ()
    (group,) = citations.marker_groups(f"Revised {written}.")
    assert group.numbers == numbers


def test_a_range_running_backwards_or_citing_too_many_is_not_read_as_a_citation():
    (paragraph,) = citations.parse("Backwards [7–5], too long [1–100], fine [1–50].")

    assert paragraph.markers == tuple(range(1, 51))
    assert [(u.written, u.advice) for u in paragraph.unclear] == [
        ("[7–5]", "a range runs upwards, as in [5–7]"),
        ("[1–100]", "a range cites at most 50 references; list them instead"),
    ]


def test_a_group_stops_at_a_marker_that_does_not_read():
    (paragraph,) = citations.parse("Cited [1][9-2] [3].")

    assert paragraph.markers == (1, 3)
    assert [u.written for u in paragraph.unclear] == ["[9-2]"]


LOOKALIKES = ["[3,]", "[3-]", "[,3]", "[3,,4]", "[1a]", "[3 and 4]", "[3 & 4]", "[-1]", "[1.5]",
              "[3:4]", "[citation needed]", "[Citation Needed]", "[ref]", "[1–3–5]"]  # fmt: skip


@pytest.mark.parametrize("written", LOOKALIKES)
def test_what_looks_like_a_marker_but_does_not_read_is_listed_not_cited(written):
    (paragraph,) = citations.parse(f"The minister said so {written}.")

    assert paragraph.markers == ()
    assert [u.written for u in paragraph.unclear] == [written]
    assert paragraph.unclear[0].advice


NOT_MARKERS = ["[sic]", "[a]", "[T]he", "[the minister]", "[2019 report]", "(3)", "[p. 4]",
               "[the report](https://example.org/r)", "[3 and 4](https://example.org/r)",
               "\\[3,]", "[...]", "[?]"]  # fmt: skip


@pytest.mark.parametrize("written", NOT_MARKERS)
def test_editorial_brackets_parentheses_and_links_are_neither_markers_nor_lookalikes(written):
    (paragraph,) = citations.parse(f"He said {written} it was true [1].")

    assert paragraph.markers == (1,)
    assert paragraph.unclear == ()


def _links(html: str) -> list[tuple[str, str, str]]:
    fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    return [(a.text_content(), a.get("href"), a.get("id")) for a in fragment.iter("a")]


def _shown(html: str) -> str:
    """The text sighted readers see: without what is only for screen readers."""
    fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    for hidden in fragment.find_class("visually-hidden"):
        hidden.drop_tree()
    return fragment.text_content().strip()


def test_a_list_renders_as_written_with_each_number_its_own_link():
    html = citations.render("Claim [3, 4] and [3,4].", known={3, 4})

    assert _shown(html) == "Claim [3, 4] and [3,4]."
    assert _links(html) == [
        ("3", "#ref-3", "cite-3-1"),
        ("4", "#ref-4", "cite-4-1"),
        ("3", "#ref-3", "cite-3-2"),
        ("4", "#ref-4", "cite-4-2"),
    ]


def test_a_range_links_its_ends_reads_to_and_anchors_the_numbers_between():
    document = citations.new_document({5, 6, 7})
    html = citations.render("Claim [5–7].", env=document)

    fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    assert _shown(html) == "Claim [5–7]."
    assert _links(html) == [("5", "#ref-5", "cite-5-1"), ("7", "#ref-7", "cite-7-1")]
    (dash,) = fragment.find_class("citation-range")
    assert dash.text_content() == "– to "  # the dash shown, "to" for screen readers
    assert dash.find("span").get("aria-hidden") == "true"
    assert fragment.find_class("visually-hidden")[0].text_content() == " to "
    assert dash.get("id") == "cite-range-1"
    # The reference list's back-link for 6 leads to the range's dash.
    assert document["citations"].anchors == {
        5: ["cite-5-1"],
        6: [dash.get("id")],
        7: ["cite-7-1"],
    }


def test_a_range_of_unresolved_numbers_renders_unlinked_without_anchors():
    document = citations.new_document({1})
    html = citations.render("Claim [5-7].", env=document)

    assert 'href="#ref-' not in html
    assert html.count("citation--unresolved") == 2
    assert "id=" not in html
    assert document["citations"].anchors == {}


def test_a_lookalike_renders_as_written_marked_for_staff():
    html = citations.render("Claim [3,] and [citation needed].", known={3})

    assert 'href="#ref-3"' not in html
    assert '<span class="citation--unclear">[3,]</span>' in html
    assert '<span class="citation--unclear">[citation needed]</span>' in html


def test_renumber_rewrites_inside_lists_and_ranges_keeping_their_form():
    texts, numbers = citations.renumber(
        ["First [4] then [5–7]; also [4,5] and [ 6 ]."], [4, 5, 6, 7]
    )

    assert texts == ["First [1] then [2–4]; also [1,2] and [ 3 ]."]
    assert numbers == [1, 2, 3, 4]


def test_renumber_writes_a_range_that_is_no_longer_contiguous_as_a_list():
    texts, numbers = citations.renumber(["A [6]. B [5–7]. C [8; 9–10]."], [5, 6, 7, 8, 9, 10])

    # 6 is cited first and becomes 1, so 5–7 reads 2, 1, 3: no longer a range.
    assert texts == ["A [1]. B [2, 1, 3]. C [4; 5–6]."]
    assert numbers == [2, 1, 3, 4, 5, 6]
    assert citations.markers(texts[0]) == [1, 2, 1, 3, 4, 5, 6]


def test_renumber_of_a_range_keeps_its_dash_and_spacing():
    texts, _ = citations.renumber(["A [3 – 4] [1-2]."], [1, 2, 3, 4])

    assert texts == ["A [1 – 2] [3-4]."]


def test_markers_citing_finds_a_number_inside_a_range():
    assert citations.markers_citing(["One [1–3].", "Two [2, 4]."], 2) == [(0, 1), (1, 1)]
