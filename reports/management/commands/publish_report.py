"""`manage.py publish_report SLUG`: publish through the one publish function."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from reports import publishing
from reports.models import Report


class Command(BaseCommand):
    help = "Check a report and publish it; lists every problem and exits non-zero if it cannot."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The report's slug.")
        parser.add_argument("--note", default="", help="Change note shown with the version.")
        parser.add_argument("--by", metavar="USERNAME", help="Record this user as the publisher.")

    def handle(self, *args, slug, note, by, **options):
        try:
            report = Report.objects.get(slug=slug)
        except Report.DoesNotExist:
            raise CommandError(f"No report with slug “{slug}”.") from None
        user = None
        if by:
            User = get_user_model()
            try:
                user = User.objects.get(**{User.USERNAME_FIELD: by})
            except User.DoesNotExist:
                raise CommandError(f"No user “{by}”.") from None
        try:
            version = publishing.publish(report, by=user, note=note)
        except publishing.PublishRefused as refusal:
            for problem in refusal.problems:
                self.stderr.write(f"- {problem}")
            count = len(refusal.problems)
            raise CommandError(
                f"Not published: {count} problem{'s' if count != 1 else ''} in “{slug}”."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Published “{report.claim}” as version {version.number}: "
                f"{version.get_absolute_url()}"
            )
        )
