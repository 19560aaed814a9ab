"""CSL-JSON, the format of citeproc, Zotero, Mendeley and pandoc: reading and writing.

A file is a JSON list of items. Read: title, URL, DOI, author (family/given or literal),
issued and accessed (date-parts, or an ISO/EDTF string such as "2020-03"), container-title
or publisher (the publisher), language, type (→ kind), note (→ internal notes).
Written: the same, plus what CSL has no field for (our exact kind, URL status, archive URL
and date, internal notes, the publisher's domain) under "custom": {"factually": {...}},
which CSL-JSON keeps for such data; reading it back recreates the same record.
"""

from __future__ import annotations

import json
import logging

from sources.interchange.common import (
    Entry,
    FieldError,
    ImportRefused,
    PartialDate,
    choice_value,
    kind_for_report,
    plain_title,
    season_name,
    split_notes,
    stored_date,
)
from sources.models import Source

logger = logging.getLogger(__name__)
Kind = Source.Kind
# CSL type → kind; "report" depends on the domain (kind_for_report), the rest → other.
KINDS = {
    "article-newspaper": Kind.NEWS_ARTICLE,
    "article-magazine": Kind.NEWS_ARTICLE,
    "article-journal": Kind.ACADEMIC_PAPER,
    "article": Kind.ACADEMIC_PAPER,
    "paper-conference": Kind.ACADEMIC_PAPER,
    "thesis": Kind.ACADEMIC_PAPER,
    "review": Kind.ACADEMIC_PAPER,
    "book": Kind.BOOK,
    "chapter": Kind.BOOK,
    "classic": Kind.BOOK,
    "dataset": Kind.DATASET,
    "webpage": Kind.OTHER,
    "post": Kind.OTHER,
    "post-weblog": Kind.OTHER,
    "motion_picture": Kind.AUDIO_VIDEO,
    "broadcast": Kind.AUDIO_VIDEO,
    "song": Kind.AUDIO_VIDEO,
    "speech": Kind.AUDIO_VIDEO,
    "legal_case": Kind.PRIMARY_DOCUMENT,
    "legislation": Kind.PRIMARY_DOCUMENT,
    "bill": Kind.PRIMARY_DOCUMENT,
    "regulation": Kind.PRIMARY_DOCUMENT,
    "treaty": Kind.PRIMARY_DOCUMENT,
    "hearing": Kind.PRIMARY_DOCUMENT,
    "interview": Kind.PRIMARY_DOCUMENT,
    "letter": Kind.PRIMARY_DOCUMENT,
    "personal_communication": Kind.PRIMARY_DOCUMENT,
    "manuscript": Kind.PRIMARY_DOCUMENT,
    "document": Kind.PRIMARY_DOCUMENT,
    "entry": Kind.REFERENCE_WORK,
    "entry-dictionary": Kind.REFERENCE_WORK,
    "entry-encyclopedia": Kind.REFERENCE_WORK,
}
# Kind → CSL type, for writing.
TYPES = {
    Kind.NEWS_ARTICLE: "article-newspaper",
    Kind.ACADEMIC_PAPER: "article-journal",
    Kind.BOOK: "book",
    Kind.GOVERNMENT_DOCUMENT: "report",
    Kind.NGO_REPORT: "report",
    Kind.PRIMARY_DOCUMENT: "document",
    Kind.DATASET: "dataset",
    Kind.AUDIO_VIDEO: "motion_picture",
    Kind.REFERENCE_WORK: "entry-encyclopedia",
    Kind.OTHER: "webpage",
}
# Kinds whose publisher is the container (the newspaper, journal, encyclopedia, website).
CONTAINED = {Kind.NEWS_ARTICLE, Kind.ACADEMIC_PAPER, Kind.REFERENCE_WORK, Kind.OTHER}
CUSTOM = "factually"
LABELS = {
    "title": "title",
    "url": "URL",
    "doi": "DOI",
    "authors": "author",
    "published_on": "issued",
    "accessed_on": "accessed",
    "language": "language",
    "kind": "type",
    "notes": "note",
    "archive_url": "custom.factually.archive_url",
    "archive_date": "custom.factually.archive_date",
    "url_status": "custom.factually.url_status",
}
# What CSL has no variable for, read from and written to "custom": {"factually": {…}}.
IDENTIFIERS_CUSTOM = {"arxiv_id": "arxiv_id", "handle": "handle", "where_to_find": "where_to_find"}
MEDIA_TYPE = "application/vnd.citationstyles.csl+json"


def read(text: str, filename: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportRefused(
            filename,
            f"not valid JSON ({error.msg}).",
            where=f"line {error.lineno}, column {error.colno}",
        ) from None
    except RecursionError:
        raise ImportRefused(
            filename, "not CSL-JSON: its lists and objects nest too deep."
        ) from None
    if not isinstance(data, list):
        raise ImportRefused(
            filename,
            f"CSL-JSON is a list of items, [{{…}}, …]; this file holds {_json_kind(data)}.",
        )
    return [_guarded(item, index) for index, item in enumerate(data, start=1)]


def _guarded(item: object, index: int) -> Entry:
    """The entry, or, if reading it fails in a way nobody foresaw, a refusal that says where."""
    try:
        return _entry(item, index)
    except Exception:
        logger.exception("Reading CSL-JSON item %s failed", index)
        entry = Entry(where=f"entry {index}", labels=LABELS)
        entry.refuse(None, "this item could not be read; check its fields against CSL-JSON.")
        return entry


def _entry(item: object, index: int) -> Entry:
    entry = Entry(where=f"entry {index}", labels=LABELS)
    if not isinstance(item, dict):
        entry.refuse(None, f"is {_json_kind(item)}, not an item ({{…}}).")
        return entry
    if isinstance(item.get("id"), str | int) and not isinstance(item.get("id"), bool):
        entry.where += f" (id “{item['id']}”)"
    custom = item.get("custom", {}).get(CUSTOM, {}) if isinstance(item.get("custom"), dict) else {}
    if not isinstance(custom, dict):
        entry.refuse(None, f"field “custom.{CUSTOM}” is {_json_kind(custom)}, not an object.")
        custom = {}

    entry.title = plain_title(_text(entry, item, "title"))
    entry.url = _text(entry, item, "URL")
    entry.doi = _text(entry, item, "DOI")
    entry.take_identifiers(item, {"isbn": "ISBN", "pmid": "PMID"})
    entry.take_identifiers(custom, IDENTIFIERS_CUSTOM)
    entry.language = _text(entry, item, "language")
    entry.notes = split_notes(_text(entry, custom, "notes", "custom.factually.notes"))
    entry.notes += [line for line in split_notes(_text(entry, item, "note")) if line]
    entry.authors = _names(entry, item.get("author"))
    entry.published = _date(entry, item, "issued")
    entry.accessed = _date(entry, item, "accessed")

    container = plain_title(_text(entry, item, "container-title"))
    publisher_name = _text(entry, item, "publisher")
    csl_type = _text(entry, item, "type")
    entry.kind = KINDS.get(csl_type, Kind.OTHER)
    if csl_type == "report":
        entry.kind = kind_for_report(entry.url)
    # An article's publisher is its journal or newspaper; a chapter's container is its book.
    if entry.kind in CONTAINED and csl_type not in ("chapter", "entry"):
        entry.publisher_name = container or publisher_name
    else:
        entry.publisher_name = publisher_name or container
    publisher = custom.get("publisher")
    if isinstance(publisher, dict):
        entry.publisher_name = _text(entry, publisher, "name", "custom.factually.publisher")
        entry.publisher_domain = _text(entry, publisher, "domain", "custom.factually.publisher")
    kind = _text(entry, custom, "kind", "custom.factually.kind")
    if kind and choice_value(Kind.choices, kind):
        entry.kind = choice_value(Kind.choices, kind)
    elif kind:
        entry.errors.append(FieldError("custom.factually.kind", f"“{kind}” is not a kind."))
    entry.archive_url = _text(entry, custom, "archive_url", "custom.factually.archive_url")
    archive_date = _text(entry, custom, "archive_date", "custom.factually.archive_date")
    if archive_date:
        try:
            entry.archive_date = PartialDate.from_iso(archive_date)
        except ValueError as error:
            entry.refuse("archive_date", f"{error}.")
    url_status = _text(entry, custom, "url_status", "custom.factually.url_status")
    if url_status:
        entry.url_status = choice_value(Source.UrlStatus.choices, url_status) or url_status
        # An unknown status is refused by the model's own check, under LABELS["url_status"].
    return entry.finish()


def _text(entry: Entry, data: dict, key: str, label: str = "") -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = value[0]  # some writers give titles as lists; the first is the title
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        entry.errors.append(FieldError(label or key, f"is {_json_kind(value)}, not text."))
        return ""
    return value.strip()


def _names(entry: Entry, names) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list):
        entry.refuse("authors", f"is {_json_kind(names)}, not a list of names.")
        return []
    authors = []
    for number, name in enumerate(names, start=1):
        if not isinstance(name, dict):
            entry.refuse("authors", f"name {number} is {_json_kind(name)}, not a name ({{…}}).")
            continue
        parts = {
            key: str(name[key]).strip()
            for key in (
                "literal",
                "given",
                "dropping-particle",
                "non-dropping-particle",
                "family",
                "suffix",
            )
            if isinstance(name.get(key), str | int) and str(name[key]).strip()
        }
        if "literal" in parts:
            authors.append(parts["literal"])
            continue
        full = " ".join(
            parts[key]
            for key in ("given", "dropping-particle", "non-dropping-particle", "family")
            if key in parts
        )
        if "suffix" in parts:
            full += (", " if name.get("comma-suffix") else " ") + parts["suffix"]
        if not full:
            entry.refuse("authors", f"name {number} has no family, given or literal name.")
            continue
        authors.append(full)
    return authors


MODEL_DATES = {"issued": "published_on", "accessed": "accessed_on"}


def _date(entry: Entry, item: dict, key: str) -> PartialDate | None:
    """A CSL date: date-parts (a range has two), a season, or `raw`, `edtf`, `literal` text.

    What the library cannot hold (the end of a range, a season, "circa", a literal such as
    "(in press)") goes into the notes, with the first date kept.
    """
    value = item.get(key)
    model_field = MODEL_DATES[key]
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        return entry.read_date(model_field, value, label=key)
    try:
        if not isinstance(value, dict):
            raise ValueError(f"is {_json_kind(value)}, not a date")
        parts = value.get("date-parts")
        if parts is not None and not (
            isinstance(parts, list) and all(isinstance(p, list) for p in parts)
        ):
            raise ValueError("date-parts must be a list of lists, e.g. [[2020, 3, 5]]")
        parts = [[p for p in end if p not in ("", None)] for end in parts or []]
        parts = [end for end in parts if end]
        if not parts:
            # Empty date-parts beside a literal ("(in press)") or raw text: the text says it.
            return _text_date(entry, value, key, model_field)
        if any(not 1 <= len(end) <= 3 for end in parts):
            raise ValueError("date-parts must hold a year, a month and a day at most")
        first = parts[0]
        said = []
        season = season_name(_number(first[1])) if len(first) > 1 else ""
        if season:
            first = first[:1]
        season = season or _season(value.get("season"))
        if season:
            said.append(f"{season} {first[0]}")
        date = PartialDate.from_parts(*first)
        if len(parts) > 1:
            said = ["/".join(_written(end) for end in parts[:2])]
        if value.get("circa") not in (None, False, 0, "", "0", "false"):
            said = [f"circa {' '.join(said) or _written(parts[0])}"]
        if said:
            entry.note_date(model_field, " ".join(said), date)
        return date
    except ValueError as error:
        entry.errors.append(FieldError(key, f"{error}."))
        return None


def _text_date(entry: Entry, value: dict, key: str, model_field: str) -> PartialDate | None:
    for alternative in ("raw", "edtf"):
        if isinstance(value.get(alternative), str) and value[alternative].strip():
            return entry.read_date(model_field, value[alternative], label=f"{key}.{alternative}")
    literal = value.get("literal")
    if isinstance(literal, str) and literal.strip():
        # A literal is what to print, not a date: try it, else keep it word for word.
        try:
            date, _ = PartialDate.from_text(literal)
        except ValueError:
            date = None
        entry.note_date(model_field, " ".join(literal.split()), date)
        return date
    raise ValueError("has no date-parts")


def _number(part):
    if isinstance(part, str) and part.strip().isdigit():
        return int(part)
    return part


def _season(season) -> str:
    season = _number(season)
    if isinstance(season, int):
        return season_name(season) or season_name(season + 12)
    return season.strip().title() if isinstance(season, str) else ""


def _written(parts: list) -> str:
    return "-".join(str(part) for part in parts)


def _json_kind(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return "a number"
    return "text"


# Writing


def as_item(source: Source) -> dict:
    """A source as a CSL-JSON item that `read` turns back into the same record."""
    result = {
        "id": f"source-{source.pk}",
        "type": TYPES.get(source.kind, "webpage"),
        "title": source.title,
    }
    if source.url:
        result["URL"] = source.url
    for field_name, key in (("doi", "DOI"), ("isbn", "ISBN"), ("pmid", "PMID")):
        if getattr(source, field_name):
            result[key] = getattr(source, field_name)
    if source.author_list:
        # Stored as written, one per line: we do not guess which part is the family name.
        result["author"] = [{"literal": name} for name in source.author_list]
    for field_name, key in (("published_on", "issued"), ("accessed_on", "accessed")):
        partial = stored_date(source, field_name)
        if partial:
            result[key] = {"date-parts": [partial.parts]}
    if source.publisher:
        result["container-title" if source.kind in CONTAINED else "publisher"] = (
            source.publisher.name
        )
    if source.language:
        result["language"] = source.language
    custom = {"kind": source.kind}
    custom.update(
        {k: getattr(source, f) for f, k in IDENTIFIERS_CUSTOM.items() if getattr(source, f)}
    )
    if source.publisher:
        custom["publisher"] = {"name": source.publisher.name, "domain": source.publisher.domain}
    if source.url_status != Source.UrlStatus.LIVE:
        custom["url_status"] = source.url_status
    if source.archive_url:
        custom["archive_url"] = source.archive_url
    archive_date = stored_date(source, "archive_date")
    if archive_date:
        custom["archive_date"] = archive_date.isoformat()
    if source.notes.strip():
        custom["notes"] = source.notes
    result["custom"] = {CUSTOM: custom}
    return result


def dumps(sources) -> str:
    """A CSL-JSON file of `sources` (any iterable; pass select_related("publisher"))."""
    return json.dumps([as_item(source) for source in sources], ensure_ascii=False, indent=2) + "\n"
