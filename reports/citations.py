"""Cited text: the one parser and renderer for editor prose with citation markers.

Editor text (summary, section bodies, conclusion) is a small Markdown subset (emphasis,
links, lists, quotes) in blocks separated by blank lines, with markers such as ``[1]``.
Validation, rendering, import and export all read it through this module.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

# A marker is a bracketed number; markers separated only by spaces form one group.
MARKER_RE = re.compile(r"\[(\d+)\]")
MARKER_GROUP_RE = re.compile(rf"{MARKER_RE.pattern}(?:[ \t\u00a0]*{MARKER_RE.pattern})*")
# How the parser breaks lines (markdown-it's normalisation); used to map offsets back.
_LINE_BREAK_RE = re.compile(r"\r\n?|\n")
# Reference numbers above this are typos, not citations.
HIGHEST_REFERENCE_NUMBER = 9999
# What a marker of more digits than any number we could mean reads as: invalid, and
# cheap (int() refuses strings of thousands of digits).
OVERSIZED = 10**15


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 16 else OVERSIZED


BLOCK_KINDS = {
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
}


@dataclass(frozen=True)
class Paragraph:
    """One top-level block of cited text: a paragraph, a list or a quote."""

    number: int  # 1-based, in reading order
    line: int  # 1-based line of the text where the block starts
    kind: str
    markers: tuple[int, ...]  # reference numbers, in order of appearance

    @property
    def is_cited(self) -> bool:
        return bool(self.markers)


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    match = MARKER_GROUP_RE.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    if not silent:
        token = state.push("citation_group", "", 0)
        token.meta = {
            "numbers": [_number(n) for n in MARKER_RE.findall(match.group())],
            # Where the group stands in the block's inline text (see `marker_groups`).
            "span": (state.pos, match.end()),
        }
    state.pos = match.end()
    return True


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["emphasis", "link", "autolink", "escape", "list", "blockquote", "newline"])
    # Before "link", so "[2]" is always a citation, never link syntax.
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation_group", _render_citation_group)
    md.add_render_rule("link_open", _render_link_open)
    return md


def _render_link_open(renderer, tokens, idx, options, env) -> str:
    # Editor links leave the site: readers' browsers should not vouch for them.
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


@dataclass
class _RenderState:
    """Per-document render state: which numbers resolve and how often each is cited."""

    known: Collection[int] | None
    occurrences: dict[int, int] = field(default_factory=dict)


def _render_citation_group(renderer, tokens, idx, options, env) -> str:
    state: _RenderState = env["citations"]
    links = []
    for number in tokens[idx].meta["numbers"]:
        if state.known is not None and number not in state.known:
            links.append(f'<span class="citation citation--unresolved">[{number}]</span>')
            continue
        occurrence = state.occurrences.get(number, 0) + 1
        state.occurrences[number] = occurrence
        links.append(
            f'<a class="citation" href="#ref-{number}" id="cite-{number}-{occurrence}">'
            f"[{number}]</a>"
        )
    return '<span class="citations">' + " ".join(links) + "</span>"


_md = _build_markdown()

_ALLOWED_TAGS = {
    "p",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "span",
    "br",
    "code",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "id", "title", "rel"},
    "span": {"class"},
    "ol": {"start"},
}


def parse(text: str) -> list[Paragraph]:
    """Split cited text into its top-level blocks, with the markers each one carries."""
    paragraphs: list[Paragraph] = []
    current: dict | None = None
    for token in _md.parse(text, {}):
        if token.level == 0 and token.type in BLOCK_KINDS:
            current = {
                "line": token.map[0] + 1 if token.map else 1,
                "kind": BLOCK_KINDS[token.type],
                "markers": [],
            }
        elif token.type == "inline" and current is not None:
            for child in token.children or ():
                if child.type == "citation_group":
                    current["markers"].extend(child.meta["numbers"])
        elif token.level == 0 and token.nesting == -1 and current is not None:
            paragraphs.append(
                Paragraph(
                    number=len(paragraphs) + 1,
                    line=current["line"],
                    kind=current["kind"],
                    markers=tuple(current["markers"]),
                )
            )
            current = None
    return paragraphs


def markers(text: str) -> list[int]:
    """Every reference number cited in `text`, in order of appearance, repeats included."""
    return [number for paragraph in parse(text) for number in paragraph.markers]


@dataclass(frozen=True)
class MarkerGroup:
    """A group of markers as the parser reads it, with where it stands in the text."""

    start: int  # offset in the text of its first "["
    end: int  # offset just after its last "]"
    numbers: tuple[int, ...]


def marker_groups(text: str) -> list[MarkerGroup]:
    """Every group of markers in `text`, in order, with its offsets in `text` itself.

    Only what the parser reads as citations: an escaped "\\[1]" or a "[1]" inside a link
    address is not one. Offsets are in `text` as given, whatever its line endings.
    """
    breaks = list(_LINE_BREAK_RE.finditer(text))
    line_starts = [0, *(b.end() for b in breaks)]
    line_ends = [*(b.start() for b in breaks), len(text)]
    groups = []
    for token in _md.parse(text, {}):
        if token.type != "inline" or not token.map:
            continue
        # The inline text is cut from lines map[0]… of the source: each of its lines is the
        # end of one source line (indentation, list and quote markers cut off), the whole
        # trimmed, which may drop first lines of only whitespace (such as a no-break space).
        # So its lines are found in their source lines by searching from the end.
        content = token.content
        content_starts = [0, *(i + 1 for i, ch in enumerate(content) if ch == "\n")]
        first = content[: content.find("\n") if "\n" in content else len(content)]
        first_line = token.map[0]
        while first_line < token.map[1] - 1 and first.lstrip(" ") not in _source_line(
            text, line_starts, line_ends, first_line
        ):
            first_line += 1
        # Where each content line starts in the text, found once per line: searching again
        # for every group would take time in the square of a long line's length.
        line_offsets: dict[int, int] = {}
        for child in token.children or ():
            if child.type != "citation_group":
                continue
            start, end = child.meta["span"]
            index = bisect.bisect_right(content_starts, start) - 1
            line_start = content_starts[index]
            if index not in line_offsets:
                line_offsets[index] = _line_offset(
                    text, line_starts, line_ends, first_line + index, content, line_start
                )
            offset = line_offsets[index] + (start - line_start)
            groups.append(MarkerGroup(offset, offset + end - start, tuple(child.meta["numbers"])))
    return groups


def _line_offset(
    text: str, starts: list[int], ends: list[int], number: int, content: str, line_start: int
) -> int:
    """Where in `text` the content line starting at `line_start` of `content` begins."""
    line_end = content.find("\n", line_start)
    content_line = content[line_start : line_end if line_end >= 0 else len(content)]
    source_line = _source_line(text, starts, ends, number)
    shift = source_line.rfind(content_line)
    if shift < 0:  # a tab in the indentation, partly expanded into spaces
        unexpanded = content_line.lstrip(" ")
        shift = source_line.rfind(unexpanded) - (len(content_line) - len(unexpanded))
    return starts[number] + shift


def _source_line(text: str, starts: list[int], ends: list[int], number: int) -> str:
    # The parser reads NUL as U+FFFD, one character for one.
    return text[starts[number] : ends[number]].replace("\0", "\ufffd")


def replace_markers(text: str, replace: Callable[[tuple[int, ...]], str]) -> str:
    """`text` with each group of markers replaced by `replace(numbers)`, all else as written."""
    pieces, done = [], 0
    for group in marker_groups(text):
        pieces += [text[done : group.start], replace(group.numbers)]
        done = group.end
    return "".join(pieces) + text[done:]


def is_valid_number(number: int) -> bool:
    return 1 <= number <= HIGHEST_REFERENCE_NUMBER


def render(
    text: str, *, known: Collection[int] | None = None, env: dict | None = None
) -> SafeString:
    """Render cited text to sanitised HTML; markers link to the reference list.

    `known` lists the numbers that resolve (others render unlinked); pass one `env`
    across the parts of one document so marker ids stay unique.
    """
    env = env if env is not None else new_document(known)
    html = _md.render(text, env)
    return mark_safe(  # noqa: S308 - nh3 has just removed anything not on the allow-list.
        nh3.clean(
            html,
            tags=_ALLOWED_TAGS,
            attributes=_ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
        )
    )


def new_document(known: Collection[int] | None = None) -> dict:
    """Render state for one document (see `render`)."""
    return {"citations": _RenderState(known=known)}


def plain_text(text: str) -> str:
    """The words of cited text without markup or markers, for lists, feeds and meta tags."""
    words = []
    for token in _md.parse(text, {}):
        if token.type == "inline":
            for child in token.children or ():
                if child.type in {"text", "code_inline"}:
                    words.append(child.content)
                elif child.type in {"softbreak", "hardbreak"}:
                    words.append(" ")
            words.append(" ")
    collapsed = re.sub(r"\s+", " ", "".join(words)).strip()
    # A dropped marker leaves a space before the punctuation that followed it.
    return re.sub(r" ([.,;:!?])", r"\1", collapsed)


# What already ends a sentence, closing quotes and brackets aside ("Is it true?”"): a
# reference part ending so takes no full stop after it, or it would read "…true?.".
_SENTENCE_END_RE = re.compile(r"[.?!…][\"'”’»)\]]*\s*\Z")


def ends_sentence(text: str) -> bool:
    """Whether `text` already ends with a full stop, question or exclamation mark, or ellipsis."""
    return bool(_SENTENCE_END_RE.search(text))


def renumber(texts: list[str], numbers: list[int]) -> tuple[list[str], list[int]]:
    """`texts` and the reference `numbers` renumbered together in order of first citation.

    References cited in `texts` (read in the order given) become 1, 2, … in the order they
    are first cited; those cited nowhere follow in their current order. A marker no
    reference answers keeps being unresolved: it moves after all references, so it cannot
    take a reference's new number. A number held by two references stays with the first.
    Returns the new texts (all else as written) and each reference's new number, in order.
    """
    order: list[int] = []
    for text in texts:
        for number in markers(text):
            if number not in order:
                order.append(number)
    held = list(dict.fromkeys(numbers))
    cited = [n for n in order if n in held]
    mapping = {old: new for new, old in enumerate(cited, start=1)}
    for old in held:
        mapping.setdefault(old, len(mapping) + 1)
    for old in order:
        mapping.setdefault(old, len(mapping) + 1)
    new_numbers, seen, spare = [], set(), len(mapping)
    for old in numbers:
        # A second reference under one number cites nothing: it goes after all the others.
        if old in seen:
            spare += 1
        new_numbers.append(mapping[old] if old not in seen else spare)
        seen.add(old)
    return [_rewrite_markers(text, mapping) for text in texts], new_numbers


def _rewrite_markers(text: str, mapping: dict[int, int]) -> str:
    """`text` with each marker's number mapped, the spacing inside groups kept as written."""

    def one(match: re.Match) -> str:
        number = _number(match.group(1))
        return f"[{mapping.get(number, number)}]"

    pieces, done = [], 0
    for group in marker_groups(text):
        pieces += [text[done : group.start], MARKER_RE.sub(one, text[group.start : group.end])]
        done = group.end
    return "".join(pieces) + text[done:]


def markers_citing(texts: list[str], number: int) -> list[tuple[int, int]]:
    """Where `number` is cited in `texts`: (index of the text, paragraph number), in order."""
    return [
        (index, paragraph.number)
        for index, text in enumerate(texts)
        for paragraph in parse(text)
        if number in paragraph.markers
    ]
