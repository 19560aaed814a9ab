"""`manage.py publish_scheduled`: publish scheduled reports whose time has come (run from cron)."""

from django.core.management.base import BaseCommand

from reports import caching, workflow


class Command(BaseCommand):
    help = (
        "Publish every scheduled report that is due. Safe to run often and from several "
        "machines at once: each report is published exactly once."
    )

    def handle(self, *args, **options):
        # Cached pages that an earlier change could not mark stale (the cache failed then).
        if pending := caching.apply_pending_invalidations():
            self.stdout.write(f"{pending} cache invalidation(s) still pending.")
        # The front cache (Varnish) that did not confirm a purge.
        if pending := caching.apply_pending_purges():
            self.stdout.write(f"{pending} front cache purge(s) still pending.")
        outcomes = workflow.publish_due()
        for report, outcome in outcomes:
            self.stdout.write(f"{report.slug}: {outcome}")
        published = sum(1 for report, _ in outcomes if report.status == report.Status.PUBLISHED)
        self.stdout.write(
            self.style.SUCCESS(
                f"{published} published, {len(outcomes) - published} sent back to review."
            )
        )
