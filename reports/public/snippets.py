"""Search results as their cards show them: the words found marked in the claim, and a
snippet of the text around the first of them.

On PostgreSQL the words are the forms each result's claim and excerpt write for the query's
lexemes (stored with its search entry: reports.public.search_index) and the text is that
excerpt; on other databases, the query's words as typed, found in the summary. Linear in
the text: one pattern, compiled once per page. The only markup is our own <mark>: every
other character is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from django.utils.safestring import SafeString, mark_safe

SNIPPET_WORDS = 40
# Words a snippet shows before the first word found.
LEAD_WORDS = 8
# Characters no page shows (search.clean_query takes them out of queries too).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def pattern(words: Iterable[str], *, whole_words: bool) -> re.Pattern | None:
    """What finds any of `words`, whatever their case; None if there are none.

    `whole_words`: only where a word starts and ends (PostgreSQL's forms are whole tokens);
    otherwise anywhere, as SQLite's search matches them ("vaccin" in "vaccines").
    """
    # Longest first, so that an alternation takes "vaccines" whole rather than "vaccine".
    ordered = sorted({word for word in words if word}, key=lambda word: (-len(word), word))
    if not ordered:
        return None
    alternatives = "|".join(re.escape(word) for word in ordered)
    if whole_words:
        alternatives = rf"(?<!\w)(?:{alternatives})(?!\w)"
    return re.compile(alternatives, re.IGNORECASE)


def marked(text: str, found: re.Pattern | None) -> SafeString:
    """`text`, escaped, with every match of `found` in <mark>."""
    return mark_safe(_marked(CONTROL.sub(" ", text), found))  # escaped by _marked


def _marked(text: str, found: re.Pattern | None) -> str:
    # The standard library's escape (as Django's, without its lazy-string wrapper): twenty
    # results escape some hundred pieces.
    if found is None:
        return html.escape(text)
    pieces, last = [], 0
    for match in found.finditer(text):
        pieces += [html.escape(text[last : match.start()]), "<mark>"]
        pieces += [html.escape(match.group()), "</mark>"]
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def snippet(text: str, found: re.Pattern | None) -> SafeString:
    """Up to SNIPPET_WORDS words of `text`, from LEAD_WORDS before the first match of
    `found` (from the start if nothing matches), marked; "…" where the text is cut."""
    words = CONTROL.sub(" ", text).split()
    flat = " ".join(words)
    match = found.search(flat) if found is not None else None
    first = 0
    if match is not None:
        first = len(flat[: match.start()].split())
        if match.start() and flat[match.start() - 1] != " ":
            first -= 1  # the match starts inside a word (SQLite's "vaccin" in "antivaccine")
    start = max(0, first - LEAD_WORDS)
    shown = " ".join(words[start : start + SNIPPET_WORDS])
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_WORDS < len(words) else ""
    return mark_safe(_marked(f"{prefix}{shown}{suffix}", found))  # escaped by _marked
