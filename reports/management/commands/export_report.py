"""`manage.py export_report SLUG [--format text|json|markdown]`: write a report out.

Text (the default) is the plain-text layout of the working copy, as it always was; JSON
(``factually.report/1``, see docs/report-json-schema.md) and Markdown are written from
the live published version, what readers see, never from unpublished edits.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.content import ReportContent
from reports.formats.exporting import FORMATS
from reports.formats.jsonformat import live_version
from reports.formats.textformat import export_text
from reports.models import PublishedVersion, Report


class Command(BaseCommand):
    help = (
        "Write a report to stdout or to --output FILE: its working copy in the Factually "
        "plain-text layout (default), or its live published version as JSON or Markdown."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The report's slug.")
        parser.add_argument(
            "--format",
            choices=["text", "json", "markdown"],
            default="text",
            help="text: the working copy in the plain-text layout (default); json or "
            "markdown: the live published version.",
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write to this file (UTF-8) instead of stdout."
        )

    def handle(self, *args, slug, format, output, **options):
        report = Report.objects.filter(slug=slug).first()
        if format == "text":
            if report is None:
                raise CommandError(f"No report with slug “{slug}”.")
            text = export_text(ReportContent.from_report(report))
        else:
            text = FORMATS[format].export(self._live(slug, report))
        if not output:
            # ending="": the text already ends with its own newline.
            self.stdout.write(text, ending="")
            return
        try:
            # newline="": "\n" on every platform, as import expects and the example has.
            Path(output).write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"{output}: cannot write the file ({error.strerror}).") from None
        self.stdout.write(f"Wrote {slug} to {output}")

    def _live(self, slug: str, report: Report | None) -> PublishedVersion:
        """The live version of the report with `slug`, or of the one live at that address."""
        version = live_version(report) if report is not None else None
        if version is None and report is None:
            version = (
                PublishedVersion.objects.live()
                .select_related("verdict", "report")
                .filter(slug=slug)
                .first()
            )
            if version is None:
                raise CommandError(f"No report with slug “{slug}”.")
        if version is None:
            raise CommandError(
                f"“{slug}” has no live published version: JSON and Markdown export what "
                "readers see. Publish it first, or export its working copy as text."
            )
        return version
