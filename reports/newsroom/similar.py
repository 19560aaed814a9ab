"""Similar claims for reviewers: live reports that checked a claim like this one.

Advisory only, and never shown to readers. With PostgreSQL, pg_trgm finds them; elsewhere
the most recent live claims are compared in Python, the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Max, Min

from reports.models import PublishedVersion, Report, Verdict

# pg_trgm's own default for its % operator.
SIMILARITY_THRESHOLD = 0.3
SIMILAR_LIMIT = 5
# Without pg_trgm, only the most recent live claims are compared, in Python.
FALLBACK_CANDIDATES = 500
# Without ratings, these verdicts are on the true and the false side of the scale.
TRUE_SIDE = frozenset({"true", "mostly-true"})
FALSE_SIDE = frozenset({"false", "mostly-false"})


@dataclass(frozen=True)
class SimilarClaim:
    version: PublishedVersion
    similarity: float
    opposite: bool  # its verdict is on the other side of the scale from the report's


def similar_claims(
    claim: str,
    *,
    verdict: Verdict | None = None,
    exclude_report_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[SimilarClaim]:
    """Live published reports with claims like `claim`, most similar first (two queries)."""
    claim = claim.strip()[: Report._meta.get_field("claim").max_length]
    if not claim:
        return []
    versions = (
        PublishedVersion.objects.live()
        .exclude(report_id=exclude_report_id)
        .select_related("verdict")
        .only("report", "slug", "claim", "published_at", "verdict")
    )
    if connection.vendor == "postgresql":
        found = [
            (version.similarity, version)
            for version in versions.annotate(similarity=TrigramSimilarity("claim", claim))
            .filter(similarity__gte=SIMILARITY_THRESHOLD)
            .order_by("-similarity", "-published_at")[:limit]
        ]
    else:
        recent = versions.order_by("-published_at")[:FALLBACK_CANDIDATES]
        scored = [(trigram_similarity(claim, version.claim), version) for version in recent]
        found = sorted(
            (pair for pair in scored if pair[0] >= SIMILARITY_THRESHOLD),
            key=lambda pair: -pair[0],
        )[:limit]
    scale = rating_scale() if found and verdict and verdict.rating is not None else None
    return [
        SimilarClaim(version, score, are_opposite(verdict, version.verdict, scale=scale))
        for score, version in found
    ]


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity()`, for databases without it: shared trigrams of the words."""
    x, y = _trigrams(a), _trigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def _trigrams(text: str) -> set[str]:
    grams = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "  # as pg_trgm pads each word
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True)
class RatingScale:
    """The curated scale's middle, and the band around it that counts as neither side."""

    midpoint: float
    neutral: float  # ratings closer than this to the midpoint are on no side

    def side(self, rating: int) -> int:
        if abs(rating - self.midpoint) < self.neutral:
            return 0
        return 1 if rating > self.midpoint else -1


# A quarter of the scale's span either side of the middle is neutral: "Mixed" against
# "Misleading" is a difference of degree, "Mostly true" against "Mostly false" is not.
NEUTRAL_SHARE = 0.25


def rating_scale() -> RatingScale | None:
    """The rating scale as curated: its middle and neutral band, or None without ratings."""
    bounds = Verdict.objects.filter(rating__isnull=False).aggregate(
        low=Min("rating"), high=Max("rating")
    )
    if bounds["low"] is None:
        return None
    span = bounds["high"] - bounds["low"]
    return RatingScale((bounds["low"] + bounds["high"]) / 2, span * NEUTRAL_SHARE)


def are_opposite(a: Verdict | None, b: Verdict | None, *, scale: RatingScale | None) -> bool:
    """Whether two verdicts sit on opposite sides of the scale (by rating, else by slug)."""
    if a is None or b is None:
        return False
    if a.rating is not None and b.rating is not None and scale is not None:
        return scale.side(a.rating) * scale.side(b.rating) < 0
    sides = {_side(a), _side(b)}
    return sides == {"true", "false"}


def _side(verdict: Verdict) -> str:
    if verdict.slug in TRUE_SIDE:
        return "true"
    if verdict.slug in FALSE_SIDE:
        return "false"
    return ""
