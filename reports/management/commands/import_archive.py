"""`manage.py import_archive FILE`: restore an archive written by `export_archive`.

Into an empty database only (freshly migrated), in one transaction, keeping every ID: a
database that has reports, sources or publishers is refused, as is an archive with a
problem or an invalid object (each problem is printed as ``FILE: JSON path: message``, and
the command exits with status 1), and nothing is saved. Published HTML is rendered again
from each version's content, never read from the file (see `reports.formats.archive_checks`).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.formats import archive_import
from reports.formats.errors import JsonFormatError


class Command(BaseCommand):
    help = (
        "Restore a factually.archive/1 file (from export_archive) into an empty database, "
        "keeping every ID, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="The archive (UTF-8 JSON).")

    def handle(self, *args, file, verbosity, **options):
        self.progress_shown = verbosity >= 1
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{file}: cannot read the file ({error.strerror}).") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text, so not an archive.") from None
        try:
            summary = archive_import.import_archive(text, filename=file, progress=self._progress)
        except archive_import.ArchiveRefused as refusal:
            raise CommandError(str(refusal)) from None
        except JsonFormatError as error:
            for path, message in error.problems:
                self.stderr.write(f"{file}: {path}: {message}" if path else f"{file}: {message}")
            raise CommandError(
                f"{file}: the archive cannot be imported; nothing was saved."
            ) from None
        self.stdout.write(str(summary))

    def _progress(self, iterable, **kwargs):
        # On a terminal only (disable=None): logs and tests get the summary alone.
        return tqdm(
            iterable, file=sys.stderr, disable=None if self.progress_shown else True, **kwargs
        )
