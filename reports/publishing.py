"""Publishing checks and snapshots: what a report must pass, and what readers get.

Making a version live is a workflow step: see `reports.workflow.publish`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass

from reports import citations
from reports.content import CitedSource, ReferenceContent, ReportContent
from reports.models import PublishedVersion, Report
from reports.rendering import render_body


@dataclass(frozen=True)
class Problem:
    """Something that stops a report from being published, in words an editor can act on."""

    message: str
    field: str = ""  # the form field to fix, where there is one
    # For a paragraph of cited text: its part (as `ReportContent.cited_texts` names it) and
    # number, so the editor can be shown the problem beside the paragraph.
    part: str = ""
    paragraph: int = 0

    def __str__(self):
        return self.message

    @property
    def about_paragraph(self) -> str:
        """The message without the part and paragraph it names ("has no citation.")."""
        return self.message.removeprefix(f"{self.part}, paragraph {self.paragraph} ")


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
            at = {"part": part, "paragraph": paragraph.number}
            if not paragraph.is_cited:
                problems.append(Problem(f"{where} has no citation.", field, **at))
            for unclear in paragraph.unclear:
                problems.append(
                    Problem(
                        f"{where} has “{unclear.written}”, which is not a citation Factually "
                        f"can read: {unclear.advice}.",
                        field,
                        **at,
                    )
                )
            for number in dict.fromkeys(paragraph.markers):
                cited[number] += 1
                if not citations.is_valid_number(number):
                    problems.append(
                        Problem(
                            f"{where} has [{number}], which is not a valid reference number.",
                            field,
                            **at,
                        )
                    )
                elif number not in references:
                    problems.append(
                        Problem(
                            f"{where} cites [{number}], which is not a reference of this report.",
                            field,
                            **at,
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
        elif not reference.source.can_be_consulted:
            problems.append(
                Problem(
                    f"Reference [{number}] cites “{reference.source.title}”, which has neither "
                    "URL nor identifier: say where it can be consulted (the source’s “where to "
                    "find it”).",
                    "references",
                )
            )
        if not cited[number]:
            problems.append(Problem(f"Reference [{number}] is never cited.", "references"))
    return problems


def preview(report: Report) -> PublishedVersion:
    """The working copy as it would be published, unsaved: what staff previews show."""
    version = freeze(report)
    # Listed on the page as `PublishedVersionQuerySet.with_topic_links` lists a live version's.
    version.topics_json = [{"name": t.name, "slug": t.slug} for t in report.topics.all()]
    return version


def freeze(
    report: Report,
    *,
    content: ReportContent | None = None,
    rendering: dict[str, str] | None = None,
) -> PublishedVersion:
    """An unsaved snapshot of the working copy; `reports.workflow` numbers and saves it.

    A caller that built the working copy itself may pass its `content` (else it is read),
    and `rendering`, what `rendered(content)` gives, when made elsewhere: `generate_reports`
    does both, to render in worker processes and bulk-insert what this returns.
    """
    if content is None:
        content = ReportContent.from_report(report)
    if rendering is None:
        rendering = rendered(content)
    return PublishedVersion(
        report=report,
        slug=report.slug,
        claim=content.claim,
        claimant=report.claimant,
        claimant_type=report.claimant_type,
        claim_date=report.claim_date,
        claim_url=report.claim_url,
        verdict=report.verdict,
        checked_on=content.checked_on,
        content=content.to_json(),
        **rendering,
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


# What the reviewer approved -------------------------------------------------------------
#
# A reviewer approves the working copy they were shown: its `edit_version` (raised by every
# save) and the details of the sources it cites, which curators can change without saving
# the report. The sources' fingerprint lists, per reference, its number, the source's ID and
# a digest of each detail readers see, so a refusal can say which reference changed and how.
# Every digest is 64 bits of SHA-256: no curator can craft a new URL with the old digest.

# The source details a fingerprint covers, as a reviewer names them.
SOURCE_DETAILS = ("title", "URL", "archive URL", "status", "other details")


@dataclass(frozen=True)
class Approval:
    """The state of a working copy a reviewer was shown and approves by publishing it."""

    edit_version: int
    sources: str  # sources_fingerprint() of its references


def approval(report: Report) -> Approval:
    """What a reviewer looking at `report` now is shown (one query for its references)."""
    return Approval(report.edit_version, sources_fingerprint(working_references(report)))


def working_references(report: Report) -> tuple[ReferenceContent, ...]:
    """The working copy's references with their sources' details, as `freeze` would keep them."""
    return ReportContent.references_of(report)


def frozen_references(version: PublishedVersion | dict) -> tuple[ReferenceContent, ...]:
    """The references a published version froze, from the version or its `content`."""
    content = version.content if isinstance(version, PublishedVersion) else version
    return tuple(ReferenceContent.from_json(r) for r in content["references"])


def sources_fingerprint(references) -> str:
    """One string standing for the numbers, sources and shown source details of `references`."""
    return ";".join(
        ":".join([str(r.number), str(r.source.id) if r.source else "-", *_detail_digests(r.source)])
        for r in sorted(references, key=lambda r: r.number)
    )


def source_changes(before: str, references) -> list[str]:
    """What differs between the fingerprint `before` and `references` now, in a reviewer's words.

    Empty when nothing differs.
    """
    old = _parse_fingerprint(before)
    if old is None:
        return ["The cited sources could not be compared with what was approved."]
    new = {r.number: r for r in references}
    changes = []
    for number in sorted(old.keys() | new.keys()):
        if number not in new:
            changes.append(f"Reference [{number}] was removed.")
            continue
        reference = new[number]
        title = f"“{reference.source.title}”" if reference.source else "(no source)"
        if number not in old:
            changes.append(f"Reference [{number}] was added, citing {title}.")
            continue
        source_id, digests = old[number]
        if source_id != (str(reference.source.id) if reference.source else "-"):
            changes.append(
                f"Reference [{number}] now cites another source: {title} "
                "(the sources were merged, or the reference was repointed)."
            )
            continue
        changed = [
            name
            for name, was, now in zip(
                SOURCE_DETAILS, digests, _detail_digests(reference.source), strict=True
            )
            if was != now
        ]
        if changed:
            changes.append(f"Source [{number}] {title} changed: {', '.join(changed)}.")
    return changes


def _detail_digests(source: CitedSource | None) -> list[str]:
    if source is None:
        return ["-"] * len(SOURCE_DETAILS)
    other = [source.publisher, list(source.authors), str(source.published_on or ""), source.kind]
    # Only when there are any: approvals given before sources had them still compare equal.
    if source.identifiers or source.where_to_find:
        other.append({**source.identifiers, "where_to_find": source.where_to_find})
    values = [source.title, source.url, source.archive_url, source.is_active, other]
    return [_digest(value) for value in values]


def _digest(value) -> str:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def _parse_fingerprint(fingerprint: str) -> dict[int, tuple[str, list[str]]] | None:
    parsed = {}
    for part in filter(None, fingerprint.split(";")):
        fields = part.split(":")
        if len(fields) != 2 + len(SOURCE_DETAILS) or not fields[0].isdigit():
            return None
        parsed[int(fields[0])] = (fields[1], fields[2:])
    return parsed
