"""Review support: uncited-sentence highlights, changes since the live version, similar claims.

Everything here is advisory: it helps reviewers read a report and never blocks publishing
(that is `reports.publishing.check`). Nothing here is shown to readers.
"""

from __future__ import annotations

import bisect
import difflib
import html
import itertools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Max, Min
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from reports.content import ReportContent, SectionContent
from reports.models import PublishedVersion, Report, Verdict

# Uncited sentences ---------------------------------------------------------------------

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


# Changes since the live version --------------------------------------------------------

UNCHANGED, CHANGED, ADDED, REMOVED = "unchanged", "changed", "added", "removed"

_WORD_RE = re.compile(r"\s+|\w+|[^\w\s]")
_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")
# Below this share of words in common, text in the place of other text is new, not a rewrite.
LIKENESS = 0.5
# difflib's matcher takes time up to the cube of its input on repetitive text ("a a a …"
# against "b a b a …"). Past this many token pairs (after the common start and end are set
# aside), a changed stretch is shown whole, removed then added, and likeness is estimated
# from the words in common. One text diff pairs at most DIFF_PAIRS changed paragraphs for
# a word-by-word diff; the others are shown whole.
DIFF_CELLS = 20_000
DIFF_PAIRS = 25


@dataclass(frozen=True)
class Change:
    """One part of a report compared with the live version; `html` is escaped diff markup."""

    label: str
    status: str
    html: SafeString

    @property
    def is_unchanged(self) -> bool:
        return self.status == UNCHANGED


@dataclass(frozen=True)
class Changes:
    version: PublishedVersion
    parts: list[Change]

    @property
    def changed(self) -> list[Change]:
        return [part for part in self.parts if not part.is_unchanged]


def changes_since_live(report: Report) -> Changes | None:
    """The working copy compared part by part with the live version; None when not live."""
    version = report.versions.live().select_related("verdict").first()
    if version is None:
        return None
    live = ReportContent.from_json(version.content)
    working = ReportContent.from_report(report)
    parts = [
        _text_part("Claim", live.claim, working.claim),
        _plain_part("Verdict", _name(version.verdict), _name(report.verdict)),
        _plain_part("Checked on", _date(live.checked_on), _date(working.checked_on)),
        _text_part("Executive summary", live.summary, working.summary),
        *_section_parts(live.sections, working.sections),
        _section_part(
            "Conclusion",
            SectionContent(live.conclusion_heading, live.conclusion),
            SectionContent(working.conclusion_heading, working.conclusion),
        ),
        *_reference_parts(live, working),
        _questions_part(live, working),
    ]
    return Changes(version=version, parts=parts)


def diff_words(old: str, new: str) -> SafeString:
    """`new` with words removed since `old` in <del> and words added in <ins>, escaped."""
    a, b = _WORD_RE.findall(old), _WORD_RE.findall(new)
    pieces = []
    for op, a1, a2, b1, b2 in _grouped(_opcodes(a, b), a):
        if op == "equal":
            pieces.append(escape("".join(a[a1:a2])))
            continue
        if a1 < a2:
            pieces.append(f"<del>{escape(''.join(a[a1:a2]))}</del>")
        if b1 < b2:
            pieces.append(f"<ins>{escape(''.join(b[b1:b2]))}</ins>")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of text is escaped above.


def _opcodes(a: list, b: list, cells: int = DIFF_CELLS) -> list[tuple]:
    """difflib's opcodes for `a` → `b`, or the changed middle as one replacement when
    comparing it item by item would cost more than `cells` pairs (see DIFF_CELLS)."""
    shortest = min(len(a), len(b))
    prefix = 0
    while prefix < shortest and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    a2, b2 = len(a) - suffix, len(b) - suffix
    ops = [("equal", 0, prefix, 0, prefix)] if prefix else []
    if (a2 - prefix) * (b2 - prefix) <= cells:
        matcher = difflib.SequenceMatcher(None, a[prefix:a2], b[prefix:b2], autojunk=False)
        ops += [
            (op, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix)
            for op, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    elif prefix < a2 or prefix < b2:
        op = "replace" if prefix < a2 and prefix < b2 else "delete" if prefix < a2 else "insert"
        ops.append((op, prefix, a2, prefix, b2))
    if suffix:
        ops.append(("equal", a2, len(a), b2, len(b)))
    return ops


def _grouped(opcodes: list[tuple], a: list[str]) -> list[list]:
    """Opcodes with changes separated only by spaces joined, so a rewritten phrase reads
    as one deletion and one insertion rather than alternating words."""
    ops = [list(op) for op in opcodes]
    for k in range(1, len(ops) - 1):
        op, a1, a2 = ops[k][:3]
        if op == "equal" and not "".join(a[a1:a2]).strip() and ops[k + 1][0] != "equal":
            ops[k][0] = "replace" if ops[k - 1][0] != "equal" else op
    grouped = []
    for op in ops:
        if grouped and op[0] != "equal" and grouped[-1][0] != "equal":
            grouped[-1] = ["replace", grouped[-1][1], op[2], grouped[-1][3], op[4]]
        else:
            grouped.append(op)
    return grouped


def diff_text(old: str, new: str) -> SafeString:
    """Paragraph by paragraph, then word by word inside changed paragraphs; escaped."""
    a, b = _paragraphs(old), _paragraphs(new)
    blocks = []
    pairs = DIFF_PAIRS
    for op, a1, a2, b1, b2 in _opcodes(a, b):
        if op == "equal":
            blocks += [escape(paragraph) for paragraph in a[a1:a2]]
            continue
        # Paragraphs in each other's place pair up if alike; the rest were removed or added.
        for i, j in itertools.zip_longest(range(a1, a2), range(b1, b2)):
            if i is not None and j is not None and pairs > 0:
                pairs -= 1
                if _alike(a[i], b[j]):
                    blocks.append(diff_words(a[i], b[j]))
                    continue
            if i is not None:
                blocks.append(f"<del>{escape(a[i])}</del>")
            if j is not None:
                blocks.append(f"<ins>{escape(b[j])}</ins>")
    return mark_safe("\n\n".join(blocks))  # noqa: S308 - built from escaped text only.


def _paragraphs(text: str) -> list[str]:
    text = text.strip()
    return _PARAGRAPH_BREAK_RE.split(text) if text else []


def _status(old, new) -> str:
    return UNCHANGED if old == new else CHANGED


def _text_part(label: str, old: str, new: str) -> Change:
    return Change(label, _status(old, new), _text_block(diff_text(old, new)))


def _text_block(diff: SafeString) -> SafeString:
    return format_html('<div class="diff-text">{}</div>', diff)


def _plain_part(label: str, old: str, new: str) -> Change:
    if old == new:
        return Change(label, UNCHANGED, format_html("{}", new))
    return Change(label, CHANGED, format_html("<del>{}</del> → <ins>{}</ins>", old, new))


def _section_part(label: str, old: SectionContent, new: SectionContent) -> Change:
    diff = format_html(
        '<p class="diff-heading">{}</p>{}',
        diff_words(old.heading, new.heading),
        _text_block(diff_text(old.body, new.body)),
    )
    return Change(label, _status(old, new), diff)


def _whole_section(label: str, section: SectionContent, tag: str, status: str) -> Change:
    diff = format_html(
        '<p class="diff-heading"><{tag}>{heading}</{tag}></p>'
        '<div class="diff-text"><{tag}>{body}</{tag}></div>',
        heading=section.heading,
        body=section.body,
        tag=tag,
    )
    return Change(label, status, diff)


def _section_parts(
    old: tuple[SectionContent, ...], new: tuple[SectionContent, ...]
) -> list[Change]:
    """Sections aligned by heading; within a changed run, alike sections pair up by position
    and the rest count as removed and added."""
    parts = []
    headings = [s.heading.strip() for s in old], [s.heading.strip() for s in new]
    for op, a1, a2, b1, b2 in _opcodes(*headings):
        paired = {
            j: i
            for i, j in zip(range(a1, a2), range(b1, b2), strict=False)
            if op == "equal" or _alike(_text(old[i]), _text(new[j]))
        }
        for j in range(b1, b2):
            if j in paired:
                parts.append(_section_part(f"Section {j + 1}", old[paired[j]], new[j]))
            else:
                parts.append(_whole_section(f"Section {j + 1} (new)", new[j], "ins", ADDED))
        for i in sorted(set(range(a1, a2)) - set(paired.values())):
            parts.append(_whole_section(f"Section {i + 1} (live)", old[i], "del", REMOVED))
    return parts


def _alike(old: str, new: str) -> bool:
    """Whether `new` reads as a rewrite of `old` rather than other text in its place."""
    a, b = _WORD_RE.findall(old), _WORD_RE.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if len(a) * len(b) > DIFF_CELLS:
        return matcher.quick_ratio() >= LIKENESS  # an upper bound, in linear time
    return matcher.ratio() >= LIKENESS


def _text(section: SectionContent) -> str:
    return f"{section.heading}\n{section.body}"


def _reference_parts(live: ReportContent, working: ReportContent) -> list[Change]:
    old = {r.number: r for r in live.references}
    new = {r.number: r for r in working.references}
    parts = []
    for number in sorted(old.keys() | new.keys()):
        label = f"Reference [{number}]"
        before, after = old.get(number), new.get(number)
        if before is None:
            parts.append(Change(label, ADDED, format_html("<ins>{}</ins>", _cites(after))))
        elif after is None:
            parts.append(Change(label, REMOVED, format_html("<del>{}</del>", _cites(before))))
        elif _source_id(before) != _source_id(after):
            diff = format_html(
                "Source changed: <del>{}</del> → <ins>{}</ins>", _cites(before), _cites(after)
            )
            parts.append(Change(label, CHANGED, diff))
        elif before.source != after.source:
            # The same library source, edited by a curator since: readers would get the new one.
            diff = format_html(
                "Source details changed: <del>{}</del> → <ins>{}</ins>",
                _details(before.source),
                _details(after.source),
            )
            parts.append(Change(label, CHANGED, diff))
        elif before.pinpoint != after.pinpoint:
            diff = format_html(
                "{}; pinpoint: {}", _cites(after), diff_words(before.pinpoint, after.pinpoint)
            )
            parts.append(Change(label, CHANGED, diff))
        else:
            parts.append(Change(label, UNCHANGED, format_html("{}", _cites(after))))
    return parts


def _source_id(reference) -> int | None:
    return reference.source.id if reference.source else None


def _details(source) -> str:
    archive = f", archived at {source.archive_url}" if source.archive_url else ""
    retired = "" if source.is_active else " (retired)"
    return f"{source.title}, {source.url}{archive}{retired}"


def _cites(reference) -> str:
    title = reference.source.title if reference.source else "(no source)"
    return f"{title}, {reference.pinpoint}" if reference.pinpoint else title


def _questions_part(live: ReportContent, working: ReportContent) -> Change:
    """Questions line by line; a question whose answering report changed shows a note."""
    a = [q.question for q in live.questions]
    b = [q.question for q in working.questions]
    answers_changed = {
        new.question
        for old, new in zip(live.questions, working.questions, strict=False)
        if old.question == new.question and old.answered_by_id != new.answered_by_id
    }
    lines = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            for question in a[a1:a2]:
                note = " (now answered by another report)" if question in answers_changed else ""
                lines.append(format_html("<li>{}{}</li>", question, note))
            continue
        lines += [format_html("<li><del>{}</del></li>", q) for q in a[a1:a2]]
        lines += [format_html("<li><ins>{}</ins></li>", q) for q in b[b1:b2]]
    status = _status(live.questions, working.questions)
    body = format_html_join("", "{}", ((line,) for line in lines))
    return Change("Follow-up questions", status, format_html("<ul>{}</ul>", body))


def _name(verdict: Verdict | None) -> str:
    return verdict.name if verdict else "(no verdict)"


def _date(value) -> str:
    return value.isoformat() if value else "(no date)"


# Similar claims ------------------------------------------------------------------------

# pg_trgm's own default for its % operator.
SIMILARITY_THRESHOLD = 0.3
SIMILAR_LIMIT = 5
# Without pg_trgm, only the most recent live claims are compared, in Python.
FALLBACK_CANDIDATES = 500
# Without ratings, these verdicts are on the true and the false side of the scale.
TRUE_SIDE = frozenset({"true", "mostly-true"})
FALSE_SIDE = frozenset({"false", "mostly-false"})


@dataclass(frozen=True)
class SimilarClaim:
    version: PublishedVersion
    similarity: float
    opposite: bool  # its verdict is on the other side of the scale from the report's


def similar_claims(
    claim: str,
    *,
    verdict: Verdict | None = None,
    exclude_report_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[SimilarClaim]:
    """Live published reports with claims like `claim`, most similar first (two queries)."""
    claim = claim.strip()[: Report._meta.get_field("claim").max_length]
    if not claim:
        return []
    versions = (
        PublishedVersion.objects.live()
        .exclude(report_id=exclude_report_id)
        .select_related("verdict")
        .only("report", "slug", "claim", "published_at", "verdict")
    )
    if connection.vendor == "postgresql":
        found = [
            (version.similarity, version)
            for version in versions.annotate(similarity=TrigramSimilarity("claim", claim))
            .filter(similarity__gte=SIMILARITY_THRESHOLD)
            .order_by("-similarity", "-published_at")[:limit]
        ]
    else:
        recent = versions.order_by("-published_at")[:FALLBACK_CANDIDATES]
        scored = [(trigram_similarity(claim, version.claim), version) for version in recent]
        found = sorted(
            (pair for pair in scored if pair[0] >= SIMILARITY_THRESHOLD),
            key=lambda pair: -pair[0],
        )[:limit]
    scale = rating_scale() if found and verdict and verdict.rating is not None else None
    return [
        SimilarClaim(version, score, are_opposite(verdict, version.verdict, scale=scale))
        for score, version in found
    ]


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity()`, for databases without it: shared trigrams of the words."""
    x, y = _trigrams(a), _trigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def _trigrams(text: str) -> set[str]:
    grams = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "  # as pg_trgm pads each word
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True)
class RatingScale:
    """The curated scale's middle, and the band around it that counts as neither side."""

    midpoint: float
    neutral: float  # ratings closer than this to the midpoint are on no side

    def side(self, rating: int) -> int:
        if abs(rating - self.midpoint) < self.neutral:
            return 0
        return 1 if rating > self.midpoint else -1


# A quarter of the scale's span either side of the middle is neutral: "Mixed" against
# "Misleading" is a difference of degree, "Mostly true" against "Mostly false" is not.
NEUTRAL_SHARE = 0.25


def rating_scale() -> RatingScale | None:
    """The rating scale as curated: its middle and neutral band, or None without ratings."""
    bounds = Verdict.objects.filter(rating__isnull=False).aggregate(
        low=Min("rating"), high=Max("rating")
    )
    if bounds["low"] is None:
        return None
    span = bounds["high"] - bounds["low"]
    return RatingScale((bounds["low"] + bounds["high"]) / 2, span * NEUTRAL_SHARE)


def are_opposite(a: Verdict | None, b: Verdict | None, *, scale: RatingScale | None) -> bool:
    """Whether two verdicts sit on opposite sides of the scale (by rating, else by slug)."""
    if a is None or b is None:
        return False
    if a.rating is not None and b.rating is not None and scale is not None:
        return scale.side(a.rating) * scale.side(b.rating) < 0
    sides = {_side(a), _side(b)}
    return sides == {"true", "false"}


def _side(verdict: Verdict) -> str:
    if verdict.slug in TRUE_SIDE:
        return "true"
    if verdict.slug in FALSE_SIDE:
        return "false"
    return ""
