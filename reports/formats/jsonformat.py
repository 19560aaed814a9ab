"""Reports as JSON: the versioned interchange format ``factually.report/1``, and export.

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

Reading a document back as a new draft is `reports.formats.json_import.import_json`.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from reports.models import PublishedVersion, Report
from sources.interchange.common import choice_value, stored_date
from sources.models import Source, SourceMerge

SCHEMA = "factually.report/1"
# The JSON Schema of SCHEMA (draft 2020-12): import checks documents against it, and so
# can tools outside this code.
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "report-v1.json"
CONTENT_TYPE = "application/json; charset=utf-8"

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
    "isbn",
    "pmid",
    "arxiv_id",
    "handle",
    "where_to_find",
    "archive_url",
    "archive_date",
    "url_status",
)
# Identifiers and the note, as the version froze them (versions frozen before had none).
FROZEN_IDENTIFIERS = ("doi", "isbn", "pmid", "arxiv_id", "handle", "where_to_find")
# Model fields of a source as the document names them (problems are reported in its words).
SOURCE_LABELS = {name: name for name in SOURCE_FIELDS} | {"notes": "notes"}

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
        "claimant_type": version.claimant_type,
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
            **{name: getattr(source, name) for name in FROZEN_IDENTIFIERS},
            archive_url=source.archive_url,
            archive_date=_partial(source, "archive_date"),
            url_status=source.url_status,
        )
    else:
        document.update(
            language="",
            kind=Source.Kind.OTHER,
            url_status=Source.UrlStatus.LIVE,
            **dict.fromkeys(FROZEN_IDENTIFIERS, ""),
        )
    for name in FROZEN_IDENTIFIERS:
        if name in frozen:
            document[name] = frozen[name] or ""
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
