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

Reading also accepts what texts copied from elsewhere look like (Factually pages copied
from a browser among them):

- a "Fact check:" prefix on the claim line, in any case and spelling ("FACT-CHECK:"),
  left out of the claim, in either layout;
- no "Checked on" line: the claim is then followed by "Executive summary", and the
  missing date is a problem of the draft (the publish check lists it), not a refusal;
- "Executive Summary" capitalised either way, alone on its line (the summary right after
  it or after a blank line) or with the summary starting on its line after a dash or colon
  ("Executive Summary — The link alone …");
- section headings with a subtitle after a dash, kept whole as the heading;
- the older layout: a title line "Fact check: <claim>", then "1. Summary of the results"
  (read as the executive summary) and further numbered sections, with "•" bullet lists;
  it has no conclusion, which is left empty for the editor to write;
- page furniture, left out wherever it is between blocks (`reports.formats.text_furniture`
  knows it): the donation banner in its variants, with or without blank lines, with its
  "Loading..." counters of days left, goal and supporters; "Was this fact-check helpful?";
  the "may be outdated" notice; the "Looking for more information…" prompt; and the
  disclaimer in either wording (export writes the current one).

Read as partial, a text that stops early is a draft with what it is missing; so is any
text whose claim is found (followed by a "Checked on" line, "Executive summary" or the
older layout's first heading, or carrying the "Fact check:" prefix), which stops at the
first line that cannot be read, that line and the reason listed.

This module holds the layout's words and writes it (`export_text`); reading it is
`reports.formats.text_reading` (`read_text`, `parse_text`), over the line cursor of
`reports.formats.text_lines`. Whatever `export_text` writes from a complete report,
`parse_text` reads back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from reports.content import ReportContent

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


def export_text(content: ReportContent) -> str:
    """Write `content` in the plain-text layout, ending with a newline.

    A draft missing something the layout requires (a date, a conclusion heading starting
    with "Conclusion") is written as far as it goes; reading it back says what is missing.
    """
    lines = [
        one_line(content.claim),
        "",
        f"{CHECKED_ON} {format_date(content.checked_on)}" if content.checked_on else CHECKED_ON,
        DISCLAIMER,
        "",
        SUMMARY_HEADING,
        "",
        tidy_text(content.summary),
    ]
    parts = [*((s.heading, s.body) for s in content.sections)]
    parts.append((content.conclusion_heading, content.conclusion))
    for number, (heading, body) in enumerate(parts, start=1):
        lines += ["", f"{number}. {one_line(heading)}", "", tidy_text(body)]
    lines += ["", QUESTIONS_HEADING]
    # An empty question would end the list early and push the rest into "text after it".
    lines += [q for q in (one_line(q.question) for q in content.questions) if q]
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


def split_lines(text: str) -> list[str]:
    """The lines of `text` as the layout numbers them."""
    # Only line feeds and carriage returns break lines: str.splitlines() would also split
    # on U+2028 and other characters that are just text here.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def is_blank(line: str | None) -> bool:
    """Whether `line` is there and holds only whitespace."""
    return line is not None and not line.strip()


def tidy[T](numbered: Iterable[tuple[T, str]]) -> list[tuple[T, str]]:
    """Paragraph lines with each run of blank lines made one empty line, none at the ends."""
    kept: list[tuple[T, str]] = []
    for key, line in numbered:
        if not is_blank(line):
            kept.append((key, line))
        elif kept and kept[-1][1]:
            kept.append((key, ""))
    if kept and not kept[-1][1]:
        kept.pop()
    return kept


def tidy_text(text: str) -> str:
    """Paragraph text as reading keeps it."""
    # The same tidying as reading, so what is written reads back unchanged (text saved
    # from a browser form has \r\n line endings and may end with blank lines).
    return "\n".join(line for _, line in tidy(enumerate(split_lines(text))))


def one_line(text: str) -> str:
    """`text` on one line: what a heading, claim or question is written as."""
    return " ".join(line.strip() for line in split_lines(text) if line.strip())
