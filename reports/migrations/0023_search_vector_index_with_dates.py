"""The search vectors' GIN index holds each entry's checked-on day beside its words.

A word in a few percent of a large archive is searched among the newest entries only
(reports.public.fulltext, WINDOW_SHARE): the index answers "this word, checked on or after
this day" itself, so only the matches listed are fetched, not every match to be sorted.
The day is held as a number (days since 1970): an expression the date index cannot answer,
so that PostgreSQL reads the window through this index whatever the table's size. Values
other than words in a GIN index need btree_gin, a contrib extension as pg_trgm is.
PostgreSQL only.
"""

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations


def _index(schema_editor, columns: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX search_entry_vector")
        schema_editor.execute(
            f"CREATE INDEX search_entry_vector ON reports_searchentry"
            f" USING gin ({columns}) WITH (fastupdate = off)"
        )


def index_with_dates(apps, schema_editor):
    _index(schema_editor, "search_vector, (checked_on - DATE '1970-01-01')")


def index_words_only(apps, schema_editor):
    _index(schema_editor, "search_vector")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0022_stored_pages"),
    ]

    operations = [
        BtreeGinExtension(),
        migrations.RunPython(index_with_dates, index_words_only),
    ]
