"""The benchmark's URLs (bench/settings.py): the site's own, plus the ceiling to compare with.

Production (factually.urls) has no ceiling route: it is a yardstick, not a page.
"""

from django.urls import path

from bench import ceiling
from factually.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    # A fixed tiny response: what Django itself costs per request, the yardstick of bench/.
    path("bench/ceiling/", ceiling.ceiling, name="bench_ceiling"),
    *site_urlpatterns,
]
