"""Changes since the live version, for reviewers: the working copy compared part by part.

Advisory only: it helps reviewers read a report and never blocks publishing (that is
`reports.publishing.check`). Nothing here is shown to readers. Every diff is built from
escaped text, and stays linear on pathological input (see DIFF_CELLS).
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from reports.content import ReportContent, SectionContent
from reports.models import PublishedVersion, Report, Verdict

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
    # A source may have no URL; its identifiers and note then say where it is.
    found = [source.url, *(f"{label} {value}" for label, value, _ in source.identifier_links)]
    found.append(source.where_to_find)
    return ", ".join(part for part in (source.title, *found) if part) + archive + retired


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
