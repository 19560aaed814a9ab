"""`manage.py import_report PATH [PATH ...]`: import reports as drafts, in bulk.

A path is a file or a folder, searched recursively for ``*.txt`` (the plain-text layout,
`reports.formats.importing`) and ``*.json`` (`reports.formats.json_import.import_json`, when
that module is installed). Each file is imported in its own transaction, so one file that
cannot be read neither stops the others nor leaves half a report behind. The command shows a
progress bar on a terminal, ends with a summary ("12 imported, 2 refused") listing each
refused file as ``file:line: reason``, and exits non-zero if any file was refused.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from reports import contributing
from reports.formats.errors import TextFormatError
from reports.formats.importing import MAX_IMPORT_SIZE, import_text, too_large
from reports.models import Report

JSON_MODULE = "reports.formats.json_import"


class Refused(Exception):
    """A file that was not imported; the message reads "file:line: reason"."""


class Command(BaseCommand):
    help = (
        "Import reports as drafts from text files in the Factually layout (or the older "
        "“Fact check:” layout) and from JSON files, given one by one or as folders searched "
        "recursively. Files that cannot be imported are listed at the end, with the line and "
        "the reason; the command then exits non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="+",
            metavar="PATH",
            help="A UTF-8 file (.txt, or .json for the JSON format) or a folder of them.",
        )
        parser.add_argument(
            "--author", metavar="USERNAME", help="Record this user as the reports' author."
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="Import a cut-off text (no conclusion, no follow-up questions, a sentence "
            "cut short), or any text whose claim can be found up to the first line that cannot "
            "be read, as a draft listing what is missing, instead of refusing it.",
        )

    def handle(self, *args, paths, author, partial, verbosity, **options):
        user = _user(author) if author else None
        self.verbosity = verbosity
        self.traceback = options.get("traceback", False)
        refused = []
        files = []
        for name in paths:
            try:
                files += _files(name)
            except Refused as refusal:
                refused.append(str(refusal))
        files = list(dict.fromkeys(files))
        if not files and not refused:
            raise CommandError("No .txt or .json files found in the given folders.")
        imported = 0
        # On a terminal only (disable=None): logs and tests get the messages alone.
        with tqdm(
            files, unit="file", file=sys.stderr, disable=None if verbosity >= 1 else True
        ) as progress:
            for path in progress:
                try:
                    said = self._import(path, user, partial)
                except Refused as refusal:
                    refused.append(str(refusal))
                    continue
                imported += 1
                if verbosity >= 1:
                    with tqdm.external_write_mode(file=sys.stderr):
                        for line in said:
                            self.stdout.write(line)
        if verbosity >= 1:
            self.stdout.write(f"{imported} imported, {len(refused)} refused")
        for reason in refused:
            self.stderr.write(f"Refused: {reason}")
        if refused:
            total = imported + len(refused)
            raise CommandError(f"{len(refused)} of {total} file(s) could not be imported.")

    def _import(self, path: Path, user, partial: bool) -> list[str]:
        """Import one file; the lines to say about it. Raises Refused, having saved nothing."""
        name = str(path)
        text = _read(path)
        try:
            if path.suffix.casefold() == ".json":
                return self._import_json(text, name, user)
            result = import_text(text, filename=name, author=user, partial=partial)
        except TextFormatError as error:
            raise Refused(f"{error.filename}:{error.line}: {error.message}") from None
        except Refused:
            raise
        except Exception as error:
            # One broken file (or a bug its content reveals) must not stop the others.
            if self.traceback:
                raise
            raise Refused(
                f"{name}: could not be imported ({type(error).__name__}: {error})"
            ) from error
        return [
            _imported(result.report, name, result.reference_count),
            *(f"  Note: {note}" for note in result.notes),
            *(f"  To do: {problem}" for problem in result.problems),
        ]

    def _import_json(self, text: str, name: str, user) -> list[str]:
        jsonformat = _json_module()
        if jsonformat is None:
            raise Refused(f"{name}: JSON import is not available in this version of Factually.")
        try:
            with transaction.atomic():
                report = jsonformat.import_json(text, filename=name)
                if user is not None:
                    Report.objects.filter(pk=report.pk).update(
                        author=user, created_by=user, last_edited_by=user
                    )
                    contributing.record(report, by=user, what=f"Imported it from {name}.")
        except jsonformat.JsonFormatError as error:
            raise Refused(f"{name}: {str(error).removeprefix(f'{name}: ')}") from None
        # A JSON export's references arrive linked to sources (matched or created): only
        # those left without one are the editor's work.
        references = list(report.references.values_list("source_id", flat=True))
        unlinked = references.count(None)
        return [_imported(report, name, unlinked, linked=len(references) - unlinked)]


def _files(name: str) -> list[Path]:
    """The files `name` stands for: itself, or the importable files of a folder, in order."""
    path = Path(name)
    if path.is_dir():
        suffixes = {".txt", ".json"} if _json_available() else {".txt"}
        return sorted(
            found
            for found in path.rglob("*")
            if found.suffix.casefold() in suffixes
            and found.is_file()
            # Hidden files and folders (.git, editor backups) are not reports.
            and not any(part.startswith(".") for part in found.relative_to(path).parts)
        )
    if not path.exists():
        raise Refused(f"{name}: no such file or folder.")
    return [path]


def _read(path: Path) -> str:
    """The file's text, or Refused naming the file; never a traceback.

    A file over MAX_IMPORT_SIZE is refused before it is read whole: by its size, and by
    reading at most one byte more than the limit (a file may grow, or be a pipe).
    """
    try:
        refusal = too_large(str(path), path.stat().st_size)
        if refusal:
            raise Refused(refusal)
        with path.open("rb") as file:
            data = file.read(MAX_IMPORT_SIZE + 1)
            if len(data) > MAX_IMPORT_SIZE:
                raise Refused(f"{path}: too large (over {MAX_IMPORT_SIZE:,} bytes)")
    except OSError as error:
        raise Refused(f"{path}: cannot read the file ({error.strerror}).") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise Refused(f"{path}:{line}: not UTF-8 text.") from None


def _imported(report: Report, name: str, to_link: int, *, linked: int = 0) -> str:
    """The line for an imported draft, with how many references still need a source."""
    counts = f"{to_link} reference{'s' if to_link != 1 else ''} to link"
    if linked:
        counts += f"; {linked} linked to sources"
    return f'Imported "{report.claim}" as draft {report.slug} from {name} ({counts})'


def _json_available() -> bool:
    return importlib.util.find_spec(JSON_MODULE) is not None


def _json_module():
    """`reports.formats.json_import`, imported when a JSON file is met; None if not installed."""
    if not _json_available():
        return None
    return importlib.import_module(JSON_MODULE)


def _user(username: str):
    User = get_user_model()
    try:
        return User.objects.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(f"No user “{username}”.") from None
