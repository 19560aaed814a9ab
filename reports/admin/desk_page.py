"""The report editor as a page: reading order, the workflow header, the live-with-changes
banner and its diff page, and the newsroom's name on the admin.

The form's fields follow the published page (claim, verdict, date, claim details, summary,
sections, conclusion, questions, references, then details); change_form.html places the
inlines between the fieldsets named here. What is shown is decided here; the diff itself is
`reports.newsroom.changes`.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse

from factually.admin_pages import admin_page_context
from reports.newsroom import changes

# One newsroom tool, not "Django administration".
admin.site.site_header = "Factually newsroom"
admin.site.site_title = "Factually newsroom"
admin.site.index_title = "Newsroom"

CLAIM_DETAILS = ["claimant", "claimant_type", "claim_date", "claim_url"]
# The details that, filled, keep the box open: the claimant's type always has a value.
_FILLABLE_DETAILS = ["claimant", "claim_date", "claim_url"]
# Only admins look after demo content (load_demo); editors never need the box.
ADMIN_ONLY = ["is_demo"]


class DeskPageMixin:
    """For ReportAdmin: the fieldsets in reading order, the header and the diff page."""

    def get_fieldsets(self, request, obj=None):
        details = ["topics", "author", "slug", "seen_version"]
        if request.user.is_superuser:
            details += ADMIN_ONLY
        # Collapsed only while empty: a value typed or saved stays in sight.
        data = request.POST if request.method == "POST" else {}
        filled = any(data.get(name) or (obj and getattr(obj, name)) for name in _FILLABLE_DETAILS)
        return [
            (None, {"fields": ["claim", "verdict", "checked_on"], "classes": ["desk-claim"]}),
            ("Claim details", {"fields": CLAIM_DETAILS, "classes": [] if filled else ["collapse"]}),
            ("Executive summary", {"fields": ["summary"]}),
            ("Conclusion", {"fields": ["conclusion_heading", "conclusion"]}),
            ("Details", {"fields": details}),
        ]

    def _desk_page_context(self, report) -> dict:
        """The compact workflow header: status, what is live, who edited last, when due."""
        if report is None:
            return {}
        live = report.versions.live().only("number", "slug").first() if report.is_live else None
        return {
            "live_version": live,
            "changes_url": reverse("admin:reports_report_changes", args=[report.pk])
            if live and report.has_unpublished_changes
            else "",
        }

    def changes_view(self, request, object_id):
        """Read-only: the working copy against the live version, part by part."""
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        diff = changes.changes_since_live(report)
        if diff is None:
            raise Http404("The report is not live: there is nothing to compare it with.")
        context = admin_page_context(
            request,
            self,
            title=f"Changes readers do not see yet: “{report.claim}”",
            obj=report,
            changes=diff,
            change_url=reverse("admin:reports_report_change", args=[report.pk]),
        )
        return TemplateResponse(request, "admin/reports/report/desk_page_changes.html", context)
