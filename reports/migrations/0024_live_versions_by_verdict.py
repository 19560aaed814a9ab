"""Live versions by verdict, newest first: a verdict's list read from the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0023_search_vector_index_with_dates"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="publishedversion",
            index=models.Index(
                condition=models.Q(("is_live", True)),
                fields=["verdict", "-checked_on", "-published_at"],
                name="live_version_by_verdict",
            ),
        ),
    ]
