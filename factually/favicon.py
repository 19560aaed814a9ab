"""`/favicon.ico`: browsers, feed readers and crawlers ask for it whatever a page's
`<link rel="icon">` says, so it answers instead of filling the logs with 404s."""

from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# A day: the redirect is permanent, but the static address changes with the icon's content.
MAX_AGE = 24 * 60 * 60


@require_safe
@cache_control(public=True, max_age=MAX_AGE)
def favicon(request):
    """A permanent redirect to the site's icon among the static files."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
