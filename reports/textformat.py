"""The plain-text layout of a report, in and out.

This is the layout fact-checks are drafted and exchanged in (see
``reports/demo/destalinisation.txt``)::

    <claim>

    Checked on January 27, 2026
    Disclaimer: Factually can make mistakes. Please verify important information or ...

    Executive summary

    <paragraphs, separated by blank lines>

    1. <heading>

    <paragraphs>

    N. Conclusion<...>

    <paragraphs>

    Want to dive deeper?
    <one follow-up question a line>

A section heading is a line ``N. Heading`` that follows a blank line and carries no
citation marker; N must be the next section number. The last section, whose heading
starts with "Conclusion", is the report's conclusion. Paragraph text is kept as written
(it is the editor's Markdown subset, read by `reports.citations`), except that runs of
blank lines between paragraphs count as one.

`parse_text` reads the layout into a `ReportContent` and raises `TextFormatError`, with
the file name and line, on anything it cannot read; `export_text` writes it back.
Whatever `export_text` writes from a complete report, `parse_text` reads back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from reports import citations
from reports.content import QuestionContent, ReferenceContent, ReportContent, SectionContent
from reports.models import FollowUpQuestion, Report, Section

CHECKED_ON = "Checked on"
DISCLAIMER = (
    "Disclaimer: Factually can make mistakes. "
    "Please verify important information or breaking news. Learn more."
)
SUMMARY_HEADING = "Executive summary"
CONCLUSION = "Conclusion"
QUESTIONS_HEADING = "Want to dive deeper?"

# Spelled out here rather than taken from the locale: the layout is English whatever
# language the server runs in.
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NUMBERS = {name.casefold(): number for number, name in enumerate(MONTHS, start=1)}
_DATE_RE = re.compile(r"([A-Za-z]+) ([0-9]{1,2}), ([0-9]{4})")
# ASCII digits only: str.isdigit() would also accept "²" or Arabic-Indic digits.
_SECTION_HEADING_RE = re.compile(r"([0-9]+)\.(?:[ \t]+(.*))?")
# Messages quote the offending line, shortened so a long paragraph stays readable.
_QUOTE_LENGTH = 60


class TextFormatError(ValueError):
    """The text does not follow the layout; says where (1-based line) and why."""

    def __init__(self, message: str, *, line: int, filename: str = "<text>"):
        self.filename = filename
        self.line = line
        self.message = message
        super().__init__(f"{filename}, line {line}: {message}")


def parse_text(text: str, *, filename: str = "<text>") -> ReportContent:
    """Read a report in the plain-text layout; raise `TextFormatError` if it is malformed.

    Every reference number cited in the summary, sections and conclusion becomes an
    unlinked reference.
    """
    reader = _Reader(text, filename)
    if all(_is_blank(line) for line in reader.lines):
        raise reader.error("the file is empty")

    claim_line = reader.line
    claim = reader.peek().strip()
    if not claim or claim.startswith(CHECKED_ON):
        raise reader.error(f"expected the claim on the first line, found {reader.found()}")
    reader.advance()
    reader.skip_blank_lines(after="the claim")
    checked_on = reader.read_checked_on()
    reader.expect(DISCLAIMER)
    reader.skip_blank_lines(after="the disclaimer")
    reader.expect(SUMMARY_HEADING)
    reader.skip_blank_lines(after=f'"{SUMMARY_HEADING}"')
    summary = reader.read_block()
    if not summary.text:
        raise reader.error(f"expected the executive summary, found {reader.found()}")

    sections = reader.read_sections()
    reader.expect(QUESTIONS_HEADING)
    questions = reader.read_questions()

    *body_sections, conclusion = sections
    _check_length(reader, claim, Report, "claim", "the claim", claim_line)
    for number, section in enumerate(body_sections, start=1):
        what = f"the heading of section {number}"
        _check_length(reader, section.heading, Section, "heading", what, section.line)
    what = "the conclusion heading"
    _check_length(reader, conclusion.heading, Report, "conclusion_heading", what, conclusion.line)
    for line, question in questions:
        _check_length(reader, question, FollowUpQuestion, "question", "this question", line)

    blocks = [summary, *(section.body for section in sections)]
    numbers = sorted({number for block in blocks for number in reader.markers(block)})
    return ReportContent(
        claim=claim,
        checked_on=checked_on,
        summary=summary.text,
        sections=tuple(SectionContent(s.heading, s.body.text) for s in body_sections),
        conclusion_heading=conclusion.heading,
        conclusion=conclusion.body.text,
        questions=tuple(QuestionContent(question) for _, question in questions),
        references=tuple(ReferenceContent(number=number) for number in numbers),
    )


def export_text(content: ReportContent) -> str:
    """Write `content` in the plain-text layout, ending with a newline.

    A draft missing something the layout requires (a date, a conclusion heading starting
    with "Conclusion") is written as far as it goes; reading it back says what is missing.
    """
    lines = [
        _one_line(content.claim),
        "",
        f"{CHECKED_ON} {format_date(content.checked_on)}" if content.checked_on else CHECKED_ON,
        DISCLAIMER,
        "",
        SUMMARY_HEADING,
        "",
        _tidy_text(content.summary),
    ]
    parts = [*((s.heading, s.body) for s in content.sections)]
    parts.append((content.conclusion_heading, content.conclusion))
    for number, (heading, body) in enumerate(parts, start=1):
        lines += ["", f"{number}. {_one_line(heading)}", "", _tidy_text(body)]
    lines += ["", QUESTIONS_HEADING]
    # An empty question would end the list early and push the rest into "text after it".
    lines += [q for q in (_one_line(q.question) for q in content.questions) if q]
    return "\n".join(lines) + "\n"


def format_date(day: date) -> str:
    """A date as the layout writes it: "January 27, 2026", whatever the locale."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def parse_date(value: str) -> date | None:
    """The date in "January 27, 2026", or None if `value` is not such a date."""
    match = _DATE_RE.fullmatch(value.strip())
    if not match or match[1].casefold() not in _MONTH_NUMBERS:
        return None
    try:
        return date(int(match[3]), _MONTH_NUMBERS[match[1].casefold()], int(match[2]))
    except ValueError:  # February 30 and friends
        return None


@dataclass(frozen=True)
class _Block:
    """Paragraph text read from the file, with the file line of each of its lines."""

    text: str
    lines: tuple[int, ...]

    def file_line(self, line: int) -> int:
        return self.lines[line - 1]


@dataclass(frozen=True)
class _Section:
    line: int
    heading: str
    body: _Block


class _Reader:
    """A cursor over the lines of one file, which knows how to complain about them."""

    def __init__(self, text: str, filename: str):
        text = text.removeprefix("\ufeff")
        self.lines = _split_lines(text)
        # A final newline ends the last line; it does not start an empty one.
        if len(self.lines) > 1 and self.lines[-1] == "":
            self.lines.pop()
        self.filename = filename
        self.index = 0

    @property
    def line(self) -> int:
        return self.index + 1

    def peek(self) -> str | None:
        return self.lines[self.index] if self.index < len(self.lines) else None

    def advance(self) -> None:
        self.index += 1

    def error(self, message: str, *, line: int | None = None) -> TextFormatError:
        return TextFormatError(message, line=line or self.line, filename=self.filename)

    def found(self) -> str:
        return _describe(self.peek())

    def expect(self, wanted: str) -> None:
        line = self.peek()
        if line is None or line.strip() != wanted:
            raise self.error(f'expected "{wanted}", found {self.found()}')
        self.advance()

    def skip_blank_lines(self, *, after: str) -> None:
        """Step over one or more blank lines; at least one is required."""
        if not _is_blank(self.peek()):
            raise self.error(f"expected a blank line after {after}, found {self.found()}")
        while _is_blank(self.peek()):
            self.advance()

    def read_checked_on(self) -> date:
        line = (self.peek() or "").strip()
        if not line.startswith(CHECKED_ON):
            raise self.error(f'expected "{CHECKED_ON} <Month D, YYYY>", found {self.found()}')
        checked_on = parse_date(line.removeprefix(CHECKED_ON))
        if checked_on is None:
            raise self.error(
                f'expected a date such as "January 27, 2026" after "{CHECKED_ON}", '
                f"found {self.found()}"
            )
        self.advance()
        return checked_on

    def read_block(self) -> _Block:
        """Paragraph lines up to the next section heading, the questions or the end."""
        numbered = []
        after_blank = True  # callers have just stepped over the blank lines before it
        while (line := self.peek()) is not None:
            if line.strip() == QUESTIONS_HEADING or (after_blank and _is_section_heading(line)):
                break
            numbered.append((self.line, line))
            after_blank = _is_blank(line)
            self.advance()
        tidy = _tidy(numbered)
        return _Block(
            text="\n".join(line for _, line in tidy),
            lines=tuple(number for number, _ in tidy),
        )

    def read_sections(self) -> list[_Section]:
        """The numbered sections, the last of which must be the conclusion."""
        sections: list[_Section] = []
        while (line := self.peek()) is not None and line.strip() != QUESTIONS_HEADING:
            # read_block stops only at a section heading, the questions or the end.
            match = _SECTION_HEADING_RE.fullmatch(line.rstrip())
            number = len(sections) + 1
            if int(match[1]) != number:
                raise self.error(
                    f'section number out of sequence: expected "{number}. <heading>", '
                    f"found {self.found()}"
                )
            heading = (match[2] or "").strip()
            if not heading:
                raise self.error(f"section {number} has no heading")
            heading_line = self.line
            self.advance()
            self.skip_blank_lines(after=f"the heading of section {number}")
            body = self.read_block()
            if not body.text:
                raise self.error(
                    f"expected the text of section {number} ({_describe(heading)}), "
                    f"found {self.found()}"
                )
            sections.append(_Section(heading_line, heading, body))

        if not sections:
            raise self.error(
                f'the report has no sections: expected "1. <heading>", found {self.found()}'
            )
        if self.peek() is None:
            raise self.error(f'expected "{QUESTIONS_HEADING}", found the end of the file')
        if not sections[-1].heading.casefold().startswith(CONCLUSION.casefold()):
            raise self.error(
                f'expected the conclusion, a last section "{len(sections) + 1}. {CONCLUSION}…", '
                f'before "{QUESTIONS_HEADING}"'
            )
        return sections

    def read_questions(self) -> list[tuple[int, str]]:
        """One question a line up to a blank line, after which only blank lines may follow."""
        questions = []
        while (line := self.peek()) is not None and not _is_blank(line):
            questions.append((self.line, line.strip()))
            self.advance()
        while (line := self.peek()) is not None:
            if not _is_blank(line):
                raise self.error(
                    "unexpected text after the follow-up questions (they go one a line, "
                    f"with no blank lines between them), found {self.found()}"
                )
            self.advance()
        return questions

    def markers(self, block: _Block) -> list[int]:
        """The reference numbers `block` cites; a number no reference can have is an error."""
        numbers = []
        for paragraph in citations.parse(block.text):
            for number in paragraph.markers:
                if not citations.is_valid_number(number):
                    raise self.error(
                        f"[{number}] is not a valid reference number (use 1 to "
                        f"{citations.HIGHEST_REFERENCE_NUMBER})",
                        line=block.file_line(paragraph.line),
                    )
                numbers.append(number)
        return numbers


def _check_length(reader: _Reader, value: str, model, field: str, what: str, line: int) -> None:
    # The database would refuse it (PostgreSQL) or keep it silently (SQLite); say so here,
    # where the line is known.
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise reader.error(
            f"{what} is too long: {len(value)} characters, at most {limit}", line=line
        )


def _split_lines(text: str) -> list[str]:
    # Only line feeds and carriage returns break lines: str.splitlines() would also split
    # on U+2028 and other characters that are just text here.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_blank(line: str | None) -> bool:
    return line is not None and not line.strip()


def _is_section_heading(line: str) -> bool:
    # A marker means a paragraph that happens to start with a number (or a list item).
    return bool(_SECTION_HEADING_RE.fullmatch(line.rstrip())) and not citations.MARKER_RE.search(
        line
    )


def _tidy[T](numbered: Iterable[tuple[T, str]]) -> list[tuple[T, str]]:
    """Paragraph lines with each run of blank lines made one empty line, none at the ends."""
    tidy: list[tuple[T, str]] = []
    for key, line in numbered:
        if not _is_blank(line):
            tidy.append((key, line))
        elif tidy and tidy[-1][1]:
            tidy.append((key, ""))
    if tidy and not tidy[-1][1]:
        tidy.pop()
    return tidy


def _tidy_text(text: str) -> str:
    # The same tidying as reading, so what is written reads back unchanged (text saved
    # from a browser form has \r\n line endings and may end with blank lines).
    return "\n".join(line for _, line in _tidy(enumerate(_split_lines(text))))


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in _split_lines(text) if line.strip())


def _describe(line: str | None) -> str:
    if line is None:
        return "the end of the file"
    if not line.strip():
        return "a blank line"
    line = line.strip()
    if len(line) > _QUOTE_LENGTH:
        line = line[: _QUOTE_LENGTH - 1].rstrip() + "…"
    return f'"{line}"'
