"""Render report content to the HTML readers see: frozen at publishing, live in previews.

A live report's whole page is rendered once and stored with its version ("Stored pages"
below): the request adds only what varies.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from functools import cache
from importlib import import_module
from itertools import pairwise
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.signals import setting_changed
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.models import F, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.csp import LazyNonce
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports import citations
from reports.content import ReportContent
from reports.models import ChangeKind, PublishedVersion, StoredArticle, recheck_cutoff
from reports.public import structured_data

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
    """Frozen follow-up questions (`question`, `answered_by_id`) as `text`, the report
    answering each (`answered_by`) and its `url` if it is live (one query if some are answered)."""
    answered = {q["answered_by_id"] for q in questions if q["answered_by_id"]}
    urls = {}
    if answered:
        urls = {
            report_id: reverse("reports:detail", kwargs={"slug": slug})
            for report_id, slug in PublishedVersion.objects.live()
            .filter(report_id__in=answered)
            .values_list("report_id", "slug")
        }
    return [
        {"text": q["question"], "answered_by": pk, "url": urls.get(pk)}
        for q in questions
        for pk in [q["answered_by_id"]]
    ]


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


# Stored pages ---------------------------------------------------------------------------
#
# The live report page shows, to an anonymous reader, nothing but its version: the frozen
# claim, content and body, the verdict and topics it was published with, the notes of the
# versions up to it. So the whole HTML document is rendered once, when the version goes live
# (reports.workflow), and stored beside it (`StoredArticle`), with marks where the few things
# that vary go; a request fills them with str.replace (`live_page`):
#
# - the origin (scheme and host) of every absolute URL (canonical link, og:url, the share
#   card, the JSON-LD): rendered with a made-up host, random per render, that no report's text
#   can contain;
# - the "may be outdated" notice, which depends on the day: stored with the first day it shows;
# - the follow-up questions' links, which follow other reports' publication: filled from one
#   narrow query of the live versions answering them, so a link is never stale and nothing
#   has to empty the pages linking to a report when it goes live or is taken down (a second
#   query, only for pages whose questions are answered by other reports).
#
# The page is read in one query joined to the live version by its slug: a version taken
# down never serves its page. Saving a verdict or topic empties the pages showing it
# (`forget_articles`); a page rendered by another build (templates, static files, the code
# that renders it: `build_fingerprint`) is rendered again at its next view, as are versions
# that went live without one (generated, imported). `manage.py render_articles` renders every
# live one again. Signed-in staff get the page rendered afresh (reports.public.views).

OUTDATED_MARK = "<!-- outdated -->"
# Bumped when what builds the page changes in a way the fingerprint cannot see.
PAGE_DESIGN = 1
# The code that writes the page (besides its templates): a deploy changing it renders the
# stored pages again.
_PAGE_MODULES = (
    "reports.rendering",
    "reports.public.sharing",
    "reports.public.structured_data",
    "reports.templatetags.metadata",
    "reports.templatetags.reporting",
)
# Settings the page shows or depends on.
_PAGE_SETTINGS = (
    "FACTUALLY_SITE_NAME",
    "FACTUALLY_RECHECK_AFTER_DAYS",
    "LANGUAGE_CODE",
    "TIME_ZONE",
    "STATIC_URL",
)
# What a stored page keeps besides the page and its build, in the order `_fill` takes it.
_STORED_FIELDS = ("page", "origin", "notice", "outdated_from", "links")


class PersonalPage(Exception):
    """The page used something of the request's own (a CSRF token, a CSP nonce): never stored."""


def link_marks(report_id: int) -> tuple[str, str]:
    """Where a stored page opens and closes the link of a question answered by `report_id`."""
    return f"<!-- link {report_id} -->", f"<!-- /link {report_id} -->"


def version_context(request, version: PublishedVersion, versions: list[PublishedVersion]) -> dict:
    """What `reports/detail.html` needs for `version`, one of the live report's `versions`
    (newest first; read with `structured_data.with_review_fields` and topic links)."""
    live = versions[0]
    context = page_context(version)
    context.update(
        # What a reader of this version saw: the notes of the changes made up to it.
        notes=change_notes(version, versions),
        live=live,
        canonical_url=request.build_absolute_uri(live.get_absolute_url()),
    )
    if version is not live:
        successor = next(v for v in versions if v.number == version.number + 1)
        context.update(
            is_superseded=True,
            version_count=len(versions),
            superseded_at=successor.published_at,
        )
    else:
        context["claim_review"] = structured_data.claim_review(version, request=request)
    return context


@cache
def build_fingerprint() -> str:
    """What the stored pages of this build are rendered with: the static files' manifest
    (hashed names), the project's templates, the code and settings that write the page.
    Computed once per process; a page stored under another is rendered again."""
    digest = hashlib.sha256(f"{PAGE_DESIGN} {django.get_version()}".encode())
    read_manifest = getattr(staticfiles_storage, "read_manifest", None)
    digest.update((read_manifest() or "").encode() if read_manifest else b"")
    for name in _PAGE_SETTINGS:
        digest.update(f"{name}={getattr(settings, name, None)!r}".encode())
    for module in _PAGE_MODULES:
        digest.update(Path(import_module(module).__file__).read_bytes())
    for folder in _template_dirs():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def _template_dirs() -> list[Path]:
    """The project's own template folders (Django's, and the packages', change with their
    version, which `requirements.txt` pins)."""
    base = Path(settings.BASE_DIR).resolve()
    folders = [Path(folder).resolve() for engine in settings.TEMPLATES for folder in engine["DIRS"]]
    folders += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    return [f for f in folders if f.is_dir() and f.is_relative_to(base) and ".venv" not in f.parts]


class _ReaderRequest(HttpRequest):
    """An anonymous reader's GET of `path`, as if asked of `host`: what a stored page is
    rendered for. Nothing personal: no session, cookie, user or CSRF token."""

    def __init__(self, path: str, host: str):
        super().__init__()
        self.method = "GET"
        self.path = self.path_info = path
        self._host = host
        self._csp_nonce = LazyNonce()  # generated only if the page uses it: refused then

    def get_host(self) -> str:
        return self._host


def render_page(version: PublishedVersion) -> dict:
    """The stored page of the live `version` (read as `store_page` reads it): the fields of
    its `StoredArticle`. One more query if it has earlier versions, one if it has answered
    questions. PersonalPage if it used anything of a request's own."""
    versions = [version]
    if version.number > 1:
        versions += (
            PublishedVersion.objects.filter(report_id=version.report_id, number__lt=version.number)
            .select_related("verdict")
            .defer("content", "body_html", "body_text")
            .order_by("-number")
        )
    version.first_published_at = versions[-1].published_at
    request = _ReaderRequest(version.get_absolute_url(), f"o{secrets.token_hex(12)}.invalid")
    origin = f"{request.scheme}://{request.get_host()}"
    context = version_context(request, version, versions)
    context.update(outdated_later=True, links_later=True)
    page = render_to_string("reports/detail.html", context, request=request)
    notice = render_to_string("reports/detail.html#outdated", context, request=request)
    if "CSRF_COOKIE" in request.META or request._csp_nonce:
        raise PersonalPage(f"The page of version {version.pk} used a CSRF token or CSP nonce.")
    days = datetime.timedelta(days=settings.FACTUALLY_RECHECK_AFTER_DAYS + 1)
    answered = {q["answered_by"] for q in context["questions"] if q["answered_by"]}
    return {
        "page": page,
        "origin": origin,
        "notice": notice,
        # The day after the last one the check is recent enough (`recheck_cutoff`).
        "outdated_from": version.checked_on + days if version.checked_on else None,
        "links": ",".join(str(pk) for pk in sorted(answered)),
        "build": build_fingerprint(),
    }


def store_page(version_id: int) -> dict | None:
    """Render the page of the live version `version_id` and store it, unless it was emptied
    meanwhile (a render from older data is then not kept); its fields, or None if it is not
    live or cannot be stored (PersonalPage, logged)."""
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
    try:
        fields = render_page(version)
    except PersonalPage:
        logger.exception("Not storing the page of version %s.", version_id)
        return None
    if stored is not None:
        try:
            with transaction.atomic():
                StoredArticle.objects.filter(pk=version_id, epoch=stored.epoch).update(**fields)
        except DatabaseError:
            # The page is served from this render all the same; the next view stores it.
            logger.warning("Could not store the page of version %s.", version_id, exc_info=True)
    return fields


def live_page(request, slug: str) -> tuple[bool, str | None]:
    """Whether a report is live at `slug`, and its page for an anonymous `request` from the
    stored page (rendered and stored now if it has none of this build); None if it cannot
    be stored (render it in full)."""
    alias = router.db_for_read(PublishedVersion)
    sql, params = _page_query(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [slug if param == _SLUG else param for param in params])
        row = cursor.fetchone()
    if row is None:
        return False, None
    version_id, build, page, *varying = row
    if page and build == build_fingerprint():
        return True, _fill(request, page, *varying)
    # None stored yet, emptied, or rendered by another build.
    fields = store_page(version_id)
    if fields is None:
        return True, None
    return True, _fill(request, *(fields[name] for name in _STORED_FIELDS))


# Stands for the slug in the compiled query (no slug has a NUL).
_SLUG = "\0slug"


@cache
def _page_query(alias: str) -> tuple[str, tuple]:
    """The SQL and parameters of the reader's query, compiled once per process: the live
    version at a slug (no ORDER BY: a live slug is unique) and its stored page, if any, in
    one narrow row. The ORM's building and compiling would cost more than the query."""
    query = (
        PublishedVersion.objects.using(alias)
        .filter(slug=_SLUG, is_live=True)
        .order_by()
        .values_list("pk", *(f"stored_article__{name}" for name in ("build", *_STORED_FIELDS)))
    )[:1]
    return query.query.get_compiler(alias).as_sql()


def _fill(request, page: str, origin: str, notice: str, outdated_from, links: str) -> str:
    """`page` with what varies filled in: this request's origin, the notice if the check is
    old today, the links of the questions answered by a live report."""
    page = page.replace(origin, f"{request.scheme}://{request.get_host()}")
    shown = outdated_from is not None and timezone.localdate() >= outdated_from
    page = page.replace(OUTDATED_MARK, notice if shown else "", 1)
    if links:
        answered = [int(pk) for pk in links.split(",")]
        live = dict(
            PublishedVersion.objects.live()
            .filter(report_id__in=answered)
            .order_by()
            .values_list("report_id", "slug")
        )
        for report_id in answered:
            opening, closing = link_marks(report_id)
            slug = live.get(report_id)
            if slug is None:
                page = page.replace(opening, "").replace(closing, "")
            else:
                url = escape(reverse("reports:detail", kwargs={"slug": slug}))
                page = page.replace(opening, f'<a href="{url}">').replace(closing, "</a>")
    return page


def delete_superseded(report_id: int) -> int:
    """Delete the stored pages of a report's versions that are no longer live (corrected,
    taken down): never served again, since a version that goes live is always a new one
    with a page of its own. Returns how many went."""
    pages = StoredArticle.objects.filter(version__report_id=report_id, version__is_live=False)
    return pages.delete()[0]


def forget_articles(versions: QuerySet[PublishedVersion] | None = None) -> int:
    """Empty the stored pages of `versions` (default: all), whose curated data changed, so
    the next view renders them again; a render begun before does not store its result."""
    pages = StoredArticle.objects.all()
    if versions is not None:
        pages = pages.filter(version__in=versions.values("pk"))
    return pages.update(page="", epoch=F("epoch") + 1)


def connect_signals() -> None:
    """Empty the stored pages that show a verdict or topic when it is saved or deleted, or
    when a version's topics change; fingerprint the build again when settings change (tests)."""
    from reports.models import Topic, Verdict

    post_save.connect(_verdict_changed, sender=Verdict, dispatch_uid="rendering.verdict.saved")
    post_delete.connect(_verdict_changed, sender=Verdict, dispatch_uid="rendering.verdict.deleted")
    post_save.connect(_topic_changed, sender=Topic, dispatch_uid="rendering.topic.saved")
    # Before: once deleted, the topic no longer says which versions carried it.
    pre_delete.connect(_topic_changed, sender=Topic, dispatch_uid="rendering.topic.deleted")
    m2m_changed.connect(
        _topics_set, sender=PublishedVersion.topics.through, dispatch_uid="rendering.topics.set"
    )
    setting_changed.connect(_setting_changed, dispatch_uid="rendering.setting.changed")


def _setting_changed(sender, setting, **kwargs) -> None:
    # Settings change in a running process only in tests: fingerprint the build again.
    if setting in {*_PAGE_SETTINGS, "STORAGES", "STATIC_ROOT", "TEMPLATES"}:
        build_fingerprint.cache_clear()


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
