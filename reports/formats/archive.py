"""The whole newsroom in one portable JSON file: the archive format ``factually.archive/1``.

`export_archive` writes every report, every source and publisher, the verdicts and the
topics; `import_archive` restores such an archive into an empty database (freshly
migrated), in one transaction, keeping every ID so that links such as ``/sources/<id>/``
and the source IDs frozen in published versions keep working. The format is documented
in ``docs/archive-format.md``; a change that an older reader would misread gets a new
version (``factually.archive/2``).

What is in it, each object with its ID and every field of its model:

- ``verdicts`` and ``topics``;
- ``publishers``, each with its ``other_domains``;
- ``sources``, each naming its publisher by ID, with its internal notes and link checks;
- ``source_merges``: the records of merged duplicates, so their old addresses redirect;
- ``reports``: the working copy with its ``sections``, ``references`` (naming sources by
  ID), ``questions`` and ``topics``; every published version (``versions``) with its frozen
  content, rendered HTML, change note and kind, number and dates, topics and sources; and
  its workflow ``transitions``.

Verdicts and topics are named by slug where other objects use them. People are named by
username; on import they are linked to the account with that username, or left empty if
there is none. Not in the archive: accounts, revision history, reader messages, admin
logs, flat pages. A database backup (``pg_dump``, see the README) keeps everything; the
archive is its portable complement, readable by any tool and by any database Django runs on.

This module defines the format (the fields of each model it carries) and writes it;
`reports.formats.archive_import` restores an archive, after `reports.formats.archive_checks`
has checked it as the untrusted input it is.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Transition,
    Verdict,
)
from sources.models import Publisher, PublisherDomain, Source, SourceMerge

SCHEMA = "factually.archive/1"
# Rows written per INSERT or UPDATE statement on import.
BATCH = 500

Progress = Callable[..., Iterable]


def no_progress(iterable: Iterable, **kwargs) -> Iterable:
    return iterable


# The fields of each model the archive carries, in the order it writes them. Every concrete
# field of the model is here (tests/reports/formats/test_archive.py checks), so nothing is lost.
VERDICT_FIELDS = ("id", "slug", "name", "definition", "order", "colour", "rating")
TOPIC_FIELDS = ("id", "slug", "name", "description")
PUBLISHER_FIELDS = ("id", "name", "domain", "created_at", "updated_at")
SOURCE_FIELDS = (
    "id",
    "title",
    "url",
    "publisher",
    "authors",
    "published_on",
    "accessed_on",
    "kind",
    "language",
    "doi",
    "isbn",
    "pmid",
    "arxiv_id",
    "handle",
    "where_to_find",
    "archive_url",
    "archive_date",
    "url_status",
    "notes",
    "status",
    "retired_at",
    "retired_reason",
    "link_checked_at",
    "link_status_code",
    "link_final_url",
    "link_error",
    "link_failures",
    "archive_checked_at",
    "archive_status_code",
    "archive_error",
    "is_demo",
    "created_at",
    "updated_at",
)
SOURCE_MERGE_FIELDS = (
    "id",
    "kept",
    "merged_id",
    "merged_title",
    "merged_url",
    "merged_data",
    "references_moved",
    "by",
    "at",
)
REPORT_FIELDS = (
    "id",
    "slug",
    "claim",
    "claimant",
    "claimant_type",
    "claim_date",
    "claim_url",
    "verdict",
    "checked_on",
    "summary",
    "conclusion_heading",
    "conclusion",
    "author",
    "status",
    "published_at",
    "publish_at",
    "scheduled_by",
    "scheduled_note",
    "scheduled_note_kind",
    "scheduled_edit_version",
    "scheduled_fingerprint",
    "withdrawn_at",
    "withdrawal_reason",
    "last_edited_by",
    "created_by",
    "edit_version",
    "is_demo",
    "created_at",
    "updated_at",
)
SECTION_FIELDS = ("id", "position", "heading", "body")
REFERENCE_FIELDS = ("id", "number", "source", "pinpoint")
QUESTION_FIELDS = ("id", "position", "question", "answered_by")
VERSION_FIELDS = (
    "id",
    "number",
    "is_live",
    "published_at",
    "published_by",
    "change_note",
    "change_kind",
    "verdict_changed",
    "slug",
    "claim",
    "claimant",
    "claimant_type",
    "claim_date",
    "claim_url",
    "verdict",
    "checked_on",
    "summary_text",
    "body_text",
    "content",
    "body_html",
)
# Fields added to factually.archive/1 since it was first written: an archive from before
# them is still read, each missing one taking its model's default.
LATER_FIELDS = frozenset({"claimant_type"})
TRANSITION_FIELDS = ("id", "from_status", "to_status", "by", "at", "comment")
# A version's lists of topics and sources (slugs, IDs).
VERSION_LISTS = ("topics", "sources")

# Every model and the fields the archive keeps of it; a report's parts hang off the report
# (the `report` key is their place in the file), many-to-many relations are lists of
# slugs or IDs (``topics``, ``sources``), a publisher's other domains a list of names.
MODELS = {
    Verdict: VERDICT_FIELDS,
    Topic: TOPIC_FIELDS,
    Publisher: PUBLISHER_FIELDS,
    PublisherDomain: ("publisher", "domain"),
    Source: SOURCE_FIELDS,
    SourceMerge: SOURCE_MERGE_FIELDS,
    Report: (*REPORT_FIELDS, "topics"),
    Section: ("report", *SECTION_FIELDS),
    Reference: ("report", *REFERENCE_FIELDS),
    FollowUpQuestion: ("report", *QUESTION_FIELDS),
    PublishedVersion: ("report", *VERSION_FIELDS, *VERSION_LISTS),
    Transition: ("report", *TRANSITION_FIELDS),
}

# The library's lists, and a report's parts, in the order of the file: (key, model, fields).
LIBRARY = (
    ("verdicts", Verdict, VERDICT_FIELDS),
    ("topics", Topic, TOPIC_FIELDS),
    ("publishers", Publisher, PUBLISHER_FIELDS),
    ("sources", Source, SOURCE_FIELDS),
    ("source_merges", SourceMerge, SOURCE_MERGE_FIELDS),
)
REPORT_PARTS = (
    ("sections", Section, SECTION_FIELDS),
    ("references", Reference, REFERENCE_FIELDS),
    ("questions", FollowUpQuestion, QUESTION_FIELDS),
    ("versions", PublishedVersion, VERSION_FIELDS),
    ("transitions", Transition, TRANSITION_FIELDS),
)


# Values -------------------------------------------------------------------------------------


def _out(field_: models.Field, value, names: dict) -> object:
    """`value` of `field_` as the archive writes it."""
    if value is None:
        return None
    if field_.is_relation:
        return names[field_.related_model].get(value, value)
    if isinstance(field_, models.DateTimeField):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(field_, models.DateField):
        return value.isoformat()
    return value


def _row(instance: models.Model, fields: tuple[str, ...], names: dict) -> dict:
    meta = instance._meta
    return {
        name: _out(meta.get_field(name), getattr(instance, meta.get_field(name).attname), names)
        for name in fields
    }


# Export -------------------------------------------------------------------------------------


def export_archive(
    *, exported_at: datetime.datetime | None = None, progress: Progress = no_progress
) -> dict:
    """Everything the archive keeps, as a dict ready for `dumps`.

    On PostgreSQL it is read from one snapshot, so a report published meanwhile is either
    wholly in it or not at all.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    # Only a transaction of its own can choose its isolation (not one inside another).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    if snapshot:
        # Any health check's query must come before the transaction, not open it.
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _export(exported_at or timezone.now(), progress)


def _export(exported_at: datetime.datetime, progress: Progress) -> dict:
    User = get_user_model()
    # Related objects are named by what identifies them across databases.
    names = {
        User: dict(User.objects.values_list("pk", User.USERNAME_FIELD)),
        Verdict: dict(Verdict.objects.values_list("pk", "slug")),
        Topic: dict(Topic.objects.values_list("pk", "slug")),
        Report: {},
        Source: {},
        Publisher: {},
    }
    topics_of_report = _pairs(Report.topics.through, "report_id", "topic_id", names[Topic])
    topics_of_version = _pairs(
        PublishedVersion.topics.through, "publishedversion_id", "topic_id", names[Topic]
    )
    sources_of_version = _pairs(PublishedVersion.sources.through, "publishedversion_id")
    domains = defaultdict(list)
    for publisher_id, domain in PublisherDomain.objects.order_by("domain").values_list(
        "publisher_id", "domain"
    ):
        domains[publisher_id].append(domain)

    reports = []
    queryset = Report.objects.order_by("pk").prefetch_related(
        models.Prefetch("sections", Section.objects.order_by("position", "pk")),
        models.Prefetch("references", Reference.objects.order_by("number", "pk")),
        models.Prefetch("questions", FollowUpQuestion.objects.order_by("position", "pk")),
        models.Prefetch("versions", PublishedVersion.objects.order_by("number", "pk")),
        models.Prefetch("transitions", Transition.objects.order_by("at", "pk")),
    )
    for report in progress(
        queryset.iterator(chunk_size=BATCH),
        desc="Reports",
        unit="report",
        total=queryset.count(),
    ):
        document = _row(report, REPORT_FIELDS, names)
        document["topics"] = topics_of_report.get(report.pk, [])
        document["sections"] = [_row(s, SECTION_FIELDS, names) for s in report.sections.all()]
        document["references"] = [_row(r, REFERENCE_FIELDS, names) for r in report.references.all()]
        document["questions"] = [_row(q, QUESTION_FIELDS, names) for q in report.questions.all()]
        document["versions"] = [
            {
                **_row(version, VERSION_FIELDS, names),
                "topics": topics_of_version.get(version.pk, []),
                "sources": sources_of_version.get(version.pk, []),
            }
            for version in report.versions.all()
        ]
        document["transitions"] = [
            _row(t, TRANSITION_FIELDS, names) for t in report.transitions.all()
        ]
        reports.append(document)

    sources = Source.objects.order_by("pk")
    return {
        "schema": SCHEMA,
        "exported_at": exported_at.astimezone(datetime.UTC).isoformat(),
        "verdicts": [_row(v, VERDICT_FIELDS, names) for v in Verdict.objects.order_by("pk")],
        "topics": [_row(t, TOPIC_FIELDS, names) for t in Topic.objects.order_by("pk")],
        "publishers": [
            {**_row(p, PUBLISHER_FIELDS, names), "other_domains": domains.get(p.pk, [])}
            for p in Publisher.objects.order_by("pk")
        ],
        "sources": [
            _row(s, SOURCE_FIELDS, names)
            for s in progress(
                sources.iterator(chunk_size=BATCH),
                desc="Sources",
                unit="source",
                total=sources.count(),
            )
        ],
        "source_merges": [
            _row(m, SOURCE_MERGE_FIELDS, names) for m in SourceMerge.objects.order_by("pk")
        ],
        "reports": reports,
    }


def _pairs(through, owner: str, other: str = "source_id", names: dict | None = None) -> dict:
    """owner ID → sorted list of the related objects' names (or IDs) in a through table."""
    related = defaultdict(list)
    for owner_id, other_id in through.objects.values_list(owner, other):
        related[owner_id].append(names[other_id] if names is not None else other_id)
    return {key: sorted(values) for key, values in related.items()}


def dumps(archive: dict) -> str:
    """The archive as UTF-8 JSON text, indented as report documents are, ending with "\\n"."""
    return json.dumps(archive, ensure_ascii=False, indent=2) + "\n"
