"""The benchmark's ceiling: what Django itself costs per request on this deployment.

A fixed, tiny response: no database, no template, no session. It still passes through every
middleware, like any page, so `bench/` compares each page to it (a ratio of 1.0 would be a
page as cheap as Django's own request handling).
"""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

BODY = b"ok\n"


@require_GET
def ceiling(request):
    return HttpResponse(BODY, content_type="text/plain; charset=utf-8")
