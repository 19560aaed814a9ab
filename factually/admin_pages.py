"""The context every custom admin page starts from, for the apps' admin views.

Site infrastructure: it knows the admin, not the apps, so `sources` and `reports` share it.
"""

from __future__ import annotations


def admin_page_context(request, model_admin, *, title: str, obj=None, **extra) -> dict:
    """The admin's own page context (site header, sidebar, `opts`) plus `title` and `extra`.

    With `obj`, the page is about that object (`original`, as the admin's own pages name it).
    """
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
    }
    if obj is not None:
        context["original"] = obj
    return {**context, **extra}
