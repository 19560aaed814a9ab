"""Admin for editors and reviewers: drafting, previewing and publishing reports.

The admin stays thin: checks live in `reports.publishing`, workflow steps in
`reports.workflow`, revisions in `reports.revisions`.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.timezone import localtime
from reversion.admin import VersionAdmin
from reversion.models import Version

from reports import locking, publishing, revisions, workflow, workflow_forms
from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from reports.rendering import page_context


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "body"]


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0
    fields = ["number", "source", "pinpoint"]
    autocomplete_fields = ["source"]


class FollowUpQuestionInline(admin.TabularInline):
    model = FollowUpQuestion
    fk_name = "report"
    extra = 0
    fields = ["position", "question", "answered_by"]
    autocomplete_fields = ["answered_by"]


class LiveFilter(admin.SimpleListFilter):
    title = "on the public site"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Live"),
            ("changed", "Live, with unpublished changes"),
            ("no", "Not live"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "yes":
                return queryset.filter(published_at__isnull=False)
            case "changed":
                return queryset.filter(published_at__isnull=False, updated_at__gt=F("published_at"))
            case "no":
                return queryset.filter(published_at__isnull=True)
        return queryset


class ReportForm(forms.ModelForm):
    """The report form, refusing to overwrite changes saved since it was opened."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.edit_version
            self.fields["seen_version"].required = True

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk:
            conflict = locking.conflict(self.instance, cleaned_data.get("seen_version"))
            if conflict:
                raise forms.ValidationError(conflict, code="edit_conflict")
        return cleaned_data


@admin.register(Report)
class ReportAdmin(VersionAdmin):
    form = ReportForm
    list_display = [
        "claim",
        "verdict",
        "status",
        "live",
        "checked_on",
        "author",
        "updated_at",
    ]
    list_filter = [
        "status",
        LiveFilter,
        "verdict",
        "topics",
        ("author", admin.RelatedOnlyFieldListFilter),
        "is_demo",
    ]
    list_select_related = ["verdict", "author"]
    search_fields = ["claim", "slug", "summary", "claimant"]
    prepopulated_fields = {"slug": ["claim"]}
    filter_horizontal = ["topics"]
    readonly_fields = ["status", "live", "published_at", "last_edited_by", "updated_at"]
    inlines = [SectionInline, ReferenceInline, FollowUpQuestionInline]
    actions = ["publish_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "claim",
                    "slug",
                    "verdict",
                    "checked_on",
                    "topics",
                    "author",
                    "seen_version",
                ]
            },
        ),
        (
            "Where the claim appeared",
            {"fields": ["claimant", "claim_date", "claim_url"], "classes": ["collapse"]},
        ),
        ("Executive summary", {"fields": ["summary"]}),
        ("Conclusion", {"fields": ["conclusion_heading", "conclusion"]}),
        (
            "Workflow",
            {
                "fields": [
                    "status",
                    "live",
                    "published_at",
                    "last_edited_by",
                    "updated_at",
                    "is_demo",
                ]
            },
        ),
    ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name="reports_report_transition",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="reports_report_preview",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        obj.last_edited_by = request.user
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        if report is not None:
            extra_context = {
                **(extra_context or {}),
                "transitions": [
                    (name, workflow_forms.LABELS[name])
                    for name in workflow.available(report, request.user)
                ],
                "timeline": report.transitions.select_related("by")[:50],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def view_on_site(self, obj):
        """The page readers see now, under the slug it was published with."""
        version = obj.versions.live().only("slug").first()
        return version.get_absolute_url() if version else None

    def has_publish_permission(self, request):
        return request.user.has_perm("reports.publish_report")

    @admin.display(description="live", boolean=True)
    def live(self, report):
        return report.is_live

    def _get_report(self, request, object_id):
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404("No report with that ID.")
        return report

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
            except workflow.PublishRefused as refusal:
                messages.error(
                    request, f"Not published: {len(refusal.problems)} problem(s) to fix first."
                )
            except workflow.TransitionRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                self.log_change(request, report, outcome)
                messages.success(request, outcome)
                return redirect("admin:reports_report_change", report.pk)
        problems = publishing.check(report) if name in {"publish", "schedule"} else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "name": name,
            "label": workflow_forms.LABELS[name],
            "title": f"{workflow_forms.LABELS[name]}: “{report.claim}”",
            "form": form,
            "problems": [
                {"message": str(problem), "anchor": self._problem_anchor(problem)}
                for problem in problems
            ],
            "four_eyes_conflict": name in {"publish", "schedule"}
            and workflow.four_eyes_conflict(report, request.user),
            "change_url": reverse("admin:reports_report_change", args=[report.pk]),
        }
        return TemplateResponse(request, "admin/reports/report/transition.html", context)

    # Problems about these fields are fixed in the inline of the same prefix.
    inline_problem_fields = frozenset({"sections", "references", "questions"})

    def _problem_anchor(self, problem) -> str:
        """Where on the change form the editor fixes `problem`: a field or an inline."""
        if not problem.field:
            return ""
        if problem.field in self.inline_problem_fields:
            return f"{problem.field}-group"
        return f"id_{problem.field}"

    def preview_view(self, request, object_id):
        """The working copy rendered with the public template; staff only, never cached."""
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        version = publishing.preview(report)
        response = TemplateResponse(
            request,
            "reports/detail.html",
            {**page_context(version), "is_preview": True},
        )
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """An earlier revision, read-only; POST restores its text (the workflow state stays)."""
        report = self._get_report(request, object_id)
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        version = get_object_or_404(
            Version.objects.get_for_object(report).select_related("revision__user"),
            pk=version_id,
        )
        if request.method == "POST":
            try:
                revisions.restore(report, version, by=request.user)
            except revisions.RestoreRefused as refusal:
                messages.error(request, str(refusal))
            else:
                saved = localtime(version.revision.date_created)
                messages.success(request, f"Restored the text saved on {saved:%d %B %Y %H:%M}.")
                return redirect("admin:reports_report_change", report.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": f"Revision of “{report.claim}”",
            "version": version,
            "snapshot": revisions.snapshot(version),
            "change_url": reverse("admin:reports_report_change", args=[report.pk]),
        }
        return TemplateResponse(request, "admin/reports/report/revision.html", context)

    @admin.action(
        description="Publish selected reports that are in review", permissions=["publish"]
    )
    def publish_selected(self, request, queryset):
        published = 0
        for report in queryset:
            try:
                version = workflow.publish(report, by=request.user)
            except workflow.TransitionRefused as refusal:
                messages.error(request, f"“{report}” was not published: {refusal}")
            else:
                published += 1
                self.log_change(request, report, f"Published version {version.number}.")
        if published:
            messages.success(request, f"Published {published} report(s).")


@admin.register(Verdict)
class VerdictAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order", "colour", "rating"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PublishedVersion)
class PublishedVersionAdmin(admin.ModelAdmin):
    """Published versions are immutable: the admin only lists and shows them."""

    list_display = ["claim", "number", "is_live", "verdict", "published_at", "published_by"]
    list_filter = ["is_live", "verdict"]
    list_select_related = ["verdict", "published_by"]
    search_fields = ["claim", "slug"]
    date_hierarchy = "published_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
