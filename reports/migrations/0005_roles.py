"""Create the Editor, Reviewer and Source curator groups with their permissions."""

from django.db import migrations

from reports.roles import create_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_workflow"),
        ("sources", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles_migration, migrations.RunPython.noop)]
