"""Template filters for editor text; they go through the one sanitising renderer."""

import datetime

from django import template
from django.utils import timezone

from reports import citations

register = template.Library()


@register.filter
def cited_text(text: str):
    """Render editor text (Markdown subset with [n] markers) as sanitised HTML."""
    return citations.render(text or "")


@register.filter
def full_stop(text) -> str:
    """The "." that ends a reference part, unless `text` already ends a sentence."""
    return "" if citations.ends_sentence(str(text or "")) else "."


@register.filter
def datetime_attribute(value: datetime.datetime | None) -> str:
    """A moment for a `datetime` attribute: local time to the second, as HTML requires
    (Django's "c" format adds microseconds, which HTML does not allow)."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
