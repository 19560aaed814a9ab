"""Importing sources from CSL-JSON, BibTeX and CSV files, and exporting them as CSL-JSON.

One path for the admin and `manage.py import_sources`: `decode` the bytes, `read` the
entries in the file's format, `build_plan` (nothing saved: each entry is to be created,
matched to an existing record, or refused with its field), then `ImportPlan.apply` saves the
whole file in one transaction, or nothing if any entry is refused.
"""

from __future__ import annotations

from pathlib import PurePath

from sources.interchange import bibtex, csl, csvfile
from sources.interchange.common import Entry, ImportRefused
from sources.interchange.plan import Action, ImportPlan, PlannedEntry, build_plan

__all__ = [
    "FORMATS",
    "Action",
    "Entry",
    "ImportPlan",
    "ImportRefused",
    "PlannedEntry",
    "build_plan",
    "decode",
    "format_for",
    "plan_file",
    "read",
]

CSL, BIBTEX, CSV = "csl", "bibtex", "csv"
FORMATS = {CSL: "CSL-JSON", BIBTEX: "BibTeX", CSV: "CSV"}
READERS = {CSL: csl.read, BIBTEX: bibtex.read, CSV: csvfile.read}
EXTENSIONS = {".json": CSL, ".bib": BIBTEX, ".csv": CSV}


def format_for(filename: str, chosen: str = "") -> str:
    """The format `chosen`, or else the one the file's extension says."""
    if chosen:
        if chosen not in FORMATS:
            raise ImportRefused(filename, f"unknown format “{chosen}”.")
        return chosen
    extension = PurePath(filename).suffix.lower()
    if extension not in EXTENSIONS:
        known = ", ".join(f"{ext} ({FORMATS[fmt]})" for ext, fmt in EXTENSIONS.items())
        raise ImportRefused(
            filename, f"cannot tell the format from the file name: name it {known}, or say which."
        )
    return EXTENSIONS[extension]


def decode(data: bytes, filename: str) -> str:
    """UTF-8 text (a byte-order mark, as spreadsheets write, is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(filename, "not UTF-8 text.", where=f"line {line}") from None


def read(text: str, format: str, filename: str) -> list[Entry]:
    """The entries of `text`; raises ImportRefused if the file as a whole cannot be read."""
    return READERS[format](text, filename)


def plan_file(text: str, format: str, filename: str, **options) -> ImportPlan:
    """Read `text` and plan its import, saving nothing (options: see `build_plan`)."""
    return build_plan(read(text, format, filename), filename=filename, format=format, **options)
