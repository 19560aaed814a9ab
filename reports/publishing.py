"""Publishing checks and snapshots: what a report must pass, and what readers get.

Making a version live is a workflow step: see `reports.workflow.publish`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reports import citations
from reports.content import ReportContent
from reports.models import PublishedVersion, Report
from reports.rendering import render_body


@dataclass(frozen=True)
class Problem:
    """Something that stops a report from being published, in words an editor can act on."""

    message: str
    field: str = ""  # the form field to fix, where there is one

    def __str__(self):
        return self.message


def check(report: Report) -> list[Problem]:
    """Every reason `report` cannot be published now; an empty list means it can."""
    return check_content(
        ReportContent.from_report(report), has_verdict=report.verdict_id is not None
    ) + check_address(report.slug, report_id=report.pk)


def check_address(slug: str, *, report_id: int | None) -> list[Problem]:
    """Whether another report's live page already has the address `slug` (one query)."""
    other = (
        PublishedVersion.objects.live()
        .filter(slug=slug)
        .exclude(report_id=report_id)
        .values_list("claim", flat=True)
        .first()
    )
    if other is None:
        return []
    return [
        Problem(
            f"The address “{slug}” is taken by the live report “{other}”: choose another slug.",
            "slug",
        )
    ]


def check_content(content: ReportContent, *, has_verdict: bool) -> list[Problem]:
    problems = []
    if not content.claim.strip():
        problems.append(Problem("The claim is missing.", "claim"))
    if not has_verdict:
        problems.append(Problem("No verdict is chosen.", "verdict"))
    if content.checked_on is None:
        problems.append(Problem("The “checked on” date is missing.", "checked_on"))
    if not content.summary.strip():
        problems.append(Problem("The executive summary is empty.", "summary"))
    if not content.sections:
        problems.append(Problem("The report has no sections.", "sections"))
    for number, section in enumerate(content.sections, start=1):
        if not section.heading.strip():
            problems.append(Problem(f"Section {number} has no heading.", "sections"))
        if not section.body.strip():
            problems.append(Problem(f"Section {number} has no text.", "sections"))
    if not content.conclusion_heading.strip():
        problems.append(Problem("The conclusion has no heading.", "conclusion_heading"))
    if not content.conclusion.strip():
        problems.append(Problem("The conclusion is empty.", "conclusion"))

    references = {reference.number: reference for reference in content.references}
    cited = Counter()
    for part, field, text in content.cited_texts:
        for paragraph in citations.parse(text):
            where = f"{part}, paragraph {paragraph.number}"
            if not paragraph.is_cited:
                problems.append(Problem(f"{where} has no citation.", field))
            for number in dict.fromkeys(paragraph.markers):
                cited[number] += 1
                if not citations.is_valid_number(number):
                    problems.append(
                        Problem(
                            f"{where} has [{number}], which is not a valid reference number.",
                            field,
                        )
                    )
                elif number not in references:
                    problems.append(
                        Problem(
                            f"{where} cites [{number}], which is not a reference of this report.",
                            field,
                        )
                    )

    for number, reference in sorted(references.items()):
        if reference.source is None:
            problems.append(
                Problem(f"Reference [{number}] is not linked to a source.", "references")
            )
        elif not reference.source.is_active:
            problems.append(
                Problem(
                    f"Reference [{number}] cites a retired source: “{reference.source.title}”.",
                    "references",
                )
            )
        if not cited[number]:
            problems.append(Problem(f"Reference [{number}] is never cited.", "references"))
    return problems


def preview(report: Report) -> PublishedVersion:
    """The working copy as it would be published, unsaved: what staff previews show."""
    return freeze(report)


def freeze(report: Report) -> PublishedVersion:
    """An unsaved snapshot of the working copy; `reports.workflow` numbers and saves it."""
    content = ReportContent.from_report(report)
    return PublishedVersion(
        report=report,
        slug=report.slug,
        claim=content.claim,
        claimant=report.claimant,
        claim_date=report.claim_date,
        claim_url=report.claim_url,
        verdict=report.verdict,
        checked_on=content.checked_on,
        content=content.to_json(),
        **rendered(content),
    )


def rendered(content: ReportContent) -> dict[str, str]:
    """What a version keeps rendered from its content: the plain texts lists and search
    read, and the sanitised HTML readers see. Also how archived versions are restored."""
    return {
        "summary_text": citations.plain_text(content.summary),
        "body_text": body_text(content),
        "body_html": render_body(content),
    }


def body_text(content: ReportContent) -> str:
    """The words of the sections and conclusion, headings included, for full-text search."""
    parts = []
    for section in content.sections:
        parts += [section.heading, citations.plain_text(section.body)]
    parts += [content.conclusion_heading, citations.plain_text(content.conclusion)]
    return "\n".join(part for part in parts if part)
