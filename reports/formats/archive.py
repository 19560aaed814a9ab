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

An archive is untrusted input. Documents are read as `reports.formats.jsonformat` reads a report,
then every object is checked as the forms check it (field validators, lengths, choices,
slugs, colours; links must be http or https web addresses), within the archive (every ID
named is in it, unique values are unique) and for what it makes public (only a live
report has a live version). The import stops at the first invalid object and reports it
with its JSON path (`JsonFormatError`); nothing is saved. Each version's HTML and plain
texts are rendered again from its content by the one renderer (`publishing.rendered`),
never taken from the file.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.color import no_style
from django.core.validators import URLValidator
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connections, models, transaction
from django.utils import timezone

from reports import publishing
from reports.content import ReportContent
from reports.formats.jsonformat import JsonFormatError
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
# field of the model is here (tests/reports/test_archive.py checks), so nothing is lost.
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
    "claim_date",
    "claim_url",
    "verdict",
    "checked_on",
    "summary_text",
    "body_text",
    "content",
    "body_html",
)
TRANSITION_FIELDS = ("id", "from_status", "to_status", "by", "at", "comment")

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
    PublishedVersion: ("report", *VERSION_FIELDS, "topics", "sources"),
    Transition: ("report", *TRANSITION_FIELDS),
}


class ArchiveRefused(Exception):
    """The archive cannot be restored here (the database is not empty); nothing was saved."""


@dataclass
class ImportSummary:
    """What an import restored: how many of each kind, and the people not found here."""

    counts: dict[str, int] = field(default_factory=dict)
    missing_people: set[str] = field(default_factory=set)
    # Versions whose archived HTML or texts differ from what their content renders to now.
    rerendered: int = 0

    def __str__(self) -> str:
        restored = ", ".join(
            f"{count} {name}{'s' if count != 1 else ''}" for name, count in self.counts.items()
        )
        text = f"Restored {restored}."
        if self.missing_people:
            names = ", ".join(sorted(self.missing_people))
            text += (
                f" No account here for {names}: their reports, versions and steps keep "
                "no author, publisher or actor."
            )
        if self.rerendered:
            text += (
                f" {self.rerendered} published version{'s' if self.rerendered != 1 else ''}"
                " had HTML or text that differed from the archive's: each was rendered again"
                " from its content."
            )
        return text


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


# Import -------------------------------------------------------------------------------------


def import_archive(
    text: str, *, filename: str = "", progress: Progress = no_progress
) -> ImportSummary:
    """Restore an archive into an empty database, keeping every ID, in one transaction.

    Raises `ArchiveRefused` if the database already has reports, sources or publishers,
    and `JsonFormatError` (with the JSON path of each problem) if the archive cannot be
    read or has an invalid object; either way nothing is saved.
    """
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise JsonFormatError(
            [("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")],
            filename=filename,
        ) from None
    reader = _Reader(filename)
    archive = reader.archive(data)
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        _refuse_unless_empty()
        reader.resolve(archive)
        reader.raise_problems()
        reader.validate(archive)
        try:
            summary = _restore(archive, reader, progress)
            # Checked now, not at commit: a broken archive must say so as this error.
            connections[DEFAULT_DB_ALIAS].check_constraints()
        except (IntegrityError, DataError) as error:
            raise JsonFormatError(
                [("", f"the archive contradicts itself or this database: {error}")],
                filename=filename,
            ) from None
    return summary


def _refuse_unless_empty() -> None:
    present = {
        "report": Report.objects.count(),
        "source": Source.objects.count(),
        "publisher": Publisher.objects.count(),
    }
    if any(present.values()):
        found = ", ".join(
            f"{count} {name}{'s' if count != 1 else ''}" for name, count in present.items() if count
        )
        raise ArchiveRefused(
            f"This database is not empty: it has {found}. An archive is restored into an "
            "empty database only (run migrate on a new database, then import), so that "
            "every ID stays as it was. Nothing was imported."
        )


class _Reader:
    """Checks the archive's structure, collecting problems under their JSON paths."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[tuple[str, str]] = []
        self.rerendered = 0

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def raise_problems(self) -> None:
        if self.problems:
            raise JsonFormatError(self.problems[:50], filename=self.filename)

    def archive(self, data) -> dict:
        if not isinstance(data, dict):
            self.problem("", "an archive is a JSON object ({…})")
            self.raise_problems()
        if data.get("schema") != SCHEMA:
            self.problem("schema", f"not an archive this site reads (it reads “{SCHEMA}”)")
            self.raise_problems()
        keys = ("verdicts", "topics", "publishers", "sources", "source_merges", "reports")
        self.keys(data, "", ("schema", "exported_at", *keys))
        archive = {
            "verdicts": self.rows(data, "verdicts", Verdict, VERDICT_FIELDS),
            "topics": self.rows(data, "topics", Topic, TOPIC_FIELDS),
            "publishers": self.rows(
                data, "publishers", Publisher, PUBLISHER_FIELDS, lists=("other_domains",)
            ),
            "sources": self.rows(data, "sources", Source, SOURCE_FIELDS),
            "source_merges": self.rows(data, "source_merges", SourceMerge, SOURCE_MERGE_FIELDS),
            "reports": self.rows(
                data,
                "reports",
                Report,
                REPORT_FIELDS,
                lists=("topics", "sections", "references", "questions", "versions", "transitions"),
            ),
        }
        for index, report in enumerate(archive["reports"]):
            path = f"reports[{index}]"
            for key, model, fields, lists in (
                ("sections", Section, SECTION_FIELDS, ()),
                ("references", Reference, REFERENCE_FIELDS, ()),
                ("questions", FollowUpQuestion, QUESTION_FIELDS, ()),
                ("versions", PublishedVersion, VERSION_FIELDS, ("topics", "sources")),
                ("transitions", Transition, TRANSITION_FIELDS, ()),
            ):
                report[key] = self.rows(report, key, model, fields, lists=lists, path=path)
        self.raise_problems()
        return archive

    def keys(self, data: dict, path: str, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                self.problem(_join(path, key), "not a field of this archive format")
        for key in allowed:
            if key not in data and key != "exported_at":
                self.problem(_join(path, key), "missing")

    def rows(self, data, key, model, fields, *, lists=(), path="") -> list[dict]:
        """The objects of the list `data[key]`, each value converted for `model`."""
        where = _join(path, key)
        items = data.get(key, [])
        if not isinstance(items, list):
            self.problem(where, "expected a list")
            return []
        rows = []
        for index, item in enumerate(items):
            item_path = f"{where}[{index}]"
            if not isinstance(item, dict):
                self.problem(item_path, "expected an object ({…})")
                continue
            self.keys(item, item_path, (*fields, *lists))
            row = {
                name: self.value(model._meta.get_field(name), item.get(name), item_path, name)
                for name in fields
            }
            for name in lists:
                row[name] = item.get(name) if isinstance(item.get(name), list) else []
                if not isinstance(item.get(name), list) and name in item:
                    self.problem(_join(item_path, name), "expected a list")
            rows.append(row)
        return rows

    def value(self, field_: models.Field, value, path: str, name: str):
        where = _join(path, name)
        if value is None:
            if not field_.null:
                self.problem(where, "missing: may not be null")
            return None
        try:
            if field_.is_relation:
                expected = str if field_.related_model in (Verdict, get_user_model()) else int
                if not isinstance(value, expected) or isinstance(value, bool):
                    raise ValueError(f"expected {'a name' if expected is str else 'an ID'}")
                return value
            if isinstance(field_, models.DateTimeField):
                parsed = datetime.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("a date and time needs its UTC offset")
                return parsed
            if isinstance(field_, models.DateField):
                return datetime.date.fromisoformat(value)
            if isinstance(field_, models.JSONField):
                return value
            return field_.to_python(value)
        except (TypeError, ValueError) as error:
            self.problem(where, f"{value!r} is not valid here: {error}")
        except Exception as error:  # A ValidationError from to_python.
            messages = getattr(error, "messages", [str(error)])
            self.problem(where, f"{value!r} is not valid here: {' '.join(messages)}")
        return None

    def resolve(self, archive: dict) -> None:
        """Check that everything named is in the archive (or, for verdicts, here)."""
        ids = {
            kind: {row["id"] for row in archive[kind]}
            for kind in ("publishers", "sources", "reports")
        }
        verdicts = {row["slug"] for row in archive["verdicts"]} | set(
            Verdict.objects.values_list("slug", flat=True)
        )
        topics = {row["slug"] for row in archive["topics"]}
        for index, source in enumerate(archive["sources"]):
            self.known(source["publisher"], ids["publishers"], f"sources[{index}].publisher")
        for index, merge in enumerate(archive["source_merges"]):
            self.known(merge["kept"], ids["sources"], f"source_merges[{index}].kept")
        for index, report in enumerate(archive["reports"]):
            path = f"reports[{index}]"
            self.known(report["verdict"], verdicts, f"{path}.verdict")
            for i, slug in enumerate(report["topics"]):
                self.known(slug, topics, f"{path}.topics[{i}]")
            for i, reference in enumerate(report["references"]):
                self.known(reference["source"], ids["sources"], f"{path}.references[{i}].source")
            for i, question in enumerate(report["questions"]):
                where = f"{path}.questions[{i}].answered_by"
                self.known(question["answered_by"], ids["reports"], where)
            for i, version in enumerate(report["versions"]):
                where = f"{path}.versions[{i}]"
                self.known(version["verdict"], verdicts, f"{where}.verdict")
                for j, slug in enumerate(version["topics"]):
                    self.known(slug, topics, f"{where}.topics[{j}]")
                for j, source_id in enumerate(version["sources"]):
                    self.known(source_id, ids["sources"], f"{where}.sources[{j}]")

    def known(self, value, known: set, path: str) -> None:
        if value is not None and value not in known:
            self.problem(path, f"{value!r} is not in the archive")

    # Every object as the forms would check it.

    def validate(self, archive: dict) -> None:
        """Check every object in file order; raise `JsonFormatError` at the first invalid one.

        Also renders each version's HTML and plain texts again from its content, in place.
        No query: relations were resolved against the archive, and uniqueness is checked
        here among the archive's objects (the database is empty; its constraints catch the rest).
        """
        seen = _Seen(self)
        for key, model, fields in (
            ("verdicts", Verdict, VERDICT_FIELDS),
            ("topics", Topic, TOPIC_FIELDS),
            ("publishers", Publisher, PUBLISHER_FIELDS),
            ("sources", Source, SOURCE_FIELDS),
            ("source_merges", SourceMerge, SOURCE_MERGE_FIELDS),
        ):
            for index, row in enumerate(archive[key]):
                path = f"{key}[{index}]"
                self.object(model, row, fields, path)
                seen.unique_fields(model, row, fields, path)
                if model is Publisher:
                    domain = PublisherDomain._meta.get_field("domain")
                    for i, name in enumerate(row["other_domains"]):
                        where = f"{path}.other_domains[{i}]"
                        self.field(domain, name, where)
                        seen.once("domain", name, where, "domain", holder=where)
                if model is Source and row["doi"]:
                    seen.once("doi", row["doi"].lower(), _join(path, "doi"), "DOI")
                self.raise_problems()
        for index, report in enumerate(archive["reports"]):
            self.report(report, f"reports[{index}]", seen)

    def report(self, report: dict, path: str, seen: _Seen) -> None:
        self.object(Report, report, REPORT_FIELDS, path)
        seen.unique_fields(Report, report, REPORT_FIELDS, path)
        self.raise_problems()
        for key, model, fields in (
            ("sections", Section, SECTION_FIELDS),
            ("references", Reference, REFERENCE_FIELDS),
            ("questions", FollowUpQuestion, QUESTION_FIELDS),
            ("versions", PublishedVersion, VERSION_FIELDS),
            ("transitions", Transition, TRANSITION_FIELDS),
        ):
            for index, row in enumerate(report[key]):
                where = f"{path}.{key}[{index}]"
                if model is PublishedVersion:
                    self.version(row, where)
                    self.raise_problems()
                self.object(model, row, fields, where)
                seen.unique_fields(model, row, fields, where)
                mine = (report["id"], model)
                if model in (Reference, PublishedVersion):
                    seen.once(mine, row["number"], _join(where, "number"), "number")
                if model is PublishedVersion and row["is_live"]:
                    seen.once(
                        mine,
                        "live",
                        _join(where, "is_live"),
                        "",
                        message="only one version of a report is live, and {first} is",
                    )
                    seen.once("live slug", row["slug"], _join(where, "slug"), "live address")
                self.raise_problems()
        self.publication(report, path)
        self.raise_problems()

    def publication(self, report: dict, path: str) -> None:
        """Readers see a version only if the archive says its report is published."""
        status = report["status"]
        label = Report.Status(status).label.lower()
        taken_down = status in {Report.Status.DRAFT, Report.Status.WITHDRAWN}
        live = [i for i, version in enumerate(report["versions"]) if version["is_live"]]
        if taken_down or report["published_at"] is None:
            whose = f"a {label} report" if taken_down else "a report without published_at"
            for i in live:
                self.problem(
                    f"{path}.versions[{i}].is_live",
                    f"only a live report has a live version, not {whose}: readers would see "
                    "what was never published or was taken down",
                )
        if taken_down and report["published_at"] is not None:
            self.problem(
                _join(path, "published_at"),
                f"a {label} report is not live: expected null",
            )
        elif report["published_at"] is not None and not live:
            self.problem(
                _join(path, "versions"), "the report is live (published_at) but no version is"
            )
        if status == Report.Status.PUBLISHED and report["published_at"] is None:
            self.problem(_join(path, "published_at"), "a published report has a publication time")

    def object(self, model, row: dict, fields: tuple[str, ...], path: str) -> None:
        """Validate `row` as `model`'s fields do in a form: validators, lengths, choices."""
        meta = model._meta
        # Relations were resolved against the archive; clean_fields would query for them.
        skipped = [f.name for f in meta.fields if f.is_relation]
        for name in fields:
            is_link = isinstance(meta.get_field(name), models.URLField) and row[name]
            if is_link and not self.web_address(row[name], _join(path, name)):
                skipped.append(name)
        instance = model(
            **{
                meta.get_field(n).attname: row[n]
                for n in fields
                if not meta.get_field(n).is_relation
            }
        )
        try:
            instance.clean_fields(exclude=skipped)
            if model is Source:
                instance.clean_retirement()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                where = path if name == NON_FIELD_ERRORS else _join(path, name)
                self.problem(where, " ".join(messages))
        # clean_fields leaves the choices of fields no form edits (workflow state) unchecked.
        for name in fields:
            field_, value = meta.get_field(name), row[name]
            if field_.editable or not field_.choices or value in field_.empty_values:
                continue
            if value not in {choice for choice, _ in field_.flatchoices}:
                self.problem(_join(path, name), f"{_short(value)} is not a valid choice")

    def field(self, field_: models.Field, value, path: str) -> None:
        """Check one JSON value as `field_` would hold it."""
        if value is None:
            if not field_.null:
                self.problem(path, "missing: may not be null")
            return
        if isinstance(field_, models.IntegerField):
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem(path, f"{_short(value)} is not a whole number")
                return
        elif not isinstance(value, str):
            self.problem(path, f"{_short(value)} is not text")
            return
        if isinstance(field_, models.URLField) and value and not self.web_address(value, path):
            return
        try:
            field_.clean(value, None)
        except ValidationError as error:
            self.problem(path, " ".join(error.messages))

    def web_address(self, value: str, path: str) -> bool:
        try:
            _web_address(value)
        except ValidationError:
            self.problem(path, f"{_short(value)} is not a web address (http or https)")
            return False
        return True

    def version(self, row: dict, path: str) -> None:
        """Check the version's content and render its HTML and texts again from it."""
        where = _join(path, "content")
        before = len(self.problems)
        self.shaped(row["content"], CONTENT, where)
        if len(self.problems) > before:
            return
        numbers = {}
        for i, reference in enumerate(row["content"]["references"]):
            first = numbers.setdefault(reference["number"], i)
            if first != i:
                self.problem(
                    f"{where}.references[{i}].number",
                    f"{reference['number']} is also the number of references[{first}]",
                )
                return
        fresh = publishing.rendered(ReportContent.from_json(row["content"]))
        if any(row[name] != value for name, value in fresh.items()):
            self.rerendered += 1
        row.update(fresh)

    def shaped(self, data, shape: dict, path: str) -> None:
        """Check `data` against `shape` (see `CONTENT`): its keys, and each value."""
        if not isinstance(data, dict):
            self.problem(path, "expected an object ({…})")
            return
        self.keys(data, path, tuple(shape))
        for key, spec in shape.items():
            if key not in data:
                continue
            value, where = data[key], _join(path, key)
            if isinstance(spec, list):  # a list of objects
                if not isinstance(value, list):
                    self.problem(where, "expected a list")
                    continue
                for i, item in enumerate(value):
                    self.shaped(item, spec[0], f"{where}[{i}]")
            elif isinstance(spec, dict):  # an object, or null
                if value is not None:
                    self.shaped(value, spec, where)
            elif spec in {"id", "id or null"}:
                if value is None and spec == "id or null":
                    continue
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    self.problem(where, f"{_short(value)} is not an ID")
            elif spec == "true or false":
                if not isinstance(value, bool):
                    self.problem(where, f"{_short(value)} is not true or false")
            elif spec == "text":
                if not isinstance(value, str):
                    self.problem(where, f"{_short(value)} is not text")
            elif spec == "lines":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    self.problem(where, "expected a list of texts")
            else:
                model, name, *empty = spec
                if not (empty and value == ""):
                    self.field(model._meta.get_field(name), value, where)


class _Seen:
    """Values that must be unique in the archive, each with the path of the first holder."""

    def __init__(self, reader: _Reader):
        self.reader = reader
        self.first: dict[tuple, str] = {}

    def unique_fields(self, model, row: dict, fields: tuple[str, ...], path: str) -> None:
        for name in fields:
            field_ = model._meta.get_field(name)
            if field_.unique and row[name] not in (None, ""):
                self.once(model, row[name], _join(path, name), name)

    def once(self, kind, value, path: str, name: str, *, message: str = "", holder="") -> None:
        """`value` of `kind` held by the object at `holder` (by default, the one `path` is in)."""
        holder = holder or path.rpartition(".")[0]
        first = self.first.setdefault((kind, value), holder)
        if first != holder:
            text = message or f"{_short(value)} is also the {name} of {{first}}: it must be unique"
            self.reader.problem(path, text.format(first=first))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


# A link in an archive leads readers somewhere: web addresses only, never `javascript:`.
_web_address = URLValidator(schemes=["http", "https"])

# A version's frozen content (`ReportContent.to_json`): each value checked as the field it
# was frozen from (marked "or empty" where the frozen copy may be empty and the field not);
# a list of one shape is a list of such objects, a bare shape an object or null.
CITED_SOURCE = {
    "id": "id",
    "title": (Source, "title"),
    "url": (Source, "url"),
    "publisher": (Publisher, "name", "or empty"),  # a source without a publisher
    "authors": "lines",
    "published_on": (Source, "published_on"),
    "kind": "text",
    "archive_url": (Source, "archive_url"),
    "is_active": "true or false",
}
CONTENT = {
    "claim": (Report, "claim"),
    "checked_on": (Report, "checked_on"),
    "summary": (Report, "summary"),
    "sections": [{"heading": (Section, "heading"), "body": (Section, "body")}],
    "conclusion_heading": (Report, "conclusion_heading"),
    "conclusion": (Report, "conclusion"),
    "questions": [{"question": (FollowUpQuestion, "question"), "answered_by_id": "id or null"}],
    "references": [
        {
            "number": (Reference, "number"),
            "source": CITED_SOURCE,
            "pinpoint": (Reference, "pinpoint"),
        }
    ],
}


def _restore(archive: dict, reader: _Reader, progress: Progress) -> ImportSummary:
    summary = ImportSummary(rerendered=reader.rerendered)
    User = get_user_model()
    people = dict(User.objects.values_list(User.USERNAME_FIELD, "pk"))

    def person(username):
        if username is not None and username not in people:
            summary.missing_people.add(username)
        return people.get(username)

    verdicts = _match_by_slug(Verdict, archive["verdicts"], VERDICT_FIELDS)
    topics = _match_by_slug(Topic, archive["topics"], TOPIC_FIELDS)

    def build(model, row, fields, **related):
        """An unsaved `model` with the archived values of `fields`, relations resolved."""
        values = {}
        for name in fields:
            field_ = model._meta.get_field(name)
            value = row[name]
            if field_.is_relation and value is not None:
                if field_.related_model is User:
                    value = person(value)
                elif field_.related_model is Verdict:
                    value = verdicts[value]
            values[field_.attname] = value
        return model(**values, **related)

    publishers = [build(Publisher, row, PUBLISHER_FIELDS) for row in archive["publishers"]]
    _insert(Publisher, publishers)
    PublisherDomain.objects.bulk_create(
        (
            PublisherDomain(publisher_id=row["id"], domain=domain)
            for row in archive["publishers"]
            for domain in row["other_domains"]
        ),
        batch_size=BATCH,
    )
    sources = [
        build(Source, row, SOURCE_FIELDS)
        for row in progress(archive["sources"], desc="Sources", unit="source")
    ]
    _insert(Source, sources)
    _insert(
        SourceMerge, [build(SourceMerge, r, SOURCE_MERGE_FIELDS) for r in archive["source_merges"]]
    )

    parts = defaultdict(list)
    report_topics, version_topics, version_sources = [], [], []
    reports = []
    for row in progress(archive["reports"], desc="Reports", unit="report"):
        reports.append(build(Report, row, REPORT_FIELDS))
        report_topics += [(row["id"], topics[slug]) for slug in row["topics"]]
        for key, model, fields in (
            ("sections", Section, SECTION_FIELDS),
            ("references", Reference, REFERENCE_FIELDS),
            ("questions", FollowUpQuestion, QUESTION_FIELDS),
            ("versions", PublishedVersion, VERSION_FIELDS),
            ("transitions", Transition, TRANSITION_FIELDS),
        ):
            parts[model] += [build(model, part, fields, report_id=row["id"]) for part in row[key]]
        for version in row["versions"]:
            version_topics += [(version["id"], topics[slug]) for slug in version["topics"]]
            version_sources += [(version["id"], source_id) for source_id in version["sources"]]
    _insert(Report, reports)
    for model in (Section, Reference, FollowUpQuestion, PublishedVersion, Transition):
        _insert(model, parts[model])
    _link(Report.topics.through, "report_id", "topic_id", report_topics)
    _link(PublishedVersion.topics.through, "publishedversion_id", "topic_id", version_topics)
    _link(PublishedVersion.sources.through, "publishedversion_id", "source_id", version_sources)

    _reset_sequences([Verdict, Topic, Publisher, Source, SourceMerge, Report, *parts.keys()])
    summary.counts = {
        "verdict": len(archive["verdicts"]),
        "topic": len(archive["topics"]),
        "publisher": len(publishers),
        "source": len(sources),
        "source merge": len(archive["source_merges"]),
        "report": len(reports),
        "published version": len(parts[PublishedVersion]),
    }
    return summary


def _match_by_slug(model, rows: list[dict], fields: tuple[str, ...]) -> dict[str, int]:
    """Update the verdicts (or topics) this database has to the archive's, create the rest.

    A migrated database comes with the default verdicts: they are matched by slug (or
    name) and take the archive's values; a new one keeps its archived ID if it is free.
    Returns slug → ID here.
    """
    ids = {}
    for row in rows:
        values = {name: row[name] for name in fields if name != "id"}
        found = (
            model.objects.filter(slug=row["slug"]).first()
            or model.objects.filter(name=row["name"]).first()
        )
        if found is None:
            free = not model.objects.filter(pk=row["id"]).exists()
            found = model.objects.create(**({"pk": row["id"]} if free else {}), **values)
        else:
            for name, value in values.items():
                setattr(found, name, value)
            found.save()
        ids[row["slug"]] = found.pk
    return ids


def _insert(model, objects: list[models.Model]) -> None:
    """Insert `objects` with their IDs, then give back the times `auto_now` overwrote."""
    stamped = [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    archived = [[getattr(obj, name) for name in stamped] for obj in objects]
    model.objects.bulk_create(objects, batch_size=BATCH)
    if stamped and objects:
        # bulk_create stamped them with the time of the import; bulk_update leaves them be.
        for obj, values in zip(objects, archived, strict=True):
            for name, value in zip(stamped, values, strict=True):
                setattr(obj, name, value)
        model.objects.bulk_update(objects, stamped, batch_size=BATCH)


def _link(through, owner: str, other: str, pairs: list[tuple[int, int]]) -> None:
    through.objects.bulk_create(
        (through(**{owner: a, other: b}) for a, b in pairs), batch_size=BATCH
    )


def _reset_sequences(models_: list) -> None:
    """After inserts with explicit IDs, new rows must get IDs after them (PostgreSQL)."""
    connection = connections[DEFAULT_DB_ALIAS]
    statements = connection.ops.sequence_reset_sql(no_style(), models_)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
