"""`manage.py import_report FILE [FILE ...]`: import plain-text reports as drafts.

Each file is imported in its own transaction, so one malformed file neither stops the
others nor leaves half a report behind.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from reports.importing import import_report
from reports.textformat import TextFormatError


class Command(BaseCommand):
    help = (
        "Import reports written in the Factually plain-text layout as drafts, one per file. "
        "Malformed files are reported and skipped; the command then exits non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="A UTF-8 text file.")
        parser.add_argument(
            "--author", metavar="USERNAME", help="Record this user as the reports' author."
        )

    def handle(self, *args, files, author, **options):
        user = _user(author) if author else None
        failed = 0
        for name in files:
            try:
                text = _read(Path(name))
                report = import_report(text, filename=name, author=user)
            except (CommandError, TextFormatError) as error:
                self.stderr.write(str(error))
                failed += 1
                continue
            count = report.references.count()
            self.stdout.write(
                f'Imported "{report.claim}" as draft {report.slug} '
                f"({count} reference{'s' if count != 1 else ''} to link)"
            )
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) could not be imported.")


def _read(path: Path) -> str:
    """The file's text, or a CommandError naming the file; never a traceback."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"{path}: cannot read the file ({error.strerror}).") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CommandError(f"{path}, line {line}: not UTF-8 text.") from None


def _user(username: str):
    User = get_user_model()
    try:
        return User.objects.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(f"No user “{username}”.") from None
