"""The search table: one narrow row per live report (`SearchEntry`) and the archive's words.

Search (reports.public.fulltext) reads only these tables. Publishing keeps them: the
workflow calls `refresh` whenever a report's live version changes (published, corrected,
unpublished, withdrawn), bulk loads call `add_versions` and then `analyze`, and
`manage.py rebuild_search` rebuilds both from the live versions.

On PostgreSQL each entry also has a `search_vector` column (claim weighted A, summary B,
body C, English stemming) with a GIN index, and `SearchWord` holds every lexeme of the live
reports under a trigram index, for correcting typos. Other databases keep the rows only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from reports.models import PublishedVersion
from reports.public.models import SearchEntry, SearchWord

# Snippets are cut from the summary and the start of the body: ts_headline's cost grows
# with the text it reads (1,500 characters: 5–15 ms a page at 100,000 reports), and a
# snippet from page ten of a report helps nobody.
EXCERPT_CHARACTERS = 600
# Longer lexemes are links or noise, not words anyone misspells; numbers, dates and codes
# are matched exactly or not at all: the words kept are letters only.
LONGEST_WORD = 40
WORDS_KEPT = "length(word) BETWEEN 3 AND %s AND word ~ '^[[:alpha:]]+$'"

# Claim first, then summary, then the body: a match in the claim ranks highest.
VECTOR_SQL = """
    setweight(to_tsvector('english', coalesce(v.claim, '')), 'A')
    || setweight(to_tsvector('english', coalesce(v.summary_text, '')), 'B')
    || setweight(to_tsvector('english', coalesce(v.body_text, '')), 'C')
"""
EXCERPT_SQL = "left(v.summary_text || E'\\n\\n' || v.body_text, %s)"
# Each lexeme of an entry's claim and excerpt (`v`), with the words written for it there,
# in lower case ({"vaccin": ["vaccine", "vaccines"]}): what search marks, without parsing
# and stemming every result's text again (reports.public.snippets).
WORD_FORMS_SQL = """
    coalesce((
        SELECT jsonb_object_agg(lexeme, forms) FROM (
            SELECT l.lexeme, jsonb_agg(DISTINCT lower(d.token)) AS forms
            FROM ts_debug('english', v.claim || E'\\n\\n' || v.excerpt) AS d,
                 unnest(d.lexemes) AS l(lexeme)
            GROUP BY l.lexeme
        ) found
    ), '{}')
"""


def refresh(report_ids: Iterable[int]) -> None:
    """Make the entries of these reports match their live versions: a report taken down
    loses its entry, a new or corrected version replaces it; the words' counts follow."""
    report_ids = list(report_ids)
    _count_words(report_ids, -1)
    SearchEntry.objects.filter(report_id__in=report_ids).delete()
    add_versions(
        PublishedVersion.objects.live().filter(report_id__in=report_ids).values("pk"),
        words_of_reports=report_ids,
    )


def add_versions(versions, *, words_of_reports: list[int] | None = None) -> None:
    """Add entries for `versions` (a queryset of live versions' ids, with no entry yet).

    Their words are counted in `SearchWord` too if `words_of_reports` names their reports;
    a bulk load counts every entry's words once, at its end (`add_words`).
    """
    if connection.vendor != "postgresql":
        _add_versions_plainly(versions)
        return
    subquery, params = versions.values("pk").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO reports_searchentry
                (version_id, report_id, checked_on, published_at, verdict_id, claim, excerpt,
                 search_vector, word_forms)
            SELECT v.id, v.report_id, v.checked_on, v.published_at, v.verdict_id, v.claim,
                   v.excerpt, v.search_vector, {WORD_FORMS_SQL}
            FROM (
                SELECT v.id, v.report_id, v.checked_on, v.published_at, v.verdict_id, v.claim,
                       {EXCERPT_SQL} AS excerpt, {VECTOR_SQL} AS search_vector
                FROM reports_publishedversion v
                WHERE v.id IN ({subquery})
            ) v
            """,
            [EXCERPT_CHARACTERS, *params],
        )
    if words_of_reports is not None:
        _count_words(words_of_reports, +1)


def _add_versions_plainly(versions) -> None:
    found = PublishedVersion.objects.filter(pk__in=versions).only(
        "report_id", "checked_on", "published_at", "verdict_id", "claim", "summary_text"
    )
    SearchEntry.objects.bulk_create(
        SearchEntry(
            version_id=version.pk,
            report_id=version.report_id,
            checked_on=version.checked_on,
            published_at=version.published_at,
            verdict_id=version.verdict_id,
            claim=version.claim,
            excerpt=version.summary_text[:EXCERPT_CHARACTERS],
        )
        for version in found
    )


def add_words() -> None:
    """Count the lexemes of every entry into `SearchWord` (after a bulk load into an empty
    word table, or to rebuild it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO reports_searchword (word, documents)
            SELECT word, count(*)
            FROM reports_searchentry, unnest(tsvector_to_array(search_vector)) AS word
            WHERE {WORDS_KEPT}
            GROUP BY word
            ON CONFLICT (word) DO UPDATE SET documents = EXCLUDED.documents
            """,
            [LONGEST_WORD],
        )


def _count_words(report_ids: list[int], change: int) -> None:
    """Count the words of these reports' entries once more (+1: new words added) or once
    less (-1, before the entries go)."""
    if connection.vendor != "postgresql" or not report_ids:
        return
    counted = f"""
        SELECT word, count(*) AS n
        FROM reports_searchentry, unnest(tsvector_to_array(search_vector)) AS word
        WHERE report_id = ANY(%s) AND {WORDS_KEPT}
        GROUP BY word
    """
    with connection.cursor() as cursor:
        if change > 0:
            cursor.execute(
                f"""
                INSERT INTO reports_searchword AS w (word, documents)
                SELECT word, n FROM ({counted}) counted
                ON CONFLICT (word) DO UPDATE SET documents = w.documents + EXCLUDED.documents
                """,
                [report_ids, LONGEST_WORD],
            )
        else:
            cursor.execute(
                f"""
                UPDATE reports_searchword w SET documents = greatest(0, w.documents - counted.n)
                FROM ({counted}) counted WHERE w.word = counted.word
                """,
                [report_ids, LONGEST_WORD],
            )


def rebuild() -> tuple[int, int]:
    """Rebuild the entries and words from the live versions (words no live report holds
    go); then fresh planner statistics. Returns the number of entries and of words."""
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        SearchWord.objects.all().delete()
        add_versions(PublishedVersion.objects.live())
        add_words()
    analyze()
    return SearchEntry.objects.count(), SearchWord.objects.count()


def analyze() -> None:
    """Fresh planner statistics for every table after a bulk load, and, outside a
    transaction, every page marked all-visible (VACUUM).

    Without statistics PostgreSQL plans searches with the counts it saw before the load (a
    word in every report guessed at a few rows) and reads the whole table. Without VACUUM
    an index-only scan still reads the table for each row it returns: the window's first
    day (fulltext, WINDOW_SHARE) read 4,800 rows of the search table for a word in 8% of
    100,000 reports, 2 ms of its 3.7 ms statement. Autovacuum does both in time; this makes
    it so the moment the load ends.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # VACUUM cannot run in a transaction block (an import's caller's, a test's).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
