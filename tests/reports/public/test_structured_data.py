"""ClaimReview JSON-LD, Open Graph and Twitter cards, canonical links, the claim-length advice."""

from __future__ import annotations

import datetime
import re

import extruct
import pytest
from django.urls import reverse

from reports import workflow
from reports.models import ClaimantType, Verdict
from reports.public import structured_data
from tests.conftest import make_report, make_topic, publish_now

pytestmark = pytest.mark.django_db


def published(**fields):
    report = make_report(**fields)
    publish_now(report)
    return report


def republished(report, **changes):
    for name, value in changes.items():
        setattr(report, name, value)
    report.save()
    publish_now(report, note="Corrected the claimant.", kind="correction")
    return report


def json_ld(response) -> list[dict]:
    """Every JSON-LD object on the page, parsed as a search engine would."""
    data = extruct.extract(
        response.content.decode(), base_url="http://testserver/", syntaxes=["json-ld"]
    )
    return data["json-ld"]


def claim_review(response) -> dict:
    reviews = [item for item in json_ld(response) if item.get("@type") == "ClaimReview"]
    assert len(reviews) == 1
    return reviews[0]


def meta(content: str, key: str) -> list[str]:
    """The content of each <meta property|name="key"> of the page."""
    pattern = rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">'
    return re.findall(pattern, content)


# ClaimReview


def test_report_page_carries_a_claim_review_field_by_field(client):
    report = published(
        claim="The Eiffel Tower grows in summer.",
        slug="eiffel-grows",
        verdict=Verdict.objects.get(slug="mostly-true"),
        claimant="Jane Doe",
        claimant_type=ClaimantType.PERSON,
        claim_date=datetime.date(2025, 7, 14),
        claim_url="https://social.example/posts/123?lang=en&ref=share",
    )
    first = report.versions.get(number=1)
    republished(report, summary="The summary, corrected [1] [2].")
    live = report.versions.get(is_live=True)

    review = claim_review(client.get("/reports/eiffel-grows/"))

    site = {"@type": "Organization", "name": "Factually", "url": "http://testserver/"}
    assert review["@context"] == "https://schema.org"
    assert review["url"] == "http://testserver/reports/eiffel-grows/"
    assert review["claimReviewed"] == "The Eiffel Tower grows in summer."
    assert review["itemReviewed"] == {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "Jane Doe"},
        "datePublished": "2025-07-14",
        "appearance": {
            "@type": "CreativeWork",
            "url": "https://social.example/posts/123?lang=en&ref=share",
        },
    }
    assert review["reviewRating"] == {
        "@type": "Rating",
        "alternateName": "Mostly true",
        "ratingValue": 5,
        "bestRating": 6,
        "worstRating": 1,
    }
    assert review["author"] == site
    assert review["publisher"] == site
    assert datetime.datetime.fromisoformat(review["datePublished"]) == first.published_at
    assert datetime.datetime.fromisoformat(review["dateModified"]) == live.published_at
    assert live.published_at > first.published_at


def test_a_verdict_without_a_rating_gives_its_name_only(client):
    report = published(verdict=Verdict.objects.get(slug="unproven"))

    rating = claim_review(client.get(f"/reports/{report.slug}/"))["reviewRating"]

    assert rating == {"@type": "Rating", "alternateName": "Unproven"}


def test_best_and_worst_ratings_follow_the_curated_scale(client):
    Verdict.objects.filter(slug="true").update(rating=10)
    Verdict.objects.filter(slug="false").update(rating=None)
    report = published(verdict=Verdict.objects.get(slug="mostly-false"))

    rating = claim_review(client.get(f"/reports/{report.slug}/"))["reviewRating"]

    assert (rating["ratingValue"], rating["bestRating"], rating["worstRating"]) == (2, 10, 2)


def test_a_scale_with_a_single_rating_gives_no_numbers(client):
    # Google requires worstRating < bestRating.
    Verdict.objects.exclude(slug="false").update(rating=None)
    report = published(verdict=Verdict.objects.get(slug="false"))

    rating = claim_review(client.get(f"/reports/{report.slug}/"))["reviewRating"]

    assert rating == {"@type": "Rating", "alternateName": "False"}


def test_the_claim_is_left_bare_when_the_report_does_not_say_who_made_it(client):
    report = published(claimant="", claim_url="", claim_date=None)

    review = claim_review(client.get(f"/reports/{report.slug}/"))

    assert review["itemReviewed"] == {"@type": "Claim"}


def test_the_site_name_comes_from_the_settings(client, settings):
    settings.FACTUALLY_SITE_NAME = "Check Desk"
    report = published()

    review = claim_review(client.get(f"/reports/{report.slug}/"))

    assert review["author"]["name"] == review["publisher"]["name"] == "Check Desk"


@pytest.mark.parametrize(
    ("name", "claimant_type", "schema_type"),
    [
        ("Jane Doe", ClaimantType.PERSON, "Person"),
        ("World Health Organization", ClaimantType.ORGANISATION, "Organization"),
        # Names a guess from words got wrong: the editor's choice is what counts.
        ("Daily Express", ClaimantType.ORGANISATION, "Organization"),
        ("Lucy (2014 film)", ClaimantType.UNKNOWN, "Thing"),
        ("Young Press Officer", ClaimantType.PERSON, "Person"),
    ],
)
def test_the_claimant_is_typed_as_the_editor_chose(client, name, claimant_type, schema_type):
    report = published(claimant=name, claimant_type=claimant_type)

    review = claim_review(client.get(f"/reports/{report.slug}/"))

    assert review["itemReviewed"]["author"] == {"@type": schema_type, "name": name}


def test_a_claimant_of_an_existing_report_is_not_guessed(client):
    # Reports from before the choice existed migrate to "other or not known".
    report = published(claimant="NASA")

    review = claim_review(client.get(f"/reports/{report.slug}/"))

    assert report.claimant_type == ClaimantType.UNKNOWN
    assert review["itemReviewed"]["author"] == {"@type": "Thing", "name": "NASA"}


def test_the_claimant_type_readers_see_is_the_published_one(client):
    report = published(claimant="Daily Express", claimant_type=ClaimantType.ORGANISATION)
    report.claimant_type = ClaimantType.PERSON
    report.save()  # an edit nobody has approved yet

    review = claim_review(client.get(f"/reports/{report.slug}/"))

    assert review["itemReviewed"]["author"]["@type"] == "Organization"
    republished(report)
    review = claim_review(client.get(f"/reports/{report.slug}/"))
    assert review["itemReviewed"]["author"]["@type"] == "Person"


def test_a_claim_cannot_break_out_of_the_json_ld_block(client):
    claim = 'It says </script><script>alert("x")</script> <!-- & more'
    report = published(claim=claim, claimant="</SCRIPT><img src=x onerror=alert(1)>")

    response = client.get(f"/reports/{report.slug}/")

    content = response.content.decode()
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', content, re.S)
    assert "<" not in block.group(1)
    assert ">" not in block.group(1)
    # The JSON-LD block and the citation tooltips' script (static/js/citations.js) are the
    # page's only script elements: nothing broke out of it.
    assert content.lower().count("<script") == 2
    assert '<script src="/static/js/citations.js" defer></script>' in content
    assert "<img" not in content.lower()
    review = claim_review(response)
    assert review["claimReviewed"] == claim
    assert review["itemReviewed"]["author"]["name"] == "</SCRIPT><img src=x onerror=alert(1)>"


def test_json_ld_escapes_markup_characters():
    html = structured_data.json_ld({"claim": "</script><!-- & 'quoted' \u2028 café"})

    assert html.startswith('<script type="application/ld+json">')
    inner = html.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in inner
    assert ">" not in inner
    assert "&" not in inner
    assert "café" in inner


def test_only_the_live_version_carries_a_claim_review(client):
    report = published()
    republished(report, claim="A corrected claim.")

    old = client.get(f"/reports/{report.slug}/versions/1/").content.decode()

    assert "application/ld+json" not in old
    # Shared, an earlier version points link previews at the live page.
    assert meta(old, "og:url") == [f"http://testserver/reports/{report.slug}/"]
    assert '<meta name="robots" content="noindex">' in old
    assert f'<link rel="canonical" href="http://testserver/reports/{report.slug}/">' in old


def test_the_staff_preview_carries_no_claim_review_nor_canonical(editor_client):
    report = make_report()

    content = editor_client.get(
        reverse("admin:reports_report_preview", args=[report.pk])
    ).content.decode()

    assert "application/ld+json" not in content
    assert 'rel="canonical"' not in content
    assert not meta(content, "og:title")


@pytest.mark.parametrize(("sections", "references", "topics"), [(1, 1, 1), (12, 30, 6)])
def test_report_page_with_structured_data_runs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, sections, references, topics
):
    report = make_report(
        sections=sections, references=references, claimant="Jane Doe", claim_url="https://x.ex/"
    )
    report.topics.set([make_topic() for _ in range(topics)])
    publish_now(report)
    republished(report, claimant="John Doe")

    with django_assert_max_num_queries(2):
        response = client.get(f"/reports/{report.slug}/")

    assert claim_review(response)["itemReviewed"]["author"]["name"] == "John Doe"


# Open Graph, Twitter cards and canonical links


def test_report_page_has_open_graph_and_twitter_card_tags(client):
    report = published(
        claim="Napoleon was short.",
        slug="napoleon",
        verdict=Verdict.objects.get(slug="false"),
        summary="He was of average height [1] [2].",
    )

    content = client.get("/reports/napoleon/").content.decode()

    assert meta(content, "og:type") == ["article"]
    assert meta(content, "og:site_name") == ["Factually"]
    assert meta(content, "og:title") == ["Napoleon was short."]
    assert meta(content, "og:url") == ["http://testserver/reports/napoleon/"]
    assert meta(content, "og:description") == ["Verdict: False. He was of average height."]
    assert meta(content, "twitter:card") == ["summary_large_image"]
    assert meta(content, "og:image") == ["http://testserver/reports/napoleon/versions/1/card.png"]
    assert meta(content, "twitter:title") == ["Napoleon was short."]
    assert meta(content, "twitter:description") == ["Verdict: False. He was of average height."]
    version = report.versions.get()
    published_time = meta(content, "article:published_time")[0]
    assert datetime.datetime.fromisoformat(published_time) == version.published_at


def test_report_page_has_one_absolute_canonical_link(client):
    published(slug="canonical-check")

    content = client.get("/reports/canonical-check/?utm_source=feed").content.decode()

    assert re.findall(r'<link rel="canonical" href="([^"]*)">', content) == [
        "http://testserver/reports/canonical-check/"
    ]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/", "http://testserver/"),
        ("/?page=1", "http://testserver/"),
        ("/?page=2&utm_source=x", "http://testserver/?page=2"),
        ("/about/", "http://testserver/about/"),
        ("/rating-scale/", "http://testserver/rating-scale/"),
    ],
)
def test_list_and_other_pages_have_a_canonical_link(client, url, canonical):
    for _ in range(21):
        published(sections=1, references=1, questions=0)

    content = client.get(url).content.decode()

    assert re.findall(r'<link rel="canonical" href="([^"]*)">', content) == [canonical]


def test_the_canonical_link_uses_the_host_of_the_request(client, settings):
    settings.ALLOWED_HOSTS = ["factually.example"]
    published(slug="host-check")

    response = client.get("/reports/host-check/", headers={"host": "factually.example"})

    assert claim_review(response)["url"] == "http://factually.example/reports/host-check/"
    assert 'href="http://factually.example/reports/host-check/"' in response.content.decode()


# The claim-length advice in the admin


def change_url(report):
    return reverse("admin:reports_report_change", args=[report.pk])


def checklist_url(report):
    return reverse("admin:reports_report_checklist", args=[report.pk])


def test_a_claim_longer_than_75_characters_gets_a_warning_that_does_not_block(editor_client):
    report = make_report(claim="x" * 76)

    change_form = editor_client.get(change_url(report)).content.decode()
    checklist = editor_client.get(checklist_url(report), headers={"HX-Request": "true"})

    for content in (change_form, checklist.content.decode()):
        assert 'class="checklist-advisory"' in content
        assert "The claim is 76 characters long." in content
        assert "Passes every publish check" in content
    assert report.claim == "x" * 76  # advice, not truncation


def test_a_claim_of_75_characters_gets_no_warning(editor_client):
    report = make_report(claim="x" * 75)

    content = editor_client.get(checklist_url(report)).content.decode()

    assert "checklist-advisory" not in content
    assert "Passes every publish check" in content


def test_a_long_claim_is_published_whole(client):
    claim = "A claim that is well over seventy-five characters long, as some claims are, alas."
    report = make_report(claim=claim)
    workflow.submit(report, by=None)
    workflow.publish(report, by=None)

    assert claim_review(client.get(f"/reports/{report.slug}/"))["claimReviewed"] == claim
    assert structured_data.advisories(claim)
