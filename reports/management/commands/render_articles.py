"""`manage.py render_articles`: render every live report's stored article again.

Run it after a deployment that changes the report page's templates (reports/detail.html,
reports/_body.html is frozen in the version and is not rendered again): stored articles were
rendered with the old ones. Safe while the site serves readers: each article is emptied, then
rendered from its version; a reader in between gets it rendered at that view.
"""

from django.core.management.base import BaseCommand

from reports import rendering
from reports.models import PublishedVersion


class Command(BaseCommand):
    help = "Render every live report's stored article again (after a change of templates)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lazy",
            action="store_true",
            help="Only empty the stored articles; each is rendered at its next view.",
        )

    def handle(self, *args, lazy: bool = False, **options):
        live = PublishedVersion.objects.live()
        emptied = rendering.forget_articles(live)
        if lazy:
            self.stdout.write(self.style.SUCCESS(f"{emptied} stored articles emptied."))
            return
        rendered = 0
        for pk in live.order_by("pk").values_list("pk", flat=True).iterator():
            if rendering.store_article(pk) is not None:
                rendered += 1
        self.stdout.write(self.style.SUCCESS(f"{rendered} articles rendered and stored."))
