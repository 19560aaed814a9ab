"""Template filters for editor text; they go through the one sanitising renderer."""

from django import template

from reports import citations

register = template.Library()


@register.filter
def cited_text(text: str):
    """Render editor text (Markdown subset with [n] markers) as sanitised HTML."""
    return citations.render(text or "")
