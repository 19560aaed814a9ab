"""The report admin's forms: the report itself, "Import from text", and a source added
while citing. The workflow steps have theirs in `reports.admin.workflow_forms`.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from reports import locking, publishing
from reports.formats import importing
from reports.newsroom.citing import DOI_RE
from sources.models import Publisher, Source
from sources.normalisation import normalise_doi

# The name an import from pasted text goes by in messages and the admin history.
PASTED = "pasted text"


class ReportForm(forms.ModelForm):
    """The report form, refusing to overwrite changes saved since it was opened."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.edit_version
            self.fields["seen_version"].required = True
        if "claimant_type" in self.fields:
            # The select always posts a choice; a form posted without one (a script, an
            # older page) keeps the report's type rather than failing on a field not shown.
            self.fields["claimant_type"].required = False

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


class ImportTextForm(forms.Form):
    text = forms.CharField(
        label="Text of the report",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}),
        help_text="Paste the whole report: claim, “Checked on” date, executive summary, "
        "numbered sections, conclusion and follow-up questions (or the older layout starting "
        "“Fact check:”); a page copied from the site will do. Page furniture copied with it "
        "(donation banner, disclaimer, notices, “Was this fact-check helpful?”) is left out.",
    )
    file = forms.FileField(
        label="Or a text file",
        required=False,
        help_text="A UTF-8 .txt file in the same layout, instead of pasting.",
    )
    partial = forms.BooleanField(
        label="The text is cut off or partly unreadable: import what can be read as a draft, "
        "listing what is missing",
        label_suffix="",
        required=False,
    )
    filename = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            # The same limit as manage.py import_report, said the same way, before reading.
            refusal = importing.too_large(upload.name, upload.size)
            if refusal:
                raise forms.ValidationError(refusal)
            data = upload.read()
            try:
                cleaned["text"] = data.decode("utf-8")
            except UnicodeDecodeError as error:
                line = data[: error.start].count(b"\n") + 1
                raise forms.ValidationError(
                    f"{upload.name}, line {line}: not UTF-8 text."
                ) from None
            cleaned["filename"] = upload.name
        elif not cleaned.get("text", "").strip():
            raise forms.ValidationError("Paste the text of a report, or choose a file.")
        else:
            name = cleaned.get("filename") or PASTED
            refusal = importing.too_large(name, len(cleaned["text"].encode("utf-8")))
            if refusal:
                raise forms.ValidationError(refusal)
        cleaned["filename"] = cleaned.get("filename") or PASTED
        return cleaned


def _cite_field(field: forms.Field) -> forms.Field:
    # The panel's inputs sit outside its forms (HTML forms cannot nest): they name theirs.
    field.widget.attrs["form"] = "cite-pick"
    return field


class NewSourceForm(forms.Form):
    """A source added from a pasted URL: the editor confirms or corrects what the page said."""

    url = forms.URLField(
        label="URL",
        max_length=Source._meta.get_field("url").max_length,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    title = forms.CharField(
        max_length=Source._meta.get_field("title").max_length,
        help_text="Read from the page, or guessed from the link: check it against the page.",
    )
    authors = _cite_field(
        forms.CharField(
            required=False,
            max_length=Source._meta.get_field("authors").max_length,
            widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
            help_text="One per line.",
        )
    )
    published_on = _cite_field(
        forms.DateField(
            label="Publication date",
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
    )
    publisher_name = _cite_field(
        forms.CharField(
            label="Publisher",
            required=False,
            max_length=Publisher._meta.get_field("name").max_length,
        )
    )
    publisher_domain = _cite_field(forms.CharField(required=False, widget=forms.HiddenInput))
    doi = _cite_field(
        forms.CharField(
            label="DOI", required=False, max_length=Source._meta.get_field("doi").max_length
        )
    )
    language = _cite_field(
        forms.CharField(required=False, max_length=Source._meta.get_field("language").max_length)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="cite-new-%s", **kwargs)

    def clean_title(self):
        return " ".join(self.cleaned_data["title"].split())

    def clean_publisher_name(self):
        return " ".join(self.cleaned_data["publisher_name"].split())

    def clean_doi(self):
        doi = normalise_doi(self.cleaned_data["doi"])
        if doi and not DOI_RE.match(doi):
            raise ValidationError("A DOI looks like “10.1000/xyz123”.")
        return doi
