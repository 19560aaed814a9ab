"""Admin for editors and reviewers: drafting, previewing and publishing reports.

The admin stays thin: checks and publishing live in `reports.publishing`.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from reports import publishing
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


class PublicationFilter(admin.SimpleListFilter):
    title = "publication"
    parameter_name = "publication"

    def lookups(self, request, model_admin):
        return [
            ("draft", "Never published"),
            ("published", "Published"),
            ("changed", "Published, with unpublished changes"),
        ]

    def queryset(self, request, queryset):
        match self.value():
            case "draft":
                return queryset.filter(status=Report.Status.DRAFT)
            case "published":
                return queryset.filter(status=Report.Status.PUBLISHED)
            case "changed":
                return queryset.filter(
                    status=Report.Status.PUBLISHED, updated_at__gt=F("published_at")
                )
        return queryset


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "claim",
        "verdict",
        "publication",
        "checked_on",
        "author",
        "updated_at",
        "is_demo",
    ]
    list_filter = [
        PublicationFilter,
        "verdict",
        "topics",
        ("author", admin.RelatedOnlyFieldListFilter),
        "is_demo",
    ]
    list_select_related = ["verdict", "author"]
    search_fields = ["claim", "slug", "summary", "claimant"]
    prepopulated_fields = {"slug": ["claim"]}
    filter_horizontal = ["topics"]
    readonly_fields = ["publication", "published_at", "created_at", "updated_at"]
    inlines = [SectionInline, ReferenceInline, FollowUpQuestionInline]
    actions = ["publish_selected"]
    fieldsets = [
        (None, {"fields": ["claim", "slug", "verdict", "checked_on", "topics", "author"]}),
        (
            "Where the claim appeared",
            {"fields": ["claimant", "claim_date", "claim_url"], "classes": ["collapse"]},
        ),
        ("Executive summary", {"fields": ["summary"]}),
        ("Conclusion", {"fields": ["conclusion_heading", "conclusion"]}),
        (
            "Publication",
            {"fields": ["publication", "published_at", "created_at", "updated_at", "is_demo"]},
        ),
    ]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="reports_report_publish",
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
        super().save_model(request, obj, form, change)

    def view_on_site(self, obj):
        """The page readers see now, under the slug it was published with."""
        version = obj.versions.live().only("slug").first()
        return version.get_absolute_url() if version else None

    def has_publish_permission(self, request):
        return request.user.has_perm("reports.publish_report")

    @admin.display(description="publication")
    def publication(self, report):
        if report.status == Report.Status.DRAFT:
            return "Draft"
        if report.has_unpublished_changes:
            return "Published, with unpublished changes"
        return "Published"

    def _get_report(self, request, object_id):
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404("No report with that ID.")
        return report

    def publish_view(self, request, object_id):
        """GET lists what stands in the way; POST publishes through `publishing.publish`."""
        report = self._get_report(request, object_id)
        if not self.has_publish_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                version = publishing.publish(
                    report, by=request.user, note=request.POST.get("note", "")
                )
            except publishing.PublishRefused as refusal:
                problems = refusal.problems
                messages.error(request, f"Not published: {len(problems)} problem(s) to fix first.")
            else:
                self.log_change(request, report, f"Published version {version.number}.")
                messages.success(
                    request,
                    format_html(
                        'Published. <a href="{}">See it as readers do</a>.',
                        version.get_absolute_url(),
                    ),
                )
                return redirect("admin:reports_report_change", report.pk)
        else:
            problems = publishing.check(report)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": f"Publish “{report.claim}”",
            "problems": [
                {"message": str(problem), "anchor": self._problem_anchor(problem)}
                for problem in problems
            ],
            "change_url": reverse("admin:reports_report_change", args=[report.pk]),
        }
        return TemplateResponse(request, "admin/reports/report/publish.html", context)

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

    @admin.action(description="Publish selected reports", permissions=["publish"])
    def publish_selected(self, request, queryset):
        published = 0
        for report in queryset:
            try:
                version = publishing.publish(report, by=request.user)
            except publishing.PublishRefused as refusal:
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
