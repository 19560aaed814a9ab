"""Checking an archive before anything of it is restored: it is untrusted input.

Documents are read as `reports.formats.json_import` reads a report, then every object is
checked as the forms check it (field validators, lengths, choices, slugs, colours; links
must be http or https web addresses), within the archive (every ID named is in it, unique
values are unique) and for what it makes public (only a live report has a live version).
`ArchiveReader` stops at the first invalid object and reports it with its JSON path
(`JsonFormatError`). Each version's HTML and plain texts are rendered again from its
content by the one renderer (`publishing.rendered`), never taken from the file.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

from reports import publishing
from reports.content import ReportContent
from reports.formats.archive import (
    LATER_FIELDS,
    LIBRARY,
    PUBLISHER_FIELDS,
    REPORT_FIELDS,
    REPORT_PARTS,
    SCHEMA,
    SOURCE_FIELDS,
    SOURCE_MERGE_FIELDS,
    TOPIC_FIELDS,
    VERDICT_FIELDS,
    VERSION_LISTS,
)
from reports.formats.errors import JsonFormatError, join, short
from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from sources.models import Publisher, PublisherDomain, Source, SourceMerge


class ArchiveReader:
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
            for key, model, fields in REPORT_PARTS:
                lists = VERSION_LISTS if model is PublishedVersion else ()
                report[key] = self.rows(report, key, model, fields, lists=lists, path=path)
        self.raise_problems()
        return archive

    def keys(self, data: dict, path: str, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                self.problem(join(path, key), "not a field of this archive format")
        for key in allowed:
            if key not in data and key != "exported_at" and key not in LATER_FIELDS:
                self.problem(join(path, key), "missing")

    def rows(self, data, key, model, fields, *, lists=(), path="") -> list[dict]:
        """The objects of the list `data[key]`, each value converted for `model`."""
        where = join(path, key)
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
                if name in item or name not in LATER_FIELDS
                else model._meta.get_field(name).get_default()
                for name in fields
            }
            for name in lists:
                row[name] = item.get(name) if isinstance(item.get(name), list) else []
                if not isinstance(item.get(name), list) and name in item:
                    self.problem(join(item_path, name), "expected a list")
            rows.append(row)
        return rows

    def value(self, field_: models.Field, value, path: str, name: str):
        where = join(path, name)
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
        for key, model, fields in LIBRARY:
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
                    seen.once("doi", row["doi"].lower(), join(path, "doi"), "DOI")
                self.raise_problems()
        for index, report in enumerate(archive["reports"]):
            self.report(report, f"reports[{index}]", seen)

    def report(self, report: dict, path: str, seen: _Seen) -> None:
        self.object(Report, report, REPORT_FIELDS, path)
        seen.unique_fields(Report, report, REPORT_FIELDS, path)
        self.raise_problems()
        for key, model, fields in REPORT_PARTS:
            for index, row in enumerate(report[key]):
                where = f"{path}.{key}[{index}]"
                if model is PublishedVersion:
                    self.version(row, where)
                    self.raise_problems()
                self.object(model, row, fields, where)
                seen.unique_fields(model, row, fields, where)
                mine = (report["id"], model)
                if model in (Reference, PublishedVersion):
                    seen.once(mine, row["number"], join(where, "number"), "number")
                if model is PublishedVersion and row["is_live"]:
                    seen.once(
                        mine,
                        "live",
                        join(where, "is_live"),
                        "",
                        message="only one version of a report is live, and {first} is",
                    )
                    seen.once("live slug", row["slug"], join(where, "slug"), "live address")
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
                join(path, "published_at"),
                f"a {label} report is not live: expected null",
            )
        elif report["published_at"] is not None and not live:
            self.problem(
                join(path, "versions"), "the report is live (published_at) but no version is"
            )
        if status == Report.Status.PUBLISHED and report["published_at"] is None:
            self.problem(join(path, "published_at"), "a published report has a publication time")

    def object(self, model, row: dict, fields: tuple[str, ...], path: str) -> None:
        """Validate `row` as `model`'s fields do in a form: validators, lengths, choices."""
        meta = model._meta
        # Relations were resolved against the archive; clean_fields would query for them.
        skipped = [f.name for f in meta.fields if f.is_relation]
        for name in fields:
            is_link = isinstance(meta.get_field(name), models.URLField) and row[name]
            if is_link and not self.web_address(row[name], join(path, name)):
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
                where = path if name == NON_FIELD_ERRORS else join(path, name)
                self.problem(where, " ".join(messages))
        # clean_fields leaves the choices of fields no form edits (workflow state) unchecked.
        for name in fields:
            field_, value = meta.get_field(name), row[name]
            if field_.editable or not field_.choices or value in field_.empty_values:
                continue
            if value not in {choice for choice, _ in field_.flatchoices}:
                self.problem(join(path, name), f"{short(value)} is not a valid choice")

    def field(self, field_: models.Field, value, path: str) -> None:
        """Check one JSON value as `field_` would hold it."""
        if value is None:
            if not field_.null:
                self.problem(path, "missing: may not be null")
            return
        if isinstance(field_, models.IntegerField):
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem(path, f"{short(value)} is not a whole number")
                return
        elif not isinstance(value, str):
            self.problem(path, f"{short(value)} is not text")
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
            self.problem(path, f"{short(value)} is not a web address (http or https)")
            return False
        return True

    def version(self, row: dict, path: str) -> None:
        """Check the version's content and render its HTML and texts again from it."""
        where = join(path, "content")
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
            value, where = data[key], join(path, key)
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
                    self.problem(where, f"{short(value)} is not an ID")
            elif spec == "true or false":
                if not isinstance(value, bool):
                    self.problem(where, f"{short(value)} is not true or false")
            elif spec == "text":
                if not isinstance(value, str):
                    self.problem(where, f"{short(value)} is not text")
            elif spec == "lines":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    self.problem(where, "expected a list of texts")
            else:
                model, name, *empty = spec
                if not (empty and value == ""):
                    self.field(model._meta.get_field(name), value, where)


class _Seen:
    """Values that must be unique in the archive, each with the path of the first holder."""

    def __init__(self, reader: ArchiveReader):
        self.reader = reader
        self.first: dict[tuple, str] = {}

    def unique_fields(self, model, row: dict, fields: tuple[str, ...], path: str) -> None:
        # A one-field unique constraint (a source's URL, unique when not blank) counts too.
        constrained = {
            constraint.fields[0]
            for constraint in model._meta.constraints
            if isinstance(constraint, models.UniqueConstraint)
            and len(constraint.fields) == 1
            and constraint.condition == ~Q(**{constraint.fields[0]: ""})
        }
        for name in fields:
            field_ = model._meta.get_field(name)
            if row[name] in (None, ""):
                continue
            if field_.unique:
                self.once(model, row[name], join(path, name), name)
            elif name in constrained:
                self.once((model, name), row[name], join(path, name), name)

    def once(self, kind, value, path: str, name: str, *, message: str = "", holder="") -> None:
        """`value` of `kind` held by the object at `holder` (by default, the one `path` is in)."""
        holder = holder or path.rpartition(".")[0]
        first = self.first.setdefault((kind, value), holder)
        if first != holder:
            text = message or f"{short(value)} is also the {name} of {{first}}: it must be unique"
            self.reader.problem(path, text.format(first=first))


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
    # Absent from versions frozen before sources had identifiers.
    "doi": (Source, "doi"),
    "isbn": (Source, "isbn"),
    "pmid": (Source, "pmid"),
    "arxiv_id": (Source, "arxiv_id"),
    "handle": (Source, "handle"),
    "where_to_find": (Source, "where_to_find"),
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
