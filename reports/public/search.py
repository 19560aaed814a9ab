"""Finding published fact-checks: the filters readers choose, and full-text search.

Filters come from GET parameters and are checked against allow-lists: an unknown value is
ignored, never an error, and nothing a reader sends names a field or an ordering.

On PostgreSQL, search reads the `search_vector` column that migration 0008 generates (claim
weighted A, summary B, body C, English stemming), ranks the matches and highlights them in a
snippet, computed for the page shown only. When it finds few reports, trigram word similarity
on the claim (through its trigram index) catches typos, and similarity to the summary helps
rank them. Other databases (SQLite, the embedded default) match every word of the query
anywhere in the text, newest first.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    Expression,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat, Greatest, Left
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from factually import pagecache
from reports.models import PublishedVersion, Topic, Verdict

# Longer queries are cut: nobody types more, and every word costs the database.
MAX_QUERY_LENGTH = 200
# Terms of a query SQLite matches (each one is a LIKE over three columns).
MAX_WORDS = 8
# The full-text search finding fewer reports than this also looks for similar words.
FEW = 5
# Typo matching needs a word this long: "the" is similar to every claim that contains it.
MIN_FUZZY_WORD = 4
# pg_trgm word similarity at or above which a claim holds a misspelt query word:
# "Eifel tower" finds "The Eiffel Tower grows" (0.79), "vacine" finds "vaccine" (0.67).
# pg_trgm's own default, 0.6, misses most one-letter typos in words of seven letters or less.
WORD_SIMILARITY = 0.5
# A summary that is similar to the query counts for a little less than a similar claim.
SUMMARY_SIMILARITY_WEIGHT = 0.8
# ts_rank's weights for D, C, B, A (body C, summary B, claim A): a claim match ranks first.
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
SNIPPET_WORDS = 40
# Ranking reads the search vector of every match, so a word found in most of a large archive
# would rank all of it (seconds at 100,000 reports). The newest matches up to this many are
# ranked and counted (see _newest_matches); readers are told there are more and asked for
# another word.
MAX_RANKED = 500
# Lists without a search page through the newest this many (see newest_first).
MAX_LISTED = 1000
# The share of the reports a search must match for the newest to be found by walking the
# date index (see _newest_matches): measured at 100,000 reports, the walk wins above ~20%.
WALK_SHARE = 0.2
# A misspelt common word is similar to thousands of claims: the newest this many are ranked.
MAX_SIMILAR = 100
# The snippet is found in the summary and the start of the body: ts_headline's cost grows
# with the text it reads, and a snippet from page ten of a report helps nobody.
HEADLINE_CHARACTERS = 3000
NEWEST = ("-checked_on", "-published_at")
# The same order, which no index offers (`checked_on + 0`): PostgreSQL then finds the rows
# first and sorts them, instead of walking the date index and testing row after row.
NEWEST_WITHOUT_INDEX = (
    ExpressionWrapper(F("checked_on") + 0, output_field=DateField()).desc(),
    "-published_at",
)

PERIODS = {"month": "Past month", "year": "Past year"}
SORTS = {"relevance": "Best match", "newest": "Newest first"}
DEFAULT_SORT = "relevance"

# Where a highlighted word starts and stops, in text that is escaped before they become
# <mark> tags (private-use characters: no report contains them).
START, STOP = "\ue000", "\ue001"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")
_MARKED = re.compile(f"{START}([^{START}{STOP}]*){STOP}")
# A "quoted phrase" (its closing quote optional) or a word, either after an optional minus.
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


class StoredSearchVector(Expression):
    """The `search_vector` column of reports_publishedversion (PostgreSQL only).

    Migration 0008 generates it; it is not a model field, so that SQLite, which has no
    tsvector, can share the model. This is the one place code refers to it.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name(compiler.query.base_table)
        return f"{table}.{compiler.quote_name('search_vector')}", []


# Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What readers can pick from: the allow-lists filters are checked against."""

    verdicts: list[Verdict]
    topics: list[Topic]
    years: list[int]

    @classmethod
    def load(cls, *, verdicts: bool = True, topics: bool = True) -> Choices:
        """The rating scale, the topics and years with live reports (a query each)."""
        return cls(
            verdicts=list(Verdict.objects.only("name", "slug")) if verdicts else [],
            topics=list(Topic.objects.live().only("name", "slug")) if topics else [],
            years=_years_checked(),
        )


def _years_checked() -> list[int]:
    """The years of live reports' checked-on dates, newest first."""
    if connection.vendor != "postgresql":
        return [d.year for d in PublishedVersion.objects.live().dates("checked_on", "year", "DESC")]
    # DISTINCT over the dates reads every live version; this reads the live_version_order
    # index once per year instead (a "skip scan", which PostgreSQL does not do by itself).
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE year_of(day) AS (
                (SELECT checked_on FROM reports_publishedversion
                 WHERE is_live AND checked_on IS NOT NULL
                 ORDER BY checked_on DESC LIMIT 1)
                UNION ALL
                SELECT (SELECT checked_on FROM reports_publishedversion
                        WHERE is_live AND checked_on < date_trunc('year', year_of.day)
                        ORDER BY checked_on DESC LIMIT 1)
                FROM year_of WHERE year_of.day IS NOT NULL
            )
            SELECT extract(year FROM day)::int FROM year_of WHERE day IS NOT NULL
            """
        )
        return [year for (year,) in cursor.fetchall()]


@dataclass(frozen=True)
class Filters:
    """A reader's search, valid by construction; `fixed` names filters set by the address."""

    q: str = ""
    verdict: Verdict | None = None
    topic: Topic | None = None
    period: str = ""  # "", a key of PERIODS, or a year such as "2025"
    sort: str = DEFAULT_SORT
    fixed: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls,
        params: QueryDict,
        choices: Choices,
        *,
        verdict: Verdict | None = None,
        topic: Topic | None = None,
    ) -> Filters:
        """The filters in `params`, each ignored unless it is one of `choices`."""
        fixed = frozenset(name for name, value in (("verdict", verdict), ("topic", topic)) if value)
        if verdict is None:
            verdict = _pick(choices.verdicts, params.get("verdict"))
        if topic is None:
            topic = _pick(choices.topics, params.get("topic"))
        period = params.get("period", "")
        if period not in PERIODS and not (
            re.fullmatch(r"[0-9]{4}", period) and int(period) in choices.years
        ):
            period = ""
        sort = params.get("sort", "")
        return cls(
            q=clean_query(params.get("q", "")),
            verdict=verdict,
            topic=topic,
            period=period,
            sort=sort if sort in SORTS else DEFAULT_SORT,
            fixed=fixed,
        )

    @property
    def ranked(self) -> bool:
        """Whether results come best match first (only a search has a best match)."""
        return bool(self.q) and self.sort == "relevance"

    @property
    def chosen(self) -> bool:
        """Whether the reader narrowed the list (the page's own filter aside)."""
        return bool(self.params())

    @property
    def narrowed(self) -> bool:
        """Whether the reader chose a verdict, topic or period (the query aside)."""
        return bool(set(self.params()) - {"q", "sort"})

    def params(self, **changes) -> dict[str, str]:
        """The canonical GET parameters: defaults and the address's own filters left out."""
        values = {
            "q": self.q,
            "verdict": self.verdict.slug if self.verdict and "verdict" not in self.fixed else "",
            "topic": self.topic.slug if self.topic and "topic" not in self.fixed else "",
            "period": self.period,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        }
        values.update(changes)
        return {name: str(value) for name, value in values.items() if value not in ("", None)}

    def query_string(self, *, page: int = 1) -> str:
        """`?q=…&verdict=…` for these filters and `page` ("" for the unfiltered first page)."""
        params = self.params(page=page if page > 1 else "")
        return f"?{urlencode(params)}" if params else ""


def clean_query(text: str) -> str:
    """The query as searched: control characters out, spaces collapsed, length capped."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text[:MAX_QUERY_LENGTH].strip()


def _pick(options, slug: str | None):
    return next((option for option in options if option.slug == slug), None) if slug else None


def filtered(filters: Filters, *, today: datetime.date | None = None):
    """Live versions matching the verdict, topic and period of `filters` (not the query)."""
    versions = PublishedVersion.objects.live()
    if filters.verdict:
        versions = versions.filter(verdict=filters.verdict)
    if filters.topic:
        versions = versions.filter(topics=filters.topic)
    if filters.period:
        today = today or timezone.localdate()
        if filters.period == "month":
            versions = versions.filter(checked_on__gte=_months_before(today, 1))
        elif filters.period == "year":
            versions = versions.filter(checked_on__gte=_months_before(today, 12))
        else:
            versions = versions.filter(checked_on__year=int(filters.period))
    return versions


def _months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier, or that month's last day (31 March → 28 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last_day))


# Results ------------------------------------------------------------------------------------


@dataclass
class Results:
    page: Page
    count: int
    # Nothing matched the words as typed; these are reports with similar words.
    approximate: bool = False
    # More reports match than are listed (MAX_RANKED, MAX_LISTED): this many are.
    capped_at: int | None = None


def find(filters: Filters, *, page_number=None, per_page: int | None = None) -> Results:
    """The page `page_number` of the live versions matching `filters`.

    A search's results each carry `snippet`, the text around the match, and `marked_claim`,
    with the matched words in <mark>, escaped. Queries: the count and the page, the topics of
    the page's reports; for a search the highlights too (and, on PostgreSQL when few reports
    match, a second count and the similarity threshold).
    """
    per_page = per_page or settings.FACTUALLY_REPORTS_PER_PAGE
    versions = (
        filtered(filters)
        .select_related("verdict")
        .defer("content", "body_html", "body_text")
        .prefetch_related(Prefetch("topics", queryset=Topic.objects.only("name", "slug")))
    )
    if not filters.q:
        return newest_first(versions, page_number=page_number, per_page=per_page)
    if connection.vendor == "postgresql":
        results = _postgres_search(versions, filters, per_page=per_page, page_number=page_number)
        _add_headlines(results.page, filters.q)
        return results
    terms = _terms(filters.q)
    if not terms:  # punctuation only
        versions = versions.none()
    condition = Q()
    for term, excluded in terms:
        anywhere = Q(claim__icontains=term) | Q(summary_text__icontains=term)
        anywhere |= Q(body_text__icontains=term)
        condition &= ~anywhere if excluded else anywhere
    paginator = Paginator(versions.filter(condition).order_by(*NEWEST), per_page)
    page = paginator.get_page(page_number)
    _add_plain_snippets(page, [term for term, excluded in terms if not excluded])
    return Results(page, paginator.count)


def newest_first(versions, *, page_number=None, per_page: int | None = None) -> Results:
    """The page `page_number` of `versions`, newest first (the home page, lists without a
    search). Only the newest MAX_LISTED are paged through: counting a whole archive on every
    page would cost more than the page; readers choose a topic, verdict or year for the rest.
    """
    per_page = per_page or settings.FACTUALLY_REPORTS_PER_PAGE
    ordered = versions.order_by(*NEWEST)
    count = ordered[: MAX_LISTED + 1].count()
    listed = min(count, MAX_LISTED)
    paginator = _CountedPaginator(ordered, per_page, count=listed)
    capped_at = MAX_LISTED if count > MAX_LISTED else None
    return Results(paginator.get_page(page_number), listed, capped_at=capped_at)


def _search_query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config="english")


def _postgres_search(versions, filters: Filters, *, per_page: int, page_number) -> Results:
    """The full-text matches, best first; if they are few, reports with similar words too."""
    query = _search_query(filters.q)
    versions = versions.alias(search_vector=StoredSearchVector())
    matches = Q(search_vector=query)
    rank = SearchRank(F("search_vector"), query, weights=RANK_WEIGHTS)
    newest = _newest_matches(versions, matches)
    capped_at = MAX_RANKED if len(newest) > MAX_RANKED else None
    newest = newest[:MAX_RANKED]
    if capped_at or len(newest) >= FEW or not _worth_fuzzy(filters.q):
        found = versions.filter(pk__in=newest)
        if filters.ranked:
            found = found.annotate(rank=rank).order_by("-rank", *NEWEST)
        else:
            found = found.order_by(*NEWEST)
        paginator = _CountedPaginator(found, per_page, count=len(newest))
        return Results(paginator.get_page(page_number), len(newest), capped_at=capped_at)
    exact_count = len(newest)
    # `%>`: word similarity at least pg_trgm.word_similarity_threshold, served by the claim's
    # trigram index. The summary has no such index: searching it so would read every row
    # (seconds, in a large archive), so its similarity only ranks what the claims found.
    # Not `matches | similar claim`: PostgreSQL would then test the search vector of every
    # similar claim (a TOAST fetch each); the few exact matches are already known.
    similar = Q(claim__trigram_word_similar=filters.q)
    with transaction.atomic():
        # The threshold, for this transaction only: the matches are read in it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                [str(WORD_SIMILARITY)],
            )
        # Only the newest MAX_SIMILAR are ranked. Sorted without the date index, which
        # would test claims one by one until enough are similar.
        close_ids = list(
            versions.filter(similar)
            .order_by(*NEWEST_WITHOUT_INDEX)
            .values_list("pk", flat=True)[:MAX_SIMILAR]
        )
    close_ids = list(dict.fromkeys([*newest, *close_ids]))
    close = versions.filter(pk__in=close_ids)
    if filters.ranked:
        close = close.annotate(
            exact=Case(When(matches, then=Value(1)), default=Value(0)),
            rank=rank,
            similarity=Greatest(
                TrigramWordSimilarity(filters.q, "claim"),
                TrigramWordSimilarity(filters.q, "summary_text") * SUMMARY_SIMILARITY_WEIGHT,
            ),
        ).order_by("-exact", "-rank", "-similarity", *NEWEST)
    else:
        close = close.order_by(*NEWEST)
    paginator = _CountedPaginator(close, per_page, count=len(close_ids))
    page = paginator.get_page(page_number)
    return Results(
        page,
        len(close_ids),
        approximate=exact_count == 0 and bool(close_ids),
    )


def _newest_matches(versions, matches: Q) -> list[int]:
    """The ids of the newest MAX_RANKED + 1 versions matching, newest first.

    PostgreSQL can walk the live_version_order index testing each version's search vector
    until enough match, or find every match through the GIN index and sort them. It costs
    the walk as if the vectors were free to read, but each is a TOAST fetch: for a word in
    one report in ten it walked 12,000 vectors to find 1,000 (120 ms at 100,000 reports)
    where finding all 8,000 matches takes 25 ms. So the walk is used only for words in a
    large share of the reports, where it stops early.
    """
    found = versions.filter(matches)
    matching, total = _estimated_rows(found, versions)
    order = NEWEST if matching >= WALK_SHARE * total else NEWEST_WITHOUT_INDEX
    return list(found.order_by(*order).values_list("pk", flat=True)[: MAX_RANKED + 1])


def _estimated_rows(*querysets) -> list[float]:
    """The planner's estimate of the rows each queryset finds: one EXPLAIN, no execution."""
    parts = [qs.values("pk").order_by().query.sql_with_params() for qs in querysets]
    sql = " UNION ALL ".join(f"({part_sql})" for part_sql, _ in parts)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", [p for _, params in parts for p in params])
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return [branch["Plan Rows"] for branch in plan[0]["Plan"]["Plans"]]


class _CountedPaginator(Paginator):
    """A paginator over results whose number is already known: no COUNT query."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


def _worth_fuzzy(text: str) -> bool:
    """Whether to look for similar words: not for a precise query (a "phrase", a -word left
    out), nor a short one ("the" is similar to every claim that contains it)."""
    if '"' in text or re.search(r"(^|\s)-\w", text):
        return False
    return any(len(word) >= MIN_FUZZY_WORD for word in re.findall(r"\w+", text))


def _terms(text: str) -> list[tuple[str, bool]]:
    """What SQLite looks for: each word or "quoted phrase", and whether -it is left out.

    A rough copy of PostgreSQL's websearch syntax ("or" is ignored): every term that is not
    left out must appear, in the claim, the summary or the body.
    """
    terms = []
    for match in _TERM.finditer(text):
        minus, phrase, word_minus, word = match.groups()
        if phrase is not None:
            found = [phrase.strip()] if phrase.strip() else []
            excluded = bool(minus)
        else:
            found = [w for w in re.findall(r"\w+", word) if w.casefold() != "or"]
            excluded = bool(word_minus)
        terms += [(term.casefold(), excluded) for term in found]
    return list(dict.fromkeys(terms))[:MAX_WORDS]


# Snippets -----------------------------------------------------------------------------------


def _add_headlines(page: Page, text: str) -> None:
    """Give each version of `page` its highlighted snippet: one query, for this page only."""
    versions = list(page.object_list)
    page.object_list = versions
    if not versions:
        return
    headline = SearchHeadline(
        Left(
            Concat("summary_text", Value("\n\n"), "body_text", output_field=TextField()),
            HEADLINE_CHARACTERS,
        ),
        _search_query(text),
        config="english",
        start_sel=START,
        stop_sel=STOP,
        max_words=30,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )
    claim = SearchHeadline(
        "claim",
        _search_query(text),
        config="english",
        start_sel=START,
        stop_sel=STOP,
        highlight_all=True,
    )
    headlines = {
        pk: (claim_headline, headline)
        for pk, claim_headline, headline in PublishedVersion.objects.filter(
            pk__in=[version.pk for version in versions]
        )
        .annotate(claim_headline=claim, headline=headline)
        .values_list("pk", "claim_headline", "headline")
    }
    for version in versions:
        claim_found, found = headlines.get(version.pk) or (version.claim, "")
        version.marked_claim = highlighted(claim_found or version.claim)
        # A report found by a similar word has nothing to highlight: its summary reads better.
        version.snippet = (
            highlighted(found)
            if START in found
            else highlighted(Truncator(version.summary_text).words(SNIPPET_WORDS))
        )


def _add_plain_snippets(page: Page, words: list[str]) -> None:
    """Without PostgreSQL: the summary, from a little before the first word found."""
    versions = list(page.object_list)
    page.object_list = versions
    # With only words left out, nothing to mark: (?!) never matches.
    alternatives = "|".join(re.escape(word) for word in words) or "(?!)"
    pattern = re.compile(alternatives, re.IGNORECASE)
    for version in versions:
        text = _CONTROL.sub(" ", version.summary_text)
        tokens = text.split()
        first = next((i for i, token in enumerate(tokens) if pattern.search(token)), 0)
        start = max(0, first - 8)
        shown = " ".join(tokens[start : start + SNIPPET_WORDS])
        shown = pattern.sub(_mark, shown)
        version.marked_claim = highlighted(pattern.sub(_mark, _CONTROL.sub(" ", version.claim)))
        prefix = "… " if start else ""
        suffix = " …" if start + SNIPPET_WORDS < len(tokens) else ""
        version.snippet = highlighted(f"{prefix}{shown}{suffix}")


def _mark(match: re.Match) -> str:
    return f"{START}{match.group(0)}{STOP}"


def highlighted(text: str) -> SafeString:
    """`text`, escaped, with the spans between START and STOP in <mark>; stray marks dropped."""
    html = _MARKED.sub(r"<mark>\1</mark>", escape(text))
    return mark_safe(html.replace(START, "").replace(STOP, ""))  # escaped above


# The page -----------------------------------------------------------------------------------


def listing(
    request,
    *,
    path: str,
    topic: Topic | None = None,
    verdict: Verdict | None = None,
) -> dict:
    """Everything reports/list.html shows at `path`: form, filters, results, their links.

    `topic` and `verdict` are the page's own filter (a topic or verdict page), fixed by its
    address; the reader chooses the others.
    """
    choices = pagecache.kept_until_published(
        f"choices:{verdict is None}:{topic is None}",
        lambda: Choices.load(verdicts=verdict is None, topics=topic is None),
    )
    filters = Filters.parse(request.GET, choices, verdict=verdict, topic=topic)
    results = find(filters, page_number=request.GET.get("page"))
    page = results.page
    canonical = path + filters.query_string(page=page.number)
    return {
        "choices": choices,
        "periods": PERIODS,
        "sorts": SORTS,
        "filters": filters,
        "results": results,
        "page": page,
        "form_action": path,
        "canonical_path": canonical,
        "canonical_url": request.build_absolute_uri(canonical),
        "previous_url": path + filters.query_string(page=page.previous_page_number())
        if page.has_previous()
        else None,
        "next_url": path + filters.query_string(page=page.next_page_number())
        if page.has_next()
        else None,
    }
