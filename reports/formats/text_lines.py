"""The line cursor the plain-text layout is read with (`reports.formats.text_reading`).

`LineReader` walks the lines of one file: it sets page furniture aside (read as blank
lines, the line numbers staying those of the file), reads paragraph blocks with their
"•" lists made Markdown, finds the reference numbers a block cites, tells where a text
looks cut off, and words every refusal as a `TextFormatError` at its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from reports import citations
from reports.formats.errors import TextFormatError, listed
from reports.formats.text_furniture import OTHER_DISCLAIMER, find_furniture
from reports.formats.textformat import (
    BULLETS,
    CHECKED_ON,
    LAYOUT,
    OLDER_HEADINGS,
    OLDER_LAYOUT,
    QUESTIONS_HEADING,
    is_blank,
    parse_date,
    split_lines,
    tidy,
)

# ASCII digits only: str.isdigit() would also accept "²" or Arabic-Indic digits. At most
# nine, so int() is cheap and never refuses (it does above 4300 digits).
SECTION_HEADING_RE = re.compile(r"([0-9]{1,9})\.(?:[ \t]+(.*))?")
_BULLET_RE = re.compile(rf"([ \t]*)[{BULLETS}][ \t]+(.*)")
# Where a sentence may end: its punctuation, then closing quotes, brackets or emphasis.
_SENTENCE_END = ".!?…:;"
_CLOSERS = "\"'”’»)*_"
# A text that cannot be stored (PostgreSQL refuses NUL) or is not text at all.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
# Messages quote the offending line, shortened so a long paragraph stays readable.
_QUOTE_LENGTH = 60
_CUT_OFF_HINT = "the text looks cut off (import it as partial to keep what is there as a draft)"


@dataclass(frozen=True)
class Block:
    """Paragraph text read from the file, with the file line of each of its lines."""

    text: str
    lines: tuple[int, ...]

    def file_line(self, line: int) -> int:
        return self.lines[line - 1]


NO_TEXT = Block("", ())


class EndOfText(Exception):
    """A partial text ends here; what has been read is the draft."""


class LineReader:
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
        self.furniture = find_furniture(lines)
        self.furniture_indexes = {i for f in self.furniture for i in range(f.first, f.last + 1)}
        self.lines = ["" if i in self.furniture_indexes else line for i, line in enumerate(lines)]
        self.last_content = max(
            (i for i, line in enumerate(self.lines) if line.strip()), default=-1
        )
        if self.last_content < 0:
            what = listed(sorted({f.what for f in self.furniture}))
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
        match = SECTION_HEADING_RE.fullmatch((self.peek() or "").strip())
        if not match or (number is not None and int(match[1]) != number):
            return False
        wanted = OLDER_HEADINGS[:1] if number == 1 else OLDER_HEADINGS
        return _heading_key(match[2] or "") in {_heading_key(h) for h in wanted}

    def error(self, message: str, *, line: int | None = None) -> TextFormatError:
        return TextFormatError(message, line=line or self.line, filename=self.filename)

    def found(self) -> str:
        return describe_line(self.peek())

    def stop_at_end(self, expected: str) -> None:
        """If the text ends here: stop reading (partial), or say it looks cut off."""
        if not self.at_end():
            return
        if self.partial:
            raise EndOfText
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
            raise EndOfText
        raise self.error(message)

    def cut_off_error(self, cut_sentence: tuple[int, str]) -> TextFormatError:
        line, text = cut_sentence
        return self.error(
            f"the text stops in the middle of a sentence, {tail(text)}: {_CUT_OFF_HINT}",
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
        while is_blank(self.peek()):
            self.advance()

    def require_blank_line(self, *, after: str) -> None:
        """Step over one or more blank lines; at least one is required."""
        if not is_blank(self.peek()):
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

    def read_block(self, *, first: Iterable[tuple[int, str]] = ()) -> Block:
        """Paragraph lines up to the next section heading, the questions or the end.

        `first`: lines already read (from the heading's own line) that start the block.
        """
        numbered = list(first)
        after_blank = not numbered  # callers have just stepped over the blank lines before it
        while (line := self.peek()) is not None:
            if is_questions_heading(line) or (after_blank and _is_section_heading(line)):
                break
            # The older layout's known headings need no blank line before them.
            if self.older and self.at_older_heading():
                break
            numbered.append((self.line, line))
            after_blank = is_blank(line)
            self.advance()
        kept = tidy(self._markdown_lists(numbered))
        if kept:
            self.last_block_line = kept[-1][0] - 1
        return Block(
            text="\n".join(line for _, line in kept),
            lines=tuple(number for number, _ in kept),
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

    def markers(self, block: Block) -> list[int]:
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
        if any(f.what == OTHER_DISCLAIMER for f in left_out):
            note += ". Exports write the disclaimer in its current wording"
        return [note + "."]


def _is_section_heading(line: str) -> bool:
    # A marker means a paragraph that happens to start with a number (or a list item).
    return bool(SECTION_HEADING_RE.fullmatch(line.rstrip())) and not citations.MARKER_RE.search(
        line
    )


def is_questions_heading(line: str) -> bool:
    """Whether `line` is the follow-up questions' heading."""
    return line.strip().casefold() == QUESTIONS_HEADING.casefold()


def _heading_key(heading: str) -> str:
    """A heading as compared with the older layout's: case, spacing and slashes' spaces aside."""
    return re.sub(r"\s*/\s*", "/", " ".join(heading.split())).casefold()


def strip_bullet(text: str) -> str:
    """A question's text without the bullet it was copied with."""
    bullet = _BULLET_RE.fullmatch(text)
    return bullet[2].strip() if bullet else text


def tail(text: str) -> str:
    """The end of a line, where a cut-off text stops."""
    text = text.strip()
    if len(text) > _QUOTE_LENGTH:
        text = "…" + text[-(_QUOTE_LENGTH - 1) :].lstrip()
    return f"“{text}”"


def describe_line(line: str | None) -> str:
    """A line as a message quotes it, shortened; or what stands there instead."""
    if line is None:
        return "the end of the file"
    if not line.strip():
        return "a blank line"
    line = line.strip()
    if len(line) > _QUOTE_LENGTH:
        line = line[: _QUOTE_LENGTH - 1].rstrip() + "…"
    return f'"{line}"'
