"""The report admin's review aids: the preview with uncited sentences, and similar claims.

What they show is worked out in `reports.newsroom.highlighting` and `.similar`; these views
only ask and show.
"""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from factually.admin_pages import admin_page_context
from reports import publishing
from reports.admin.pages import partial_response
from reports.models import Verdict
from reports.newsroom import highlighting, similar
from reports.rendering import page_context


class ReviewViewsMixin:
    """For ReportAdmin: the preview and similar-claims views (routed by ReportAdmin.get_urls)."""

    def preview_view(self, request, object_id):
        """The working copy rendered with the public template; staff only, never cached.

        Sentences without a citation are highlighted here (advisory), never on public pages.
        """
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        version = publishing.preview(report)
        context = page_context(version)
        highlighted = highlighting.highlight_uncited(context["body_html"])
        response = TemplateResponse(
            request,
            "admin/reports/report/preview.html",
            {
                **context,
                "body_html": highlighted.html,
                "uncited": highlighted.uncited,
                "is_preview": True,
            },
        )
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    def _similar_url(self, report) -> str:
        if report is None or report.pk is None:
            return reverse("admin:reports_report_similar_new")
        return reverse("admin:reports_report_similar", args=[report.pk])

    def _similar_context(self, claim: str, *, verdict, report) -> dict:
        return {
            "similar": similar.similar_claims(
                claim, verdict=verdict, exclude_report_id=getattr(report, "pk", None)
            ),
            "similar_url": self._similar_url(report),
            "similar_claim": claim,
        }

    def similar_view(self, request, object_id=None):
        """Published reports with claims like `?claim=`, for the claim field as it is typed."""
        report = None
        if object_id is not None:
            report = self._get_report(request, object_id)
            if not self.has_view_permission(request, report):
                raise PermissionDenied
        elif not (self.has_add_permission(request) or self.has_view_permission(request)):
            raise PermissionDenied
        claim = request.GET.get("claim", report.claim if report else "")
        verdict_id = request.GET.get("verdict", "")
        if verdict_id.isdigit():
            verdict = Verdict.objects.filter(pk=verdict_id).first()
        else:
            verdict = report.verdict if report and "verdict" not in request.GET else None
        context = admin_page_context(
            request,
            self,
            title="Similar published claims",
            obj=report,
            **self._similar_context(claim, verdict=verdict, report=report),
        )
        return partial_response(request, "admin/reports/report/similar.html", context)
