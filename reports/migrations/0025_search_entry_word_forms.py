"""Each search entry keeps the words its claim and excerpt write for each of their lexemes.

Search highlighted a page's twenty results with ts_headline, which parses and stems the
text of each anew: about 0.9 ms of a many-match search's 3 ms at 100,000 reports. With the
written forms of each lexeme stored when the entry is made, a search asks only for the
forms of its own lexemes and marks them in Python (reports.public.snippets).
PostgreSQL only: other databases mark the words of the query as typed.

Not atomic: adding the column is instant, and the entries are filled in batches of their
own (about 0.7 ms an entry: 75 s at 100,000), so searches go on meanwhile; an entry not yet
filled shows its snippet unmarked.
"""

from django.db import migrations

BATCH = 5000
# As reports.public.search_index.WORD_FORMS_SQL (a migration keeps its own copy).
FILL_BATCH_SQL = """
WITH batch AS (
    SELECT version_id FROM reports_searchentry
    WHERE version_id > %s ORDER BY version_id LIMIT %s
)
UPDATE reports_searchentry e SET word_forms = coalesce((
    SELECT jsonb_object_agg(lexeme, forms) FROM (
        SELECT l.lexeme, jsonb_agg(DISTINCT lower(d.token)) AS forms
        FROM ts_debug('english', e.claim || E'\\n\\n' || e.excerpt) AS d,
             unnest(d.lexemes) AS l(lexeme)
        GROUP BY l.lexeme
    ) found
), '{}')
FROM batch WHERE e.version_id = batch.version_id
RETURNING e.version_id
"""


def add_word_forms(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE reports_searchentry ADD COLUMN word_forms jsonb NOT NULL DEFAULT '{}'"
    )
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(FILL_BATCH_SQL, [last, BATCH])
            filled = [version_id for (version_id,) in cursor.fetchall()]
            if not filled:
                break
            last = max(filled)


def drop_word_forms(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE reports_searchentry DROP COLUMN word_forms")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0024_live_versions_by_verdict"),
    ]

    operations = [migrations.RunPython(add_word_forms, drop_word_forms)]
