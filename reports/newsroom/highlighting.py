"""Uncited-sentence highlighting for reviewers: each sentence without a citation is marked.

Advisory only: it helps reviewers read a report and never blocks publishing (that is
`reports.publishing.check`). Nothing here is shown to readers.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils.safestring import SafeString, mark_safe

UNCITED_OPEN = '<mark class="uncited">'
UNCITED_CLOSE = "</mark>"

# Sentence ends: terminal punctuation, optional closing quotes or brackets, then spaces.
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'”’»)]*(\s+)")
# A full stop after these does not end a sentence ("Dr. Smith", "e.g. this", "U.S. law").
_ABBREVIATIONS = frozenset(
    re.split(
        r"\s+",
        "mr mrs ms dr prof st mt ft vs etc e.g i.e cf al no nos vol pp ed eds approx ca jr sr "
        "inc ltd co corp gen col lt sgt capt gov sen rep rev fig jan feb mar apr jun jul aug "
        "sep sept oct nov dec u.s u.k u.n e.u",
    )
)
_OPENERS = "\"'“‘«(¿¡"

# Inline elements continue a sentence; any other element starts and ends blocks of text.
_INLINE = frozenset({"a", "em", "strong", "span", "code", "br", "b", "i", "s", "sub", "sup"})
_VOID = frozenset({"br", "hr", "img", "wbr"})
# Blocks whose text is editor prose, judged sentence by sentence.
_PROSE = frozenset({"p", "li"})


@dataclass(frozen=True)
class Highlighted:
    html: SafeString
    uncited: int  # how many sentences were highlighted


def highlight_uncited(sanitised_html: str) -> Highlighted:
    """Wrap each sentence without a citation marker in `<mark class="uncited">`.

    Takes HTML from `citations.render` (or the body rendered from it) and adds nothing but
    those marks: its tags are copied as the sanitiser wrote them and all text is re-escaped.
    """
    highlighter = _Highlighter()
    highlighter.feed(str(sanitised_html))
    highlighter.close()
    # Built only from the sanitiser's own tags, escaped text and our fixed <mark> tags.
    return Highlighted(mark_safe("".join(highlighter.out)), highlighter.uncited)  # noqa: S308


def sentence_spans(text: str, cited_at: list[int]) -> list[tuple[int, int, bool]]:
    """Split the text of one block into sentences: (start, end, is_cited) each.

    `cited_at` holds the offsets in `text` where citation groups stand; a group right after
    a sentence's final full stop ("… 1956. [3] Next") belongs to that sentence.
    """
    boundaries = [0]
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.end()
        if end < len(text) and _starts_sentence(text[end]) and not _abbreviated(text, match):
            boundaries.append(end)
    boundaries.append(len(text))
    cited = set()
    for offset in cited_at:
        # bisect_left: a group standing at a boundary belongs to the sentence before it.
        cited.add(max(bisect.bisect_left(boundaries, offset) - 1, 0))
    return [
        (start, end, index in cited)
        for index, (start, end) in enumerate(zip(boundaries, boundaries[1:], strict=False))
    ]


def _starts_sentence(char: str) -> bool:
    return char.isupper() or char.isdigit() or char in _OPENERS


def _abbreviated(text: str, match: re.Match) -> bool:
    if not match.group().startswith(".") or match.group().startswith(".."):
        return False
    # Back from the full stop to the space before the word: searching the text from its
    # start for every full stop would take time in the square of its length.
    end = match.start()
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    if start == end:
        return False
    word = text[start:end].lstrip(_OPENERS).lower()
    # A single letter is an initial ("J. F. Kennedy").
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


class _Highlighter(HTMLParser):
    """Copies sanitised HTML, buffering each prose block to mark its uncited sentences."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.uncited = 0
        self._blocks: list[str] = []
        self._buffer: list[tuple[str, str]] | None = None  # ("text" | "raw", content)
        self._length = 0
        self._cited_at: list[int] = []
        self._group: list[str] | None = None  # the citation group being copied
        self._group_depth = 0

    # Parser callbacks

    def handle_starttag(self, tag, attrs):
        raw = self.get_starttag_text()
        if self._group is not None:
            self._group.append(raw)
            self._group_depth += tag == "span"
        elif tag == "span" and self._buffer is not None and _is_citation_group(attrs):
            # The renderer's own element for markers: no second reading of "[n]" needed.
            self._cited_at.append(self._length)
            self._group, self._group_depth = [raw], 1
        elif tag in _INLINE:
            self._emit(raw)
        else:
            self._flush()
            self.out.append(raw)
            if tag not in _VOID:
                self._blocks.append(tag)
            self._enter_block()

    def handle_startendtag(self, tag, attrs):
        # Only void elements are written self-closing; never invent an end tag for them.
        if self._group is not None:
            self._group.append(self.get_starttag_text())
        else:
            self._emit(self.get_starttag_text())

    def handle_endtag(self, tag):
        if self._group is not None:
            self._group.append(f"</{tag}>")
            self._group_depth -= tag == "span"
            if not self._group_depth:
                self._buffer.append(("raw", "".join(self._group)))
                self._group = None
        elif tag in _INLINE:
            self._emit(f"</{tag}>")
        else:
            self._flush()
            self.out.append(f"</{tag}>")
            if tag in self._blocks:
                while self._blocks.pop() != tag:
                    pass
            self._enter_block()

    def handle_data(self, data):
        if self._group is not None:
            self._group.append(html.escape(data, quote=False))
        elif self._buffer is not None:
            self._buffer.append(("text", data))
            self._length += len(data)
        else:
            self.out.append(html.escape(data, quote=False))

    def close(self):
        super().close()
        if self._group is not None:  # an unclosed group (not from our renderer): keep it
            self._buffer.append(("raw", "".join(self._group)))
            self._group = None
        self._flush()

    # Comments, declarations and processing instructions are dropped, never copied.

    def handle_comment(self, data):
        pass

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass

    # Internals

    def _enter_block(self):
        self._buffer = [] if self._blocks and self._blocks[-1] in _PROSE else None

    def _emit(self, raw: str):
        if self._buffer is not None:
            self._buffer.append(("raw", raw))
        else:
            self.out.append(raw)

    def _flush(self):
        if not self._buffer:
            self._buffer = None if self._buffer is None else []
            return
        text = "".join(content for kind, content in self._buffer if kind == "text")
        marked = []
        for start, end, cited in sentence_spans(text, self._cited_at):
            sentence = text[start:end]
            if cited or not any(char.isalnum() for char in sentence):
                continue
            # The mark covers the words, not the spaces around them.
            start += len(sentence) - len(sentence.lstrip())
            end -= len(sentence) - len(sentence.rstrip())
            marked.append((start, end))
        self.uncited += len(marked)
        offset = 0
        for kind, content in self._buffer:
            if kind == "raw":
                self.out.append(content)
                continue
            self.out.append(_mark_text(content, offset, marked))
            offset += len(content)
        self._buffer, self._length, self._cited_at = [], 0, []


def _is_citation_group(attrs) -> bool:
    classes = dict(attrs).get("class") or ""
    return "citations" in classes.split()


def _mark_text(text: str, offset: int, marked: list[tuple[int, int]]) -> str:
    """`text` (found at `offset` in its block) escaped, with the marked ranges wrapped."""
    pieces, position = [], 0
    for start, end in marked:
        start, end = max(start - offset, position), min(end - offset, len(text))
        if start >= end:
            continue
        pieces.append(html.escape(text[position:start], quote=False))
        pieces.append(UNCITED_OPEN + html.escape(text[start:end], quote=False) + UNCITED_CLOSE)
        position = end
    pieces.append(html.escape(text[position:], quote=False))
    return "".join(pieces)
