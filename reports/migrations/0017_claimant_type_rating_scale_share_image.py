"""The claimant's type, chosen by the editor (existing reports: "other or not known", so
structured data stops guessing); verdict ratings as a scale starting at 1; the site's default share image."""

import django.core.validators
from django.db import migrations, models


def ratings_from_one(apps, schema_editor):
    """A scale that starts at 0 moves up by one: the same order and steps, from 1."""
    Verdict = apps.get_model("reports", "Verdict")
    if Verdict.objects.filter(rating=0).exists():
        Verdict.objects.filter(rating__isnull=False).update(rating=models.F("rating") + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0016_text_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="publishedversion",
            name="claimant_type",
            field=models.CharField(
                choices=[
                    ("person", "A person"),
                    ("organisation", "An organisation"),
                    ("unknown", "Other or not known"),
                ],
                default="unknown",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="claimant_type",
            field=models.CharField(
                choices=[
                    ("person", "A person"),
                    ("organisation", "An organisation"),
                    ("unknown", "Other or not known"),
                ],
                default="unknown",
                help_text="Search engines are told the claimant is this; never guessed from the name (a newspaper, a film and a person can share words).",
                max_length=16,
                verbose_name="the claimant is",
            ),
        ),
        migrations.AlterField(
            model_name="verdict",
            name="rating",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Numeric rating for structured data: 1 for the least true, higher is truer; empty for none (such as “Unproven”).",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        1, "Ratings start at 1 (the least true verdict)."
                    )
                ],
            ),
        ),
        migrations.RunPython(ratings_from_one, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="verdict",
            constraint=models.CheckConstraint(
                condition=models.Q(("rating__isnull", True), ("rating__gte", 1), _connector="OR"),
                name="verdict_rating_from_1",
            ),
        ),
        migrations.CreateModel(
            name="ShareImage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("image", models.BinaryField()),
                ("content_type", models.CharField(editable=False, max_length=20)),
                ("width", models.PositiveIntegerField(editable=False)),
                ("height", models.PositiveIntegerField(editable=False)),
                (
                    "digest",
                    models.CharField(
                        editable=False, help_text="SHA-256 of the image.", max_length=64
                    ),
                ),
                ("uploaded_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "default share image",
            },
        ),
    ]
