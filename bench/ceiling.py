"""The benchmark's two ceilings: what Django itself costs per request on this deployment.

Both are a fixed, tiny response: no database, no template, no session.

- `ceiling` (/bench/ceiling/, routed by bench/urls.py) passes through every middleware of the
  site, like any page: Django plus the site's middleware stack.
- `hello` (/bench/hello/) is a bare hello-world Django view served by a handler with no
  middleware at all (bench/wsgi.py, with this module as its URLconf): Django's own request
  handling, the yardstick the issue tracker's figures use.

bench/ compares each page to both (a ratio of 1.0 would be a page as cheap as the ceiling).
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

BODY = b"ok\n"


@require_GET
def ceiling(request):
    return HttpResponse(BODY, content_type="text/plain; charset=utf-8")


def hello(request):
    return HttpResponse(BODY, content_type="text/plain; charset=utf-8")


# The URLconf of the bare handler (bench/wsgi.py): the hello-world view and nothing else.
HELLO_PATH = "/bench/hello/"
urlpatterns = [path(HELLO_PATH.lstrip("/"), hello, name="bench_hello")]
