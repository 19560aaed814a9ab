"""The report admin's workflow pages: each step's page, the publish checklist, bulk publish.

Each step's form is in `reports.admin.workflow_forms` and calls one `reports.workflow`
function; the checks are `reports.publishing.check`.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from factually.admin_pages import admin_page_context
from reports import caching, publishing, workflow
from reports.admin import workflow_forms
from reports.admin.pages import partial_response
from reports.newsroom import changes
from reports.public import structured_data

# Said after a take-down or publication whose cache invalidation is still pending.
CACHE_PENDING = "The page may still be cached on some servers; retrying."


class WorkflowViewsMixin:
    """For ReportAdmin: the workflow step and checklist views (routed by ReportAdmin.get_urls),
    the workflow part of the change form, and the "publish selected" action."""

    # Problems about these fields are fixed in the inline of the same prefix.
    inline_problem_fields = frozenset({"sections", "references", "questions"})

    def has_publish_permission(self, request):
        return request.user.has_perm("reports.publish_report")

    def _workflow_context(self, request, report) -> dict:
        """For the change form: the steps this user may take now, and what happened so far."""
        return {
            "transitions": [
                (name, workflow_forms.LABELS[name])
                for name in workflow.available(report, request.user)
            ],
            "timeline": report.transitions.select_related("by")[:50],
            "cache_pending": caching.invalidation_pending(report) and CACHE_PENDING,
        }

    def transition_view(self, request, object_id, name):
        """One workflow step: GET shows what it needs, POST calls `reports.workflow`."""
        report = self._get_report(request, object_id)
        if name not in workflow_forms.FORMS:
            raise Http404("No such workflow step.")
        if not request.user.has_perm(workflow_forms.PERMISSIONS[name]):
            raise PermissionDenied
        form_class = workflow_forms.FORMS[name]
        form = form_class(request.POST if request.method == "POST" else None, report=report)
        if request.method == "POST" and form.is_valid():
            try:
                outcome = form.apply(by=request.user)
            except workflow.ChangedSinceOpened as refusal:
                # Nothing went live: show the report as it is now, with what changed.
                report = self._get_report(request, object_id)
                form.report = report
                form.show_current()
                form.add_error(
                    None, f"Not {'published' if name == 'publish' else 'scheduled'}: {refusal}"
                )
                messages.warning(
                    request,
                    "The report changed after you opened this page. Review it again below; "
                    "publishing now approves it as it is shown here.",
                )
            except workflow.PublishRefused as refusal:
                messages.error(
                    request, f"Not published: {len(refusal.problems)} problem(s) to fix first."
                )
            except workflow.TransitionRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                self.log_change(request, report, outcome)
                messages.success(request, outcome)
                if caching.invalidation_pending(report):
                    messages.warning(request, CACHE_PENDING)
                return redirect("admin:reports_report_change", report.pk)
        reviewing = name in {"publish", "schedule"}
        context = admin_page_context(
            request,
            self,
            title=f"{workflow_forms.LABELS[name]}: “{report.claim}”",
            obj=report,
            name=name,
            label=workflow_forms.LABELS[name],
            form=form,
            problems=self._problems(report) if reviewing else [],
            four_eyes_conflict=workflow.four_eyes_conflict(report, request.user)
            if reviewing
            else "",
            changes=changes.changes_since_live(report) if reviewing and report.is_live else None,
            submission=workflow.submission(report) if reviewing else None,
            change_url=reverse("admin:reports_report_change", args=[report.pk]),
        )
        return TemplateResponse(request, "admin/reports/report/transition.html", context)

    def _problem_anchor(self, problem) -> str:
        """Where on the change form the editor fixes `problem`: a field or an inline."""
        if not problem.field:
            return ""
        if problem.field in self.inline_problem_fields:
            return f"{problem.field}-group"
        return f"id_{problem.field}"

    def _problems(self, report) -> list[dict]:
        return [
            {"message": str(problem), "anchor": self._problem_anchor(problem)}
            for problem in publishing.check(report)
        ]

    def _checklist_context(self, report, user) -> dict:
        return {
            "checklist": self._problems(report),
            # Said up front, rather than offering a publish button that would refuse.
            "four_eyes": workflow.four_eyes_conflict(report, user)
            if user.has_perm("reports.publish_report")
            else "",
            # Advice that does not stop publishing, such as a claim too long for search results.
            "advisories": structured_data.advisories(report.claim),
            "checklist_url": reverse("admin:reports_report_checklist", args=[report.pk]),
            "change_url": reverse("admin:reports_report_change", args=[report.pk]),
        }

    def checklist_view(self, request, object_id):
        """Every publish check on the saved copy: a partial for htmx, else a full page."""
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        context = admin_page_context(
            request,
            self,
            title=f"Publish checklist: “{report.claim}”",
            obj=report,
            **self._checklist_context(report, request.user),
        )
        return partial_response(request, "admin/reports/report/checklist.html", context)

    @admin.action(
        description="Publish selected reports that are in review", permissions=["publish"]
    )
    def publish_selected(self, request, queryset):
        published = 0
        # Bound to the reports as they were when the action started: nothing changed since
        # is published unseen.
        reports = [(report, publishing.approval(report)) for report in queryset]
        for report, approved in reports:
            try:
                version = workflow.publish(report, by=request.user, expected=approved)
            except workflow.TransitionRefused as refusal:
                messages.error(request, f"“{report}” was not published: {refusal}")
            else:
                published += 1
                self.log_change(request, report, f"Published version {version.number}.")
        if published:
            messages.success(request, f"Published {published} report(s).")
