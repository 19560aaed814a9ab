"""Full-text search on PostgreSQL, over the search table (reports.public.search_index) only.

One statement per search page (`search_page`), answering with exactly the rows shown: it
finds the newest MAX_RANKED + 1 entries whose vector matches, ranks those, and, when it
finds fewer than FEW, looks each query word up among the archive's words (`SearchWord`,
trigram index) and searches again with the similar words, exact matches listed first. The
page's rows come with their short stored excerpt and the words to mark in it (the forms
each entry writes for the query's lexemes, stored with the entry), the verdict and the
topics; the total and the page number with them.

Raw SQL on purpose: this is the hottest path of the site, and building the same search
through the ORM cost more Python time (about 9 ms a page) than PostgreSQL took to run it.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db import connections, router

from factually import prepared
from reports.public.models import SearchEntry

# The full-text search finding fewer reports than this also looks for similar words.
FEW = 5
# Typo matching needs a word this long: "the" is similar to too many words.
MIN_FUZZY_WORD = 4
# pg_trgm similarity of two words at or above which one may be a typo of the other:
# "vacine" → "vaccin(e)" 0.63, "autsm" → "autism" 0.44, "vaccene" → "vaccin" 0.4.
WORD_SIMILARITY = 0.4
# How many similar archive words stand in for one query word.
SIMILAR_WORDS = 3
# Query words looked up among the archive's words (more are searched, not corrected).
CORRECTED_WORDS = 8
# ts_rank's weights for D, C, B, A (body C, summary B, claim A): a claim match ranks first.
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
# Ranking reads the vector of every candidate: a word in most of a large archive would
# rank all of it. The newest matches up to this many (ten pages) are ranked and counted;
# readers are told there are more and asked for another word. At 100,000 reports a common
# word's search takes 5–7 ms with 200, 10–14 ms with 500.
MAX_RANKED = 200
# A query whose rarest word is in at least this share of the live reports walks the date
# index (it stops after MAX_RANKED / share rows); others read the GIN index's matches. Not
# PostgreSQL's choice: it costs testing a row's vector as free, but each is an out-of-line
# (TOAST) read: it walked 7,300 rows (330 ms) for a word in 6% of 100,000 reports, where the
# GIN index answers in 30 ms; and it would read every vector rather than the index for a
# word in a third of them. Measured at 100,000 reports, the walk wins above about a third.
WALK_SHARE = 0.3
# A query whose rarest word is in fewer reports, but at least this share, reads only the GIN
# index's matches among the newest entries, enough to hold the MAX_RANKED newest matches
# WINDOW_MARGIN times over if the word is spread evenly in time (all of them otherwise): the
# index holds each entry's date beside its words (btree_gin), so a word in 8% of 100,000
# reports fetches some 400 rows, not 8,300 (2.3 ms, not 6.8). Below this share, the date
# range read would cost more than the matches it spares.
WINDOW_SHARE = 0.05
WINDOW_MARGIN = 2.0


@dataclass
class Hit:
    """A report found, with what its card shows: `excerpt` is the start of its summary and
    body, `forms` the words its claim and excerpt write for the query's (lower case)."""

    id: int
    slug: str
    claim: str
    checked_on: datetime.date
    verdict: VerdictShown
    excerpt: str
    forms: list[str]
    # {"name", "slug"} of each topic, by name: as PublishedVersion.topic_links.
    topic_links: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class VerdictShown:
    """The verdict as a card shows it (reports/_verdict.html)."""

    name: str
    slug: str


@dataclass
class SearchPage:
    """One page of a search: its hits, how many were found in all, and how."""

    hits: list[Hit]
    count: int  # at most MAX_RANKED
    number: int  # the page shown: the one asked for, or the last if there is no such page
    capped: bool = False  # more matched than MAX_RANKED
    approximate: bool = False  # nothing matched as typed: these have similar words
    corrected: str | None = None  # the query with similar words, when it was searched
    # The date index was walked for the search listed (common words), not the GIN index.
    walked: bool = False


def search_page(text: str, **options) -> SearchPage:
    """The page `page_number` (0 or out of range: the last) of the live reports whose
    search entries match `text` and the filters, best (or, unless `ranked`, newest) first;
    `options` are those of `statement`.

    One round trip: the search statement between two that set the planner's options and set
    them back (see WALK_SHARE: every step of the plan is an index's, chosen here), on the
    database the router reads the search table from (a replica, for public reads).
    """
    sql, params = statement(text, **options)
    # Prepared once per connection and run with its one generic plan: parsing and planning
    # it cost more than running it for most searches; every choice that depends on the
    # query's words is made while it runs (one-time filters), so one plan serves them all.
    rows = prepared.rows(
        connections[router.db_for_read(SearchEntry)],
        sql,
        params,
        before=_PLANNED_BY_INDEXES,
        after=_PLANNED_AS_BEFORE,
    )
    total, capped, approximate, corrected, walked, number = rows[0][:6]
    return SearchPage(_hits(rows), total, number, capped, approximate, corrected, walked)


def statement(
    text: str,
    *,
    ranked: bool,
    page_number: int,
    per_page: int,
    verdict_id: int | None = None,
    topic_id: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> tuple[str, dict]:
    """The search statement of `search_page` and its parameters (tests explain its plan)."""
    words = list(dict.fromkeys(re.findall(r"[^\W\d_]+", text.casefold())))[:CORRECTED_WORDS]
    params = {
        "text": text,
        "ranked": ranked,
        "page": page_number,
        "per_page": per_page,
        "verdict": verdict_id,
        "topic": topic_id,
        "since": since,
        "until": until,
        "words": words,
        "worth_fuzzy": bool(words) and _worth_fuzzy(text),
        "few": FEW,
        "similarity": WORD_SIMILARITY,
        "min_fuzzy": MIN_FUZZY_WORD,
        "similar_words": SIMILAR_WORDS,
        "weights": RANK_WEIGHTS,
        "max_ranked": MAX_RANKED,
        "candidates": MAX_RANKED + 1,
        "walk_share": WALK_SHARE,
        "window_share": WINDOW_SHARE,
        "window_margin": WINDOW_MARGIN,
    }
    return _SEARCH_SQL.replace("{filters}", _filters(verdict_id, topic_id, since, until)), params


def _hits(rows: list[tuple]) -> list[Hit]:
    return [
        Hit(
            id=pk,
            slug=slug,
            claim=claim,
            checked_on=checked_on,
            verdict=VerdictShown(verdict_name, verdict_slug),
            excerpt=excerpt,
            forms=forms or [],
            topic_links=sorted(
                ({"name": name, "slug": topic_slug} for name, topic_slug in topics or []),
                key=lambda topic: (topic["name"].casefold(), topic["name"]),
            ),
        )
        for (
            *_,
            pk,
            slug,
            claim,
            checked_on,
            verdict_name,
            verdict_slug,
            excerpt,
            forms,
            topics,
        ) in rows
        if pk is not None
    ]


def _filters(verdict_id, topic_id, since, until) -> str:
    """The conditions on an entry `e` for the filters given (named parameters)."""
    conditions = ["true"]
    if verdict_id is not None:
        # "+ 0": not by the verdict's index, whose rows' vectors would each be read.
        conditions.append("e.verdict_id + 0 = %(verdict)s")
    if topic_id is not None:
        conditions.append(
            "e.version_id IN (SELECT publishedversion_id FROM reports_publishedversion_topics"
            " WHERE topic_id = %(topic)s)"
        )
    if since is not None:
        conditions.append("e.checked_on >= %(since)s")
    if until is not None:
        conditions.append("e.checked_on <= %(until)s")
    return " AND ".join(conditions)


def _worth_fuzzy(text: str) -> bool:
    """Whether to look for similar words: not for a precise query (a "phrase", a -word left
    out), nor a short one ("the" is similar to too many words)."""
    if '"' in text or re.search(r"(^|\s)-\w", text):
        return False
    return any(len(word) >= MIN_FUZZY_WORD for word in re.findall(r"\w+", text))


# PostgreSQL costs testing a row's vector as free, though each is an out-of-line (TOAST)
# read, and would answer a word in a few percent of the reports by reading every vector.
# The statement below picks the index of each step itself (a one-time filter on the share
# of reports holding the rarest word: see WALK_SHARE); with sequential scans off, PostgreSQL
# keeps to them. No parallel workers either: at 100,000 reports PostgreSQL started them for
# the form not taken (7 ms a search, before its one-time filter said it returns nothing), and
# under many readers the work they split only competes with the other searches. And the
# statement's one generic plan (`search_page`). Local to the transaction, and set back
# after the statement (inside a transaction, such as a test's, it would otherwise last until
# its end).
_PLANNED_BY_INDEXES = """
    SELECT set_config('factually.seqscan', current_setting('enable_seqscan'), true),
           set_config('enable_seqscan', 'off', true),
           set_config('factually.workers',
                      current_setting('max_parallel_workers_per_gather'), true),
           set_config('max_parallel_workers_per_gather', '0', true),
           set_config('factually.plans', current_setting('plan_cache_mode'), true),
           set_config('plan_cache_mode', 'force_generic_plan', true)
"""
_PLANNED_AS_BEFORE = """
    SELECT set_config('enable_seqscan', current_setting('factually.seqscan'), true),
           set_config('max_parallel_workers_per_gather',
                      current_setting('factually.workers'), true),
           set_config('plan_cache_mode', current_setting('factually.plans'), true)
"""

# How a search for `{query}` finds its newest MAX_RANKED + 1 matches, as `{plan}` chose:
# `{name}_found`, from the walk, the window if it held enough, or every match of the GIN
# index; then `{name}_ranked`, the newest MAX_RANKED with their rank.
_FOUND_SQL = """
{name}_window AS (
    SELECT e.version_id, e.checked_on, e.published_at
    FROM reports_searchentry e
    WHERE (SELECT since FROM {plan}) IS NOT NULL
      AND e.search_vector @@ {query}
      -- The day as the GIN index holds it (migration reports 0023): an expression no other
      -- index has, so that the window is read through the words' index at any size.
      AND e.checked_on - DATE '1970-01-01' >= (SELECT since FROM {plan}) - DATE '1970-01-01'
      AND {filters}
    ORDER BY e.checked_on + 0 DESC, e.published_at DESC
    LIMIT %(candidates)s
),
{name}_found AS (
    (SELECT e.version_id, e.checked_on, e.published_at,
            CASE WHEN %(ranked)s THEN ts_rank(%(weights)s::float4[], e.search_vector, {query})
            END AS rank
     FROM reports_searchentry e
     WHERE (SELECT walk FROM {plan})
       AND ts_match_vq(e.search_vector, {query})
       AND {filters}
     ORDER BY e.checked_on DESC, e.published_at DESC
     LIMIT %(candidates)s)
    UNION ALL
    SELECT version_id, checked_on, published_at, NULL::real
    FROM {name}_window
    WHERE (SELECT count(*) FROM {name}_window) = %(candidates)s
    UNION ALL
    (SELECT e.version_id, e.checked_on, e.published_at, NULL::real
     FROM reports_searchentry e
     WHERE NOT (SELECT walk FROM {plan})
       AND (SELECT count(*) FROM {name}_window) < %(candidates)s
       AND e.search_vector @@ {query}
       AND {filters}
     ORDER BY e.checked_on + 0 DESC, e.published_at DESC
     LIMIT %(candidates)s)
),
{name}_ranked AS (
    -- Only the newest MAX_RANKED are ranked and listed.
    SELECT f.version_id, f.checked_on, f.published_at,
           CASE WHEN %(ranked)s THEN coalesce(f.rank, (
               SELECT ts_rank(%(weights)s::float4[], e.search_vector, {query})
               FROM reports_searchentry e WHERE e.version_id = f.version_id
           )) END AS rank
    FROM (SELECT * FROM {name}_found
          ORDER BY checked_on DESC, published_at DESC, version_id DESC
          LIMIT %(max_ranked)s) f
)"""

# What `{shares}` (one row: `share`, the share of the reports holding the query's rarest
# word) makes a search read: the walk, or the window since a date (the newest entries), or
# else all the GIN index's matches.
_PLAN_SQL = """
    SELECT share >= %(walk_share)s AS walk,
           CASE WHEN share >= %(window_share)s AND share < %(walk_share)s THEN (
               SELECT checked_on FROM reports_searchentry
               ORDER BY checked_on DESC, published_at DESC
               OFFSET ceil(%(candidates)s * %(window_margin)s / share)::int LIMIT 1
           ) END AS since
    FROM {shares}
"""


def _found(name: str, query: str, plan: str) -> str:
    return _FOUND_SQL.replace("{name}", name).replace("{query}", query).replace("{plan}", plan)


# Each search comes in three forms, of which the one-time filters (subqueries on the plan)
# run one: the date index walked newest first, testing each row ("ts_match_vq", the @@
# operator as a function, which no index answers), until enough match, ranking those as it
# reads them; or the GIN index's matches among the newest entries (the window), if it finds
# enough there; or all of its matches, sorted ("checked_on + 0": an order no index offers).
# The newest MAX_RANKED are then ranked. Nothing is ranked for a list by date.
# `{filters}` are the verdict, topic and dates (`_filters`). One plan serves every query
# (`search_page`): nothing in it depends on the words but through those filters.
_SEARCH_SQL = """
WITH
exact_query AS (
    -- Parsed and stemmed once: written where it is used, the one generic plan (a parameter
    -- is not a constant) parsed it again for every row the walk tested.
    SELECT websearch_to_tsquery('english', %(text)s) AS q
),
live AS (
    -- The live reports, as ANALYZE (autovacuum, bulk loads) last counted them.
    SELECT greatest(reltuples, 1)::float8 AS reports
    FROM pg_class WHERE oid = 'reports_searchentry'::regclass
),
exact_share AS (
    -- How common the rarest word is (unknown words count as rare).
    SELECT coalesce(min(coalesce(w.documents, 0)), 0) / (SELECT reports FROM live) AS share
    FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) AS l(lexeme)
    LEFT JOIN reports_searchword w ON w.word = l.lexeme
),
exact_plan AS ({exact_plan}),
{exact_found},
similar_words AS (
    -- Few found: each query word's English stem, then its nearest archive words.
    SELECT t.n, near.word, near.documents
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS t(word, n)
    CROSS JOIN LATERAL (SELECT (ts_lexize('english_stem', t.word))[1] AS stem) s
    JOIN LATERAL (
        SELECT w.word, w.documents FROM reports_searchword w
        WHERE w.word %% s.stem AND w.documents > 0
          AND similarity(w.word, s.stem) >= %(similarity)s
          AND (length(t.word) >= %(min_fuzzy)s OR w.word = s.stem)
        ORDER BY similarity(w.word, s.stem) DESC, w.word
        LIMIT %(similar_words)s
    ) near ON true
    WHERE %(worth_fuzzy)s AND (SELECT count(*) FROM exact_found) < %(few)s
),
corrected AS (
    -- Any similar word of each query word, every query word that has some: as common as
    -- its rarest group of alternatives, counted together.
    SELECT to_tsquery('simple', string_agg(alternatives, ' & ' ORDER BY n)) AS q,
           min(documents)::float8 / (SELECT reports FROM live) AS share
    FROM (
        -- Archive words are letters only (search_index.add_words): quoting them is safe.
        SELECT n, '(' || string_agg(quote_literal(word), ' | ') || ')' AS alternatives,
               sum(documents) AS documents
        FROM similar_words GROUP BY n
    ) grouped
    HAVING count(*) > 0
),
similar_plan AS ({similar_plan}),
{similar_found},
found AS (
    SELECT version_id, checked_on, published_at, rank, true AS exact
    FROM exact_ranked
    WHERE NOT EXISTS (SELECT FROM corrected)
    UNION ALL
    -- A reader who typed a real word wants it before its neighbours: the exact matches,
    -- then the newest similar ones (ranked by the corrected query if it finds them too).
    (SELECT coalesce(x.version_id, s.version_id), coalesce(x.checked_on, s.checked_on),
            coalesce(x.published_at, s.published_at), coalesce(s.rank, x.rank),
            x.version_id IS NOT NULL
     FROM exact_ranked x FULL JOIN similar_ranked s ON s.version_id = x.version_id
     WHERE EXISTS (SELECT FROM corrected)
     ORDER BY 5 DESC, 2 DESC, 3 DESC, 1 DESC
     LIMIT %(max_ranked)s)
),
numbered AS (
    SELECT version_id, row_number() OVER (
        ORDER BY CASE WHEN %(ranked)s THEN exact END DESC,
                 CASE WHEN %(ranked)s THEN rank END DESC,
                 checked_on DESC, published_at DESC, version_id DESC
    ) AS position
    FROM found
),
counted AS (
    SELECT count(*) AS total,
           (SELECT count(*) FROM exact_found) > %(max_ranked)s AS capped,
           count(*) > 0 AND EXISTS (SELECT FROM corrected) AND NOT EXISTS (SELECT FROM exact_ranked)
               AS approximate,
           (SELECT q::text FROM corrected) AS corrected,
           coalesce((SELECT walk FROM similar_plan), (SELECT walk FROM exact_plan)) AS walked,
           greatest(1, ceil(count(*) / %(per_page)s::numeric))::int AS pages
    FROM found
),
shown_page AS (
    -- As Django's Paginator.get_page: a page out of range shows the last.
    SELECT CASE WHEN %(page)s BETWEEN 1 AND pages THEN %(page)s ELSE pages END AS number
    FROM counted
),
shown AS (
    SELECT n.version_id, n.position
    FROM numbered n, shown_page p
    WHERE n.position > (p.number - 1) * %(per_page)s AND n.position <= p.number * %(per_page)s
),
marked AS (
    -- The lexemes to mark: those of the query searched, but the ones it leaves out (!).
    SELECT ARRAY(
        SELECT DISTINCT replace(m[2], '''''', '''')
        FROM regexp_matches(
            coalesce((SELECT q FROM corrected), (SELECT q FROM exact_query))::text,
            '(!?)''((?:[^'']|'''')+)''', 'g') AS m
        WHERE m[1] = ''
    ) AS lexemes
)
-- Totals on every row, and one row without a hit when nothing is shown.
SELECT c.total, c.capped, c.approximate, c.corrected, c.walked, p.number,
       s.version_id, v.slug, e.claim, e.checked_on, d.name, d.slug,
       e.excerpt,
       -- The words written for them in this entry's claim and excerpt.
       ARRAY(SELECT DISTINCT form
             FROM unnest(m.lexemes) AS l(lexeme),
                  jsonb_array_elements_text(e.word_forms -> l.lexeme) AS form),
       (SELECT json_agg(json_build_array(t.name, t.slug))
        FROM reports_publishedversion_topics pt JOIN reports_topic t ON t.id = pt.topic_id
        WHERE pt.publishedversion_id = s.version_id)
FROM counted c CROSS JOIN shown_page p CROSS JOIN marked m
LEFT JOIN (
    shown s
    JOIN reports_searchentry e ON e.version_id = s.version_id
    -- The versions table for the rows shown only, by primary key: their address.
    JOIN reports_publishedversion v ON v.id = s.version_id
    JOIN reports_verdict d ON d.id = e.verdict_id
) ON true
ORDER BY s.position
"""
_SEARCH_SQL = (
    _SEARCH_SQL.replace("{exact_plan}", _PLAN_SQL.replace("{shares}", "exact_share"))
    .replace("{similar_plan}", _PLAN_SQL.replace("{shares}", "corrected"))
    .replace(
        "{exact_found}",
        _found("exact", "(SELECT q FROM exact_query)", plan="exact_plan"),
    )
    .replace("{similar_found}", _found("similar", "(SELECT q FROM corrected)", plan="similar_plan"))
)
