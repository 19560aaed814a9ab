"""`manage.py load_demo`: demo content for a first look; safe to run again."""

from django.core.management.base import BaseCommand

from reports import demo


class Command(BaseCommand):
    help = "Load demo reports and sources (marked as demo in the admin). Safe to run twice."

    def handle(self, *args, **options):
        added = demo.load(say=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Demo content ready ({added} report(s) added)."))
