"""Seed the rating scale. Editors curate it in the admin afterwards; this never overwrites."""

from django.db import migrations

VERDICTS = [
    # slug, name, rating, colour, definition
    ("true", "True", 6, "#1a7f37", "The claim is accurate and nothing significant is missing."),
    ("mostly-true", "Mostly true", 5, "#4d8a1f", "The claim is accurate but needs clarification or additional information."),
    ("mixed", "Mixed", 4, "#9a6700", "The claim contains both accurate and inaccurate elements of similar weight."),
    ("misleading", "Misleading", 3, "#bc4c00", "The claim contains accurate elements but leaves a false impression."),
    ("mostly-false", "Mostly false", 2, "#cf222e", "The claim contains an element of truth but ignores facts that would give a different impression."),
    ("false", "False", 1, "#a40e26", "The claim is inaccurate."),
    ("unproven", "Unproven", None, "#57606a", "There is not enough evidence to support or refute the claim."),
]


def seed(apps, schema_editor):
    Verdict = apps.get_model("reports", "Verdict")
    for order, (slug, name, rating, colour, definition) in enumerate(VERDICTS, start=1):
        Verdict.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "rating": rating,
                "colour": colour,
                "definition": definition,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
