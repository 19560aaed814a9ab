"""Reports as JSON: the versioned interchange format ``factually.report/1``, out and in.

The format is documented field by field in ``docs/report-json-schema.md`` and described
by the JSON Schema ``reports/schema/report-v1.json``; the two must change together, and a
change that an older reader would misread gets a new version (``factually.report/2``).

`export_document` turns a published version into a document: the frozen version's text,
verdict, topics and references, each reference with its source's full details. What a
version does not freeze is read from elsewhere, as the public page does:

- the source details a version does not keep (publisher domain, access date, language, DOI,
  archive date, URL status, and the kind as a value rather than its label) from the source's
  library record, found by the ID the version froze (or the source it was merged into).
  What the version did freeze (title, URL, publisher name, authors, publication date,
  archive URL) is exported as frozen, so the document says what readers were shown.

`import_json` reads a document back as a new draft report, in one transaction: sources
are matched to the library by normalised URL or DOI or created with every detail (through
`sources.interchange`, as source imports are), publishers matched by domain or created,
topics matched by slug or created, the verdict found by slug. A document that cannot be
read raises `JsonFormatError`, naming the JSON path of each bad field, and saves nothing.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction

from reports import citations, contributing
from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from sources.interchange.common import Entry, PartialDate, choice_value, stored_date
from sources.interchange.plan import Action, build_plan
from sources.models import Source, SourceMerge

SCHEMA = "factually.report/1"
# The JSON Schema of SCHEMA (draft 2020-12), for validators outside this code.
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "report-v1.json"
CONTENT_TYPE = "application/json; charset=utf-8"

# Report-level keys: what a document must have, and what it may have besides.
REQUIRED = ("schema", "slug", "claim", "verdict", "checked_on", "summary", "sections", "conclusion")
OPTIONAL = ("claimant", "claim_date", "claim_url", "topics", "questions", "references")
# Written by export and accepted on import, where it is ignored: a new draft has no history.
PUBLICATION = "publication"
SOURCE_FIELDS = (
    "title",
    "url",
    "publisher",
    "authors",
    "published_on",
    "accessed_on",
    "language",
    "kind",
    "doi",
    "archive_url",
    "archive_date",
    "url_status",
)
# Model fields of a source as the document names them (problems are reported in its words).
SOURCE_LABELS = {name: name for name in SOURCE_FIELDS} | {"notes": "notes"}

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PARTIAL_DATE_RE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")


class JsonFormatError(ValueError):
    """A document that cannot be imported: each problem as (JSON path, what is wrong).

    Paths are written as in JSONPath without the leading "$": ``sections[2].heading``,
    with list positions counted from 0; a problem with the whole document has the path "".
    """

    def __init__(self, problems: list[tuple[str, str]], *, filename: str = ""):
        self.problems = list(problems)
        self.filename = filename
        super().__init__(str(self))

    @property
    def path(self) -> str:
        return self.problems[0][0]

    @property
    def message(self) -> str:
        return self.problems[0][1]

    def __str__(self) -> str:
        described = "; ".join(
            f"{path}: {message}" if path else message for path, message in self.problems
        )
        return f"{self.filename}: {described}" if self.filename else described


# Export --------------------------------------------------------------------------------------


def live_version(report: Report) -> PublishedVersion | None:
    """The version of `report` readers see now, or None."""
    return report.versions.live().select_related("verdict", "report").first()


def export_json(version: PublishedVersion) -> str:
    """`version` as a factually.report/1 document: UTF-8 text, indented, ending with a newline."""
    return json.dumps(export_document(version), ensure_ascii=False, indent=2) + "\n"


def export_document(version: PublishedVersion) -> dict:
    """`version` as a factually.report/1 document (a dict ready for `json.dumps`)."""
    content = version.content
    frozen_references = content.get("references", [])
    library = _library_sources(
        {r["source"]["id"] for r in frozen_references if r.get("source") and r["source"].get("id")}
    )
    history = list(
        PublishedVersion.objects.filter(report_id=version.report_id, number__lte=version.number)
        .order_by("number")
        .only("number", "published_at", "change_kind", "change_note", "verdict_changed")
    )
    return {
        "schema": SCHEMA,
        "slug": version.slug,
        "claim": content.get("claim", version.claim),
        "claimant": version.claimant,
        "claim_date": _iso(version.claim_date),
        "claim_url": version.claim_url,
        "verdict": {
            "slug": version.verdict.slug,
            "name": version.verdict.name,
            "rating": version.verdict.rating,
        },
        "checked_on": _iso(version.checked_on),
        "topics": [
            {"slug": topic.slug, "name": topic.name}
            for topic in version.topics.order_by("name", "slug")
        ],
        "summary": content.get("summary", ""),
        "sections": [
            {"heading": section["heading"], "body": section["body"]}
            for section in content.get("sections", [])
        ],
        "conclusion": {
            "heading": content.get("conclusion_heading", ""),
            "text": content.get("conclusion", ""),
        },
        "questions": _questions(content.get("questions", [])),
        "references": [
            {
                "number": reference["number"],
                "pinpoint": reference.get("pinpoint", ""),
                "source": _source_document(
                    reference["source"], library.get(reference["source"].get("id"))
                )
                if reference.get("source")
                else None,
            }
            for reference in frozen_references
        ],
        PUBLICATION: {
            "version": version.number,
            "published_at": version.published_at.isoformat(),
            "first_published_at": history[0].published_at.isoformat()
            if history
            else version.published_at.isoformat(),
            "history": [
                {
                    "version": earlier.number,
                    "published_at": earlier.published_at.isoformat(),
                    "change_kind": earlier.change_kind or None,
                    "change_note": earlier.change_note,
                    "verdict_changed": earlier.verdict_changed,
                }
                for earlier in history
            ],
        },
    }


def _library_sources(ids: set[int]) -> dict[int, Source]:
    """The library records of the sources a version froze, by the ID it froze.

    A source merged since is found as the source it was merged into.
    """
    found = {s.pk: s for s in Source.objects.filter(pk__in=ids).select_related("publisher")}
    missing = ids - found.keys()
    if missing:
        for merge in SourceMerge.objects.filter(merged_id__in=missing).select_related(
            "kept__publisher"
        ):
            found[merge.merged_id] = merge.kept
    return found


def _source_document(frozen: dict, source: Source | None) -> dict:
    """A reference's source: its library record, with what the version froze on top."""
    document = dict.fromkeys(SOURCE_FIELDS)
    if source is not None:
        document.update(
            title=source.title,
            url=source.url,
            publisher={"name": source.publisher.name, "domain": source.publisher.domain}
            if source.publisher
            else None,
            authors=source.author_list,
            published_on=_partial(source, "published_on"),
            accessed_on=_partial(source, "accessed_on"),
            language=source.language,
            kind=source.kind,
            doi=source.doi,
            archive_url=source.archive_url,
            archive_date=_partial(source, "archive_date"),
            url_status=source.url_status,
        )
    else:
        document.update(
            language="", kind=Source.Kind.OTHER, doi="", url_status=Source.UrlStatus.LIVE
        )
    # What readers were shown, as the version froze it.
    document["title"] = frozen.get("title", document["title"]) or ""
    document["url"] = frozen.get("url", document["url"]) or ""
    document["authors"] = list(frozen.get("authors", document["authors"] or []))
    document["archive_url"] = frozen.get("archive_url", document["archive_url"]) or ""
    if "publisher" in frozen:
        name = frozen["publisher"]
        if not name:
            document["publisher"] = None
        elif document["publisher"] is None or document["publisher"]["name"] != name:
            domain = document["publisher"]["domain"] if document["publisher"] else ""
            document["publisher"] = {"name": name, "domain": domain}
    frozen_published = frozen.get("published_on")
    if source is None or frozen_published != _iso(source.published_on):
        document["published_on"] = frozen_published
    if frozen.get("kind") and source is None:
        document["kind"] = choice_value(Source.Kind.choices, frozen["kind"]) or Source.Kind.OTHER
    return document


def _partial(source: Source, field_name: str) -> str | None:
    partial = stored_date(source, field_name)
    return partial.isoformat() if partial else None


def _questions(questions: list[dict]) -> list[dict]:
    """Follow-up questions, each with the slug of the live report answering it, if any."""
    answered = {q["answered_by_id"] for q in questions if q.get("answered_by_id")}
    slugs = dict(
        PublishedVersion.objects.live()
        .filter(report_id__in=answered)
        .values_list("report_id", "slug")
    )
    return [
        {"question": q["question"], "answered_by": slugs.get(q.get("answered_by_id"))}
        for q in questions
    ]


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


# Import --------------------------------------------------------------------------------------


def import_json(text: str, *, filename: str = "", author=None) -> Report:
    """Create a draft report from a factually.report/1 document, with everything it cites.

    Raises `JsonFormatError`, having saved nothing, if the document cannot be imported:
    malformed JSON, a missing or mistyped field, an unknown verdict, a slug already taken.
    """
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        raise JsonFormatError(
            [("", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")],
            filename=filename,
        ) from None
    except RecursionError:
        raise JsonFormatError(
            [("", "not a report: its lists and objects nest too deep")], filename=filename
        ) from None
    reader = _Reader()
    draft = reader.document(data)
    # Planned even when other fields have problems (it only reads), so all are reported.
    plan = build_plan(
        [entry for entry in draft["entries"] if entry is not None],
        filename=filename or "<json>",
        format="json",
    )
    for planned in plan.entries:
        if planned.action == Action.REFUSE:
            where = planned.entry.where
            for problem in planned.errors or [planned.reason]:
                field = getattr(problem, "field", "")
                message = getattr(problem, "message", str(problem))
                reader.problems.append((f"{where}.{field}" if field else where, message))
    if reader.problems:
        raise JsonFormatError(reader.problems, filename=filename)
    return _save(draft, plan, author=author, filename=filename)


def _save(draft: dict, plan, *, author, filename: str) -> Report:
    fields = draft["report"]
    with transaction.atomic():
        plan.apply(by=author)
        sources = iter(planned.source for planned in plan.entries)
        topics = []
        for slug, name in draft["topics"]:
            topic = Topic.objects.filter(slug=slug).first()
            topics.append(topic or Topic.objects.create(slug=slug, name=name))
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    **fields,
                    author=author,
                    created_by=author,
                    last_edited_by=author,
                    status=Report.Status.DRAFT,
                )
                contributing.record(report, by=author, what=f"Imported it from {filename}.")
        except IntegrityError:
            # Taken between the check and the save: by another import running at once.
            raise JsonFormatError(
                [("slug", f"“{fields['slug']}” is already used by another report")],
                filename=filename,
            ) from None
        Section.objects.bulk_create(
            Section(report=report, position=position, heading=heading, body=body)
            for position, (heading, body) in enumerate(draft["sections"], start=1)
        )
        FollowUpQuestion.objects.bulk_create(
            FollowUpQuestion(
                report=report, position=position, question=question, answered_by=answered_by
            )
            for position, (question, answered_by) in enumerate(draft["questions"], start=1)
        )
        Reference.objects.bulk_create(
            Reference(
                report=report,
                number=number,
                pinpoint=pinpoint,
                source=next(sources) if entry is not None else None,
            )
            for (number, pinpoint), entry in zip(draft["references"], draft["entries"], strict=True)
        )
        report.topics.set(topics)
    return report


def _describe(value) -> str:
    """What a JSON value is, for messages: "an object", "a list", "text"…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class _Reader:
    """Checks a parsed document field by field, collecting problems under their JSON paths."""

    def __init__(self):
        self.problems: list[tuple[str, str]] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # Shapes

    def object(self, value, path: str, *, required=(), optional=()) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"expected an object ({{…}}), found {_describe(value)}")
            return None
        for key in required:
            if key not in value:
                self.problem(_join(path, key), "missing")
        for key in value:
            if key not in required and key not in optional:
                self.problem(_join(path, key), f"not a field of {SCHEMA}")
        return value

    def list(self, data: dict, key: str, path: str) -> list:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.problem(_join(path, key), f"expected a list ([…]), found {_describe(value)}")
            return []
        return value

    def text(
        self,
        data: dict,
        key: str,
        path: str,
        *,
        max_length: int | None = None,
        blank: bool = True,
        one_line: bool = False,
    ) -> str:
        where = _join(path, key)
        if key not in data:
            return ""
        value = data[key]
        if not isinstance(value, str):
            self.problem(where, f"expected text, found {_describe(value)}")
            return ""
        if not blank and not value.strip():
            self.problem(where, "empty")
        if max_length is not None and len(value) > max_length:
            self.problem(where, f"too long: {len(value)} characters, at most {max_length}")
        if one_line and ("\n" in value or "\r" in value):
            self.problem(where, "must be one line")
        return value

    def date(self, data: dict, key: str, path: str) -> datetime.date | None:
        value = data.get(key)
        if value is None:
            return None
        where = _join(path, key)
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            self.problem(where, f"expected a date as YYYY-MM-DD or null, found {_shown(value)}")
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(where, f"{_shown(value)} is not a day of the calendar")
            return None

    def partial_date(self, data: dict, key: str, path: str) -> PartialDate | None:
        value = data.get(key)
        if value is None:
            return None
        where = _join(path, key)
        if not isinstance(value, str) or not _PARTIAL_DATE_RE.fullmatch(value):
            self.problem(
                where,
                f"expected a date as YYYY-MM-DD, YYYY-MM or YYYY, or null, found {_shown(value)}",
            )
            return None
        try:
            return PartialDate.from_iso(value)
        except ValueError as error:
            self.problem(where, str(error))
            return None

    def url(self, data: dict, key: str, path: str, *, max_length: int) -> str:
        value = self.text(data, key, path, max_length=max_length).strip()
        if value:
            try:
                URLValidator()(value)
            except ValidationError:
                self.problem(_join(path, key), f"“{value}” is not a web address (http or https)")
        return value

    # The document

    def document(self, data) -> dict:
        draft = {
            "report": {},
            "topics": [],
            "sections": [],
            "questions": [],
            "references": [],
            "entries": [],
        }
        if not isinstance(data, dict):
            self.problem("", f"a report is a JSON object ({{…}}); this is {_describe(data)}")
            return draft
        schema = data.get("schema")
        if schema != SCHEMA:
            if schema is None:
                self.problem("schema", f"missing: a report document says “schema”: “{SCHEMA}”")
            else:
                self.problem(
                    "schema", f"{_shown(schema)} is not a format this site reads ({SCHEMA})"
                )
            return draft
        self.object(data, "", required=REQUIRED, optional=(*OPTIONAL, PUBLICATION))

        report = draft["report"]
        report["slug"] = self.slug(data)
        report["claim"] = self.text(
            data, "claim", "", max_length=_max_length(Report, "claim"), blank=False, one_line=True
        )
        report["claimant"] = self.text(
            data, "claimant", "", max_length=_max_length(Report, "claimant"), one_line=True
        )
        report["claim_date"] = self.date(data, "claim_date", "")
        report["claim_url"] = self.url(
            data, "claim_url", "", max_length=_max_length(Report, "claim_url")
        )
        report["verdict"] = self.verdict(data.get("verdict"))
        report["checked_on"] = self.date(data, "checked_on", "")
        report["summary"] = self.text(
            data, "summary", "", max_length=_max_length(Report, "summary")
        )
        conclusion = None
        if "conclusion" in data:
            conclusion = self.object(data["conclusion"], "conclusion", required=("heading", "text"))
        if conclusion is not None:
            report["conclusion_heading"] = self.text(
                conclusion,
                "heading",
                "conclusion",
                max_length=_max_length(Report, "conclusion_heading"),
                one_line=True,
            )
            report["conclusion"] = self.text(
                conclusion, "text", "conclusion", max_length=_max_length(Report, "conclusion")
            )

        for index, section in enumerate(self.list(data, "sections", "")):
            path = f"sections[{index}]"
            if self.object(section, path, required=("heading", "body")) is not None:
                heading = self.text(
                    section,
                    "heading",
                    path,
                    max_length=_max_length(Section, "heading"),
                    blank=False,
                    one_line=True,
                )
                body = self.text(section, "body", path, max_length=_max_length(Section, "body"))
                draft["sections"].append((heading, body))
        for index, question in enumerate(self.list(data, "questions", "")):
            path = f"questions[{index}]"
            question = self.object(
                question, path, required=("question",), optional=("answered_by",)
            )
            if question is not None:
                text = self.text(
                    question,
                    "question",
                    path,
                    max_length=_max_length(FollowUpQuestion, "question"),
                    blank=False,
                    one_line=True,
                )
                draft["questions"].append((text, self.answered_by(question, path)))
        draft["topics"] = self.topics(data)
        self.references(data, draft)
        if data.get(PUBLICATION) is not None and not isinstance(data.get(PUBLICATION), dict):
            self.problem(
                PUBLICATION, f"expected an object ({{…}}), found {_describe(data[PUBLICATION])}"
            )
        return draft

    def slug(self, data: dict) -> str:
        slug = self.text(data, "slug", "", max_length=_max_length(Report, "slug"), blank=False)
        if not slug.strip():
            return slug
        try:
            validate_slug(slug)
        except ValidationError:
            self.problem("slug", f"“{slug}” is not a slug (letters, digits, - and _ only)")
            return slug
        taken = Report.objects.filter(slug=slug).only("pk", "claim").first()
        live = PublishedVersion.objects.live().filter(slug=slug).select_related("report").first()
        if taken is not None:
            self.problem(
                "slug",
                f"“{slug}” is already used by another report (“{taken.claim}”): "
                "rename or delete it, or change the slug in the file",
            )
        elif live is not None:
            self.problem(
                "slug",
                f"“{slug}” is the address of a live report (“{live.claim}”): "
                "change the slug in the file",
            )
        return slug

    def verdict(self, value) -> Verdict | None:
        if value is None:
            return None
        verdict = self.object(value, "verdict", required=("slug",), optional=("name", "rating"))
        if verdict is None:
            return None
        slug = self.text(verdict, "slug", "verdict", blank=False)
        if not slug.strip():
            return None
        found = Verdict.objects.filter(slug=slug).first()
        if found is None:
            known = ", ".join(Verdict.objects.values_list("slug", flat=True))
            self.problem(
                "verdict.slug",
                f"no verdict “{slug}” on this site's rating scale (it has: {known})",
            )
        return found

    def answered_by(self, question: dict, path: str) -> Report | None:
        value = question.get("answered_by")
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(
                _join(path, "answered_by"), f"expected a slug or null, found {_describe(value)}"
            )
            return None
        # The report live at that address, else a report of that slug; none: left unanswered.
        live = PublishedVersion.objects.live().filter(slug=value).select_related("report").first()
        return live.report if live else Report.objects.filter(slug=value).first()

    def topics(self, data: dict) -> list[tuple[str, str]]:
        topics = {}
        for index, topic in enumerate(self.list(data, "topics", "")):
            path = f"topics[{index}]"
            if self.object(topic, path, required=("slug", "name")) is None:
                continue
            slug = self.text(topic, "slug", path, max_length=_max_length(Topic, "slug"))
            name = self.text(
                topic, "name", path, max_length=_max_length(Topic, "name"), blank=False
            )
            try:
                validate_slug(slug)
            except ValidationError:
                self.problem(f"{path}.slug", f"“{slug}” is not a slug")
                continue
            if Topic.objects.filter(slug=slug).exists():
                topics[slug] = name
                continue
            other = Topic.objects.filter(name=name).first()
            if other is not None:
                self.problem(
                    f"{path}.name",
                    f"the topic “{name}” exists here under the slug “{other.slug}”, not “{slug}”",
                )
            elif name.strip():
                topics[slug] = name
        return list(topics.items())

    def references(self, data: dict, draft: dict) -> None:
        numbers: dict[int, int] = {}
        for index, reference in enumerate(self.list(data, "references", "")):
            path = f"references[{index}]"
            reference = self.object(
                reference, path, required=("number",), optional=("pinpoint", "source")
            )
            if reference is None:
                continue
            number = reference.get("number")
            if isinstance(number, bool) or not isinstance(number, int):
                shown = _describe(number) if not isinstance(number, float) else str(number)
                self.problem(f"{path}.number", f"expected a whole number, found {shown}")
                continue
            if not citations.is_valid_number(number):
                self.problem(
                    f"{path}.number",
                    f"{number} is not a reference number "
                    f"(1 to {citations.HIGHEST_REFERENCE_NUMBER})",
                )
                continue
            if number in numbers:
                self.problem(
                    f"{path}.number", f"{number} is the number of references[{numbers[number]}] too"
                )
                continue
            numbers[number] = index
            pinpoint = self.text(
                reference, "pinpoint", path, max_length=_max_length(Reference, "pinpoint")
            )
            source = reference.get("source")
            entry = None if source is None else self.source(source, f"{path}.source")
            if source is not None and entry is None:
                continue
            draft["references"].append((number, pinpoint))
            draft["entries"].append(entry)

    def source(self, value, path: str) -> Entry | None:
        source = self.object(value, path, required=("title",), optional=SOURCE_FIELDS)
        if source is None:
            return None
        before = len(self.problems)
        entry = Entry(where=path, labels=SOURCE_LABELS)
        entry.title = self.text(source, "title", path)
        entry.url = self.text(source, "url", path)
        entry.doi = self.text(source, "doi", path)
        entry.language = self.text(source, "language", path)
        entry.archive_url = self.text(source, "archive_url", path)
        for index, name in enumerate(self.list(source, "authors", path)):
            if not isinstance(name, str):
                self.problem(f"{path}.authors[{index}]", f"expected text, found {_describe(name)}")
            elif "\n" in name or "\r" in name:
                self.problem(f"{path}.authors[{index}]", "one name, on one line")
            elif name.strip():
                entry.authors.append(name.strip())
        entry.published = self.partial_date(source, "published_on", path)
        entry.accessed = self.partial_date(source, "accessed_on", path)
        entry.archive_date = self.partial_date(source, "archive_date", path)
        kind = self.text(source, "kind", path)
        if kind:
            entry.kind = choice_value(Source.Kind.choices, kind)
            if entry.kind is None:
                known = ", ".join(Source.Kind.values)
                self.problem(f"{path}.kind", f"“{kind}” is not a kind (one of {known})")
        status = self.text(source, "url_status", path)
        if status:
            entry.url_status = choice_value(Source.UrlStatus.choices, status)
            if entry.url_status is None:
                known = ", ".join(Source.UrlStatus.values)
                self.problem(
                    f"{path}.url_status", f"“{status}” is not a URL status (one of {known})"
                )
        publisher = source.get("publisher")
        if publisher is not None:
            where = f"{path}.publisher"
            if self.object(publisher, where, required=("name",), optional=("domain",)) is not None:
                entry.publisher_name = self.text(publisher, "name", where)
                entry.publisher_domain = self.text(publisher, "domain", where)
        if len(self.problems) > before:
            return None
        entry.finish()
        # Refusals of the shared rules (a bad DOI, URL or length) are reported with the plan.
        return entry


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value) -> str:
    return f"“{value}”" if isinstance(value, str) else _describe(value)
