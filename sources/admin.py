"""Admin for the source library: curators search, filter and deduplicate sources here."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

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
        return super().get_queryset(request).annotate(source_count=Count("sources"))

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
        )

    @admin.display(description="cited by", ordering="cited_by_count")
    def cited_by(self, source):
        count = source.cited_by_count
        return f"{count} report{'s' if count != 1 else ''}"
