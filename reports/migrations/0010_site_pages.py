"""The pages every public page links to from its footer: about, corrections policy, contact.

Staff edit them afterwards as flat pages; this never overwrites an edited page.
"""

from django.conf import settings
from django.db import migrations

PAGES = {
    "/about/": (
        "About Factually",
        """Factually is an independent fact-checking newsroom. We check claims that \
circulate in public debate and publish what the evidence shows, with every assertion \
cited to a source that readers can follow.

Each report is drafted by an editor, reviewed by a second person, and published only \
when every paragraph is cited.""",
    ),
    "/corrections/": (
        "Corrections policy",
        """When we get something wrong, we correct it in the open.

- **Corrections** fix an error of fact. A correction that changes the verdict says so.
- **Updates** add new evidence or developments.
- **Clarifications** make wording clearer without changing the facts.

Every change is listed under the report with its date, and every earlier version stays \
readable in the report's version history. A report we can no longer stand behind is \
withdrawn: its address keeps a notice saying when and why.""",
    ),
    "/contact/": (
        "Contact",
        """To tell us about an error, use the “Report an error” form on the report concerned. \
To suggest a claim for us to check, use “Suggest a claim”. We read every message.""",
    ),
}


def create(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    FlatPage = apps.get_model("flatpages", "FlatPage")
    site = Site.objects.get(pk=settings.SITE_ID)
    for url, (title, content) in PAGES.items():
        page, created = FlatPage.objects.get_or_create(
            url=url, defaults={"title": title, "content": content}
        )
        if created:
            page.sites.add(site)


class Migration(migrations.Migration):
    dependencies = [("reports", "0009_version_sources"), ("reports", "0003_methodology_page")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
