"""Feedback while typing in the report editor: the publish checklist, each paragraph's
citations and a preview, all from the unsaved form.

The editor's page posts its whole form here after each pause in typing; one answer updates
the checklist and, by htmx out-of-band swaps, the status under each cited text and the
preview. What it says comes from `reports.newsroom.unsaved`; nothing is saved.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from reports import workflow
from reports.newsroom import unsaved
from reports.public import structured_data
from reports.rendering import page_context


class LiveFeedbackMixin:
    """For ReportAdmin: the live view (routed by ReportAdmin.get_urls, with and without an id)."""

    def _live_url(self, report) -> str:
        if report is None or report.pk is None:
            return reverse("admin:reports_report_live_new")
        return reverse("admin:reports_report_live", args=[report.pk])

    def _may_type(self, request, report) -> bool:
        """Whether the user may change `report`, or add one when it is None."""
        if report is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, report)

    def live_view(self, request, object_id=None):
        """POST the report form as typed: the checklist, paragraph statuses and preview."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = None if object_id is None else self._get_report(request, object_id)
        if not self._may_type(request, report):
            raise PermissionDenied
        typed = unsaved.read(request.POST)
        problems = unsaved.check(typed, report_id=getattr(report, "pk", None))
        # A paragraph's problem links to its own textarea.
        parts = [part for part, _, _ in typed.content.cited_texts]
        texts = dict(zip(parts, typed.text_ids, strict=True))
        context = {
            "checklist": [
                {
                    "message": str(problem),
                    "anchor": texts.get(problem.part) or self._problem_anchor(problem),
                }
                for problem in problems
            ],
            "four_eyes": workflow.four_eyes_conflict(report, request.user)
            if report is not None and request.user.has_perm("reports.publish_report")
            else "",
            "advisories": structured_data.advisories(typed.content.claim),
            # Problems link to the fields of the page that asked.
            "change_url": "",
            "checked_as_typed": True,
            "paragraphs": unsaved.paragraphs(typed, problems),
        }
        if request.POST.get("_live_preview"):
            context |= page_context(unsaved.preview(typed)) | {"is_preview": True}
        response = TemplateResponse(
            request, "admin/reports/report/desk_live.html#live_response", context
        )
        add_never_cache_headers(response)
        return response
