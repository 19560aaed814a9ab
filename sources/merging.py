"""Merging duplicate sources: every citation moves to the kept record, the other redirects.

Reached through the reverse relations only: sources never import reports. Cached public
pages stop showing either source once the merge commits: reports/caching.py listens for the
saves and deletions of sources. The curator's form: sources/forms.py.
"""

from __future__ import annotations

import json

from django.contrib.admin.models import CHANGE, LogEntry
from django.core import serializers
from django.db import transaction

from sources.models import Source, SourceMerge

KEPT = "kept"
DUPLICATE = "duplicate"

# What a curator may take from either record, in the order the merge page shows them.
MERGED_FIELDS = (
    "title",
    "url",
    "publisher",
    "authors",
    "kind",
    "published_on",
    "accessed_on",
    "language",
    "where_to_find",
    "doi",
    "isbn",
    "pmid",
    "arxiv_id",
    "handle",
    "archive_url",
    "archive_date",
    "notes",
)
# These describe the URL they belong to (its status, its last checks), so they travel with it.
COMPANIONS = {
    "url": (
        "url_status",
        "link_checked_at",
        "link_status_code",
        "link_final_url",
        "link_error",
        "link_failures",
    ),
    "archive_url": ("archive_checked_at", "archive_status_code", "archive_error"),
}


class MergeRefused(Exception):
    """The merge cannot be made; the message says why."""


def richer(field: str, kept: Source, duplicate: Source) -> str:
    """KEPT or DUPLICATE: whose value of `field` says more. Non-empty beats empty, a longer
    text beats a shorter one, more authors beat fewer; on a tie the kept value stays."""
    if field == "authors":
        return DUPLICATE if len(duplicate.author_list) > len(kept.author_list) else KEPT
    model_field = Source._meta.get_field(field)
    ours, theirs = (getattr(s, model_field.attname) for s in (kept, duplicate))
    if _is_empty(model_field, theirs):
        return KEPT
    if _is_empty(model_field, ours):
        return DUPLICATE
    if isinstance(ours, str) and not model_field.choices and len(theirs) > len(ours):
        return DUPLICATE
    return KEPT


def preselected(field: str, kept: Source, duplicate: Source) -> str:
    """KEPT or DUPLICATE: the side the merge form offers first. The record cited by more
    references (its values are what readers have seen), unless its value is empty; when
    both are cited alike, the richer value. Reads `reference_count` where annotated."""
    counts = [getattr(source, "reference_count", 0) for source in (kept, duplicate)]
    if counts[0] == counts[1]:
        return richer(field, kept, duplicate)
    cited, other = (KEPT, DUPLICATE) if counts[0] > counts[1] else (DUPLICATE, KEPT)
    model_field = Source._meta.get_field(field)
    value = getattr(kept if cited == KEPT else duplicate, model_field.attname)
    if field == "authors" and not value.strip() or _is_empty(model_field, value):
        return other
    return cited


def describe(source: Source, source_id: int | None = None) -> str:
    """A source as a message names it, told apart from a twin of the same title: “title”
    (ID n, its URL or first identifier)."""
    found = source.url or next(
        (f"{label} {value}" for label, value, _ in source.identifier_links), ""
    )
    details = ", ".join(part for part in (f"ID {source_id or source.pk}", found) if part)
    return f"“{source.title}” ({details})"


def _is_empty(model_field, value) -> bool:
    # A choice left at its default ("Other") says nothing either.
    return value in (None, "") or bool(model_field.choices and value == model_field.default)


def differing_fields(kept: Source, duplicate: Source) -> list[str]:
    """The merged fields whose values differ between the two sources."""
    return [
        field
        for field in MERGED_FIELDS
        if getattr(kept, Source._meta.get_field(field).attname)
        != getattr(duplicate, Source._meta.get_field(field).attname)
    ]


def reports_citing_both(kept: Source, duplicate: Source) -> list:
    """Reports that cite both sources: after the merge they cite the kept one twice."""
    Reference = Source._meta.get_field("references").related_model
    Report = Reference._meta.get_field("report").related_model
    return list(
        Report.objects.filter(references__source=kept)
        .filter(references__source=duplicate)
        .distinct()
        .order_by("pk")
    )


@transaction.atomic
def merge(kept: Source, duplicate: Source, *, by, choices: dict | None = None) -> SourceMerge:
    """Move every reference from `duplicate` to `kept`, keep the richer value of each field
    (or the curator's `choices`: field → KEPT/DUPLICATE), record the merge, delete `duplicate`.

    The returned record's `reports_citing_both` lists reports that now cite `kept` twice.
    """
    choices = choices or {}
    unknown = {f for f in choices if f not in MERGED_FIELDS} | {
        side for side in choices.values() if side not in (KEPT, DUPLICATE)
    }
    if unknown:
        raise MergeRefused(f"Unknown merge choices: {', '.join(sorted(map(str, unknown)))}.")
    if kept.pk == duplicate.pk:
        raise MergeRefused("A source cannot be merged into itself.")
    # Locked in ID order, so two merges of the same pair cannot deadlock.
    locked = {
        s.pk: s
        for s in Source.objects.select_for_update()
        .filter(pk__in=[kept.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) < 2:
        raise MergeRefused("One of the sources no longer exists: was it merged already?")
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]

    merged_data = _as_json(duplicate)
    sides = {field: choices.get(field) or richer(field, kept, duplicate) for field in MERGED_FIELDS}
    citing_both = reports_citing_both(kept, duplicate)
    moved = duplicate.references.update(source=kept)
    # Published versions list what they cite: the kept source now stands for both.
    cited = Source.cited_in_versions.through.objects
    cited.filter(
        source=duplicate,
        publishedversion_id__in=cited.filter(source=kept).values("publishedversion_id"),
    ).delete()
    cited.filter(source=duplicate).update(source=kept)
    # Links that led to the duplicate must now lead to the kept source, not die with it.
    SourceMerge.objects.filter(kept=duplicate).update(kept=kept)
    merged_id = duplicate.pk
    duplicate.delete()  # first: it frees the URL and DOI the kept source may take over

    for field in MERGED_FIELDS:
        if sides[field] == DUPLICATE:
            for name in (field, *COMPANIONS.get(field, ())):
                attname = Source._meta.get_field(name).attname
                setattr(kept, attname, getattr(duplicate, attname))
    # Demo cleanup deletes demo sources: real citations must not land in one.
    kept.is_demo = kept.is_demo and duplicate.is_demo
    kept.save()

    record = SourceMerge.objects.create(
        kept=kept,
        merged_id=merged_id,
        merged_title=duplicate.title,
        merged_url=duplicate.url,
        merged_data=merged_data,
        references_moved=moved,
        by=by,
    )
    if by is not None:
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[kept],
            action_flag=CHANGE,
            change_message=f"Merged “{duplicate.title}” (ID {merged_id}) into this source; "
            f"{moved} reference(s) moved.",
            single_object=True,
        )
    record.reports_citing_both = citing_both
    return record


def _as_json(source: Source) -> dict:
    """Every field of `source`, as Django's JSON serialiser writes it (dates as ISO text)."""
    serialised = json.loads(serializers.serialize("json", [source]))[0]
    return {"id": serialised["pk"], **serialised["fields"]}
