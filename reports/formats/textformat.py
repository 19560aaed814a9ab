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
blank lines between paragraphs count as one and "•" bullets become Markdown list items.

Reading also accepts what texts copied from elsewhere look like:

- "Executive Summary" capitalised either way, and the summary starting on the heading's
  own line after a dash or colon ("Executive Summary — The link alone …");
- section headings with a subtitle after a dash, kept whole as the heading;
- the older layout: a title line "Fact check: <claim>", then "1. Summary of the results"
  (read as the executive summary) and further numbered sections, with "•" bullet lists;
  it has no conclusion, which is left empty for the editor to write;
- page furniture, left out wherever it is: the donation banner ("Keep Factually
  independent" … "Loading..."), "Was this fact-check helpful?", "This fact-check may be
  outdated…" and the disclaimer in either wording (export writes the current one).

`read_text` reads a text into a `TextReading`: the `ReportContent`, notes saying how the
text was mapped, and, for a text read as ``partial``, what a cut-off text is missing.
Anything it cannot read raises `TextFormatError` with the file name and line; without
``partial``, so does a text that stops early, at the line where it stops making sense.
`parse_text` is the strict reading's content; `export_text` writes the layout back.
Whatever `export_text` writes from a complete report, `parse_text` reads back unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn

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

# The older layout: a "Fact check:" title line and these numbered sections.
OLDER_TITLE = "Fact check:"
OLDER_SUMMARY_HEADING = "Summary of the results"
OLDER_HEADINGS = (
    OLDER_SUMMARY_HEADING,
    "Missing context/alternative viewpoints",
    "Potential misinformation/bias in the original statement",
)

LAYOUT = "Factually layout"
OLDER_LAYOUT = "older “Fact check:” layout"

# Bullet characters of lists copied from web pages; "- " is the Markdown the site renders.
BULLETS = "•◦▪‣●○∙"

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
# ASCII digits only: str.isdigit() would also accept "²" or Arabic-Indic digits. At most
# nine, so int() is cheap and never refuses (it does above 4300 digits).
_SECTION_HEADING_RE = re.compile(r"([0-9]{1,9})\.(?:[ \t]+(.*))?")
# "Executive summary" in any capitalisation, perhaps with the summary after a dash (em or
# en dash, or a hyphen between spaces) or a colon on the same line.
_SUMMARY_HEADING_RE = re.compile(
    r"executive[ \t]+summary(?:[ \t]*(?:[\u2014\u2013:]|(?<=[ \t])-(?=[ \t]))[ \t]*(.*))?",
    re.IGNORECASE,
)
_OLDER_TITLE_RE = re.compile(r"fact[ \t-]?check[ \t]*:[ \t]*(.*)", re.IGNORECASE)
# A heading with a subtitle: "What the submission claims — an empty signpost".
_SUBTITLE_RE = re.compile(r"[ \t][\u2014\u2013-][ \t]|\u2014")
_BULLET_RE = re.compile(rf"([ \t]*)[{BULLETS}][ \t]+(.*)")
# Where a sentence may end: its punctuation, then closing quotes, brackets or emphasis.
_SENTENCE_END = ".!?…:;"
_CLOSERS = "\"'”’»)*_"
# A text that cannot be stored (PostgreSQL refuses NUL) or is not text at all.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
# Messages quote the offending line, shortened so a long paragraph stays readable.
_QUOTE_LENGTH = 60
_CUT_OFF_HINT = "the text looks cut off (import it as partial to keep what is there as a draft)"

# Page furniture copied along with a report.
_DISCLAIMER_RE = re.compile(
    r"(?:disclaimer[ \t]*:[ \t]*)?factually can make mistakes\b.*", re.IGNORECASE
)
_BANNER_RE = re.compile(r"keep factually independent\b.*", re.IGNORECASE)
_LOADING_RE = re.compile(r"(?:.*\W)?loading(?:\.\.\.|…)", re.IGNORECASE)
_HELPFUL_RE = re.compile(r"was this fact[ -]?check helpful\b.*", re.IGNORECASE)
_HELPFUL_BUTTONS = {"yes", "no", "\N{THUMBS UP SIGN}", "\N{THUMBS DOWN SIGN}"}
_OUTDATED_RE = re.compile(r"this fact[ -]?check may be outdated\b.*", re.IGNORECASE)
_OTHER_DISCLAIMER = "the disclaimer in another wording"
# A donation banner ends with "Loading..." within this many lines, or is its first line only.
_BANNER_LINES = 8


class TextFormatError(ValueError):
    """The text does not follow the layout; says where (1-based line) and why."""

    def __init__(self, message: str, *, line: int, filename: str = "<text>"):
        self.filename = filename
        self.line = line
        self.message = message
        super().__init__(f"{filename}, line {line}: {message}")


@dataclass(frozen=True)
class TextReading:
    """What `read_text` made of a text."""

    content: ReportContent
    layout: str  # LAYOUT or OLDER_LAYOUT
    notes: tuple[str, ...] = ()  # how the text was mapped and what was left out
    gaps: tuple[str, ...] = ()  # read as partial: what the cut-off text is missing


def parse_text(text: str, *, filename: str = "<text>") -> ReportContent:
    """Read a complete report; raise `TextFormatError` if it is malformed or cut off.

    Every reference number cited in the summary, sections and conclusion becomes an
    unlinked reference.
    """
    return read_text(text, filename=filename).content


def read_text(text: str, *, filename: str = "<text>", partial: bool = False) -> TextReading:
    """Read a report in either layout; raise `TextFormatError` if it cannot be read.

    With `partial`, a text that stops early (cut off when it was copied) reads as far as
    it goes, a last line cut short is left out, and `TextReading.gaps` says what is missing.
    """
    reader = _Reader(text, filename, partial=partial)
    draft = _Draft()
    with contextlib.suppress(_EndOfText):  # only ever raised when reading as partial
        _read(reader, draft)
    return _finish(reader, draft)


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


# Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Paragraph text read from the file, with the file line of each of its lines."""

    text: str
    lines: tuple[int, ...]

    def file_line(self, line: int) -> int:
        return self.lines[line - 1]


_NO_TEXT = _Block("", ())


@dataclass(frozen=True)
class _Section:
    line: int
    heading: str
    body: _Block = _NO_TEXT


@dataclass
class _Draft:
    """What has been read so far: all of the report, or as far as a cut-off text goes."""

    layout: str = LAYOUT
    claim: str = ""
    claim_line: int = 1
    checked_on: date | None = None
    summary: _Block = _NO_TEXT
    sections: list[_Section] = field(default_factory=list)
    has_questions_heading: bool = False
    questions: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _EndOfText(Exception):
    """A partial text ends here; what has been read is the draft."""


@dataclass(frozen=True)
class _Furniture:
    first: int  # 0-based indexes of its first and last lines
    last: int
    what: str

    @property
    def where(self) -> str:
        if self.first == self.last:
            return f"line {self.first + 1}"
        return f"lines {self.first + 1}–{self.last + 1}"


def _read(reader: _Reader, draft: _Draft) -> None:
    reader.skip_blank_lines()
    draft.claim_line = reader.line
    draft.claim = reader.peek().strip()
    if draft.claim.casefold().startswith(CHECKED_ON.casefold()):
        raise reader.error(f"expected the claim on the first line, found {reader.found()}")
    older_title = _OLDER_TITLE_RE.fullmatch(draft.claim)
    reader.advance()
    reader.skip_blank_lines()
    reader.stop_at_end(f'"{CHECKED_ON} <Month D, YYYY>"')
    if reader.peek().strip().casefold().startswith(CHECKED_ON.casefold()):
        draft.checked_on = reader.read_checked_on()
        reader.skip_blank_lines()
        reader.stop_at_end(f'"{SUMMARY_HEADING}"')
    if reader.at_older_heading(1):
        _read_older(reader, draft, older_title)
        return
    if draft.checked_on is None:
        reader.unexpected(
            f'expected "{CHECKED_ON} <Month D, YYYY>" after the claim, or '
            f'"1. {OLDER_SUMMARY_HEADING}" (the older "{OLDER_TITLE}" layout), '
            f"found {reader.found()}",
            CHECKED_ON,
        )
    _read_summary(reader, draft)
    _read_sections(reader, draft, first_number=1)
    if not draft.sections:
        reader.stop_at_end('"1. <heading>"')
        raise reader.error(
            f'the report has no sections: expected "1. <heading>", found {reader.found()}'
        )
    reader.stop_at_end(f'"{QUESTIONS_HEADING}"')
    if not _is_conclusion(draft.sections[-1].heading):
        raise reader.error(
            f'expected the conclusion, a last section "{len(draft.sections) + 1}. '
            f'{CONCLUSION}…", before "{QUESTIONS_HEADING}"'
        )
    _read_questions(reader, draft)


def _read_summary(reader: _Reader, draft: _Draft) -> None:
    line = reader.peek()
    heading = _SUMMARY_HEADING_RE.fullmatch(line.strip())
    if not heading:
        reader.unexpected(f'expected "{SUMMARY_HEADING}", found {reader.found()}', SUMMARY_HEADING)
    first_words = (heading[1] or "").strip()
    heading_line = reader.line
    reader.advance()
    if first_words:
        draft.notes.append(
            f"The executive summary starts on its heading's line (line {heading_line}), "
            "after the dash: those words are its first paragraph's beginning."
        )
        draft.summary = reader.read_block(first=[(heading_line, first_words)])
        return
    reader.skip_blank_lines()
    reader.stop_at_end("the executive summary")
    draft.summary = reader.read_block()
    if not draft.summary.text:
        raise reader.error(f"expected the executive summary, found {reader.found()}")


def _read_sections(reader: _Reader, draft: _Draft, *, first_number: int) -> None:
    """Numbered sections up to the questions or the end; numbers start at `first_number`."""
    while not reader.at_end() and not _is_questions_heading(reader.peek()):
        # read_block stops only at a section heading, the questions or the end.
        match = _SECTION_HEADING_RE.fullmatch(reader.peek().rstrip())
        number = len(draft.sections) + first_number
        if int(match[1]) != number:
            raise reader.error(
                f'section number out of sequence: expected "{number}. <heading>", '
                f"found {reader.found()}"
            )
        heading = (match[2] or "").strip()
        if not heading:
            raise reader.error(f"section {number} has no heading")
        draft.sections.append(_Section(reader.line, heading))
        reader.advance()
        what = f"the text of section {number} ({_describe(heading)})"
        reader.stop_at_end(what)
        if reader.older:
            reader.skip_blank_lines()
        else:
            reader.require_blank_line(after=f"the heading of section {number}")
        reader.stop_at_end(what)
        body = reader.read_block()
        if not body.text:
            raise reader.error(f"expected {what}, found {reader.found()}")
        draft.sections[-1] = dataclasses.replace(draft.sections[-1], body=body)


def _read_questions(reader: _Reader, draft: _Draft) -> None:
    """The heading, then one question a line up to a blank line; only blank lines after."""
    reader.advance()
    draft.has_questions_heading = True
    while (line := reader.peek()) is not None and (line.strip() or reader.at_furniture()):
        if line.strip():
            draft.questions.append((reader.line, _strip_bullet(line.strip())))
            reader.last_block_line = reader.index  # a question cut short is a cut-off text too
        reader.advance()
    while (line := reader.peek()) is not None:
        if line.strip():
            raise reader.error(
                "unexpected text after the follow-up questions (they go one a line, "
                f"with no blank lines between them), found {reader.found()}"
            )
        reader.advance()


def _read_older(reader: _Reader, draft: _Draft, title) -> None:
    """The older layout, from its "1. Summary of the results" on."""
    draft.layout = reader.layout = OLDER_LAYOUT
    notes = draft.notes
    if title:
        draft.claim = _unquote(title[1].strip())
        if not draft.claim:
            raise reader.error(
                f'expected the claim after "{OLDER_TITLE}", found nothing', line=draft.claim_line
            )
        unquoted = ", without its quotation marks" if draft.claim != title[1].strip() else ""
        notes.append(f"Older “{OLDER_TITLE}” layout: the title line became the claim{unquoted}.")
    else:
        notes.append("Older “Fact check:” layout: the first line became the claim.")
    reader.advance()
    reader.skip_blank_lines()
    summary = f'the text of "1. {OLDER_SUMMARY_HEADING}"'
    reader.stop_at_end(summary)
    draft.summary = reader.read_block()
    if not draft.summary.text:
        raise reader.error(f"expected {summary}, found {reader.found()}")
    notes.append(f"“1. {OLDER_SUMMARY_HEADING}” became the executive summary.")
    _read_sections(reader, draft, first_number=2)
    if not reader.at_end():  # the questions, which the older layout may end with
        _read_questions(reader, draft)


def _finish(reader: _Reader, draft: _Draft) -> TextReading:
    """The reading: content, notes and (partial) gaps; checks what the database would refuse."""
    sections = list(draft.sections)
    conclusion = sections.pop() if sections and _is_conclusion(sections[-1].heading) else None
    older = draft.layout == OLDER_LAYOUT

    cut_sentence = reader.cut_sentence()
    if cut_sentence and not reader.partial:
        raise reader.cut_off_error(cut_sentence)

    _check_length(reader, draft.claim, Report, "claim", "the claim", draft.claim_line)
    for number, section in enumerate(sections, start=1):
        what = f"the heading of section {number}"
        _check_length(reader, section.heading, Section, "heading", what, section.line)
    if conclusion:
        what = "the conclusion heading"
        _check_length(
            reader, conclusion.heading, Report, "conclusion_heading", what, conclusion.line
        )
    for line, question in draft.questions:
        _check_length(reader, question, FollowUpQuestion, "question", "this question", line)
    _check_block(reader, draft.summary, Report, "summary", "the executive summary")
    for number, section in enumerate(sections, start=1):
        what = f"the text of section {number}"
        _check_block(reader, section.body, Section, "body", what)
    if conclusion:
        _check_block(reader, conclusion.body, Report, "conclusion", "the conclusion")

    blocks = [draft.summary, *(section.body for section in draft.sections)]
    numbers = sorted({number for block in blocks for number in reader.markers(block)})
    content = ReportContent(
        claim=draft.claim,
        checked_on=draft.checked_on,
        summary=draft.summary.text,
        sections=tuple(SectionContent(s.heading, s.body.text) for s in sections),
        conclusion_heading=conclusion.heading if conclusion else CONCLUSION,
        conclusion=conclusion.body.text if conclusion else "",
        questions=tuple(QuestionContent(question) for _, question in draft.questions),
        references=tuple(ReferenceContent(number=number) for number in numbers),
    )

    notes = list(draft.notes)
    if older:
        notes += _older_notes(draft, sections, conclusion)
    first_number = 2 if older else 1  # the older layout's section 1 is the summary
    subtitled = [
        str(n)
        for n, s in enumerate(draft.sections, start=first_number)
        if _SUBTITLE_RE.search(s.heading)
    ]
    if subtitled:
        plural = "s" if len(subtitled) > 1 else ""
        notes.append(
            f"Section heading{plural} with a subtitle after a dash kept whole, subtitle "
            f"included (section{plural} {_and(subtitled)} of the text)."
        )
    if reader.bullets:
        notes.append(
            f"{reader.bullets} “•” bullet{'s' if reader.bullets > 1 else ''} became "
            "Markdown list items (“- ”)."
        )
    notes += reader.furniture_notes()
    gaps = _gaps(reader, draft, sections, conclusion, cut_sentence) if reader.partial else []
    return TextReading(content=content, layout=draft.layout, notes=tuple(notes), gaps=tuple(gaps))


def _older_notes(draft: _Draft, sections: list[_Section], conclusion: _Section | None) -> list:
    notes = []
    if sections:
        old = [str(n) for n in range(2, len(sections) + 2)]
        new = [str(n) for n in range(1, len(sections) + 1)]
        plural = "s" if len(sections) > 1 else ""
        notes.append(
            f"Section{plural} {_and(old)} became section{plural} {_and(new)}, heading{plural} kept."
        )
    if conclusion:
        notes.append(f"“{conclusion.heading}” became the conclusion.")
    else:
        notes.append(
            "The older layout has no conclusion: the draft's conclusion is left empty for "
            "you to write (nothing was made up)."
        )
    if draft.checked_on is None:
        notes.append("No “Checked on” date: set it before publishing.")
    if not draft.questions:
        notes.append("No follow-up questions.")
    return notes


def _gaps(reader, draft, sections, conclusion, cut_sentence) -> list[str]:
    """What a cut-off text is missing, in words an editor can act on."""
    gaps = []
    if reader.cut_line:
        line, text = reader.cut_line
        gaps.append(f"Line {line} is cut off and was left out: {_describe(text)}.")
    if cut_sentence:
        line, text = cut_sentence
        gaps.append(f"The text stops in the middle of a sentence, on line {line}: {_tail(text)}.")
    missing = []
    if draft.layout == LAYOUT and draft.checked_on is None:
        missing.append("the “Checked on” date")
    if not draft.summary.text:
        missing.append("the executive summary")
    missing += [
        f"the text of section {n}" for n, s in enumerate(sections, start=1) if not s.body.text
    ]
    if draft.layout == LAYOUT:
        if not draft.sections:
            missing.append("the sections")
        if conclusion is None:
            missing.append("the conclusion")
        elif not conclusion.body.text:
            missing.append("the text of the conclusion")
        if not draft.has_questions_heading:
            missing.append("the follow-up questions")
    if missing:
        gaps.append(f"Missing where the text stops: {_and(missing)}.")
    return gaps


class _Reader:
    """A cursor over the lines of one file, which knows how to complain about them.

    Page furniture reads as blank lines; the line numbers stay those of the file.
    """

    def __init__(self, text: str, filename: str, *, partial: bool):
        self.filename = filename
        self.partial = partial
        self.layout = LAYOUT
        text = text.removeprefix("\ufeff")
        lines = split_lines(text)
        # A final newline ends the last line; it does not start an empty one.
        if len(lines) > 1 and lines[-1] == "":
            lines.pop()
        for index, line in enumerate(lines):
            if _UNSTORABLE_RE.search(line):
                raise self.error(
                    "the text holds a character that cannot be stored (NUL or a lone "
                    "surrogate): is it really a text file?",
                    line=index + 1,
                )
        if all(not line.strip() for line in lines):
            raise self.error("the file is empty", line=1)
        self.furniture = _find_furniture(lines)
        self.furniture_indexes = {i for f in self.furniture for i in range(f.first, f.last + 1)}
        self.lines = ["" if i in self.furniture_indexes else line for i, line in enumerate(lines)]
        self.last_content = max(
            (i for i, line in enumerate(self.lines) if line.strip()), default=-1
        )
        if self.last_content < 0:
            what = _and(sorted({f.what for f in self.furniture}))
            raise self.error(f"the text holds only page furniture ({what}), no report", line=1)
        self.index = 0
        self.bullets = 0
        # 0-based index of the last line of paragraph text or of a question read.
        self.last_block_line: int | None = None
        self.cut_line: tuple[int, str] | None = None  # partial: the last line, left out

    @property
    def older(self) -> bool:
        return self.layout == OLDER_LAYOUT

    @property
    def line(self) -> int:
        return self.index + 1

    def peek(self) -> str | None:
        return self.lines[self.index] if self.index < len(self.lines) else None

    def advance(self) -> None:
        self.index += 1

    def at_end(self) -> bool:
        """Nothing but blank lines (or furniture) is left."""
        return self.index > self.last_content

    def at_furniture(self) -> bool:
        return self.index in self.furniture_indexes

    def at_older_heading(self, number: int | None = None) -> bool:
        """At "N. <a heading of the older layout>" (N = `number` if given)."""
        match = _SECTION_HEADING_RE.fullmatch((self.peek() or "").strip())
        if not match or (number is not None and int(match[1]) != number):
            return False
        wanted = OLDER_HEADINGS[:1] if number == 1 else OLDER_HEADINGS
        return _heading_key(match[2] or "") in {_heading_key(h) for h in wanted}

    def error(self, message: str, *, line: int | None = None) -> TextFormatError:
        return TextFormatError(message, line=line or self.line, filename=self.filename)

    def found(self) -> str:
        return _describe(self.peek())

    def stop_at_end(self, expected: str) -> None:
        """If the text ends here: stop reading (partial), or say it looks cut off."""
        if not self.at_end():
            return
        if self.partial:
            raise _EndOfText
        cut_sentence = self.cut_sentence()
        if cut_sentence:
            raise self.cut_off_error(cut_sentence)
        self.index = len(self.lines)
        raise self.error(f"expected {expected}, found the end of the file: {_CUT_OFF_HINT}")

    def unexpected(self, message: str, *expected: str) -> NoReturn:
        """Refuse this line; reading as partial, a last line cut short is left out instead."""
        found = (self.peek() or "").strip().casefold()
        cut_short = any(
            want.casefold().startswith(found) or found.startswith(want.casefold())
            for want in expected
        )
        if self.partial and self.index == self.last_content and cut_short:
            self.cut_line = (self.line, self.peek().strip())
            raise _EndOfText
        raise self.error(message)

    def cut_off_error(self, cut_sentence: tuple[int, str]) -> TextFormatError:
        line, text = cut_sentence
        return self.error(
            f"the text stops in the middle of a sentence, {_tail(text)}: {_CUT_OFF_HINT}",
            line=line,
        )

    def cut_sentence(self) -> tuple[int, str] | None:
        """The last line, if it is paragraph text or a question stopping mid-sentence.

        List items are taken as whole: they often have no full stop.
        """
        index = self.last_block_line
        if index is None or index != self.last_content:
            return None
        text = self.lines[index].strip()
        if _BULLET_RE.fullmatch(text) or text.startswith(("- ", "* ", "+ ")):
            return None
        ends = text.rstrip(_CLOSERS)
        if ends.rstrip("]").endswith(tuple(_SENTENCE_END)):
            return None
        if any(marker.end() == len(ends) for marker in citations.MARKER_RE.finditer(ends)):
            return None
        return (index + 1, text)

    def skip_blank_lines(self) -> None:
        while _is_blank(self.peek()):
            self.advance()

    def require_blank_line(self, *, after: str) -> None:
        """Step over one or more blank lines; at least one is required."""
        if not _is_blank(self.peek()):
            raise self.error(f"expected a blank line after {after}, found {self.found()}")
        self.skip_blank_lines()

    def read_checked_on(self) -> date:
        checked_on = parse_date(self.peek().strip()[len(CHECKED_ON) :])
        if checked_on is None:
            self.unexpected(
                f'expected a date such as "January 27, 2026" after "{CHECKED_ON}", '
                f"found {self.found()}",
                CHECKED_ON,
            )
        self.advance()
        return checked_on

    def read_block(self, *, first: Iterable[tuple[int, str]] = ()) -> _Block:
        """Paragraph lines up to the next section heading, the questions or the end.

        `first`: lines already read (from the heading's own line) that start the block.
        """
        numbered = list(first)
        after_blank = not numbered  # callers have just stepped over the blank lines before it
        while (line := self.peek()) is not None:
            if _is_questions_heading(line) or (after_blank and _is_section_heading(line)):
                break
            # The older layout's known headings need no blank line before them.
            if self.older and self.at_older_heading():
                break
            numbered.append((self.line, line))
            after_blank = _is_blank(line)
            self.advance()
        tidy = _tidy(self._markdown_lists(numbered))
        if tidy:
            self.last_block_line = tidy[-1][0] - 1
        return _Block(
            text="\n".join(line for _, line in tidy),
            lines=tuple(number for number, _ in tidy),
        )

    def _markdown_lists(self, numbered: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """ "•" bullets as Markdown list items, nested by indentation.

        A line indented under an item continues it; any other line after a list starts a
        new paragraph. The older layout's indented prose loses its indentation.
        """
        out: list[tuple[int, str]] = []
        indents: list[int] = []  # the indentation of each open list level
        for number, line in numbered:
            bullet = _BULLET_RE.fullmatch(line)
            if bullet:
                indent = len(bullet[1].expandtabs(4))
                while indents and indent < indents[-1]:
                    indents.pop()
                if not indents or indent > indents[-1]:
                    indents.append(indent)
                out.append((number, "  " * (len(indents) - 1) + "- " + bullet[2].strip()))
                self.bullets += 1
            elif not line.strip():
                out.append((number, line))
            elif indents and line[:1] in " \t" and out[-1][1].strip():
                out.append((number, "  " * len(indents) + line.strip()))
            else:
                if indents and out[-1][1].strip():
                    out.append((number, ""))  # the list ends; this is a new paragraph
                indents = []
                out.append((number, line.strip() if self.older else line))
        return out

    def markers(self, block: _Block) -> list[int]:
        """The reference numbers `block` cites; a number no reference can have is an error."""
        paragraphs = citations.parse(block.text)
        numbers = []
        for paragraph in paragraphs:
            for number in paragraph.markers:
                if number == citations.OVERSIZED:
                    raise self.error(
                        "a number in brackets is far too long to be a reference number",
                        line=block.file_line(paragraph.line),
                    )
                if not citations.is_valid_number(number):
                    raise self.error(
                        f"[{number}] is not a valid reference number (use 1 to "
                        f"{citations.HIGHEST_REFERENCE_NUMBER})",
                        line=block.file_line(paragraph.line),
                    )
                numbers.append(number)
        return numbers

    def furniture_notes(self) -> list[str]:
        left_out = [f for f in self.furniture if f.what != "the disclaimer"]
        if not left_out:
            return []
        note = "Left out page furniture: " + "; ".join(f"{f.what} ({f.where})" for f in left_out)
        if any(f.what == _OTHER_DISCLAIMER for f in left_out):
            note += ". Exports write the disclaimer in its current wording"
        return [note + "."]


def _find_furniture(lines: list[str]) -> list[_Furniture]:
    found = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        last = index
        if _DISCLAIMER_RE.fullmatch(line):
            what = "the disclaimer" if line == DISCLAIMER else _OTHER_DISCLAIMER
        elif _BANNER_RE.fullmatch(line):
            what = "the donation banner"
            if not _LOADING_RE.fullmatch(line):
                for following in range(index + 1, min(len(lines), index + 1 + _BANNER_LINES)):
                    if _LOADING_RE.fullmatch(lines[following].strip()):
                        last = following
                        break
        elif _HELPFUL_RE.fullmatch(line):
            what = "“Was this fact-check helpful?”"
            while last + 1 < len(lines) and lines[last + 1].strip().casefold() in _HELPFUL_BUTTONS:
                last += 1
        elif _OUTDATED_RE.fullmatch(line):
            what = "“This fact-check may be outdated”"
        else:
            index += 1
            continue
        found.append(_Furniture(index, last, what))
        index = last + 1
    return found


def _check_length(reader: _Reader, value: str, model, field: str, what: str, line: int) -> None:
    # The database would refuse it (PostgreSQL) or keep it silently (SQLite); say so here,
    # where the line is known.
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise reader.error(
            f"{what} is too long: {len(value)} characters, at most {limit}", line=line
        )


def _check_block(reader: _Reader, block: _Block, model, field: str, what: str) -> None:
    # Refused whole, never cut short: at the line where the text passes the limit.
    limit = model._meta.get_field(field).max_length
    if len(block.text) > limit:
        passed = block.text.count("\n", 0, limit) + 1
        line = block.file_line(min(passed, len(block.lines))) if block.lines else 1
        raise reader.error(
            f"{what} is too long: {len(block.text):,} characters, at most {limit:,}", line=line
        )


def split_lines(text: str) -> list[str]:
    """The lines of `text` as the layout numbers them."""
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


def _is_questions_heading(line: str) -> bool:
    return line.strip().casefold() == QUESTIONS_HEADING.casefold()


def _is_conclusion(heading: str) -> bool:
    return heading.casefold().startswith(CONCLUSION.casefold())


def _heading_key(heading: str) -> str:
    """A heading as compared with the older layout's: case, spacing and slashes' spaces aside."""
    return re.sub(r"\s*/\s*", "/", " ".join(heading.split())).casefold()


def _strip_bullet(text: str) -> str:
    bullet = _BULLET_RE.fullmatch(text)
    return bullet[2].strip() if bullet else text


def _unquote(text: str) -> str:
    for left, right in ('""', "“”", "''", "‘’"):
        if len(text) > 1 and text[0] == left and text[-1] == right:
            return text[1:-1].strip()
    return text


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
    return "\n".join(line for _, line in _tidy(enumerate(split_lines(text))))


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in split_lines(text) if line.strip())


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _tail(text: str) -> str:
    """The end of a line, where a cut-off text stops."""
    text = text.strip()
    if len(text) > _QUOTE_LENGTH:
        text = "…" + text[-(_QUOTE_LENGTH - 1) :].lstrip()
    return f"“{text}”"


def _describe(line: str | None) -> str:
    if line is None:
        return "the end of the file"
    if not line.strip():
        return "a blank line"
    line = line.strip()
    if len(line) > _QUOTE_LENGTH:
        line = line[: _QUOTE_LENGTH - 1].rstrip() + "…"
    return f'"{line}"'
