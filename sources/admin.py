"""Admin for the source library: curators search, filter and deduplicate sources here."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from sources.models import Publisher, Source
from sources.normalisation import normalise_url


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = [
            "title",
            "url",
            "publisher",
            "authors",
            "kind",
            "published_on",
            "accessed_on",
            "archive_url",
            "status",
            "notes",
            "is_demo",
        ]

    def clean_url(self):
        url = normalise_url(self.cleaned_data["url"])
        duplicate = Source.objects.filter(url=url).exclude(pk=self.instance.pk).first()
        if duplicate:
            raise forms.ValidationError(
                format_html(
                    'This URL is already in the library as <a href="{}">{}</a>. '
                    "Cite that source instead of adding it twice.",
                    reverse("admin:sources_source_change", args=[duplicate.pk]),
                    duplicate.title,
                ),
                code="duplicate",
            )
        return url


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


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ["title", "publisher", "kind", "status", "cited_by", "updated_at", "is_demo"]
    list_filter = ["kind", "status", ("publisher", admin.RelatedOnlyFieldListFilter), "is_demo"]
    search_fields = ["title", "url", "publisher__name", "authors"]
    list_select_related = ["publisher"]
    autocomplete_fields = ["publisher"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "published_on"
    fieldsets = [
        (None, {"fields": ["title", "url", "publisher", "authors", "kind"]}),
        ("Dates", {"fields": ["published_on", "accessed_on"]}),
        ("Curation", {"fields": ["archive_url", "status", "notes", "is_demo"]}),
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
