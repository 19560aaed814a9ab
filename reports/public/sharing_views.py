"""The images link previews show: a report version's share card, and the site image.

Not `public_page`s: images are not pages (no validators from generations, nothing to
vary). A card's address names the version it was drawn from, which never changes, so it
is cached for a year; the site image's address is fixed, so it is cached for a day.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from reports.models import PublishedVersion
from reports.public import sharing
from reports.public.models import ShareImage

CARD_MAX_AGE = 365 * 24 * 3600
SITE_IMAGE_MAX_AGE = 24 * 3600


@require_safe
def share_card(request, slug, number):
    """The card of version `number` of the report live at `slug`; 404 for any other.

    Drafts have no version, and a withdrawn or unpublished report no live one: no card.
    """
    live_report = PublishedVersion.objects.live().filter(slug=slug).values("report_id")
    version = (
        PublishedVersion.objects.filter(report_id__in=live_report, number=number)
        .select_related("verdict")
        .only("pk", "claim", "verdict__name", "verdict__colour")
        .first()
    )
    if version is None:
        raise Http404("No published version has this card.")
    response = HttpResponse(sharing.card_png(version), content_type="image/png")
    patch_cache_control(response, public=True, max_age=CARD_MAX_AGE, immutable=True)
    return response


@require_safe
def share_site_image(request):
    """The default image uploaded in the admin, or the site's drawn card if there is none."""
    uploaded = ShareImage.objects.only("image", "content_type", "digest").first()
    if uploaded is None:
        response = HttpResponse(sharing.site_card_png(), content_type="image/png")
    else:
        response = HttpResponse(bytes(uploaded.image), content_type=uploaded.content_type)
        response["ETag"] = f'"{uploaded.digest[:32]}"'
    patch_cache_control(response, public=True, max_age=SITE_IMAGE_MAX_AGE)
    return response
