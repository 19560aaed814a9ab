"""`manage.py generate_reports --count N`: realistic published reports for benchmarks."""

import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.demo.generating import generate


class Command(BaseCommand):
    help = (
        "Create N realistic published reports (5–8 sections, 10–40 references to shared "
        "sources, several verdicts and topics) with bulk inserts. Marked as demo content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many reports.")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (repeatable data).")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes rendering report bodies (default: one per core).",
        )
        parser.add_argument(
            "--sources",
            type=int,
            help="Size of the shared source library (default: 2×count, max 20,000).",
        )

    def handle(self, *args, count, seed, batch_size, sources, workers, verbosity, **options):
        if count < 1 or batch_size < 1:
            raise CommandError("--count and --batch-size must be positive.")
        with tqdm(total=count, unit="report", disable=verbosity < 1, file=self.stderr) as bar:
            made = generate(
                count,
                seed=seed,
                batch_size=batch_size,
                sources=sources,
                workers=max(1, workers),
                progress=bar.update,
            )
        self.stdout.write(self.style.SUCCESS(f"Generated {made} published reports."))
