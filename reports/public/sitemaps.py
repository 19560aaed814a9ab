"""/sitemap.xml and /robots.txt, for search engines.

The sitemap lists the home page, the rating scale, every live report (lastmod: its latest
publication), the topic and verdict pages that have live reports (once the `reports:topic`
and `reports:verdict` routes exist) and the public flat pages. URLs are absolute on the host
the request came to, like the pages' canonical links; one sitemap holds up to 50,000 URLs.
"""

from __future__ import annotations

from django.contrib.flatpages.sitemaps import FlatPageSitemap
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import OuterRef, Subquery
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from factually.pagecache import public_page
from reports.models import PublishedVersion, Topic, Verdict
from reports.public.feeds import optional_url


class _RequestSitemap(Sitemap):
    """A sitemap whose URLs use the request's host, not the sites framework's domain.

    Built for one request (`sitemap`) and given its host only: no request is kept on an
    object that could outlive it or be shared between requests.
    """

    def __init__(self, host: str):
        self.host = host

    def get_domain(self, site=None):
        return self.host


class StaticPagesSitemap(_RequestSitemap):
    def items(self):
        return ["reports:home", "reports:rating_scale"]

    def location(self, name):
        return reverse(name)


class ReportSitemap(_RequestSitemap):
    def items(self):
        return PublishedVersion.objects.live().only("slug", "published_at").order_by("pk")

    def location(self, version):
        return version.get_absolute_url()

    def lastmod(self, version):
        return version.published_at


class _ListingSitemap(_RequestSitemap):
    """Pages listing the live reports of one topic or verdict, lastmod their latest."""

    route: str
    model: type[Topic] | type[Verdict]
    version_field: str

    def items(self):
        if optional_url(self.route, slug="x") is None:
            return []
        latest = (
            PublishedVersion.objects.live()
            .filter(**{self.version_field: OuterRef("pk")})
            .order_by("-published_at")
            .values("published_at")[:1]
        )
        # A list: a few hundred rows at most, and the paginator need not count them first.
        return list(
            self.model.objects.annotate(latest=Subquery(latest))
            .filter(latest__isnull=False)
            .only("slug")
            .order_by("pk")
        )

    def location(self, item):
        return reverse(self.route, kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.latest


class TopicSitemap(_ListingSitemap):
    route = "reports:topic"
    model = Topic
    version_field = "topics"


class VerdictSitemap(_ListingSitemap):
    route = "reports:verdict"
    model = Verdict
    version_field = "verdict"


class PageSitemap(_RequestSitemap, FlatPageSitemap):
    """Flat pages (methodology, about, corrections, contact) open to everyone."""

    def items(self):
        return list(super().items().only("url").order_by("url"))


SECTIONS = {
    "pages": StaticPagesSitemap,
    "reports": ReportSitemap,
    "topics": TopicSitemap,
    "verdicts": VerdictSitemap,
    "flatpages": PageSitemap,
}


@require_safe
@public_page
def sitemap(request):
    host = request.get_host()
    return sitemap_views.sitemap(
        request, sitemaps={name: cls(host) for name, cls in SECTIONS.items()}
    )


@require_safe
@public_page(shows=())
def robots_txt(request):
    return render(
        request,
        "robots.txt",
        {"sitemap_url": request.build_absolute_uri(reverse("sitemap"))},
        content_type="text/plain; charset=utf-8",
    )
