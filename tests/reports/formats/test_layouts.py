"""Reading texts as they arrive: layout variants, page furniture, cut-off texts, any text.

The samples in ``tests/reports/formats/samples/`` are our own texts, one per layout.
"""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import citations
from reports.content import ReportContent
from reports.formats.errors import TextFormatError
from reports.formats.text_reading import parse_text, read_text
from reports.formats.textformat import DISCLAIMER, LAYOUT, OLDER_LAYOUT, export_text
from tests.reports.formats.test_textformat import EXAMPLE, delete_lines, edited, replace_line

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


DASHES = sample("dash-headings.txt")
OLDER = sample("older-layout.txt")
FURNITURE = sample("with-furniture.txt")
CUT_OFF = sample("cut-off.txt")


# The example, the layout every other one is measured against ---------------------------


def test_the_example_still_reads_and_exports_back_byte_for_byte():
    reading = read_text(EXAMPLE)

    assert reading.layout == LAYOUT
    assert reading.notes == ()
    assert export_text(reading.content) == EXAMPLE + "\n"


def test_reading_the_complete_example_as_partial_changes_nothing():
    reading = read_text(EXAMPLE, partial=True)

    assert reading.content == parse_text(EXAMPLE)
    assert reading.gaps == ()


# "Executive Summary" and the summary on its heading's line --------------------------------


@pytest.mark.parametrize("heading", ["Executive Summary", "EXECUTIVE SUMMARY", "executive summary"])
def test_the_summary_heading_may_be_capitalised_either_way(heading):
    text = EXAMPLE.replace("\nExecutive summary\n", f"\n{heading}\n")

    assert parse_text(text) == parse_text(EXAMPLE)


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param(" \u2014 ", id="em-dash"),
        pytest.param("\u2014", id="em-dash-unspaced"),
        pytest.param(" \u2013 ", id="en-dash"),
        pytest.param(" - ", id="hyphen-with-spaces"),
        pytest.param(": ", id="colon"),
    ],
)
def test_the_summary_may_start_on_its_headings_line_after_a_dash(separator):
    summary = parse_text(EXAMPLE).summary
    text = EXAMPLE.replace(
        f"\nExecutive summary\n\n{summary}", f"\nExecutive Summary{separator}{summary}"
    )

    reading = read_text(text)

    assert reading.content == parse_text(EXAMPLE)
    assert any("starts on its heading's line (line 6)" in note for note in reading.notes)
    # Exported in the one layout: heading, blank line, summary.
    assert export_text(reading.content) == EXAMPLE + "\n"


def test_a_hyphen_without_spaces_is_not_a_summary_dash():
    text = EXAMPLE.replace("\nExecutive summary\n", "\nExecutive summary-ish\n")

    with pytest.raises(TextFormatError) as raised:
        parse_text(text)

    assert raised.value.line == 6
    assert 'expected "Executive summary", found "Executive summary-ish"' in raised.value.message


def test_the_dash_sample_reads_its_inline_summary_as_the_first_paragraph():
    content = parse_text(DASHES, filename="dash-headings.txt")

    assert content.claim == "Read this before you vote: https://example.net/news/ballot-ink-fades"
    assert content.checked_on == datetime.date(2026, 3, 4)
    first, second = content.summary.split("\n\n")
    assert first.startswith("The link alone makes no claim that can be checked")
    assert first.endswith("long before any ink could fade [2] [3].")
    assert second.startswith("The page has been shared widely")
    assert [q.question for q in content.questions] == [
        "Why are pencils used in polling stations?",
        "How are ballots stored after the count?",
    ]
    assert [r.number for r in content.references] == [1, 2, 3, 4]


# Section headings with a subtitle after a dash -------------------------------------------


def test_headings_with_a_subtitle_are_kept_whole_and_exported_as_written():
    reading = read_text(DASHES)
    content = reading.content

    assert [s.heading for s in content.sections] == [
        "What the submission actually claims \u2014 an empty signpost, not a statement "
        "worth checking",
        "What the linked page says \u2013 a product review, not a report",
        "How ballots are actually marked - pencil, permanent ink and quick counts",
    ]
    assert content.conclusion_heading == (
        "Conclusion \u2014 nothing to fear from the link, and nothing in it to rate"
    )
    assert any("subtitle" in note and "sections 1, 2, 3 and 4" in note for note in reading.notes)
    exported = export_text(content)
    for line in DASHES.splitlines():
        if line[:2] in {"1.", "2.", "3.", "4."}:
            assert f"\n{line}\n" in exported
    assert parse_text(exported) == content


def test_the_dash_sample_exports_to_the_one_layout_and_reads_back_unchanged():
    content = parse_text(DASHES)
    exported = export_text(content)

    assert "\nExecutive summary\n\nThe link alone makes no claim" in exported
    assert export_text(parse_text(exported)) == exported


# The older layout -----------------------------------------------------------------------


def test_the_older_layout_maps_summary_sections_and_bullets():
    reading = read_text(OLDER, filename="older-layout.txt")
    content = reading.content

    assert reading.layout == OLDER_LAYOUT
    assert content.claim == "Drinking eight glasses of water a day is necessary for good health."
    assert content.checked_on is None
    assert content.summary.startswith("The \u201ceight glasses a day\u201d rule has no basis")
    assert [s.heading for s in content.sections] == [
        "Missing context/alternative viewpoints",
        "Potential misinformation/bias in the original statement",
    ]
    assert content.sections[0].body == (
        "- A 1945 recommendation of about 2.5 litres a day added that most of it is already "
        "contained in prepared foods, a sentence usually left out [3].\n"
        "- Needs vary with climate, exercise, pregnancy and illness:\n"
        "  - athletes and people working in heat need more [1];\n"
        "  - people with some heart or kidney conditions are told to drink less [2].\n"
        "- Tea and coffee count towards the total, contrary to a popular belief [1] [4]."
    )
    assert content.sections[1].body.startswith("- The claim presents a rule of thumb")
    assert (content.conclusion_heading, content.conclusion) == ("Conclusion", "")
    assert content.questions == ()
    assert [r.number for r in content.references] == [1, 2, 3, 4]


def test_the_older_layout_says_what_was_mapped_how():
    notes = read_text(OLDER).notes

    assert notes == (
        "Older \u201cFact check:\u201d layout: the title line became the claim, without its "
        "quotation marks.",
        "\u201c1. Summary of the results\u201d became the executive summary.",
        "Sections 2 and 3 became sections 1 and 2, headings kept.",
        "The older layout has no conclusion: the draft's conclusion is left empty for you "
        "to write (nothing was made up).",
        "No \u201cChecked on\u201d date: set it before publishing.",
        "No follow-up questions.",
        "7 \u201c\u2022\u201d bullets became Markdown list items (\u201c- \u201d).",
    )


def test_bullets_render_as_a_nested_list_with_their_citations():
    html = citations.render(parse_text(OLDER).sections[0].body)

    assert html.count("<ul>") == 2
    assert "<li>athletes and people working in heat need more" in html
    assert 'href="#ref-3"' in html
    assert "\u2022" not in html
    assert [p.kind for p in citations.parse(parse_text(OLDER).sections[0].body)] == ["list"]


def test_the_older_layout_may_have_a_date_a_conclusion_and_questions():
    text = OLDER.replace("\u201d\n\n1. Summary", "\u201d\nChecked on May 2, 2025\n\n1. Summary") + (
        "\n4. Conclusion: a rule of thumb, not a requirement\n"
        "Drink when thirsty; the number of glasses is not a health measure [1] [2].\n"
        "\nWant to dive deeper?\nDoes coffee dehydrate you?\n"
    )

    reading = read_text(text)

    assert reading.content.checked_on == datetime.date(2025, 5, 2)
    assert reading.content.conclusion_heading == "Conclusion: a rule of thumb, not a requirement"
    assert reading.content.conclusion.startswith("Drink when thirsty")
    assert len(reading.content.sections) == 2
    assert [q.question for q in reading.content.questions] == ["Does coffee dehydrate you?"]
    assert "\u201cConclusion: a rule of thumb, not a requirement\u201d became the conclusion." in (
        reading.notes
    )


def test_an_older_text_needs_its_sections_in_sequence():
    text = OLDER.replace("3. Potential misinformation", "4. Potential misinformation")

    with pytest.raises(TextFormatError) as raised:
        parse_text(text)

    assert raised.value.line == 13
    assert 'expected "3. <heading>"' in raised.value.message


def test_a_fact_check_prefix_on_the_claim_line_is_left_out_and_said():
    text = "Fact-check: “The moon is made of cheese.”" + EXAMPLE[EXAMPLE.index("\n") :]

    reading = read_text(text)

    assert reading.layout == LAYOUT
    assert reading.content.claim == "The moon is made of cheese."
    assert reading.notes == (
        "The claim line's \u201cFact-check:\u201d prefix was left out of the claim.",
    )


# Page furniture -------------------------------------------------------------------------


def test_page_furniture_is_left_out_and_listed_in_the_notes():
    reading = read_text(FURNITURE)
    content = reading.content

    assert content.claim == "Goldfish only remember things for three seconds."
    assert content.checked_on == datetime.date(2026, 2, 10)
    assert [q.question for q in content.questions] == ["How do scientists test memory in fish?"]
    assert reading.notes == (
        "Left out page furniture: the donation banner (lines 1\u20134); \u201cThis fact-check "
        "may be outdated\u201d (line 5); the disclaimer in another wording (line 9); \u201cWas "
        "this fact-check helpful?\u201d (lines 25\u201327). Exports write the disclaimer in its "
        "current wording.",
    )
    text = export_text(content)
    for furniture in ["Keep Factually", "Loading", "outdated", "helpful", "\nYes\n"]:
        assert furniture not in text
    assert f"\n{DISCLAIMER}\n" in text
    assert "Verify important information.\n" not in text


FURNITURE_LINES = [
    "Keep Factually independent \u2026 Loading...",
    "Was this fact-check helpful?",
    "This fact-check may be outdated\u2026",
    "Disclaimer: Factually can make mistakes. Please verify important information or "
    "breaking news. Learn more.",
    "Factually can make mistakes. Verify important information.",
]


@pytest.mark.parametrize("furniture", FURNITURE_LINES)
@pytest.mark.parametrize(
    "where",
    [
        pytest.param(0, id="before-the-claim"),
        pytest.param(2, id="after-the-claim"),
        pytest.param(8, id="after-the-summary"),
        pytest.param(26, id="before-the-conclusion"),
        pytest.param(31, id="among-the-questions"),
        pytest.param(33, id="at-the-end"),
    ],
)
def test_furniture_anywhere_leaves_the_report_unchanged(furniture, where):
    def insert(lines):
        lines.insert(where, furniture)

    assert parse_text(edited(insert)) == parse_text(EXAMPLE)


def test_a_banner_split_over_lines_is_left_out_up_to_loading():
    banner = "Keep Factually independent\nWe rely on readers.\n\nDonate\nLoading\u2026\n"

    assert parse_text(banner + EXAMPLE) == parse_text(EXAMPLE)


def test_a_banner_without_loading_leaves_out_only_its_own_line():
    reading = read_text("Keep Factually independent\n\n" + EXAMPLE)

    assert reading.content == parse_text(EXAMPLE)
    assert "the donation banner (line 1)" in reading.notes[0]


def test_a_text_of_nothing_but_furniture_is_refused():
    with pytest.raises(TextFormatError, match="only page furniture"):
        parse_text("Was this fact-check helpful?\nYes\nNo\n")


# Cut-off texts: refused with the line, or a partial draft with what is missing -----------


def test_a_text_cut_in_the_middle_of_a_sentence_is_refused_at_that_line():
    with pytest.raises(TextFormatError) as raised:
        parse_text(CUT_OFF, filename="cut-off.txt")

    assert raised.value.line == 16
    assert raised.value.message.startswith(
        "the text stops in the middle of a sentence, "
        "\u201c\u2026can show scars from several strikes because they remain the\u201d"
    )
    assert "cut off (import it as partial" in raised.value.message


def test_a_cut_off_text_reads_as_partial_with_what_is_missing():
    reading = read_text(CUT_OFF, partial=True)
    content = reading.content

    assert [s.heading for s in content.sections] == [
        "Tall buildings are struck every year",
        "People and trees struck more than once",
    ]
    assert content.sections[1].body.endswith("because they remain the")
    assert (content.conclusion_heading, content.conclusion, content.questions) == (
        "Conclusion",
        "",
        (),
    )
    assert reading.gaps == (
        "The text stops in the middle of a sentence, on line 16: "
        "\u201c\u2026can show scars from several strikes because they remain the\u201d.",
        "Missing where the text stops: the conclusion and the follow-up questions.",
    )


def test_a_text_ending_after_the_conclusion_is_refused_at_its_end_or_read_as_partial():
    text = edited(delete_lines(29, 33))

    with pytest.raises(TextFormatError) as raised:
        parse_text(text)
    reading = read_text(text, partial=True)

    assert raised.value.line == 29
    assert 'expected "Want to dive deeper?", found the end of the file' in raised.value.message
    assert reading.content.conclusion.startswith("The available reporting")
    assert reading.gaps == ("Missing where the text stops: the follow-up questions.",)


def test_a_last_line_cut_short_is_left_out_of_a_partial_draft():
    text = "\n".join(EXAMPLE.split("\n")[:5]) + "\nExecutive sum"

    reading = read_text(text, partial=True)

    assert reading.content.checked_on == datetime.date(2026, 1, 27)
    assert reading.content.summary == ""
    assert reading.gaps[0] == 'Line 6 is cut off and was left out: "Executive sum".'
    assert reading.gaps[1].startswith(
        "Missing where the text stops: the executive summary, the sections"
    )


def test_a_heading_with_no_text_at_the_end_is_a_gap():
    text = "\n".join(EXAMPLE.split("\n")[:18])

    reading = read_text(text, partial=True)

    assert reading.content.sections[-1].heading.startswith("Selectivity")
    assert reading.content.sections[-1].body == ""
    assert reading.gaps == (
        "Missing where the text stops: the text of section 3, the conclusion and the "
        "follow-up questions.",
    )


def test_a_follow_up_question_cut_short_at_the_end_is_a_cut_off_text():
    text = EXAMPLE[: EXAMPLE.index("the scale of repression")]

    with pytest.raises(TextFormatError) as raised:
        parse_text(text)
    reading = read_text(text, partial=True)

    assert raised.value.line == 31
    assert "stops in the middle of a sentence" in raised.value.message
    assert [q.question for q in reading.content.questions] == [
        "What evidence do survivors and camp literature provide about"
    ]
    assert reading.gaps == (
        "The text stops in the middle of a sentence, on line 31: \u201cWhat evidence do "
        "survivors and camp literature provide about\u201d.",
    )


def test_a_malformed_text_is_a_draft_as_partial_stopping_at_the_line_it_cannot_read():
    text = edited(replace_line(6, "Executive sumary"))

    reading = read_text(text, partial=True)

    assert reading.content.claim == parse_text(EXAMPLE).claim
    assert reading.content.checked_on == datetime.date(2026, 1, 27)
    assert reading.content.summary == ""
    assert reading.gaps[0] == (
        "Line 6 could not be read, so the draft stops there (lines 6\u201333 left out): "
        'expected "Executive summary", found "Executive sumary".'
    )


@pytest.mark.parametrize("cut", range(len(EXAMPLE.split("\n")[0]) + 1, len(EXAMPLE), 97))
def test_the_example_cut_anywhere_after_its_claim_reads_as_partial(cut):
    text = EXAMPLE[:cut]

    reading = read_text(text, partial=True)

    assert reading.content.claim == parse_text(EXAMPLE).claim
    assert reading.gaps or text.endswith("?")
    with pytest.raises(TextFormatError) if reading.gaps else contextlib.nullcontext() as raised:
        parse_text(text)
    if raised:
        assert 1 <= raised.value.line <= text.count("\n") + 2


# Unknown layouts and texts that are not reports -----------------------------------------


# A text in which a claim is found (followed by the layout's next line) is a draft when read
# as partial, stopping at the line it cannot read; any other is refused either way.
CLAIM_FOUND = True


@pytest.mark.parametrize(
    ("text", "line", "words", "claim_found"),
    [
        pytest.param(
            "Dear editor,\n\nPlease check the attached claim.\nThanks",
            3,
            'expected "Checked on <Month D, YYYY>" or "Executive summary" after the claim, or '
            '"1. Summary of the results" (the older "Fact check:" layout), found "Please check',
            not CLAIM_FOUND,
            id="a-letter",
        ),
        pytest.param(
            "# Heading\n\nChecked on May 1, 2026\n\n## Summary\n",
            5,
            'expected "Executive summary", found "## Summary"',
            CLAIM_FOUND,
            id="markdown",
        ),
        pytest.param('{"claim": "x"}\n{}', 2, 'expected "Checked on', not CLAIM_FOUND, id="json"),
        pytest.param(
            "Claim\n\nChecked on May 1, 2026\n\nExecutive summary\n\nText [1].\n\n1. A\nBody.\n",
            10,
            "expected a blank line after the heading of section 1",
            CLAIM_FOUND,
            id="heading-glued-to-its-text",
        ),
        pytest.param("Claim\x00 with a NUL\n", 1, "cannot be stored", not CLAIM_FOUND, id="nul"),
        pytest.param(
            "Claim\n\nChecked on May 1, 2026\n\nExecutive summary\n\nText [1].\n\n"
            "1. Conclusion\n\nFar too long [" + "7" * 5000 + "].\n\nWant to dive deeper?\n",
            11,
            "far too long to be a reference number",
            # Refused whole even as partial: the block holding it was read.
            not CLAIM_FOUND,
            id="a-marker-of-thousands-of-digits",
        ),
    ],
)
def test_an_unknown_layout_is_refused_with_the_line_and_what_was_expected(
    text, line, words, claim_found
):
    with pytest.raises(TextFormatError) as raised:
        read_text(text, filename="x.txt")

    assert raised.value.line == line
    assert words in raised.value.message
    if claim_found:
        gap = read_text(text, filename="x.txt", partial=True).gaps[0]
        assert gap.startswith(f"Line {line} could not be read, so the draft stops there")
        assert words in gap
    else:
        with pytest.raises(TextFormatError) as raised:
            read_text(text, filename="x.txt", partial=True)
        assert raised.value.line == line
        assert words in raised.value.message


# Any text at all: a reading or a TextFormatError, never anything else ---------------------

LINE_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
FRAGMENTS = st.sampled_from(
    [
        "",
        " ",
        "\ufeff",
        "Fact check: a claim",
        "A claim.",
        "Checked on January 27, 2026",
        "Checked on Febtober 31, 20x6",
        DISCLAIMER,
        "Factually can make mistakes. Verify important information.",
        "Keep Factually independent",
        "Support independent fact-checking",
        "Donate",
        "Loading...",
        "Loading… days left · €1,234 of €5,000 goal · 123 supporters",
        "€10",
        "Looking for more information…",
        "This fact check may be outdated...",
        "Refresh",
        "FACT-CHECK:",
        "Fact check: “”",
        "Was this fact-check helpful?",
        "Yes",
        "Executive summary",
        "Executive Summary \u2014 it starts here [1]",
        "1. Summary of the results",
        "2. Missing context/alternative viewpoints",
        "1. A heading \u2014 with a subtitle",
        "2. Conclusion",
        "3.",
        "99999999999999999999. Big",
        "Text with a marker [1].",
        "Text cut in the",
        "[0] [10000] [" + "9" * 30 + "]",
        "  \u2022 a bullet [2]",
        "\t\t\u25e6 a sub-bullet",
        "- a list item",
        "> a quote",
        "Want to dive deeper?",
        "A question?",
    ]
)
ANY_LINE = st.one_of(FRAGMENTS, st.text(max_size=40))


@st.composite
def texts(draw) -> str:
    lines = draw(st.lists(ANY_LINE, max_size=40))
    text = ""
    for line in lines:
        text += line + draw(LINE_ENDINGS)
    return draw(st.sampled_from(["", "\ufeff"])) + text


def read_or_refuse(text: str, partial: bool) -> None:
    try:
        reading = read_text(text, filename="fuzz.txt", partial=partial)
    except TextFormatError as error:
        refusal = error
    else:
        assert isinstance(reading.content, ReportContent)
        # What was read can always be written in the layout.
        export_text(reading.content)
        return
    assert refusal.line >= 1
    assert refusal.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.booleans())
def test_any_text_reads_or_is_refused_never_crashes(text, partial):
    read_or_refuse(text, partial)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts(), st.booleans())
def test_any_mix_of_layout_lines_reads_or_is_refused_never_crashes(text, partial):
    read_or_refuse(text, partial)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(EXAMPLE)),
    st.text(st.characters(codec="utf-8"), max_size=20),
    LINE_ENDINGS,
    st.booleans(),
)
def test_the_example_damaged_anywhere_reads_or_is_refused(at, junk, ending, partial):
    text = (EXAMPLE[:at] + junk + EXAMPLE[at:]).replace("\n", ending)

    read_or_refuse(text, partial)
