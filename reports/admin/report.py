"""The report admin: the change form (inlines, filters, the panels' wiring), its routes,
and the pages that belong to no other area (drafting from a question, export, revisions).

The admin stays thin: checks live in `reports.publishing`, workflow steps in
`reports.workflow`, revisions in `reports.newsroom.revisions`. The other areas of this admin are
mixins beside it: `workflow`, `review`, `citing`, `importing`.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from reversion.admin import VersionAdmin
from reversion.models import Version

from factually.admin_pages import admin_page_context
from reports import contributing
from reports.admin.citing import CitingViewsMixin
from reports.admin.desk_cite import DeskCiteMixin, ReferenceDetailsMixin
from reports.admin.desk_live import LiveFeedbackMixin
from reports.admin.desk_page import DeskPageMixin
from reports.admin.forms import ReportForm
from reports.admin.importing import ImportTextMixin
from reports.admin.review import ReviewViewsMixin
from reports.admin.widgets import OneQueryAutocompleteMixin
from reports.admin.workflow import WorkflowViewsMixin
from reports.formats import exporting, jsonformat
from reports.models import FollowUpQuestion, Reference, Report, Section
from reports.newsroom import citing, drafting, revisions

# Django's tabular inline with a header for every column and a label for every field (axe).
TABULAR = "admin/reports/report/tabular.html"


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "body"]


class ReferenceInline(ReferenceDetailsMixin, OneQueryAutocompleteMixin, admin.TabularInline):
    model = Reference
    extra = 0
    fields = ["number", "source", "pinpoint"]
    autocomplete_fields = ["source"]
    template = TABULAR

    def get_queryset(self, request):
        # Each row shows the reference's name, which names its report.
        return super().get_queryset(request).select_related("report")


class FollowUpQuestionInline(OneQueryAutocompleteMixin, admin.TabularInline):
    model = FollowUpQuestion
    fk_name = "report"
    extra = 0
    fields = ["position", "question", "answered_by"]
    autocomplete_fields = ["answered_by"]
    template = TABULAR


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


class CitesRetiredSourceFilter(admin.SimpleListFilter):
    """Reports to fix: a retired source stops them being published again."""

    title = "cites a retired source"
    parameter_name = "cites_retired"

    def lookups(self, request, model_admin):
        return [("live", "Yes, live on the site"), ("yes", "Yes, any report")]

    def queryset(self, request, queryset):
        match self.value():
            case "live":
                return citing.citing_retired_sources(queryset).filter(published_at__isnull=False)
            case "yes":
                return citing.citing_retired_sources(queryset)
        return queryset


@admin.register(Report)
class ReportAdmin(
    DeskPageMixin,
    ImportTextMixin,
    WorkflowViewsMixin,
    ReviewViewsMixin,
    CitingViewsMixin,
    LiveFeedbackMixin,
    DeskCiteMixin,
    VersionAdmin,
):
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
        CitesRetiredSourceFilter,
        "verdict",
        "topics",
        ("author", admin.RelatedOnlyFieldListFilter),
        "is_demo",
    ]
    list_select_related = ["verdict", "author"]
    search_fields = ["claim", "slug", "summary", "claimant"]
    prepopulated_fields = {"slug": ["claim"]}
    inlines = [SectionInline, ReferenceInline, FollowUpQuestionInline]
    actions = ["publish_selected"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Checkboxes under a legend, for keyboard and screen reader: filter_horizontal's
        # chooser has unlabelled help icons that axe flags.
        if db_field.name == "topics":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view
        pages = [
            *self.desk_cite_pages(),  # before "<path:object_id>/", as "similar/" below
            ("<path:object_id>/transition/<str:name>/", self.transition_view, "transition"),
            ("<path:object_id>/preview/", self.preview_view, "preview"),
            ("<path:object_id>/changes/", self.changes_view, "changes"),
            ("<path:object_id>/checklist/", self.checklist_view, "checklist"),
            # Before "<path:object_id>/", which would take "similar" for an id.
            ("similar/", self.similar_view, "similar_new"),
            ("live/", self.live_view, "live_new"),
            ("<path:object_id>/live/", self.live_view, "live"),
            ("<path:object_id>/similar/", self.similar_view, "similar"),
            (
                "<path:object_id>/questions/<int:question_id>/draft/",
                self.draft_question_view,
                "draft_question",
            ),
            ("<path:object_id>/cite/", self.cite_view, "cite"),
            ("<path:object_id>/export/<str:format_name>/", self.export_view, "export"),
        ]
        routes = [
            path(route, view(page), name=f"reports_report_{name}") for route, page, name in pages
        ]
        return [*routes, *super().get_urls()]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            if obj.author_id is None:
                obj.author = request.user
        obj.last_edited_by = request.user
        # Read before anything is written (the form's clean locked the row): see save_related.
        request.report_content_before = contributing.content(obj.pk) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the inlines and topics: one save of the form is one contribution, if any.
        before = getattr(request, "report_content_before", None)
        if getattr(request, "recovering_report", False) or before is None:
            what = "Recovered the report." if change else "Created the report."
            contributing.record(form.instance, by=request.user, what=what)
        else:
            contributing.record_if_changed(
                form.instance, by=request.user, what="Changed it in the form.", before=before
            )

    def recover_view(self, request, version_id, extra_context=None):
        # The deleted report is put back before the form saves it, so the form alone would
        # see no change: whoever recovers it counts as writing it.
        request.recovering_report = True
        return super().recover_view(request, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Similar published claims follow the claim as it is typed (and the verdict chosen).
        url = self._similar_url(obj)
        for name, other in [("claim", "verdict"), ("verdict", "claim")]:
            if name in form.base_fields:
                form.base_fields[name].widget.attrs.update(
                    {
                        "hx-get": url,
                        "hx-trigger": "keyup changed delay:500ms, change"
                        if name == "claim"
                        else "change",
                        "hx-include": f"[name={other}]",
                        "hx-target": "#similar-claims",
                        "hx-swap": "outerHTML",
                        "hx-sync": "this:replace",
                    }
                )
        return form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Only when the page is shown: a successful save redirects without these queries.
        form = context["adminform"].form
        claim = form["claim"].value() if "claim" in form.fields else getattr(obj, "claim", "")
        context.update(
            self._similar_context(claim or "", verdict=getattr(obj, "verdict", None), report=obj)
        )
        context.update(self._desk_page_context(obj))
        context["live_url"] = self._live_url(obj) if self._may_type(request, obj) else ""
        if obj is not None:
            context.update(self._checklist_context(obj, request.user))
            context["questions"] = obj.questions.select_related("answered_by")
            context["may_draft"] = self.has_add_permission(request) and self.has_change_permission(
                request, obj
            )
            context["may_cite"] = self.has_change_permission(request, obj)
            context["cite_url"] = reverse("admin:reports_report_cite", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        if report is not None:
            extra_context = {**(extra_context or {}), **self._workflow_context(request, report)}
        return super().change_view(request, object_id, form_url, extra_context)

    def view_on_site(self, obj):
        """The page readers see now, under the slug it was published with."""
        version = obj.versions.live().only("slug").first()
        return version.get_absolute_url() if version else None

    @admin.display(description="live", boolean=True)
    def live(self, report):
        return report.is_live

    def _get_report(self, request, object_id):
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404("No report with that ID.")
        return report

    def draft_question_view(self, request, object_id, question_id):
        """POST: a new draft report answering one follow-up question of this report."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        report = self._get_report(request, object_id)
        # It adds a report and edits this one (the question's link).
        if not (self.has_add_permission(request) and self.has_change_permission(request, report)):
            raise PermissionDenied
        question = get_object_or_404(report.questions, pk=question_id)
        try:
            draft = drafting.draft_from_question(question, by=request.user)
        except drafting.AlreadyAnswered as refusal:
            messages.error(
                request,
                format_html(
                    '“{}” is already answered by <a href="{}">{}</a>.',
                    question.question,
                    reverse("admin:reports_report_change", args=[refusal.report.pk]),
                    refusal.report.claim,
                ),
            )
            return redirect("admin:reports_report_change", report.pk)
        self.log_addition(request, draft, f"Drafted from a follow-up question of “{report}”.")
        self.log_change(request, report, f"The question “{question}” is answered by a new draft.")
        messages.success(
            request,
            format_html(
                'Drafted a report from the question of <a href="{}">{}</a>. '
                "Check the claim and slug, then write it.",
                reverse("admin:reports_report_change", args=[report.pk]),
                report.claim,
            ),
        )
        return redirect("admin:reports_report_change", draft.pk)

    def export_view(self, request, object_id, format_name):
        """The live published version as JSON, Markdown or text (never the working copy)."""
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        if format_name not in exporting.FORMATS:
            raise Http404("No such export format.")
        version = jsonformat.live_version(report)
        if version is None:
            raise Http404("The report has no live version to export.")
        return exporting.response(version, format_name, download=True)

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
                saved = date_format(localtime(version.revision.date_created), "DATETIME_FORMAT")
                messages.success(request, f"Restored the text saved on {saved}.")
                return redirect("admin:reports_report_change", report.pk)
        context = admin_page_context(
            request,
            self,
            title=f"Revision of “{report.claim}”",
            obj=report,
            version=version,
            snapshot=revisions.snapshot(version),
            change_url=reverse("admin:reports_report_change", args=[report.pk]),
        )
        return TemplateResponse(request, "admin/reports/report/revision.html", context)
