"""Admin for the source library: curators search, filter and deduplicate sources here."""

import datetime
import json
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from factually.admin_pages import admin_page_context
from sources import duplicates, linkcheck, merging, retiring
from sources.forms import MergeForm, RetireForm, SourceForm
from sources.interchange.adminviews import SourceInterchangeMixin
from sources.models import Publisher, Source, SourceMerge


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "source_count"]
    search_fields = ["name", "domain"]

    def get_queryset(self, request):
        # An aggregate drops the default ordering: restore it for autocomplete's paginator.
        return (
            super()
            .get_queryset(request)
            .annotate(source_count=Count("sources"))
            .order_by(*Publisher._meta.ordering, "pk")
        )

    @admin.display(description="sources", ordering="source_count")
    def source_count(self, publisher):
        return publisher.source_count


@admin.register(SourceMerge)
class SourceMergeAdmin(admin.ModelAdmin):
    """Merges are a record: listed and shown here, never added, changed or deleted."""

    list_display = ["merged_title", "merged_id", "kept", "references_moved", "by", "at"]
    list_select_related = ["kept", "by"]
    search_fields = ["merged_title", "merged_url", "kept__title"]
    date_hierarchy = "at"
    readonly_fields = ["merged_fields"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kept",
                    "merged_id",
                    "merged_title",
                    "merged_url",
                    "references_moved",
                    "by",
                    "at",
                ]
            },
        ),
        ("The merged source as it was", {"fields": ["merged_fields"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="fields")
    def merged_fields(self, merge):
        return format_html(
            "<pre>{}</pre>", json.dumps(merge.merged_data, indent=2, ensure_ascii=False)
        )


# Shown read-only on the change form: written by sources.linkcheck only.
LINK_HEALTH_FIELDS = [
    "link_status",
    "needs_attention",
    "citing_published_reports",
    "link_checked_at",
    "link_status_code",
    "link_final_url",
    "link_error",
    "link_failures",
    "archive_checked_at",
    "archive_status_code",
    "archive_error",
]


class LinkHealthFilter(admin.SimpleListFilter):
    """What the last link checks (sources.linkcheck) found."""

    title = "link health"
    parameter_name = "link_health"

    def lookups(self, request, model_admin):
        return [
            ("dead", "Dead links"),
            ("failing", "Failing, not dead yet"),
            ("never", "Never checked"),
            ("30", "Checked more than 30 days ago"),
            ("90", "Checked more than 90 days ago"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "dead":
            return queryset.filter(url_status=Source.UrlStatus.DEAD)
        if value == "failing":
            return queryset.filter(url_status=Source.UrlStatus.LIVE, link_failures__gt=0)
        if value == "never":
            return queryset.filter(link_checked_at__isnull=True)
        if value in {"30", "90"}:
            since = timezone.now() - datetime.timedelta(days=int(value))
            return queryset.filter(link_checked_at__lt=since)
        return queryset


class LinkStatusFilter(admin.SimpleListFilter):
    """The link's state as `Source.link_status` names it: a link never checked is
    "unchecked", not "live"."""

    title = "link status"
    parameter_name = "link_status"

    def lookups(self, request, model_admin):
        return [
            ("unchecked", "Unchecked"),
            *((value, label.split(" (")[0]) for value, label in Source.UrlStatus.choices),
            ("none", "No URL"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        has_url = queryset.exclude(url="")
        live = Source.UrlStatus.LIVE
        if value == "unchecked":
            return has_url.filter(url_status=live, link_checked_at__isnull=True)
        if value == live:
            return has_url.filter(url_status=live, link_checked_at__isnull=False)
        if value in Source.UrlStatus.values:
            return has_url.filter(url_status=value)
        if value == "none":
            return queryset.filter(url="")
        return queryset


IDENTIFIER_FIELDS = ["doi", "isbn", "pmid", "arxiv_id", "handle"]


class HasUrlFilter(admin.SimpleListFilter):
    title = "has URL"
    parameter_name = "has_url"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(url="")
        if self.value() == "no":
            return queryset.filter(url="")
        return queryset


class HasIdentifierFilter(admin.SimpleListFilter):
    """DOI, ISBN, PubMed ID, arXiv ID or handle."""

    title = "has identifier"
    parameter_name = "has_identifier"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        none = Q(**dict.fromkeys(IDENTIFIER_FIELDS, ""))
        if self.value() == "yes":
            return queryset.exclude(none)
        if self.value() == "no":
            return queryset.filter(none)
        return queryset


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Dead links with no archive: readers cannot follow the evidence."""

    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        attention = Q(url_status=Source.UrlStatus.DEAD, archive_url="")
        if self.value() == "yes":
            return queryset.filter(attention)
        if self.value() == "no":
            return queryset.exclude(attention)
        return queryset


@dataclass(frozen=True)
class _CitingPublishedReports:
    """The change form's "Published reports citing this source", for one request.

    Equal for the same admin and request, as the admin matches fieldsets to read-only fields.
    """

    model_admin: admin.ModelAdmin
    request: HttpRequest
    # What the admin reads from a read-only field given as a callable.
    __name__ = "citing_published_reports"
    short_description = "Published reports citing this source"

    def __call__(self, source):
        return self.model_admin.citing_published_reports(source, self.request)


@admin.register(Source)
class SourceAdmin(SourceInterchangeMixin, admin.ModelAdmin):
    form = SourceForm
    list_display = [
        "title",
        "publisher",
        "kind",
        "status",
        "cited_by",
        "link_status",
        "needs_attention",
        "updated_at",
        "is_demo",
    ]
    list_filter = [
        "kind",
        "status",
        ("publisher", admin.RelatedOnlyFieldListFilter),
        "is_demo",
        HasUrlFilter,
        HasIdentifierFilter,
        LinkStatusFilter,
        LinkHealthFilter,
        NeedsAttentionFilter,
    ]
    search_fields = ["title", "url", "publisher__name", "authors", *IDENTIFIER_FIELDS]
    list_select_related = ["publisher"]
    autocomplete_fields = ["publisher"]
    readonly_fields = ["created_at", "updated_at", *LINK_HEALTH_FIELDS]
    date_hierarchy = "published_on"
    actions = ["merge_selected", "check_links_now", "export_selected_as_csl"]
    fieldsets = [
        (None, {"fields": ["title", "url", "where_to_find", "publisher", "authors", "kind"]}),
        ("Identifiers", {"fields": ["doi", "isbn", "pmid", "arxiv_id", "handle"]}),
        ("Dates", {"fields": ["published_on", "accessed_on"]}),
        ("Curation", {"fields": ["archive_url", "status", "notes", "is_demo"]}),
        ("Link health", {"fields": LINK_HEALTH_FIELDS}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(cited_by_count=Count("references__report", distinct=True))
            # An aggregate drops the default ordering: restore it for autocomplete's paginator.
            .order_by(*Source._meta.ordering, "pk")
        )

    @admin.display(description="cited by", ordering="cited_by_count")
    def cited_by(self, source):
        count = source.cited_by_count
        return f"{count} report{'s' if count != 1 else ''}"

    # Link health: checked by sources.linkcheck (and manage.py check_source_links).

    @admin.display(description="needs attention", boolean=True)
    def needs_attention(self, source):
        return source.needs_attention

    @admin.display(description="link status", ordering="link_checked_at")
    def link_status(self, source):
        return source.link_status

    def get_search_results(self, request, queryset, search_term):
        """As the admin searches, plus the source a URL or identifier names however it is
        written (an ISBN-10 with hyphens, "arXiv:2101.00001v2", http for https)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term or " " in term:
            return found, may_have_duplicates
        named = list(
            Source.objects.matching(**dict.fromkeys(("url", *IDENTIFIER_FIELDS), term)).values_list(
                "pk", flat=True
            )[:20]
        )
        if named:
            # Searched apart from the list's annotations, then joined by ID: combining
            # annotated querysets with | is not reliable.
            plain, _ = super().get_search_results(request, Source.objects.all(), search_term)
            found = queryset.filter(Q(pk__in=plain.values("pk")) | Q(pk__in=named))
        return found, may_have_duplicates

    def get_fieldsets(self, request, obj=None):
        return [
            (name, {**options, "fields": self._for_request(request, options["fields"])})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_readonly_fields(self, request, obj=None):
        # Retiring needs a reason and a date: it goes through the retire view, never the form.
        return self._for_request(request, [*super().get_readonly_fields(request, obj), "status"])

    def _for_request(self, request, fields):
        """`fields`, with the field that links to reports bound to the request: its links
        depend on what the viewer may open (the request is passed, not kept on the source)."""
        return [
            _CitingPublishedReports(self, request) if name == "citing_published_reports" else name
            for name in fields
        ]

    def citing_published_reports(self, source, request):
        """The published reports citing `source`, linked where the viewer may open them."""
        items = []
        for report in retiring.published_reports_citing(source) if source.pk else []:
            url = self._admin_url(request, report)
            items.append(
                format_html('<a href="{}">{}</a>', url, report.claim) if url else report.claim
            )
        if not items:
            return "No published report cites this source."
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((i,) for i in items))
        )

    @admin.action(description="Check links now", permissions=["change"])
    def check_links_now(self, request, queryset):
        """Check the selected sources' links while the curator waits: a few, briefly."""
        limit = 20
        if queryset.count() > limit:
            messages.warning(
                request,
                f"Select at most {limit} sources to check at once; "
                "manage.py check_source_links checks the whole library.",
            )
            return None
        summary = linkcheck.check_sources(queryset, concurrency=8, timeout=5, retries=0)
        level = messages.WARNING if summary.dead or summary.errors else messages.SUCCESS
        messages.add_message(request, level, f"Links checked: {summary}.")
        return None

    # Curation: duplicates, merging and retiring. The logic lives in sources.duplicates,
    # sources.merging and sources.retiring; these views only ask and report.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("duplicates/", view(self.duplicates_view), name="sources_source_duplicates"),
            path(
                "<int:kept_id>/merge/<int:duplicate_id>/",
                view(self.merge_view),
                name="sources_source_merge",
            ),
            path("<path:object_id>/retire/", view(self.retire_view), name="sources_source_retire"),
            path(
                "<path:object_id>/reinstate/",
                view(self.reinstate_view),
                name="sources_source_reinstate",
            ),
            *super().get_urls(),
        ]

    def has_merge_permission(self, request):
        return request.user.has_perm("sources.merge_source")

    def has_retire_permission(self, request):
        return request.user.has_perm("sources.retire_source")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        source = self.get_object(request, object_id)
        if source is not None and not source.is_active:
            extra_context = {
                **(extra_context or {}),
                "citing_reports": [
                    (report, self._admin_url(request, report))
                    for report in retiring.published_reports_citing(source)
                ],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _get_source(self, request, object_id):
        source = self.get_object(request, object_id)
        if source is None:
            raise Http404("No source with that ID.")
        return source

    def duplicates_view(self, request):
        """Likely duplicate pairs, each with why and a link to merge it."""
        if not self.has_merge_permission(request):
            raise PermissionDenied
        context = admin_page_context(
            request, self, title="Likely duplicates", pairs=duplicates.likely_duplicates()
        )
        return TemplateResponse(request, "admin/sources/source/duplicates.html", context)

    def merge_view(self, request, kept_id, duplicate_id):
        """GET shows both sources side by side with a choice per differing field; POST merges."""
        if not self.has_merge_permission(request):
            raise PermissionDenied
        found = (
            Source.objects.select_related("publisher")
            .annotate(reference_count=Count("references"))
            .in_bulk([kept_id, duplicate_id])
        )
        if kept_id == duplicate_id or len(found) < 2:
            raise Http404("Two different sources are needed; one may be merged already.")
        kept, duplicate = found[kept_id], found[duplicate_id]
        form = MergeForm(
            request.POST if request.method == "POST" else None, kept=kept, duplicate=duplicate
        )
        if request.method == "POST" and form.is_valid():
            # Named before the merge: the duplicate is deleted by it.
            kept_name, duplicate_name = merging.describe(kept), merging.describe(duplicate)
            try:
                record = form.merge(by=request.user)
            except merging.MergeRefused as refusal:
                messages.error(request, str(refusal))
                return redirect("admin:sources_source_changelist")
            messages.success(
                request,
                f"Merged {duplicate_name} into {kept_name}: "
                f"{record.references_moved} reference(s) moved; the old page of "
                f"ID {record.merged_id} redirects here.",
            )
            for report in record.reports_citing_both:
                messages.warning(request, f"“{report}” now cites this source in two references.")
            return redirect("admin:sources_source_change", kept_id)
        context = admin_page_context(
            request,
            self,
            title="Merge duplicate sources",
            kept=kept,
            duplicate=duplicate,
            form=form,
            citing_both=merging.reports_citing_both(kept, duplicate),
        )
        return TemplateResponse(request, "admin/sources/source/merge.html", context)

    def retire_view(self, request, object_id):
        """Ask for the reason, then retire the source through sources.retiring."""
        return self._retirement_view(request, object_id, retire=True)

    def reinstate_view(self, request, object_id):
        """Confirm, then make a retired source citable again."""
        return self._retirement_view(request, object_id, retire=False)

    def _retirement_view(self, request, object_id, *, retire):
        source = self._get_source(request, object_id)
        if not self.has_retire_permission(request):
            raise PermissionDenied
        form = RetireForm(request.POST if request.method == "POST" else None)
        posted = request.method == "POST" and (not retire or form.is_valid())
        if posted:
            try:
                if retire:
                    retiring.retire(source, by=request.user, reason=form.cleaned_data["reason"])
                else:
                    retiring.reinstate(source, by=request.user)
            except retiring.RetireRefused as refusal:
                messages.error(request, str(refusal))
            else:
                done = "Retired" if retire else "Reinstated"
                messages.success(request, f"{done} “{source}”.")
            return redirect("admin:sources_source_change", source.pk)
        context = admin_page_context(
            request,
            self,
            title=f"{'Retire' if retire else 'Reinstate'} “{source}”",
            obj=source,
            retiring=retire,
            form=form,
            citing_reports=[
                (report, self._admin_url(request, report))
                for report in retiring.published_reports_citing(source)
            ],
        )
        return TemplateResponse(request, "admin/sources/source/retire.html", context)

    @admin.action(description="Merge the 2 selected sources…", permissions=["merge"])
    def merge_selected(self, request, queryset):
        selected = list(queryset.annotate(reference_count=Count("references"))[:3])
        if len(selected) != 2:
            messages.warning(request, "Select exactly two sources to merge.")
            return None
        kept, duplicate = duplicates.suggest_kept(*selected)
        return redirect("admin:sources_source_merge", kept.pk, duplicate.pk)

    def get_deleted_objects(self, objs, request):
        """Name the reports that cite a source, rather than their references, when refusing
        to delete it (Reference.source is PROTECT)."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            reference_opts = Source._meta.get_field("references").related_model._meta
            label = f"{capfirst(reference_opts.verbose_name)}: "
            others = [item for item in protected if not str(item).startswith(label)]
            protected = self._citing_reports(objs, request) + others
        return deleted, model_count, perms_needed, protected

    def _citing_reports(self, objs, request) -> list[str]:
        """One line per source and citing report, linked to the report where allowed.

        Reached through the reverse relation only: sources never import reports.
        """
        Reference = Source._meta.get_field("references").related_model
        citing: dict[tuple, list[int]] = {}
        for reference in (
            Reference.objects.filter(source__in=objs)
            .select_related("source", "report")
            .order_by("source__title", "report__pk", "number")
        ):
            citing.setdefault((reference.source, reference.report), []).append(reference.number)
        lines = []
        for (source, report), numbers in citing.items():
            cited_as = ", ".join(f"[{number}]" for number in numbers)
            url = self._admin_url(request, report)
            if url:
                lines.append(
                    format_html(
                        '“{}” is cited as {} in <a href="{}">{}</a>',
                        source,
                        cited_as,
                        url,
                        report,
                    )
                )
            else:
                lines.append(format_html("“{}” is cited as {} in “{}”", source, cited_as, report))
        return lines

    def _admin_url(self, request, obj) -> str:
        if not self.admin_site.is_registered(type(obj)):
            return ""
        if not self.admin_site.get_model_admin(type(obj)).has_view_or_change_permission(
            request, obj
        ):
            return ""
        opts = obj._meta
        try:
            return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        except NoReverseMatch:
            return ""
