"""Citing while writing: the source finder of the report editor and its small endpoints.

The finder (a dialog opened beside each cited text) searches the library or resolves a
pasted link; the editor's browser then asks where the marker goes (`number`), renumbers
(`renumber`) and warns before a reference is removed (`still_cited`), always from the
unsaved form: nothing here needs the report to be saved, or reads it. The rules stay in
Python: `reports.citations` (markers), `reports.newsroom.citing` (finding, adding, numbering).
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateformat import format as format_date
from django.utils.html import format_html

from reports import citations
from reports.admin.forms import NewSourceForm
from reports.newsroom import citing
from sources.models import Source

TEMPLATE = "admin/reports/report/desk_cite.html"
# The cited texts of the change form, by field name: the summary, section bodies, conclusion.
_SECTION_BODY_RE = re.compile(r"^sections-(\d+)-body$")
_DATE_FORMAT = "F j, Y"


class DeskNewSourceForm(NewSourceForm):
    """The new-source form inside the finder, whose inputs belong to the finder's own form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.auto_id = "desk-cite-new-%s"
        for field in self.fields.values():
            field.widget.attrs.pop("form", None)


class ReferenceDetailsMixin:
    """For the References inline: each row says what its source is and links to it."""

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "source_details"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source__publisher")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if "source_details" in fields else [*fields, "source_details"]

    def source_details(self, reference):
        source = reference.source
        if source is None:
            return "Not linked to a source yet"
        return format_html(
            '<a href="{}" class="desk-cite-source">{}</a>{}',
            reverse("admin:sources_source_change", args=[source.pk]),
            source.title,
            _meta_line(source),
        )

    source_details.short_description = "Source details"


def _meta_line(source: Source) -> str:
    parts = [source.publisher.name if source.publisher else ""]
    parts.append(format_date(source.published_on, _DATE_FORMAT) if source.published_on else "")
    meta = " · ".join(part for part in parts if part)
    return f" · {meta}" if meta else ""


def source_json(source: Source) -> dict:
    """What the editor's page shows of a source in a reference row."""
    return {
        "id": source.pk,
        "title": source.title,
        "publisher": source.publisher.name if source.publisher else "",
        "published_on": (
            format_date(source.published_on, _DATE_FORMAT) if source.published_on else ""
        ),
        "admin_url": reverse("admin:sources_source_change", args=[source.pk]),
    }


class _BadRequest(Exception):
    pass


def _posted_json(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("Not JSON.") from None
    if not isinstance(data, dict):
        raise _BadRequest("Not a JSON object.")
    return data


def _texts(data: dict) -> list[tuple[str, str]]:
    """The posted cited texts, [[field name, text], …], in the order of the form."""
    texts = data.get("texts")
    if not isinstance(texts, list) or not all(
        isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in texts
    ):
        raise _BadRequest("texts: a list of [field name, text].")
    return [(name, text) for name, text in texts]


def _number(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _BadRequest("A reference number is a whole number.")
    return value


def text_labels(names: list[str]) -> list[str]:
    """What an editor calls each cited text: "Summary", "Section 2", "Conclusion"."""
    labels, sections = [], 0
    for name in names:
        if _SECTION_BODY_RE.match(name):
            sections += 1
            labels.append(f"Section {sections}")
        else:
            labels.append(name.replace("_", " ").capitalize())
    return labels


class DeskCiteMixin:
    """For ReportAdmin: the finder's views, routed by `desk_cite_pages` in get_urls.

    Each needs the permission to change reports: they serve the add form as well as the
    change form, and read no report.
    """

    def desk_cite_pages(self):
        return [
            ("desk-cite/find/", self.desk_cite_find_view, "desk_cite_find"),
            ("desk-cite/add-source/", self.desk_cite_add_source_view, "desk_cite_add_source"),
            ("desk-cite/number/", self.desk_cite_number_view, "desk_cite_number"),
            ("desk-cite/renumber/", self.desk_cite_renumber_view, "desk_cite_renumber"),
            ("desk-cite/still-cited/", self.desk_cite_still_cited_view, "desk_cite_still_cited"),
        ]

    def _desk_cite_allowed(self, request, *, post: bool):
        if not self.has_change_permission(request):
            raise PermissionDenied
        if post and request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return None

    def _desk_cite_results(self, request, **context):
        context.setdefault("lookup", citing.Lookup())
        context["may_add_source"] = request.user.has_perm("sources.add_source")
        return TemplateResponse(request, f"{TEMPLATE}#desk_cite_results", context)

    def desk_cite_find_view(self, request):
        """GET ?q=: the finder's results, library matches or what a pasted link is."""
        self._desk_cite_allowed(request, post=False)
        lookup = citing.lookup(request.GET.get("q", ""))
        form = None
        if lookup.resolution is not None and lookup.resolution.is_new:
            form = DeskNewSourceForm(initial=lookup.resolution.initial())
        return self._desk_cite_results(request, lookup=lookup, new_source_form=form)

    def desk_cite_add_source_view(self, request):
        """POST: add the confirmed new source; the results then offer it, to be picked."""
        if refused := self._desk_cite_allowed(request, post=True):
            return refused
        if not request.user.has_perm("sources.add_source"):
            raise PermissionDenied
        form = DeskNewSourceForm(request.POST)
        if not form.is_valid():
            return self._desk_cite_results(request, new_source_form=form)
        source, created = citing.add_source(by=request.user, **form.cleaned_data)
        if created:
            self.log_addition(request, source, "Added from the report editor's source finder.")
        return self._desk_cite_results(request, added=source, created=created)

    def desk_cite_number_view(self, request):
        """POST {source, references: [[number, source id or null], …]}: the marker to insert.

        Answers {number, existing, source}: the number of the form's reference citing that
        source, or the next free one (and the page adds the reference row).
        """
        if refused := self._desk_cite_allowed(request, post=True):
            return refused
        try:
            data = _posted_json(request)
            source_id = _number(data.get("source"))
            rows = data.get("references", [])
            if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) == 2 for r in rows
            ):
                raise _BadRequest("references: a list of [number, source id].")
            references = [(_number(n), None if s is None else _number(s)) for n, s in rows]
        except _BadRequest as bad:
            return HttpResponseBadRequest(str(bad))
        source = Source.objects.select_related("publisher").filter(pk=source_id).first()
        if source is None:
            return JsonResponse({"error": "That source is no longer in the library."}, status=409)
        if not source.is_active:
            error = f"“{source.title}” is retired and cannot be cited: cite another source."
            return JsonResponse({"error": error}, status=409)
        number, existing = citing.number_for(source.pk, references)
        if not citations.is_valid_number(number):
            error = f"This report has too many references to add [{number}]."
            return JsonResponse({"error": error}, status=409)
        return JsonResponse({"number": number, "existing": existing, "source": source_json(source)})

    def desk_cite_renumber_view(self, request):
        """POST {texts, numbers}: the texts and reference numbers in order of first citation."""
        if refused := self._desk_cite_allowed(request, post=True):
            return refused
        try:
            data = _posted_json(request)
            texts = _texts(data)
            numbers = data.get("numbers")
            if not isinstance(numbers, list):
                raise _BadRequest("numbers: a list of reference numbers.")
            numbers = [_number(n) for n in numbers]
        except _BadRequest as bad:
            return HttpResponseBadRequest(str(bad))
        new_texts, new_numbers = citations.renumber([text for _, text in texts], numbers)
        names = [name for name, _ in texts]
        new = dict(zip(names, new_texts, strict=True))
        return JsonResponse({"texts": new, "numbers": new_numbers})

    def desk_cite_still_cited_view(self, request):
        """POST {texts, number}: where the unsaved texts still cite reference `number`."""
        if refused := self._desk_cite_allowed(request, post=True):
            return refused
        try:
            data = _posted_json(request)
            texts = _texts(data)
            number = _number(data.get("number"))
        except _BadRequest as bad:
            return HttpResponseBadRequest(str(bad))
        labels = text_labels([name for name, _ in texts])
        places = [
            f"{labels[index]} ¶{paragraph}"
            for index, paragraph in citations.markers_citing([t for _, t in texts], number)
        ]
        return JsonResponse({"places": places})
