"""The report as the editor's form holds it, unsaved: its content, checks and preview.

The report editor posts its whole form (fields and inline rows, new ones included) while the
editor types; this reads it leniently, never saves, and answers with the same publish checks
(`reports.publishing`) and the same renderer (`reports.rendering`) as a saved report gets.
A few queries whatever the report's size: the verdict, the cited sources (one query), the
address check and the preview's follow-up links.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from reports import citations, publishing
from reports.content import (
    CitedSource,
    QuestionContent,
    ReferenceContent,
    ReportContent,
    SectionContent,
)
from reports.models import PublishedVersion, Report, Verdict
from sources.models import Source

# The admin's inline formset prefixes (each relation's name).
SECTIONS, REFERENCES, QUESTIONS = "sections", "references", "questions"


@dataclass(frozen=True)
class UnsavedReport:
    """A report read from its posted form: what is checked, and where each cited text is."""

    content: ReportContent
    verdict: Verdict | None
    slug: str
    # The HTML id of the textarea of each of `content.cited_texts`, in the same order.
    text_ids: tuple[str, ...]
    # Every section body textarea the form has, kept or not (deleted, left blank).
    section_text_ids: tuple[str, ...]


@dataclass(frozen=True)
class ParagraphStatus:
    number: int
    markers: tuple[int, ...]
    problems: tuple[str, ...]  # each `Problem.about_paragraph`, empty when all is well


def read(data: QueryDict) -> UnsavedReport:
    """The report in `data`, a POST of the report change (or add) form, nothing saved."""
    sections = [
        (prefix, row)
        for prefix, row in _rows(data, SECTIONS)
        if row.get("heading", "").strip() or row.get("body", "").strip()
    ]
    # Saved sections are ordered by position, then by when they were added (their row).
    sections.sort(key=lambda item: _int(item[1].get("position")) or 0)
    references = [
        (number, row)
        for _, row in _rows(data, REFERENCES)
        if (number := _int(row.get("number"))) is not None
    ]
    source_ids = {i for _, row in references if (i := _int(row.get("source"))) is not None}
    sources = Source.objects.select_related("publisher").in_bulk(source_ids) if source_ids else {}
    verdict_id = _int(data.get("verdict"))
    content = ReportContent(
        claim=data.get("claim", ""),
        checked_on=_date(data.get("checked_on", "")),
        summary=data.get("summary", ""),
        sections=tuple(
            SectionContent(heading=row.get("heading", ""), body=row.get("body", ""))
            for _, row in sections
        ),
        conclusion_heading=data.get("conclusion_heading", ""),
        conclusion=data.get("conclusion", ""),
        questions=tuple(
            QuestionContent(question=row["question"], answered_by_id=_int(row.get("answered_by")))
            for _, row in _rows(data, QUESTIONS)
            if row.get("question", "").strip()
        ),
        references=tuple(
            ReferenceContent(
                number=number,
                source=CitedSource.from_source(source)
                if (source := sources.get(_int(row.get("source")))) is not None
                else None,
                pinpoint=row.get("pinpoint", ""),
            )
            for number, row in sorted(references, key=lambda item: item[0])
        ),
    )
    return UnsavedReport(
        content=content,
        verdict=Verdict.objects.filter(pk=verdict_id).first() if verdict_id else None,
        slug=data.get("slug", ""),
        text_ids=(
            "id_summary",
            *(f"id_{prefix}-body" for prefix, _ in sections),
            "id_conclusion",
        ),
        section_text_ids=tuple(f"id_{prefix}-body" for prefix, _ in _rows(data, SECTIONS, True)),
    )


def check(unsaved: UnsavedReport, *, report_id: int | None) -> list[publishing.Problem]:
    """What `publishing.check` would say of the report once saved as it is typed."""
    return publishing.check_content(
        unsaved.content, has_verdict=unsaved.verdict is not None
    ) + publishing.check_address(unsaved.slug, report_id=report_id)


def paragraphs(
    unsaved: UnsavedReport, problems: list[publishing.Problem]
) -> dict[str, list[ParagraphStatus]]:
    """For each cited textarea (by HTML id), each paragraph's markers and problems."""
    found: dict[tuple[str, int], list[str]] = {}
    for problem in problems:
        if problem.paragraph:
            found.setdefault((problem.part, problem.paragraph), []).append(problem.about_paragraph)
    statuses = {text_id: [] for text_id in unsaved.section_text_ids}
    for text_id, (part, _, text) in zip(unsaved.text_ids, unsaved.content.cited_texts, strict=True):
        statuses[text_id] = [
            ParagraphStatus(
                number=paragraph.number,
                markers=tuple(dict.fromkeys(paragraph.markers)),
                problems=tuple(found.get((part, paragraph.number), ())),
            )
            for paragraph in citations.parse(text)
        ]
    return statuses


def preview(unsaved: UnsavedReport) -> PublishedVersion:
    """The report as readers would see it once published, unsaved (see `publishing.freeze`)."""
    report = Report(slug=unsaved.slug, claim=unsaved.content.claim, verdict=unsaved.verdict)
    return publishing.freeze(report, content=unsaved.content)


def _rows(data: QueryDict, prefix: str, deleted: bool = False) -> list[tuple[str, dict]]:
    """The rows of the inline formset `prefix` as posted, without those marked for deletion
    unless `deleted`: (each row's prefix, its fields)."""
    total = min(_int(data.get(f"{prefix}-TOTAL_FORMS")) or 0, 1000)
    rows = []
    for index in range(total):
        row_prefix = f"{prefix}-{index}"
        fields = {
            key.removeprefix(f"{row_prefix}-"): value
            for key, value in data.items()
            if key.startswith(f"{row_prefix}-")
        }
        if deleted or not fields.get("DELETE"):
            rows.append((row_prefix, fields))
    return rows


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _date(value: str):
    # As the form would read it (the admin's date formats); unreadable is missing.
    try:
        return forms.DateField().to_python(value)
    except ValidationError:
        return None
