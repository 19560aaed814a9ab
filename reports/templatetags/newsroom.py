"""The admin home panels: `{% newsroom_panels as panels %}` gives the signed-in user's panels."""

from django import template

from reports.newsroom import dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def newsroom_panels(context) -> list[dashboard.Panel]:
    """The dashboard panels (`Panel`) for the request's user; none without access."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None:
        return []
    return dashboard.panels(user)
