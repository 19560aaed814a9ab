"""Render report content to the HTML readers see: frozen at publishing, live in previews."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from reports import citations
from reports.content import ReportContent
from reports.models import PublishedVersion, recheck_cutoff

# `_body.html` writes this between the report's text and its reference list, so the page
# can show the follow-up questions (whose links are live) between the two parts.
REFERENCES_MARK = "<!-- references -->"


def render_body(content: ReportContent) -> str:
    """The summary, numbered sections, conclusion and reference list as one HTML fragment."""
    known = {reference.number for reference in content.references}
    document = citations.new_document(known)
    summary = citations.render(content.summary, env=document)
    sections = [
        {
            "number": number,
            "heading": section.heading,
            "html": citations.render(section.body, env=document),
        }
        for number, section in enumerate(content.sections, start=1)
    ]
    conclusion = {
        "number": content.conclusion_number,
        "heading": content.conclusion_heading,
        "html": citations.render(content.conclusion, env=document),
    }
    anchors = document["citations"].anchors
    references = [
        {
            "reference": reference,
            "backlinks": anchors.get(reference.number, []),
        }
        for reference in content.references
    ]
    return render_to_string(
        "reports/_body.html",
        {
            "summary": summary,
            "sections": sections,
            "conclusion": conclusion,
            "references": references,
        },
    )


def follow_up_questions(version: PublishedVersion) -> list[dict]:
    """The version's follow-up questions, each with the URL of the live report answering it."""
    questions = version.content.get("questions", [])
    answered = {q["answered_by_id"] for q in questions if q["answered_by_id"]}
    urls = {}
    if answered:
        urls = {
            report_id: reverse("reports:detail", kwargs={"slug": slug})
            for report_id, slug in PublishedVersion.objects.live()
            .filter(report_id__in=answered)
            .values_list("report_id", "slug")
        }
    return [{"text": q["question"], "url": urls.get(q["answered_by_id"])} for q in questions]


def split_body(body_html: str) -> tuple[SafeString, SafeString]:
    """The frozen body as (text, reference list); versions frozen without the mark keep
    their reference list inside the text."""
    text, _, references = body_html.partition(REFERENCES_MARK)
    # Rendered by our own template from sanitised parts, at publishing.
    return mark_safe(text), mark_safe(references)  # noqa: S308


def page_context(version: PublishedVersion) -> dict:
    """What `reports/detail.html` needs to show `version`, live or previewed."""
    text, references = split_body(version.body_html)
    return {
        "version": version,
        "body_html": text,
        "references_html": references,
        "questions": follow_up_questions(version),
        # Checked longer ago than the newsroom's re-check period: readers are told.
        "is_outdated": version.checked_on is not None and version.checked_on < recheck_cutoff(),
        "recheck_after_days": settings.FACTUALLY_RECHECK_AFTER_DAYS,
    }
