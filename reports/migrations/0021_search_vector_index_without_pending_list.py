"""The search vectors' GIN index updated on each insert, not through a pending list.

With `fastupdate` (PostgreSQL's default) new entries wait in a pending list that every
search reads in full until VACUUM merges it; with autovacuum off after a bulk load it held
3.5 MB (444 pages) at 20,000 reports, 1.2 ms of every search, even for a word found
nowhere. Publishing adds one entry at a time: updating the index directly costs nothing
noticeable there. The list already pending is merged here.
"""

from django.db import migrations


def index_directly(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX search_entry_vector SET (fastupdate = off)")
        schema_editor.execute("SELECT gin_clean_pending_list('search_entry_vector'::regclass)")


def index_through_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER INDEX search_entry_vector RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0020_stored_articles"),
    ]

    operations = [
        migrations.RunPython(index_directly, index_through_pending_list),
    ]
