"""The plain-text layout: reading the example exactly, writing it back, and every complaint."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import citations
from reports.content import QuestionContent, ReferenceContent, ReportContent, SectionContent
from reports.formats.errors import TextFormatError
from reports.formats.text_reading import parse_text
from reports.formats.textformat import BULLETS, QUESTIONS_HEADING, export_text, format_date

DEMO_DIR = Path(__file__).resolve().parents[3] / "reports" / "demo"
EXAMPLE_PATH = DEMO_DIR / "destalinisation.txt"
EXAMPLE = EXAMPLE_PATH.read_text(encoding="utf-8")


def edited(change) -> str:
    """The example with `change` applied to its list of lines (line n is lines[n - 1])."""
    lines = EXAMPLE.split("\n")
    change(lines)
    return "\n".join(lines)


def replace_line(number: int, text: str):
    def change(lines):
        lines[number - 1] = text

    return change


def delete_lines(first: int, last: int | None = None):
    def change(lines):
        del lines[first - 1 : last or first]

    return change


# (text, line of the complaint, words of the complaint). Line numbers refer to the edited
# text: the example's summary is line 8, its sections start on lines 10, 14, 18 and 22,
# its conclusion on line 26 and "Want to dive deeper?" is line 30, of 33.
MALFORMED = [
    pytest.param("", 1, "the file is empty", id="empty-file"),
    pytest.param("\ufeff \n\n", 1, "the file is empty", id="only-blank-lines"),
    # Blank lines before the claim are stepped over: the first text is line 3.
    pytest.param(edited(replace_line(1, "")), 3, "expected the claim", id="no-claim"),
    # Without its "Checked on" line a report still needs its summary heading after the claim.
    pytest.param(
        edited(delete_lines(3, 6)),
        4,
        'expected "Checked on <Month D, YYYY>" or "Executive summary" after the claim',
        id="neither-date-nor-summary-heading",
    ),
    pytest.param(
        edited(replace_line(3, "Checked on January 32, 2026")),
        3,
        'expected a date such as "January 27, 2026"',
        id="impossible-date",
    ),
    pytest.param(
        edited(replace_line(3, "Checked on 27/01/2026")),
        3,
        'expected a date such as "January 27, 2026"',
        id="numeric-date",
    ),
    pytest.param(
        edited(replace_line(6, "Executive sumary")),
        6,
        'expected "Executive summary", found "Executive sumary"',
        id="misspelt-summary-heading",
    ),
    pytest.param(edited(delete_lines(8, 9)), 8, "expected the executive summary", id="no-summary"),
    pytest.param(edited(delete_lines(10, 29)), 10, "has no sections", id="no-sections"),
    pytest.param(
        edited(replace_line(18, "4. Selectivity, revisionism and the politics of memory")),
        18,
        'section number out of sequence: expected "3. <heading>", found "4. Selectivity',
        id="section-out-of-sequence",
    ),
    pytest.param(edited(delete_lines(25, 28)), 26, "expected the conclusion", id="no-conclusion"),
    pytest.param(
        edited(replace_line(26, "5. Summing up")),
        30,
        "expected the conclusion",
        id="last-section-not-a-conclusion",
    ),
    pytest.param(
        edited(delete_lines(30)),
        33,
        'expected "Want to dive deeper?", found the end of the file',
        id="no-questions-heading",
    ),
    pytest.param(
        edited(delete_lines(29, 33)),
        29,
        'expected "Want to dive deeper?", found the end of the file',
        id="ends-after-the-conclusion",
    ),
    pytest.param(
        edited(delete_lines(12, 13)),
        12,
        "expected the text of section 1",
        id="heading-without-body",
    ),
    pytest.param(edited(replace_line(18, "3.")), 18, "section 3 has no heading", id="no-heading"),
    pytest.param(
        edited(delete_lines(11)),
        11,
        "expected a blank line after the heading of section 1",
        id="heading-not-followed-by-blank-line",
    ),
    pytest.param(
        EXAMPLE + "\n\nThis line is not a question.",
        35,
        "unexpected text after the follow-up questions",
        id="text-after-the-questions",
    ),
    pytest.param(
        EXAMPLE.replace("[4] [5] [6]", "[0]"),
        8,
        "[0] is not a valid reference number",
        id="reference-number-zero",
    ),
    pytest.param(
        edited(replace_line(1, "A claim " + "x" * 600)),
        1,
        "the claim is too long",
        id="claim-too-long",
    ),
]


def test_the_example_reads_as_claim_date_summary_sections_conclusion_and_questions():
    content = parse_text(EXAMPLE, filename=EXAMPLE_PATH.name)

    assert content.claim == (
        "The de-Stalinisation movement was a conspiracy of falsehoods against Stalin's memory."
    )
    assert content.checked_on == datetime.date(2026, 1, 27)
    assert content.summary.startswith("The claim that de\u2011Stalinisation was merely")
    assert content.summary.endswith("[4] [5] [6].")
    assert [s.heading for s in content.sections] == [
        "Documented abuses and the factual basis for denunciation",
        "Political calculation, intra\u2011party motives and the \u201cfrom above\u201d "
        "nature of reform",
        "Selectivity, revisionism and the politics of memory",
        "Consequences in the Eastern Bloc and the limits of moral rhetoric",
    ]
    assert all(s.body and "\n" not in s.body for s in content.sections)
    assert content.conclusion_heading == (
        "Conclusion: neither total conspiracy nor unalloyed moral cleansing"
    )
    assert content.conclusion.startswith("The available reporting and historiography")
    assert [q.question for q in content.questions] == [
        "What evidence do survivors and camp literature provide about the scale of "
        "repression under Stalin?",
        "How did Khrushchev\u2019s Secret Speech affect communist parties and uprisings in "
        "Eastern Europe in 1956?",
        "In what ways did later Soviet leaders reverse or preserve elements of Stalinism "
        "after Khrushchev\u2019s ouster?",
    ]
    assert content.references == tuple(ReferenceContent(number=n) for n in range(1, 10))


def test_exporting_the_parsed_example_reproduces_it_byte_for_byte_plus_a_final_newline():
    assert export_text(parse_text(EXAMPLE)) == EXAMPLE + "\n"


@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.txt")), ids=lambda p: p.name)
def test_every_demo_file_survives_the_round_trip(path):
    text = path.read_text(encoding="utf-8")

    assert export_text(parse_text(text, filename=path.name)) == text.rstrip("\n") + "\n"


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(EXAMPLE + "\n", id="trailing-newline"),
        pytest.param(EXAMPLE.replace("\n", "\r\n"), id="crlf"),
        pytest.param("\ufeff" + EXAMPLE.replace("\n", "\r\n") + "\r\n", id="bom-and-crlf"),
        pytest.param(EXAMPLE + "\n\n\n", id="trailing-blank-lines"),
    ],
)
def test_line_endings_a_bom_and_trailing_newlines_do_not_change_the_report(variant):
    assert parse_text(variant) == parse_text(EXAMPLE)


def test_extra_blank_lines_between_paragraphs_and_sections_count_as_one():
    spaced = EXAMPLE.replace("\n\n", "\n\n  \n\n")

    assert parse_text(spaced) == parse_text(EXAMPLE)


def test_a_multi_line_paragraph_such_as_a_list_is_kept_as_written():
    text = EXAMPLE.replace(
        "\n\n2. Political", "\n\n- first point [1]\n- second point [2]\n\n2. Political"
    )

    section = parse_text(text).sections[0]

    assert section.body.endswith("[3].\n\n- first point [1]\n- second point [2]")
    assert export_text(parse_text(text)) == text + "\n"


def test_a_numbered_line_with_a_marker_is_a_paragraph_not_a_heading():
    text = EXAMPLE.replace("\n\n2. Political", "\n\n1956. A year of upheaval [2].\n\n2. Political")

    content = parse_text(text)

    assert len(content.sections) == 4
    assert content.sections[0].body.endswith("\n\n1956. A year of upheaval [2].")


def test_the_disclaimer_is_page_furniture_the_text_may_do_without():
    assert parse_text(edited(delete_lines(4))) == parse_text(EXAMPLE)


def test_no_questions_after_the_questions_heading_is_allowed():
    text = edited(delete_lines(31, 33))

    assert parse_text(text).questions == ()


def test_a_report_with_only_a_conclusion_reads_as_no_sections_and_a_conclusion():
    content = parse_text(edited(delete_lines(9, 24)).replace("5. Conclusion", "1. Conclusion"))

    assert content.sections == ()
    assert content.conclusion_heading.startswith("Conclusion: neither")


@pytest.mark.parametrize(("text", "line", "words"), MALFORMED)
def test_malformed_text_is_refused_with_the_file_line_and_reason(text, line, words):
    with pytest.raises(TextFormatError) as raised:
        parse_text(text, filename="destalinisation.txt")

    error = raised.value
    assert (error.filename, error.line) == ("destalinisation.txt", line)
    assert words in error.message
    assert str(error) == f"destalinisation.txt, line {line}: {error.message}"


def test_the_error_message_reads_as_file_line_expected_and_found():
    text = edited(replace_line(6, "Executive sumary"))

    with pytest.raises(TextFormatError) as raised:
        parse_text(text, filename="destalinisation.txt")

    assert str(raised.value) == (
        'destalinisation.txt, line 6: expected "Executive summary", found "Executive sumary"'
    )


def test_dates_are_written_in_english_without_zero_padding():
    assert format_date(datetime.date(2026, 3, 5)) == "March 5, 2026"


def test_exporting_a_draft_tidies_form_line_endings_and_stray_blank_lines():
    content = ReportContent(
        claim="  A claim.  ",
        checked_on=datetime.date(2026, 1, 2),
        summary="First [1].\r\n\r\n\r\nSecond [2].\r\n",
        conclusion_heading="Conclusion",
        conclusion="So [1].",
        questions=(QuestionContent("Why?"), QuestionContent(""), QuestionContent("How?")),
    )

    text = export_text(content)

    assert "\r" not in text
    assert "Executive summary\n\nFirst [1].\n\nSecond [2].\n\n1. Conclusion\n" in text
    assert text.endswith("Want to dive deeper?\nWhy?\nHow?\n")
    assert parse_text(text).summary == "First [1].\n\nSecond [2]."


# Text on one line, with the typographic punctuation real reports use.
PUNCTUATION = st.sampled_from(["\u2011", "\u2019", "\u2014", "\u201c", "\u201d", "\u00a0"])
CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
WORD = (
    st.text(st.one_of(CHARACTERS, PUNCTUATION), min_size=1, max_size=12)
    .map(str.strip)
    .filter(lambda word: word and not citations.MARKER_RE.search(word))
)
LINE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
NUMBER = st.integers(min_value=1, max_value=30)
# Markers as people write them: "[3]", "[3, 4]", "[3,4]", "[5–7]", "[5-7]".
MARKER = st.one_of(
    NUMBER.map(lambda n: f"[{n}]"),
    st.tuples(NUMBER, NUMBER, st.sampled_from([", ", ","])).map(lambda t: f"[{t[0]}{t[2]}{t[1]}]"),
    st.tuples(NUMBER, st.integers(1, 20), st.sampled_from(["–", "-"])).map(
        lambda t: f"[{t[0]}{t[2]}{t[0] + t[1]}]"
    ),
)
PARAGRAPH = (
    st.lists(st.one_of(WORD, MARKER), min_size=1, max_size=12)
    .map(" ".join)
    # A line starting "12." could be a heading, one starting "• " a bullet made a Markdown
    # list item; the questions heading (any capitalisation) ends the sections.
    .filter(
        lambda p: (
            not p[0].isdigit()
            and p[0] not in BULLETS
            and p.casefold() != QUESTIONS_HEADING.casefold()
        )
    )
)
BODY = st.lists(PARAGRAPH, min_size=1, max_size=3).map("\n\n".join)


@st.composite
def report_contents(draw) -> ReportContent:
    sections = tuple(
        SectionContent(heading=draw(LINE), body=draw(BODY))
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    )
    summary, conclusion = draw(BODY), draw(BODY)
    cited = [summary, conclusion, *(s.body for s in sections)]
    numbers = sorted({n for text in cited for n in citations.markers(text)})
    return ReportContent(
        claim=draw(LINE.filter(lambda claim: not claim.casefold().startswith("checked on"))),
        checked_on=draw(
            st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))
        ),
        summary=summary,
        sections=sections,
        conclusion_heading=(
            draw(st.sampled_from(["Conclusion", "Conclusion: "])) + draw(st.just("") | LINE)
        ).strip(),
        conclusion=conclusion,
        # A question starting "• " loses its bullet; one ending without punctuation is a
        # question cut short.
        questions=tuple(
            QuestionContent(q + "?")
            for q in draw(st.lists(LINE.filter(lambda q: q[0] not in BULLETS), max_size=3))
        ),
        references=tuple(ReferenceContent(number=n) for n in numbers),
    )


@settings(max_examples=50, deadline=None)
@given(report_contents())
def test_any_complete_report_reads_back_exactly_as_it_was_written(content):
    text = export_text(content)

    assert parse_text(text) == content
    assert export_text(parse_text(text)) == text
    assert parse_text("\ufeff" + text.replace("\n", "\r\n")) == content
