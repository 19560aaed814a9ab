"""ClaimReview structured data (schema.org) for search engines and fact-check aggregators.

A published version freezes the claim, who made it (and whether that is a person or an
organisation, as the editor said), when and where, the verdict and dates.
`with_review_fields` annotates a queryset of versions with the date of first publication
and the ends of the rating scale, so building reviews costs no extra query.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from reports.models import ClaimantType, PublishedVersion, Verdict

# Google shows claims of up to about this many characters best; longer ones get a warning.
CLAIM_REVIEWED_ADVISED_LENGTH = 75

# Inside <script>, "</script>" or "<!--" would end or confuse the block: JSON allows these
# characters escaped, and parsers read them back as they were.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}

# The schema.org type of each kind of claimant the editor can choose. Google reads a Claim's
# author as an Organization or a Person; for a claimant the editor did not type, the neutral
# `Thing` names them without asserting what they are (a guess put newspapers and films
# down as people).
CLAIMANT_TYPES = {
    ClaimantType.PERSON: "Person",
    ClaimantType.ORGANISATION: "Organization",
    ClaimantType.UNKNOWN: "Thing",
}


def with_review_fields(versions: QuerySet[PublishedVersion]) -> QuerySet[PublishedVersion]:
    """`versions` annotated with what `claim_review` needs beyond the frozen version."""
    first = PublishedVersion.objects.filter(report=OuterRef("report")).order_by("number")
    return with_rating_bounds(versions).annotate(
        first_published_at=Subquery(first.values("published_at")[:1])
    )


def with_rating_bounds(versions: QuerySet[PublishedVersion]) -> QuerySet[PublishedVersion]:
    """`versions` annotated with the best and worst ratings of the scale (`best_rating`,
    `worst_rating`); the caller sets `first_published_at` itself."""
    rated = Verdict.objects.filter(rating__isnull=False)
    return versions.annotate(
        best_rating=Subquery(rated.order_by("-rating").values("rating")[:1]),
        worst_rating=Subquery(rated.order_by("rating").values("rating")[:1]),
    )


def organisation(request) -> dict:
    """The site as the schema.org Organization that writes and publishes the reviews."""
    return {
        "@type": "Organization",
        "name": settings.FACTUALLY_SITE_NAME,
        "url": request.build_absolute_uri(reverse("reports:home")),
    }


def claim_review(version: PublishedVersion, *, request) -> dict:
    """The ClaimReview of a live `version` (annotated by `with_review_fields`)."""
    return addressed(review(version), url=version.get_absolute_url(), request=request)


def review(version: PublishedVersion) -> dict:
    """What the ClaimReview of `version` says that does not depend on the address it is read
    at: stored with the version's article (reports.rendering), completed by `addressed`."""
    return {
        "claimReviewed": version.claim,
        "itemReviewed": claim(version),
        "reviewRating": rating(version),
        "datePublished": _iso(version.first_published_at or version.published_at),
        "dateModified": _iso(version.published_at),
    }


def addressed(review: dict, *, url: str, request) -> dict:
    """The ClaimReview made of `review` for the page at `url`, as asked through `request`."""
    site = organisation(request)
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": request.build_absolute_uri(url),
        "claimReviewed": review["claimReviewed"],
        "itemReviewed": review["itemReviewed"],
        "reviewRating": review["reviewRating"],
        "author": site,
        "publisher": site,
        "datePublished": review["datePublished"],
        "dateModified": review["dateModified"],
    }


def claim(version: PublishedVersion) -> dict:
    """The reviewed Claim: who made it, when and where, as far as the report says."""
    item = {"@type": "Claim"}
    if version.claimant.strip():
        item["author"] = {
            "@type": CLAIMANT_TYPES.get(version.claimant_type, "Thing"),
            "name": version.claimant,
        }
    if version.claim_date:
        item["datePublished"] = version.claim_date.isoformat()
    if version.claim_url:
        item["appearance"] = {"@type": "CreativeWork", "url": version.claim_url}
    return item


def rating(version: PublishedVersion) -> dict:
    """The verdict as a Rating: always its name, and its place on the scale if it has one."""
    verdict = version.verdict
    result = {"@type": "Rating", "alternateName": verdict.name}
    best, worst = version.best_rating, version.worst_rating
    # Google requires 1 <= worstRating < bestRating, with the value between them; the
    # Verdict model keeps ratings at 1 or more, and a scale of one rating is no scale.
    if verdict.rating is not None and best is not None and worst is not None and 1 <= worst < best:
        result.update(ratingValue=verdict.rating, bestRating=best, worstRating=worst)
    return result


def json_ld(data: dict | list) -> SafeString:
    """`data` as a <script type="application/ld+json"> block that no value can break out of.

    A data block is never executed, so the CSP's script-src does not apply to it.
    """
    text = json.dumps(data, ensure_ascii=False, indent=None).translate(_SCRIPT_ESCAPES)
    # With <, > and & escaped, no value can close the element or open a comment in it.
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def advisories(claim_text: str) -> list[str]:
    """Non-blocking advice about how the report will look in search results."""
    length = len(claim_text.strip())
    if length > CLAIM_REVIEWED_ADVISED_LENGTH:
        return [
            f"The claim is {length} characters long. Search engines show claims of up to "
            f"{CLAIM_REVIEWED_ADVISED_LENGTH} characters best: consider a shorter wording. "
            "This does not stop publishing."
        ]
    return []


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat()
