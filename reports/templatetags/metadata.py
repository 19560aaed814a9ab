"""Page metadata for search engines and link previews: canonical URLs, JSON-LD, site name."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html

from reports.public import sharing, structured_data

register = template.Library()


@register.simple_tag(takes_context=True)
def canonical_link(context):
    """`<link rel="canonical">` to this page, absolute, keeping only the `page` parameter.

    Filters, sorting and tracking parameters do not make another page for search engines;
    a page whose query string matters overrides `{% block canonical %}`.
    """
    request = context.get("request")
    if request is None:
        return ""
    return format_html('<link rel="canonical" href="{}">', sharing.canonical_address(request))


@register.simple_tag(takes_context=True)
def share_tags(context) -> dict | None:
    """What templates/_share_tags.html says of this page to link previews (sharing.py)."""
    return sharing.page_tags(context)


@register.filter
def json_ld(data):
    """A <script type="application/ld+json"> block for `data`, escaped for HTML."""
    return structured_data.json_ld(data) if data else ""


@register.simple_tag
def site_name() -> str:
    return settings.FACTUALLY_SITE_NAME
