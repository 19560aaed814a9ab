"""The site's URLs without topic and verdict pages, as before the listing pages existed."""

from django.urls import include, path

from factually import urls as site_urls
from reports.public import urls as report_urls

_reports = [
    pattern
    for pattern in report_urls.urlpatterns
    if getattr(pattern, "name", None) not in {"topic", "verdict"}
]

urlpatterns = [
    *(p for p in site_urls.urlpatterns if getattr(p, "namespace", None) != "reports"),
    path("", include((_reports, "reports"))),
]
