"""Publishing: the checks a report must pass and the one function that publishes it.

Every entry point (admin, `publish_report`, demo loading) calls `publish`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

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


class PublishRefused(Exception):
    """Raised by `publish` with every problem found, never just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def check(report: Report) -> list[Problem]:
    """Every reason `report` cannot be published now; an empty list means it can."""
    return check_content(
        ReportContent.from_report(report), has_verdict=report.verdict_id is not None
    )


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


@transaction.atomic
def publish(report: Report, *, by=None, note: str = "") -> PublishedVersion:
    """Check `report` and freeze it as its new live version, or raise `PublishRefused`."""
    working_copy = report
    # Lock the working copy so two publishers cannot interleave versions.
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("verdict").get(pk=report.pk)
    )
    content = ReportContent.from_report(report)
    problems = check_content(content, has_verdict=report.verdict_id is not None)
    if problems:
        raise PublishRefused(problems)

    now = timezone.now()
    last_number = report.versions.aggregate(last=Max("number"))["last"] or 0
    report.versions.filter(is_live=True).update(is_live=False)
    version = _freeze(report, content)
    version.number = last_number + 1
    version.is_live = True
    version.published_at = now
    version.published_by = by
    version.change_note = note
    version.save()
    # update(), not save(): the edit time must stay older than the publish time.
    Report.objects.filter(pk=report.pk).update(status=Report.Status.PUBLISHED, published_at=now)
    working_copy.status, working_copy.published_at = Report.Status.PUBLISHED, now
    return version


def preview(report: Report) -> PublishedVersion:
    """The working copy as it would be published, unsaved: what staff previews show."""
    return _freeze(report, ReportContent.from_report(report))


def _freeze(report: Report, content: ReportContent) -> PublishedVersion:
    return PublishedVersion(
        report=report,
        slug=report.slug,
        claim=content.claim,
        verdict=report.verdict,
        checked_on=content.checked_on,
        summary_text=citations.plain_text(content.summary),
        content=content.to_json(),
        body_html=render_body(content),
    )
