"""Cited text: the one parser and renderer for editor prose with citation markers.

Editor text (summary, section bodies, conclusion) is a small Markdown subset (emphasis,
links, lists, quotes) in blocks separated by blank lines, with markers such as ``[1]``.
Validation, rendering, import and export all read it through this module.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

# A marker is a bracketed list of numbers and ranges, as people write them: "[3]", "[3, 4]",
# "[3,4]", "[3; 4]", "[5–7]", "[5-7]", "[1, 4–6]", padded "[ 3 ]" too. Markers separated
# only by spaces form one group ("[1][2]", "[1] [2]"). After a number, spaces can lead only
# to a dash, a comma or the closing bracket, each tried once: a failed match is linear too.
_SPACE = "[ \t\u00a0]"
# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus sign.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_ITEM = rf"\d+(?:{_SPACE}*[{_DASHES}]{_SPACE}*\d+)?"
MARKER_RE = re.compile(rf"\[{_SPACE}*{_ITEM}(?:{_SPACE}*[,;]{_SPACE}*{_ITEM})*{_SPACE}*\]")
MARKER_GROUP_RE = re.compile(rf"{MARKER_RE.pattern}(?:{_SPACE}*{MARKER_RE.pattern})*")
_DIGITS_RE = re.compile(r"\d+")
_SPACES_RE = re.compile(f"{_SPACE}*")
_DASH_RE = re.compile(f"[{_DASHES}]")
# A range citing more references than this is a typo ("[5–75]" for "[5–7]"), not a citation.
LONGEST_RANGE = 50
# What looks like a marker the parser cannot read ("[3,]", "[3 and 4]", "[1a]"): brackets
# around numbers, punctuation and joining words only. Bounded, so each "[" costs a bounded
# look ahead. Letters alone are editorial ("[sic]", "[T]he", "[the minister]"), not markers.
_LOOKALIKE_RE = re.compile(r"\[([^\[\]\n]{1,80})\]")
_LOOKALIKE_PART_RE = re.compile(r"\d+[a-z]?(?![a-z])|[a-z]+|\S", re.IGNORECASE)
_LOOKALIKE_WORDS = frozenset({"and", "to", "or", "et", "&"})
_LOOKALIKE_PUNCTUATION = frozenset(",;:./+#&*" + _DASHES)
# Drafting placeholders for a citation still to find: never published as if they were one.
_PLACEHOLDERS = frozenset({"citation needed", "source needed", "citation", "cite", "ref"})
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
class Unclear:
    """Bracketed text that looks like a citation marker but is not one the parser reads."""

    written: str  # as in the text, brackets included
    advice: str  # what to write instead, for the editor


@dataclass(frozen=True)
class Paragraph:
    """One top-level block of cited text: a paragraph, a list or a quote."""

    number: int  # 1-based, in reading order
    line: int  # 1-based line of the text where the block starts
    kind: str
    markers: tuple[int, ...]  # reference numbers, in order of appearance
    # What looks like a marker but is not one the parser reads, in order (see `Unclear`).
    unclear: tuple[Unclear, ...] = ()

    @property
    def is_cited(self) -> bool:
        return bool(self.markers)


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    numbers: list[int] = []
    end = position = state.pos
    # Marker by marker, not the whole group at once: a group cut short by a marker that does
    # not read (a range run backwards) would otherwise be matched again from each of its "[".
    while marker := MARKER_RE.match(state.src, position, state.posMax):
        read = read_marker(marker.group())
        if isinstance(read, str):
            break
        numbers += read
        end = marker.end()
        position = _SPACES_RE.match(state.src, end, state.posMax).end()
    if end > state.pos:
        if not silent:
            token = state.push("citation_group", "", 0)
            token.content = state.src[state.pos : end]
            # Where the group stands in the block's inline text (see `marker_groups`).
            token.meta = {"numbers": numbers, "span": (state.pos, end)}
        state.pos = end
        return True
    unclear = _lookalike(state.src, state.pos, state.posMax)
    if unclear is None:
        return False
    if not silent:
        token = state.push("citation_unclear", "", 0)
        token.content = unclear.written
        token.meta = {"unclear": unclear}
    state.pos += len(unclear.written)
    return True


def read_marker(written: str) -> tuple[int, ...] | str:
    """The numbers one marker such as "[3, 5–7]" cites, ranges expanded; or, for a marker
    whose range cannot be meant ("[7–5]", "[5–500]"), advice on what to write instead."""
    digits = list(_DIGITS_RE.finditer(written))
    numbers: list[int] = []
    index = 0
    while index < len(digits):
        first = _number(digits[index].group())
        if index + 1 < len(digits) and _is_range(written, digits[index], digits[index + 1]):
            last = _number(digits[index + 1].group())
            if last <= first:
                return f"a range runs upwards, as in [{min(first, last)}–{max(first, last)}]"
            if last - first >= LONGEST_RANGE:
                return f"a range cites at most {LONGEST_RANGE} references; list them instead"
            numbers += range(first, last + 1)
            index += 2
        else:
            numbers.append(first)
            index += 1
    return tuple(numbers)


def _is_range(written: str, first: re.Match, last: re.Match) -> bool:
    return bool(_DASH_RE.search(written, first.end(), last.start()))


def _lookalike(src: str, pos: int, end: int) -> Unclear | None:
    """The bracketed text at `pos`, if it looks like a marker (and is not a marker)."""
    match = _LOOKALIKE_RE.match(src, pos, end)
    # "[3 and 4](https://…)" is a Markdown link, for the link rule to read.
    if not match or src.startswith("(", match.end()):
        return None
    inside = match.group(1)
    if " ".join(inside.lower().split()) in _PLACEHOLDERS:
        return Unclear(match.group(), "cite the source, or take the placeholder out")
    parts = _LOOKALIKE_PART_RE.findall(inside)
    if not any(part[0].isdigit() for part in parts):
        return None
    for part in parts:
        if not (
            part[0].isdigit() or part.lower() in _LOOKALIKE_WORDS or part in _LOOKALIKE_PUNCTUATION
        ):
            return None
    read = read_marker(match.group()) if MARKER_RE.fullmatch(match.group()) else None
    if isinstance(read, str):
        return Unclear(match.group(), read)
    return Unclear(match.group(), "write a citation as [3], [3, 4] or [3–5]")


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["emphasis", "link", "autolink", "escape", "list", "blockquote", "newline"])
    # Before "link", so "[2]" is always a citation, never link syntax.
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation_group", _render_citation_group)
    md.add_render_rule("citation_unclear", _render_citation_unclear)
    md.add_render_rule("link_open", _render_link_open)
    return md


def _render_link_open(renderer, tokens, idx, options, env) -> str:
    # Editor links leave the site: readers' browsers should not vouch for them.
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


@dataclass
class _RenderState:
    """Per-document render state: which numbers resolve, and where each is cited."""

    known: Collection[int] | None
    occurrences: dict[int, int] = field(default_factory=dict)
    # For each number, the id of each place citing it, in order: what back-links point to.
    anchors: dict[int, list[str]] = field(default_factory=dict)
    ranges: int = 0

    def resolves(self, number: int) -> bool:
        return self.known is None or number in self.known

    def anchor(self, number: int) -> str:
        """The id of the next citation of `number`, counted; empty if it resolves to nothing."""
        if not self.resolves(number):
            return ""
        occurrence = self.occurrences.get(number, 0) + 1
        self.occurrences[number] = occurrence
        anchor = f"cite-{number}-{occurrence}"
        self.anchors.setdefault(number, []).append(anchor)
        return anchor

    def range_anchor(self, numbers: range) -> str:
        """The id of a range's dash, which cites `numbers` (those between its ends)."""
        resolving = [number for number in numbers if self.resolves(number)]
        if not resolving:
            return ""
        self.ranges += 1
        anchor = f"cite-range-{self.ranges}"
        for number in resolving:
            self.anchors.setdefault(number, []).append(anchor)
        return anchor

    def link(self, number: int, text: str | None = None) -> str:
        """A citation of `number`: a link to its reference, or unlinked if there is none."""
        text = str(number) if text is None else text
        anchor = self.anchor(number)
        if not anchor:
            return f'<span class="citation citation--unresolved">{text}</span>'
        return f'<a class="citation" href="#ref-{number}" id="{anchor}">{text}</a>'


def _render_citation_group(renderer, tokens, idx, options, env) -> str:
    state: _RenderState = env["citations"]
    written = tokens[idx].content
    markers = []
    for marker in MARKER_RE.finditer(written):
        read = read_marker(marker.group())
        if len(read) == 1 and not _DASH_RE.search(marker.group()):
            markers.append(state.link(read[0], f"[{read[0]}]"))
        else:
            markers.append(_render_marker(state, marker.group()))
    return '<span class="citations">' + " ".join(markers) + "</span>"


def _render_marker(state: _RenderState, written: str) -> str:
    """A list or range as written, each number its own link (README, "Citation markers").

    A range links its first and last numbers; its dash reads "to" to screen readers and is
    where the reference list's back-links of the numbers in between lead.
    """
    digits = list(_DIGITS_RE.finditer(written))
    pieces, done, index = [], 0, 0
    while index < len(digits):
        first = digits[index]
        pieces += [html.escape(written[done : first.start()]), state.link(_number(first[0]))]
        done = first.end()
        if index + 1 < len(digits) and _is_range(written, first, digits[index + 1]):
            last = digits[index + 1]
            dash = html.escape(written[first.end() : last.start()])
            anchor = state.range_anchor(range(_number(first[0]) + 1, _number(last[0])))
            anchor = f' id="{anchor}"' if anchor else ""
            pieces += [
                f'<span class="citation-range"{anchor}><span aria-hidden="true">{dash}</span>'
                '<span class="visually-hidden"> to </span></span>',
                state.link(_number(last[0])),
            ]
            done = last.end()
            index += 1
        index += 1
    return "".join(pieces) + html.escape(written[done:])


def _render_citation_unclear(renderer, tokens, idx, options, env) -> str:
    # Shown as written, marked for staff previews; the publish check lists it.
    return f'<span class="citation--unclear">{html.escape(tokens[idx].content)}</span>'


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
    "span": {"class", "id", "aria-hidden"},
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
                "unclear": [],
            }
        elif token.type == "inline" and current is not None:
            for child in token.children or ():
                if child.type == "citation_group":
                    current["markers"].extend(child.meta["numbers"])
                elif child.type == "citation_unclear":
                    current["unclear"].append(child.meta["unclear"])
        elif token.level == 0 and token.nesting == -1 and current is not None:
            paragraphs.append(
                Paragraph(
                    number=len(paragraphs) + 1,
                    line=current["line"],
                    kind=current["kind"],
                    markers=tuple(current["markers"]),
                    unclear=tuple(current["unclear"]),
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
                if child.type in {"text", "code_inline", "citation_unclear"}:
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
    # A dict, not a list: a text may cite thousands of numbers (ranges expanded).
    order = dict.fromkeys(number for text in texts for number in markers(text))
    held = dict.fromkeys(numbers)
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
    """`text` with each marker's numbers mapped, all else inside groups kept as written."""
    pieces, done = [], 0
    for group in marker_groups(text):
        written = text[group.start : group.end]
        rewritten = MARKER_RE.sub(lambda marker: _rewrite_marker(marker.group(), mapping), written)
        pieces += [text[done : group.start], rewritten]
        done = group.end
    return "".join(pieces) + text[done:]


def _rewrite_marker(written: str, mapping: dict[int, int]) -> str:
    """One marker renumbered; a range whose numbers are no longer consecutive becomes a list
    (in the marker's own separator, or ", ")."""
    # From the comma on: a search that could start at each space would take quadratic time.
    separator = re.search(rf"[,;]{_SPACE}*", written)
    separator = separator.group() if separator else ", "
    digits = list(_DIGITS_RE.finditer(written))
    pieces, done, index = [], 0, 0

    def new(match: re.Match) -> str:
        number = _number(match.group())
        return str(mapping[number]) if number in mapping else match.group()

    while index < len(digits):
        first = digits[index]
        pieces.append(written[done : first.start()])
        if index + 1 < len(digits) and _is_range(written, first, digits[index + 1]):
            last = digits[index + 1]
            numbers = [mapping.get(n, n) for n in range(_number(first[0]), _number(last[0]) + 1)]
            if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
                pieces += [new(first), written[first.end() : last.start()], new(last)]
            else:
                pieces.append(separator.join(str(number) for number in numbers))
            done = last.end()
            index += 2
        else:
            pieces.append(new(first))
            done = first.end()
            index += 1
    return "".join(pieces) + written[done:]


def markers_citing(texts: list[str], number: int) -> list[tuple[int, int]]:
    """Where `number` is cited in `texts`: (index of the text, paragraph number), in order."""
    return [
        (index, paragraph.number)
        for index, text in enumerate(texts)
        for paragraph in parse(text)
        if number in paragraph.markers
    ]
