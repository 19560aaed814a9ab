"""Exporting a published version: the formats, and the HTTP responses that serve them.

One place for the admin's export links, the public ``/reports/<slug>.json`` and
``manage.py export_report``: JSON (`reports.formats.jsonformat`), Markdown
(`reports.formats.markdownformat`) and the plain-text layout (`reports.formats.textformat`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse

from reports.content import ReportContent
from reports.formats import jsonformat, markdownformat
from reports.formats.textformat import export_text
from reports.models import PublishedVersion


@dataclass(frozen=True)
class Format:
    label: str
    export: Callable[[PublishedVersion], str]
    content_type: str
    extension: str


def _text(version: PublishedVersion) -> str:
    return export_text(ReportContent.from_json(version.content))


FORMATS = {
    "json": Format("JSON", jsonformat.export_json, jsonformat.CONTENT_TYPE, "json"),
    "markdown": Format(
        "Markdown", markdownformat.export_markdown, markdownformat.CONTENT_TYPE, "md"
    ),
    "text": Format("Text", _text, "text/plain; charset=utf-8", "txt"),
}


def response(version: PublishedVersion, name: str, *, download: bool = False) -> HttpResponse:
    """`version` exported as format `name`; with `download`, as a file named after its slug."""
    chosen = FORMATS[name]
    result = HttpResponse(chosen.export(version), content_type=chosen.content_type)
    if download:
        result["Content-Disposition"] = f'attachment; filename="{version.slug}.{chosen.extension}"'
    return result
