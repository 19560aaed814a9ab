"""Restoring an archive (`reports.formats.archive`) into an empty database.

`import_archive` checks the archive first (`reports.formats.archive_checks`: nothing is
saved from an archive with an invalid object), then restores it in one transaction,
keeping every ID so that links such as ``/sources/<id>/`` and the source IDs frozen in
published versions keep working. People are linked to the account with their username,
or left empty if there is none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, connections, models, transaction

from reports.formats.archive import (
    BATCH,
    PUBLISHER_FIELDS,
    REPORT_FIELDS,
    REPORT_PARTS,
    SOURCE_FIELDS,
    SOURCE_MERGE_FIELDS,
    TOPIC_FIELDS,
    VERDICT_FIELDS,
    Progress,
    no_progress,
)
from reports.formats.archive_checks import ArchiveReader
from reports.formats.errors import JsonFormatError, parse_json
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
from reports.public import search_index
from sources.models import Publisher, PublisherDomain, Source, SourceMerge


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


def import_archive(
    text: str, *, filename: str = "", progress: Progress = no_progress
) -> ImportSummary:
    """Restore an archive into an empty database, keeping every ID, in one transaction.

    Raises `ArchiveRefused` if the database already has reports, sources or publishers,
    and `JsonFormatError` (with the JSON path of each problem) if the archive cannot be
    read or has an invalid object; either way nothing is saved.
    """
    data = parse_json(text, filename=filename, what="an archive")
    reader = ArchiveReader(filename)
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
            search_index.add_versions(PublishedVersion.objects.live())
            search_index.add_words()
        except (IntegrityError, DataError) as error:
            raise JsonFormatError(
                [("", f"the archive contradicts itself or this database: {error}")],
                filename=filename,
            ) from None
    # Statistics describing the tables as they now are, not empty (see search_index.analyze).
    search_index.analyze()
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


def _restore(archive: dict, reader: ArchiveReader, progress: Progress) -> ImportSummary:
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
        for key, model, fields in REPORT_PARTS:
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
