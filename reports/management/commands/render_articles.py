"""`manage.py render_articles`: render every live report's stored page again.

A page stored by another build (templates, static files, the code that renders it) is
rendered again at its next view anyway (reports/rendering.py, `build_fingerprint`); run this
after a deployment so readers do not wait for it, or after changing what the fingerprint
cannot see. reports/_body.html is frozen in the version and is not rendered again. Safe while
the site serves readers: each page is emptied, then rendered from its version; a reader in
between gets it rendered at that view.
"""

from django.core.management.base import BaseCommand

from reports import rendering
from reports.models import PublishedVersion


class Command(BaseCommand):
    help = "Render every live report's stored page again (after a deployment)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lazy",
            action="store_true",
            help="Only empty the stored pages; each is rendered at its next view.",
        )

    def handle(self, *args, lazy: bool = False, **options):
        live = PublishedVersion.objects.live()
        emptied = rendering.forget_articles(live)
        if lazy:
            self.stdout.write(self.style.SUCCESS(f"{emptied} stored pages emptied."))
            return
        rendered = 0
        for pk in live.order_by("pk").values_list("pk", flat=True).iterator():
            if rendering.store_page(pk) is not None:
                rendered += 1
        self.stdout.write(self.style.SUCCESS(f"{rendered} pages rendered and stored."))
