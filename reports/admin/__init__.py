"""Admin for editors and reviewers: drafting, previewing and publishing reports.

The admin stays thin: checks live in `reports.publishing`, workflow steps in
`reports.workflow`, revisions in `reports.revisions`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.timezone import localtime
from reversion.admin import VersionAdmin
from reversion.models import Version

from reports import caching, contributing, locking, publishing, revisions, workflow
from reports.admin import workflow_forms
from reports.admin.importing import ImportTextMixin
from reports.formats import exporting, jsonformat
from reports.models import (
    FollowUpQuestion,
    PublishedVersion,
    ReaderMessage,
    Reference,
    Report,
    Section,
    Topic,
    Verdict,
)
from reports.newsroom import citing, drafting, review
from reports.public import structured_data
from reports.rendering import page_context
from sources.models import Source

# Said after a take-down or publication whose cache invalidation is still pending.
CACHE_PENDING = "The page may still be cached on some servers; retrying."


class _SelectedLabels:
    """The labels of the options selected in every row of one inline, read in one query."""

    def __init__(self, queryset, label):
        self.queryset, self.label = queryset, label

    @cached_property
    def labels(self) -> dict[str, str]:
        return {str(obj.pk): self.label(obj) for obj in self.queryset}


class RowAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that shows its selected option without a query per inline row."""

    # Set per request by `OneQueryAutocompleteMixin`; the copies made for each row share it.
    selected: _SelectedLabels | None = None

    def optgroups(self, name, value, attr=None):
        chosen = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if self.selected is None or not chosen <= self.selected.labels.keys():
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for pk in sorted(chosen):
            options.append(
                self.create_option(name, pk, self.selected.labels[pk], chosen, len(options))
            )
        return [(None, options, 0)]


class OneQueryAutocompleteMixin:
    """Inline autocompletes cost one query per field, not one per row, on the change form."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                RowAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for name in self.get_autocomplete_fields(request):
            field = formset.form.base_fields.get(name)
            widget = getattr(getattr(field, "widget", None), "widget", None)
            if obj is not None and isinstance(widget, RowAutocompleteSelect):
                rows = self.model._default_manager.filter(**{formset.fk.name: obj})
                widget.selected = _SelectedLabels(
                    field.queryset.filter(pk__in=rows.values(name)), field.label_from_instance
                )
        return formset


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "body"]


class ReferenceInline(OneQueryAutocompleteMixin, admin.TabularInline):
    model = Reference
    extra = 0
    fields = ["number", "source", "pinpoint"]
    autocomplete_fields = ["source"]

    def get_queryset(self, request):
        # Each row shows the reference's name, which names its report.
        return super().get_queryset(request).select_related("report")


class FollowUpQuestionInline(OneQueryAutocompleteMixin, admin.TabularInline):
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


class ReportForm(forms.ModelForm):
    """The report form, refusing to overwrite changes saved since it was opened."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.edit_version
            self.fields["seen_version"].required = True

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        # Report slugs are unique, but a live page keeps the slug it was published with.
        for problem in publishing.check_address(slug, report_id=self.instance.pk):
            raise forms.ValidationError(str(problem), code="live_slug_taken")
        return slug

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk:
            conflict = locking.conflict(self.instance, cleaned_data.get("seen_version"))
            if conflict:
                raise forms.ValidationError(conflict, code="edit_conflict")
        return cleaned_data


@admin.register(Report)
class ReportAdmin(ImportTextMixin, VersionAdmin):
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
    filter_horizontal = ["topics"]
    readonly_fields = [
        "status",
        "live",
        "published_at",
        "publish_at",
        "withdrawal_reason",
        "last_edited_by",
        "updated_at",
    ]
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
                    "publish_at",
                    "withdrawal_reason",
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
            path(
                "<path:object_id>/checklist/",
                self.admin_site.admin_view(self.checklist_view),
                name="reports_report_checklist",
            ),
            # Before "<path:object_id>/", which would take "similar" for an id.
            path(
                "similar/",
                self.admin_site.admin_view(self.similar_view),
                name="reports_report_similar_new",
            ),
            path(
                "<path:object_id>/similar/",
                self.admin_site.admin_view(self.similar_view),
                name="reports_report_similar",
            ),
            path(
                "<path:object_id>/questions/<int:question_id>/draft/",
                self.admin_site.admin_view(self.draft_question_view),
                name="reports_report_draft_question",
            ),
            path(
                "<path:object_id>/cite/",
                self.admin_site.admin_view(self.cite_view),
                name="reports_report_cite",
            ),
            path(
                "<path:object_id>/export/<str:format_name>/",
                self.admin_site.admin_view(self.export_view),
                name="reports_report_export",
            ),
            *super().get_urls(),
        ]

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
            extra_context = {
                **(extra_context or {}),
                "transitions": [
                    (name, workflow_forms.LABELS[name])
                    for name in workflow.available(report, request.user)
                ],
                "timeline": report.transitions.select_related("by")[:50],
                "cache_pending": caching.invalidation_pending(report) and CACHE_PENDING,
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
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "name": name,
            "label": workflow_forms.LABELS[name],
            "title": f"{workflow_forms.LABELS[name]}: “{report.claim}”",
            "form": form,
            "problems": self._problems(report) if reviewing else [],
            "four_eyes_conflict": workflow.four_eyes_conflict(report, request.user)
            if reviewing
            else "",
            "changes": review.changes_since_live(report) if reviewing and report.is_live else None,
            "submission": workflow.submission(report) if reviewing else None,
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
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": f"Publish checklist: “{report.claim}”",
            **self._checklist_context(report, request.user),
        }
        return self._partial_response(request, "admin/reports/report/checklist.html", context)

    def _similar_url(self, report) -> str:
        if report is None or report.pk is None:
            return reverse("admin:reports_report_similar_new")
        return reverse("admin:reports_report_similar", args=[report.pk])

    def _similar_context(self, claim: str, *, verdict, report) -> dict:
        return {
            "similar": review.similar_claims(
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
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": "Similar published claims",
            **self._similar_context(claim, verdict=verdict, report=report),
        }
        return self._partial_response(request, "admin/reports/report/similar.html", context)

    # Citing a source from the change form; the logic lives in reports.newsroom.citing.

    def cite_view(self, request, object_id):
        """GET finds sources (`?q=`) or resolves a pasted URL; POST cites one.

        A partial for htmx, else the whole page; a plain POST goes back to the report.
        """
        report = self._get_report(request, object_id)
        if not self.has_change_permission(request, report):
            raise PermissionDenied
        if request.method == "POST":
            return self._cite(request, report)
        lookup = citing.lookup(request.GET.get("q", ""), report=report)
        new_source_form = None
        if lookup.resolution is not None and lookup.resolution.is_new:
            new_source_form = citing.NewSourceForm(
                initial={"url": lookup.resolution.url, "title": lookup.resolution.title}
            )
        return self._cite_response(request, report, lookup=lookup, new_source_form=new_source_form)

    def _cite(self, request, report):
        """POST: cite the chosen source, or the pasted URL's (added to the library if new)."""
        source_added = False
        try:
            if "source" in request.POST:
                reference = citing.cite(report, self._posted_source(request), by=request.user)
            else:
                if not request.user.has_perm("sources.add_source"):
                    raise PermissionDenied
                form = citing.NewSourceForm(request.POST)
                if not form.is_valid():
                    return self._cite_response(request, report, new_source_form=form)
                reference, source_added = citing.cite_url(
                    report, by=request.user, **form.cleaned_data
                )
        except citing.AlreadyCited as already:
            return self._cited_response(request, report, already.reference, added=False)
        except citing.CiteRefused as refusal:
            if request.htmx:
                return self._cite_response(request, report, cite_error=str(refusal))
            messages.error(request, str(refusal))
            return redirect(self._cite_url(report, request.POST.get("q", "")))
        if source_added:
            self.log_addition(request, reference.source, "Added while citing it in a report.")
        message = f"Added reference [{reference.number}] citing “{reference.source}”."
        self.log_change(request, report, message)
        return self._cited_response(
            request, report, reference, added=True, source_added=source_added
        )

    def _posted_source(self, request) -> Source:
        source_id = request.POST.get("source", "")
        source = Source.objects.filter(pk=source_id).first() if source_id.isdigit() else None
        if source is None:
            raise citing.CiteRefused("That source is no longer in the library: search again.")
        return source

    def _cited_response(self, request, report, reference, *, added, source_added=False):
        """The marker to paste: in the panel for htmx, else as a message on the report."""
        if request.htmx:
            cited = {"reference": reference, "added": added, "source_added": source_added}
            return self._cite_response(request, report, cited=cited)
        if added:
            text = "Added as reference [{}]: paste [{}] where you cite it."
            messages.success(request, format_html(text, reference.number, reference.number))
        else:
            text = "This report already cites “{}” as reference [{}]: paste [{}] where you cite it."
            messages.info(
                request, format_html(text, reference.source, reference.number, reference.number)
            )
        return redirect("admin:reports_report_change", report.pk)

    def _cite_response(self, request, report, *, lookup=None, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": report,
            "title": f"Cite a source: “{report.claim}”",
            "change_url": reverse("admin:reports_report_change", args=[report.pk]),
            "cite_url": reverse("admin:reports_report_cite", args=[report.pk]),
            "cite_query": lookup.query if lookup else request.POST.get("q", ""),
            "lookup": lookup or citing.Lookup(),
            "may_add_source": request.user.has_perm("sources.add_source"),
            **context,
        }
        return self._partial_response(request, "admin/reports/report/cite.html", context)

    def _cite_url(self, report, query: str = "") -> str:
        url = reverse("admin:reports_report_cite", args=[report.pk])
        return f"{url}?{urlencode({'q': query})}" if query else url

    def _partial_response(self, request, template: str, context: dict) -> TemplateResponse:
        """The template's partial of the same name for htmx requests, the whole page otherwise."""
        if request.htmx:
            template += "#" + template.rsplit("/", 1)[-1].removesuffix(".html")
        response = TemplateResponse(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        return response

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

    def preview_view(self, request, object_id):
        """The working copy rendered with the public template; staff only, never cached.

        Sentences without a citation are highlighted here (advisory), never on public pages.
        """
        report = self._get_report(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        version = publishing.preview(report)
        context = page_context(version)
        highlighted = review.highlight_uncited(context["body_html"])
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


@admin.register(ReaderMessage)
class ReaderMessageAdmin(admin.ModelAdmin):
    """The queue of readers' error reports and claim suggestions.

    What the reader sent is read-only and always shown escaped; the newsroom sets the
    status, who handles the message and an internal note. Readers send, nobody adds here.
    """

    list_display = ["summary", "kind", "about", "status", "assigned_to", "created_at"]
    list_display_links = ["summary"]
    list_filter = ["status", "kind", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["report", "assigned_to"]
    search_fields = ["message", "claim", "location", "email", "report__claim", "internal_note"]
    date_hierarchy = "created_at"
    actions = ["mark_in_progress", "mark_answered", "mark_dismissed", "mark_new", "assign_to_me"]
    readonly_fields = [
        "kind",
        "created_at",
        "report_link",
        "version_number",
        "location",
        "claim",
        "claim_url",
        "message",
        "email_link",
    ]
    newsroom_fieldset = ("Newsroom", {"fields": ["status", "assigned_to", "internal_note"]})

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.kind == ReaderMessage.Kind.SUGGESTION:
            sent = ["kind", "created_at", "claim", "claim_url", "message", "email_link"]
        else:
            sent = [
                "kind",
                "created_at",
                "report_link",
                "version_number",
                "location",
                "message",
                "email_link",
            ]
        return [("From the reader", {"fields": sent}), self.newsroom_fieldset]

    def has_add_permission(self, request):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                is_staff=True, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="message")
    def summary(self, obj):
        # Plain text: the admin escapes it.
        text = obj.claim if obj.kind == ReaderMessage.Kind.SUGGESTION else obj.message
        return text if len(text) <= 120 else text[:119] + "…"

    @admin.display(description="about")
    def about(self, obj):
        if obj.report_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> (version {})',
            reverse("admin:reports_report_change", args=[obj.report_id]),
            obj.report.claim,
            obj.version_number,
        )

    @admin.display(description="report")
    def report_link(self, obj):
        if obj.report_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:reports_report_change", args=[obj.report_id]),
            obj.report.claim,
        )

    @admin.display(description="reader's email")
    def email_link(self, obj):
        if not obj.email:
            return "—"
        return format_html('<a href="mailto:{}">{}</a>', obj.email, obj.email)

    def _set(self, request, queryset, done: str, **values):
        """Set `values` (attribute names) on each selected message that differs; log each."""
        changed = 0
        for message in queryset:
            if all(getattr(message, name) == value for name, value in values.items()):
                continue
            for name, value in values.items():
                setattr(message, name, value)
            message.save(update_fields=[*values, "updated_at"])
            self.log_change(request, message, f"{done}.")
            changed += 1
        self.message_user(request, f"{done}: {changed} message(s).", messages.SUCCESS)

    @admin.action(description="Mark selected messages as in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._set(request, queryset, "Marked in progress", status=ReaderMessage.Status.IN_PROGRESS)

    @admin.action(description="Mark selected messages as answered", permissions=["change"])
    def mark_answered(self, request, queryset):
        self._set(request, queryset, "Marked answered", status=ReaderMessage.Status.ANSWERED)

    @admin.action(description="Dismiss selected messages", permissions=["change"])
    def mark_dismissed(self, request, queryset):
        self._set(request, queryset, "Dismissed", status=ReaderMessage.Status.DISMISSED)

    @admin.action(description="Mark selected messages as new again", permissions=["change"])
    def mark_new(self, request, queryset):
        self._set(request, queryset, "Marked new", status=ReaderMessage.Status.NEW)

    @admin.action(description="Assign selected messages to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        user = request.user
        self._set(request, queryset, f"Assigned to {user.get_username()}", assigned_to_id=user.pk)
