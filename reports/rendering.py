"""Render report content to the HTML readers see: frozen at publishing, live in previews.

A live report page's article is rendered once and stored with its version ("Stored
articles" below): the request adds only what varies.
"""

from __future__ import annotations

import json
import logging
from itertools import pairwise

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from reports import citations
from reports.content import ReportContent
from reports.models import ChangeKind, PublishedVersion, StoredArticle, recheck_cutoff

logger = logging.getLogger(__name__)

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
    return question_links(version.content.get("questions", []))


def question_links(questions: list[dict]) -> list[dict]:
    """Frozen follow-up questions (`question`, `answered_by_id`) as `text` and the `url` of
    the live report answering each, if any (one query if some are answered)."""
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


# How readers are told what a republication did: "Corrected on March 3, 2026: …".
CHANGE_WORDS = {
    ChangeKind.CORRECTION: "Corrected",
    ChangeKind.UPDATE: "Updated",
    ChangeKind.CLARIFICATION: "Clarified",
}


def change_entries(versions: list[PublishedVersion]) -> list[dict]:
    """Each version (newest first) with how readers are told of it and the verdict it replaced.

    `versions` is every version of one report, newest first, so the next item is the
    version each one replaced.
    """
    entries = [
        {
            "version": version,
            "words": CHANGE_WORDS.get(version.change_kind, "Updated"),
            "previous_verdict": previous.verdict if version.verdict_changed else None,
        }
        for version, previous in pairwise(versions)
    ]
    if versions:
        entries.append({"version": versions[-1], "words": "Published", "previous_verdict": None})
    return entries


def change_notes(version: PublishedVersion, versions: list[PublishedVersion]) -> list[dict]:
    """What a reader of `version` is told changed: the notes of the changes made up to it."""
    return [
        entry for entry in change_entries(versions) if 1 < entry["version"].number <= version.number
    ]


# Stored articles ------------------------------------------------------------------------
#
# The live report page's <article> shows nothing but its version: the frozen claim, content
# and body, the verdict and topics it was published with, the notes of the versions up to
# it. So it is rendered once, when the version goes live (reports.workflow), and stored
# beside it (`StoredArticle`: the HTML, and the data the request needs: the structured data
# without the address, the frozen follow-up questions). A request adds what varies: the
# questions' links (they follow other reports' publication), the address in the structured
# data, the notice of an outdated check. Saving a verdict or topic empties the articles
# showing it (`forget_articles`); they, and versions that went live without one (generated,
# imported, published before articles were stored), are rendered at their next view.
# `manage.py render_articles` renders every live one again, after a change of templates.

# Where the stored article leaves the follow-up questions for the request to fill in
# (`reports/detail.html` writes it when told `questions_later`).
QUESTIONS_MARK = "<!-- questions -->"
# What the report page reads of a live version and its stored article, in one query.
ARTICLE_PAGE_FIELDS = (
    "report_id",
    "number",
    "slug",
    "claim",
    "summary_text",
    "checked_on",
    "verdict__name",
    "stored_article__html",
    "stored_article__data",
)


def render_article(version: PublishedVersion) -> tuple[str, dict]:
    """The stored article of the live `version` and its data, rendered from the version alone
    (read as `store_article` reads it); one more query if it has earlier versions."""
    from reports.public import structured_data

    versions = [version]
    if version.number > 1:
        versions += (
            PublishedVersion.objects.filter(report_id=version.report_id, number__lt=version.number)
            .select_related("verdict")
            .defer("content", "body_html", "body_text")
            .order_by("-number")
        )
    version.first_published_at = versions[-1].published_at
    context = page_context(version) | {
        "notes": change_notes(version, versions),
        "live": version,
        "questions_later": True,
    }
    html = render_to_string("reports/detail.html#article", context)
    data = {
        "review": structured_data.review(version),
        "questions": [
            {"question": q["question"], "answered_by_id": q["answered_by_id"]}
            for q in version.content.get("questions", [])
        ],
    }
    return html, data


def store_article(version_id: int) -> tuple[str, dict] | None:
    """Render the article of the live version `version_id` and store it, unless it was
    emptied meanwhile (a render from older data is then not kept); None if it is not live."""
    from reports.public import structured_data

    # The epoch is read before the version: an emptying that commits between the two
    # raises it, and the render, maybe made from the older data, is not stored.
    try:
        with transaction.atomic():
            stored, _ = StoredArticle.objects.get_or_create(version_id=version_id)
    except (DatabaseError, IntegrityError):
        stored = None  # gone meanwhile, or a database that cannot write: render only
    version = (
        structured_data.with_review_fields(PublishedVersion.objects.live().with_topic_links())
        .select_related("verdict")
        .defer("body_text")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        return None
    html, data = render_article(version)
    if stored is not None:
        try:
            with transaction.atomic():
                StoredArticle.objects.filter(pk=version_id, epoch=stored.epoch).update(
                    html=html, data=json.dumps(data, ensure_ascii=False)
                )
        except DatabaseError:
            # The page is served from this render all the same; the next view stores it.
            logger.warning("Could not store the article of version %s.", version_id, exc_info=True)
    return html, data


def stored_article(version: PublishedVersion) -> tuple[str, dict] | None:
    """The stored article of the live `version` (read with `ARTICLE_PAGE_FIELDS`) and its
    data, rendered and stored now if it has none yet; None if it is no longer live."""
    stored = getattr(version, "stored_article", None)
    if stored is not None and stored.html:
        return stored.html, json.loads(stored.data)
    return store_article(version.pk)


def forget_articles(versions: QuerySet[PublishedVersion] | None = None) -> int:
    """Empty the stored articles of `versions` (default: all), whose curated data changed,
    so the next view renders them again; a render begun before does not store its result."""
    articles = StoredArticle.objects.all()
    if versions is not None:
        articles = articles.filter(version__in=versions.values("pk"))
    return articles.update(html="", data="", epoch=F("epoch") + 1)


def article_context(request, version: PublishedVersion, html: str, data: dict) -> dict:
    """What `reports/detail.html` needs to show the live `version` from its stored article."""
    from reports.public import structured_data

    questions = question_links(data.get("questions", []))
    shown = ""
    if questions:
        shown = render_to_string("reports/detail.html#questions", {"questions": questions})
    url = version.get_absolute_url()
    return {
        "version": version,
        "live": version,
        # Rendered by our own template from the frozen version (`render_article`).
        "article_html": mark_safe(html.replace(QUESTIONS_MARK, shown, 1)),  # noqa: S308
        "is_outdated": version.checked_on < recheck_cutoff(),
        "recheck_after_days": settings.FACTUALLY_RECHECK_AFTER_DAYS,
        "canonical_url": request.build_absolute_uri(url),
        "claim_review": structured_data.addressed(data["review"], url=url, request=request),
    }


def connect_signals() -> None:
    """Empty the stored articles that show a verdict or topic when it is saved or deleted,
    or when a version's topics change."""
    from reports.models import Topic, Verdict

    post_save.connect(_verdict_changed, sender=Verdict, dispatch_uid="rendering.verdict.saved")
    post_delete.connect(_verdict_changed, sender=Verdict, dispatch_uid="rendering.verdict.deleted")
    post_save.connect(_topic_changed, sender=Topic, dispatch_uid="rendering.topic.saved")
    # Before: once deleted, the topic no longer says which versions carried it.
    pre_delete.connect(_topic_changed, sender=Topic, dispatch_uid="rendering.topic.deleted")
    m2m_changed.connect(
        _topics_set, sender=PublishedVersion.topics.through, dispatch_uid="rendering.topics.set"
    )


def _verdict_changed(sender, instance, **kwargs) -> None:
    if not kwargs.get("raw"):
        # Every article: the ends of the rating scale are in every review's structured data.
        forget_articles()


def _topic_changed(sender, instance, **kwargs) -> None:
    if not kwargs.get("raw"):
        forget_articles(PublishedVersion.objects.filter(topics=instance))


def _topics_set(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    # Before a clear (after, nothing says which versions had the topic), after an add or remove.
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if not reverse:  # version.topics changed
        forget_articles(PublishedVersion.objects.filter(pk=instance.pk))
    elif pk_set is None:  # topic.versions cleared
        forget_articles(PublishedVersion.objects.filter(topics=instance))
    else:
        forget_articles(PublishedVersion.objects.filter(pk__in=pk_set))
