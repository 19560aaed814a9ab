"""Lists of published verdicts: search, filters, topic and verdict pages (reports/public/search.py).

Ranking, stemming, typo tolerance and headlines are PostgreSQL's: those tests are skipped on
SQLite, which has its own test of the simpler search it gets instead.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import workflow
from reports.models import Section, Verdict
from reports.public import fulltext, search
from tests.conftest import make_report, make_topic, publish_now
from tests.reports.test_caching import commit_earlier_changes

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full-text and trigram search"
)
sqlite_only = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the search databases without PostgreSQL get"
)

HTMX = {"HX-Request": "true"}


def published(*, summary: str = "", body: str = "", topics=(), verdict: str = "false", **fields):
    """A published report with this claim, summary and body text (one cited section)."""
    if summary:
        fields["summary"] = f"{summary} [1]"
    report = make_report(
        sections=1, references=1, questions=0, verdict=Verdict.objects.get(slug=verdict), **fields
    )
    if body:
        Section.objects.filter(report=report).update(body=f"{body} [1]")
    report.topics.set(topics)
    publish_now(report)
    return report


def claims(response) -> list[str]:
    """The claims listed, in order."""
    found = re.findall(
        r'<h2 class="report-card__claim"><a href="[^"]*">(.*?)</a>', response.content.decode()
    )
    return [re.sub(r"</?mark>", "", claim) for claim in found]


def page_text(response) -> str:
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


# The list and what it never shows


def test_the_list_shows_live_reports_newest_first(client):
    published(claim="Older claim.", checked_on=datetime.date(2025, 3, 1))
    published(claim="Newer claim.", checked_on=datetime.date(2026, 3, 1))

    response = client.get("/reports/")

    assert response.status_code == 200
    assert claims(response) == ["Newer claim.", "Older claim."]
    assert "2 fact-checks" in page_text(response)


@pytest.mark.parametrize("query", ["", "?q=hidden", "?q=hidden&sort=newest"])
def test_drafts_unpublished_and_withdrawn_reports_never_appear(client, query, reviewer):
    published(claim="A hidden but published claim.")
    make_report(claim="A hidden draft claim.")
    scheduled = make_report(claim="A hidden scheduled claim.")
    workflow.submit(scheduled, by=None)
    workflow.schedule(scheduled, by=reviewer, at=timezone.now() + datetime.timedelta(days=1))
    unpublished = published(claim="A hidden unpublished claim.")
    workflow.unpublish(unpublished, by=reviewer, comment="A mistake.")
    withdrawn = published(claim="A hidden withdrawn claim.")
    workflow.withdraw(withdrawn, by=reviewer, reason="Retracted.")
    edited = published(claim="A hidden edited claim.")
    edited.claim = "A hidden claim edited but not republished."
    edited.save()

    listed = claims(client.get(f"/reports/{query}"))

    assert sorted(listed) == ["A hidden but published claim.", "A hidden edited claim."]


def test_a_republished_report_is_listed_once_with_its_live_version(client):
    report = published(claim="First wording of the claim.")
    report.claim = "Second wording of the claim."
    report.save()
    publish_now(report)

    assert claims(client.get("/reports/", {"q": "wording"})) == ["Second wording of the claim."]
    assert claims(client.get("/reports/")) == ["Second wording of the claim."]


# Search on every database


def test_search_finds_words_in_the_claim_summary_or_body(client):
    published(claim="The moon landing was staged.", summary="It was not.", body="Nothing here.")
    published(claim="Another claim.", summary="Mentions the landing site.", body="Nothing.")
    published(claim="Third claim.", summary="Unrelated.", body="The landing gear is fine.")
    published(claim="Fourth claim.", summary="Unrelated.", body="Nothing at all.")

    listed = claims(client.get("/reports/", {"q": "landing"}))

    assert sorted(listed) == ["Another claim.", "The moon landing was staged.", "Third claim."]


def test_the_snippet_marks_the_words_found_and_escapes_the_text(client):
    published(
        claim="A claim about vaccines.",
        summary='The vaccine trial: dose < 5 mg & "safe" <img src=x onerror=alert(1)> results.',
    )

    response = client.get("/reports/", {"q": "vaccine"})

    content = response.content.decode()
    snippet = re.search(r'<p class="report-card__summary">(.*?)</p>', content, re.S).group(1)
    assert "<mark>vaccine</mark> trial" in snippet
    assert "dose &lt; 5 mg &amp; &quot;safe&quot;" in snippet
    # Only <mark> tags come from the highlighting: the rest is text.
    assert "<img" not in snippet
    assert set(re.findall(r"<(/?[a-z]+)", snippet)) == {"mark", "/mark"}


def test_the_claim_marks_the_words_found_and_keeps_its_text_escaped(client):
    published(claim="Rats say <i>vaccines</i> & masks fail.")

    content = client.get("/reports/", {"q": "vaccines"}).content.decode()

    assert "Rats say &lt;i&gt;<mark>vaccines</mark>&lt;/i&gt; &amp; masks fail.</a>" in content


def test_a_query_is_cleaned_of_control_characters_and_capped(client):
    published(claim="The tower is tall.")

    response = client.get("/reports/", {"q": "tower\x00\x1f " + "x" * 500})

    assert response.status_code == 200
    assert search.clean_query("  tower\x00 \n tall  ") == "tower tall"
    assert len(search.clean_query("word " * 100)) <= search.MAX_QUERY_LENGTH


@pytest.mark.parametrize("query", ["!!!", "-", '""'])
def test_a_query_without_words_finds_nothing(client, query):
    published(claim="The tower is tall.")

    response = client.get("/reports/", {"q": query})

    assert response.status_code == 200
    assert claims(response) == []
    assert "<mark>" not in response.content.decode()


def test_a_search_with_nothing_found_says_so(client):
    published(claim="Something else entirely.")

    response = client.get("/reports/", {"q": "zebras"})

    text = page_text(response)
    assert claims(response) == []
    assert "No fact-checks found" in text
    assert "No published fact-check matches “zebras”" in text


def test_search_results_are_not_indexed_but_lists_are(client):
    assert 'name="robots" content="noindex"' in client.get("/reports/?q=tower").content.decode()
    assert 'name="robots"' not in client.get("/reports/").content.decode()


@sqlite_only
def test_without_postgresql_every_word_must_match_anywhere_newest_first(client):
    published(
        claim="The Eiffel Tower grows in summer.",
        summary="Steel expands.",
        checked_on=datetime.date(2025, 1, 1),
    )
    published(
        claim="Paris landmark claim.",
        summary="About the Eiffel monument.",
        body="Its tower is iron.",
        checked_on=datetime.date(2026, 1, 1),
    )
    published(claim="The tower of Pisa leans.", summary="Gravity.")

    response = client.get("/reports/", {"q": "eiffel TOWER"})

    assert claims(response) == ["Paris landmark claim.", "The Eiffel Tower grows in summer."]
    assert "<mark>Eiffel</mark>" in response.content.decode()
    assert claims(client.get("/reports/", {"q": "eiffel pisa"})) == []


# PostgreSQL: ranked, stemmed, typo-tolerant, highlighted


@postgresql_only
def test_a_match_in_the_claim_ranks_above_one_in_the_summary_and_the_body(client):
    published(
        claim="Body mention.",
        body="Wind turbines kill birds, some say; wind power is growing.",
        checked_on=datetime.date(2026, 3, 1),
    )
    published(
        claim="Summary mention.",
        summary="Turbines and wind.",
        checked_on=datetime.date(2026, 2, 1),
    )
    published(
        claim="Wind turbines cause cancer.",
        checked_on=datetime.date(2025, 1, 1),
    )

    assert claims(client.get("/reports/", {"q": "wind turbines"})) == [
        "Wind turbines cause cancer.",
        "Summary mention.",
        "Body mention.",
    ]
    # Newest first, when asked.
    assert claims(client.get("/reports/", {"q": "wind turbines", "sort": "newest"})) == [
        "Body mention.",
        "Summary mention.",
        "Wind turbines cause cancer.",
    ]


@postgresql_only
def test_stemming_finds_other_forms_of_a_word(client):
    published(claim="The vaccine alters DNA.")
    published(claim="Vaccinating children is banned.", summary="Vaccination rules.")
    published(claim="Unrelated claim.")

    assert "The vaccine alters DNA." in claims(client.get("/reports/", {"q": "vaccines"}))


@postgresql_only
def test_a_typo_still_finds_the_report(client):
    published(claim="The Eiffel Tower grows in summer.")
    published(claim="Bananas are berries.")

    response = client.get("/reports/", {"q": "Eifel tower"})

    assert claims(response) == ["The Eiffel Tower grows in summer."]
    assert "Nothing matched “Eifel tower” exactly" in page_text(response)


@postgresql_only
@pytest.mark.parametrize("query", ["vacine", "vaccene", "vacines", "vaccine autsm"])
def test_a_typo_in_a_single_word_query_finds_the_report(client, query):
    published(claim="The vaccine causes autism.")
    published(claim="Bananas are berries.")

    assert claims(client.get("/reports/", {"q": query})) == ["The vaccine causes autism."]


@postgresql_only
def test_exact_matches_come_before_similar_words(client):
    # Fewer than search.FEW exact matches: similar claims are added, after them.
    published(claim="The Eifel mountains are volcanic.", checked_on=datetime.date(2024, 1, 1))
    published(claim="The Eiffel Tower grows.", checked_on=datetime.date(2026, 1, 1))

    assert claims(client.get("/reports/", {"q": "Eifel"})) == [
        "The Eifel mountains are volcanic.",
        "The Eiffel Tower grows.",
    ]


@postgresql_only
def test_a_short_query_is_not_matched_by_similarity(client):
    published(claim="The sun is hot.")

    assert claims(client.get("/reports/", {"q": "the"})) == []


@postgresql_only
def test_the_headline_highlights_the_body_or_summary_of_each_result(client):
    published(
        claim="Cats claim.",
        summary="Nothing about it here.",
        body="A long body. " * 30 + "Felines sleep for sixteen hours a day, studies say. " * 2,
    )

    content = client.get("/reports/", {"q": "sixteen hours"}).content.decode()

    snippet = re.search(r'<p class="report-card__summary">(.*?)</p>', content, re.S).group(1)
    assert "<mark>sixteen</mark> <mark>hours</mark>" in snippet
    assert "A long body. A long body. A long body. A long body." not in snippet


def test_websearch_syntax_leaves_words_out_and_matches_phrases(client):
    published(claim="Wind farms kill birds.", checked_on=datetime.date(2026, 1, 2))
    published(claim="Wind farms lower bills.", checked_on=datetime.date(2026, 1, 1))
    published(claim="Bills rise, wind farms say.", checked_on=datetime.date(2025, 1, 1))

    assert claims(client.get("/reports/", {"q": "wind -birds"})) == [
        "Wind farms lower bills.",
        "Bills rise, wind farms say.",
    ]
    assert claims(client.get("/reports/", {"q": '"lower bills"'})) == ["Wind farms lower bills."]
    assert claims(client.get("/reports/", {"q": "-birds", "sort": "newest"})) == [
        "Wind farms lower bills.",
        "Bills rise, wind farms say.",
    ]


# Filters and their addresses


def test_verdict_topic_and_period_combine(client):
    health = make_topic(name="Health", slug="health")
    energy = make_topic(name="Energy", slug="energy")
    published(claim="Match.", topics=[health], verdict="false", checked_on=days_ago(3))
    published(claim="Other verdict.", topics=[health], verdict="true", checked_on=days_ago(3))
    published(claim="Other topic.", topics=[energy], verdict="false", checked_on=days_ago(3))
    published(claim="Too old.", topics=[health], verdict="false", checked_on=days_ago(100))

    response = client.get("/reports/", {"verdict": "false", "topic": "health", "period": "month"})

    assert claims(response) == ["Match."]
    content = response.content.decode()
    assert '<option value="false" selected>False</option>' in content
    assert '<option value="health" selected>Health</option>' in content
    assert '<option value="month" selected>Past month</option>' in content
    assert (
        '<link rel="canonical" href="http://testserver/reports/?verdict=false&amp;topic=health'
        '&amp;period=month">' in content
    )


def test_periods_past_year_and_a_given_year(client):
    published(claim="Recent.", checked_on=days_ago(10))
    published(claim="Last spring.", checked_on=days_ago(300))
    published(claim="Long ago.", checked_on=datetime.date(2019, 6, 1))

    assert sorted(claims(client.get("/reports/", {"period": "year"}))) == [
        "Last spring.",
        "Recent.",
    ]
    assert claims(client.get("/reports/", {"period": "2019"})) == ["Long ago."]
    content = client.get("/reports/").content.decode()
    assert '<option value="2019">In 2019</option>' in content


def test_the_year_choices_are_the_years_with_live_reports_newest_first(reviewer):
    for day in [datetime.date(2026, 1, 1), datetime.date(2025, 12, 31), datetime.date(2019, 6, 1)]:
        published(claim=f"Checked {day}.", checked_on=day)
    published(claim="Also 2025.", checked_on=datetime.date(2025, 1, 1))
    make_report(claim="A draft from 2021.", checked_on=datetime.date(2021, 5, 5))
    withdrawn = published(claim="Withdrawn, from 2017.", checked_on=datetime.date(2017, 5, 5))
    workflow.withdraw(withdrawn, by=reviewer, reason="Wrong.")

    assert search.Choices.load().years == [2026, 2025, 2019]


@postgresql_only
def test_a_word_in_most_reports_ranks_only_the_newest_matches_and_says_so(client, monkeypatch):
    monkeypatch.setattr(fulltext, "MAX_RANKED", 3)
    for age in range(5):
        published(claim=f"Bread claim {age}.", checked_on=days_ago(age))

    response = client.get("/reports/", {"q": "bread"})

    assert sorted(claims(response)) == [f"Bread claim {age}." for age in range(3)]
    text = page_text(response)
    assert "More than 3 fact-checks found for “bread”" in text
    assert "Only the newest 3 matches are listed." in text
    assert "5 fact-checks" not in text


def test_a_search_combines_with_filters(client):
    health = make_topic(name="Health", slug="health")
    published(claim="Sugar causes hyperactivity.", topics=[health], verdict="false")
    published(claim="Sugar is a carbohydrate.", topics=[health], verdict="true")
    published(claim="Sugar tax failed.", verdict="false")

    response = client.get("/reports/", {"q": "sugar", "verdict": "false", "topic": "health"})

    assert claims(response) == ["Sugar causes hyperactivity."]
    assert "1 fact-check found for “sugar”" in page_text(response)


@pytest.mark.parametrize(
    "params",
    [
        {"verdict": "no-such-verdict"},
        {"topic": "no-such-topic"},
        {"period": "decade"},
        {"period": "1850"},
        {"period": "２０２６"},
        {"sort": "-claim"},
        {"sort": "checked_on; DROP TABLE reports_report"},
        {"page": "many"},
        {"verdict": ["false", "bogus"], "colour": "red"},
    ],
)
def test_unknown_filter_values_are_ignored(client, params):
    # Own slugs and summaries: the factory's numbered ones could contain "1850".
    for claim, verdict, day in [("First.", "true", 2), ("Second.", "false", 1)]:
        published(
            claim=claim,
            slug=claim.lower().rstrip("."),
            summary=f"The summary of the {claim.lower().rstrip('.')} claim.",
            verdict=verdict,
            checked_on=datetime.date(2026, 1, day),
        )

    response = client.get("/reports/", params)

    assert response.status_code == 200
    # Of a repeated parameter the last value counts, as anywhere in Django: "bogus" here.
    assert claims(response) == ["First.", "Second."]
    content = response.content.decode()
    assert '<link rel="canonical" href="http://testserver/reports/">' in content
    for value in ("no-such", "decade", "1850", "DROP", "-claim", "bogus", "red"):
        assert value not in content


def test_pagination_keeps_the_filters_in_its_links(client, settings):
    settings.FACTUALLY_REPORTS_PER_PAGE = 2
    health = make_topic(name="Health", slug="health")
    for n in range(5):
        published(
            claim=f"Sugar claim {n}.",
            topics=[health],
            checked_on=datetime.date(2026, 1, 1) - datetime.timedelta(days=n),
        )
    published(claim="Sugar elsewhere.", checked_on=datetime.date(2026, 2, 1))

    first = client.get("/reports/", {"q": "sugar", "topic": "health", "sort": "newest"})
    second = client.get(
        "/reports/", {"q": "sugar", "topic": "health", "sort": "newest", "page": "2"}
    )

    assert claims(first) == ["Sugar claim 0.", "Sugar claim 1."]
    assert 'rel="next" href="/reports/?q=sugar&amp;topic=health&amp;sort=newest&amp;page=2"' in (
        first.content.decode()
    )
    assert claims(second) == ["Sugar claim 2.", "Sugar claim 3."]
    content = second.content.decode()
    assert 'rel="prev" href="/reports/?q=sugar&amp;topic=health&amp;sort=newest"' in content
    assert 'rel="next" href="/reports/?q=sugar&amp;topic=health&amp;sort=newest&amp;page=3"' in (
        content
    )
    assert "Page 2 of 3" in page_text(second)


def test_the_filter_form_works_without_javascript(client):
    response = client.get("/reports/")

    content = response.content.decode()
    form = re.search(r'<form id="finder"[^>]*>', content).group(0)
    assert 'role="search"' in form
    assert 'action="/reports/"' in form
    assert 'method="get"' in form
    assert '<label for="finder-q">Search fact-checks</label>' in content
    assert re.search(r'<input type="search" id="finder-q" name="q"', content)
    assert "<legend>Filter and sort</legend>" in content
    for name in ("verdict", "topic", "period", "sort"):
        assert f'<label for="finder-{name}">' in content
        assert f'name="{name}"' in content
    assert 'role="status"' in content
    assert '<button type="submit"' in content


def test_every_field_updates_the_results_with_htmx_and_the_address_follows(client):
    content = client.get("/reports/").content.decode()

    search_box = re.search(r'<input type="search" id="finder-q"[^>]*>', content).group(0)
    assert 'hx-trigger="input changed delay:300ms, search"' in search_box
    assert 'hx-include="closest form"' in search_box
    form = re.search(r'<form id="finder"[^>]*>', content).group(0)
    assert 'hx-push-url="true"' in form
    assert 'hx-target="#results"' in form
    assert content.count('hx-trigger="change"') == 4
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false' in content
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js" defer nonce="', content)


# htmx: the results only


def test_an_htmx_request_gets_the_results_only(client):
    published(claim="Sugar causes hyperactivity.")

    response = client.get("/reports/?q=sugar&verdict=&topic=&period=&sort=relevance", headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert "<form" not in content
    assert 'id="results"' in content
    assert claims(response) == ["Sugar causes hyperactivity."]
    # The count is announced from the page's status region; the tab gets a title.
    assert '<span id="result-count" hx-swap-oob="innerHTML">1 fact-check found for “sugar”' in (
        content
    )
    assert "<title>“sugar” in Fact-checks · Factually</title>" in content
    # The address bar gets the canonical address, without the empty fields.
    assert response["HX-Push-Url"] == "/reports/?q=sugar"
    assert "HX-Request" in response["Vary"]


def test_the_full_page_and_a_history_restore_get_everything(client):
    published(claim="Sugar causes hyperactivity.")

    full = client.get("/reports/?q=sugar")
    restore = client.get(
        "/reports/?q=sugar", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    for response in (full, restore):
        content = response.content.decode()
        assert content.startswith("<!doctype html>")
        assert '<form id="finder"' in content
        assert 'value="sugar"' in content
        assert claims(response) == ["Sugar causes hyperactivity."]
        assert "hx-swap-oob" not in content
        assert "HX-Push-Url" not in response
        assert {"HX-Request", "HX-History-Restore-Request"} <= {
            header.strip() for header in response["Vary"].split(",")
        }


# Topic and verdict pages


def test_a_topic_page_lists_its_reports_with_its_title_and_description(client):
    health = make_topic(name="Health", slug="health", description="Medicine, food and fitness.")
    published(claim="Health claim.", topics=[health])
    published(claim="Other claim.")

    response = client.get("/topics/health/")

    assert response.status_code == 200
    assert claims(response) == ["Health claim."]
    content = response.content.decode()
    assert re.search(r"<h1>Fact-checks on Health</h1>", content)
    assert "Medicine, food and fitness." in content
    assert "<title>Fact-checks on Health · Factually</title>" in content
    assert 'name="topic"' not in content  # the page is the topic filter
    assert 'action="/topics/health/"' in content


def test_a_topic_page_searches_and_filters_within_the_topic(client):
    health = make_topic(name="Health", slug="health")
    published(claim="Sugar is bad.", topics=[health], verdict="true")
    published(claim="Sugar is poison.", topics=[health], verdict="false")
    published(claim="Sugar tax.", verdict="false")

    response = client.get("/topics/health/", {"q": "sugar", "verdict": "false", "topic": "x"})

    assert claims(response) == ["Sugar is poison."]
    assert (
        '<link rel="canonical" href="http://testserver/topics/health/?q=sugar&amp;verdict=false">'
        in response.content.decode()
    )


def test_a_verdict_page_lists_claims_with_that_verdict_and_defines_it(client):
    published(claim="A false claim.", verdict="false")
    published(claim="A true claim.", verdict="true")

    response = client.get("/verdicts/false/")

    assert claims(response) == ["A false claim."]
    text = page_text(response)
    assert "Claims rated “False”" in text
    assert Verdict.objects.get(slug="false").definition in text
    assert 'name="verdict"' not in response.content.decode()


def test_cards_link_to_their_topic_pages(client):
    health = make_topic(name="Health", slug="health")
    published(claim="Health claim.", topics=[health])

    assert '<a href="/topics/health/">Health</a>' in client.get("/reports/").content.decode()


@pytest.mark.parametrize("query", ["", "sugar"])
def test_cards_link_to_their_report_and_topics_sorted_by_name(client, query):
    dental = make_topic(name="Teeth", slug="dental_slug_")
    diet = make_topic(name="Diet", slug="diet")
    report = published(claim="Sugar rots teeth.", slug="sugar_slug_teeth", topics=[dental, diet])

    content = client.get("/reports/", {"q": query}).content.decode()

    assert f'<a href="/reports/{report.slug}/">' in content
    assert re.search(
        r'<a href="/topics/diet/">Diet</a></li><li><a href="/topics/dental_slug_/">Teeth</a>',
        content,
    )


@pytest.mark.parametrize("url", ["/topics/no-such-topic/", "/verdicts/no-such-verdict/"])
def test_an_unknown_topic_or_verdict_page_is_not_found(client, url):
    assert client.get(url).status_code == 404


# The search box on every page


@pytest.mark.parametrize("url", ["/", "/methodology/", "report"])
def test_every_public_page_has_a_labelled_search_box_that_submits_to_the_list(client, url):
    report = published(claim="Any claim.")
    if url == "report":
        url = f"/reports/{report.slug}/"

    content = client.get(url).content.decode()

    form = re.search(r'<form class="site-search"[^>]*>(.*?)</form>', content, re.S)
    assert form is not None
    assert 'role="search"' in form.group(0)
    assert 'action="/reports/"' in form.group(0)
    assert 'method="get"' in form.group(0)
    assert '<label class="visually-hidden" for="site-search-q">Search fact-checks</label>' in (
        form.group(1)
    )
    assert '<input type="search" id="site-search-q" name="q"' in form.group(1)


def test_the_list_pages_have_one_search_box(client):
    content = client.get("/reports/").content.decode()

    assert content.count('role="search"') == 1
    assert content.count('type="search"') == 1


# Queries


# A list: the filter choices (one query, three without PostgreSQL; one cache read in
# production), the count, the page, its topics. A search on PostgreSQL: the choices and one
# statement for the page (fulltext.search_page), typos and all; elsewhere as a list. A topic
# or verdict page reads its topic or verdict first.
@pytest.mark.parametrize("count", [3, 25])
@pytest.mark.parametrize(
    ("url", "on_postgresql", "elsewhere"),
    [
        ("/reports/", 4, 6),
        ("/reports/?verdict=false&period=2026&topic=health", 4, 6),
        ("/reports/?q=sugar", 2, 6),
        ("/reports/?q=suggar", 2, 6),
        ("/topics/health/", 5, 7),
        ("/topics/health/?q=sugar", 3, 7),
        ("/verdicts/false/?q=sugar&sort=newest", 3, 7),
    ],
)
def test_lists_run_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, count, url, on_postgresql, elsewhere
):
    limit = on_postgresql if connection.vendor == "postgresql" else elsewhere
    health = make_topic(name="Health", slug="health")
    other = make_topic(name="Other", slug="other")
    for n in range(count):
        published(
            claim=f"Sugar claim {n}.",
            body="Sugar and more sugar.",
            topics=[health, other],
            checked_on=datetime.date(2026, 1, 1),
        )

    with django_assert_max_num_queries(limit):
        response = client.get(url)

    assert response.status_code == 200
    # Only PostgreSQL forgives the typo.
    finds = "suggar" not in url or connection.vendor == "postgresql"
    assert len(claims(response)) == (min(count, 20) if finds else 0)


# Pieces


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 3, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2026, 1, 15), 1, datetime.date(2025, 12, 15)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2023, 2, 28)),
        (datetime.date(2026, 7, 4), 12, datetime.date(2025, 7, 4)),
    ],
)
def test_months_before(day, months, expected):
    assert search._months_before(day, months) == expected


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Eiffel TOWER", [("eiffel", False), ("tower", False)]),
        ('"lower bills" -birds', [("lower bills", False), ("birds", True)]),
        ('-"wind farm" covid-19', [("wind farm", True), ("covid", False), ("19", False)]),
        ("cats or dogs cats", [("cats", False), ("dogs", False)]),
        ('"unclosed phrase', [("unclosed phrase", False)]),
        ('!!! - ""', []),
    ],
)
def test_sqlite_terms(query, terms):
    assert search._terms(query) == terms


@postgresql_only
def test_newest_first_lists_the_newest_matches_when_more_match(client, monkeypatch):
    monkeypatch.setattr(fulltext, "MAX_RANKED", 3)
    for age in range(6):
        published(claim=f"Bread claim {age}.", checked_on=days_ago(age))
    published(claim="Cheese claim.", checked_on=days_ago(0))

    response = client.get("/reports/", {"q": "bread", "sort": "newest"})

    assert claims(response) == ["Bread claim 0.", "Bread claim 1.", "Bread claim 2."]


def test_the_filter_choices_are_kept_until_the_next_publication(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "c"}
    }
    settings.FACTUALLY_PAGE_CACHE_SECONDS = 300
    health = make_topic(name="Health", slug="health")
    published(claim="Sugar claim.", topics=[health])
    commit_earlier_changes()

    with CaptureQueriesContext(connection) as first:
        client.get("/reports/", {"q": "sugar"})
    with CaptureQueriesContext(connection) as second:
        client.get("/reports/", {"q": "sugar claim"})

    # The verdicts, the topics and the years are read once (one query on PostgreSQL).
    assert len(second) == len(first) - (1 if connection.vendor == "postgresql" else 3)

    climate = make_topic(name="Climate", slug="climate")
    commit_earlier_changes()
    with django_capture_on_commit_callbacks(execute=True):
        published(claim="Ice claim.", topics=[climate])
    assert '<option value="climate"' in client.get("/reports/", {"q": "third"}).content.decode()


@postgresql_only
def test_a_typo_of_a_common_word_lists_the_newest_similar_claims(client, monkeypatch):
    monkeypatch.setattr(fulltext, "MAX_RANKED", 2)
    for age in range(4):
        published(claim=f"Sugar is sweet number {age}.", checked_on=days_ago(age))

    response = client.get("/reports/", {"q": "suggar"})

    assert claims(response) == ["Sugar is sweet number 0.", "Sugar is sweet number 1."]
    assert "These reports have similar words." in page_text(response)


def test_lists_without_a_search_page_through_the_newest_only(client, monkeypatch, settings):
    """Counting a whole archive on every page costs more than the page."""
    monkeypatch.setattr(search, "MAX_LISTED", 3)
    settings.FACTUALLY_REPORTS_PER_PAGE = 2
    for age in range(5):
        published(claim=f"Claim {age}.", checked_on=days_ago(age))

    first, last = client.get("/reports/"), client.get("/reports/", {"page": 2})

    assert claims(first) == ["Claim 0.", "Claim 1."]
    assert claims(last) == ["Claim 2."]
    assert "More than 3 fact-checks, page 2 of 2" in page_text(last)
    assert "Choose a topic, verdict or year to find older ones." in page_text(last)
    home = client.get("/", {"page": 2})
    assert "Page 2 of 2" in page_text(home)
    assert "browse by topic, verdict or year" in page_text(home)
    assert "browse by topic" not in page_text(client.get("/"))


@postgresql_only
def test_a_verdicts_list_is_read_from_the_verdict_index_not_every_live_version():
    """Counting a verdict's newest thousand through the date order read every live version
    in between, each a row of the wide versions table (10 ms at 100,000 reports)."""
    for n in range(6):
        published(claim=f"Claim {n}.", verdict="false" if n % 3 else "true")
    false = Verdict.objects.get(slug="false")
    listed = search.filtered(search.Filters(verdict=false)).order_by(*search.NEWEST)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_publishedversion")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small is read whole
        plan = listed.values("pk")[: search.MAX_LISTED + 1].explain()

    assert "live_version_by_verdict" in plan
    assert "Filter" not in plan  # every row the index gives is one of the verdict's


def test_a_topics_count_is_not_read_in_date_order(client):
    """A capped count is the same in any order; in date order a topic's count walked every
    live version until it had enough (150 ms at 100,000 reports, 7 ms by the topic's rows)."""
    health = make_topic(name="Health", slug="health")
    for n in range(3):
        published(claim=f"Claim {n}.", topics=[health] if n else [])

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/topics/health/")

    assert response.status_code == 200
    assert "2 fact-checks" in response.content.decode()
    (count,) = [query["sql"] for query in queries if "COUNT(" in query["sql"]]
    assert "ORDER BY" not in count
