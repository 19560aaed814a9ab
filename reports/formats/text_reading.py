"""Reading a report from the plain-text layout (`reports.formats.textformat` shows it).

`read_text` reads a text into a `TextReading`: the `ReportContent`, notes saying how the
text was mapped, and, for a text read as ``partial``, what a cut-off text is missing.
Anything it cannot read raises `TextFormatError` with the file name and line; without
``partial``, so does a text that stops early, at the line where it stops making sense.
`parse_text` is the strict reading's content.

This module is the grammar: what comes after what, in either layout, and what the
database would refuse; the lines themselves are walked by `text_lines.LineReader`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date

from reports.content import QuestionContent, ReferenceContent, ReportContent, SectionContent
from reports.formats.errors import TextFormatError, listed
from reports.formats.text_lines import (
    NO_TEXT,
    SECTION_HEADING_RE,
    Block,
    EndOfText,
    LineReader,
    describe_line,
    is_questions_heading,
    strip_bullet,
    tail,
)
from reports.formats.textformat import (
    CHECKED_ON,
    CONCLUSION,
    LAYOUT,
    OLDER_LAYOUT,
    OLDER_SUMMARY_HEADING,
    OLDER_TITLE,
    QUESTIONS_HEADING,
    SUMMARY_HEADING,
)
from reports.models import FollowUpQuestion, Report, Section

# "Executive summary" in any capitalisation, perhaps with the summary after a dash (em or
# en dash, or a hyphen between spaces) or a colon on the same line.
_SUMMARY_HEADING_RE = re.compile(
    r"executive[ \t]+summary(?:[ \t]*(?:[\u2014\u2013:]|(?<=[ \t])-(?=[ \t]))[ \t]*(.*))?",
    re.IGNORECASE,
)
_OLDER_TITLE_RE = re.compile(r"fact[ \t-]?check[ \t]*:[ \t]*(.*)", re.IGNORECASE)
# A heading with a subtitle: "What the submission claims — an empty signpost".
_SUBTITLE_RE = re.compile(r"[ \t][\u2014\u2013-][ \t]|\u2014")


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
    it goes, a last line cut short is left out, and so is everything from the first line
    that cannot be read once the claim is found; `TextReading.gaps` says what is missing.
    """
    reader = LineReader(text, filename, partial=partial)
    draft = _Draft()
    try:
        _read(reader, draft)
    except EndOfText:  # only ever raised when reading as partial
        pass
    except TextFormatError as error:
        if not (partial and draft.claim_found):
            raise
        draft.stopped = error
    return _finish(reader, draft)


@dataclass(frozen=True)
class _Section:
    line: int
    heading: str
    body: Block = NO_TEXT


@dataclass
class _Draft:
    """What has been read so far: all of the report, or as far as a cut-off text goes."""

    layout: str = LAYOUT
    claim: str = ""
    claim_line: int = 1
    checked_on: date | None = None
    summary: Block = NO_TEXT
    sections: list[_Section] = field(default_factory=list)
    has_questions_heading: bool = False
    questions: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The text is a report: its claim is followed by the layout's next line, or prefixed.
    claim_found: bool = False
    prefix: str = ""  # "Fact check:" or the like, left out of the claim
    date_passed: bool = False  # read past where the "Checked on" line goes
    problems: list[str] = field(default_factory=list)  # partial: what was read around
    stopped: TextFormatError | None = None  # partial: the line the reading stopped at


def _read(reader: LineReader, draft: _Draft) -> None:
    reader.skip_blank_lines()
    draft.claim_line = reader.line
    draft.claim = reader.peek().strip()
    if draft.claim.casefold().startswith(CHECKED_ON.casefold()):
        raise reader.error(f"expected the claim on the first line, found {reader.found()}")
    prefixed = _OLDER_TITLE_RE.fullmatch(draft.claim)
    if prefixed:
        draft.prefix = draft.claim[: prefixed.start(1)].strip()
        draft.claim = _unquote(prefixed[1].strip())
        if not draft.claim:
            raise reader.error(f'expected the claim after "{draft.prefix}", found nothing')
        draft.claim_found = True
    reader.advance()
    reader.skip_blank_lines()
    reader.stop_at_end(f'"{CHECKED_ON} <Month D, YYYY>"')
    if reader.peek().strip().casefold().startswith(CHECKED_ON.casefold()):
        draft.claim_found = True
        _read_checked_on(reader, draft)
        reader.skip_blank_lines()
        reader.stop_at_end(f'"{SUMMARY_HEADING}"')
    if reader.at_older_heading(1):
        draft.claim_found = True
        _read_older(reader, draft, prefixed)
        return
    if draft.checked_on is None and not draft.date_passed:
        if not _is_summary_heading(reader.peek()):
            reader.unexpected(
                f'expected "{CHECKED_ON} <Month D, YYYY>" or "{SUMMARY_HEADING}" after the '
                f'claim, or "1. {OLDER_SUMMARY_HEADING}" (the older "{OLDER_TITLE}" layout), '
                f"found {reader.found()}",
                CHECKED_ON,
                SUMMARY_HEADING,
            )
        draft.claim_found = True
        draft.notes.append(
            f"No “{CHECKED_ON}” line after the claim (line {draft.claim_line}): the date is "
            "left empty, to set before publishing."
        )
    draft.date_passed = True
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


def _read_checked_on(reader: LineReader, draft: _Draft) -> None:
    """The date; read as partial, a date that cannot be read is left empty, a listed gap."""
    try:
        draft.checked_on = reader.read_checked_on()
    except TextFormatError as error:
        if not reader.partial:
            raise
        draft.problems.append(f"Line {error.line}: {error.message}; the date is left empty.")
        draft.date_passed = True
        reader.advance()


def _is_summary_heading(line: str | None) -> bool:
    """Whether `line` is the executive summary's heading (perhaps with its first words)."""
    return line is not None and _SUMMARY_HEADING_RE.fullmatch(line.strip()) is not None


def _read_summary(reader: LineReader, draft: _Draft) -> None:
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


def _read_sections(reader: LineReader, draft: _Draft, *, first_number: int) -> None:
    """Numbered sections up to the questions or the end; numbers start at `first_number`."""
    while not reader.at_end() and not is_questions_heading(reader.peek()):
        # read_block stops only at a section heading, the questions or the end.
        match = SECTION_HEADING_RE.fullmatch(reader.peek().rstrip())
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
        what = f"the text of section {number} ({describe_line(heading)})"
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


def _read_questions(reader: LineReader, draft: _Draft) -> None:
    """The heading, then one question a line up to a blank line; only blank lines after."""
    reader.advance()
    draft.has_questions_heading = True
    while (line := reader.peek()) is not None and (line.strip() or reader.at_furniture()):
        if line.strip():
            draft.questions.append((reader.line, strip_bullet(line.strip())))
            reader.last_block_line = reader.index  # a question cut short is a cut-off text too
        reader.advance()
    while (line := reader.peek()) is not None:
        if line.strip():
            raise reader.error(
                "unexpected text after the follow-up questions (they go one a line, "
                f"with no blank lines between them), found {reader.found()}"
            )
        reader.advance()


def _read_older(reader: LineReader, draft: _Draft, title) -> None:
    """The older layout, from its "1. Summary of the results" on."""
    draft.layout = reader.layout = OLDER_LAYOUT
    notes = draft.notes
    if title:  # the claim is the title's, already without its prefix
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


def _finish(reader: LineReader, draft: _Draft) -> TextReading:
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
    if draft.prefix and not older:
        notes.insert(0, f"The claim line's “{draft.prefix}” prefix was left out of the claim.")
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
            f"included (section{plural} {listed(subtitled)} of the text)."
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
            f"Section{plural} {listed(old)} became section{plural} {listed(new)}, "
            f"heading{plural} kept."
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
        gaps.append(f"Line {line} is cut off and was left out: {describe_line(text)}.")
    if cut_sentence:
        line, text = cut_sentence
        gaps.append(f"The text stops in the middle of a sentence, on line {line}: {tail(text)}.")
    gaps += draft.problems
    if draft.stopped:
        line, last = draft.stopped.line, reader.last_content + 1
        left_out = f"lines {line}–{last}" if last > line else f"line {line}"
        gaps.append(
            f"Line {line} could not be read, so the draft stops there ({left_out} left "
            f"out): {draft.stopped.message}."
        )
    missing = []
    if draft.layout == LAYOUT and draft.checked_on is None and not draft.date_passed:
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
        gaps.append(f"Missing where the text stops: {listed(missing)}.")
    return gaps


def _check_length(reader: LineReader, value: str, model, field: str, what: str, line: int) -> None:
    # The database would refuse it (PostgreSQL) or keep it silently (SQLite); say so here,
    # where the line is known.
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise reader.error(
            f"{what} is too long: {len(value)} characters, at most {limit}", line=line
        )


def _check_block(reader: LineReader, block: Block, model, field: str, what: str) -> None:
    # Refused whole, never cut short: at the line where the text passes the limit.
    limit = model._meta.get_field(field).max_length
    if len(block.text) > limit:
        passed = block.text.count("\n", 0, limit) + 1
        line = block.file_line(min(passed, len(block.lines))) if block.lines else 1
        raise reader.error(
            f"{what} is too long: {len(block.text):,} characters, at most {limit:,}", line=line
        )


def _is_conclusion(heading: str) -> bool:
    return heading.casefold().startswith(CONCLUSION.casefold())


def _unquote(text: str) -> str:
    for left, right in ('""', "“”", "''", "‘’"):
        if len(text) > 1 and text[0] == left and text[-1] == right:
            return text[1:-1].strip()
    return text
