"""A published report as Markdown, with its references as footnotes.

Written from the report's JSON document (`reports.formats.jsonformat.export_document`), so it says
exactly what the JSON export says::

    # <claim>

    **Verdict: <name>** · Checked on January 27, 2026

    ## Executive summary

    <summary>

    ## 1. <heading>
    …
    ## N. <conclusion heading>

    <conclusion>

    ## Want to dive deeper?

    - <question>

    [^1]: <authors>. <title>. <publisher>, <published>. <URL> (accessed January 27, 2026).

Citation markers become footnote references: ``[1] [2]`` reads ``[^1][^2]``. They are found
by `reports.citations`, the one parser of cited text, so a ``[1]`` it does not read as a
citation (escaped, or inside a link address) is left as written; the rest of the cited
text is kept as the editor wrote it (Factually's Markdown subset), line endings made "\\n".
Footnote labels are the reference numbers. Plain-text fields (claim, headings, titles,
questions) are escaped so Markdown reads them as text.
"""

from __future__ import annotations

import datetime
import re

from reports import citations
from reports.formats.jsonformat import export_document
from reports.formats.textformat import MONTHS, QUESTIONS_HEADING, SUMMARY_HEADING, format_date
from reports.models import PublishedVersion

CONTENT_TYPE = "text/markdown; charset=utf-8"
CHANGE_WORDS = {"correction": "Corrected", "update": "Updated", "clarification": "Clarified"}

# Characters Markdown may read as syntax inside a line of text.
_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>|&])")
# What starts a block at the beginning of a line: a heading, quote, list item or rule.
_BLOCK_START = re.compile(r"^([#>+\-=~])")
_ORDERED_ITEM_START = re.compile(r"^([0-9]+)([.)])")
_LINE_BREAKS = re.compile(r"\r\n?|\n")


def export_markdown(version: PublishedVersion) -> str:
    """`version` as Markdown with footnotes, ending with a newline."""
    return render_markdown(export_document(version))


def render_markdown(document: dict) -> str:
    """A factually.report/1 document as Markdown with footnotes."""
    known = {reference["number"] for reference in document["references"]}
    blocks = [f"# {escape(document['claim'])}", _verdict_line(document)]
    claim_line = _claim_line(document)
    if claim_line:
        blocks.append(claim_line)
    if document.get("topics"):
        blocks.append("Topics: " + ", ".join(escape(t["name"]) for t in document["topics"]))
    blocks += [f"## {SUMMARY_HEADING}", cited(document["summary"], known)]
    parts = [(s["heading"], s["body"]) for s in document["sections"]]
    parts.append((document["conclusion"]["heading"], document["conclusion"]["text"]))
    for number, (heading, text) in enumerate(parts, start=1):
        blocks += [f"## {number}. {escape(heading)}", cited(text, known)]
    if document["questions"]:
        blocks += [
            f"## {QUESTIONS_HEADING}",
            "\n".join(f"- {escape(q['question'])}" for q in document["questions"]),
        ]
    changes = _changes(document)
    if changes:
        blocks += ["## Corrections and updates", changes]
    footnotes = "\n".join(
        footnote(reference) for reference in document["references"] if reference["source"]
    )
    if footnotes:
        blocks.append(footnotes)
    return "\n\n".join(block for block in blocks if block) + "\n"


def cited(text: str, known: set[int]) -> str:
    """Cited text with its markers as footnote references, otherwise as written."""

    def footnote_references(numbers: tuple[int, ...]) -> str:
        # A number no reference has (drafts only) stays a visible, inert "[n]".
        return "".join(f"[^{n}]" if n in known else f"\\[{n}]" for n in numbers)

    replaced = citations.replace_markers(text, footnote_references)
    return _LINE_BREAKS.sub("\n", replaced).strip("\n")


def footnote(reference: dict) -> str:
    """``[^n]: Authors. Title. Publisher, date. <URL> (accessed …). Archived …. Pinpoint.``"""
    source = reference["source"]
    parts = []
    if source.get("authors"):
        parts.append(", ".join(escape(name) for name in source["authors"]))
    parts.append(escape(source["title"]))
    published = _partial_date(source.get("published_on"))
    publisher = escape(source["publisher"]["name"]) if source.get("publisher") else ""
    if publisher or published:
        parts.append(", ".join(part for part in (publisher, published) if part))
    # A source may have no URL (a book, an interview): then there is no link to give.
    link = f"<{source['url']}>" if source.get("url") else ""
    accessed = _partial_date(source.get("accessed_on"))
    if link:
        parts.append(f"{link} (accessed {accessed})" if accessed else link)
    if source.get("archive_url"):
        archived = _partial_date(source.get("archive_date"))
        on = f" on {archived}" if archived else ""
        parts.append(f"Archived{on} at <{source['archive_url']}>")
    if reference.get("pinpoint"):
        parts.append(escape(reference["pinpoint"]))
    return f"[^{reference['number']}]: " + " ".join(_sentence(part) for part in parts)


def escape(text: str) -> str:
    """Plain text as one line of Markdown that reads as that text."""
    line = " ".join(text.split())
    line = _INLINE_SPECIALS.sub(r"\\\1", line)
    line = _BLOCK_START.sub(r"\\\1", line)
    return _ORDERED_ITEM_START.sub(r"\1\\\2", line)


def _verdict_line(document: dict) -> str:
    verdict = document.get("verdict")
    line = f"**Verdict: {escape(verdict['name'] or verdict['slug'])}**" if verdict else ""
    checked_on = _date(document.get("checked_on"))
    if checked_on:
        line += (" · " if line else "") + f"Checked on {format_date(checked_on)}"
    return line


def _claim_line(document: dict) -> str:
    """Who made the claim, when and where, as far as the report knows."""
    claimant = escape(document.get("claimant") or "")
    claim_date = _date(document.get("claim_date"))
    url = document.get("claim_url") or ""
    if not (claimant or claim_date or url):
        return ""
    line = "Claim made"
    if claimant:
        line += f" by {claimant}"
    if claim_date:
        line += f" on {format_date(claim_date)}"
    if url:
        line += f" at <{url}>"
    return line + "."


def _changes(document: dict) -> str:
    """The notes of the corrections and updates readers were shown, newest first."""
    history = document.get("publication", {}).get("history", [])[1:]
    lines = []
    for entry in reversed(history):
        day = datetime.datetime.fromisoformat(entry["published_at"]).date()
        words = CHANGE_WORDS.get(entry["change_kind"], "Updated")
        note = escape(entry["change_note"])
        lines.append(f"- {words} on {format_date(day)}" + (f": {note}" if note else "."))
    return "\n".join(lines)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _partial_date(value: str | None) -> str:
    """ "2020-03-05" → "March 5, 2020"; "2020-03" → "March 2020"; "2020" → "2020"."""
    if not value:
        return ""
    parts = [int(part) for part in value.split("-")]
    if len(parts) == 3:
        return format_date(datetime.date(*parts))
    if len(parts) == 2:
        return f"{MONTHS[parts[1] - 1]} {parts[0]}"
    return str(parts[0])


def _sentence(part: str) -> str:
    return part if citations.ends_sentence(part) else part + "."
