"""The public page of a source: its citation details and the published reports citing it.

Citing reports come from what each live version froze at publishing, not the drafts. A
source that no live version cites has no public page (404), so the library does not show
what drafts, reports in review or withdrawn reports cite.
"""

from __future__ import annotations

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from factually import frontcache
from factually.pagecache import public_page
from sources.models import Source, SourceMerge


def page_key(pk) -> str:
    """The front cache key of the page of source `pk` (or of its redirect, once merged)."""
    return frontcache.object_key("source", pk)


@require_GET
@public_page(shows=lambda kwargs: [page_key(kwargs["pk"])])
def source_detail(request, pk):
    """A source's page, if a live version cites it; the ID of a source merged away
    redirects to the one it became (if that has a page)."""
    source = Source.objects.select_related("publisher").filter(pk=pk).first()
    if source is None:
        merge = SourceMerge.objects.select_related("kept").filter(merged_id=pk).first()
        if merge is None or not citing_versions(merge.kept).exists():
            raise Http404("No source with that ID.")
        return redirect(merge.kept, permanent=True)
    page = Paginator(citing_versions(source), settings.FACTUALLY_REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    if not page.paginator.count:  # counted for the page anyway: no query of its own
        raise Http404("No source with that ID.")
    return render(
        request,
        "sources/detail.html",
        {"source": source, "page": page, "language": language_name(source.language)},
    )


def citing_versions(source: Source):
    """The live published versions that cite `source`, as readers see them (frozen)."""
    return (
        source.cited_in_versions.live()
        .select_related("verdict")
        .defer("content", "body_html", "body_text")
        .order_by("-checked_on", "-published_at")
    )


def language_name(code: str) -> str:
    """“pt-BR” → “Brazilian Portuguese”, as Django knows it; an unknown code as it is."""
    code = code.strip()
    for candidate in (code.lower(), code.lower().split("-")[0]):
        if candidate in LANG_INFO and "name" in LANG_INFO[candidate]:
            return LANG_INFO[candidate]["name"]
    return code
