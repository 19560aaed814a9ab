"""The forms of the source library's admin pages: a source, merging two, retiring one.

The rules they apply live in the service modules (sources/merging.py, sources/retiring.py,
sources/normalisation.py); the views are in sources/admin.py.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from sources import merging
from sources.models import Source, SourceMerge
from sources.normalisation import normalise_url


class SourceForm(forms.ModelForm):
    """A source as curators edit it: its URL normalised, and refused if already listed."""

    class Meta:
        model = Source
        fields = [
            "title",
            "url",
            "where_to_find",
            "publisher",
            "authors",
            "kind",
            "published_on",
            "accessed_on",
            "doi",
            "isbn",
            "pmid",
            "arxiv_id",
            "handle",
            "archive_url",
            "status",
            "notes",
            "is_demo",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Written with hyphens or a "PMID:" prefix they are longer than the stored form,
        # which the model makes and checks (Source.normalise, Source.clean).
        for name in ("isbn", "pmid"):
            if name in self.fields:
                field = self.fields[name]
                field.max_length = None
                field.validators = []
                field.widget.attrs.pop("maxlength", None)

    def clean_url(self):
        url = normalise_url(self.cleaned_data["url"])
        # http and https are one page: an http:// copy of an https:// record is refused too.
        duplicate = Source.objects.matching(url=url).exclude(pk=self.instance.pk).first()
        if duplicate:
            raise forms.ValidationError(
                format_html(
                    'This URL is already in the library as <a href="{}">{}</a>{}. '
                    "Cite that source instead of adding it twice.",
                    reverse("admin:sources_source_change", args=[duplicate.pk]),
                    duplicate.title,
                    "" if duplicate.url == url else f" ({duplicate.url})",
                ),
                code="duplicate",
            )
        return url


class MergeForm(forms.Form):
    """One choice per differing field, defaulting to the value of the more cited record
    (else the richer value: `merging.preselected`)."""

    def __init__(self, *args, kept: Source, duplicate: Source, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept, self.duplicate = kept, duplicate
        for field in merging.differing_fields(kept, duplicate):
            label = _label(field)
            self.fields[field] = forms.ChoiceField(
                label=label,
                choices=[
                    (
                        side,
                        format_html(
                            '<span class="visually-hidden">{} of the {}: </span>{}',
                            label,
                            name,
                            _display(source, field),
                        ),
                    )
                    for side, name, source in (
                        (merging.KEPT, "kept source", kept),
                        (merging.DUPLICATE, "duplicate", duplicate),
                    )
                ],
                initial=merging.preselected(field, kept, duplicate),
                widget=forms.RadioSelect,
            )

    def rows(self) -> list[dict]:
        """Every merged field side by side; a differing one carries its choice."""
        return [
            {
                "label": _label(field),
                "kept": _display(self.kept, field),
                "duplicate": _display(self.duplicate, field),
                "choice": self[field] if field in self.fields else None,
            }
            for field in merging.MERGED_FIELDS
        ]

    def merge(self, *, by) -> SourceMerge:
        return merging.merge(self.kept, self.duplicate, by=by, choices=self.cleaned_data)


def _label(field: str) -> str:
    name = str(Source._meta.get_field(field).verbose_name)
    return name[:1].upper() + name[1:]


def _display(source: Source, field: str) -> str:
    """A field's value as curators read it; "(empty)" rather than nothing."""
    if field == "authors":
        value = "; ".join(source.author_list)
    elif field == "url":
        value = f"{source.url} ({source.link_status})" if source.url else ""
    elif field == "kind":
        value = source.get_kind_display()
    else:
        value = getattr(source, field)
    return str(value) if value not in (None, "") else "(empty)"


class RetireForm(forms.Form):
    """Why a source is retired: readers and the editors citing it are told."""

    reason = forms.CharField(
        label="Reason for retiring",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to readers on the source’s page and to editors whose reports cite it.",
    )
