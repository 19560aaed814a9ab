"""Give the roles the source library's new permissions (merging, retiring, domains)."""

from django.db import migrations

from reports.roles import create_roles_migration


class Migration(migrations.Migration):
    dependencies = [("reports", "0006_trigram"), ("sources", "0002_library_curation")]

    operations = [migrations.RunPython(create_roles_migration, migrations.RunPython.noop)]
