"""The benchmark's WSGI application (bench/run.py): the site, and beside it a bare Django.

gunicorn serves this so that both ceilings (bench/ceiling.py) come from the same workers in
the same rounds: /bench/hello/ goes to a Django handler with no middleware and a URLconf of
that one view; every other path to the site as production runs it (bench/settings.py).
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

from bench.ceiling import HELLO_PATH

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

site = get_wsgi_application()


class BareHandler(WSGIHandler):
    """Django's WSGI handler without any middleware, resolving bench/ceiling.py's URLs."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def resolve_request(self, request):
        # What a middleware setting request.urlconf does: this handler's own URLs.
        request.urlconf = "bench.ceiling"
        return super().resolve_request(request)


bare = BareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == HELLO_PATH:
        return bare(environ, start_response)
    return site(environ, start_response)
