"""Full-text search on PostgreSQL, over the search table (reports.public.search_index) only.

A search finds the newest MAX_RANKED + 1 entries whose vector matches, then ranks those:
for a query whose rarest word is in many live reports (`SearchWord.documents`), by walking
the date index until enough match; for any other, from the GIN index's matches, sorted.
When it finds fewer than FEW, each query word is looked up among the archive's words
(`SearchWord`, trigram index): the query is searched again with the similar words, and
exact matches are listed first. Snippets are cut from each entry's short stored excerpt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db import connection, transaction
from django.db.models import DateField, Expression, ExpressionWrapper, F, Q
from django.db.models.functions import Left

from reports.models import PublishedVersion
from reports.public.models import SearchEntry
from reports.public.search_index import EXCERPT_CHARACTERS

# The full-text search finding fewer reports than this also looks for similar words.
FEW = 5
# Typo matching needs a word this long: "the" is similar to too many words.
MIN_FUZZY_WORD = 4
# pg_trgm similarity of two words at or above which one may be a typo of the other:
# "vacine" → "vaccin(e)" 0.63, "autsm" → "autism" 0.44, "vaccene" → "vaccin" 0.4.
WORD_SIMILARITY = 0.4
# How many similar archive words stand in for one query word.
SIMILAR_WORDS = 3
# ts_rank's weights for D, C, B, A (body C, summary B, claim A): a claim match ranks first.
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
# Ranking reads the vector of every candidate: a word in most of a large archive would
# rank all of it. The newest matches up to this many (ten pages) are ranked and counted;
# readers are told there are more and asked for another word. At 100,000 reports a common
# word's search takes 5–7 ms with 200, 10–14 ms with 500.
MAX_RANKED = 200
NEWEST = ("-checked_on", "-published_at")
# The same order, which no index offers: PostgreSQL then reads the GIN index's matches and
# sorts them, instead of walking the date index and testing row after row.
NEWEST_WITHOUT_INDEX = (
    ExpressionWrapper(F("checked_on") + 0, output_field=DateField()).desc(),
    "-published_at",
)
# A query whose rarest word is in at least this share of the live reports walks the date
# index (it stops after MAX_RANKED / share rows); others read the GIN index's matches. Not
# PostgreSQL's choice: it costs testing a row's vector as free, but each is an out-of-line
# (TOAST) read: it walked 7,300 rows (330 ms) for a word in 6% of 100,000 reports, where the
# GIN index answers in 30 ms; and it would read every vector rather than the index for a
# word in a third of them. Measured at 100,000 reports, the walk wins above about a third.
WALK_SHARE = 0.3


class StoredSearchVector(Expression):
    """The `search_vector` column of reports_searchentry (PostgreSQL only).

    Migration 0017 adds it; it is not a model field, so that SQLite, which has no
    tsvector, can share the model. This is the one place code refers to it.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name(compiler.query.base_table)
        return f"{table}.{compiler.quote_name('search_vector')}", []


@dataclass
class Found:
    """The ids of the live versions found, in the order listed, and how they were found."""

    ids: list[int]
    query: SearchQuery  # what the snippets mark
    capped: bool = False  # more matched than MAX_RANKED
    approximate: bool = False  # nothing matched as typed: these have similar words


def search(text: str, entries, *, ranked: bool) -> Found:
    """The versions whose entries among `entries` match `text`, best (or newest) first.

    Queries: two (the plan choice, the matches), or five when few match (the similar words,
    then the corrected search).
    """
    query = SearchQuery(text, search_type="websearch", config="english")
    exact = _newest(entries, query, text)
    capped = len(exact) > MAX_RANKED
    exact = exact[:MAX_RANKED]
    if capped or len(exact) >= FEW or not _worth_fuzzy(text):
        return Found(_ordered(exact, ranked=ranked), query, capped=capped)
    groups = similar_words(text)
    if groups is None:
        return Found(_ordered(exact, ranked=ranked), query)
    corrected = SearchQuery(_raw_query(groups), search_type="raw", config="simple")
    similar = _newest(entries, corrected, groups)[:MAX_RANKED]
    exact_ids = {pk for pk, *_ in exact}
    rows = exact + [row for row in similar if row[0] not in exact_ids]
    # Exact matches first: a reader who typed a real word wants it before its neighbours.
    rows = rows[:MAX_RANKED]
    if ranked:
        ranks = {pk: rank for pk, rank, *_ in similar}
        rows.sort(key=lambda row: -ranks.get(row[0], row[1]))
        rows.sort(key=lambda row: row[0] not in exact_ids)
    else:
        rows = _ordered(rows, ranked=False, ids=False)
    return Found(
        [pk for pk, *_ in rows],
        corrected,
        approximate=not exact and bool(rows),
    )


def _newest(entries, query: SearchQuery, words: str | list[list[str]]) -> list[tuple]:
    """(id, rank, checked_on, published_at) of the newest MAX_RANKED + 1 matches, newest first.

    Only those are ranked: the limit is applied in a subquery, ts_rank outside it. `words`
    are the query's words, or its groups of alternative archive words, whose counts choose
    the plan (see WALK_SHARE). Two queries.
    """
    matching = entries.alias(search_vector=StoredSearchVector()).filter(search_vector=query)
    with transaction.atomic():
        walk = _common(words)
        newest = matching.order_by(*(NEWEST if walk else NEWEST_WITHOUT_INDEX))
        rows = (
            SearchEntry.objects.filter(pk__in=newest.values("pk")[: MAX_RANKED + 1])
            .alias(search_vector=StoredSearchVector())
            .annotate(rank=SearchRank(F("search_vector"), query, weights=RANK_WEIGHTS))
            .values_list("pk", "rank", "checked_on", "published_at")
        )
        rows = list(rows)
    return sorted(rows, key=lambda row: (row[2], row[3], row[0]), reverse=True)


def _common(words: str | list[list[str]]) -> bool:
    """Whether the query is as common as its rarest word, or group of alternative words
    (`similar_words`: counted together, as any of them matches), and that is in WALK_SHARE
    of the live reports or more. If not, sequential scans are off until the transaction
    ends: a scan would read every vector.

    Unknown words count as rare; so do words with a few dozen reports in a small archive.
    """
    if isinstance(words, str):
        lexemes = """
            SELECT g, lexeme FROM unnest(tsvector_to_array(to_tsvector('english', %s)))
                WITH ORDINALITY AS t(lexeme, g)
        """
        params = [words]
    else:
        lexemes = "SELECT g, lexeme FROM unnest(%s::int[], %s::text[]) AS t(g, lexeme)"
        params = [
            [n for n, group in enumerate(words) for _ in group],
            [word for group in words for word in group],
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT share >= %s, set_config(
                'enable_seqscan',
                CASE WHEN share < %s THEN 'off' ELSE current_setting('enable_seqscan') END,
                true
            )
            FROM (
                SELECT coalesce(min(documents), 0)::float8 / (
                    -- The live reports, as ANALYZE (autovacuum, bulk loads) last counted.
                    SELECT greatest(reltuples, 1) FROM pg_class
                    WHERE oid = 'reports_searchentry'::regclass
                ) AS share
                FROM (
                    SELECT g, sum(coalesce(w.documents, 0)) AS documents
                    FROM ({lexemes}) l LEFT JOIN reports_searchword w ON w.word = l.lexeme
                    GROUP BY g
                ) grouped
            ) counted
            """,
            [WALK_SHARE, WALK_SHARE, *params],
        )
        return cursor.fetchone()[0]


def _ordered(rows: list[tuple], *, ranked: bool, ids: bool = True) -> list:
    """`rows` (newest first) best first if `ranked`; stable, so equal ranks stay newest first."""
    rows = sorted(rows, key=lambda row: (row[2], row[3], row[0]), reverse=True)
    if ranked:
        rows.sort(key=lambda row: -row[1])
    return [row[0] for row in rows] if ids else rows


def corrected_words(text: str) -> str | None:
    """`text` with each word replaced by the archive words similar to it (itself included
    if the archive has it): `('eifel' | 'eiffel') & 'tower'`. None if no word has any."""
    groups = similar_words(text)
    return None if groups is None else _raw_query(groups)


def similar_words(text: str) -> list[list[str]] | None:
    """For each word of `text` that has any, the archive words similar to it (itself
    included if the archive has it). None if no word has any.

    One query: each word's English stem, then its nearest archive words (trigram index).
    """
    words = list(dict.fromkeys(re.findall(r"[^\W\d_]+", text.casefold())))[:8]
    if not words:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.n, near.word
            FROM unnest(%s::text[]) WITH ORDINALITY AS t(word, n)
            CROSS JOIN LATERAL (SELECT (ts_lexize('english_stem', t.word))[1] AS stem) s
            JOIN LATERAL (
                SELECT w.word FROM reports_searchword w
                WHERE w.word %% s.stem AND w.documents > 0
                  AND similarity(w.word, s.stem) >= %s
                  AND (length(t.word) >= %s OR w.word = s.stem)
                ORDER BY similarity(w.word, s.stem) DESC, w.word
                LIMIT %s
            ) near ON true
            """,
            [words, WORD_SIMILARITY, MIN_FUZZY_WORD, SIMILAR_WORDS],
        )
        found: dict[int, list[str]] = {}
        for n, word in cursor.fetchall():
            found.setdefault(n, []).append(word)
    return [found[n] for n in sorted(found)] or None


def _raw_query(groups: list[list[str]]) -> str:
    """`('eifel' | 'eiffel') & ('tower')`: any word of each group, every group."""
    # Archive words are letters only (search_index.add_words): quoting them is safe.
    alternatives = [" | ".join(f"'{word}'" for word in group) for group in groups]
    return " & ".join(f"({words})" for words in alternatives)


def _worth_fuzzy(text: str) -> bool:
    """Whether to look for similar words: not for a precise query (a "phrase", a -word left
    out), nor a short one ("the" is similar to too many words)."""
    if '"' in text or re.search(r"(^|\s)-\w", text):
        return False
    return any(len(word) >= MIN_FUZZY_WORD for word in re.findall(r"\w+", text))


def entries_matching(*, verdict=None, topic=None, dates: Q | None = None):
    """The search entries with this verdict, topic and checked-on dates (`dates` a Q on
    `checked_on`): the filters a search combines with."""
    entries = SearchEntry.objects.all()
    if verdict is not None:
        entries = entries.filter(verdict=verdict)
    if topic is not None:
        tagged = PublishedVersion.topics.through.objects.filter(topic=topic)
        entries = entries.filter(version_id__in=tagged.values("publishedversion_id"))
    if dates is not None:
        entries = entries.filter(dates)
    return entries


def headline_annotations(query: SearchQuery, *, start: str, stop: str) -> dict:
    """`claim_headline` and `snippet` for a queryset of published versions: the words of
    `query` between `start` and `stop`, from the claim and the search entry's excerpt. For
    the page shown only: ts_headline reads every word of the text it is given."""
    options = {"config": "english", "start_sel": start, "stop_sel": stop}
    # Entries stored before the excerpt was shortened are cut to the same length here.
    excerpt = Left("search_entry__excerpt", EXCERPT_CHARACTERS)
    return {
        "claim_headline": SearchHeadline("claim", query, highlight_all=True, **options),
        "snippet": SearchHeadline(
            excerpt,
            query,
            max_words=30,
            min_words=12,
            max_fragments=2,
            fragment_delimiter=" … ",
            **options,
        ),
    }
