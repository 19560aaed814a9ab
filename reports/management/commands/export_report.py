"""`manage.py export_report SLUG`: write a report's working copy in the plain-text layout."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.content import ReportContent
from reports.models import Report
from reports.textformat import export_text


class Command(BaseCommand):
    help = "Write a report in the Factually plain-text layout, to stdout or to --output FILE."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The report's slug.")
        parser.add_argument(
            "--output", metavar="FILE", help="Write to this file (UTF-8) instead of stdout."
        )

    def handle(self, *args, slug, output, **options):
        try:
            report = Report.objects.get(slug=slug)
        except Report.DoesNotExist:
            raise CommandError(f"No report with slug “{slug}”.") from None
        text = export_text(ReportContent.from_report(report))
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
