"""Feeds of published reports: RSS and Atom (latest, per topic, per verdict) and a JSON feed
of ClaimReview data for fact-check aggregators.

Feeds read live published versions only, so drafts never appear and a withdrawn or
unpublished report drops out at once. Links are absolute, on the host the request came to
(as the canonical links of the pages are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.views.decorators.http import require_GET

from factually.pagecache import public_page
from reports import caching
from reports.models import PublishedVersion, Topic, Verdict
from reports.public import structured_data

# How many reports the RSS and Atom feeds carry: the most recently (re)published.
FEED_ITEMS = 30
# Reports per page of the JSON feed.
JSON_FEED_PAGE_SIZE = 50


def optional_url(name: str, **kwargs) -> str | None:
    """The path of a named route, or None while no such route exists (pages added later)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def live_versions() -> QuerySet[PublishedVersion]:
    """Live versions with what feeds show, most recently published first."""
    return (
        structured_data.with_review_fields(PublishedVersion.objects.live())
        .select_related("verdict")
        .defer("content", "body_html", "body_text")
        .order_by("-published_at", "-pk")
    )


# What XML 1.0 cannot carry (Django's feed writer refuses it, failing the whole feed): control
# characters pasted into a claim or a summary (a form feed from a PDF) are dropped from feeds.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def describe(version: PublishedVersion) -> str:
    """The verdict and the summary: what a feed reader shows under the claim."""
    return f"Verdict: {version.verdict.name}. {version.summary_text}"


@dataclass(frozen=True)
class Scope:
    """What one feed covers: all live reports, or those of one topic or one verdict."""

    request: HttpRequest
    title: str
    description: str
    page_path: str  # the HTML page the feed belongs to
    versions: QuerySet[PublishedVersion]

    def absolute(self, path: str) -> str:
        return self.request.build_absolute_uri(path)


class LatestReportsFeed(Feed):
    """RSS 2.0 of the latest published reports. Subclasses narrow `get_object`."""

    feed_type = Rss201rev2Feed
    # Readers take an RSS title as HTML, an Atom title as text (Django's RSS convention).
    title_is_html = True

    def __call__(self, request, *args, **kwargs):
        return public_page(super().__call__, shows=self.shows)(request, *args, **kwargs)

    def shows(self, kwargs: dict) -> list[str] | None:
        """The front cache keys of what the feed lists (None: the lists, every report)."""
        return None

    def get_object(self, request, *args, **kwargs) -> Scope:
        site = settings.FACTUALLY_SITE_NAME
        return Scope(
            request=request,
            title=f"{site}: latest fact-checks",
            description=f"The latest fact-checks published by {site}.",
            page_path=reverse("reports:home"),
            versions=live_versions(),
        )

    def title(self, scope: Scope) -> str:
        # A topic or verdict name is typed by editors: escaped where readers take HTML.
        title = xml_text(scope.title)
        return escape(title) if self.title_is_html else title

    def description(self, scope: Scope) -> str:
        description = xml_text(scope.description)
        return escape(description) if self.title_is_html else description

    def subtitle(self, scope: Scope) -> str:
        return xml_text(scope.description)

    def link(self, scope: Scope) -> str:
        return scope.absolute(scope.page_path)

    def feed_url(self, scope: Scope) -> str:
        return scope.absolute(scope.request.path)

    def author_name(self) -> str:
        return settings.FACTUALLY_SITE_NAME

    def items(self, scope: Scope) -> list[PublishedVersion]:
        versions = list(scope.versions.prefetch_related("topics")[:FEED_ITEMS])
        for version in versions:
            version.absolute_url = scope.absolute(version.get_absolute_url())
        return versions

    def item_title(self, version: PublishedVersion) -> str:
        claim = xml_text(version.claim)
        return escape(claim) if self.title_is_html else claim

    def item_description(self, version: PublishedVersion) -> str:
        """Plain text, escaped: both RSS and Atom (type="html") take the summary as HTML."""
        return escape(xml_text(describe(version)))

    def item_link(self, version: PublishedVersion) -> str:
        return version.absolute_url

    def item_pubdate(self, version: PublishedVersion):
        """First publication: a correction does not make a report new."""
        return version.first_published_at

    def item_updateddate(self, version: PublishedVersion):
        """The latest publication: the live version's."""
        return version.published_at

    def item_categories(self, version: PublishedVersion) -> list[str]:
        return [xml_text(topic.name) for topic in version.topics.all()]


class LatestReportsAtomFeed(LatestReportsFeed):
    feed_type = Atom1Feed
    title_is_html = False


class TopicFeed(LatestReportsFeed):
    """The latest published reports on one topic (as their live versions were tagged)."""

    def shows(self, kwargs: dict) -> list[str]:
        return [caching.topic_key(kwargs["slug"])]

    def get_object(self, request, slug: str) -> Scope:
        topic = get_object_or_404(Topic.objects.live(), slug=slug)  # as the topic's page
        site = settings.FACTUALLY_SITE_NAME
        return Scope(
            request=request,
            title=f"{site}: fact-checks on {topic.name}",
            description=topic.description or f"The latest {site} fact-checks on {topic.name}.",
            page_path=optional_url("reports:topic", slug=topic.slug) or reverse("reports:home"),
            versions=live_versions().filter(topics=topic),
        )


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed
    title_is_html = False


class VerdictFeed(LatestReportsFeed):
    """The latest published reports rated with one verdict."""

    def shows(self, kwargs: dict) -> list[str]:
        return [caching.verdict_key(kwargs["slug"])]

    def get_object(self, request, slug: str) -> Scope:
        verdict = get_object_or_404(Verdict, slug=slug)
        site = settings.FACTUALLY_SITE_NAME
        return Scope(
            request=request,
            title=f"{site}: fact-checks rated “{verdict.name}”",
            description=verdict.definition,
            page_path=optional_url("reports:verdict", slug=verdict.slug)
            or reverse("reports:rating_scale"),
            versions=live_versions().filter(verdict=verdict),
        )


class VerdictAtomFeed(VerdictFeed):
    feed_type = Atom1Feed
    title_is_html = False


@require_GET
@public_page
def claimreview_feed(request):
    """Live reports as ClaimReview data, in a JSON Feed 1.1 (README: "Feeds")."""
    versions = live_versions().prefetch_related("topics")
    try:
        page = Paginator(versions, JSON_FEED_PAGE_SIZE).page(request.GET.get("page", 1))
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404("No such page of the feed.") from error
    site = settings.FACTUALLY_SITE_NAME
    feed_path = reverse("reports:claimreview_feed")
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"{site}: fact-checks as ClaimReview",
        "description": (
            f"Every live {site} fact-check, most recently published first, each with its "
            "schema.org ClaimReview under _claim_review."
        ),
        "home_page_url": request.build_absolute_uri(reverse("reports:home")),
        "feed_url": request.build_absolute_uri(_page_path(feed_path, page.number)),
        "language": settings.LANGUAGE_CODE,
        "authors": [{"name": site, "url": request.build_absolute_uri(reverse("reports:home"))}],
        "_claim_review": {
            "about": "https://schema.org/ClaimReview",
            "page": page.number,
            "pages": page.paginator.num_pages,
            "total": page.paginator.count,
        },
        "items": [_json_item(version, request) for version in page],
    }
    if page.has_next():
        feed["next_url"] = request.build_absolute_uri(
            _page_path(feed_path, page.next_page_number())
        )
    return JsonResponse(
        feed, content_type="application/feed+json", json_dumps_params={"ensure_ascii": False}
    )


def _json_item(version: PublishedVersion, request) -> dict:
    review = structured_data.claim_review(version, request=request)
    return {
        "id": review["url"],
        "url": review["url"],
        "title": version.claim,
        "summary": f"Verdict: {version.verdict.name}",
        "content_text": version.summary_text,
        "date_published": review["datePublished"],
        "date_modified": review["dateModified"],
        "tags": [topic.name for topic in version.topics.all()],
        "_claim_review": review,
    }


def _page_path(path: str, number: int) -> str:
    return path if number == 1 else f"{path}?page={number}"
