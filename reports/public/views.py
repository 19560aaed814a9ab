"""Public pages. They read published versions only: a draft never reaches a reader.

Each is a `public_page` (factually/pagecache.py): ETag and Last-Modified, CDN headers and the
shared page cache for anonymous readers, made stale at once by every publication.
"""

from __future__ import annotations

from django.db.models import Case, Exists, F, JSONField, OuterRef, Q, Subquery, TextField, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from factually.pagecache import is_anonymous, public_page
from reports import caching, rendering
from reports.formats import exporting
from reports.models import PublishedVersion, Topic, Verdict
from reports.public import search, structured_data
from reports.rendering import change_entries


@require_GET
@public_page
def home(request):
    """The latest published verdicts, newest check first."""
    versions = (
        PublishedVersion.objects.live()
        .select_related("verdict")
        .defer("content", "body_html", "body_text")
    )
    results = search.newest_first(versions, page_number=request.GET.get("page"))
    return render(request, "reports/home.html", {"page": results.page, "results": results})


# Lists of published verdicts, filtered and searched (reports/public/search.py). htmx asks for the
# results only; the same address without htmx, or restoring history, gets the whole page.
LIST_VARY = ("HX-Request", "HX-History-Restore-Request")


@require_GET
@public_page(vary=LIST_VARY)
def report_list(request):
    """Every published verdict, newest first, or the reports matching a search."""
    return _report_list(
        request,
        path=reverse("reports:list"),
        heading="Fact-checks",
        description="Every published verdict. Search them, or filter by verdict, topic and date.",
    )


@require_GET
@public_page(vary=LIST_VARY, shows=lambda kwargs: caching.topic_page_keys(kwargs["slug"]))
def topic_reports(request, slug):
    """The published verdicts on one topic; 404 for a topic no live report is tagged with."""
    topic = get_object_or_404(Topic.objects.live(), slug=slug)
    return _report_list(
        request,
        path=reverse("reports:topic", kwargs={"slug": slug}),
        heading=f"Fact-checks on {topic.name}",
        description=topic.description or f"Every published verdict on {topic.name}.",
        topic=topic,
    )


@require_GET
@public_page(vary=LIST_VARY, shows=lambda kwargs: caching.verdict_page_keys(kwargs["slug"]))
def verdict_reports(request, slug):
    """Every claim rated with one verdict, under the verdict's definition."""
    verdict = get_object_or_404(Verdict, slug=slug)
    return _report_list(
        request,
        path=reverse("reports:verdict", kwargs={"slug": slug}),
        heading=f"Claims rated “{verdict.name}”",
        description=verdict.definition,
        verdict=verdict,
    )


def _report_list(request, *, heading: str, description: str, **options):
    context = search.listing(request, **options)
    results_only = bool(request.htmx) and not request.htmx.history_restore_request
    context.update(heading=heading, description=description, results_only=results_only)
    if not results_only:
        return render(request, "reports/list.html", context)
    response = render(request, "reports/list.html#results", context)
    # The address bar shows the canonical address, not every empty field of the form.
    return push_url(response, context["canonical_path"])


@require_GET
@public_page(own_counter="slug")
def report_detail(request, slug):
    """The live version of a report with its change notes, or the notice of its withdrawal."""
    # The most read page of the site: a reader gets the page stored at publishing, filled
    # in with what varies (reports/rendering.py), from one narrow query. Staff get it
    # rendered afresh.
    if is_anonymous(request):
        live, page = rendering.live_page(request, slug)
        if not live:
            return _withdrawal_notice(request, slug)
        if page is not None:
            return HttpResponse(page)
    versions = _versions_of_live_report(slug, show=Q(is_live=True))
    if not versions:
        return _withdrawal_notice(request, slug)
    context = rendering.version_context(request, versions[0], versions)
    return render(request, "reports/detail.html", context)


@require_GET
@public_page(own_counter="slug")
def report_json(request, slug):
    """The live version of a report as JSON (factually.report/1); never a draft's edits."""
    version = get_object_or_404(
        PublishedVersion.objects.live().select_related("verdict", "report"), slug=slug
    )
    return exporting.response(version, "json")


@require_GET
@public_page(own_counter="slug")
def report_version(request, slug, number):
    """An earlier version of a live report, readable but marked as superseded."""
    versions = _versions_of_live_report(slug, show=Q(number=number))
    version = next((version for version in versions if version.number == number), None)
    if version is None:
        raise Http404("The report has no such published version.")
    if version.is_live:
        # One address for the current text. Not permanent: this number is superseded later.
        return redirect(version)
    context = rendering.version_context(request, version, versions)
    return render(request, "reports/detail.html", context)


@require_GET
@public_page(own_counter="slug")
def report_history(request, slug):
    """Every published version of a live report, newest first, with what each changed."""
    versions = _versions_of_live_report(slug)
    if not versions:
        raise Http404("No report is live at this address.")
    return render(
        request,
        "reports/history.html",
        {"live": versions[0], "entries": change_entries(versions)},
    )


@require_GET
@public_page(shows=())  # curated data only: `site`
def verdict_styles(request):
    """Badge colours come from curated data, so they are served as a stylesheet, not inline."""
    return render(
        request,
        "reports/verdicts.css",
        {"verdicts": Verdict.objects.all()},
        content_type="text/css; charset=utf-8",
    )


@require_GET
@public_page(shows=())
def rating_scale(request):
    """Every verdict in scale order, with its badge and what it means."""
    return render(request, "reports/rating_scale.html", {"verdicts": Verdict.objects.all()})


# Reading versions --------------------------------------------------------------------------


def _versions_of_live_report(slug: str, *, show: Q | None = None) -> list[PublishedVersion]:
    """Every version of the report live at `slug`, newest first, in one query; [] if none.

    Versions are found through the live version's report, so an old version is read at the
    current slug even if it was published under another. Only the version matching `show`
    brings its frozen body and content: the others' would be read for nothing.
    """
    live_report = PublishedVersion.objects.live().filter(slug=slug).values("report_id")
    versions = (
        PublishedVersion.objects.filter(report_id__in=live_report)
        .select_related("verdict")
        .defer("content", "body_html")
        .order_by("-number")
    )
    if show is None:
        return list(versions)
    versions = structured_data.with_review_fields(versions.with_topic_links()).annotate(
        shown_body=Case(When(show, then=F("body_html")), output_field=TextField()),
        shown_content=Case(When(show, then=F("content")), output_field=JSONField()),
    )
    versions = list(versions)
    for version in versions:
        if version.shown_body is not None:
            # Filling the deferred fields by hand keeps rendering from fetching them again.
            version.body_html = version.shown_body
            version.content = version.shown_content
    return versions


def _withdrawal_notice(request, slug: str):
    """410 Gone with the reason, if `slug` was the last address of a withdrawn report."""
    last_number = (
        PublishedVersion.objects.filter(report=OuterRef("report"))
        .order_by("-number")
        .values("number")[:1]
    )
    last = (
        PublishedVersion.objects.filter(
            slug=slug, number=Subquery(last_number), report__withdrawn_at__isnull=False
        )
        .filter(~Exists(PublishedVersion.objects.live().filter(report=OuterRef("report"))))
        .select_related("report")
        .only("slug", "claim", "report__withdrawn_at", "report__withdrawal_reason")
        # Two withdrawn reports may have ended at the same slug: the latest notice wins.
        .order_by("-report__withdrawn_at")
        .first()
    )
    if last is None:
        raise Http404("No report is published at this address.")
    return render(
        request,
        "reports/withdrawn.html",
        {"version": last, "report": last.report},
        status=410,
    )
