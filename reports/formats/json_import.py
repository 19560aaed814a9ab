"""Importing a factually.report/1 document (`reports.formats.jsonformat`) as a new draft.

`import_json` reads a document back as a new draft report, in one transaction: sources
are matched to the library by normalised URL or DOI or created with every detail (through
`sources.interchange`, as source imports are), publishers matched by domain or created,
topics matched by slug or created, the verdict found by slug. A document that cannot be
read raises `JsonFormatError`, naming the JSON path of each bad field, and saves nothing.

The document's shape (which keys, of which JSON types, text on one line, dates written
as dates) is checked against the published JSON Schema, ``reports/schema/report-v1.json``,
so the schema and the reader cannot drift apart; the reader words each of the schema's
findings as users have always read them ("sections[2].heading: must be one line") and
checks by hand what the schema cannot say: lengths from the models, blank text, real
calendar days, slugs and verdicts known here, reference numbers, kinds and URL statuses.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction

from reports import citations, contributing
from reports.formats.errors import JsonFormatError, describe, join, parse_json, shown
from reports.formats.json_schema import ONE_LINE, SchemaFindings
from reports.formats.jsonformat import PUBLICATION, SCHEMA, SOURCE_LABELS
from reports.models import (
    ClaimantType,
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from sources.interchange.common import Entry, PartialDate, choice_value
from sources.interchange.plan import Action, build_plan
from sources.models import Source


def import_json(text: str, *, filename: str = "", author=None) -> Report:
    """Create a draft report from a factually.report/1 document, with everything it cites.

    Raises `JsonFormatError`, having saved nothing, if the document cannot be imported:
    malformed JSON, a missing or mistyped field, an unknown verdict, a slug already taken.
    """
    data = parse_json(text, filename=filename)
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


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class _Reader:
    """Checks a parsed document field by field, collecting problems under their JSON paths."""

    def __init__(self):
        self.problems: list[tuple[str, str]] = []
        self.schema: SchemaFindings | None = None  # set once the document is an object

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # Shapes

    def object(self, value, path: str) -> dict | None:
        """`value` if it is an object, its missing and unknown keys reported; else None."""
        if self.schema.wrong(path, "type"):
            self.problem(path, f"expected an object ({{…}}), found {describe(value)}")
            return None
        for key in self.schema.missing(path):
            self.problem(join(path, key), "missing")
        for key in self.schema.unknown(path):
            self.problem(join(path, key), f"not a field of {SCHEMA}")
        return value

    def list(self, data: dict, key: str, path: str) -> list:
        value = data.get(key, [])
        if self.schema.wrong(join(path, key), "type"):
            self.problem(join(path, key), f"expected a list ([…]), found {describe(value)}")
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
    ) -> str:
        where = join(path, key)
        if key not in data:
            return ""
        value = data[key]
        if self.schema.wrong(where, "type"):
            self.problem(where, f"expected text, found {describe(value)}")
            return ""
        if not blank and not value.strip():
            self.problem(where, "empty")
        # From the model, not the schema: the database is what would refuse it.
        if max_length is not None and len(value) > max_length:
            self.problem(where, f"too long: {len(value)} characters, at most {max_length}")
        if self.schema.wrong(where, "pattern", ONE_LINE):
            self.problem(where, "must be one line")
        return value

    def date(self, data: dict, key: str, path: str) -> datetime.date | None:
        value = data.get(key)
        if value is None:
            return None
        where = join(path, key)
        if self.schema.anything_wrong(where):
            self.problem(where, f"expected a date as YYYY-MM-DD or null, found {shown(value)}")
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(where, f"{shown(value)} is not a day of the calendar")
            return None

    def partial_date(self, data: dict, key: str, path: str) -> PartialDate | None:
        value = data.get(key)
        if value is None:
            return None
        where = join(path, key)
        if self.schema.anything_wrong(where):
            self.problem(
                where,
                f"expected a date as YYYY-MM-DD, YYYY-MM or YYYY, or null, found {shown(value)}",
            )
            return None
        try:
            return PartialDate.from_iso(value)
        except ValueError as error:
            self.problem(where, str(error))
            return None

    def choice(self, data: dict, key: str, path: str, choices, what: str) -> str | None:
        """The choice `data[key]` names, by value or label; None if it names none.

        By hand: the schema's "enum" knows the values only, and says nothing of them.
        """
        value, where = data.get(key), join(path, key)
        if key not in data or value == "":
            return None
        if not isinstance(value, str):
            self.problem(where, f"expected text, found {describe(value)}")
            return None
        found = choice_value(choices.choices, value)
        if found is None:
            known = ", ".join(choices.values)
            self.problem(where, f"“{value}” is not {what} (one of {known})")
        return found

    def url(self, data: dict, key: str, path: str, *, max_length: int) -> str:
        value = self.text(data, key, path, max_length=max_length).strip()
        if value:
            try:
                URLValidator()(value)
            except ValidationError:
                self.problem(join(path, key), f"“{value}” is not a web address (http or https)")
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
            self.problem("", f"a report is a JSON object ({{…}}); this is {describe(data)}")
            return draft
        schema = data.get("schema")
        if schema != SCHEMA:
            if schema is None:
                self.problem("schema", f"missing: a report document says “schema”: “{SCHEMA}”")
            else:
                self.problem(
                    "schema", f"{shown(schema)} is not a format this site reads ({SCHEMA})"
                )
            return draft
        # The publication history is ignored on import: only its being an object is checked.
        self.schema = SchemaFindings({k: v for k, v in data.items() if k != PUBLICATION})
        self.object(data, "")

        report = draft["report"]
        report["slug"] = self.slug(data)
        report["claim"] = self.text(
            data, "claim", "", max_length=_max_length(Report, "claim"), blank=False
        )
        report["claimant"] = self.text(
            data, "claimant", "", max_length=_max_length(Report, "claimant")
        )
        report["claimant_type"] = (
            self.choice(data, "claimant_type", "", ClaimantType, "a claimant type")
            or ClaimantType.UNKNOWN
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
            conclusion = self.object(data["conclusion"], "conclusion")
        if conclusion is not None:
            report["conclusion_heading"] = self.text(
                conclusion,
                "heading",
                "conclusion",
                max_length=_max_length(Report, "conclusion_heading"),
            )
            report["conclusion"] = self.text(
                conclusion, "text", "conclusion", max_length=_max_length(Report, "conclusion")
            )

        for index, section in enumerate(self.list(data, "sections", "")):
            path = f"sections[{index}]"
            if self.object(section, path) is not None:
                heading = self.text(
                    section,
                    "heading",
                    path,
                    max_length=_max_length(Section, "heading"),
                    blank=False,
                )
                body = self.text(section, "body", path, max_length=_max_length(Section, "body"))
                draft["sections"].append((heading, body))
        for index, question in enumerate(self.list(data, "questions", "")):
            path = f"questions[{index}]"
            question = self.object(question, path)
            if question is not None:
                text = self.text(
                    question,
                    "question",
                    path,
                    max_length=_max_length(FollowUpQuestion, "question"),
                    blank=False,
                )
                draft["questions"].append((text, self.answered_by(question, path)))
        draft["topics"] = self.topics(data)
        self.references(data, draft)
        if data.get(PUBLICATION) is not None and not isinstance(data.get(PUBLICATION), dict):
            self.problem(
                PUBLICATION, f"expected an object ({{…}}), found {describe(data[PUBLICATION])}"
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
        verdict = self.object(value, "verdict")
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
        if self.schema.wrong(join(path, "answered_by"), "type"):
            self.problem(
                join(path, "answered_by"), f"expected a slug or null, found {describe(value)}"
            )
            return None
        # The report live at that address, else a report of that slug; none: left unanswered.
        live = PublishedVersion.objects.live().filter(slug=value).select_related("report").first()
        return live.report if live else Report.objects.filter(slug=value).first()

    def topics(self, data: dict) -> list[tuple[str, str]]:
        topics = {}
        for index, topic in enumerate(self.list(data, "topics", "")):
            path = f"topics[{index}]"
            if self.object(topic, path) is None:
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
            reference = self.object(reference, path)
            if reference is None:
                continue
            number = reference.get("number")
            if isinstance(number, bool) or not isinstance(number, int):
                # By hand: the schema's "integer" would take 1.0.
                found = describe(number) if not isinstance(number, float) else str(number)
                self.problem(f"{path}.number", f"expected a whole number, found {found}")
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
        source = self.object(value, path)
        if source is None:
            return None
        before = len(self.problems)
        entry = Entry(where=path, labels=SOURCE_LABELS)
        entry.title = self.text(source, "title", path)
        entry.url = self.text(source, "url", path)
        for name in ("doi", "isbn", "pmid", "arxiv_id", "handle", "where_to_find"):
            setattr(entry, name, self.text(source, name, path))
        entry.language = self.text(source, "language", path)
        entry.archive_url = self.text(source, "archive_url", path)
        for index, name in enumerate(self.list(source, "authors", path)):
            where = f"{path}.authors[{index}]"
            if self.schema.wrong(where, "type"):
                self.problem(where, f"expected text, found {describe(name)}")
            elif self.schema.wrong(where, "pattern", ONE_LINE):
                self.problem(where, "one name, on one line")
            elif name.strip():
                entry.authors.append(name.strip())
        entry.published = self.partial_date(source, "published_on", path)
        entry.accessed = self.partial_date(source, "accessed_on", path)
        entry.archive_date = self.partial_date(source, "archive_date", path)
        entry.kind = self.choice(source, "kind", path, Source.Kind, "a kind") or entry.kind
        entry.url_status = (
            self.choice(source, "url_status", path, Source.UrlStatus, "a URL status")
            or entry.url_status
        )
        publisher = source.get("publisher")
        if publisher is not None:
            where = f"{path}.publisher"
            if self.object(publisher, where) is not None:
                entry.publisher_name = self.text(publisher, "name", where)
                entry.publisher_domain = self.text(publisher, "domain", where)
        if len(self.problems) > before:
            return None
        entry.finish()
        # Refusals of the shared rules (a bad DOI, URL or length) are reported with the plan.
        return entry
