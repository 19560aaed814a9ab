"""Importing a report from the plain-text layout as a new draft.

The one service behind `manage.py import_report`, the admin's "Import from text" page and
the demo loader: read first (`reports.formats.text_reading.read_text`), then save everything in one
transaction, so a text that cannot be read leaves nothing behind.

`preview_import` reads without saving: the admin shows it before the editor confirms.
Both return an `ImportResult` with the mapping notes (what went where, what page furniture
was left out) and the problems the draft has: what a cut-off text is missing (read as
partial) and what the publish check finds, besides the verdict and the sources every
imported draft still needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import reversion
from django.db import transaction

from reports import contributing
from reports.content import ReportContent
from reports.formats.text_reading import read_text
from reports.models import FollowUpQuestion, Reference, Report, Section, create_with_free_slug
from reports.publishing import Problem, check_content

# The largest file or pasted text an import reads, in bytes: a report at every field's limit
# is about a tenth of this. Checked before a file is read whole (README, "Importing reports").
MAX_IMPORT_SIZE = 1_000_000
# Every imported draft has these left to do; they are said once, not listed as problems.
_ALWAYS_TO_DO = {"verdict", "references"}


@dataclass(frozen=True)
class ImportResult:
    """A text read for import: what the draft holds, how it was read, what it lacks."""

    content: ReportContent
    layout: str
    notes: tuple[str, ...]  # how the text was mapped, for the editor
    problems: tuple[Problem, ...]  # what the draft lacks: gaps of a cut-off text, then checks
    report: Report | None = None  # None for a preview: nothing is saved

    @property
    def reference_count(self) -> int:
        return len(self.content.references)


def too_large(name: str, size: int) -> str | None:
    """The refusal for an import of `size` bytes from `name`, or None if it may be read."""
    if size <= MAX_IMPORT_SIZE:
        return None
    return f"{name}: too large ({size:,} bytes; the limit is {MAX_IMPORT_SIZE:,})"


def preview_import(text: str, *, filename: str = "<text>", partial: bool = False) -> ImportResult:
    """What importing `text` would create, saving nothing.

    Raises `reports.formats.errors.TextFormatError` if the text cannot be read, naming the
    line where it stops making sense; with `partial`, only if no claim can be found in it
    or what was read cannot be stored (a field over its limit, an impossible reference).
    """
    reading = read_text(text, filename=filename, partial=partial)
    checks = check_content(reading.content, has_verdict=False)
    return ImportResult(
        content=reading.content,
        layout=reading.layout,
        notes=reading.notes,
        problems=(
            *(Problem(gap) for gap in reading.gaps),
            *(problem for problem in checks if problem.field not in _ALWAYS_TO_DO),
        ),
    )


def import_text(
    text: str, *, filename: str = "<text>", author=None, partial: bool = False
) -> ImportResult:
    """Create a draft report from `text`, with its sections, questions and references.

    `author` is recorded as its author and last editor. Each reference number cited
    becomes a reference still to link to a source. Raises `TextFormatError`, having saved
    nothing, if the text cannot be read (see `preview_import`).
    """
    result = preview_import(text, filename=filename, partial=partial)
    return dataclasses.replace(result, report=_save(result.content, author, filename))


def import_report(text: str, *, filename: str = "<text>", author=None) -> Report:
    """`import_text` of a complete report, returning the draft."""
    return import_text(text, filename=filename, author=author).report


def _save(content: ReportContent, author, filename: str) -> Report:
    with transaction.atomic(), reversion.create_revision():
        report = create_with_free_slug(
            claim=content.claim,
            verdict=None,
            checked_on=content.checked_on,
            summary=content.summary,
            conclusion_heading=content.conclusion_heading,
            conclusion=content.conclusion,
            author=author,
            created_by=author,
            last_edited_by=author,
            status=Report.Status.DRAFT,
        )
        Section.objects.bulk_create(
            Section(report=report, position=position, heading=s.heading, body=s.body)
            for position, s in enumerate(content.sections, start=1)
        )
        FollowUpQuestion.objects.bulk_create(
            FollowUpQuestion(report=report, position=position, question=q.question)
            for position, q in enumerate(content.questions, start=1)
        )
        Reference.objects.bulk_create(
            Reference(report=report, number=r.number) for r in content.references
        )
        reversion.add_to_revision(report)  # again, now that it has its parts to follow
        if author is not None:
            reversion.set_user(author)
        reversion.set_comment(f"Imported from {filename}.")
        contributing.record(report, by=author, what=f"Imported it from {filename}.")
    return report
