"""`manage.py publish_report SLUG`: publish a report in review through `reports.workflow`."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from reports import publishing, workflow
from reports.models import ChangeKind, Report


class Command(BaseCommand):
    help = (
        "Check a report in review and publish it; lists every problem and exits non-zero "
        "if it cannot. A report published before needs --note and --kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The report's slug.")
        parser.add_argument("--note", default="", help="Change note shown to readers.")
        parser.add_argument(
            "--kind", default="", choices=ChangeKind.values, help="What kind of change it is."
        )
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="The reviewer publishing it: their permissions and the four-eyes rule apply.",
        )
        parser.add_argument(
            "--expect-version",
            type=int,
            metavar="N",
            help="Publish only if the report's edit version is still N (as shown in the admin); "
            "without it, the report and its sources as they are when the command starts.",
        )
        parser.add_argument(
            "--submit",
            action="store_true",
            help="Submit a draft for review first (recorded as its own workflow step).",
        )

    def handle(self, *args, slug, note, kind, by, submit, expect_version, **options):
        try:
            report = Report.objects.get(slug=slug)
        except Report.DoesNotExist:
            raise CommandError(f"No report with slug “{slug}”.") from None
        # What the operator publishes: the report as it is now, not as it may become while
        # the command runs.
        approved = publishing.approval(report)
        if expect_version is not None:
            approved = publishing.Approval(expect_version, approved.sources)
        user = None
        if by:
            User = get_user_model()
            try:
                user = User.objects.get(**{User.USERNAME_FIELD: by})
            except User.DoesNotExist:
                raise CommandError(f"No user “{by}”.") from None
        try:
            if submit and report.status != Report.Status.IN_REVIEW:
                workflow.submit(report, by=user, comment="Submitted from the command line.")
            elif report.status != Report.Status.IN_REVIEW:
                raise CommandError(
                    f"“{slug}” is {report.get_status_display().lower()}, not in review: "
                    "submit it for review first (or pass --submit)."
                )
            version = workflow.publish(report, by=user, note=note, kind=kind, expected=approved)
        except workflow.PublishRefused as refusal:
            for problem in refusal.problems:
                self.stderr.write(f"- {problem}")
            count = len(refusal.problems)
            raise CommandError(
                f"Not published: {count} problem{'s' if count != 1 else ''} in “{slug}”."
            ) from None
        except workflow.TransitionRefused as refusal:
            raise CommandError(f"Not published: {refusal}") from None
        except PermissionDenied:
            raise CommandError(f"Not published: {by} may not publish reports.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Published “{report.claim}” as version {version.number}: "
                f"{version.get_absolute_url()}"
            )
        )
