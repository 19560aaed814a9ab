"""BibTeX and BibLaTeX files, read with bibtexparser (v2) and decoded with pylatexenc.

bibtexparser splits the file into entries, @string and @comment blocks and reports broken
syntax; the values are then resolved here: @string macros and "#" concatenation, month
macros, `crossref` inheritance (the child takes the fields it lacks from its parent: date,
publisher, journal, the parent's title as its booktitle), names in BibTeX's three forms and
BibLaTeX's extended form (family=…, given=…, prefix=…), and LaTeX (accents, \\emph,
\\href, braces) into plain text.

Read: title, url (or a \\url{…} in howpublished), doi, author, date (BibLaTeX, with EDTF
ranges and qualifiers) or year/month/day, urldate (the access date),
journal/journaltitle, publisher, institution, school, organization (the publisher),
language/langid, note (→ internal notes), and the entry type (→ kind). Two entries under
the same key are read as two entries. An entry that cannot be read is refused with its key,
line and field, never with the parser's internals.
"""

from __future__ import annotations

import logging
import re

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock
from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from sources.interchange.common import (
    MONTH_NAMES,
    Entry,
    FieldError,
    ImportRefused,
    PartialDate,
    kind_for_report,
)
from sources.models import Source

logger = logging.getLogger(__name__)

Kind = Source.Kind
KINDS = {
    "article": Kind.ACADEMIC_PAPER,
    "inproceedings": Kind.ACADEMIC_PAPER,
    "conference": Kind.ACADEMIC_PAPER,
    "proceedings": Kind.ACADEMIC_PAPER,
    "phdthesis": Kind.ACADEMIC_PAPER,
    "mastersthesis": Kind.ACADEMIC_PAPER,
    "thesis": Kind.ACADEMIC_PAPER,
    "book": Kind.BOOK,
    "mvbook": Kind.BOOK,
    "inbook": Kind.BOOK,
    "bookinbook": Kind.BOOK,
    "suppbook": Kind.BOOK,
    "booklet": Kind.BOOK,
    "collection": Kind.BOOK,
    "mvcollection": Kind.BOOK,
    "incollection": Kind.BOOK,
    "dataset": Kind.DATASET,
    "data": Kind.DATASET,
    "video": Kind.AUDIO_VIDEO,
    "audio": Kind.AUDIO_VIDEO,
    "music": Kind.AUDIO_VIDEO,
    "movie": Kind.AUDIO_VIDEO,
    "legislation": Kind.PRIMARY_DOCUMENT,
    "jurisdiction": Kind.PRIMARY_DOCUMENT,
    "legal": Kind.PRIMARY_DOCUMENT,
    "letter": Kind.PRIMARY_DOCUMENT,
    "reference": Kind.REFERENCE_WORK,
    "mvreference": Kind.REFERENCE_WORK,
    "inreference": Kind.REFERENCE_WORK,
}
REPORTS = {"techreport", "report"}
# BibLaTeX's entrysubtype of an @article in a newspaper or magazine.
NEWS_SUBTYPES = {"newspaper", "magazine"}
PUBLISHER_FIELDS = (
    "journaltitle",
    "journal",
    "publisher",
    "institution",
    "school",
    "organization",
)
# BibTeX's predefined month macros.
MONTH_MACROS = {name: name for name in MONTH_NAMES if len(name) == 3}
# BibLaTeX eprinttype (or BibTeX archiveprefix) → the identifier its eprint field holds.
EPRINT_TYPES = {"arxiv": "arxiv_id", "hdl": "handle", "handle": "handle", "pubmed": "pmid"}
URL_MACRO = re.compile(r"\\url\{([^}]*)\}")
UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
LATEX_ESCAPE = re.compile(r"\\([_%&#$~])")
# Fields a child does not take from its crossref parent.
NOT_INHERITED = {"crossref", "xref", "ids", "entryset", "related", "title", "shorttitle"}

# \\url{…} and \\href{…}{…} read as their address and their text: the parser must know
# their arguments, and the text converter what to print of them.
_walker_context = latexwalker.get_default_latex_context_db()
_walker_context.add_context_category(
    "factually",
    prepend=True,
    macros=[macrospec.MacroSpec("href", "{{"), macrospec.MacroSpec("url", "{")],
)
_text_context = get_default_latex_context_db()
_text_context.add_context_category(
    "factually",
    prepend=True,
    macros=[MacroTextSpec("url", "%(1)s"), MacroTextSpec("href", "%(2)s")],
)
_converter = LatexNodes2Text(latex_context=_text_context, math_mode="verbatim")


class Unreadable(ValueError):
    """A value that cannot be read; the message says why, in the file's terms."""


def latex_to_text(value: str) -> str:
    """Plain text of a LaTeX value: accents decoded, commands and braces gone."""
    if "\\" not in value and "{" not in value and "$" not in value and "~" not in value:
        return " ".join(value.split())
    # BibTeX keeps "%" in a value, and people write "50%" unescaped: no comment there.
    value = UNESCAPED_PERCENT.sub(r"\\%", value)
    if len(UNESCAPED_DOLLAR.findall(value)) % 2:
        # A lone "$" is a price ("$5"), not the start of mathematics.
        value = UNESCAPED_DOLLAR.sub(r"\\$", value)
    try:
        walker = latexwalker.LatexWalker(value, latex_context=_walker_context)
        nodes = walker.get_latex_nodes()[0]
        return " ".join(_converter.nodelist_to_text(nodes).split())
    except latexwalker.LatexWalkerError as error:
        raise Unreadable(f"is not valid LaTeX ({error.msg})") from None


def read(text: str, filename: str) -> list[Entry]:
    try:
        # No middlewares: their errors would stop at the first odd value (a name in
        # BibLaTeX's extended form, an entry under a repeated key); values are read below.
        library = bibtexparser.parse_string(text, parse_stack=[])
    except Exception as error:  # the parser gives up on the whole file (its own bugs included)
        logger.warning("bibtexparser failed on %s: %r", filename, error)
        raise ImportRefused(filename, "this file cannot be read as BibTeX.") from None
    strings = dict(MONTH_MACROS)
    for block in library.strings:
        try:
            strings[block.key.lower()] = resolve(str(block.value), strings)
        except Unreadable:
            continue  # an entry that uses it says so
    raw_entries = []
    parents: dict[str, dict] = {}
    entries: list[Entry | tuple] = []
    for block in library.blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            # Two entries sharing a key are still two entries: match them by URL and DOI.
            block = block.ignore_error_block
        if isinstance(block, bibtexparser.model.Entry):
            raw_entries.append(block)
            entries.append(block)
            parents.setdefault(block.key.lower(), {})
        elif isinstance(block, bibtexparser.model.ParsingFailedBlock):
            entries.append(_failed(block))
    resolved: dict[int, tuple[dict, list[FieldError]]] = {}
    for block in raw_entries:
        fields, errors = _resolved_fields(block, strings)
        resolved[id(block)] = (fields, errors)
        if not parents[block.key.lower()]:
            parents[block.key.lower()] = {**fields, "__type__": block.entry_type.lower()}
    return [
        item if isinstance(item, Entry) else _guarded(item, *resolved[id(item)], parents)
        for item in entries
    ]


def resolve(value: str, strings: dict[str, str]) -> str:
    """A raw BibTeX value: "#"-joined pieces of {…}, "…", numbers and @string names."""
    pieces = []
    for piece in _split_top_level(value, "#"):
        piece = piece.strip()
        if len(piece) >= 2 and piece[0] + piece[-1] in ("{}", '""'):
            pieces.append(piece[1:-1])
        elif piece.isdigit():
            pieces.append(piece)
        elif piece.lower() in strings:
            pieces.append(strings[piece.lower()])
        elif piece:
            raise Unreadable(f"uses @string “{piece}”, which the file does not define")
    return "".join(pieces)


def _split_top_level(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside braces and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0 and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif char == separator and depth == 0 and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _resolved_fields(block, strings) -> tuple[dict[str, str], list[FieldError]]:
    fields, errors = {}, []
    for item in block.fields:
        key = item.key.strip().lower()
        try:
            fields[key] = resolve(str(item.value), strings)
        except Unreadable as error:
            errors.append(FieldError(key, f"{error}."))
    return fields, errors


def _where(entry_type: str, key: str, start_line: int | None) -> str:
    line = f"line {start_line + 1}" if start_line is not None else "unknown line"
    return f"@{entry_type}{{{key}}} ({line})" if key else f"entry at {line}"


def _failed(block) -> Entry:
    if isinstance(block, DuplicateFieldKeyBlock):
        broken = block.ignore_error_block
        entry = Entry(where=_where(broken.entry_type, broken.key, block.start_line))
        for key in sorted(block.duplicate_keys):
            entry.errors.append(FieldError(key, "appears twice in this entry."))
        return entry
    # The splitter says what it expected; its block runs to where it gave up.
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    reason = " ".join(reason.split()).rstrip(".") or "the entry cannot be read"
    raw = block.raw or ""
    match = re.match(r"\s*@(\w+)\s*\{\s*([^,\s=]*)", raw)
    start = block.start_line or 0
    where = _where(match[1].lower(), match[2], start) if match else _where("", "", start)
    entry = Entry(where=where)
    stopped = start + 1 + raw.count("\n")
    entry.errors.append(
        FieldError("", f"broken BibTeX: {reason} (reading stopped at line {stopped}).")
    )
    return entry


def _guarded(block, fields, errors, parents) -> Entry:
    """The entry, or, if reading it fails in a way nobody foresaw, a refusal that says where."""
    try:
        return _entry(block, fields, errors, parents)
    except Exception:
        logger.exception("Reading BibTeX entry %s failed", block.key)
        entry = Entry(where=_where(block.entry_type, block.key, block.start_line))
        entry.refuse(None, "this entry could not be read; check its fields.")
        return entry


def _inherit(fields: dict, parents: dict, errors: list[FieldError]) -> dict:
    """`fields` with those it lacks taken from its crossref parent (BibTeX and BibLaTeX)."""
    key = fields.get("crossref", "").strip().lower()
    if not key:
        return fields
    parent = parents.get(key)
    if not parent:
        errors.append(FieldError("crossref", f"names “{fields['crossref']}”, not in this file."))
        return fields
    inherited = {k: v for k, v in parent.items() if k not in NOT_INHERITED and k != "__type__"}
    if parent.get("title"):
        # The parent's title is the child's container: its book or proceedings.
        inherited.setdefault("booktitle", parent["title"])
        if parent["__type__"] in ("periodical",):
            inherited.setdefault("journaltitle", parent["title"])
    return {**inherited, **fields}


def _entry(block, fields: dict, errors: list[FieldError], parents: dict) -> Entry:
    errors = list(errors)
    fields = _inherit(fields, parents, errors)
    entry = Entry(
        where=_where(block.entry_type, block.key, block.start_line),
        labels={
            "title": "title",
            "url": "url",
            "doi": "doi",
            "authors": "author",
            "published_on": "date" if "date" in fields else "year",
            "accessed_on": "urldate",
            "language": "language" if "language" in fields else "langid",
            "notes": "note",
        },
    )
    entry.errors.extend(errors)

    def text(key: str) -> str:
        try:
            return latex_to_text(fields.get(key, ""))
        except Unreadable as error:
            entry.errors.append(FieldError(key, f"{error}."))
            return ""

    entry.title = text("title")
    url = fields.get("url", "")
    if not url:
        found = URL_MACRO.search(fields.get("howpublished", ""))
        url = found[1] if found else ""
    # URLs and DOIs are verbatim, not LaTeX ("%" is no comment there), but some writers
    # escape a few characters anyway: \\_ for _, \\% for %.
    entry.url = LATEX_ESCAPE.sub(r"\1", url).strip()
    entry.doi = LATEX_ESCAPE.sub(r"\1", fields.get("doi", "")).strip()
    identifiers = {"isbn": "isbn", "pmid": "pmid", "handle": "hdl"}
    eprint_type = (fields.get("eprinttype") or fields.get("archiveprefix") or "").strip().lower()
    if eprint_type in EPRINT_TYPES:
        identifiers[EPRINT_TYPES[eprint_type]] = "eprint"
    entry.take_identifiers(
        {
            key: LATEX_ESCAPE.sub(r"\1", fields[key]).strip()
            for key in identifiers.values()
            if key in fields
        },
        identifiers,
    )
    entry.language = text("language") or text("langid")
    note = text("note")
    entry.notes = [note] if note else []
    for number, name in enumerate(split_names(fields.get("author", "")), start=1):
        try:
            if written := latex_to_text(display_name(name)):
                entry.authors.append(written)
        except Unreadable as error:
            entry.errors.append(FieldError("author", f"name {number}, “{name}”, {error}."))
    # A conference paper's container is its proceedings, as CSL's container-title says.
    keys = PUBLISHER_FIELDS
    if block.entry_type.lower() in ("inproceedings", "conference"):
        keys = ("journaltitle", "journal", "booktitle", *PUBLISHER_FIELDS)
    entry.publisher_name = next((name for key in keys if (name := text(key))), "")
    entry.published = _published(entry, fields)
    if fields.get("urldate", "").strip():
        entry.accessed = entry.read_date("accessed_on", fields["urldate"], label="urldate")

    entry_type = block.entry_type.lower()
    if entry_type in REPORTS:
        entry.kind = kind_for_report(entry.url)
    elif entry_type == "article" and text("entrysubtype").lower() in NEWS_SUBTYPES:
        entry.kind = Kind.NEWS_ARTICLE
    else:
        entry.kind = KINDS.get(entry_type, Kind.OTHER)
    return entry.finish()


def split_names(value: str) -> list[str]:
    """The names of an author field, split at " and " outside braces."""
    names, depth, start, index = [], 0, 0, 0
    lowered = value.lower()
    while index < len(value):
        char = value[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0 and re.match(r"\sand\s", lowered[index : index + 5]):
            names.append(value[start:index])
            index += 4
            start = index
            continue
        index += 1
    names.append(value[start:])
    return [" ".join(name.split()) for name in names if name.strip()]


def display_name(name: str) -> str:
    """A BibTeX name in reading order: "van Gogh, Vincent" → "Vincent van Gogh".

    Forms: "First von Last", "von Last, First", "von Last, Jr, First", and BibLaTeX's
    "family=Gogh, given=Vincent, prefix=van, useprefix=true". Apostrophes stay where they
    are ("d'Jones"); braced groups ("{World Health Organization}") are one name.
    """
    parts = [part.strip() for part in _split_top_level(name, ",")]
    if len(parts) > 1 and all(re.match(r"[\w-]+\s*=", part) for part in parts if part):
        named = {}
        for part in parts:
            key, _, value = part.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] + value[-1] in ("{}", '""'):
                value = value[1:-1]
            named[key.strip().lower()] = value.strip()
        family = " ".join(filter(None, [named.get("prefix"), named.get("family")]))
        full = " ".join(filter(None, [named.get("given"), family]))
        return ", ".join(filter(None, [full, named.get("suffix")]))
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        last, first = parts
        return " ".join(filter(None, [first, last]))
    last, junior, first = parts[0], parts[1], ", ".join(parts[2:])
    return ", ".join(filter(None, [" ".join(filter(None, [first, last])), junior]))


def _published(entry: Entry, fields: dict) -> PartialDate | None:
    if fields.get("date", "").strip():
        return entry.read_date("published_on", fields["date"], label="date")
    try:
        year = latex_to_text(fields.get("year", ""))
    except Unreadable as error:
        entry.errors.append(FieldError("year", f"{error}."))
        return None
    if not year:
        return None
    month = fields.get("month", "").strip().rstrip(".")
    day = fields.get("day", "").strip()
    if suffixed := re.fullmatch(r"(\d{4})[a-z]", year):
        year = suffixed[1]  # "2020a": author-year styles' label for a second 2020 item
    if not re.search(r"\d", year):
        # "in press", "forthcoming", "n.d.": no date, said in the notes.
        entry.note_date("published_on", year, None)
        return None
    if not re.fullmatch(r"\d{1,4}", year):
        # "1829--1830", "circa 1850", "2011?": a range or qualified year, with a note.
        return entry.read_date("published_on", year, label="year")
    parts = [year]
    if month:
        parts.append(MONTH_NAMES.get(month.lower(), month))
        if day:
            parts.append(day)
    try:
        return PartialDate.from_parts(*parts)
    except ValueError as error:
        field = "year" if "year" in str(error) else "month" if "month" in str(error) else "day"
        entry.errors.append(FieldError(field, f"{error}."))
        return None
