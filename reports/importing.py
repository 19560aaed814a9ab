"""Importing a report from the plain-text layout as a new draft.

The one service behind `manage.py import_report` and the demo loader: parse first, then
save everything in one transaction, so a file that cannot be read leaves nothing behind.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from reports.models import FollowUpQuestion, PublishedVersion, Reference, Report, Section
from reports.textformat import parse_text

# Long enough to tell reports apart, short enough for a readable URL.
SLUG_LENGTH = 80
# For a claim with no letters or digits slugify can keep (all punctuation, say).
FALLBACK_SLUG = "report"


def import_report(text: str, *, filename: str = "<text>", author=None) -> Report:
    """Create a draft report from `text`, with its sections, questions and references.

    Each reference number cited becomes a reference still to link to a source. Raises
    `reports.textformat.TextFormatError`, having saved nothing, if the text is malformed.
    """
    content = parse_text(text, filename=filename)
    with transaction.atomic():
        report = Report.objects.create(
            claim=content.claim,
            slug=unique_slug(content.claim),
            verdict=None,
            checked_on=content.checked_on,
            summary=content.summary,
            conclusion_heading=content.conclusion_heading,
            conclusion=content.conclusion,
            author=author,
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
    return report


def unique_slug(claim: str) -> str:
    """A slug for `claim` of at most 80 characters that no report or live version uses."""
    full = slugify(claim) or FALLBACK_SLUG
    candidate, counter = _truncate(full, SLUG_LENGTH), 1
    while _slug_taken(candidate):
        counter += 1
        suffix = f"-{counter}"
        candidate = _truncate(full, SLUG_LENGTH - len(suffix)) + suffix
    return candidate


def _slug_taken(slug: str) -> bool:
    # A live version keeps the slug it was published under even if its working copy's
    # slug has changed since; publishing a new report under it would clash.
    return (
        Report.objects.filter(slug=slug).exists()
        or PublishedVersion.objects.live().filter(slug=slug).exists()
    )


def _truncate(slug: str, length: int) -> str:
    """`slug` cut to `length` characters at a word boundary, if it has one to cut at."""
    if len(slug) <= length:
        return slug
    cut = slug[: length + 1]  # keep the next character, to see if a word ends at `length`
    words = cut.rsplit("-", 1)[0] if "-" in cut else ""
    return (words or slug[:length]).strip("-")
