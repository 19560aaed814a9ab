"""`manage.py export_sources [--output FILE]`: the source library as CSL-JSON."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sources.interchange import csl
from sources.models import Source


class Command(BaseCommand):
    help = (
        "Write every source as CSL-JSON (for Zotero, Mendeley, pandoc, or import_sources), "
        "to stdout or to --output FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", metavar="FILE", help="Write to this file (UTF-8) instead of stdout."
        )

    def handle(self, *args, output, **options):
        sources = Source.objects.select_related("publisher").order_by("pk")
        text = csl.dumps(sources.iterator(chunk_size=500))
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"{output}: cannot write the file ({error.strerror}).") from None
        count = sources.count()
        self.stdout.write(f"Wrote {count} source{'s' if count != 1 else ''} to {output}")
