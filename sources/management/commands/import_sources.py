"""`manage.py import_sources FILE [FILE ...]`: add sources from CSL-JSON, BibTeX or CSV files.

Each file is imported in its own transaction, whole or not at all: an entry that cannot be
imported is reported with its file, entry and field, nothing from that file is saved, and
the command goes on with the next file and exits non-zero at the end. With
--leave-refused, the good entries of each file are saved and the refused ones reported.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from tqdm import tqdm

from sources import interchange
from sources.interchange import FORMATS, ImportRefused


class Command(BaseCommand):
    help = (
        "Import sources from CSL-JSON (.json), BibTeX (.bib) or CSV (.csv) files. Entries whose "
        "URL or DOI is already in the library are matched to that record, never added twice. "
        "A file with an entry that cannot be imported is reported and nothing from it is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="A UTF-8 file.")
        parser.add_argument(
            "--format",
            choices=sorted(FORMATS),
            default="",
            help="The files' format (default: from each file's extension).",
        )
        parser.add_argument(
            "--leave-refused",
            action="store_true",
            help="Import the good entries of a file and leave the refused out (they are listed).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be created, matched and refused; save nothing.",
        )

    def handle(self, *args, files, format, dry_run, leave_refused, verbosity, **options):
        self.progress_shown = verbosity >= 1
        totals = {"created": 0, "matched": 0, "refused": 0}
        failed = 0
        for name in files:
            try:
                plan = self._import(name, format, dry_run, leave_refused)
            except ImportRefused as refusal:
                self.stderr.write(str(refusal))
                failed += 1
                continue
            if not plan.ok and leave_refused:
                for problem in plan.problems():
                    self.stderr.write(problem)
                totals["refused"] += plan.refused
            elif not plan.ok:
                for problem in plan.problems():
                    self.stderr.write(problem)
                self.stderr.write(
                    f"{name}: {plan.refused} of {len(plan.entries)} entries refused; "
                    "nothing from this file was saved."
                )
                totals["refused"] += plan.refused
                failed += 1
                continue
            totals["created"] += plan.created
            totals["matched"] += plan.matched
            left_out = " (left out)" if plan.refused else ""
            self.stdout.write(f"{name}: {plan.summary()}{left_out}.")
        if len(files) > 1:
            self.stdout.write(
                f"{totals['created']} created, {totals['matched']} matched existing, "
                f"{totals['refused']} refused."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was saved.")
        if failed:
            raise CommandError(
                f"{failed} of {len(files)} file(s) could not be imported; "
                "nothing from them was saved."
            )

    def _import(self, name, format, dry_run, leave_refused=False):
        path = Path(name)
        fmt = interchange.format_for(name, format)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImportRefused(name, f"cannot read the file ({error.strerror}).") from None
        text = interchange.decode(data, name)
        try:
            with transaction.atomic():
                plan = interchange.plan_file(text, fmt, name, progress=self._progress)
                if (plan.ok or leave_refused) and not dry_run:
                    plan.apply(progress=self._progress, leave_refused=leave_refused)
        except IntegrityError:
            # Another import or a curator added one of these sources while this one ran.
            raise ImportRefused(
                name, "the library changed while importing; nothing was saved. Run it again."
            ) from None
        return plan

    def _progress(self, iterable, **kwargs):
        # On a terminal only (disable=None): logs and tests get the summary alone.
        return tqdm(
            iterable, file=sys.stderr, disable=None if self.progress_shown else True, **kwargs
        )
