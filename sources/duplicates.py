"""Likely duplicates in the source library, found for curators to review and merge."""

from __future__ import annotations

import difflib
import itertools
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Case, CharField, Count, F, FilteredRelation, Q, When
from django.db.models.functions import Left, Length, Substr

from sources.models import Source
from sources.normalisation import IDENTIFIER_PARSERS, match_keys

SAME_URL = "The same URL apart from http/https or a trailing slash"
SAME_DOI = "The same DOI"
# Identifier field → the reason a pair sharing it is shown.
SAME_IDENTIFIER = {
    "doi": SAME_DOI,
    "isbn": "The same ISBN",
    "pmid": "The same PubMed ID",
    "arxiv_id": "The same arXiv ID",
    "handle": "The same handle",
}
SIMILAR_TITLE = "Near-identical titles from the same publisher"

# pg_trgm similarity of two titles from one publisher at or above which they are paired.
TITLE_SIMILARITY = 0.6
# difflib's ratio runs higher than trigram similarity for the same pair of titles; this
# pairs roughly what 0.6 pairs on PostgreSQL (checked on sample titles).
DIFFLIB_SIMILARITY = 0.88
# The Python fallback compares every pair, so it looks at each publisher's newest sources only.
MAX_TITLES_PER_PUBLISHER = 200
MAX_PAIRS = 500


@dataclass
class Pair:
    """Two sources that are probably one; `kept` is the one suggested to keep."""

    kept: Source
    duplicate: Source
    reasons: list[str]
    similarity: float | None = None


def likely_duplicates(*, limit: int = MAX_PAIRS) -> list[Pair]:
    """Pairs of sources with the same URL variant or identifier (DOI, ISBN, PMID, arXiv ID,
    handle), or near-identical titles from the same publisher; at most `limit`, strongest
    first. A fixed number of queries."""
    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)
    similarity: dict[tuple[int, int], float] = {}
    for ids in _same_url():
        for pair in itertools.combinations(ids, 2):
            reasons[pair].append(SAME_URL)
    shared = _same_identifiers()
    for field, reason in SAME_IDENTIFIER.items():
        for ids in shared[field]:
            for pair in itertools.combinations(ids, 2):
                reasons[pair].append(reason)
    for first, second, score in _similar_titles(limit):
        pair = (min(first, second), max(first, second))
        reasons[pair].append(SIMILAR_TITLE)
        similarity[pair] = score
    # Exact matches first, then the most similar titles.
    ordered = sorted(
        reasons,
        key=lambda pair: (reasons[pair] == [SIMILAR_TITLE], -similarity.get(pair, 1.0), pair),
    )[:limit]
    sources = (
        Source.objects.select_related("publisher")
        .annotate(reference_count=Count("references"))
        .in_bulk({pk for pair in ordered for pk in pair})
    )
    pairs = []
    for first, second in ordered:
        kept, duplicate = suggest_kept(sources[first], sources[second])
        pairs.append(Pair(kept, duplicate, reasons[first, second], similarity.get((first, second))))
    return pairs


def suggest_kept(first: Source, second: Source) -> tuple[Source, Source]:
    """(kept, duplicate): keep the more cited source, else the older record."""
    if (getattr(second, "reference_count", 0), -second.pk) > (
        getattr(first, "reference_count", 0),
        -first.pk,
    ):
        return second, first
    return first, second


def _same_url() -> list[list[int]]:
    """IDs of sources whose URLs differ only in http/https or a trailing slash, by group."""
    keyed = (
        Source.objects.exclude(url="")
        .annotate(
            url_rest=Case(
                When(url__startswith="https://", then=Substr("url", len("https://") + 1)),
                When(url__startswith="http://", then=Substr("url", len("http://") + 1)),
                default=F("url"),
                output_field=CharField(),
            )
        )
        .annotate(
            url_key=Case(
                When(url_rest__endswith="/", then=Left("url_rest", Length("url_rest") - 1)),
                default=F("url_rest"),
                output_field=CharField(),
            )
        )
    )
    shared = keyed.values("url_key").annotate(n=Count("pk")).filter(n__gt=1).values("url_key")
    rows = keyed.filter(url_key__in=shared).order_by("url_key", "pk").values_list("url_key", "pk")
    return [[pk for _, pk in group] for _, group in itertools.groupby(rows, key=itemgetter(0))]


def _same_identifiers() -> dict[str, list[list[int]]]:
    """Identifier field → IDs of sources sharing a value of it, by group; one query.

    Saving normalises identifiers and constraints keep them unique, so only rows written past
    `save()` (bulk imports, raw updates) can share one: compare them as normalised.
    """
    fields = list(IDENTIFIER_PARSERS)
    groups = defaultdict(list)
    rows = (
        Source.objects.exclude(**dict.fromkeys(fields, ""))
        .order_by("pk")
        .values_list("pk", *fields)
    )
    for pk, *values in rows:
        for key in match_keys(**dict(zip(fields, values, strict=True))).items():
            groups[key].append(pk)
    found = defaultdict(list)
    for (field, _), ids in groups.items():
        if len(ids) > 1:
            found[field].append(ids)
    return found


def _similar_titles(limit: int) -> list[tuple[int, int, float]]:
    if connection.vendor == "postgresql":
        return _similar_titles_trigram(limit)
    return _similar_titles_difflib(limit)


def _similar_titles_trigram(limit: int) -> list[tuple[int, int, float]]:
    """(id, id, similarity) of same-publisher titles, by trigram similarity, in one query."""
    return list(
        Source.objects.filter(publisher__isnull=False)
        # A self-join through the publisher: each pair once, never across publishers.
        .alias(
            twin=FilteredRelation(
                "publisher__sources", condition=Q(publisher__sources__pk__gt=F("pk"))
            )
        )
        .annotate(similarity=TrigramSimilarity("title", F("twin__title")))
        .filter(similarity__gte=TITLE_SIMILARITY)
        .order_by("-similarity", "pk", "twin__pk")
        .values_list("pk", "twin__pk", "similarity")[:limit]
    )


def _similar_titles_difflib(limit: int) -> list[tuple[int, int, float]]:
    """The same as `_similar_titles_trigram`, compared in Python (SQLite has no pg_trgm)."""
    rows = (
        Source.objects.filter(publisher__isnull=False)
        .order_by("publisher_id", "-pk")
        .values_list("publisher_id", "pk", "title")
    )
    found = []
    for _, group in itertools.groupby(rows, key=itemgetter(0)):
        titles = [(pk, title.casefold()) for _, pk, title in group][:MAX_TITLES_PER_PUBLISHER]
        for (first, a), (second, b) in itertools.combinations(titles, 2):
            matcher = difflib.SequenceMatcher(None, a, b)
            # The quick upper bounds skip most pairs before the full comparison.
            if (
                matcher.real_quick_ratio() >= DIFFLIB_SIMILARITY
                and matcher.quick_ratio() >= DIFFLIB_SIMILARITY
                and (ratio := matcher.ratio()) >= DIFFLIB_SIMILARITY
            ):
                found.append((min(first, second), max(first, second), ratio))
    found.sort(key=lambda row: (-row[2], row[0], row[1]))
    return found[:limit]
