"""`manage.py rebuild_search`: rebuild the search table and the archive's words."""

from django.core.management.base import BaseCommand

from reports.public import search_index


class Command(BaseCommand):
    help = (
        "Rebuild the search table (one row per live report) and the archive's words from the "
        "live versions, dropping words no live report holds, then refresh the planner's "
        "statistics. Publishing keeps both up to date; run this after loading data by other "
        "means, or now and then to drop words of reports taken down."
    )

    def handle(self, *args, **options):
        entries, words = search_index.rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Search table rebuilt: {entries} live reports, {words} words.")
        )
