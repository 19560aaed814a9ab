"""Create the methodology page the disclaimer links to, and name the site."""

from django.conf import settings
from django.db import migrations

METHODOLOGY = """Every Factually report checks one claim. We read the claim where it appeared, \
gather the best available evidence, and cite every assertion to a numbered source.

- **Sources**: each reference points to a record in our source library, described well \
enough for anyone to find it again.
- **Verdicts**: the rating scale runs from *True* to *False*, with *Unproven* when the \
evidence does not settle the question.
- **Review**: nothing is published until every paragraph is cited and every citation \
resolves to a curated, active source.

Factually can make mistakes. When we do, we correct the report and say what changed."""


def create(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    FlatPage = apps.get_model("flatpages", "FlatPage")
    site, _ = Site.objects.get_or_create(
        pk=settings.SITE_ID, defaults={"domain": "localhost", "name": "Factually"}
    )
    if site.name == "example.com":
        site.name = "Factually"
        site.save()
    page, created = FlatPage.objects.get_or_create(
        url="/methodology/", defaults={"title": "How we check", "content": METHODOLOGY}
    )
    if created:
        page.sites.add(site)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_seed_verdicts"),
        ("sites", "0002_alter_domain_unique"),
        ("flatpages", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
