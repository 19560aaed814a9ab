"""Page furniture: what a Factually page shows around a report, left out when it is pasted.

`find_furniture` finds it in the lines of a text: the disclaimer in either wording, the
donation banner in its variants ("Keep Factually independent", "Support independent
fact-checking", "Donate", "Loading..." counters of days left, goals and supporters, with or
without blank lines between them), "Was this fact-check helpful?" with its buttons, the
"may be outdated" notice and the "Looking for more information…" prompt. Each line is
looked at a bounded number of times, so finding it stays linear in the text's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reports.formats.textformat import CHECKED_ON, DISCLAIMER, QUESTIONS_HEADING

_DISCLAIMER_RE = re.compile(
    r"(?:disclaimer[ \t]*:[ \t]*)?factually can make mistakes\b.*", re.IGNORECASE
)
OTHER_DISCLAIMER = "the disclaimer in another wording"
BANNER = "the donation banner"

# The first line of a donation banner; the rest of the line is its pitch.
_BANNER_START_RE = re.compile(
    r"(?:keep[ \t]+factually[ \t]+(?:independent|free)"
    r"|support[ \t]+(?:independent[ \t]+)?fact[ \t-]?checking"
    r"|support[ \t]+factually"
    r"|help[ \t]+(?:us[ \t]+)?keep[ \t]+factually"
    r"|donate[ \t]+to[ \t]+factually)\b.*",
    re.IGNORECASE,
)
_LOADING_RE = re.compile(r"loading[ \t]*(?:\.\.\.|…)", re.IGNORECASE)
# A banner's counters and buttons, once "Loading..." and every number or amount ("€1,234",
# "$5k", "1 234 EUR", "45%") have been replaced by "n"; several may share a line, separated
# by "·", "|", "•" or a spaced dash.
_AMOUNT_RE = re.compile(
    r"(?:[€$£][ \t]*)?[0-9][0-9,.\u00a0\u202f]*(?:[kKmM]\b)?(?:[ \t]*(?:[€$£]|eur\b|usd\b|gbp\b))?"
    r"(?:[ \t]*%)?",
    re.IGNORECASE,
)
_PART_SEPARATOR_RE = re.compile(r"[·|•]|[ \t][\u2013\u2014-][ \t]")
_COUNTER_RE = re.compile(
    r"n(?: (?:days?|hours?|hrs?|minutes?|mins?|weeks?))?(?: (?:left|to go|remaining))"
    r"|n(?: raised)? (?:of|/|out of)(?: an?| our| the)? n(?: goal| target)?(?: raised| reached)?"
    r"|n (?:raised|donated|pledged|given)(?: so far)?"
    r"|n (?:of (?:our |the )?goal|funded|raised|reached)"
    r"|n (?:supporters|donors|backers|donations|members)(?: so far| and counting)?"
    r"|(?:goal|target|raised|supporters|donors) ?:? n"
)
_BUTTON_RE = re.compile(
    r"(?:donate|chip in|support us|support our work|become a (?:supporter|member))"
    r"(?: now| today| once| monthly| n)?"
)
# Buttons that are a banner's only within one: alone, such a line could be text.
_WEAK_BUTTON_RE = re.compile(
    r"give(?: now| today| n)?|(?:one[- ]time|once|monthly|yearly|annually)(?: donation| gift)?"
    r"|other amount|choose an amount"
)
_AMOUNTS_RE = re.compile(r"n(?: n)*")
# Lines of a banner's pitch between its first line and its counters: short text only.
_PITCH_LENGTH = 300
# How far (in lines, blank ones included) one banner line may be from the next.
_BANNER_GAP = 8

_HELPFUL_RE = re.compile(r"was this fact[ -]?check helpful\b.*", re.IGNORECASE)
_HELPFUL_BUTTONS = {"yes", "no", "\N{THUMBS UP SIGN}", "\N{THUMBS DOWN SIGN}"}
_OUTDATED_RE = re.compile(
    r"this (?:fact[ -]?check|report|page) may be (?:outdated|out of date)\b.*", re.IGNORECASE
)
# What the outdated notice may bring along on lines of its own.
_REFRESH_RE = re.compile(
    r"(?:consider refreshing\b.*|refresh(?: (?:the |this )?(?:report|fact[ -]?check|page))?"
    r"[.!]?|update(?: (?:the |this )?report)?)",
    re.IGNORECASE,
)
_LOOKING_RE = re.compile(r"looking for more information[ \t]*(?:\.\.\.|…|\?)?[ \t]*", re.IGNORECASE)
# Lines that are the report's own structure, never part of a banner's pitch.
_STRUCTURE_RE = re.compile(
    r"(?:[0-9]{1,9}\.(?:[ \t].*)?|executive[ \t]+summary\b.*|fact[ \t-]?check[ \t]*:.*"
    rf"|{re.escape(CHECKED_ON)}\b.*|{re.escape(QUESTIONS_HEADING)})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Furniture:
    """Lines of page furniture: 0-based indexes of the first and last, and what it is."""

    first: int
    last: int
    what: str

    @property
    def where(self) -> str:
        if self.first == self.last:
            return f"line {self.first + 1}"
        return f"lines {self.first + 1}–{self.last + 1}"


def find_furniture(lines: list[str]) -> list[Furniture]:
    """The page furniture among `lines`, in order."""
    found = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        last = index
        banner = _banner_line(line)
        if _DISCLAIMER_RE.fullmatch(line):
            what = "the disclaimer" if line == DISCLAIMER else OTHER_DISCLAIMER
        elif banner:
            what = BANNER
            last = _banner_end(lines, index, pitch=banner == "start")
        elif _HELPFUL_RE.fullmatch(line):
            what = "“Was this fact-check helpful?”"
            while last + 1 < len(lines) and lines[last + 1].strip().casefold() in _HELPFUL_BUTTONS:
                last += 1
        elif _OUTDATED_RE.fullmatch(line):
            what = "“This fact-check may be outdated”"
            last = _following(lines, index, _REFRESH_RE)
        elif _LOOKING_RE.fullmatch(line):
            what = "“Looking for more information…”"
        else:
            index += 1
            continue
        found.append(Furniture(index, last, what))
        index = last + 1
    return found


def _banner_line(line: str) -> str | None:
    """ "start" for a banner's first line, "part" for its counters and buttons, else None."""
    if _BANNER_START_RE.fullmatch(line):
        return "start"
    return "part" if _banner_part(line) == "part" else None


def _banner_part(line: str) -> str | None:
    """ "part" for a line of counters and buttons; "within" for what is one only within a
    banner (bare amounts such as "€10", "Monthly", text with "Loading..."); else None."""
    if not line or len(line) > _PITCH_LENGTH:
        return None
    loading = _LOADING_RE.search(line) is not None
    normal = _AMOUNT_RE.sub(" n ", _LOADING_RE.sub(" n ", line.casefold()))
    strong = loading
    for part in _PART_SEPARATOR_RE.split(normal):
        part = " ".join(part.split()).strip(" .!:,")
        if not part or _AMOUNTS_RE.fullmatch(part) or _WEAK_BUTTON_RE.fullmatch(part):
            continue
        if not (_COUNTER_RE.fullmatch(part) or _BUTTON_RE.fullmatch(part)):
            return "within" if loading else None
        strong = True
    if strong:
        return "part"
    return "within" if normal.strip(" .!:,") else None


def _banner_end(lines: list[str], first: int, *, pitch: bool) -> int:
    """The last line of the banner starting at `first`.

    Its counters and buttons follow, blank lines or not; a banner opened by its first line
    ("Keep Factually independent") may also have short lines of pitch before them.
    """
    last = index = first
    while index + 1 < len(lines) and index + 1 - last <= _BANNER_GAP:
        index += 1
        line = lines[index].strip()
        if not line:
            continue
        if _BANNER_START_RE.fullmatch(line) or _banner_part(line):
            last = index
        elif not pitch or len(line) > _PITCH_LENGTH or _STRUCTURE_RE.fullmatch(line):
            break
    return last


def _following(lines: list[str], first: int, pattern: re.Pattern) -> int:
    """The last of the lines after `first` (blank lines between) that `pattern` matches."""
    last = index = first
    while index + 1 < len(lines) and index + 1 - last <= 2:
        index += 1
        line = lines[index].strip()
        if pattern.fullmatch(line):
            last = index
        elif line:
            break
    return last
