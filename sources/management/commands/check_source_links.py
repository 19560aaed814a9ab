"""`manage.py check_source_links`: check the URL and archive URL of sources (run from cron)."""

import datetime
import functools
import logging

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm

from sources import linkcheck
from sources.models import Source


class Command(BaseCommand):
    help = (
        "Check that the URL and archive URL of every source still answer, record each result, "
        "and mark a URL dead after several failed checks in a row (live again once it answers)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency",
            type=int,
            default=linkcheck.DEFAULT_CONCURRENCY,
            help="Requests in flight at once (default %(default)s).",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=linkcheck.DEFAULT_TIMEOUT,
            help="Seconds to wait to connect and for each read (default %(default)s).",
        )
        parser.add_argument(
            "--retries",
            type=int,
            default=linkcheck.DEFAULT_RETRIES,
            help="Retries of a timeout, dropped connection or 5xx (default %(default)s).",
        )
        parser.add_argument(
            "--backoff",
            type=float,
            default=linkcheck.DEFAULT_BACKOFF,
            help="Seconds before the first retry, doubled for each next one (default %(default)s).",
        )
        parser.add_argument(
            "--dead-after",
            type=int,
            default=linkcheck.DEFAULT_DEAD_AFTER,
            help="Failed checks in a row before a URL is marked dead (default %(default)s).",
        )
        parser.add_argument(
            "--older-than",
            type=float,
            metavar="DAYS",
            help="Only sources not checked for this many days (or never checked).",
        )
        parser.add_argument(
            "--source",
            type=int,
            action="append",
            metavar="ID",
            dest="sources",
            help="Only this source; repeat for several.",
        )

    def handle(self, *args, **options):
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        if options["timeout"] <= 0:
            raise CommandError("--timeout must be above 0.")
        if options["retries"] < 0:
            raise CommandError("--retries cannot be negative.")
        if options["backoff"] < 0:
            raise CommandError("--backoff cannot be negative.")
        if options["dead_after"] < 1:
            raise CommandError("--dead-after must be at least 1.")
        if options["verbosity"] < 2:
            # httpx logs every request at INFO: thousands of lines through the progress bar.
            logging.getLogger("httpx").setLevel(logging.WARNING)
        sources = Source.objects.all()
        if options["sources"]:
            sources = sources.filter(pk__in=options["sources"])
        if options["older_than"] is not None:
            since = timezone.now() - datetime.timedelta(days=options["older_than"])
            sources = sources.filter(Q(link_checked_at__isnull=True) | Q(link_checked_at__lt=since))
        summary = linkcheck.check_sources(
            sources,
            concurrency=options["concurrency"],
            timeout=options["timeout"],
            retries=options["retries"],
            backoff=options["backoff"],
            dead_after=options["dead_after"],
            progress=functools.partial(
                tqdm,
                desc="Checking links",
                unit="URL",
                # Straight to the stream: Django's wrapper would end every redraw with a newline.
                file=getattr(self.stderr, "_out", self.stderr),
                # Off when quiet or not on a terminal (cron), so logs get the summary only.
                disable=True if options["verbosity"] == 0 else None,
            ),
        )
        if summary.archives_checked:
            self.stdout.write(
                f"Archive URLs: {summary.archives_checked} checked, "
                f"{summary.archive_errors} not answering."
            )
        self.stdout.write(str(summary))
