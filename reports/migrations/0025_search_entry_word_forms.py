"""Each search entry keeps the words its claim and excerpt write for each of their lexemes.

Search highlighted a page's twenty results with ts_headline, which parses and stems the
text of each anew: about 0.9 ms of a many-match search's 3 ms at 100,000 reports. With the
written forms of each lexeme stored when the entry is made, a search asks only for the
forms of its own lexemes and marks them in Python (reports.public.snippets).
PostgreSQL only: other databases mark the words of the query as typed.
"""

from django.db import migrations

# As reports.public.search_index.WORD_FORMS_SQL (a migration keeps its own copy).
FORMS_SQL = """
UPDATE reports_searchentry e SET word_forms = coalesce((
    SELECT jsonb_object_agg(lexeme, forms) FROM (
        SELECT l.lexeme, jsonb_agg(DISTINCT lower(d.token)) AS forms
        FROM ts_debug('english', e.claim || E'\\n\\n' || e.excerpt) AS d,
             unnest(d.lexemes) AS l(lexeme)
        GROUP BY l.lexeme
    ) found
), '{}')
"""


def add_word_forms(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE reports_searchentry ADD COLUMN word_forms jsonb NOT NULL DEFAULT '{}'"
        )
        schema_editor.execute(FORMS_SQL)


def drop_word_forms(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_searchentry DROP COLUMN word_forms")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0024_live_versions_by_verdict"),
    ]

    operations = [migrations.RunPython(add_word_forms, drop_word_forms)]
