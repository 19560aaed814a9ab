"""Filling the empty fields of a matched record from a richer entry of an imported file.

A file often knows more of a source than the library's record does (a link pasted while
writing has no authors, journal or date). The preview lists, for each matched record, the
empty fields the entry could fill; the curator ticks the rows to fill. A field that holds
anything is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sources.interchange.common import DATE_FIELDS, Entry
from sources.models import Source

LABELS = {
    "authors": "authors",
    "publisher": "publisher",
    "published_on": "publication date",
    "language": "language",
}


@dataclass(frozen=True)
class Fill:
    """One empty field of a record and what the entry would put there."""

    field: str
    value: str  # as the preview shows it

    @property
    def label(self) -> str:
        return LABELS[self.field]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"


def fills_for(entry: Entry, source: Source, publisher) -> list[Fill]:
    """The empty fields of `source` that `entry` (and its resolved `publisher`) can fill."""
    fills = []
    if not source.authors.strip() and entry.authors:
        fills.append(Fill("authors", "; ".join(entry.authors)))
    if source.publisher_id is None and publisher is not None:
        fills.append(Fill("publisher", str(publisher)))
    if source.published_on is None and entry.published:
        fills.append(Fill("published_on", entry.published.isoformat()))
    if not source.language.strip() and entry.language:
        fills.append(Fill("language", entry.language))
    return fills


def fill(source: Source, entry: Entry, fills: list[Fill], publisher) -> list[str]:
    """Fill `source`'s empty fields as planned (a publisher already saved); the labels filled.

    Re-checks each field, so a record a curator completed meanwhile is left as it is.
    """
    done = []
    notes = [line for line in source.notes.splitlines() if line.strip()]
    for planned in fills:
        if planned.field == "authors" and not source.authors.strip():
            source.authors = "\n".join(entry.authors)
        elif planned.field == "publisher" and source.publisher_id is None and publisher:
            source.publisher = publisher
        elif planned.field == "published_on" and source.published_on is None:
            source.published_on = entry.published.value
            # The notes say what the file says of the date beyond the day kept.
            label = DATE_FIELDS["published_on"]
            notes += [line for line in entry.notes if line.startswith(f"{label} date ")]
        elif planned.field == "language" and not source.language.strip():
            source.language = entry.language
        else:
            continue
        done.append(planned.label)
    if done:
        source.notes = "\n".join(notes)
        source.save()
    return done
