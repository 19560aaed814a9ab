"""CSV files with a header line, as spreadsheets save them.

Columns (any order; title is required, the others may be left out):
title,url,publisher,authors,published_on,accessed_on,language,kind,doi,isbn,pmid,arxiv_id,
handle,where_to_find,archive_url,archive_date
Authors are separated by ";". Dates are YYYY-MM-DD (or YYYY-MM, YYYY: see common.py). The
kind is a value or label of Source.Kind ("news_article" or "News article"); the publisher
is a name, matched as for the other formats. Problems are reported by line number, the
header being line 1.
"""

from __future__ import annotations

import csv
import io

from sources.interchange.common import (
    Entry,
    ImportRefused,
    PartialDate,
    choice_value,
)
from sources.models import Source

COLUMNS = (
    "title",
    "url",
    "publisher",
    "authors",
    "published_on",
    "accessed_on",
    "language",
    "kind",
    "doi",
    "isbn",
    "pmid",
    "arxiv_id",
    "handle",
    "where_to_find",
    "archive_url",
    "archive_date",
)
REQUIRED = ("title",)
DATES = {"published_on": "published", "accessed_on": "accessed", "archive_date": "archive_date"}


def read(text: str, filename: str) -> list[Entry]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRefused(filename, "the file is empty: it needs a header line.")
        columns = [name.strip().lower() for name in header]
        _check_header(columns, filename)
        entries = []
        line = reader.line_num + 1
        for row in reader:
            if any(value.strip() for value in row):
                entries.append(_entry(row, columns, line))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportRefused(
            filename, f"not valid CSV ({error}).", where=f"line {reader.line_num}"
        ) from None
    return entries


def _check_header(columns: list[str], filename: str) -> None:
    where = "line 1 (the header)"
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportRefused(
            filename,
            f"the header has no column {_names(missing)}. Columns: {','.join(COLUMNS)} "
            f"({' and '.join(REQUIRED)} required).",
            where=where,
        )
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise ImportRefused(
            filename,
            f"unknown column {_names(unknown)}. Columns: {','.join(COLUMNS)}.",
            where=where,
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ImportRefused(filename, f"column {_names(repeated)} appears twice.", where=where)


def _names(names) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _entry(row: list[str], columns: list[str], line: int) -> Entry:
    entry = Entry(where=f"line {line}", labels={"authors": "authors"})
    if len(row) > len(columns):
        entry.refuse(None, f"has {len(row)} values but the header has {len(columns)} columns.")
        return entry
    values = dict(zip(columns, (value.strip() for value in row), strict=False))
    entry.title = values.get("title", "")
    entry.url = values.get("url", "")
    for name in ("doi", "isbn", "pmid", "arxiv_id", "handle", "where_to_find"):
        setattr(entry, name, values.get(name, ""))
    entry.publisher_name = values.get("publisher", "")
    entry.authors = [name.strip() for name in values.get("authors", "").split(";") if name.strip()]
    entry.language = values.get("language", "")
    entry.archive_url = values.get("archive_url", "")
    for column, attribute in DATES.items():
        if values.get(column):
            try:
                setattr(entry, attribute, PartialDate.from_iso(values[column]))
            except ValueError as error:
                entry.refuse(column, f"{error}.")
    if values.get("kind"):
        kind = choice_value(Source.Kind.choices, values["kind"])
        if kind is None:
            entry.refuse(
                "kind",
                f"“{values['kind']}” is not a kind; use one of "
                + ", ".join(value for value, _ in Source.Kind.choices)
                + ".",
            )
        else:
            entry.kind = kind
    return entry.finish()
