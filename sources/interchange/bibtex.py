"""BibTeX and BibLaTeX files, read with bibtexparser (v2).

Read: title, url (or a \\url{…} in howpublished), doi, author ("Family, Given and …"),
date (BibLaTeX, "2020-03-05", "2020-03" or "2020") or year/month/day, urldate (the access
date), journal/journaltitle, publisher, institution, organization (the publisher),
language/langid, note (→ internal notes), and the entry type (→ kind). LaTeX accents and
braces are decoded: {\\'e} becomes é. An entry bibtexparser cannot parse is refused with its
line and the parser's reason.
"""

from __future__ import annotations

import re

import bibtexparser
from bibtexparser.middlewares import (
    NormalizeFieldKeys,
    SeparateCoAuthors,
    SplitNameParts,
    default_parse_stack,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    MiddlewareErrorBlock,
)
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from sources.interchange.common import (
    Entry,
    FieldError,
    ImportRefused,
    PartialDate,
    kind_for_report,
)
from sources.models import Source

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
PUBLISHER_FIELDS = ("journaltitle", "journal", "publisher", "institution", "organization")
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
# BibLaTeX eprinttype (or BibTeX archiveprefix) → the identifier its eprint field holds.
EPRINT_TYPES = {"arxiv": "arxiv_id", "hdl": "handle", "handle": "handle", "pubmed": "pmid"}
URL_MACRO = re.compile(r"\\url\{([^}]*)\}")
LATEX_ESCAPE = re.compile(r"\\([_%&#$~])")

_context = get_default_latex_context_db()
# \url{…} reads as its address, not "<address>".
_context.add_context_category("factually", prepend=True, macros=[MacroTextSpec("url", "%s")])
_decoder = LatexNodes2Text(latex_context=_context, math_mode="verbatim")


def read(text: str, filename: str) -> list[Entry]:
    try:
        library = bibtexparser.parse_string(
            text,
            parse_stack=[
                *default_parse_stack(),
                NormalizeFieldKeys(),
                SeparateCoAuthors(name_fields=("author",)),
                SplitNameParts(name_fields=("author",)),
            ],
        )
    except Exception as error:  # the parser gives up on the whole file (its own bugs included)
        raise ImportRefused(filename, f"bibtexparser cannot read this file ({error}).") from None
    entries = []
    for block in library.blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            # Two entries sharing a key are still two entries: match them by URL and DOI.
            block = block.ignore_error_block
        if isinstance(block, bibtexparser.model.Entry):
            entries.append(_entry(block))
        elif isinstance(block, bibtexparser.model.ParsingFailedBlock):
            entries.append(_failed(block))
    return entries


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
    if isinstance(block, MiddlewareErrorBlock) and isinstance(
        block.ignore_error_block, bibtexparser.model.Entry
    ):
        broken = block.ignore_error_block
        entry = Entry(where=_where(broken.entry_type, broken.key, block.start_line))
        entry.errors.append(FieldError("author", f"cannot be read: {block.error}."))
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


def _entry(block) -> Entry:
    entry = Entry(
        where=_where(block.entry_type, block.key, block.start_line),
        labels={
            "title": "title",
            "url": "url",
            "doi": "doi",
            "authors": "author",
            "published_on": "date" if "date" in block else "year",
            "accessed_on": "urldate",
            "language": "language" if "language" in block else "langid",
            "notes": "note",
        },
    )
    fields = {key: value for key, value in block.items() if key not in ("ENTRYTYPE", "ID")}

    def decoded(key: str, value) -> str:
        try:
            return " ".join(_decoder.latex_to_text(str(value)).split())
        except Exception as error:  # pylatexenc raises its own and Python's errors
            entry.errors.append(FieldError(key, f"cannot be decoded from LaTeX: {error}."))
            return ""

    def text(key: str) -> str:
        value = fields.get(key)
        return "" if value is None else decoded(key, value)

    entry.title = text("title")
    url = fields.get("url", "")
    if not url:
        found = URL_MACRO.search(str(fields.get("howpublished", "")))
        url = found[1] if found else ""
    # URLs and DOIs are verbatim, not LaTeX ("%" is no comment there), but some writers
    # escape a few characters anyway: \_ for _, \% for %.
    entry.url = LATEX_ESCAPE.sub(r"\1", str(url)).strip()
    entry.doi = LATEX_ESCAPE.sub(r"\1", str(fields.get("doi", ""))).strip()
    identifiers = {"isbn": "isbn", "pmid": "pmid", "handle": "hdl"}
    eprint_type = str(fields.get("eprinttype") or fields.get("archiveprefix") or "").lower()
    if eprint_type.strip() in EPRINT_TYPES:
        identifiers[EPRINT_TYPES[eprint_type.strip()]] = "eprint"
    entry.take_identifiers(
        {
            key: LATEX_ESCAPE.sub(r"\1", str(fields[key]))
            for key in identifiers.values()
            if key in fields
        },
        identifiers,
    )
    entry.language = text("language") or text("langid")
    note = text("note")
    entry.notes = [note] if note else []
    entry.authors = [
        name
        for parts in fields.get("author", [])
        if (name := decoded("author", parts.merge_first_name_first))
    ]
    entry.publisher_name = next((name for key in PUBLISHER_FIELDS if (name := text(key))), "")
    entry.published = _published(entry, fields)
    entry.accessed = _iso_date(entry, fields, "urldate")

    entry_type = block.entry_type.lower()
    if entry_type in REPORTS:
        entry.kind = kind_for_report(entry.url)
    elif entry_type == "article" and text("entrysubtype").lower() in NEWS_SUBTYPES:
        entry.kind = Kind.NEWS_ARTICLE
    else:
        entry.kind = KINDS.get(entry_type, Kind.OTHER)
    return entry.finish()


def _published(entry: Entry, fields: dict) -> PartialDate | None:
    if fields.get("date"):
        return _iso_date(entry, fields, "date")
    year = str(fields.get("year", "")).strip()
    if not year:
        return None
    month = str(fields.get("month", "")).strip().rstrip(".").lower()
    day = str(fields.get("day", "")).strip()
    parts = [year]
    if month:
        parts.append(MONTHS.get(month, month))
        if day:
            parts.append(day)
    try:
        return PartialDate.from_parts(*parts)
    except ValueError as error:
        field = "year" if "year" in str(error) else "month" if "month" in str(error) else "day"
        entry.errors.append(FieldError(field, f"{error}."))
        return None


def _iso_date(entry: Entry, fields: dict, key: str) -> PartialDate | None:
    value = str(fields.get(key, "")).strip()
    if not value:
        return None
    try:
        # A BibLaTeX range, "2020-03-01/2020-03-05", starts where the source was published.
        return PartialDate.from_iso(value.split("/")[0])
    except ValueError as error:
        entry.errors.append(FieldError(key, f"{error}."))
        return None
