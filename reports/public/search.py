"""Finding published fact-checks: the filters readers choose, and full-text search.

Filters come from GET parameters and are checked against allow-lists: an unknown value is
ignored, never an error, and nothing a reader sends names a field or an ordering.

On PostgreSQL, a search reads the search table only (reports.public.fulltext: ranked,
typos corrected against the archive's words, snippets highlighted for the page shown).
Other databases (SQLite, the embedded default) match every word of the query anywhere in
the text of the live versions, newest first.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection, connections, router
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from factually import pagecache, prepared
from reports.models import PublishedVersion, Topic, Verdict
from reports.public import fulltext, snippets

# Longer queries are cut: nobody types more, and every word costs the database.
MAX_QUERY_LENGTH = 200
# Terms of a query SQLite matches (each one is a LIKE over three columns).
MAX_WORDS = 8
# Lists without a search page through the newest this many (see newest_first).
MAX_LISTED = 1000
NEWEST = ("-checked_on", "-published_at")

PERIODS = {"month": "Past month", "year": "Past year"}
SORTS = {"relevance": "Best match", "newest": "Newest first"}
DEFAULT_SORT = "relevance"

# A "quoted phrase" (its closing quote optional) or a word, either after an optional minus.
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


# Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What readers can pick from: the allow-lists filters are checked against."""

    verdicts: list[Verdict]
    topics: list[Topic]
    years: list[int]

    @classmethod
    def load(cls, *, verdicts: bool = True, topics: bool = True) -> Choices:
        """The rating scale, the topics and years with live reports: one query on
        PostgreSQL (every list and search page needs them when they are not cached)."""
        if connection.vendor != "postgresql":
            return cls(
                verdicts=list(Verdict.objects.only("name", "slug")) if verdicts else [],
                topics=list(Topic.objects.live().only("name", "slug")) if topics else [],
                years=[
                    d.year
                    for d in PublishedVersion.objects.live().dates("checked_on", "year", "DESC")
                ],
            )
        # Prepared once per connection: planning it cost more than running it.
        ((verdict_rows, topic_rows, years),) = prepared.rows(
            connections[router.db_for_read(PublishedVersion)],
            _CHOICES_SQL,
            {"verdicts": verdicts, "topics": topics},
        )
        fields = ["id", "name", "slug"]
        return cls(
            # As .only("name", "slug") reads them: another field is read when first used.
            verdicts=[Verdict.from_db(None, fields, row) for row in verdict_rows or []],
            topics=[Topic.from_db(None, fields, row) for row in topic_rows or []],
            years=years,
        )


# The years: DISTINCT over the dates reads every live version; the recursive query reads
# the live_version_order index once per year instead (a "skip scan", which PostgreSQL does
# not do by itself). The topics: as Topic.objects.live(), a subquery with LIMIT 1 (an
# EXISTS reads every version of each topic), written here to save compiling it.
_CHOICES_SQL = """
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
    SELECT
        CASE WHEN %(verdicts)s THEN (
            SELECT json_agg(json_build_array(id, name, slug) ORDER BY "order", name)
            FROM reports_verdict
        ) END,
        CASE WHEN %(topics)s THEN (
            SELECT json_agg(json_build_array(t.id, t.name, t.slug) ORDER BY t.name)
            FROM reports_topic t
            WHERE (SELECT pt.topic_id FROM reports_publishedversion_topics pt
                   JOIN reports_publishedversion v ON v.id = pt.publishedversion_id
                   WHERE v.is_live AND pt.topic_id = t.id LIMIT 1) IS NOT NULL
        ) END,
        ARRAY(SELECT extract(year FROM day)::int FROM year_of WHERE day IS NOT NULL)
"""


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
    text = " ".join(snippets.CONTROL.sub(" ", text).split())
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
    since, until = _dates(filters.period, today)
    if since:
        versions = versions.filter(checked_on__gte=since)
    if until:
        versions = versions.filter(checked_on__lte=until)
    return versions


def _dates(
    period: str, today: datetime.date | None = None
) -> tuple[datetime.date | None, datetime.date | None]:
    """The first and last checked-on dates of `period` ("", a key of PERIODS or a year);
    None where it is open."""
    if not period:
        return None, None
    today = today or timezone.localdate()
    if period == "month":
        return _months_before(today, 1), None
    if period == "year":
        return _months_before(today, 12), None
    year = int(period)
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


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
    # More reports match than are listed (fulltext.MAX_RANKED, MAX_LISTED): this many are.
    capped_at: int | None = None


def find(filters: Filters, *, page_number=None, per_page: int | None = None) -> Results:
    """The page `page_number` of the live versions matching `filters`.

    A search's results each carry `snippet`, the text around the match, and `marked_claim`,
    with the matched words in <mark>, escaped. Queries: the count and the page; on
    PostgreSQL a search is one (fulltext.search_page), its hits the page's rows.
    """
    per_page = per_page or settings.FACTUALLY_REPORTS_PER_PAGE
    if filters.q and connection.vendor == "postgresql":
        return _postgres_search(filters, per_page=per_page, page_number=page_number)
    versions = (
        filtered(filters).select_related("verdict").defer("content", "body_html", "body_text")
    )
    if not filters.q:
        return newest_first(versions, page_number=page_number, per_page=per_page)
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
    page.object_list = list(page.object_list)
    found = snippets.pattern((term for term, excluded in terms if not excluded), whole_words=False)
    _mark_found(page.object_list, found, text="summary_text")
    return Results(page, paginator.count)


def newest_first(versions, *, page_number=None, per_page: int | None = None) -> Results:
    """The page `page_number` of `versions`, newest first (the home page, lists without a
    search). Only the newest MAX_LISTED are paged through: counting a whole archive on every
    page would cost more than the page; readers choose a topic, verdict or year for the rest.
    """
    per_page = per_page or settings.FACTUALLY_REPORTS_PER_PAGE
    ordered = versions.order_by(*NEWEST)
    # Only the ids: annotations a caller added would be computed for each row counted. In
    # no order: a count capped at MAX_LISTED + 1 is the same whichever rows it reaches, and
    # in date order a topic's count walked every live version until it had enough (150 ms
    # for a topic on one report in six at 100,000 reports; 7 ms by the topic's own rows).
    count = versions.order_by().values("pk")[: MAX_LISTED + 1].count()
    listed = min(count, MAX_LISTED)
    paginator = _CountedPaginator(ordered, per_page, count=listed)
    capped_at = MAX_LISTED if count > MAX_LISTED else None
    return Results(paginator.get_page(page_number), listed, capped_at=capped_at)


def _postgres_search(filters: Filters, *, per_page: int, page_number) -> Results:
    """The page of a search over the search table: one statement (fulltext.search_page)."""
    since, until = _dates(filters.period)
    found = fulltext.search_page(
        filters.q,
        ranked=filters.ranked,
        page_number=_page_number(page_number),
        per_page=per_page,
        verdict_id=filters.verdict.pk if filters.verdict else None,
        topic_id=filters.topic.pk if filters.topic else None,
        since=since,
        until=until,
    )
    paginator = _CountedPaginator([], per_page, count=found.count)
    page = Page(found.hits, found.number, paginator)
    # Every hit's forms are forms of the query's lexemes: marked wherever they are written.
    words = snippets.pattern((form for hit in found.hits for form in hit.forms), whole_words=True)
    _mark_found(found.hits, words, text="excerpt")
    capped_at = fulltext.MAX_RANKED if found.capped else None
    return Results(page, found.count, approximate=found.approximate, capped_at=capped_at)


# Page numbers past this are out of range whatever the search (it lists MAX_RANKED at most).
_LAST_PAGE_ASKED = 1_000_000


def _page_number(number) -> int:
    """The page asked for as `Paginator.get_page` reads it: 1 if it is not a whole number,
    0 (meaning the last page) if it is below 1; bounded, as the database takes it."""
    try:
        asked = int(number)
    except (TypeError, ValueError):
        return 1
    return asked if 1 <= asked <= _LAST_PAGE_ASKED else 0


class _CountedPaginator(Paginator):
    """A paginator over results whose number is already known: no COUNT query."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


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


def _mark_found(versions: list, found, *, text: str) -> None:
    """Give each version or search hit its `marked_claim` and `snippet`, the words `found`
    marked (reports.public.snippets), the snippet cut from its attribute `text`."""
    for version in versions:
        version.marked_claim = snippets.marked(version.claim, found)
        version.snippet = snippets.snippet(getattr(version, text), found)


# The page -----------------------------------------------------------------------------------

# Stands in for a slug while reversing; the addresses' fixed parts never contain it.
_SLUG = "_slug_"


def _add_links(versions: list[PublishedVersion | fulltext.Hit]) -> None:
    """Give each version or search hit its `url` and `topic_urls` ((name, url) pairs, by
    name): a page of twenty cards reversed some sixty addresses, a third of its rendering;
    this reverses two.

    One query for the topics of a page of versions (a live version's topics are all live):
    cheaper to build than `with_topic_links`, whose JSON the ORM compiles anew for every
    page. Search hits come with theirs.
    """
    if not versions:
        return
    unread = [version for version in versions if isinstance(version, PublishedVersion)]
    if unread:
        tagged = PublishedVersion.topics.through.objects.filter(
            publishedversion_id__in=[version.pk for version in unread]
        ).values_list("publishedversion_id", "topic__name", "topic__slug")
        topics: dict[int, list[dict]] = {}
        for pk, name, slug in tagged:
            topics.setdefault(pk, []).append({"name": name, "slug": slug})
        for version in unread:
            version.topics_json = topics.get(version.pk, [])
    report_url = reverse("reports:detail", kwargs={"slug": _SLUG})
    topic_url = reverse("reports:topic", kwargs={"slug": _SLUG})
    for version in versions:
        version.url = report_url.replace(_SLUG, version.slug)
        version.topic_urls = [
            (topic["name"], topic_url.replace(_SLUG, topic["slug"]))
            for topic in version.topic_links
        ]


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
    page.object_list = list(page.object_list)
    _add_links(page.object_list)
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
