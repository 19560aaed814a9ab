"""Public pages. They read published versions only: a draft never reaches a reader."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from reports.models import PublishedVersion, Verdict
from reports.rendering import page_context


@require_GET
def home(request):
    """The latest published verdicts, newest check first."""
    versions = (
        PublishedVersion.objects.live().select_related("verdict").defer("content", "body_html")
    )
    page = Paginator(versions, settings.FACTUALLY_REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "reports/home.html", {"page": page})


@require_GET
def report_detail(request, slug):
    version = get_object_or_404(
        PublishedVersion.objects.live().select_related("verdict"), slug=slug
    )
    return render(request, "reports/detail.html", page_context(version))


@require_GET
def verdict_styles(request):
    """Badge colours come from curated data, so they are served as a stylesheet, not inline."""
    response = render(
        request,
        "reports/verdicts.css",
        {"verdicts": Verdict.objects.all()},
        content_type="text/css; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    return response
