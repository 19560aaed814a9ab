"""`manage.py export_archive [--output FILE]`: every report and source in one JSON archive.

The archive (``factually.archive/1``, see docs/archive-format.md) is the portable complement
of a database backup: `import_archive` restores it into an empty database, keeping IDs.
"""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.formats import archive


class Command(BaseCommand):
    help = (
        "Write every report (working copy, published versions, workflow history), every "
        "source and publisher, the verdicts and the topics to one JSON archive "
        "(factually.archive/1), to stdout or to --output FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", metavar="FILE", help="Write to this file (UTF-8) instead of stdout."
        )

    def handle(self, *args, output, verbosity, **options):
        self.progress_shown = verbosity >= 1 and bool(output)
        data = archive.export_archive(progress=self._progress)
        text = archive.dumps(data)
        if not output:
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        partial = path.with_name(path.name + ".partial")
        try:
            # Written beside it, then renamed: an interrupted export leaves no half archive.
            partial.write_text(text, encoding="utf-8", newline="")
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{output}: cannot write the file ({error.strerror}).") from None
        reports, sources = len(data["reports"]), len(data["sources"])
        versions = sum(len(report["versions"]) for report in data["reports"])
        self.stdout.write(
            f"Wrote {reports} report(s) with {versions} published version(s), {sources} "
            f"source(s) and {len(data['publishers'])} publisher(s) to {output}"
        )

    def _progress(self, iterable, **kwargs):
        # On a terminal only (disable=None): logs and tests get the summary alone.
        return tqdm(
            iterable, file=sys.stderr, disable=None if self.progress_shown else True, **kwargs
        )
