"""pg_trgm, for finding published reports about similar claims (PostgreSQL only)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_roles")]

    operations = [TrigramExtension()]
