"""The site's URLs with topic and verdict pages, as the listing pages will add them."""

from django.http import HttpResponse
from django.urls import include, path

from factually import urls as site_urls
from reports.public import urls as report_urls


def listing(request, slug):
    return HttpResponse(slug)


_listings = [
    path("topics/<slug:slug>/", listing, name="topic"),
    path("verdicts/<slug:slug>/", listing, name="verdict"),
]
_reports = [
    pattern
    for pattern in report_urls.urlpatterns
    if getattr(pattern, "name", None) not in {"topic", "verdict"}
]

urlpatterns = [
    *(p for p in site_urls.urlpatterns if getattr(p, "namespace", None) != "reports"),
    path("", include((_listings + _reports, "reports"))),
]
